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
	Seed      uint64  // of the random KV-cache contents and tokens
	// Progress, when set, gets a line per measurement as it completes.
	Progress io.Writer
}

// Bench measures b on s as Report describes. Before each measurement one
// untimed run warms the device up.
func Bench(b Backend, s *schedule.Schedule, o BenchOptions) (*Report, error) {
	prefill, err := graphIndex(s, "prefill")
	if err != nil {
		return nil, err
	}
	decode, err := graphIndex(s, "decode")
	if err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	r := &Report{Model: s.Model.Name, Device: b.Device(), Partitions: partitions(s.Graphs[decode]),
		MaxCacheLen: s.Model.MaxCacheLen, Repeat: o.Repeat}
	if m, ok := b.(BandwidthMeter); ok {
		bw, err := m.CopyBandwidth()
		if err != nil {
			return nil, err
		}
		r.CopyBandwidthGBs = bw / 1e9
		fmt.Fprintf(progress, "copy bandwidth: %.1f GB/s\n", r.CopyBandwidthGBs)
	}
	var states int64
	for _, buf := range s.Buffers {
		switch buf.Kind {
		case schedule.Weight:
			r.WeightBytes += buf.Bytes
		case schedule.State:
			states += buf.Bytes
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x62656e6368)) // "bench"
	token := func() int32 { return int32(rng.IntN(int(s.Model.Vocab))) }

	// Time to first token: a full chunk from empty caches.
	prompt := make([]int32, s.Buffers[s.Graphs[prefill].Inputs[0]].Bytes/4)
	for i := range prompt {
		prompt[i] = token()
	}
	r.PrefillTokens = len(prompt)
	ttft, err := timed(o.Repeat, b.Reset, func() error {
		if err := b.Run(prefill, prompt, 0); err != nil {
			return err
		}
		_, err := b.Argmax(prefill, len(prompt)-1)
		return err
	})
	if err != nil {
		return nil, err
	}
	r.TTFTMs, r.TTFTMsStd = msStats(ttft)
	fmt.Fprintf(progress, "time to first token (%d-token prompt): %.3f ms ± %.3f\n", len(prompt), r.TTFTMs, r.TTFTMsStd)

	// One decode step at each position, over caches of random data.
	if err := fillStates(b, s, o.Seed); err != nil {
		return nil, err
	}
	for i, pos := range o.Positions {
		tok := token()
		times, err := timed(o.Repeat, nil, func() error {
			if err := b.Run(decode, []int32{tok}, int32(pos)); err != nil {
				return err
			}
			_, err := b.Argmax(decode, 0)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("decode step at position %d: %w", pos, err)
		}
		st := Step{Position: pos, ReadBytes: r.WeightBytes + states*(pos+1)/s.Model.MaxCacheLen}
		st.StepMsMedian, st.StepMsStd = msStats(times)
		st.TPS = 1e3 / st.StepMsMedian
		st.GBs = float64(st.ReadBytes) / st.StepMsMedian / 1e6
		r.Positions = append(r.Positions, st)
		fmt.Fprintf(progress, "position %d (%d/%d): %.3f ms ± %.3f, %.1f tok/s\n", pos, i+1, len(o.Positions), st.StepMsMedian, st.StepMsStd, st.TPS)
	}
	return r, nil
}

// timed runs step once to warm up, then repeat times, each after an
// untimed prepare, and returns the durations.
func timed(repeat int, prepare, step func() error) ([]time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= repeat; i++ {
		if prepare != nil {
			if err := prepare(); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		if err := step(); err != nil {
			return nil, err
		}
		if i > 0 {
			times = append(times, time.Since(start))
		}
	}
	return times, nil
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
		for p := int64(1); p < max; p *= 2 {
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
