// Package codegen lowers a fused model to the kernel schedule every backend
// shares (runtime/schedule): one launch per fused node with its shapes,
// strides and dtypes, a static memory plan, persistent KV-cache buffers and
// a launch table per graph. Backends (codegen/opencl, ...) turn the kernel
// set into source and the runner generator turns the schedule into Go.
package codegen

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// arenaBuf is the arena's buffer index: always the first buffer.
const arenaBuf = 0

// Lowered is a schedule together with what the dumps explain about it.
type Lowered struct {
	Schedule *schedule.Schedule
	Target   Target
	Kernels  kernels.Set
	// Plans are the arena plans, one per graph, in graph order.
	Plans []GraphPlan
}

// GraphPlan is one graph's memory plan: the arena slots by value.
type GraphPlan struct {
	Graph string
	Bytes int64
	Slots []PlannedValue
}

// PlannedValue is one value's place in the arena and the node indices
// between which it is live; Scratch marks a launch's temporary.
type PlannedValue struct {
	Value       string
	Offset      int64
	Bytes       int64
	First, Last int
	Scratch     bool
}

type lowerer struct {
	target   Target
	m        *ir.Model
	s        *schedule.Schedule
	buf      map[*ir.Value]int // weights, states, graph inputs
	consts   map[string]int    // constant buffers by content
	kernelID map[string]int
	dtypes   map[schedule.DType]bool
	casts    map[[2]schedule.DType]bool
	mixed    map[[2]schedule.DType]bool // (float dtype, another weight dtype) instances
}

// Lower builds the kernel schedule a runner executes on target t from a
// model whose graphs went through the default pipeline (only fused, layout
// and elementwise ops remain). An op without a kernel is an error naming
// the node. The model must have the graphs a runner drives: prefill and
// decode, each taking (%tokens, %pos) and giving f32[tokens, vocab] logits.
func Lower(m *ir.Model, t Target) (*Lowered, error) {
	for _, name := range []string{"prefill", "decode"} {
		g := m.Graph(name)
		if g == nil {
			return nil, fmt.Errorf("model has no %s graph: the runner needs prefill and decode", name)
		}
		if len(g.Inputs) != 2 || g.Inputs[0].Name != "tokens" || g.Inputs[1].Name != "pos" ||
			g.Inputs[0].Type.DType != ir.I32 || g.Inputs[1].Type.DType != ir.I32 {
			return nil, fmt.Errorf("graph %s: the runner drives graphs with inputs (%%tokens: i32[n], %%pos: i32[1])", g.Name)
		}
		if len(g.Outputs) != 1 || g.Outputs[0].Type.DType != ir.F32 || len(g.Outputs[0].Type.Shape) != 2 {
			return nil, fmt.Errorf("graph %s: the runner reads one f32[tokens, vocab] logits output", g.Name)
		}
	}
	return LowerGraphs(m, t, "prefill", "decode")
}

// ScheduleModel is what a schedule says of m: its name and the sizes and
// ids a runner checks and generates with.
func ScheduleModel(m *ir.Model) schedule.Model {
	return schedule.Model{Name: m.Meta.Architecture, Vocab: m.Meta.VocabSize, MaxCacheLen: m.Meta.MaxCacheLen, EOS: slices.Clone(m.Meta.EOSTokenIDs)}
}

// LowerGraphs lowers the named graphs of m whatever their inputs and
// outputs: each input becomes a buffer the host writes. The conformance
// tests run single ops through it.
func LowerGraphs(m *ir.Model, t Target, graphs ...string) (*Lowered, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	l := &lowerer{
		target: t, m: m,
		s:   &schedule.Schedule{Model: ScheduleModel(m)},
		buf: map[*ir.Value]int{}, consts: map[string]int{}, kernelID: map[string]int{},
		dtypes: map[schedule.DType]bool{}, casts: map[[2]schedule.DType]bool{}, mixed: map[[2]schedule.DType]bool{},
	}
	l.s.Buffers = append(l.s.Buffers, schedule.Buffer{Name: "arena", Kind: schedule.Arena, DType: schedule.F32})
	direct, packed := weightUse(m, graphs)
	for _, w := range m.Weights {
		if packed[w.Value] && !direct[w.Value] {
			continue // only read as part of packed weights
		}
		d, err := dtypeOf(w.Value)
		if err != nil {
			return nil, err
		}
		l.addBuffer(w.Value, schedule.Buffer{Name: w.Value.Name, Kind: schedule.Weight, DType: d,
			Shape: slices.Clone(w.Value.Type.Shape), Bytes: w.Value.Type.Bytes(), File: w.File, Tensor: w.Tensor})
	}
	if err := l.addPackedWeights(graphs); err != nil {
		return nil, err
	}
	for _, st := range m.States {
		d, err := dtypeOf(st.Value)
		if err != nil {
			return nil, err
		}
		l.addBuffer(st.Value, schedule.Buffer{Name: st.Value.Name, Kind: schedule.State, DType: d,
			Shape: slices.Clone(st.Value.Type.Shape), Bytes: st.Value.Type.Bytes()})
	}
	if err := l.argmax(); err != nil {
		return nil, err
	}
	if err := l.sampling(); err != nil {
		return nil, err
	}
	out := &Lowered{Schedule: l.s, Target: t}
	for _, name := range graphs {
		g := m.Graph(name)
		if g == nil {
			return nil, fmt.Errorf("model has no graph %s", name)
		}
		plan, err := l.lowerGraph(g)
		if err != nil {
			return nil, err
		}
		l.s.Buffers[arenaBuf].Bytes = max(l.s.Buffers[arenaBuf].Bytes, plan.Bytes)
		out.Plans = append(out.Plans, plan)
	}
	if err := checkIndexRange(l.s.Buffers); err != nil {
		return nil, err
	}
	for _, d := range []schedule.DType{schedule.F32, schedule.BF16, schedule.F16, schedule.I32} {
		if l.dtypes[d] {
			out.Kernels.DTypes = append(out.Kernels.DTypes, d)
		}
	}
	for c := range l.casts {
		out.Kernels.Casts = append(out.Kernels.Casts, c)
	}
	for q := range l.mixed {
		out.Kernels.Mixed = append(out.Kernels.Mixed, q)
	}
	byPair := func(a, b [2]schedule.DType) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}
	slices.SortFunc(out.Kernels.Casts, byPair)
	slices.SortFunc(out.Kernels.Mixed, byPair)
	return out, nil
}

// argmax prepares greedy decoding on the device: the launch with its
// result buffer, the row left for the host to set.
func (l *lowerer) argmax() error {
	k := kernels.ArgmaxF32
	out := l.addBuffer(nil, schedule.Buffer{Name: "argmax", Kind: schedule.Result, DType: schedule.I32, Shape: []int64{1}, Bytes: 4})
	args, err := k.Bind(kernels.Args{"x": schedule.T(arenaBuf, 0), "n": schedule.I(0), "out": schedule.T(out, 0)})
	if err != nil {
		return err
	}
	global, local := l.target.grid(k, [3]int{})
	l.s.Argmax = schedule.Argmax{Launch: schedule.Launch{Kernel: l.kernel(k.Instance()), Global: global, Local: local, Args: args, Node: "argmax"},
		Row: k.Index("x"), Count: k.Index("n"), Out: out}
	return nil
}

func (l *lowerer) addBuffer(v *ir.Value, b schedule.Buffer) int {
	l.s.Buffers = append(l.s.Buffers, b)
	if v != nil {
		l.buf[v] = len(l.s.Buffers) - 1
	}
	return len(l.s.Buffers) - 1
}

// kernel returns the index of a kernel name, adding it on first use.
func (l *lowerer) kernel(name string) int {
	if id, ok := l.kernelID[name]; ok {
		return id
	}
	l.s.Kernels = append(l.s.Kernels, name)
	l.kernelID[name] = len(l.s.Kernels) - 1
	return l.kernelID[name]
}

// constant returns a constant buffer holding data, shared by every use of
// the same contents.
func (l *lowerer) constant(name string, d schedule.DType, shape []int64, data []byte) int {
	key := string(d) + fmt.Sprint(shape) + string(data)
	if id, ok := l.consts[key]; ok {
		return id
	}
	id := l.addBuffer(nil, schedule.Buffer{Name: name, Kind: schedule.Constant, DType: d, Shape: shape, Bytes: int64(len(data)), Data: data})
	l.consts[key] = id
	return id
}

func dtypeOf(v *ir.Value) (schedule.DType, error) {
	switch v.Type.DType {
	case ir.F32:
		return schedule.F32, nil
	case ir.BF16:
		return schedule.BF16, nil
	case ir.F16:
		return schedule.F16, nil
	case ir.I32:
		return schedule.I32, nil
	case ir.Q8_0:
		return schedule.Q8_0, nil
	case ir.Q4_0:
		return schedule.Q4_0, nil
	}
	return "", fmt.Errorf("%%%s is %s: the GPU backends hold f32, bf16, f16 and i32 tensors (and q8_0, q4_0 weights)", v.Name, v.Type)
}

// checkIndexRange rejects buffers whose element offsets do not fit the
// 32-bit ints that kernel arguments and indices use. The arena holds values
// of several dtypes; its bound is taken for the narrowest (2 bytes). It is
// checked last, since a tensor too big by itself is the clearer message.
func checkIndexRange(bufs []schedule.Buffer) error {
	for _, b := range append(slices.Clone(bufs[arenaBuf+1:]), bufs[arenaBuf]) {
		size := b.DType.Size() // a quantized buffer is indexed in bytes
		if b.Kind == schedule.Arena {
			size = 2
		}
		if b.Bytes/size > math.MaxInt32 {
			return fmt.Errorf("%s buffer %s holds %d elements: kernels index with 32-bit ints (at most %d)", b.Kind, b.Name, b.Bytes/size, math.MaxInt32)
		}
	}
	return nil
}
