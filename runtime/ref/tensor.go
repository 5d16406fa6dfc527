// Package ref is the reference CPU executor: a pure-Go interpreter of every
// IR op in float32 arithmetic. It is the oracle every other backend is
// checked against, so it favours plain, obviously correct loops over speed
// (matmul alone is parallel).
//
// Numerics: every floating-point tensor is held in float32 whatever its
// declared dtype (bf16, f16): declared dtypes say how a device stores a
// value, and the oracle keeps the extra precision. Casts between float types
// are therefore exact copies here; weights are decoded from their stored
// dtype to float32 once, exactly.
package ref

import (
	"fmt"
	"math"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
)

// Tensor is a dense row-major tensor. Floats live in F, integers and bools
// (0/1) in I.
type Tensor struct {
	DType ir.DType
	Shape ir.Shape
	F     []float32
	I     []int64
}

// NewTensor allocates a zero tensor of type t, which must be a verified
// type that fits in memory: the evaluators call it for node results once
// RunGraph or EvalNode has checked the node (checkNode). Alloc checks.
func NewTensor(t ir.TensorType) *Tensor {
	n := t.Shape.NumElements()
	x := &Tensor{DType: t.DType, Shape: t.Shape.Clone()}
	if floatStorage(t.DType) {
		x.F = make([]float32, n)
	} else {
		x.I = make([]int64, n)
	}
	return x
}

// Alloc allocates a zero tensor of type t for the value what names, or
// refuses with one line naming it when its element count overflows or it
// does not fit in this process's memory budget.
func Alloc(what string, t ir.TensorType) (*Tensor, error) {
	n, ok := refBytes(t)
	if !ok {
		return nil, fmt.Errorf("%s: %v has more elements than int64 can count", what, t)
	}
	if err := budget.Check(fmt.Sprintf("%s (%v, held as %s)", what, t, refStorage(t.DType)), n); err != nil {
		return nil, err
	}
	return NewTensor(t), nil
}

// refBytes is what ref holds for a tensor of type t: float32 for every
// float type, int64 for integers and bools.
func refBytes(t ir.TensorType) (int64, bool) {
	n, ok := t.Shape.Elements()
	if !ok {
		return 0, false
	}
	return budget.Bytes(n, refElementSize(t.DType))
}

func refElementSize(d ir.DType) int64 {
	if floatStorage(d) {
		return 4
	}
	return 8
}

func refStorage(d ir.DType) string {
	if floatStorage(d) {
		return "float32"
	}
	return "int64"
}

// checkAbove is the size below which a node's allocations are not checked
// against the budget (reading it costs two /proc reads): the model's
// declared size passed the loader's budget check, so what slips under it is
// small.
const checkAbove = 64 << 20

// checkNode refuses, naming the value, a node whose evaluation would
// allocate more than this process can: its result as ref holds it, and the
// evaluators' scratch, up to an int (8 bytes) per element of the result
// and of each operand computed by the graph (index tables, float32 copies);
// weights and states are resident and cost nothing, but for linear's
// transposed copy of its weight (float32 values and an index each), and
// cache_write returns its state in place. Nothing is allocated yet.
func checkNode(n *ir.Node) error {
	need, ok := int64(0), true
	add := func(t ir.TensorType, valueBytes, perElement int64) {
		e, good := t.Shape.Elements()
		b, good2 := budget.Bytes(e, perElement)
		if !good || !good2 || need > math.MaxInt64-b || need+b > math.MaxInt64-valueBytes {
			ok = false
			return
		}
		need += b + valueBytes
	}
	var biggest *ir.Value
	biggestBytes := int64(-1)
	if n.Op != "cache_write" {
		for _, o := range n.Outputs {
			b, good := refBytes(o.Type)
			if !good {
				ok = false
				continue
			}
			add(o.Type, b, 8)
			if b > biggestBytes {
				biggest, biggestBytes = o, b
			}
		}
	}
	for i, in := range n.Inputs {
		switch {
		case in.Kind != ir.WeightValue && in.Kind != ir.StateValue:
			add(in.Type, 0, 8)
		case n.Op == "linear" && i == 1:
			add(in.Type, 0, 4+8)
		}
	}
	name := "node " + n.Op
	if biggest != nil {
		name = fmt.Sprintf("value %%%s (%v, held as %s)", biggest.Name, biggest.Type, refStorage(biggest.Type.DType))
	}
	if !ok {
		return fmt.Errorf("%s: its size with the evaluator's scratch overflows int64", name)
	}
	if need < checkAbove {
		return nil
	}
	return budget.Check(name+" with the evaluator's scratch", need)
}

// Floats wraps float32 data as a tensor of dtype d.
func Floats(d ir.DType, shape ir.Shape, data []float32) *Tensor {
	return &Tensor{DType: d, Shape: shape.Clone(), F: data}
}

// Ints wraps integer data as a tensor of dtype d.
func Ints(d ir.DType, shape ir.Shape, data []int64) *Tensor {
	return &Tensor{DType: d, Shape: shape.Clone(), I: data}
}

// Type returns the tensor's dtype and shape.
func (t *Tensor) Type() ir.TensorType { return ir.TensorType{DType: t.DType, Shape: t.Shape} }

// Len is the number of elements.
func (t *Tensor) Len() int { return int(t.Shape.NumElements()) }

// isFloat reports where the data lives.
func (t *Tensor) isFloat() bool { return floatStorage(t.DType) }

// floatStorage reports whether ref holds a tensor of dtype d as float32:
// the float types, and the quantized weights (q8_0, q4_0), held
// dequantized (exactly) as every kernel reads them.
func floatStorage(d ir.DType) bool { return d.IsFloat() || d.IsQuantized() }

// at reads element i as a float64, whatever the storage.
func (t *Tensor) at(i int) float64 {
	if t.isFloat() {
		return float64(t.F[i])
	}
	return float64(t.I[i])
}

// withShape returns a tensor sharing t's data under another shape.
func (t *Tensor) withShape(s ir.Shape) *Tensor {
	return &Tensor{DType: t.DType, Shape: s.Clone(), F: t.F, I: t.I}
}

func checkType(what string, t *Tensor, want ir.TensorType) error {
	if t == nil {
		return fmt.Errorf("%s is missing (want %v)", what, want)
	}
	if !t.Type().Equal(want) {
		return fmt.Errorf("%s is %v, want %v", what, t.Type(), want)
	}
	if n := t.Len(); (t.isFloat() && len(t.F) != n) || (!t.isFloat() && len(t.I) != n) {
		return fmt.Errorf("%s holds the wrong number of elements for %v", what, want)
	}
	return nil
}

// strides returns row-major strides of s.
func strides(s ir.Shape) []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= int(s[i])
	}
	return st
}

// broadcastOffsets maps every element of the out shape to the offset of the
// element of a tensor of shape in that NumPy broadcasting reads there.
func broadcastOffsets(out, in ir.Shape) []int {
	n := int(out.NumElements())
	offs := make([]int, n)
	inSt := strides(in)
	// Strides of in aligned right against out; broadcast axes read stride 0.
	st := make([]int, len(out))
	off := len(out) - len(in)
	for i := range in {
		if in[i] != 1 {
			st[off+i] = inSt[i]
		}
	}
	idx := make([]int, len(out))
	cur := 0
	for k := 0; k < n; k++ {
		offs[k] = cur
		for a := len(out) - 1; a >= 0; a-- {
			idx[a]++
			cur += st[a]
			if idx[a] < int(out[a]) {
				break
			}
			cur -= st[a] * idx[a]
			idx[a] = 0
		}
	}
	return offs
}

// Float64s returns every element as a float64, whatever the storage.
func (t *Tensor) Float64s() []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.at(i)
	}
	return out
}
