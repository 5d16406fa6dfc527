package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
)

// pipelineFlags are the pass-pipeline flags compile and run share.
type pipelineFlags struct {
	passes     string
	partition  string
	gpuLayers  int
	verifyEach bool
	explain    string
	dumpAfter  string
	dumpBefore string
	dumpDir    string
	dumpFormat string
	timePasses bool
	stats      bool
}

func (p *pipelineFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&p.passes, "passes", "", "comma-separated pass pipeline (default: the target's; none: the graph as imported; passes: "+strings.Join(passes.Names(), ",")+")")
	fl.StringVar(&p.partition, "partition", "whole", "partitioning: whole (one partition per device) or layer (one per decoder layer)")
	fl.IntVar(&p.gpuLayers, "gpu-layers", -1, "decoder layers placed on the target; the rest run on the CPU (-1: all)")
	fl.BoolVar(&p.verifyEach, "verify-each", false, "verify the IR after every pass")
	fl.StringVar(&p.explain, "explain", "", "print why PASS[,PASS] (or all) declined each candidate it left alone")
	fl.StringVar(&p.dumpAfter, "dump-after", "", "dump the IR after PASS[,PASS] (or all), when the pass changed it")
	fl.StringVar(&p.dumpBefore, "dump-before", "", "dump the IR before PASS[,PASS] (or all)")
	fl.StringVar(&p.dumpDir, "dump-dir", "", "write dumps as numbered files NNN_<pass>.ir in this folder (default: stderr)")
	fl.StringVar(&p.dumpFormat, "dump-format", "text", "dump format: text (reads back as input) or dot (Graphviz)")
	fl.BoolVar(&p.timePasses, "time-passes", false, "print the wall time of every pass")
	fl.BoolVar(&p.stats, "stats", false, "print per-pass counters: candidates, rewrites, declined, nodes before/after")
}

// options checks the flags and turns them into pipeline options.
func (p *pipelineFlags) options(target string, log io.Writer) (*passes.Options, error) {
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	if err := p.checkDumpDir(); err != nil {
		return nil, err
	}
	pipeline, err := passes.ParsePipeline(p.passes, target)
	if err != nil {
		return nil, err
	}
	if p.partition != "whole" && p.partition != "layer" {
		return nil, fmt.Errorf("unknown --partition %q (want whole or layer)", p.partition)
	}
	if p.gpuLayers < -1 {
		return nil, fmt.Errorf("--gpu-layers %d: want -1 (all) or a number of layers >= 0", p.gpuLayers)
	}
	if p.gpuLayers >= 0 && !slices.Contains(pipeline, "partition") {
		return nil, fmt.Errorf("--gpu-layers needs the partition pass, which this pipeline does not run")
	}
	if p.dumpFormat != "text" && p.dumpFormat != "dot" {
		return nil, fmt.Errorf("unknown --dump-format %q (want text or dot)", p.dumpFormat)
	}
	opt := &passes.Options{Pipeline: pipeline, Target: target, VerifyEach: p.verifyEach,
		Partition: p.partition, GPULayers: p.gpuLayers, Log: log}
	if opt.Explain, err = passes.ParsePassSet("--explain", p.explain); err != nil {
		return nil, err
	}
	if opt.DumpAfter, err = passes.ParsePassSet("--dump-after", p.dumpAfter); err != nil {
		return nil, err
	}
	if opt.DumpBefore, err = passes.ParsePassSet("--dump-before", p.dumpBefore); err != nil {
		return nil, err
	}
	if len(opt.DumpAfter) > 0 || len(opt.DumpBefore) > 0 {
		opt.Dumps = &passes.DumpSink{Dir: p.dumpDir, Format: p.dumpFormat, W: log}
	} else if p.dumpDir != "" {
		return nil, fmt.Errorf("--dump-dir needs --dump-after or --dump-before to say which passes to dump")
	}
	return opt, nil
}

// checkDumpDir checks --dump-dir before the pipeline runs: a new folder
// (it is made) or an existing one, where dumps replace files of their
// names.
func (p *pipelineFlags) checkDumpDir() error {
	if p.dumpDir == "" {
		return nil
	}
	fi, err := os.Stat(p.dumpDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--dump-dir %s: %w", p.dumpDir, err)
	case !fi.IsDir():
		return fmt.Errorf("--dump-dir %s: exists and is not a folder", p.dumpDir)
	}
	return nil
}

// run applies the pipeline to m, read from modelDir, and prints the tables
// asked for on log. Dumps in --dump-dir refer to the weights relative to
// that folder, so that each reads back as a model.
func (p *pipelineFlags) run(m *ir.Model, modelDir, target string, log io.Writer) (*passes.Report, error) {
	opt, err := p.options(target, log)
	if err != nil {
		return nil, err
	}
	if p.dumpDir != "" {
		if err := m.RebaseWeights(modelDir, p.dumpDir); err != nil {
			return nil, err
		}
	}
	rep, err := passes.Run(m, opt)
	if err != nil {
		return nil, err
	}
	if p.dumpDir != "" {
		if err := m.RebaseWeights(p.dumpDir, modelDir); err != nil {
			return nil, err
		}
	}
	if p.timePasses {
		printTimes(log, rep)
	}
	if p.stats {
		printStats(log, rep)
	}
	return rep, nil
}

func printTimes(w io.Writer, rep *passes.Report) {
	total := map[string]time.Duration{}
	var order []string
	for _, s := range rep.Stats {
		if _, ok := total[s.Pass]; !ok {
			order = append(order, s.Pass)
		}
		total[s.Pass] += s.Time
	}
	var sum time.Duration
	for _, d := range total {
		sum += d
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\ttime\tshare\t")
	for _, name := range order {
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t\n", name, roundDur(total[name]), 100*float64(total[name])/float64(max(sum, 1)))
	}
	fmt.Fprintf(tw, "passes\t%s\t\t\n", roundDur(sum))
	fmt.Fprintf(tw, "with verify and dumps\t%s\t\t\n", roundDur(rep.Total))
	tw.Flush()
}

func printStats(w io.Writer, rep *passes.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pass\tgraph\tcandidates\trewrites\tdeclined\tnodes before\tnodes after\t")
	for _, s := range rep.Stats {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", s.Pass, s.Graph, s.Candidates, s.Rewrites, s.Declined, s.NodesBefore, s.NodesAfter)
	}
	tw.Flush()
}

func roundDur(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// checkTarget accepts the targets the passes know (ref, none) and the GPU
// backends.
func checkTarget(target string) error {
	names := append(passes.TargetNames(), backend.Names()...)
	if !slices.Contains(names, target) {
		return fmt.Errorf("unknown target %q (want one of %s)", target, strings.Join(names, ", "))
	}
	return nil
}
