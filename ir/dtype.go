package ir

import "fmt"

// DType is the element type of a tensor.
type DType uint8

const (
	Invalid DType = iota
	F32
	BF16
	F16
	I32
	I64
	Bool
)

var dtypeNames = [...]string{Invalid: "invalid", F32: "f32", BF16: "bf16", F16: "f16", I32: "i32", I64: "i64", Bool: "bool"}

func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", d)
}

// ParseDType reads the text name of a dtype ("bf16", "f32", ...).
func ParseDType(s string) (DType, error) {
	for d, name := range dtypeNames {
		if name == s && DType(d) != Invalid {
			return DType(d), nil
		}
	}
	return Invalid, fmt.Errorf("unknown dtype %q (want f32, bf16, f16, i32, i64 or bool)", s)
}

// Size is the storage size of one element in bytes.
func (d DType) Size() int {
	switch d {
	case F32, I32:
		return 4
	case BF16, F16:
		return 2
	case I64:
		return 8
	case Bool:
		return 1
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == F32 || d == BF16 || d == F16 }

// IsInt reports whether d is an integer type.
func (d DType) IsInt() bool { return d == I32 || d == I64 }
