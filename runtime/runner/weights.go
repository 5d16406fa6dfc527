package runner

import (
	"fmt"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/randinit"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// WeightFunc returns a weight buffer's bytes in the buffer's dtype.
type WeightFunc func(*schedule.Buffer) ([]byte, error)

// Checkpoint loads weights from the safetensors files the schedule names,
// relative to a folder. It reads them through safetensors.Folder, as the
// reference runtime does: each file must lie inside the folder (unless
// AllowOutside), and each tensor must have exactly the dtype and shape the
// model was compiled for (safetensors.TensorInfo.Check), since the bytes go
// to the device as they are.
type Checkpoint struct{ folder *safetensors.Folder }

// OpenCheckpoint prepares to read weights relative to dir, refusing any
// weight file outside it; files open lazily.
func OpenCheckpoint(dir string) *Checkpoint {
	return OpenCheckpointWith(dir, safetensors.FolderOptions{})
}

// OpenCheckpointWith is OpenCheckpoint with options: AllowOutside lets
// weight files lie outside dir (only on the user's explicit request).
func OpenCheckpointWith(dir string, opt safetensors.FolderOptions) *Checkpoint {
	return &Checkpoint{folder: safetensors.OpenFolder(dir, opt)}
}

// Load implements WeightFunc.
func (c *Checkpoint) Load(b *schedule.Buffer) ([]byte, error) {
	dtype, err := safetensors.IRDType(string(b.DType))
	if err != nil {
		return nil, fmt.Errorf("weight @%s: %w", b.Name, err)
	}
	data, _, err := c.folder.Tensor(b.File, b.Tensor, dtype, b.Shape)
	if err != nil {
		return nil, fmt.Errorf("weight @%s: %w (use --weights DIR to point at the checkpoint, or --random-weights)", b.Name, err)
	}
	return data, nil
}

// Close unmaps the opened files.
func (c *Checkpoint) Close() { c.folder.Close() }

// RandomWeights makes the deterministic random weights of --random-weights,
// the same values the reference runtime's --random-weights uses.
func RandomWeights(seed uint64) WeightFunc {
	return func(b *schedule.Buffer) ([]byte, error) {
		// Drawn as float32, then encoded: both are held at once.
		n, ok := budget.Bytes(b.Bytes/b.DType.Size(), 4+b.DType.Size())
		if !ok {
			return nil, fmt.Errorf("random weight @%s: %d bytes overflow", b.Name, b.Bytes)
		}
		if err := budget.Check(fmt.Sprintf("random weight @%s", b.Name), n); err != nil {
			return nil, err
		}
		return schedule.Encode(b.DType, randinit.Values(seed, b.Name, b.Shape)), nil
	}
}
