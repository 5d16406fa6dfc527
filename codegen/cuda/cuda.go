// Package cuda emits a schedule's kernels as one CUDA C++ source: the CUDA
// prelude, the calling convention's header rendered in CUDA's style
// (by-value scalars, plain device pointers), then the shared templates
// instantiated for the schedule's element types. nvcc turns it into the
// fatbin a runner embeds.
package cuda

import (
	_ "embed"
	"fmt"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
)

// Prelude maps the shared kernel dialect onto CUDA C++.
//
//go:embed prelude.cuh
var Prelude string

// FileName is the source's name in a runner's folder.
const FileName = "kernels.cu"

// Source returns the CUDA source for a lowered model.
func Source(l *codegen.Lowered) string {
	return kernels.Source(Prelude, Style{}, l.Target.Sizes(), l.Kernels)
}

// Style spells CUDA parameters: buffers as device pointers, scalars by
// value (they travel in the launch's parameter buffer), no thread-index
// parameters (CUDA has builtins).
type Style struct{}

// Param implements kernels.Style.
func (Style) Param(ctype, name string, buffer bool, _ int) string {
	if buffer {
		return fmt.Sprintf("%s* %s", ctype, name)
	}
	return ctype + " " + name
}

// IndexParams implements kernels.Style.
func (Style) IndexParams() string { return "" }
