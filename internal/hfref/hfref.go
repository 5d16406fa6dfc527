// Package hfref is an independent float64 implementation of the Hugging
// Face LlamaForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM forward
// passes, written from transformers' modeling_llama.py, modeling_qwen2.py,
// modeling_qwen3.py and modeling_rope_utils.py with plain loops. It is the
// test oracle for the compiler, so it shares nothing with the compiler's
// frontend or runtimes: it parses config.json itself and only borrows the
// safetensors reader to get at the weights.
//
// Everything is computed in float64 from the stored weights (bf16 weights
// widen exactly); transformers in float32 differs from it by float32
// rounding only (its RoPE inverse frequencies, for one, are float32).
package hfref

import (
	"fmt"

	"github.com/irc-compiler/irc/ir/safetensors"
)

// Forward runs the model in dir (config.json plus model.safetensors or an
// index with shards) over tokens in one causal pass, batch 1, no cache.
// Row t of the result holds the next-token logits after tokens[0..t].
func Forward(dir string, tokens []int) (logits [][]float64, err error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	for i, id := range tokens {
		if id < 0 || id >= cfg.vocab {
			return nil, fmt.Errorf("hfref: token %d at position %d is outside the vocabulary [0, %d)", id, i, cfg.vocab)
		}
	}
	ckpt, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("hfref: %w", err)
	}
	defer ckpt.Close()
	m, err := loadModel(cfg, ckpt)
	if err != nil {
		return nil, err
	}
	return m.forward(tokens), nil
}
