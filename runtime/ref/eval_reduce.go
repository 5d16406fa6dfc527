package ref

import (
	"math"
	"slices"

	"github.com/irc-compiler/irc/ir"
)

func init() {
	register("sum", func(n *ir.Node, in []*Tensor) (*Tensor, error) { return reduce(n, in[0], "sum") })
	register("mean", func(n *ir.Node, in []*Tensor) (*Tensor, error) { return reduce(n, in[0], "mean") })
	register("max", func(n *ir.Node, in []*Tensor) (*Tensor, error) { return reduce(n, in[0], "max") })
	register("softmax", softmax)
}

// reduce folds the reduced axes in float64 and stores the result.
func reduce(n *ir.Node, x *Tensor, kind string) (*Tensor, error) {
	axes, err := ir.ReduceAxes(n.Attrs, len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := NewTensor(n.Outputs[0].Type)
	// The output viewed with the reduced axes kept as size 1, broadcast back
	// over the input, gives each input element its accumulator.
	kept := x.Shape.Clone()
	count := 1
	for _, a := range axes {
		count *= int(kept[a])
		kept[a] = 1
	}
	offs := broadcastOffsets(x.Shape, kept)
	acc := make([]float64, out.Len())
	if kind == "max" {
		for i := range acc {
			acc[i] = math.Inf(-1)
		}
	}
	for i, o := range offs {
		v := x.at(i)
		if kind == "max" {
			acc[o] = math.Max(acc[o], v)
		} else {
			acc[o] += v
		}
	}
	for i, v := range acc {
		if kind == "mean" {
			v /= float64(count)
		}
		out.set(i, v)
	}
	return out, nil
}

func softmax(n *ir.Node, in []*Tensor) (*Tensor, error) {
	x := in[0]
	ax, err := ir.NormAxis(n.Attrs.Int("axis", -1), len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := NewTensor(n.Outputs[0].Type)
	size := int(x.Shape[ax])
	inner := int(ir.Shape(x.Shape[ax+1:]).NumElements())
	outer := x.Len() / max(size*inner, 1)
	if size == 0 {
		return out, nil
	}
	row := make([]float64, size)
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*size*inner + j
			for k := range row {
				row[k] = x.at(base + k*inner)
			}
			m := slices.Max(row)
			var sum float64
			for k, v := range row {
				row[k] = math.Exp(v - m)
				sum += row[k]
			}
			for k, v := range row {
				out.set(base+k*inner, v/sum)
			}
		}
	}
	return out, nil
}
