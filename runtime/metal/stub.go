//go:build !darwin || !cgo

package metal

import (
	"runtime"

	"github.com/irc-compiler/irc/runtime/executor"
)

// OpenDevice reports that Metal needs macOS (and cgo): a runner built
// elsewhere compiles, but has no device to run on.
func OpenDevice(index int) (executor.Device, error) {
	return nil, errorf("no Metal device on %s/%s (cgo %v): the Metal runtime needs macOS and cgo", runtime.GOOS, runtime.GOARCH, cgoEnabled)
}
