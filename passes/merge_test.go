package passes

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
)

// checkRewrite is checkFusion for passes whose result is not a new op:
// each case runs pipeline (ending with pass) on a random graph, keeps the
// outputs (ref, relative 1e-5), and a pattern must satisfy fired while a
// near miss must not and must be explained.
func checkRewrite(t *testing.T, pipeline []string, variants int, gen propGen, fired func(g *ir.Graph) error) {
	t.Helper()
	pass := pipeline[len(pipeline)-1]
	var fusedN, declined int
	for i := range propCases {
		before, c := buildProp(t, 12, i, variants, gen)
		after, _ := buildProp(t, 12, i, variants, gen)
		log := runPass(t, after, pipeline...)
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), c.intMax)
		err := fired(after.Graphs[0])
		if c.fused {
			fusedN++
			if err != nil {
				t.Fatalf("case %d: %s did not fire: %v\n%s\nafter:\n%s\n%s", i, pass, err, before, after, log)
			}
		} else {
			declined++
			if err == nil {
				t.Fatalf("case %d: %s rewrote a near miss (%s):\n%s\nafter:\n%s", i, pass, c.reason, before, after)
			}
			if !explained(log, pass, c.reason) {
				t.Fatalf("case %d: no explain line for g mentions %q:\n%s\n%s", i, c.reason, log, before)
			}
		}
		if c.check != nil {
			if err := c.check(after.Graphs[0]); err != nil {
				t.Fatalf("case %d: %v:\n%s\nafter:\n%s", i, err, before, after)
			}
		}
	}
	if fusedN == 0 || declined == 0 {
		t.Fatalf("%d patterns and %d near misses drawn: both kinds must be exercised", fusedN, declined)
	}
}

// merge_projections on random groups of linears reading one x. Patterns:
// 0: one row, 2-4 members (bias all or none) read through random view
// chains or directly; 1: several rows, each member split into heads
// (reshape, transpose: strided already, so the composed view may be); 2: a
// gate/up pair under silu_mul (the glu epilogue), on any rows. Near misses:
// 3: bias on one member only; 4: residuals; 5: several rows and a member
// read directly (it would turn strided); 6: a weight that is a graph input.
func TestPropertyMergeProjections(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		k := int64(pick(r, 1, 4, 7, 12))
		gluN := int64(pick(r, 1, 3, 6))
		rows := int64(1)
		if v == 1 || v == 5 || (v == 2 && r.IntN(2) == 0) {
			rows = int64(pick(r, 2, 3, 5))
		}
		x := b.Graph.AddInput("x", ir.T(dt, rows, k))
		members := 2 + r.IntN(3)
		if v >= 2 {
			members = 2
		}
		bias := r.IntN(2) == 0 && v != 2 && v != 3 && v != 6
		var outs []*ir.Value
		for j := range members {
			heads, d := int64(pick(r, 1, 2, 3)), int64(pick(r, 1, 2, 4))
			if v == 1 { // one head would be a dense view
				heads = int64(pick(r, 2, 3))
			}
			n := heads * d
			if v == 2 {
				n = gluN
			}
			w := m.AddWeight(fmt.Sprintf("w%d", j), ir.T(dt, n, k), "w.safetensors", fmt.Sprintf("w%d", j))
			if v == 6 && j == 1 {
				w = b.Graph.AddInput("wi", ir.T(dt, n, k))
			}
			in, a := []*ir.Value{x, w}, ir.Attrs{}
			if bias || (v == 3 && j == 0) {
				in, a["bias"] = append(in, m.AddWeight(fmt.Sprintf("b%d", j), ir.T(dt, n), "w.safetensors", fmt.Sprintf("b%d", j))), int64(1)
			}
			if v == 4 {
				in, a["residual"] = append(in, b.Graph.AddInput(fmt.Sprintf("r%d", j), ir.T(dt, rows, n))), int64(1)
			}
			y := b.Op("linear", a, in...)
			switch {
			case v == 2:
				if j == 1 {
					y = b.Op("silu_mul", nil, outs[0], y)
					outs = outs[:0]
				}
			case v == 1:
				y = b.Op("reshape", ir.Attrs{"shape": []int64{rows, heads, d}}, y)
				y = b.Op("exp", nil, b.Op("transpose", ir.Attrs{"perm": []int64{1, 0, 2}}, y))
			case v == 0 && r.IntN(3) != 0:
				y = b.Op("exp", nil, viewChain(r, b, y, true))
			default:
				y = b.Op("exp", nil, y)
			}
			outs = append(outs, y)
		}
		b.Graph.Outputs = outs
		switch v {
		case 3:
			return propCase{reason: "bias is all or none"}
		case 4:
			return propCase{reason: "has a residual epilogue"}
		case 5:
			return propCase{reason: "reads it densely today"}
		case 6:
			return propCase{reason: "not a model weight"}
		}
		return propCase{fused: true, check: func(g *ir.Graph) error {
			h := OpHistogram(g)
			if h["linear"] != 1 || h["concat"] != 1+btoi(bias) {
				return fmt.Errorf("%d linears and %d concats, want one merged linear", h["linear"], h["concat"])
			}
			if v == 2 && (h["silu_mul"] != 0 || g.Nodes[slices.IndexFunc(g.Nodes, func(n *ir.Node) bool { return n.Op == "linear" })].Attrs.Int("glu", 0) != 1) {
				return fmt.Errorf("the gate/up pair did not become a glu linear")
			}
			// Every view reads the merged result, never a view.
			for _, n := range g.Nodes {
				if n.Op == "view" && defOp(n.Inputs[0], "linear") == nil {
					return fmt.Errorf("%s views %s, not the merged linear", ir.FormatNode(n), opName(n.Inputs[0]))
				}
			}
			return nil
		}}
	}
	checkRewrite(t, []string{"views", "merge_projections"}, 7, gen, func(g *ir.Graph) error {
		if OpHistogram(g)["concat"] == 0 {
			return fmt.Errorf("no concatenated weight")
		}
		return nil
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// norm_linear on random norms read by 1-3 linears (with or without bias
// and residual): patterns become their prologue. Near misses: 3: no norm
// weight; 4: an exp reads the norm too; 5: a linear reads it as its
// residual.
func TestPropertyNormLinear(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		k := int64(pick(r, 1, 4, 7, 12))
		shape := []int64{int64(pick(r, 1, 3)), k}
		if r.IntN(3) == 0 {
			shape = append([]int64{2}, shape...)
		}
		x := b.Graph.AddInput("x", ir.T(dt, shape...))
		in := []*ir.Value{x}
		if v != 3 {
			in = append(in, m.AddWeight("g", ir.T(dt, k), "w.safetensors", "g"))
		}
		y := b.Op("rms_norm", ir.Attrs{"eps": pick(r, 1e-6, 1e-5)}, in...)
		for j := range 1 + r.IntN(3) {
			n := int64(pick(r, 1, 3, 5))
			if v == 5 && j == 0 {
				n = k
			}
			ins, a := []*ir.Value{y, m.AddWeight(fmt.Sprintf("w%d", j), ir.T(dt, n, k), "w.safetensors", fmt.Sprintf("w%d", j))}, ir.Attrs{}
			if r.IntN(2) == 0 {
				ins, a["bias"] = append(ins, m.AddWeight(fmt.Sprintf("b%d", j), ir.T(dt, n), "w.safetensors", fmt.Sprintf("b%d", j))), int64(1)
			}
			out := slices.Clone(shape)
			out[len(out)-1] = n
			switch {
			case v == 5 && j == 0:
				ins[0] = b.Graph.AddInput("z", ir.T(dt, shape...))
				ins, a["residual"] = append(ins, y), int64(1)
			case r.IntN(2) == 0:
				ins, a["residual"] = append(ins, b.Graph.AddInput(fmt.Sprintf("r%d", j), ir.T(dt, out...))), int64(1)
			}
			b.Graph.Outputs = append(b.Graph.Outputs, b.Op("linear", a, ins...))
		}
		switch v {
		case 3:
			return propCase{reason: "has no weight"}
		case 4:
			b.Graph.Outputs = append(b.Graph.Outputs, b.Op("exp", nil, y))
			return propCase{reason: "not only linears"}
		case 5:
			return propCase{reason: "as its residual, not as x"}
		}
		return propCase{fused: true}
	}
	checkRewrite(t, []string{"norm_linear"}, 6, gen, func(g *ir.Graph) error {
		for _, n := range g.Nodes {
			if n.Op == "rms_norm" {
				return fmt.Errorf("%s is left", ir.FormatNode(n))
			}
			if n.Op == "linear" && n.Attrs.Int("norm", 0) != 1 {
				return fmt.Errorf("%s has no norm prologue", ir.FormatNode(n))
			}
		}
		return nil
	})
}

// Every tiny preset through ref: the default pipeline with and without
// merge_projections and norm_linear gives the same logits (relative 1e-5),
// and with them every decode layer is one q/k/v linear (norm prologue,
// merged weight), o_proj (residual), one gate/up linear (norm, glu) and
// down_proj (residual), the head one linear with the final norm.
func TestMergeAndNormLinearKeepLogits(t *testing.T) {
	prompt := []int64{1, 17, 42, 5, 9, 33, 8, 64, 3}
	without := pipelineWithout(t, "merge_projections", "norm_linear")
	for _, p := range testmodel.Presets() {
		for _, prefill := range []int64{0, 4} {
			t.Run(fmt.Sprintf("%s/prefill=%d", p.Name, prefill), func(t *testing.T) {
				dir := t.TempDir()
				if err := testmodel.Write(dir, p, 5); err != nil {
					t.Fatal(err)
				}
				load := func(pipeline []string) *ir.Model {
					m, _, err := hf.Import(dir, hf.Options{PrefillLen: prefill, MaxCacheLen: 40})
					if err != nil {
						t.Fatal(err)
					}
					compile(t, m, Options{Pipeline: pipeline, GPULayers: -1})
					return m
				}
				fused := load(defaultPipeline(t))
				g := fused.Graph("decode")
				layers := int(fused.Meta.NumLayers)
				kinds := map[string]int{}
				for _, n := range g.Nodes {
					if n.Op == "linear" {
						kinds[strings.Replace(linearKind(n), "bias ", "", 1)]++
					}
				}
				want := map[string]int{"norm merged": layers, "norm glu merged": layers, "residual": 2 * layers, "norm": 1}
				if kinds["bias residual"] != 0 { // o_proj with attention bias
					want["bias residual"], want["residual"] = layers, layers
				}
				if fmt.Sprint(kinds) != fmt.Sprint(want) {
					t.Errorf("decode linears by prologue and epilogues %v, want %v", kinds, want)
				}
				if h := OpHistogram(g); h["silu_mul"] != 0 || h["rms_norm"] != 2*layers*btoi(p.Arch == "Qwen3ForCausalLM") {
					t.Errorf("decode keeps %d silu_mul and %d rms_norm", h["silu_mul"], h["rms_norm"])
				}
				want5 := generate(t, load(without), dir, prompt, 5)
				if e := relL2(generate(t, fused, dir, prompt, 5), want5); e > 1e-5 {
					t.Fatalf("merge_projections + norm_linear change the logits: relative L2 %g > 1e-5", e)
				}
			})
		}
	}
}
