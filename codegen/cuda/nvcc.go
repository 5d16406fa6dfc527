package cuda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DefaultArches are the GPUs a runner carries machine code for: SASS for
// sm_80 (A100) and sm_90 (H100/H200), plus sm_90's PTX, which the driver
// JIT-compiles for newer GPUs (a driver accepts PTX of its own CUDA
// release or older, so the PTX nvcc 11.8 writes runs under later drivers).
var DefaultArches = []string{"80", "90"}

// FatbinName is the compiled kernels' file name in a runner's folder.
const FatbinName = "kernels.fatbin"

// NvccArgs are nvcc's arguments that compile src into a fatbin at out for
// the given architectures (the last one also as PTX). Adding "-Xptxas -v"
// makes ptxas report registers, shared memory and spills.
func NvccArgs(src, out string, arches []string) []string {
	args := []string{"-fatbin", "-O3", "-o", out}
	for i, a := range arches {
		code := "sm_" + a
		if i == len(arches)-1 {
			code = "[sm_" + a + ",compute_" + a + "]"
		}
		args = append(args, "-gencode", "arch=compute_"+a+",code="+code)
	}
	return append(args, src)
}

// NvccCommand is NvccArgs as one command line, for a go:generate line.
func NvccCommand(src, out string, arches []string) []string {
	return append([]string{"nvcc"}, NvccArgs(src, out, arches)...)
}

// ParseArches reads a --cuda-arch value: comma-separated compute
// capabilities such as 80,90.
func ParseArches(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), "sm_")); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Compile runs nvcc on source in a temporary folder and returns the
// fatbin, for in-process use (the conformance harness on a GPU host); a
// runner compiles its kernels at build time instead (go generate).
func Compile(source string, arches []string) (string, error) {
	dir, err := os.MkdirTemp("", "irc-nvcc-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src, out := filepath.Join(dir, FileName), filepath.Join(dir, FatbinName)
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		return "", err
	}
	if msg, err := exec.Command("nvcc", NvccArgs(src, out, arches)...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("nvcc: %v (the CUDA toolkit's nvcc must be on PATH: Debian's nvidia-cuda-toolkit)\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	return string(data), err
}
