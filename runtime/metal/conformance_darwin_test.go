//go:build darwin && cgo

package metal_test

import (
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/runtime/metal"
)

// The shared conformance harness on this Mac's GPU (scripts/mac-check.sh).
func TestConformance(t *testing.T) {
	backendtest.Run(t, backend.MustLookup("metal"), metal.OpenDevice)
}
