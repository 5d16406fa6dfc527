package safetensors

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Folder reads tensors from safetensors files named relative to a folder,
// as a model's weight table names them: each file opens (and maps) on first
// use and stays open until Close. The reference runtime and the generated
// runners both read weights through it.
type Folder struct {
	dir   string
	files map[string]*File
}

// OpenFolder prepares to read files relative to dir; nothing opens yet.
func OpenFolder(dir string) *Folder { return &Folder{dir: dir, files: map[string]*File{}} }

// Tensor returns the bytes and description of tensor name in file (a
// slash-separated path relative to the folder), which must have shape.
func (f *Folder) Tensor(file, name string, shape []int64) ([]byte, TensorInfo, error) {
	path := filepath.Join(f.dir, filepath.FromSlash(file))
	st := f.files[path]
	if st == nil {
		var err error
		if st, err = OpenFile(path); err != nil {
			return nil, TensorInfo{}, err
		}
		f.files[path] = st
	}
	data, err := st.Bytes(name)
	if err != nil {
		return nil, TensorInfo{}, err
	}
	info, _ := st.Info(name)
	if !slices.Equal(info.Shape, shape) {
		return nil, info, fmt.Errorf("tensor %q in %s has shape %s, the model expects %s", name, path, formatShape(info.Shape), formatShape(shape))
	}
	return data, info, nil
}

// Close unmaps every opened file.
func (f *Folder) Close() error {
	var first error
	for _, file := range f.files {
		if err := file.Close(); err != nil && first == nil {
			first = err
		}
	}
	f.files = map[string]*File{}
	return first
}

func formatShape(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
