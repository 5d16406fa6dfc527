package metal

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// fake is a driver that records what the device logic asks of Metal.
type fake struct {
	dispatches, commits int
	lastScalars         []byte
	lastBufs            []any
}

func (f *fake) build(string) (time.Duration, error) { return time.Millisecond, nil }
func (f *fake) pipeline(string) (any, int, error)   { return "pipe", 1024, nil }
func (f *fake) alloc(n int64) (any, []byte, error)  { return new(int), make([]byte, n), nil }
func (f *fake) free(any)                            {}
func (f *fake) blit(any, any, int64) error          { return nil }
func (f *fake) commit() (time.Duration, error)      { f.commits++; return time.Microsecond, nil }
func (f *fake) maxBuffer() int64                    { return 1 << 30 }
func (f *fake) workingSet() int64                   { return 1 << 32 }
func (f *fake) close()                              {}
func (f *fake) dispatch(_ any, bufs []any, s []byte, _, _ [3]uint32) error {
	f.dispatches++
	f.lastBufs, f.lastScalars = bufs, s
	return nil
}

// A step's launches go into one command buffer, committed when the host
// reads; arguments are bound as codegen/metal's signatures declare.
func TestLaunchesShareOneCommandBuffer(t *testing.T) {
	f := &fake{}
	d := &device{drv: f, name: "fake", pipes: map[string]*kernel{}}
	a, _ := d.Alloc(64, "a")
	b, _ := d.Alloc(64, "b")
	k, err := d.Kernel("k", []executor.Arg{{Kind: schedule.TensorArg, Buf: a, Off: 3}, {Kind: schedule.IntArg, Int: -2},
		{Kind: schedule.TensorArg, Buf: b, Off: 5}, {Kind: schedule.FloatArg, F: 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	l := &schedule.Launch{Global: [3]int{128, 2, 1}, Local: [3]int{64, 1, 1}, Node: "n"}
	for range 3 {
		if err := d.Launch(k, l); err != nil {
			t.Fatal(err)
		}
	}
	if f.commits != 0 {
		t.Errorf("%d commits before any read", f.commits)
	}
	if err := d.Read(b, 0, make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if f.dispatches != 3 || f.commits != 1 {
		t.Errorf("%d dispatches in %d command buffers, want 3 in 1", f.dispatches, f.commits)
	}
	if len(f.lastBufs) != 2 || f.lastBufs[0] != a.(*buffer).buf || f.lastBufs[1] != b.(*buffer).buf {
		t.Errorf("buffers bound %v", f.lastBufs)
	}
	want := binary.LittleEndian.AppendUint32(nil, 3)
	want = binary.LittleEndian.AppendUint32(want, uint32(0xfffffffe))
	want = binary.LittleEndian.AppendUint32(want, 5)
	want = binary.LittleEndian.AppendUint32(want, math.Float32bits(1.5))
	if string(f.lastScalars) != string(want) {
		t.Errorf("scalars %x, want %x", f.lastScalars, want)
	}
	if err := d.Launch(k, &schedule.Launch{Global: [3]int{2048}, Local: [3]int{2048}, Node: "big"}); err == nil {
		t.Error("a 2048-thread group launched")
	}
}
