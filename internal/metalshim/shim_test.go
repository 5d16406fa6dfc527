//go:build cgo && linux

package metalshim

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// A handwritten MSL library that exercises the shim's collective
// operations; each kernel reverses a group's values through threadgroup
// memory or sums them over simdgroups.
const probe = `#include <metal_stdlib>
using namespace metal;
struct args_t { int x_off; int out_off; int n; };
kernel void reverse_barrier(device float* x [[buffer(0)]], device float* out [[buffer(1)]], constant args_t& a [[buffer(2)]],
	uint3 gid [[thread_position_in_grid]], uint3 lid [[thread_position_in_threadgroup]], uint3 tpg [[threadgroup_position_in_grid]]) {
	threadgroup float t[64];
	t[lid.x] = x[gid.x];
	threadgroup_barrier(mem_flags::mem_threadgroup);
	out[gid.x] = t[63 - lid.x];
}
kernel void reverse_racy(device float* x [[buffer(0)]], device float* out [[buffer(1)]], constant args_t& a [[buffer(2)]],
	uint3 gid [[thread_position_in_grid]], uint3 lid [[thread_position_in_threadgroup]]) {
	threadgroup float t[64];
	t[lid.x] = x[gid.x];
	out[gid.x] = t[63 - lid.x];
}
kernel void simd(device float* x [[buffer(0)]], device float* out [[buffer(1)]], constant args_t& a [[buffer(2)]],
	uint3 gid [[thread_position_in_grid]]) {
	float v = x[gid.x];
	out[gid.x] = simd_sum(v) + simd_shuffle_xor(v, (ushort)1) * 1000.0f + simd_max(v) * 1000000.0f;
}
#ifdef IRC_METAL_SHIM
IRC_SHIM_KERNELS(IRC_SHIM_KERNEL(reverse_barrier) IRC_SHIM_KERNEL(reverse_racy) IRC_SHIM_KERNEL(simd))
#endif
`

// run launches kernel over 128 items in groups of 64 with x = 0, 1, ...
func run(t *testing.T, o Order, kernel string) []float32 {
	t.Helper()
	dev, err := Open(o)(0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	if err := dev.Build(probe); err != nil {
		t.Fatal(err)
	}
	const n = 128
	x, _ := dev.Alloc(4*n, "x")
	out, _ := dev.Alloc(4*n, "out")
	in := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(in[4*i:], math.Float32bits(float32(i)))
	}
	if err := dev.Write(x, 0, in); err != nil {
		t.Fatal(err)
	}
	k, err := dev.Kernel(kernel, []executor.Arg{{Kind: schedule.TensorArg, Buf: x}, {Kind: schedule.TensorArg, Buf: out}, {Kind: schedule.IntArg, Int: n}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Launch(k, &schedule.Launch{Global: [3]int{n, 1, 1}, Local: [3]int{64, 1, 1}, Node: kernel}); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 4*n)
	if err := dev.Read(out, 0, raw); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	for i := range got {
		got[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return got
}

func reversed(got []float32) bool {
	for i, v := range got {
		if want := float32(i/64*64 + 63 - i%64); v != want {
			return false
		}
	}
	return true
}

// Barriers synchronise: with one, the reversal is right in both orders;
// without, threads read slots not yet written in one order or the other,
// which is why the harness runs both.
func TestBarriersSynchronise(t *testing.T) {
	for _, o := range []Order{Forward, Reverse} {
		if !reversed(run(t, o, "reverse_barrier")) {
			t.Errorf("%s: the reversal through a barrier is wrong", o)
		}
	}
	if reversed(run(t, Forward, "reverse_racy")) && reversed(run(t, Reverse, "reverse_racy")) {
		t.Error("the reversal without a barrier came out right in both orders: the shim hides races")
	}
}

// simd_sum, simd_shuffle_xor and simd_max work over simdgroups of 32
// consecutive threads.
func TestSimdgroups(t *testing.T) {
	for _, o := range []Order{Forward, Reverse} {
		got := run(t, o, "simd")
		for i, v := range got {
			base := i / 32 * 32
			sum := float32(32*base + 31*32/2)
			want := sum + float32(i^1)*1000 + float32(base+31)*1000000
			if v != want {
				t.Fatalf("%s: item %d: %v, want %v", o, i, v, want)
			}
		}
	}
}

// MSL forbids initialising threadgroup memory; the shim refuses it at
// compile time (constinit), since a static initialised from a thread's
// values would be shared silently.
func TestThreadgroupInitialiserRefused(t *testing.T) {
	cxx, err := compiler()
	if err != nil {
		t.Skip(err)
	}
	if _, err := load(probe); err != nil { // writes the shim files
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "bad.metal")
	bad := strings.Replace(probe, "threadgroup float t[64];\n\tt[lid.x] = x[gid.x];\n\tthreadgroup_barrier",
		"threadgroup float t[64];\n\tthreadgroup float* p = t + lid.x;\n\t*p = x[gid.x];\n\tthreadgroup_barrier", 1)
	if bad == probe {
		t.Fatal("probe changed; the test no longer edits it")
	}
	if err := os.WriteFile(src, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Compile(cxx, src, filepath.Join(t.TempDir(), "bad.so"))
	if err == nil || !strings.Contains(err.Error(), "constinit") {
		t.Errorf("an initialised threadgroup pointer compiled (or failed otherwise): %v", err)
	}
}
