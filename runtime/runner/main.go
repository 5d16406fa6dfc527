package runner

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// Program is what a generated runner's main hands to Main.
type Program struct {
	// Name is the command's name in help text and errors (Main: the
	// executable's base name).
	Name     string
	Schedule *schedule.Schedule
	// Stdin is what --bench-serve reads requests from (os.Stdin in Main).
	Stdin io.Reader
	// Open loads the schedule onto device index, weights from load.
	Open Opener
	// Executor names Schedule in bench reports (whole, dag; irc bench
	// sets it).
	Executor string
	// Variants are further compilations of the same model (irc bench's
	// DAG executor beside the whole graph) that --bench and --bench-serve
	// load and measure alongside Schedule, in the same process.
	Variants []Variant
	// Tokenizer is the model's tokenizer and chat template as
	// tokenizer.WriteFile writes them (nil: the model has none), for
	// --prompt.
	Tokenizer []byte
}

// Opener loads a schedule onto device index, weights from load.
type Opener func(device int, load WeightFunc, opt executor.Options) (Backend, error)

// Variant is one more compilation a runner carries for the bench.
type Variant struct {
	Name     string
	Schedule *schedule.Schedule
	Open     Opener
}

// Main runs the runner's command line and exits.
func Main(p Program) {
	if p.Stdin == nil {
		p.Stdin = os.Stdin
	}
	if p.Name == "" {
		p.Name = filepath.Base(os.Args[0])
	}
	err := Run(p, os.Args[1:], os.Stdout, os.Stderr)
	var usage errUsage
	var reported errReported
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.As(err, &reported):
		os.Exit(1) // on stdout, to the irc bench that started this runner
	case errors.As(err, &usage):
		fmt.Fprintf(os.Stderr, "%s: %v (see --help)\n", p.Name, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		os.Exit(1)
	}
}

type options struct {
	weights                string
	device, repeat         int
	random, bench, profile bool
	allowOutside, noGraphs bool
	serve                  bool
	seed                   uint64
	positions, benchJSON   string
	maxPosition            int64
	minTime                time.Duration
}

// MaxMinTime is the longest --min-time: a measurement is the median of
// as many steps as fill it, and each step's time is kept until then.
const MaxMinTime = 10 * time.Second

// Run is Main without the exit: it parses args, loads the model and
// generates (or benchmarks). Generated ids go to stdout as the last line.
// The weights are read from --weights DIR or, by default, from the folder
// of the runner's own executable (symbolic links resolved), so that a
// runner carried to another machine with its weights beside it finds
// them; the compiler's folder is not baked in.
func Run(p Program, args []string, stdout, stderr io.Writer) (err error) {
	var o options
	var r Request
	if p.Name == "" {
		p.Name = "runner"
	}
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	r.RegisterFlags(fs)
	fs.StringVar(&o.weights, "weights", "", "folder the weight files are relative to (default: the folder of this executable)")
	fs.BoolVar(&o.random, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fs.BoolVar(&o.allowOutside, "allow-weights-outside", false, "read weight files the model names outside the weights folder (absolute paths, .., symbolic links leading out); refused by default")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of --random-weights and of sampling")
	fs.IntVar(&o.device, "device", 0, "index of the device to run on")
	fs.BoolVar(&o.noGraphs, "no-graphs", false, "launch every kernel of a step on its own even where the device records whole steps (CUDA graphs): for A/B measurements")
	fs.BoolVar(&o.bench, "bench", false, "measure time to first token and one decode step at each of --positions instead of generating")
	fs.StringVar(&o.positions, "positions", "log2", "with --bench: decode positions, log2 (1, 2, 4, ... and --max-position) or a list like 1,8,64")
	fs.Int64Var(&o.maxPosition, "max-position", 0, "with --bench: last position of log2 (default: max cache length - prefill chunk)")
	fs.IntVar(&o.repeat, "repeat", 3, "timed repetitions of each --bench measurement")
	fs.DurationVar(&o.minTime, "min-time", 50*time.Millisecond, "with --bench: each measurement is the median of as many steps as last this long (0: one step; at most "+MaxMinTime.String()+")")
	fs.BoolVar(&o.serve, "bench-serve", false, "answer irc bench's measurement requests on stdin (see runner.Serve) instead of generating")
	fs.StringVar(&o.benchJSON, "bench-json", "", "with --bench: write the measurements to this JSON file")
	trace := registerTrace(fs)
	fs.BoolVar(&o.profile, "profile", false, "with --bench: device time per kernel of one prefill chunk and of one decode step at each of --positions")
	usage := func() {
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "Usage: %s --prompt TEXT [--chat] [--max-tokens N] | --tokens 5,17,3 [--generate N] [--logits-out LOGITS.npy] | --bench\n\n"+
			"Runs %s: the prompt through the prefill graph in chunks, then new tokens with the\n"+
			"decode graph, greedily unless --temperature is given. --prompt encodes text with the\n"+
			"model's own tokenizer (--chat: through its chat template) and streams the generated\n"+
			"text to stdout, stopping at the end of the answer. --tokens takes ids; the generated\n"+
			"ids are the last line of stdout, and --logits-out writes a float32 .npy array\n"+
			"[P + max(N-1, 0), vocab] of next-token logits. Timings go to stderr.\n\nFlags:\n",
			p.Name, p.Schedule.Model.Name)
		fs.PrintDefaults()
	}
	// The flag package would print the whole usage for any mistake; print
	// it for --help only, and a mistake as one line (Main adds the hint).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := CheckMinTime(o.minTime); err != nil {
		return err
	}
	if o.repeat < 1 {
		return usagef("--repeat %d: want at least 1", o.repeat)
	}
	var positions []int64
	serving := false // Serve has started: its errors are not load errors
	if o.bench && o.serve {
		return usagef("--bench and --bench-serve: give one")
	}
	if o.serve {
		// irc bench reads this runner's stdout: a failure before serving
		// goes there, as the protocol's error reply, so that irc prints it
		// as its one line.
		defer func() {
			var usage errUsage
			if err != nil && !serving && !errors.As(err, &usage) && !errors.Is(err, flag.ErrHelp) {
				json.NewEncoder(stdout).Encode(measurement{Error: err.Error()})
				err = errReported{err}
			}
		}()
	}
	r.Sampling.Seed = o.seed
	if !o.bench && !o.serve {
		if err := r.Check(); err != nil {
			return err
		}
	}
	if trace.file != "" && (o.bench || o.serve || r.Tokens == "") {
		return usagef("--trace takes --tokens (not --prompt, --bench or --bench-serve)")
	}
	if err := CheckOutputFile("--trace", trace.file); err != nil {
		return err
	}
	if err := CheckOutputFile("--bench-json", o.benchJSON); err != nil {
		return err
	}
	if o.bench {
		prefill, err := graphIndex(p.Schedule, "prefill")
		if err != nil {
			return err
		}
		chunk := int64(stepTokens(p.Schedule, prefill))
		if positions, err = BenchPositions(p.Schedule.Model.MaxCacheLen, chunk, o.positions, o.maxPosition); err != nil {
			return err
		}
	}
	load := RandomWeights(o.seed)
	if !o.random {
		dir, err := FindWeights(p.Schedule, o.weights)
		if err != nil {
			return err
		}
		ckpt := OpenCheckpointWith(dir, safetensors.FolderOptions{AllowOutside: o.allowOutside})
		defer ckpt.Close()
		load = ckpt.Load
	}
	open := func(s *schedule.Schedule, openOn Opener) (Backend, time.Duration, error) {
		start := time.Now()
		load, done := loadProgress(s, load, stderr)
		b, err := openOn(o.device, load, executor.Options{NoRecording: o.noGraphs})
		done()
		if err != nil {
			return nil, 0, err
		}
		loaded := time.Since(start)
		fmt.Fprintf(stderr, "%s on %s: loaded in %s\n", s.Model.Name, b.Device(), ms(loaded))
		return b, loaded, nil
	}
	b, loaded, err := open(p.Schedule, p.Open)
	if err != nil {
		return err
	}
	defer b.Close()
	if o.bench || o.serve {
		sess, err := NewSession(p.Executor, b, p.Schedule, loaded, o.seed)
		if err != nil {
			return err
		}
		sessions := []*Session{sess}
		for _, v := range p.Variants {
			vb, vloaded, err := open(v.Schedule, v.Open)
			if err != nil {
				return fmt.Errorf("%s: %w", v.Name, err)
			}
			defer vb.Close()
			if sess, err = NewSession(v.Name, vb, v.Schedule, vloaded, o.seed); err != nil {
				return err
			}
			sessions = append(sessions, sess)
		}
		if o.serve {
			serving = true
			return Serve(NewGroup(sessions...), p.Stdin, stdout)
		}
		reps, err := BenchAll(NewGroup(sessions...), BenchOptions{Positions: positions, Repeat: o.repeat, MinTime: o.minTime, Progress: stderr})
		if err != nil {
			return err
		}
		if o.benchJSON != "" {
			if err := writeJSON(o.benchJSON, reps); err != nil {
				return err
			}
		}
		if o.profile {
			return profile(b, p.Schedule, positions, stderr)
		}
		return nil
	}
	if trace.file != "" {
		return trace.run(b, p.Schedule, r, stderr)
	}
	vocab := func() (*tokenizer.Vocab, error) {
		if p.Tokenizer == nil {
			return nil, nil
		}
		return tokenizer.ReadFile(p.Tokenizer)
	}
	return Respond(b, p.Schedule, vocab, r, stdout, stderr)
}

// BenchPositions are the decode positions of --positions spec (see
// Positions) in a cache of maxCacheLen tokens, up to --max-position
// maxPosition, whose default (0) is the seed's: max cache length - the
// prefill chunk.
func BenchPositions(maxCacheLen, chunk int64, spec string, maxPosition int64) ([]int64, error) {
	last := maxCacheLen - 1
	if maxPosition > last || maxPosition < 0 {
		return nil, usagef("--max-position %d: want a cache position in 0..%d", maxPosition, last)
	}
	if maxPosition == 0 {
		maxPosition = last
		if maxCacheLen-chunk > 0 {
			maxPosition = maxCacheLen - chunk
		}
	}
	return Positions(spec, maxPosition)
}

// errReported is an error already written where it is read (the bench
// protocol's error reply): Main exits without printing it again.
type errReported struct{ error }

func (e errReported) Unwrap() error { return e.error }

// CheckMinTime checks a --min-time value.
func CheckMinTime(d time.Duration) error {
	if d < 0 || d > MaxMinTime {
		return usagef("--min-time %s: want a duration from 0 to %s", d, MaxMinTime)
	}
	return nil
}

// FindWeights is the folder a schedule's weight files are read from: dir
// (--weights) or, when it is empty, the folder of the running executable,
// symbolic links resolved. It checks that every file the schedule names is
// there and otherwise says where it looked: the resolved folder, where
// that folder came from, and the first missing file.
func FindWeights(s *schedule.Schedule, dir string) (string, error) {
	from := "given with --weights"
	if dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("weights: cannot find this runner's executable to look beside it (%v); give --weights DIR or --random-weights", err)
		}
		dir, from = filepath.Dir(exe), "the folder of this runner's executable"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--weights %s: %w", dir, err)
	}
	hint := "give --weights DIR (the folder the weight files are relative to) or --random-weights"
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("weights: the folder %s (%s) does not exist; %s", abs, from, hint)
	case err != nil:
		return "", fmt.Errorf("weights: the folder %s (%s): %v; %s", abs, from, pathErr(err), hint)
	case !fi.IsDir():
		return "", fmt.Errorf("weights: %s (%s) is not a folder; %s", abs, from, hint)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	seen := map[string]bool{}
	for _, b := range s.Buffers {
		if b.Kind != schedule.Weight {
			continue
		}
		for _, p := range b.Sources() {
			if p.File == "" || seen[p.File] {
				continue
			}
			seen[p.File] = true
			file := filepath.FromSlash(p.File)
			if !filepath.IsAbs(file) {
				file = filepath.Join(abs, file)
			}
			if _, err := os.Stat(file); err != nil {
				what := " not found"
				if !errors.Is(err, fs.ErrNotExist) {
					what = ": " + pathErr(err).Error()
				}
				return "", fmt.Errorf("weights: %s%s: looked in %s (%s) for %s; put the model's weight files there, or %s",
					file, what, abs, from, p.File, hint)
			}
		}
	}
	return abs, nil
}

// errUsage marks errors in the command line (exit status 2).
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

// ParseTokens reads a --tokens value.
func ParseTokens(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usagef("--tokens is required: give the prompt as comma-separated token ids, e.g. --tokens 5,17,3")
	}
	var out []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			return nil, usagef("--tokens: %q is not a token id (want comma-separated integers)", part)
		}
		out = append(out, id)
	}
	return out, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

func perToken(d time.Duration, n int) string {
	if n <= 0 {
		return "-"
	}
	per := d / time.Duration(n)
	return fmt.Sprintf("%s/token (%.1f tok/s)", ms(per), 1/per.Seconds())
}
