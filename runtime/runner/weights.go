package runner

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
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
		return Encode(b.DType, randinit.Values(seed, b.Name, b.Shape)), nil
	}
}

// EncodeInts stores integers as little-endian i32.
func EncodeInts(vals []int64) []byte {
	out := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(int32(v)))
	}
	return out
}

// Encode stores float32 values in float dtype d, little-endian, rounding
// to nearest even (integers go through EncodeInts, exactly).
func Encode(d schedule.DType, vals []float32) []byte {
	out := make([]byte, int64(len(vals))*d.Size())
	for i, v := range vals {
		switch d {
		case schedule.F32:
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(v))
		case schedule.BF16:
			binary.LittleEndian.PutUint16(out[2*i:], bf16.FromFloat32(v))
		case schedule.F16:
			binary.LittleEndian.PutUint16(out[2*i:], float16.Fromfloat32(v).Bits())
		default:
			panic(fmt.Sprintf("runner.Encode: unknown dtype %q", d))
		}
	}
	return out
}
