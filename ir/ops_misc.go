package ir

import "fmt"

// Constants, indices, embedding lookup, matmul and the KV-cache write.

func init() {
	Register(&OpDef{Name: "constant", Doc: "A literal tensor; value holds all elements in row-major order, or one element broadcast to the shape.",
		Attrs: []AttrSpec{{Name: "value", Kind: AttrFloats}, {Name: "dtype", Kind: AttrDType}, {Name: "shape", Kind: AttrInts}},
		Infer: func(_ []TensorType, a Attrs) ([]TensorType, error) {
			s := Shape(a.Ints("shape"))
			if err := checkDims(s); err != nil {
				return nil, err
			}
			if n := int64(len(a.Floats("value"))); n != 1 && n != s.NumElements() {
				return nil, fmt.Errorf("value has %d elements, want 1 or %d for shape %v", n, s.NumElements(), s)
			}
			return []TensorType{{DType: a.DType("dtype"), Shape: s.Clone()}}, nil
		}})
	Register(&OpDef{Name: "iota", Doc: "Each element is its index along axis.",
		Attrs: []AttrSpec{{Name: "shape", Kind: AttrInts}, {Name: "axis", Kind: AttrInt}, {Name: "dtype", Kind: AttrDType}},
		Infer: func(_ []TensorType, a Attrs) ([]TensorType, error) {
			s := Shape(a.Ints("shape"))
			if err := checkDims(s); err != nil {
				return nil, err
			}
			if _, err := normAxis(a.Int("axis", 0), len(s)); err != nil {
				return nil, err
			}
			return []TensorType{{DType: a.DType("dtype"), Shape: s.Clone()}}, nil
		}})
	Register(&OpDef{Name: "embedding", Doc: "Gathers rows of table [V,H] by integer ids [...]; result [..., H]. " +
		"The rows are converted to the float dtype the attribute names (a quantized table dequantized row by row as it is read).", Inputs: []string{"table", "ids"},
		Attrs: []AttrSpec{{Name: "dtype", Kind: AttrDType, Optional: true, Doc: "the result's float dtype: required for a quantized table; default the table's"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			if len(in[0].Shape) != 2 {
				return nil, fmt.Errorf("table is %v, want rank 2", in[0])
			}
			if !in[1].DType.IsInt() {
				return nil, fmt.Errorf("ids are %s, want an integer type", in[1].DType)
			}
			d := in[0].DType
			switch od := a.DType("dtype"); {
			case d.IsQuantized() && !od.IsFloat():
				return nil, fmt.Errorf("table is %v: a quantized table needs dtype=f32, bf16 or f16 for the result", in[0])
			case od == Invalid:
			case !d.IsFloat() && !d.IsQuantized() || !od.IsFloat():
				return nil, fmt.Errorf("dtype=%s on a %s table: a result dtype converts a float or quantized table to a float type", od, d)
			default:
				d = od
			}
			out := append(in[1].Shape.Clone(), in[0].Shape[1])
			return []TensorType{{DType: d, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "matmul", Doc: "Batched matrix product a[..., M, K] @ b[..., K, N] with broadcasting batch axes.", Inputs: []string{"a", "b"},
		Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
			a, b := in[0], in[1]
			if a.DType != b.DType || !a.DType.IsFloat() {
				return nil, fmt.Errorf("operands are %s and %s, want the same float type", a.DType, b.DType)
			}
			ra, rb := len(a.Shape), len(b.Shape)
			if ra < 2 || rb < 2 {
				return nil, fmt.Errorf("operands %v and %v, want rank >= 2", a.Shape, b.Shape)
			}
			if a.Shape[ra-1] != b.Shape[rb-2] {
				return nil, fmt.Errorf("inner dimensions differ: %v @ %v", a.Shape, b.Shape)
			}
			batch, err := BroadcastShapes(a.Shape[:ra-2], b.Shape[:rb-2])
			if err != nil {
				return nil, err
			}
			out := append(batch, a.Shape[ra-2], b.Shape[rb-1])
			return []TensorType{{DType: a.DType, Shape: out}}, nil
		}})
	Register(&OpDef{Name: "cache_write", Doc: "Writes rows into state at positions pos, pos+1, ... along axis, in place; " +
		"rows past the end of the cache are dropped. The result is the updated state (same buffer).",
		Inputs: []string{"state", "rows", "pos"}, SideEffect: true,
		Attrs: []AttrSpec{{Name: "axis", Kind: AttrInt}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			st, rows, pos := in[0], in[1], in[2]
			ax, err := normAxis(a.Int("axis", 0), len(st.Shape))
			if err != nil {
				return nil, err
			}
			if rows.DType != st.DType || len(rows.Shape) != len(st.Shape) {
				return nil, fmt.Errorf("rows %v do not match state %v", rows, st)
			}
			for i := range st.Shape {
				if i != ax && rows.Shape[i] != st.Shape[i] {
					return nil, fmt.Errorf("rows %v do not match state %v off axis %d", rows, st, ax)
				}
			}
			if !pos.DType.IsInt() || pos.Shape.NumElements() != 1 {
				return nil, fmt.Errorf("pos is %v, want one integer", pos)
			}
			return []TensorType{st}, nil
		}})
}
