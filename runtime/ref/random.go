package ref

import (
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/randinit"
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
	return randinit.Values(r.Seed, w.Value.Name, w.Value.Type.Shape), nil
}
