package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/bench"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/runtime/runner"
)

type benchFlags struct {
	target, positions, executor string
	cudaArch                    string
	jsonOut, chart, weightsDir  string
	keep, runners               string
	executorSet                 bool // --executor was given
	buildOnly, force            bool
	maxPosition                 int64
	repeat, device              int
	randomWeights, allowOutside bool
	noGraphs                    bool
	seed                        uint64
	minTime                     time.Duration
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench MODEL|--runners DIR [--target BACKEND|ref] [--positions log2|1,8,64] [--executor whole|dag|both] [--json FILE] [--chart FILE.png]",
		Short: "Measure TTFT and decode step time over KV-cache positions, whole graph vs DAG",
		Long: `Bench measures a model the way the seed's benchmark does. It compiles the model once
per executor (whole: one partition; dag: --partition layer, one partition per decoder
layer), builds the generated runner and runs its bench mode, which
  - times the first token of one full prefill chunk (TTFT), caches empty;
  - fills every KV cache with random data and times ONE decode step at each position,
    --repeat times (in rounds over all positions, each after an untimed warm-up
    step): median, sample standard deviation, tokens/s, and the bandwidth of the
    bytes a step must read (all weights + the cache so far). Each measurement is
    the median of as many identical steps as fill --min-time, so that timer and
    scheduler noise does not swamp millisecond steps (0: single steps; at most
    10s; the step count is not capped, and the JSON records min_time_ms and each
    position's steps);
  - measures the device's copy bandwidth where the backend can.
Compile time (IR to schedule and kernels) and weight-loading time are reported too.

Positions: log2 is 1, 2, 4, ... up to --max-position (default: max cache length -
prefill chunk, as the seed), then that position; or list them: --positions 1,8,64.

The seed's tables go to stdout; --json writes the result (schema: bench/schema.json,
documented in the README) and --chart a PNG of tokens/s and step time (error bars)
over position on a log2 axis, plus the DAG/whole ratio when both executors ran.
irc bench compare A.json B.json sets two results side by side with a speed-up panel.

--target ref measures the reference CPU runtime in-process (slow: for small models).

Both executors go into one generated runner and are loaded side by side in one
process (twice the device memory; --executor whole or dag measures one); their
steps take turns, one of each at a time, so that the machine's noise weighs on both
alike and their ratio is fair. To measure on a machine without Go (a GPU host),
build with --keep DIR --build-only here, carry DIR, and run irc bench --runners DIR
there.

--keep DIR must be a new or empty folder, or one irc wrote (it holds the
.irc-runner marker): irc rewrites it, removing the previous runner's files the new
one lacks and nothing else; --force writes into another folder. The runner finds
the weights through --weights (default: the model file's folder); a runner
measured with --runners reads them from --weights DIR or, without it, from DIR
itself, beside its binary. --json and --chart are checked before anything is
compiled or measured; an existing file there is overwritten, a folder or special
file is refused.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.executorSet = cmd.Flags().Changed("executor")
			return benchModel(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "opencl", "backend to measure: ref or a GPU backend: "+backend.List())
	fl.StringVar(&f.cudaArch, cudaArchFlag, "", cudaArchHelp)
	fl.StringVar(&f.positions, "positions", "log2", "decode positions: log2 or a comma-separated list")
	fl.Int64Var(&f.maxPosition, "max-position", 0, "last log2 position (default: max cache length - prefill chunk)")
	fl.IntVar(&f.repeat, "repeat", 3, "timed repetitions of each measurement")
	fl.DurationVar(&f.minTime, "min-time", 50*time.Millisecond, "each measurement is the median of as many steps as last this long (0: one step; at most "+runner.MaxMinTime.String()+"); the JSON records it and each position's step count")
	fl.StringVar(&f.executor, "executor", "both", "whole (one partition), dag (--partition layer) or both")
	fl.StringVar(&f.jsonOut, "json", "", "write the result to this JSON file")
	fl.StringVar(&f.chart, "chart", "", "draw the result to this PNG file")
	fl.StringVar(&f.keep, "keep", "", "keep the bench runner (source, binary, built.json) in DIR, to measure again with --runners")
	fl.BoolVar(&f.buildOnly, "build-only", false, "with --keep: compile and build the runner, measure nothing")
	fl.BoolVar(&f.force, "force", false, "with --keep: write into a non-empty folder irc did not write (same-named files are replaced)")
	fl.StringVar(&f.runners, "runners", "", "measure the bench runner --keep built in DIR (e.g. carried to a machine without Go) with the executors it holds; no MODEL")
	fl.IntVar(&f.device, "device", 0, "device index (see the runner's --device)")
	fl.StringVar(&f.weightsDir, "weights", "", "folder the weight files are relative to (default: the model file's folder)")
	fl.BoolVar(&f.randomWeights, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fl.BoolVar(&f.allowOutside, allowOutsideFlag, false, allowOutsideHelp)
	fl.BoolVar(&f.noGraphs, "no-graphs", false, "the runner launches every kernel on its own even where the device records whole steps (CUDA graphs): for A/B measurements")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random KV caches, tokens and --random-weights")
	cmd.AddCommand(newBenchCompareCmd())
	return cmd
}

func (f benchFlags) check(args []string) error {
	if _, err := runner.Positions(f.positions, math.MaxInt32); err != nil {
		return err // a typo fails now, not after compiling and loading
	}
	if f.target == "ref" && f.cudaArch != "" {
		return fmt.Errorf("--%s: the ref target runs no GPU kernels", cudaArchFlag)
	}
	if f.target != "ref" {
		b, err := gpuBackend("--target", f.target, "ref")
		if err != nil {
			return err
		}
		if _, err := withArch(b, f.cudaArch); err != nil {
			return err
		}
	}
	switch {
	case f.buildOnly && (f.keep == "" || f.target == "ref"):
		return fmt.Errorf("--build-only builds the runner into --keep DIR (and ref has none)")
	case f.runners != "" && f.keep != "":
		return fmt.Errorf("--keep and --runners: give one (--keep builds the runner --runners measures)")
	case f.runners != "" && len(args) > 0:
		return fmt.Errorf("--runners measures the runner in %s: give no MODEL", f.runners)
	case f.runners != "" && f.executorSet:
		return fmt.Errorf("--runners measures the executors its runner was built with: drop --executor")
	case f.runners == "" && len(args) != 1:
		return fmt.Errorf("give the MODEL to measure (or --runners DIR)")
	case f.runners != "" && f.target == "ref":
		return fmt.Errorf("--runners: the ref target has no runner")
	case f.executor != "whole" && f.executor != "dag" && f.executor != "both":
		return fmt.Errorf("unknown --executor %q (want whole, dag or both)", f.executor)
	case f.force && f.keep == "":
		return fmt.Errorf("--force writes the runner into --keep DIR when irc did not write that folder: give --keep DIR")
	case f.repeat < 1:
		return fmt.Errorf("--repeat %d: want at least 1", f.repeat)
	case f.chart != "" && !strings.EqualFold(filepath.Ext(f.chart), ".png"):
		return fmt.Errorf("--chart %s: charts are PNG files, name it .png", f.chart)
	case f.buildOnly && (f.jsonOut != "" || f.chart != ""):
		return fmt.Errorf("--build-only measures nothing: drop --json and --chart")
	}
	if err := runner.CheckMinTime(f.minTime); err != nil {
		return err
	}
	// The outputs are checked before compiling and measuring, which may
	// take long: a mistake fails now, not at the end.
	if err := runner.CheckOutputFile("--json", f.jsonOut); err != nil {
		return err
	}
	if err := runner.CheckOutputFile("--chart", f.chart); err != nil {
		return err
	}
	if f.keep != "" {
		if _, err := runnergen.CheckFolder(f.keep, f.force); err != nil {
			return fmt.Errorf("--keep: %w", err)
		}
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
	var x prepared
	var err error
	switch {
	case f.runners != "":
		x, err = startRunner(f.runners, f, log)
	case f.target == "ref":
		x, err = prepareRef(args[0], names, f, log)
	default:
		x, err = prepareRunner(args[0], names, f, log)
	}
	if x.stop != nil {
		defer x.stop()
	}
	if err != nil || f.buildOnly {
		return err
	}
	info, err := x.m.Info()
	if err != nil {
		return err
	}
	if len(info) != len(x.compileMs) {
		return fmt.Errorf("the runner holds %d executors, its built.json names %d", len(info), len(x.compileMs))
	}
	positions, err := runner.BenchPositions(info[0].MaxCacheLen, int64(info[0].PrefillTokens), f.positions, f.maxPosition)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "== measuring %s: the steps of the executors in turn\n", executorNames(info))
	reps, err := runner.BenchAll(x.m, runner.BenchOptions{Positions: positions, Repeat: f.repeat, MinTime: f.minTime, Progress: prefixed(log, "  ")})
	if err != nil {
		return err
	}
	rep := reps[0]
	res := &bench.Result{Format: bench.Format, Model: rep.Model, Target: f.target, Device: rep.Device, Executor: rep.Executor,
		CopyBandwidthGBs: rep.CopyBandwidthGBs, PrefillTokens: rep.PrefillTokens, MaxCacheLen: rep.MaxCacheLen,
		Repeat: rep.Repeat, MinTimeMs: rep.MinTimeMs, WeightBytes: rep.WeightBytes,
		Run: bench.FromReport(rep, x.compileMs[0]), Command: f.command(args), Date: time.Now().UTC().Format(time.RFC3339)}
	if len(reps) > 1 {
		if err := res.SetDAG(bench.FromReport(reps[1], x.compileMs[1])); err != nil {
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

func executorNames(reps []*runner.Report) string {
	var names []string
	for _, r := range reps {
		names = append(names, r.Executor)
	}
	return strings.Join(names, " and ")
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
