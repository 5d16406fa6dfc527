package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/numcheck"
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
