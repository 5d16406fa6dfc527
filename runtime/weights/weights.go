// Package weights reads a model's weights from the safetensors files its
// weight table points at, checking each tensor against the declared type.
package weights

import (
	"fmt"
	"path/filepath"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// Files resolves weight files relative to a folder (normally the model
// file's folder) and keeps each file open (memory-mapped) once opened.
type Files struct {
	dir   string
	files map[string]*safetensors.File
}

// Open prepares to read weights relative to dir. Files open lazily.
func Open(dir string) *Files {
	return &Files{dir: dir, files: map[string]*safetensors.File{}}
}

// Close unmaps every opened file.
func (f *Files) Close() error {
	var first error
	for _, file := range f.files {
		if err := file.Close(); err != nil && first == nil {
			first = err
		}
	}
	f.files = map[string]*safetensors.File{}
	return first
}

// Tensor returns the raw bytes of w and their description after checking
// that the tensor exists with w's shape and a float dtype.
func (f *Files) Tensor(w *ir.Weight) ([]byte, safetensors.TensorInfo, error) {
	path := filepath.Join(f.dir, filepath.FromSlash(w.File))
	file := f.files[path]
	if file == nil {
		var err error
		if file, err = safetensors.OpenFile(path); err != nil {
			return nil, safetensors.TensorInfo{}, fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		f.files[path] = file
	}
	data, err := file.Bytes(w.Tensor)
	if err != nil {
		return nil, safetensors.TensorInfo{}, fmt.Errorf("weight @%s: %w", w.Value.Name, err)
	}
	info, _ := file.Info(w.Tensor)
	if !ir.Shape(info.Shape).Equal(w.Value.Type.Shape) {
		return nil, info, fmt.Errorf("weight @%s: tensor %q in %s has shape %v, the model expects %v",
			w.Value.Name, w.Tensor, path, ir.Shape(info.Shape), w.Value.Type.Shape)
	}
	switch info.DType {
	case safetensors.BF16, safetensors.F16, safetensors.F32:
	default:
		return nil, info, fmt.Errorf("weight @%s: tensor %q in %s has dtype %s, want BF16, F16 or F32", w.Value.Name, w.Tensor, path, info.DType)
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
