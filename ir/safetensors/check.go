package safetensors

import (
	"fmt"
	"slices"
)

// IRDType maps a dtype as the IR and runner schedules spell it ("bf16",
// "f16", "f32") to the safetensors dtype a weight of that type must be
// stored in. Weights of other types cannot be read from a checkpoint.
func IRDType(name string) (DType, error) {
	switch name {
	case "bf16":
		return BF16, nil
	case "f16":
		return F16, nil
	case "f32":
		return F32, nil
	}
	return "", fmt.Errorf("the model declares dtype %s, but weights are read from checkpoints only as bf16, f16 or f32", name)
}

// Check is the one check of a tensor against what a model declares for
// it, used wherever weights meet a model: at import (ir/hf), when the
// reference runtime loads them (runtime/weights) and when a generated
// runner does (runtime/runner), so that a checkpoint one of them accepts
// is accepted by all. The file's dtype must equal the declared one (no
// silent conversion: the runners upload the bytes as they are), the shape
// must be equal, and the byte range must be that shape's size.
func (t TensorInfo) Check(dtype DType, shape []int64) error {
	if t.DType != dtype {
		return fmt.Errorf("tensor %q in %s has dtype %s, the model declares %s", t.Name, t.File, t.DType, dtype)
	}
	if !slices.Equal(t.Shape, shape) {
		return fmt.Errorf("tensor %q in %s has shape %s, the model declares %s", t.Name, t.File, formatShape(t.Shape), formatShape(shape))
	}
	want, err := byteSize(dtype, shape)
	if err != nil {
		return fmt.Errorf("tensor %q in %s: %w", t.Name, t.File, err)
	}
	if t.End-t.Begin != want {
		return fmt.Errorf("tensor %q in %s holds %d bytes, but %s %s needs %d", t.Name, t.File, t.End-t.Begin, dtype, formatShape(shape), want)
	}
	return nil
}
