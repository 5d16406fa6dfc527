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
	// Q8_0 and Q4_0 are ggml's block-quantized weight types, bit-exact
	// with its layouts: each row of K elements (K a multiple of 32) is
	// K/32 blocks, a block a float16 scale d then the quants. Q8_0: 32
	// int8 q, value q*d (34 bytes). Q4_0: 16 bytes, byte j holding
	// element j in its low nibble and element j+16 in its high one, value
	// (nibble-8)*d (18 bytes). Only weights [N, K] have them, read by
	// linear (the weight), embedding (the table) and the concatenation of
	// weights along axis 0 (merged projections).
	Q8_0
	Q4_0
)

var dtypeNames = [...]string{Invalid: "invalid", F32: "f32", BF16: "bf16", F16: "f16", I32: "i32", I64: "i64", Bool: "bool", Q8_0: "q8_0", Q4_0: "q4_0"}

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
	return Invalid, fmt.Errorf("unknown dtype %q (want f32, bf16, f16, i32, i64, bool, q8_0 or q4_0)", s)
}

// QuantBlock is the number of elements in one block of a quantized type.
const QuantBlock = 32

// Block is the storage of a dtype in blocks: elems elements take bytes
// bytes (1 element for the unquantized types, whose bytes is Size).
func (d DType) Block() (elems, bytes int) {
	switch d {
	case Q8_0:
		return QuantBlock, 2 + QuantBlock
	case Q4_0:
		return QuantBlock, 2 + QuantBlock/2
	}
	return 1, d.Size()
}

// IsQuantized reports whether d is a block-quantized weight type.
func (d DType) IsQuantized() bool { return d == Q8_0 || d == Q4_0 }

// Size is the storage size of one element in bytes; 0 for the quantized
// types, whose elements take a fraction of a byte (see Block).
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
