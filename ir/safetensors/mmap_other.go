//go:build !unix

package safetensors

import (
	"io"
	"os"
)

// mapFile reads the whole file where syscall.Mmap is not available
// (Windows, wasm): correct, just not zero-copy.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
