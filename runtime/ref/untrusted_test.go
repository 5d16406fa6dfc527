package ref_test

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/ref"
)

// Class 2 on ref: a value, weight or state that does not fit in this
// process's memory is refused with one line naming it, before it is
// allocated (the model here is built in memory, so the loaders' own
// budget check is not what stops it).
func TestRefRefusesWhatDoesNotFit(t *testing.T) {
	huge := int64(1) << 40 // 4 TiB of i32, 8 TiB as ref holds it

	// An unused iota (irc run --passes none evaluates every node).
	m := &ir.Model{}
	g := m.NewGraph("g")
	x := g.AddInput("x", ir.T(ir.F32, 2))
	b := ir.NewBuilder(m, g)
	b.Let("huge", "iota", ir.Attrs{"shape": []int64{huge}, "axis": int64(0), "dtype": ir.I32})
	if b.Err() != nil {
		t.Fatal(b.Err())
	}
	g.Outputs = []*ir.Value{x}
	rt, err := ref.New(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rt.Run("g", map[string]*ref.Tensor{"x": ref.Floats(ir.F32, ir.Shape{2}, []float32{1, 2})})
	if err == nil || !strings.Contains(err.Error(), "value %huge (i32[1099511627776], held as int64) with the evaluator's scratch needs") ||
		!strings.Contains(err.Error(), "this process can allocate") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("iota: %v", err)
	}

	// Constant folding and the lowering evaluate constants through EvalNode.
	n := &ir.Node{Op: "constant", Attrs: ir.Attrs{"value": []float64{1}, "dtype": ir.F32, "shape": []int64{huge}}}
	n.Outputs = []*ir.Value{{Name: "c", Type: ir.T(ir.F32, huge), Def: n}}
	if _, err := ref.EvalNode(n, nil); err == nil || !strings.Contains(err.Error(), "value %c (f32[1099511627776], held as float32)") {
		t.Fatalf("constant: %v", err)
	}

	// A huge vocabulary with --random-weights.
	m = &ir.Model{}
	w := m.AddWeight("model.embed_tokens.weight", ir.T(ir.BF16, 4000000000, 64), "model.safetensors", "model.embed_tokens.weight")
	g = m.NewGraph("g")
	g.Outputs = []*ir.Value{w}
	_, err = ref.New(m, ref.RandomWeights{Seed: 1})
	if err == nil || !strings.Contains(err.Error(), "ref: the weights and states in float32 (the largest is weight @model.embed_tokens.weight bf16[4000000000,64], 953.67 GiB) needs") {
		t.Fatalf("random weights: %v", err)
	}
	if _, err := (ref.RandomWeights{Seed: 1}).Load(m.Weights[0]); err == nil || !strings.Contains(err.Error(), "random weight @model.embed_tokens.weight") {
		t.Fatalf("random weight: %v", err)
	}

	// States are allocated through Alloc.
	if _, err := ref.Alloc("state @cache.0.k", ir.T(ir.BF16, 8, huge, 128)); err == nil || !strings.Contains(err.Error(), "state @cache.0.k (bf16[8,1099511627776,128], held as float32) needs") {
		t.Fatalf("state: %v", err)
	}
	if _, err := ref.Alloc("x", ir.T(ir.F32, 1<<32, 1<<32, 1<<32)); err == nil || !strings.Contains(err.Error(), "more elements than int64 can count") {
		t.Fatalf("overflow: %v", err)
	}
	if budget.Check("a small tensor", 1<<20) == nil {
		if _, err := ref.Alloc("x", ir.T(ir.F32, 256)); err != nil {
			t.Fatal(err)
		}
	}
}

// Class 1 on ref: a model whose meta disagrees with its caches never gets
// here from a file (the loaders validate it); Generate still stops at the
// cache it was given.
func TestGenerateStopsAtTheCache(t *testing.T) {
	rt := tinyRuntime(t, 8)
	if _, err := rt.Generate([]int64{1, 2, 3}, 40); err == nil || !strings.Contains(err.Error(), "the model's max cache length is 32") {
		t.Fatalf("got %v", err)
	}
	if _, err := rt.Generate([]int64{37}, 1); err == nil || !strings.Contains(err.Error(), "token id 37 out of range [0, 37)") {
		t.Fatalf("got %v", err)
	}
}
