package hf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
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
	return m, true, nil
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
		dtype, shape, err := safetensors.IRStorage(w.Value.Type.DType.String(), w.Value.Type.Shape)
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
