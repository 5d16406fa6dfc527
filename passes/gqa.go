package passes

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
)

// GQAOp is the grouped-query matmul the gqa pass produces.
const GQAOp = "grouped_matmul"

// runGQA finds attention matmuls whose K or V operand is transformers'
// repeat_kv,
//
//	reshape(expand(unsqueeze(kv, 1), [G, n, S, D]), [G*n, S, D])   (then maybe transposed to [G*n, D, S])
//
// and replaces the matmul with grouped_matmul(a, kv) (or of kv's transpose):
// the repeated tensor never exists, each of a group's n query heads indexes
// its K/V head in place. (Whether those heads share the K/V loads is the
// kernel's business: today's kernel reads K/V again for every query head.)
// A transpose of the result to [rows, heads, d] is absorbed
// as rows_first=1. Multi-head attention (rank-3 matmuls over equal heads)
// becomes grouped_matmul with groups of one, so attention has one form.
func runGQA(c *Context) {
	fuseEach(c, func(n *ir.Node) bool {
		return n.Op == "matmul" && (repeatKVOperand(n) != nil || plainAttention(n))
	}, func(r *rewriter, n *ir.Node) error {
		if repeatKVOperand(n) == nil {
			// Multi-head attention (no repeat_kv): groups of one head.
			return replaceGrouped(r, n, n.Inputs[0], n.Inputs[1])
		}
		return fuseGQA(r, n)
	})
}

// repeatKVOperand returns the reshape a matmul's b operand comes from,
// possibly through a transpose, or nil.
func repeatKVOperand(mm *ir.Node) *ir.Node {
	b := mm.Inputs[1]
	if t := defOp(b, "transpose"); t != nil {
		b = t.Inputs[0]
	}
	return defOp(b, "reshape")
}

func fuseGQA(r *rewriter, mm *ir.Node) error {
	a := mm.Inputs[0]
	t := defOp(mm.Inputs[1], "transpose")
	rep := mm.Inputs[1]
	if t != nil {
		if !slices.Equal(t.Attrs.Ints("perm"), []int64{0, 2, 1}) {
			return fmt.Errorf("b is transposed by %v, not by swapping its last two axes", t.Attrs.Ints("perm"))
		}
		rep = t.Inputs[0]
	}
	kv, err := repeatKVSource(rep)
	if err != nil {
		return fmt.Errorf("b is reshape %s: %v", ir.Ref(rep), err)
	}
	if len(a.Type.Shape) != 3 {
		return fmt.Errorf("a is %v, want [heads, rows, k]", a.Type.Shape)
	}
	b := kv
	if t != nil {
		b, err = r.insertBefore(mm, kv.Name+"_t", "transpose", ir.Attrs{"perm": []int64{0, 2, 1}}, kv)
		if err != nil {
			return err
		}
	}
	return replaceGrouped(r, mm, a, b)
}

// plainAttention reports whether mm is a batched matmul of rank-3 operands
// over the same heads (multi-head attention without repeat_kv).
func plainAttention(mm *ir.Node) bool {
	a, b := mm.Inputs[0].Type.Shape, mm.Inputs[1].Type.Shape
	return len(a) == 3 && len(b) == 3 && a[0] == b[0] && a[0] > 1
}

// replaceGrouped puts grouped_matmul(a, b) in mm's place, absorbing a
// following transpose to rows first.
func replaceGrouped(r *rewriter, mm *ir.Node, a, b *ir.Value) error {
	if err := r.replace(mm, GQAOp, nil, a, b); err != nil {
		return err
	}
	// Attention output: transposed to [rows, heads, d] for o_proj. Writing
	// it in that order saves the copy a later reshape would need.
	if t := r.soleUser(mm.Outputs[0]); t != nil && t.Op == "transpose" && slices.Equal(t.Attrs.Ints("perm"), []int64{1, 0, 2}) {
		return r.replace(t, GQAOp, ir.Attrs{"rows_first": int64(1)}, a, b)
	}
	return nil
}

// repeatKVSource returns kv when v = reshape(expand(unsqueeze(kv, 1))) repeats
// each of kv's heads n times in a row (transformers' repeat_kv).
func repeatKVSource(v *ir.Value) (*ir.Value, error) {
	rs := v.Def
	e := defOp(rs.Inputs[0], "expand")
	if e == nil {
		return nil, fmt.Errorf("the reshape reads %s, not an expand", opName(rs.Inputs[0]))
	}
	u := defOp(e.Inputs[0], "unsqueeze")
	if u == nil {
		return nil, fmt.Errorf("the expand reads %s, not a new size-1 axis", opName(e.Inputs[0]))
	}
	kv := u.Inputs[0]
	ks, es, out := kv.Type.Shape, e.Outputs[0].Type.Shape, v.Type.Shape
	if len(ks) != 3 {
		return nil, fmt.Errorf("K/V is %v, want [kv_heads, seq, head_dim]", ks)
	}
	if ax, _ := ir.NormAxis(u.Attrs.Int("axis", 0), 4); ax != 1 {
		return nil, fmt.Errorf("the size-1 axis is inserted at %d, not after the KV-head axis (1): not repeat_kv", ax)
	}
	if len(es) != 4 || es[0] != ks[0] || es[2] != ks[1] || es[3] != ks[2] {
		return nil, fmt.Errorf("expand to %v repeats more than the inserted axis", es)
	}
	if !slices.Equal(out, []int64{ks[0] * es[1], ks[1], ks[2]}) {
		return nil, fmt.Errorf("reshape to %v does not merge the (kv_heads, group) axes of %v", out, es)
	}
	return kv, nil
}
