package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// logitsVocabs are the row lengths the sampling kernels are checked on:
// shorter than a top-k, odd, and Qwen's vocabulary.
var logitsVocabs = []int{1, 7, 1000, 151936}

// loadLogits loads a graph whose output is its input, rows of vocab f32
// logits, as for a device of kind k, and writes rows into it.
func (s subject) loadLogits(t *testing.T, vocab int, rows []float32, k schedule.DeviceKind) *executor.Executor {
	t.Helper()
	n := len(rows) / vocab
	m, err := ir.Parse("logits", fmt.Sprintf(`irc v1
graph g(%%x: f32[%d,%d]) {
  %%y = cast(%%x) {dtype=f32} : f32[%d,%d]
  return %%y
}`, n, vocab, n, vocab))
	if err != nil {
		t.Fatal(err)
	}
	low := s.lower(t, m)
	exec := s.loadAs(t, low, k)
	if err := exec.Write(low.Schedule.Graphs[0].Inputs[0], schedule.Encode(schedule.F32, rows)); err != nil {
		exec.Close()
		t.Fatal(err)
	}
	if err := exec.Launch(0); err != nil {
		exec.Close()
		t.Fatal(err)
	}
	return exec
}

// topk: the device's top-k is a stable host sort's first k, ties to the
// lower id, -inf logits included, for rows shorter and longer than k, in
// the GPU shape (many parts) and the CPU shape (few) alike.
func (s subject) topk(t *testing.T) {
	for _, vocab := range logitsVocabs {
		t.Run(fmt.Sprint(vocab), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(vocab), 3))
			const n = 3
			rows := make([]float32, n*vocab)
			for i := range vocab {
				// Row 0: few distinct values, so ties everywhere.
				rows[i] = float32(rng.IntN(40)) - 20
				// Row 1: spread values, most of them -inf (masked).
				rows[vocab+i] = float32(-math.Inf(1))
				if rng.IntN(10) == 0 {
					rows[vocab+i] = float32(rng.NormFloat64() * 5)
				}
				// Row 2: one value: the lowest ids win.
				rows[2*vocab+i] = 0.5
			}
			for _, kind := range []schedule.DeviceKind{schedule.GPU, schedule.CPU} {
				exec := s.loadLogits(t, vocab, rows, kind)
				for r := range n {
					for _, k := range []int{1, 5, 40, schedule.MaxTopK} {
						ids, vals, err := exec.TopK(0, r, k)
						if err != nil {
							t.Fatal(err)
						}
						wantIDs, wantVals := runner.TopKRow(rows[r*vocab:(r+1)*vocab], k)
						if !slices.Equal(ids, wantIDs) || !slices.Equal(vals, wantVals) {
							t.Errorf("%s shape, row %d, k %d: top-k\n ids %v\nvals %v\nwant\n ids %v\nvals %v", kind, r, k, ids, vals, wantIDs, wantVals)
						}
					}
				}
				exec.Close()
			}
		})
	}
}

// gumbel: the device's Gumbel-max sample is the host's (runner.GumbelArgmax)
// for many seeds, steps and temperatures, but where the two largest
// perturbed logits are so close that float rounding may order them either
// way.
func (s subject) gumbel(t *testing.T) {
	for _, vocab := range logitsVocabs {
		t.Run(fmt.Sprint(vocab), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(vocab), 5))
			const n = 2
			rows := make([]float32, n*vocab)
			for i := range rows {
				rows[i] = float32(rng.NormFloat64() * 3)
			}
			rows[vocab-1] = float32(math.Inf(-1))
			exec := s.loadLogits(t, vocab, rows, schedule.AnyKind)
			defer exec.Close()
			near := 0
			for seed := range uint64(20) {
				seed = seed*0x9e3779b97f4a7c15 + 1
				for r := range n {
					for step, temp := range []float32{0.3, 1, 1.7} {
						row := rows[r*vocab : (r+1)*vocab]
						got, err := exec.GumbelArgmax(0, r, temp, seed, step)
						if err != nil {
							t.Fatal(err)
						}
						want := runner.GumbelArgmax(row, temp, seed, step)
						if got == want {
							continue
						}
						perturbed := func(i int32) float64 {
							return float64(row[i]/temp) + float64(runner.GumbelNoise(seed, step, int(i)))
						}
						a, b := perturbed(got), perturbed(want)
						if got < 0 || int(got) >= vocab || math.Abs(a-b) > 1e-4*max(math.Abs(a), math.Abs(b), 1) {
							t.Errorf("seed %#x row %d temperature %g: sampled %d, want %d (perturbed %g vs %g)", seed, r, temp, got, want, a, b)
						}
						near++
					}
				}
			}
			if near > 0 {
				t.Logf("%d near-ties sampled differently", near)
			}
		})
	}
}
