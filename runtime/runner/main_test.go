package runner

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// fakeBackend "predicts" token+1 after every token, and records the steps
// it was asked to run.
type fakeBackend struct {
	vocab int
	steps []string // graph:first-token@pos
	fed   []int32  // every token of every step, padding included
	last  map[int][]int32
	wrote map[int]int // buffer -> bytes written
	sleep time.Duration
}

func (f *fakeBackend) Run(g int, tokens []int32, pos int32) error {
	f.steps = append(f.steps, strings.Join([]string{[]string{"prefill", "decode"}[g], itoa(int(tokens[0])), itoa(int(pos))}, ":"))
	f.last[g] = append([]int32(nil), tokens...)
	f.fed = append(f.fed, tokens...)
	time.Sleep(f.sleep)
	return nil
}

func (f *fakeBackend) Logits(g, row, n int) ([][]float32, error) {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, f.vocab)
		out[i][(int(f.last[g][row+i])+1)%f.vocab] = 1
	}
	return out, nil
}

func (f *fakeBackend) Argmax(g, row int) (int32, error) {
	return (f.last[g][row] + 1) % int32(f.vocab), nil
}
func (f *fakeBackend) TopK(g, row, k int) ([]int32, []float32, error) {
	l, _ := f.Logits(g, row, 1)
	ids, vals := TopKRow(l[0], k)
	return ids, vals, nil
}
func (f *fakeBackend) GumbelArgmax(g, row int, temperature float32, seed uint64, step int) (int32, error) {
	l, _ := f.Logits(g, row, 1)
	return GumbelArgmax(l[0], temperature, seed, step), nil
}
func (f *fakeBackend) Write(buf int, data []byte) error {
	if f.wrote == nil {
		f.wrote = map[int]int{}
	}
	f.wrote[buf] = len(data)
	return nil
}
func (f *fakeBackend) Reset() error   { return nil }
func (f *fakeBackend) Finish() error  { return nil }
func (f *fakeBackend) Device() string { return "fake" }
func (f *fakeBackend) Close()         {}

func itoa(i int) string { return fmt.Sprintf("%02d", i) }

func fakeProgram(b *fakeBackend) Program {
	s := &schedule.Schedule{
		Model: schedule.Model{Name: "Fake", Vocab: int64(b.vocab), MaxCacheLen: 20},
		Buffers: []schedule.Buffer{
			{Name: "prefill.tokens", Kind: schedule.Input, DType: schedule.I32, Bytes: 4 * 4},
			{Name: "pos", Kind: schedule.Input, DType: schedule.I32, Bytes: 4},
			{Name: "decode.tokens", Kind: schedule.Input, DType: schedule.I32, Bytes: 4},
		},
		Graphs: []schedule.Graph{{Name: "prefill", Inputs: []int{0, 1}}, {Name: "decode", Inputs: []int{2, 1}}},
	}
	return Program{Name: "fake", Schedule: s, Open: func(int, WeightFunc, executor.Options) (Backend, error) { return b, nil }}
}

// Prefill runs in chunks of the prefill length at positions 0, 4, ...; the
// greedy ids feed back through decode at the following positions.
func TestRunChunksAndFeedsBack(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	var stdout, stderr strings.Builder
	npy := filepath.Join(t.TempDir(), "l.npy")
	err := Run(fakeProgram(b), []string{"--tokens", "10,11,12,13,14,15", "--generate", "3", "--random-weights", "--logits-out", npy}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != "16,17,18" {
		t.Errorf("ids %q, want 16,17,18", got)
	}
	want := "prefill:10:00 prefill:14:04 decode:16:06 decode:17:07"
	if got := strings.Join(b.steps, " "); got != want {
		t.Errorf("steps %s\nwant  %s", got, want)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "give the prompt as --prompt TEXT or as token ids"},
		{[]string{"--tokens", "1", "--prompt", "hi"}, "(one of them)"},
		{[]string{"--prompt", "hi", "--system", "be brief"}, "--system is a chat turn: give --chat too"},
		{[]string{"--tokens", "1", "--chat"}, "--chat and --system take a text prompt"},
		{[]string{"--prompt", "hi", "--max-tokens", "0"}, "--max-tokens 0: want at least 1"},
		{[]string{"--prompt", "hi", "--logits-out", "x.npy"}, "--logits-out goes with --tokens"},
		{[]string{"--tokens", "1", "--generate", "-1"}, "--generate -1"},
		{[]string{"--tokens", "1", "--top-k", "5"}, "give --temperature too"},
		{[]string{"--tokens", "1", "--temperature", "-1"}, "--temperature -1"},
		{[]string{"--tokens", "1", "--temperature", "1", "--top-k", "65"}, "--top-k 65: want 0..64"},
		{[]string{"--tokens", "1", "--temperature", "1", "--top-p", "0.9"}, "--top-p 0.9 needs --top-k"},
		{[]string{"--tokens", "1,x"}, `"x" is not a token id`},
		{[]string{"--tokens", "1", "--repeat", "0"}, "--repeat 0"},
		{[]string{"--tokens"}, "needs an argument"},
		{[]string{"--tokens", "1", "extra"}, `unexpected argument "extra"`},
	} {
		b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
		var stdout, stderr strings.Builder
		err := Run(fakeProgram(b), tc.args, &stdout, &stderr)
		var usage errUsage
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want a usage error containing %q", tc.args, err, tc.want)
		}
	}
	var stderr strings.Builder
	if err := Run(fakeProgram(&fakeBackend{}), []string{"--help"}, &strings.Builder{}, &stderr); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "--logits-out") {
		t.Errorf("--help: %v %q", err, stderr.String())
	}
}

// Generation checks its input the way ref.Generate does.
func TestGenerateRejects(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	s := fakeProgram(b).Schedule
	for _, tc := range []struct {
		prompt []int64
		n      int
		want   string
	}{
		{nil, 1, "empty prompt"},
		{[]int64{50}, 1, "out of range"},
		{[]int64{1}, -1, "cannot generate"},
		{make([]int64, 15), 7, "max cache length is 20"},
	} {
		if _, err := Generate(b, s, tc.prompt, tc.n, GenerateOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, %d: got %v, want %q", tc.prompt, tc.n, err, tc.want)
		}
	}
}

// Loading reports progress once it takes longer than a second.
func TestLoadProgress(t *testing.T) {
	s := &schedule.Schedule{Buffers: []schedule.Buffer{
		{Name: "a", Kind: schedule.Weight, Bytes: 1 << 29}, {Name: "b", Kind: schedule.Weight, Bytes: 1 << 29},
		{Name: "c", Kind: schedule.Weight, Bytes: 1 << 30}, {Name: "s", Kind: schedule.State, Bytes: 1 << 30},
	}}
	var w strings.Builder
	// Each weight takes 0.6 s on a fake clock: nothing is said in the first
	// second, then every weight past half a second after the last report.
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	slow := func(b *schedule.Buffer) ([]byte, error) {
		now = now.Add(600 * time.Millisecond)
		return nil, nil
	}
	load, done := loadProgressAt(s, slow, &w, clock)
	for i := range 3 {
		load(&s.Buffers[i])
	}
	done()
	if got := w.String(); got != "loading weights:  50% (1.00 of 2.00 GiB)\nloading weights: 100% (2.00 of 2.00 GiB)\n" {
		t.Fatalf("progress %q", got)
	}
	if got := ofSize(3<<20, 100<<20); got != "3.00 of 100.00 MiB" {
		t.Errorf("a small model's progress reads %q", got)
	}
}
