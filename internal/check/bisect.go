package check

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
)

// PassChangeLimit is how far (relative L2) a pass may move the logits on
// ref. ref computes every op in float32 whatever the stored dtype, so a
// correct rewrite changes the logits by float32 rounding alone (sums in
// another order): ~1e-7, far below it.
const PassChangeLimit = 1e-5

// Stage is one pass of a pipeline, as the bisection runs it.
type Stage struct {
	Name string
	Run  func(*ir.Model) error
}

// Bisection is the logits' change after each pass and the first pass that
// moved them past the limit (Bad < 0: none), with its dump diff.
type Bisection struct {
	Passes  []string  `json:"passes"`
	Changes []float64 `json:"changes"`
	Bad     int       `json:"bad"`
	Diff    string    `json:"diff,omitempty"`
}

// Bisect runs m (in place) through stages on ref (rt, loaded from m before
// any stage), the traced steps' logits after each set against those before
// it: the first stage that moves them past limit miscompiled.
func Bisect(m *ir.Model, rt *ref.Runtime, stages []Stage, steps []runner.TraceStep, limit float64) (*Bisection, error) {
	b := &Bisection{Bad: -1}
	before, err := logits(m, rt, steps)
	if err != nil {
		return nil, fmt.Errorf("the graph as imported: %w", err)
	}
	for i, st := range stages {
		var old bytes.Buffer
		if err := ir.Print(&old, m); err != nil {
			return nil, err
		}
		if err := st.Run(m); err != nil {
			return nil, fmt.Errorf("pass %s: %w", st.Name, err)
		}
		after, err := logits(m, rt, steps)
		if err != nil {
			return nil, fmt.Errorf("after pass %s: %w", st.Name, err)
		}
		change := relErr(after, before)
		b.Passes, b.Changes = append(b.Passes, st.Name), append(b.Changes, change)
		if !(change <= limit) && b.Bad < 0 {
			b.Bad = i
			var now bytes.Buffer
			if err := ir.Print(&now, m); err != nil {
				return nil, err
			}
			b.Diff = lineDiff(old.String(), now.String(), 60)
			return b, nil
		}
		before = after
	}
	return b, nil
}

// logits runs the steps on ref from empty caches: every step's logits, one
// after another.
func logits(m *ir.Model, rt *ref.Runtime, steps []runner.TraceStep) ([]float32, error) {
	rt.Reset()
	var out []float32
	for _, st := range steps {
		g := m.Graph(st.Graph)
		if g == nil {
			return nil, fmt.Errorf("no graph %s", st.Graph)
		}
		tokens := make([]int64, len(st.Tokens))
		for i, id := range st.Tokens {
			tokens[i] = int64(id)
		}
		res, err := rt.RunGraph(g, map[string]*ref.Tensor{
			"tokens": ref.Ints(ir.I32, ir.Shape{int64(len(tokens))}, tokens),
			"pos":    ref.Ints(ir.I32, ir.Shape{1}, []int64{int64(st.Pos)}),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res[0].F...)
	}
	return out, nil
}

// WriteText prints the bisection: each pass's change, then the verdict.
func (b *Bisection) WriteText(w io.Writer) {
	for i, p := range b.Passes {
		mark := ""
		if i == b.Bad {
			mark = "  <- first pass past the limit"
		}
		fmt.Fprintf(w, "%-18s logits changed by %.2e%s\n", p, b.Changes[i], mark)
	}
	if b.Bad < 0 {
		fmt.Fprintf(w, "no pass changed the logits by more than %.0e\n", PassChangeLimit)
		return
	}
	fmt.Fprintf(w, "pass %s changed the logits by %.3e (> %.0e): it miscompiles; its dump diff:\n%s", b.Passes[b.Bad], b.Changes[b.Bad], PassChangeLimit, b.Diff)
}

// lineDiff is a unified-style diff of two dumps (- before, + after), at
// most max changed lines: a longest common subsequence over the lines
// between their common prefix and suffix.
func lineDiff(a, b string, maxLines int) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	x, y = x[pre:len(x)-suf], y[pre:len(y)-suf]
	if len(x)*len(y) > 16<<20 {
		return fmt.Sprintf("(%d lines replaced by %d from line %d: too long to diff)\n", len(x), len(y), pre+1)
	}
	// lcs[i][j]: the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int32, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	n := 0
	emit := func(sign byte, line string) {
		if n < maxLines {
			fmt.Fprintf(&out, "%c %s\n", sign, line)
		}
		n++
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			emit('-', x[i])
			i++
		default:
			emit('+', y[j])
			j++
		}
	}
	if n > maxLines {
		fmt.Fprintf(&out, "... and %d more changed lines\n", n-maxLines)
	}
	return out.String()
}
