package ir

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/ir/budget"
)

// Shape is a static tensor shape; an empty shape is a scalar.
type Shape []int64

// NumElements is the product of the dimensions (1 for a scalar). The
// verifier refuses every shape whose product overflows (CheckType), so on a
// verified model it is exact; on shapes read from a file use Elements.
func (s Shape) NumElements() int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}

// Elements is the product of the dimensions, or false when a dimension is
// negative or the product overflows int64.
func (s Shape) Elements() (int64, bool) { return budget.Elements(s...) }

// Equal reports whether two shapes are identical.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Clone returns a copy that does not alias s.
func (s Shape) Clone() Shape { return append(Shape{}, s...) }

// RowMajorStrides are the element strides of a dense row-major tensor of
// shape s.
func (s Shape) RowMajorStrides() []int64 {
	st := make([]int64, len(s))
	acc := int64(1)
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

// TensorType is a dtype and a static shape.
type TensorType struct {
	DType DType
	Shape Shape
}

func (t TensorType) String() string { return t.DType.String() + t.Shape.String() }

// Equal reports whether two tensor types are identical.
func (t TensorType) Equal(o TensorType) bool { return t.DType == o.DType && t.Shape.Equal(o.Shape) }

// Bytes is the storage size of a tensor of this type. Like NumElements it
// is exact on verified types; SizeBytes checks.
func (t TensorType) Bytes() int64 {
	e, b := t.DType.Block()
	return t.Shape.NumElements() / int64(e) * int64(b)
}

// SizeBytes is the storage size, or false when a dimension is negative or
// the element count or the byte size overflows int64.
func (t TensorType) SizeBytes() (int64, bool) {
	n, ok := t.Shape.Elements()
	if !ok {
		return 0, false
	}
	e, b := t.DType.Block()
	return budget.Bytes(n/int64(e), int64(b))
}

// CheckType refuses a type no tensor can have: an unknown dtype, a negative
// dimension, or an element count or byte size that overflows int64. Every
// type read from a file and every value the verifier meets passes through
// it, so sizes computed from verified types cannot wrap around.
func CheckType(t TensorType) error {
	if t.DType == Invalid || int(t.DType) >= len(dtypeNames) {
		return fmt.Errorf("invalid dtype %v", t.DType)
	}
	if err := checkDims(t.Shape); err != nil {
		return err
	}
	if t.DType.IsQuantized() && (len(t.Shape) != 2 || t.Shape[1]%QuantBlock != 0) {
		return fmt.Errorf("%v: a %s tensor is a weight [N, K] with K a multiple of %d (blocks of %d along K)", t, t.DType, QuantBlock, QuantBlock)
	}
	if _, ok := t.SizeBytes(); !ok {
		if e, b := t.DType.Block(); e > 1 {
			return fmt.Errorf("%v: %d bytes per block of %d elements times the block count overflows int64", t, b, e)
		}
		return fmt.Errorf("%v: %d bytes per element times the element count overflows int64", t, t.DType.Size())
	}
	return nil
}

// T is a short constructor for TensorType.
func T(d DType, dims ...int64) TensorType { return TensorType{DType: d, Shape: Shape(dims)} }

// normAxis turns a possibly negative axis into an index in [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return int(a), nil
}

// NormAxis is normAxis for other packages: a negative axis counts from the end.
func NormAxis(axis int64, rank int) (int, error) { return normAxis(axis, rank) }
