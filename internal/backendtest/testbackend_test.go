package backendtest

import (
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/kernels"
	clgen "github.com/irc-compiler/irc/codegen/opencl"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/opencl"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// A backend that exists only here, to show what a new one takes: one
// registry entry (with a target of its own: narrower work groups, smaller
// GEMM tiles, GEMV up to 4 rows with 8 lanes per output on a GPU and 2 rows
// per item and 4x2 GEMM tiles on a CPU, wider alignment), one emitter (the OpenCL
// prelude, with its own parameter style), one Device (OpenCL's, wrapped to
// count launches: the executor needs nothing else), and the harness line.
var narrow = &backend.Backend{
	Name: "narrow", Doc: "test only: OpenCL with other sizes",
	Target: codegen.Target{WorkGroup: 16, Tile: 8, MatmulGroup: 4, MatvecRows: 4, Align: 1024,
		GEMM: kernels.LinearGEMMBlocked, GemmBM: 32, GemmBN: 16, GemmBK: 8, GemmTM: 4, GemmTN: 2,
		GemvLanes: 8, CPU: true, CPUGroup: 3, GemvItemRows: 2, GemvPrefetch: 256, CPUTileM: 4, CPUTileN: 2, AttentionSplits: 3, CPUAttentionSplits: 2},
	Emit: func(l *codegen.Lowered) string {
		return kernels.Source(clgen.Prelude, narrowStyle{}, l.Target.Sizes(), l.Kernels)
	},
	KernelFile: "kernels.cl", Runtime: "runtime/opencl", Open: "OpenDevice",
}

// narrowStyle spells every scalar as const, unlike OpenCL's own emitter.
type narrowStyle struct{}

func (narrowStyle) Param(ctype, name string, buffer bool, _ int) string {
	if buffer {
		return "__global " + ctype + "* " + name
	}
	return "const " + ctype + " " + name
}

func (narrowStyle) IndexParams() string { return "" }

// counting is a Device that counts launches on the way to OpenCL's.
type counting struct {
	executor.Device
	launches *int
}

func (c counting) Launch(k executor.Kernel, l *schedule.Launch) error {
	*c.launches++
	return c.Device.Launch(k, l)
}

func TestTestOnlyBackend(t *testing.T) {
	launches := 0
	open := func(i int) (executor.Device, error) {
		d, err := opencl.OpenDevice(i)
		return counting{d, &launches}, err
	}
	Run(t, narrow, open)
	if launches == 0 {
		t.Error("no launch went through the test backend's device")
	}
}

// recorder is OpenCL's Device taught to record: it captures a step's
// launches once and replays the list (what a CUDA graph is to CUDA), so
// the executor's recording path runs the whole harness on real kernels.
type recorder struct {
	executor.Device
	capture          *[]recordedLaunch
	records, replays int
}

type recordedLaunch struct {
	k executor.Kernel
	l *schedule.Launch
}

func (r *recorder) Launch(k executor.Kernel, l *schedule.Launch) error {
	if r.capture != nil {
		*r.capture = append(*r.capture, recordedLaunch{k, l})
		return nil
	}
	return r.Device.Launch(k, l)
}

func (r *recorder) Record(launch func() error) (executor.Recording, error) {
	r.capture = &[]recordedLaunch{}
	defer func() { r.capture = nil }()
	if err := launch(); err != nil {
		return nil, err
	}
	r.records++
	return *r.capture, nil
}

func (r *recorder) Replay(rec executor.Recording) error {
	r.replays++
	for _, c := range rec.([]recordedLaunch) {
		if err := r.Device.Launch(c.k, c.l); err != nil {
			return err
		}
	}
	return nil
}

func TestRecordingDevice(t *testing.T) {
	var devs []*recorder
	open := func(i int) (executor.Device, error) {
		d, err := opencl.OpenDevice(i)
		if err != nil {
			return nil, err
		}
		r := &recorder{Device: d}
		devs = append(devs, r)
		return r, nil
	}
	// On CUDA's target with its variants' portable twins: the tensor-core
	// GEMM's twin runs here with the same tiling.
	b := *backend.MustLookup("opencl")
	b.Target = backend.MustLookup("cuda").Target.Twin()
	Run(t, &b, open)
	records, replays := 0, 0
	for _, d := range devs {
		records, replays = records+d.records, replays+d.replays
	}
	// Each executor records a graph at its first step and replays it at
	// every step; the kernel cases step three times each.
	if records == 0 || replays < 2*records {
		t.Errorf("%d recordings, %d replays: the executor did not replay its recordings", records, replays)
	}
}
