package passes

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
)

// runRoPE finds transformers' rotary embedding at every add:
//
//	out = x*cos + rotate_half(x)*sin
//	rotate_half(x) = concat(-x[..., d/2:], x[..., :d/2])
//	cos, sin = cos(emb), sin(emb) with emb = concat(f, f), f = positions ⊗ inv_freq
//
// (the tables possibly cast and unsqueezed) and replaces it with
// rope(x, positions) {inv_freq}: the kernel computes the angles itself, so no
// cos/sin table is built or read.
func runRoPE(c *Context) {
	fuseEach(c, func(n *ir.Node) bool {
		return n.Op == "add" && defOp(n.Inputs[0], "mul") != nil && defOp(n.Inputs[1], "mul") != nil
	}, fuseRoPE)
}

func fuseRoPE(r *rewriter, add *ir.Node) error {
	// The sin term is the product with a rotate_half (a concat).
	isRot := func(v *ir.Value) bool {
		m := v.Def
		return defOp(m.Inputs[0], "concat") != nil || defOp(m.Inputs[1], "concat") != nil
	}
	sinTerm, cosTerm, ok := operands(add, isRot)
	if !ok {
		return fmt.Errorf("neither product of the add reads a rotate_half concat")
	}
	rot, sinTab, _ := operands(sinTerm.Def, func(v *ir.Value) bool { return defOp(v, "concat") != nil })
	x, err := rotateHalfOf(rot)
	if err != nil {
		return err
	}
	cosM := cosTerm.Def
	if cosM.Inputs[0] != x && cosM.Inputs[1] != x {
		return fmt.Errorf("the other product multiplies %s and %s, not the rotated %s", ir.Ref(cosM.Inputs[0]), ir.Ref(cosM.Inputs[1]), ir.Ref(x))
	}
	cosTab := otherOperand(cosM, x)
	d := x.Type.Shape[len(x.Type.Shape)-1]
	cosPos, cosFreq, err := angleTable(cosTab, "cos", x)
	if err != nil {
		return fmt.Errorf("x is multiplied by %s: %v", ir.Ref(cosTab), err)
	}
	sinPos, sinFreq, err := angleTable(sinTab, "sin", x)
	if err != nil {
		return fmt.Errorf("rotate_half(x) is multiplied by %s: %v", ir.Ref(sinTab), err)
	}
	if cosPos != sinPos || !slices.Equal(cosFreq, sinFreq) {
		return fmt.Errorf("cos and sin tables come from different positions or frequencies")
	}
	if int64(len(cosFreq))*2 != d {
		return fmt.Errorf("tables have %d frequencies for head size %d", len(cosFreq), d)
	}
	return r.replace(add, "rope", ir.Attrs{"inv_freq": cosFreq}, x, cosPos)
}

// rotateHalfOf returns x when v = concat(neg(x[..., h:]), x[..., :h]) on the
// last axis, with h half of x's last axis.
func rotateHalfOf(v *ir.Value) (*ir.Value, error) {
	cat := v.Def
	rank := len(v.Type.Shape)
	if len(cat.Inputs) != 2 || !lastAxis([]int64{cat.Attrs.Int("axis", 0)}, rank) {
		return nil, fmt.Errorf("the concat is not of two halves along the last axis")
	}
	neg := defOp(cat.Inputs[0], "neg")
	if neg == nil {
		return nil, fmt.Errorf("rotate_half's first half is %s, not the negated second half", opName(cat.Inputs[0]))
	}
	hi, lo := defOp(neg.Inputs[0], "slice"), defOp(cat.Inputs[1], "slice")
	if hi == nil || lo == nil || hi.Inputs[0] != lo.Inputs[0] {
		return nil, fmt.Errorf("rotate_half's halves are not two slices of one tensor")
	}
	x := hi.Inputs[0]
	d := x.Type.Shape[rank-1]
	half := func(s *ir.Node, start, end int64) bool {
		return lastAxis([]int64{s.Attrs.Int("axis", 0)}, rank) && s.Attrs.Int("step", 1) == 1 &&
			s.Attrs.Int("start", -1) == start && s.Attrs.Int("end", -1) == end
	}
	if d%2 != 0 || !half(hi, d/2, d) || !half(lo, 0, d/2) {
		return nil, fmt.Errorf("rotate_half negates x[%d:%d] and keeps x[%d:%d], want -x[%d:%d] then x[0:%d]",
			hi.Attrs.Int("start", 0), hi.Attrs.Int("end", 0), lo.Attrs.Int("start", 0), lo.Attrs.Int("end", 0), d/2, d, d/2)
	}
	return x, nil
}

// angleTable checks that tab is fn(concat(f, f)) with f = positions ⊗ a
// constant inv_freq, its rows along x's second-to-last axis, and returns
// the positions and frequencies.
func angleTable(tab *ir.Value, fn string, x *ir.Value) (*ir.Value, []float64, error) {
	xs, ts := x.Type.Shape, tab.Type.Shape
	if len(ts) > len(xs) || len(ts) < 2 || ts[len(ts)-1] != xs[len(xs)-1] || ts[len(ts)-2] != xs[len(xs)-2] {
		return nil, nil, fmt.Errorf("table %v does not run along the rows of x %v", ts, xs)
	}
	for _, dim := range ts[:len(ts)-2] {
		if dim != 1 {
			return nil, nil, fmt.Errorf("table %v varies along x's head axes", ts)
		}
	}
	v := stripUnitViews(tab)
	f := defOp(v, fn)
	if f == nil {
		return nil, nil, fmt.Errorf("not a %s table (it is %s)", fn, opName(v))
	}
	cat := defOp(f.Inputs[0], "concat")
	if cat == nil || len(cat.Inputs) != 2 || cat.Inputs[0] != cat.Inputs[1] || !lastAxis([]int64{cat.Attrs.Int("axis", 0)}, len(cat.Inputs[0].Type.Shape)) {
		return nil, nil, fmt.Errorf("%s of %s, not of concat(f, f)", fn, opName(f.Inputs[0]))
	}
	outer := defOp(cat.Inputs[0], "mul")
	if outer == nil {
		return nil, nil, fmt.Errorf("angles are %s, not positions * inv_freq", opName(cat.Inputs[0]))
	}
	freqV, posV, ok := operands(outer, func(v *ir.Value) bool { return defOp(v, "constant") != nil })
	if !ok {
		return nil, nil, fmt.Errorf("angles multiply no constant inv_freq")
	}
	freq := defOp(freqV, "constant").Attrs.Floats("value")
	fs := freqV.Type.Shape
	if len(fs) == 0 || int64(len(freq)) != fs.NumElements() || fs.NumElements() != xs[len(xs)-1]/2 || fs[len(fs)-1] != fs.NumElements() {
		return nil, nil, fmt.Errorf("inv_freq %v does not hold %d frequencies", freqV.Type, xs[len(xs)-1]/2)
	}
	posF, _ := stripFloatCasts(stripUnitViews(posV))
	pc := defOp(posF, "cast")
	if pc == nil || !pc.Inputs[0].Type.DType.IsInt() || len(pc.Inputs[0].Type.Shape) != 1 || pc.Inputs[0].Type.Shape[0] != xs[len(xs)-2] {
		return nil, nil, fmt.Errorf("angles are not integer positions (a vector of %d) times inv_freq", xs[len(xs)-2])
	}
	return pc.Inputs[0], freq, nil
}

// stripUnitViews follows unsqueeze, squeeze and reshape that only add or
// remove size-1 axes, and float casts, back to their source.
func stripUnitViews(v *ir.Value) *ir.Value {
	for {
		if x, n := floatCastOf(v); n != nil {
			v = x
			continue
		}
		n := v.Def
		if v.Kind != ir.Local || n == nil {
			return v
		}
		switch n.Op {
		case "unsqueeze", "squeeze":
			v = n.Inputs[0]
			continue
		case "reshape":
			if sameNonUnitDims(n.Inputs[0].Type.Shape, v.Type.Shape) {
				v = n.Inputs[0]
				continue
			}
		}
		return v
	}
}

func sameNonUnitDims(a, b ir.Shape) bool {
	var x, y []int64
	for _, d := range a {
		if d != 1 {
			x = append(x, d)
		}
	}
	for _, d := range b {
		if d != 1 {
			y = append(y, d)
		}
	}
	return slices.Equal(x, y)
}
