package passes

import (
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
)

// foldLimit bounds the elements a folded constant may hold: constants live
// in the IR text, and a big table is cheaper computed than stored.
const foldLimit = 1024

// runConstFold evaluates nodes whose inputs are all constants (with the ref
// runtime, so folding computes exactly what the oracle would) and removes
// identities: x+0, 0+x, x-0, x*1, 1*x, x/1 and casts to x's own dtype.
func runConstFold(c *Context) {
	r := newRewriter(c.Graph)
	known := map[*ir.Value]*ref.Tensor{}
	for _, n := range c.Graph.Nodes {
		if n.Op == "constant" {
			if t, err := ref.EvalNode(n, nil); err == nil {
				known[n.Outputs[0]] = t
			}
			continue
		}
		if x := identityOperand(n, known, r); x != nil {
			c.candidate()
			c.rewrote()
			r.substitute(n.Outputs[0], x)
			continue
		}
		def := ir.Lookup(n.Op)
		if def == nil || def.SideEffect || len(n.Outputs) != 1 {
			continue
		}
		in := make([]*ref.Tensor, len(n.Inputs))
		constant := true
		for i, v := range n.Inputs {
			in[i] = known[r.resolve(v)]
			constant = constant && in[i] != nil
		}
		if !constant {
			continue
		}
		out := n.Outputs[0]
		c.candidate()
		if k := out.Type.Shape.NumElements(); k > foldLimit {
			c.decline(out, "%s gives %d elements, over the fold limit of %d: left to compute at run time", n.Op, k, foldLimit)
			continue
		}
		t, err := ref.EvalNode(n, in)
		if err != nil {
			c.decline(out, "evaluating %s failed: %v", n.Op, err)
			continue
		}
		vals := t.Float64s()
		if uniform(vals) {
			vals = vals[:1]
		}
		a := ir.Attrs{"value": vals, "dtype": out.Type.DType, "shape": []int64(out.Type.Shape.Clone())}
		if err := r.replace(n, "constant", a); err != nil {
			c.decline(out, "%v", err)
			continue
		}
		known[out] = t
		c.rewrote()
	}
	r.commit()
}

func uniform(vals []float64) bool {
	for _, v := range vals {
		if v != vals[0] {
			return false
		}
	}
	return len(vals) > 0
}

// identityOperand returns x when n computes x unchanged.
func identityOperand(n *ir.Node, known map[*ir.Value]*ref.Tensor, r *rewriter) *ir.Value {
	out := n.Outputs
	if len(out) != 1 || len(n.Inputs) == 0 {
		return nil
	}
	if n.Op == "cast" && n.Inputs[0].Type.DType == out[0].Type.DType {
		return n.Inputs[0]
	}
	is := func(v *ir.Value, want float64) bool {
		t := known[r.resolve(v)]
		if t == nil {
			return false
		}
		vals := t.Float64s()
		return uniform(vals) && vals[0] == want
	}
	keeps := func(x *ir.Value) bool { return x.Type.Equal(out[0].Type) }
	a, b := n.Inputs[0], (*ir.Value)(nil)
	if len(n.Inputs) == 2 {
		b = n.Inputs[1]
	}
	switch n.Op {
	case "add":
		if is(b, 0) && keeps(a) {
			return a
		}
		if is(a, 0) && keeps(b) {
			return b
		}
	case "sub":
		if is(b, 0) && keeps(a) {
			return a
		}
	case "mul":
		if is(b, 1) && keeps(a) {
			return a
		}
		if is(a, 1) && keeps(b) {
			return b
		}
	case "div":
		if is(b, 1) && keeps(a) {
			return a
		}
	}
	return nil
}
