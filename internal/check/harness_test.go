package check

import (
	"bytes"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/opencl"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/weights"
)

// prompt is the traced run: 20 ids prefilled in two chunks of 16 (the
// second padded), then 3 decode steps.
var prompt = []int64{1, 5, 9, 2, 7, 3, 11, 4, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}

const decodeSteps = 3

// importPreset writes a tiny checkpoint and imports it (cache 64, chunks
// of 16): the model before any pass, and its weights' folder.
var importPreset = backendtest.ImportPreset

// subject is a preset compiled for OpenCL with its reference runtime.
type subject struct {
	m   *ir.Model
	dir string
	low *codegen.Lowered
	b   *backend.Backend
	rt  *ref.Runtime
}

// compile runs OpenCL's pipeline on a preset, lowers it and loads ref;
// fault (when not nil) edits the lowered schedule, as a wrong lowering
// would have made it.
func compile(t *testing.T, name string, fault func(*codegen.Lowered)) *subject {
	t.Helper()
	m, dir := importPreset(t, name)
	b := backend.MustLookup("opencl")
	pipe, err := passes.DefaultPipeline(b.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(m, &passes.Options{Pipeline: pipe, Target: b.Name, VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	low, err := codegen.Lower(m, b.Target)
	if err != nil {
		t.Fatal(err)
	}
	if fault != nil {
		fault(low)
	}
	files := weights.Open(dir)
	t.Cleanup(func() { files.Close() })
	rt, err := ref.New(m, files)
	if err != nil {
		t.Fatal(err)
	}
	return &subject{m: m, dir: dir, low: low, b: b, rt: rt}
}

// check traces the run on PoCL, with the kernel program edited by
// program (when not nil), and compares it with ref.
func (s *subject) check(t *testing.T, program func(string) string) *Report {
	t.Helper()
	dev, err := opencl.OpenDevice(0)
	backendtest.Need(t, "opencl", err)
	dev.Close()
	src := s.b.Emit(s.low)
	if program != nil {
		src = program(src)
	}
	ckpt := runner.OpenCheckpoint(s.dir)
	defer ckpt.Close()
	exec, err := executor.Load(opencl.OpenDevice, s.low.Schedule, src, 0, ckpt.Load)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Close()
	steps, err := runner.TraceSteps(prompt, decodeSteps, 16, s.low.Schedule.Model.Vocab, s.low.Schedule.Model.MaxCacheLen)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := Expect(s.m, s.low.Schedule, s.rt, steps)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runner.TraceRun(exec, s.low.Schedule, steps, &buf); err != nil {
		t.Fatal(err)
	}
	got, err := runner.ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(exp, got, DefaultTolerance())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
