package codegen

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Launch geometry, matching the templates' WG and TS.
const (
	wg        = 64
	tile      = 16
	matvecMax = 1 // largest row count lowered to GEMV rather than GEMM
)

// lowerNode emits the launches of one node.
func (gl *graphLowering) lowerNode(n *ir.Node) error {
	out := n.Outputs[0]
	switch n.Op {
	case "view", "transfer":
		return nil // aliases: the readers see the strides
	case "constant", "iota":
		return gl.lowerConstant(n)
	case "embedding":
		return gl.lowerEmbedding(n)
	case "rms_norm":
		return gl.lowerRMSNorm(n)
	case "linear":
		return gl.lowerLinear(n)
	case "silu_mul":
		args, err := gl.denseArgs(n.Inputs[0], n.Inputs[1], out)
		if err != nil {
			return err
		}
		count := out.Type.Shape.NumElements()
		gl.launch(gl.typed("silu_mul", out), [3]int{int(count)}, [3]int{wg}, append(args, intArg(count))...)
		return nil
	case "masked_softmax":
		return gl.lowerSoftmax(n)
	case "grouped_matmul":
		return gl.lowerGroupedMatmul(n)
	case "rope":
		return gl.lowerRope(n)
	case "cache_write":
		return gl.lowerCacheWrite(n)
	case "cast", "copy":
		return gl.lowerCopy(n)
	}
	if code, ok := unaryOps[n.Op]; ok {
		return gl.lowerElementwise(n, "unary", code, n.Attrs.Float("exponent", 0))
	}
	if code, ok := binaryOps[n.Op]; ok {
		return gl.lowerElementwise(n, "binary", code, 0)
	}
	return fmt.Errorf("op %s has no GPU kernel (the default pipeline fuses the graph into ops that do; was it compiled with --passes none?)", n.Op)
}

// typed is the name of template op instantiated for v's dtype.
func (gl *graphLowering) typed(op string, v *ir.Value) string {
	d, _ := dtypeOf(v)
	gl.dtypes[d] = true
	return kernels.Name(op, d)
}

func (gl *graphLowering) lowerConstant(n *ir.Node) error {
	out := n.Outputs[0]
	d, err := dtypeOf(out)
	if err != nil {
		return err
	}
	t, err := ref.EvalNode(n, nil)
	if err != nil {
		return err
	}
	var data []byte
	if d == schedule.I32 {
		data = runner.EncodeInts(t.I)
	} else {
		data = runner.Encode(d, t.F)
	}
	id := gl.constant(gl.g.Name+"."+out.Name, d, slices.Clone(out.Type.Shape), data)
	gl.loc[out] = schedule.Tensor{Buf: id, DType: d, Shape: slices.Clone(out.Type.Shape), Strides: out.Type.Shape.RowMajorStrides()}
	return nil
}

func (gl *graphLowering) lowerEmbedding(n *ir.Node) error {
	out := n.Outputs[0]
	args, err := gl.denseArgs(n.Inputs[0], n.Inputs[1], out)
	if err != nil {
		return err
	}
	if n.Inputs[1].Type.DType != ir.I32 {
		return fmt.Errorf("token ids are %s, want i32", n.Inputs[1].Type.DType)
	}
	rows, dim := n.Inputs[1].Type.Shape.NumElements(), n.Inputs[0].Type.Shape[1]
	gl.launch(gl.typed("embedding", out), [3]int{int(rows * dim)}, [3]int{wg}, append(args, intArg(rows), intArg(dim))...)
	return nil
}

func (gl *graphLowering) lowerRMSNorm(n *ir.Node) error {
	out := n.Outputs[0]
	x, w := n.Inputs[0], n.Inputs[0]
	hasWeight := int64(0)
	if len(n.Inputs) > 1 {
		w, hasWeight = n.Inputs[1], 1
	}
	if w.Type.DType != x.Type.DType || out.Type.DType != x.Type.DType {
		return fmt.Errorf("rms_norm kernel wants one dtype for x, weight and output")
	}
	args, err := gl.denseArgs(x, w, out)
	if err != nil {
		return err
	}
	dim := x.Type.Shape[len(x.Type.Shape)-1]
	rows := x.Type.Shape.NumElements() / max(dim, 1)
	gl.launch(gl.typed("rms_norm", out), [3]int{int(rows) * wg}, [3]int{wg},
		append(args, intArg(dim), floatArg(n.Attrs.Float("eps", 0)), intArg(hasWeight))...)
	return nil
}

func (gl *graphLowering) lowerLinear(n *ir.Node) error {
	out := n.Outputs[0]
	x, w := n.Inputs[0], n.Inputs[1]
	// Absent epilogue operands are passed as the output itself; the flags
	// keep the kernel from reading them.
	bias, res := out, out
	next, flags := 2, int64(0)
	if n.Attrs.Int("bias", 0) != 0 {
		bias, flags, next = n.Inputs[next], flags|1, next+1
	}
	if n.Attrs.Int("residual", 0) != 0 {
		res, flags = n.Inputs[next], flags|2
	}
	for _, v := range []*ir.Value{x, w, bias, res} {
		if v.Type.DType != out.Type.DType {
			return fmt.Errorf("linear kernel wants one dtype: %%%s is %s, the output %s", v.Name, v.Type.DType, out.Type.DType)
		}
	}
	args, err := gl.denseArgs(x, w, bias, res, out)
	if err != nil {
		return err
	}
	N, K := w.Type.Shape[0], w.Type.Shape[1]
	M := out.Type.Shape.NumElements() / max(N, 1)
	args = append(args, intArg(M), intArg(N), intArg(K), intArg(flags))
	if M <= matvecMax {
		gl.launch(gl.typed("linear_gemv", out), [3]int{int(N) * wg, int(M)}, [3]int{wg, 1}, args...)
		return nil
	}
	gl.launch(gl.typed("linear_gemm", out), [3]int{int(N), int(M)}, [3]int{tile, tile}, args...)
	return nil
}
