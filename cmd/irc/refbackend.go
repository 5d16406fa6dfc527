package main

import (
	"fmt"
	"strings"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// refBackend drives the reference runtime through the runner's Backend
// interface, so that `irc bench --target ref` measures it with the same
// code as a generated runner. The schedule (lowered from the same compiled
// model) supplies graph and buffer indices only; ref interprets the graphs.
type refBackend struct {
	rt   *ref.Runtime
	m    *ir.Model
	s    *schedule.Schedule
	last map[int]*ref.Tensor // each graph's last logits
}

// refSchedule is what the runner's generation loop reads of a schedule,
// for a model ref runs as it is (no lowering: --passes none leaves ops no
// kernel implements): the model's sizes, and per graph its name and the
// token input's size in bytes.
func refSchedule(m *ir.Model) *schedule.Schedule {
	s := &schedule.Schedule{Model: codegen.ScheduleModel(m)}
	for _, g := range m.Graphs {
		sg := schedule.Graph{Name: g.Name}
		if len(g.Inputs) > 0 {
			sg.Inputs = []int{len(s.Buffers)}
			s.Buffers = append(s.Buffers, schedule.Buffer{Name: g.Name + "." + g.Inputs[0].Name, Kind: schedule.Input, DType: schedule.I32, Bytes: 4 * g.Inputs[0].Type.Shape.NumElements()})
		}
		s.Graphs = append(s.Graphs, sg)
	}
	return s
}

func newRefBackend(rt *ref.Runtime, m *ir.Model, s *schedule.Schedule) *refBackend {
	return &refBackend{rt: rt, m: m, s: s, last: map[int]*ref.Tensor{}}
}

func (b *refBackend) Run(g int, tokens []int32, pos int32) error {
	graph := b.m.Graph(b.s.Graphs[g].Name)
	if graph == nil || len(graph.Inputs) != 2 {
		return fmt.Errorf("graph %s is not a runner step (inputs tokens, pos)", b.s.Graphs[g].Name)
	}
	ids := make([]int64, len(tokens))
	for i, t := range tokens {
		ids[i] = int64(t)
	}
	out, err := b.rt.RunGraph(graph, map[string]*ref.Tensor{
		graph.Inputs[0].Name: ref.Ints(graph.Inputs[0].Type.DType, graph.Inputs[0].Type.Shape, ids),
		graph.Inputs[1].Name: ref.Ints(graph.Inputs[1].Type.DType, graph.Inputs[1].Type.Shape, []int64{int64(pos)}),
	})
	if err != nil {
		return err
	}
	b.last[g] = out[0]
	return nil
}

// row is row r of graph g's last logits.
func (b *refBackend) row(g, r int) ([]float32, error) {
	t := b.last[g]
	if t == nil {
		return nil, fmt.Errorf("graph %s has not run", b.s.Graphs[g].Name)
	}
	vocab := int(t.Shape[len(t.Shape)-1])
	if (r+1)*vocab > len(t.F) {
		return nil, fmt.Errorf("graph %s has no logits row %d", b.s.Graphs[g].Name, r)
	}
	return t.F[r*vocab : (r+1)*vocab], nil
}

func (b *refBackend) Logits(g, r, n int) ([][]float32, error) {
	rows := make([][]float32, n)
	for i := range rows {
		row, err := b.row(g, r+i)
		if err != nil {
			return nil, err
		}
		rows[i] = append([]float32(nil), row...)
	}
	return rows, nil
}

func (b *refBackend) Argmax(g, r int) (int32, error) {
	row, err := b.row(g, r)
	if err != nil {
		return 0, err
	}
	return int32(ref.Argmax(row)), nil
}

// TopK sorts the row on the host: the oracle of the device's top-k.
func (b *refBackend) TopK(g, r, k int) ([]int32, []float32, error) {
	row, err := b.row(g, r)
	if err != nil {
		return nil, nil, err
	}
	ids, vals := runner.TopKRow(row, k)
	return ids, vals, nil
}

// GumbelArgmax is the device's Gumbel-max sampling, computed on the host
// with the same noise.
func (b *refBackend) GumbelArgmax(g, r int, temperature float32, seed uint64, step int) (int32, error) {
	row, err := b.row(g, r)
	if err != nil {
		return 0, err
	}
	return runner.GumbelArgmax(row, temperature, seed, step), nil
}

// Write fills a state (a KV cache) from bytes in the schedule's dtype.
func (b *refBackend) Write(buf int, data []byte) error {
	sb := b.s.Buffers[buf]
	t := b.rt.State(sb.Name)
	if sb.Kind != schedule.State || t == nil {
		return fmt.Errorf("the ref backend writes only states, not %s buffer %s", sb.Kind, sb.Name)
	}
	vals, err := safetensors.DecodeFloat32(safetensors.DType(strings.ToUpper(string(sb.DType))), data)
	if err != nil {
		return fmt.Errorf("state %s: %w", sb.Name, err)
	}
	if len(vals) != len(t.F) {
		return fmt.Errorf("state %s holds %d values, got %d", sb.Name, len(t.F), len(vals))
	}
	copy(t.F, vals)
	return nil
}

func (b *refBackend) Reset() error   { b.rt.Reset(); return nil }
func (b *refBackend) Finish() error  { return nil }
func (b *refBackend) Device() string { return "reference CPU runtime" }
func (b *refBackend) Close()         {}
