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
