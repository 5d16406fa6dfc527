package runnergen_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// tinyRunner is a runner of an empty schedule, with variants named vs.
func tinyRunner(t *testing.T, vs ...string) *runnergen.Runner {
	t.Helper()
	b, ok := backend.Lookup("opencl")
	if !ok {
		t.Fatal("no opencl backend")
	}
	s := &schedule.Schedule{Model: schedule.Model{Name: "Tiny"}}
	r := &runnergen.Runner{Schedule: s, Backend: b, Kernels: "// whole\n", Executor: "whole"}
	for _, v := range vs {
		r.Variants = append(r.Variants, runnergen.Variant{Name: v, Schedule: s, Kernels: "// " + v + "\n"})
	}
	return r
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// Issue 12, class 7: a runner written into a copy of a Go project silently
// replaced its go.mod and mixed its files in. A non-empty folder irc did
// not write is refused (nothing in it touched) unless forced.
func TestWriteRefusesAFolderIrcDidNotWrite(t *testing.T) {
	proj := t.TempDir()
	write(t, filepath.Join(proj, "go.mod"), "module example.com/proj\n")
	write(t, filepath.Join(proj, "main.go"), "package main\n")
	err := tinyRunner(t).Write(proj, false)
	if err == nil || !strings.Contains(err.Error(), "runner folder "+proj+": not empty, and irc did not write it (no .irc-runner in it)") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("got %v", err)
	}
	if read(t, filepath.Join(proj, "go.mod")) != "module example.com/proj\n" || exists(filepath.Join(proj, runnergen.MarkerFile)) || exists(filepath.Join(proj, "schedule.go")) {
		t.Fatal("the refused folder was written into")
	}
	// A file where the folder should be, and a marker that is not irc's.
	file := filepath.Join(t.TempDir(), "f")
	write(t, file, "x")
	if err := tinyRunner(t).Write(file, false); err == nil || !strings.Contains(err.Error(), "exists and is not a folder") {
		t.Errorf("a file: %v", err)
	}
	other := t.TempDir()
	write(t, filepath.Join(other, runnergen.MarkerFile), "my notes\n")
	if err := tinyRunner(t).Write(other, false); err == nil || !strings.Contains(err.Error(), "irc did not write it") {
		t.Errorf("a marker irc did not write: %v", err)
	}
	// --force writes over same-named files and keeps the others.
	if err := tinyRunner(t).Write(proj, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(read(t, filepath.Join(proj, "go.mod")), "module github.com/irc-compiler/irc") || read(t, filepath.Join(proj, "main.go")) == "package main\n" {
		t.Error("--force did not write the runner")
	}
	// An empty folder, or a new one, needs no --force.
	if err := tinyRunner(t).Write(t.TempDir(), false); err != nil {
		t.Error(err)
	}
	if err := tinyRunner(t).Write(filepath.Join(t.TempDir(), "a", "b"), false); err != nil {
		t.Error(err)
	}
}

// Rewriting a folder irc wrote removes the previous runner's files that
// the new one lacks (a stale schedule_*.go or kernel file would be
// compiled in) and what irc recorded with Claim, and nothing else.
func TestRewriteRemovesStaleRunnerFilesOnly(t *testing.T) {
	dir := t.TempDir()
	if err := tinyRunner(t, "dag", "odd").Write(dir, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"schedule_dag.go", "schedule_odd.go", "kernels_dag.cl", "kernels_odd.cl", "main.go", runnergen.MarkerFile} {
		if !exists(filepath.Join(dir, f)) {
			t.Fatalf("no %s", f)
		}
	}
	write(t, filepath.Join(dir, "runner"), "a binary")
	write(t, filepath.Join(dir, "got.npy"), "the user's")
	write(t, filepath.Join(dir, "runtime", "notes.txt"), "the user's")
	if err := runnergen.Claim(dir, "runner"); err != nil {
		t.Fatal(err)
	}
	if err := tinyRunner(t).Write(dir, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"schedule_dag.go", "schedule_odd.go", "kernels_dag.cl", "kernels_odd.cl", "runner"} {
		if exists(filepath.Join(dir, f)) {
			t.Errorf("stale %s left", f)
		}
	}
	for _, f := range []string{"got.npy", "runtime/notes.txt", "main.go", "schedule.go", "kernels.cl"} {
		if !exists(filepath.Join(dir, f)) {
			t.Errorf("%s was removed", f)
		}
	}
	files, err := tinyRunner(t).Files()
	if err != nil {
		t.Fatal(err)
	}
	marker := read(t, filepath.Join(dir, runnergen.MarkerFile))
	if marker != string(files[runnergen.MarkerFile]) || !strings.HasPrefix(marker, "irc runner folder: written by irc") {
		t.Errorf("marker:\n%s", marker)
	}
	lines := strings.Split(strings.TrimSpace(marker), "\n")[1:]
	if !slices.IsSorted(lines) || !slices.Contains(lines, "go.mod") || !slices.Contains(lines, "runtime/runner/main.go") || slices.Contains(lines, runnergen.MarkerFile) {
		t.Errorf("marker lists %v", lines)
	}
}

// A marker is input too: one that names files outside the folder is
// refused, and writes never leave the folder through a symbolic link.
func TestWriteStaysInsideTheFolder(t *testing.T) {
	outside := t.TempDir()
	write(t, filepath.Join(outside, "keep.txt"), "keep")
	dir := t.TempDir()
	write(t, filepath.Join(dir, runnergen.MarkerFile), "irc runner folder: written by irc\n../"+filepath.Base(outside)+"/keep.txt\n")
	if err := tinyRunner(t).Write(dir, false); err == nil || !strings.Contains(err.Error(), "not a file inside the folder") {
		t.Errorf("hostile marker: %v", err)
	}
	if !exists(filepath.Join(outside, "keep.txt")) {
		t.Fatal("a file outside the folder was removed")
	}
	linked := t.TempDir()
	if err := tinyRunner(t).Write(linked, false); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(linked, "go.mod"))
	if err := os.Symlink(filepath.Join(outside, "keep.txt"), filepath.Join(linked, "go.mod")); err != nil {
		t.Skip(err)
	}
	if err := tinyRunner(t).Write(linked, false); err == nil || !strings.Contains(err.Error(), "go.mod exists and is not a regular file") {
		t.Errorf("a link to outside: %v", err)
	}
	if read(t, filepath.Join(outside, "keep.txt")) != "keep" {
		t.Fatal("written through a link to outside the folder")
	}
}
