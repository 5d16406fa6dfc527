//go:build unix

package safetensors

import (
	"os"
	"syscall"
)

// openNonblock keeps opening a named pipe from blocking (OpenInput refuses
// pipes before opening, this covers a swap in between). It changes nothing
// for regular files.
const openNonblock = syscall.O_NONBLOCK

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
