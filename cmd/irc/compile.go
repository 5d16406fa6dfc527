package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
	"github.com/irc-compiler/irc/runtime/runner"
)

func newCompileCmd() *cobra.Command {
	var (
		pf        pipelineFlags
		target    string
		out       string
		statsJSON string
		emit      string
		cudaArch  string
		force     bool
		bandwidth string
	)
	cmd := &cobra.Command{
		Use:   "compile MODEL -o OUT [--target ref|none|" + strings.Join(backend.Names(), "|") + "] [--emit schedule] [--bandwidth GB/S] [--stats-json FILE]",
		Short: "Run the pass pipeline and write the compiled IR, or a GPU runner",
		Long: `Compile runs the target's pass pipeline over both graphs and writes the result.

Targets: ref (the reference CPU runtime: every pass, placement included), none (the
target-independent passes only: the graphs carry no placement), and the GPU
backends:
` + backendList() + `

For ref and none, OUT ending in .ir gets the text format, anything else the .irpb
protobuf. Either reads back wherever a model is accepted (irc run, irc dump, irc
compile --passes none).

For a GPU backend, OUT is a folder: the model is lowered to a kernel schedule (a static
memory plan and one launch table per graph) and written as a runner, a Go module
with the kernels embedded; go build in OUT makes a binary with the flags of irc run
(--tokens --generate --logits-out --weights --random-weights) plus --device and
--bench. --emit schedule prints the schedule: buffers, arena plan, launches,
and per graph its roofline: the launches and the bytes one step must read and
write, as weights (every weight buffer the launches read, once), KV cache (read
up to the step's last token, the new rows written: figures at position 1 and at
the last position) and activations (per launch, the arena values, inputs and
constants its arguments point into). --bandwidth GB/S adds the floor time, those
bytes at that bandwidth (read plus written, 1e9 bytes per second; irc bench
measures a device's copy bandwidth); --stats-json holds the same figures.
The runner reads its weight files (paths relative to the model file's folder, as
the compile message lists them) from the folder of its executable, or from
--weights DIR: copy them beside the binary, or point --weights at the model's folder.
Nothing of this machine's folders is written into the runner.

OUT must be a new or empty folder, or one irc wrote (it holds the .irc-runner
marker): irc rewrites it and removes the previous runner's files the new one
lacks, nothing else. --force writes into a folder irc did not write, replacing
files of the same names. An existing OUT file (.irpb, .ir) or --stats-json file
is overwritten; a folder or special file there is refused.

Inspect what the passes did with --dump-after=all --dump-dir DIR (numbered NNN_<pass>.ir,
written only for passes that changed the graph), --explain=PASS (why a candidate was
left alone), --stats, --time-passes and --stats-json.

Passes, in their canonical order:
` + passList(),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o OUT is required (the compiled model: .irpb, or .ir for text; a folder for a GPU backend)")
			}
			if emit != "" && emit != "schedule" {
				return fmt.Errorf("unknown --emit %q (want schedule)", emit)
			}
			var gbs float64
			if cmd.Flags().Changed("bandwidth") {
				var err error
				if gbs, err = parseBandwidth(bandwidth); err != nil {
					return err
				}
			}
			// Outputs are checked before the work: a mistake fails now.
			b, gpu := backend.Lookup(target)
			if gpu {
				var err error
				if b, err = withArch(b, cudaArch); err != nil {
					return err
				}
				if _, err := runnergen.CheckFolder(out, force); err != nil {
					return err
				}
			} else if cudaArch != "" {
				return fmt.Errorf("--%s: the %s target writes no GPU kernels", cudaArchFlag, target)
			} else if gbs > 0 {
				return fmt.Errorf("--bandwidth: the %s target has no kernel schedule to bound (GPU targets: %s)", target, backend.List())
			} else if err := runner.CheckOutputFile("-o", out); err != nil {
				return err
			} else if force {
				return fmt.Errorf("--force is for a GPU target's runner folder (%s)", backend.List())
			}
			if err := runner.CheckOutputFile("--stats-json", statsJSON); err != nil {
				return err
			}
			if err := pf.checkDumpDir(); err != nil {
				return err
			}
			m, err := ir.Load(args[0])
			if err != nil {
				return err
			}
			start := time.Now()
			rep, err := pf.run(m, filepath.Dir(args[0]), target, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			// The stats describe the pipeline's result, whatever the target
			// then makes of it, and a GPU target's roofline.
			if statsJSON != "" && !gpu {
				if err := writeStatsJSON(statsJSON, m, rep, nil); err != nil {
					return err
				}
			}
			if gpu {
				low, err := writeRunner(m, b, out, force)
				if err != nil {
					return err
				}
				if statsJSON != "" {
					if err := writeStatsJSON(statsJSON, m, rep, codegen.Rooflines(low.Schedule, gbs)); err != nil {
						return err
					}
				}
				if emit == "schedule" {
					fmt.Fprint(cmd.OutOrStdout(), codegen.FormatAt(low, gbs))
				}
				launches := 0
				for _, g := range low.Schedule.Graphs {
					launches += len(g.Launches)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "compiled %s for %s: %d passes, %d kernels, %d launches in %s -> %s (build it there: %s)\n",
					args[0], target, len(rep.Pipeline), len(low.Schedule.Kernels), launches, roundDur(time.Since(start)), out, runnergen.BuildCommand(b))
				weights, err := absDir("MODEL", filepath.Dir(args[0]))
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "the runner reads %s beside its binary, or from --weights DIR (here: --weights %s)\n", weightFiles(low), weights)
				return nil
			}
			if emit != "" {
				return fmt.Errorf("--emit %s: only GPU targets (%s) have a schedule to emit", emit, backend.List())
			}
			if err := m.RebaseWeights(filepath.Dir(args[0]), filepath.Dir(out)); err != nil {
				return err
			}
			if err := writeModel(out, m); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "compiled %s for %s: %d passes in %s -> %s\n", args[0], target, len(rep.Pipeline), roundDur(time.Since(start)), out)
			return nil
		},
	}
	pf.register(cmd.Flags())
	cmd.Flags().StringVar(&target, "target", "ref", "target: "+strings.Join(append(passes.TargetNames(), backend.Names()...), ", "))
	cmd.Flags().StringVarP(&out, "output", "o", "", "compiled model file (.irpb, or .ir for text), or the runner's folder for a GPU backend")
	cmd.Flags().StringVar(&cudaArch, cudaArchFlag, "", cudaArchHelp)
	cmd.Flags().StringVar(&emit, "emit", "", "also print an intermediate form: schedule (the kernel schedule, GPU targets)")
	cmd.Flags().StringVar(&bandwidth, "bandwidth", "", "device bandwidth in GB/s (read plus written, 1e9 B/s): the schedule's roofline (--emit schedule, --stats-json) adds each graph's floor time, its bytes at this bandwidth")
	cmd.Flags().StringVar(&statsJSON, "stats-json", "", "write the op histograms, partitions and pass timings as JSON (GPU targets: and each graph's roofline)")
	cmd.Flags().BoolVar(&force, "force", false, "write the runner into a non-empty folder irc did not write (same-named files are replaced)")
	return cmd
}

// backendList prints the backend registry for help texts.
func backendList() string {
	var b strings.Builder
	for _, name := range backend.Names() {
		be, _ := backend.Lookup(name)
		fmt.Fprintf(&b, "  %-15s %s\n", be.Name, be.Doc)
	}
	return strings.TrimRight(b.String(), "\n")
}

// passList prints the pass table, one pass per line, for the help text.
func passList() string {
	var b strings.Builder
	for _, p := range passes.Table() {
		fmt.Fprintf(&b, "  %-15s %s\n", p.Name, p.Doc)
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeModel(path string, m *ir.Model) error {
	if strings.HasSuffix(path, ".ir") {
		return os.WriteFile(path, []byte(m.String()), 0o644)
	}
	return ir.WriteFile(path, m)
}

// parseBandwidth reads --bandwidth: a positive, finite number of GB/s.
func parseBandwidth(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("--bandwidth %q: want a positive number of GB/s (1e9 bytes per second, read plus written), e.g. 3000 for 3 TB/s", s)
	}
	return v, nil
}

// writeStatsJSON writes, per graph (keys "prefill", "decode"), the op
// histogram after the pipeline, the node and copy counts, the partitions
// and, for a GPU target, the schedule's roofline (roofs, by graph name); at
// the top level the grouped-matmul op's name and the per-pass counters and
// times.
func writeStatsJSON(path string, m *ir.Model, rep *passes.Report, roofs []codegen.Roofline) error {
	doc := map[string]any{"model": m.Meta.Architecture, "gqa_op": passes.GQAOp, "passes": rep.Stats, "total_ns": rep.Total.Nanoseconds()}
	for _, g := range m.Graphs {
		ops := passes.OpHistogram(g)
		parts := passes.Partitions(g)
		if parts == nil {
			parts = []*passes.Partition{}
		}
		stats := map[string]any{"ops": ops, "nodes": len(g.Nodes), "copies": ops["copy"], "partitions": parts}
		for _, r := range roofs {
			if r.Graph == g.Name {
				stats["roofline"] = r
			}
		}
		doc[g.Name] = stats
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
