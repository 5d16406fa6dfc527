package passes

import (
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
)

func importConfig(t testing.TB, name string) *ir.Model {
	t.Helper()
	m, _, err := hf.Import(filepath.Join("..", "models", name), hf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The acceptance: after the default pipeline the decode graph of a
// real model holds one fused op per pattern instance and none of the
// primitives they replace, and both grouped_matmuls of every layer carry
// the causal bound.
func TestDefaultPipelineOnRealConfigs(t *testing.T) {
	gone := []string{"matmul", "expand", "transpose", "reshape", "slice", "unsqueeze", "squeeze", "copy", "pow", "rsqrt", "softmax", "sigmoid", "silu", "cos", "sin"}
	for _, tc := range []struct {
		model  string
		norms  int // two per layer, the final one, and q/k norms for Qwen3
		biases int // q/k/v biases per layer
	}{
		{"qwen2.5-1.5b-instruct", 2*28 + 1, 3},
		{"qwen2.5-0.5b-instruct", 2*24 + 1, 3},
		{"qwen2.5-7b-instruct", 2*28 + 1, 3},
		{"llama-3.2-1b", 2*16 + 1, 0},
		{"llama-3.2-3b", 2*28 + 1, 0},
		{"llama-3.1-8b", 2*32 + 1, 0},
		{"qwen3-0.6b", 4*28 + 1, 0},
		{"qwen3-1.7b", 4*28 + 1, 0},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m := importConfig(t, tc.model)
			layers := int(m.Meta.NumLayers)
			compile(t, m, Options{Pipeline: defaultPipeline(t), GPULayers: -1})
			for _, g := range m.Graphs {
				h := OpHistogram(g)
				want := map[string]int{"linear": 7*layers + 1, "rms_norm": tc.norms, "silu_mul": layers, "attention": layers, "masked_softmax": 0, GQAOp: 0, "rope": 0, "cache_write": 0}
				for op, n := range want {
					if h[op] != n {
						t.Errorf("%s: %d %s, want %d", g.Name, h[op], op, n)
					}
				}
				for _, op := range gone {
					if h[op] != 0 {
						t.Errorf("%s: %d %s nodes remain", g.Name, h[op], op)
					}
				}
				var biases, residuals int
				for _, n := range g.Nodes {
					if n.Op == "masked_softmax" && n.Attrs.Int("causal", 0) != 1 {
						t.Errorf("%s: %s does not use the causal form", g.Name, ir.FormatNode(n))
					}
					biases += int(n.Attrs.Int("bias", 0))
					residuals += int(n.Attrs.Int("residual", 0))
				}
				if biases != tc.biases*layers || residuals != 2*layers {
					t.Errorf("%s: %d bias and %d residual epilogues, want %d and %d", g.Name, biases, residuals, tc.biases*layers, 2*layers)
				}
				if h["where"] != 0 || h["greater"] != 0 {
					t.Errorf("%s: the causal mask tensor is still built (%d where, %d greater)", g.Name, h["where"], h["greater"])
				}
			}
		})
	}
}

func BenchmarkDefaultPipelineQwen25_1_5B(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		m := importConfig(b, "qwen2.5-1.5b-instruct")
		b.StartTimer()
		if _, err := Run(m, &Options{Pipeline: defaultPipeline(b), Target: "ref", GPULayers: -1}); err != nil {
			b.Fatal(err)
		}
	}
}

// The pipeline is idempotent: compiling a compiled model (as irc run does
// with a compiled .irpb) rewrites nothing and gives the same text.
func TestPipelineIsIdempotent(t *testing.T) {
	for _, gpu := range []int{-1, 3} {
		m := importConfig(t, "qwen3-0.6b")
		compile(t, m, Options{Pipeline: defaultPipeline(t), GPULayers: gpu})
		once := m.String()
		rep := compile(t, m, Options{Pipeline: defaultPipeline(t), GPULayers: gpu})
		for _, st := range rep.Stats {
			if st.Rewrites != 0 {
				t.Errorf("gpu-layers %d: second run: %s rewrote %d nodes of %s", gpu, st.Pass, st.Rewrites, st.Graph)
			}
		}
		if m.String() != once {
			t.Errorf("gpu-layers %d: a second run changed the text", gpu)
		}
	}
}
