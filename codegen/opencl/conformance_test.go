package opencl_test

import (
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/runtime/opencl"
)

// The shared conformance harness, on the OpenCL devices of this machine.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backend.MustLookup("opencl"), opencl.OpenDevice)
}
