package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/check"
)

// Command lines irc check refuses before doing anything: exit status 2.
func TestCheckUsage(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	for _, args := range [][]string{
		{"check"},
		{"check", irpb},
		{"check", irpb, "--backend", "opencl", "--passes"},
		{"check", "--runners", t.TempDir(), irpb},
		{"check", irpb, "--backend", "opencl", "--tol", "bf16=x"},
		{"check", irpb, "--backend", "opencl", "--tol", "q4=1"},
		{"check", irpb, "--backend", "opencl", "--build-only"},
		{"check", irpb, "--backend", "opencl", "--generate", "-1"},
		{"check", irpb, "--backend", "nope"},
		{"check", irpb, "--backend", "opencl", "--bogus"},
	} {
		_, errOut, code := irc(t, args...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args[1:], code, errOut)
		}
	}
}

// A correct OpenCL backend passes (exit 0); the runner kept with its
// expectations, its kernel program then broken and rebuilt, is caught on
// the --runners path (exit 1) at the node the broken constant computes,
// as a GPU host without Go would run it.
func TestCheckOpenCL(t *testing.T) {
	dir, irpb := tinyModel(t, "qwen2-tiny")
	weights := filepath.Dir(dir)
	out, errOut, code := irc(t, "check", irpb, "--backend", "opencl", "--tokens", "1,5,9,2,7,3", "--generate", "2")
	if code != 0 || !strings.HasPrefix(out, "no divergence: ") {
		t.Fatalf("a correct backend: exit %d\n%s\n%s", code, out, errOut)
	}
	keep := filepath.Join(t.TempDir(), "keep")
	if _, errOut, code := irc(t, "check", irpb, "--backend", "opencl", "--tokens", "1,5,9,2,7,3", "--generate", "2", "--keep", keep, "--build-only"); code != 0 {
		t.Fatalf("--keep --build-only: %s", errOut)
	}
	out, errOut, code = irc(t, "check", "--runners", keep, "--weights", weights, "--all")
	if code != 0 || !strings.Contains(out, "| 0 | prefill@0 | %embed.x | embedding |") {
		t.Fatalf("--runners on the kept runner: exit %d\n%s\n%s", code, out, errOut)
	}
	// SiLU's 1 in the glu epilogues turned 1.5, as a wrong template would.
	src := filepath.Join(keep, "kernels.cl")
	prog, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.ReplaceAll(string(prog), "(1.0f + exp(-", "(1.5f + exp(-")
	if bad == string(prog) {
		t.Fatal("no SiLU constant to break in kernels.cl")
	}
	if err := os.WriteFile(src, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", "runner", ".")
	build.Dir = keep
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("rebuilding the runner: %v\n%s", err, b)
	}
	out, errOut, code = irc(t, "check", "--runners", keep, "--weights", weights)
	if code != 1 || !strings.HasPrefix(out, "first divergence: %l0.mlp.gate (linear, bf16) at step 0") || !strings.Contains(errOut, "departs from ref") {
		t.Fatalf("a broken kernel: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = irc(t, "check", "--runners", keep, "--weights", weights, "--json")
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.First < 0 || rep.Rows[rep.First].Value != "l0.mlp.gate" {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
}

// --passes bisects the default pipeline on ref: nothing miscompiles.
func TestCheckPasses(t *testing.T) {
	_, irpb := tinyModel(t, "llama-tiny")
	out, errOut, code := irc(t, "check", irpb, "--passes", "--random-weights")
	if code != 0 || !strings.Contains(out, "partition ") || !strings.Contains(out, "no pass changed the logits") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}
