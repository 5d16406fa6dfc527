package ir

import (
	"fmt"
	"sort"
)

// AttrSpec declares one attribute of an op.
type AttrSpec struct {
	Name     string
	Kind     AttrKind
	Optional bool
	Doc      string
}

// OpDef declares an op once: its operands, attributes, type inference and
// documentation. Interpreters and kernel generators key their
// implementations by Name; a test checks that each covers every op.
type OpDef struct {
	Name string
	Doc  string
	// Inputs names the operands in order. With Variadic the last one
	// repeats and must appear at least once.
	Inputs   []string
	Variadic bool
	// OptionalInputs is how many trailing Inputs may be left out.
	OptionalInputs int
	Attrs          []AttrSpec
	// Infer computes the output types from the input types and attributes,
	// or explains why the node is ill-typed.
	Infer func(in []TensorType, a Attrs) ([]TensorType, error)
	// SideEffect marks ops that write model state: they are never dead.
	SideEffect bool
}

func (d *OpDef) attr(name string) *AttrSpec {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

var registry = map[string]*OpDef{}

// Register adds an op to the registry. It panics on a duplicate name, which
// is a programming error caught by any test.
func Register(d *OpDef) {
	if _, dup := registry[d.Name]; dup {
		panic("ir: op registered twice: " + d.Name)
	}
	registry[d.Name] = d
}

// Lookup returns the op definition for name, or nil.
func Lookup(name string) *OpDef { return registry[name] }

// Ops returns every registered op, sorted by name.
func Ops() []*OpDef {
	out := make([]*OpDef, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// InferTypes checks a would-be node against its op definition and returns
// its output types.
func InferTypes(op string, in []TensorType, a Attrs) ([]TensorType, error) {
	def := Lookup(op)
	if def == nil {
		return nil, fmt.Errorf("unknown op %q", op)
	}
	if def.Variadic {
		if len(in) < len(def.Inputs) {
			return nil, fmt.Errorf("%s takes at least %d inputs, got %d", op, len(def.Inputs), len(in))
		}
	} else if len(in) > len(def.Inputs) || len(in) < len(def.Inputs)-def.OptionalInputs {
		if def.OptionalInputs > 0 {
			return nil, fmt.Errorf("%s takes %d to %d inputs (%v), got %d", op, len(def.Inputs)-def.OptionalInputs, len(def.Inputs), def.Inputs, len(in))
		}
		return nil, fmt.Errorf("%s takes %d inputs (%v), got %d", op, len(def.Inputs), def.Inputs, len(in))
	}
	if err := checkAttrs(def, a); err != nil {
		return nil, err
	}
	return def.Infer(in, a)
}
