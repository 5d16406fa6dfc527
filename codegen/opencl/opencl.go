// Package opencl emits a schedule's kernels as one OpenCL C program: the
// OpenCL prelude followed by the shared templates instantiated for the
// schedule's element types.
package opencl

import (
	_ "embed"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
)

//go:embed prelude.h
var prelude string

// FileName is the program's name in a runner's folder.
const FileName = "kernels.cl"

// Source returns the OpenCL program for a lowered model.
func Source(l *codegen.Lowered) string { return kernels.Source(prelude, l.Kernels) }
