package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/ir"
)

// writeRunner lowers a compiled model and writes its runner for backend b
// into dir; the runner finds weights relative to weightsDir unless told
// otherwise.
func writeRunner(m *ir.Model, b *backend.Backend, weightsDir, dir string) (*codegen.Lowered, error) {
	low, err := codegen.Lower(m, b.Target)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(low, b, weightsDir, dir)
	if err != nil {
		return nil, err
	}
	return low, writeRunnerFiles(r, dir)
}

// newRunner is the runner of a lowered model, to be written into dir.
func newRunner(low *codegen.Lowered, b *backend.Backend, weightsDir, dir string) (*runnergen.Runner, error) {
	abs, err := filepath.Abs(weightsDir)
	if err != nil {
		return nil, err
	}
	return &runnergen.Runner{
		Name: filepath.Base(filepath.Clean(dir)), Schedule: low.Schedule, WeightsDir: abs,
		Backend: b, Kernels: b.Emit(low),
	}, nil
}

func writeRunnerFiles(r *runnergen.Runner, dir string) error {
	if err := r.Write(dir); err != nil {
		return fmt.Errorf("writing the runner to %s: %w", dir, err)
	}
	return nil
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
	if len(b.Generate) > 0 {
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

// runRunner executes a built runner with args, passing its output through.
func runRunner(bin string, args []string, stdout, stderr io.Writer) error {
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the runner failed: %w", err)
	}
	return nil
}
