package codegen

import (
	"fmt"
	"maps"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// lowerLinear launches a linear: for a few rows (decode) one GEMV launch
// with every prologue and epilogue fused; for more (prefill) the GEMM, with
// the norm prologue and the glu epilogue as launches of their own around it
// (a prefill chunk is compute-bound, the extra pass over activations is
// small next to the GEMM).
func (gl *graphLowering) lowerLinear(n *ir.Node) error {
	out := n.Outputs[0]
	x, w := n.Inputs[0], n.Inputs[1]
	biasAt, resAt, normAt, _ := ir.LinearInputs(n.Attrs)
	glu := n.Attrs.Int("glu", 0) != 0
	mixed := w.Type.DType != out.Type.DType // a weight stored in another type
	for i, v := range n.Inputs {
		if v.Type.DType != out.Type.DType && i != 1 {
			return fmt.Errorf("linear kernel wants one dtype: %%%s is %s, the output %s", v.Name, v.Type.DType, out.Type.DType)
		}
	}
	// Absent operands are passed as the output itself; the flags keep the
	// kernel from reading them.
	operandAt := func(i int, flag kernels.Const, flags *int64) *ir.Value {
		if i < 0 {
			return out
		}
		*flags |= flag.Value
		return n.Inputs[i]
	}
	var flags int64
	bias := operandAt(biasAt, kernels.LinearBias, &flags)
	res := operandAt(resAt, kernels.LinearResidual, &flags)
	nw := operandAt(normAt, kernels.LinearNorm, &flags)
	if glu {
		flags |= kernels.LinearGLU.Value
	}
	N, K := out.Type.Shape[len(out.Type.Shape)-1], w.Type.Shape[1]
	M := out.Type.Shape.NumElements() / max(N, 1)
	if M <= gl.target.MatvecRows {
		args := kernels.Args{"M": intArg(M), "N": intArg(N), "K": intArg(K), "eps": floatArg(n.Attrs.Float("eps", 0))}
		if err := gl.bindDense(args, operand{"x", x}, operand{"w", w}, operand{"bias", bias}, operand{"res", res}, operand{"nw", nw}, operand{"out", out}); err != nil {
			return err
		}
		vector := []string{"x", "w"}
		if mixed {
			vector = vector[:1] // the weight's loads are bytes or elements, any alignment
		}
		if normAt >= 0 {
			vector = append(vector, "nw")
		}
		if gl.rowsAligned(args, K, out, vector...) {
			flags |= kernels.LinearAligned.Value
		}
		args["flags"] = intArg(flags)
		if err := gl.launchLinear(kernels.LinearGEMV, n, [3]int{int(N), int(M)}, args); err != nil {
			return err
		}
		rows := N // weight rows: the CPU GEMV's items own rows, gate and up alike
		if glu {
			rows *= 2
		}
		return gl.launchCPUWith(func() error { return gl.launchLinear(kernels.LinearGEMVRows, n, [3]int{int(rows), int(M)}, args) })
	}
	return gl.lowerGEMM(n, M, N, K, flags)
}

// launchLinear launches linear kernel k's instance for node n: for the
// output's dtype, and the weight's where it is stored in another type (the
// instance converting or dequantizing it in registers).
func (gl *graphLowering) launchLinear(k *kernels.Kernel, n *ir.Node, extent [3]int, args kernels.Args) error {
	if w := n.Inputs[1]; w.Type.DType != n.Outputs[0].Type.DType {
		return gl.launchMixed(k, n.Outputs[0], w, extent, args)
	}
	return gl.launchTyped(k, n.Outputs[0], extent, args)
}

// lowerGEMM is a prefill linear: the norm prologue into scratch, then the
// GEMM with its bias and residual, or with glu one GEMM per half of the
// weight and silu_mul of the two. Each GEMM carries the CPU-shaped one
// as its CPU alternative.
func (gl *graphLowering) lowerGEMM(n *ir.Node, M, N, K, flags int64) error {
	out := n.Outputs[0]
	d, err := dtypeOf(out)
	if err != nil {
		return err
	}
	args := kernels.Args{"M": intArg(M), "N": intArg(N), "K": intArg(K), "flags": intArg(flags &^ (kernels.LinearNorm.Value | kernels.LinearGLU.Value))}
	if err := gl.bindDense(args, operand{"x", n.Inputs[0]}, operand{"w", n.Inputs[1]}, operand{"out", out}); err != nil {
		return err
	}
	biasAt, resAt, normAt, _ := ir.LinearInputs(n.Attrs)
	args["bias"], args["res"] = args["out"], args["out"]
	for p, i := range map[string]int{"bias": biasAt, "res": resAt} {
		if i >= 0 {
			if args[p], err = gl.dense1(n.Inputs[i]); err != nil {
				return err
			}
		}
	}
	if normAt >= 0 {
		normed := gl.scratch("normed", d, M*K)
		norm := kernels.Args{"x": args["x"], "out": normed, "dim": intArg(K), "eps": floatArg(n.Attrs.Float("eps", 0)), "has_weight": intArg(1)}
		if norm["w"], err = gl.dense1(n.Inputs[normAt]); err != nil {
			return err
		}
		if err := gl.launchTyped(kernels.RMSNorm, out, [3]int{int(M)}, norm); err != nil {
			return err
		}
		args["x"] = normed
	}
	gemm := gl.target.GEMM
	mixed := n.Inputs[1].Type.DType != out.Type.DType
	if gemm.Inst == kernels.HalfTypes && (mixed || d != schedule.BF16 && d != schedule.F16) {
		gemm = gemm.Twin // no 16-bit inputs (or a weight of another type) for the variant: its twin
	}
	grid := [3]int{int(N), int(M)}
	launch := func(args kernels.Args) error { // the GEMM, and its CPU alternative
		if err := gl.launchLinear(gemm, n, grid, args); err != nil {
			return err
		}
		return gl.launchCPUWith(func() error { return gl.launchLinear(kernels.LinearGEMMTiles, n, grid, args) })
	}
	if flags&kernels.LinearGLU.Value == 0 {
		return launch(args)
	}
	// glu (no bias, no residual): gate rows, then up rows N*K further.
	dst := args["out"]
	gate, up := gl.scratch("gate", d, M*N), gl.scratch("up", d, M*N)
	args["out"], args["bias"], args["res"] = gate, gate, gate
	if err := launch(args); err != nil {
		return err
	}
	upArgs := maps.Clone(args)
	w := upArgs["w"]
	wd, err := dtypeOf(n.Inputs[1])
	if err != nil {
		return err
	}
	w.Off += wd.BytesOf(N*K) / wd.Size() // in the weight buffer's elements (bytes where quantized)
	upArgs["w"], upArgs["out"], upArgs["bias"], upArgs["res"] = w, up, up, up
	if err := launch(upArgs); err != nil {
		return err
	}
	return gl.launchTyped(kernels.SiLUMul, out, [3]int{int(M * N)}, kernels.Args{"gate": gate, "up": up, "out": dst, "n": intArg(M * N)})
}

// vectorBytes is the width of the GEMV kernels' vector loads (LDV).
const vectorBytes = 16

// rowsAligned reports whether every row of K elements (of out's dtype) of
// the tensor arguments named starts on a vectorBytes boundary: K rows
// keep the alignment, and each argument's start has it. A buffer's base
// is aligned by the device (kernels.LinearAligned says how far); an arena
// value's slot by the target's Align, so its offset within the slot must
// be too.
func (gl *graphLowering) rowsAligned(args kernels.Args, K int64, out *ir.Value, names ...string) bool {
	d, err := dtypeOf(out)
	if err != nil || K*d.Size()%vectorBytes != 0 {
		return false
	}
	for _, name := range names {
		a := args[name]
		off := a.Off * d.Size()
		if a.Buf < 0 { // symbolic: an arena slot, until the plan
			r := gl.refs[-a.Buf-1]
			if gl.target.Align%vectorBytes != 0 {
				return false
			}
			off = r.off * r.size
		}
		if off%vectorBytes != 0 {
			return false
		}
	}
	return true
}
