package hfref

import "math"

// invFreq is the d/2 RoPE inverse frequencies 1/theta^(2i/d), d = head_dim,
// rescaled as transformers' _compute_llama3_parameters does for llama3.
func invFreq(c config) []float64 {
	d := c.headDim
	inv := make([]float64, d/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.theta, float64(2*i)/float64(d))
		if s := c.llama3; s != nil {
			inv[i] = llama3Rescale(inv[i], s)
		}
	}
	return inv
}

// llama3Rescale keeps high frequencies (wavelength < original/high), divides
// low ones (wavelength > original/low) by factor, and interpolates between
// the two in the band in between.
func llama3Rescale(inv float64, s *llama3Scaling) float64 {
	lowWavelen, highWavelen := s.origMax/s.low, s.origMax/s.high
	wavelen := 2 * math.Pi / inv
	switch {
	case wavelen < highWavelen:
		return inv
	case wavelen > lowWavelen:
		return inv / s.factor
	default:
		smooth := (s.origMax/wavelen - s.low) / (s.high - s.low)
		return (1-smooth)*inv/s.factor + smooth*inv
	}
}

// applyRope rotates every head of x (heads*d values) in place for position
// pos: x*cos + rotate_half(x)*sin with cos/sin of cat(freqs, freqs) and
// rotate_half(x) = cat(-x[d/2:], x[:d/2]), i.e. element i pairs with i+d/2.
func applyRope(x []float64, pos int, inv []float64, d int) {
	half := d / 2
	for h := 0; h < len(x)/d; h++ {
		head := x[h*d : (h+1)*d]
		for i := 0; i < half; i++ {
			sin, cos := math.Sincos(float64(pos) * inv[i])
			a, b := head[i], head[i+half]
			head[i] = a*cos - b*sin
			head[i+half] = b*cos + a*sin
		}
	}
}
