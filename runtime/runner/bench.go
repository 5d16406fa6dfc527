package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
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
	// Executor names the compilation measured (whole, dag) when a runner
	// holds several.
	Executor string `json:"executor,omitempty"`
	Model    string `json:"model"`
	Device   string `json:"device"`
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
	// WeightBytes is the size of every weight the decode step reads
	// (Decode.WeightBytes).
	WeightBytes int64 `json:"weight_bytes"`
	// TTFT is the time from a prompt of one prefill chunk to its first
	// generated id on the host, caches empty.
	TTFTMs    float64 `json:"ttft_ms"`
	TTFTMsStd float64 `json:"ttft_ms_std"`
	// StateBytes is the size of every KV cache (a step reads the part up
	// to its position; Decode.StateBytes).
	StateBytes int64 `json:"state_bytes"`
	// Decode is what a decode step must move through device memory, the
	// roofline every position's figures come from.
	Decode schedule.Traffic `json:"decode_traffic"`
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
	// Steps is how many identical steps each measurement took the median of.
	Steps int `json:"steps"`
	// ReadBytes is what the step must read at least: every weight and the
	// KV cache up to its position; GBs is that over the median time.
	ReadBytes int64   `json:"read_bytes"`
	GBs       float64 `json:"gbs"`
	// FloorBytes is everything the step must read and write: ReadBytes,
	// the cache row it writes and the activations (schedule.Traffic.Bytes).
	FloorBytes int64 `json:"floor_bytes"`
	// FloorMs is FloorBytes at the measured copy bandwidth, the least
	// time the step can take; FloorFraction is FloorMs over the median
	// step time (1: at the floor). Both are absent where the backend
	// cannot measure its bandwidth.
	FloorMs       float64 `json:"floor_ms,omitempty"`
	FloorFraction float64 `json:"floor_fraction,omitempty"`
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
	// MinTime is how long one measurement lasts at least: it is the
	// median of as many identical steps as that takes (timer and
	// scheduling noise would otherwise swamp millisecond steps). 0 times
	// single steps.
	MinTime time.Duration
	// Progress, when set, gets a line per measurement as it completes.
	Progress io.Writer
}

// Measurer takes the measurements of one or more executors loaded side by
// side (a Group in-process, a Client across a pipe).
type Measurer interface {
	// Info is each executor's report without timings.
	Info() ([]*Report, error)
	// Measure times one measurement of the time to first token (position
	// TTFT) or of a decode step at a position: for each executor, the
	// median time of as many steps as fill minTime, and that number.
	Measure(position int64, minTime time.Duration) ([]time.Duration, int, error)
}

// TTFT is the position Measure takes for the time to first token.
const TTFT = -1

// BenchAll measures m's executors. Repetitions go in rounds: each round
// measures TTFT and every position once, so that each position's
// repetitions are spread over the whole run and the machine's drifting
// state weighs on every position alike. The first round also warms up and
// calibrates each position.
func BenchAll(m Measurer, o BenchOptions) ([]*Report, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	reps, err := m.Info()
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		r.Repeat, r.MinTimeMs = o.Repeat, float64(o.MinTime)/1e6
	}
	whats := append([]int64{TTFT}, o.Positions...)
	times := make([][][]time.Duration, len(whats)) // by what, executor
	for w := range whats {
		times[w] = make([][]time.Duration, len(reps))
	}
	start := time.Now()
	for round := range o.Repeat {
		last := round == o.Repeat-1
		for w, pos := range whats {
			ds, n, err := m.Measure(pos, o.MinTime)
			if err == nil && len(ds) != len(reps) {
				err = fmt.Errorf("%d timings for %d executors", len(ds), len(reps))
			}
			if err != nil {
				if pos == TTFT {
					return nil, fmt.Errorf("time to first token: %w", err)
				}
				return nil, fmt.Errorf("decode step at position %d: %w", pos, err)
			}
			for i, d := range ds {
				times[w][i] = append(times[w][i], d)
			}
			if last {
				report(progress, reps, pos, w, len(o.Positions), times[w], n)
			}
		}
		if !last {
			fmt.Fprintf(progress, "round %d of %d done (%s)\n", round+1, o.Repeat, time.Since(start).Round(time.Millisecond))
		}
	}
	return reps, nil
}

// report records the timings of TTFT or a position (the w-th of n) in
// every executor's report and prints them on one line.
func report(progress io.Writer, reps []*Report, pos int64, w, n int, times [][]time.Duration, steps int) {
	var parts []string
	for i, r := range reps {
		st := Step{Position: pos, Steps: steps}
		st.StepMsMedian, st.StepMsStd = msStats(times[i])
		st.TPS = 1e3 / st.StepMsMedian
		name := ""
		if len(reps) > 1 {
			name = r.Executor + " "
		}
		parts = append(parts, fmt.Sprintf("%s%.3f ms ± %.3f (%.1f tok/s)", name, st.StepMsMedian, st.StepMsStd, st.TPS))
		if pos == TTFT {
			r.TTFTMs, r.TTFTMsStd = st.StepMsMedian, st.StepMsStd
			continue
		}
		st.ReadBytes, st.FloorBytes = r.Decode.ReadBytes(pos), r.Decode.Bytes(pos)
		st.GBs = float64(st.ReadBytes) / st.StepMsMedian / 1e6
		if r.CopyBandwidthGBs > 0 {
			st.FloorMs = r.Decode.FloorSeconds(pos, r.CopyBandwidthGBs) * 1e3
			st.FloorFraction = st.FloorMs / st.StepMsMedian
		}
		r.Positions = append(r.Positions, st)
	}
	label := fmt.Sprintf("position %d (%d/%d)", pos, w, n)
	if pos == TTFT {
		label = fmt.Sprintf("time to first token (%d-token prompt)", reps[0].PrefillTokens)
	}
	fmt.Fprintf(progress, "%s: %s\n", label, strings.Join(parts, ", "))
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

// writeJSON writes v to path as indented JSON.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
