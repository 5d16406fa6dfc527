package passes

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// maskFloor: an additive mask value at or below it counts as "masked"
// (transformers uses finfo(dtype).min, others -inf).
const maskFloor = -1e30

// f16Lowest is finfo(float16).min, transformers' mask value in an f16
// model: far above maskFloor, but in f16 arithmetic exp(x - 65504) of any
// score is 0 all the same.
const f16Lowest = -65504

// masks reports whether adding lo, a mask value of dtype d, removes a key.
func masks(lo float64, d ir.DType) bool {
	return lo <= maskFloor || (d == ir.F16 && lo <= f16Lowest)
}

// runMaskedSoftmax fuses, at every softmax over the last axis,
//
//	p = cast(softmax(cast(x*scale + mask, f32)), dtype)   (casts optional)
//
// into masked_softmax(x, mask) {scale}. When the mask is the causal one
// (where(iota_keys > positions, min, 0)), the op reads the positions instead
// and never the [rows, keys] mask tensor.
func runMaskedSoftmax(c *Context) {
	fuseEach(c, func(n *ir.Node) bool { return n.Op == "softmax" }, fuseMaskedSoftmax)
}

func fuseMaskedSoftmax(r *rewriter, sm *ir.Node) error {
	rank := len(sm.Outputs[0].Type.Shape)
	if !lastAxis([]int64{sm.Attrs.Int("axis", -1)}, rank) {
		return fmt.Errorf("softmax runs over axis %d, not the last", sm.Attrs.Int("axis", -1))
	}
	if rank < 2 {
		return fmt.Errorf("softmax of rank %d has no rows", rank)
	}
	pattern := []*ir.Node{sm}
	logits, casts := stripFloatCasts(sm.Inputs[0])
	pattern = append(pattern, casts...)
	add := defOp(logits, "add")
	if add == nil {
		return fmt.Errorf("softmax input is %s, not scores + mask (a mask that is not additive)", opName(logits))
	}
	pattern = append(pattern, add)
	isScaled := func(v *ir.Value) bool { _, _, ok := scaledScores(v); return ok }
	scoresV, mask, ok := operands(add, isScaled)
	if !ok {
		// No scale: the scores have the sum's shape (the mask may broadcast);
		// when both do, a where-built mask, else the second operand, is the mask.
		scoresV, mask = add.Inputs[0], add.Inputs[1]
		full0, full1 := scoresV.Type.Shape.Equal(logits.Type.Shape), mask.Type.Shape.Equal(logits.Type.Shape)
		if (!full0 && full1) || (full0 && full1 && defOp(scoresV, "where") != nil) {
			scoresV, mask = mask, scoresV
		}
	}
	x, scale := scoresV, 1.0
	if s, k, ok := scaledScores(scoresV); ok {
		x, scale = s, k
		pattern = append(pattern, scoresV.Def)
	}
	if !x.Type.Shape.Equal(logits.Type.Shape) {
		return fmt.Errorf("scores %v are broadcast to %v by the mask", x.Type.Shape, logits.Type.Shape)
	}
	root := sm
	if cast := r.soleUser(sm.Outputs[0]); cast != nil && cast.Op == "cast" {
		root = cast
		pattern = append(pattern, cast)
	}
	if err := r.absorbs(pattern, root); err != nil {
		return err
	}
	a := ir.Attrs{"scale": scale}
	if out := root.Outputs[0].Type.DType; out != x.Type.DType {
		a["dtype"] = out
	}
	second := mask
	if pos := causalPositions(mask, x); pos != nil {
		a["causal"] = int64(1)
		second = pos
	}
	if err := r.replace(root, "masked_softmax", a, x, second); err != nil {
		return err
	}
	r.takeName(root.Outputs[0], sm.Outputs[0])
	return nil
}

// scaledScores returns (s, k) when v = s*k, k*s or s/k with k a scalar constant.
func scaledScores(v *ir.Value) (*ir.Value, float64, bool) {
	if n := defOp(v, "mul"); n != nil {
		for i := range 2 {
			if k, ok := scalar(n.Inputs[i]); ok && len(n.Inputs[i].Type.Shape) == 0 {
				return n.Inputs[1-i], k, true
			}
		}
	}
	if n := defOp(v, "div"); n != nil {
		if k, ok := scalar(n.Inputs[1]); ok && len(n.Inputs[1].Type.Shape) == 0 && k != 0 {
			return n.Inputs[0], 1 / k, true
		}
	}
	return nil, 0, false
}

// causalPositions returns p when mask = where(keys > p[:, None], min, 0)
// (or where(p[:, None] < keys, ...)) with keys 0, 1, ... along x's last axis
// and p the position of each of x's rows.
func causalPositions(mask, x *ir.Value) *ir.Value {
	w := defOp(mask, "where")
	if w == nil {
		return nil
	}
	lo, ok1 := scalar(w.Inputs[1])
	zero, ok2 := scalar(w.Inputs[2])
	if !ok1 || !ok2 || zero != 0 || !masks(lo, w.Outputs[0].Type.DType) {
		return nil
	}
	keys, rowPos := (*ir.Value)(nil), (*ir.Value)(nil)
	if g := defOp(w.Inputs[0], "greater"); g != nil {
		keys, rowPos = g.Inputs[0], g.Inputs[1]
	} else if l := defOp(w.Inputs[0], "less"); l != nil {
		keys, rowPos = l.Inputs[1], l.Inputs[0]
	} else {
		return nil
	}
	xs := x.Type.Shape
	cols, rows := xs[len(xs)-1], xs[len(xs)-2]
	if !isKeyIndex(keys, cols) {
		return nil
	}
	// rowPos must be p[:, None]: p along the rows, one column.
	rs := rowPos.Type.Shape
	if len(rs) < 2 || rs[len(rs)-1] != 1 || rs[len(rs)-2] != rows || rs.NumElements() != rows {
		return nil
	}
	p := stripUnitViews(rowPos)
	if !p.Type.DType.IsInt() || len(p.Type.Shape) != 1 || p.Type.Shape[0] != rows || !keys.Type.DType.IsInt() {
		return nil
	}
	return p
}

// isKeyIndex reports whether v holds 0, 1, ..., cols-1 along its last axis
// and has size 1 elsewhere: an iota, or the constant const_fold made of one.
func isKeyIndex(v *ir.Value, cols int64) bool {
	s := v.Type.Shape
	if len(s) == 0 || s[len(s)-1] != cols || s.NumElements() != cols {
		return false
	}
	if n := defOp(v, "iota"); n != nil {
		return lastAxis([]int64{n.Attrs.Int("axis", 0)}, len(s))
	}
	if n := defOp(v, "constant"); n != nil {
		vals := n.Attrs.Floats("value")
		if int64(len(vals)) != cols {
			return cols == 1 && len(vals) == 1 && vals[0] == 0
		}
		for i, x := range vals {
			if x != float64(i) {
				return false
			}
		}
		return true
	}
	return false
}
