package passes

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
)

// runAttention fuses causal attention over the KV caches, with the rotary
// embedding and the cache writes that feed it, into one attention op:
//
//	qr = rope(q, positions)         kr = rope(k, positions)
//	kc = cache_write(@k, kr, start) vc = cache_write(@v, v, start)
//	scores = grouped_matmul(qr, view(kc) transposed, positions) {causal_bound="columns"}
//	probs = masked_softmax(scores, positions) {causal=1, scale}
//	out = grouped_matmul(probs, vc, positions) {rows_first=1, causal_bound="reduction"}
//	  -> out = attention(q, k, v, @k, @v, positions, start) {scale, inv_freq}
//
// A device then reads each group's K/V once per step for all its query
// heads, never past the positions, in one launch (and a combine), instead
// of eight launches with the scores and probabilities in memory between
// them. Every bounded probs x V grouped_matmul is a candidate; the decline
// says which link of the chain is missing.
func runAttention(c *Context) {
	fuseEach(c, func(n *ir.Node) bool {
		return n.Op == GQAOp && n.Attrs.String(ir.CausalBoundAttr) == ir.CausalReduction
	}, fuseAttention)
}

func fuseAttention(r *rewriter, pv *ir.Node) error {
	probs, vc, pos := pv.Inputs[0], pv.Inputs[1], pv.Inputs[2]
	if pv.Attrs.Int("rows_first", 0) == 0 {
		return fmt.Errorf("the result is laid out [H, M, D]; the attention op gives rows first")
	}
	sm := defOp(probs, "masked_softmax")
	if sm == nil || sm.Attrs.Int("causal", 0) == 0 || sm.Inputs[1] != pos {
		return fmt.Errorf("%s is not a causal masked_softmax over the same positions", ir.Ref(probs))
	}
	if sm.Attrs.DType("dtype") != ir.Invalid && sm.Attrs.DType("dtype") != sm.Inputs[0].Type.DType {
		return fmt.Errorf("the softmax %s casts its result", ir.Ref(probs))
	}
	qk := defOp(sm.Inputs[0], GQAOp)
	if qk == nil || qk.Attrs.String(ir.CausalBoundAttr) != ir.CausalColumns || qk.Inputs[2] != pos {
		return fmt.Errorf("the softmax's scores %s are not a column-bounded grouped_matmul over the same positions", ir.Ref(sm.Inputs[0]))
	}
	kt := defOp(qk.Inputs[1], "view")
	if kt == nil || !transposesCache(kt) {
		return fmt.Errorf("the scores' keys %s are not the transpose of a [G, L, D] cache", ir.Ref(qk.Inputs[1]))
	}
	kw, vw := defOp(kt.Inputs[0], "cache_write"), defOp(vc, "cache_write")
	if kw == nil || vw == nil {
		return fmt.Errorf("K (%s) and V (%s) are not both written caches", ir.Ref(kt.Inputs[0]), ir.Ref(vc))
	}
	start := kw.Inputs[2]
	for _, w := range []*ir.Node{kw, vw} {
		if w.Attrs.Int("axis", 0) != 1 || w.Inputs[2] != start {
			return fmt.Errorf("the cache writes %s and %s do not both write rows (axis 1) at one position", ir.Ref(kw.Outputs[0]), ir.Ref(vw.Outputs[0]))
		}
	}
	qr, kr := defOp(qk.Inputs[0], "rope"), defOp(kw.Inputs[1], "rope")
	if qr == nil || kr == nil || qr.Inputs[1] != pos || kr.Inputs[1] != pos {
		return fmt.Errorf("q (%s) and the written k (%s) are not both rotated by the positions", ir.Ref(qk.Inputs[0]), ir.Ref(kw.Inputs[1]))
	}
	invFreq := qr.Attrs.Floats("inv_freq")
	if !slices.Equal(invFreq, kr.Attrs.Floats("inv_freq")) {
		return fmt.Errorf("q and k are rotated by different frequencies")
	}
	pattern := []*ir.Node{pv, sm, qk, kt, kw, vw, qr, kr}
	if err := r.absorbs(pattern, pv); err != nil {
		return err
	}
	q, k, v := qr.Inputs[0], kr.Inputs[0], vw.Inputs[1]
	attrs := ir.Attrs{"scale": sm.Attrs.Float("scale", 1), "inv_freq": invFreq}
	if err := r.replace(pv, "attention", attrs, q, k, v, kw.Inputs[0], vw.Inputs[0], pos, start); err != nil {
		return err
	}
	// The writes live on inside the op: their nodes go, side effect and all.
	r.drop(kw)
	r.drop(vw)
	return nil
}

// transposesCache reports whether view v reads a dense [G, L, D] value as
// [G, D, L] (the keys transposed for q . K^T).
func transposesCache(v *ir.Node) bool {
	base := v.Inputs[0].Type.Shape
	if len(base) != 3 || v.Attrs.Int("offset", 0) != 0 {
		return false
	}
	g, l, d := base[0], base[1], base[2]
	return slices.Equal(v.Attrs.Ints("shape"), []int64{g, d, l}) && slices.Equal(v.Attrs.Ints("strides"), []int64{l * d, 1, d})
}
