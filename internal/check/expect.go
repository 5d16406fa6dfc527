// Package check finds where a backend, or a pass, first departs from the
// reference runtime (irc check). A traced run of a runner (its --trace
// mode: every node's result read back right after its last launch) is set
// against ref's values of the same nodes of the same fused graph on the
// same steps, node by node in execution order; the first node whose error
// jumps past its budget is the one reported.
package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Expectations are ref's values for a traced run, and what a report says
// about each node, computed where the model and Go are (irc check --keep)
// and read where only the runner is (irc check --runners).
type Expectations struct {
	Model   string
	Backend string
	Tokens  []int64
	Decode  int
	// RandomWeights and Seed say which weights ref ran with: the runner
	// must run with the same (--random-weights --seed, or the checkpoint).
	RandomWeights bool
	Seed          uint64
	Steps         []runner.TracedStep
	// Nodes describe the traced values of each graph, by graph then
	// value name.
	Nodes map[string]map[string]*Node
}

// Node is what a report says about one traced value's node.
type Node struct {
	Value string
	Op    string
	// Line is the node as the dump prints it; Attrs its attributes.
	Line  string
	Attrs string
	DType string
	// Inputs are the values whose errors the node's is set against: its
	// operands, followed through views and transfers to the value that
	// owns the storage (weights, constants and graph inputs are exact and
	// left out). A KV cache's rows have the writing node's operands.
	Inputs []string
	// Launches are the node's launches: kernel, grid and arguments.
	Launches []string
}

// Expect runs the fused model m on ref (rt, whose caches it empties first)
// over steps and keeps the values of every node s's trace tables list:
// what a correct device's trace must match.
func Expect(m *ir.Model, s *schedule.Schedule, rt *ref.Runtime, steps []runner.TraceStep) (*Expectations, error) {
	exp := &Expectations{Model: m.Meta.Architecture, Nodes: map[string]map[string]*Node{}}
	for _, g := range s.Graphs {
		ig := m.Graph(g.Name)
		if ig == nil {
			return nil, fmt.Errorf("the schedule's graph %s is not in the model", g.Name)
		}
		exp.Nodes[g.Name] = describe(ig, s, &g)
	}
	rt.Reset()
	for _, st := range steps {
		g := m.Graph(st.Graph)
		traced := exp.Nodes[st.Graph]
		if g == nil || traced == nil {
			return nil, fmt.Errorf("the model has no traced graph %s", st.Graph)
		}
		tokens := make([]int64, len(st.Tokens))
		for i, id := range st.Tokens {
			tokens[i] = int64(id)
		}
		inputs := map[string]*ref.Tensor{
			"tokens": ref.Ints(ir.I32, ir.Shape{int64(len(tokens))}, tokens),
			"pos":    ref.Ints(ir.I32, ir.Shape{1}, []int64{int64(st.Pos)}),
		}
		rec := runner.TracedStep{TraceStep: st}
		_, err := rt.RunGraphObserved(g, inputs, func(n *ir.Node, out *ref.Tensor) error {
			v := n.Outputs[0]
			if nd := traced[v.Name]; nd != nil && !isAlias(n) {
				rec.Values = append(rec.Values, runner.TracedValue{Value: v.Name, Shape: out.Shape.Clone(), Data: floats(out)})
			}
			for _, name := range writtenStates(n) {
				if traced[name] == nil {
					continue
				}
				cache := rt.State(name)
				shape, rows := cacheRows(cache, int64(st.Pos), int64(len(st.Tokens)))
				rec.Values = append(rec.Values, runner.TracedValue{Value: name, State: true, Shape: shape, Data: rows})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		exp.Steps = append(exp.Steps, rec)
	}
	return exp, nil
}

// describe gives each traced value of graph g (lowered into sg) its node's
// description.
func describe(g *ir.Graph, s *schedule.Schedule, sg *schedule.Graph) map[string]*Node {
	want := map[string]bool{}
	for _, t := range sg.Trace {
		want[t.Value] = true
	}
	out := map[string]*Node{}
	for _, n := range g.Nodes {
		v := n.Outputs[0]
		var inputs []string
		for _, in := range n.Inputs {
			r := root(in)
			if (r.Def != nil || r.Kind == ir.StateValue) && !slices.Contains(inputs, r.Name) {
				inputs = append(inputs, r.Name)
			}
		}
		node := &Node{Value: v.Name, Op: n.Op, Line: ir.FormatNode(n), Attrs: ir.FormatAttrs(n), DType: v.Type.DType.String(),
			Inputs: inputs, Launches: launches(s, sg, "%"+v.Name+" = "+n.Op)}
		if want[v.Name] && !isAlias(n) {
			out[v.Name] = node
		}
		for _, st := range writtenStates(n) {
			if want[st] {
				c := *node
				c.Value, c.DType = st, stateDType(g, st)
				c.Inputs = withoutStates(g, inputs)
				out[st] = &c
			}
		}
	}
	return out
}

func stateDType(g *ir.Graph, name string) string {
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if r := root(in); r.Name == name {
				return r.Type.DType.String()
			}
		}
	}
	return ""
}

// withoutStates drops the KV caches from a node's inputs: the rows a
// node writes into a cache come from its other operands.
func withoutStates(g *ir.Graph, names []string) []string {
	var out []string
	for _, name := range names {
		if stateDType(g, name) == "" || !isState(g, name) {
			out = append(out, name)
		}
	}
	return out
}

func isState(g *ir.Graph, name string) bool {
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if r := root(in); r.Name == name {
				return r.Kind == ir.StateValue
			}
		}
	}
	return false
}

// launches formats the launches of the node a launch table names node.
func launches(s *schedule.Schedule, g *schedule.Graph, node string) []string {
	var out []string
	for i, l := range g.Launches {
		if l.Node != node {
			continue
		}
		out = append(out, fmt.Sprintf("launch %d: %s", i, describeLaunch(s, &l)))
		if l.CPU != nil {
			out = append(out, fmt.Sprintf("launch %d on a CPU device: %s", i, describeLaunch(s, l.CPU)))
		}
	}
	return out
}

// describeLaunch is a launch's kernel, grid and arguments on one line.
func describeLaunch(s *schedule.Schedule, l *schedule.Launch) string {
	var args []string
	{
		for _, a := range l.Args {
			switch a.Kind {
			case schedule.TensorArg:
				args = append(args, fmt.Sprintf("%s+%d", s.Buffers[a.Buf].Name, a.Off))
			case schedule.IntArg:
				args = append(args, fmt.Sprint(a.Int))
			case schedule.FloatArg:
				args = append(args, fmt.Sprint(a.F))
			}
		}
	}
	return fmt.Sprintf("%s global %v local %v (%s)", s.Kernels[l.Kernel], l.Global, l.Local, strings.Join(args, ", "))
}

// isAlias reports whether n's result is another value's storage (a view, a
// transfer, a cache write: the cache itself is traced by its rows).
func isAlias(n *ir.Node) bool {
	switch n.Op {
	case "view", "transfer", "cache_write":
		return true
	}
	return false
}

// root follows views and transfers (and cache writes) to the value that
// owns the storage, as the lowering does.
func root(v *ir.Value) *ir.Value {
	for v.Def != nil && isAlias(v.Def) {
		v = v.Def.Inputs[0]
	}
	return v
}

// writtenStates are the KV caches n writes in place.
func writtenStates(n *ir.Node) []string {
	if n.Op != "cache_write" && n.Op != "attention" {
		return nil
	}
	var out []string
	for _, in := range n.Inputs {
		if r := root(in); r.Kind == ir.StateValue && len(r.Type.Shape) == 3 {
			out = append(out, r.Name)
		}
	}
	return out
}

// cacheRows are rows [pos, pos+n) of each head of a [heads, positions,
// dim] cache, as the device's tracer reads them.
func cacheRows(c *ref.Tensor, pos, n int64) ([]int64, []float32) {
	heads, length, dim := c.Shape[0], c.Shape[1], c.Shape[2]
	n = max(min(n, length-pos), 0)
	var out []float32
	for h := range heads {
		at := (h*length + pos) * dim
		out = append(out, c.F[at:at+n*dim]...)
	}
	return []int64{heads, n, dim}, out
}

func floats(t *ref.Tensor) []float32 {
	if t.F != nil {
		return append([]float32(nil), t.F...)
	}
	out := make([]float32, len(t.I))
	for i, x := range t.I {
		out[i] = float32(x)
	}
	return out
}
