package ir

import (
	"fmt"
	"slices"
)

// Reductions and softmax.

func init() {
	for name, doc := range map[string]string{"mean": "Mean", "sum": "Sum", "max": "Maximum"} {
		Register(&OpDef{Name: name, Doc: doc + " over the given axes.", Inputs: []string{"x"},
			Attrs: []AttrSpec{
				{Name: "axes", Kind: AttrInts, Doc: "axes to reduce, negative counts from the end"},
				{Name: "keepdim", Kind: AttrInt, Optional: true, Doc: "1 keeps reduced axes as size 1"},
			},
			Infer: inferReduce})
	}
	Register(&OpDef{Name: "softmax", Doc: "Softmax along one axis (computed as exp(x-max)/sum).", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			if !in[0].DType.IsFloat() {
				return nil, fmt.Errorf("input is %s, want a float type", in[0].DType)
			}
			if _, err := normAxis(a.Int("axis", 0), len(in[0].Shape)); err != nil {
				return nil, err
			}
			return []TensorType{in[0]}, nil
		}})
}

// ReduceAxes returns the sorted, normalised, distinct axes of a reduction.
func ReduceAxes(a Attrs, rank int) ([]int, error) {
	var axes []int
	for _, ax := range a.Ints("axes") {
		n, err := normAxis(ax, rank)
		if err != nil {
			return nil, err
		}
		if slices.Contains(axes, n) {
			return nil, fmt.Errorf("axis %d repeated", ax)
		}
		axes = append(axes, n)
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("no axes to reduce")
	}
	slices.Sort(axes)
	return axes, nil
}

func inferReduce(in []TensorType, a Attrs) ([]TensorType, error) {
	if in[0].DType == Bool {
		return nil, fmt.Errorf("cannot reduce bool")
	}
	axes, err := ReduceAxes(a, len(in[0].Shape))
	if err != nil {
		return nil, err
	}
	keep := a.Int("keepdim", 0) != 0
	var out Shape
	for i, d := range in[0].Shape {
		switch {
		case !slices.Contains(axes, i):
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	if out == nil {
		out = Shape{}
	}
	return []TensorType{{DType: in[0].DType, Shape: out}}, nil
}
