package testmodel

import "fmt"

// Tensors lists the checkpoint's tensors by their Hugging Face names, with
// [out, in] shapes for linear weights as nn.Linear stores them.
func (p Preset) Tensors() map[string][]int64 {
	hd := p.headDim()
	q, kv, h := int64(p.Heads*hd), int64(p.KVHeads*hd), int64(p.Hidden)
	inter, vocab := int64(p.Intermediate), int64(p.Vocab)
	t := map[string][]int64{
		"model.embed_tokens.weight": {vocab, h},
		"model.norm.weight":         {h},
	}
	if !p.Tied {
		t["lm_head.weight"] = []int64{vocab, h}
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
		if p.AttentionBias { // o_proj's bias follows attention_bias too
			t[pre+"self_attn.o_proj.bias"] = []int64{h}
		}
		if p.Arch == "Qwen3ForCausalLM" {
			t[pre+"self_attn.q_norm.weight"] = []int64{int64(hd)}
			t[pre+"self_attn.k_norm.weight"] = []int64{int64(hd)}
		}
		t[pre+"mlp.gate_proj.weight"] = []int64{inter, h}
		t[pre+"mlp.up_proj.weight"] = []int64{inter, h}
		t[pre+"mlp.down_proj.weight"] = []int64{h, inter}
	}
	return t
}
