package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/runtime/runner"
)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// The generated runner, built with go build, against ref: logits within
// relative L2 2e-2 per row, and the same greedy ids wherever ref's top-2
// margin is clear.
func TestOpenCLRunnerMatchesRef(t *testing.T) {
	for _, preset := range []string{"qwen3-tiny", "llama-mha-odd"} {
		t.Run(preset, func(t *testing.T) {
			_, irpb := tinyModel(t, preset)
			dir := filepath.Join(t.TempDir(), "runner")
			out, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", dir)
			if code != 0 || !strings.Contains(out, "launches") {
				t.Fatalf("compile: %s %s", out, errOut)
			}
			bin, err := buildRunner(dir, openCL(t), os.Stderr)
			if err != nil {
				t.Fatal(err)
			}
			prompt := "5,17,3,9,2,11"
			gotNpy, wantNpy := filepath.Join(dir, "got.npy"), filepath.Join(dir, "want.npy")
			cmd := exec.Command(bin, "--tokens", prompt, "--generate", "6", "--logits-out", gotNpy)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("runner: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "decode") {
				t.Errorf("runner printed no timings: %s", stderr.String())
			}
			bench, err := exec.Command(bin, "--bench", "--repeat", "2", "--positions", "1,7", "--profile").CombinedOutput()
			if err != nil || !strings.Contains(string(bench), "position 7 (2/2)") || !strings.Contains(string(bench), "time to first token") || !strings.Contains(string(bench), "profile of decode") ||
				!strings.Contains(string(bench), "linear_gemv_") {
				t.Errorf("--bench --profile: %v\n%s", err, bench)
			}
			want, errOut, code := irc(t, "run", irpb, "--tokens", prompt, "--generate", "6", "--logits-out", wantNpy)
			if code != 0 {
				t.Fatal(errOut)
			}
			gh, got := readNpy(t, gotNpy)
			wh, ref := readNpy(t, wantNpy)
			shape, wshape := gh.Descr.Shape, wh.Descr.Shape
			if !slices.Equal(shape, wshape) {
				t.Fatalf("logits %v, ref %v", shape, wshape)
			}
			vocab := shape[1]
			row := func(r int) []float32 { return ref[r*vocab : (r+1)*vocab] }
			for r := range shape[0] {
				if e := numcheck.RelL2(got[r*vocab:(r+1)*vocab], row(r)); e > 2e-2 {
					t.Errorf("row %d: relative L2 %.3g", r, e)
				}
			}
			gotIDs, err := runner.ParseTokens(lastLine(stdout.String()))
			if err != nil {
				t.Fatal(err)
			}
			wantIDs, err := runner.ParseTokens(lastLine(want))
			if err != nil {
				t.Fatal(err)
			}
			// Generated id i comes from logits row P-1+i.
			p := len(strings.Split(prompt, ","))
			if err := numcheck.GreedyMismatch(gotIDs, wantIDs, func(i int) []float32 { return row(p - 1 + i) }, 0.05); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// irc run --backend opencl compiles, builds and runs in one step, with the
// runner's flags passed through; errors of the runner reach the user.
func TestRunBackendOpenCL(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	ref, errOut, code := irc(t, "run", irpb, "--tokens", "5,17,3", "--generate", "4", "--random-weights", "--seed", "3")
	if code != 0 {
		t.Fatal(errOut)
	}
	got, errOut, code := irc(t, "run", irpb, "--backend", "opencl", "--tokens", "5,17,3", "--generate", "4", "--random-weights", "--seed", "3")
	if code != 0 || lastLine(got) != lastLine(ref) {
		t.Fatalf("opencl %q, ref %q (%s)", lastLine(got), lastLine(ref), errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--device", "99"}, "no such OpenCL device"},
		{[]string{"--weights", t.TempDir()}, "--weights"},
		{[]string{"--tokens", "1,99999"}, "out of range"},
	} {
		args := append([]string{"run", irpb, "--backend", "opencl", "--tokens", "5,17,3", "--generate", "2"}, tc.args...)
		_, errOut, code := irc(t, args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to mention %q", tc.args, code, errOut, tc.want)
		}
	}
}

// Compiling the same model twice gives byte-identical runner folders.
func TestCompileOpenCLIsDeterministic(t *testing.T) {
	_, irpb := tinyModel(t, "llama3-scaled")
	a, b := filepath.Join(t.TempDir(), "r"), filepath.Join(t.TempDir(), "r")
	for _, dir := range []string{a, b} {
		if _, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", dir); code != 0 {
			t.Fatal(errOut)
		}
	}
	n := 0
	filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if n < 10 {
		t.Fatalf("only %d files in the runner", n)
	}
	out, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", a, "--emit", "schedule")
	if code != 0 || !strings.Contains(out, "arena plan") || !strings.Contains(out, "linear_gemv_bf16") {
		t.Fatalf("--emit schedule: %s %s", out, errOut)
	}
}

// openCL is the OpenCL backend's registry entry.
func openCL(t *testing.T) *backend.Backend {
	b, ok := backend.Lookup("opencl")
	if !ok {
		t.Fatal("no opencl backend registered")
	}
	return b
}
