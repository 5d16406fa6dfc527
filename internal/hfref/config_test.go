package hfref

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir/bf16"
	"github.com/irc-compiler/irc/ir/safetensors"
)

func mustParse(t *testing.T, js string) config {
	t.Helper()
	c, err := parseConfig([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return c
}

// Missing fields take the transformers config classes' defaults.
func TestConfigDefaults(t *testing.T) {
	llama := mustParse(t, `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":8,"vocab_size":10}`)
	if llama.kvHeads != 8 || llama.headDim != 8 || llama.theta != 10000 || llama.eps != 1e-6 || llama.tied || llama.qkvBias || llama.oBias || llama.llama3 != nil {
		t.Errorf("llama defaults: %+v", llama)
	}
	qwen3 := mustParse(t, `{"architectures":["Qwen3ForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":8,"num_key_value_heads":4,"vocab_size":10,"head_dim":null}`)
	if qwen3.headDim != 128 || !qwen3.qkNorm || qwen3.qkvBias {
		t.Errorf("qwen3 defaults (head_dim 128, q/k norm): %+v", qwen3)
	}
	qwen2 := mustParse(t, `{"architectures":["Qwen2ForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":32,"vocab_size":10,"attention_bias":true}`)
	if qwen2.kvHeads != 32 || qwen2.headDim != 2 || !qwen2.qkvBias || qwen2.oBias {
		t.Errorf("qwen2 defaults (32 kv heads, q/k/v bias only): %+v", qwen2)
	}
	v5 := mustParse(t, `{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":8,"vocab_size":10,
		"rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}}`)
	if v5.theta != 500000 || v5.llama3 == nil || v5.llama3.factor != 32 {
		t.Errorf("rope_parameters: %+v", v5)
	}
}

// The shipped real-model configs parse to their published shapes.
func TestRealConfigs(t *testing.T) {
	for name, want := range map[string][3]int{ // heads, kv heads, head_dim
		"qwen2.5-0.5b-instruct": {14, 2, 64}, "qwen2.5-1.5b-instruct": {12, 2, 128}, "qwen2.5-7b-instruct": {28, 4, 128},
		"llama-3.2-1b": {32, 8, 64}, "llama-3.2-3b": {24, 8, 128}, "llama-3.1-8b": {32, 8, 128},
		"qwen3-0.6b": {16, 8, 128}, "qwen3-1.7b": {16, 8, 128},
	} {
		c, err := readConfig(filepath.Join("../../models", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]int{c.heads, c.kvHeads, c.headDim}; got != want {
			t.Errorf("%s: heads/kv/head_dim %v, want %v", name, got, want)
		}
		if strings.HasPrefix(name, "llama") != (c.llama3 != nil) {
			t.Errorf("%s: llama3 rope scaling %v", name, c.llama3)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base := map[string]any{"architectures": []string{"LlamaForCausalLM"}, "hidden_size": 64, "intermediate_size": 8,
		"num_hidden_layers": 1, "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 10}
	for _, tc := range []struct {
		edit func(map[string]any)
		want string
	}{
		{func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} }, "unsupported architecture"},
		{func(c map[string]any) { delete(c, "hidden_size") }, "hidden_size"},
		{func(c map[string]any) { c["num_key_value_heads"] = 3 }, "multiple"},
		{func(c map[string]any) { c["head_dim"] = 7 }, "even"},
		{func(c map[string]any) { c["hidden_act"] = "gelu" }, "hidden_act"},
		{func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0} }, "yarn"},
		{func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0} }, "llama3"},
		{func(c map[string]any) { c["use_sliding_window"] = true }, "sliding"},
	} {
		c := map[string]any{}
		for k, v := range base {
			c[k] = v
		}
		tc.edit(c)
		js, _ := json.Marshal(c)
		if _, err := parseConfig(js); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", js, err, tc.want)
		}
	}
}

// Bad inputs are errors, not panics: a token outside the vocabulary, a
// tensor whose shape disagrees with the config, a missing tensor.
func TestForwardErrors(t *testing.T) {
	p, _ := testmodel.Find("qwen2-tiny")
	dir := writePreset(t, p, 1)
	if _, err := Forward(dir, []int{1, p.Vocab}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("out-of-range token: %v", err)
	}
	// Rewrite the checkpoint with one tensor transposed (gate_proj, not square) and one missing.
	var tensors []safetensors.WriteTensor
	for name, shape := range p.Tensors() {
		if name == "model.layers.1.mlp.up_proj.weight" {
			continue
		}
		if name == "model.layers.0.mlp.gate_proj.weight" {
			shape = []int64{shape[1], shape[0]}
		}
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		data := make([]byte, 2*n)
		bf16.Encode(data, make([]float32, n))
		tensors = append(tensors, safetensors.WriteTensor{Name: name, DType: safetensors.BF16, Shape: shape, Data: data})
	}
	if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), tensors, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Forward(dir, []int{1}); err == nil || !strings.Contains(err.Error(), "gate_proj") {
		t.Errorf("mis-shaped gate_proj: %v", err)
	}
	os.Remove(filepath.Join(dir, "config.json"))
	if _, err := Forward(dir, []int{1}); err == nil {
		t.Error("no config.json: no error")
	}
}
