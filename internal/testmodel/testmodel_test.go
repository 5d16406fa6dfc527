package testmodel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir/safetensors"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two writes with one seed are byte-identical; another seed changes the
// weights but not the config.
func TestWriteIsDeterministic(t *testing.T) {
	for _, p := range Presets() {
		a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
		for _, w := range []struct {
			dir  string
			seed uint64
		}{{a, 3}, {b, 3}, {c, 4}} {
			if err := Write(w.dir, p, w.seed); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"config.json", "model.safetensors"} {
			x, y, z := readFile(t, filepath.Join(a, f)), readFile(t, filepath.Join(b, f)), readFile(t, filepath.Join(c, f))
			if len(x) == 0 || !bytes.Equal(x, y) {
				t.Errorf("%s/%s differs between two writes with the same seed", p.Name, f)
			}
			if f == "model.safetensors" && bytes.Equal(x, z) {
				t.Errorf("%s: seeds 3 and 4 give the same weights", p.Name)
			}
			if len(x) >= 1<<20 {
				t.Errorf("%s/%s is %d bytes, want < 1 MiB", p.Name, f, len(x))
			}
		}
	}
}

// hfConfig is what transformers reads from a tiny config.json.
type hfConfig struct {
	Architectures []string `json:"architectures"`
	ModelType     string   `json:"model_type"`
	Hidden        int      `json:"hidden_size"`
	Intermediate  int      `json:"intermediate_size"`
	Layers        int      `json:"num_hidden_layers"`
	Heads         int      `json:"num_attention_heads"`
	KVHeads       int      `json:"num_key_value_heads"`
	HeadDim       *int     `json:"head_dim"`
	Vocab         int      `json:"vocab_size"`
	Tied          *bool    `json:"tie_word_embeddings"`
	TorchDType    string   `json:"torch_dtype"`
	HiddenAct     string   `json:"hidden_act"`
	RopeTheta     float64  `json:"rope_theta"`
	Eps           float64  `json:"rms_norm_eps"`
	RopeScaling   *struct {
		RopeType string  `json:"rope_type"`
		Factor   float64 `json:"factor"`
		Orig     int     `json:"original_max_position_embeddings"`
	} `json:"rope_scaling"`
}

// config.json parses, says what the preset says, and spells floats as
// Python does (transformers checks isinstance(factor, float)).
func TestConfigParses(t *testing.T) {
	for _, p := range Presets() {
		dir := t.TempDir()
		if err := Write(dir, p, 1); err != nil {
			t.Fatal(err)
		}
		raw := readFile(t, filepath.Join(dir, "config.json"))
		var c hfConfig
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if !slices.Equal(c.Architectures, []string{p.Arch}) || c.ModelType == "" || c.TorchDType != "bfloat16" || c.HiddenAct != "silu" {
			t.Errorf("%s: header fields %+v", p.Name, c)
		}
		if c.Hidden != p.Hidden || c.Intermediate != p.Intermediate || c.Layers != p.Layers || c.Heads != p.Heads ||
			c.KVHeads != p.KVHeads || c.Vocab != p.Vocab || c.Tied == nil || *c.Tied != p.Tied ||
			c.RopeTheta != p.RopeTheta || c.Eps != p.Eps {
			t.Errorf("%s: sizes %+v do not match the preset", p.Name, c)
		}
		if (c.HeadDim != nil) != (p.HeadDim != 0) || (c.HeadDim != nil && *c.HeadDim != p.HeadDim) {
			t.Errorf("%s: head_dim %v, preset %d", p.Name, c.HeadDim, p.HeadDim)
		}
		if (c.RopeScaling != nil) != (p.RopeScaling != nil) {
			t.Errorf("%s: rope_scaling %v", p.Name, c.RopeScaling)
		}
		if p.RopeScaling != nil && (c.RopeScaling.RopeType != "llama3" || c.RopeScaling.Factor != p.RopeScaling.Factor ||
			!strings.Contains(string(raw), `"factor": 8.0`)) {
			t.Errorf("%s: rope_scaling written as %s", p.Name, raw)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{8: "8.0", 1e-5: "1e-05", 1e-6: "1e-06", 500000: "500000.0", 0.02: "0.02", 0: "0.0", 1e6: "1000000.0"} {
		if got, _ := pyFloat(v).MarshalJSON(); string(got) != want {
			t.Errorf("pyFloat(%g) = %s, want %s", v, got, want)
		}
	}
}

// Every tensor has its HF name, shape and dtype, and there are no others;
// norm weights stay near 1 and matrices are not constant.
func TestTensors(t *testing.T) {
	for _, p := range Presets() {
		dir := t.TempDir()
		if err := Write(dir, p, 7); err != nil {
			t.Fatal(err)
		}
		c, err := safetensors.OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := p.Tensors()
		if got := len(c.Names()); got != len(want) {
			t.Errorf("%s: %d tensors, want %d", p.Name, got, len(want))
		}
		for name, shape := range want {
			info, ok := c.Tensor(name)
			if !ok || info.DType != safetensors.BF16 || !slices.Equal(info.Shape, shape) {
				t.Fatalf("%s: tensor %s is %v %v (present %v), want BF16 %v", p.Name, name, info.DType, info.Shape, ok, shape)
			}
			vals, _, err := c.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := slices.Min(vals), slices.Max(vals)
			if strings.HasSuffix(name, "norm.weight") && (lo < 0.89 || hi > 1.11) {
				t.Errorf("%s: %s in [%g, %g], want 1 ± 0.1", p.Name, name, lo, hi)
			}
			if len(shape) == 2 && hi-lo < 0.1 {
				t.Errorf("%s: %s is nearly constant", p.Name, name)
			}
		}
		_, hasHead := c.Tensor("lm_head.weight")
		if hasHead == p.Tied {
			t.Errorf("%s: lm_head.weight present %v with tie_word_embeddings %v", p.Name, hasHead, p.Tied)
		}
		c.Close()
	}
}

// The presets together cover what the compiler must handle.
func TestPresetsCoverTheCases(t *testing.T) {
	archs, ratios := map[string]bool{}, map[int]bool{}
	var llamaHeadDim, qwen3HeadDim, odd, scaled, tied, untied, bias bool
	names := map[string]bool{}
	for _, p := range Presets() {
		if names[p.Name] {
			t.Errorf("preset %s listed twice", p.Name)
		}
		names[p.Name] = true
		if q, ok := Find(p.Name); !ok || q.Name != p.Name {
			t.Errorf("Find(%q) fails", p.Name)
		}
		if p.Heads%p.KVHeads != 0 || p.headDim()%2 != 0 || p.Layers < 2 || p.Layers > 3 {
			t.Errorf("%s: inconsistent sizes", p.Name)
		}
		archs[p.Arch] = true
		ratios[p.Heads/p.KVHeads] = true
		explicit := p.HeadDim != 0 && p.HeadDim != p.Hidden/p.Heads
		llamaHeadDim = llamaHeadDim || (explicit && p.Arch == "LlamaForCausalLM")
		qwen3HeadDim = qwen3HeadDim || (explicit && p.Arch == "Qwen3ForCausalLM")
		odd = odd || (p.Hidden%32 != 0 && p.Intermediate%32 != 0 && p.Vocab%32 != 0)
		scaled = scaled || p.RopeScaling != nil
		tied, untied = tied || p.Tied, untied || !p.Tied
		bias = bias || p.AttentionBias
	}
	for _, a := range []string{"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"} {
		if !archs[a] {
			t.Errorf("no preset of %s", a)
		}
	}
	for _, r := range []int{1, 3, 4} {
		if !ratios[r] {
			t.Errorf("no preset with GQA ratio %d:1", r)
		}
	}
	if !llamaHeadDim || !qwen3HeadDim || !odd || !scaled || !tied || !untied || !bias || len(names) < 5 {
		t.Errorf("coverage: llama head_dim %v, qwen3 head_dim %v, odd sizes %v, llama3 scaling %v, tied %v, untied %v, bias %v, %d presets",
			llamaHeadDim, qwen3HeadDim, odd, scaled, tied, untied, bias, len(names))
	}
	if _, ok := Find("no-such-preset"); ok {
		t.Error("Find of an unknown name succeeds")
	}
}

// The bench presets are found by name, never among the tiny ones the tests
// write, and their sizes are what the benchmark relies on: a checkpoint of
// 200-300 MB and a max_position_embeddings above irc import's default
// cache (4096), so that decoding at position 4000 fits.
func TestBenchPresets(t *testing.T) {
	tiny := map[string]bool{}
	for _, p := range Presets() {
		tiny[p.Name] = true
	}
	for _, p := range BenchPresets() {
		if tiny[p.Name] {
			t.Errorf("bench preset %s is also a tiny preset", p.Name)
		}
		if q, ok := Find(p.Name); !ok || q.Name != p.Name {
			t.Errorf("Find(%q) fails", p.Name)
		}
		var params int64
		for _, shape := range p.Tensors() {
			n := int64(1)
			for _, d := range shape {
				n *= d
			}
			params += n
		}
		if mb := 2 * params / 1e6; mb < 200 || mb > 300 {
			t.Errorf("%s: %d MB of bf16, want 200-300", p.Name, mb)
		}
		if p.Heads%p.KVHeads != 0 || p.headDim() != 64 {
			t.Errorf("%s: inconsistent sizes", p.Name)
		}
		if got := p.Config()["max_position_embeddings"]; got != p.MaxPositions || p.MaxPositions < 4096 {
			t.Errorf("%s: max_position_embeddings %v, want >= 4096", p.Name, got)
		}
	}
}
