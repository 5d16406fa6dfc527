package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/runner"
)

func newImportCmd() *cobra.Command {
	var out, quantize string
	var opts hf.Options
	cmd := &cobra.Command{
		Use:   "import DIR|FILE.gguf -o MODEL.irpb",
		Short: "Import a Hugging Face checkpoint folder or a GGUF file into the IR",
		Long: `Import reads DIR/config.json and, when present, DIR/model.safetensors (or the shards named
by model.safetensors.index.json), and writes the model's prefill and decode graphs as
primitive ops. Weights stay in the safetensors files; the .irpb refers to them by a path
relative to itself. A folder with config.json alone is imported too: its weights are
declared from the config, and the model then runs with --random-weights.

FILE.gguf (llama.cpp's format, version 2 or 3) is imported the same way: general.architecture
llama, qwen2 or qwen3, hyperparameters from its {arch}.* metadata, tensors F32, F16 or BF16
(quantized types are refused by name). The weights stay in the GGUF file.

--max-cache-len and --prefill-len take a number of tokens >= 1; 0, their default,
means the default length (min(max_position_embeddings, 4096) and 128, or the cache
length if smaller); a negative value is an error. An existing MODEL.irpb is
overwritten.

--quantize q8_0|q4_0 declares the linear layers' weights quantized (ggml's block
layouts, bit-exact) and writes them, quantized with ggml's reference rounding, to
MODEL.<type>.safetensors beside MODEL.irpb; the other weights stay in the checkpoint.
With a config-only folder nothing is written: --random-weights quantizes the random
values as it makes them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("import needs -o MODEL.irpb")
			}
			// 0 is the default for both (as their help says); below is a
			// mistake, named here with its flag.
			if opts.MaxCacheLen < 0 {
				return fmt.Errorf("--max-cache-len %d: want a number of tokens >= 1 (or 0 for the default, min(max_position_embeddings, 4096))", opts.MaxCacheLen)
			}
			if opts.PrefillLen < 0 {
				return fmt.Errorf("--prefill-len %d: want a number of tokens >= 1 (or 0 for the default, 128 or the cache length if smaller)", opts.PrefillLen)
			}
			if err := runner.CheckOutputFile("-o", out); err != nil {
				return err
			}
			if quantize != "" {
				q, err := ir.ParseDType(quantize)
				if err != nil || !q.IsQuantized() {
					return fmt.Errorf("--quantize %s: want q8_0 or q4_0", quantize)
				}
				opts.Quantize = q
				opts.QuantizedFile = strings.TrimSuffix(out, filepath.Ext(out)) + "." + quantize + ".safetensors"
			} else if opts.QuantizeEmbeddings {
				return fmt.Errorf("--quantize-embeddings needs --quantize q8_0 or q4_0")
			}
			start := time.Now()
			dir := args[0]
			var m *ir.Model
			hasWeights := true
			var err error
			if safetensors.IsGGUF(dir) {
				m, err = hf.ImportGGUF(dir, opts)
				dir = filepath.Dir(dir)
			} else {
				m, hasWeights, err = hf.Import(dir, opts)
			}
			if err != nil {
				return err
			}
			if err := m.RebaseWeights(dir, filepath.Dir(out)); err != nil {
				return err
			}
			if err := ir.WriteFile(out, m); err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			fmt.Fprintf(w, "imported %s: %d layers, %d weights (%s), prefill %d nodes, decode %d nodes, cache %d, in %.3fs -> %s\n",
				m.Meta.Architecture, m.Meta.NumLayers, len(m.Weights), budget.Format(weightBytes(m)),
				len(m.Graph("prefill").Nodes), len(m.Graph("decode").Nodes), m.Meta.MaxCacheLen,
				time.Since(start).Seconds(), out)
			if opts.Quantize != ir.Invalid {
				n := quantizedCount(m)
				switch {
				case hasWeights:
					fmt.Fprintf(w, "quantized %d weights to %s -> %s\n", n, opts.Quantize, opts.QuantizedFile)
				default:
					fmt.Fprintf(w, "declared %d weights %s (--random-weights quantizes them as it makes them)\n", n, opts.Quantize)
				}
				if n == 0 {
					fmt.Fprintf(w, "note: no weight was quantized: %s blocks need rows (K) that are multiples of 32\n", opts.Quantize)
				}
			}
			if !hasWeights {
				fmt.Fprintf(w, "note: %s has no safetensors; weights are declared from config.json, run with --random-weights\n", dir)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output model file (.irpb)")
	cmd.Flags().StringVar(&quantize, "quantize", "", "q8_0 or q4_0: quantize the linear layers' weights (ggml's blocks and reference rounding), written to MODEL.<type>.safetensors beside the .irpb; norms and biases keep the model's dtype")
	cmd.Flags().BoolVar(&opts.QuantizeEmbeddings, "quantize-embeddings", false, "with --quantize, quantize the token embedding and the output layer too")
	cmd.Flags().Int64Var(&opts.MaxCacheLen, "max-cache-len", 0, "KV-cache length in tokens; 0 (the default) means min(max_position_embeddings, 4096)")
	cmd.Flags().BoolVar(&opts.AllowWeightsOutside, allowOutsideFlag, false, "let the checkpoint's files lie outside DIR (a Hugging Face cache snapshot's symbolic links into ../../blobs); refused by default")
	cmd.Flags().Int64Var(&opts.PrefillLen, "prefill-len", 0, "tokens per prefill chunk, at most the cache length; 0 (the default) means 128, or the cache length if smaller")
	return cmd
}

func quantizedCount(m *ir.Model) int {
	n := 0
	for _, w := range m.Weights {
		if w.Value.Type.DType.IsQuantized() {
			n++
		}
	}
	return n
}

func weightBytes(m *ir.Model) int64 {
	var n int64
	for _, w := range m.Weights {
		n += w.Value.Type.Bytes()
	}
	return n
}
