package backendtest

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/bf16"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// RequireEnv names the backends (comma-separated) that must run: where one
// cannot open a device the harness fails instead of skipping. CI sets it
// for the backends its machine has.
const RequireEnv = "IRC_REQUIRE_BACKENDS"

// Need skips the test when what (a backend, or a tool such as nvcc) is
// missing here (err), with the reason, or fails it when RequireEnv names
// what: CI requires what its machine has, so nothing it should run is
// skipped unnoticed.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if slices.Contains(strings.Split(os.Getenv(RequireEnv), ","), what) {
		t.Fatalf("%s is missing here, but %s requires it: %v", what, RequireEnv, err)
	}
	t.Skipf("%s is missing here: %v", what, err)
}

// subject is a backend under test with the device it opens.
type subject struct {
	b    *backend.Backend
	open executor.Opener
}

// Run checks backend b, whose devices open (at index 0) is, against ref:
// every kernel case, the greedy argmax and the tiny presets end to end. A
// backend that cannot open a device on this machine is skipped with the
// reason, unless RequireEnv names it.
func Run(t *testing.T, b *backend.Backend, open executor.Opener) {
	dev, err := open(0)
	Need(t, b.Name, err)
	dev.Close()
	s := subject{b, open}
	t.Run("kernels", s.kernels)
	t.Run("argmax", s.argmax)
	t.Run("topk", s.topk)
	t.Run("gumbel", s.gumbel)
	t.Run("presets", s.presets)
	t.Run("bounds", s.bounds)
}

// tolerance is the largest error, relative to the largest reference value,
// that a result stored in d may have: rounding to bf16 alone costs 2^-8.
func tolerance(d ir.DType) float64 {
	switch d {
	case ir.BF16:
		return 1e-2
	case ir.F16:
		return 2e-3
	}
	return 1e-5
}

func (s subject) kernels(t *testing.T) {
	for _, c := range opCases {
		for _, d := range []ir.DType{ir.F32, ir.BF16, ir.F16} {
			if c.dtypes != nil && !slices.Contains(c.dtypes, d) {
				continue
			}
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				src := "irc v1\n" + strings.ReplaceAll(strings.ReplaceAll(c.src, "D[", d.String()+"["), "=DT}", "="+d.String()+"}")
				m, err := ir.Parse(c.name, src)
				if err != nil {
					t.Fatalf("%v\n%s", err, src)
				}
				s.checkOp(t, m, c)
			})
			if !strings.Contains(c.src, "D[") {
				break
			}
		}
	}
}

// load lowers m's first graph for the backend and loads it (no weights).
func (s subject) load(t *testing.T, m *ir.Model) (*codegen.Lowered, *executor.Executor) {
	t.Helper()
	low := s.lower(t, m)
	return low, s.loadAs(t, low, schedule.AnyKind)
}

func (s subject) lower(t *testing.T, m *ir.Model) *codegen.Lowered {
	t.Helper()
	low, err := codegen.LowerGraphs(m, s.b.Target, m.Graphs[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	return low
}

// loadAs loads low as for a device of kind k (AnyKind: the device's own).
func (s subject) loadAs(t *testing.T, low *codegen.Lowered, k schedule.DeviceKind) *executor.Executor {
	t.Helper()
	exec, err := executor.LoadWith(s.open, low.Schedule, s.program(t, low), 0, runner.RandomWeights(weightSeed), executor.Options{Kind: k})
	if err != nil {
		t.Fatal(err)
	}
	return exec
}

// kinds are the device kinds to run s as: GPU and CPU where a launch has
// a CPU alternative (both shapes run on this device, whatever it is),
// else the device's own.
func kinds(s *schedule.Schedule) []schedule.DeviceKind {
	for _, g := range s.Graphs {
		for _, l := range g.Launches {
			if l.CPU != nil {
				return []schedule.DeviceKind{schedule.GPU, schedule.CPU}
			}
		}
	}
	return []schedule.DeviceKind{schedule.AnyKind}
}

// program is what the backend's Device builds for low: the emitted
// program, compiled as a runner's build would where the backend compiles
// ahead of load (CUDA's nvcc).
func (s subject) program(t *testing.T, low *codegen.Lowered) string {
	t.Helper()
	prog := s.b.Emit(low)
	if s.b.Compile == nil {
		return prog
	}
	out, err := s.b.Compile(prog)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkOp runs the case on three random draws, as each device kind whose
// launches differ.
// weightSeed draws a case's weights (model weights, as the quantized
// cases declare theirs): the device gets them as a runner's
// --random-weights makes them (quantized where the type says), ref as its
// own --random-weights does (the same values, dequantized).
const weightSeed = 11

func (s subject) checkOp(t *testing.T, m *ir.Model, c opCase) {
	t.Helper()
	low := s.lower(t, m)
	rt, err := ref.New(m, ref.RandomWeights{Seed: weightSeed})
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, k schedule.DeviceKind) {
		exec := s.loadAs(t, low, k)
		defer exec.Close()
		for seed := range uint64(3) {
			compareOnce(t, exec, low.Schedule, rt, m, c, rand.New(rand.NewPCG(seed, 7)))
		}
	}
	ks := kinds(low.Schedule)
	if len(ks) == 1 {
		run(t, ks[0])
		return
	}
	for _, k := range ks {
		t.Run(k.String(), func(t *testing.T) { run(t, k) })
	}
}

func compareOnce(t *testing.T, exec *executor.Executor, s *schedule.Schedule, rt *ref.Runtime, m *ir.Model, c opCase, r *rand.Rand) {
	t.Helper()
	g := m.Graphs[0]
	inputs := map[string]*ref.Tensor{}
	for i, v := range g.Inputs {
		in := randomInput(r, v, c.ints[v.Name])
		inputs[v.Name] = in
		if err := exec.Write(s.Graphs[0].Inputs[i], encodeTensor(in)); err != nil {
			t.Fatal(err)
		}
	}
	want, err := rt.RunGraph(g, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Launch(0); err != nil {
		t.Fatal(err)
	}
	for i, out := range s.Graphs[0].Outputs {
		data, err := exec.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		got, w := schedule.Decode(out.DType, data), want[i].Float64s()
		var worst, scale float64
		for j := range w {
			worst = max(worst, math.Abs(got[j]-w[j]))
			scale = max(scale, math.Abs(w[j]))
		}
		if tol := tolerance(g.Outputs[i].Type.DType) * max(scale, 1e-6); worst > tol || math.IsNaN(worst) {
			t.Errorf("output %%%s: max error %.3g, tolerance %.3g (max |ref| %.3g)\ngot  %.4g\nwant %.4g", g.Outputs[i].Name, worst, tol, scale, head(got), head(w))
		}
	}
}

func head(x []float64) []float64 { return x[:min(len(x), 8)] }

// randomInput draws a standard normal float tensor, rounded to its dtype so
// that ref and the device see the same values, or integers in [0, bound).
func randomInput(r *rand.Rand, v *ir.Value, bound int64) *ref.Tensor {
	n := v.Type.Shape.NumElements()
	if !v.Type.DType.IsFloat() {
		if bound <= 0 {
			bound = 8
		}
		data := make([]int64, n)
		for i := range data {
			data[i] = r.Int64N(bound)
		}
		return ref.Ints(v.Type.DType, v.Type.Shape, data)
	}
	data := make([]float32, n)
	for i := range data {
		x := float32(r.NormFloat64())
		switch v.Type.DType {
		case ir.BF16:
			x = bf16.ToFloat32(bf16.FromFloat32(x))
		case ir.F16:
			x = float16.Fromfloat32(x).Float32()
		}
		data[i] = x
	}
	return ref.Floats(v.Type.DType, v.Type.Shape, data)
}

func encodeTensor(t *ref.Tensor) []byte {
	if t.DType.IsFloat() {
		return schedule.Encode(schedule.DType(t.DType.String()), t.F)
	}
	return schedule.EncodeInts(t.I)
}

// bounds: kernels that index by values read from device memory stay in
// bounds whatever those values are: a token id past the embedding table
// (or negative) gives a zero row, never a read past the buffer; positions
// past the cache write nothing.
func (s subject) bounds(t *testing.T) {
	m, err := ir.Parse("bounds", `irc v1
state @c : f32[1,4,3]
graph g(%t: f32[5,3], %ids: i32[5], %x: f32[1,2,3], %pos: i32[1]) {
  %y = embedding(%t, %ids) : f32[5,3]
  %c2 = cache_write(@c, %x, %pos) {axis=1} : f32[1,4,3]
  return %y, %c2
}`)
	if err != nil {
		t.Fatal(err)
	}
	low, exec := s.load(t, m)
	defer exec.Close()
	g := low.Schedule.Graphs[0]
	table := make([]float32, 15)
	for i := range table {
		table[i] = float32(i + 1)
	}
	ids := []int64{-1, 2, 5, 1 << 30, -(1 << 31)}
	inputs := [][]byte{schedule.Encode(schedule.F32, table), schedule.EncodeInts(ids),
		schedule.Encode(schedule.F32, []float32{7, 7, 7, 8, 8, 8}), schedule.EncodeInts([]int64{3})}
	for i, data := range inputs {
		if err := exec.Write(g.Inputs[i], data); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec.Launch(0); err != nil {
		t.Fatal(err)
	}
	read := func(i int) []float64 {
		data, err := exec.Read(g.Outputs[i])
		if err != nil {
			t.Fatal(err)
		}
		return schedule.Decode(g.Outputs[i].DType, data)
	}
	wantRows := []float64{0, 0, 0, 7, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := read(0); !slices.Equal(got, wantRows) {
		t.Errorf("embedding of ids %v: %v, want %v", ids, got, wantRows)
	}
	// Position 3 of 4: the first row lands in the last slot, the second
	// would be past the cache and is dropped.
	wantCache := []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7}
	if got := read(1); !slices.Equal(got, wantCache) {
		t.Errorf("cache after a write at position 3: %v, want %v", got, wantCache)
	}
	for _, q := range []string{"q8_0", "q4_0"} {
		t.Run("embedding_"+q, func(t *testing.T) { s.quantEmbeddingBounds(t, q, ids) })
	}
}

// quantEmbeddingBounds: embedding of a quantized table gives zero rows
// for ids outside it too, and the dequantized row (exactly) inside.
func (s subject) quantEmbeddingBounds(t *testing.T, q string, ids []int64) {
	m, err := ir.Parse("bounds", `irc v1
weight @t : `+q+`[5,64] = "w.safetensors" "t"
graph g(%ids: i32[5]) {
  %y = embedding(@t, %ids) {dtype=f32} : f32[5,64]
  return %y
}`)
	if err != nil {
		t.Fatal(err)
	}
	low, exec := s.load(t, m)
	defer exec.Close()
	g := low.Schedule.Graphs[0]
	if err := exec.Write(g.Inputs[0], schedule.EncodeInts(ids)); err != nil {
		t.Fatal(err)
	}
	if err := exec.Launch(0); err != nil {
		t.Fatal(err)
	}
	data, err := exec.Read(g.Outputs[0])
	if err != nil {
		t.Fatal(err)
	}
	got := schedule.Decode(g.Outputs[0].DType, data)
	table, err := ref.RandomWeights{Seed: weightSeed}.Load(m.Weights[0])
	if err != nil {
		t.Fatal(err)
	}
	for r, id := range ids {
		for c := range 64 {
			want := 0.0
			if id >= 0 && id < 5 {
				want = float64(table[int(id)*64+c])
			}
			if got[r*64+c] != want {
				t.Fatalf("row %d (id %d) column %d: %g, want %g", r, id, c, got[r*64+c], want)
			}
		}
	}
}
