package ref

import (
	"fmt"
	"math"

	"github.com/irc-compiler/irc/ir"
)

// Fused and layout ops. Each rounds to float32 where the primitive ops it
// replaces would store a float32 intermediate, so a fused graph computes what
// the primitive graph computes, up to summation order.

func init() {
	register("view", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		st := make([]int, len(out.Shape))
		for i, s := range n.Attrs.Ints("strides") {
			st[i] = int(s)
		}
		gather(out, in[0], stridedOffsets(out.Shape, st, int(n.Attrs.Int("offset", 0))))
		return out, nil
	})
	identity := func(n *ir.Node, in []*Tensor) (*Tensor, error) { return in[0], nil }
	register("copy", identity)
	register("transfer", identity)
	register("rms_norm", rmsNorm)
	register("silu_mul", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		for i, g := range in[0].F {
			out.F[i] = siluGate(g, in[1].F[i])
		}
		return out, nil
	})
	register("masked_softmax", maskedSoftmax)
	register("grouped_matmul", groupedMatmul)
	register("rope", rope)
	register("linear", linear)
}

// linear is matmul against the transposed weight, then the bias and the
// residual added in that order, each sum rounded to float32 as the add ops
// it replaces would. The norm prologue is rms_norm on x first; the glu
// epilogue is silu_mul of the two halves, as the unfused graph computes.
func linear(n *ir.Node, in []*Tensor) (*Tensor, error) {
	x, w := in[0], in[1]
	bias, residual, norm, _ := ir.LinearInputs(n.Attrs)
	k, nn := int(w.Shape[1]), int(w.Shape[0])
	if norm >= 0 {
		normed := &ir.Node{Op: "rms_norm", Attrs: ir.Attrs{"eps": n.Attrs.Float("eps", 0)}, Outputs: []*ir.Value{{Type: x.Type()}}}
		var err error
		if x, err = rmsNorm(normed, []*Tensor{x, in[norm]}); err != nil {
			return nil, err
		}
	}
	wt := NewTensor(ir.TensorType{DType: w.DType, Shape: ir.Shape{int64(k), int64(nn)}})
	gather(wt, w, stridedOffsets(wt.Shape, []int{1, k}, 0))
	rows := x.Len() / max(k, 1)
	mm := &ir.Node{Op: "matmul", Outputs: []*ir.Value{{Type: ir.TensorType{DType: x.DType, Shape: ir.Shape{int64(rows), int64(nn)}}}}}
	out, err := matmul(mm, []*Tensor{x.withShape(ir.Shape{int64(rows), int64(k)}), wt})
	if err != nil {
		return nil, err
	}
	if bias >= 0 {
		b := in[bias]
		for i := range out.F {
			out.F[i] += b.F[i%nn]
		}
	}
	if n.Attrs.Int("glu", 0) != 0 {
		half := nn / 2
		gated := NewTensor(n.Outputs[0].Type)
		for r := 0; r < rows; r++ {
			for j := 0; j < half; j++ {
				g, u := out.F[r*nn+j], out.F[r*nn+half+j]
				gated.F[r*half+j] = siluGate(g, u)
			}
		}
		out = gated
	}
	if residual >= 0 {
		r := in[residual]
		for i := range out.F {
			out.F[i] = r.F[i] + out.F[i]
		}
	}
	return out.withShape(n.Outputs[0].Type.Shape), nil
}

// siluGate is SwiGLU's gate, silu(g) * u, with silu rounded to float32.
func siluGate(g, u float32) float32 {
	return float32(float64(g)/(1+math.Exp(-float64(g)))) * u
}

// rmsNorm normalises each row of the last axis; the mean of squares is
// accumulated in float64 as the mean op does.
func rmsNorm(n *ir.Node, in []*Tensor) (*Tensor, error) {
	x := in[0]
	out := NewTensor(n.Outputs[0].Type)
	d := int(x.Shape[len(x.Shape)-1])
	eps := float32(n.Attrs.Float("eps", 0))
	for r := 0; r+d <= len(x.F) && d > 0; r += d {
		row := x.F[r : r+d]
		var ss float64
		for _, v := range row {
			sq := float32(float64(v) * float64(v))
			ss += float64(sq)
		}
		mean := float32(ss / float64(d))
		inv := float32(1 / math.Sqrt(float64(mean+eps)))
		for i, v := range row {
			y := v * inv
			if len(in) == 2 {
				y = in[1].F[i] * y
			}
			out.F[r+i] = y
		}
	}
	return out, nil
}

func maskedSoftmax(n *ir.Node, in []*Tensor) (*Tensor, error) {
	x, m := in[0], in[1]
	scale := float32(n.Attrs.Float("scale", 1))
	causal := n.Attrs.Int("causal", 0) != 0
	logits := NewTensor(ir.TensorType{DType: ir.F32, Shape: x.Shape})
	cols := int(x.Shape[len(x.Shape)-1])
	rows := int(x.Shape[len(x.Shape)-2])
	var maskAt []int
	if !causal {
		maskAt = broadcastOffsets(x.Shape, m.Shape)
	}
	for i, v := range x.F {
		s := v * scale
		switch {
		case !causal:
			s += m.F[maskAt[i]]
		case int64(i%cols) > m.I[i/cols%rows]:
			s = float32(math.Inf(-1))
		}
		logits.F[i] = s
	}
	sm := &ir.Node{Op: "softmax", Attrs: ir.Attrs{"axis": int64(-1)}, Outputs: n.Outputs}
	return softmax(sm, []*Tensor{logits})
}

// groupedMatmul runs each group of a's heads against the one head of b they share.
func groupedMatmul(n *ir.Node, in []*Tensor) (*Tensor, error) {
	a, b := in[0], in[1]
	if bound := n.Attrs.String(ir.CausalBoundAttr); bound != "" {
		return boundedGroupedMatmul(n, a, b, in[2], bound)
	}
	h, g := a.Shape[0], b.Shape[0]
	// Viewing a as [G, H/G*M, K] puts every group's rows against its own b head.
	a3 := a.withShape(ir.Shape{g, h / g * a.Shape[1], a.Shape[2]})
	mm := &ir.Node{Op: "matmul", Outputs: []*ir.Value{{Type: ir.TensorType{DType: a.DType, Shape: ir.Shape{g, h / g * a.Shape[1], b.Shape[2]}}}}}
	out, err := matmul(mm, []*Tensor{a3, b})
	if err != nil || n.Attrs.Int("rows_first", 0) == 0 {
		return out.withShape(n.Outputs[0].Type.Shape), err
	}
	// [H, M, N] -> [M, H, N]
	m, nn := int(a.Shape[1]), int(b.Shape[2])
	t := NewTensor(n.Outputs[0].Type)
	gather(t, out, stridedOffsets(t.Shape, []int{nn, m * nn, 1}, 0))
	return t, nil
}

// boundedGroupedMatmul is grouped_matmul with its causal bound taken
// literally, row m bounded by p = positions[m]: with "columns" the outputs
// n > p are 0 (a device may leave them unwritten; the causal softmax never
// reads them), with "reduction" the sum runs over k < min(K, p+1). What is
// computed is summed in the order matmul sums it, so where the skipped terms
// are zero (probabilities past p) the result is bit for bit the unbounded one.
func boundedGroupedMatmul(n *ir.Node, a, b, pos *Tensor, bound string) (*Tensor, error) {
	h, g := int(a.Shape[0]), int(b.Shape[0])
	m, k, nn := int(a.Shape[1]), int(a.Shape[2]), int(b.Shape[2])
	if bound != ir.CausalColumns && bound != ir.CausalReduction {
		return nil, fmt.Errorf("grouped_matmul: unknown %s %q", ir.CausalBoundAttr, bound)
	}
	out := NewTensor(ir.TensorType{DType: a.DType, Shape: ir.Shape{int64(h), int64(m), int64(nn)}})
	limit := func(p int64, size int) int { return int(min(max(p+1, 0), int64(size))) }
	work := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			head, i := r/m, r%m
			kEnd, nEnd := k, nn
			if bound == ir.CausalColumns {
				nEnd = limit(pos.I[i], nn)
			} else {
				kEnd = limit(pos.I[i], k)
			}
			arow := a.F[r*k : r*k+kEnd]
			bmat := b.F[head/(h/g)*k*nn : (head/(h/g)+1)*k*nn]
			crow := out.F[r*nn : r*nn+nEnd]
			for kk, av := range arow {
				brow := bmat[kk*nn : kk*nn+nEnd]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
	rows := h * m
	parallelRows(rows, rows*k*nn, work)
	if n.Attrs.Int("rows_first", 0) == 0 {
		return out, nil
	}
	// [H, M, N] -> [M, H, N]
	t := NewTensor(n.Outputs[0].Type)
	gather(t, out, stridedOffsets(t.Shape, []int{nn, m * nn, 1}, 0))
	return t, nil
}

// rope rotates pairs (i, i+d/2) of each row by positions[t]*inv_freq[i],
// rounding the angle, cos and sin to float32 as the primitive graph does.
func rope(n *ir.Node, in []*Tensor) (*Tensor, error) {
	x, pos := in[0], in[1]
	out := NewTensor(n.Outputs[0].Type)
	invFreq := n.Attrs.Floats("inv_freq")
	d := len(x.Shape) - 1
	dim, half, rows := int(x.Shape[d]), len(invFreq), int(x.Shape[d-1])
	cos, sin := make([]float32, rows*half), make([]float32, rows*half)
	for t := range rows {
		p := float64(float32(pos.I[t]))
		for i, f := range invFreq {
			angle := float64(float32(p * float64(float32(f))))
			cos[t*half+i], sin[t*half+i] = float32(math.Cos(angle)), float32(math.Sin(angle))
		}
	}
	for r := 0; r*dim < len(x.F); r++ {
		t := r % rows
		row, o := x.F[r*dim:(r+1)*dim], out.F[r*dim:(r+1)*dim]
		for i := range half {
			c, s := cos[t*half+i], sin[t*half+i]
			lo, hi := row[i], row[i+half]
			// Explicit conversions keep Go from fusing these into FMAs.
			o[i] = float32(lo*c) + float32(-hi*s)
			o[i+half] = float32(hi*c) + float32(lo*s)
		}
	}
	return out, nil
}
