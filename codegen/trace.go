package codegen

import (
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// traceNode records, for the runner's tracing mode (schedule.Traced), where
// node n's result lives once its launches (those from index first on) are
// done, and which KV caches it wrote in place. A node without launches (a
// view, a transfer) computes nothing of its own and is not traced. The
// record is kept apart from the launch table, which it leaves as it is.
func (gl *graphLowering) traceNode(n *ir.Node, first int) {
	last := len(gl.launches) - 1
	if last < first {
		return
	}
	out := n.Outputs[0]
	if aliasOf(out) == nil {
		if t, err := gl.tensor(out); err == nil {
			gl.trace = append(gl.trace, schedule.Traced{Value: out.Name, After: last, Out: t})
		}
	}
	if n.Op != "cache_write" && n.Op != "attention" {
		return
	}
	for _, v := range n.Inputs {
		st := root(v)
		b := gl.buf[st]
		if b == 0 || gl.s.Buffers[b].Kind != schedule.State || len(st.Type.Shape) != 3 {
			continue
		}
		t := schedule.Tensor{Buf: b, DType: gl.s.Buffers[b].DType, Shape: st.Type.Shape.Clone(), Strides: st.Type.Shape.RowMajorStrides()}
		gl.trace = append(gl.trace, schedule.Traced{Value: st.Name, After: last, Out: t, State: true})
	}
}

// resolveTrace gives the traced values their planned arena offsets.
func (gl *graphLowering) resolveTrace() []schedule.Traced {
	for i := range gl.trace {
		gl.resolve(&gl.trace[i].Out.Buf, &gl.trace[i].Out.Offset)
	}
	return gl.trace
}
