package runnergen

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// The trace table is written beside the launch table, never into it: the
// generated schedule without the Trace block is byte for byte the schedule
// of a graph without a trace table, so an untraced step runs what it ran
// before tracing existed.
func TestTraceTableLeavesLaunchesAlone(t *testing.T) {
	s := &schedule.Schedule{
		Model:   schedule.Model{Name: "m", Vocab: 4, MaxCacheLen: 8},
		Buffers: []schedule.Buffer{{Name: "arena", Kind: schedule.Arena, DType: schedule.F32, Bytes: 64}},
		Kernels: []string{"k"},
		Graphs: []schedule.Graph{{Name: "decode", Launches: []schedule.Launch{
			{Kernel: 0, Global: [3]int{1, 1, 1}, Local: [3]int{1, 1, 1}, Node: "%x = add", Args: []schedule.Arg{schedule.T(0, 0), schedule.I(3)}},
		}, Trace: []schedule.Traced{{Value: "x", After: 0, Out: schedule.Tensor{DType: schedule.F32, Shape: []int64{4}, Strides: []int64{1}}}}}},
	}
	traced, err := scheduleFile(s, "sched")
	if err != nil {
		t.Fatal(err)
	}
	s.Graphs[0].Trace = nil
	plain, err := scheduleFile(s, "sched")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(traced), "\n")
	var kept []string
	in := false
	for _, l := range lines {
		switch {
		case strings.Contains(l, "Trace: []schedule.Traced{"):
			in = true
		case in && strings.TrimSpace(l) == "},":
			in = false
		case !in:
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		t.Fatalf("no trace table written:\n%s", traced)
	}
	if got := strings.Join(kept, "\n"); got != string(plain) {
		t.Fatalf("the schedule without its trace table differs from an untraced one:\n%s\nwant\n%s", got, plain)
	}
}
