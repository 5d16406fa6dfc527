package codegen

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

func parse(t *testing.T, src string) *ir.Model {
	t.Helper()
	m, err := ir.Parse("test", "irc v1\n"+src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLowerErrorsNameTheNode(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`graph g(%a: f32[2,3], %b: f32[3,4]) {
  %y = matmul(%a, %b) : f32[2,4]
  return %y
}`, "op matmul has no GPU kernel"},
		{`graph g(%a: f32[2,3]) {
  %y = softmax(%a) {axis=-1} : f32[2,3]
  return %y
}`, "`%y = softmax"},
		{`graph g(%a: i64[3]) {
  %y = neg(%a) : i64[3]
  return %y
}`, "i64"},
		{`graph g(%x: f32[4,6], %w: f32[5,4]) {
  %t = view(%x) {shape=[6,4], strides=[1,6]} : f32[6,4]
  %y = linear(%t, %w) : f32[6,5]
  return %y
}`, "strided view"},
		{`graph g(%x: f32[4], %y: f32[4]) {
  %a = add(%x, %y) {device="opencl", part=0} : f32[4]
  %b = mul(%a, %y) {device="cpu", part=1} : f32[4]
  return %b
}`, "2 devices"},
	} {
		m := parse(t, tc.src)
		_, err := LowerGraphs(m, "g")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
}

// Lower insists on the graphs a runner drives.
func TestLowerWantsRunnerGraphs(t *testing.T) {
	m := parse(t, `graph g(%x: f32[4]) {
  %y = neg(%x) : f32[4]
  return %y
}`)
	if _, err := Lower(m); err == nil || !strings.Contains(err.Error(), "prefill") {
		t.Fatalf("got %v", err)
	}
}

// Views and transfers cost nothing: they alias their input's storage, and
// only nodes that compute get launches and arena slots.
func TestViewsAreFree(t *testing.T) {
	m := parse(t, `graph g(%x: f32[4,6]) {
  %t = view(%x) {shape=[6,4], strides=[1,6]} : f32[6,4]
  %m = transfer(%t) {to="opencl"} : f32[6,4]
  %y = neg(%m) : f32[6,4]
  return %y
}`)
	low, err := LowerGraphs(m, "g")
	if err != nil {
		t.Fatal(err)
	}
	g := low.Schedule.Graphs[0]
	if len(g.Launches) != 1 || len(low.Plans[0].Slots) != 1 {
		t.Fatalf("%d launches, %d arena values; want 1 and 1:\n%s", len(g.Launches), len(low.Plans[0].Slots), Format(low))
	}
	// The neg kernel reads the input buffer through the view's strides.
	args := g.Launches[0].Args
	if args[0].Buf != g.Inputs[0] || args[len(args)-2].Int != 1 || args[len(args)-1].Int != 6 {
		t.Fatalf("neg reads %+v", args)
	}
}

// In causal attention the two grouped matmuls are bounded by the query
// positions: the scores skip columns past them, the weighted sum stops at
// them. A scores tensor that is also a graph output is computed in full.
func TestCausalAttentionIsBoundedByPositions(t *testing.T) {
	src := `graph g(%q: f32[6,3,10], %k: f32[2,23,10], %v: f32[2,23,10], %p: i32[3]) {
  %kt = view(%k) {shape=[2,10,23], strides=[230,1,10]} : f32[2,10,23]
  %s = grouped_matmul(%q, %kt) : f32[6,3,23]
  %w = masked_softmax(%s, %p) {scale=0.3, causal=1} : f32[6,3,23]
  %o = grouped_matmul(%w, %v) {rows_first=1} : f32[3,6,10]
  return %o
}`
	limits := func(src string) []int64 {
		low, err := LowerGraphs(parse(t, src), "g")
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, l := range low.Schedule.Graphs[0].Launches {
			if low.Schedule.Kernels[l.Kernel] == "grouped_matmul_f32" {
				if l.Args[3].Buf != low.Schedule.Graphs[0].Inputs[3] && l.Args[4].Int != limitNone {
					t.Errorf("%s is bounded by b%d, not the positions", l.Node, l.Args[3].Buf)
				}
				out = append(out, l.Args[4].Int)
			}
		}
		return out
	}
	if got := limits(src); len(got) != 2 || got[0] != limitN || got[1] != limitK {
		t.Errorf("limits %v, want [%d %d]", got, limitN, limitK)
	}
	if got := limits(strings.Replace(src, "return %o", "return %o, %s", 1)); got[0] != limitNone {
		t.Errorf("scores returned by the graph were bounded: limits %v", got)
	}
}

// Kernels index with 32-bit ints: a tensor past that is refused, by name.
func TestLowerRefusesTensorsPast32BitIndexing(t *testing.T) {
	m := parse(t, `graph g(%x: f32[65536,32768]) {
  %y = neg(%x) : f32[65536,32768]
  return %y
}`)
	if _, err := LowerGraphs(m, "g"); err == nil || !strings.Contains(err.Error(), "g.x holds 2147483648 elements") {
		t.Fatalf("got %v", err)
	}
}
