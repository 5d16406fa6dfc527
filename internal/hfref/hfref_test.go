package hfref

import (
	"math"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
)

func writePreset(t *testing.T, p testmodel.Preset, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	if err := testmodel.Write(dir, p, seed); err != nil {
		t.Fatal(err)
	}
	return dir
}

var sequence = []int{1, 17, 42, 5, 9, 33, 8, 64, 3, 11, 2, 7, 90, 4}

// On every preset the logits are finite and informative: no row is flat,
// and the rows differ from each other (the model is not ignoring context).
func TestPresetsGiveFiniteVariedLogits(t *testing.T) {
	for _, p := range testmodel.Presets() {
		logits, err := Forward(writePreset(t, p, 5), sequence)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if len(logits) != len(sequence) {
			t.Fatalf("%s: %d rows for %d tokens", p.Name, len(logits), len(sequence))
		}
		argmaxes := map[int]bool{}
		for r, row := range logits {
			if len(row) != p.Vocab {
				t.Fatalf("%s: row %d has %d logits, want %d", p.Name, r, len(row), p.Vocab)
			}
			lo, hi, best := math.Inf(1), math.Inf(-1), 0
			for j, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: logit [%d][%d] = %v", p.Name, r, j, v)
				}
				lo, hi = min(lo, v), max(hi, v)
				if v > row[best] {
					best = j
				}
			}
			if hi-lo < 1 || hi-lo > 100 {
				t.Errorf("%s: row %d spans %.3g, want an O(1..10) spread", p.Name, r, hi-lo)
			}
			argmaxes[best] = true
		}
		if len(argmaxes) < 3 {
			t.Errorf("%s: only %d distinct argmaxes over %d positions", p.Name, len(argmaxes), len(sequence))
		}
	}
}

// Causality: appending tokens leaves the logits of the prefix unchanged.
func TestPrefixLogitsIgnoreLaterTokens(t *testing.T) {
	for _, p := range testmodel.Presets() {
		dir := writePreset(t, p, 5)
		short, err := Forward(dir, sequence[:5])
		if err != nil {
			t.Fatal(err)
		}
		long, err := Forward(dir, append(append([]int(nil), sequence[:5]...), 60, 61, 62))
		if err != nil {
			t.Fatal(err)
		}
		for i := range short {
			for j := range short[i] {
				if math.Abs(short[i][j]-long[i][j]) > 1e-12 {
					t.Fatalf("%s: logit [%d][%d] %v becomes %v when tokens are appended", p.Name, i, j, short[i][j], long[i][j])
				}
			}
		}
	}
}

// The last row depends on earlier tokens (attention is not a no-op).
func TestContextMatters(t *testing.T) {
	for _, p := range testmodel.Presets() {
		dir := writePreset(t, p, 5)
		a, err := Forward(dir, []int{3, 4, 5})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Forward(dir, []int{30, 40, 5})
		if err != nil {
			t.Fatal(err)
		}
		var diff float64
		for j := range a[2] {
			diff = max(diff, math.Abs(a[2][j]-b[2][j]))
		}
		if diff < 1e-3 {
			t.Errorf("%s: the last token's logits ignore the context (max change %g)", p.Name, diff)
		}
	}
}
