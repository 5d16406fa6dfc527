package passes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// FuzzPipeline runs the whole default pipeline, verifier after every pass,
// over any text that parses as a model: a pass may decline whatever it
// meets but must never panic or leave an invalid graph. The seeds are the
// golden inputs.
func FuzzPipeline(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.ir"))
	for _, in := range inputs {
		if strings.HasSuffix(in, ".want.ir") {
			continue
		}
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), int8(1))
	}
	f.Fuzz(func(t *testing.T, src string, gpuLayers int8) {
		m, err := ir.Parse("fuzz.ir", src)
		if err != nil {
			return
		}
		pipeline, _ := DefaultPipeline("ref")
		opt := &Options{Pipeline: pipeline, Target: "ref", VerifyEach: true, GPULayers: int(gpuLayers), Partition: "layer"}
		if _, err := Run(m, opt); err != nil {
			t.Fatalf("pipeline broke a valid model: %v\n%s", err, src)
		}
	})
}
