package testmodel

import (
	"math"
	"math/rand/v2"
	"strings"
)

// values draws one tensor. The scales keep activations O(1) through the
// layers so the logits are neither flat nor saturated:
//   - embeddings ~ N(0, 1), like a normalised residual stream;
//   - linear weights [out, in] ~ N(0, 1/in), so a projection keeps the
//     scale of its input;
//   - o_proj and down_proj, which write into the residual stream, 3x that:
//     otherwise each token's own embedding dominates and a tiny model just
//     echoes its input;
//   - norm weights uniform in 1 ± 0.1, biases ~ N(0, 0.1^2).
func values(name string, shape []int64, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, fnv1a(name)))
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	var draw func() float64
	switch {
	case name == "model.embed_tokens.weight":
		draw = rng.NormFloat64
	case len(shape) == 2:
		scale := 1 / math.Sqrt(float64(shape[1]))
		if strings.HasSuffix(name, "o_proj.weight") || strings.HasSuffix(name, "down_proj.weight") {
			scale *= 3
		}
		draw = func() float64 { return scale * rng.NormFloat64() }
	case strings.HasSuffix(name, ".bias"):
		draw = func() float64 { return 0.1 * rng.NormFloat64() }
	default: // RMSNorm weights
		draw = func() float64 { return 1 + 0.1*(2*rng.Float64()-1) }
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(draw())
	}
	return out
}

// fnv1a is the 64-bit FNV-1a hash: a stable per-tensor stream id for PCG.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
