package ir

import (
	"fmt"
	"strconv"
)

// Builder appends nodes to a graph, inferring output types as it goes. The
// first error is kept and later calls become no-ops, so frontends can build a
// whole layer and check Err once.
type Builder struct {
	Model *Model
	Graph *Graph
	scope string
	names map[string]bool
	err   error
}

// NewBuilder starts appending to g, a graph of m.
func NewBuilder(m *Model, g *Graph) *Builder {
	b := &Builder{Model: m, Graph: g, names: map[string]bool{}}
	for _, v := range g.Inputs {
		b.names[v.Name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			b.names[o.Name] = true
		}
	}
	return b
}

// Scope sets the prefix of the names of values created from now on
// ("l3.attn" gives %l3.attn.q, ...).
func (b *Builder) Scope(s string) { b.scope = s }

// Err returns the first error met while building.
func (b *Builder) Err() error { return b.err }

// Op appends a single-output node named after the op.
func (b *Builder) Op(op string, a Attrs, in ...*Value) *Value { return b.Let(op, op, a, in...) }

// Let appends a single-output node whose result is named hint (made unique
// within the graph, prefixed with the scope).
func (b *Builder) Let(hint, op string, a Attrs, in ...*Value) *Value {
	placeholder := &Value{Name: "invalid", Type: T(F32)}
	if b.err != nil {
		return placeholder
	}
	types := make([]TensorType, len(in))
	for i, v := range in {
		types[i] = v.Type
	}
	if a == nil {
		a = Attrs{}
	}
	outs, err := InferTypes(op, types, a)
	if err != nil {
		b.err = fmt.Errorf("building %s in graph %s at %q: %w", op, b.Graph.Name, b.scope, err)
		return placeholder
	}
	if len(outs) != 1 {
		b.err = fmt.Errorf("building %s: Let wants a single-output op, it has %d", op, len(outs))
		return placeholder
	}
	n := &Node{Op: op, Inputs: append([]*Value(nil), in...), Attrs: a}
	v := &Value{Name: b.unique(hint), Type: outs[0], Kind: Local, Def: n}
	n.Outputs = []*Value{v}
	b.Graph.Nodes = append(b.Graph.Nodes, n)
	return v
}

// Const appends a scalar constant of dtype d.
func (b *Builder) Const(d DType, x float64) *Value {
	return b.Op("constant", Attrs{"value": []float64{x}, "dtype": d, "shape": []int64{}})
}

func (b *Builder) unique(hint string) string {
	name := hint
	if b.scope != "" {
		name = b.scope + "." + hint
	}
	if !b.names[name] {
		b.names[name] = true
		return name
	}
	for i := 1; ; i++ {
		n := name + "_" + strconv.Itoa(i)
		if !b.names[n] {
			b.names[n] = true
			return n
		}
	}
}
