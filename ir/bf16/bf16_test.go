package bf16

import (
	"math"
	"testing"
)

func TestRoundTripAllPatterns(t *testing.T) {
	for b := 0; b < 1<<16; b++ {
		f := ToFloat32(uint16(b))
		if math.IsNaN(float64(f)) {
			if !math.IsNaN(float64(ToFloat32(FromFloat32(f)))) {
				t.Fatalf("NaN %#04x lost", b)
			}
			continue
		}
		if got := FromFloat32(f); got != uint16(b) {
			t.Fatalf("%#04x -> %v -> %#04x", b, f, got)
		}
	}
}

func TestRoundToNearestEven(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3F808000, 0x3F80}, // tie, kept part even: down
		{0x3F818000, 0x3F82}, // tie, kept part odd: up
		{0x3F808001, 0x3F81}, // above the tie: up
		{0x3F807FFF, 0x3F80}, // below the tie: down
		{0x7F7FFFFF, 0x7F80}, // largest float32 rounds to +Inf
		{0xFF800000, 0xFF80}, // -Inf stays
		{0x00000001, 0x0000}, // tiny subnormal rounds to zero
		{0x00018000, 0x0002}, // subnormal tie, odd: up
	}
	for _, c := range cases {
		if got := FromFloat32(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("FromFloat32(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if !math.IsNaN(float64(ToFloat32(FromFloat32(float32(math.NaN()))))) {
		t.Error("NaN did not survive")
	}
}

func TestEncodeDecode(t *testing.T) {
	src := []float32{1, -2.5, 3.140625, 0}
	buf := make([]byte, 8)
	Encode(buf, src)
	dst := make([]float32, 4)
	Decode(dst, buf)
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("%v -> %v", src, dst)
		}
	}
}
