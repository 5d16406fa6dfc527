package ref

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// evalFunc computes a node's single output from its inputs. Inputs have been
// checked against the node's declared types, so shapes are known good.
type evalFunc func(n *ir.Node, in []*Tensor) (*Tensor, error)

var evals = map[string]evalFunc{}

func register(op string, f evalFunc) {
	if ir.Lookup(op) == nil {
		panic("ref: evaluator for unregistered op " + op)
	}
	evals[op] = f
}

// Supports reports whether the interpreter implements op.
func Supports(op string) bool { return evals[op] != nil }

func eval(n *ir.Node, in []*Tensor) (*Tensor, error) {
	f := evals[n.Op]
	if f == nil {
		return nil, fmt.Errorf("ref runtime has no implementation of op %s", n.Op)
	}
	return f(n, in)
}

// evalChecked is eval after checkNode: a node whose result does not fit in
// memory is refused, naming the value, before it is allocated.
func evalChecked(n *ir.Node, in []*Tensor) (*Tensor, error) {
	if err := checkNode(n); err != nil {
		return nil, err
	}
	return eval(n, in)
}

// EvalNode computes n's single result from input tensors, as Run would; the
// compiler's constant folding uses it so that folded values are exactly what
// the oracle computes. Like Run it refuses a result that does not fit in
// memory.
func EvalNode(n *ir.Node, in []*Tensor) (*Tensor, error) { return evalChecked(n, in) }
