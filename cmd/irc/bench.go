package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/bench"
	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/weights"
)

type benchFlags struct {
	target, positions, executor string
	jsonOut, chart, weightsDir  string
	keep, runners               string
	buildOnly                   bool
	maxPosition                 int64
	repeat, device              int
	randomWeights               bool
	seed                        uint64
	minTime                     time.Duration
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench MODEL|--runners DIR [--target opencl|ref] [--positions log2|1,8,64] [--executor whole|dag|both] [--json FILE] [--chart FILE.png]",
		Short: "Measure TTFT and decode step time over KV-cache positions, whole graph vs DAG",
		Long: `Bench measures a model the way the seed's benchmark does. It compiles the model once
per executor (whole: one partition; dag: --partition layer, one partition per decoder
layer), builds the generated runner and runs its bench mode, which
  - times the first token of one full prefill chunk (TTFT), caches empty;
  - fills every KV cache with random data and times ONE decode step at each position,
    --repeat times after a warm-up: median, sample standard deviation, tokens/s, and
    the bandwidth of the bytes a step must read (all weights + the cache so far).
    Each measurement averages as many identical steps as fill --min-time, so that
    timer and scheduler noise does not swamp millisecond steps (0: single steps);
  - measures the device's copy bandwidth where the backend can.
Compile time (IR to runner source) and weight-loading time are reported too.

Positions: log2 is 1, 2, 4, ... up to --max-position (default: max cache length -
prefill chunk, as the seed), then that position; or list them: --positions 1,8,64.

The seed's tables go to stdout; --json writes the result (schema: bench/schema.json,
documented in the README) and --chart a PNG of tokens/s and step time (error bars)
over position on a log2 axis, plus the DAG/whole ratio when both executors ran.
irc bench compare A.json B.json sets two results side by side with a speed-up panel.

--target ref measures the reference CPU runtime in-process (slow: for small models).

Both executors are loaded at once (twice the device memory; --executor whole or dag
measures one). To measure on a machine without Go (a GPU host), build there with
--keep DIR here, carry DIR, and run irc bench --runners DIR on it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return benchModel(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "opencl", "backend to measure: opencl or ref (cuda has no backend yet)")
	fl.StringVar(&f.positions, "positions", "log2", "decode positions: log2 or a comma-separated list")
	fl.Int64Var(&f.maxPosition, "max-position", 0, "last log2 position (default: max cache length - prefill chunk)")
	fl.IntVar(&f.repeat, "repeat", 3, "timed repetitions of each measurement")
	fl.DurationVar(&f.minTime, "min-time", 20*time.Millisecond, "each measurement averages as many steps as last this long (0: one step)")
	fl.StringVar(&f.executor, "executor", "both", "whole (one partition), dag (--partition layer) or both")
	fl.StringVar(&f.jsonOut, "json", "", "write the result to this JSON file")
	fl.StringVar(&f.chart, "chart", "", "draw the result to this PNG file")
	fl.StringVar(&f.keep, "keep", "", "keep the runners (source, binary) in DIR/whole and DIR/dag, to measure with --runners")
	fl.BoolVar(&f.buildOnly, "build-only", false, "with --keep: compile and build the runners, measure nothing")
	fl.StringVar(&f.runners, "runners", "", "measure the runners --keep built in DIR (e.g. carried to a machine without Go); no MODEL")
	fl.IntVar(&f.device, "device", 0, "device index (see the runner's --device)")
	fl.StringVar(&f.weightsDir, "weights", "", "folder the weight files are relative to (default: the model file's folder)")
	fl.BoolVar(&f.randomWeights, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random KV caches, tokens and --random-weights")
	cmd.AddCommand(newBenchCompareCmd())
	return cmd
}

func (f benchFlags) check(args []string) error {
	if _, err := runner.Positions(f.positions, math.MaxInt32); err != nil {
		return err // a typo fails now, not after compiling and loading
	}
	switch {
	case f.buildOnly && (f.keep == "" || f.target == "ref"):
		return fmt.Errorf("--build-only builds runners into --keep DIR (and ref has none)")
	case f.runners != "" && f.keep != "":
		return fmt.Errorf("--keep and --runners: give one (--keep builds runners for --runners to measure)")
	case f.runners != "" && len(args) > 0:
		return fmt.Errorf("--runners measures the runners in %s: give no MODEL", f.runners)
	case f.runners == "" && len(args) != 1:
		return fmt.Errorf("give the MODEL to measure (or --runners DIR)")
	case f.runners != "" && f.target == "ref":
		return fmt.Errorf("--runners: the ref target has no runner")
	case f.target == "cuda":
		return fmt.Errorf("--target cuda: irc has no CUDA backend yet (available: opencl, ref)")
	case f.target != "ref" && !gpuTargets[f.target]:
		return fmt.Errorf("unknown --target %q (available: opencl, ref)", f.target)
	case f.executor != "whole" && f.executor != "dag" && f.executor != "both":
		return fmt.Errorf("unknown --executor %q (want whole, dag or both)", f.executor)
	case f.minTime < 0:
		return fmt.Errorf("--min-time %s: want a duration >= 0", f.minTime)
	case f.repeat < 1:
		return fmt.Errorf("--repeat %d: want at least 1", f.repeat)
	case f.chart != "" && !strings.EqualFold(filepath.Ext(f.chart), ".png"):
		return fmt.Errorf("--chart %s: charts are PNG files, name it .png", f.chart)
	}
	return nil
}

func benchModel(cmd *cobra.Command, args []string, f benchFlags) error {
	if err := f.check(args); err != nil {
		return err
	}
	log := cmd.ErrOrStderr()
	names := []string{f.executor}
	if f.executor == "both" {
		names = []string{"whole", "dag"}
	}
	if f.buildOnly {
		for _, name := range names {
			fmt.Fprintf(log, "== %s executor\n", name)
			if err := buildKept(args[0], name, f, log); err != nil {
				return fmt.Errorf("%s executor: %w", name, err)
			}
		}
		fmt.Fprintf(log, "built %s; measure with irc bench --runners %s\n", strings.Join(names, " and "), f.keep)
		return nil
	}
	var (
		compileMs []float64
		ms        []runner.Measurer
	)
	for _, name := range names {
		fmt.Fprintf(log, "== %s executor\n", name)
		var x prepared
		var err error
		switch {
		case f.runners != "":
			x, err = startRunner(filepath.Join(f.runners, name), f, name, log)
		case f.target == "ref":
			x, err = prepareRef(args[0], name, f, log)
		default:
			x, err = prepareRunner(args[0], name, f, log)
		}
		if x.stop != nil {
			defer x.stop()
		}
		if err != nil {
			return fmt.Errorf("%s executor: %w", name, err)
		}
		compileMs, ms = append(compileMs, x.compileMs), append(ms, x.m)
	}
	info, err := ms[0].Info()
	if err != nil {
		return err
	}
	positions, err := runner.BenchPositions(info.MaxCacheLen, int64(info.PrefillTokens), f.positions, f.maxPosition)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "== measuring %s\n", strings.Join(names, " and "))
	reps, err := runner.BenchAll(ms, runner.BenchOptions{Positions: positions, Repeat: f.repeat, MinTime: f.minTime,
		Progress: prefixed(log, "  "), Names: names})
	if err != nil {
		return err
	}
	rep := reps[0]
	res := &bench.Result{Format: bench.Format, Model: rep.Model, Target: f.target, Device: rep.Device, Executor: names[0],
		CopyBandwidthGBs: rep.CopyBandwidthGBs, PrefillTokens: rep.PrefillTokens, MaxCacheLen: rep.MaxCacheLen,
		Repeat: rep.Repeat, MinTimeMs: rep.MinTimeMs, WeightBytes: rep.WeightBytes,
		Run: bench.FromReport(rep, compileMs[0]), Command: f.command(args), Date: time.Now().UTC().Format(time.RFC3339)}
	if len(reps) > 1 {
		if err := res.SetDAG(bench.FromReport(reps[1], compileMs[1])); err != nil {
			return err
		}
	}
	fmt.Fprintln(cmd.OutOrStdout())
	bench.WriteTable(cmd.OutOrStdout(), res)
	if f.jsonOut != "" {
		if err := res.Write(f.jsonOut); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", f.jsonOut)
	}
	if f.chart != "" {
		if err := bench.Chart(res, f.chart); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrote %s\n", f.chart)
	}
	return nil
}

// prepared is one executor ready to measure.
type prepared struct {
	m         runner.Measurer
	compileMs float64
	stop      func() error // ends it and cleans up
}

// compileFor loads the model and runs the pipeline an executor needs.
func compileFor(path, name string, f benchFlags, log io.Writer) (*ir.Model, error) {
	m, err := ir.Load(path)
	if err != nil {
		return nil, err
	}
	pipeline := pipelineFlags{partition: map[string]string{"whole": "whole", "dag": "layer"}[name], gpuLayers: -1, dumpFormat: "text"}
	if _, err := pipeline.run(m, filepath.Dir(path), f.target, log); err != nil {
		return nil, err
	}
	return m, nil
}

// builtRunner records, beside a runner kept by --keep, what --runners
// needs to measure it elsewhere.
type builtRunner struct {
	Target    string  `json:"target"`
	Model     string  `json:"model"`
	CompileMs float64 `json:"compile_ms"`
}

// prepareRunner compiles the model for one executor, writes and builds its
// runner (in --keep DIR/name, or a temporary folder) and starts it.
func prepareRunner(path, name string, f benchFlags, log io.Writer) (prepared, error) {
	if f.keep != "" {
		if err := buildKept(path, name, f, log); err != nil {
			return prepared{}, err
		}
		return startRunner(filepath.Join(f.keep, name), f, name, log)
	}
	tmp, err := os.MkdirTemp("", "irc-bench-")
	if err != nil {
		return prepared{}, err
	}
	f.keep = tmp
	if err := buildKept(path, name, f, log); err != nil {
		os.RemoveAll(tmp)
		return prepared{}, err
	}
	x, err := startRunner(filepath.Join(tmp, name), f, name, log)
	stop := x.stop
	x.stop = func() error {
		if stop != nil {
			stop()
		}
		return os.RemoveAll(tmp)
	}
	return x, err
}

// buildKept compiles the model for one executor and writes and builds its
// runner in --keep DIR/name, with the built.json --runners reads.
// Compilation ends once the runner's source is written: go build is
// reported, not counted.
func buildKept(path, name string, f benchFlags, log io.Writer) error {
	dir := filepath.Join(f.keep, name)
	start := time.Now()
	m, err := compileFor(path, name, f, log)
	if err != nil {
		return err
	}
	if _, err := writeRunner(m, f.target, filepath.Dir(path), dir); err != nil {
		return err
	}
	compiled := time.Since(start)
	fmt.Fprintf(log, "compiled in %s\n", roundDur(compiled))
	if _, err := buildRunner(dir, prefixed(log, "  ")); err != nil {
		return err
	}
	built, err := json.MarshalIndent(builtRunner{Target: f.target, Model: path, CompileMs: float64(compiled) / 1e6}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "built.json"), built, 0o644)
}

// startRunner starts the runner built in dir serving bench requests.
func startRunner(dir string, f benchFlags, name string, log io.Writer) (prepared, error) {
	data, err := os.ReadFile(filepath.Join(dir, "built.json"))
	if err != nil {
		return prepared{}, fmt.Errorf("%w (--runners wants the folder irc bench --keep wrote: whole/ and dag/, each with its runner and built.json)", err)
	}
	var built builtRunner
	if err := json.Unmarshal(data, &built); err != nil {
		return prepared{}, fmt.Errorf("%s: %w", filepath.Join(dir, "built.json"), err)
	}
	if built.Target != f.target {
		return prepared{}, fmt.Errorf("%s holds a %s runner, not %s (give --target %s)", dir, built.Target, f.target, built.Target)
	}
	args := []string{"--bench-serve", "--device", strconv.Itoa(f.device), "--seed", strconv.FormatUint(f.seed, 10)}
	if f.weightsDir != "" {
		args = append(args, "--weights", f.weightsDir)
	}
	if f.randomWeights {
		args = append(args, "--random-weights")
	}
	cmd := exec.Command(filepath.Join(dir, "runner"), args...)
	cmd.Stderr = prefixed(log, "  "+name+": ")
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
	stop := func() error {
		in.Close()
		return cmd.Wait()
	}
	return prepared{m: runner.NewClient(in, out), compileMs: built.CompileMs, stop: stop}, nil
}

// prepareRef compiles the model for one executor and loads it on the
// reference runtime, measured in-process with the runner's session code.
func prepareRef(path, name string, f benchFlags, log io.Writer) (prepared, error) {
	start := time.Now()
	m, err := compileFor(path, name, f, log)
	if err != nil {
		return prepared{}, err
	}
	low, err := codegen.Lower(m) // for the buffers and graphs the session drives
	if err != nil {
		return prepared{}, err
	}
	compiled := time.Since(start)
	fmt.Fprintf(log, "compiled in %s\n", roundDur(compiled))
	var src ref.WeightSource = ref.RandomWeights{Seed: f.seed}
	if !f.randomWeights {
		dir := f.weightsDir
		if dir == "" {
			dir = filepath.Dir(path)
		}
		files := weights.Open(dir)
		defer files.Close()
		src = files
	}
	start = time.Now()
	rt, err := ref.New(m, src)
	if err != nil {
		return prepared{}, fmt.Errorf("%w (use --weights DIR to point at the checkpoint, or --random-weights)", err)
	}
	loaded := time.Since(start)
	fmt.Fprintf(log, "loaded in %s\n", roundDur(loaded))
	sess, err := runner.NewSession(newRefBackend(rt, m, low.Schedule), low.Schedule, f.seed)
	if err != nil {
		return prepared{}, err
	}
	return prepared{m: runner.Loaded{Session: sess, Load: loaded}, compileMs: float64(compiled) / 1e6}, nil
}

// command is the command line that reproduces a result.
func (f benchFlags) command(args []string) string {
	path := strings.Join(args, " ")
	if f.runners != "" {
		path = "--runners " + f.runners
	}
	c := fmt.Sprintf("irc bench %s --target %s --positions %s --repeat %d --min-time %s --executor %s", path, f.target, f.positions, f.repeat, f.minTime, f.executor)
	if f.maxPosition > 0 {
		c += fmt.Sprintf(" --max-position %d", f.maxPosition)
	}
	if f.randomWeights {
		c += " --random-weights"
	}
	return c
}

// prefixed indents every line written through it, so a child's progress
// reads as part of the step that started it.
func prefixed(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix, start: true}
}

type prefixWriter struct {
	w      io.Writer
	prefix string
	start  bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out []byte
	for _, c := range b {
		if p.start {
			out = append(out, p.prefix...)
		}
		out = append(out, c)
		p.start = c == '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func newBenchCompareCmd() *cobra.Command {
	var chart, labels string
	cmd := &cobra.Command{
		Use:   "compare A.json B.json [--chart FILE.png] [--labels A,B]",
		Short: "Set two bench results side by side, with B's speed-up over A",
		Long: `Compare reads two irc bench results (two backends, two devices, or before and after a
change), prints the seed's comparison table at the positions both measured, with B's
speed-up over A (A's step time / B's), and with --chart draws both runs' tokens/s and
step time over position and the speed-up per position.

Each result's top-level executor is compared (whole when both were measured). Labels
default to target and device when those differ, else to the file names.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := bench.Read(args[0])
			if err != nil {
				return err
			}
			b, err := bench.Read(args[1])
			if err != nil {
				return err
			}
			la, lb := compareLabels(a, b, args[0], args[1])
			if labels != "" {
				parts := strings.Split(labels, ",")
				if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
					return fmt.Errorf("--labels %q: want two labels, A,B", labels)
				}
				la, lb = parts[0], parts[1]
			}
			if len(bench.Speedups(a, b)) == 0 {
				return fmt.Errorf("%s and %s measured no position in common", args[0], args[1])
			}
			bench.WriteCompareTable(cmd.OutOrStdout(), a, b, la, lb)
			if chart != "" {
				if err := bench.CompareChart(a, b, la, lb, chart); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", chart)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&chart, "chart", "", "draw both runs and the speed-up to this PNG file")
	cmd.Flags().StringVar(&labels, "labels", "", "names of the two runs in tables and charts, A,B")
	return cmd
}

// compareLabels names two results by what differs between them.
func compareLabels(a, b *bench.Result, pathA, pathB string) (string, string) {
	switch {
	case a.Target != b.Target:
		return a.Target, b.Target
	case a.Device != b.Device:
		return a.Device, b.Device
	}
	return strings.TrimSuffix(filepath.Base(pathA), ".json"), strings.TrimSuffix(filepath.Base(pathB), ".json")
}
