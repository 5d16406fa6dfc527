//go:build unix

package mapped

import (
	"os"
	"syscall"
)

// mapFile maps the file read-only. MAP_SHARED keeps the pages backed by the
// page cache, so several processes loading the same checkpoint share them
// and nothing is copied until a tensor is decoded.
func mapFile(f *os.File, size int64) ([]byte, func() error, error) {
	if size == 0 { // mmap rejects empty mappings; ParseHeader reports the file as too short
		return nil, func() error { return nil }, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return syscall.Munmap(data) }, nil
}
