package passes

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// A linear the importer wrote itself (its weight quantized: no primitive
// form reads blocks) takes the residual add as its epilogue, and merges
// with its siblings into one linear over a packed concat of the quantized
// weights; a linear of float weights is left to the matmul pattern.
func TestQuantizedLinearsFuse(t *testing.T) {
	m, err := ir.Parse("q", `irc v1
weight @wg : q8_0[64,64] = "q.safetensors" "wg"
weight @wu : q8_0[64,64] = "q.safetensors" "wu"
weight @wo : q4_0[64,64] = "q.safetensors" "wo"
graph g(%x: bf16[2,64]) {
  %g = linear(%x, @wg) : bf16[2,64]
  %u = linear(%x, @wu) : bf16[2,64]
  %h = silu_mul(%g, %u) : bf16[2,64]
  %o = linear(%h, @wo) : bf16[2,64]
  %r = add(%x, %o) : bf16[2,64]
  return %r
}`)
	if err != nil {
		t.Fatal(err)
	}
	compile(t, m, Options{Pipeline: defaultPipeline(t)})
	text := m.String()
	for _, want := range []string{
		"concat(@wg, @wu) {axis=0,",
		": q8_0[128,64]",
		"{glu=1",
		"linear(%h, @wo, %x) {residual=1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("fused graph lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "= add(") || strings.Contains(text, "silu_mul(") {
		t.Errorf("an add or silu_mul is left:\n%s", text)
	}
}
