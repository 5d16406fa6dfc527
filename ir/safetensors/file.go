package safetensors

import (
	"errors"
	"fmt"
	"math"
	"os"
)

// File is one open safetensors file. Its bytes are memory-mapped where the
// platform allows, so opening a multi-GiB shard costs only the header parse
// and Bytes never copies. The methods other than Close are safe for
// concurrent use; slices from Bytes are valid until Close.
type File struct {
	path      string
	data      []byte       // the whole file
	release   func() error // unmaps data; nil once closed
	tensors   []TensorInfo // sorted by name
	byName    map[string]int
	dataStart int64
	meta      map[string]string
}

// OpenFile maps path and validates its header (see ParseHeader).
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // already "open PATH: reason"
	}
	// The mapping outlives the descriptor, so it can be closed right away.
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > math.MaxInt {
		return nil, fmt.Errorf("%s: %d bytes is too large to map on this platform", path, st.Size())
	}
	data, release, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: mapping the file: %w", path, err)
	}
	tensors, dataStart, meta, err := ParseHeader(data, st.Size(), path)
	if err != nil {
		release()
		return nil, err
	}
	file := &File{path: path, data: data, release: release, tensors: tensors, dataStart: dataStart, meta: meta,
		byName: make(map[string]int, len(tensors))}
	for i, t := range tensors {
		file.byName[t.Name] = i
	}
	return file, nil
}

// Path is the path the file was opened with.
func (f *File) Path() string { return f.path }

// Tensors lists the file's tensors sorted by name. The slice is shared; do
// not modify it.
func (f *File) Tensors() []TensorInfo { return f.tensors }

// Metadata is the header's __metadata__ map (nil if the header has none).
func (f *File) Metadata() map[string]string { return f.meta }

// Info describes the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// errClosed is returned for reads after Close.
var errClosed = errors.New("file is closed")

// Bytes returns the named tensor's bytes: a view into the mapping, valid
// until Close, that must not be written (on unix the mapping is read-only
// and a write faults). Its capacity ends with the tensor, so an append
// copies instead of running into the next tensor.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", f.path, name)
	}
	if f.release == nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", f.path, name, errClosed)
	}
	begin, end := f.dataStart+t.Begin, f.dataStart+t.End
	return f.data[begin:end:end], nil
}

// Close unmaps the file. Slices from Bytes must not be used afterwards.
// Closing twice is harmless.
func (f *File) Close() error {
	if f.release == nil {
		return nil
	}
	err := f.release()
	f.release, f.data = nil, nil
	if err != nil {
		return fmt.Errorf("%s: unmapping: %w", f.path, err)
	}
	return nil
}
