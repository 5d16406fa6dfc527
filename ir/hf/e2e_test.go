package hf_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/internal/hfref"
	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/weights"
)

// relL2 is ||a-b|| / ||b|| over the whole [T, vocab] array.
func relL2(a [][]float32, b [][]float64) float64 {
	return numcheck.RelL2(slices.Concat(a[:len(b)]...), slices.Concat(b...))
}

// Every tiny checkpoint, imported and run on the ref runtime (prefill in
// one chunk, and in chunks of 4 with a padded last chunk, then decode with
// the KV cache), matches the independent float64 implementation of the HF
// model within relative L2 1e-4, and generates its argmax ids.
func TestRefMatchesFloat64HuggingFace(t *testing.T) {
	prompt := []int64{1, 17, 42, 5, 9, 33, 8, 64, 3}
	const generate = 6
	for _, p := range testmodel.Presets() {
		for _, prefill := range []int64{0, 4} {
			t.Run(fmt.Sprintf("%s/prefill=%d", p.Name, prefill), func(t *testing.T) {
				dir := t.TempDir()
				if err := testmodel.Write(dir, p, 11); err != nil {
					t.Fatal(err)
				}
				m, hasWeights, err := hf.Import(dir, hf.Options{PrefillLen: prefill})
				if err != nil || !hasWeights {
					t.Fatalf("import: %v (weights found: %v)", err, hasWeights)
				}
				files := weights.Open(dir)
				defer files.Close()
				rt, err := ref.New(m, files)
				if err != nil {
					t.Fatal(err)
				}
				gen, err := rt.Generate(prompt, generate)
				if err != nil {
					t.Fatal(err)
				}
				seq := make([]int, 0, len(prompt)+generate)
				for _, id := range prompt {
					seq = append(seq, int(id))
				}
				for _, id := range gen.IDs[:generate-1] {
					seq = append(seq, int(id))
				}
				want, err := hfref.Forward(dir, seq)
				if err != nil {
					t.Fatal(err)
				}
				if len(gen.Logits) != len(want) {
					t.Fatalf("%d logit rows, want %d", len(gen.Logits), len(want))
				}
				if e := relL2(gen.Logits, want); e > 1e-4 {
					t.Fatalf("relative L2 error %g > 1e-4", e)
				} else {
					t.Logf("prefill %d: relative L2 error %.2g", m.Meta.PrefillLen, e)
				}
				for i, id := range gen.IDs {
					if w := ref.Argmax(want[len(prompt)-1+i]); id != w {
						t.Fatalf("generated id %d is %d, the float64 model's argmax is %d", i, id, w)
					}
				}
			})
		}
	}
}
