package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irc-compiler/irc/runtime/executor"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Issue 12, class 7: an output path that is a folder or a special file
// fails before any work with one line naming the flag; a regular file is
// overwritten (the user named it) and a new one must be creatable.
func TestCheckOutputFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "old.json")
	os.WriteFile(file, []byte("old"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling"))
	for _, tc := range []struct{ path, want string }{
		{dir, "--json " + dir + ": is a folder; name the file to write"},
		{fifo, "--json " + fifo + ": exists and is a named pipe, not a regular file; name a new file or a regular one"},
		{"/dev/null", "--json /dev/null: exists and is a character device, not a regular file"},
		{filepath.Join(dir, "no", "x.json"), "--json " + filepath.Join(dir, "no", "x.json") + ": folder " + filepath.Join(dir, "no") + " does not exist"},
		{filepath.Join(file, "x.json"), "--json " + filepath.Join(file, "x.json") + ": not a directory"},
		{filepath.Join(dir, "dangling"), "is a symbolic link to a file that does not exist"},
	} {
		if err := CheckOutputFile("--json", tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	for _, ok := range []string{"", file, filepath.Join(dir, "new.json")} {
		if err := CheckOutputFile("--json", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if data, _ := os.ReadFile(file); string(data) != "old" {
		t.Error("the check changed an existing file")
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); err == nil {
		t.Error("the check left the file it created")
	}
}

// Issue 12, class 11: --min-time was capped at 1000 steps per measurement
// while the report recorded the request. The count is not capped: a
// measurement lasts --min-time (at most MaxMinTime) as recorded.
func TestMinTimeIsNotCapped(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	sess, err := NewSession("", b, fakeProgram(b).Schedule, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A fake step takes well under 1 µs, counted as 1 µs: 5 ms is 5001 steps.
	_, n, err := NewGroup(sess).Measure(3, 5*time.Millisecond)
	if err != nil || n <= 1000 {
		t.Errorf("%d steps (%v), want the 5001 that fill 5 ms at 1 µs", n, err)
	}
	for _, bad := range []string{"-1ms", "1h"} {
		err := Run(fakeProgram(b), []string{"--bench", "--min-time", bad, "--random-weights"}, &strings.Builder{}, &strings.Builder{})
		var usage errUsage
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "want a duration from 0 to 10s") {
			t.Errorf("--min-time %s: %v", bad, err)
		}
	}
	var out bytes.Buffer
	if err := Serve(NewGroup(sess), strings.NewReader("measure 1 99999999999999\n"), &out); err != nil || !strings.Contains(out.String(), "want a duration from 0 to 10s") {
		t.Errorf("serve: %v %s", err, out.String())
	}
}

// Issue 12, class 11: a runner serving irc bench that fails to load (a bad
// --device) puts its error on stdout, where irc bench reads it as the
// reply to its first request, and prints nothing more.
func TestServeReportsLoadErrors(t *testing.T) {
	b := &fakeBackend{vocab: 50, last: map[int][]int32{}}
	p := fakeProgram(b)
	p.Open = func(device int, _ WeightFunc, _ executor.Options) (Backend, error) {
		return nil, errors.New("--device 7: no such device")
	}
	var stdout, stderr strings.Builder
	err := Run(p, []string{"--bench-serve", "--device", "7", "--random-weights"}, &stdout, &stderr)
	var reported errReported
	if !errors.As(err, &reported) {
		t.Fatalf("got %v", err)
	}
	var reply measurement
	if json.Unmarshal([]byte(stdout.String()), &reply); reply.Error != "--device 7: no such device" {
		t.Errorf("stdout %q", stdout.String())
	}
	c := NewClient(errWriter{}, strings.NewReader(stdout.String()))
	if _, err := c.Info(); err == nil || err.Error() != "--device 7: no such device" {
		t.Errorf("client: %v", err)
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// Issue 12, class 9: the weights folder is --weights or the executable's
// folder, never the compiler's; a missing file is named with the folder
// looked in.
func TestFindWeights(t *testing.T) {
	s := &schedule.Schedule{Buffers: []schedule.Buffer{{Name: "w", Kind: schedule.Weight, File: "sub/m.safetensors"}}}
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	if _, err := FindWeights(s, dir); err == nil || err.Error() != "weights: "+filepath.Join(dir, "sub", "m.safetensors")+" not found: looked in "+dir+
		" (given with --weights) for sub/m.safetensors; put the model's weight files there, or give --weights DIR (the folder the weight files are relative to) or --random-weights" {
		t.Errorf("missing: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "m.safetensors"), nil, 0o644)
	if got, err := FindWeights(s, dir); err != nil || got != dir {
		t.Errorf("found %q, %v", got, err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if _, err := FindWeights(s, ""); err == nil || !strings.Contains(err.Error(), "looked in "+filepath.Dir(exe)+" (the folder of this runner's executable)") {
		t.Errorf("beside the executable: %v", err)
	}
}
