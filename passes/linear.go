package passes

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir"
)

// runLinear fuses nn.Linear and its epilogues:
//
//	y = matmul(x, transpose(W, [1,0]))    W [N, K] as stored
//	y = y + b                              optional, b [N] (Qwen2's q/k/v bias)
//	y = y + r  (or r + y)                  optional, r of y's type (the residual)
//
// into linear(x, W[, b][, r]) {bias, residual}: the kernel reads each weight
// row once and adds the epilogues before storing, and no transposed weight
// view or intermediate sum exists.
//
// A linear the importer wrote as such (its weight quantized: a quantized
// weight has no primitive form) gets its residual the same way.
func runLinear(c *Context) {
	fuseEach(c, func(n *ir.Node) bool { return n.Op == "matmul" && defOp(n.Inputs[1], "transpose") != nil }, fuseLinear)
	fuseEach(c, func(n *ir.Node) bool {
		return n.Op == "linear" && n.Inputs[1].Type.DType.IsQuantized() &&
			n.Attrs.Int("residual", 0) == 0 && n.Attrs.Int("glu", 0) == 0 && n.Attrs.Int("norm", 0) == 0
	}, fuseLinearResidual)
}

// fuseLinearResidual adds the residual epilogue to a linear without one.
func fuseLinearResidual(r *rewriter, n *ir.Node) error {
	y := n.Outputs[0]
	add := r.soleUser(y)
	if add == nil || add.Op != "add" {
		return fmt.Errorf("no residual add reads the result alone")
	}
	res := otherOperand(add, y)
	if res == y || !res.Type.Equal(y.Type) {
		return fmt.Errorf("the add's other operand is not a residual of the result's type")
	}
	a := ir.Attrs{}
	for k, v := range n.Attrs {
		a[k] = v
	}
	a["residual"] = int64(1)
	in := append(append([]*ir.Value{}, n.Inputs...), res)
	return r.replace(add, "linear", a, in...)
}

func fuseLinear(r *rewriter, mm *ir.Node) error {
	t := defOp(mm.Inputs[1], "transpose")
	if r := len(t.Inputs[0].Type.Shape); r != 2 {
		return fmt.Errorf("the transposed operand has rank %d: a batched matmul, not a linear layer's weight", r)
	}
	if !slices.Equal(t.Attrs.Ints("perm"), []int64{1, 0}) {
		return fmt.Errorf("the weight is permuted by %v", t.Attrs.Ints("perm"))
	}
	x, w := mm.Inputs[0], t.Inputs[0]
	if len(x.Type.Shape) != 2 && len(x.Type.Shape) != 3 {
		return fmt.Errorf("x is %v, want rank 2 or 3", x.Type)
	}
	in := []*ir.Value{x, w}
	a := ir.Attrs{}
	root, y := mm, mm.Outputs[0]
	n := w.Type.Shape[0]
	if add := r.soleUser(y); add != nil && add.Op == "add" {
		if b := otherOperand(add, y); b != y && b.Type.Equal(ir.T(y.Type.DType, n)) {
			in = append(in, b)
			a["bias"] = int64(1)
			root, y = add, add.Outputs[0]
		}
	}
	if add := r.soleUser(y); add != nil && add.Op == "add" {
		if res := otherOperand(add, y); res != y && res.Type.Equal(y.Type) {
			in = append(in, res)
			a["residual"] = int64(1)
			root = add
		}
	}
	return r.replace(root, "linear", a, in...)
}
