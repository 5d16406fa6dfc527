package ref

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/randinit"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// RandomWeights makes deterministic random weights for a model imported
// without a checkpoint: each weight depends only on the seed and its name.
// Matrices get uniform values scaled by 1/sqrt(fan_in) so activations stay
// O(1); norm weights are near 1 and biases near 0, like a trained model.
type RandomWeights struct {
	Seed uint64
}

// Load implements WeightSource. A weight that does not fit in memory is
// refused, naming it, before its values are made.
func (r RandomWeights) Load(w *ir.Weight) ([]float32, error) {
	n, ok := w.Value.Type.Shape.Elements()
	bytes, ok2 := budget.Bytes(n, 4)
	if !ok || !ok2 {
		return nil, fmt.Errorf("random weight @%s: %v has more elements than int64 can count", w.Value.Name, w.Value.Type)
	}
	if err := budget.Check(fmt.Sprintf("random weight @%s (%v, as float32)", w.Value.Name, w.Value.Type), bytes); err != nil {
		return nil, err
	}
	vals := randinit.Values(r.Seed, w.Value.Name, w.Value.Type.Shape)
	switch d := w.Value.Type.DType; {
	case d.IsQuantized():
		// What a runner uploads: the values quantized (ggml's rounding),
		// here dequantized again.
		sd := schedule.DType(d.String())
		schedule.Dequantize(sd, vals, schedule.Encode(sd, vals))
	case d == ir.BF16 || d == ir.F16:
		// What a runner uploads: the values rounded to the dtype (which
		// matters where the model computes in a wider one).
		sd := schedule.DType(d.String())
		for i, v := range schedule.Decode(sd, schedule.Encode(sd, vals)) {
			vals[i] = float32(v)
		}
	}
	return vals, nil
}
