package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/internal/testmodel"
)

func newTestmodelCmd() *cobra.Command {
	var out, only string
	var seed uint64
	var blocks bool
	cmd := &cobra.Command{
		Use:   "testmodel -o DIR [--preset NAME]",
		Short: "Write deterministic tiny random checkpoints, one folder per preset",
		Long: `Testmodel writes tiny Hugging Face checkpoints (config.json + model.safetensors in bf16)
with random weights from a seed: the same seed gives the same bytes. Each preset exercises
something (GQA ratios, head_dim, odd sizes, llama3 rope scaling, tied heads). Without
--preset it writes every tiny preset:
` + presetList(testmodel.Presets()) + `Bench presets (only with --preset NAME; hundreds of MB, seconds to write):
` + presetList(testmodel.BenchPresets()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("testmodel needs -o DIR")
			}
			if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
				return fmt.Errorf("-o %s: exists and is not a folder (testmodel writes one checkpoint folder per preset into it)", out)
			}
			presets := testmodel.Presets()
			if only != "" {
				p, ok := testmodel.Find(only)
				if !ok {
					return fmt.Errorf("unknown preset %q (have: %s)", only, presetNames())
				}
				presets = []testmodel.Preset{p}
			}
			for _, p := range presets {
				if blocks {
					p = p.Blocks()
				}
				dir := filepath.Join(out, p.Name)
				if err := testmodel.Write(dir, p, seed); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s)\n", dir, p.Arch)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "folder to write the checkpoints into")
	cmd.Flags().StringVar(&only, "preset", "", "write only this preset")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed of the weights")
	cmd.Flags().BoolVar(&blocks, "blocks", false, "round the sizes up to whole blocks of 32 (hidden, intermediate, the heads' width), so every linear layer quantizes to q8_0/q4_0")
	return cmd
}

func presetNames() string {
	var names []string
	for _, p := range append(testmodel.Presets(), testmodel.BenchPresets()...) {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func presetList(presets []testmodel.Preset) string {
	var b strings.Builder
	for _, p := range presets {
		fmt.Fprintf(&b, "  %-16s %s\n", p.Name, p.Arch)
	}
	return b.String()
}
