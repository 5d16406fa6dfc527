package gguf

import "fmt"

// Type is a ggml tensor type (ggml.h's enum ggml_type).
type Type uint32

// The tensor types this reader accepts: the float types and ggml's two
// simplest block types, which irc's IR holds as q8_0 and q4_0.
const (
	F32  Type = 0
	F16  Type = 1
	Q4_0 Type = 2
	Q8_0 Type = 8
	BF16 Type = 30
)

// Supported lists the accepted types, as errors name them.
const Supported = "F32, F16, BF16, Q8_0, Q4_0"

// BlockLen is the elements of one block of a quantized type.
const BlockLen = 32

// typeNames names every ggml type (ggml.c's type_traits), so a refusal
// says which type a file holds. Numbers without a name (removed types,
// future ones) are "unknown".
var typeNames = map[Type]string{
	0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
	10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K",
	16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
	24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
	34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
}

func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("unknown type %d", uint32(t))
}

// Size is the bytes of one element of a supported float type, 0 otherwise
// (a quantized type has no per-element size: see BlockBytes).
func (t Type) Size() int64 {
	switch t {
	case F32:
		return 4
	case F16, BF16:
		return 2
	}
	return 0
}

// BlockBytes is the bytes of one block of BlockLen elements of a supported
// quantized type (ggml's block_q8_0: an f16 scale and 32 int8; block_q4_0:
// an f16 scale and 16 bytes of nibbles), 0 otherwise.
func (t Type) BlockBytes() int64 {
	switch t {
	case Q8_0:
		return 34
	case Q4_0:
		return 18
	}
	return 0
}

// Quantized reports whether t is a supported block type.
func (t Type) Quantized() bool { return t.BlockBytes() != 0 }

// Metadata value types (gguf.h's enum gguf_type).
const (
	TypeUint8   = 0
	TypeInt8    = 1
	TypeUint16  = 2
	TypeInt16   = 3
	TypeUint32  = 4
	TypeInt32   = 5
	TypeFloat32 = 6
	TypeBool    = 7
	TypeString  = 8
	TypeArray   = 9
	TypeUint64  = 10
	TypeInt64   = 11
	TypeFloat64 = 12
)

// valueSize is the encoded size of a fixed-size value type (0 for string
// and array).
func valueSize(t uint32) int64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

var valueTypeNames = []string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64"}

func valueTypeName(t uint32) string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("unknown value type %d", t)
}
