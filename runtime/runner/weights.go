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

// Load implements WeightFunc. A packed weight is its parts, each checked
// and copied to its offset.
func (c *Checkpoint) Load(b *schedule.Buffer) ([]byte, error) {
	if len(b.Parts) == 0 {
		data, _, err := c.folder.Weight(b.File, b.Tensor, string(b.DType), b.Shape)
		if err != nil {
			return nil, fmt.Errorf("weight @%s: %w (use --weights DIR to point at the checkpoint, or --random-weights)", b.Name, err)
		}
		return data, nil
	}
	return pack(b, func(p schedule.Part) ([]byte, error) {
		data, _, err := c.folder.Weight(p.File, p.Tensor, string(b.DType), p.Shape)
		if err != nil {
			return nil, fmt.Errorf("weight @%s (part of @%s): %w (use --weights DIR to point at the checkpoint, or --random-weights)", p.Name, b.Name, err)
		}
		return data, nil
	})
}

// pack fills a packed weight buffer from its parts' bytes.
func pack(b *schedule.Buffer, part func(schedule.Part) ([]byte, error)) ([]byte, error) {
	if err := budget.Check(fmt.Sprintf("packed weight @%s", b.Name), b.Bytes); err != nil {
		return nil, err
	}
	out := make([]byte, b.Bytes)
	for _, p := range b.Parts {
		data, err := part(p)
		if err != nil {
			return nil, err
		}
		if n := p.Bytes(b.DType); int64(len(data)) != n || p.Offset < 0 || p.Offset > b.Bytes-n {
			return nil, fmt.Errorf("weight @%s: part @%s (%d bytes at offset %d) does not fit the buffer's %d bytes", b.Name, p.Name, len(data), p.Offset, b.Bytes)
		}
		copy(out[p.Offset:], data)
	}
	return out, nil
}

// Close unmaps the opened files.
func (c *Checkpoint) Close() { c.folder.Close() }

// RandomWeights makes the deterministic random weights of --random-weights,
// the same values the reference runtime's --random-weights uses: drawn per
// model weight, so a packed weight holds its parts' values.
func RandomWeights(seed uint64) WeightFunc {
	draw := func(b *schedule.Buffer, p schedule.Part) ([]byte, error) {
		// Drawn as float32, then encoded: both are held at once.
		count := int64(1)
		for _, d := range p.Shape {
			count *= d // the schedule's shapes are verified
		}
		n, ok := budget.Bytes(count, 4+b.DType.Size())
		if !ok {
			return nil, fmt.Errorf("random weight @%s: %d bytes overflow", p.Name, p.Bytes(b.DType))
		}
		if err := budget.Check(fmt.Sprintf("random weight @%s", p.Name), n); err != nil {
			return nil, err
		}
		return schedule.Encode(b.DType, randinit.Values(seed, p.Name, p.Shape)), nil
	}
	return func(b *schedule.Buffer) ([]byte, error) {
		if len(b.Parts) == 0 {
			return draw(b, b.Sources()[0])
		}
		return pack(b, func(p schedule.Part) ([]byte, error) { return draw(b, p) })
	}
}
