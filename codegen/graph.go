package codegen

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// graphLowering lowers one graph: it finds which values need arena storage
// and how long they live, plans the arena, then emits one launch per node
// with every operand's location resolved.
type graphLowering struct {
	*lowerer
	g        *ir.Graph
	node     *ir.Node // the node being lowered, for errors
	slots    map[*ir.Value]*slot
	users    map[*ir.Value][]*ir.Node // the nodes reading each value
	loc      map[*ir.Value]schedule.Tensor
	launches []schedule.Launch
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
		return GraphPlan{}, fmt.Errorf("graph %s is placed on %d devices: a runner drives one device, so compile without --gpu-layers", g.Name, len(devices))
	}
	var graph schedule.Graph
	graph.Name = g.Name
	for _, v := range g.Inputs {
		d, err := dtypeOf(v)
		if err != nil {
			return GraphPlan{}, fmt.Errorf("graph %s input %w", g.Name, err)
		}
		graph.Inputs = append(graph.Inputs, l.addBuffer(v, schedule.Buffer{Name: g.Name + "." + v.Name, Kind: schedule.Input, DType: d,
			Shape: slices.Clone(v.Type.Shape), Bytes: v.Type.Bytes()}))
	}
	// Lifetimes of the values that own arena storage, in node indices.
	last := len(g.Nodes)
	var order []*slot
	for i, n := range g.Nodes {
		for _, v := range n.Inputs {
			if s := gl.slots[root(v)]; s != nil {
				s.last = max(s.last, i)
			}
		}
		out := n.Outputs[0]
		if aliasOf(out) != nil || n.Op == "constant" {
			continue
		}
		s := &slot{name: out.Name, bytes: out.Type.Bytes(), first: i, last: i}
		gl.slots[out] = s
		order = append(order, s)
	}
	for _, v := range g.Outputs {
		if s := gl.slots[root(v)]; s != nil {
			s.last = last
		}
	}
	plan := GraphPlan{Graph: g.Name, Bytes: planArena(order)}
	for _, s := range order {
		plan.Slots = append(plan.Slots, PlannedValue{Value: s.name, Offset: s.offset, Bytes: s.bytes, First: s.first, Last: s.last})
	}
	for _, n := range g.Nodes {
		gl.node = n
		if err := gl.lowerNode(n); err != nil {
			return GraphPlan{}, fmt.Errorf("graph %s node `%s`: %w", g.Name, ir.FormatNode(n), err)
		}
	}
	for _, v := range g.Outputs {
		t, err := gl.tensor(v)
		if err != nil {
			return GraphPlan{}, err
		}
		if !dense(t) {
			return GraphPlan{}, fmt.Errorf("graph %s output %%%s is a strided view: the host reads outputs densely", g.Name, v.Name)
		}
		graph.Outputs = append(graph.Outputs, t)
	}
	graph.Launches = gl.launches
	l.s.Graphs = append(l.s.Graphs, graph)
	return plan, nil
}

// tensor is where v lives: a buffer, an offset and strides in elements.
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
		t.Buf, t.Offset = arenaBuf, gl.slots[v].offset/d.Size()
	case v.Def != nil && v.Def.Op == "view":
		base, err := gl.tensor(v.Def.Inputs[0])
		if err != nil {
			return t, err
		}
		if !dense(base) {
			return t, fmt.Errorf("%%%s views %%%s, which is itself strided: run the views pass first", v.Name, v.Def.Inputs[0].Name)
		}
		t.Buf, t.Offset = base.Buf, base.Offset+v.Def.Attrs.Int("offset", 0)
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

// launch appends one launch of kernel name.
func (gl *graphLowering) launch(name string, global, local [3]int, args ...schedule.Arg) {
	for i := range global {
		local[i] = max(local[i], 1)
		global[i] = int(alignUp(int64(max(global[i], 1)), int64(local[i])))
	}
	out := gl.node.Outputs[0]
	gl.launches = append(gl.launches, schedule.Launch{
		Kernel: gl.kernel(name), Global: global, Local: local, Args: args,
		Node: "%" + out.Name + " = " + gl.node.Op, Part: int(gl.node.Attrs.Int(ir.AttrPartition, 0)),
	})
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

// denseArgs passes values a kernel reads as dense row-major arrays.
func (gl *graphLowering) denseArgs(vs ...*ir.Value) ([]schedule.Arg, error) {
	var args []schedule.Arg
	for _, v := range vs {
		a, t, err := gl.arg(v)
		if err != nil {
			return nil, err
		}
		if !dense(t) {
			return nil, fmt.Errorf("%%%s is a strided view (strides %v) but the %s kernel reads it densely", v.Name, t.Strides, gl.node.Op)
		}
		args = append(args, a)
	}
	return args, nil
}

func intArg(v int64) schedule.Arg     { return schedule.Arg{Kind: schedule.IntArg, Int: v} }
func floatArg(v float64) schedule.Arg { return schedule.Arg{Kind: schedule.FloatArg, F: float32(v)} }
