package ir

import (
	"fmt"
	"math"

	"github.com/irc-compiler/irc/ir/budget"
)

// Layout ops made by the compiler: a strided view (what view elimination
// turns reshape/transpose/expand/slice/unsqueeze/squeeze chains into), the
// explicit copy that materialises a view no strides can express, and the
// transfer between the devices of two partitions.

func init() {
	Register(&OpDef{Name: "view", Doc: "Zero-copy strided view of x's row-major storage: element idx reads " +
		"x.flat[offset + sum(idx[i]*strides[i])]. Kernels read through it; it costs nothing at run time.",
		Inputs: []string{"x"},
		Attrs: []AttrSpec{{Name: "shape", Kind: AttrInts}, {Name: "strides", Kind: AttrInts, Doc: "in elements; 0 broadcasts"},
			{Name: "offset", Kind: AttrInt, Optional: true, Doc: "first element, default 0"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			s, st, off := Shape(a.Ints("shape")), a.Ints("strides"), a.Int("offset", 0)
			if err := checkDims(s); err != nil {
				return nil, err
			}
			if len(st) != len(s) {
				return nil, fmt.Errorf("strides %v have %d entries for shape %v", st, len(st), s)
			}
			n, ok := in[0].Shape.Elements()
			if !ok {
				return nil, fmt.Errorf("input %v has more elements than int64 can count", in[0])
			}
			if off < 0 {
				return nil, fmt.Errorf("view reads elements %d.. of an input with %d", off, n)
			}
			// The last element read, off + sum((d-1)*stride), computed
			// without overflow: once a partial sum is past the input the
			// view is out of range whatever follows.
			last, past := off, off >= n
			for i, d := range s {
				if st[i] < 0 {
					return nil, fmt.Errorf("negative stride in %v", st)
				}
				if d > 0 && !past {
					span, ok := budget.Elements(d-1, st[i])
					past = !ok || span > n-1-last
					if ok && span <= math.MaxInt64-last {
						last += span
					}
				}
			}
			if sn, _ := s.Elements(); sn > 0 && past {
				if last >= n {
					return nil, fmt.Errorf("view reads elements %d..%d of an input with %d", off, last, n)
				}
				return nil, fmt.Errorf("view with shape %v and strides %v reads past the %d elements of its input", s, st, n)
			}
			return []TensorType{{DType: in[0].DType, Shape: s.Clone()}}, nil
		}})
	Register(&OpDef{Name: "copy", Doc: "Materialises x (typically a view) in row-major order: the one layout op that moves data.",
		Inputs: []string{"x"},
		Infer:  func(in []TensorType, _ Attrs) ([]TensorType, error) { return []TensorType{in[0]}, nil }})
	Register(&OpDef{Name: "transfer", Doc: "Moves x from the device of the partition that made it to the device named by to.",
		Inputs: []string{"x"},
		Attrs:  []AttrSpec{{Name: "to", Kind: AttrString, Doc: "destination device"}},
		Infer:  func(in []TensorType, _ Attrs) ([]TensorType, error) { return []TensorType{in[0]}, nil }})
}
