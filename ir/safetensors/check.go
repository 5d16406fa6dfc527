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
	return "", fmt.Errorf("the model declares dtype %s, but weights are read from checkpoints only as bf16, f16, f32, q8_0 or q4_0", name)
}

// quantBlockBytes are the block sizes (32 elements) of the quantized IR
// dtypes, ggml's layouts.
var quantBlockBytes = map[string]int64{"q8_0": 34, "q4_0": 18}

// IRStorage maps a weight's dtype as the IR and runner schedules spell it
// and its shape to how its bytes lie in a safetensors file: a float type as
// itself; a quantized one (q8_0, q4_0: a matrix [N, K], K a multiple of 32)
// as U8 [N, K/32 * block bytes], each row its blocks in ggml's layout. The
// shape is checked, so the byte size follows (TensorInfo.Check).
func IRStorage(name string, shape []int64) (DType, []int64, error) {
	bb, ok := quantBlockBytes[name]
	if !ok {
		d, err := IRDType(name)
		return d, shape, err
	}
	if len(shape) != 2 || shape[1] < 0 || shape[1]%32 != 0 {
		return "", nil, fmt.Errorf("a %s weight is a matrix [N, K] with K a multiple of 32, not %s", name, formatShape(shape))
	}
	return "U8", []int64{shape[0], shape[1] / 32 * bb}, nil
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
