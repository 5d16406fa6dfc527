package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// writeRunner lowers a compiled model and writes its runner for backend b
// into dir (see runnergen.Runner.Write for force). The runner reads its
// weights beside its executable or from --weights: nothing of this
// machine's folders goes into it.
func writeRunner(m *ir.Model, b *backend.Backend, dir string, force bool) (*codegen.Lowered, error) {
	low, err := codegen.Lower(m, b.Target)
	if err != nil {
		return nil, err
	}
	return low, newRunner(m, low, b).Write(dir, force)
}

// newRunner is the runner of a lowered model m, carrying m's tokenizer
// (one irc cannot run too, so that --prompt says why).
func newRunner(m *ir.Model, low *codegen.Lowered, b *backend.Backend) *runnergen.Runner {
	return &runnergen.Runner{Schedule: low.Schedule, Backend: b, Kernels: b.Emit(low), Tokenizer: m.Meta.Tokenizer}
}

// allowOutsideFlag lets weight files lie outside the weights folder (run,
// bench and the runners have it).
const allowOutsideFlag = "allow-weights-outside"

const allowOutsideHelp = "read weight files the model names outside the weights folder (absolute paths, .., symbolic links leading out); refused by default"

// weightFiles names the weight files a schedule reads, for messages: the
// first few, and how many more.
func weightFiles(low *codegen.Lowered) string {
	var files []string
	for _, b := range low.Schedule.Buffers {
		if b.Kind != schedule.Weight {
			continue
		}
		for _, p := range b.Sources() {
			if p.File != "" && !slices.Contains(files, p.File) {
				files = append(files, p.File)
			}
		}
	}
	switch {
	case len(files) == 0:
		return "no weight files"
	case len(files) > 2:
		return fmt.Sprintf("%s and %d more files", strings.Join(files[:2], ", "), len(files)-2)
	}
	return strings.Join(files, ", ")
}

// absDir is dir as an absolute path, for a runner that runs elsewhere.
func absDir(flag, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	return abs, nil
}

// buildRunner builds a runner folder of backend b (its generate step, then
// go build) and returns the binary's path. -trimpath keeps the build cache
// valid across folders.
func buildRunner(dir string, b *backend.Backend, log io.Writer) (string, error) {
	abs, err := filepath.Abs(dir) // go build runs in dir: -o must not be relative to ours
	if err != nil {
		return "", err
	}
	bin := filepath.Join(abs, "runner")
	start := time.Now()
	fmt.Fprintf(log, "building the runner in %s ...\n", dir)
	steps := [][]string{}
	if b.Generate != nil {
		steps = append(steps, []string{"go", "generate"})
	}
	build := []string{"go", "build", "-trimpath", "-o", bin}
	if len(b.BuildTags) > 0 {
		build = append(build, "-tags", strings.Join(b.BuildTags, ","))
	}
	steps = append(steps, append(build, "."))
	for _, step := range steps {
		cmd := exec.Command(step[0], step[1:]...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s in %s: %w (the %s runner needs %s)", strings.Join(step[:2], " "), dir, err, b.Name, b.Install)
		}
	}
	fmt.Fprintf(log, "built %s in %s\n", bin, roundDur(time.Since(start)))
	return bin, nil
}

// gpuBackend finds the backend a --target or --backend value names.
func gpuBackend(flag, name string, others ...string) (*backend.Backend, error) {
	if b, ok := backend.Lookup(name); ok {
		return b, nil
	}
	return nil, fmt.Errorf("unknown %s %q (available: %s)", flag, name, strings.Join(append(others, backend.Names()...), ", "))
}

// cudaArchFlag picks the architectures a backend that compiles ahead
// (cuda) compiles for; compile, run and bench have it.
const cudaArchFlag = "cuda-arch"

const cudaArchHelp = "compute capabilities the CUDA kernels are compiled for, comma-separated (default 80,90: A100, H100/H200; the last also as PTX for newer GPUs)"

// withArch is b compiling for arch, when given.
func withArch(b *backend.Backend, arch string) (*backend.Backend, error) {
	if arch == "" {
		return b, nil
	}
	return b.ForArch(arch)
}

// runRunner executes a built runner with args, passing its output
// through. When it fails, its last line on stderr (its error) becomes
// irc's one-line error instead of being printed twice.
func runRunner(bin string, args []string, stdout, stderr io.Writer) error {
	cmd := exec.Command(bin, args...)
	held := &holdLast{w: stderr}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, held
	if err := cmd.Run(); err != nil {
		if line := held.take(filepath.Base(bin)); line != "" {
			return errors.New(line)
		}
		return fmt.Errorf("the runner failed: %w", err)
	}
	return held.flush()
}

// holdLast passes lines through to w but holds back the last one, so that
// a child's final error line can be reported instead of printed.
type holdLast struct {
	w   io.Writer
	buf []byte // the last complete line and any partial line after it
}

func (h *holdLast) Write(b []byte) (int, error) {
	h.buf = append(h.buf, b...)
	if i := bytes.LastIndexByte(h.buf, '\n'); i >= 0 {
		// Everything before the last complete line goes through.
		if start := bytes.LastIndexByte(h.buf[:i], '\n') + 1; start > 0 {
			if _, err := h.w.Write(h.buf[:start]); err != nil {
				return 0, err
			}
			h.buf = append(h.buf[:0], h.buf[start:]...)
		}
	}
	return len(b), nil
}

// flush writes what is held.
func (h *holdLast) flush() error {
	_, err := h.w.Write(h.buf)
	h.buf = nil
	return err
}

// take is the runner's error: the last line written, when it is one
// (it starts with "name: ", as a runner prints its errors), without that
// prefix; it is not printed. Anything else (a crash's trace) is flushed
// and take returns "".
func (h *holdLast) take(name string) string {
	line := strings.TrimSpace(string(h.buf))
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		h.w.Write([]byte(line[:i+1]))
		line = line[i+1:]
	}
	h.buf = nil
	msg, ok := strings.CutPrefix(line, name+": ")
	if !ok {
		fmt.Fprintln(h.w, line)
		return ""
	}
	return strings.TrimSuffix(msg, " (see --help)")
}
