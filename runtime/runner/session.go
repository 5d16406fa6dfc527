package runner

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Session prepares the bench's steps on one executor in-process.
type Session struct {
	name            string
	b               Backend
	s               *schedule.Schedule
	load            time.Duration
	prefill, decode int
	prompt          []int32
	seed            uint64
	rng             *rand.Rand
	ttftDone        bool // the caches were emptied for TTFT
	filled          bool // the caches hold random data
}

// NewSession prepares to measure executor name, b running s, loaded in
// load; seed draws the prompt, the decode tokens and the random KV-cache
// contents.
func NewSession(name string, b Backend, s *schedule.Schedule, load time.Duration, seed uint64) (*Session, error) {
	x := &Session{name: name, b: b, s: s, load: load, seed: seed,
		rng: rand.New(rand.NewPCG(seed, 0x62656e6368))} // "bench"
	var err error
	if x.prefill, err = graphIndex(s, "prefill"); err != nil {
		return nil, err
	}
	if x.decode, err = graphIndex(s, "decode"); err != nil {
		return nil, err
	}
	x.prompt = make([]int32, stepTokens(s, x.prefill))
	for i := range x.prompt {
		x.prompt[i] = x.token()
	}
	return x, nil
}

func (x *Session) token() int32 { return int32(x.rng.IntN(int(x.s.Model.Vocab))) }

// report is the executor's report without timings or copy bandwidth.
func (x *Session) report() *Report {
	s := x.s
	t := s.Traffic(x.decode)
	return &Report{Executor: x.name, Model: s.Model.Name, Device: x.b.Device(), Partitions: partitions(s.Graphs[x.decode]),
		MaxCacheLen: s.Model.MaxCacheLen, PrefillTokens: len(x.prompt), LoadMs: float64(x.load) / 1e6,
		WeightBytes: t.WeightBytes, StateBytes: t.StateBytes, Decode: t}
}

// step returns one step of TTFT (a full prefill chunk to its greedy id on
// the host) or of decoding at pos (one token to its greedy id). TTFT
// starts from emptied caches; the first decode step fills them with
// random data, as if a long context had been consumed.
func (x *Session) step(pos int64) (func() error, error) {
	if pos == TTFT {
		if !x.ttftDone {
			// The chunk writes and reads only cache slots
			// 0..chunk-1, so the caches stay as good as empty.
			if err := x.b.Reset(); err != nil {
				return nil, err
			}
			x.ttftDone, x.filled = true, false
		}
		return func() error {
			if err := x.b.Run(x.prefill, x.prompt, 0); err != nil {
				return err
			}
			_, err := x.b.Argmax(x.prefill, len(x.prompt)-1)
			return err
		}, nil
	}
	if pos < 0 || pos >= x.s.Model.MaxCacheLen {
		return nil, fmt.Errorf("position %d is outside the cache (0..%d)", pos, x.s.Model.MaxCacheLen-1)
	}
	if !x.filled {
		if err := fillStates(x.b, x.s, x.seed); err != nil {
			return nil, err
		}
		x.filled = true
	}
	tok := []int32{x.token()}
	return func() error {
		if err := x.b.Run(x.decode, tok, int32(pos)); err != nil {
			return err
		}
		_, err := x.b.Argmax(x.decode, 0)
		return err
	}, nil
}

// Group measures executors loaded in one process, their steps taken in
// turn: one step of each, then the next of each, so that whatever the
// machine does at any moment (another process, a slow thread wake-up)
// weighs on all of them alike. A measurement is the median of its steps,
// so the odd stalled step moves nothing. On a noisy 2-vCPU VM this keeps
// the whole/DAG ratio of identical kernels within ~3% where timing the
// executors one after the other (even alternating 20 ms blocks between
// processes) scattered it by ±10%.
type Group struct {
	sessions []*Session
	steps    map[int64]int // steps per measurement, by position, once calibrated
	// bandwidth is the device's copy bandwidth in GB/s, measured once
	// (the executors share the device) when measured is set.
	bandwidth float64
	measured  bool
}

// NewGroup measures sessions side by side.
func NewGroup(sessions ...*Session) *Group {
	return &Group{sessions: sessions, steps: map[int64]int{}}
}

// Info implements Measurer. The first call measures the copy bandwidth
// through the first executor, where its backend can.
func (g *Group) Info() ([]*Report, error) {
	if !g.measured {
		if m, ok := g.sessions[0].b.(BandwidthMeter); ok {
			bw, err := m.CopyBandwidth()
			if err != nil {
				return nil, err
			}
			g.bandwidth = bw / 1e9
		}
		g.measured = true
	}
	var reps []*Report
	for _, x := range g.sessions {
		r := x.report()
		r.CopyBandwidthGBs = g.bandwidth
		reps = append(reps, r)
	}
	return reps, nil
}

// Measure implements Measurer: per executor, the median of as many of
// its steps as fill minTime (counted from the slowest executor's step).
// Each measurement runs one untimed step of each first; the first at a
// position then times one of each to count the steps.
func (g *Group) Measure(pos int64, minTime time.Duration) ([]time.Duration, int, error) {
	steps := make([]func() error, len(g.sessions))
	for i, x := range g.sessions {
		var err error
		if steps[i], err = x.step(pos); err != nil {
			return nil, 0, err
		}
	}
	turn := 0
	round := func() ([]time.Duration, error) {
		times := make([]time.Duration, len(steps))
		turn++
		for k := range steps {
			// Every other round goes in reverse, so that going first
			// or after another executor favours none of them.
			i := k
			if turn%2 == 0 {
				i = len(steps) - 1 - k
			}
			step := steps[i]
			start := time.Now()
			if err := step(); err != nil {
				return nil, fmt.Errorf("%s: %w", g.sessions[i].name, err)
			}
			times[i] = time.Since(start)
		}
		return times, nil
	}
	if _, err := round(); err != nil { // warm up: caches, sleeping threads
		return nil, 0, err
	}
	n, ok := g.steps[pos]
	if !ok {
		one, err := round()
		if err != nil {
			return nil, 0, err
		}
		// No cap on the count: the measurement lasts minTime (at most
		// MaxMinTime) as asked and recorded. A step counts as at least
		// 1 µs, which bounds the times kept to MaxMinTime/1µs per
		// executor; no device step is faster.
		slowest := time.Microsecond
		for _, d := range one {
			slowest = max(slowest, d)
		}
		n = 1
		if slowest < minTime {
			n = int(minTime/slowest) + 1
		}
		g.steps[pos] = n
	}
	per := make([][]time.Duration, len(steps))
	for range n {
		times, err := round()
		if err != nil {
			return nil, 0, err
		}
		for i, d := range times {
			per[i] = append(per[i], d)
		}
	}
	medians := make([]time.Duration, len(steps))
	for i, ds := range per {
		slices.Sort(ds)
		medians[i] = ds[len(ds)/2]
	}
	return medians, n, nil
}
