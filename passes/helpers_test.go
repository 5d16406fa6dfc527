package passes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
)

// compile runs a pipeline with the verifier after every pass, as tests always do.
func compile(t testing.TB, m *ir.Model, opt Options) *Report {
	t.Helper()
	opt.VerifyEach = true
	if opt.Target == "" {
		opt.Target = "ref"
	}
	rep, err := Run(m, &opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// defaultPipeline is the ref target's pipeline.
func defaultPipeline(t testing.TB) []string {
	t.Helper()
	p, err := DefaultPipeline("ref")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pipelineWithout is the default pipeline less the passes named: tests of
// an early fusion look at its result before a later one absorbs it.
func pipelineWithout(t testing.TB, names ...string) []string {
	t.Helper()
	return slices.DeleteFunc(defaultPipeline(t), func(p string) bool { return slices.Contains(names, p) })
}

// randomInputs draws a value for every input of g: floats standard normal,
// integers uniform in [0, intMax).
func randomInputs(r *rand.Rand, g *ir.Graph, intMax int64) map[string]*ref.Tensor {
	if intMax <= 0 {
		intMax = 4
	}
	in := map[string]*ref.Tensor{}
	for _, v := range g.Inputs {
		n := v.Type.Shape.NumElements()
		if v.Type.DType.IsFloat() {
			data := make([]float32, n)
			for i := range data {
				data[i] = float32(r.NormFloat64())
			}
			in[v.Name] = ref.Floats(v.Type.DType, v.Type.Shape, data)
			continue
		}
		data := make([]int64, n)
		for i := range data {
			data[i] = r.Int64N(intMax)
		}
		in[v.Name] = ref.Ints(v.Type.DType, v.Type.Shape, data)
	}
	return in
}

// maxRelErr compares got with want elementwise: |got-want| / max(1, |want|)
// for floats (a NaN on one side only counts as infinite), exact for ints.
func maxRelErr(want, got []*ref.Tensor) (float64, string) {
	if len(want) != len(got) {
		return math.Inf(1), fmt.Sprintf("%d outputs, want %d", len(got), len(want))
	}
	worst, where := 0.0, ""
	for i := range want {
		if !want[i].Type().Equal(got[i].Type()) || len(want[i].F) != len(got[i].F) || len(want[i].I) != len(got[i].I) {
			return math.Inf(1), fmt.Sprintf("output %d is %v, want %v", i, got[i].Type(), want[i].Type())
		}
		for j := range want[i].F {
			w, g := float64(want[i].F[j]), float64(got[i].F[j])
			e := math.Abs(w-g) / max(1, math.Abs(w))
			switch {
			case math.IsNaN(w) && math.IsNaN(g):
				e = 0
			case math.IsNaN(w) || math.IsNaN(g) || math.IsNaN(e):
				e = math.Inf(1)
			}
			if e > worst {
				worst, where = e, fmt.Sprintf("output %d element %d: %g, want %g", i, j, g, w)
			}
		}
		for j := range want[i].I {
			if want[i].I[j] != got[i].I[j] {
				return math.Inf(1), fmt.Sprintf("output %d element %d: %d, want %d", i, j, got[i].I[j], want[i].I[j])
			}
		}
	}
	return worst, where
}

// sameOutputs runs every graph of before and its namesake in after on the
// same random inputs (integers in [0, intMax)) and random weights, and fails
// if any output moved by more than 1e-5 (relative).
func sameOutputs(t *testing.T, what string, before, after *ir.Model, seed uint64, intMax int64) {
	t.Helper()
	rb, err := ref.New(before, ref.RandomWeights{Seed: 5})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ra, err := ref.New(after, ref.RandomWeights{Seed: 5})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, g := range before.Graphs {
		in := randomInputs(rand.New(rand.NewPCG(seed, 99)), g, intMax)
		want, err := rb.RunGraph(g, in)
		if err != nil {
			t.Fatalf("%s: graph %s before the pass: %v\n%s", what, g.Name, err, before)
		}
		got, err := ra.RunGraph(after.Graph(g.Name), in)
		if err != nil {
			t.Fatalf("%s: graph %s after the pass: %v\n%s", what, g.Name, err, after)
		}
		if e, where := maxRelErr(want, got); e > 1e-5 {
			t.Fatalf("%s: graph %s: outputs changed (relative error %g, %s):\nbefore:\n%s\nafter:\n%s", what, g.Name, e, where, before, after)
		}
	}
}
