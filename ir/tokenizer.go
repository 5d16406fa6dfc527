package ir

import (
	"encoding/base64"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/irc-compiler/irc/proto/irpb"
)

// Tokenizer is llama.cpp's vocabulary as a GGUF file stores it
// (tokenizer.ggml.*), kept in the model for the text side. Tokens and
// merges are byte strings (GGUF does not check them to be UTF-8). Its size
// is bounded by where it comes from: the GGUF reader's header budget
// (gguf.MaxHeaderLen) on import, the file on load.
type Tokenizer struct {
	Model      string    // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
	Pre        string    // tokenizer.ggml.pre, the pre-tokenizer; "" if absent
	Tokens     []string  // tokenizer.ggml.tokens, by id
	Scores     []float32 // tokenizer.ggml.scores: empty or one per token
	TokenTypes []int32   // tokenizer.ggml.token_type: empty or one per token
	Merges     []string  // tokenizer.ggml.merges (BPE): "a b" pairs
}

func (t *Tokenizer) toProto() *irpb.Tokenizer {
	if t == nil {
		return nil
	}
	p := &irpb.Tokenizer{Model: t.Model, Pre: t.Pre, Scores: t.Scores, TokenTypes: t.TokenTypes}
	for _, s := range t.Tokens {
		p.Tokens = append(p.Tokens, []byte(s))
	}
	for _, s := range t.Merges {
		p.Merges = append(p.Merges, []byte(s))
	}
	return p
}

func tokenizerFromProto(p *irpb.Tokenizer) *Tokenizer {
	if p == nil {
		return nil
	}
	t := &Tokenizer{Model: p.Model, Pre: p.Pre, Scores: p.Scores, TokenTypes: p.TokenTypes}
	for _, b := range p.Tokens {
		t.Tokens = append(t.Tokens, string(b))
	}
	for _, b := range p.Merges {
		t.Merges = append(t.Merges, string(b))
	}
	return t
}

// tokenizerPrefix starts the text format's tokenizer value: the
// tokenizer's protobuf message (irpb.Tokenizer) in base64, an exact
// encoding of any bytes, with a one-line summary printed as a comment.
const tokenizerPrefix = "irpb.Tokenizer:"

func (t *Tokenizer) text() string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t.toProto())
	if err != nil {
		panic(fmt.Sprintf("ir: marshalling a tokenizer: %v", err)) // bytes fields: cannot fail
	}
	return tokenizerPrefix + base64.StdEncoding.EncodeToString(b)
}

func (t *Tokenizer) summary() string {
	return fmt.Sprintf("%s tokenizer (pre %q): %d tokens, %d merges", t.Model, t.Pre, len(t.Tokens), len(t.Merges))
}

func parseTokenizer(s string) (*Tokenizer, error) {
	rest, ok := strings.CutPrefix(s, tokenizerPrefix)
	if !ok {
		return nil, fmt.Errorf("want %q and base64", tokenizerPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("base64: %v", err)
	}
	var p irpb.Tokenizer
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("not a tokenizer message: %v", err)
	}
	return tokenizerFromProto(&p), nil
}

// check: per-token arrays match the tokens, which fit the vocabulary.
func (t *Tokenizer) check(vocab int64) error {
	n := len(t.Tokens)
	switch {
	case t.Model == "":
		return fmt.Errorf("has no model (tokenizer.ggml.model)")
	case n == 0:
		return fmt.Errorf("has no tokens")
	case vocab > 0 && int64(n) != vocab:
		return fmt.Errorf("has %d tokens, the vocabulary %d", n, vocab)
	case len(t.Scores) != 0 && len(t.Scores) != n:
		return fmt.Errorf("has %d scores for %d tokens", len(t.Scores), n)
	case len(t.TokenTypes) != 0 && len(t.TokenTypes) != n:
		return fmt.Errorf("has %d token types for %d tokens", len(t.TokenTypes), n)
	}
	return nil
}
