package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
)

// DecodeFloat32 converts little-endian BF16, F16 or F32 bytes to float32
// (exactly: every value of those types is a float32).
func DecodeFloat32(d DType, data []byte) ([]float32, error) {
	size := d.Size()
	switch d {
	case BF16, F16, F32:
	default:
		return nil, fmt.Errorf("dtype %s cannot be read as floats (want BF16, F16 or F32)", d)
	}
	if len(data)%size != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s values", len(data), d)
	}
	out := make([]float32, len(data)/size)
	switch d {
	case BF16:
		bf16.Decode(out, data)
	case F16:
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(data[2*i:])).Float32()
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	}
	return out, nil
}
