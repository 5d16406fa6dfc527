package schedule

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
)

// The byte encodings of buffer contents, shared by the lowering (constants),
// the runners (weights, inputs, logits) and the tests.

// EncodeInts stores integers as little-endian i32.
func EncodeInts(vals []int64) []byte {
	out := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(int32(v)))
	}
	return out
}

// Encode stores float32 values in float dtype d, little-endian, rounding
// to nearest even (integers go through EncodeInts, exactly).
// A quantized dtype is quantized with ggml's reference rounding (vals a
// multiple of QuantBlock: blocks run along rows, so a tensor's values in
// row-major order quantize as its rows do).
func Encode(d DType, vals []float32) []byte {
	if d.Quantized() {
		return quantize(d, vals)
	}
	out := make([]byte, int64(len(vals))*d.Size())
	for i, v := range vals {
		switch d {
		case F32:
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		case BF16:
			binary.LittleEndian.PutUint16(out[2*i:], bf16.FromFloat32(v))
		case F16:
			binary.LittleEndian.PutUint16(out[2*i:], float16.Fromfloat32(v).Bits())
		default:
			panic(fmt.Sprintf("schedule.Encode: unknown dtype %q", d))
		}
	}
	return out
}

// Decode reads elements of dtype d as float64 (i32 exactly).
// A quantized dtype is dequantized (Dequantize).
func Decode(d DType, data []byte) []float64 {
	if d.Quantized() {
		f := make([]float32, int64(len(data))/d.BlockBytes()*QuantBlock)
		Dequantize(d, f, data)
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	}
	out := make([]float64, int64(len(data))/d.Size())
	for i := range out {
		switch d {
		case F32:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		case I32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(data[4*i:])))
		case BF16:
			out[i] = float64(bf16.ToFloat32(binary.LittleEndian.Uint16(data[2*i:])))
		case F16:
			out[i] = float64(float16.Frombits(binary.LittleEndian.Uint16(data[2*i:])).Float32())
		default:
			panic(fmt.Sprintf("schedule.Decode: unknown dtype %q", d))
		}
	}
	return out
}

// DecodeF32Rows reads rows of n little-endian float32 values (logits).
func DecodeF32Rows(data []byte, n int64) [][]float32 {
	out := make([][]float32, int64(len(data))/(4*max(n, 1)))
	for r := range out {
		out[r] = make([]float32, n)
		for j := range out[r] {
			out[r][j] = math.Float32frombits(binary.LittleEndian.Uint32(data[(int64(r)*n+int64(j))*4:]))
		}
	}
	return out
}
