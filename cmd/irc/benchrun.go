package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/runner"
)

// prepared is a bench's executors, loaded side by side and ready to
// measure.
type prepared struct {
	m         runner.Measurer
	compileMs []float64    // per executor
	stop      func() error // ends them and cleans up
}

// compileFor loads the model, runs the pipeline the executor needs (whole:
// one partition; dag: --partition layer) and lowers it for the target's
// backend (for ref: the portable target, whose schedule the reference
// session drives).
func compileFor(path, executor string, f benchFlags, log io.Writer) (*ir.Model, *codegen.Lowered, error) {
	target := codegen.Portable
	if f.target != "ref" {
		b, err := gpuBackend("--target", f.target, "ref")
		if err != nil {
			return nil, nil, err
		}
		target = b.Target
	}
	m, err := ir.Load(path)
	if err != nil {
		return nil, nil, err
	}
	pipeline := pipelineFlags{partition: map[string]string{"whole": "whole", "dag": "layer"}[executor], gpuLayers: -1, dumpFormat: "text"}
	if _, err := pipeline.run(m, filepath.Dir(path), f.target, log); err != nil {
		return nil, nil, err
	}
	low, err := codegen.Lower(m, target)
	if err != nil {
		return nil, nil, err
	}
	return m, low, nil
}

// builtRunner records, beside a bench runner, what --runners needs to
// measure it elsewhere.
type builtRunner struct {
	Target    string    `json:"target"`
	Model     string    `json:"model"`
	Executors []string  `json:"executors"`
	CompileMs []float64 `json:"compile_ms"`
}

// prepareRunner compiles the model once per executor and writes one
// runner holding them all (the first as its schedule, the others as
// variants), so that they run in one process and their steps can take
// turns. It builds the runner in --keep DIR or a temporary folder and,
// unless --build-only, starts it. An executor's compile time ends once its
// schedule and kernels exist: writing and building the runner are
// reported, not counted.
func prepareRunner(path string, names []string, f benchFlags, log io.Writer) (prepared, error) {
	dir, cleanup := f.keep, func() error { return nil }
	if dir == "" {
		tmp, err := os.MkdirTemp("", "irc-bench-")
		if err != nil {
			return prepared{}, err
		}
		dir, cleanup = filepath.Join(tmp, "runner"), func() error { return os.RemoveAll(tmp) }
	}
	b, err := gpuBackend("--target", f.target, "ref")
	if err == nil {
		b, err = withArch(b, f.cudaArch)
	}
	if err != nil {
		return prepared{stop: cleanup}, err
	}
	built := builtRunner{Target: f.target, Model: path, Executors: names}
	var r *runnergen.Runner
	for _, name := range names {
		fmt.Fprintf(log, "== %s executor\n", name)
		start := time.Now()
		m, low, err := compileFor(path, name, f, log)
		if err != nil {
			return prepared{stop: cleanup}, fmt.Errorf("%s executor: %w", name, err)
		}
		if r == nil {
			r = newRunner(m, low, b)
			r.Executor = name
		} else {
			r.Variants = append(r.Variants, runnergen.Variant{Name: name, Schedule: low.Schedule, Kernels: b.Emit(low)})
		}
		compiled := time.Since(start)
		built.CompileMs = append(built.CompileMs, float64(compiled)/1e6)
		fmt.Fprintf(log, "compiled in %s\n", roundDur(compiled))
	}
	if err := r.Write(dir, f.force); err != nil {
		return prepared{stop: cleanup}, err
	}
	// The binary and built.json are irc's too: a later runner written
	// into dir removes them (they would not match it).
	if err := runnergen.Claim(dir, "runner", "built.json"); err != nil {
		return prepared{stop: cleanup}, err
	}
	if _, err := buildRunner(dir, b, prefixed(log, "  ")); err != nil {
		return prepared{stop: cleanup}, err
	}
	data, err := json.MarshalIndent(built, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "built.json"), data, 0o644)
	}
	if err != nil || f.buildOnly {
		if err == nil {
			fmt.Fprintf(log, "built the bench runner (%s) in %s; measure it with irc bench --runners %s\n", strings.Join(names, ", "), dir, dir)
		}
		return prepared{stop: cleanup}, err
	}
	// The runner is measured where it was built: tell it where the
	// weights are (a runner carried elsewhere and measured with --runners
	// reads them beside itself, or from --weights).
	if f.weightsDir == "" && !f.randomWeights {
		if f.weightsDir, err = absDir("--weights", filepath.Dir(path)); err != nil {
			return prepared{stop: cleanup}, err
		}
	}
	x, err := startRunner(dir, f, log)
	stop := x.stop
	x.stop = func() error {
		if stop != nil {
			stop()
		}
		return cleanup()
	}
	return x, err
}

// startRunner starts the bench runner built in dir serving measurements.
func startRunner(dir string, f benchFlags, log io.Writer) (prepared, error) {
	data, err := os.ReadFile(filepath.Join(dir, "built.json"))
	if err != nil {
		return prepared{}, fmt.Errorf("%w (--runners wants the folder irc bench --keep wrote, with the runner and its built.json)", err)
	}
	var built builtRunner
	if err := json.Unmarshal(data, &built); err != nil {
		return prepared{}, fmt.Errorf("%s: %w", filepath.Join(dir, "built.json"), err)
	}
	if built.Target != f.target {
		return prepared{}, fmt.Errorf("%s holds a %s runner, not %s (give --target %s)", dir, built.Target, f.target, built.Target)
	}
	wargs, err := runnerWeightArgs(f.randomWeights, f.weightsDir, f.allowOutside)
	if err != nil {
		return prepared{}, err
	}
	args := append([]string{"--bench-serve", "--device", strconv.Itoa(f.device), "--seed", strconv.FormatUint(f.seed, 10)}, wargs...)
	if f.noGraphs {
		args = append(args, "--no-graphs")
	}
	bin := filepath.Join(dir, "runner")
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
		return prepared{}, fmt.Errorf("%s: no runner binary (--runners wants the folder irc bench --keep wrote, with the runner and its built.json)", bin)
	}
	cmd := exec.Command(bin, args...)
	held := &holdLast{w: prefixed(log, "  runner: ")}
	cmd.Stderr = held
	in, err := cmd.StdinPipe()
	if err != nil {
		return prepared{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return prepared{}, err
	}
	if err := cmd.Start(); err != nil {
		return prepared{}, fmt.Errorf("starting the runner: %w", err)
	}
	var waited error
	done := false
	wait := func() error {
		if !done {
			in.Close()
			waited, done = cmd.Wait(), true
		}
		return waited
	}
	stop := func() error {
		err := wait()
		held.flush()
		return err
	}
	return prepared{m: &runnerProc{Client: runner.NewClient(in, out), wait: wait, held: held}, compileMs: built.CompileMs, stop: stop}, nil
}

// runnerProc is a serving runner: when it ends without a reply, its exit
// status and last line on stderr say why, as irc's one line.
type runnerProc struct {
	*runner.Client
	wait func() error
	held *holdLast
}

func (p *runnerProc) explain(err error) error {
	if !errors.Is(err, runner.ErrNoReply) {
		return err
	}
	status := p.wait()
	if line := p.held.take("runner"); line != "" {
		return fmt.Errorf("the bench runner failed: %s", line)
	}
	if status != nil {
		return fmt.Errorf("the bench runner ended without a reply: %v (its messages are above)", status)
	}
	return err
}

func (p *runnerProc) Info() ([]*runner.Report, error) {
	r, err := p.Client.Info()
	return r, p.explain(err)
}

func (p *runnerProc) Measure(pos int64, minTime time.Duration) ([]time.Duration, int, error) {
	ds, n, err := p.Client.Measure(pos, minTime)
	return ds, n, p.explain(err)
}

// prepareRef compiles the model once per executor and loads each on the
// reference runtime, measured in-process by the runner's session code.
func prepareRef(path string, names []string, f benchFlags, log io.Writer) (prepared, error) {
	var x prepared
	var sessions []*runner.Session
	for _, name := range names {
		fmt.Fprintf(log, "== %s executor\n", name)
		start := time.Now()
		m, low, err := compileFor(path, name, f, log) // low: the buffers and graphs the session drives
		if err != nil {
			return prepared{}, fmt.Errorf("%s executor: %w", name, err)
		}
		compiled := time.Since(start)
		fmt.Fprintf(log, "compiled in %s\n", roundDur(compiled))
		start = time.Now()
		rt, err := loadRef(m, path, f.weightsDir, f.randomWeights, f.allowOutside, f.seed)
		if err != nil {
			return prepared{}, err
		}
		loaded := time.Since(start)
		fmt.Fprintf(log, "loaded in %s\n", roundDur(loaded))
		sess, err := runner.NewSession(name, newRefBackend(rt, m, low.Schedule), low.Schedule, loaded, f.seed)
		if err != nil {
			return prepared{}, err
		}
		sessions, x.compileMs = append(sessions, sess), append(x.compileMs, float64(compiled)/1e6)
	}
	x.m = runner.NewGroup(sessions...)
	return x, nil
}
