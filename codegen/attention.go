package codegen

import (
	"fmt"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// The attention ops: causal softmax, grouped matmuls (bounded by the query
// positions where the causal_bound pass said so), RoPE and the KV-cache
// write.

func (gl *graphLowering) lowerSoftmax(n *ir.Node) error {
	out := n.Outputs[0]
	x := n.Inputs[0]
	if n.Attrs.Int("causal", 0) == 0 {
		return fmt.Errorf("masked_softmax with an additive mask has no GPU kernel yet: only the causal (positions) form")
	}
	if out.Type.DType != x.Type.DType {
		return fmt.Errorf("masked_softmax kernel keeps the input dtype %s, the node gives %s", x.Type.DType, out.Type.DType)
	}
	s := x.Type.Shape
	cols, rows := s[len(s)-1], s[len(s)-2]
	all := s.NumElements() / max(cols, 1)
	args := kernels.Args{"rows": intArg(rows), "cols": intArg(cols), "scale": floatArg(n.Attrs.Float("scale", 1))}
	if err := gl.bindDense(args, operand{"x", x}, operand{"pos", n.Inputs[1]}, operand{"out", out}); err != nil {
		return err
	}
	return gl.launchTyped(kernels.CausalSoftmax, out, [3]int{int(all)}, args)
}

func (gl *graphLowering) lowerGroupedMatmul(n *ir.Node) error {
	out := n.Outputs[0]
	aa, ta, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	ba, tb, err := gl.arg(n.Inputs[1])
	if err != nil {
		return err
	}
	oa, err := gl.dense1(out)
	if err != nil {
		return err
	}
	H, M, K := ta.Shape[0], ta.Shape[1], ta.Shape[2]
	G, N := tb.Shape[0], tb.Shape[2]
	so := []int64{M * N, N, 1} // [H, M, N]
	if n.Attrs.Int("rows_first", 0) != 0 {
		so = []int64{N, H * N, 1} // [M, H, N] read as (h, m, n)
	}
	args := kernels.Args{"a": aa, "b": ba, "out": oa, "H": intArg(H), "G": intArg(G), "M": intArg(M), "K": intArg(K), "N": intArg(N),
		"sa0": intArg(ta.Strides[0]), "sa1": intArg(ta.Strides[1]), "sa2": intArg(ta.Strides[2]),
		"sb0": intArg(tb.Strides[0]), "sb1": intArg(tb.Strides[1]), "sb2": intArg(tb.Strides[2]),
		"so0": intArg(so[0]), "so1": intArg(so[1]), "so2": intArg(so[2])}
	if err := gl.causalBound(n, args); err != nil {
		return err
	}
	return gl.launchTyped(kernels.GroupedMatmul, out, [3]int{int(N), int(M), int(H)}, args)
}

// causalBound passes the bound the causal_bound pass recorded on a grouped
// matmul (attribute causal_bound, positions as the third operand), or no
// bound, with a positions argument the kernel does not read.
func (gl *graphLowering) causalBound(n *ir.Node, args kernels.Args) error {
	bound := n.Attrs.String(ir.CausalBoundAttr)
	if bound == "" {
		args["bound"] = intArg(kernels.BoundNone.Value)
		args["pos"] = schedule.T(arenaBuf, 0)
		return nil
	}
	code, ok := kernels.Code([]kernels.Const{kernels.BoundColumns, kernels.BoundReduction}, bound)
	if !ok || len(n.Inputs) < 3 {
		return fmt.Errorf("%s=%q has no kernel (%s or %s, with the positions as third operand)", ir.CausalBoundAttr, bound, ir.CausalColumns, ir.CausalReduction)
	}
	args["bound"] = intArg(code)
	return gl.bindDense(args, operand{"pos", n.Inputs[2]})
}

func (gl *graphLowering) lowerRope(n *ir.Node) error {
	out := n.Outputs[0]
	xa, tx, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	if len(tx.Shape) != 3 {
		return fmt.Errorf("rope kernel wants x as [heads, tokens, head_dim], got %v", tx.Shape)
	}
	invFreq := n.Attrs.Floats("inv_freq")
	freqs := make([]float32, len(invFreq))
	for i, f := range invFreq {
		freqs[i] = float32(f)
	}
	fb := gl.constant("rope.inv_freq", schedule.F32, []int64{int64(len(freqs))}, schedule.Encode(schedule.F32, freqs))
	H, T, D := tx.Shape[0], tx.Shape[1], tx.Shape[2]
	half := int64(len(invFreq))
	if 2*half != D {
		return fmt.Errorf("rope has %d frequencies for head_dim %d, want head_dim/2", half, D)
	}
	args := kernels.Args{"x": xa, "inv_freq": schedule.T(fb, 0), "H": intArg(H), "Tn": intArg(T), "D": intArg(D), "pairs": intArg(half),
		"sx0": intArg(tx.Strides[0]), "sx1": intArg(tx.Strides[1]), "sx2": intArg(tx.Strides[2])}
	if err := gl.bindDense(args, operand{"pos", n.Inputs[1]}, operand{"out", out}); err != nil {
		return err
	}
	return gl.launchTyped(kernels.Rope, out, [3]int{int(H * T * half)}, args)
}

func (gl *graphLowering) lowerCacheWrite(n *ir.Node) error {
	state, rows := n.Inputs[0], n.Inputs[1]
	s := state.Type.Shape
	if ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(s)); len(s) != 3 || ax != 1 {
		return fmt.Errorf("cache_write kernel wants a [heads, positions, head_dim] cache written along axis 1")
	}
	xa, tx, err := gl.arg(rows)
	if err != nil {
		return err
	}
	G, L, D, count := s[0], s[1], s[2], tx.Shape[1]
	args := kernels.Args{"x": xa, "G": intArg(G), "L": intArg(L), "D": intArg(D), "count": intArg(count),
		"sx0": intArg(tx.Strides[0]), "sx1": intArg(tx.Strides[1]), "sx2": intArg(tx.Strides[2])}
	if err := gl.bindDense(args, operand{"cache", state}, operand{"pos", n.Inputs[2]}); err != nil {
		return err
	}
	return gl.launchTyped(kernels.CacheWrite, state, [3]int{int(G * count * D)}, args)
}
