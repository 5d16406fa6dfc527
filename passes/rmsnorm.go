package passes

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// runRMSNorm finds, at every rsqrt, the RMSNorm transformers writes:
//
//	x32 = cast(x, f32)                 (absent when x is already f32)
//	r   = rsqrt(mean(pow(x32, 2) or x32*x32, axes=[-1], keepdim) + eps)
//	y   = cast(x32 * r, dtype(x))      (the cast likewise optional)
//	out = weight * y                   (optional; either operand order)
//
// and replaces out with rms_norm(x, weight) {eps}.
func runRMSNorm(c *Context) {
	fuseEach(c, func(n *ir.Node) bool { return n.Op == "rsqrt" }, fuseRMSNorm)
}

func fuseRMSNorm(r *rewriter, rs *ir.Node) error {
	sum := defOp(rs.Inputs[0], "add")
	if sum == nil {
		return fmt.Errorf("rsqrt reads %s, not mean(x^2) + eps: no eps is added before the root", opName(rs.Inputs[0]))
	}
	meanV, epsV, ok := operands(sum, func(v *ir.Value) bool { return defOp(v, "mean") != nil })
	if !ok {
		return fmt.Errorf("rsqrt(a + b) with neither a nor b a mean")
	}
	eps, ok := scalar(epsV)
	if !ok {
		return fmt.Errorf("eps (%s) is not a scalar constant", ir.Ref(epsV))
	}
	mean := meanV.Def
	sqV := mean.Inputs[0]
	rank := len(sqV.Type.Shape)
	if !lastAxis(mean.Attrs.Ints("axes"), rank) {
		return fmt.Errorf("mean is over axes %v, not only the last axis of rank %d", mean.Attrs.Ints("axes"), rank)
	}
	if mean.Attrs.Int("keepdim", 0) == 0 {
		return fmt.Errorf("mean drops the reduced axis (keepdim=0)")
	}
	var x32 *ir.Value
	sq := sqV.Def
	switch {
	case defOp(sqV, "pow") != nil:
		if e := sq.Attrs.Float("exponent", 0); e != 2 {
			return fmt.Errorf("mean of x^%g, not x^2", e)
		}
		x32 = sq.Inputs[0]
	case defOp(sqV, "mul") != nil && sq.Inputs[0] == sq.Inputs[1]:
		x32 = sq.Inputs[0]
	default:
		return fmt.Errorf("mean of %s, not x^2", opName(sqV))
	}
	norm := r.soleUser(rs.Outputs[0])
	if norm == nil || norm.Op != "mul" {
		return fmt.Errorf("rsqrt result is not read by exactly one mul")
	}
	if otherOperand(norm, rs.Outputs[0]) != x32 {
		return fmt.Errorf("the normalised value multiplies rsqrt by %s, not by the x that was squared (%s)",
			ir.Ref(otherOperand(norm, rs.Outputs[0])), ir.Ref(x32))
	}
	x, xcast := floatCastOf(x32)
	if xcast == nil {
		x = x32
	}
	pattern := []*ir.Node{sq, mean, sum, rs, norm}
	root, y := norm, norm.Outputs[0]
	if cast := r.soleUser(y); cast != nil && cast.Op == "cast" {
		pattern = append(pattern, cast)
		root, y = cast, cast.Outputs[0]
	}
	var weight *ir.Value
	if wm := r.soleUser(y); wm != nil && wm.Op == "mul" {
		w := otherOperand(wm, y)
		if len(w.Type.Shape) == 1 && len(y.Type.Shape) > 0 && w.Type.Shape[0] == y.Type.Shape[len(y.Type.Shape)-1] && w.Type.DType == y.Type.DType {
			pattern = append(pattern, wm)
			root, y, weight = wm, wm.Outputs[0], w
		}
	}
	if y.Type.DType != x.Type.DType {
		return fmt.Errorf("result is %s but x %s is %s: the normalised value is not cast back", y.Type.DType, ir.Ref(x), x.Type.DType)
	}
	if err := r.absorbs(pattern, root); err != nil {
		return err
	}
	if xcast != nil && !r.onlyUsedBy(x32, pattern...) {
		return fmt.Errorf("the f32 copy %s of x is read outside the pattern", ir.Ref(x32))
	}
	in := []*ir.Value{x}
	if weight != nil {
		in = append(in, weight)
	}
	return r.replace(root, "rms_norm", ir.Attrs{"eps": eps}, in...)
}

// otherOperand returns the operand of binary node n that is not v.
func otherOperand(n *ir.Node, v *ir.Value) *ir.Value {
	if n.Inputs[0] == v {
		return n.Inputs[1]
	}
	return n.Inputs[0]
}
