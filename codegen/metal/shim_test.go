//go:build cgo && linux

package metal_test

import (
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/metal"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/internal/metalshim"
	"github.com/irc-compiler/irc/ir/hf"
)

// Qwen2.5-1.5B's library (its config, a 32K cache) compiles with the shim
// under its -Werror flags; the tiny presets' libraries are compiled and
// run end to end by TestConformance.
func TestQwenLibraryCompiles(t *testing.T) {
	m, _, err := hf.Import(filepath.Join("..", "..", "models", "qwen2.5-1.5b-instruct"), hf.Options{MaxCacheLen: 32768})
	if err != nil {
		t.Fatal(err)
	}
	low := backendtest.Compile(t, m, backend.MustLookup("metal"))
	if _, err := metalshim.Open(metalshim.Forward)(0); err != nil {
		backendtest.Need(t, "metal", err)
	}
	if err := metalshim.Check(metal.Source(low)); err != nil {
		t.Fatal(err)
	}
}
