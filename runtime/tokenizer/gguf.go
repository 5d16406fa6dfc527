package tokenizer

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// GGUF is a GGUF file's tokenizer.ggml.* values; ids are -1 when the key is
// absent, AddBOS nil when tokenizer.ggml.add_bos_token is.
type GGUF struct {
	Model, Pre   string   // tokenizer.ggml.model, tokenizer.ggml.pre
	Tokens       []string // tokenizer.ggml.tokens
	TokenTypes   []int32  // tokenizer.ggml.token_type (may be empty)
	Merges       []string // tokenizer.ggml.merges
	BOS          int64    // tokenizer.ggml.bos_token_id
	EOS          int64    // tokenizer.ggml.eos_token_id
	EOT          int64    // tokenizer.ggml.eot_token_id
	EOM          int64    // tokenizer.ggml.eom_token_id
	AddBOS       *bool    // tokenizer.ggml.add_bos_token
	ChatTemplate string   // tokenizer.chat_template
}

// preTokenizer is what a GGUF pre name stands for. GGUF stores only the
// name; the split rules are those of the tokenizer.json of the same family
// (llama.cpp compiles the same rules in, keyed by the name), so that both
// sources give the same ids.
type preTokenizer struct {
	patterns     []string
	nfc          bool // tokenizer.json's NFC normalizer (llama.cpp omits it)
	ignoreMerges bool
	addBOS       bool // when the GGUF does not say
}

const (
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

var preTokenizers = map[string]preTokenizer{
	"qwen2":            {patterns: []string{qwen2Pattern}, nfc: true},
	"deepseek-r1-qwen": {patterns: []string{qwen2Pattern}, nfc: true},
	"llama-bpe":        {patterns: []string{llama3Pattern}, ignoreMerges: true, addBOS: true},
	"llama3":           {patterns: []string{llama3Pattern}, ignoreMerges: true, addBOS: true},
	"llama-v3":         {patterns: []string{llama3Pattern}, ignoreMerges: true, addBOS: true},
	"gpt-2":            {patterns: []string{gpt2Pattern}},
}

// PreNames are the GGUF pre-tokenizer names FromGGUF knows.
func PreNames() []string {
	return slices.Sorted(maps.Keys(preTokenizers))
}

// FromGGUF builds a Vocab from a GGUF's tokenizer values; the pre name
// chooses the split patterns. End-of-generation tokens are the EOS, EOT and
// EOM ids and the vocabulary's end-of-turn control tokens.
func FromGGUF(g GGUF) (*Vocab, error) {
	if err := checkModel(g.Model); err != nil {
		return nil, err
	}
	pre, ok := preTokenizers[g.Pre]
	if !ok {
		return nil, fmt.Errorf("tokenizer: GGUF pre-tokenizer %s is not supported: want one of %s", clip(g.Pre), strings.Join(PreNames(), ", "))
	}
	n := int64(len(g.Tokens))
	v := &Vocab{Model: g.Model, Pre: g.Pre, Patterns: pre.patterns, NFC: pre.nfc,
		Tokens: g.Tokens, Types: g.TokenTypes, Merges: g.Merges, IgnoreMerges: pre.ignoreMerges,
		BOS: -1, AddBOS: pre.addBOS, ChatTemplate: g.ChatTemplate}
	if g.AddBOS != nil {
		v.AddBOS = *g.AddBOS
	}
	if g.BOS >= 0 {
		if g.BOS >= n {
			return nil, fmt.Errorf("tokenizer: GGUF bos_token_id %d is not a token id (0 to %d)", g.BOS, n-1)
		}
		v.BOS = int32(g.BOS)
	}
	if v.BOS < 0 {
		v.AddBOS = false // nothing to add: llama.cpp adds none either
	}
	for _, k := range []struct {
		name string
		id   int64
	}{{"eos_token_id", g.EOS}, {"eot_token_id", g.EOT}, {"eom_token_id", g.EOM}} {
		if k.id < 0 {
			continue
		}
		if k.id >= n {
			return nil, fmt.Errorf("tokenizer: GGUF %s %d is not a token id (0 to %d)", k.name, k.id, n-1)
		}
		addEOS(v, int32(k.id))
	}
	addEndOfTurn(v)
	if _, err := New(v); err != nil {
		return nil, fmt.Errorf("tokenizer: GGUF: %v", strings.TrimPrefix(err.Error(), "tokenizer: "))
	}
	return v, nil
}

// PrePatterns are the split patterns of a GGUF pre name (nil for a name
// FromGGUF does not know): for writers of tokenizer files.
func PrePatterns(pre string) []string {
	return slices.Clone(preTokenizers[pre].patterns)
}
