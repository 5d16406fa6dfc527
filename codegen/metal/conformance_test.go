//go:build cgo && linux

package metal_test

import (
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/internal/metalshim"
)

// The shared conformance harness on the generated MSL, run through the
// C++ shim with each threadgroup's fibers in forward and in reverse order
// (a race between threads shows in one or the other).
func TestConformance(t *testing.T) {
	for _, o := range []metalshim.Order{metalshim.Forward, metalshim.Reverse} {
		t.Run(o.String(), func(t *testing.T) {
			backendtest.Run(t, backend.MustLookup("metal"), metalshim.Open(o))
		})
	}
}
