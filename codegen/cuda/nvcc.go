package cuda

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultArches are the GPUs a runner carries machine code for: SASS for
// sm_80 (A100) and sm_90 (H100/H200), plus sm_90's PTX, which the driver
// JIT-compiles for newer GPUs (a driver accepts PTX of its own CUDA
// release or older, so the PTX nvcc 11.8 writes runs under later drivers).
var DefaultArches = []string{"80", "90"}

// Fatbin is the name of the fatbin nvcc compiles kernel source src into.
func Fatbin(src string) string { return strings.TrimSuffix(src, path.Ext(src)) + ".fatbin" }

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
// capabilities such as 80,86,90 (an sm_ prefix allowed).
func ParseArches(s string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(a), "sm_"))
		if a == "" {
			continue
		}
		if n, err := strconv.Atoi(a); err != nil || n < 50 || n > 199 {
			return nil, fmt.Errorf("--cuda-arch %s: %q is not a compute capability (want numbers such as 80, 86, 90)", s, a)
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--cuda-arch %q: want compute capabilities such as 80,90", s)
	}
	return out, nil
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
	src := filepath.Join(dir, FileName)
	out := Fatbin(src)
	if err := os.WriteFile(src, []byte(source), 0o644); err != nil {
		return "", err
	}
	if msg, err := exec.Command("nvcc", NvccArgs(src, out, arches)...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("nvcc: %v (the CUDA toolkit's nvcc must be on PATH: Debian's nvidia-cuda-toolkit)\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	return string(data), err
}
