package schedule

import (
	"math"

	"github.com/x448/float16"
)

// The block-quantized weight types, bit-exact with ggml's layouts (so a
// GGUF tensor of either type is a byte copy): a row of K elements (K a
// multiple of QuantBlock) is K/QuantBlock blocks, each a little-endian
// float16 scale d followed by the quants.
//
//	q8_0: 32 int8 q;                        value q * d        (34 bytes)
//	q4_0: 16 bytes, byte j = element j in   value (nibble-8)*d (18 bytes)
//	      the low nibble, j+16 in the high
const (
	Q8_0 DType = "q8_0"
	Q4_0 DType = "q4_0"
)

// QuantBlock is the number of elements in one block.
const QuantBlock = 32

// Quantized reports whether d is a block-quantized type.
func (d DType) Quantized() bool { return d == Q8_0 || d == Q4_0 }

// BlockBytes is the size of one block of a quantized type (0 otherwise).
func (d DType) BlockBytes() int64 {
	switch d {
	case Q8_0:
		return 2 + QuantBlock
	case Q4_0:
		return 2 + QuantBlock/2
	}
	return 0
}

// BytesOf is the storage size of n elements of d (n a multiple of
// QuantBlock for a quantized type).
func (d DType) BytesOf(n int64) int64 {
	if d.Quantized() {
		return n / QuantBlock * d.BlockBytes()
	}
	return n * d.Size()
}

// quantize stores vals (a multiple of QuantBlock of them) as d with ggml's
// reference rounding: quantize_row_q8_0_ref and quantize_row_q4_0_ref.
func quantize(d DType, vals []float32) []byte {
	nb := len(vals) / QuantBlock
	bb := int(d.BlockBytes())
	out := make([]byte, nb*bb)
	for i := range nb {
		x, y := vals[i*QuantBlock:(i+1)*QuantBlock], out[i*bb:(i+1)*bb]
		if d == Q8_0 {
			quantizeQ8_0(x, y)
		} else {
			quantizeQ4_0(x, y)
		}
	}
	return out
}

// quantizeQ8_0 is one block of quantize_row_q8_0_ref: d = amax/127 and
// q = round(x/d) (half away from zero), with x multiplied by the float32
// reciprocal of d as ggml does.
func quantizeQ8_0(x []float32, y []byte) {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	d := amax / 127
	var id float32
	if d != 0 {
		id = 1 / d
	}
	putHalf(y, d)
	for j, v := range x {
		y[2+j] = byte(int8(math.Round(float64(float32(v * id))))) // no fused multiply-add
	}
}

// quantizeQ4_0 is one block of quantize_row_q4_0_ref: the element of
// largest magnitude max (its sign kept; the first on ties), d = max/-8,
// q = min(15, trunc(x/d + 8.5)).
func quantizeQ4_0(x []float32, y []byte) {
	var amax, mx float32
	for _, v := range x {
		if a := float32(math.Abs(float64(v))); amax < a {
			amax, mx = a, v
		}
	}
	d := mx / -8
	var id float32
	if d != 0 {
		id = 1 / d
	}
	putHalf(y, d)
	q := func(v float32) byte { return byte(min(15, int8(float32(v*id)+8.5))) } // no fused multiply-add
	for j := range QuantBlock / 2 {
		y[2+j] = q(x[j]) | q(x[j+QuantBlock/2])<<4
	}
}

func putHalf(y []byte, v float32) {
	h := float16.Fromfloat32(v).Bits()
	y[0], y[1] = byte(h), byte(h>>8)
}

// Dequantize decodes blocks of d to float32, exactly: the float16 scale
// widened to float32, times the quant. len(dst) must be the element count
// of src.
func Dequantize(d DType, dst []float32, src []byte) {
	bb := int(d.BlockBytes())
	for i := range len(dst) / QuantBlock {
		b := src[i*bb : (i+1)*bb]
		s := float16.Frombits(uint16(b[0]) | uint16(b[1])<<8).Float32()
		x := dst[i*QuantBlock : (i+1)*QuantBlock]
		if d == Q8_0 {
			for j := range x {
				x[j] = float32(int8(b[2+j])) * s
			}
			continue
		}
		for j := range QuantBlock / 2 {
			x[j] = float32(int(b[2+j]&15)-8) * s
			x[j+QuantBlock/2] = float32(int(b[2+j]>>4)-8) * s
		}
	}
}
