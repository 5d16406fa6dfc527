package testmodel

import (
	"math"
	"strconv"
)

// pyFloat marshals like Python's json.dumps of a float ("8.0", "1e-05"), as
// transformers writes config.json: a bare "8" would read back as an int and
// trip transformers' isinstance(float) checks on rope_scaling.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if v == math.Trunc(v) && math.Abs(v) < 1e16 {
		return strconv.AppendFloat(nil, v, 'f', 1, 64), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

var modelTypes = map[string]string{
	"LlamaForCausalLM": "llama",
	"Qwen2ForCausalLM": "qwen2",
	"Qwen3ForCausalLM": "qwen3",
}

// Config returns the config.json contents: every field the HF modeling code
// reads for this architecture, spelled as transformers writes them.
func (p Preset) Config() map[string]any {
	c := map[string]any{
		"architectures":           []string{p.Arch},
		"model_type":              modelTypes[p.Arch],
		"hidden_size":             p.Hidden,
		"intermediate_size":       p.Intermediate,
		"num_hidden_layers":       p.Layers,
		"num_attention_heads":     p.Heads,
		"num_key_value_heads":     p.KVHeads,
		"vocab_size":              p.Vocab,
		"max_position_embeddings": p.maxPos(),
		"rms_norm_eps":            pyFloat(p.Eps),
		"rope_theta":              pyFloat(p.RopeTheta),
		"rope_scaling":            nil,
		"tie_word_embeddings":     p.Tied,
		"torch_dtype":             "bfloat16",
		"hidden_act":              "silu",
		"attention_dropout":       pyFloat(0),
		"initializer_range":       pyFloat(0.02),
		"use_cache":               true,
		"bos_token_id":            1,
		"eos_token_id":            2,
	}
	if p.HeadDim != 0 {
		c["head_dim"] = p.HeadDim
	}
	if s := p.RopeScaling; s != nil {
		c["rope_scaling"] = map[string]any{
			"rope_type":                        "llama3",
			"factor":                           pyFloat(s.Factor),
			"low_freq_factor":                  pyFloat(s.LowFreqFactor),
			"high_freq_factor":                 pyFloat(s.HighFreqFactor),
			"original_max_position_embeddings": s.OriginalMaxPositionEmbeddings,
		}
	}
	switch p.Arch {
	case "LlamaForCausalLM":
		c["attention_bias"] = p.AttentionBias
		c["mlp_bias"] = false
	case "Qwen2ForCausalLM":
		// Qwen2 has no attention_bias field: its q/k/v biases are fixed.
		c["use_sliding_window"] = false
	case "Qwen3ForCausalLM":
		c["attention_bias"] = p.AttentionBias
		c["use_sliding_window"] = false
	}
	return c
}
