package ref

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/irc-compiler/irc/ir"
)

// RandomWeights makes deterministic random weights for a model imported
// without a checkpoint: each weight depends only on the seed and its name.
// Matrices get uniform values scaled by 1/sqrt(fan_in) so activations stay
// O(1); norm weights are near 1 and biases near 0, like a trained model.
type RandomWeights struct {
	Seed uint64
}

// Load implements WeightSource.
func (r RandomWeights) Load(w *ir.Weight) ([]float32, error) {
	h := fnv.New64a()
	h.Write([]byte(w.Value.Name))
	rng := rand.New(rand.NewPCG(r.Seed, h.Sum64()))
	shape := w.Value.Type.Shape
	data := make([]float32, shape.NumElements())
	scale, offset := 0.02, 0.0
	switch {
	case len(shape) >= 2:
		scale = 1 / math.Sqrt(float64(shape[len(shape)-1]))
	case strings.Contains(w.Value.Name, "norm"):
		scale, offset = 0.1, 1
	}
	for i := range data {
		data[i] = float32(offset + scale*(2*rng.Float64()-1))
	}
	return data, nil
}
