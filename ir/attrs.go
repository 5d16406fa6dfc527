package ir

import "fmt"

// AttrKind is the kind of value an attribute holds.
type AttrKind uint8

const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrDType
)

func (k AttrKind) String() string {
	return [...]string{"?", "int", "float", "string", "ints", "floats", "dtype"}[k]
}

// Attrs are a node's attributes. Values are int64, float64, string, []int64,
// []float64 or DType; the op registry says which attribute has which kind.
type Attrs map[string]any

// KindOf returns the kind of an attribute value, or 0 for an unsupported Go type.
func KindOf(v any) AttrKind {
	switch v.(type) {
	case int64:
		return AttrInt
	case float64:
		return AttrFloat
	case string:
		return AttrString
	case []int64:
		return AttrInts
	case []float64:
		return AttrFloats
	case DType:
		return AttrDType
	}
	return 0
}

// Int returns an int attribute; the verifier has checked kinds, so a missing
// attribute yields def.
func (a Attrs) Int(name string, def int64) int64 {
	if v, ok := a[name].(int64); ok {
		return v
	}
	return def
}

// Float returns a float attribute or def.
func (a Attrs) Float(name string, def float64) float64 {
	if v, ok := a[name].(float64); ok {
		return v
	}
	return def
}

// Ints returns an int-list attribute (nil when absent).
func (a Attrs) Ints(name string) []int64 { v, _ := a[name].([]int64); return v }

// Floats returns a float-list attribute (nil when absent).
func (a Attrs) Floats(name string) []float64 { v, _ := a[name].([]float64); return v }

// String returns a string attribute ("" when absent).
func (a Attrs) String(name string) string { v, _ := a[name].(string); return v }

// DType returns a dtype attribute (Invalid when absent).
func (a Attrs) DType(name string) DType { v, _ := a[name].(DType); return v }

func (a Attrs) clone() Attrs {
	c := make(Attrs, len(a))
	for k, v := range a {
		switch v := v.(type) {
		case []int64:
			c[k] = append([]int64(nil), v...)
		case []float64:
			c[k] = append([]float64(nil), v...)
		default:
			c[k] = v
		}
	}
	return c
}

func checkAttrs(def *OpDef, a Attrs) error {
	for _, spec := range def.Attrs {
		v, ok := a[spec.Name]
		if !ok {
			if spec.Optional {
				continue
			}
			return fmt.Errorf("missing attribute %q (%s)", spec.Name, spec.Kind)
		}
		if k := KindOf(v); k != spec.Kind {
			return fmt.Errorf("attribute %q is %s, want %s", spec.Name, KindOf(v), spec.Kind)
		}
	}
	for name, v := range a {
		if spec, ok := placementAttrs[name]; ok {
			if k := KindOf(v); k != spec.Kind {
				return fmt.Errorf("attribute %q is %s, want %s", name, k, spec.Kind)
			}
			continue
		}
		if def.attr(name) == nil {
			return fmt.Errorf("unknown attribute %q for op %s", name, def.Name)
		}
	}
	return nil
}

// Placement attributes may sit on any node: the partitioning pass records
// there which partition of the graph's DAG runs the node, and on which device.
const (
	AttrPartition = "part"
	AttrDevice    = "device"
)

var placementAttrs = map[string]AttrSpec{
	AttrPartition: {Name: AttrPartition, Kind: AttrInt, Doc: "index of the partition that runs the node"},
	AttrDevice:    {Name: AttrDevice, Kind: AttrString, Doc: "device of that partition (the target, or cpu)"},
}

// attrOrPlacement returns the spec of one of the op's attributes or of a
// placement attribute, or nil.
func (d *OpDef) attrOrPlacement(name string) *AttrSpec {
	if s := d.attr(name); s != nil {
		return s
	}
	if s, ok := placementAttrs[name]; ok {
		return &s
	}
	return nil
}
