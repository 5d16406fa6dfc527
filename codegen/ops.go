package codegen

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// lowerNode emits the launches of one node.
func (gl *graphLowering) lowerNode(n *ir.Node) error {
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
		return gl.lowerSiLUMul(n)
	case "masked_softmax":
		return gl.lowerSoftmax(n)
	case "grouped_matmul":
		return gl.lowerGroupedMatmul(n)
	case "rope":
		return gl.lowerRope(n)
	case "attention":
		return gl.lowerAttention(n)
	case "cache_write":
		return gl.lowerCacheWrite(n)
	case "cast", "copy":
		return gl.lowerCopy(n)
	case "concat":
		return gl.lowerConcat(n)
	}
	if code, ok := kernels.Code(kernels.UnaryOps, n.Op); ok {
		return gl.lowerElementwise(n, kernels.Unary, code, n.Attrs.Float("exponent", 0))
	}
	if code, ok := kernels.Code(kernels.BinaryOps, n.Op); ok {
		return gl.lowerElementwise(n, kernels.Binary, code, 0)
	}
	return fmt.Errorf("op %s has no GPU kernel (the default pipeline fuses the graph into ops that do; was it compiled with --passes none?)", n.Op)
}

// typed is the instance of kernel k for v's dtype.
func (gl *graphLowering) typed(k *kernels.Kernel, v *ir.Value) (string, error) {
	d, err := dtypeOf(v)
	if err != nil {
		return "", err
	}
	if k.Inst == kernels.FloatTypes && d == schedule.I32 {
		return "", fmt.Errorf("the %s kernel takes float tensors, %%%s is %s", k.Name, v.Name, v.Type.DType)
	}
	gl.dtypes[d] = true
	return k.Instance(d), nil
}

// launchTyped launches k's instance for out's dtype.
func (gl *graphLowering) launchTyped(k *kernels.Kernel, out *ir.Value, extent [3]int, args kernels.Args) error {
	name, err := gl.typed(k, out)
	if err != nil {
		return err
	}
	return gl.launch(k, name, extent, args)
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
		data = schedule.EncodeInts(t.I)
	} else {
		data = schedule.Encode(d, t.F)
	}
	id := gl.constant(gl.g.Name+"."+out.Name, d, slices.Clone(out.Type.Shape), data)
	gl.loc[out] = schedule.Tensor{Buf: id, DType: d, Shape: slices.Clone(out.Type.Shape), Strides: out.Type.Shape.RowMajorStrides()}
	return nil
}

func (gl *graphLowering) lowerEmbedding(n *ir.Node) error {
	out := n.Outputs[0]
	if n.Inputs[1].Type.DType != ir.I32 {
		return fmt.Errorf("token ids are %s, want i32", n.Inputs[1].Type.DType)
	}
	rows, vocab, dim := n.Inputs[1].Type.Shape.NumElements(), n.Inputs[0].Type.Shape[0], n.Inputs[0].Type.Shape[1]
	args := kernels.Args{"rows": intArg(rows), "dim": intArg(dim), "vocab": intArg(vocab)}
	if err := gl.bindDense(args, operand{"table", n.Inputs[0]}, operand{"ids", n.Inputs[1]}, operand{"out", out}); err != nil {
		return err
	}
	if n.Inputs[0].Type.DType != out.Type.DType {
		return gl.launchMixed(kernels.EmbeddingMixed, out, n.Inputs[0], [3]int{int(rows * dim)}, args)
	}
	return gl.launchTyped(kernels.Embedding, out, [3]int{int(rows * dim)}, args)
}

// launchMixed launches k's instance for out's float dtype and weight w's
// other dtype (quantized, or another float type).
func (gl *graphLowering) launchMixed(k *kernels.Kernel, out, w *ir.Value, extent [3]int, args kernels.Args) error {
	name, err := gl.mixedInstance(k, out, w)
	if err != nil {
		return err
	}
	return gl.launch(k, name, extent, args)
}

// mixedInstance is the instance of k for out's float dtype and w's
// other one.
func (gl *graphLowering) mixedInstance(k *kernels.Kernel, out, w *ir.Value) (string, error) {
	d, err := dtypeOf(out)
	if err != nil {
		return "", err
	}
	q, err := dtypeOf(w)
	if err != nil {
		return "", err
	}
	if d == schedule.I32 || q == d || q == schedule.I32 {
		return "", fmt.Errorf("the %s kernel reads a weight of another type into floats: %%%s is %s, %s is %s", k.Name, out.Name, out.Type.DType, ir.Ref(w), w.Type.DType)
	}
	gl.dtypes[d] = true
	gl.mixed[[2]schedule.DType{d, q}] = true
	return k.Instance(d, q), nil
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
	dim := x.Type.Shape[len(x.Type.Shape)-1]
	rows := x.Type.Shape.NumElements() / max(dim, 1)
	args := kernels.Args{"dim": intArg(dim), "eps": floatArg(n.Attrs.Float("eps", 0)), "has_weight": intArg(hasWeight)}
	if err := gl.bindDense(args, operand{"x", x}, operand{"w", w}, operand{"out", out}); err != nil {
		return err
	}
	return gl.launchTyped(kernels.RMSNorm, out, [3]int{int(rows)}, args)
}

func (gl *graphLowering) lowerSiLUMul(n *ir.Node) error {
	out := n.Outputs[0]
	count := out.Type.Shape.NumElements()
	args := kernels.Args{"n": intArg(count)}
	if err := gl.bindDense(args, operand{"gate", n.Inputs[0]}, operand{"up", n.Inputs[1]}, operand{"out", out}); err != nil {
		return err
	}
	return gl.launchTyped(kernels.SiLUMul, out, [3]int{int(count)}, args)
}
