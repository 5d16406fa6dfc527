// Package randinit makes the deterministic random weights that stand in for
// a checkpoint (--random-weights). The reference runtime and every generated
// runner share it, so their results can be compared without a checkpoint.
// It has no dependencies: it is copied into generated runners.
package randinit

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
)

// Values returns the weight called name: each weight depends only on the
// seed and its name. Matrices get uniform values scaled by 1/sqrt(fan_in) so
// activations stay O(1); norm weights are near 1 and biases near 0, like a
// trained model.
func Values(seed uint64, name string, shape []int64) []float32 {
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewPCG(seed, h.Sum64()))
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	scale, offset := 0.02, 0.0
	switch {
	case len(shape) >= 2:
		scale = 1 / math.Sqrt(float64(shape[len(shape)-1]))
	case strings.Contains(name, "norm"):
		scale, offset = 0.1, 1
	}
	for i := range data {
		data[i] = float32(offset + scale*(2*rng.Float64()-1))
	}
	return data
}
