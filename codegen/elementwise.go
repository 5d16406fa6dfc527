package codegen

import (
	"fmt"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// The elementwise ops' codes, the OP_* constants of typed.c.in.
var (
	unaryOps  = map[string]int64{"neg": 1, "sqrt": 2, "rsqrt": 3, "exp": 4, "sigmoid": 5, "silu": 6, "cos": 7, "sin": 8, "pow": 9}
	binaryOps = map[string]int64{"add": 0, "sub": 1, "mul": 2, "div": 3}
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

func (gl *graphLowering) lowerElementwise(n *ir.Node, template string, code int64, param float64) error {
	out := n.Outputs[0]
	oa, err := gl.denseArgs(out)
	if err != nil {
		return err
	}
	count := out.Type.Shape.NumElements()
	var args, strides []schedule.Arg
	var dims [4]int64
	for _, v := range n.Inputs {
		if v.Type.DType != out.Type.DType {
			return fmt.Errorf("%s kernel wants one dtype, %%%s is %s", template, v.Name, v.Type.DType)
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
		args = append(args, a)
		for _, x := range s {
			strides = append(strides, intArg(x))
		}
	}
	args = append(args, oa[0], intArg(code))
	if template == "unary" {
		if !out.Type.DType.IsFloat() {
			return fmt.Errorf("%s on %s has no kernel (float types only)", n.Op, out.Type.DType)
		}
		args = append(args, floatArg(param))
	}
	args = append(args, intArg(count), intArg(dims[1]), intArg(dims[2]), intArg(dims[3]))
	gl.launch(gl.typed(template, out), [3]int{int(count)}, [3]int{wg}, append(args, strides...)...)
	return nil
}

// lowerCopy makes a dense copy of a strided tensor, converting its dtype
// for a cast: bit for bit when the dtype stays.
func (gl *graphLowering) lowerCopy(n *ir.Node) error {
	out := n.Outputs[0]
	xa, tx, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	oa, err := gl.denseArgs(out)
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
	name := kernels.Name("copy", dto)
	if from != dto {
		gl.casts[[2]schedule.DType{from, dto}] = true
		name = kernels.CastName(from, dto)
	}
	args := []schedule.Arg{xa, oa[0], intArg(count), intArg(d[1]), intArg(d[2]), intArg(d[3])}
	for _, x := range s {
		args = append(args, intArg(x))
	}
	gl.launch(name, [3]int{int(count)}, [3]int{wg}, args...)
	return nil
}
