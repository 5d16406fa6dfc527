package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Report is what --bench measures, the seed's method: the time to the first
// token of one full prefill chunk, then, with the KV caches filled with
// random data, the time of ONE decode step at each cache position. The
// JSON is read back by `irc bench` (package bench documents the schema).
type Report struct {
	Model  string `json:"model"`
	Device string `json:"device"`
	// Partitions is how many partitions the decode graph's launches
	// belong to: 1 for a whole-graph runner.
	Partitions int `json:"partitions"`
	// CopyBandwidthGBs is the device's measured copy bandwidth, bytes read
	// plus written per second (0 when the backend cannot measure it).
	CopyBandwidthGBs float64 `json:"copy_bandwidth_gbs,omitempty"`
	LoadMs           float64 `json:"load_ms"`
	PrefillTokens    int     `json:"prefill_tokens"`
	MaxCacheLen      int64   `json:"max_cache_len"`
	Repeat           int     `json:"repeat"`
	// WeightBytes is the size of every weight, all of which a decode step
	// reads.
	WeightBytes int64 `json:"weight_bytes"`
	// TTFT is the time from a prompt of one prefill chunk to its first
	// generated id on the host, caches empty.
	TTFTMs    float64 `json:"ttft_ms"`
	TTFTMsStd float64 `json:"ttft_ms_std"`
	// StateBytes is the size of every KV cache (a step reads the part up
	// to its position).
	StateBytes int64 `json:"state_bytes"`
	// MinTimeMs is BenchOptions.MinTime.
	MinTimeMs float64 `json:"min_time_ms"`
	Positions []Step  `json:"positions"`
}

// Step is one decode step's timing at a cache position: the step writes
// slot Position and attends to Position+1 cached tokens. It is timed from
// the host's call to the greedy id being back on the host.
type Step struct {
	Position     int64   `json:"position"`
	StepMsMedian float64 `json:"step_ms_median"`
	// StepMsStd is the sample standard deviation of the repeats.
	StepMsStd float64 `json:"step_ms_std"`
	// TPS is tokens per second at the median step time.
	TPS float64 `json:"tps"`
	// Steps is how many identical steps each measurement averaged.
	Steps int `json:"steps"`
	// ReadBytes is what the step must read at least: every weight and the
	// KV cache up to its position; GBs is that over the median time.
	ReadBytes int64   `json:"read_bytes"`
	GBs       float64 `json:"gbs"`
}

// BandwidthMeter is a Backend that can measure its device's copy bandwidth.
type BandwidthMeter interface {
	// CopyBandwidth returns bytes read plus written per second by a
	// device-to-device copy.
	CopyBandwidth() (float64, error)
}

// BenchOptions say what to measure.
type BenchOptions struct {
	Positions []int64 // decode positions, ascending
	Repeat    int     // timed repetitions of each measurement
	// MinTime is how long one measurement lasts at least: it averages as
	// many identical steps as that takes (timer and scheduling noise
	// would otherwise swamp millisecond steps). 0 times single steps.
	MinTime time.Duration
	// Progress, when set, gets a line per measurement as it completes,
	// naming the executors by Names.
	Progress io.Writer
	Names    []string
}

// Measurer takes one executor's measurements.
type Measurer interface {
	// Info is the report without timings.
	Info() (*Report, error)
	// Measure times one measurement of the time to first token (position
	// TTFT) or of a decode step at a position: the mean time of as many
	// steps as fill minTime, and that number.
	Measure(position int64, minTime time.Duration) (time.Duration, int, error)
}

// TTFT is the position Measure takes for the time to first token.
const TTFT = -1

// BenchAll measures executors side by side. Repetitions go in rounds:
// each round measures TTFT and every position once, alternating between
// the executors at each, so that each position's repetitions are spread
// over the whole run and the machine's drifting state (other load, clocks,
// where threads happen to run) weighs on every executor and position
// alike. The first round also warms up and calibrates each position.
func BenchAll(ms []Measurer, o BenchOptions) ([]*Report, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	reps := make([]*Report, len(ms))
	for i, m := range ms {
		r, err := m.Info()
		if err != nil {
			return nil, err
		}
		r.Repeat, r.MinTimeMs = o.Repeat, float64(o.MinTime)/1e6
		reps[i] = r
	}
	whats := append([]int64{TTFT}, o.Positions...)
	times := make([][][]time.Duration, len(whats)) // by what, executor
	steps := make([][]int, len(whats))
	for w := range whats {
		times[w], steps[w] = make([][]time.Duration, len(ms)), make([]int, len(ms))
	}
	start := time.Now()
	for round := range o.Repeat {
		last := round == o.Repeat-1
		for w, pos := range whats {
			for i, m := range ms {
				d, n, err := m.Measure(pos, o.MinTime)
				if err != nil {
					if pos == TTFT {
						return nil, fmt.Errorf("time to first token: %w", err)
					}
					return nil, fmt.Errorf("decode step at position %d: %w", pos, err)
				}
				times[w][i], steps[w][i] = append(times[w][i], d), n
			}
			if !last {
				continue
			}
			var parts []string
			for i, r := range reps {
				st := Step{Position: pos, Steps: steps[w][i]}
				st.StepMsMedian, st.StepMsStd = msStats(times[w][i])
				st.TPS = 1e3 / st.StepMsMedian
				name := ""
				if i < len(o.Names) && len(ms) > 1 {
					name = o.Names[i] + " "
				}
				parts = append(parts, fmt.Sprintf("%s%.3f ms ± %.3f (%.1f tok/s)", name, st.StepMsMedian, st.StepMsStd, st.TPS))
				if pos == TTFT {
					r.TTFTMs, r.TTFTMsStd = st.StepMsMedian, st.StepMsStd
					continue
				}
				st.ReadBytes = r.WeightBytes + r.StateBytes*(pos+1)/r.MaxCacheLen
				st.GBs = float64(st.ReadBytes) / st.StepMsMedian / 1e6
				r.Positions = append(r.Positions, st)
			}
			label := fmt.Sprintf("position %d (%d/%d)", pos, w, len(o.Positions))
			if pos == TTFT {
				label = fmt.Sprintf("time to first token (%d-token prompt)", reps[0].PrefillTokens)
			}
			fmt.Fprintf(progress, "%s: %s\n", label, strings.Join(parts, ", "))
		}
		if !last {
			fmt.Fprintf(progress, "round %d of %d done (%s)\n", round+1, o.Repeat, time.Since(start).Round(time.Millisecond))
		}
	}
	return reps, nil
}

// Session measures a Backend in-process.
type Session struct {
	b               Backend
	s               *schedule.Schedule
	prefill, decode int
	prompt          []int32
	seed            uint64
	rng             *rand.Rand
	info            *Report
	steps           map[int64]int // steps per measurement, by position, once calibrated
	filled          bool          // the caches hold random data
}

// NewSession prepares to measure b on s; seed draws the prompt, the
// decode tokens and the random KV-cache contents.
func NewSession(b Backend, s *schedule.Schedule, seed uint64) (*Session, error) {
	x := &Session{b: b, s: s, seed: seed, steps: map[int64]int{},
		rng: rand.New(rand.NewPCG(seed, 0x62656e6368))} // "bench"
	var err error
	if x.prefill, err = graphIndex(s, "prefill"); err != nil {
		return nil, err
	}
	if x.decode, err = graphIndex(s, "decode"); err != nil {
		return nil, err
	}
	x.prompt = make([]int32, s.Buffers[s.Graphs[x.prefill].Inputs[0]].Bytes/4)
	for i := range x.prompt {
		x.prompt[i] = x.token()
	}
	return x, nil
}

func (x *Session) token() int32 { return int32(x.rng.IntN(int(x.s.Model.Vocab))) }

// Info is the report's header; the copy bandwidth is measured once.
func (x *Session) Info() (*Report, error) {
	if x.info == nil {
		s := x.s
		r := &Report{Model: s.Model.Name, Device: x.b.Device(), Partitions: partitions(s.Graphs[x.decode]),
			MaxCacheLen: s.Model.MaxCacheLen, PrefillTokens: len(x.prompt)}
		for _, buf := range s.Buffers {
			switch buf.Kind {
			case schedule.Weight:
				r.WeightBytes += buf.Bytes
			case schedule.State:
				r.StateBytes += buf.Bytes
			}
		}
		if m, ok := x.b.(BandwidthMeter); ok {
			bw, err := m.CopyBandwidth()
			if err != nil {
				return nil, err
			}
			r.CopyBandwidthGBs = bw / 1e9
		}
		x.info = r
	}
	r := *x.info
	return &r, nil
}

// Loaded is a Session whose report includes how long loading took.
type Loaded struct {
	*Session
	Load time.Duration
}

// Info implements Measurer.
func (l Loaded) Info() (*Report, error) {
	r, err := l.Session.Info()
	if r != nil {
		r.LoadMs = float64(l.Load) / 1e6
	}
	return r, err
}

// Measure implements Measurer. Each measurement runs one untimed step
// first; the first at a position then times one to count how many steps
// fill minTime. TTFT starts
// from empty caches; the first decode step fills them with random data.
func (x *Session) Measure(pos int64, minTime time.Duration) (time.Duration, int, error) {
	var step func() error
	if pos == TTFT {
		step = func() error {
			if err := x.b.Run(x.prefill, x.prompt, 0); err != nil {
				return err
			}
			_, err := x.b.Argmax(x.prefill, len(x.prompt)-1)
			return err
		}
	} else {
		if pos < 0 || pos >= x.s.Model.MaxCacheLen {
			return 0, 0, fmt.Errorf("position %d is outside the cache (0..%d)", pos, x.s.Model.MaxCacheLen-1)
		}
		if !x.filled {
			if err := fillStates(x.b, x.s, x.seed); err != nil {
				return 0, 0, err
			}
			x.filled = true
		}
		tok := []int32{x.token()}
		step = func() error {
			if err := x.b.Run(x.decode, tok, int32(pos)); err != nil {
				return err
			}
			_, err := x.b.Argmax(x.decode, 0)
			return err
		}
	}
	n, ok := x.steps[pos]
	if !ok && pos == TTFT {
		// The chunk writes and reads only cache slots 0..chunk-1, so
		// the caches stay as good as empty.
		if err := x.b.Reset(); err != nil {
			return 0, 0, err
		}
		x.filled = false
	}
	// Another executor may have run since the last measurement: one
	// untimed step brings back the caches and wakes the threads, which
	// would otherwise cost this measurement more the fewer steps it has.
	if _, err := stepTime(step, 1); err != nil {
		return 0, 0, err
	}
	if !ok {
		one, err := stepTime(step, 1)
		if err != nil {
			return 0, 0, err
		}
		n = 1
		if one < minTime {
			n = min(int(minTime/max(one, 1))+1, 1000)
		}
		x.steps[pos] = n
	}
	d, err := stepTime(step, n)
	return d, n, err
}

// stepTime runs step n times back to back and returns the mean time.
func stepTime(step func() error, n int) (time.Duration, error) {
	start := time.Now()
	for range n {
		if err := step(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(n), nil
}

// msStats is the median and sample standard deviation in milliseconds.
func msStats(d []time.Duration) (median, std float64) {
	ms := make([]float64, len(d))
	var mean float64
	for i, x := range d {
		ms[i] = float64(x) / 1e6
		mean += ms[i]
	}
	mean /= float64(len(ms))
	for _, x := range ms {
		std += (x - mean) * (x - mean)
	}
	if len(ms) > 1 {
		std = math.Sqrt(std / float64(len(ms)-1))
	}
	slices.Sort(ms)
	median = ms[len(ms)/2]
	if len(ms)%2 == 0 {
		median = (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2
	}
	return median, std
}

// fillStates writes random data into every KV cache, as if a long context
// had been consumed.
func fillStates(b Backend, s *schedule.Schedule, seed uint64) error {
	random := RandomWeights(seed)
	for i := range s.Buffers {
		buf := &s.Buffers[i]
		if buf.Kind != schedule.State {
			continue
		}
		data, err := random(buf)
		if err == nil {
			err = b.Write(i, data)
		}
		if err != nil {
			return fmt.Errorf("filling %s with random data: %w", buf.Name, err)
		}
	}
	return nil
}

// partitions counts the distinct partitions g's launches run in.
func partitions(g schedule.Graph) int {
	seen := map[int]bool{}
	for _, l := range g.Launches {
		seen[l.Part] = true
	}
	return max(len(seen), 1)
}

// Positions parses a --positions value: "log2" is 1, 2, 4, ... below max,
// then max itself (the seed's scale); otherwise comma-separated positions,
// each at most max. Positions come out ascending, without repeats.
func Positions(spec string, max int64) ([]int64, error) {
	if max < 0 {
		return nil, usagef("no decode position fits: the cache holds %d tokens", max+1)
	}
	var out []int64
	if strings.TrimSpace(spec) == "log2" {
		for p := int64(1); p < max && p > 0; p *= 2 { // p > 0: stop at overflow
			out = append(out, p)
		}
		return append(out, max), nil
	}
	for part := range strings.SplitSeq(spec, ",") {
		p, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || p < 0 {
			return nil, usagef("--positions: %q is not a position (want log2 or comma-separated cache positions, e.g. 1,8,64)", part)
		}
		if p > max {
			return nil, usagef("--positions: %d is past the last position measured, %d", p, max)
		}
		out = append(out, p)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// WriteJSON writes the report to path, indented.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
