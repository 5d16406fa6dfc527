package ref

import "github.com/irc-compiler/irc/ir"

// View ops copy (or share, where the data is unchanged) into row-major form.

func init() {
	share := func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		return in[0].withShape(n.Outputs[0].Type.Shape), nil
	}
	register("reshape", share)
	register("unsqueeze", share)
	register("squeeze", share)
	register("expand", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		gather(out, in[0], broadcastOffsets(out.Shape, in[0].Shape))
		return out, nil
	})
	register("transpose", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		x := in[0]
		out := NewTensor(n.Outputs[0].Type)
		perm := n.Attrs.Ints("perm")
		xs := strides(x.Shape)
		// Walk the output in order; the input stride of output axis i is
		// the stride of input axis perm[i].
		st := make([]int, len(perm))
		for i, p := range perm {
			st[i] = xs[p]
		}
		gather(out, x, stridedOffsets(out.Shape, st, 0))
		return out, nil
	})
	register("slice", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		x := in[0]
		out := NewTensor(n.Outputs[0].Type)
		ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(x.Shape))
		st := strides(x.Shape)
		base := int(n.Attrs.Int("start", 0)) * st[ax]
		st[ax] *= int(n.Attrs.Int("step", 1))
		gather(out, x, stridedOffsets(out.Shape, st, base))
		return out, nil
	})
	register("concat", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(out.Shape))
		outer := int(ir.Shape(out.Shape[:ax]).NumElements())
		inner := int(ir.Shape(out.Shape[ax+1:]).NumElements())
		rowOut := int(out.Shape[ax]) * inner
		at := 0
		for _, x := range in {
			row := int(x.Shape[ax]) * inner
			for o := 0; o < outer; o++ {
				for k := 0; k < row; k++ {
					out.copyFrom(o*rowOut+at+k, x, o*row+k)
				}
			}
			at += row
		}
		return out, nil
	})
}

// stridedOffsets lists, in row-major order over shape, base + sum(idx*st).
func stridedOffsets(shape ir.Shape, st []int, base int) []int {
	n := int(shape.NumElements())
	offs := make([]int, n)
	idx := make([]int, len(shape))
	cur := base
	for k := 0; k < n; k++ {
		offs[k] = cur
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			cur += st[a]
			if idx[a] < int(shape[a]) {
				break
			}
			cur -= st[a] * idx[a]
			idx[a] = 0
		}
	}
	return offs
}

func gather(out, x *Tensor, offs []int) {
	for i, o := range offs {
		out.copyFrom(i, x, o)
	}
}

func (t *Tensor) copyFrom(i int, x *Tensor, j int) {
	if t.isFloat() {
		t.F[i] = x.F[j]
	} else {
		t.I[i] = x.I[j]
	}
}
