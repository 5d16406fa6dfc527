package cuda

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// A tensor is two parameters (its address, then its offset), scalars one,
// each in its own 8-byte slot in the order of the signature.
func TestParamSlots(t *testing.T) {
	a, b := new(int), new(int)
	addr := map[executor.Buffer]uint64{a: 0x7f0000001000, b: 0x7f0000002000}
	args := []executor.Arg{
		{Kind: schedule.TensorArg, Buf: a, Off: 12},
		{Kind: schedule.IntArg, Int: -3},
		{Kind: schedule.FloatArg, F: 1.5},
		{Kind: schedule.TensorArg, Buf: b, Off: 0},
	}
	got := paramSlots(args, func(buf executor.Buffer) uint64 { return addr[buf] })
	want := []uint64{0x7f0000001000, 12, 0xfffffffd, uint64(math.Float32bits(1.5)), 0x7f0000002000, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("slots %#x, want %#x", got, want)
	}
}

func TestDims(t *testing.T) {
	grid, block, err := dims(&schedule.Launch{Global: [3]int{640, 8, 6}, Local: [3]int{32, 1, 1}})
	if err != nil || grid != [3]uint32{20, 8, 6} || block != [3]uint32{32, 1, 1} {
		t.Fatalf("grid %v block %v err %v", grid, block, err)
	}
	for _, tc := range []struct {
		l    schedule.Launch
		want string
	}{
		{schedule.Launch{Node: "%a", Global: [3]int{100, 1, 1}, Local: [3]int{64, 1, 1}}, "100 items in groups of 64"},
		{schedule.Launch{Node: "%b", Global: [3]int{2048, 1, 1}, Local: [3]int{2048, 1, 1}}, "past CUDA's limits"},
		{schedule.Launch{Node: "%c", Global: [3]int{1, 1 << 20, 1}, Local: [3]int{1, 1, 1}}, "grid of [1 1048576 1] blocks"},
	} {
		if _, _, err := dims(&tc.l); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.l.Node) {
			t.Errorf("%v: got %v, want %q", tc.l, err, tc.want)
		}
	}
}
