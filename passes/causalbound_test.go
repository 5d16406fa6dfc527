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

// On every tiny preset, prefill and decode: causal_bound bounds both
// grouped_matmuls of every layer's attention by that layer's softmax
// positions (the scores by columns, probs x V by the reduction) and declines
// nothing; and the bounded model generates exactly the logits of the
// unbounded one in ref (the bound skips only columns the causal softmax
// never reads and probabilities that are zero).
func TestCausalBoundOnPresets(t *testing.T) {
	prompt := []int64{1, 17, 42, 5, 9, 33, 8, 64, 3}
	for _, p := range testmodel.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := testmodel.Write(dir, p, 5); err != nil {
				t.Fatal(err)
			}
			load := func() *ir.Model {
				m, _, err := hf.Import(dir, hf.Options{PrefillLen: 4, MaxCacheLen: 40})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			bounded := load()
			rep := compile(t, bounded, Options{Pipeline: pipelineWithout(t, "attention"), GPULayers: -1})
			layers := int(bounded.Meta.NumLayers)
			for _, st := range rep.Stats {
				if st.Pass == "causal_bound" && (st.Candidates != 2*layers || st.Rewrites != 2*layers || st.Declined != 0) {
					t.Errorf("%s: causal_bound counted %d candidates, %d rewrites, %d declined; want %d, %d, 0",
						st.Graph, st.Candidates, st.Rewrites, st.Declined, 2*layers, 2*layers)
				}
			}
			for _, g := range bounded.Graphs {
				if err := checkCausalBounds(g, layers); err != nil {
					t.Fatalf("%s: %v", g.Name, err)
				}
			}
			unbounded := load()
			pipeline := slices.DeleteFunc(defaultPipeline(t), func(p string) bool { return p == "causal_bound" })
			compile(t, unbounded, Options{Pipeline: pipeline, GPULayers: -1})
			for _, g := range unbounded.Graphs {
				for _, n := range g.Nodes {
					if len(n.Inputs) > 2 && n.Op == GQAOp {
						t.Fatalf("%s: %s is bounded without the pass", g.Name, ir.FormatNode(n))
					}
				}
			}
			want := generate(t, unbounded, dir, prompt, 5)
			got := generate(t, bounded, dir, prompt, 5)
			if e := relL2(got, want); e != 0 {
				t.Fatalf("the causal bound changes the logits: relative L2 %g", e)
			}
		})
	}
}

// checkCausalBounds checks that each layer's causal softmax reads scores
// bounded by columns and feeds a weighted sum bounded by the reduction, both
// by the softmax's own positions, and that every grouped_matmul is bounded.
func checkCausalBounds(g *ir.Graph, layers int) error {
	perLayer := map[string]int{}
	for _, n := range g.Nodes {
		if n.Op == GQAOp {
			if len(n.Inputs) != 3 || n.Attrs.String(ir.CausalBoundAttr) == "" {
				return fmt.Errorf("%s is not bounded", ir.FormatNode(n))
			}
			layer, _, _ := strings.Cut(n.Outputs[0].Name, ".")
			perLayer[layer+" "+n.Attrs.String(ir.CausalBoundAttr)]++
		}
		if n.Op != "masked_softmax" {
			continue
		}
		pos := n.Inputs[1]
		scores := n.Inputs[0].Def
		if scores == nil || scores.Op != GQAOp || scores.Attrs.String(ir.CausalBoundAttr) != ir.CausalColumns || scores.Inputs[2] != pos {
			return fmt.Errorf("the scores of %s are not bounded by columns at %s", ir.FormatNode(n), ir.Ref(pos))
		}
		var sums int
		for _, u := range g.Nodes {
			if u.Op == GQAOp && u.Inputs[0] == n.Outputs[0] {
				if u.Attrs.String(ir.CausalBoundAttr) != ir.CausalReduction || u.Inputs[2] != pos {
					return fmt.Errorf("%s is not bounded by the reduction at %s", ir.FormatNode(u), ir.Ref(pos))
				}
				sums++
			}
		}
		if sums != 1 {
			return fmt.Errorf("%s feeds %d weighted sums, want 1", ir.FormatNode(n), sums)
		}
	}
	for i := range layers {
		for _, b := range []string{ir.CausalColumns, ir.CausalReduction} {
			if k := fmt.Sprintf("l%d %s", i, b); perLayer[k] != 1 {
				return fmt.Errorf("layer %d has %d grouped_matmuls bounded by %s, want 1 (%v)", i, perLayer[k], b, perLayer)
			}
		}
	}
	if len(perLayer) != 2*layers {
		return fmt.Errorf("bounded grouped_matmuls outside the %d layers: %v", layers, perLayer)
	}
	return nil
}

// Near misses the golden file does not hold: positions of another integer
// type, scores laid out rows first where heads happen to equal rows (the
// softmax's rows are then the heads), positions computed after the scores,
// a grouped_matmul nothing reads. Each is left alone, says why under
// --explain, and computes what it did.
func TestCausalBoundDeclines(t *testing.T) {
	for i, c := range []struct {
		reason string
		build  func(b *ir.Builder, q, kt *ir.Value) []*ir.Value
	}{
		{"and a causal bound reads i32", func(b *ir.Builder, q, kt *ir.Value) []*ir.Value {
			pos := b.Op("cast", ir.Attrs{"dtype": ir.I64}, b.Graph.AddInput("pos", ir.T(ir.I32, 3)))
			s := b.Op(GQAOp, nil, q, kt)
			return []*ir.Value{b.Op("masked_softmax", ir.Attrs{"scale": 0.5, "causal": int64(1)}, s, pos)}
		}},
		{"laid out rows first", func(b *ir.Builder, q, kt *ir.Value) []*ir.Value {
			s := b.Op(GQAOp, ir.Attrs{"rows_first": int64(1)}, q, kt) // [3, 3, 5]
			return []*ir.Value{b.Op("masked_softmax", ir.Attrs{"scale": 0.5, "causal": int64(1)}, s, b.Graph.AddInput("pos", ir.T(ir.I32, 3)))}
		}},
		{"computed after the matmul", func(b *ir.Builder, q, kt *ir.Value) []*ir.Value {
			s := b.Op(GQAOp, nil, q, kt)
			pos := b.Op("add", nil, b.Graph.AddInput("pos", ir.T(ir.I32, 3)), b.Graph.AddInput("one", ir.T(ir.I32, 3)))
			return []*ir.Value{b.Op("masked_softmax", ir.Attrs{"scale": 0.5, "causal": int64(1)}, s, pos)}
		}},
		{"add %add reads the result", func(b *ir.Builder, q, kt *ir.Value) []*ir.Value {
			s := b.Op(GQAOp, nil, q, kt)
			return []*ir.Value{b.Op("add", nil, s, s)}
		}},
	} {
		build := func() *ir.Model {
			m := &ir.Model{}
			b := ir.NewBuilder(m, m.NewGraph("g"))
			q := b.Graph.AddInput("q", ir.T(ir.F32, 3, 3, 4))
			kt := b.Graph.AddInput("kt", ir.T(ir.F32, 1, 4, 5))
			b.Graph.Outputs = c.build(b, q, kt)
			if err := b.Err(); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			return m
		}
		before, after := build(), build()
		log := runPass(t, after, "causal_bound")
		if !explained(log, "causal_bound", c.reason) {
			t.Errorf("case %d: no explain line says %q:\n%s%s", i, c.reason, log, before)
		}
		if after.String() != before.String() {
			t.Errorf("case %d: the graph changed:\n%s", i, after)
		}
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), 3)
	}
}

// Property: random causal attention (groups of one to three heads, caches
// of 1-9 slots, 1-4 rows, positions anywhere in the cache and past it, f32
// or bf16, the output rows first or not) gets both grouped_matmuls bounded
// and computes the same outputs; near misses (scores also read by a
// graph output, a softmax under an additive mask, scores read by causal
// softmaxes with different positions) keep what is not causal attention
// unbounded and say why.
func TestPropertyCausalBound(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) (propCase, int) {
		dt := floatDType(r)
		kv, n, seq, rows, d := int64(pick(r, 1, 2, 3)), int64(pick(r, 1, 2, 3)), int64(pick(r, 1, 5, 9)), int64(pick(r, 1, 3, 4)), int64(pick(r, 1, 3, 5))
		q := b.Graph.AddInput("q", ir.T(dt, kv*n, rows, d))
		kt := b.Graph.AddInput("kt", ir.T(dt, kv, d, seq))
		vv := b.Graph.AddInput("v", ir.T(dt, kv, seq, d))
		pos := b.Graph.AddInput("pos", ir.T(ir.I32, rows))
		scale := pick(r, 0.5, 0.25)
		scores := b.Op(GQAOp, nil, q, kt)
		c, bounded := propCase{fused: true, intMax: seq + 2}, 2
		var probs *ir.Value
		switch v {
		case 1:
			b.Graph.Outputs = append(b.Graph.Outputs, scores)
			c, bounded = propCase{reason: "the result is a graph output", intMax: seq + 2}, 1
		case 2:
			mask := b.Graph.AddInput("mask", ir.T(dt, rows, seq))
			probs = b.Op("masked_softmax", ir.Attrs{"scale": scale}, scores, mask)
			c, bounded = propCase{reason: "not a causal masked_softmax's probabilities", intMax: seq + 2}, 0
		case 3:
			other := b.Graph.AddInput("pos2", ir.T(ir.I32, rows))
			b.Graph.Outputs = append(b.Graph.Outputs, b.Op("masked_softmax", ir.Attrs{"scale": scale, "causal": int64(1)}, scores, other))
			c, bounded = propCase{reason: "use different positions", intMax: seq + 2}, 1
		}
		if probs == nil {
			probs = b.Op("masked_softmax", ir.Attrs{"scale": scale, "causal": int64(1)}, scores, pos)
		}
		a := ir.Attrs{}
		if r.IntN(2) == 0 {
			a["rows_first"] = int64(1)
		}
		b.Graph.Outputs = append(b.Graph.Outputs, b.Op(GQAOp, a, probs, vv))
		return c, bounded
	}
	var fused, declined int
	for i := range propCases {
		build := func() (*ir.Model, propCase, int) {
			m := &ir.Model{}
			b := ir.NewBuilder(m, m.NewGraph("g"))
			c, bounded := gen(rand.New(rand.NewPCG(9, uint64(i))), i%4, m, b)
			if err := b.Err(); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			return m, c, bounded
		}
		before, c, bounded := build()
		after, _, _ := build()
		log := runPass(t, after, "causal_bound")
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), c.intMax)
		var got int
		for _, n := range after.Graphs[0].Nodes {
			if n.Op == GQAOp && len(n.Inputs) == 3 {
				got++
			}
		}
		if got != bounded {
			t.Fatalf("case %d: %d grouped_matmuls bounded, want %d:\n%s\nafter:\n%s\n%s", i, got, bounded, before, after, log)
		}
		if c.fused {
			fused++
		} else if declined++; !explained(log, "causal_bound", c.reason) {
			t.Fatalf("case %d: no explain line for g mentions %q:\n%s\n%s", i, c.reason, log, before)
		}
	}
	if fused == 0 || declined == 0 {
		t.Fatalf("%d patterns and %d near misses drawn", fused, declined)
	}
}

// causal_bound's place: in the default pipelines right after gqa, and every
// custom pipeline must run it after the fusions it reads (masked_softmax,
// gqa) and before placement.
func TestCausalBoundPlace(t *testing.T) {
	for _, target := range TargetNames() {
		p, err := DefaultPipeline(target)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(p, "causal_bound")
		if i < 1 || p[i-1] != "gqa" {
			t.Errorf("%s pipeline %v: causal_bound is not right after gqa", target, p)
		}
	}
	for _, c := range []struct{ spec, err string }{
		{"causal_bound,gqa", "pass gqa must run before causal_bound"},
		{"causal_bound,masked_softmax", "pass masked_softmax must run before causal_bound"},
		{"partition,causal_bound", "pass causal_bound must run before partition"},
		{"masked_softmax,gqa,causal_bound,views,partition", ""},
		{"causal_bound", ""},
	} {
		_, err := ParsePipeline(c.spec, "ref")
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("--passes %s: error %v, want %q", c.spec, err, c.err)
		}
	}
}
