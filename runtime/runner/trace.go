package runner

import (
	"encoding/gob"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// The tracing mode (--trace FILE) is what irc check reads: every step of a
// run, launch by launch, with each node's result read back right after its
// last launch. It is part of every runner, so a GPU host without Go can
// localise a wrong result (irc check --runners).

// TraceStep is one step of a traced run: graph, its token ids (a prefill chunk
// padded with zeros, as Generate pads it) and the cache position.
type TraceStep struct {
	Graph  string
	Tokens []int32
	Pos    int32
}

// TraceSteps plans a traced run of ids: all but the last decode ids through
// the prefill graph in chunks of chunk tokens, then each of the last decode
// ids as one decode step, so that both sides of a comparison (the device,
// the reference) take exactly the same inputs whatever either would pick.
func TraceSteps(ids []int64, decode, chunk int, vocab, maxCacheLen int64) ([]TraceStep, error) {
	if decode < 0 || decode >= len(ids) {
		return nil, usagef("--trace-decode %d: want 0 to %d (the last ids of --tokens decoded one by one; at least one id is prefilled)", decode, len(ids)-1)
	}
	if int64(len(ids)) > maxCacheLen {
		return nil, fmt.Errorf("%d tokens need %d cache positions, the model's max cache length is %d", len(ids), len(ids), maxCacheLen)
	}
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, vocab)
		}
	}
	var steps []TraceStep
	prompt := ids[:len(ids)-decode]
	for start := 0; start < len(prompt); start += chunk {
		tokens := make([]int32, chunk)
		for i := 0; i < chunk && start+i < len(prompt); i++ {
			tokens[i] = int32(prompt[start+i])
		}
		steps = append(steps, TraceStep{Graph: "prefill", Tokens: tokens, Pos: int32(start)})
	}
	for i, id := range ids[len(prompt):] {
		steps = append(steps, TraceStep{Graph: "decode", Tokens: []int32{int32(id)}, Pos: int32(len(prompt) + i)})
	}
	return steps, nil
}

// TracedStep is one step's record in a trace file.
type TracedStep struct {
	TraceStep
	Values []TracedValue
}

// TracedValue is one node's result after a step: Value names it (a KV
// cache's name where State: the rows the step wrote), Data is row-major.
type TracedValue struct {
	Value string
	State bool
	Shape []int64
	Data  []float32
}

// Tracer is a backend with a tracing mode (runtime/executor.Executor).
type Tracer interface {
	Trace(g int, tokens []int32, pos int32, visit func(t *schedule.Traced, vals []float32) error) error
}

// TraceRun runs steps on b, tracing each, and writes them to w as a gob
// stream of TracedStep (ReadTrace reads it back).
func TraceRun(b Backend, s *schedule.Schedule, steps []TraceStep, w io.Writer) error {
	tr, ok := b.(Tracer)
	if !ok {
		return fmt.Errorf("this backend has no tracing mode")
	}
	if err := b.Reset(); err != nil {
		return err
	}
	enc := gob.NewEncoder(w)
	for _, st := range steps {
		g, err := graphIndex(s, st.Graph)
		if err != nil {
			return err
		}
		rec := TracedStep{TraceStep: st}
		err = tr.Trace(g, st.Tokens, st.Pos, func(t *schedule.Traced, vals []float32) error {
			shape := t.Out.Shape
			if t.State {
				shape = []int64{t.Out.Shape[0], int64(len(vals)) / max(t.Out.Shape[0]*t.Out.Shape[2], 1), t.Out.Shape[2]}
			}
			rec.Values = append(rec.Values, TracedValue{Value: t.Value, State: t.State, Shape: shape, Data: vals})
			return nil
		})
		if err != nil {
			return err
		}
		if err := enc.Encode(&rec); err != nil {
			return err
		}
	}
	return nil
}

// ReadTrace reads a trace file's steps.
func ReadTrace(r io.Reader) ([]TracedStep, error) {
	dec := gob.NewDecoder(r)
	var out []TracedStep
	for {
		var st TracedStep
		err := dec.Decode(&st)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the trace: %w", err)
		}
		out = append(out, st)
	}
}

// traceFlags are the runner's tracing flags.
type traceFlags struct {
	file   string
	decode int
}

func registerTrace(fs *flag.FlagSet) *traceFlags {
	var t traceFlags
	fs.StringVar(&t.file, "trace", "", "with --tokens: run them launch by launch and write every node's result after each step to this file (for irc check)")
	fs.IntVar(&t.decode, "trace-decode", 0, "with --trace: the last N ids of --tokens are decode steps, one each (the rest are prefilled)")
	return &t
}

// trace is the runner's --trace: the steps of --tokens, traced into a file.
func (t *traceFlags) run(b Backend, s *schedule.Schedule, r Request, stderr io.Writer) error {
	ids, err := ParseTokens(r.Tokens)
	if err != nil {
		return err
	}
	prefill, err := graphIndex(s, "prefill")
	if err != nil {
		return err
	}
	steps, err := TraceSteps(ids, t.decode, stepTokens(s, prefill), s.Model.Vocab, s.Model.MaxCacheLen)
	if err != nil {
		return err
	}
	f, err := os.Create(t.file)
	if err != nil {
		return fmt.Errorf("--trace: %w", pathErr(err))
	}
	if err := TraceRun(b, s, steps, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--trace: %w", err)
	}
	fmt.Fprintf(stderr, "traced %d steps into %s\n", len(steps), t.file)
	return nil
}
