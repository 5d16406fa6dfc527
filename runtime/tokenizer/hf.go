package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dlclark/regexp2/v2"
)

// gpt2Pattern is the split GPT-2 made, which a ByteLevel pre-tokenizer with
// use_regex applies.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// hfFile is the part of a Hugging Face tokenizer.json irc reads; the
// pipeline stages stay raw until their type is known.
type hfFile struct {
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
	AddedTokens   []hfAdded       `json:"added_tokens"`
}

type hfAdded struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	Special    bool   `json:"special"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
}

type hfStage struct {
	Type string `json:"type"`
}

type hfModel struct {
	Type                    string            `json:"type"`
	Vocab                   map[string]int64  `json:"vocab"`
	Merges                  []json.RawMessage `json:"merges"`
	IgnoreMerges            bool              `json:"ignore_merges"`
	Dropout                 *float64          `json:"dropout"`
	ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
	ByteFallback            bool              `json:"byte_fallback"`
}

// ParseHF reads a Hugging Face tokenizer.json holding byte-level BPE, as
// Qwen2/2.5/3 and Llama 3 ship it, and optionally the tokenizer_config.json
// next to it (nil if absent) for the BOS/EOS tokens and the chat template.
// Anything else is one error naming the field and what was expected.
func ParseHF(tokenizerJSON, tokenizerConfigJSON []byte) (*Vocab, error) {
	var f hfFile
	if err := strictJSON(tokenizerJSON, &f); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", err)
	}
	v := &Vocab{Model: ModelBPE, BOS: -1}
	steps := []func() error{
		func() error { return hfNormalizer(v, f.Normalizer) },
		func() error { return hfPreTokenizer(v, f.PreTokenizer) },
		func() error { return hfDecoder(f.Decoder) },
		func() error { return hfModelVocab(v, f.Model) },
		func() error { return hfAddedTokens(v, f.AddedTokens) },
		func() error { return hfPostProcessor(v, f.PostProcessor) },
		func() error { return hfConfig(v, tokenizerConfigJSON) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	addEndOfTurn(v)
	if _, err := New(v); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %v", strings.TrimPrefix(err.Error(), "tokenizer: "))
	}
	return v, nil
}

// strictJSON decodes one JSON value, with the decoder's error made to say
// where.
func strictJSON(b []byte, into any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return fmt.Errorf("empty")
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("not valid JSON of the expected shape: %v", err)
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

func stageType(field string, raw json.RawMessage) (string, error) {
	var s hfStage
	if err := json.Unmarshal(raw, &s); err != nil || s.Type == "" {
		return "", fmt.Errorf("tokenizer.json: %s: want an object with a \"type\"", field)
	}
	return s.Type, nil
}

func hfNormalizer(v *Vocab, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	typ, err := stageType("normalizer", raw)
	if err != nil {
		return err
	}
	if typ != "NFC" {
		return fmt.Errorf("tokenizer.json: normalizer %s is not supported: want NFC or null", clip(typ))
	}
	v.NFC = true
	return nil
}

type hfPre struct {
	Type          string            `json:"type"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	// Split
	Pattern  struct{ Regex, String *string } `json:"pattern"`
	Behavior string                          `json:"behavior"`
	Invert   bool                            `json:"invert"`
	// ByteLevel
	AddPrefixSpace bool  `json:"add_prefix_space"`
	UseRegex       *bool `json:"use_regex"`
}

// hfPreTokenizer accepts ByteLevel alone or a Sequence of Splits (isolated,
// not inverted) ending in ByteLevel, which must not add a prefix space.
func hfPreTokenizer(v *Vocab, raw json.RawMessage) error {
	const want = "want ByteLevel, or a Sequence of Split (Isolated) ending in ByteLevel"
	if isNull(raw) {
		return fmt.Errorf("tokenizer.json: pre_tokenizer is null: %s", want)
	}
	var p hfPre
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("tokenizer.json: pre_tokenizer: %v", err)
	}
	stages := []json.RawMessage{raw}
	if p.Type == "Sequence" {
		stages = p.Pretokenizers
	}
	for i, st := range stages {
		field := "pre_tokenizer"
		if p.Type == "Sequence" {
			field = fmt.Sprintf("pre_tokenizer.pretokenizers[%d]", i)
		}
		var s hfPre
		if err := json.Unmarshal(st, &s); err != nil {
			return fmt.Errorf("tokenizer.json: %s: %v", field, err)
		}
		last := i == len(stages)-1
		switch {
		case s.Type == "ByteLevel" && last:
			if s.AddPrefixSpace {
				return fmt.Errorf("tokenizer.json: %s: add_prefix_space true is not supported", field)
			}
			if s.UseRegex == nil || *s.UseRegex {
				v.Patterns = append(v.Patterns, gpt2Pattern)
			}
		case s.Type == "Split" && !last:
			if s.Behavior != "Isolated" || s.Invert {
				return fmt.Errorf("tokenizer.json: %s: Split with behavior %s, invert %v is not supported: want Isolated, not inverted", field, clip(s.Behavior), s.Invert)
			}
			switch {
			case s.Pattern.Regex != nil:
				v.Patterns = append(v.Patterns, *s.Pattern.Regex)
			case s.Pattern.String != nil:
				v.Patterns = append(v.Patterns, regexp2.Escape(*s.Pattern.String))
			default:
				return fmt.Errorf("tokenizer.json: %s: Split has no pattern (Regex or String)", field)
			}
		default:
			return fmt.Errorf("tokenizer.json: %s: %s here is not supported: %s", field, clip(s.Type), want)
		}
	}
	if len(stages) == 0 {
		return fmt.Errorf("tokenizer.json: pre_tokenizer: empty Sequence: %s", want)
	}
	return nil
}

func hfDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("tokenizer.json: decoder is null: want ByteLevel")
	}
	typ, err := stageType("decoder", raw)
	if err != nil {
		return err
	}
	if typ != "ByteLevel" {
		return fmt.Errorf("tokenizer.json: decoder %s is not supported: want ByteLevel (byte-level BPE)", clip(typ))
	}
	return nil
}

// hfModelVocab reads the BPE model: the vocabulary (ids dense from 0, added
// tokens may extend it) and the merges in either spelling.
func hfModelVocab(v *Vocab, raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("tokenizer.json: model is missing")
	}
	var m hfModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("tokenizer.json: model: %v", err)
	}
	switch {
	case m.Type != "BPE":
		return fmt.Errorf("tokenizer.json: model.type %s is not supported: want \"BPE\" (byte-level)", clip(m.Type))
	case m.ByteFallback:
		return fmt.Errorf("tokenizer.json: model.byte_fallback true (SentencePiece-style BPE) is not supported: want byte-level BPE")
	case m.Dropout != nil && *m.Dropout != 0:
		return fmt.Errorf("tokenizer.json: model.dropout %v is not supported: want null", *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return fmt.Errorf("tokenizer.json: model.continuing_subword_prefix is not supported: want \"\" or null")
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return fmt.Errorf("tokenizer.json: model.end_of_word_suffix is not supported: want \"\" or null")
	case len(m.Vocab) == 0:
		return fmt.Errorf("tokenizer.json: model.vocab is missing or empty")
	case len(m.Vocab) > MaxTokens:
		return fmt.Errorf("tokenizer.json: model.vocab has %d tokens, more than %d", len(m.Vocab), MaxTokens)
	case len(m.Merges) > MaxMerges:
		return fmt.Errorf("tokenizer.json: model.merges has %d merges, more than %d", len(m.Merges), MaxMerges)
	}
	v.IgnoreMerges = m.IgnoreMerges
	v.Tokens = make([]string, len(m.Vocab))
	set := make([]bool, len(m.Vocab))
	for s, id := range m.Vocab {
		if id < 0 || id >= int64(len(m.Vocab)) {
			return fmt.Errorf("tokenizer.json: model.vocab: token %s has id %d, want 0 to %d (ids dense from 0)", clip(s), id, len(m.Vocab)-1)
		}
		if set[id] {
			return fmt.Errorf("tokenizer.json: model.vocab: id %d is given to two tokens", id)
		}
		v.Tokens[id], set[id] = s, true
	}
	v.Types = make([]int32, len(v.Tokens))
	for i := range v.Types {
		v.Types[i] = TypeNormal
	}
	v.Merges = make([]string, len(m.Merges))
	for i, mr := range m.Merges {
		a, b, err := hfMerge(mr)
		if err != nil {
			return fmt.Errorf("tokenizer.json: model.merges[%d]: %v", i, err)
		}
		v.Merges[i] = a + " " + b
	}
	return nil
}

// hfMerge reads a merge as "a b" or ["a", "b"].
func hfMerge(raw json.RawMessage) (string, string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok || strings.Contains(b, " ") {
			return "", "", fmt.Errorf(`%s: want "a b"`, clip(s))
		}
		return a, b, nil
	}
	var pair []string
	if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 {
		return "", "", fmt.Errorf(`want "a b" or ["a", "b"]`)
	}
	if strings.Contains(pair[0], " ") || strings.Contains(pair[1], " ") {
		return "", "", fmt.Errorf("%s: a token with a space is not byte-level", clip(pair[0]+" "+pair[1]))
	}
	return pair[0], pair[1], nil
}

// hfAddedTokens places added tokens by id: an id inside the vocabulary must
// hold the same text; new ids must extend it without gaps.
func hfAddedTokens(v *Vocab, added []hfAdded) error {
	if len(added) > MaxTokens {
		return fmt.Errorf("tokenizer.json: added_tokens has %d tokens, more than %d", len(added), MaxTokens)
	}
	sorted := slices.Clone(added)
	for i, a := range sorted {
		if a.ID == nil {
			return fmt.Errorf("tokenizer.json: added_tokens[%d] %s has no id", i, clip(a.Content))
		}
	}
	slices.SortStableFunc(sorted, func(a, b hfAdded) int { return int(*a.ID - *b.ID) })
	for _, a := range sorted {
		id := *a.ID
		field := fmt.Sprintf("added_tokens: %s (id %d)", clip(a.Content), id)
		switch {
		case a.LStrip || a.RStrip || a.SingleWord:
			return fmt.Errorf("tokenizer.json: %s: lstrip, rstrip and single_word are not supported", field)
		case a.Content == "":
			return fmt.Errorf("tokenizer.json: %s: empty content", field)
		case id < 0 || id > int64(len(v.Tokens)):
			return fmt.Errorf("tokenizer.json: %s: want an id from 0 to %d (ids dense from 0)", field, len(v.Tokens))
		}
		typ := int32(TypeUserDefined)
		if a.Special {
			typ = TypeControl
		}
		if id == int64(len(v.Tokens)) {
			if len(v.Tokens) >= MaxTokens {
				return fmt.Errorf("tokenizer.json: more than %d tokens", MaxTokens)
			}
			v.Tokens = append(v.Tokens, a.Content)
			v.Types = append(v.Types, typ)
			continue
		}
		if v.Tokens[id] != a.Content {
			return fmt.Errorf("tokenizer.json: %s: the id is token %s in model.vocab", field, clip(v.Tokens[id]))
		}
		v.Types[id] = typ
	}
	return nil
}

type hfTemplate struct {
	Type       string            `json:"type"`
	Processors []json.RawMessage `json:"processors"`
	Single     []struct {
		SpecialToken *struct{ ID string } `json:"SpecialToken"`
		Sequence     *struct{ ID string } `json:"Sequence"`
	} `json:"single"`
}

// hfPostProcessor finds the BOS token a TemplateProcessing puts first (as
// Llama 3.1 does); ByteLevel post-processing changes no ids.
func hfPostProcessor(v *Vocab, raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var p hfTemplate
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("tokenizer.json: post_processor: %v", err)
	}
	switch p.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		for _, st := range p.Processors {
			if err := hfPostProcessor(v, st); err != nil {
				return err
			}
		}
		return nil
	case "TemplateProcessing":
		const want = "want a special token then $A, or $A alone"
		var bos []string
		for i, it := range p.Single {
			switch {
			case it.SpecialToken != nil && i == 0:
				bos = append(bos, it.SpecialToken.ID)
			case it.Sequence != nil && it.Sequence.ID == "A" && i == len(p.Single)-1:
			default:
				return fmt.Errorf("tokenizer.json: post_processor TemplateProcessing single is not supported: %s", want)
			}
		}
		if len(bos) == 1 {
			id := slices.Index(v.Tokens, bos[0])
			if id < 0 {
				return fmt.Errorf("tokenizer.json: post_processor: special token %s is not a token", clip(bos[0]))
			}
			v.BOS, v.AddBOS = int32(id), true
		}
		return nil
	}
	return fmt.Errorf("tokenizer.json: post_processor %s is not supported: want ByteLevel, TemplateProcessing or null", clip(p.Type))
}

// hfTokenName is a tokenizer_config.json token: a string, an AddedToken
// object with "content", or null.
type hfTokenName string

func (n *hfTokenName) UnmarshalJSON(b []byte) error {
	var s *string
	if json.Unmarshal(b, &s) == nil {
		if s != nil {
			*n = hfTokenName(*s)
		}
		return nil
	}
	var o struct{ Content string }
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("want a token as a string or {\"content\": ...}")
	}
	*n = hfTokenName(o.Content)
	return nil
}

type hfConfigFile struct {
	BOSToken     hfTokenName     `json:"bos_token"`
	EOSToken     hfTokenName     `json:"eos_token"`
	AddBOSToken  *bool           `json:"add_bos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// hfConfig reads tokenizer_config.json: bos_token (the BOS when the
// post-processor named none), add_bos_token (true adds it, as
// transformers' Llama tokenizers do), eos_token and chat_template (a
// string, or a list of named templates of which "default" is taken).
func hfConfig(v *Vocab, b []byte) error {
	if b == nil {
		return nil
	}
	var c hfConfigFile
	if err := strictJSON(b, &c); err != nil {
		return fmt.Errorf("tokenizer_config.json: %v", err)
	}
	if c.BOSToken != "" && v.BOS < 0 {
		id := slices.Index(v.Tokens, string(c.BOSToken))
		if id < 0 {
			return fmt.Errorf("tokenizer_config.json: bos_token %s is not a token", clip(string(c.BOSToken)))
		}
		v.BOS = int32(id)
	}
	if c.AddBOSToken != nil && *c.AddBOSToken {
		if v.BOS < 0 {
			return fmt.Errorf("tokenizer_config.json: add_bos_token is true but there is no bos_token")
		}
		v.AddBOS = true
	}
	if c.EOSToken != "" {
		id := slices.Index(v.Tokens, string(c.EOSToken))
		if id < 0 {
			return fmt.Errorf("tokenizer_config.json: eos_token %s is not a token", clip(string(c.EOSToken)))
		}
		addEOS(v, int32(id))
	}
	if isNull(c.ChatTemplate) {
		return nil
	}
	if json.Unmarshal(c.ChatTemplate, &v.ChatTemplate) == nil {
		return nil
	}
	var named []struct{ Name, Template string }
	if json.Unmarshal(c.ChatTemplate, &named) != nil {
		return fmt.Errorf("tokenizer_config.json: chat_template: want a string or a list of {name, template}")
	}
	for _, t := range named {
		if t.Name == "default" {
			v.ChatTemplate = t.Template
		}
	}
	return nil
}

// AddGenerationConfig adds the eos_token_id (a number or a list) of a
// Hugging Face generation_config.json to the tokens that end generation.
func (v *Vocab) AddGenerationConfig(b []byte) error {
	var c struct {
		EOS json.RawMessage `json:"eos_token_id"`
	}
	if err := strictJSON(b, &c); err != nil {
		return fmt.Errorf("generation_config.json: %v", err)
	}
	if isNull(c.EOS) {
		return nil
	}
	var ids []int64
	var one int64
	if json.Unmarshal(c.EOS, &one) == nil {
		ids = []int64{one}
	} else if json.Unmarshal(c.EOS, &ids) != nil {
		return fmt.Errorf("generation_config.json: eos_token_id: want a token id or a list of them")
	}
	for _, id := range ids {
		if id < 0 || id >= int64(len(v.Tokens)) {
			return fmt.Errorf("generation_config.json: eos_token_id %d is not a token id (0 to %d)", id, len(v.Tokens)-1)
		}
		addEOS(v, int32(id))
	}
	return nil
}
