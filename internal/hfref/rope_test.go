package hfref

import (
	"math"
	"testing"
)

// Hand-computed llama3 inverse frequencies for head_dim 16, theta 5e5,
// factor 8, low 1, high 4, original context 64 (the llama3-scaled preset):
// inv_i = 5e5^(-i/8); wavelengths 2*pi/inv_i are 6.28, 32.5, 168, ...;
// band edges 64/4 = 16 and 64/1 = 64.
func TestLlama3InvFreq(t *testing.T) {
	c := config{headDim: 16, theta: 500000, llama3: &llama3Scaling{factor: 8, low: 1, high: 4, origMax: 64}}
	inv := invFreq(c)
	base1 := math.Pow(500000, -1.0/8)
	smooth := (64/(2*math.Pi/base1) - 1) / 3 // index 1 is in the middle band
	want := []float64{
		1, // wavelength 2*pi < 16: kept
		(1-smooth)*base1/8 + smooth*base1,
	}
	for i := 2; i < 8; i++ {
		want = append(want, math.Pow(500000, -float64(i)/8)/8) // wavelength > 64
	}
	for i := range want {
		if math.Abs(inv[i]-want[i]) > 1e-15*want[i] {
			t.Errorf("inv_freq[%d] = %.17g, want %.17g", i, inv[i], want[i])
		}
	}
	if smooth <= 0 || smooth >= 1 {
		t.Errorf("index 1 is not in the interpolated band (smooth %g)", smooth)
	}
	// Without scaling the frequencies are the plain ones.
	c.llama3 = nil
	for i, v := range invFreq(c) {
		if w := math.Pow(500000, -float64(i)/8); math.Abs(v-w) > 1e-15*w {
			t.Errorf("plain inv_freq[%d] = %g, want %g", i, v, w)
		}
	}
}

// rotate_half pairs element i with i + d/2: at an angle of 90 degrees
// (a, b) becomes (-b, a) for each pair, and position 0 is the identity.
func TestRopePairsHalves(t *testing.T) {
	x := []float64{1, 2, 3, 4, 10, 20, 30, 40}
	y := append([]float64(nil), x...)
	applyRope(y, 0, []float64{1, 1}, 4)
	for i := range x {
		if y[i] != x[i] {
			t.Fatalf("position 0 changed %v to %v", x, y)
		}
	}
	inv := []float64{math.Pi / 2, math.Pi} // position 1: angles 90 and 180 degrees
	applyRope(y, 1, inv, 4)
	want := []float64{-3, -2, 1, -4, -30, -20, 10, -40} // two heads of 4
	for i := range want {
		if math.Abs(y[i]-want[i]) > 1e-12 {
			t.Fatalf("rope = %v, want %v", y, want)
		}
	}
}
