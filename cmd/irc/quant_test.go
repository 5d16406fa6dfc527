package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/runtime/runner"
)

// quantModel imports preset with --quantize q (and extra flags) beside the
// checkpoint, as tinyModel does unquantized.
func quantModel(t *testing.T, preset, q string, extra ...string) (dir, irpb string) {
	t.Helper()
	dir, _ = tinyModel(t, preset)
	irpb = filepath.Join(filepath.Dir(dir), "model-"+q+".irpb")
	args := append([]string{"import", dir, "-o", irpb, "--prefill-len", "4", "--quantize", q}, extra...)
	if _, errOut, code := irc(t, args...); code != 0 || !strings.Contains(errOut, "quantized") {
		t.Fatalf("import --quantize %s: %s", q, errOut)
	}
	return dir, irpb
}

// ref on the quantized weights against the unquantized model: reported,
// and loosely bounded (q8_0 keeps ~8 bits per weight, q4_0 ~4: measured
// 0.0125 and 0.885 on llama-tiny, whose random weights quantize with a
// relative error of 0.004 and 0.065, amplified by the tiny random model). The
// quantized file is a function of the checkpoint alone.
func TestQuantizedImportRunsOnRef(t *testing.T) {
	prompt := "5,17,3,9,2,11"
	logits := func(irpb string) []float32 {
		path := irpb + ".npy"
		if _, errOut, code := irc(t, "run", irpb, "--tokens", prompt, "--logits-out", path); code != 0 {
			t.Fatalf("run %s: %s", irpb, errOut)
		}
		_, v := readNpy(t, path)
		return v
	}
	for _, c := range []struct {
		q     string
		bound float64
	}{{"q8_0", 0.05}, {"q4_0", 1.5}} {
		dir, irpb := quantModel(t, "llama-tiny", c.q)
		plain := filepath.Join(filepath.Dir(dir), "model.irpb")
		e := numcheck.RelL2(logits(irpb), logits(plain))
		t.Logf("llama-tiny %s vs bf16 on ref: relative L2 of the logits %.3g", c.q, e)
		if e > c.bound || e == 0 {
			t.Errorf("%s: relative L2 %.3g, want (0, %g]", c.q, e, c.bound)
		}
		qfile := strings.TrimSuffix(irpb, ".irpb") + "." + c.q + ".safetensors"
		first, err := os.ReadFile(qfile)
		if err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := irc(t, "import", dir, "-o", irpb, "--prefill-len", "4", "--quantize", c.q); code != 0 {
			t.Fatal(errOut)
		}
		if again, _ := os.ReadFile(qfile); !bytes.Equal(first, again) {
			t.Errorf("%s: a second import wrote different bytes", c.q)
		}
	}
	_, errOut, code := irc(t, "import", t.TempDir(), "-o", tmp(t, "m.irpb"), "--quantize", "q5_1")
	if code == 0 || !strings.Contains(errOut, "--quantize q5_1: want q8_0 or q4_0") {
		t.Errorf("--quantize q5_1: %d %s", code, errOut)
	}
}

// Every tiny preset, quantized, on OpenCL against ref on the same
// quantized weights: logits within relative L2 2e-2 per row. The presets
// exercise sizes that are not multiples of 32 (which ggml's blocks, and so
// --quantize, cannot split), so each runs with its sizes rounded up to
// blocks (hidden and intermediate to multiples of 32, head_dim so the
// heads' width is one too) and random weights quantized as a runner makes
// them; llama-tiny also runs from its checkpoint's quantized file.
func TestQuantizedPresetsOpenCLMatchRef(t *testing.T) {
	root := t.TempDir()
	if _, errOut, code := irc(t, "testmodel", "-o", root); code != 0 {
		t.Fatal(errOut)
	}
	up := func(v any) float64 { return math.Ceil(v.(float64)/32) * 32 }
	prompt := "5,17,3,9,2"
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		for _, q := range []string{"q8_0", "q4_0"} {
			t.Run(e.Name()+"/"+q, func(t *testing.T) {
				src := filepath.Join(root, e.Name())
				dir := writeConfig(t, src, func(c map[string]any) {
					heads := c["num_attention_heads"].(float64)
					hd := c["hidden_size"].(float64) / heads
					if v, ok := c["head_dim"].(float64); ok {
						hd = v
					}
					for int(heads*hd)%32 != 0 || int(hd)%2 != 0 {
						hd++
					}
					c["head_dim"] = hd
					c["hidden_size"], c["intermediate_size"] = up(c["hidden_size"]), up(c["intermediate_size"])
				})
				os.Remove(filepath.Join(dir, "model.safetensors")) // config only: random weights
				irpb := filepath.Join(t.TempDir(), "m.irpb")
				extra := []string{}
				if q == "q4_0" {
					extra = append(extra, "--quantize-embeddings")
				}
				args := append([]string{"import", dir, "-o", irpb, "--prefill-len", "4", "--quantize", q}, extra...)
				if _, errOut, code := irc(t, args...); code != 0 {
					t.Fatal(errOut)
				}
				comparePaths(t, irpb, prompt, "--random-weights", "--seed", "5")
			})
		}
	}
	t.Run("llama-tiny-checkpoint/q4_0", func(t *testing.T) {
		dir, irpb := quantModel(t, "llama-tiny", "q4_0")
		comparePaths(t, irpb, prompt, "--weights", filepath.Dir(dir))
	})
}

// comparePaths runs irpb on OpenCL and on ref with the same flags and
// compares the logits row by row.
func comparePaths(t *testing.T, irpb, prompt string, flags ...string) {
	t.Helper()
	dir := t.TempDir()
	gotNpy, wantNpy := filepath.Join(dir, "got.npy"), filepath.Join(dir, "want.npy")
	args := append([]string{"run", irpb, "--backend", "opencl", "--tokens", prompt, "--generate", "3", "--logits-out", gotNpy}, flags...)
	gotOut, errOut, code := irc(t, args...)
	if code != 0 {
		t.Fatalf("opencl: %s", errOut)
	}
	refFlags := flags
	if len(flags) > 0 && flags[0] == "--weights" {
		refFlags = nil // ref reads the weights beside the model
	}
	args = append([]string{"run", irpb, "--tokens", prompt, "--generate", "3", "--logits-out", wantNpy}, refFlags...)
	wantOut, errOut, code := irc(t, args...)
	if code != 0 {
		t.Fatalf("ref: %s", errOut)
	}
	gotIDs, err := runner.ParseTokens(lastLine(gotOut))
	if err != nil {
		t.Fatal(err)
	}
	wantIDs, err := runner.ParseTokens(lastLine(wantOut))
	if err != nil {
		t.Fatal(err)
	}
	gh, got := readNpy(t, gotNpy)
	_, want := readNpy(t, wantNpy)
	if len(got) != len(want) {
		t.Fatalf("logits %v, ref %d values", gh.Descr.Shape, len(want))
	}
	vocab := gh.Descr.Shape[1]
	row := func(r int) []float32 { return want[r*vocab : (r+1)*vocab] }
	// Generated id i comes from logits row P-1+i; once the ids part (at a
	// near tie, which GreedyMismatch checks) the later rows have different
	// inputs and are not compared.
	p := len(strings.Split(prompt, ","))
	if err := numcheck.GreedyMismatch(gotIDs, wantIDs, func(i int) []float32 { return row(p - 1 + i) }, 0.05); err != nil {
		t.Fatal(err)
	}
	rows := numcheck.ComparedRows(gh.Descr.Shape[0], p, gotIDs, wantIDs)
	worst := 0.0
	for r := range rows {
		e := numcheck.RelL2(got[r*vocab:(r+1)*vocab], want[r*vocab:(r+1)*vocab])
		worst = max(worst, e)
		if e > 2e-2 {
			t.Errorf("row %d: relative L2 %.3g", r, e)
		}
	}
	t.Logf("worst of %d rows: relative L2 %.3g", rows, worst)
}
