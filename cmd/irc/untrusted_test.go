package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oneLineErr checks that stderr ends with one "irc: " line holding want,
// and that it is the only line of the error (no runner line before it
// repeating it, no "no reply").
func oneLineErr(t *testing.T, what, stderr string, code, wantCode int, want string) {
	t.Helper()
	last := lastLine(stderr)
	if code != wantCode || !strings.HasPrefix(last, "irc: ") || !strings.Contains(last, want) || strings.Contains(stderr, "goroutine") {
		t.Errorf("%s: exit %d (want %d), stderr:\n%s\nwant a last line with %q", what, code, wantCode, stderr, want)
	}
}

// Issue 12, class 7: outputs. A runner is not mixed into a folder irc did
// not write (a copy of a Go project kept its go.mod) unless --force; a
// folder irc wrote is rewritten without the previous runner's extra files;
// an output file that is a folder or special file is refused before any
// work, a regular one is overwritten.
func TestOutputsAreChecked(t *testing.T) {
	_, irpb := tinyModel(t, "llama-tiny")
	proj := t.TempDir()
	os.WriteFile(filepath.Join(proj, "go.mod"), []byte("module example.com/proj\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "main.go"), []byte("package main\n"), 0o644)
	_, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", proj)
	oneLineErr(t, "compile into a Go project", errOut, code, 1, "runner folder "+proj+": not empty, and irc did not write it (no .irc-runner in it)")
	if data, _ := os.ReadFile(filepath.Join(proj, "go.mod")); string(data) != "module example.com/proj\n" {
		t.Fatal("go.mod replaced")
	}
	_, errOut, code = irc(t, "bench", irpb, "--keep", proj, "--build-only")
	oneLineErr(t, "bench --keep into a Go project", errOut, code, 1, "--keep: runner folder "+proj+": not empty, and irc did not write it")
	if _, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", proj, "--force"); code != 0 {
		t.Errorf("--force: %s", errOut)
	}

	// A bench runner (two schedules, a binary, built.json) rewritten as a
	// plain runner: what the bench wrote goes, the user's file stays.
	kept := filepath.Join(t.TempDir(), "kept")
	if _, errOut, code := irc(t, "bench", irpb, "--keep", kept, "--build-only"); code != 0 {
		t.Fatal(errOut)
	}
	os.WriteFile(filepath.Join(kept, "notes.txt"), []byte("mine"), 0o644)
	for _, f := range []string{"schedule_dag.go", "runner", "built.json"} {
		if _, err := os.Stat(filepath.Join(kept, f)); err != nil {
			t.Fatalf("the bench runner has no %s", f)
		}
	}
	if _, errOut, code := irc(t, "compile", irpb, "--target", "opencl", "-o", kept); code != 0 {
		t.Fatal(errOut)
	}
	for _, f := range []string{"schedule_dag.go", "runner", "built.json"} {
		if _, err := os.Stat(filepath.Join(kept, f)); err == nil {
			t.Errorf("stale %s left in the rewritten folder", f)
		}
	}
	if _, err := os.Stat(filepath.Join(kept, "notes.txt")); err != nil {
		t.Error("the user's file was removed")
	}

	dir := t.TempDir()
	existing := filepath.Join(dir, "old.irpb")
	os.WriteFile(existing, []byte("old"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compile", irpb, "-o", dir}, "-o " + dir + ": is a folder; name the file to write"},
		{[]string{"compile", irpb, "-o", "/dev/null"}, "-o /dev/null: exists and is a character device, not a regular file"},
		{[]string{"compile", irpb, "-o", filepath.Join(dir, "no", "m.irpb")}, "folder " + filepath.Join(dir, "no") + " does not exist"},
		{[]string{"compile", irpb, "-o", filepath.Join(dir, "m.irpb"), "--stats-json", dir}, "--stats-json " + dir + ": is a folder"},
		{[]string{"compile", irpb, "-o", filepath.Join(dir, "m.irpb"), "--dump-after", "all", "--dump-dir", existing}, "--dump-dir " + existing + ": exists and is not a folder"},
		{[]string{"compile", irpb, "--target", "opencl", "-o", existing}, "runner folder " + existing + ": exists and is not a folder"},
		{[]string{"compile", irpb, "-o", filepath.Join(dir, "m.irpb"), "--force"}, "--force is for a GPU target's runner folder"},
		{[]string{"run", irpb, "--tokens", "1", "--logits-out", dir}, "--logits-out " + dir + ": is a folder"},
		{[]string{"import", filepath.Join(filepath.Dir(irpb), "llama-tiny"), "-o", dir}, "-o " + dir + ": is a folder"},
		{[]string{"testmodel", "-o", existing}, "-o " + existing + ": exists and is not a folder"},
		{[]string{"bench", "compare", irpb, irpb, "--chart", dir + "/x.svg"}, "name it .png"},
		{[]string{"bench", "compare", irpb, irpb, "--chart", dir}, "--chart " + dir + ": charts are PNG files"},
	} {
		_, errOut, code := irc(t, tc.args...)
		oneLineErr(t, strings.Join(tc.args, " "), errOut, code, 1, tc.want)
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: more than the error line:\n%s", tc.args, errOut)
		}
	}
	// An existing regular output file is overwritten.
	if _, errOut, code := irc(t, "compile", irpb, "-o", existing); code != 0 {
		t.Errorf("over an existing file: %s", errOut)
	}
}

// Issue 12, class 11: irc bench checks --json and --chart before compiling
// and measuring; a bad --device reaches the user as the runner's own one
// line; --min-time is bounded, not silently capped; import's lengths take
// 0 as the default and refuse negatives by flag name.
func TestBenchAndImportFlags(t *testing.T) {
	dir, irpb := tinyModel(t, "llama-tiny")
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", irpb, "--json", filepath.Join(file, "r.json")}, "--json " + filepath.Join(file, "r.json") + ": not a directory"},
		{[]string{"bench", irpb, "--json", filepath.Dir(file)}, "is a folder"},
		{[]string{"bench", irpb, "--chart", filepath.Join(t.TempDir(), "none", "c.png")}, "does not exist"},
		{[]string{"bench", irpb, "--min-time", "1h"}, "--min-time 1h0m0s: want a duration from 0 to 10s"},
		{[]string{"bench", irpb, "--force"}, "--force writes the runner into --keep DIR"},
		{[]string{"bench", irpb, "--keep", file}, "exists and is not a folder"},
		{[]string{"import", dir, "-o", filepath.Join(t.TempDir(), "m.irpb"), "--max-cache-len", "-1"}, "--max-cache-len -1: want a number of tokens >= 1 (or 0 for the default"},
		{[]string{"import", dir, "-o", filepath.Join(t.TempDir(), "m.irpb"), "--prefill-len", "-1"}, "--prefill-len -1: want a number of tokens >= 1 (or 0 for the default"},
	} {
		_, errOut, code := irc(t, tc.args...)
		oneLineErr(t, strings.Join(tc.args, " "), errOut, code, 1, tc.want)
		if strings.Contains(errOut, "compiled") {
			t.Errorf("%v: compiled before failing:\n%s", tc.args, errOut)
		}
	}
	if _, errOut, code := irc(t, "import", dir, "-o", filepath.Join(t.TempDir(), "m.irpb"), "--max-cache-len", "0", "--prefill-len", "0"); code != 0 || !strings.Contains(errOut, "cache 256") {
		t.Errorf("0 is the default: %s", errOut)
	}
	_, errOut, code := irc(t, "bench", irpb, "--device", "99", "--positions", "1", "--repeat", "1", "--min-time", "0")
	oneLineErr(t, "bench --device 99", errOut, code, 1, "irc: --device 99: no such OpenCL device")
	if strings.Contains(errOut, "no reply") || strings.Count(errOut, "no such OpenCL device") != 1 {
		t.Errorf("bench --device 99: the error is not the one line:\n%s", errOut)
	}
	_, errOut, code = irc(t, "run", irpb, "--backend", "opencl", "--device", "99", "--tokens", "1", "--generate", "1")
	oneLineErr(t, "run --device 99", errOut, code, 1, "irc: --device 99: no such OpenCL device")
	if strings.Count(errOut, "no such OpenCL device") != 1 {
		t.Errorf("run --device 99: the error is printed twice:\n%s", errOut)
	}
}

// A command line that does not parse exits 2, naming the command.
func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"import", "--bogus"}, "import: unknown flag: --bogus (see irc import --help)"},
		{[]string{"compile"}, "compile: accepts 1 arg(s), received 0 (usage: irc compile MODEL"},
		{[]string{"bench", "--repeat", "x"}, `bench: invalid argument "x" for "--repeat"`},
	} {
		_, errOut, code := irc(t, tc.args...)
		oneLineErr(t, strings.Join(tc.args, " "), errOut, code, 2, tc.want)
	}
}
