package ref

import (
	"math"

	"github.com/irc-compiler/irc/ir"
)

func init() {
	unary := map[string]func(float64) float64{
		"neg":     func(x float64) float64 { return -x },
		"sqrt":    math.Sqrt,
		"rsqrt":   func(x float64) float64 { return 1 / math.Sqrt(x) },
		"exp":     math.Exp,
		"sigmoid": func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
		"silu":    func(x float64) float64 { return x / (1 + math.Exp(-x)) },
		"cos":     math.Cos,
		"sin":     math.Sin,
	}
	for op, f := range unary {
		register(op, func(n *ir.Node, in []*Tensor) (*Tensor, error) { return mapUnary(n, in[0], f), nil })
	}
	register("pow", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		e := n.Attrs.Float("exponent", 1)
		if e == 2 {
			return mapUnary(n, in[0], func(x float64) float64 { return x * x }), nil
		}
		return mapUnary(n, in[0], func(x float64) float64 { return math.Pow(x, e) }), nil
	})
	binary := map[string]func(a, b float64) float64{
		"add":     func(a, b float64) float64 { return a + b },
		"sub":     func(a, b float64) float64 { return a - b },
		"mul":     func(a, b float64) float64 { return a * b },
		"div":     func(a, b float64) float64 { return a / b },
		"greater": func(a, b float64) float64 { return b2f(a > b) },
		"less":    func(a, b float64) float64 { return b2f(a < b) },
	}
	for op, f := range binary {
		register(op, func(n *ir.Node, in []*Tensor) (*Tensor, error) {
			out := NewTensor(n.Outputs[0].Type)
			oa := broadcastOffsets(out.Shape, in[0].Shape)
			ob := broadcastOffsets(out.Shape, in[1].Shape)
			for i := range oa {
				out.set(i, f(in[0].at(oa[i]), in[1].at(ob[i])))
			}
			return out, nil
		})
	}
	register("where", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		oc := broadcastOffsets(out.Shape, in[0].Shape)
		oa := broadcastOffsets(out.Shape, in[1].Shape)
		ob := broadcastOffsets(out.Shape, in[2].Shape)
		for i := range oc {
			if in[0].I[oc[i]] != 0 {
				out.set(i, in[1].at(oa[i]))
			} else {
				out.set(i, in[2].at(ob[i]))
			}
		}
		return out, nil
	})
	register("cast", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		for i := range out.Len() {
			out.set(i, in[0].at(i))
		}
		return out, nil
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// set stores x at element i: float32 for float tensors, truncated toward
// zero for integers (as torch's casts do), 0/1 for bools.
func (t *Tensor) set(i int, x float64) {
	switch {
	case t.isFloat():
		t.F[i] = float32(x)
	case t.DType == ir.Bool:
		t.I[i] = int64(b2f(x != 0))
	default:
		t.I[i] = int64(x)
	}
}

func mapUnary(n *ir.Node, x *Tensor, f func(float64) float64) *Tensor {
	out := NewTensor(n.Outputs[0].Type)
	for i := range out.Len() {
		out.set(i, f(x.at(i)))
	}
	return out
}
