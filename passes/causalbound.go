package passes

import (
	"fmt"
	"maps"

	"github.com/irc-compiler/irc/ir"
)

// runCausalBound records on each grouped_matmul that is one half of causal
// attention over a static cache the query positions that bound it, so the
// lowering reads the bound off the node instead of re-deriving it:
//
//	scores = grouped_matmul(q, k_t, positions) {causal_bound="columns"}
//	    every reader of scores is a causal masked_softmax(scores, positions)
//	    (one position per row): it never reads column n > positions[m]
//	out = grouped_matmul(probs, v, positions) {causal_bound="reduction"}
//	    probs = causal masked_softmax(x, positions): its entries past
//	    positions[m] are zero, so the sum over k may stop there
//
// Either way a step then costs what its positions need, not the whole cache.
// Every grouped_matmul without a bound is a candidate; one that is not causal
// attention is declined with the reason.
func runCausalBound(c *Context) {
	fuseEach(c, func(n *ir.Node) bool {
		_, bounded := n.Attrs[ir.CausalBoundAttr]
		return n.Op == GQAOp && !bounded
	}, boundCausal)
}

func boundCausal(r *rewriter, mm *ir.Node) error {
	a, out := mm.Inputs[0], mm.Outputs[0]
	rows := a.Type.Shape[1]
	// The weighted sum: a holds a causal softmax's probabilities.
	if sm := defOp(a, "masked_softmax"); sm != nil && sm.Attrs.Int("causal", 0) != 0 {
		pos := sm.Inputs[1]
		if err := rowPositions(r, mm, pos, rows); err != nil {
			return fmt.Errorf("a is the causal softmax %s, but its %v", ir.Ref(a), err)
		}
		return bindBound(r, mm, ir.CausalReduction, pos)
	}
	notProbs := fmt.Sprintf("not causal attention: a is %s, not a causal masked_softmax's probabilities", aSource(a))
	// The scores: read only by causal softmaxes, as their scores, with the
	// same positions, one per row.
	users := r.users[out]
	switch {
	case r.output[out]:
		return fmt.Errorf("%s, and the result is a graph output (every column is read)", notProbs)
	case len(users) == 0:
		return fmt.Errorf("%s, and nothing reads the result", notProbs)
	}
	var pos *ir.Value
	for _, u := range users {
		if u.Op != "masked_softmax" || u.Attrs.Int("causal", 0) == 0 || u.Inputs[0] != out {
			return fmt.Errorf("%s, and %s reads the result, not as the scores of a causal masked_softmax", notProbs, readerName(u))
		}
		if pos != nil && u.Inputs[1] != pos {
			return fmt.Errorf("the causal softmaxes reading the scores use different positions (%s, %s)", ir.Ref(pos), ir.Ref(u.Inputs[1]))
		}
		pos = u.Inputs[1]
	}
	if mm.Attrs.Int("rows_first", 0) != 0 {
		return fmt.Errorf("the scores are laid out rows first ([M, H, N]): the softmax's rows are heads, not the query rows")
	}
	if err := rowPositions(r, mm, pos, rows); err != nil {
		return fmt.Errorf("the scores feed the causal softmax %s, but its %v", ir.Ref(users[0].Outputs[0]), err)
	}
	return bindBound(r, mm, ir.CausalColumns, pos)
}

// rowPositions checks that pos can bound mm's rows: one i32 position per
// row of a, defined before mm (the scores' softmax comes after it).
func rowPositions(r *rewriter, mm *ir.Node, pos *ir.Value, rows int64) error {
	if !pos.Type.Shape.Equal(ir.Shape{rows}) {
		return fmt.Errorf("positions %s are %v, not one per row (%d)", ir.Ref(pos), pos.Type, rows)
	}
	if pos.Type.DType != ir.I32 {
		return fmt.Errorf("positions %s are %v, and a causal bound reads i32", ir.Ref(pos), pos.Type)
	}
	if pos.Kind == ir.Local && pos.Def != nil {
		if at, ok := r.index[pos.Def]; !ok || at > r.index[mm] {
			return fmt.Errorf("positions %s are computed after the matmul", ir.Ref(pos))
		}
	}
	return nil
}

// bindBound puts mm in its place with positions as a third operand and the
// bound recorded; every other attribute (rows_first) stays.
func bindBound(r *rewriter, mm *ir.Node, bound string, pos *ir.Value) error {
	attrs := maps.Clone(mm.Attrs)
	if attrs == nil {
		attrs = ir.Attrs{}
	}
	attrs[ir.CausalBoundAttr] = bound
	return r.replace(mm, GQAOp, attrs, mm.Inputs[0], mm.Inputs[1], pos)
}

// aSource names what a grouped_matmul's a operand is, for a decline.
func aSource(a *ir.Value) string {
	if n := defOp(a, "masked_softmax"); n != nil {
		return fmt.Sprintf("the non-causal softmax %s", ir.Ref(a))
	}
	return fmt.Sprintf("%s (%s)", ir.Ref(a), opName(a))
}

func readerName(n *ir.Node) string {
	if n.Op == "masked_softmax" && n.Attrs.Int("causal", 0) == 0 {
		return fmt.Sprintf("the non-causal softmax %s", ir.Ref(n.Outputs[0]))
	}
	return fmt.Sprintf("%s %s", n.Op, ir.Ref(n.Outputs[0]))
}
