package opencl_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
	clgen "github.com/irc-compiler/irc/codegen/opencl"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/opencl"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// oldGEMV is the GEMV as it was before issue 14 (one work group per
// output, element loads, a local-memory tree per output), kept here only
// as the benchmark's baseline.
const oldGEMV = `
/* linear as GEMV (decode, M small): out[m, n] = x[m, :] . w[n, :], one work
 * group per output element, the K loop split across the group. The
 * prologue (LINEAR_NORM) recomputes row m's inverse RMS in every group:
 * the row is tiny next to the weight. With LINEAR_GLU the group takes the
 * dot products with gate row n and up row N + n. */
KERNEL void TYPED(linear_gemv_old)(PARAMS(linear_gemv)) {
	LOCAL float red[WG];
	int n = GROUP(0), m = GROUP(1);
	GLOBAL T* xs = AT(x) + (long)m * K;
	GLOBAL T* ws = AT(w) + (long)n * K;
	GLOBAL T* us = AT(w) + (long)(N + n) * K;
	int norm = (flags & LINEAR_NORM) != 0, glu = (flags & LINEAR_GLU) != 0;
	float inv = 1.0f;
	if (norm) {
		float ss = 0.0f;
		for (int k = LID(0); k < K; k += WG) {
			float v = LD(xs, k);
			ss += v * v;
		}
		inv = 1.0f / sqrt(group_sum(red, ss, LID(0)) / (float)K + eps);
	}
	float acc = 0.0f, up = 0.0f;
	for (int k = LID(0); k < K; k += WG) {
		float v = norm ? LD(AT(nw), k) * (LD(xs, k) * inv) : LD(xs, k);
		acc += v * LD(ws, k);
		if (glu) up += v * LD(us, k);
	}
	acc = group_sum(red, acc, LID(0));
	if (glu) acc = acc / (1.0f + exp(-acc)) * group_sum(red, up, LID(0));
	if (LID(0) == 0) ST(AT(out), (long)m * N + n, TYPED(linear_epilogue)(acc, AT(bias), AT(res), m, n, N, flags));
}
`

// BenchmarkGEMVShapes times one bf16 GEMV over a 35840 x 1536 weight
// (110 MB, past every cache) in three shapes side by side on this
// machine's OpenCL device: the old one, the GPU shape (linear_gemv) and
// the CPU shape (linear_gemv_rows), each as its best device time and as
// a fraction of the copy-bandwidth floor (weight bytes / measured copy
// bandwidth; above 1 where the kernel reads faster than the device
// copies). Run it on a quiet machine:
//
//	go test ./codegen/opencl -run '^$' -bench GEMVShapes -benchtime 10x
func BenchmarkGEMVShapes(b *testing.B) {
	const K, N = 1536, 35840
	m, err := ir.Parse("gemv", `irc v1
graph g(%x: bf16[1,1536], %w: bf16[35840,1536]) {
  %y = linear(%x, %w) : bf16[1,35840]
  return %y
}`)
	if err != nil {
		b.Fatal(err)
	}
	t := codegen.Portable
	low, err := codegen.LowerGraphs(m, t, "g")
	if err != nil {
		b.Fatal(err)
	}
	s := low.Schedule
	gpu := s.Graphs[0].Launches[0]
	if gpu.CPU == nil || gpu.Args[kernels.LinearGEMV.Index("flags")].Int&kernels.LinearAligned.Value == 0 {
		b.Fatal("the GEMV launch has no CPU alternative or is not aligned")
	}
	cpu := *gpu.CPU
	gpu.CPU = nil
	old := gpu
	old.Kernel = len(s.Kernels)
	s.Kernels = append(s.Kernels, "linear_gemv_old_bf16")
	old.Global, old.Local = [3]int{N * t.WorkGroup, 1, 1}, [3]int{t.WorkGroup, 1, 1}
	s.Graphs[0].Launches = []schedule.Launch{old, gpu, cpu}
	names := []string{"old", "gpu", "cpu"}
	source := clgen.Source(low) + kernels.Typed(schedule.BF16, oldGEMV)

	r := rand.New(rand.NewPCG(1, 2))
	random := func(n int64) []byte {
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(r.NormFloat64())
		}
		return schedule.Encode(schedule.BF16, vals)
	}
	exec, err := executor.Load(opencl.OpenDevice, s, source, 0, func(buf *schedule.Buffer) ([]byte, error) { return random(buf.Bytes / 2), nil })
	backendtest.Need(b, "opencl", err)
	defer exec.Close()
	for i, in := range s.Graphs[0].Inputs {
		if err := exec.Write(in, random(s.Buffers[in].Bytes/2)); err != nil {
			b.Fatalf("input %d: %v", i, err)
		}
	}
	bw, err := exec.CopyBandwidth()
	if err != nil || bw == 0 {
		b.Fatalf("copy bandwidth %g: %v", bw, err)
	}
	floor := time.Duration(float64(N*K*2) / bw * 1e9)
	best := slices.Repeat([]time.Duration{time.Hour}, len(names))
	if _, err := exec.Time(0); err != nil { // warm-up
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		times, err := exec.Time(0)
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range times {
			best[i] = min(best[i], d)
		}
	}
	b.StopTimer()
	b.ReportMetric(bw/1e9, "copyGB/s")
	for i, name := range names {
		b.ReportMetric(float64(best[i].Microseconds())/1e3, name+"-ms")
		b.ReportMetric(float64(floor)/float64(best[i]), name+"-of-floor")
	}
	b.Logf("%s: weight %d MB, copy %.1f GB/s, floor %v; best of %d: old %v, gpu %v, cpu %v",
		exec.Device(), N*K*2/1000000, bw/1e9, floor, b.N, best[0], best[1], best[2])
}
