package ir

import (
	"fmt"
	"math"
	"slices"
)

// View ops: they move or select elements without arithmetic.

func init() {
	Register(&OpDef{Name: "reshape", Doc: "Same elements in row-major order, new shape.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "shape", Kind: AttrInts}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			s := Shape(a.Ints("shape"))
			if err := checkDims(s); err != nil {
				return nil, err
			}
			n, ok := in[0].Shape.Elements()
			if want, _ := s.Elements(); !ok || n != want {
				return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", in[0].Shape, n, s, want)
			}
			return []TensorType{{DType: in[0].DType, Shape: s.Clone()}}, nil
		}})
	Register(&OpDef{Name: "transpose", Doc: "Permutes axes: output axis i is input axis perm[i].", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "perm", Kind: AttrInts}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			perm := a.Ints("perm")
			if len(perm) != len(in[0].Shape) {
				return nil, fmt.Errorf("perm %v has %d entries for rank %d", perm, len(perm), len(in[0].Shape))
			}
			out := make(Shape, len(perm))
			seen := make([]bool, len(perm))
			for i, p := range perm {
				if p < 0 || int(p) >= len(perm) || seen[p] {
					return nil, fmt.Errorf("perm %v is not a permutation", perm)
				}
				seen[p] = true
				out[i] = in[0].Shape[p]
			}
			return []TensorType{{DType: in[0].DType, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "expand", Doc: "Broadcasts size-1 axes (and new leading axes) to shape.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "shape", Kind: AttrInts}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			s := Shape(a.Ints("shape"))
			if err := checkDims(s); err != nil {
				return nil, err
			}
			if len(s) < len(in[0].Shape) {
				return nil, fmt.Errorf("cannot expand rank %d to rank %d", len(in[0].Shape), len(s))
			}
			off := len(s) - len(in[0].Shape)
			for i, d := range in[0].Shape {
				if d != 1 && d != s[off+i] {
					return nil, fmt.Errorf("cannot expand %v to %v (axis %d is %d)", in[0].Shape, s, i, d)
				}
			}
			return []TensorType{{DType: in[0].DType, Shape: s.Clone()}}, nil
		}})
	Register(&OpDef{Name: "slice", Doc: "Elements start, start+step, ... below end along one axis.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}, {Name: "start", Kind: AttrInt}, {Name: "end", Kind: AttrInt},
			{Name: "step", Kind: AttrInt, Optional: true, Doc: "default 1"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			ax, err := normAxis(a.Int("axis", 0), len(in[0].Shape))
			if err != nil {
				return nil, err
			}
			start, end, step := a.Int("start", 0), a.Int("end", 0), a.Int("step", 1)
			if step < 1 || start < 0 || end < start || end > in[0].Shape[ax] {
				return nil, fmt.Errorf("slice [%d:%d:%d] out of range for axis %d of size %d", start, end, step, ax, in[0].Shape[ax])
			}
			out := in[0].Shape.Clone()
			out[ax] = (end - start) / step
			if (end-start)%step != 0 {
				out[ax]++
			}
			return []TensorType{{DType: in[0].DType, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "concat", Doc: "Joins tensors along an axis.", Inputs: []string{"x"}, Variadic: true,
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			ax, err := normAxis(a.Int("axis", 0), len(in[0].Shape))
			if err != nil {
				return nil, err
			}
			out := in[0].Shape.Clone()
			for i, t := range in[1:] {
				if t.DType != in[0].DType || len(t.Shape) != len(out) {
					return nil, fmt.Errorf("input %d is %v, incompatible with %v", i+1, t, in[0])
				}
				for j := range out {
					if j == ax {
						continue
					}
					if t.Shape[j] != out[j] {
						return nil, fmt.Errorf("input %d is %v, incompatible with %v off axis %d", i+1, t, in[0], ax)
					}
				}
				if out[ax] > math.MaxInt64-t.Shape[ax] {
					return nil, fmt.Errorf("concatenated axis %d overflows int64", ax)
				}
				out[ax] += t.Shape[ax]
			}
			return []TensorType{{DType: in[0].DType, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "unsqueeze", Doc: "Inserts a size-1 axis at position axis of the output.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			ax, err := normAxis(a.Int("axis", 0), len(in[0].Shape)+1)
			if err != nil {
				return nil, err
			}
			out := slices.Insert(in[0].Shape.Clone(), ax, 1)
			return []TensorType{{DType: in[0].DType, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "squeeze", Doc: "Removes a size-1 axis.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			ax, err := normAxis(a.Int("axis", 0), len(in[0].Shape))
			if err != nil {
				return nil, err
			}
			if in[0].Shape[ax] != 1 {
				return nil, fmt.Errorf("axis %d has size %d, want 1", ax, in[0].Shape[ax])
			}
			out := slices.Delete(in[0].Shape.Clone(), ax, ax+1)
			return []TensorType{{DType: in[0].DType, Shape: out}}, nil
		}})
}

// checkDims refuses a negative dimension and an element count that
// overflows int64 (shapes come from files and attributes).
func checkDims(s Shape) error {
	for _, d := range s {
		if d < 0 {
			return fmt.Errorf("negative dimension in %v", s)
		}
	}
	if _, ok := s.Elements(); !ok {
		return fmt.Errorf("shape %v has more elements than int64 can count", s)
	}
	return nil
}
