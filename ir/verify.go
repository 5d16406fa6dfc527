package ir

import (
	"errors"
	"fmt"
	"strings"
)

// Verify checks the whole model: symbol tables, then every graph. The error
// names the graph, the node (by index and text) and what was expected.
func (m *Model) Verify() error {
	seen := map[string]bool{}
	check := func(what string, v *Value, kind ValueKind) error {
		if v == nil || !ValidName(v.Name) {
			return fmt.Errorf("%s with an invalid name (want letters, digits, '_' and '.')", what)
		}
		if seen[v.Name] {
			return fmt.Errorf("%s @%s declared twice", what, v.Name)
		}
		seen[v.Name] = true
		if v.Kind != kind {
			return fmt.Errorf("%s @%s has the wrong value kind", what, v.Name)
		}
		if err := CheckType(v.Type); err != nil {
			return fmt.Errorf("%s @%s has an invalid type: %v", what, v.Name, err)
		}
		return nil
	}
	for _, w := range m.Weights {
		if err := check("weight", w.Value, WeightValue); err != nil {
			return err
		}
		if w.File == "" || w.Tensor == "" {
			return fmt.Errorf("weight @%s: missing file or tensor name", w.Value.Name)
		}
	}
	for _, s := range m.States {
		if err := check("state", s.Value, StateValue); err != nil {
			return err
		}
		if s.Value.Type.DType.IsQuantized() {
			return fmt.Errorf("state @%s is %v: only weights may be quantized", s.Value.Name, s.Value.Type)
		}
	}
	graphs := map[string]bool{}
	symbols := m.symbolSet()
	for _, g := range m.Graphs {
		if !ValidName(g.Name) {
			return fmt.Errorf("graph %.80q has an invalid name (want letters, digits, '_' and '.')", g.Name)
		}
		if graphs[g.Name] {
			return fmt.Errorf("graph %q declared twice", g.Name)
		}
		graphs[g.Name] = true
		if err := verifyGraph(g, symbols); err != nil {
			return err
		}
	}
	return nil
}

// VerifyGraph checks that g is well formed SSA in execution order, that each
// node's op exists and its declared output types are what the op infers, and
// that every weight or state it reads belongs to m.
func (m *Model) VerifyGraph(g *Graph) error { return verifyGraph(g, m.symbolSet()) }

// symbolSet is the set of m's weights and states.
func (m *Model) symbolSet() map[*Value]bool {
	symbols := make(map[*Value]bool, len(m.Weights)+len(m.States))
	for _, w := range m.Weights {
		symbols[w.Value] = true
	}
	for _, s := range m.States {
		symbols[s.Value] = true
	}
	return symbols
}

// verifyGraph is VerifyGraph against a model's symbols (computed once for
// all graphs).
func verifyGraph(g *Graph, symbols map[*Value]bool) error {
	defined := map[*Value]bool{}
	names := map[string]bool{}
	define := func(v *Value) error {
		if v == nil || !ValidName(v.Name) {
			return errors.New("value with an invalid name (want letters, digits, '_' and '.')")
		}
		if names[v.Name] {
			return fmt.Errorf("%%%s defined twice", v.Name)
		}
		names[v.Name] = true
		defined[v] = true
		return nil
	}
	for _, v := range g.Inputs {
		if v == nil {
			return fmt.Errorf("graph %s: an input is missing", g.Name)
		}
		if v.Kind != Input {
			return fmt.Errorf("graph %s: input %%%s is not marked as an input", g.Name, v.Name)
		}
		if err := define(v); err != nil {
			return fmt.Errorf("graph %s: input: %w", g.Name, err)
		}
		if err := CheckType(v.Type); err != nil {
			return fmt.Errorf("graph %s: input %%%s has an invalid type: %v", g.Name, v.Name, err)
		}
		if v.Type.DType.IsQuantized() {
			return fmt.Errorf("graph %s: input %%%s is %v: only weights may be quantized", g.Name, v.Name, v.Type)
		}
	}
	for i, n := range g.Nodes {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("graph %s: node %d `%s`: %s", g.Name, i, shortNode(n), fmt.Sprintf(format, args...))
		}
		if n == nil {
			return fmt.Errorf("graph %s: node %d is missing", g.Name, i)
		}
		// Declared types first: inference may multiply dimensions, and
		// on types that passed CheckType no product overflows.
		for j, o := range n.Outputs {
			if o == nil {
				return fail("output %d is missing", j)
			}
			if err := CheckType(o.Type); err != nil {
				return fail("output %%%s has an invalid type: %v", o.Name, err)
			}
		}
		types := make([]TensorType, len(n.Inputs))
		for j, in := range n.Inputs {
			switch {
			case in == nil:
				return fail("input %d is missing", j)
			case in.Kind == WeightValue || in.Kind == StateValue:
				if !symbols[in] {
					return fail("input %d @%s is not a weight or state of this model", j, in.Name)
				}
			case !defined[in]:
				return fail("input %d %%%s is used before it is defined", j, in.Name)
			}
			types[j] = in.Type
		}
		if err := checkQuantizedUse(n); err != nil {
			return fail("%v", err)
		}
		want, err := InferTypes(n.Op, types, n.Attrs)
		if err != nil {
			return fail("%v", err)
		}
		if len(want) != len(n.Outputs) {
			return fail("has %d outputs, op %s produces %d", len(n.Outputs), n.Op, len(want))
		}
		for j, o := range n.Outputs {
			if !o.Type.Equal(want[j]) {
				return fail("output %%%s is declared %v, op %s gives %v", o.Name, o.Type, n.Op, want[j])
			}
			if o.Def != n || o.Kind != Local {
				return fail("output %%%s is not owned by this node", o.Name)
			}
			if err := define(o); err != nil {
				return fail("%v", err)
			}
		}
		if n.Op == "cache_write" && n.Inputs[0].Kind != StateValue {
			return fail("cache_write must write a state (@name), not %%%s", n.Inputs[0].Name)
		}
		if n.Op == "attention" {
			for _, c := range n.Inputs[3:5] {
				if c.Kind != StateValue {
					return fail("attention must write its caches in place: %s is not a state", Ref(c))
				}
			}
		}
	}
	if len(g.Outputs) == 0 {
		return fmt.Errorf("graph %s has no outputs", g.Name)
	}
	for _, o := range g.Outputs {
		if o == nil || !(defined[o] || symbols[o]) {
			return fmt.Errorf("graph %s: output is not a value of the graph", g.Name)
		}
	}
	return nil
}

// ValidName reports whether s can name a value in the text format.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// shortNode is a node's text for an error line, cut short: a node read from
// a file may carry a constant of a million values.
func shortNode(n *Node) string {
	const limit = 300
	s := FormatNode(n)
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}

// checkQuantizedUse allows quantized tensors (q8_0, q4_0) only where a
// kernel dequantizes them as it reads: a model weight (or a concatenation
// of weights along axis 0, a packed weight) read as linear's weight or as
// embedding's table. Anything else would need a dequantized copy.
func checkQuantizedUse(n *Node) error {
	for j, in := range n.Inputs {
		if in == nil || !in.Type.DType.IsQuantized() {
			continue
		}
		switch {
		case n.Op == "linear" && j == 1, n.Op == "embedding" && j == 0:
		case n.Op == "concat" && (n.Attrs.Int("axis", 0) == 0 || n.Attrs.Int("axis", 0) == -2):
		default:
			return fmt.Errorf("%s reads %s (%v) as input %d: a quantized tensor is read only as linear's weight, embedding's table or by a concat of weights along axis 0", n.Op, Ref(in), in.Type, j)
		}
		if in.Kind != WeightValue && (in.Def == nil || in.Def.Op != "concat") {
			return fmt.Errorf("%s reads %s (%v): only weights (and their concatenations) may be quantized", n.Op, Ref(in), in.Type)
		}
	}
	for _, o := range n.Outputs {
		if o != nil && o.Type.DType.IsQuantized() {
			if n.Op != "concat" {
				return fmt.Errorf("%s gives %%%s of type %v: only weights (and their concatenations) may be quantized", n.Op, o.Name, o.Type)
			}
			for _, in := range n.Inputs {
				if in == nil || in.Kind != WeightValue {
					return fmt.Errorf("concat gives %%%s of type %v from an operand that is not a weight: only weights are quantized", o.Name, o.Type)
				}
			}
		}
	}
	return nil
}
