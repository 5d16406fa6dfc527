package codegen

import (
	"fmt"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// rank4 pads a shape and its strides to rank 4 in front.
func rank4(shape, strides []int64) ([4]int64, [4]int64, error) {
	var d, s [4]int64
	if len(shape) > 4 {
		return d, s, fmt.Errorf("elementwise kernels take rank <= 4, got shape %v", shape)
	}
	pad := 4 - len(shape)
	for i := range 4 {
		d[i] = 1
		if i >= pad {
			d[i], s[i] = shape[i-pad], strides[i-pad]
		}
	}
	return d, s, nil
}

// broadcastStrides reads t over the output shape: right-aligned, stride 0
// on broadcast axes.
func broadcastStrides(t schedule.Tensor, outShape []int64) []int64 {
	st := make([]int64, len(outShape))
	off := len(outShape) - len(t.Shape)
	for i := range t.Shape {
		if t.Shape[i] != 1 {
			st[off+i] = t.Strides[i]
		}
	}
	return st
}

// lowerElementwise launches the unary or binary kernel k for op code
// code: operands read through strides over the output shape.
func (gl *graphLowering) lowerElementwise(n *ir.Node, k *kernels.Kernel, code int64, param float64) error {
	out := n.Outputs[0]
	count := out.Type.Shape.NumElements()
	args := kernels.Args{"op": intArg(code), "n": intArg(count)}
	if err := gl.bindDense(args, operand{"out", out}); err != nil {
		return err
	}
	names := []string{"x"}
	if k == kernels.Binary {
		names = []string{"a", "b"}
	} else {
		if !out.Type.DType.IsFloat() {
			return fmt.Errorf("%s on %s has no kernel (float types only)", n.Op, out.Type.DType)
		}
		args["p"] = floatArg(param)
	}
	var dims [4]int64
	for i, v := range n.Inputs {
		if v.Type.DType != out.Type.DType {
			return fmt.Errorf("%s kernel wants one dtype, %%%s is %s", k.Name, v.Name, v.Type.DType)
		}
		a, t, err := gl.arg(v)
		if err != nil {
			return err
		}
		d, s, err := rank4(out.Type.Shape, broadcastStrides(t, out.Type.Shape))
		if err != nil {
			return err
		}
		dims = d
		args[names[i]] = a
		// Strides are named after the operand: s0.. for the unary's x,
		// sa0.. and sb0.. for the binary's a and b.
		prefix := "s"
		if k == kernels.Binary {
			prefix += names[i]
		}
		for j, x := range s {
			args[fmt.Sprintf("%s%d", prefix, j)] = intArg(x)
		}
	}
	for j := 1; j < 4; j++ {
		args[fmt.Sprintf("d%d", j)] = intArg(dims[j])
	}
	return gl.launchTyped(k, out, [3]int{int(count)}, args)
}

// lowerCopy makes a dense copy of a strided tensor, converting its dtype
// for a cast: bit for bit when the dtype stays.
func (gl *graphLowering) lowerCopy(n *ir.Node) error {
	out := n.Outputs[0]
	xa, tx, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	oa, err := gl.dense1(out)
	if err != nil {
		return err
	}
	from := tx.DType
	dto, err := dtypeOf(out)
	if err != nil {
		return err
	}
	gl.dtypes[from], gl.dtypes[dto] = true, true
	d, s, err := rank4(tx.Shape, tx.Strides)
	if err != nil {
		return err
	}
	count := out.Type.Shape.NumElements()
	k, name := kernels.Copy, kernels.Copy.Instance(dto)
	if from != dto {
		gl.casts[[2]schedule.DType{from, dto}] = true
		k, name = kernels.Cast, kernels.Cast.Instance(from, dto)
	}
	args := kernels.Args{"x": xa, "out": oa, "n": intArg(count), "d1": intArg(d[1]), "d2": intArg(d[2]), "d3": intArg(d[3])}
	for j, x := range s {
		args[fmt.Sprintf("s%d", j)] = intArg(x)
	}
	return gl.launch(k, name, [3]int{int(count)}, args)
}
