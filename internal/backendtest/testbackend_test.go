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
// GEMM tiles, GEMV up to 4 rows, wider alignment), one emitter (the OpenCL
// prelude, with its own parameter style), one Device (OpenCL's, wrapped to
// count launches: the executor needs nothing else), and the harness line.
var narrow = &backend.Backend{
	Name: "narrow", Doc: "test only: OpenCL with other sizes",
	Target: codegen.Target{WorkGroup: 16, Tile: 8, MatmulGroup: 4, MatvecRows: 4, Align: 1024},
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
