package passes

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the passes' output")

// Each testdata/PASS[.variant].ir is run through PASS alone; the result,
// with the explain lines as comments, must equal testdata/PASS[.variant].want.ir
// byte for byte and read back as a model.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.ir"))
	if err != nil {
		t.Fatal(err)
	}
	var ran int
	for _, in := range inputs {
		if strings.HasSuffix(in, ".want.ir") {
			continue
		}
		base := strings.TrimSuffix(filepath.Base(in), ".ir")
		pass, _, _ := strings.Cut(base, ".")
		t.Run(base, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ir.Parse(in, string(src))
			if err != nil {
				t.Fatal(err)
			}
			before, err := ir.Parse(in, string(src))
			if err != nil {
				t.Fatal(err)
			}
			var explain strings.Builder
			compile(t, m, Options{Pipeline: []string{pass}, GPULayers: goldenGPULayers(base), Partition: goldenPartition(base),
				Explain: map[string]bool{pass: true}, Log: &explain})
			var got strings.Builder
			for _, line := range strings.Split(strings.TrimSpace(explain.String()), "\n") {
				if line != "" {
					got.WriteString("# " + line + "\n")
				}
			}
			got.WriteString(m.String())
			want := strings.TrimSuffix(in, ".ir") + ".want.ir"
			if *update {
				if err := os.WriteFile(want, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test ./passes -run Golden -update to create it)", err)
			}
			if string(data) != got.String() {
				t.Errorf("%s: output differs from %s:\n%s", in, want, got.String())
			}
			if _, err := ir.Parse(want, string(data)); err != nil {
				t.Errorf("%s does not read back: %v", want, err)
			}
			sameOutputs(t, in, before, m, 1, 3)
		})
		ran++
	}
	if ran < len(table) {
		t.Errorf("golden inputs for %d passes, want one per pass (%d)", ran, len(table))
	}
	for _, p := range table {
		if _, err := os.Stat(filepath.Join("testdata", p.Name+".ir")); err != nil {
			t.Errorf("pass %s has no golden input testdata/%s.ir", p.Name, p.Name)
		}
	}
}

// goldenGPULayers and goldenPartition read the partition variant from the
// file name: partition.gpu1.ir, partition.layer.ir.
func goldenGPULayers(base string) int {
	if strings.Contains(base, ".gpu1") {
		return 1
	}
	return -1
}

func goldenPartition(base string) string {
	if strings.Contains(base, ".layer") {
		return "layer"
	}
	return "whole"
}
