package hfref

import (
	"math"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
)

// Causality: appending tokens never changes the logits of earlier positions;
// and the logits are finite and not constant (the oracle is not vacuous).
func TestCausalAndNonDegenerate(t *testing.T) {
	for _, p := range testmodel.Presets() {
		dir := t.TempDir()
		if err := testmodel.Write(dir, p, 5); err != nil {
			t.Fatal(err)
		}
		short, err := Forward(dir, []int{3, 1, 4})
		if err != nil {
			t.Fatal(err)
		}
		long, err := Forward(dir, []int{3, 1, 4, 1, 5, 9})
		if err != nil {
			t.Fatal(err)
		}
		for i := range short {
			lo, hi := math.Inf(1), math.Inf(-1)
			for j, v := range short[i] {
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v-long[i][j]) > 1e-12 {
					t.Fatalf("%s: row %d col %d: %v vs %v", p.Name, i, j, v, long[i][j])
				}
				lo, hi = min(lo, v), max(hi, v)
			}
			if hi-lo < 1e-3 {
				t.Fatalf("%s: row %d is constant", p.Name, i)
			}
		}
	}
}
