//go:build unix

package safetensors

import "syscall"

// openNonblock keeps opening a named pipe from blocking (OpenInput refuses
// pipes before opening, this covers a swap in between). It changes nothing
// for regular files.
const openNonblock = syscall.O_NONBLOCK
