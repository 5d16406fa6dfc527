package executor

import (
	"fmt"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Trace runs one step of graph g on tokens at cache position pos launch by
// launch, never as a recording, and after the last launch of each value of
// the graph's trace table (schedule.Graph.Trace) reads it back: visit gets
// the value as float32 in row-major order of its shape, or for a KV cache
// the rows the step wrote ([heads, len(tokens), head_dim]). Reading right
// after the launch is what makes an arena value valid: a later launch may
// reuse its memory. Run and Launch are untouched by it.
func (e *Executor) Trace(g int, tokens []int32, pos int32, visit func(t *schedule.Traced, vals []float32) error) error {
	if err := e.writeStep(g, tokens, pos); err != nil {
		return err
	}
	graph := &e.s.Graphs[g]
	next := 0
	for i, b := range e.graphs[g] {
		if err := e.dev.Launch(b.k, b.l); err != nil {
			return fmt.Errorf("graph %s launch %d (%s): %w", graph.Name, i, b.l.Node, err)
		}
		for ; next < len(graph.Trace) && graph.Trace[next].After <= i; next++ {
			t := &graph.Trace[next]
			vals, err := e.readTraced(t, int64(pos), int64(len(tokens)))
			if err != nil {
				return fmt.Errorf("graph %s: reading %%%s after launch %d: %w", graph.Name, t.Value, i, err)
			}
			if err := visit(t, vals); err != nil {
				return err
			}
		}
	}
	return e.dev.Finish()
}

// readTraced reads a traced value (after every queued launch).
func (e *Executor) readTraced(t *schedule.Traced, pos, rows int64) ([]float32, error) {
	if !t.State {
		return e.ReadStrided(t.Out)
	}
	// A cache [heads, positions, dim]: rows pos..pos+rows-1 of each head.
	heads, length := t.Out.Shape[0], t.Out.Shape[1]
	rows = max(min(rows, length-pos), 0)
	var out []float32
	for h := range heads {
		row := t.Out
		row.Offset += h*t.Out.Strides[0] + pos*t.Out.Strides[1]
		row.Shape = []int64{rows, t.Out.Shape[2]}
		row.Strides = t.Out.Strides[1:]
		vals, err := e.ReadStrided(row)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

// ReadStrided reads the elements of tensor t (any non-negative strides)
// in row-major order of its shape, as float32: it reads the span of the
// buffer the view covers and gathers on the host.
func (e *Executor) ReadStrided(t schedule.Tensor) ([]float32, error) {
	n, span := int64(1), int64(1)
	for i, d := range t.Shape {
		if d == 0 {
			return nil, nil
		}
		if t.Strides[i] < 0 {
			return nil, fmt.Errorf("negative stride %d", t.Strides[i])
		}
		n *= d
		span += (d - 1) * t.Strides[i]
	}
	size := t.DType.Size()
	if end := (t.Offset + span) * size; t.Offset < 0 || end > e.s.Buffers[t.Buf].Bytes {
		return nil, fmt.Errorf("elements %d..%d lie outside buffer %s (%d bytes)", t.Offset, t.Offset+span, e.s.Buffers[t.Buf].Name, e.s.Buffers[t.Buf].Bytes)
	}
	data := make([]byte, span*size)
	if err := e.dev.Read(e.bufs[t.Buf], t.Offset*size, data); err != nil {
		return nil, err
	}
	all := schedule.Decode(t.DType, data)
	out := make([]float32, n)
	idx := make([]int64, len(t.Shape))
	for k := range out {
		var at int64
		for i, x := range idx {
			at += x * t.Strides[i]
		}
		out[k] = float32(all[at])
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < t.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}
