//go:build !unix

package mapped

import (
	"io"
	"os"

	"github.com/irc-compiler/irc/ir/budget"
)

// mapFile reads the whole file where syscall.Mmap is not available
// (Windows, wasm): correct, just not zero-copy.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if err := budget.Check(f.Name(), size); err != nil {
		return nil, nil, err
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && !(err == io.EOF && size == 0) {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
