package gguf

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// A tokenizer shorter than the model's vocabulary (Qwen pads its
// embedding) is padded with unused tokens; split rules llama.cpp has no
// name for, or more tokens than rows, are refused.
func TestWithTokenizer(t *testing.T) {
	v := &tokenizer.Vocab{Model: tokenizer.ModelBPE, Patterns: tokenizer.PrePatterns("llama-bpe"), Tokens: []string{"a", "b", "<|e|>"},
		Types: []int32{tokNormal, tokNormal, tokControl}, Merges: []string{"a b"}, BOS: -1, EOS: []int32{2}}
	kvs, err := withTokenizer([]KV{{"general.name", "x"}, {"tokenizer.ggml.model", "llama"}}, v, 5)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, kv := range kvs {
		if _, dup := got[kv.Key]; dup {
			t.Errorf("key %s twice", kv.Key)
		}
		got[kv.Key] = kv.Value
	}
	if got["tokenizer.ggml.model"] != "gpt2" || got["tokenizer.ggml.pre"] != "llama-bpe" || got["general.name"] != "x" {
		t.Errorf("keys %v", got)
	}
	toks := got["tokenizer.ggml.tokens"].([]string)
	types := got["tokenizer.ggml.token_type"].([]int32)
	if strings.Join(toks, ",") != "a,b,<|e|>,[PAD3],[PAD4]" || types[2] != tokControl || types[4] != tokUnused {
		t.Errorf("tokens %v types %v", toks, types)
	}
	v.Patterns = []string{`\w+`}
	if _, err := withTokenizer(nil, v, 5); err == nil || !strings.Contains(err.Error(), "split rules") {
		t.Errorf("unknown patterns: %v", err)
	}
	v.Patterns = tokenizer.PrePatterns("qwen2")
	if _, err := withTokenizer(nil, v, 2); err == nil || !strings.Contains(err.Error(), "3 tokens") {
		t.Errorf("too many tokens: %v", err)
	}
}
