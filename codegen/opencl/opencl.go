// Package opencl emits a schedule's kernels as one OpenCL C program: the
// OpenCL prelude, the calling convention's header rendered in OpenCL's
// style (by-value scalars, __global pointers), then the shared templates
// instantiated for the schedule's element types.
package opencl

import (
	_ "embed"
	"fmt"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
)

// Prelude maps the shared kernel dialect onto OpenCL C.
//
//go:embed prelude.h
var Prelude string

// FileName is the program's name in a runner's folder.
const FileName = "kernels.cl"

// Source returns the OpenCL program for a lowered model.
func Source(l *codegen.Lowered) string {
	return kernels.Source(Prelude, Style{}, l.Target.Sizes(), l.Kernels)
}

// Style spells OpenCL C parameters: buffers as __global pointers, scalars
// by value, no thread-index parameters (OpenCL has builtins).
type Style struct{}

// Param implements kernels.Style.
func (Style) Param(ctype, name string, buffer bool, _ int) string {
	if buffer {
		return fmt.Sprintf("GLOBAL %s* %s", ctype, name)
	}
	return ctype + " " + name
}

// IndexParams implements kernels.Style.
func (Style) IndexParams() string { return "" }
