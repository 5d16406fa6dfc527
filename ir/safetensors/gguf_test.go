package safetensors

import (
	"math"
	"testing"
)

func TestF16ExactAll(t *testing.T) {
	for h := range 1 << 16 {
		x := f16Table()[h]
		if x != x {
			continue
		}
		got, ok := f16Exact(x)
		if !ok || got != uint16(h) {
			t.Fatalf("%#x (%g): %#x %v", h, x, got, ok)
		}
	}
	if _, ok := f16Exact(1.0 + 1.0/4096); ok {
		t.Error("1+2^-12 is not a half")
	}
	if _, ok := f16Exact(65536); ok {
		t.Error("65536 is not a half")
	}
	if _, ok := f16Exact(float32(math.Ldexp(1, -25))); ok {
		t.Error("2^-25 is not a half")
	}
}
