package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/bench"
	"github.com/irc-compiler/irc/codegen/backend"
)

// The acceptance run: irc bench on the bundled example (the tiny Qwen2 as
// scripts/example.sh imports it) on PoCL, positions up to 64, repeat 3,
// both executors, writes a result that satisfies the schema and a chart
// that decodes.
func TestBenchExample(t *testing.T) {
	root := t.TempDir()
	if _, errOut, code := irc(t, "testmodel", "-o", root, "--preset", "qwen2-tiny"); code != 0 {
		t.Fatal(errOut)
	}
	irpb := filepath.Join(root, "qwen2-tiny.irpb")
	if _, errOut, code := irc(t, "import", filepath.Join(root, "qwen2-tiny"), "-o", irpb); code != 0 {
		t.Fatal(errOut)
	}
	js, chart, kept := filepath.Join(root, "r.json"), filepath.Join(root, "r.png"), filepath.Join(root, "kept")
	out, errOut, code := irc(t, "bench", irpb, "--target", "opencl", "--max-position", "64", "--repeat", "3", "--executor", "both", "--json", js, "--chart", chart, "--keep", kept)
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	for _, want := range []string{"| Position | Executor TPS | Executor Step (ms) | GB/s | Floor | DAG TPS | DAG Step (ms) | DAG Floor | Ratio |", "| 64 ", "DAG/whole TPS ratio"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"== whole executor", "== dag executor", "runner: Qwen2ForCausalLM on", "position 64 (7/7): whole", "round 2 of 3 done"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	data, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.Validate(data); err != nil {
		t.Fatalf("%s against bench/schema.json: %v", js, err)
	}
	r, err := bench.Read(js)
	if err != nil {
		t.Fatal(err)
	}
	var positions []int64
	for _, p := range r.Positions {
		positions = append(positions, p.Position)
	}
	if !slices.Equal(positions, []int64{1, 2, 4, 8, 16, 32, 64}) || r.DAG == nil || r.Repeat != 3 || r.Target != "opencl" || r.Executor != "whole" {
		t.Fatalf("result: positions %v, dag %v, repeat %d", positions, r.DAG != nil, r.Repeat)
	}
	// One partition whole; --partition layer gives embedding, 2 layers, head.
	if r.Partitions != 1 || r.DAG.Partitions != 4 || r.CompileMs <= 0 || r.LoadMs <= 0 || r.TTFTMs <= 0 || r.CopyBandwidthGBs <= 0 || r.PrefillTokens != 128 {
		t.Errorf("result %+v, dag %+v", r.Run, r.DAG)
	}
	for i, p := range r.Positions {
		if p.DAGRatio <= 0 || p.Steps < 1 || p.ReadBytes <= r.WeightBytes || (i > 0 && p.ReadBytes <= r.Positions[i-1].ReadBytes) {
			t.Errorf("position %+v", p)
		}
		// The floor: every byte the step moves (more than it reads) at
		// the measured copy bandwidth, over the step's time.
		d := r.DAG.Positions[i]
		if p.FloorBytes <= p.ReadBytes || p.FloorMs <= 0 || p.FloorFraction != p.FloorMs/p.StepMsMedian ||
			d.FloorBytes != p.FloorBytes || d.FloorFraction != d.FloorMs/d.StepMsMedian {
			t.Errorf("position %d: floor %d bytes, %g ms, %g of the step (dag %+v)", p.Position, p.FloorBytes, p.FloorMs, p.FloorFraction, d)
		}
	}
	img, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("%s: %v", chart, err)
	}

	// The kept runners measure again without compiling (as on a machine
	// without Go), reporting the compile time of their build; --build-only
	// builds without measuring.
	if _, errOut, code := irc(t, "bench", irpb, "--keep", filepath.Join(root, "built"), "--build-only", "--executor", "whole"); code != 0 || !strings.Contains(errOut, "built the bench runner (whole) in") {
		t.Errorf("--build-only: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "built", "runner")); err != nil {
		t.Error(err)
	}
	again := filepath.Join(root, "again.json")
	if _, errOut, code := irc(t, "bench", "--runners", kept, "--positions", "1,2", "--repeat", "1", "--json", again, "--weights", root); code != 0 {
		t.Fatalf("--runners: %s", errOut)
	}
	if r2, err := bench.Read(again); err != nil || r2.Executor != "whole" || r2.DAG == nil || r2.DAG.CompileMs != r.DAG.CompileMs || len(r2.Positions) != 2 || r2.DAG.Partitions != 4 {
		t.Errorf("--runners result %+v, %v", r2, err)
	}

	// compare: the run against itself is a speed-up of exactly 1.
	cmp := filepath.Join(root, "cmp.png")
	out, errOut, code = irc(t, "bench", "compare", js, js, "--chart", cmp, "--labels", "before,after")
	if code != 0 || !strings.Contains(out, "| Position | before TPS |") || !strings.Contains(out, "| 1.00x   |") {
		t.Errorf("compare: %s %s", out, errOut)
	}
	if img, err := os.ReadFile(cmp); err != nil {
		t.Error(err)
	} else if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Errorf("%s: %v", cmp, err)
	}
}

// The reference runtime is measured in-process by the same session code.
func TestBenchRef(t *testing.T) {
	_, irpb := tinyModel(t, "llama-mha-odd")
	js := filepath.Join(t.TempDir(), "ref.json")
	out, errOut, code := irc(t, "bench", irpb, "--target", "ref", "--positions", "0,5", "--repeat", "2", "--min-time", "0", "--executor", "dag", "--json", js)
	if code != 0 {
		t.Fatalf("bench: %s", errOut)
	}
	r, err := bench.Read(js)
	if err != nil {
		t.Fatal(err)
	}
	if r.Device != "reference CPU runtime" || r.Executor != "dag" || r.DAG != nil || r.Partitions < 2 || len(r.Positions) != 2 || r.Positions[1].Steps != 1 {
		t.Errorf("result %+v", r)
	}
	if !strings.Contains(out, "| Position | DAG TPS | DAG Step (ms) | GB/s |") {
		t.Errorf("table:\n%s", out)
	}
}

func TestBenchErrors(t *testing.T) {
	_, irpb := tinyModel(t, "llama-tiny")
	a := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(a, []byte(`{"schema": "irc-bench/1"}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", irpb, "--target", "nosuch"}, `unknown --target "nosuch" (available: ref, ` + backend.List() + `)`},
		{[]string{"bench", irpb, "--target", "tpu"}, `unknown --target "tpu"`},
		{[]string{"bench", irpb, "--executor", "pipeline"}, `unknown --executor "pipeline"`},
		{[]string{"bench", irpb, "--chart", "c.svg"}, "name it .png"},
		{[]string{"bench", irpb, "--repeat", "0"}, "--repeat 0"},
		{[]string{"bench", irpb, "--target", "ref", "--positions", "300"}, "300 is past the last position measured, 252"},
		{[]string{"bench", irpb, "--target", "ref", "--max-position", "256"}, "--max-position 256: want a cache position in 0..255"},
		{[]string{"bench", "compare", a, a}, a + ": not an irc bench result"},
		{[]string{"bench", irpb, "--positions", "1,x"}, `"x" is not a position`},
		{[]string{"bench"}, "give the MODEL to measure (or --runners DIR)"},
		{[]string{"bench", irpb, "--runners", "r"}, "--runners measures the runner in r: give no MODEL"},
		{[]string{"bench", "--runners", "r", "--executor", "dag"}, "--runners measures the executors its runner was built with"},
		{[]string{"bench", "--runners", "r", "--keep", "k"}, "--keep and --runners: give one"},
		{[]string{"bench", irpb, "--build-only"}, "--build-only builds the runner into --keep DIR"},
		{[]string{"bench", "--runners", filepath.Dir(a)}, "--runners wants the folder irc bench --keep wrote"},
		{[]string{"bench", "compare", a}, "accepts 2 arg(s)"},
	} {
		_, errOut, code := irc(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
