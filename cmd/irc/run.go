package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/weights"
)

type runFlags struct {
	backend       string
	tokens        string
	generate      int
	logitsOut     string
	weightsDir    string
	randomWeights bool
	seed          uint64
	pipeline      pipelineFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run MODEL --tokens 5,17,3 [--generate N] [--logits-out LOGITS.npy]",
		Short: "Run a model greedily on a prompt of token ids",
		Long: `Run feeds the prompt through the prefill graph (in chunks of the model's prefill length),
then generates N tokens greedily with the decode graph. The generated ids are printed
comma-separated as the last line of stdout. --logits-out writes a float32 .npy array of
shape [P + max(N-1, 0), vocab]: row t holds the next-token logits after consumed token t.

The backend's default pass pipeline runs first (--passes none runs the graphs as
imported); the pipeline flags are those of irc compile.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runModel(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.backend, "backend", "ref", "backend to run on: ref (the reference CPU runtime)")
	fl.StringVar(&f.tokens, "tokens", "", "prompt token ids, comma-separated (required)")
	fl.IntVar(&f.generate, "generate", 8, "number of tokens to generate greedily")
	fl.StringVar(&f.logitsOut, "logits-out", "", "write every row of logits to this .npy file (float32)")
	fl.StringVar(&f.weightsDir, "weights", "", "folder the weight files are relative to (default: the model file's folder)")
	fl.BoolVar(&f.randomWeights, "random-weights", false, "use deterministic random weights instead of the checkpoint")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of --random-weights")
	f.pipeline.register(fl)
	return cmd
}

func runModel(cmd *cobra.Command, path string, f runFlags) error {
	if f.backend != "ref" {
		return fmt.Errorf("unknown --backend %q (available: ref)", f.backend)
	}
	prompt, err := parseTokens(f.tokens)
	if err != nil {
		return err
	}
	m, err := ir.Load(path)
	if err != nil {
		return err
	}
	if _, err := f.pipeline.run(m, filepath.Dir(path), f.backend, cmd.ErrOrStderr()); err != nil {
		return err
	}
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
	rt, err := ref.New(m, src)
	if err != nil {
		return fmt.Errorf("%w (use --weights DIR to point at the checkpoint, or --random-weights)", err)
	}
	gen, err := rt.Generate(prompt, f.generate)
	if err != nil {
		return err
	}
	if f.logitsOut != "" {
		if err := writeNpy(f.logitsOut, gen.Logits); err != nil {
			return err
		}
	}
	ids := make([]string, len(gen.IDs))
	for i, id := range gen.IDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	fmt.Fprintln(cmd.OutOrStdout(), strings.Join(ids, ","))
	return nil
}

func parseTokens(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--tokens is required: give the prompt as comma-separated token ids, e.g. --tokens 5,17,3")
	}
	var out []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %q is not a token id (want comma-separated integers)", part)
		}
		out = append(out, id)
	}
	return out, nil
}

// writeNpy writes rows as a float32 [len(rows), len(rows[0])] .npy array.
func writeNpy(path string, rows [][]float32) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := npy.Write(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
