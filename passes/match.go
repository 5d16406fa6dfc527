package passes

import "github.com/irc-compiler/irc/ir"

// Small helpers the pattern matchers share.

// defOp returns the node defining v if it is op, else nil.
func defOp(v *ir.Value, op string) *ir.Node {
	if v == nil || v.Kind != ir.Local || v.Def == nil || v.Def.Op != op {
		return nil
	}
	return v.Def
}

// opName names the op defining v, or says what kind of value it is.
func opName(v *ir.Value) string {
	switch {
	case v.Kind == ir.WeightValue:
		return "a weight"
	case v.Kind == ir.StateValue:
		return "a state"
	case v.Kind == ir.Input:
		return "a graph input"
	case v.Def == nil:
		return "an undefined value"
	}
	return v.Def.Op
}

// scalar returns the value of a constant holding one distinct element.
func scalar(v *ir.Value) (float64, bool) {
	n := defOp(v, "constant")
	if n == nil {
		return 0, false
	}
	vals := n.Attrs.Floats("value")
	if len(vals) == 0 {
		return 0, false
	}
	for _, x := range vals[1:] {
		if x != vals[0] {
			return 0, false
		}
	}
	return vals[0], true
}

// floatCastOf returns x when v = cast(x) between float dtypes.
func floatCastOf(v *ir.Value) (*ir.Value, *ir.Node) {
	n := defOp(v, "cast")
	if n == nil || !v.Type.DType.IsFloat() || !n.Inputs[0].Type.DType.IsFloat() {
		return nil, nil
	}
	return n.Inputs[0], n
}

// stripFloatCasts follows float-to-float casts back to their source and
// returns the cast nodes passed.
func stripFloatCasts(v *ir.Value) (*ir.Value, []*ir.Node) {
	var casts []*ir.Node
	for {
		x, n := floatCastOf(v)
		if n == nil {
			return v, casts
		}
		casts = append(casts, n)
		v = x
	}
}

// operands returns a binary node's operands so that the first satisfies
// pred, trying both orders; ok is false if neither does.
func operands(n *ir.Node, pred func(*ir.Value) bool) (a, b *ir.Value, ok bool) {
	if pred(n.Inputs[0]) {
		return n.Inputs[0], n.Inputs[1], true
	}
	if pred(n.Inputs[1]) {
		return n.Inputs[1], n.Inputs[0], true
	}
	return nil, nil, false
}

// lastAxis reports whether axes names exactly the last of rank axes.
func lastAxis(axes []int64, rank int) bool {
	return len(axes) == 1 && (axes[0] == -1 || axes[0] == int64(rank-1))
}
