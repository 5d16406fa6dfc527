package hf

import "math"

// InvFreq returns RoPE's inverse frequencies 1/theta^(2i/d), i < d/2,
// divided by RopeFreqFactors when the model has them, or with Llama 3
// scaling applied as transformers' _compute_llama3_parameters does:
// long wavelengths are slowed by factor, short ones kept, and the band in
// between blended smoothly.
func InvFreq(c *Config) []float64 {
	d := c.HeadDim
	inv := make([]float64, d/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(d))
	}
	if c.RopeFreqFactors != nil {
		for i, f := range c.RopeFreqFactors {
			inv[i] /= f
		}
		return roundF32(inv)
	}
	rs := c.RopeScaling
	if rs == nil || rs.RopeType != "llama3" {
		return roundF32(inv)
	}
	orig := float64(rs.OriginalMaxPositionEmbeddings)
	lowWavelen := orig / rs.LowFreqFactor
	highWavelen := orig / rs.HighFreqFactor
	for i, f := range inv {
		wavelen := 2 * math.Pi / f
		switch {
		case wavelen > lowWavelen:
			inv[i] = f / rs.Factor
		case wavelen < highWavelen:
		default:
			smooth := (orig/wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
			inv[i] = (1-smooth)*f/rs.Factor + smooth*f
		}
	}
	return roundF32(inv)
}

// roundF32 rounds to float32 values: the constant is stored as f32, and
// rounding here keeps its text and protobuf forms exact.
func roundF32(xs []float64) []float64 {
	for i, x := range xs {
		xs[i] = float64(float32(x))
	}
	return xs
}
