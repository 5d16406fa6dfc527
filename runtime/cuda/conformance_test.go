//go:build cuda

package cuda

import (
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
)

// The shared conformance harness on this machine's CUDA GPU (built with
// the cuda tag: scripts/gpu-check.sh runs it on a GPU host).
func TestConformance(t *testing.T) { backendtest.Run(t, backend.MustLookup("cuda"), OpenDevice) }
