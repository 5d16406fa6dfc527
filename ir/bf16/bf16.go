// Package bf16 converts between float32 and bfloat16. A bfloat16 is the top
// 16 bits of a float32 (same sign and 8-bit exponent, 7 mantissa bits), so
// widening is a shift and narrowing is a rounding of the low 16 bits.
package bf16

import (
	"encoding/binary"
	"math"
)

// FromFloat32 rounds f to the nearest bfloat16, ties to even, as IEEE 754
// and PyTorch do: values past the largest finite bfloat16 round to ±Inf,
// ±Inf and signed zeros are kept, subnormals round like any other value, and
// a NaN stays a NaN with its sign, made quiet (a signalling NaN whose payload
// lies only in the low 16 bits would otherwise truncate to Inf).
func FromFloat32(f float32) uint16 {
	bits := math.Float32bits(f)
	if bits&0x7fffffff > 0x7f800000 {
		return uint16(bits>>16) | 0x0040 // 0x0040 is the quiet bit, the top mantissa bit
	}
	// Adding 0x7fff plus the lowest kept bit carries into the kept half
	// exactly when the dropped half is above one half, or equal to it with an
	// odd kept half. A carry out of the mantissa bumps the exponent, which is
	// also right: it yields the next binade, or Inf from the largest finite.
	bits += 0x7fff + (bits>>16)&1
	return uint16(bits >> 16)
}

// ToFloat32 widens a bfloat16 to float32, exactly.
func ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Encode writes src into dst as little-endian bfloat16, rounding each value
// with FromFloat32. len(dst) must be 2*len(src); it panics otherwise, since a
// mismatch is a bug in the caller, not bad input.
func Encode(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic("bf16.Encode: len(dst) must be 2*len(src)")
	}
	for i, f := range src {
		binary.LittleEndian.PutUint16(dst[2*i:2*i+2:2*i+2], FromFloat32(f))
	}
}

// Decode widens little-endian bfloat16 values from src into dst.
// len(src) must be 2*len(dst); it panics otherwise.
func Decode(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic("bf16.Decode: len(src) must be 2*len(dst)")
	}
	// The three-index slice of exactly two bytes lets the compiler drop the
	// bounds checks on b[0] and b[1]; this loop runs over whole checkpoints,
	// and it is about twice as fast as binary.LittleEndian.Uint16(src[2*i:]).
	for i := range dst {
		b := src[2*i : 2*i+2 : 2*i+2]
		dst[i] = math.Float32frombits(uint32(b[0])<<16 | uint32(b[1])<<24)
	}
}
