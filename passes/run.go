package passes

import (
	"fmt"
	"io"
	"time"

	"github.com/irc-compiler/irc/ir"
)

// Options configure one run of a pipeline.
type Options struct {
	Pipeline   []string // pass names, in order (see ParsePipeline)
	Target     string   // device name of the target partitions ("ref", ...)
	VerifyEach bool     // verify the model after every pass

	// Partitioning: "whole" (one partition per device) or "layer" (one per
	// decoder layer); GPULayers < 0 puts every layer on the target, N >= 0
	// only the first N (the rest run on the CPU).
	Partition string
	GPULayers int

	Explain    map[string]bool // passes whose declined candidates are explained
	DumpBefore map[string]bool
	DumpAfter  map[string]bool
	Dumps      *DumpSink // where dumps go; nil discards them
	Log        io.Writer
}

// Context is what a pass sees while it runs on one graph.
type Context struct {
	Model   *ir.Model
	Graph   *ir.Graph
	Options *Options
	pass    string
	stat    *PassStat
}

// candidate counts a site the pass considered.
func (c *Context) candidate() { c.stat.Candidates++ }

// rewrote counts a site the pass rewrote.
func (c *Context) rewrote() { c.stat.Rewrites++ }

// decline explains, under --explain, why the pass left the candidate at v alone.
func (c *Context) decline(v *ir.Value, format string, args ...any) {
	c.stat.Declined++
	if log := c.Options.Log; c.Options.Explain[c.pass] && log != nil {
		fmt.Fprintf(log, "explain %s: %s %s: %s\n", c.pass, c.Graph.Name, ir.Ref(v), fmt.Sprintf(format, args...))
	}
}

// PassStat holds one pass's counters on one graph.
type PassStat struct {
	Pass        string        `json:"pass"`
	Graph       string        `json:"graph"`
	Candidates  int           `json:"candidates"`
	Rewrites    int           `json:"rewrites"`
	Declined    int           `json:"declined"`
	NodesBefore int           `json:"nodes_before"`
	NodesAfter  int           `json:"nodes_after"`
	Time        time.Duration `json:"time_ns"`
}

// Changed reports whether the pass rewrote anything.
func (s *PassStat) Changed() bool { return s.Rewrites > 0 || s.NodesBefore != s.NodesAfter }

// Report is what a pipeline run did, pass by pass and graph by graph.
type Report struct {
	Pipeline []string // the passes run, in order
	Stats    []*PassStat
	Total    time.Duration
}

// Run applies the pipeline to every graph of m, in place.
func Run(m *ir.Model, opt *Options) (*Report, error) {
	if err := checkOrder(opt.Pipeline); err != nil {
		return nil, err
	}
	rep := &Report{Pipeline: opt.Pipeline}
	start := time.Now()
	for i, name := range opt.Pipeline {
		p := Lookup(name)
		if p == nil {
			return nil, fmt.Errorf("unknown pass %q", name)
		}
		if opt.DumpBefore[name] {
			if err := opt.Dumps.dump(i+1, p, true, nil, m); err != nil {
				return nil, err
			}
		}
		changed := false
		var stats []*PassStat
		for _, g := range m.Graphs {
			st := &PassStat{Pass: name, Graph: g.Name, NodesBefore: len(g.Nodes)}
			ctx := &Context{Model: m, Graph: g, Options: opt, pass: name, stat: st}
			t0 := time.Now()
			p.Run(ctx)
			st.Time = time.Since(t0)
			st.NodesAfter = len(g.Nodes)
			rep.Stats = append(rep.Stats, st)
			stats = append(stats, st)
			changed = changed || st.Changed()
			if opt.VerifyEach {
				if err := m.VerifyGraph(g); err != nil {
					return nil, fmt.Errorf("after pass %s: %w", name, err)
				}
			}
		}
		if changed && opt.DumpAfter[name] {
			if err := opt.Dumps.dump(i+1, p, false, stats, m); err != nil {
				return nil, err
			}
		}
	}
	rep.Total = time.Since(start)
	return rep, nil
}

// OpHistogram counts a graph's nodes by op.
func OpHistogram(g *ir.Graph) map[string]int {
	h := map[string]int{}
	for _, n := range g.Nodes {
		h[n.Op]++
	}
	return h
}
