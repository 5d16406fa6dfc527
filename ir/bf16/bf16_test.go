package bf16

import (
	"math"
	"math/rand/v2"
	"testing"
)

func isNaN32(f float32) bool { return f != f }

// Every bfloat16 widens exactly and narrows back to itself; NaNs stay NaNs
// with their sign and come back quiet.
func TestRoundTripAllPatterns(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		b := uint16(i)
		f := ToFloat32(b)
		if got := math.Float32bits(f); got != uint32(b)<<16 {
			t.Fatalf("ToFloat32(%#04x) has bits %#08x", b, got)
		}
		got := FromFloat32(f)
		if !isNaN32(f) {
			if got != b {
				t.Fatalf("%#04x -> %v -> %#04x", b, f, got)
			}
			continue
		}
		if !isNaN32(ToFloat32(got)) || got&0x8000 != b&0x8000 || got&0x0040 == 0 || got|0x0040 != b|0x0040 {
			t.Fatalf("NaN %#04x -> %#04x: want a quiet NaN with the same sign and payload", b, got)
		}
	}
}

// reference rounds a finite float32 to bfloat16 the slow way: take the two
// bfloat16 neighbours by truncation, compare distances in float64, break ties
// towards the even one. The neighbour above the largest finite is Inf, whose
// value for rounding purposes is 2^128 (IEEE 754's rule for overflow).
func reference(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	lo := uint16(bits>>16) & 0x7fff // truncated magnitude
	hi := lo + 1
	x := math.Abs(float64(f))
	loV := float64(ToFloat32(lo))
	hiV := math.Ldexp(1, 128)
	if hi != 0x7f80 {
		hiV = float64(ToFloat32(hi))
	}
	switch dl, dh := x-loV, hiV-x; {
	case dl < dh:
		return sign | lo
	case dh < dl:
		return sign | hi
	case lo&1 == 0:
		return sign | lo
	default:
		return sign | hi
	}
}

func TestMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2_000_000 {
		bits := r.Uint32()
		if r.IntN(4) == 0 {
			bits = bits&^0xffff | 0x8000 // force a tie
		}
		f := math.Float32frombits(bits)
		if isNaN32(f) || math.IsInf(float64(f), 0) {
			continue
		}
		if got, want := FromFloat32(f), reference(f); got != want {
			t.Fatalf("FromFloat32(%#08x) = %#04x, reference says %#04x", bits, got, want)
		}
	}
}

func TestRoundingCases(t *testing.T) {
	cases := []struct {
		name string
		in   uint32
		want uint16
	}{
		{"tie, even kept half stays", 0x3F808000, 0x3F80},
		{"tie, odd kept half rounds up", 0x3F818000, 0x3F82},
		{"negative tie, odd", 0xBF818000, 0xBF82},
		{"just above the tie", 0x3F808001, 0x3F81},
		{"just below the tie", 0x3F807FFF, 0x3F80},
		{"carry into the exponent", 0x3FFF8000, 0x4000},
		{"largest finite bfloat16", 0x7F7F0000, 0x7F7F},
		{"below the overflow tie", 0x7F7F7FFF, 0x7F7F},
		{"overflow tie rounds to Inf", 0x7F7F8000, 0x7F80},
		{"largest float32 to +Inf", 0x7F7FFFFF, 0x7F80},
		{"most negative float32 to -Inf", 0xFF7FFFFF, 0xFF80},
		{"+Inf", 0x7F800000, 0x7F80},
		{"-Inf", 0xFF800000, 0xFF80},
		{"+0", 0x00000000, 0x0000},
		{"-0", 0x80000000, 0x8000},
		{"tiny subnormal to zero", 0x00000001, 0x0000},
		{"tiny negative subnormal to -0", 0x80000001, 0x8000},
		{"subnormal tie, even", 0x00008000, 0x0000},
		{"subnormal tie, odd", 0x00018000, 0x0002},
		{"subnormal below tie", 0x00017FFF, 0x0001},
		{"largest subnormal rounds up to smallest normal", 0x807FC000, 0x8080},
		{"smallest normal", 0x00800000, 0x0080},
	}
	for _, c := range cases {
		if got := FromFloat32(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("%s: FromFloat32(%#08x) = %#04x, want %#04x", c.name, c.in, got, c.want)
		}
	}
}

func TestNaN(t *testing.T) {
	cases := []struct{ in uint32 }{
		{0x7FC00000},                             // the canonical quiet NaN
		{0x7F800001}, {0xFF800001}, {0x7F80FFFF}, // payload only in the dropped half: would truncate to Inf
		{0x7FFFFFFF}, {0xFFFFFFFF}, // rounding up would carry into the sign
		{0x7FA00000}, // signalling, payload in the kept half
	}
	for _, c := range cases {
		got := FromFloat32(math.Float32frombits(c.in))
		if !isNaN32(ToFloat32(got)) || got&0x0040 == 0 || uint32(got&0x8000)<<16 != c.in&0x80000000 {
			t.Errorf("FromFloat32(%#08x) = %#04x, want a quiet NaN of the same sign", c.in, got)
		}
	}
	if got := FromFloat32(math.Float32frombits(0x7FA00000)); got != 0x7FE0 {
		t.Errorf("signalling NaN payload: got %#04x, want 0x7FE0", got)
	}
}

func TestToFloat32Values(t *testing.T) {
	cases := []struct {
		in   uint16
		want float32
	}{
		{0x3F80, 1}, {0xC000, -2}, {0x4049, 3.140625}, {0x0000, 0},
		{0x0001, float32(math.Ldexp(1, -133))},  // smallest subnormal
		{0x7F7F, float32(math.Ldexp(255, 120))}, // largest finite: 0x7F7F0000 = (2-2^-7)*2^127
		{0x7F80, float32(math.Inf(1))}, {0xFF80, float32(math.Inf(-1))},
	}
	for _, c := range cases {
		if got := ToFloat32(c.in); got != c.want {
			t.Errorf("ToFloat32(%#04x) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	src := []float32{1, -2.5, 3.14159, 0, float32(math.Inf(-1))}
	buf := make([]byte, 2*len(src))
	Encode(buf, src)
	// Little-endian: 1.0 is 0x3F80, low byte first.
	if buf[0] != 0x80 || buf[1] != 0x3F {
		t.Fatalf("1.0 encoded as % x, want 80 3f", buf[:2])
	}
	dst := make([]float32, len(src))
	Decode(dst, buf)
	for i := range src {
		if want := ToFloat32(FromFloat32(src[i])); dst[i] != want {
			t.Errorf("value %d: %v -> %v, want %v", i, src[i], dst[i], want)
		}
	}
	if dst[2] != 3.140625 { // 3.14159 rounds to the nearest bfloat16
		t.Errorf("3.14159 decoded as %v", dst[2])
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("Encode", func() { Encode(make([]byte, 3), make([]float32, 2)) })
	mustPanic("Decode", func() { Decode(make([]float32, 2), make([]byte, 5)) })
}

func BenchmarkDecode(b *testing.B) {
	const n = 1 << 22
	src, dst := make([]byte, 2*n), make([]float32, n)
	b.SetBytes(2 * n)
	for b.Loop() {
		Decode(dst, src)
	}
}
