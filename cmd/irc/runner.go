package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/irc-compiler/irc/codegen"
	clgen "github.com/irc-compiler/irc/codegen/opencl"
	"github.com/irc-compiler/irc/codegen/runnergen"
	"github.com/irc-compiler/irc/ir"
)

// gpuTargets are the targets whose output is a generated runner folder.
var gpuTargets = map[string]bool{"opencl": true}

// writeRunner lowers a compiled model and writes its runner into dir; the
// runner finds weights relative to weightsDir unless told otherwise.
func writeRunner(m *ir.Model, target, weightsDir, dir string) (*codegen.Lowered, error) {
	low, err := codegen.Lower(m)
	if err != nil {
		return nil, err
	}
	r, err := newRunner(low, target, weightsDir, dir)
	if err != nil {
		return nil, err
	}
	return low, writeRunnerFiles(r, dir)
}

// newRunner is the runner of a lowered model, to be written into dir.
func newRunner(low *codegen.Lowered, target, weightsDir, dir string) (*runnergen.Runner, error) {
	abs, err := filepath.Abs(weightsDir)
	if err != nil {
		return nil, err
	}
	return &runnergen.Runner{
		Name: filepath.Base(filepath.Clean(dir)), Schedule: low.Schedule, WeightsDir: abs,
		Backend: runnergen.Backend{Name: target, Package: "github.com/irc-compiler/irc/runtime/opencl", KernelFile: clgen.FileName, Kernels: kernelSource(low)},
	}, nil
}

// kernelSource is a lowered model's kernel program.
func kernelSource(low *codegen.Lowered) string { return clgen.Source(low) }

func writeRunnerFiles(r *runnergen.Runner, dir string) error {
	if err := r.Write(dir); err != nil {
		return fmt.Errorf("writing the runner to %s: %w", dir, err)
	}
	return nil
}

// buildRunner runs go build in a runner folder and returns the binary's
// path. -trimpath keeps the build cache valid across folders.
func buildRunner(dir string, log io.Writer) (string, error) {
	abs, err := filepath.Abs(dir) // go build runs in dir: -o must not be relative to ours
	if err != nil {
		return "", err
	}
	bin := filepath.Join(abs, "runner")
	start := time.Now()
	fmt.Fprintf(log, "building the runner in %s ...\n", dir)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build in %s: %w (the OpenCL runner needs cgo, a C compiler and the OpenCL headers: Debian's ocl-icd-opencl-dev)", dir, err)
	}
	fmt.Fprintf(log, "built %s in %s\n", bin, roundDur(time.Since(start)))
	return bin, nil
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
