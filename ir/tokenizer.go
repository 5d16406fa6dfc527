package ir

import (
	"encoding/base64"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/irc-compiler/irc/proto/irpb"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// The model's tokenizer is a tokenizer.Vocab (Meta.Tokenizer). Its size is
// bounded by where it comes from: the GGUF reader's header budget or the
// tokenizer.json size limit on import, the file on load; tokenizer.New
// checks it fully when text is encoded.

func tokenizerToProto(t *tokenizer.Vocab) *irpb.Tokenizer {
	if t == nil {
		return nil
	}
	p := &irpb.Tokenizer{Model: t.Model, Pre: t.Pre, TokenTypes: t.Types, Patterns: t.Patterns,
		Nfc: t.NFC, IgnoreMerges: t.IgnoreMerges, AddBos: t.AddBOS, Eos: t.EOS,
		ChatTemplate: t.ChatTemplate, Unsupported: t.Unsupported}
	if t.BOS >= 0 {
		bos := t.BOS
		p.Bos = &bos
	}
	for _, s := range t.Tokens {
		p.Tokens = append(p.Tokens, []byte(s))
	}
	for _, s := range t.Merges {
		p.Merges = append(p.Merges, []byte(s))
	}
	return p
}

func tokenizerFromProto(p *irpb.Tokenizer) *tokenizer.Vocab {
	if p == nil {
		return nil
	}
	t := &tokenizer.Vocab{Model: p.Model, Pre: p.Pre, Types: p.TokenTypes, Patterns: p.Patterns,
		NFC: p.Nfc, IgnoreMerges: p.IgnoreMerges, BOS: -1, AddBOS: p.AddBos, EOS: p.Eos,
		ChatTemplate: p.ChatTemplate, Unsupported: p.Unsupported}
	if p.Bos != nil {
		t.BOS = *p.Bos
	}
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

func tokenizerText(t *tokenizer.Vocab) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(tokenizerToProto(t))
	if err != nil {
		panic(fmt.Sprintf("ir: marshalling a tokenizer: %v", err)) // bytes fields: cannot fail
	}
	return tokenizerPrefix + base64.StdEncoding.EncodeToString(b)
}

// TokenizerSummary is one line about a tokenizer: kind, sizes, special
// tokens and whether it has a chat template.
func TokenizerSummary(t *tokenizer.Vocab) string {
	if t.Unsupported != "" {
		return fmt.Sprintf("tokenizer %q (pre %q): not supported: %s", t.Model, t.Pre, t.Unsupported)
	}
	special := 0
	for _, typ := range t.Types {
		if typ == tokenizer.TypeControl || typ == tokenizer.TypeUserDefined {
			special++
		}
	}
	tmpl := "no chat template"
	if t.ChatTemplate != "" {
		tmpl = fmt.Sprintf("chat template %d bytes", len(t.ChatTemplate))
	}
	bos := fmt.Sprint(t.BOS)
	if t.AddBOS {
		bos += " (added)"
	}
	return fmt.Sprintf("%s tokenizer (pre %q): %d tokens, %d merges, %d added/special, bos %s, eos %v, %s",
		t.Model, t.Pre, len(t.Tokens), len(t.Merges), special, bos, t.EOS, tmpl)
}

func parseTokenizer(s string) (*tokenizer.Vocab, error) {
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

// checkTokenizer is the structural check a load does (cheap; tokenizer.New
// does the full one): per-token arrays match the tokens, whose ids fit the
// vocabulary (the embedding may have more rows than the tokenizer has
// tokens: Qwen pads it).
func checkTokenizer(t *tokenizer.Vocab, vocab int64) error {
	n := int64(len(t.Tokens))
	switch {
	case t.Model == "":
		return fmt.Errorf("has no model (tokenizer.ggml.model)")
	case t.Unsupported != "":
		if n != 0 || len(t.Merges) != 0 {
			return fmt.Errorf("is unsupported but has tokens")
		}
		return nil
	case n == 0:
		return fmt.Errorf("has no tokens")
	case vocab > 0 && n > vocab:
		return fmt.Errorf("has %d tokens, the vocabulary %d", n, vocab)
	case len(t.Types) != 0 && int64(len(t.Types)) != n:
		return fmt.Errorf("has %d token types for %d tokens", len(t.Types), n)
	case t.BOS < -1 || int64(t.BOS) >= n:
		return fmt.Errorf("has BOS token %d, want -1 or an id below %d", t.BOS, n)
	}
	for _, id := range t.EOS {
		if id < 0 || int64(id) >= n {
			return fmt.Errorf("has EOS token %d, want an id below %d", id, n)
		}
	}
	return nil
}
