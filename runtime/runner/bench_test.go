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
// step must read.
func TestBenchOnFake(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	p := fakeProgram(b)
	s := p.Schedule
	s.Buffers = append(s.Buffers,
		schedule.Buffer{Name: "w", Kind: schedule.Weight, DType: schedule.BF16, Shape: []int64{500}, Bytes: 1000},
		schedule.Buffer{Name: "cache.k", Kind: schedule.State, DType: schedule.BF16, Shape: []int64{1, 20, 2}, Bytes: 80},
		schedule.Buffer{Name: "cache.v", Kind: schedule.State, DType: schedule.F32, Shape: []int64{1, 20, 2}, Bytes: 160})
	s.Graphs[1].Launches = []schedule.Launch{{Part: 0}, {Part: 1}, {Part: 1}, {Part: 2}}
	var progress strings.Builder
	sess, err := NewSession(b, s, 3)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := BenchAll([]Measurer{sess}, BenchOptions{Positions: []int64{1, 4, 19}, Repeat: 2, Progress: &progress})
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
	if r.PrefillTokens != 4 || r.Partitions != 3 || r.WeightBytes != 1000 || r.StateBytes != 240 || r.Repeat != 2 || r.Device != "fake" || len(r.Positions) != 3 {
		t.Errorf("report %+v", r)
	}
	for i, st := range r.Positions {
		wantRead := int64(1000 + 240*(st.Position+1)/20)
		if st.ReadBytes != wantRead || st.StepMsMedian <= 0 || math.Abs(st.TPS*st.StepMsMedian-1e3) > 1e-6 {
			t.Errorf("position %d: %+v (want read %d)", i, st, wantRead)
		}
	}
	if !strings.Contains(progress.String(), "position 19 (3/3)") || !strings.Contains(progress.String(), "time to first token (4-token prompt)") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// A measurement averages as many steps as fill minTime; the first at a
// position warms up and calibrates first.
func TestMeasureFillsMinTime(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}, sleep: time.Millisecond}
	sess, err := NewSession(b, fakeProgram(b).Schedule, 1)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		before := len(b.steps)
		d, n, err := sess.Measure(3, 5*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		// The calibration step took at least 1 ms, so at most 6 fill 5 ms.
		calls, want := len(b.steps)-before, n+1
		if round == 0 {
			want++
		}
		if n < 1 || n > 6 || calls != want || d < time.Millisecond {
			t.Errorf("round %d: %d steps of %s each, %d calls (want %d)", round, n, d, calls, want)
		}
	}
	if _, _, err := sess.Measure(20, 0); err == nil || !strings.Contains(err.Error(), "position 20 is outside the cache (0..19)") {
		t.Errorf("past the cache: %v", err)
	}
}

// Repetitions go in rounds over every position, alternating executors.
func TestBenchAllInterleaves(t *testing.T) {
	var order []string
	ms := []Measurer{&recorder{name: "a", order: &order}, &recorder{name: "b", order: &order}}
	reps, err := BenchAll(ms, BenchOptions{Positions: []int64{2, 8}, Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), "a-1 b-1 a2 b2 a8 b8 a-1 b-1 a2 b2 a8 b8"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// recorder a takes 1 ms a step, b 2 ms.
	if reps[0].Positions[1].StepMsMedian != 1 || reps[1].Positions[1].StepMsMedian != 2 || reps[1].TTFTMs != 2 || reps[0].Positions[0].Steps != 7 {
		t.Errorf("reports %+v %+v", reps[0], reps[1])
	}
}

type recorder struct {
	name  string
	order *[]string
}

func (r *recorder) Info() (*Report, error) { return &Report{MaxCacheLen: 10}, nil }

func (r *recorder) Measure(pos int64, _ time.Duration) (time.Duration, int, error) {
	*r.order = append(*r.order, fmt.Sprintf("%s%d", r.name, pos))
	if r.name == "a" {
		return time.Millisecond, 7, nil
	}
	return 2 * time.Millisecond, 7, nil
}

// --bench writes the report as JSON, with the load time.
func TestBenchFlags(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	path := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr strings.Builder
	if err := Run(fakeProgram(b), []string{"--bench", "--random-weights", "--repeat", "1", "--bench-json", path}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
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
