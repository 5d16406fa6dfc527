package passes

import (
	"slices"

	"github.com/irc-compiler/irc/ir"
)

// layout describes a value as a strided window on a base value's row-major
// storage: element idx is base.flat[offset + sum(idx[i]*strides[i])].
type layout struct {
	base    *ir.Value
	shape   []int64
	strides []int64
	offset  int64
}

func contiguous(v *ir.Value) layout {
	s := v.Type.Shape
	return layout{base: v, shape: slices.Clone(s), strides: rowMajor(s)}
}

func rowMajor(s ir.Shape) []int64 { return s.RowMajorStrides() }

// identity reports whether the layout is the base itself.
func (l layout) identity() bool {
	if l.offset != 0 || !slices.Equal(l.shape, l.base.Type.Shape) {
		return false
	}
	want := rowMajor(l.shape)
	for i, d := range l.shape {
		if d > 1 && l.strides[i] != want[i] {
			return false
		}
	}
	return true
}

// apply returns the layout of view op n applied to l; ok is false when no
// strides express the result (a reshape across non-mergeable axes).
func (l layout) apply(n *ir.Node) (layout, bool) {
	out := layout{base: l.base, shape: slices.Clone(l.shape), strides: slices.Clone(l.strides), offset: l.offset}
	a := n.Attrs
	switch n.Op {
	case "transpose":
		for i, p := range a.Ints("perm") {
			out.shape[i], out.strides[i] = l.shape[p], l.strides[p]
		}
	case "unsqueeze":
		ax, _ := ir.NormAxis(a.Int("axis", 0), len(l.shape)+1)
		out.shape = slices.Insert(out.shape, ax, 1)
		out.strides = slices.Insert(out.strides, ax, 0)
	case "squeeze":
		ax, _ := ir.NormAxis(a.Int("axis", 0), len(l.shape))
		out.shape = slices.Delete(out.shape, ax, ax+1)
		out.strides = slices.Delete(out.strides, ax, ax+1)
	case "expand":
		target := a.Ints("shape")
		lead := len(target) - len(l.shape)
		out.shape = slices.Clone(target)
		out.strides = make([]int64, len(target))
		for i := range l.shape {
			if l.shape[i] == target[lead+i] {
				out.strides[lead+i] = l.strides[i]
			}
		}
	case "slice":
		ax, _ := ir.NormAxis(a.Int("axis", 0), len(l.shape))
		start, step := a.Int("start", 0), a.Int("step", 1)
		out.offset += start * l.strides[ax]
		out.strides[ax] *= step
		out.shape[ax] = n.Outputs[0].Type.Shape[ax]
	case "reshape":
		st, ok := reshapeStrides(l.shape, l.strides, a.Ints("shape"))
		if !ok {
			return layout{}, false
		}
		out.shape, out.strides = slices.Clone(a.Ints("shape")), st
	default:
		return layout{}, false
	}
	return out, true
}

// reshapeStrides finds strides that read shape/strides' elements in
// row-major order as newShape. The old axes split into runs that are
// contiguous with each other; each run must be covered exactly by a group
// of new axes, which then step through it at its inner stride.
func reshapeStrides(shape, strides, newShape []int64) ([]int64, bool) {
	out := make([]int64, len(newShape))
	if ir.Shape(shape).NumElements() == 0 {
		return rowMajor(newShape), true
	}
	var s, st []int64
	for i, d := range shape {
		if d != 1 {
			s, st = append(s, d), append(st, strides[i])
		}
	}
	ni := len(newShape) - 1
	for k := len(s) - 1; k >= 0; k-- {
		size, inner := s[k], st[k]
		for k > 0 && st[k-1] == st[k]*s[k] {
			k--
			size *= s[k]
		}
		prod := int64(1)
		for ni >= 0 && prod < size {
			out[ni] = inner * prod
			prod *= newShape[ni]
			ni--
		}
		if prod != size {
			return nil, false
		}
	}
	for ; ni >= 0; ni-- {
		if newShape[ni] != 1 {
			return nil, false
		}
	}
	return out, true
}

// viewAttrs are the attributes of the view op holding l.
func (l layout) viewAttrs() ir.Attrs {
	a := ir.Attrs{"shape": slices.Clone(l.shape), "strides": slices.Clone(l.strides)}
	if l.offset != 0 {
		a["offset"] = l.offset
	}
	return a
}
