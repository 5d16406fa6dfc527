package hf

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// Every shipped real-model config imports (weights declared from the config)
// and verifies; the graphs have one block of primitive ops per layer.
func TestImportRealConfigs(t *testing.T) {
	dirs, _ := filepath.Glob("../../models/*/config.json")
	if len(dirs) < 8 {
		t.Fatalf("found %d shipped configs, want 8", len(dirs))
	}
	for _, cfg := range dirs {
		dir := filepath.Dir(cfg)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, hasWeights, err := Import(dir, Options{})
			if err != nil && strings.Contains(err.Error(), "this process can allocate") {
				// Import refuses a model that does not fit in memory here
				// (Llama 3.1 8B needs ~17 GiB).
				t.Skip(err)
			}
			if err != nil || hasWeights {
				t.Fatalf("import: %v (weights: %v)", err, hasWeights)
			}
			text := m.String()
			for l := range m.Meta.NumLayers {
				if !strings.Contains(text, "%l"+itoa(l)+".attn.rsqrt = rsqrt(") {
					t.Fatalf("layer %d has no primitive RMSNorm", l)
				}
			}
			for _, op := range []string{"rms_norm", "silu_mul", "masked_softmax"} {
				if strings.Contains(text, " = "+op+"(") {
					t.Fatalf("imported graph is pre-fused (%s)", op)
				}
			}
		})
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// BenchmarkImportQwen25_1_5B measures import (config to verified model) plus
// writing the .irpb for Qwen2.5-1.5B with a 32K cache; the acceptance bar is
// well under a second.
func BenchmarkImportQwen25_1_5B(b *testing.B) {
	out := filepath.Join(b.TempDir(), "m.irpb")
	for b.Loop() {
		m, _, err := Import("../../models/qwen2.5-1.5b-instruct", Options{MaxCacheLen: 32768})
		if err != nil {
			b.Fatal(err)
		}
		if err := ir.WriteFile(out, m); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := os.Stat(out)
	b.ReportMetric(float64(st.Size()), "irpb-bytes")
}
