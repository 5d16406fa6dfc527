package main

import (
	"bytes"
	"io"
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
			runnerMatchesRef(t, irpb)
		})
	}
}

// runnerMatchesRef compiles irpb for OpenCL, builds and runs the runner
// (generation, --bench --profile) and compares its logits and ids with
// irc run's (ref).
func runnerMatchesRef(t *testing.T, irpb string) {
	t.Helper()
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
	cmd := exec.Command(bin, "--tokens", prompt, "--generate", "6", "--logits-out", gotNpy, "--weights", filepath.Dir(irpb))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("runner: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "decode") {
		t.Errorf("runner printed no timings: %s", stderr.String())
	}
	bench, err := exec.Command(bin, "--bench", "--repeat", "2", "--positions", "1,7", "--profile", "--weights", filepath.Dir(irpb)).CombinedOutput()
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
	gotIDs, err := runner.ParseTokens(lastLine(stdout.String()))
	if err != nil {
		t.Fatal(err)
	}
	wantIDs, err := runner.ParseTokens(lastLine(want))
	if err != nil {
		t.Fatal(err)
	}
	// Generated id i comes from logits row P-1+i; rows after the first id
	// the two chose differently (a near tie) follow different tokens.
	p := len(strings.Split(prompt, ","))
	if err := numcheck.GreedyMismatch(gotIDs, wantIDs, func(i int) []float32 { return row(p - 1 + i) }, 0.05); err != nil {
		t.Fatal(err)
	}
	for r := range numcheck.ComparedRows(shape[0], p, gotIDs, wantIDs) {
		if e := numcheck.RelL2(got[r*vocab:(r+1)*vocab], row(r)); e > 2e-2 {
			t.Errorf("row %d: relative L2 %.3g", r, e)
		}
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

// Compiling the same model twice gives byte-identical runner folders,
// even from different folders (issue 12, class 9: main.go held the
// compile's absolute folder): nothing of either folder is in them.
func TestCompileOpenCLIsDeterministic(t *testing.T) {
	dirA, irpb := tinyModel(t, "llama3-scaled")
	rootB := filepath.Join(t.TempDir(), "elsewhere")
	copyTree(t, filepath.Dir(irpb), rootB)
	irpbB := filepath.Join(rootB, filepath.Base(irpb))
	a, b := filepath.Join(t.TempDir(), "r"), filepath.Join(t.TempDir(), "other-name")
	for _, c := range [][2]string{{irpb, a}, {irpbB, b}} {
		if _, errOut, code := irc(t, "compile", c[0], "--target", "opencl", "-o", c[1]); code != 0 {
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
		for _, folder := range []string{filepath.Dir(dirA), rootB, a, b, os.TempDir()} {
			if bytes.Contains(x, []byte(folder)) {
				t.Errorf("%s names the folder %s", rel, folder)
			}
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

// copyTree copies the files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Issue 12, class 9: a runner carried to another machine finds its
// weights beside its own executable (symbolic links resolved) or where
// --weights says, and says exactly where it looked when they are not
// there: the resolved folder and the first missing file.
func TestRunnerFindsItsWeights(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	dir := filepath.Join(t.TempDir(), "runner")
	if _, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", dir); code != 0 || !strings.Contains(errOut, "the runner reads qwen2-tiny/model.safetensors beside its binary, or from --weights DIR (here: --weights "+filepath.Dir(irpb)+")") {
		t.Fatalf("compile: %s", errOut)
	}
	bin, err := buildRunner(dir, openCL(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Run from an unrelated folder through a link: the runner looks
	// beside the binary the link leads to.
	link := filepath.Join(t.TempDir(), "linked")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	runIn := func(args ...string) (string, error) {
		cmd := exec.Command(link, append([]string{"--tokens", "5,17,3", "--generate", "2"}, args...)...)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := runIn()
	realDir, _ := filepath.EvalSymlinks(dir)
	want := "linked: weights: " + filepath.Join(realDir, "qwen2-tiny", "model.safetensors") + " not found: looked in " + realDir + " (the folder of this runner's executable) for qwen2-tiny/model.safetensors"
	if err == nil || !strings.Contains(out, want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("no weights: %v\n%s\nwant one line with %q", err, out, want)
	}
	missing := t.TempDir()
	if out, err := runIn("--weights", missing); err == nil || !strings.Contains(out, "weights: "+filepath.Join(missing, "qwen2-tiny", "model.safetensors")+" not found: looked in "+missing+" (given with --weights)") {
		t.Errorf("--weights without them: %v\n%s", err, out)
	}
	if out, err := runIn("--weights", filepath.Join(missing, "nope")); err == nil || !strings.Contains(out, "weights: the folder "+filepath.Join(missing, "nope")+" (given with --weights) does not exist") {
		t.Errorf("--weights of no folder: %v\n%s", err, out)
	}
	byFlag, err := runIn("--weights", filepath.Dir(irpb))
	if err != nil {
		t.Fatalf("--weights: %v\n%s", err, byFlag)
	}
	// The weight files carried beside the binary, as on another machine.
	copyTree(t, filepath.Join(filepath.Dir(irpb), "qwen2-tiny"), filepath.Join(dir, "qwen2-tiny"))
	beside, err := runIn()
	if err != nil || lastLine(beside) != lastLine(byFlag) {
		t.Errorf("weights beside the binary: %v\n%s\nwant ids %s", err, beside, lastLine(byFlag))
	}
}
