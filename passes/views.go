package passes

import "github.com/irc-compiler/irc/ir"

// viewOps are the primitive ops that only move or select elements.
var viewOps = map[string]bool{"reshape": true, "transpose": true, "expand": true, "slice": true, "unsqueeze": true, "squeeze": true}

// runViews turns every chain of view ops into at most one view node whose
// input is a real (computed, weight or state) tensor: kernels read through
// its strides and no data moves. A view that is the base unchanged
// disappears. Where a reshape cannot be expressed by strides (merging axes a
// transpose separated) a counted copy materialises the input first.
func runViews(c *Context) {
	r := newRewriter(c.Graph)
	layouts := map[*ir.Value]layout{}
	layoutOf := func(v *ir.Value) layout {
		v = r.resolve(v)
		if l, ok := layouts[v]; ok {
			return l
		}
		return contiguous(v)
	}
	for _, n := range c.Graph.Nodes {
		out := n.Outputs
		if n.Op == "view" {
			if defOp(n.Inputs[0], "view") == nil {
				layouts[out[0]] = layout{base: n.Inputs[0], shape: n.Attrs.Ints("shape"), strides: n.Attrs.Ints("strides"), offset: n.Attrs.Int("offset", 0)}
			}
			continue
		}
		if !viewOps[n.Op] {
			continue
		}
		c.candidate()
		l, ok := layoutOf(n.Inputs[0]).apply(n)
		if !ok {
			src := r.resolve(n.Inputs[0])
			cp, err := r.insertBefore(n, src.Name+"_copy", "copy", nil, src)
			if err != nil {
				c.decline(out[0], "%v", err)
				continue
			}
			c.decline(out[0], "reshape of %s (strides %v) to %v crosses axes no stride can merge: a copy %s materialises it",
				ir.Ref(src), layoutOf(src).strides, n.Attrs.Ints("shape"), ir.Ref(cp))
			l, _ = contiguous(cp).apply(n)
		}
		layouts[out[0]] = l
		if l.identity() {
			r.substitute(out[0], l.base)
			c.rewrote()
			continue
		}
		if err := r.replace(n, "view", l.viewAttrs(), l.base); err != nil {
			c.decline(out[0], "%v", err)
			continue
		}
		c.rewrote()
	}
	r.commit()
}
