package check

import (
	"bytes"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/weights"
)

// stages are a target's default pipeline, one pass per stage, with extra
// inserted before the pass named at.
func stages(t *testing.T, at string, extra *Stage) []Stage {
	pipe, err := passes.DefaultPipeline("ref")
	if err != nil {
		t.Fatal(err)
	}
	var out []Stage
	for _, name := range pipe {
		if name == at && extra != nil {
			out = append(out, *extra)
		}
		out = append(out, Stage{Name: name, Run: func(m *ir.Model) error {
			_, err := passes.Run(m, &passes.Options{Pipeline: []string{name}, Target: "ref", Partition: "whole", GPULayers: -1, VerifyEach: true})
			return err
		}})
	}
	return out
}

// offByOneSlice is a miscompiling pass: the first slice whose window can
// move (rotate_half's first half) starts and ends one element later.
func offByOneSlice(m *ir.Model) error {
	for _, g := range m.Graphs {
		for _, n := range g.Nodes {
			if n.Op != "slice" || n.Attrs.Int("step", 1) != 1 || n.Attrs.Int("end", 0) >= n.Inputs[0].Type.Shape[len(n.Inputs[0].Type.Shape)-1] {
				continue
			}
			n.Attrs["start"] = n.Attrs.Int("start", 0) + 1
			n.Attrs["end"] = n.Attrs.Int("end", 0) + 1
			break
		}
	}
	return nil
}

func bisect(t *testing.T, extra *Stage) *Bisection {
	t.Helper()
	m, dir := importPreset(t, "qwen2-tiny")
	files := weights.Open(dir)
	defer files.Close()
	rt, err := ref.New(m, files)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := runner.TraceSteps(prompt, decodeSteps, 16, m.Meta.VocabSize, m.Meta.MaxCacheLen)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bisect(m, rt, stages(t, "rope", extra), steps, PassChangeLimit)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The default pipeline moves ref's logits by float32 rounding alone.
func TestBisectCorrectPipeline(t *testing.T) {
	b := bisect(t, nil)
	var buf bytes.Buffer
	b.WriteText(&buf)
	if b.Bad >= 0 {
		t.Fatalf("a correct pipeline was blamed:\n%s", buf.String())
	}
	t.Logf("\n%s", buf.String())
}

// A pass that slices one off is named, with its dump diff showing the
// slice it moved; the passes before it are clean.
func TestBisectNamesOffByOnePass(t *testing.T) {
	b := bisect(t, &Stage{Name: "off_by_one_slice", Run: offByOneSlice})
	var buf bytes.Buffer
	b.WriteText(&buf)
	if b.Bad < 0 || b.Passes[b.Bad] != "off_by_one_slice" {
		t.Fatalf("the faulty pass was not named:\n%s", buf.String())
	}
	if !strings.Contains(b.Diff, "- ") || !strings.Contains(b.Diff, "+ ") || !strings.Contains(b.Diff, "slice(") {
		t.Fatalf("the diff does not show the slice:\n%s", b.Diff)
	}
	t.Logf("\n%s", buf.String())
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc\nd\n", "a\nx\nc\nd\ne\n", 10)
	if want := "- b\n+ x\n+ e\n"; got != want {
		t.Fatalf("diff %q, want %q", got, want)
	}
}
