package passes

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// runNormLinear moves an RMSNorm into the linears that read it, as their
// prologue:
//
//	y = rms_norm(x, g) {eps}; a = linear(y, Wa, ...); b = linear(y, Wb, ...)
//	  -> a = linear(x, Wa, ..., g) {norm=1, eps}; b = linear(x, Wb, ..., g) {norm=1, eps}
//
// when the norm has a weight and only linears (without a norm prologue of
// their own) read it, each as its x. The normalised row is never stored:
// each GEMV recomputes the row's inverse RMS where it reads x, which costs
// one extra pass over a row of K elements next to reading N*K weights.
// Runs after merge_projections, so there is one reader per norm where it
// can be.
func runNormLinear(c *Context) {
	fuseEach(c, func(n *ir.Node) bool { return n.Op == "rms_norm" }, fuseNormLinear)
}

func fuseNormLinear(r *rewriter, n *ir.Node) error {
	if len(n.Inputs) < 2 {
		return fmt.Errorf("the norm has no weight (a linear's norm prologue scales by one)")
	}
	x, g, y := n.Inputs[0], n.Inputs[1], n.Outputs[0]
	if r.output[y] {
		return fmt.Errorf("the norm's result is a graph output")
	}
	readers := uniqueNodes(r.users[y])
	if len(readers) == 0 {
		return fmt.Errorf("nothing reads the norm")
	}
	for _, u := range readers {
		if u.Op != "linear" {
			return fmt.Errorf("%s reads it too (%s), not only linears", u.Op, ir.Ref(u.Outputs[0]))
		}
		if u.Attrs.Int("norm", 0) != 0 {
			return fmt.Errorf("linear %s already has a norm prologue", ir.Ref(u.Outputs[0]))
		}
		for i, in := range u.Inputs[1:] {
			if in == y {
				return fmt.Errorf("linear %s reads it as its %s, not as x", ir.Ref(u.Outputs[0]), linearOperand(u.Attrs, i+1))
			}
		}
	}
	if g.Type.DType != x.Type.DType {
		return fmt.Errorf("the norm weight %s is %s and x is %s: the prologue reads one dtype", ir.Ref(g), g.Type.DType, x.Type.DType)
	}
	for _, u := range readers {
		a := ir.Attrs{}
		for k, v := range u.Attrs {
			a[k] = v
		}
		a["norm"], a["eps"] = int64(1), n.Attrs.Float("eps", 0)
		in := append([]*ir.Value{x}, u.Inputs[1:]...)
		if err := r.replace(u, "linear", a, append(in, g)...); err != nil {
			return err
		}
	}
	return nil
}

// linearOperand names input i of a linear with attributes a.
func linearOperand(a ir.Attrs, i int) string {
	bias, residual, norm, _ := ir.LinearInputs(a)
	switch i {
	case 0:
		return "x"
	case 1:
		return "weight"
	case bias:
		return "bias"
	case residual:
		return "residual"
	case norm:
		return "norm weight"
	}
	return fmt.Sprintf("input %d", i)
}
