package passes

import (
	"strings"

	"github.com/irc-compiler/irc/ir"
)

// runCSE merges nodes computing the same op with the same attributes on the
// same inputs (after earlier merges): the per-layer eps and scale constants,
// repeated casts. State writes are never merged.
func runCSE(c *Context) {
	r := newRewriter(c.Graph)
	seen := map[string]*ir.Node{}
	var key strings.Builder
	for _, n := range c.Graph.Nodes {
		if def := ir.Lookup(n.Op); def == nil || def.SideEffect || len(n.Outputs) != 1 {
			continue
		}
		key.Reset()
		key.WriteString(n.Op)
		for _, in := range n.Inputs {
			key.WriteString(" ")
			key.WriteString(ir.Ref(r.resolve(in)))
		}
		key.WriteString(" {")
		key.WriteString(ir.FormatAttrs(n))
		key.WriteString("} ")
		key.WriteString(n.Outputs[0].Type.String())
		k := key.String()
		prev, dup := seen[k]
		if !dup {
			seen[k] = n
			continue
		}
		c.candidate()
		c.rewrote()
		r.substitute(n.Outputs[0], prev.Outputs[0])
	}
	r.commit()
}
