// Package weights reads a model's weights from the safetensors files its
// weight table points at, for the reference runtime. The files are read
// through safetensors.Folder, as the generated runners read them, so both
// apply the same rules: files inside the folder, each tensor exactly the
// declared dtype and shape (safetensors.TensorInfo.Check).
package weights

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Files resolves weight files relative to a folder (normally the model
// file's folder, or --weights DIR) and keeps each file open once opened.
type Files struct{ folder *safetensors.Folder }

// Open prepares to read weights relative to dir, refusing any weight file
// that lies outside it. Files open lazily.
func Open(dir string) *Files { return OpenWith(dir, safetensors.FolderOptions{}) }

// OpenWith is Open with options: AllowOutside lets weight files lie
// outside dir (only on the user's explicit request).
func OpenWith(dir string, opt safetensors.FolderOptions) *Files {
	return &Files{folder: safetensors.OpenFolder(dir, opt)}
}

// Close unmaps every opened file.
func (f *Files) Close() error { return f.folder.Close() }

// Tensor returns the raw bytes of w and their description after checking
// that the tensor exists with w's dtype and shape.
func (f *Files) Tensor(w *ir.Weight) ([]byte, safetensors.TensorInfo, error) {
	data, info, err := f.folder.Weight(w.File, w.Tensor, w.Value.Type.DType.String(), w.Value.Type.Shape)
	if err != nil {
		return nil, info, fmt.Errorf("weight @%s: %w", w.Value.Name, err)
	}
	return data, info, nil
}

// Load decodes w to float32; it makes Files a ref.WeightSource. The
// float32 copy is checked against the memory budget first.
//
// A quantized weight is dequantized exactly (the float16 scale widened
// to float32, times each quant), the values every device kernel computes
// with.
func (f *Files) Load(w *ir.Weight) ([]float32, error) {
	data, info, err := f.Tensor(w)
	if err != nil {
		return nil, err
	}
	if d := w.Value.Type.DType; d.IsQuantized() {
		n := w.Value.Type.Shape.NumElements() // verified, and its bytes were found
		b, _ := budget.Bytes(n, 4)
		if err := budget.Check(fmt.Sprintf("weight @%s (%s) dequantized to float32", w.Value.Name, info.File), b); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		schedule.Dequantize(schedule.DType(d.String()), out, data)
		return out, nil
	}
	n, _ := budget.Bytes(int64(len(data)/info.DType.Size()), 4)
	if err := budget.Check(fmt.Sprintf("weight @%s (%s) as float32", w.Value.Name, info.File), n); err != nil {
		return nil, err
	}
	return safetensors.DecodeFloat32(info.DType, data)
}
