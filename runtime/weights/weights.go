// Package weights reads a model's weights from the safetensors files its
// weight table points at, checking each tensor against the declared type.
package weights

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// Files resolves weight files relative to a folder (normally the model
// file's folder) and keeps each file open (memory-mapped) once opened.
type Files struct{ folder *safetensors.Folder }

// Open prepares to read weights relative to dir. Files open lazily.
func Open(dir string) *Files { return &Files{folder: safetensors.OpenFolder(dir)} }

// Close unmaps every opened file.
func (f *Files) Close() error { return f.folder.Close() }

// Tensor returns the raw bytes of w and their description after checking
// that the tensor exists with w's shape and a float dtype.
func (f *Files) Tensor(w *ir.Weight) ([]byte, safetensors.TensorInfo, error) {
	data, info, err := f.folder.Tensor(w.File, w.Tensor, w.Value.Type.Shape)
	if err != nil {
		return nil, info, fmt.Errorf("weight @%s: %w", w.Value.Name, err)
	}
	switch info.DType {
	case safetensors.BF16, safetensors.F16, safetensors.F32:
	default:
		return nil, info, fmt.Errorf("weight @%s: tensor %q in %s has dtype %s, want BF16, F16 or F32", w.Value.Name, w.Tensor, info.File, info.DType)
	}
	return data, info, nil
}

// Load decodes w to float32; it makes Files a ref.WeightSource.
func (f *Files) Load(w *ir.Weight) ([]float32, error) {
	data, info, err := f.Tensor(w)
	if err != nil {
		return nil, err
	}
	return safetensors.DecodeFloat32(info.DType, data)
}
