package backendtest

import (
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/passes"
	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/runner"
	"github.com/irc-compiler/irc/runtime/schedule"
	"github.com/irc-compiler/irc/runtime/weights"
)

// ImportPreset writes tiny preset name's checkpoint and imports it (cache
// 64, prefill chunks of 16): the model before any pass, and the folder its
// weights are in.
func ImportPreset(t *testing.T, name string) (*ir.Model, string) {
	t.Helper()
	p, ok := testmodel.Find(name)
	if !ok {
		t.Fatalf("no preset %s", name)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := testmodel.Write(dir, p, 1); err != nil {
		t.Fatal(err)
	}
	m, _, err := hf.Import(dir, hf.Options{MaxCacheLen: 64, PrefillLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// compilePreset is ImportPreset, then the backend's pipeline: the fused
// model and the folder its weights are in.
func (s subject) compilePreset(t *testing.T, name string) (*ir.Model, string) {
	t.Helper()
	m, dir := ImportPreset(t, name)
	pipe, err := passes.DefaultPipeline(s.b.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(m, &passes.Options{Pipeline: pipe, Target: s.b.Name, VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

// presets: every tiny preset, 2 prefill chunks then decode steps, within
// relative L2 2e-2 of ref per logits row, with ref's greedy ids wherever
// its choice is clear.
func (s subject) presets(t *testing.T) {
	for _, p := range testmodel.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			m, dir := s.compilePreset(t, p.Name)
			low, err := codegen.Lower(m, s.b.Target)
			if err != nil {
				t.Fatal(err)
			}
			ckpt := runner.OpenCheckpoint(dir)
			defer ckpt.Close()
			exec, err := executor.Load(s.open, low.Schedule, s.program(t, low), 0, ckpt.Load)
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Close()
			files := weights.Open(dir)
			defer files.Close()
			rt, err := ref.New(m, files)
			if err != nil {
				t.Fatal(err)
			}
			prompt := []int64{1, 5, 9, 2, 7, 3, 11, 4, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20}
			gen, err := rt.Generate(prompt, 6)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runner.Generate(exec, low.Schedule, prompt, 6, runner.GenerateOptions{KeepLogits: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Logits) != len(gen.Logits) {
				t.Fatalf("%d rows of logits, want %d", len(got.Logits), len(gen.Logits))
			}
			// Generated id i is picked from logits row P-1+i: it must agree
			// with ref's wherever ref's choice is clear (top-2 margin).
			row := func(i int) []float32 { return gen.Logits[len(prompt)-1+i] }
			if err := numcheck.GreedyMismatch(got.IDs, gen.IDs, row, 0.05); err != nil {
				t.Fatal(err)
			}
			// Rows after an id the two chose differently (a near tie, as
			// GreedyMismatch allowed) follow different tokens.
			for i := range numcheck.ComparedRows(len(gen.Logits), len(prompt), got.IDs, gen.IDs) {
				if e := numcheck.RelL2(got.Logits[i], gen.Logits[i]); e > 2e-2 {
					t.Errorf("row %d: relative L2 error %.3g", i, e)
				}
			}
		})
	}
}

// argmax: the device's greedy choice is ref.Argmax's, the first index on
// ties.
func (s subject) argmax(t *testing.T) {
	m, err := ir.Parse("argmax", `irc v1
graph g(%x: f32[3,203]) {
  %y = cast(%x) {dtype=f32} : f32[3,203]
  return %y
}`)
	if err != nil {
		t.Fatal(err)
	}
	low, exec := s.load(t, m)
	defer exec.Close()
	rows := make([]float32, 3*203)
	for i := range rows {
		rows[i] = float32(i%7) - 10
	}
	rows[150], rows[77], rows[190] = 5, 5, 5 // row 0: ties, the first wins
	rows[203+202] = 1                        // row 1: the last element
	rows[2*203] = 9                          // row 2: the first element
	if err := exec.Write(low.Schedule.Graphs[0].Inputs[0], schedule.Encode(schedule.F32, rows)); err != nil {
		t.Fatal(err)
	}
	if err := exec.Launch(0); err != nil {
		t.Fatal(err)
	}
	for r := range 3 {
		got, err := exec.Argmax(0, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := ref.Argmax(rows[r*203 : (r+1)*203]); int64(got) != want {
			t.Errorf("row %d: argmax %d, want %d", r, got, want)
		}
	}
}
