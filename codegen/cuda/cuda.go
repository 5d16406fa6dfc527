// Package cuda emits a schedule's kernels as one CUDA C++ source: the CUDA
// prelude, the calling convention's header rendered in CUDA's style
// (by-value scalars, plain device pointers), then the shared templates
// instantiated for the schedule's element types. nvcc turns it into the
// fatbin a runner embeds.
package cuda

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Prelude maps the shared kernel dialect onto CUDA C++.
//
//go:embed prelude.cuh
var Prelude string

// FileName is the source's name in a runner's folder.
const FileName = "kernels.cu"

//go:embed gemm_tc.cuh
var gemmTC string

// Target is CUDA's: the portable sizes, and prefill GEMMs of 16-bit
// models on tensor cores (f32 ones on the blocked twin); its devices are
// GPUs, so launches carry no CPU alternatives.
var Target = func() codegen.Target {
	t := codegen.Portable
	t.GEMM = kernels.LinearGEMMTensorCore
	t.CPU = false
	return t
}()

// wmmaTypes are the wmma element types of the 16-bit storage types, and
// how the stored bits become one.
var wmmaTypes = map[schedule.DType][2]string{
	schedule.BF16: {"__nv_bfloat16", "__ushort_as_bfloat16"},
	schedule.F16:  {"half", "__ushort_as_half"},
}

// Source returns the CUDA source for a lowered model: the shared program,
// then the tensor-core GEMM for each 16-bit dtype it uses.
func Source(l *codegen.Lowered) string {
	var b strings.Builder
	b.WriteString(kernels.Source(Prelude, Style{}, l.Target.Sizes(), l.Kernels))
	for _, d := range l.Kernels.DTypes {
		if w, ok := wmmaTypes[d]; ok {
			b.WriteString(kernels.Typed(d, fmt.Sprintf("#define WMMA_T %s\n#define AS_WMMA %s\n%s#undef WMMA_T\n#undef AS_WMMA\n", w[0], w[1], gemmTC)))
		}
	}
	return b.String()
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
