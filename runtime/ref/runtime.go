package ref

import (
	"fmt"
	"math"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
)

// Runtime holds a model's weights and persistent state (KV caches) and runs
// its graphs.
type Runtime struct {
	m      *ir.Model
	values map[*ir.Value]*Tensor // weights and states
}

// WeightSource supplies the float32 contents of a weight, in row-major order.
type WeightSource interface {
	Load(w *ir.Weight) ([]float32, error)
}

// New loads every weight of m from src and allocates zeroed states. What
// that takes in ref's storage (float32, int64) is checked against the
// memory budget before anything is loaded.
func New(m *ir.Model, src WeightSource) (*Runtime, error) {
	if err := checkResident(m); err != nil {
		return nil, err
	}
	r := &Runtime{m: m, values: map[*ir.Value]*Tensor{}}
	for _, w := range m.Weights {
		data, err := src.Load(w)
		if err != nil {
			return nil, err
		}
		t := w.Value.Type
		if int64(len(data)) != t.Shape.NumElements() {
			return nil, fmt.Errorf("weight @%s: got %d values, want %d for %v", w.Value.Name, len(data), t.Shape.NumElements(), t)
		}
		r.values[w.Value] = Floats(t.DType, t.Shape, data)
	}
	for _, s := range m.States {
		t, err := Alloc("state @"+s.Value.Name, s.Value.Type)
		if err != nil {
			return nil, err
		}
		r.values[s.Value] = t
	}
	return r, nil
}

// checkResident refuses a model whose weights and states, as ref holds them
// (every float as float32), do not fit in this process's memory budget,
// naming the largest of them.
func checkResident(m *ir.Model) error {
	var total, largest int64
	var name string
	add := func(kind string, v *ir.Value) error {
		n, ok := refBytes(v.Type)
		if !ok || total > math.MaxInt64-n {
			return fmt.Errorf("%s @%s: the weights and states as ref holds them overflow int64", kind, v.Name)
		}
		total += n
		if n > largest {
			largest, name = n, fmt.Sprintf("%s @%s %v", kind, v.Name, v.Type)
		}
		return nil
	}
	for _, w := range m.Weights {
		if err := add("weight", w.Value); err != nil {
			return err
		}
	}
	for _, s := range m.States {
		if err := add("state", s.Value); err != nil {
			return err
		}
	}
	return budget.Check(fmt.Sprintf("ref: the weights and states in float32 (the largest is %s, %s)", name, budget.Format(largest)), total)
}

// Reset zeroes every state tensor (empties the KV caches).
func (r *Runtime) Reset() {
	for _, s := range r.m.States {
		clear(r.values[s.Value].F)
		clear(r.values[s.Value].I)
	}
}

// State returns the current contents of a state tensor (shared, not copied).
func (r *Runtime) State(name string) *Tensor {
	v := r.m.Symbol(name)
	if v == nil || v.Kind != ir.StateValue {
		return nil
	}
	return r.values[v]
}

// Run executes the named graph on inputs (by input name) and returns its
// outputs in order. States are updated in place.
func (r *Runtime) Run(graph string, inputs map[string]*Tensor) ([]*Tensor, error) {
	g := r.m.Graph(graph)
	if g == nil {
		return nil, fmt.Errorf("model has no graph %q", graph)
	}
	return r.RunGraph(g, inputs)
}

// RunGraph executes g, which must belong to the runtime's model (or share its
// weights and states).
func (r *Runtime) RunGraph(g *ir.Graph, inputs map[string]*Tensor) ([]*Tensor, error) {
	return r.RunGraphObserved(g, inputs, nil)
}

// RunGraphObserved is RunGraph calling observe (when not nil) after each
// node with its result, while the states hold what the node left in them:
// irc check compares a device's values with these node by node. The result
// is the runtime's own (a state's contents change with later nodes); an
// error from observe stops the run.
func (r *Runtime) RunGraphObserved(g *ir.Graph, inputs map[string]*Tensor, observe func(n *ir.Node, out *Tensor) error) ([]*Tensor, error) {
	env := map[*ir.Value]*Tensor{}
	for _, v := range g.Inputs {
		t := inputs[v.Name]
		if err := checkType(fmt.Sprintf("graph %s input %%%s", g.Name, v.Name), t, v.Type); err != nil {
			return nil, err
		}
		env[v] = t
	}
	for name := range inputs {
		if !hasInput(g, name) {
			return nil, fmt.Errorf("graph %s has no input %%%s", g.Name, name)
		}
	}
	// Drop each value after its last use so big graphs stay small.
	last := map[*ir.Value]int{}
	for i, n := range g.Nodes {
		for _, v := range n.Inputs {
			last[v] = i
		}
	}
	for _, v := range g.Outputs {
		last[v] = len(g.Nodes)
	}
	for i, n := range g.Nodes {
		in := make([]*Tensor, len(n.Inputs))
		for j, v := range n.Inputs {
			t := env[v]
			if t == nil {
				t = r.values[v]
			}
			if t == nil {
				return nil, fmt.Errorf("graph %s node %d (%s): input %s has no value", g.Name, i, n.Op, v.Name)
			}
			in[j] = t
		}
		out, err := evalChecked(n, in)
		if err != nil {
			return nil, fmt.Errorf("graph %s node %d `%s`: %w", g.Name, i, shortNode(n), err)
		}
		env[n.Outputs[0]] = out
		if observe != nil {
			if err := observe(n, out); err != nil {
				return nil, err
			}
		}
		for _, v := range n.Inputs {
			if last[v] == i && v.Kind != ir.Input {
				delete(env, v)
			}
		}
	}
	outs := make([]*Tensor, len(g.Outputs))
	for i, v := range g.Outputs {
		outs[i] = env[v]
		if outs[i] == nil {
			outs[i] = r.values[v]
		}
	}
	return outs, nil
}

func hasInput(g *ir.Graph, name string) bool {
	for _, v := range g.Inputs {
		if v.Name == name {
			return true
		}
	}
	return false
}

// shortNode is a node's text for an error line, cut short: a node read from
// a file may carry a constant of a million values.
func shortNode(n *ir.Node) string {
	const limit = 300
	s := ir.FormatNode(n)
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}
