package passes

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// runSiLUMul fuses the SwiGLU gate: silu(a)*b, or a*sigmoid(a)*b, becomes
// silu_mul(a, b) when b has a's type (no broadcasting).
func runSiLUMul(c *Context) {
	fuseEach(c, func(n *ir.Node) bool { return n.Op == "silu" || n.Op == "sigmoid" }, fuseSiLUMul)
}

func fuseSiLUMul(r *rewriter, n *ir.Node) error {
	a := n.Inputs[0]
	pattern := []*ir.Node{n}
	s := n.Outputs[0]
	if n.Op == "sigmoid" {
		m := r.soleUser(s)
		if m == nil || m.Op != "mul" {
			return fmt.Errorf("sigmoid result is not read by exactly one mul")
		}
		if otherOperand(m, s) != a {
			return fmt.Errorf("sigmoid(%s) multiplies %s, not its own input", ir.Ref(a), ir.Ref(otherOperand(m, s)))
		}
		pattern = append(pattern, m)
		s = m.Outputs[0]
	}
	gate := r.soleUser(s)
	if gate == nil || gate.Op != "mul" {
		return fmt.Errorf("silu(%s) is not read by exactly one mul", ir.Ref(a))
	}
	b := otherOperand(gate, s)
	if !b.Type.Equal(a.Type) {
		return fmt.Errorf("the gate multiplies %s %v, which is not %s's type %v (broadcasting)", ir.Ref(b), b.Type, ir.Ref(a), a.Type)
	}
	if err := r.replace(gate, "silu_mul", nil, a, b); err != nil {
		return err
	}
	r.takeName(gate.Outputs[0], n.Outputs[0])
	return nil
}
