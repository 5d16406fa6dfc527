package gguf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
)

// File is one open GGUF file: its validated header and, from the first
// Bytes call, a read-only mapping of the file. Methods other than Close
// are safe for concurrent use.
type File struct {
	*Header
	path string

	mu      sync.Mutex
	f       *os.File
	size    int64
	data    []byte
	release func() error
}

// Open opens a GGUF file, which must be a regular file, and parses its
// header.
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err = f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	file, err := NewFile(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return file, nil
}

// NewFile parses the header of f, an open regular file of size bytes
// shown as path in errors. The File owns f from then on (Close closes it);
// on error f is left open.
func NewFile(f *os.File, size int64, path string) (*File, error) {
	if size > math.MaxInt {
		return nil, fmt.Errorf("%s: %d bytes is too large to map on this platform", path, size)
	}
	h, err := Parse(f, size, path)
	if err != nil {
		return nil, err
	}
	return &File{Header: h, path: path, f: f, size: size}, nil
}

// Path is the path the file was opened as.
func (f *File) Path() string { return f.path }

// Bytes returns the named tensor's bytes as stored (ggml order): a view
// into the read-only mapping, valid until Close, never to be written.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", f.path, name)
	}
	data, err := f.mapped()
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", f.path, name, err)
	}
	begin := f.DataStart + t.Offset
	end := begin + t.Size
	return data[begin:end:end], nil
}

func (f *File) mapped() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil, errors.New("file is closed")
	}
	if f.release == nil {
		data, release, err := mapFile(f.f, f.size)
		if err != nil {
			return nil, fmt.Errorf("mapping the file: %w", err)
		}
		if int64(len(data)) != f.size {
			release()
			return nil, fmt.Errorf("mapping the file: %d bytes, not the %d the header was checked against", len(data), f.size)
		}
		f.data, f.release = data, release
	}
	return f.data, nil
}

// Close unmaps and closes the file; closing twice is harmless.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	var err error
	if f.release != nil {
		err = f.release()
	}
	f.f.Close()
	f.f, f.data, f.release = nil, nil, nil
	return err
}
