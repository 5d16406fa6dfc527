package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/tokenizer"
	"github.com/irc-compiler/irc/runtime/weights"
)

type runFlags struct {
	backend       string
	cudaArch      string
	request       runner.Request // --tokens or --prompt, and what goes with them
	weightsDir    string
	randomWeights bool
	allowOutside  bool
	seed          uint64
	device        int
	pipeline      pipelineFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run MODEL (--prompt TEXT [--chat] [--max-tokens N] | --tokens 5,17,3 [--generate N] [--logits-out LOGITS.npy])",
		Short: "Run a model on a text prompt or on token ids",
		Long: `Run feeds the prompt through the prefill graph (in chunks of the model's prefill length),
then generates tokens with the decode graph: greedily (the argmax), or sampled with
--temperature (and --top-k, --top-p; reproducible for a --seed).

--prompt TEXT encodes the text with the model's own tokenizer (imported with it from
tokenizer.json or the GGUF file) and streams the generated text to stdout as it comes,
stopping at the model's end-of-sequence or end-of-turn token, after --max-tokens, or at
the cache's end; timings go to stderr. --chat renders the prompt (after --system, if
given) through the model's chat template first, as a user turn the model answers.

--tokens takes the prompt as ids and prints the N generated ids comma-separated as the
last line of stdout. --logits-out writes a float32 .npy array of shape
[P + max(N-1, 0), vocab]: row t holds the next-token logits after consumed token t.

The backend's default pass pipeline runs first (--passes none runs the graphs as
imported); the pipeline flags are those of irc compile.

A GPU --backend (` + backend.List() + `) compiles the model to a runner (irc compile
--target BACKEND), builds it and runs it on device --device: one step for what the three
commands do.

Weights are read from --weights DIR (default: the model file's folder). A weight file
the model names outside that folder (an absolute path, "..", a symbolic link leading
out) is refused unless --` + allowOutsideFlag + `: a model file is input, and should not
make irc read elsewhere. An existing --logits-out file is overwritten; a folder or
special file there is refused before anything runs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runModel(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.backend, "backend", "ref", "backend to run on: ref (the reference CPU runtime) or a GPU backend: "+backend.List())
	fl.IntVar(&f.device, "device", 0, "device index (GPU backends)")
	fl.StringVar(&f.cudaArch, cudaArchFlag, "", cudaArchHelp)
	request := flag.NewFlagSet("run", flag.ContinueOnError)
	f.request.RegisterFlags(request)
	fl.AddGoFlagSet(request)
	fl.StringVar(&f.weightsDir, "weights", "", "folder the weight files are relative to (default: the model file's folder)")
	fl.BoolVar(&f.randomWeights, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fl.BoolVar(&f.allowOutside, allowOutsideFlag, false, allowOutsideHelp)
	fl.Uint64Var(&f.seed, "seed", 1, "seed of --random-weights and of sampling")
	f.pipeline.register(fl)
	return cmd
}

func runModel(cmd *cobra.Command, path string, f runFlags) error {
	var gpu *backend.Backend
	if f.backend == "ref" && f.cudaArch != "" {
		return fmt.Errorf("--%s: the ref backend runs no GPU kernels", cudaArchFlag)
	}
	if f.backend != "ref" {
		var err error
		if gpu, err = gpuBackend("--backend", f.backend, "ref"); err != nil {
			return err
		}
		if gpu, err = withArch(gpu, f.cudaArch); err != nil {
			return err
		}
	}
	f.request.Sampling.Seed = f.seed
	if err := f.request.Check(); err != nil {
		return err // before compiling and generating, not after
	}
	m, err := ir.Load(path)
	if err != nil {
		return err
	}
	if _, err := f.pipeline.run(m, filepath.Dir(path), f.backend, cmd.ErrOrStderr()); err != nil {
		return err
	}
	if gpu != nil {
		return runOnGPU(cmd, m, gpu, path, f)
	}
	// ref runs through the runner's own generation loop (refBackend).
	rt, err := loadRef(m, path, f.weightsDir, f.randomWeights, f.allowOutside, f.seed)
	if err != nil {
		return err
	}
	s := refSchedule(m)
	vocab := func() (*tokenizer.Vocab, error) { return m.Meta.Tokenizer, nil }
	return runner.Respond(newRefBackend(rt, m, s), s, vocab, f.request, cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// loadRef loads the model from path on the reference runtime, with the
// weights in weightsDir (default: the model's folder; files outside it
// only with allowOutside) or random ones.
func loadRef(m *ir.Model, path, weightsDir string, random, allowOutside bool, seed uint64) (*ref.Runtime, error) {
	var src ref.WeightSource = ref.RandomWeights{Seed: seed}
	if !random {
		if weightsDir == "" {
			weightsDir = filepath.Dir(path)
		}
		files := weights.OpenWith(weightsDir, safetensors.FolderOptions{AllowOutside: allowOutside})
		defer files.Close()
		src = files
	}
	rt, err := ref.New(m, src)
	if err != nil {
		return nil, fmt.Errorf("%w (use --weights DIR to point at the checkpoint, or --random-weights)", err)
	}
	return rt, nil
}

// runOnGPU writes the model's runner into a temporary folder, builds it and
// runs it with the run command's flags.
func runOnGPU(cmd *cobra.Command, m *ir.Model, b *backend.Backend, path string, f runFlags) error {
	dir, err := os.MkdirTemp("", "irc-runner-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := writeRunner(m, b, dir, false); err != nil {
		return err
	}
	bin, err := buildRunner(dir, b, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	req := f.request
	if req.LogitsOut != "" {
		abs, err := filepath.Abs(req.LogitsOut)
		if err != nil {
			return err
		}
		req.LogitsOut = abs
	}
	// The runner lives in a temporary folder: tell it where the weights
	// are, as ref would find them.
	weights := f.weightsDir
	if weights == "" {
		weights = filepath.Dir(path)
	}
	wargs, err := runnerWeightArgs(f.randomWeights, weights, f.allowOutside)
	if err != nil {
		return err
	}
	args := append(req.Args(), "--device", strconv.Itoa(f.device), "--seed", strconv.FormatUint(f.seed, 10))
	return runRunner(bin, append(args, wargs...), cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// runnerWeightArgs are a runner's arguments for where its weights come
// from: random ones, or the folder dir (made absolute: the runner runs
// elsewhere; "" leaves the runner's own default, the folder beside it),
// read outside it with allowOutside.
func runnerWeightArgs(random bool, dir string, allowOutside bool) ([]string, error) {
	if random {
		return []string{"--random-weights"}, nil
	}
	var args []string
	if dir != "" {
		abs, err := absDir("--weights", dir)
		if err != nil {
			return nil, err
		}
		args = append(args, "--weights", abs)
	}
	if allowOutside {
		args = append(args, "--"+allowOutsideFlag)
	}
	return args, nil
}
