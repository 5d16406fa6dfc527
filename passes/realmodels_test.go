package passes

import (
	"maps"
	"path/filepath"
	"strings"
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
// the causal bound. Each decoder layer's linears are one q/k/v linear with
// the input norm as its prologue (and the biases), o_proj with the
// residual, one gate/up linear with the norm and the glu epilogue, and
// down_proj with the residual; the head's linear has the final norm.
// Prefill merges the same, except where merging would turn a dense view
// strided (Qwen3's q/k norms read heads of q and k densely): there q, k
// and v stay three linears, each with the norm prologue.
func TestDefaultPipelineOnRealConfigs(t *testing.T) {
	gone := []string{"matmul", "expand", "transpose", "reshape", "slice", "unsqueeze", "squeeze", "copy", "pow", "rsqrt", "softmax", "sigmoid", "silu", "cos", "sin", "silu_mul"}
	for _, tc := range []struct {
		model string
		qk    bool // Qwen3's q/k norms: rms_norm ops of their own
		bias  bool // q/k/v biases
	}{
		{"qwen2.5-1.5b-instruct", false, true},
		{"qwen2.5-0.5b-instruct", false, true},
		{"qwen2.5-7b-instruct", false, true},
		{"llama-3.2-1b", false, false},
		{"llama-3.2-3b", false, false},
		{"llama-3.1-8b", false, false},
		{"qwen3-0.6b", true, false},
		{"qwen3-1.7b", true, false},
	} {
		t.Run(tc.model, func(t *testing.T) {
			m := importConfig(t, tc.model)
			layers := int(m.Meta.NumLayers)
			compile(t, m, Options{Pipeline: defaultPipeline(t), GPULayers: -1})
			for _, g := range m.Graphs {
				split := tc.qk && g.Name == "prefill" // q, k, v unmerged
				h := OpHistogram(g)
				want := map[string]int{"linear": 4*layers + 1, "rms_norm": 0, "attention": layers, "masked_softmax": 0, GQAOp: 0, "rope": 0, "cache_write": 0}
				if tc.qk {
					want["rms_norm"] = 2 * layers
				}
				if split {
					want["linear"] = 6*layers + 1
				}
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
				kinds := map[string]int{}
				for _, n := range g.Nodes {
					if n.Op == "masked_softmax" && n.Attrs.Int("causal", 0) != 1 {
						t.Errorf("%s: %s does not use the causal form", g.Name, ir.FormatNode(n))
					}
					if n.Op == "linear" {
						kinds[linearKind(n)]++
					}
				}
				qkv := "norm bias merged"
				if !tc.bias {
					qkv = "norm merged"
				}
				wantKinds := map[string]int{qkv: layers, "residual": 2 * layers, "norm glu merged": layers, "norm": 1}
				if split {
					wantKinds = map[string]int{"norm": 3*layers + 1, "residual": 2 * layers, "norm glu merged": layers}
				}
				if !maps.Equal(kinds, wantKinds) {
					t.Errorf("%s: linears by prologue and epilogues %v, want %v", g.Name, kinds, wantKinds)
				}
				if h["where"] != 0 || h["greater"] != 0 {
					t.Errorf("%s: the causal mask tensor is still built (%d where, %d greater)", g.Name, h["where"], h["greater"])
				}
			}
		})
	}
}

// linearKind names what a linear fuses: "norm", "bias", "residual", "glu"
// in that order, and "merged" when its weight is a concatenation.
func linearKind(n *ir.Node) string {
	var parts []string
	for _, a := range []string{"norm", "bias", "residual", "glu"} {
		if n.Attrs.Int(a, 0) != 0 {
			parts = append(parts, a)
		}
	}
	if defOp(n.Inputs[1], "concat") != nil {
		parts = append(parts, "merged")
	}
	return strings.Join(parts, " ")
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
