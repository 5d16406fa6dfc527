package codegen

import (
	"encoding/binary"
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

var unaryOps = map[string]int64{"neg": 1, "sqrt": 2, "rsqrt": 3, "exp": 4, "sigmoid": 5, "silu": 6, "cos": 7, "sin": 8, "pow": 9}
var binaryOps = map[string]int64{"add": 0, "sub": 1, "mul": 2, "div": 3}

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
		data = make([]byte, 4*len(t.I))
		for i, v := range t.I {
			binary.LittleEndian.PutUint32(data[4*i:], uint32(int32(v)))
		}
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

func (gl *graphLowering) lowerSoftmax(n *ir.Node) error {
	out := n.Outputs[0]
	x := n.Inputs[0]
	if n.Attrs.Int("causal", 0) == 0 {
		return fmt.Errorf("masked_softmax with an additive mask has no GPU kernel yet: only the causal (positions) form")
	}
	if out.Type.DType != x.Type.DType {
		return fmt.Errorf("masked_softmax kernel keeps the input dtype %s, the node gives %s", x.Type.DType, out.Type.DType)
	}
	args, err := gl.denseArgs(x, n.Inputs[1], out)
	if err != nil {
		return err
	}
	s := x.Type.Shape
	cols, rows := s[len(s)-1], s[len(s)-2]
	all := s.NumElements() / max(cols, 1)
	gl.launch(gl.typed("causal_softmax", out), [3]int{int(all) * wg}, [3]int{wg},
		append(args, intArg(rows), intArg(cols), floatArg(n.Attrs.Float("scale", 1)))...)
	return nil
}

func (gl *graphLowering) lowerGroupedMatmul(n *ir.Node) error {
	out := n.Outputs[0]
	aa, ta, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	ba, tb, err := gl.arg(n.Inputs[1])
	if err != nil {
		return err
	}
	oa, _, err := gl.arg(out)
	if err != nil {
		return err
	}
	H, M, K := ta.Shape[0], ta.Shape[1], ta.Shape[2]
	G, N := tb.Shape[0], tb.Shape[2]
	limit, pos, err := gl.causalLimit(n)
	if err != nil {
		return err
	}
	so := []int64{M * N, N, 1} // [H, M, N]
	if n.Attrs.Int("rows_first", 0) != 0 {
		so = []int64{N, H * N, 1} // [M, H, N] read as (h, m, n)
	}
	gl.launch(gl.typed("grouped_matmul", out), [3]int{int(N), int(M), int(H)}, [3]int{32, 1, 1},
		aa, ba, oa, pos, intArg(limit), intArg(H), intArg(G), intArg(M), intArg(K), intArg(N),
		intArg(ta.Strides[0]), intArg(ta.Strides[1]), intArg(ta.Strides[2]),
		intArg(tb.Strides[0]), intArg(tb.Strides[1]), intArg(tb.Strides[2]),
		intArg(so[0]), intArg(so[1]), intArg(so[2]))
	return nil
}

// Limits of a grouped_matmul in causal attention (see the template).
const (
	limitNone = 0
	limitN    = 1 // the scores feeding a causal softmax: skip columns past pos[m]
	limitK    = 2 // the causal softmax's probabilities times V: sum keys up to pos[m]
)

// causalLimit finds whether grouped_matmul n is one half of causal
// attention, and the positions that bound it: the scores when every reader
// of the output is a causal masked_softmax with positions per row, the
// weighted sum when a is such a softmax's output. Otherwise the positions
// argument is a placeholder the kernel does not read.
func (gl *graphLowering) causalLimit(n *ir.Node) (int64, schedule.Arg, error) {
	rowsPos := func(sm *ir.Node, rows int64) *ir.Value {
		if sm == nil || sm.Op != "masked_softmax" || sm.Attrs.Int("causal", 0) == 0 {
			return nil
		}
		if p := sm.Inputs[1]; p.Type.Shape.NumElements() == rows {
			return p
		}
		return nil
	}
	rows := n.Inputs[0].Type.Shape[1]
	out := n.Outputs[0]
	var pos *ir.Value
	limit := int64(limitNone)
	if p := rowsPos(n.Inputs[0].Def, rows); p != nil {
		pos, limit = p, limitK
	} else if users := gl.users[out]; len(users) > 0 && !slices.Contains(gl.g.Outputs, out) {
		pos, limit = rowsPos(users[0], rows), limitN
		for _, u := range users {
			if u.Inputs[0] != out || rowsPos(u, rows) != pos {
				pos = nil
			}
		}
	}
	if pos == nil {
		return limitNone, schedule.Arg{Kind: schedule.TensorArg, Buf: arenaBuf}, nil
	}
	args, err := gl.denseArgs(pos)
	if err != nil {
		return 0, schedule.Arg{}, err
	}
	return limit, args[0], nil
}

func (gl *graphLowering) lowerRope(n *ir.Node) error {
	out := n.Outputs[0]
	xa, tx, err := gl.arg(n.Inputs[0])
	if err != nil {
		return err
	}
	if len(tx.Shape) != 3 {
		return fmt.Errorf("rope kernel wants x as [heads, tokens, head_dim], got %v", tx.Shape)
	}
	rest, err := gl.denseArgs(n.Inputs[1], out)
	if err != nil {
		return err
	}
	invFreq := n.Attrs.Floats("inv_freq")
	freqs := make([]float32, len(invFreq))
	for i, f := range invFreq {
		freqs[i] = float32(f)
	}
	fb := gl.constant("rope.inv_freq", schedule.F32, []int64{int64(len(freqs))}, runner.Encode(schedule.F32, freqs))
	H, T, D := tx.Shape[0], tx.Shape[1], tx.Shape[2]
	half := int64(len(invFreq))
	if 2*half != D {
		return fmt.Errorf("rope has %d frequencies for head_dim %d, want head_dim/2", half, D)
	}
	gl.launch(gl.typed("rope", out), [3]int{int(H * T * half)}, [3]int{wg},
		xa, rest[0], schedule.Arg{Kind: schedule.TensorArg, Buf: fb}, rest[1],
		intArg(H), intArg(T), intArg(D), intArg(half), intArg(tx.Strides[0]), intArg(tx.Strides[1]), intArg(tx.Strides[2]))
	return nil
}

func (gl *graphLowering) lowerCacheWrite(n *ir.Node) error {
	state, rows := n.Inputs[0], n.Inputs[1]
	s := state.Type.Shape
	if ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(s)); len(s) != 3 || ax != 1 {
		return fmt.Errorf("cache_write kernel wants a [heads, positions, head_dim] cache written along axis 1")
	}
	ca, err := gl.denseArgs(state)
	if err != nil {
		return err
	}
	xa, tx, err := gl.arg(rows)
	if err != nil {
		return err
	}
	pa, err := gl.denseArgs(n.Inputs[2])
	if err != nil {
		return err
	}
	G, L, D, count := s[0], s[1], s[2], tx.Shape[1]
	gl.launch(gl.typed("cache_write", state), [3]int{int(G * count * D)}, [3]int{wg},
		ca[0], xa, pa[0], intArg(G), intArg(L), intArg(D), intArg(count),
		intArg(tx.Strides[0]), intArg(tx.Strides[1]), intArg(tx.Strides[2]))
	return nil
}

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
