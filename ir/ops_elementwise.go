package ir

import "fmt"

// Elementwise ops: unary math, broadcasting binary arithmetic, comparisons,
// where and cast.

func init() {
	unary := map[string]string{
		"neg":     "-x",
		"sqrt":    "square root",
		"rsqrt":   "1/sqrt(x)",
		"exp":     "e^x",
		"sigmoid": "1/(1+e^-x)",
		"silu":    "x*sigmoid(x)",
		"cos":     "cosine (radians)",
		"sin":     "sine (radians)",
	}
	for name, doc := range unary {
		intOK := name == "neg"
		Register(&OpDef{Name: name, Doc: "Elementwise " + doc + ".", Inputs: []string{"x"},
			Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
				if !in[0].DType.IsFloat() && !(intOK && in[0].DType.IsInt()) {
					return nil, fmt.Errorf("input is %s, want a float type", in[0].DType)
				}
				return []TensorType{in[0]}, nil
			}})
	}
	Register(&OpDef{Name: "pow", Doc: "Elementwise x^exponent.", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "exponent", Kind: AttrFloat}},
		Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
			if !in[0].DType.IsFloat() {
				return nil, fmt.Errorf("input is %s, want a float type", in[0].DType)
			}
			return []TensorType{in[0]}, nil
		}})
	for name, doc := range map[string]string{"add": "a+b", "sub": "a-b", "mul": "a*b", "div": "a/b"} {
		Register(&OpDef{Name: name, Doc: "Elementwise " + doc + " with NumPy broadcasting.", Inputs: []string{"a", "b"},
			Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) { return inferBinary(in, false) }})
	}
	for name, doc := range map[string]string{"greater": "a>b", "less": "a<b"} {
		Register(&OpDef{Name: name, Doc: "Elementwise comparison " + doc + " with broadcasting; bool result.", Inputs: []string{"a", "b"},
			Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) { return inferBinary(in, true) }})
	}
	Register(&OpDef{Name: "where", Doc: "cond ? a : b, elementwise with broadcasting.", Inputs: []string{"cond", "a", "b"},
		Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
			if in[0].DType != Bool {
				return nil, fmt.Errorf("cond is %s, want bool", in[0].DType)
			}
			if in[1].DType != in[2].DType {
				return nil, fmt.Errorf("branches have different dtypes %s and %s", in[1].DType, in[2].DType)
			}
			s, err := BroadcastShapes(in[0].Shape, in[1].Shape, in[2].Shape)
			if err != nil {
				return nil, err
			}
			return []TensorType{{DType: in[1].DType, Shape: s}}, nil
		}})
	Register(&OpDef{Name: "cast", Doc: "Converts to another dtype (floats round to nearest even).", Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "dtype", Kind: AttrDType, Doc: "target dtype"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			to := a.DType("dtype")
			if to == Invalid {
				return nil, fmt.Errorf("cast to invalid dtype")
			}
			return []TensorType{{DType: to, Shape: in[0].Shape}}, nil
		}})
}

func inferBinary(in []TensorType, compare bool) ([]TensorType, error) {
	if in[0].DType != in[1].DType {
		return nil, fmt.Errorf("operands have different dtypes %s and %s", in[0].DType, in[1].DType)
	}
	if in[0].DType == Bool {
		return nil, fmt.Errorf("operands are bool, want numbers")
	}
	s, err := BroadcastShapes(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	d := in[0].DType
	if compare {
		d = Bool
	}
	return []TensorType{{DType: d, Shape: s}}, nil
}
