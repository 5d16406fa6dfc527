package codegen

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// The attention ops: causal softmax, grouped matmuls (bounded by the query
// positions in causal attention), RoPE and the KV-cache write.

func (gl *graphLowering) lowerSoftmax(n *ir.Node) error {
	out := n.Outputs[0]
	x := n.Inputs[0]
	if n.Attrs.Int("causal", 0) == 0 {
		return fmt.Errorf("masked_softmax with an additive mask has no GPU kernel yet: only the causal (positions) form")
	}
	if out.Type.DType != x.Type.DType {
		return fmt.Errorf("masked_softmax kernel keeps the input dtype %s, the node gives %s", x.Type.DType, out.Type.DType)
	}
	args, err := gl.denseArgs(x, n.Inputs[1], out)
	if err != nil {
		return err
	}
	s := x.Type.Shape
	cols, rows := s[len(s)-1], s[len(s)-2]
	all := s.NumElements() / max(cols, 1)
	gl.launch(gl.typed("causal_softmax", out), [3]int{int(all) * wg}, [3]int{wg},
		append(args, intArg(rows), intArg(cols), floatArg(n.Attrs.Float("scale", 1)))...)
	return nil
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
	oa, _, err := gl.arg(out)
	if err != nil {
		return err
	}
	H, M, K := ta.Shape[0], ta.Shape[1], ta.Shape[2]
	G, N := tb.Shape[0], tb.Shape[2]
	limit, pos, err := gl.causalLimit(n)
	if err != nil {
		return err
	}
	so := []int64{M * N, N, 1} // [H, M, N]
	if n.Attrs.Int("rows_first", 0) != 0 {
		so = []int64{N, H * N, 1} // [M, H, N] read as (h, m, n)
	}
	gl.launch(gl.typed("grouped_matmul", out), [3]int{int(N), int(M), int(H)}, [3]int{32, 1, 1},
		aa, ba, oa, pos, intArg(limit), intArg(H), intArg(G), intArg(M), intArg(K), intArg(N),
		intArg(ta.Strides[0]), intArg(ta.Strides[1]), intArg(ta.Strides[2]),
		intArg(tb.Strides[0]), intArg(tb.Strides[1]), intArg(tb.Strides[2]),
		intArg(so[0]), intArg(so[1]), intArg(so[2]))
	return nil
}

// Limits of a grouped_matmul in causal attention (see the template).
const (
	limitNone = 0
	limitN    = 1 // the scores feeding a causal softmax: skip columns past pos[m]
	limitK    = 2 // the causal softmax's probabilities times V: sum keys up to pos[m]
)

// causalLimit finds whether grouped_matmul n is one half of causal
// attention, and the positions that bound it: the scores when every reader
// of the output is a causal masked_softmax with positions per row, the
// weighted sum when a is such a softmax's output. Otherwise the positions
// argument is a placeholder the kernel does not read.
func (gl *graphLowering) causalLimit(n *ir.Node) (int64, schedule.Arg, error) {
	rowsPos := func(sm *ir.Node, rows int64) *ir.Value {
		if sm == nil || sm.Op != "masked_softmax" || sm.Attrs.Int("causal", 0) == 0 {
			return nil
		}
		if p := sm.Inputs[1]; p.Type.Shape.NumElements() == rows {
			return p
		}
		return nil
	}
	rows := n.Inputs[0].Type.Shape[1]
	out := n.Outputs[0]
	var pos *ir.Value
	limit := int64(limitNone)
	if p := rowsPos(n.Inputs[0].Def, rows); p != nil {
		pos, limit = p, limitK
	} else if users := gl.users[out]; len(users) > 0 && !slices.Contains(gl.g.Outputs, out) {
		pos, limit = rowsPos(users[0], rows), limitN
		for _, u := range users {
			if u.Inputs[0] != out || rowsPos(u, rows) != pos {
				pos = nil
			}
		}
	}
	if pos == nil {
		return limitNone, schedule.Arg{Kind: schedule.TensorArg, Buf: arenaBuf}, nil
	}
	args, err := gl.denseArgs(pos)
	if err != nil {
		return 0, schedule.Arg{}, err
	}
	return limit, args[0], nil
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
	rest, err := gl.denseArgs(n.Inputs[1], out)
	if err != nil {
		return err
	}
	invFreq := n.Attrs.Floats("inv_freq")
	freqs := make([]float32, len(invFreq))
	for i, f := range invFreq {
		freqs[i] = float32(f)
	}
	fb := gl.constant("rope.inv_freq", schedule.F32, []int64{int64(len(freqs))}, runner.Encode(schedule.F32, freqs))
	H, T, D := tx.Shape[0], tx.Shape[1], tx.Shape[2]
	half := int64(len(invFreq))
	if 2*half != D {
		return fmt.Errorf("rope has %d frequencies for head_dim %d, want head_dim/2", half, D)
	}
	gl.launch(gl.typed("rope", out), [3]int{int(H * T * half)}, [3]int{wg},
		xa, rest[0], schedule.Arg{Kind: schedule.TensorArg, Buf: fb}, rest[1],
		intArg(H), intArg(T), intArg(D), intArg(half), intArg(tx.Strides[0]), intArg(tx.Strides[1]), intArg(tx.Strides[2]))
	return nil
}

func (gl *graphLowering) lowerCacheWrite(n *ir.Node) error {
	state, rows := n.Inputs[0], n.Inputs[1]
	s := state.Type.Shape
	if ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(s)); len(s) != 3 || ax != 1 {
		return fmt.Errorf("cache_write kernel wants a [heads, positions, head_dim] cache written along axis 1")
	}
	ca, err := gl.denseArgs(state)
	if err != nil {
		return err
	}
	xa, tx, err := gl.arg(rows)
	if err != nil {
		return err
	}
	pa, err := gl.denseArgs(n.Inputs[2])
	if err != nil {
		return err
	}
	G, L, D, count := s[0], s[1], s[2], tx.Shape[1]
	gl.launch(gl.typed("cache_write", state), [3]int{int(G * count * D)}, [3]int{wg},
		ca[0], xa, pa[0], intArg(G), intArg(L), intArg(D), intArg(count),
		intArg(tx.Strides[0]), intArg(tx.Strides[1]), intArg(tx.Strides[2]))
	return nil
}
