package opencl_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	clgen "github.com/irc-compiler/irc/codegen/opencl"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/opencl"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// BenchmarkSampleRow times choosing a token from one row of Qwen's 151936
// logits side by side on this machine's OpenCL device: reading the whole
// row back (what host sampling would do), the device's top-k of 40 and of
// MaxTopK (the launches plus k pairs read back), the Gumbel-max sample and
// the greedy argmax (4 bytes back). Each includes the wait for the device.
//
//	go test ./codegen/opencl -run '^$' -bench SampleRow
func BenchmarkSampleRow(b *testing.B) {
	const vocab = 151936
	m, err := ir.Parse("logits", fmt.Sprintf(`irc v1
graph g(%%x: f32[1,%d]) {
  %%y = cast(%%x) {dtype=f32} : f32[1,%d]
  return %%y
}`, vocab, vocab))
	if err != nil {
		b.Fatal(err)
	}
	low, err := codegen.LowerGraphs(m, codegen.Portable, "g")
	if err != nil {
		b.Fatal(err)
	}
	exec, err := executor.Load(opencl.OpenDevice, low.Schedule, clgen.Source(low), 0, runner.RandomWeights(1))
	backendtest.Need(b, "opencl", err)
	defer exec.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	row := make([]float32, vocab)
	for i := range row {
		row[i] = float32(rng.NormFloat64() * 3)
	}
	if err := exec.Write(low.Schedule.Graphs[0].Inputs[0], schedule.Encode(schedule.F32, row)); err != nil {
		b.Fatal(err)
	}
	if err := exec.Launch(0); err != nil {
		b.Fatal(err)
	}
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("read-row", func(b *testing.B) {
		for range b.N {
			_, err := exec.Logits(0, 0, 1)
			check(err)
		}
	})
	for _, k := range []int{40, schedule.MaxTopK} {
		b.Run(fmt.Sprintf("topk-%d", k), func(b *testing.B) {
			for range b.N {
				_, _, err := exec.TopK(0, 0, k)
				check(err)
			}
		})
	}
	gumbel := func(name string) {
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				_, err := exec.GumbelArgmax(0, 0, 0.8, 7, i)
				check(err)
			}
		})
	}
	gumbel("gumbel")
	b.Run("argmax", func(b *testing.B) {
		for range b.N {
			_, err := exec.Argmax(0, 0)
			check(err)
		}
	})
	// A row shaped like a trained model's: the same bulk, and a few
	// tokens 20 to 25 above it, as a model's likely next tokens stand
	// out. Gumbel-max skips the noise of tokens that cannot win, which is
	// most of such a row.
	for i := range 16 {
		row[rng.IntN(vocab)] = 20 + float32(i)/3
	}
	check(exec.Write(low.Schedule.Graphs[0].Inputs[0], schedule.Encode(schedule.F32, row)))
	check(exec.Launch(0))
	gumbel("gumbel-peaked")
}
