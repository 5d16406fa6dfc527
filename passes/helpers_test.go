package passes

import (
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// compile runs a pipeline with the verifier after every pass, as tests always do.
func compile(t testing.TB, m *ir.Model, opt Options) *Report {
	t.Helper()
	opt.VerifyEach = true
	if opt.Target == "" {
		opt.Target = "ref"
	}
	rep, err := Run(m, &opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// defaultPipeline is the ref target's pipeline.
func defaultPipeline(t testing.TB) []string {
	t.Helper()
	p, err := DefaultPipeline("ref")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// histogram counts a graph's nodes by op.
func histogram(g *ir.Graph) map[string]int {
	h := map[string]int{}
	for _, n := range g.Nodes {
		h[n.Op]++
	}
	return h
}
