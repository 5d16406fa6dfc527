// Package mapped maps an open file read-only on first use, for the weight
// readers (ir/safetensors, ir/gguf): opening a multi-GiB file costs its
// header parse and no address space, and reads never copy. It is copied
// into every generated runner with them.
package mapped

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrClosed is returned for reads after Close.
var ErrClosed = errors.New("file is closed")

// File is an open file of a known size, mapped on the first Bytes call.
// Bytes is safe for concurrent use; its slice is valid until Close.
type File struct {
	mu      sync.Mutex
	f       *os.File // nil once closed
	size    int64
	data    []byte       // the whole file, once mapped
	release func() error // unmaps data; nil until mapped
}

// New takes over f, whose size (checked by the caller's header parse) is
// size bytes: Close closes it.
func New(f *os.File, size int64) *File { return &File{f: f, size: size} }

// Bytes returns the whole file, mapping it on first use. The slice must
// not be written (on unix the mapping is read-only and a write faults).
func (m *File) Bytes() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil, ErrClosed
	}
	if m.release == nil {
		data, release, err := mapFile(m.f, m.size)
		if err != nil {
			return nil, fmt.Errorf("mapping the file: %w", err)
		}
		if int64(len(data)) != m.size {
			release()
			return nil, fmt.Errorf("mapping the file: %d bytes, not the %d the header was checked against", len(data), m.size)
		}
		m.data, m.release = data, release
	}
	return m.data, nil
}

// Mapped reports whether the file is mapped (Bytes has run since Open).
func (m *File) Mapped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data != nil
}

// Close unmaps and closes the file, returning the unmapping's error.
// Closing twice is harmless.
func (m *File) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil
	}
	var err error
	if m.release != nil {
		err = m.release()
	}
	m.f.Close()
	m.f, m.data, m.release = nil, nil, nil
	return err
}
