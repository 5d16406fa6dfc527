package passes

import (
	"fmt"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/weights"
)

// generate runs greedy generation (chunked prefill, then decode steps with
// the KV cache) and returns every logit row.
func generate(t *testing.T, m *ir.Model, dir string, prompt []int64, n int) [][]float32 {
	t.Helper()
	files := weights.Open(dir)
	defer files.Close()
	rt, err := ref.New(m, files)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := rt.Generate(prompt, n)
	if err != nil {
		t.Fatal(err)
	}
	return gen.Logits
}

// relL2 is ||a-b|| / ||b|| over the whole [T, vocab] array.
func relL2(a, b [][]float32) float64 { return numcheck.RelL2(slices.Concat(a...), slices.Concat(b...)) }

// The acceptance: on tiny checkpoints of every architecture the
// default pipeline keeps the logits (relative 1e-5), and moving layers to
// the CPU partition (--gpu-layers=1, whole or per-layer partitions) changes
// nothing at all.
func TestDefaultPipelineKeepsLogits(t *testing.T) {
	prompt := []int64{1, 17, 42, 5, 9, 33, 8, 64, 3}
	for _, p := range testmodel.Presets() {
		for _, prefill := range []int64{0, 4} {
			t.Run(fmt.Sprintf("%s/prefill=%d", p.Name, prefill), func(t *testing.T) {
				dir := t.TempDir()
				if err := testmodel.Write(dir, p, 5); err != nil {
					t.Fatal(err)
				}
				load := func() *ir.Model {
					m, _, err := hf.Import(dir, hf.Options{PrefillLen: prefill, MaxCacheLen: 40})
					if err != nil {
						t.Fatal(err)
					}
					return m
				}
				want := generate(t, load(), dir, prompt, 5)
				fused := load()
				compile(t, fused, Options{Pipeline: defaultPipeline(t), GPULayers: -1})
				for _, g := range fused.Graphs {
					h := OpHistogram(g)
					for _, op := range []string{"concat", "attention", "view", "linear"} {
						if h[op] == 0 {
							t.Fatalf("the fused %s graph holds no %s: nothing was compared", g.Name, op)
						}
					}
					for _, op := range []string{"matmul", "copy", "softmax", "expand", "silu_mul", "rope", "masked_softmax", GQAOp, "cache_write"} {
						if h[op] != 0 {
							t.Fatalf("the fused %s graph still holds %d %s", g.Name, h[op], op)
						}
					}
				}
				got := generate(t, fused, dir, prompt, 5)
				e := relL2(got, want)
				if e > 1e-5 {
					t.Fatalf("fused logits differ: relative L2 %g > 1e-5", e)
				}
				t.Logf("fused vs primitive: relative L2 %.2g", e)
				for _, mode := range []string{"whole", "layer"} {
					split := load()
					compile(t, split, Options{Pipeline: defaultPipeline(t), GPULayers: 1, Partition: mode})
					if parts := Partitions(split.Graph("decode")); len(parts) < 2 || parts[len(parts)-1].Device != CPUDevice {
						t.Fatalf("--gpu-layers=1 --partition=%s: partitions %+v, want the last on the CPU", mode, parts)
					}
					if e := relL2(generate(t, split, dir, prompt, 5), got); e != 0 {
						t.Fatalf("--gpu-layers=1 --partition=%s changes the logits: relative L2 %g", mode, e)
					}
				}
			})
		}
	}
}
