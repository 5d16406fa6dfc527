// Package testmodel writes deterministic tiny Hugging Face checkpoints
// (config.json + model.safetensors in bf16) with random weights. Tests and
// the README's example use them; together the presets cover every
// architecture and the shapes that break naive code.
package testmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/irc-compiler/irc/ir/bf16"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// Preset is one tiny model.
type Preset struct {
	Name string
	Arch string
	Doc  string // what the preset exercises
	// Config holds the config.json fields beyond the common ones.
	Hidden, Intermediate, Layers, Heads, KVHeads, Vocab int
	HeadDim                                             int // 0: hidden/heads, not written to the config
	Tied                                                bool
	AttentionBias                                       bool
	RopeScaling                                         map[string]any
	RopeTheta                                           float64
	Eps                                                 float64
}

// Presets lists every tiny model.
func Presets() []Preset {
	return []Preset{
		{Name: "llama-tiny", Arch: "LlamaForCausalLM", Doc: "GQA 4:1, untied head",
			Hidden: 64, Intermediate: 96, Layers: 2, Heads: 8, KVHeads: 2, Vocab: 97, RopeTheta: 10000, Eps: 1e-5},
		{Name: "llama3-scaled", Arch: "LlamaForCausalLM", Doc: "llama3 rope scaling, tied head, explicit head_dim",
			Hidden: 48, Intermediate: 80, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, Vocab: 120, Tied: true, RopeTheta: 500000, Eps: 1e-5,
			RopeScaling: map[string]any{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}},
		{Name: "llama-mha-odd", Arch: "LlamaForCausalLM", Doc: "plain multi-head (1:1), sizes not multiples of 32, attention bias",
			Hidden: 72, Intermediate: 100, Layers: 3, Heads: 3, KVHeads: 3, Vocab: 263, AttentionBias: true, RopeTheta: 10000, Eps: 1e-6},
		{Name: "qwen2-tiny", Arch: "Qwen2ForCausalLM", Doc: "GQA 3:1, q/k/v bias, tied head",
			Hidden: 60, Intermediate: 84, Layers: 2, Heads: 6, KVHeads: 2, Vocab: 151, Tied: true, RopeTheta: 1000000, Eps: 1e-6},
		{Name: "qwen3-tiny", Arch: "Qwen3ForCausalLM", Doc: "q/k norm, head_dim 12 != hidden/heads, GQA 2:1, untied",
			Hidden: 40, Intermediate: 70, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 12, Vocab: 130, RopeTheta: 1000000, Eps: 1e-6},
	}
}

// Find returns the preset with the given name.
func Find(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

func (p Preset) headDim() int {
	if p.HeadDim != 0 {
		return p.HeadDim
	}
	return p.Hidden / p.Heads
}

// Config returns the config.json contents.
func (p Preset) Config() map[string]any {
	c := map[string]any{
		"architectures": []string{p.Arch}, "model_type": map[string]string{"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2", "Qwen3ForCausalLM": "qwen3"}[p.Arch],
		"hidden_size": p.Hidden, "intermediate_size": p.Intermediate, "num_hidden_layers": p.Layers,
		"num_attention_heads": p.Heads, "num_key_value_heads": p.KVHeads, "vocab_size": p.Vocab,
		"max_position_embeddings": 256, "rms_norm_eps": p.Eps, "rope_theta": p.RopeTheta,
		"tie_word_embeddings": p.Tied, "torch_dtype": "bfloat16", "hidden_act": "silu",
		"bos_token_id": 1, "eos_token_id": 2, "attention_bias": p.AttentionBias, "rope_scaling": p.RopeScaling,
	}
	if p.HeadDim != 0 {
		c["head_dim"] = p.HeadDim
	}
	if p.Arch == "Qwen2ForCausalLM" {
		delete(c, "attention_bias") // Qwen2 always has q/k/v bias
		c["use_sliding_window"] = false
	}
	return c
}

// Tensors lists the checkpoint's tensor names and shapes, with HF names.
func (p Preset) Tensors() map[string][]int64 {
	hd := p.headDim()
	q, kv, h := int64(p.Heads*hd), int64(p.KVHeads*hd), int64(p.Hidden)
	t := map[string][]int64{"model.embed_tokens.weight": {int64(p.Vocab), h}, "model.norm.weight": {h}}
	if !p.Tied {
		t["lm_head.weight"] = []int64{int64(p.Vocab), h}
	}
	qkvBias := p.Arch == "Qwen2ForCausalLM" || p.AttentionBias
	for l := range p.Layers {
		pre := fmt.Sprintf("model.layers.%d.", l)
		t[pre+"input_layernorm.weight"] = []int64{h}
		t[pre+"post_attention_layernorm.weight"] = []int64{h}
		t[pre+"self_attn.q_proj.weight"] = []int64{q, h}
		t[pre+"self_attn.k_proj.weight"] = []int64{kv, h}
		t[pre+"self_attn.v_proj.weight"] = []int64{kv, h}
		t[pre+"self_attn.o_proj.weight"] = []int64{h, q}
		if qkvBias {
			t[pre+"self_attn.q_proj.bias"] = []int64{q}
			t[pre+"self_attn.k_proj.bias"] = []int64{kv}
			t[pre+"self_attn.v_proj.bias"] = []int64{kv}
		}
		if p.AttentionBias {
			t[pre+"self_attn.o_proj.bias"] = []int64{h}
		}
		if p.Arch == "Qwen3ForCausalLM" {
			t[pre+"self_attn.q_norm.weight"] = []int64{int64(hd)}
			t[pre+"self_attn.k_norm.weight"] = []int64{int64(hd)}
		}
		t[pre+"mlp.gate_proj.weight"] = []int64{int64(p.Intermediate), h}
		t[pre+"mlp.up_proj.weight"] = []int64{int64(p.Intermediate), h}
		t[pre+"mlp.down_proj.weight"] = []int64{h, int64(p.Intermediate)}
	}
	return t
}

// Write creates dir and writes config.json and model.safetensors. The same
// preset and seed always give the same bytes: each tensor's values come
// from a generator seeded by the seed and the tensor's name.
func Write(dir string, p Preset, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(p.Config(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cfg, '\n'), 0o644); err != nil {
		return err
	}
	var tensors []safetensors.WriteTensor
	for name, shape := range p.Tensors() {
		vals := values(name, shape, seed)
		data := make([]byte, 2*len(vals))
		bf16.Encode(data, vals)
		tensors = append(tensors, safetensors.WriteTensor{Name: name, DType: safetensors.BF16, Shape: shape, Data: data})
	}
	return safetensors.Write(filepath.Join(dir, "model.safetensors"), tensors, nil)
}

// values draws a tensor: matrices ~ N(0, 1/fan_in) so activations stay
// O(1) (o_proj and down_proj 3x that), norm weights 1 ± 0.2, biases N(0, 0.1^2); embeddings N(0, 1).
func values(name string, shape []int64, seed uint64) []float32 {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(name) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(seed, h))
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	out := make([]float32, n)
	for i := range out {
		switch {
		case len(shape) == 2 && name == "model.embed_tokens.weight":
			out[i] = float32(rng.NormFloat64())
		case len(shape) == 2 && (strings.HasSuffix(name, "o_proj.weight") || strings.HasSuffix(name, "down_proj.weight")):
			// Layers that write the residual stream are scaled up so the
			// layers, not the token's own embedding, decide the output.
			out[i] = float32(3 * rng.NormFloat64() / math.Sqrt(float64(shape[1])))
		case len(shape) == 2:
			out[i] = float32(rng.NormFloat64() / math.Sqrt(float64(shape[1])))
		case filepath.Ext(name) == ".bias":
			out[i] = float32(0.1 * rng.NormFloat64())
		default:
			out[i] = float32(1 + 0.2*(2*rng.Float64()-1))
		}
	}
	return out
}
