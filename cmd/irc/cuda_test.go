package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/internal/backendtest"
)

// The CUDA runner is written, compiled by nvcc (go generate) and built
// with the cuda tag here, without a GPU: the binary needs nothing of the
// toolkit, only the driver's libcuda.so.1 and the C library. Its sources
// are the same on recompile. (It runs on a GPU host: scripts/gpu-check.sh.)
func TestCUDARunnerBuilds(t *testing.T) {
	_, err := exec.LookPath("nvcc")
	backendtest.Need(t, "nvcc", err)
	_, irpb := tinyModel(t, "qwen3-tiny")
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for _, dir := range dirs {
		if out, errOut, code := irc(t, "compile", irpb, "--target", "cuda", "-o", dir); code != 0 || !strings.Contains(out, "go generate && go build -trimpath -tags cuda") {
			t.Fatalf("compile: %s %s", out, errOut)
		}
	}
	for _, f := range []string{"kernels.cu", "main.go", "schedule.go", "go.mod"} {
		a, _ := os.ReadFile(filepath.Join(dirs[0], f))
		b, _ := os.ReadFile(filepath.Join(dirs[1], f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two compiles (or is empty)", f)
		}
	}
	bin, err := buildRunner(dirs[0], backend.MustLookup("cuda"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "kernels.fatbin")); err != nil {
		t.Errorf("go generate made no fatbin: %v", err)
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Skipf("ldd: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lib := strings.Fields(line)[0]
		known := strings.HasPrefix(lib, "libcuda.so.1") || strings.HasPrefix(lib, "linux-vdso") || strings.HasPrefix(lib, "/lib64/ld-linux")
		for _, c := range []string{"libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so"} {
			known = known || strings.HasPrefix(lib, c)
		}
		if !known {
			t.Errorf("the runner needs %s, which a host with only the NVIDIA driver lacks", lib)
		}
	}
}

// --cuda-arch picks what nvcc compiles for; it is refused by name where no
// kernels are compiled ahead, and for values that are no compute
// capability.
func TestCUDAArch(t *testing.T) {
	_, irpb := tinyModel(t, "llama-tiny")
	dir := filepath.Join(t.TempDir(), "r")
	if _, errOut, code := irc(t, "compile", irpb, "--target", "cuda", "--cuda-arch", "sm_86,90", "-o", dir); code != 0 {
		t.Fatalf("compile: %s", errOut)
	}
	main, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if !bytes.Contains(main, []byte("-gencode arch=compute_86,code=sm_86 -gencode arch=compute_90,code=[sm_90,compute_90]")) {
		t.Errorf("main.go's go:generate line does not compile for sm_86 and sm_90:\n%s", main)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compile", irpb, "--target", "opencl", "--cuda-arch", "86", "-o", filepath.Join(t.TempDir(), "o")}, "the opencl backend compiles its kernels when a runner loads them"},
		{[]string{"compile", irpb, "--target", "cuda", "--cuda-arch", "ampere", "-o", filepath.Join(t.TempDir(), "o")}, `"ampere" is not a compute capability`},
		{[]string{"compile", irpb, "--target", "ref", "--cuda-arch", "80", "-o", filepath.Join(t.TempDir(), "o.irpb")}, "the ref target writes no GPU kernels"},
		{[]string{"run", irpb, "--tokens", "1", "--cuda-arch", "80"}, "the ref backend runs no GPU kernels"},
		{[]string{"bench", irpb, "--target", "ref", "--cuda-arch", "80"}, "the ref target runs no GPU kernels"},
	} {
		_, errOut, code := irc(t, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("irc %s: exit %d, %q; want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
