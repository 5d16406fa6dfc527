package hf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Import reads a Hugging Face folder and builds its model. When the folder
// holds safetensors weights, every declared weight is checked against them
// (present, same shape, a float dtype) and pointed at its shard; a folder with
// config.json alone gives a model whose weights are declared in DefaultFile
// and that runs with random weights. Weight files are relative to dir.
func Import(dir string, opts Options) (m *ir.Model, hasWeights bool, err error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, false, err
	}
	m, err = Build(cfg, opts)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", dir, err)
	}
	if m.Meta.Tokenizer, err = ReadTokenizer(dir); err != nil {
		return nil, false, err
	}
	if t := m.Meta.Tokenizer; t != nil && int64(len(t.Tokens)) > m.Meta.VocabSize {
		return nil, false, fmt.Errorf("%s: tokenizer.json has %d tokens, config.json's vocab_size is %d", dir, len(t.Tokens), m.Meta.VocabSize)
	}
	if !hasCheckpoint(dir) {
		return m, false, nil
	}
	ckpt, err := safetensors.OpenDirWith(dir, safetensors.FolderOptions{AllowOutside: opts.AllowWeightsOutside})
	if err != nil {
		return nil, false, err
	}
	defer ckpt.Close()
	if err := Bind(m, ckpt, dir); err != nil {
		return nil, false, err
	}
	if opts.Quantize != ir.Invalid {
		if err := writeQuantized(m, ckpt, dir, opts.QuantizedFile); err != nil {
			return nil, false, err
		}
	}
	return m, true, nil
}

// writeQuantized quantizes every weight m declares quantized from its
// checkpoint tensor (checked by Bind to be the model's dtype) with ggml's
// reference rounding, writes them to path (a safetensors file, each U8
// [N, K/32 * block bytes]) and points the weights there, relative to dir.
func writeQuantized(m *ir.Model, ckpt *safetensors.Checkpoint, dir, path string) error {
	if path == "" {
		return fmt.Errorf("quantizing needs a file to write the quantized weights to")
	}
	var tensors []safetensors.WriteTensor
	var quantized []*ir.Weight
	for _, w := range m.Weights {
		d := w.Value.Type.DType
		if !d.IsQuantized() {
			continue
		}
		vals, _, err := ckpt.Float32(w.Tensor) // present, in the model's dtype: Bind checked
		if err != nil {
			return fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		st, shape, err := safetensors.IRStorage(d.String(), w.Value.Type.Shape)
		if err != nil {
			return fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		tensors = append(tensors, safetensors.WriteTensor{Name: w.Tensor, DType: st, Shape: shape, Data: schedule.Encode(schedule.DType(d.String()), vals)})
		quantized = append(quantized, w)
	}
	if err := safetensors.Write(path, tensors, map[string]string{"irc.quantized": "ggml blocks (q8_0: 34 bytes, q4_0: 18 bytes per 32 weights)"}); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(absDir, abs)
	if err != nil {
		return err
	}
	for _, w := range quantized {
		w.File = filepath.ToSlash(rel)
	}
	return nil
}

func hasCheckpoint(dir string) bool {
	for _, name := range []string{safetensors.SingleFileName, safetensors.IndexFileName} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// Bind points every weight of m at its tensor in ckpt, checking presence,
// shape and dtype. dir is the checkpoint folder; files become relative to it.
func Bind(m *ir.Model, ckpt *safetensors.Checkpoint, dir string) error {
	for _, w := range m.Weights {
		info, ok := ckpt.Tensor(w.Tensor)
		if !ok {
			return fmt.Errorf("%s: missing tensor %q (wanted %v for weight @%s)", dir, w.Tensor, w.Value.Type, w.Value.Name)
		}
		// The one weight check ref and the runners make at load: the
		// file's dtype and shape are exactly what the model declares.
		// A weight to quantize is read in the model's dtype (and written
		// quantized by Import).
		decl := w.Value.Type.DType
		if decl.IsQuantized() {
			decl, _ = ir.DTypeOfTorch(m.Meta.DType)
			if decl == ir.Invalid {
				decl = ir.F32
			}
		}
		dtype, shape, err := safetensors.IRStorage(decl.String(), w.Value.Type.Shape)
		if err != nil {
			return fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		if err := info.Check(dtype, shape); err != nil {
			return fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		rel, err := filepath.Rel(dir, info.File)
		if err != nil {
			return err
		}
		w.File = filepath.ToSlash(rel)
	}
	return nil
}
