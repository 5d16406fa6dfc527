package passes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/ir"
)

// runMergeProjections merges the linears that read one x into one linear
// over the concatenation of their weights, so the GEMV reads x once and a
// decode step makes one launch where it made several:
//
//	q = linear(x, @Wq, @bq)  k = linear(x, @Wk, @bk)  v = linear(x, @Wv, @bv)
//	  -> qkv = linear(x, concat(@Wq, @Wk, @Wv), concat(@bq, @bk, @bv))
//	     q = view(qkv) {offset=0}  k = view(qkv) {offset=Nq}  v = ...
//
// Members must have model weights (and biases) of one dtype, no residual
// and the same prologue (bias all or none, one norm). Each old result
// becomes a view into the merged result and every view reading it is
// composed with that view, so each reader still sees one strided view of a
// dense value. A member is left alone (and --explain says why) where the
// composition has no strides, or where a reader that reads a dense tensor
// today would read a strided one (merging must not ask more of a kernel).
//
// A gate/up pair read only by silu_mul(gate, up) becomes SwiGLU's epilogue
// instead: linear(x, concat(@Wg, @Wu)) {glu=1} replaces the silu_mul.
//
// The concatenated weights are packed into one buffer when the model is
// lowered (codegen), so the merged linear reads one contiguous weight.
// norm_linear runs after this pass, so the merged linears get the norm
// prologue.
func runMergeProjections(c *Context) {
	r := newRewriter(c.Graph)
	var xs []*ir.Value
	byX := map[*ir.Value][]*ir.Node{}
	for _, n := range c.Graph.Nodes {
		if n.Op != "linear" {
			continue
		}
		x := n.Inputs[0]
		if byX[x] == nil {
			xs = append(xs, x)
		}
		byX[x] = append(byX[x], n)
	}
	for _, x := range xs {
		if len(byX[x]) >= 2 {
			mergeLinears(c, r, byX[x])
		}
	}
	r.commit()
}

// mergeLinears merges what it can of the linears reading one x (in graph
// order): SwiGLU pairs first, then each set of members with one prologue.
func mergeLinears(c *Context, r *rewriter, group []*ir.Node) {
	var ok []*ir.Node
	for _, n := range group {
		c.candidate()
		if err := mergeable(n); err != nil {
			c.decline(n.Outputs[0], "%v", err)
			continue
		}
		ok = append(ok, n)
	}
	done := map[*ir.Node]bool{}
	for _, gate := range ok {
		up, s := gluPartner(r, ok, gate)
		if up == nil || done[gate] || done[up] {
			continue
		}
		if err := fuseGLU(r, s, gate, up); err != nil {
			c.decline(gate.Outputs[0], "%v", err)
			c.decline(up.Outputs[0], "%v", err)
		} else {
			c.rewrote()
			c.rewrote()
		}
		done[gate], done[up] = true, true
	}
	// The rest, by prologue, in order of first appearance.
	var keys []prologue
	sets := map[prologue][]*ir.Node{}
	for _, n := range ok {
		if done[n] {
			continue
		}
		k := prologueOf(n)
		if sets[k] == nil {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], n)
	}
	for _, k := range keys {
		set := sets[k]
		if len(set) < 2 {
			c.decline(set[0].Outputs[0], "no other linear reading %s has its prologue (%s): bias is all or none, and the norm must be one", ir.Ref(set[0].Inputs[0]), k)
			continue
		}
		// Drop members whose readers cannot follow, until the rest can.
		for {
			plan, bad, err := planMerge(r, set)
			if err == nil {
				if err := applyMerge(r, set, plan); err != nil {
					for _, n := range set {
						c.decline(n.Outputs[0], "%v", err)
					}
				} else {
					for range set {
						c.rewrote()
					}
				}
				break
			}
			c.decline(bad.Outputs[0], "%v", err)
			set = slices.DeleteFunc(set, func(n *ir.Node) bool { return n == bad })
			if len(set) < 2 {
				if len(set) == 1 {
					c.decline(set[0].Outputs[0], "no other linear reading %s is left to merge with", ir.Ref(set[0].Inputs[0]))
				}
				break
			}
		}
	}
}

// mergeable says why n cannot join a merge, or nil.
func mergeable(n *ir.Node) error {
	biasAt, resAt, _, _ := ir.LinearInputs(n.Attrs)
	switch w := n.Inputs[1]; {
	case n.Attrs.Int("glu", 0) != 0:
		return fmt.Errorf("already a SwiGLU linear (glu=1)")
	case resAt >= 0:
		return fmt.Errorf("has a residual epilogue (each output adds its own)")
	case w.Kind != ir.WeightValue:
		return fmt.Errorf("its weight %s is %s, not a model weight", ir.Ref(w), opName(w))
	case biasAt >= 0 && n.Inputs[biasAt].Kind != ir.WeightValue:
		return fmt.Errorf("its bias %s is %s, not a model weight", ir.Ref(n.Inputs[biasAt]), opName(n.Inputs[biasAt]))
	}
	return nil
}

// prologue is what merged linears must share besides x: whether each has
// a bias, and the norm prologue (weight and eps).
type prologue struct {
	bias bool
	norm *ir.Value
	eps  float64
}

func prologueOf(n *ir.Node) prologue {
	biasAt, _, normAt, _ := ir.LinearInputs(n.Attrs)
	p := prologue{bias: biasAt >= 0}
	if normAt >= 0 {
		p.norm, p.eps = n.Inputs[normAt], n.Attrs.Float("eps", 0)
	}
	return p
}

func (p prologue) String() string {
	s := "no bias"
	if p.bias {
		s = "bias"
	}
	if p.norm != nil {
		s += fmt.Sprintf(", norm %s eps %g", ir.Ref(p.norm), p.eps)
	}
	return s
}

// gluPartner finds the up projection and the silu_mul when gate's result
// is read only as the gate of silu_mul(gate, up), up is another mergeable
// linear of ok read only there, and neither has a bias (SwiGLU's epilogue
// takes none).
func gluPartner(r *rewriter, ok []*ir.Node, gate *ir.Node) (*ir.Node, *ir.Node) {
	s := r.soleUser(gate.Outputs[0])
	if s == nil || s.Op != "silu_mul" || s.Inputs[0] != gate.Outputs[0] {
		return nil, nil
	}
	up := s.Inputs[1].Def
	if up == nil || up == gate || !slices.Contains(ok, up) || r.soleUser(up.Outputs[0]) != s {
		return nil, nil
	}
	pg, pu := prologueOf(gate), prologueOf(up)
	if pg.bias || pu.bias || pg != pu {
		return nil, nil
	}
	return up, s
}

// fuseGLU replaces s = silu_mul(gate, up) by linear(x, concat(Wg, Wu)) {glu=1}.
func fuseGLU(r *rewriter, s, gate, up *ir.Node) error {
	_, _, normAt, _ := ir.LinearInputs(gate.Attrs)
	w, err := r.insertBefore(s, scopeOf(s.Outputs[0].Name)+"gate_up_w", "concat", ir.Attrs{"axis": int64(0)}, gate.Inputs[1], up.Inputs[1])
	if err != nil {
		return err
	}
	a := ir.Attrs{"glu": int64(1)}
	in := []*ir.Value{gate.Inputs[0], w}
	if normAt >= 0 {
		a["norm"], a["eps"] = int64(1), gate.Attrs.Float("eps", 0)
		in = append(in, gate.Inputs[normAt])
	}
	return r.replace(s, "linear", a, in...)
}

// mergePlan is where each member's result lands in the merged result, and
// the view each view reader becomes.
type mergePlan struct {
	slices []layout            // by member: its result as a view of the merged one
	views  map[*ir.Node]layout // view readers, composed
}

// planMerge lays the members out side by side along the last axis and
// composes their readers' views; it names the first member that cannot
// follow, and why.
func planMerge(r *rewriter, set []*ir.Node) (mergePlan, *ir.Node, error) {
	x := set[0].Inputs[0]
	var total int64
	for _, n := range set {
		total += n.Outputs[0].Type.Shape[len(n.Outputs[0].Type.Shape)-1]
	}
	merged := slices.Clone(x.Type.Shape)
	merged[len(merged)-1] = total
	strides := rowMajor(merged)
	plan := mergePlan{views: map[*ir.Node]layout{}}
	var off int64
	for _, n := range set {
		y := n.Outputs[0]
		sl := layout{shape: slices.Clone(y.Type.Shape), strides: slices.Clone(strides), offset: off}
		off += y.Type.Shape[len(y.Type.Shape)-1]
		plan.slices = append(plan.slices, sl)
		dense := isDense(sl.shape, sl.strides)
		if r.output[y] && !dense {
			return plan, n, fmt.Errorf("its result is a graph output, which would become a strided slice (strides %v) of the merged result", sl.strides)
		}
		for _, u := range uniqueNodes(r.users[y]) {
			if u.Op != "view" {
				if !dense {
					return plan, n, fmt.Errorf("%s reads it densely today and would read a strided slice (strides %v) of the merged result", u.Op, sl.strides)
				}
				continue
			}
			v, ok := composeView(sl, u.Attrs)
			if !ok {
				return plan, n, fmt.Errorf("its view %s (shape %v, strides %v, offset %d) does not compose with its slice of the merged result (strides %v, offset %d) into one strided view",
					ir.Ref(u.Outputs[0]), u.Attrs.Ints("shape"), u.Attrs.Ints("strides"), u.Attrs.Int("offset", 0), sl.strides, sl.offset)
			}
			if isDense(u.Attrs.Ints("shape"), u.Attrs.Ints("strides")) && !isDense(v.shape, v.strides) {
				return plan, n, fmt.Errorf("its view %s is dense today and would become strided (strides %v) in the merged result", ir.Ref(u.Outputs[0]), v.strides)
			}
			plan.views[u] = v
		}
	}
	return plan, nil, nil
}

// applyMerge inserts the concatenations and the merged linear before the
// first member and turns the members and their views into views of it.
func applyMerge(r *rewriter, set []*ir.Node, plan mergePlan) error {
	first := set[0]
	biasAt, _, normAt, _ := ir.LinearInputs(first.Attrs)
	scope := scopeOf(first.Outputs[0].Name)
	cat := func(hint string, at int) (*ir.Value, error) {
		var parts []*ir.Value
		for _, n := range set {
			parts = append(parts, n.Inputs[at])
		}
		return r.insertBefore(first, scope+hint, "concat", ir.Attrs{"axis": int64(0)}, parts...)
	}
	w, err := cat("merged_w", 1)
	if err != nil {
		return err
	}
	in, a := []*ir.Value{first.Inputs[0], w}, ir.Attrs{}
	if biasAt >= 0 {
		b, err := cat("merged_b", biasAt)
		if err != nil {
			return err
		}
		in, a["bias"] = append(in, b), int64(1)
	}
	if normAt >= 0 {
		in, a["norm"], a["eps"] = append(in, first.Inputs[normAt]), int64(1), first.Attrs.Float("eps", 0)
	}
	merged, err := r.insertBefore(first, scope+"merged", "linear", a, in...)
	if err != nil {
		return err
	}
	for i, n := range set {
		for _, u := range uniqueNodes(r.users[n.Outputs[0]]) {
			if v, ok := plan.views[u]; ok {
				if err := r.replace(u, "view", v.viewAttrs(), merged); err != nil {
					return err
				}
			}
		}
		if err := r.replace(n, "view", plan.slices[i].viewAttrs(), merged); err != nil {
			return err
		}
	}
	return nil
}

// composeView is the view with attributes a (on the row-major order of a
// tensor laid out as inner) as one strided view of inner's base, if
// strides can say it. Either inner reads its elements at one stride in
// row-major order (then any view composes), or each axis of the view steps
// along one axis of inner without carrying into the next.
func composeView(inner layout, a ir.Attrs) (layout, bool) {
	shape, strides, off := a.Ints("shape"), a.Ints("strides"), a.Int("offset", 0)
	out := layout{shape: slices.Clone(shape), strides: make([]int64, len(shape))}
	n := ir.Shape(inner.shape).NumElements()
	if n == 0 || ir.Shape(shape).NumElements() == 0 {
		return out, false
	}
	if flat, ok := reshapeStrides(inner.shape, inner.strides, []int64{n}); ok {
		out.offset = inner.offset + off*flat[0]
		for j, s := range strides {
			out.strides[j] = s * flat[0]
		}
		return out, true
	}
	if off >= n {
		return out, false
	}
	// The mixed-radix digits of the first element in inner's shape; each
	// view axis adds to one digit, and no digit may pass its axis.
	rm := rowMajor(inner.shape)
	start := make([]int64, len(rm))
	for i, r := range rm {
		start[i] = off / r % inner.shape[i]
	}
	digits := slices.Clone(start)
	for j, s := range strides {
		if shape[j] == 1 || s == 0 {
			continue
		}
		ax := -1
		for i, r := range rm {
			if inner.shape[i] > 1 && s%r == 0 {
				ax = i
				break
			}
		}
		if ax < 0 {
			return out, false
		}
		digits[ax] += s / rm[ax] * (shape[j] - 1)
		out.strides[j] = s / rm[ax] * inner.strides[ax]
	}
	out.offset = inner.offset
	for i, d := range digits {
		if d >= inner.shape[i] {
			return out, false
		}
		out.offset += start[i] * inner.strides[i]
	}
	return out, true
}

// isDense reports whether shape/strides is row-major without gaps
// (size-1 axes aside).
func isDense(shape, strides []int64) bool {
	want := rowMajor(shape)
	for i, d := range shape {
		if d > 1 && strides[i] != want[i] {
			return false
		}
	}
	return true
}

// uniqueNodes is nodes without repeats, in order.
func uniqueNodes(nodes []*ir.Node) []*ir.Node {
	var out []*ir.Node
	for _, n := range nodes {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// scopeOf is a value name up to its last dot ("l0.attn." of
// "l0.attn.add_1"), to name what a rewrite adds beside it.
func scopeOf(name string) string {
	return name[:strings.LastIndex(name, ".")+1]
}
