package cuda_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/codegen/cuda"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/passes"
)

// lower runs the GPU pipeline over m and lowers it for the portable target.
func lower(t *testing.T, m *ir.Model) *codegen.Lowered {
	t.Helper()
	pipe, err := passes.DefaultPipeline("cuda")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(m, &passes.Options{Pipeline: pipe, Target: "cuda"}); err != nil {
		t.Fatal(err)
	}
	low, err := codegen.Lower(m, codegen.Portable)
	if err != nil {
		t.Fatal(err)
	}
	return low
}

// models are what CI compiles: every tiny preset and Qwen2.5-1.5B's config.
func models(t *testing.T) map[string]*ir.Model {
	out := map[string]*ir.Model{}
	for _, p := range testmodel.Presets() {
		dir := filepath.Join(t.TempDir(), p.Name)
		if err := testmodel.Write(dir, p, 1); err != nil {
			t.Fatal(err)
		}
		m, _, err := hf.Import(dir, hf.Options{MaxCacheLen: 64, PrefillLen: 16})
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name] = m
	}
	m, _, err := hf.Import(filepath.Join("..", "..", "models", "qwen2.5-1.5b-instruct"), hf.Options{MaxCacheLen: 32768})
	if err != nil {
		t.Fatal(err)
	}
	out["qwen2.5-1.5b"] = m
	return out
}

// needNvcc finds nvcc, or skips (fails where CI requires nvcc).
func needNvcc(t *testing.T) string {
	nvcc, err := exec.LookPath("nvcc")
	backendtest.Need(t, "nvcc", err)
	return nvcc
}

// Every kernel of every model CI knows compiles for sm_80 and sm_90 (SASS
// and PTX) with no register spills; ptxas's report is logged.
func TestKernelsCompileWithoutSpills(t *testing.T) {
	nvcc := needNvcc(t)
	entry := regexp.MustCompile(`Compiling entry function '(\w+)' for '(sm_\d+)'`)
	spill := regexp.MustCompile(`(\d+) bytes spill stores, (\d+) bytes spill loads`)
	usage := regexp.MustCompile(`Used (\d+) registers(?:, (\d+) bytes smem)?`)
	for name, m := range models(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, cuda.FileName)
			if err := os.WriteFile(src, []byte(cuda.Source(lower(t, m))), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(nvcc, append([]string{"-Xptxas", "-v"}, cuda.NvccArgs(src, filepath.Join(dir, cuda.FatbinName), cuda.DefaultArches)...)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("nvcc: %v\n%s", err, out)
			}
			if bytes.Contains(out, []byte("warning")) {
				t.Errorf("nvcc warns:\n%s", out)
			}
			var kernel, arch string
			seen := map[string]bool{}
			for _, line := range strings.Split(string(out), "\n") {
				if e := entry.FindStringSubmatch(line); e != nil {
					kernel, arch = e[1], e[2]
					seen[arch] = true
				}
				if s := spill.FindStringSubmatch(line); s != nil && (s[1] != "0" || s[2] != "0") {
					t.Errorf("%s on %s spills: %s", kernel, arch, strings.TrimSpace(line))
				}
				if u := usage.FindStringSubmatch(line); u != nil && name == "qwen2.5-1.5b" && arch == "sm_90" {
					regs, _ := strconv.Atoi(u[1])
					t.Logf("%-26s %3d registers, %5s bytes shared", kernel, regs, u[2])
				}
			}
			for _, a := range cuda.DefaultArches {
				if !seen["sm_"+a] {
					t.Errorf("ptxas compiled nothing for sm_%s:\n%s", a, out)
				}
			}
		})
	}
}

// The same model gives byte-identical CUDA source.
func TestSourceIsDeterministic(t *testing.T) {
	a := cuda.Source(lower(t, models(t)["qwen3-tiny"]))
	b := cuda.Source(lower(t, models(t)["qwen3-tiny"]))
	if a != b {
		t.Fatal("two compiles of one model gave different CUDA source")
	}
	if !strings.Contains(a, `#define KERNEL extern "C" __global__`) || !strings.Contains(a, "#define PARAMS_rms_norm ") {
		t.Fatal("the source lacks the CUDA prelude or the generated signatures")
	}
}

func TestNvccArgs(t *testing.T) {
	got := strings.Join(cuda.NvccArgs("k.cu", "k.fatbin", cuda.ParseArches("sm_80, 90")), " ")
	want := "-fatbin -O3 -o k.fatbin -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90] k.cu"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
