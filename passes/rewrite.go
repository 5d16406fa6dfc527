package passes

import (
	"fmt"
	"strconv"

	"github.com/irc-compiler/irc/ir"
)

// rewriter edits one graph during a pass. Replacing a node keeps its result
// value (name and type), so later nodes need no change; insertions,
// substitutions and the removal of nodes left dead happen in commit.
type rewriter struct {
	g       *ir.Graph
	users   map[*ir.Value][]*ir.Node
	output  map[*ir.Value]bool
	index   map[*ir.Node]int
	insert  map[*ir.Node][]*ir.Node // new nodes to place before a node
	subst   map[*ir.Value]*ir.Value
	dropped map[*ir.Node]bool // nodes a fusion absorbed, side effects and all
	names   map[string]bool
	changed bool
}

func newRewriter(g *ir.Graph) *rewriter {
	r := &rewriter{g: g, users: map[*ir.Value][]*ir.Node{}, output: map[*ir.Value]bool{},
		index: map[*ir.Node]int{}, insert: map[*ir.Node][]*ir.Node{}, subst: map[*ir.Value]*ir.Value{}, dropped: map[*ir.Node]bool{}, names: valueNames(g)}
	for i, n := range g.Nodes {
		r.index[n] = i
		for _, in := range n.Inputs {
			r.users[in] = append(r.users[in], n)
		}
	}
	for _, o := range g.Outputs {
		r.output[o] = true
	}
	return r
}

// fuseEach runs a pattern pass over c's graph: every node candidate accepts
// is counted and offered to fuse; fuse's error is the decline --explain
// prints. Rewrites are committed once at the end.
func fuseEach(c *Context, candidate func(*ir.Node) bool, fuse func(*rewriter, *ir.Node) error) {
	r := newRewriter(c.Graph)
	for _, n := range c.Graph.Nodes {
		if !candidate(n) {
			continue
		}
		c.candidate()
		if err := fuse(r, n); err != nil {
			c.decline(n.Outputs[0], "%v", err)
			continue
		}
		c.rewrote()
	}
	r.commit()
}

// onlyUsedBy reports whether every read of v is by one of the nodes given
// (and v is no graph output): the pattern may then absorb it.
func (r *rewriter) onlyUsedBy(v *ir.Value, nodes ...*ir.Node) bool {
	if r.output[v] {
		return false
	}
	for _, u := range r.users[v] {
		found := false
		for _, n := range nodes {
			found = found || u == n
		}
		if !found {
			return false
		}
	}
	return true
}

// absorbs checks that a fusion replacing root may drop the rest of pattern:
// no node outside it reads their results.
func (r *rewriter) absorbs(pattern []*ir.Node, root *ir.Node) error {
	for _, p := range pattern {
		if p != root && !r.onlyUsedBy(p.Outputs[0], pattern...) {
			return fmt.Errorf("intermediate %s is read outside the pattern", ir.Ref(p.Outputs[0]))
		}
	}
	return nil
}

// soleUser returns the one node reading v, or nil.
func (r *rewriter) soleUser(v *ir.Value) *ir.Node {
	if r.output[v] || len(r.users[v]) != 1 {
		return nil
	}
	return r.users[v][0]
}

// replace puts a node computing op(in) with attrs in old's place, defining
// old's result. It fails if the new node's type differs.
func (r *rewriter) replace(old *ir.Node, op string, a ir.Attrs, in ...*ir.Value) error {
	n, err := r.build(op, a, in, old.Outputs)
	if err != nil {
		return err
	}
	for _, o := range n.Outputs {
		o.Def = n
	}
	i := r.index[old]
	r.g.Nodes[i] = n
	r.index[n] = i
	delete(r.index, old)
	if ins, ok := r.insert[old]; ok {
		r.insert[n] = ins
		delete(r.insert, old)
	}
	r.changed = true
	return nil
}

// insertBefore adds op(in) before node at and returns its result, named
// after hint.
func (r *rewriter) insertBefore(at *ir.Node, hint, op string, a ir.Attrs, in ...*ir.Value) (*ir.Value, error) {
	n, err := r.build(op, a, in, nil)
	if err != nil {
		return nil, err
	}
	v := n.Outputs[0]
	v.Name = r.fresh(hint)
	r.insert[at] = append(r.insert[at], n)
	r.index[n] = r.index[at]
	r.changed = true
	return v, nil
}

// build makes a node, inferring its result type; with outs it must match.
func (r *rewriter) build(op string, a ir.Attrs, in []*ir.Value, outs []*ir.Value) (*ir.Node, error) {
	types := make([]ir.TensorType, len(in))
	for i, v := range in {
		types[i] = v.Type
	}
	if a == nil {
		a = ir.Attrs{}
	}
	got, err := ir.InferTypes(op, types, a)
	if err != nil {
		return nil, err
	}
	n := &ir.Node{Op: op, Inputs: in, Attrs: a}
	if outs == nil {
		for _, t := range got {
			n.Outputs = append(n.Outputs, &ir.Value{Type: t, Def: n})
		}
		return n, nil
	}
	if len(got) != len(outs) {
		return nil, fmt.Errorf("%s gives %d results, want %d", op, len(got), len(outs))
	}
	for i, t := range got {
		if !t.Equal(outs[i].Type) {
			return nil, fmt.Errorf("%s gives %v, want %v", op, t, outs[i].Type)
		}
	}
	n.Outputs = outs
	return n, nil
}

// takeName gives the result of a fused pattern the name of one of the
// pattern's own values (e.g. the softmax's "probs" rather than the cast
// after it), when that value dies with the pattern. Graph outputs keep
// their names: callers know them.
func (r *rewriter) takeName(result, from *ir.Value) {
	if result == from || from.Kind != ir.Local || r.output[result] {
		return
	}
	result.Name, from.Name = from.Name, result.Name
}

// substitute makes every reader of old read new instead (at commit).
func (r *rewriter) substitute(old, new *ir.Value) {
	r.subst[old] = new
	r.changed = true
}

// drop removes n at commit even if it has a side effect: a fusion has
// taken its effect into the node replacing the pattern.
func (r *rewriter) drop(n *ir.Node) {
	r.dropped[n] = true
	r.changed = true
}

// resolve follows substitutions.
func (r *rewriter) resolve(v *ir.Value) *ir.Value {
	for {
		w, ok := r.subst[v]
		if !ok {
			return v
		}
		v = w
	}
}

func (r *rewriter) fresh(hint string) string { return freshName(r.names, hint) }

// valueNames collects the names g defines: its inputs and node results.
func valueNames(g *ir.Graph) map[string]bool {
	names := map[string]bool{}
	for _, v := range g.Inputs {
		names[v.Name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			names[o.Name] = true
		}
	}
	return names
}

// freshName returns hint, or hint_1, hint_2, ..., whichever names does not
// hold yet, and adds it.
func freshName(names map[string]bool, hint string) string {
	name := hint
	for i := 1; names[name]; i++ {
		name = hint + "_" + strconv.Itoa(i)
	}
	names[name] = true
	return name
}

// commit applies insertions and substitutions and drops nodes left dead.
// It returns how many nodes it dropped.
func (r *rewriter) commit() int {
	if !r.changed {
		return 0
	}
	nodes := make([]*ir.Node, 0, len(r.g.Nodes))
	for _, n := range r.g.Nodes {
		nodes = append(nodes, r.insert[n]...)
		if !r.dropped[n] {
			nodes = append(nodes, n)
		}
	}
	for _, n := range nodes {
		for i, in := range n.Inputs {
			n.Inputs[i] = r.resolve(in)
		}
	}
	for i, o := range r.g.Outputs {
		r.g.Outputs[i] = r.resolve(o)
	}
	before := len(nodes)
	r.g.Nodes = removeDead(nodes, r.g.Outputs)
	return before - len(r.g.Nodes)
}

// removeDead keeps the nodes whose results are read (transitively) by a
// graph output or a node with a side effect.
func removeDead(nodes []*ir.Node, outputs []*ir.Value) []*ir.Node {
	live := map[*ir.Value]bool{}
	for _, o := range outputs {
		live[o] = true
	}
	keep := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		k := ir.Lookup(n.Op) != nil && ir.Lookup(n.Op).SideEffect
		for _, o := range n.Outputs {
			k = k || live[o]
		}
		if !k {
			continue
		}
		keep[i] = true
		for _, in := range n.Inputs {
			live[in] = true
		}
	}
	out := nodes[:0]
	for i, n := range nodes {
		if keep[i] {
			out = append(out, n)
		}
	}
	return out
}
