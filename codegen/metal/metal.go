// Package metal emits a schedule's kernels as one Metal Shading Language
// library: the Metal prelude, the calling convention's header rendered in
// Metal's style (device pointers and one constant struct of scalars, each
// bound to a [[buffer(n)]] slot, and the thread indices as attributed
// parameters), then the shared templates instantiated for the schedule's
// element types. The Metal runtime (runtime/metal) compiles it when a
// runner loads; on Linux the C++ test shim (internal/metalshim) compiles
// and runs it, which is how its logic is verified without a Mac.
package metal

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
)

// Prelude maps the shared kernel dialect onto the Metal Shading Language.
//
//go:embed prelude.metal
var Prelude string

// FileName is the library's source name in a runner's folder.
const FileName = "kernels.metal"

// Target is Metal's: the portable sizes (64-item groups are two of Apple's
// 32-wide simdgroups, far below the 1024-thread limit), the blocked GEMM
// for prefill (register micro-tiles; not yet measured on a Mac), and no
// CPU alternatives: every Metal device is a GPU.
var Target = func() codegen.Target {
	t := codegen.Portable
	t.GEMM = kernels.LinearGEMMBlocked
	t.CPU = false
	return t
}()

// ShimDefine is the macro the C++ test shim defines: the library's tail
// then lists its entry points for the shim (Metal ignores it).
const ShimDefine = "IRC_METAL_SHIM"

// Source returns the Metal library source for a lowered model.
func Source(l *codegen.Lowered) string {
	var b strings.Builder
	b.WriteString(kernels.Source(Prelude, Style{}, l.Target.Sizes(), l.Kernels))
	fmt.Fprintf(&b, "\n/* The entry points, for the C++ test shim (internal/metalshim). */\n#ifdef %s\nIRC_SHIM_KERNELS(\n", ShimDefine)
	for _, name := range l.Kernels.Instances() {
		fmt.Fprintf(&b, "\tIRC_SHIM_KERNEL(%s)\n", name)
	}
	b.WriteString(")\n#endif\n")
	return b.String()
}

// Style spells Metal parameters: buffers as device pointers at buffer
// slots 0.., every scalar of a kernel in one constant struct at the next
// slot (a kernels.Packer: Metal has 31 buffer slots per kernel, and
// attention_split 39 C parameters; one setBytes per launch besides), and
// the thread indices as attributed parameters.
type Style struct{}

// Param implements kernels.Style; only buffers reach it.
func (Style) Param(ctype, name string, buffer bool, slot int) string {
	if !buffer {
		panic("metal: scalar parameter " + name + " outside the packed struct")
	}
	return fmt.Sprintf("device %s* %s [[buffer(%d)]]", ctype, name, slot)
}

// Pack implements kernels.Packer.
func (Style) Pack(typ, name string, slot int) string {
	return fmt.Sprintf("constant %s& %s [[buffer(%d)]]", typ, name, slot)
}

// IndexParams implements kernels.Style: the indices GID, LID and GROUP
// read.
func (Style) IndexParams() string {
	return "uint3 irc_gid [[thread_position_in_grid]], uint3 irc_lid [[thread_position_in_threadgroup]], uint3 irc_grp [[threadgroup_position_in_grid]]"
}
