package gguf

import (
	"fmt"
	"math"
	"os"

	"github.com/irc-compiler/irc/ir/mapped"
)

// File is one open GGUF file: its validated header and, from the first
// Bytes call, a read-only mapping of the file. Methods other than Close
// are safe for concurrent use.
type File struct {
	*Header
	path string

	file *mapped.File
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
	return &File{Header: h, path: path, file: mapped.New(f, size)}, nil
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
	data, err := f.file.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", f.path, name, err)
	}
	begin := f.DataStart + t.Offset
	end := begin + t.Size
	return data[begin:end:end], nil
}

// Close unmaps and closes the file; closing twice is harmless.
func (f *File) Close() error { return f.file.Close() }
