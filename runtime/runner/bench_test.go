package runner

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

func TestPositions(t *testing.T) {
	for _, tc := range []struct {
		spec string
		max  int64
		want []int64
	}{
		{"log2", 64, []int64{1, 2, 4, 8, 16, 32, 64}},
		{"log2", 100, []int64{1, 2, 4, 8, 16, 32, 64, 100}},
		{"log2", 32640, []int64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32640}},
		{"log2", 1, []int64{1}},
		{"log2", 0, []int64{0}},
		{"log2", math.MaxInt64, append(powers(63), math.MaxInt64)},
		{"64, 1,8,8", 64, []int64{1, 8, 64}},
		{"0", 5, []int64{0}},
	} {
		got, err := Positions(tc.spec, tc.max)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Positions(%q, %d) = %v, %v; want %v", tc.spec, tc.max, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		spec string
		max  int64
		want string
	}{
		{"1,x", 64, `"x" is not a position`},
		{"-1", 64, `"-1" is not a position`},
		{"65", 64, "65 is past the last position measured, 64"},
		{"log2", -1, "no decode position fits"},
	} {
		if _, err := Positions(tc.spec, tc.max); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Positions(%q, %d): got %v, want %q", tc.spec, tc.max, err, tc.want)
		}
	}
}

// powers is 1, 2, 4, ... 2^(n-1).
func powers(n int) []int64 {
	var out []int64
	for i := range n {
		out = append(out, 1<<i)
	}
	return out
}

func TestMsStats(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var d []time.Duration
		for _, x := range xs {
			d = append(d, time.Duration(x*1e6))
		}
		return d
	}
	for _, tc := range []struct {
		in          []time.Duration
		median, std float64
	}{
		{ms(3, 1, 2), 2, 1},
		{ms(4, 1, 2, 3), 2.5, math.Sqrt(5.0 / 3)},
		{ms(7), 7, 0},
	} {
		m, s := msStats(tc.in)
		if math.Abs(m-tc.median) > 1e-9 || math.Abs(s-tc.std) > 1e-9 {
			t.Errorf("msStats(%v) = %g, %g; want %g, %g", tc.in, m, s, tc.median, tc.std)
		}
	}
}

// The bench runs the prefill chunk for TTFT, fills every KV cache, then
// one decode step per position (each after a warm-up), and reports what a
// step must read and write (the decode graph's schedule.Traffic) and its
// floor at the device's copy bandwidth.
func TestBenchOnFake(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	p := fakeProgram(b)
	s := p.Schedule
	s.Buffers = append(s.Buffers,
		schedule.Buffer{Name: "w", Kind: schedule.Weight, DType: schedule.BF16, Shape: []int64{500}, Bytes: 1000},
		schedule.Buffer{Name: "cache.k", Kind: schedule.State, DType: schedule.BF16, Shape: []int64{1, 20, 2}, Bytes: 80},
		schedule.Buffer{Name: "cache.v", Kind: schedule.State, DType: schedule.F32, Shape: []int64{1, 20, 2}, Bytes: 160})
	// Buffers: 0 prefill.tokens, 1 pos, 2 decode.tokens, 3 w, 4 and 5 the
	// caches. Activations: the tokens, pos, and 8 arena bytes.
	s.Graphs[1].Launches = []schedule.Launch{
		{Part: 0, Args: []schedule.Arg{schedule.T(2, 0), schedule.T(3, 0)}},
		{Part: 1, Args: []schedule.Arg{schedule.T(4, 0), schedule.T(1, 0)}},
		{Part: 1, Args: []schedule.Arg{schedule.T(5, 0), schedule.T(3, 0)}, ArenaBytes: 8},
		{Part: 2, Args: []schedule.Arg{schedule.T(3, 0)}}}
	var progress strings.Builder
	calls := 0
	sess, err := NewSession("", metered{b, &calls}, s, time.Millisecond, 3)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := BenchAll(NewGroup(sess), BenchOptions{Positions: []int64{1, 4, 19}, Repeat: 2, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	if b.wrote[4] != 80 || b.wrote[5] != 160 || len(b.wrote) != 2 {
		t.Errorf("states written %v, want both caches in full", b.wrote)
	}
	var steps []string
	for _, st := range b.steps {
		steps = append(steps, st[:strings.IndexByte(st, ':')]+st[strings.LastIndexByte(st, ':'):])
	}
	// MinTime 0: each measurement warms up with one step, then times one;
	// the first round also times one to calibrate.
	want := "prefill:00 prefill:00 prefill:00 decode:01 decode:01 decode:01 decode:04 decode:04 decode:04 decode:19 decode:19 decode:19 " +
		"prefill:00 prefill:00 decode:01 decode:01 decode:04 decode:04 decode:19 decode:19"
	if got := strings.Join(steps, " "); got != want {
		t.Errorf("steps %s\nwant  %s", got, want)
	}
	if r.PrefillTokens != 4 || r.LoadMs != 1 || r.Partitions != 3 || r.WeightBytes != 1000 || r.StateBytes != 240 || r.Repeat != 2 || r.Device != "fake" || len(r.Positions) != 3 {
		t.Errorf("report %+v", r)
	}
	for i, st := range r.Positions {
		wantRead := int64(1000 + 240*(st.Position+1)/20)
		wantFloor := wantRead + 240/20 + 4 + 4 + 8
		if st.ReadBytes != wantRead || st.FloorBytes != wantFloor || st.StepMsMedian <= 0 || math.Abs(st.TPS*st.StepMsMedian-1e3) > 1e-6 {
			t.Errorf("position %d: %+v (want read %d, floor %d)", i, st, wantRead, wantFloor)
		}
		if ms := float64(wantFloor) / 42e6; math.Abs(st.FloorMs-ms) > 1e-12 || math.Abs(st.FloorFraction-ms/st.StepMsMedian) > 1e-12 {
			t.Errorf("position %d: floor %g ms (%g of the step), want %g ms at 42 GB/s", i, st.FloorMs, st.FloorFraction, ms)
		}
	}
	if !strings.Contains(progress.String(), "position 19 (3/3)") || !strings.Contains(progress.String(), "time to first token (4-token prompt)") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// A measurement averages as many steps as fill minTime; each warms up
// with one, and the first at a position times one more to calibrate.
func TestMeasureFillsMinTime(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}, sleep: time.Millisecond}
	sess, err := NewSession("", b, fakeProgram(b).Schedule, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	g := NewGroup(sess)
	for round := range 2 {
		before := len(b.steps)
		ds, n, err := g.Measure(3, 5*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		// The calibration step took at least 1 ms, so at most 6 fill 5 ms.
		calls, want := len(b.steps)-before, n+1
		if round == 0 {
			want++
		}
		if n < 1 || n > 6 || calls != want || len(ds) != 1 || ds[0] < time.Millisecond {
			t.Errorf("round %d: %d steps of %v each, %d calls (want %d)", round, n, ds, calls, want)
		}
	}
	if _, _, err := g.Measure(20, 0); err == nil || !strings.Contains(err.Error(), "position 20 is outside the cache (0..19)") {
		t.Errorf("past the cache: %v", err)
	}
}

// logged is a fake executor that logs its steps in a shared order.
type logged struct {
	*fakeBackend
	name string
	log  *[]string
}

func (l logged) Run(g int, tokens []int32, pos int32) error {
	*l.log = append(*l.log, fmt.Sprintf("%s%d", l.name, pos))
	return l.fakeBackend.Run(g, tokens, pos)
}

// A group takes its executors' steps in turn, step by step.
func TestGroupTakesTurns(t *testing.T) {
	var log []string
	var sessions []*Session
	for _, name := range []string{"a", "b"} {
		b := logged{&fakeBackend{vocab: 50, last: map[int][]int32{}}, name, &log}
		sess, err := NewSession(name, b, fakeProgram(b.fakeBackend).Schedule, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess)
	}
	ds, n, err := NewGroup(sessions...).Measure(5, 0)
	if err != nil || n != 1 || len(ds) != 2 {
		t.Fatalf("%v %d %v", ds, n, err)
	}
	// Warm-up, calibration, the measured step: every other round reversed.
	if got := strings.Join(log, " "); got != "a5 b5 b5 a5 a5 b5" {
		t.Errorf("order %s", got)
	}
	reps, err := NewGroup(sessions...).Info()
	if err != nil || len(reps) != 2 || reps[0].Executor != "a" || reps[1].Executor != "b" {
		t.Errorf("info %v %v", reps, err)
	}
}

// Repetitions go in rounds over TTFT and every position.
func TestBenchAllRounds(t *testing.T) {
	rec := &recorder{}
	reps, err := BenchAll(rec, BenchOptions{Positions: []int64{2, 8}, Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rec.order, " "), "-1 2 8 -1 2 8"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// executor a takes 1 ms a step, b 2 ms.
	if reps[0].Positions[1].StepMsMedian != 1 || reps[1].Positions[1].StepMsMedian != 2 || reps[1].TTFTMs != 2 || reps[0].Positions[0].Steps != 7 {
		t.Errorf("reports %+v %+v", reps[0], reps[1])
	}
}

type recorder struct{ order []string }

func (r *recorder) Info() ([]*Report, error) {
	return []*Report{{Executor: "a", MaxCacheLen: 10}, {Executor: "b", MaxCacheLen: 10}}, nil
}

func (r *recorder) Measure(pos int64, _ time.Duration) ([]time.Duration, int, error) {
	r.order = append(r.order, fmt.Sprint(pos))
	return []time.Duration{time.Millisecond, 2 * time.Millisecond}, 7, nil
}

// --bench measures the runner's schedule and its variants, and writes
// their reports as JSON, with the load times.
func TestBenchFlags(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	p := fakeProgram(b)
	p.Executor = "whole"
	p.Variants = []Variant{{Name: "dag", Schedule: p.Schedule, Open: p.Open}}
	path := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr strings.Builder
	if err := Run(p, []string{"--bench", "--random-weights", "--repeat", "1", "--bench-json", path}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var reps []Report
	if err := json.Unmarshal(data, &reps); err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Executor != "whole" || reps[1].Executor != "dag" || !strings.Contains(stderr.String(), "position 16 (5/5): whole ") {
		t.Fatalf("%d reports; stderr:\n%s", len(reps), stderr.String())
	}
	r := reps[1]
	// MaxCacheLen 20, chunk 4: the seed's last position is 16.
	var got []int64
	for _, st := range r.Positions {
		got = append(got, st.Position)
	}
	if !slices.Equal(got, []int64{1, 2, 4, 8, 16}) || r.LoadMs <= 0 || r.Model != "Fake" {
		t.Errorf("report positions %v, load %g ms, model %q", got, r.LoadMs, r.Model)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bench", "--max-position", "20"}, "--max-position 20: want a cache position in 0..19"},
		{[]string{"--bench", "--max-position", "8", "--positions", "9"}, "9 is past the last position measured, 8"},
	} {
		err := Run(fakeProgram(b), tc.args, &stdout, &stderr)
		if _, ok := err.(errUsage); !ok || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

// metered is a fake executor whose device can measure its copy bandwidth.
type metered struct {
	*fakeBackend
	calls *int
}

func (m metered) CopyBandwidth() (float64, error) { *m.calls++; return 42e9, nil }

// The executors of a group share the device: its copy bandwidth is
// measured once and reported for each.
func TestGroupMeasuresBandwidthOnce(t *testing.T) {
	calls := 0
	var sessions []*Session
	for _, name := range []string{"whole", "dag"} {
		b := metered{&fakeBackend{vocab: 50, last: map[int][]int32{}}, &calls}
		sess, err := NewSession(name, b, fakeProgram(b.fakeBackend).Schedule, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, sess)
	}
	g := NewGroup(sessions...)
	for range 2 {
		reps, err := g.Info()
		if err != nil || reps[0].CopyBandwidthGBs != 42 || reps[1].CopyBandwidthGBs != 42 {
			t.Fatalf("info %+v %+v, %v", reps[0], reps[1], err)
		}
	}
	if calls != 1 {
		t.Errorf("copy bandwidth measured %d times, want once", calls)
	}
}
