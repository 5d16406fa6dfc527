package testmodel

import (
	"encoding/json"
	"fmt"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// tokenizerMerges are the merges of the tiny models' tokenizer, raw text
// pairs in rank order (each result a token; later ones build on earlier).
var tokenizerMerges = [][2]string{
	{" ", "t"}, {"h", "e"}, {" t", "he"}, {"i", "n"}, {"e", "r"}, {"a", "n"}, {" ", "a"}, {"o", "n"},
	{"r", "e"}, {"o", "u"}, {" ", "s"}, {"e", "n"}, {"in", "g"}, {" ", "w"}, {"a", "t"}, {" ", "o"},
}

// tokenizerSpecials are its special tokens, after the merges: ChatML's, as
// Qwen's vocabulary has them.
var tokenizerSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// chatTemplate is ChatML, as Qwen2's template renders a conversation
// without tools.
const chatTemplate = `{%- for message in messages %}{{ '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{%- endif %}`

// MinTokenizerVocab is the smallest vocabulary a preset's tokenizer fits
// in: every byte, then the special tokens.
var MinTokenizerVocab = 256 + len(tokenizerSpecials)

// HasTokenizer reports whether Write gives the preset a tokenizer: a
// byte-level BPE needs a token for every byte, so only presets with room
// for them get one, and one that fills the vocabulary exactly.
func (p Preset) HasTokenizer() bool {
	return p.Vocab >= MinTokenizerVocab && p.Vocab <= MinTokenizerVocab+len(tokenizerMerges)
}

// tokenizerFiles are the preset's tokenizer.json and tokenizer_config.json
// (Hugging Face's formats, as Qwen2 ships them): a byte-level BPE of every
// byte, the first Vocab - 259 merges and the special tokens, ChatML's
// template, <|im_end|> ending a turn.
func (p Preset) tokenizerFiles() (tokJSON, configJSON []byte, err error) {
	if !p.HasTokenizer() {
		return nil, nil, fmt.Errorf("testmodel: preset %q: vocabulary %d has no room for a byte-level tokenizer (%d..%d)", p.Name, p.Vocab, MinTokenizerVocab, MinTokenizerVocab+len(tokenizerMerges))
	}
	vocab := map[string]int{}
	for b := range 256 {
		vocab[tokenizer.ByteLevel(string([]byte{byte(b)}))] = b
	}
	var merges []string
	for _, m := range tokenizerMerges[:p.Vocab-MinTokenizerVocab] {
		vocab[tokenizer.ByteLevel(m[0]+m[1])] = len(vocab)
		merges = append(merges, tokenizer.ByteLevel(m[0])+" "+tokenizer.ByteLevel(m[1]))
	}
	var added []any
	for _, s := range tokenizerSpecials {
		added = append(added, map[string]any{"id": len(vocab) + len(added), "content": s, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})
	}
	tok := map[string]any{
		"version":      "1.0",
		"added_tokens": added,
		"normalizer":   map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": tokenizer.PrePatterns("qwen2")[0]}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"post_processor": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		"model":          map[string]any{"type": "BPE", "vocab": vocab, "merges": merges, "ignore_merges": false},
	}
	if tokJSON, err = json.MarshalIndent(tok, "", " "); err != nil {
		return nil, nil, err
	}
	cfg := map[string]any{"chat_template": chatTemplate, "eos_token": "<|im_end|>", "bos_token": nil, "pad_token": "<|endoftext|>", "add_bos_token": false}
	if configJSON, err = json.MarshalIndent(cfg, "", " "); err != nil {
		return nil, nil, err
	}
	return tokJSON, configJSON, nil
}
