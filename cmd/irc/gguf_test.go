package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/irc-compiler/irc/internal/gguf"
	"github.com/irc-compiler/irc/internal/numcheck"
	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/runner"
)

// ggufModel converts the checkpoint of tinyModel(preset) to GGUF as
// llama.cpp's converter would (matrices in their dtype, vectors F32,
// llama's q/k rows permuted), beside the safetensors import, and imports
// it. It returns both model files.
func ggufModel(t *testing.T, preset string) (stIRPB, ggufPath, ggIRPB string) {
	t.Helper()
	dir, stIRPB := tinyModel(t, preset)
	root := filepath.Dir(stIRPB)
	ggufPath = filepath.Join(root, preset+".gguf")
	if err := gguf.ConvertHF(dir, ggufPath); err != nil {
		t.Fatal(err)
	}
	ggIRPB = filepath.Join(root, "gguf.irpb")
	if _, errOut, code := irc(t, "import", ggufPath, "-o", ggIRPB, "--prefill-len", "4"); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	return stIRPB, ggufPath, ggIRPB
}

// Every tiny preset gives exactly the safetensors import's logits in ref
// from its GGUF file: the same graphs, the same bytes (bf16 matrices as
// stored, F32 vectors narrowed exactly, llama's q/k permutation undone,
// Llama 3 RoPE scaling through the rope_freqs factors).
func TestGGUFImportMatchesSafetensors(t *testing.T) {
	for _, p := range testmodel.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			stIRPB, _, ggIRPB := ggufModel(t, p.Name)
			if msg := sameRefRun(t, stIRPB, ggIRPB); msg != "" {
				t.Errorf("GGUF import vs safetensors import: %s", msg)
			}
		})
	}
}

// The generated OpenCL runner reads the GGUF file too (packed q/k/v parts
// from it, llama's permuted q/k rows and biases undone) and agrees with ref.
func TestOpenCLRunnerGGUF(t *testing.T) {
	_, _, ggIRPB := ggufModel(t, "llama-mha-odd")
	runnerMatchesRef(t, ggIRPB)
}

// Every malformed or unsupported GGUF file gives one line, exit 1.
func TestBadGGUF(t *testing.T) {
	dir, _ := tinyModel(t, "llama-tiny")
	good := filepath.Join(t.TempDir(), "good.gguf")
	if err := gguf.ConvertHF(dir, good); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	// write writes the model with its metadata edited, a tensor dropped
	// and others added.
	write := func(t *testing.T, edit func([]gguf.KV) []gguf.KV, drop string, extra ...gguf.Tensor) string {
		cfg, err := hf.ReadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := safetensors.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer ck.Close()
		kvs, tensors, err := gguf.FromHF(cfg, ck, "x")
		if err != nil {
			t.Fatal(err)
		}
		var kept []gguf.Tensor
		for _, x := range tensors {
			if x.Name != drop {
				kept = append(kept, x)
			}
		}
		kept = append(kept, extra...)
		p := filepath.Join(t.TempDir(), "m.gguf")
		if err := gguf.WriteFile(p, edit(kvs), kept); err != nil {
			t.Fatal(err)
		}
		return p
	}
	setKV := func(key string, v any) func([]gguf.KV) []gguf.KV {
		return func(kvs []gguf.KV) []gguf.KV {
			var out []gguf.KV
			for _, kv := range kvs {
				if kv.Key == key {
					if v == nil {
						continue
					}
					kv.Value = v
				}
				out = append(out, kv)
			}
			return out
		}
	}
	keep := func(kvs []gguf.KV) []gguf.KV { return kvs }
	// ropeFreqs is a rope_freqs tensor of the given factors.
	ropeFreqs := func(factors ...float32) gguf.Tensor {
		data := make([]byte, 4*len(factors))
		for i, f := range factors {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(f))
		}
		return gguf.Tensor{Name: "rope_freqs.weight", Type: gguf.F32, Dims: []int64{int64(len(factors))}, Data: data}
	}
	cfg, err := hf.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]float32, cfg.HeadDim/2)
	for i := range pairs {
		pairs[i] = 1
	}
	pairs[1] = -2
	raw := func(t *testing.T, b []byte) string {
		p := filepath.Join(t.TempDir(), "m.gguf")
		os.WriteFile(p, b, 0o644)
		return p
	}
	// The type field of attn_q's info: name, n_dims u32, two u64 dims.
	name := "blk.0.attn_q.weight"
	typeAt := bytes.Index(data, []byte(name)) + len(name) + 4 + 16
	cases := []struct {
		name string
		file func(t *testing.T) string
		want string
	}{
		{"truncated", func(t *testing.T) string { return raw(t, data[:len(data)/2]) }, "run past the data section's"},
		{"unsupported type", func(t *testing.T) string {
			b := bytes.Clone(data)
			binary.LittleEndian.PutUint32(b[typeAt:], 12)
			return raw(t, b)
		}, "tensor blk.0.attn_q.weight: type Q4_K is not supported (F32, F16, BF16, Q8_0, Q4_0)"},
		{"quantized rows not whole blocks", func(t *testing.T) string {
			b := bytes.Clone(data)
			binary.LittleEndian.PutUint32(b[typeAt:], 8)
			binary.LittleEndian.PutUint64(b[typeAt-16:], 33)
			return raw(t, b)
		}, "tensor blk.0.attn_q.weight: Q8_0 rows of 33 elements are not whole blocks of 32"},
		{"quantized size past the data", func(t *testing.T) string {
			b := bytes.Clone(data)
			binary.LittleEndian.PutUint32(b[typeAt:], 8)
			binary.LittleEndian.PutUint64(b[typeAt-8:], 1<<40)
			return raw(t, b)
		}, "tensor blk.0.attn_q.weight: "},
		{"unknown arch", func(t *testing.T) string { return write(t, setKV("general.architecture", "mamba"), "") }, `general.architecture is "mamba" (supported: llama, qwen2, qwen3)`},
		{"arch key missing", func(t *testing.T) string { return write(t, setKV("general.architecture", nil), "") }, "metadata general.architecture is missing"},
		{"wrong arch keys", func(t *testing.T) string { return write(t, setKV("llama.block_count", nil), "") }, "metadata llama.block_count is missing"},
		{"key of the wrong type", func(t *testing.T) string { return write(t, setKV("llama.block_count", "two"), "") }, "metadata llama.block_count is a string, want an integer"},
		{"layers past the tensors", func(t *testing.T) string { return write(t, setKV("llama.block_count", uint32(3)), "") }, "missing tensor blk.2.attn_norm.weight"},
		{"rope scaling", func(t *testing.T) string {
			return write(t, func(kvs []gguf.KV) []gguf.KV {
				return append(kvs, gguf.KV{Key: "llama.rope.scaling.type", Value: "yarn"})
			}, "")
		}, `llama.rope.scaling.type is "yarn": RoPE scaling from GGUF is not supported`},
		{"missing tensor", func(t *testing.T) string { return write(t, keep, "blk.1.ffn_up.weight") }, "missing tensor blk.1.ffn_up.weight"},
		{"rope_freqs of the wrong length", func(t *testing.T) string { return write(t, keep, "", ropeFreqs(1, 2, 3)) },
			fmt.Sprintf("tensor rope_freqs.weight is F32 [3], want F32 [%d]", cfg.HeadDim/2)},
		{"rope_freqs factor not positive", func(t *testing.T) string { return write(t, keep, "", ropeFreqs(pairs...)) },
			"tensor rope_freqs.weight: factor 1 is -2, want a positive finite number"},
		{"partial rope", func(t *testing.T) string { return write(t, setKV("llama.rope.dimension_count", uint32(4)), "") }, "only full-width RoPE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := irc(t, "import", c.file(t), "-o", tmp(t, "m.irpb"))
			if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "goroutine") {
				t.Fatalf("exit %d, stderr %q, want one line containing %q", code, errOut, c.want)
			}
		})
	}
}

// GGUF files whose matrices are F32 or F16 (llama.cpp's --outtype) import
// as models computing in F32 (their norms' type, as llama.cpp computes)
// with the matrices in their stored type; their logits stay within
// rounding of the bf16 checkpoint's, with the same greedy ids where the
// margin is clear.
func TestGGUFMatrixTypes(t *testing.T) {
	for _, typ := range []gguf.Type{gguf.F32, gguf.F16} {
		t.Run(typ.String(), func(t *testing.T) {
			dir, stIRPB := tinyModel(t, "llama-tiny")
			root := filepath.Dir(stIRPB)
			path := filepath.Join(root, "m.gguf")
			if err := gguf.ConvertHFAs(dir, path, typ); err != nil {
				t.Fatal(err)
			}
			ggIRPB := filepath.Join(root, "gguf.irpb")
			if _, errOut, code := irc(t, "import", path, "-o", ggIRPB, "--prefill-len", "4"); code != 0 {
				t.Fatalf("import: %s", errOut)
			}
			m, err := ir.Load(ggIRPB)
			if err != nil {
				t.Fatal(err)
			}
			if m.Meta.DType != "float32" {
				t.Errorf("meta dtype %q, want float32 (the norms' type)", m.Meta.DType)
			}
			for _, w := range m.Weights {
				if want := map[bool]string{true: typ.String(), false: "F32"}[len(w.Value.Type.Shape) == 2]; !strings.EqualFold(w.Value.Type.DType.String(), want) {
					t.Errorf("weight @%s is %v, want %s as stored", w.Value.Name, w.Value.Type, want)
				}
			}
			prompt := "5,17,3,9,2,11"
			var vals [2][]float32
			var ids [2][]int64
			var vocab int
			for i, m := range []string{stIRPB, ggIRPB} {
				npyPath := filepath.Join(t.TempDir(), "logits.npy")
				out, errOut, code := irc(t, "run", m, "--tokens", prompt, "--generate", "4", "--logits-out", npyPath)
				if code != 0 {
					t.Fatalf("run %s: %s", m, errOut)
				}
				var h npy.Header
				h, vals[i] = readNpy(t, npyPath)
				vocab = h.Descr.Shape[1]
				var err error
				if ids[i], err = runner.ParseTokens(lastLine(out)); err != nil {
					t.Fatal(err)
				}
			}
			if len(vals[0]) != len(vals[1]) {
				t.Fatalf("%d logits, want %d", len(vals[1]), len(vals[0]))
			}
			row := func(r int) []float32 { return vals[0][r*vocab : (r+1)*vocab] }
			p := len(strings.Split(prompt, ","))
			if err := numcheck.GreedyMismatch(ids[1], ids[0], func(i int) []float32 { return row(p - 1 + i) }, 0.05); err != nil {
				t.Fatal(err)
			}
			for r := range numcheck.ComparedRows(len(vals[0])/vocab, p, ids[1], ids[0]) {
				if e := numcheck.RelL2(vals[1][r*vocab:(r+1)*vocab], row(r)); e > 2e-2 {
					t.Errorf("row %d: relative L2 %.3g", r, e)
				}
			}
		})
	}
}

// quantGGUF writes preset p's checkpoint, imports it with --quantize q,
// converts it to GGUF with its linear layers q (hf2gguf --outtype q) and
// imports that; it returns both model files and the GGUF file.
func quantGGUF(t *testing.T, p testmodel.Preset, q string) (irpb, ggufPath, ggIRPB string) {
	t.Helper()
	typ := map[string]gguf.Type{"q8_0": gguf.Q8_0, "q4_0": gguf.Q4_0}[q]
	root := t.TempDir()
	dir := filepath.Join(root, p.Name)
	if err := testmodel.Write(dir, p, 1); err != nil {
		t.Fatal(err)
	}
	irpb = filepath.Join(root, "st.irpb")
	if _, errOut, code := irc(t, "import", dir, "-o", irpb, "--prefill-len", "4", "--quantize", q); code != 0 {
		t.Fatalf("import --quantize: %s", errOut)
	}
	ggufPath = filepath.Join(root, "m.gguf")
	if err := gguf.ConvertHFAs(dir, ggufPath, typ); err != nil {
		t.Fatal(err)
	}
	ggIRPB = filepath.Join(root, "gguf.irpb")
	if _, errOut, code := irc(t, "import", ggufPath, "-o", ggIRPB, "--prefill-len", "4"); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	m, err := ir.ReadFile(ggIRPB)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, w := range m.Weights {
		if w.Value.Type.DType.String() == q {
			n++
		}
	}
	if n != int(7*p.Layers) {
		t.Errorf("%d weights %s, want every linear layer's (%d)", n, q, 7*p.Layers)
	}
	return irpb, ggufPath, ggIRPB
}

// GGUF files with Q8_0 and Q4_0 linear layers (hf2gguf --outtype q8_0|q4_0,
// quantized by the rounding irc import --quantize uses) import as q8_0 and
// q4_0 weights bound to the file's blocks, and give exactly the logits of
// the checkpoint imported with --quantize, on every tiny preset GGUF
// supports (sizes rounded to blocks): the same blocks, llama's permuted
// q/k rows (whole blocks) undone.
func TestGGUFQuantizedMatchesQuantizeImport(t *testing.T) {
	for _, p := range testmodel.Presets() {
		if p.RopeScaling != nil {
			continue
		}
		for _, q := range []string{"q8_0", "q4_0"} {
			t.Run(p.Name+"/"+q, func(t *testing.T) {
				irpb, _, ggIRPB := quantGGUF(t, p.Blocks(), q)
				if msg := sameRefRun(t, irpb, ggIRPB); msg != "" {
					t.Errorf("GGUF %s import vs --quantize import: %s", q, msg)
				}
			})
		}
	}
}

// The OpenCL runner reads a quantized GGUF's blocks too (merged q/k/v
// parts from the file, llama's permuted rows undone) and agrees with ref;
// a file whose block type changed after import is refused at load, by
// type, though its bytes could have the same count.
func TestOpenCLRunnerQuantizedGGUF(t *testing.T) {
	p, _ := testmodel.Find("llama-mha-odd")
	_, path, ggIRPB := quantGGUF(t, p.Blocks(), "q4_0")
	runnerMatchesRef(t, ggIRPB)

	dir := filepath.Dir(path)
	if err := gguf.ConvertHFAs(filepath.Join(dir, p.Name), path, gguf.Q8_0); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := irc(t, "run", ggIRPB, "--tokens", "1,2")
	if code != 1 || !strings.Contains(errOut, `is Q8_0, the model declares q4_0`) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("run on a retyped file: exit %d, %q", code, errOut)
	}
}

// A GGUF import keeps the file's vocabulary (tokenizer.ggml.*) in the
// model's metadata, through the .irpb; a malformed one is one line.
func TestGGUFTokenizerKept(t *testing.T) {
	_, path, ggIRPB := ggufModel(t, "llama-tiny")
	m, err := ir.ReadFile(ggIRPB)
	if err != nil {
		t.Fatal(err)
	}
	tok := m.Meta.Tokenizer
	if tok == nil {
		t.Fatal("no tokenizer in the GGUF import")
	}
	// llama-tiny's 97 ids (internal/gguf) are no byte-level vocabulary and
	// its pre name is "default": the weights import, the tokenizer is kept
	// by name with the reason it cannot be used.
	if tok.Model != "gpt2" || tok.Pre != "default" || len(tok.Tokens) != 0 ||
		!strings.Contains(tok.Unsupported, `GGUF pre-tokenizer "default" is not supported`) {
		t.Errorf("tokenizer %s %q, %d tokens, unsupported %q", tok.Model, tok.Pre, len(tok.Tokens), tok.Unsupported)
	}
	dump, errOut, code := irc(t, "dump", ggIRPB)
	if code != 0 || !strings.Contains(dump, `# tokenizer "gpt2" (pre "default"): not supported: tokenizer: GGUF pre-tokenizer "default" is not supported`) {
		t.Errorf("dump: exit %d %s", code, errOut)
	}

	dir := filepath.Dir(path)
	cfg, err := hf.ReadConfig(filepath.Join(dir, "llama-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := safetensors.OpenDir(filepath.Join(dir, "llama-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	for _, c := range []struct {
		key  string
		val  any
		want string
	}{
		{"tokenizer.ggml.tokens", "x", "metadata tokenizer.ggml.tokens is not an array"},
		{"tokenizer.ggml.token_type", []string{"a"}, "metadata tokenizer.ggml.token_type is not an array of integers"},
		{"tokenizer.ggml.model", int32(3), "metadata tokenizer.ggml.model is a"},
	} {
		kvs, tensors, err := gguf.FromHF(cfg, ck, "x")
		if err != nil {
			t.Fatal(err)
		}
		for i := range kvs {
			if kvs[i].Key == c.key {
				kvs[i].Value = c.val
			}
		}
		p := filepath.Join(t.TempDir(), "m.gguf")
		if err := gguf.WriteFile(p, kvs, tensors); err != nil {
			t.Fatal(err)
		}
		_, errOut, code := irc(t, "import", p, "-o", tmp(t, "m.irpb"))
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%s = %v: exit %d, %q, want one line with %q", c.key, c.val, code, errOut, c.want)
		}
	}
}

// sameRefRun runs both models greedily in ref on one prompt and says how
// their ids and logits differ ("" when they are the same bytes).
func sameRefRun(t *testing.T, a, b string) string {
	t.Helper()
	var logits [2][]byte
	var ids [2]string
	for i, m := range []string{a, b} {
		npy := filepath.Join(t.TempDir(), "logits.npy")
		out, errOut, code := irc(t, "run", m, "--tokens", "5,17,3,9,2,11", "--generate", "4", "--logits-out", npy)
		if code != 0 {
			t.Fatalf("run %s: %s", m, errOut)
		}
		ids[i] = lastLine(out)
		logits[i], _ = os.ReadFile(npy)
	}
	if ids[0] != ids[1] || len(logits[0]) == 0 || !bytes.Equal(logits[0], logits[1]) {
		return fmt.Sprintf("ids %s and %s, logits equal: %v", ids[0], ids[1], len(logits[0]) > 0 && bytes.Equal(logits[0], logits[1]))
	}
	return ""
}
