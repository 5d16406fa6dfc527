package opencl_test

import (
	"fmt"
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
	benchGEMV(b, codegen.Portable, true)
}

// BenchmarkGEMVCPUTuning times the CPU shape alone under other sizes
// than Portable's: rows per item, prefetch distance, group size.
func BenchmarkGEMVCPUTuning(b *testing.B) {
	for _, c := range [][3]int{{2, 8192, 8}, {4, 8192, 8}, {2, 4096, 8}, {2, 16384, 8}, {4, 16384, 8}, {2, 8192, 4}, {2, 8192, 16}, {2, 0, 8}} {
		t := codegen.Portable
		t.GemvItemRows, t.GemvPrefetch, t.CPUGroup = c[0], c[1], c[2]
		b.Run(fmt.Sprintf("rows=%d/prefetch=%d/group=%d", c[0], c[1], c[2]), func(b *testing.B) { benchGEMV(b, t, false) })
	}
}

func benchGEMV(b *testing.B, t codegen.Target, all bool) {
	const K, N = 1536, 35840
	m, err := ir.Parse("gemv", `irc v1
graph g(%x: bf16[1,1536], %w: bf16[35840,1536]) {
  %y = linear(%x, %w) : bf16[1,35840]
  return %y
}`)
	if err != nil {
		b.Fatal(err)
	}
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
	names, launches := []string{"old", "gpu", "cpu"}, []schedule.Launch{old, gpu, cpu}
	if !all {
		names, launches = names[2:], launches[2:]
	}
	s.Graphs[0].Launches = launches
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
	best := bestTimes(b, exec, len(names))
	b.ReportMetric(bw/1e9, "copyGB/s")
	report := fmt.Sprintf("%s: weight %d MB, copy %.1f GB/s, floor %v; best of %d:", exec.Device(), N*K*2/1000000, bw/1e9, floor, b.N)
	for i, name := range names {
		b.ReportMetric(float64(best[i].Microseconds())/1e3, name+"-ms")
		b.ReportMetric(float64(floor)/float64(best[i]), name+"-of-floor")
		report += fmt.Sprintf(" %s %v (%.2f of the floor)", name, best[i], float64(floor)/float64(best[i]))
	}
	b.Log(report)
}

// BenchmarkGEMMShapes times one bf16 prefill GEMM (a 128-token chunk
// through a 8960 x 1536 weight, 3.5 GFLOP) in the three shapes an OpenCL
// device may run: linear_gemm (the portable 16 x 16 tiles),
// linear_gemm_blocked (the tensor-core GEMM's twin) and linear_gemm_tiles
// (the CPU shape), as best device times and GFLOP/s:
//
//	go test ./codegen/opencl -run '^$' -bench GEMMShapes -benchtime 5x
func BenchmarkGEMMShapes(b *testing.B) {
	benchGEMM(b, codegen.Portable, true)
}

// BenchmarkGEMMCPUTuning times the CPU GEMM alone under other tiles and
// group sizes than Portable's.
func BenchmarkGEMMCPUTuning(b *testing.B) {
	for _, c := range [][3]int{{4, 2, 8}, {2, 4, 8}, {3, 3, 8}, {4, 3, 8}, {6, 2, 8}, {4, 2, 32}} {
		t := codegen.Portable
		t.CPUTileM, t.CPUTileN, t.CPUGroup = c[0], c[1], c[2]
		b.Run(fmt.Sprintf("tile=%dx%d/group=%d", c[0], c[1], c[2]), func(b *testing.B) { benchGEMM(b, t, false) })
	}
}

func benchGEMM(b *testing.B, t codegen.Target, all bool) {
	const M, K, N = 128, 1536, 8960
	m, err := ir.Parse("gemm", `irc v1
graph g(%x: bf16[128,1536], %w: bf16[8960,1536]) {
  %y = linear(%x, %w) : bf16[128,8960]
  return %y
}`)
	if err != nil {
		b.Fatal(err)
	}
	low, err := codegen.LowerGraphs(m, t, "g")
	if err != nil {
		b.Fatal(err)
	}
	blockedTarget := t
	blockedTarget.GEMM = kernels.LinearGEMMBlocked
	blocked, err := codegen.LowerGraphs(m, blockedTarget, "g")
	if err != nil {
		b.Fatal(err)
	}
	s := low.Schedule
	tiled := s.Graphs[0].Launches[0]
	if tiled.CPU == nil {
		b.Fatal("the GEMM launch has no CPU alternative")
	}
	cpu := *tiled.CPU
	tiled.CPU = nil
	bl := blocked.Schedule.Graphs[0].Launches[0]
	bl.CPU = nil
	bl.Kernel = len(s.Kernels)
	s.Kernels = append(s.Kernels, blocked.Schedule.Kernels[blocked.Schedule.Graphs[0].Launches[0].Kernel])
	names, launches := []string{"gemm", "blocked", "tiles"}, []schedule.Launch{tiled, bl, cpu}
	if !all {
		names, launches = names[2:], launches[2:]
	}
	s.Graphs[0].Launches = launches

	r := rand.New(rand.NewPCG(1, 2))
	random := func(n int64) []byte {
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(r.NormFloat64())
		}
		return schedule.Encode(schedule.BF16, vals)
	}
	exec, err := executor.Load(opencl.OpenDevice, s, clgen.Source(low), 0, func(buf *schedule.Buffer) ([]byte, error) { return random(buf.Bytes / 2), nil })
	backendtest.Need(b, "opencl", err)
	defer exec.Close()
	for _, in := range s.Graphs[0].Inputs {
		if err := exec.Write(in, random(s.Buffers[in].Bytes/2)); err != nil {
			b.Fatal(err)
		}
	}
	best := bestTimes(b, exec, len(names))
	report := fmt.Sprintf("%s: %dx%dx%d bf16; best of %d:", exec.Device(), M, K, N, b.N)
	for i, name := range names {
		gflops := 2 * M * K * N / best[i].Seconds() / 1e9
		b.ReportMetric(float64(best[i].Microseconds())/1e3, name+"-ms")
		b.ReportMetric(gflops, name+"-GFLOP/s")
		report += fmt.Sprintf(" %s %v (%.1f GFLOP/s)", name, best[i], gflops)
	}
	b.Log(report)
}

// bestTimes runs graph 0 once to warm up, then b.N times, and returns each
// launch's fastest time.
func bestTimes(b *testing.B, exec *executor.Executor, launches int) []time.Duration {
	best := slices.Repeat([]time.Duration{time.Hour}, launches)
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
	return best
}
