package safetensors

import (
	"fmt"
	"os"
)

// File is one safetensors file, memory-mapped so tensor bytes are never
// copied.
type File struct {
	path      string
	data      []byte
	unmap     func() error
	tensors   []TensorInfo
	byName    map[string]int
	dataStart int64
	meta      map[string]string
}

// OpenFile maps and validates a safetensors file.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tensors, start, meta, err := ParseHeader(data, st.Size(), path)
	if err != nil {
		unmap()
		return nil, err
	}
	file := &File{path: path, data: data, unmap: unmap, tensors: tensors, dataStart: start, meta: meta, byName: map[string]int{}}
	for i, t := range tensors {
		file.byName[t.Name] = i
	}
	return file, nil
}

// Tensors lists the file's tensors sorted by name.
func (f *File) Tensors() []TensorInfo { return f.tensors }

// Metadata is the header's __metadata__ map.
func (f *File) Metadata() map[string]string { return f.meta }

// Info describes the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Bytes returns the named tensor's bytes, a view into the mapping that is
// valid until Close.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", f.path, name)
	}
	return f.data[f.dataStart+t.Begin : f.dataStart+t.End], nil
}

// Close unmaps the file.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	err := f.unmap()
	f.unmap, f.data = nil, nil
	return err
}
