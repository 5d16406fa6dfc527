package runner

import (
	"fmt"

	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/randinit"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// WeightFunc returns a weight buffer's bytes in the buffer's dtype.
type WeightFunc func(*schedule.Buffer) ([]byte, error)

// Checkpoint loads weights from the safetensors files the schedule names,
// relative to a folder. Each tensor must have exactly the shape and dtype
// the model was compiled for: the bytes go to the device as they are.
type Checkpoint struct{ folder *safetensors.Folder }

// OpenCheckpoint prepares to read weights relative to dir; files open lazily.
func OpenCheckpoint(dir string) *Checkpoint { return &Checkpoint{folder: safetensors.OpenFolder(dir)} }

var fileDTypes = map[schedule.DType]safetensors.DType{schedule.F32: safetensors.F32, schedule.BF16: safetensors.BF16, schedule.F16: safetensors.F16}

// Load implements WeightFunc.
func (c *Checkpoint) Load(b *schedule.Buffer) ([]byte, error) {
	data, info, err := c.folder.Tensor(b.File, b.Tensor, b.Shape)
	if err != nil {
		return nil, fmt.Errorf("weight @%s: %w (use --weights DIR to point at the checkpoint, or --random-weights)", b.Name, err)
	}
	if want := fileDTypes[b.DType]; info.DType != want {
		return nil, fmt.Errorf("weight @%s: tensor %q in %s has dtype %s, the model was compiled for %s", b.Name, b.Tensor, info.File, info.DType, want)
	}
	return data, nil
}

// Close unmaps the opened files.
func (c *Checkpoint) Close() { c.folder.Close() }

// RandomWeights makes the deterministic random weights of --random-weights,
// the same values the reference runtime's --random-weights uses.
func RandomWeights(seed uint64) WeightFunc {
	return func(b *schedule.Buffer) ([]byte, error) {
		return schedule.Encode(b.DType, randinit.Values(seed, b.Name, b.Shape)), nil
	}
}
