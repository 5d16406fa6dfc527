//go:build !unix

package safetensors

// openNonblock is 0 where there is no O_NONBLOCK: OpenInput's check before
// opening is then the only guard against pipes.
const openNonblock = 0
