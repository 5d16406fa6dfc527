package cuda

import (
	"errors"
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

// Staging is overwritten only after the device has read the previous copy
// from it: put waits for a pending copy first, never for none, and a
// failed wait or queue stops it.
func TestStagerWaitsBeforeReuse(t *testing.T) {
	var log []string
	mem := make([]byte, 8)
	s := &stager{size: 8,
		wait:  func() error { log = append(log, "wait"); return nil },
		fill:  func(d []byte) { copy(mem, d); log = append(log, "fill "+string(d)) },
		queue: func(n int) error { log = append(log, "queue"); return nil },
	}
	for _, d := range []string{"ab", "cd", "ef"} {
		if err := s.put([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.settle(); err != nil {
		t.Fatal(err)
	}
	want := []string{"fill ab", "queue", "wait", "fill cd", "queue", "wait", "fill ef", "queue", "wait"}
	if !slices.Equal(log, want) {
		t.Fatalf("order %v, want %v", log, want)
	}
	if err := s.settle(); err != nil || len(log) != len(want) {
		t.Fatal("settled twice")
	}
	if err := s.put(make([]byte, 9)); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("oversized put: %v", err)
	}
	s.queue = func(int) error { return errors.New("queue failed") }
	if err := s.put([]byte("x")); err == nil || s.pending {
		t.Fatalf("a failed queue: %v, pending %v", err, s.pending)
	}
}
