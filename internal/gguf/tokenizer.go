package gguf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// preNames are the tokenizer.ggml.pre names a byte-level tokenizer is
// written under, by preference: the first whose split rules are the
// tokenizer's (llama.cpp and irc's FromGGUF key the rules by the name).
var preNames = []string{"qwen2", "llama-bpe", "gpt-2"}

// withTokenizer replaces the synthetic vocabulary in kvs (vocabulary) by
// the checkpoint's own byte-level tokenizer v, as llama.cpp's converter
// writes one: its tokens padded to the model's vocab rows with unused
// [PAD<i>] tokens, their types, the merges, the pre name of its split
// rules, BOS/EOS, add_bos_token and the chat template.
func withTokenizer(kvs []KV, v *tokenizer.Vocab, vocab int) ([]KV, error) {
	if v.Unsupported != "" {
		return nil, fmt.Errorf("gguf: the checkpoint's tokenizer is not supported: %s", v.Unsupported)
	}
	if len(v.Tokens) > vocab {
		return nil, fmt.Errorf("gguf: the tokenizer has %d tokens, the model's vocabulary %d rows", len(v.Tokens), vocab)
	}
	pre := ""
	for _, name := range preNames {
		if slices.Equal(tokenizer.PrePatterns(name), v.Patterns) {
			pre = name
			break
		}
	}
	if pre == "" {
		return nil, fmt.Errorf("gguf: the tokenizer's split rules are none of llama.cpp's %s", strings.Join(preNames, ", "))
	}
	tokens := slices.Clone(v.Tokens)
	types := make([]int32, vocab)
	for i := range types {
		types[i] = tokNormal
		if i < len(v.Types) {
			types[i] = v.Types[i]
		}
	}
	for i := len(tokens); i < vocab; i++ {
		tokens = append(tokens, fmt.Sprintf("[PAD%d]", i))
		types[i] = tokUnused
	}
	out := slices.DeleteFunc(slices.Clone(kvs), func(kv KV) bool { return strings.HasPrefix(kv.Key, "tokenizer.") })
	out = append(out,
		KV{"tokenizer.ggml.model", tokenizer.ModelBPE},
		KV{"tokenizer.ggml.pre", pre},
		KV{"tokenizer.ggml.tokens", tokens},
		KV{"tokenizer.ggml.token_type", types},
		KV{"tokenizer.ggml.merges", slices.Clone(v.Merges)},
		KV{"tokenizer.ggml.add_bos_token", v.AddBOS},
	)
	if v.BOS >= 0 {
		out = append(out, KV{"tokenizer.ggml.bos_token_id", uint32(v.BOS)})
	}
	if len(v.EOS) > 0 {
		out = append(out, KV{"tokenizer.ggml.eos_token_id", uint32(v.EOS[0])})
	}
	if v.ChatTemplate != "" {
		out = append(out, KV{"tokenizer.chat_template", v.ChatTemplate})
	}
	return out, nil
}
