package bench

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"github.com/irc-compiler/irc/runtime/runner"
)

// sample is a plausible two-executor result over positions 1..max (log2
// and max), with random step times around base ms.
func sample(seed uint64, base float64, max int64) *Result {
	rng := rand.New(rand.NewPCG(seed, 1))
	rep := func() *runner.Report {
		r := &runner.Report{Model: "Tiny", Device: "dev", Partitions: 1, LoadMs: 12, PrefillTokens: 128, MaxCacheLen: 256, Repeat: 3, WeightBytes: 1 << 20, TTFTMs: 10 * base}
		for p := int64(1); ; p *= 2 {
			p = min(p, max)
			ms := base * (1 + 0.1*rng.Float64()) * (1 + float64(p)/float64(max))
			r.Positions = append(r.Positions, runner.Step{Position: p, StepMsMedian: ms, StepMsStd: 0.05 * ms, TPS: 1e3 / ms, Steps: 20, ReadBytes: 1 << 20, GBs: 1})
			if p == max {
				return r
			}
		}
	}
	whole := rep()
	res := &Result{Format: Format, Model: whole.Model, Target: "opencl", Device: whole.Device, Executor: "whole",
		CopyBandwidthGBs: 30, PrefillTokens: 128, MaxCacheLen: 256, Repeat: 3, MinTimeMs: 20, WeightBytes: 1 << 20,
		Run: FromReport(whole, 30), Date: "2026-11-23T10:00:00Z"}
	dag := rep()
	dag.Partitions = 4
	if err := res.SetDAG(FromReport(dag, 31)); err != nil {
		panic(err)
	}
	return res
}

func TestResultRoundTrip(t *testing.T) {
	r := sample(1, 0.8, 200)
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Positions) != 9 || got.Positions[8].Position != 200 || got.DAG == nil || got.DAG.Partitions != 4 {
		t.Fatalf("read back %+v", got)
	}
	for i, p := range got.Positions {
		if want := p.StepMsMedian / got.DAG.Positions[i].StepMsMedian; p.DAGRatio != want {
			t.Errorf("position %d: ratio %g, want %g", p.Position, p.DAGRatio, want)
		}
	}
}

func TestSetDAGNeedsTheSamePositions(t *testing.T) {
	r := sample(1, 1, 64)
	other := sample(2, 1, 32)
	if err := r.SetDAG(other.Run); err == nil || !strings.Contains(err.Error(), "the DAG run measured 6 positions, the whole run 7") {
		t.Errorf("got %v", err)
	}
	other = sample(2, 1, 64)
	other.Positions[3].Position = 9
	if err := r.SetDAG(other.Run); err == nil || !strings.Contains(err.Error(), "position 3 of the DAG run is 9, of the whole run 8") {
		t.Errorf("got %v", err)
	}
}

// Files that break the schema fail with the field at fault.
func TestValidateRejects(t *testing.T) {
	good, err := json.Marshal(sample(1, 1, 64))
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(good); err != nil {
		t.Fatalf("a good result: %v", err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte("{"), "not JSON"},
		{"no positions", edit(func(m map[string]any) { delete(m, "positions") }), "positions"},
		{"wrong schema", edit(func(m map[string]any) { m["schema"] = "irc-bench/0" }), "schema"},
		{"bad executor", edit(func(m map[string]any) { m["executor"] = "pipeline" }), "executor"},
		{"unknown field", edit(func(m map[string]any) { m["tokens_per_joule"] = 3 }), "tokens_per_joule"},
		{"negative time", edit(func(m map[string]any) {
			m["positions"].([]any)[2].(map[string]any)["step_ms_median"] = -1.0
		}), "/positions/2/step_ms_median"},
		{"fractional position", edit(func(m map[string]any) {
			m["dag"].(map[string]any)["positions"].([]any)[0].(map[string]any)["position"] = 1.5
		}), "/dag/positions/0/position"},
		{"bad date", edit(func(m map[string]any) { m["date"] = "yesterday" }), "date"},
	} {
		err := Validate(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"schema": "irc-bench/1"}`), 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Read names the file: %v", err)
	}
}

func FuzzValidate(f *testing.F) {
	good, _ := json.Marshal(sample(1, 1, 8))
	f.Add(good)
	f.Add([]byte(`{"schema": "irc-bench/1", "positions": []}`))
	f.Add([]byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if Validate(data) != nil {
			return
		}
		// Whatever the schema accepts decodes into a Result with at
		// least one position.
		var r Result
		if err := json.Unmarshal(data, &r); err != nil || len(r.Positions) == 0 {
			t.Fatalf("valid per the schema but %v, %d positions", err, len(r.Positions))
		}
	})
}

// withFloor gives r's positions their fraction of the floor, as a run
// that measured the copy bandwidth has.
func withFloor(r *Result) *Result {
	for _, run := range []*Run{&r.Run, r.DAG} {
		if run == nil {
			continue
		}
		for i := range run.Positions {
			p := &run.Positions[i]
			p.FloorBytes = p.ReadBytes + 4096
			p.FloorMs = float64(p.FloorBytes) / (r.CopyBandwidthGBs * 1e6)
			p.FloorFraction = p.FloorMs / p.StepMsMedian
		}
	}
	return r
}

// A result with the floor fractions shows them beside each executor's step
// time, draws them in a panel of their own, and round-trips the schema.
func TestFloorFraction(t *testing.T) {
	r := withFloor(sample(5, 0.02, 64))
	var b strings.Builder
	WriteTable(&b, r)
	out := b.String()
	f := r.Positions[0].FloorFraction
	if !strings.Contains(out, "| Position | Executor TPS | Executor Step (ms) | GB/s | Floor | DAG TPS | DAG Step (ms) | DAG Floor | Ratio |") ||
		!strings.Contains(out, " | "+percent(f)+" ") || percent(f) == "-" {
		t.Errorf("table with floors (%g at position 1):\n%s", f, out)
	}
	if percent(0) != "-" || percent(0.053) != "5.3%" || percent(0.853) != "85%" {
		t.Errorf("percent: %s %s %s", percent(0), percent(0.053), percent(0.853))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := r.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || got.Positions[0].FloorFraction != f || got.DAG.Positions[0].FloorMs != r.DAG.Positions[0].FloorMs || !got.HasFloor() {
		t.Fatalf("read back %v: %+v", err, got.Positions[0])
	}
	chart := filepath.Join(dir, "floor.png")
	if err := Chart(r, chart); err != nil {
		t.Fatal(err)
	}
	if img := decode(t, chart); img.Bounds().Dy() != 1408 || !has(img, blue) || !has(img, orange) {
		t.Errorf("a chart with floors has four panels: %v", img.Bounds())
	}
	if sample(1, 0.8, 64).HasFloor() {
		t.Error("a result without floors has them")
	}
}

func TestTables(t *testing.T) {
	r := sample(1, 0.8, 64)
	var b strings.Builder
	WriteTable(&b, r)
	out := b.String()
	for _, want := range []string{"| Position | Executor TPS | Executor Step (ms) | GB/s | DAG TPS | DAG Step (ms) | Ratio |",
		"| 64       |", "| Partitions              | 1", "| Compile time            | 0.030 s", "TTFT (128-token prompt)", "DAG/whole TPS ratio", "Copy bandwidth          | 30.0 GB/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	fast := sample(2, 0.2, 32)
	b.Reset()
	WriteCompareTable(&b, r, fast, "pocl", "gpu")
	out = b.String()
	// 32 is the last position both measured.
	if !strings.Contains(out, "| Position | pocl TPS | pocl Step (ms) | gpu TPS | gpu Step (ms) | Speedup |") || !strings.Contains(out, "\n| 32 ") || strings.Contains(out, "\n| 64 ") {
		t.Errorf("compare table:\n%s", out)
	}
	sp := Speedups(r, fast)
	if len(sp) != 6 || sp[5].Position != 32 || sp[5].Speedup != sp[5].A.StepMsMedian/sp[5].B.StepMsMedian || sp[5].Speedup < 2 {
		t.Errorf("speedups %+v", sp)
	}
}

// tickLabels joins the labelled ticks' labels.
func tickLabels(ticks []plot.Tick) string {
	var out []string
	for _, tk := range ticks {
		if tk.Label != "" {
			out = append(out, tk.Label)
		}
	}
	return strings.Join(out, " ")
}

func TestLog2Ticks(t *testing.T) {
	labels := func(lo, hi float64) string { return tickLabels(log2Ticks(lo, hi)) }
	if got := labels(1, 64); got != "1 2 4 8 16 32 64" {
		t.Errorf("1..64: %s", got)
	}
	if got := labels(1, 32640); got != "1 4 16 64 256 1K 4K 16K" {
		t.Errorf("1..32640: %s", got)
	}
	if got := labels(0, 8); got != "0 1 2 4 8" {
		t.Errorf("0..8: %s", got)
	}
	// Position 0 sits where 1/2 would on the log2 axis.
	s := log2Scale{}
	if a, b := s.Normalize(0, 8, 0), s.Normalize(0, 8, 1); a != 0 || b != 0.25 {
		t.Errorf("normalize 0 -> %g, 1 -> %g", a, b)
	}
}

func TestLinearTicks(t *testing.T) {
	labels := func(lo, hi float64) string { return tickLabels(linearTicks(lo, hi)) }
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 2624, "0 500 1000 1500 2000 2500"},
		{0.92, 1.14, "0.95 1.00 1.05 1.10"},
		{0, 0.75, "0.0 0.2 0.4 0.6"},
		{1, 1, "1"},
	} {
		if got := labels(tc.lo, tc.hi); got != tc.want {
			t.Errorf("%g..%g: %s, want %s", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// Charts decode as PNGs of the right size with every series drawn.
func TestCharts(t *testing.T) {
	dir := t.TempDir()
	r := sample(1, 0.8, 32640)
	one := filepath.Join(dir, "one.png")
	if err := Chart(r, one); err != nil {
		t.Fatal(err)
	}
	img := decode(t, one)
	if b := img.Bounds(); b.Dx() != 990 || b.Dy() != 1056 { // 9 in x 3 panels of 3.2 in, at 110 dpi
		t.Errorf("chart is %v", b)
	}
	if !has(img, blue) || !has(img, orange) {
		t.Error("chart lacks the whole (blue) or DAG (orange) series")
	}
	whole := sample(3, 0.8, 64)
	whole.DAG = nil
	two := filepath.Join(dir, "two.png")
	if err := Chart(whole, two); err != nil {
		t.Fatal(err)
	}
	if img := decode(t, two); img.Bounds().Dy() != 704 || has(img, orange) {
		t.Errorf("a whole-only chart has two panels and no DAG series: %v", img.Bounds())
	}
	cmp := filepath.Join(dir, "cmp.png")
	if err := CompareChart(r, sample(4, 0.1, 1024), "pocl", "gpu", cmp); err != nil {
		t.Fatal(err)
	}
	if img := decode(t, cmp); img.Bounds().Dy() != 1056 || !has(img, blue) || !has(img, orange) {
		t.Errorf("compare chart %v", img.Bounds())
	}
	if err := Chart(r, filepath.Join(dir, "chart.svg")); err == nil || !strings.Contains(err.Error(), "only .png") {
		t.Errorf("svg: %v", err)
	}
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// has reports whether some pixel is exactly c.
func has(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				return true
			}
		}
	}
	return false
}

// Issue 12, class 10: a result listing a position twice was paired row by
// row (B's position 8 against A's position 1). Read refuses it, naming the
// file and the position; rows pair by position value, in any order.
func TestReadChecksPositions(t *testing.T) {
	dir := t.TempDir()
	writeResult := func(name string, r *Result) string {
		path := filepath.Join(dir, name)
		data, _ := json.Marshal(r)
		os.WriteFile(path, data, 0o644)
		return path
	}
	dup := sample(1, 1, 64)
	dup.DAG = nil
	dup.Positions[0].Position = 8 // positions 8, 2, 4, 8, ...
	path := writeResult("dup.json", dup)
	if _, err := Read(path); err == nil || err.Error() != path+": positions[0] and positions[3] both measure position 8: each position is measured once" {
		t.Errorf("a repeated position: %v", err)
	}
	mismatch := sample(1, 1, 64)
	mismatch.DAG.Positions = mismatch.DAG.Positions[1:]
	if _, err := Read(writeResult("dag.json", mismatch)); err == nil || !strings.Contains(err.Error(), "dag.positions are not the positions of the top level (2,4,8,16,32,64 vs 1,2,4,8,16,32,64)") {
		t.Errorf("DAG positions unlike the top level's: %v", err)
	}
	// Rows out of order pair by value and come back ascending.
	a, b := sample(1, 1, 64), sample(2, 2, 16)
	a.DAG, b.DAG = nil, nil
	slices.Reverse(b.Positions)
	ra, err := Read(writeResult("a.json", a))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Read(writeResult("b.json", b))
	if err != nil {
		t.Fatal(err)
	}
	if rb.Positions[0].Position != 1 {
		t.Errorf("positions not sorted: %v", positionList(rb.Positions))
	}
	for _, s := range Speedups(ra, rb) {
		if s.A.Position != s.Position || s.B.Position != s.Position {
			t.Errorf("position %d paired A's %d with B's %d", s.Position, s.A.Position, s.B.Position)
		}
	}
	onlyA, onlyB := Unpaired(ra, rb)
	if !slices.Equal(onlyA, []int64{32, 64}) || len(onlyB) != 0 {
		t.Errorf("unpaired %v %v", onlyA, onlyB)
	}
}

// Schema errors name the schema irc embeds, not a file under the working
// directory, and the field, on one line.
func TestValidateNamesTheSchema(t *testing.T) {
	var m map[string]any
	good, _ := json.Marshal(sample(1, 1, 8))
	json.Unmarshal(good, &m)
	delete(m["positions"].([]any)[0].(map[string]any), "tps")
	m["executor"] = "x"
	bad, _ := json.Marshal(m)
	err := Validate(bad)
	want := "not an irc bench result (checked against bench/schema.json, embedded in irc): at /executor: value must be one of 'whole', 'dag'; at /positions/0: missing property 'tps'"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// A number no float64 holds is refused with one line, not a panic in the
// schema validator (found by FuzzValidate).
func TestValidateRefusesHugeNumbers(t *testing.T) {
	for _, doc := range []string{`{"format":"irc-bench/1","ttft_ms":0.10E85229935668282}`, `{"positions":[{"position":1e999999}]}`} {
		if err := Validate([]byte(doc)); err == nil || !strings.Contains(err.Error(), "is out of range") {
			t.Errorf("%s: got %v, want the number refused", doc, err)
		}
	}
}
