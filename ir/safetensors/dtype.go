package safetensors

import (
	"slices"
	"strings"
)

// DType is a safetensors element type name, as spelled in the header.
type DType string

// The float types irc computes with. Every other standard safetensors dtype
// is still recognised (real checkpoints carry e.g. I64 buffers), so a file
// holding one opens and validates; only Float32 refuses it.
const (
	BF16 DType = "BF16"
	F16  DType = "F16"
	F32  DType = "F32"
)

// dtypeSizes lists the standard safetensors dtypes with their element
// sizes. The sub-byte types (F4, F6_*) are left out: their sizes are not a
// whole number of bytes, and no Llama or Qwen checkpoint uses them.
var dtypeSizes = map[DType]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
	"I16": 2, "U16": 2, F16: 2, BF16: 2,
	"I32": 4, "U32": 4, F32: 4,
	"I64": 8, "U64": 8, "F64": 8, "C64": 8,
}

// Size is the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// knownDTypes is the sorted list of dtype names, for error messages.
var knownDTypes = func() string {
	names := make([]string, 0, len(dtypeSizes))
	for d := range dtypeSizes {
		names = append(names, string(d))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}()

// isFloat reports whether Float32 can decode d.
func (d DType) isFloat() bool { return d == BF16 || d == F16 || d == F32 }
