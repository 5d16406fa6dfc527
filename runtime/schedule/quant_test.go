package schedule

import (
	"math"
	"testing"
)

// block builds one block: a float16 scale (bits) and its quant bytes.
func block(scale uint16, qs ...byte) []byte {
	return append([]byte{byte(scale), byte(scale >> 8)}, qs...)
}

func TestDequantizeHandMadeBlocks(t *testing.T) {
	sub := float32(math.Ldexp(1, -24)) // the smallest float16 subnormal
	q8 := make([]byte, 32)
	q8[0], q8[1], q8[2], q8[31] = 0x80, 0x7f, 0xff, 1 // -128, 127, -1, 1
	for _, c := range []struct {
		name  string
		scale uint16
		d     float32
	}{{"negative", 0xb800, -0.5}, {"zero", 0, 0}, {"negative zero", 0x8000, 0}, {"subnormal", 0x0001, sub}, {"max", 0x7bff, 65504}} {
		got := make([]float32, 32)
		Dequantize(Q8_0, got, block(c.scale, q8...))
		want := map[int]float32{0: -128 * c.d, 1: 127 * c.d, 2: -c.d, 31: c.d, 5: 0}
		for j, w := range want {
			if got[j] != w {
				t.Errorf("q8_0 %s: element %d is %g, want %g", c.name, j, got[j], w)
			}
		}
	}
	q4 := make([]byte, 16)
	q4[0] = 0xf0  // element 0: nibble 0 (-8), element 16: nibble 15 (+7)
	q4[15] = 0x0f // element 15: 15 (+7), element 31: 0 (-8)
	q4[7] = 0x88  // elements 7 and 23: 0
	got := make([]float32, 32)
	Dequantize(Q4_0, got, block(0xb800, q4...)) // d = -0.5
	want := map[int]float32{0: 4, 16: -3.5, 15: -3.5, 31: 4, 7: 0, 23: 0, 1: 4}
	for j, w := range want {
		if got[j] != w {
			t.Errorf("q4_0: element %d is %g, want %g", j, got[j], w)
		}
	}
	Dequantize(Q4_0, got, block(0x0001, q4...))
	if got[16] != 7*sub || got[0] != -8*sub {
		t.Errorf("q4_0 subnormal scale: %g %g", got[0], got[16])
	}
}

func TestQuantizeMatchesGGMLReference(t *testing.T) {
	x := make([]float32, 64)
	for j := range x {
		x[j] = float32(j-20) / 7
	}
	x[40] = -9 // the largest magnitude of block 1 is negative
	q := Encode(Q8_0, x)
	if len(q) != 2*34 {
		t.Fatalf("q8_0: %d bytes", len(q))
	}
	back := Decode(Q8_0, q)
	// Block 0: amax = 20/7, so the first element is -127 exactly.
	if int8(q[2]) != -127 || int8(q[34+2+8]) != -127 {
		t.Errorf("q8_0: the largest magnitude quantizes to %d and %d, want -127", int8(q[2]), int8(q[34+2+8]))
	}
	for j := range x {
		d := float64(x[j]) - back[j]
		if math.Abs(d) > 9.0/127/2*1.01 {
			t.Errorf("q8_0 element %d: %g -> %g", j, x[j], back[j])
		}
	}
	q4 := Encode(Q4_0, x)
	if len(q4) != 2*18 {
		t.Fatalf("q4_0: %d bytes", len(q4))
	}
	// Block 1's max is -9: d = 9/8 > 0 and -9 is nibble 0.
	if q4[18+2+8]&15 != 0 {
		t.Errorf("q4_0: the signed max quantizes to nibble %d, want 0", q4[18+2+8]&15)
	}
	back = Decode(Q4_0, q4)
	if back[40] != -9 {
		t.Errorf("q4_0: the max decodes to %g", back[40])
	}
	// Block 0's max is -20/7 (element 0); 31 - 20 = 11 > ... all |x| <= 20/7.
	for j := range x {
		d := math.Abs(float64(x[j]) - back[j])
		limit := 20.0 / 7 / 8
		if j >= 32 {
			limit = 9.0 / 8
		}
		if d > limit*1.01 {
			t.Errorf("q4_0 element %d: %g -> %g", j, x[j], back[j])
		}
	}
	// All zero: q4_0's scale is 0/-8 = -0 (float16 0x8000, as ggml
	// writes it), its quants 8.
	z := Encode(Q4_0, make([]float32, 32))
	if z[0] != 0 || z[1] != 0x80 || z[2] != 0x88 {
		t.Errorf("q4_0 of zeros: % x", z[:3])
	}
	if BytesOf := Q4_0.BytesOf(4096 * 4096); BytesOf*8 != 4096*4096*45/10 {
		t.Errorf("q4_0: %d bytes for 4096x4096", BytesOf)
	}
}
