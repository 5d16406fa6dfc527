package check

import (
	"bytes"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// localised checks that the report's first divergence is value (of graph)
// and that every input it names, and every row before it, is clean.
func localised(t *testing.T, rep *Report, graph, value string) {
	t.Helper()
	var buf bytes.Buffer
	rep.WriteText(&buf, false)
	if rep.First < 0 {
		t.Fatalf("the fault went unnoticed:\n%s", buf.String())
	}
	row := rep.Rows[rep.First]
	if row.Graph != graph || row.Value != value {
		t.Fatalf("first divergence %s %%%s, want %s %%%s:\n%s", row.Graph, row.Value, graph, value, buf.String())
	}
	if len(rep.Inputs) == 0 {
		t.Fatalf("no inputs reported:\n%s", buf.String())
	}
	for _, in := range rep.Inputs {
		if in.Diverged {
			t.Fatalf("input %%%s of the first divergent node diverged too:\n%s", in.Value, buf.String())
		}
	}
	for _, r := range rep.Rows[:rep.First] {
		if r.Diverged {
			t.Fatalf("%%%s diverged before the first divergence", r.Value)
		}
	}
	if !strings.Contains(buf.String(), rep.Node.Line) || !strings.Contains(buf.String(), "launch ") {
		t.Fatalf("the report lacks the dump line or the launches:\n%s", buf.String())
	}
	t.Logf("\n%s", buf.String())
}

// A kernel with a wrong constant (SiLU's 1 turned 1.5 in the CPU-shaped
// GEMV's glu epilogue, which only decode steps run on PoCL) is named: the
// first decode step's layer-0 gate/up linear, its input clean.
func TestWrongKernelConstantIsLocalised(t *testing.T) {
	s := compile(t, "qwen2-tiny", nil)
	const good = "if (glu) a = a / (1.0f + exp(-a)) * dot[per + o];"
	rep := s.check(t, func(src string) string {
		if !strings.Contains(src, good) {
			t.Fatalf("the program has no %q to break", good)
		}
		return strings.ReplaceAll(src, good, strings.Replace(good, "1.0f", "1.5f", 1))
	})
	localised(t, rep, "decode", "l0.mlp.gate")
	if rep.Rows[rep.First].Step != 2 {
		t.Fatalf("diverged at step %d, want the first decode step (2)", rep.Rows[rep.First].Step)
	}
}

// A lowering that passes one wrong stride (layer 1's V head stride in the
// decode step's attention launches, one element short) is named: layer 1's
// attention, with its q/k/v linear and the caches so far clean.
func TestWrongStrideIsLocalised(t *testing.T) {
	s := compile(t, "qwen2-tiny", func(low *codegen.Lowered) {
		n := 0
		for gi := range low.Schedule.Graphs {
			g := &low.Schedule.Graphs[gi]
			if g.Name != "decode" {
				continue
			}
			for i := range g.Launches {
				for _, l := range []*schedule.Launch{&g.Launches[i], g.Launches[i].CPU} {
					if l == nil || !strings.HasPrefix(l.Node, "%l1.") || !strings.HasPrefix(low.Schedule.Kernels[l.Kernel], "attention_split") {
						continue
					}
					l.Args[kernels.AttentionSplit.Index("sv0")].Int--
					n++
				}
			}
		}
		if n == 0 {
			t.Fatal("no layer-1 attention_split launch in decode")
		}
	})
	rep := s.check(t, nil)
	localised(t, rep, "decode", rep.Node.Value)
	if got := rep.Rows[rep.First]; got.Op != "attention" || !strings.HasPrefix(got.Value, "l1.") && got.Value != "cache.1.v" {
		t.Fatalf("first divergence %%%s (%s), want layer 1's attention", got.Value, got.Op)
	}
}
