package codegen

import (
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
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
		_, err := LowerGraphs(m, Portable, "g")
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
	if _, err := Lower(m, Portable); err == nil || !strings.Contains(err.Error(), "prefill") {
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
	low, err := LowerGraphs(m, Portable, "g")
	if err != nil {
		t.Fatal(err)
	}
	g := low.Schedule.Graphs[0]
	if len(g.Launches) != 1 || len(low.Plans[0].Slots) != 1 {
		t.Fatalf("%d launches, %d arena values; want 1 and 1:\n%s", len(g.Launches), len(low.Plans[0].Slots), Format(low))
	}
	// The neg kernel reads the input buffer through the view's strides.
	args := g.Launches[0].Args
	arg := func(name string) schedule.Arg { return args[kernels.Unary.Index(name)] }
	if arg("x").Buf != g.Inputs[0] || arg("s2").Int != 1 || arg("s3").Int != 6 {
		t.Fatalf("neg reads %+v", args)
	}
}

// The lowering passes the causal bound the causal_bound pass recorded: the
// scores skip columns past the positions, the weighted sum stops at them;
// an unbounded grouped matmul gets BOUND_NONE.
func TestCausalBoundReachesTheKernel(t *testing.T) {
	src := `graph g(%q: f32[6,3,10], %k: f32[2,23,10], %v: f32[2,23,10], %p: i32[3]) {
  %kt = view(%k) {shape=[2,10,23], strides=[230,1,10]} : f32[2,10,23]
  %s = grouped_matmul(%q, %kt, %p) {causal_bound="columns"} : f32[6,3,23]
  %w = masked_softmax(%s, %p) {scale=0.3, causal=1} : f32[6,3,23]
  %o = grouped_matmul(%w, %v, %p) {rows_first=1, causal_bound="reduction"} : f32[3,6,10]
  %u = grouped_matmul(%w, %v) : f32[6,3,10]
  return %o, %u
}`
	low, err := LowerGraphs(parse(t, src), Portable, "g")
	if err != nil {
		t.Fatal(err)
	}
	k := kernels.GroupedMatmul
	var bounds []int64
	for _, l := range low.Schedule.Graphs[0].Launches {
		if low.Schedule.Kernels[l.Kernel] != k.Instance(schedule.F32) {
			continue
		}
		bound := l.Args[k.Index("bound")].Int
		if pos := l.Args[k.Index("pos")].Buf; bound != kernels.BoundNone.Value && pos != low.Schedule.Graphs[0].Inputs[3] {
			t.Errorf("%s is bounded by b%d, not the positions", l.Node, pos)
		}
		bounds = append(bounds, bound)
	}
	want := []int64{kernels.BoundColumns.Value, kernels.BoundReduction.Value, kernels.BoundNone.Value}
	if !slices.Equal(bounds, want) {
		t.Errorf("bounds %v, want %v", bounds, want)
	}
}

// The arena is planned after the lowering, so a launch's scratch is placed
// with the values: live only at its node, apart from what is live then,
// and shown in the dump.
func TestScratchIsPlannedWithTheValues(t *testing.T) {
	m := parse(t, `graph g(%x: f32[64]) {
  %a = neg(%x) : f32[64]
  %b = neg(%a) : f32[64]
  %c = neg(%b) : f32[64]
  return %c
}`)
	l := &lowerer{target: Portable, m: m, s: &schedule.Schedule{}, buf: map[*ir.Value]int{}, consts: map[string]int{}, kernelID: map[string]int{},
		dtypes: map[schedule.DType]bool{}, casts: map[[2]schedule.DType]bool{}}
	l.s.Buffers = append(l.s.Buffers, schedule.Buffer{Name: "arena", Kind: schedule.Arena})
	gl, err := l.newGraphLowering(m.Graphs[0])
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range m.Graphs[0].Nodes {
		gl.node, gl.index = n, i
		if err := gl.lowerNode(n); err != nil {
			t.Fatal(err)
		}
		if n.Outputs[0].Name == "b" { // b's launch asks for scratch and reads it
			gl.launches[i].Args[0] = gl.scratch("partials", schedule.F32, 100)
		}
	}
	plan, err := gl.finish()
	if err != nil {
		t.Fatal(err)
	}
	var sp *PlannedValue
	for i := range plan.Slots {
		if plan.Slots[i].Scratch {
			sp = &plan.Slots[i]
		}
	}
	if sp == nil || sp.First != 1 || sp.Last != 1 || sp.Bytes != 400 || sp.Value != "b.scratch.partials" {
		t.Fatalf("scratch slot %+v in plan %+v", sp, plan.Slots)
	}
	for _, v := range plan.Slots {
		live := v.First <= 1 && 1 <= v.Last
		if v.Scratch || !live {
			continue
		}
		if v.Offset < sp.Offset+sp.Bytes && sp.Offset < v.Offset+v.Bytes {
			t.Errorf("scratch [%d, +%d) overlaps live %%%s [%d, +%d)", sp.Offset, sp.Bytes, v.Value, v.Offset, v.Bytes)
		}
	}
	got := l.s.Graphs[0].Launches[1].Args[0]
	if got.Buf != arenaBuf || got.Off*4 != sp.Offset {
		t.Errorf("scratch argument %+v, planned at byte %d", got, sp.Offset)
	}
	dump := Format(&Lowered{Schedule: l.s, Plans: []GraphPlan{plan}})
	if !strings.Contains(dump, "scratch b.scratch.partials") {
		t.Errorf("the dump does not show the scratch:\n%s", dump)
	}
}

// Kernels index with 32-bit ints: a tensor past that is refused, by name.
func TestLowerRefusesTensorsPast32BitIndexing(t *testing.T) {
	m := parse(t, `graph g(%x: f32[65536,32768]) {
  %y = neg(%x) : f32[65536,32768]
  return %y
}`)
	if _, err := LowerGraphs(m, Portable, "g"); err == nil || !strings.Contains(err.Error(), "g.x holds 2147483648 elements") {
		t.Fatalf("got %v", err)
	}
}

// A concat of model weights along axis 0 (merge_projections' merged
// weight) is one weight buffer filled from its parts at load: no launch,
// no arena slot, one buffer per list of parts however many graphs read
// it, and weights read only packed get no buffer of their own (one read
// directly as well keeps it). Any other concat is a clear error.
func TestPackedWeights(t *testing.T) {
	m := parse(t, `weight @a : bf16[2,4] = "m.safetensors" "a"
weight @b : bf16[3,4] = "m.safetensors" "b"
weight @e : bf16[5,4] = "m.safetensors" "e"

graph g(%x: bf16[1,4]) {
  %w = concat(@a, @b) {axis=0} : bf16[5,4]
  %y = linear(%x, %w) : bf16[1,5]
  %z = linear(%x, @e) : bf16[1,5]
  %s = add(%y, %z) : bf16[1,5]
  return %s
}

graph h(%x: bf16[1,4]) {
  %w2 = concat(@a, @b) {axis=-2} : bf16[5,4]
  %y = linear(%x, %w2) : bf16[1,5]
  %v = linear(%x, @b) : bf16[1,3]
  return %y, %v
}`)
	low, err := LowerGraphs(m, Portable, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	var weights []string
	var packed *schedule.Buffer
	for i, b := range low.Schedule.Buffers {
		if b.Kind == schedule.Weight {
			weights = append(weights, b.Name)
		}
		if len(b.Parts) > 0 {
			packed = &low.Schedule.Buffers[i]
		}
	}
	if !slices.Equal(weights, []string{"b", "e", "w"}) {
		t.Fatalf("weight buffers %v, want b (read directly by h), e and one packed w", weights)
	}
	want := []schedule.Part{{Name: "a", File: "m.safetensors", Tensor: "a", Shape: []int64{2, 4}, Offset: 0},
		{Name: "b", File: "m.safetensors", Tensor: "b", Shape: []int64{3, 4}, Offset: 16}}
	if packed.Bytes != 40 || packed.File != "" || !slices.EqualFunc(packed.Parts, want, func(x, y schedule.Part) bool {
		return x.Name == y.Name && x.File == y.File && x.Tensor == y.Tensor && slices.Equal(x.Shape, y.Shape) && x.Offset == y.Offset
	}) {
		t.Fatalf("packed buffer %+v, want parts %+v", *packed, want)
	}
	for gi, g := range low.Schedule.Graphs {
		if len(g.Launches) != 3-gi {
			t.Errorf("graph %s: %d launches, want %d (the concat is no launch)", g.Name, len(g.Launches), 3-gi)
		}
		for _, s := range low.Plans[gi].Slots {
			if strings.HasPrefix(s.Value, "w") {
				t.Errorf("graph %s: the packed weight has an arena slot", g.Name)
			}
		}
	}
	if !strings.Contains(Format(low), "= packed @a + @b") {
		t.Errorf("the schedule dump does not name the parts:\n%s", Format(low))
	}
	for _, src := range []string{`weight @a : f32[2,4] = "m.safetensors" "a"
graph g(%x: f32[2,4]) {
  %c = concat(@a, %x) {axis=0} : f32[4,4]
  return %c
}`, `weight @a : f32[2,4] = "m.safetensors" "a"
graph g(%x: f32[2,4]) {
  %c = concat(@a, @a) {axis=1} : f32[2,8]
  %y = add(%c, %c) : f32[2,8]
  return %y
}`} {
		if _, err := LowerGraphs(parse(t, src), Portable, "g"); err == nil || !strings.Contains(err.Error(), "concat has no GPU kernel: only model weights concatenated along axis 0") {
			t.Errorf("got %v, want the concat refused", err)
		}
	}
}

// A GEMV launch lets its kernels load 16 bytes at a time only where every
// row of x, w and nw starts 16-byte aligned (LINEAR_ALIGNED), and carries
// the CPU-shaped kernel as its CPU alternative on a target whose devices
// may be CPUs, over weight rows (twice the outputs with glu).
func TestGEMVAlignmentAndCPUAlternative(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		aligned   bool
		rows      int
	}{
		{"arena x", `graph g(%x: bf16[1,64], %w: bf16[5,64], %g: bf16[64]) {
  %h = add(%x, %x) : bf16[1,64]
  %y = linear(%h, %w, %g) {norm=1, eps=1e-06} : bf16[1,5]
  return %y
}`, true, 5},
		{"glu", `graph g(%x: f32[1,8], %w: f32[6,8]) {
  %y = linear(%x, %w) {glu=1} : f32[1,3]
  return %y
}`, true, 6},
		{"K of 9 elements", `graph g(%x: f32[1,9], %w: f32[5,9]) {
  %y = linear(%x, %w) : f32[1,5]
  return %y
}`, false, 5},
		{"x one element in", `graph g(%xx: bf16[1,65], %w: bf16[5,64]) {
  %x = view(%xx) {shape=[1,64], strides=[65,1], offset=1} : bf16[1,64]
  %y = linear(%x, %w) : bf16[1,5]
  return %y
}`, false, 5},
		{"arena x one element in", `graph g(%xx: bf16[1,65], %w: bf16[5,64]) {
  %h = add(%xx, %xx) : bf16[1,65]
  %x = view(%h) {shape=[1,64], strides=[65,1], offset=1} : bf16[1,64]
  %y = linear(%x, %w) : bf16[1,5]
  return %y
}`, false, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			low, err := LowerGraphs(parse(t, tc.src), Portable, "g")
			if err != nil {
				t.Fatal(err)
			}
			ls := low.Schedule.Graphs[0].Launches
			l := ls[len(ls)-1]
			if name := low.Schedule.Kernels[l.Kernel]; !strings.HasPrefix(name, kernels.LinearGEMV.Name+"_") {
				t.Fatalf("last launch is %s", name)
			}
			flags := l.Args[kernels.LinearGEMV.Index("flags")].Int
			if got := flags&kernels.LinearAligned.Value != 0; got != tc.aligned {
				t.Errorf("aligned %v, want %v", got, tc.aligned)
			}
			c := l.CPU
			if c == nil || !strings.HasPrefix(low.Schedule.Kernels[c.Kernel], kernels.LinearGEMVRows.Name+"_") {
				t.Fatalf("CPU alternative %+v", c)
			}
			if !slices.Equal(c.Args, l.Args) {
				t.Errorf("CPU alternative's arguments %v, want the launch's %v", c.Args, l.Args)
			}
			if items := (tc.rows + Portable.GemvItemRows - 1) / Portable.GemvItemRows; c.Global[0] != (items+Portable.CPUGroup-1)/Portable.CPUGroup*Portable.CPUGroup {
				t.Errorf("CPU grid %v for %d weight rows", c.Global, tc.rows)
			}
			if l.For(schedule.CPU) != c || l.For(schedule.GPU) != &l {
				t.Error("For does not pick by kind")
			}
			noCPU := Portable
			noCPU.CPU = false
			low, err = LowerGraphs(parse(t, tc.src), noCPU, "g")
			if err != nil {
				t.Fatal(err)
			}
			if ls := low.Schedule.Graphs[0].Launches; ls[len(ls)-1].CPU != nil {
				t.Error("a GPU-only target got a CPU alternative")
			}
		})
	}
}
