package schedule

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/ir/bf16"
)

func TestEncodeRoundsToTheDType(t *testing.T) {
	got := Encode(BF16, []float32{1.00390625, -2})
	if bf16.ToFloat32(uint16(got[0])|uint16(got[1])<<8) != 1 || bf16.ToFloat32(uint16(got[2])|uint16(got[3])<<8) != -2 {
		t.Fatalf("bf16 encoding %x", got)
	}
	if len(Encode(F32, []float32{1, 2, 3})) != 12 || len(Encode(F16, []float32{1})) != 2 {
		t.Fatal("wrong sizes")
	}
	// Integers are exact past float32's 24-bit mantissa.
	if b := EncodeInts([]int64{1<<24 + 1, -3}); binary.LittleEndian.Uint32(b) != 1<<24+1 || int32(binary.LittleEndian.Uint32(b[4:])) != -3 {
		t.Fatalf("i32 encoding %x", b)
	}
}

// Decode reads back what Encode wrote, to the dtype's rounding.
func TestDecodeInvertsEncode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]float32, 37)
	for i := range vals {
		vals[i] = float32(r.NormFloat64())
	}
	for _, d := range []DType{F32, BF16, F16} {
		got := Decode(d, Encode(d, vals))
		again := Decode(d, Encode(d, f32s(got)))
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("%s: element %d decodes to %g, then %g", d, i, got[i], again[i])
			}
			if diff := got[i] - float64(vals[i]); diff > 0.01*max(1, abs(float64(vals[i]))) || diff < -0.01*max(1, abs(float64(vals[i]))) {
				t.Fatalf("%s: element %d: %g encodes to %g", d, i, vals[i], got[i])
			}
		}
	}
	if got := Decode(I32, EncodeInts([]int64{-5, 1 << 30})); got[0] != -5 || got[1] != 1<<30 {
		t.Fatalf("i32: %v", got)
	}
	rows := DecodeF32Rows(Encode(F32, []float32{1, 2, 3, 4, 5, 6}), 3)
	if len(rows) != 2 || rows[1][0] != 4 || rows[0][2] != 3 {
		t.Fatalf("rows %v", rows)
	}
}

func f32s(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func abs(x float64) float64 { return max(x, -x) }
