package codegen

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// graphLowering lowers one graph: it finds which values need arena storage
// and how long they live, emits one launch per node with arena operands
// still symbolic, then plans the arena (the values and any scratch the
// launches asked for) and resolves the operands to offsets.
type graphLowering struct {
	*lowerer
	g      *ir.Graph
	inputs []int    // the buffers of the graph's inputs
	node   *ir.Node // the node being lowered, for errors
	index  int      // its index in the graph, for scratch lifetimes
	slots  map[*ir.Value]*slot
	order  []*slot                  // every slot, in definition order
	users  map[*ir.Value][]*ir.Node // the nodes reading each value
	loc    map[*ir.Value]schedule.Tensor
	// refs are the arena operands of the launches, resolved after the
	// plan: an argument or tensor with Buf = -(i+1) is refs[i].
	refs     []arenaRef
	launches []schedule.Launch
	trace    []schedule.Traced // each node's result, for the tracing mode
}

// arenaRef is an operand inside an arena slot whose offset is not planned
// yet: an element offset from the slot's start, in elements of size bytes.
type arenaRef struct {
	slot      *slot
	off, size int64
}

// aliasOf is the value whose storage v shares, or nil when v has its own:
// views read their base in place, cache_write updates its state in place,
// and a transfer between partitions of one device is the same memory.
func aliasOf(v *ir.Value) *ir.Value {
	if v.Def == nil {
		return nil
	}
	switch v.Def.Op {
	case "view", "transfer", "cache_write":
		return v.Def.Inputs[0]
	}
	return nil
}

// root follows aliases to the value that owns the storage.
func root(v *ir.Value) *ir.Value {
	for a := aliasOf(v); a != nil; a = aliasOf(v) {
		v = a
	}
	return v
}

func (l *lowerer) lowerGraph(g *ir.Graph) (GraphPlan, error) {
	gl, err := l.newGraphLowering(g)
	if err != nil {
		return GraphPlan{}, err
	}
	for i, n := range g.Nodes {
		gl.node, gl.index = n, i
		first := len(gl.launches)
		if err := gl.lowerNode(n); err != nil {
			return GraphPlan{}, fmt.Errorf("graph %s node `%s`: %w", g.Name, ir.FormatNode(n), err)
		}
		gl.traceNode(n, first)
	}
	return gl.finish()
}

// newGraphLowering checks that g runs on one device, gives its inputs
// buffers and finds the lifetimes of its values.
func (l *lowerer) newGraphLowering(g *ir.Graph) (*graphLowering, error) {
	gl := &graphLowering{lowerer: l, g: g, slots: map[*ir.Value]*slot{}, loc: map[*ir.Value]schedule.Tensor{}, users: map[*ir.Value][]*ir.Node{}}
	devices := map[string]bool{}
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			gl.users[v] = append(gl.users[v], n)
		}
		if d := n.Attrs.String(ir.AttrDevice); d != "" {
			devices[d] = true
		}
	}
	if len(devices) > 1 {
		return nil, fmt.Errorf("graph %s is placed on %d devices: a runner drives one device, so compile without --gpu-layers", g.Name, len(devices))
	}
	for _, v := range g.Inputs {
		d, err := dtypeOf(v)
		if err != nil {
			return nil, fmt.Errorf("graph %s input %w", g.Name, err)
		}
		gl.inputs = append(gl.inputs, l.addBuffer(v, schedule.Buffer{Name: g.Name + "." + v.Name, Kind: schedule.Input, DType: d,
			Shape: slices.Clone(v.Type.Shape), Bytes: v.Type.Bytes()}))
	}
	gl.findLifetimes()
	return gl, nil
}

// finish plans the arena once every launch is known, resolves the arena
// operands and adds the graph to the schedule.
func (gl *graphLowering) finish() (GraphPlan, error) {
	graph := schedule.Graph{Name: gl.g.Name, Inputs: gl.inputs}
	for _, v := range gl.g.Outputs {
		t, err := gl.tensor(v)
		if err != nil {
			return GraphPlan{}, err
		}
		if !dense(t) {
			return GraphPlan{}, fmt.Errorf("graph %s output %%%s is a strided view: the host reads outputs densely", gl.g.Name, v.Name)
		}
		graph.Outputs = append(graph.Outputs, t)
	}
	plan := GraphPlan{Graph: gl.g.Name, Bytes: planArena(gl.order, gl.target.Align)}
	for _, s := range gl.order {
		plan.Slots = append(plan.Slots, PlannedValue{Value: s.name, Offset: s.offset, Bytes: s.bytes, First: s.first, Last: s.last, Scratch: s.scratch})
	}
	for i := range gl.launches {
		for _, l := range []*schedule.Launch{&gl.launches[i], gl.launches[i].CPU} {
			if l == nil {
				continue // no CPU alternative
			}
			l.ArenaBytes = gl.arenaBytes(l.Args)
			for j := range l.Args {
				gl.resolve(&l.Args[j].Buf, &l.Args[j].Off)
			}
		}
	}
	for i := range graph.Outputs {
		gl.resolve(&graph.Outputs[i].Buf, &graph.Outputs[i].Offset)
	}
	graph.Launches = gl.launches
	graph.Trace = gl.resolveTrace()
	gl.s.Graphs = append(gl.s.Graphs, graph)
	return plan, nil
}

// findLifetimes gives every value that owns arena storage a slot live from
// its definition to its last reader, in node indices (graph outputs live
// to the end).
func (gl *graphLowering) findLifetimes() {
	for i, n := range gl.g.Nodes {
		for _, v := range n.Inputs {
			if s := gl.slots[root(v)]; s != nil {
				s.last = max(s.last, i)
			}
		}
		out := n.Outputs[0]
		if aliasOf(out) != nil || n.Op == "constant" || n.Op == "iota" || gl.buf[out] != 0 {
			continue
		}
		s := &slot{name: out.Name, bytes: out.Type.Bytes(), first: i, last: i}
		gl.slots[out] = s
		gl.order = append(gl.order, s)
	}
	for _, v := range gl.g.Outputs {
		if s := gl.slots[root(v)]; s != nil {
			s.last = len(gl.g.Nodes)
		}
	}
}

// arenaBytes is the size of the distinct arena slots a launch's symbolic
// (not yet resolved) arguments point into: its activation traffic.
func (gl *graphLowering) arenaBytes(args []schedule.Arg) int64 {
	var n int64
	seen := map[*slot]bool{}
	for _, a := range args {
		if a.Kind != schedule.TensorArg || a.Buf >= 0 {
			continue
		}
		if s := gl.refs[-a.Buf-1].slot; !seen[s] {
			seen[s] = true
			n += s.bytes
		}
	}
	return n
}

// resolve turns a symbolic arena operand into the arena and its planned
// element offset.
func (gl *graphLowering) resolve(buf *int, off *int64) {
	if *buf >= 0 {
		return
	}
	r := gl.refs[-*buf-1]
	*buf, *off = arenaBuf, r.slot.offset/r.size+r.off
}

// symbolic is a reference to elements of s, resolved after the plan.
func (gl *graphLowering) symbolic(s *slot, off int64, d schedule.DType) int {
	gl.refs = append(gl.refs, arenaRef{slot: s, off: off, size: d.Size()})
	return -len(gl.refs)
}

// scratch asks for a temporary of n elements of dtype d that lives only
// during the current node's launches (split-K partials and the like): the
// arena plan places it with the values.
func (gl *graphLowering) scratch(name string, d schedule.DType, n int64) schedule.Arg {
	s := &slot{name: gl.node.Outputs[0].Name + ".scratch." + name, bytes: n * d.Size(), first: gl.index, last: gl.index, scratch: true}
	gl.order = append(gl.order, s)
	return schedule.Arg{Kind: schedule.TensorArg, Buf: gl.symbolic(s, 0, d)}
}

// tensor is where v lives: a buffer, an offset and strides in elements.
// An arena value's is symbolic (see refs) until the plan.
func (gl *graphLowering) tensor(v *ir.Value) (schedule.Tensor, error) {
	if t, ok := gl.loc[v]; ok {
		return t, nil
	}
	d, err := dtypeOf(v)
	if err != nil {
		return schedule.Tensor{}, err
	}
	t := schedule.Tensor{DType: d, Shape: slices.Clone(v.Type.Shape), Strides: v.Type.Shape.RowMajorStrides()}
	switch {
	case gl.buf[v] != 0:
		t.Buf = gl.buf[v]
	case gl.slots[v] != nil:
		t.Buf = gl.symbolic(gl.slots[v], 0, d)
	case v.Def != nil && v.Def.Op == "view":
		base, err := gl.tensor(v.Def.Inputs[0])
		if err != nil {
			return t, err
		}
		if !dense(base) {
			return t, fmt.Errorf("%%%s views %%%s, which is itself strided: run the views pass first", v.Name, v.Def.Inputs[0].Name)
		}
		t.Buf, t.Offset = base.Buf, base.Offset+v.Def.Attrs.Int("offset", 0)
		if t.Buf < 0 { // a view of an arena value: the same slot, further in
			r := gl.refs[-t.Buf-1]
			t.Buf, t.Offset = gl.symbolic(r.slot, r.off+t.Offset, d), 0
		}
		t.Strides = slices.Clone(v.Def.Attrs.Ints("strides"))
	case aliasOf(v) != nil:
		a, err := gl.tensor(aliasOf(v))
		if err != nil {
			return t, err
		}
		t = a
	default:
		return t, fmt.Errorf("%%%s has no storage", v.Name)
	}
	gl.loc[v] = t
	return t, nil
}

// dense reports whether t is row-major without gaps (size-1 axes aside).
func dense(t schedule.Tensor) bool {
	want := ir.Shape(t.Shape).RowMajorStrides()
	for i, d := range t.Shape {
		if d > 1 && t.Strides[i] != want[i] {
			return false
		}
	}
	return true
}

// launch appends one launch of instance name of kernel k, its grid shaped
// by k's rule over extent, its arguments bound by parameter name.
func (gl *graphLowering) launch(k *kernels.Kernel, name string, extent [3]int, args kernels.Args) error {
	bound, err := k.Bind(args)
	if err != nil {
		return err
	}
	global, local := gl.target.grid(k, extent)
	out := gl.node.Outputs[0]
	gl.launches = append(gl.launches, schedule.Launch{
		Kernel: gl.kernel(name), Global: global, Local: local, Args: bound,
		Node: "%" + out.Name + " = " + gl.node.Op, Part: int(gl.node.Attrs.Int(ir.AttrPartition, 0)),
	})
	return nil
}

// launchCPU gives the launch just made a CPU alternative (see
// schedule.Launch.CPU): instance of kernel k for out's dtype over extent,
// with args, where the target's devices may be CPUs.
func (gl *graphLowering) launchCPU(k *kernels.Kernel, out *ir.Value, extent [3]int, args kernels.Args) error {
	return gl.launchCPUWith(func() error { return gl.launchTyped(k, out, extent, args) })
}

// launchCPUWith is launchCPU for any one launch that launch appends.
func (gl *graphLowering) launchCPUWith(launch func() error) error {
	if !gl.target.CPU {
		return nil
	}
	main := len(gl.launches) - 1
	if err := launch(); err != nil {
		return err
	}
	alt := gl.launches[main+1]
	gl.launches = gl.launches[:main+1]
	gl.launches[main].CPU = &alt
	return nil
}

// arg passes v (wherever it lives, strided or not).
func (gl *graphLowering) arg(v *ir.Value) (schedule.Arg, schedule.Tensor, error) {
	t, err := gl.tensor(v)
	if err != nil {
		return schedule.Arg{}, t, err
	}
	gl.dtypes[t.DType] = true
	return schedule.Arg{Kind: schedule.TensorArg, Buf: t.Buf, Off: t.Offset}, t, nil
}

// dense1 passes a value a kernel reads as a dense row-major array.
func (gl *graphLowering) dense1(v *ir.Value) (schedule.Arg, error) {
	a, t, err := gl.arg(v)
	if err != nil {
		return a, err
	}
	if !dense(t) {
		return a, fmt.Errorf("%%%s is a strided view (strides %v) but the %s kernel reads it densely", v.Name, t.Strides, gl.node.Op)
	}
	return a, nil
}

// operand is a value bound to a kernel parameter.
type operand struct {
	param string
	v     *ir.Value
}

// bindDense binds values a kernel reads as dense arrays into args.
func (gl *graphLowering) bindDense(args kernels.Args, ops ...operand) error {
	for _, o := range ops {
		a, err := gl.dense1(o.v)
		if err != nil {
			return err
		}
		args[o.param] = a
	}
	return nil
}

func intArg(v int64) schedule.Arg     { return schedule.Arg{Kind: schedule.IntArg, Int: v} }
func floatArg(v float64) schedule.Arg { return schedule.Arg{Kind: schedule.FloatArg, F: float32(v)} }
