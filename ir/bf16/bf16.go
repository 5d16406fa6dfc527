// Package bf16 converts between float32 and bfloat16 (the top 16 bits of a
// float32), rounding to nearest even as PyTorch does.
package bf16

import (
	"encoding/binary"
	"math"
)

// FromFloat32 rounds f to the nearest bfloat16, ties to even. NaNs stay
// (quiet) NaNs; values beyond the largest bfloat16 round to infinity.
func FromFloat32(f float32) uint16 {
	bits := math.Float32bits(f)
	if bits&0x7fffffff > 0x7f800000 { // NaN: keep the sign, force a quiet payload
		return uint16(bits>>16) | 0x0040
	}
	// Add 0x7fff plus the lowest kept bit: carries exactly when the dropped
	// half is above one half, or equal to it with an odd kept part.
	bits += 0x7fff + (bits>>16)&1
	return uint16(bits >> 16)
}

// ToFloat32 widens a bfloat16 exactly.
func ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Encode writes src as little-endian bfloat16 into dst; len(dst) must be
// 2*len(src) (it panics otherwise: a programming error).
func Encode(dst []byte, src []float32) {
	if len(dst) != 2*len(src) {
		panic("bf16.Encode: dst must hold 2 bytes per value")
	}
	for i, f := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], FromFloat32(f))
	}
}

// Decode reads little-endian bfloat16 from src into dst; len(src) must be
// 2*len(dst).
func Decode(dst []float32, src []byte) {
	if len(src) != 2*len(dst) {
		panic("bf16.Decode: src must hold 2 bytes per value")
	}
	for i := range dst {
		dst[i] = ToFloat32(binary.LittleEndian.Uint16(src[2*i:]))
	}
}
