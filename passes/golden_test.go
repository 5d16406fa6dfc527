package passes

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/ref"
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
			sameOutputs(t, before, m)
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

// sameOutputs runs every graph of before and after on the same random inputs
// (integers in [0, 3): valid token ids, positions and cache slots in the
// golden inputs) and random weights, and fails unless the outputs agree to
// relative 1e-5.
func sameOutputs(t *testing.T, before, after *ir.Model) {
	t.Helper()
	rb, err := ref.New(before, ref.RandomWeights{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := ref.New(after, ref.RandomWeights{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range before.Graphs {
		inputs := map[string]*ref.Tensor{}
		for _, v := range g.Inputs {
			x := ref.NewTensor(v.Type)
			for i := range x.F {
				x.F[i] = float32(rng.NormFloat64())
			}
			for i := range x.I {
				x.I[i] = rng.Int64N(3)
			}
			inputs[v.Name] = x
		}
		want, err := rb.RunGraph(g, inputs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ra.RunGraph(after.Graph(g.Name), inputs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			for j := range want[i].F {
				w, g := float64(want[i].F[j]), float64(got[i].F[j])
				if math.Abs(w-g) > 1e-5*max(1, math.Abs(w)) {
					t.Fatalf("output %d element %d: %g after the pass, %g before", i, j, g, w)
				}
			}
			for j := range want[i].I {
				if want[i].I[j] != got[i].I[j] {
					t.Fatalf("output %d element %d: %d after the pass, %d before", i, j, got[i].I[j], want[i].I[j])
				}
			}
		}
	}
}
