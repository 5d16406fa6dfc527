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
	"github.com/irc-compiler/irc/codegen/backend"
	"github.com/irc-compiler/irc/codegen/cuda"
	"github.com/irc-compiler/irc/internal/backendtest"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
)

// lower compiles m for CUDA's target.
func lower(t *testing.T, m *ir.Model) *codegen.Lowered {
	return backendtest.Compile(t, m, backend.MustLookup("cuda"))
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
	// f32 activations over f16 matrices (a GGUF file's F16 model as
	// ImportGGUF builds it): the linear and embedding kernels' mixed
	// instances.
	cfg, err := hf.ReadConfig(filepath.Join("..", "..", "models", "qwen2.5-1.5b-instruct"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DType = "float32"
	f16 := map[string]ir.DType{}
	for _, w := range m.Weights {
		if len(w.Value.Type.Shape) == 2 {
			f16[w.Value.Name] = ir.F16
		}
	}
	if out["qwen2.5-1.5b-f32-f16"], err = hf.Build(cfg, hf.Options{MaxCacheLen: 4096, WeightTypes: f16}); err != nil {
		t.Fatal(err)
	}
	// Quantized weights: every linear kernel and embedding_mixed for q8_0
	// and q4_0 (config-only imports quantize nothing on disk).
	for _, q := range []ir.DType{ir.Q8_0, ir.Q4_0} {
		m, _, err := hf.Import(filepath.Join("..", "..", "models", "qwen2.5-1.5b-instruct"), hf.Options{MaxCacheLen: 4096, Quantize: q, QuantizeEmbeddings: q == ir.Q4_0})
		if err != nil {
			t.Fatal(err)
		}
		out["qwen2.5-1.5b-"+q.String()] = m
	}
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
			cmd := exec.Command(nvcc, append([]string{"-Xptxas", "-v"}, cuda.NvccArgs(src, cuda.Fatbin(src), cuda.DefaultArches)...)...)
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

// CUDA's target runs prefill GEMMs of 16-bit models on tensor cores and
// f32 ones on the blocked twin; its source defines the tensor-core kernel
// for each 16-bit dtype it uses.
func TestPrefillGEMMVariant(t *testing.T) {
	for _, tc := range []struct{ dtype, kernel string }{{"bf16", "linear_gemm_tc_bf16"}, {"f16", "linear_gemm_tc_f16"}, {"f32", "linear_gemm_blocked_f32"}} {
		m, err := ir.Parse("g", strings.ReplaceAll("irc v1\ngraph g(%x: D[70,33], %w: D[40,33]) {\n  %y = linear(%x, %w) : D[70,40]\n  return %y\n}\n", "D[", tc.dtype+"["))
		if err != nil {
			t.Fatal(err)
		}
		low, err := codegen.LowerGraphs(m, cuda.Target, "g")
		if err != nil {
			t.Fatal(err)
		}
		l := low.Schedule.Graphs[0].Launches[0]
		if got := low.Schedule.Kernels[l.Kernel]; got != tc.kernel {
			t.Errorf("%s: lowered to %s, want %s", tc.dtype, got, tc.kernel)
		}
		// 70x40 in 64x64 blocks of 128 items: 1 x 2 groups.
		if l.Global != [3]int{128, 2, 1} || l.Local != [3]int{128, 1, 1} {
			t.Errorf("%s: grid %v/%v, want [128 2 1]/[128 1 1]", tc.dtype, l.Global, l.Local)
		}
		wantTC := tc.dtype != "f32"
		if got := strings.Contains(cuda.Source(low), "KERNEL void TYPED(linear_gemm_tc)"); got != wantTC {
			t.Errorf("%s: the source holds the tensor-core kernel: %v, want %v", tc.dtype, got, wantTC)
		}
	}
}

func TestNvccArgs(t *testing.T) {
	arches, err := cuda.ParseArches("sm_80, 90")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cuda.NvccArgs("k.cu", cuda.Fatbin("k.cu"), arches), " ")
	want := "-fatbin -O3 -o k.fatbin -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=[sm_90,compute_90] k.cu"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
