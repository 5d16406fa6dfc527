package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/internal/check"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
)

type checkFlags struct {
	backend       string
	cudaArch      string
	tokens        string
	generate      int
	tol           string
	all, json     bool
	keep          string
	buildOnly     bool
	force         bool
	runners       string
	weightsDir    string
	randomWeights bool
	allowOutside  bool
	seed          uint64
	device        int
	pipeline      pipelineFlags
}

// errDiverged is irc check's exit status 1 after a report that found a
// divergence (the report is on stdout already).
var errDiverged = errors.New("check: the backend departs from ref (report above)")

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check MODEL --backend BACKEND | MODEL --passes[=LIST] | --runners DIR",
		Short: "Find the first node where a backend, or a pass, departs from ref",
		Long: `Check runs the model on a GPU backend with the runner's tracing mode (every node's
result read back right after its last launch, and the KV-cache rows each step wrote),
runs ref on the same fused graph over the same steps, and compares them node by node in
execution order. A node diverges when its relative L2 error exceeds both its dtype's
budget (f32 1e-4, bf16 1e-2, f16 2e-3) and 4 x the largest error of its inputs: errors
grow along the graph, a jump is the bug. It prints the first divergent node (its op,
attributes, dump line, its inputs' errors and its launches: kernel, grid, arguments);
--all the whole error profile as a table, --json the same for machines.

The steps: --tokens are prefilled in chunks of the prefill length, then --generate N
tokens (ref's greedy choices, fed to both sides alike) are decoded one step each.

--passes bisects the pipeline on ref instead: the graph after each pass, one by one,
and the first pass after which the logits move by more than 1e-5 (relative L2), with
its dump diff.

--keep DIR [--build-only] writes the runner and ref's expectations into DIR; irc check
--runners DIR checks that runner against them on a machine without Go (or the model).

Exit status: 0 when nothing diverges, 1 when something does (after the report) or on an
error, 2 for a command line that does not parse.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return checkModel(cmd, args, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.backend, "backend", "", "GPU backend to check: "+backend.List())
	fl.StringVar(&f.cudaArch, cudaArchFlag, "", cudaArchHelp)
	fl.StringVar(&f.tokens, "tokens", "1,2,3,4,5", "prompt token ids, comma-separated")
	fl.IntVar(&f.generate, "generate", 2, "decode steps after the prompt (on ref's greedy ids)")
	fl.StringVar(&f.tol, "tol", "", "tolerance: dtype=budget and growth=K, comma-separated (default f32=1e-4,bf16=1e-2,f16=2e-3,growth=4)")
	fl.BoolVar(&f.all, "all", false, "print every traced value's error as a table, not only the first divergence")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON")
	fl.StringVar(&f.keep, "keep", "", "write the runner and ref's expectations into DIR, for --runners")
	fl.BoolVar(&f.buildOnly, "build-only", false, "with --keep: build the runner and compute the expectations, check nothing")
	fl.BoolVar(&f.force, "force", false, "with --keep: write into a non-empty folder irc did not write")
	fl.StringVar(&f.runners, "runners", "", "check the runner irc check --keep built in DIR against its expectations; no MODEL")
	fl.StringVar(&f.weightsDir, "weights", "", "folder the weight files are relative to (default: the model file's folder; with --runners the runner's)")
	fl.BoolVar(&f.randomWeights, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fl.BoolVar(&f.allowOutside, allowOutsideFlag, false, allowOutsideHelp)
	fl.Uint64Var(&f.seed, "seed", 1, "seed of --random-weights")
	fl.IntVar(&f.device, "device", 0, "device index")
	f.pipeline.register(fl)
	// --passes alone bisects the default pipeline; --passes=LIST that one.
	fl.Lookup("passes").NoOptDefVal = "default"
	fl.Lookup("passes").Usage = "bisect the pass pipeline on ref (--passes=a,b,c: that pipeline) instead of checking a backend"
	return cmd
}

func (f checkFlags) usage(args []string, bisect bool) error {
	u := func(format string, a ...any) error { return usageError{fmt.Errorf("check: "+format, a...)} }
	switch {
	case f.runners != "" && len(args) > 0:
		return u("--runners checks the runner in %s: give no MODEL", f.runners)
	case f.runners != "" && (f.keep != "" || bisect || f.backend != ""):
		return u("--runners takes neither --keep, --passes nor --backend: the runner's folder says what to check")
	case f.runners == "" && len(args) != 1:
		return u("give the MODEL to check (or --runners DIR)")
	case bisect && (f.backend != "" || f.keep != ""):
		return u("--passes bisects the pipeline on ref: drop --backend and --keep")
	case !bisect && f.runners == "" && f.backend == "":
		return u("give --backend BACKEND (%s) or --passes", backend.List())
	case f.buildOnly && f.keep == "":
		return u("--build-only builds the runner into --keep DIR")
	case f.generate < 0:
		return u("--generate %d: want a number of decode steps >= 0", f.generate)
	}
	if _, err := parseTol(f.tol); err != nil {
		return usageError{err}
	}
	return nil
}

// parseTol reads --tol: dtype=budget and growth=K pairs over the defaults.
func parseTol(spec string) (check.Tolerance, error) {
	tol := check.DefaultTolerance()
	if strings.TrimSpace(spec) == "" {
		return tol, nil
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || x < 0 {
			return tol, fmt.Errorf("check: --tol %q: want dtype=budget or growth=K pairs, e.g. bf16=2e-2,growth=4", kv)
		}
		switch k {
		case "growth":
			tol.Growth = x
		case "f32", "bf16", "f16":
			tol.Budget[k] = x
		default:
			return tol, fmt.Errorf("check: --tol %q: unknown key %s (f32, bf16, f16 or growth)", kv, k)
		}
	}
	return tol, nil
}

func checkModel(cmd *cobra.Command, args []string, f checkFlags) error {
	bisect := cmd.Flags().Changed("passes")
	if err := f.usage(args, bisect); err != nil {
		return err
	}
	tol, _ := parseTol(f.tol)
	if f.runners != "" {
		return checkRunners(cmd, f, tol)
	}
	ids, err := runner.ParseTokens(f.tokens)
	if err != nil {
		return usageError{fmt.Errorf("check: %v", err)}
	}
	path := args[0]
	m, err := ir.Load(path)
	if err != nil {
		return err
	}
	if bisect {
		return checkPasses(cmd, m, path, ids, f)
	}
	gpu, err := gpuBackend("--backend", f.backend)
	if err != nil {
		return usageError{err}
	}
	if gpu, err = withArch(gpu, f.cudaArch); err != nil {
		return err
	}
	dir := f.keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "irc-check-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if _, err := runnergen.CheckFolder(dir, f.force); err != nil {
		return fmt.Errorf("--keep: %w", err)
	}
	log := cmd.ErrOrStderr()
	if _, err := f.pipeline.run(m, filepath.Dir(path), gpu.Name, log); err != nil {
		return err
	}
	low, err := writeRunner(m, gpu, dir, f.force)
	if err != nil {
		return err
	}
	rt, err := loadRef(m, path, f.weightsDir, f.randomWeights, f.allowOutside, f.seed)
	if err != nil {
		return err
	}
	// The decode steps take ref's greedy ids, so that both sides see the
	// same inputs whatever the device would have picked.
	steps, all, err := traceSteps(m, rt, ids, f.generate)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "running ref over %d steps ...\n", len(steps))
	exp, err := check.Expect(m, low.Schedule, rt, steps)
	if err != nil {
		return err
	}
	exp.Backend, exp.Tokens, exp.Decode, exp.RandomWeights, exp.Seed = gpu.Name, all, f.generate, f.randomWeights, f.seed
	if f.keep != "" {
		if err := exp.Save(dir); err != nil {
			return err
		}
	}
	bin, err := buildRunner(dir, gpu, log)
	if err != nil || f.buildOnly {
		return err
	}
	weights := f.weightsDir
	if weights == "" {
		weights = filepath.Dir(path)
	}
	return traceAndReport(cmd, bin, exp, tol, f, weights)
}

// traceSteps are the steps of a check: ids prefilled in chunks of m's
// prefill graph, then generate decode steps on ref's greedy ids (rt's),
// fed to both sides alike; and every id the steps take.
func traceSteps(m *ir.Model, rt *ref.Runtime, ids []int64, generate int) ([]runner.TraceStep, []int64, error) {
	g := m.Graph("prefill")
	if g == nil || len(g.Inputs) == 0 || len(g.Inputs[0].Type.Shape) != 1 {
		return nil, nil, fmt.Errorf("the model has no prefill graph taking %%tokens: i32[n]")
	}
	for _, id := range ids {
		if id < 0 || id >= m.Meta.VocabSize {
			return nil, nil, fmt.Errorf("token id %d out of range [0, %d)", id, m.Meta.VocabSize)
		}
	}
	all := append([]int64(nil), ids...)
	if generate > 0 {
		gen, err := rt.Generate(ids, generate)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, gen.IDs...)
	}
	steps, err := runner.TraceSteps(all, generate, int(g.Inputs[0].Type.Shape[0]), m.Meta.VocabSize, m.Meta.MaxCacheLen)
	return steps, all, err
}

// traceAndReport runs the runner bin in its tracing mode over the
// expectations' steps and reports the comparison.
func traceAndReport(cmd *cobra.Command, bin string, exp *check.Expectations, tol check.Tolerance, f checkFlags, weights string) error {
	tmp, err := os.MkdirTemp("", "irc-trace-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "trace.gob")
	var ids []string
	for _, id := range exp.Tokens {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	args := []string{"--tokens", strings.Join(ids, ","), "--trace", file, "--trace-decode", strconv.Itoa(exp.Decode), "--device", strconv.Itoa(f.device)}
	if exp.RandomWeights {
		args = append(args, "--random-weights", "--seed", strconv.FormatUint(exp.Seed, 10))
	} else if weights != "" {
		wargs, err := runnerWeightArgs(false, weights, f.allowOutside)
		if err != nil {
			return err
		}
		args = append(args, wargs...)
	}
	if err := runRunner(bin, args, io.Discard, cmd.ErrOrStderr()); err != nil {
		return err
	}
	tf, err := os.Open(file)
	if err != nil {
		return err
	}
	defer tf.Close()
	got, err := runner.ReadTrace(tf)
	if err != nil {
		return err
	}
	rep, err := check.Compare(exp, got, tol)
	if err != nil {
		return err
	}
	if err := writeReport(cmd.OutOrStdout(), f.json, rep, func(w io.Writer) { rep.WriteText(w, f.all) }); err != nil {
		return err
	}
	if rep.First >= 0 {
		return errDiverged
	}
	return nil
}

// checkRunners checks a runner irc check --keep built against the
// expectations stored beside it.
func checkRunners(cmd *cobra.Command, f checkFlags, tol check.Tolerance) error {
	exp, err := check.Load(f.runners)
	if err != nil {
		return err
	}
	bin := filepath.Join(f.runners, "runner")
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: no runner binary (--runners wants the folder irc check --keep wrote)", bin)
	}
	return traceAndReport(cmd, bin, exp, tol, f, f.weightsDir)
}

// checkPasses bisects the pipeline on ref.
func checkPasses(cmd *cobra.Command, m *ir.Model, path string, ids []int64, f checkFlags) error {
	spec := f.pipeline.passes
	if spec == "default" {
		spec = ""
	}
	p := f.pipeline
	p.passes = spec
	opt, err := p.options("ref", cmd.ErrOrStderr())
	if err != nil {
		return usageError{err}
	}
	rt, err := loadRef(m, path, f.weightsDir, f.randomWeights, f.allowOutside, f.seed)
	if err != nil {
		return err
	}
	var stages []check.Stage
	for _, name := range opt.Pipeline {
		one := *opt
		one.Pipeline = []string{name}
		stages = append(stages, check.Stage{Name: name, Run: func(m *ir.Model) error {
			_, err := passes.Run(m, &one)
			return err
		}})
	}
	steps, _, err := traceSteps(m, rt, ids, f.generate)
	if err != nil {
		return err
	}
	b, err := check.Bisect(m, rt, stages, steps, check.PassChangeLimit)
	if err != nil {
		return err
	}
	if err := writeReport(cmd.OutOrStdout(), f.json, b, b.WriteText); err != nil {
		return err
	}
	if b.Bad >= 0 {
		return fmt.Errorf("check: pass %s miscompiles (report above)", b.Passes[b.Bad])
	}
	return nil
}

// writeReport writes a report as indented JSON, or as text.
func writeReport(w io.Writer, asJSON bool, v any, text func(io.Writer)) error {
	if !asJSON {
		text(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
