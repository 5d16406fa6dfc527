package tokenizer

import (
	"encoding/json"
	"strings"
	"testing"
)

// smallJSON is a minimal byte-level BPE tokenizer.json: the 256 byte
// tokens, "he", "ll", "hell", "hello", Ġ-prefixed "Ġw", one special
// added token; edit(m) may change the decoded map before it is encoded.
func smallJSON(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	vocab := map[string]any{}
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	for i, s := range []string{"he", "ll", "hell", "hello", "Ġw"} {
		vocab[s] = 256 + i
	}
	m := map[string]any{
		"normalizer": map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwen2Pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
		}},
		"post_processor": nil,
		"decoder":        map[string]any{"type": "ByteLevel"},
		"model": map[string]any{"type": "BPE", "vocab": vocab, "ignore_merges": false,
			"merges": []any{"h e", []any{"l", "l"}, "he ll", "hell o", "Ġ w"}},
		"added_tokens": []any{map[string]any{"id": 261, "content": "<|end|>", "special": true}},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func small(t testing.TB) *Tokenizer {
	t.Helper()
	v, err := ParseHF(smallJSON(t, nil), []byte(`{"eos_token": "<|end|>", "chat_template": "{{ x }}"}`))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSmall(t *testing.T) {
	tk := small(t)
	got := tk.Encode("hello world<|end|>", true)
	want := []int32{259, 260, 'o', 'r', 'l', 'd', 261}
	if !equalAny(got, want) {
		t.Fatalf("Encode: %v, want %v", got, want)
	}
	if !tk.IsEOS(261) || tk.IsEOS(259) || tk.Vocab().ChatTemplate != "{{ x }}" {
		t.Fatalf("EOS %v, template %q", tk.Vocab().EOS, tk.Vocab().ChatTemplate)
	}
	if s := tk.DecodeSkipSpecial(got); s != "hello world" {
		t.Fatalf("DecodeSkipSpecial: %q", s)
	}
	if p := tk.Piece(260); p != " w" {
		t.Fatalf("Piece(260) = %q", p)
	}
	if tk.Piece(-1) != "" || tk.Piece(1<<30) != "" {
		t.Fatal("Piece of a non-token is not empty")
	}
	// special=false: the special token's text is plain text.
	for _, id := range tk.Encode("a<|end|>b", false) {
		if tk.IsSpecial(id) {
			t.Fatalf("special=false produced special token %d", id)
		}
	}
}

// TestInvalidUTF8 pins the replacement rule Encode applies.
func TestInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"a\xffb":             "a\uFFFDb",
		"\xe4\xbd":           "\uFFFD", // one maximal subpart
		"\xe4\xbda":          "\uFFFDa",
		"\xf0\x9f\x98 x":     "\uFFFD x",
		"\xed\xa0\x80":       "\uFFFD\uFFFD\uFFFD", // surrogate: ED may not take A0
		"\xc0\xaf":           "\uFFFD\uFFFD",
		"\xf4\x90\x80\x80":   "\uFFFD\uFFFD\uFFFD\uFFFD",
		"ok\xe2\x82":         "ok\uFFFD",
		"valid \uFFFD stays": "valid \uFFFD stays",
	} {
		if got := toValidUTF8(in); got != want {
			t.Errorf("toValidUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	set := func(path string, val any) func(map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			cur := m
			for _, k := range keys[:len(keys)-1] {
				cur = cur[k].(map[string]any)
			}
			if val == nil {
				delete(cur, keys[len(keys)-1])
			} else {
				cur[keys[len(keys)-1]] = val
			}
		}
	}
	vocabWith := func(k string, id any) func(map[string]any) {
		return func(m map[string]any) { m["model"].(map[string]any)["vocab"].(map[string]any)[k] = id }
	}
	good := string(smallJSON(t, nil))
	cases := []struct {
		name string
		json string
		want string
	}{
		{"empty", "", "tokenizer.json: empty"},
		{"truncated", good[:len(good)/2], "tokenizer.json: not valid JSON"},
		{"not an object", "[1,2]", "tokenizer.json: not valid JSON"},
		{"no model", string(smallJSON(t, set("model", nil))), "model is missing"},
		{"WordPiece", string(smallJSON(t, set("model.type", "WordPiece"))), `model.type "WordPiece" is not supported`},
		{"Unigram", string(smallJSON(t, set("model.type", "Unigram"))), `model.type "Unigram" is not supported`},
		{"byte fallback", string(smallJSON(t, set("model.byte_fallback", true))), "byte_fallback true (SentencePiece-style BPE)"},
		{"no vocab", string(smallJSON(t, set("model.vocab", nil))), "model.vocab is missing or empty"},
		{"id out of range", string(smallJSON(t, vocabWith("zz", 9999))), `token "zz" has id 9999`},
		{"id twice", string(smallJSON(t, vocabWith("zz", 3))), "id 3 is given to two tokens"},
		{"unknown merge token", string(smallJSON(t, set("model.merges", []any{"h e", "x qq"}))), `merge 1 "x qq": "qq" is not a token`},
		{"merge result missing", string(smallJSON(t, set("model.merges", []any{"a b"}))), `the merged "ab" is not a token`},
		{"bad merge shape", string(smallJSON(t, set("model.merges", []any{[]any{"a"}}))), `model.merges[0]: want "a b" or ["a", "b"]`},
		{"normalizer", string(smallJSON(t, set("normalizer", map[string]any{"type": "NFKC"}))), `normalizer "NFKC" is not supported`},
		{"metaspace", string(smallJSON(t, set("pre_tokenizer", map[string]any{"type": "Metaspace"}))), `pre_tokenizer: "Metaspace" here is not supported`},
		{"no pre-tokenizer", string(smallJSON(t, set("pre_tokenizer", nil))), "pre_tokenizer is null"},
		{"decoder", string(smallJSON(t, set("decoder", map[string]any{"type": "Sequence"}))), `decoder "Sequence" is not supported`},
		{"bad regex", string(smallJSON(t, func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": "(unclosed"}, "behavior": "Isolated"},
				map[string]any{"type": "ByteLevel", "use_regex": false}}}
		})), "pre-tokenizer pattern 0"},
		{"added id gap", string(smallJSON(t, set("added_tokens", []any{map[string]any{"id": 300, "content": "<x>"}}))), "want an id from 0 to 261"},
		{"added clash", string(smallJSON(t, set("added_tokens", []any{map[string]any{"id": 5, "content": "<x>"}}))), "the id is token"},
		{"added duplicate", string(smallJSON(t, set("added_tokens", []any{map[string]any{"id": 261, "content": "hello"}}))), `token "hello" is both id 259 and id 261`},
		{"lstrip", string(smallJSON(t, set("added_tokens", []any{map[string]any{"id": 261, "content": "<x>", "lstrip": true}}))), "lstrip, rstrip and single_word are not supported"},
		{"missing byte", string(smallJSON(t, func(m map[string]any) {
			v := m["model"].(map[string]any)["vocab"].(map[string]any)
			delete(v, "!")
			v["zz"] = int('!')
		})), `no token for byte 0x21`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseHF([]byte(c.json), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line with %q", err, c.want)
			}
		})
	}
	config := []struct{ config, want string }{
		{`{"eos_token": "<nope>"}`, `eos_token "<nope>" is not a token`},
		{`{"bos_token": {"content": "<nope>"}}`, `bos_token "<nope>" is not a token`},
		{`{"add_bos_token": true}`, "add_bos_token is true but there is no bos_token"},
		{`{"chat_template": 5}`, "chat_template: want a string"},
		{`{`, "tokenizer_config.json: not valid JSON"},
	}
	for _, c := range config {
		_, err := ParseHF([]byte(good), []byte(c.config))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %s: got %v, want %q", c.config, err, c.want)
		}
	}
}

func TestBadVocab(t *testing.T) {
	base := small(t).Vocab()
	cases := []struct {
		name string
		edit func(v *Vocab)
		want string
	}{
		{"sentencepiece", func(v *Vocab) { v.Model = "llama" }, `model "llama" (SentencePiece) is not supported`},
		{"other model", func(v *Vocab) { v.Model = "bert" }, `model "bert" is not supported`},
		{"no model", func(v *Vocab) { v.Model = "" }, "no model"},
		{"no tokens", func(v *Vocab) { v.Tokens = nil; v.Types = nil }, "no tokens"},
		{"types", func(v *Vocab) { v.Types = v.Types[:3] }, "3 token types for 262 tokens"},
		{"type value", func(v *Vocab) { v.Types[7] = 9 }, "token 7 has type 9"},
		{"bos range", func(v *Vocab) { v.BOS = 262 }, "BOS token 262 is not a token id"},
		{"eos range", func(v *Vocab) { v.EOS = []int32{-3} }, "EOS token -3 is not a token id"},
		{"add bos without one", func(v *Vocab) { v.AddBOS = true; v.BOS = -1 }, "adds a BOS token but has none"},
		{"empty token", func(v *Vocab) { v.Tokens[259] = "" }, "token 259 is empty"},
		{"merge shape", func(v *Vocab) { v.Merges = []string{"he"} }, `want "a b"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := *base
			v.Tokens = append([]string(nil), base.Tokens...)
			v.Types = append([]int32(nil), base.Types...)
			c.edit(&v)
			_, err := New(&v)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	_, err := FromGGUF(GGUF{Model: "gpt2", Pre: "mystery", Tokens: base.Tokens})
	if err == nil || !strings.Contains(err.Error(), `GGUF pre-tokenizer "mystery" is not supported`) {
		t.Fatalf("unknown pre: %v", err)
	}
	_, err = FromGGUF(GGUF{Model: "llama", Pre: "default", Tokens: base.Tokens})
	if err == nil || !strings.Contains(err.Error(), "SentencePiece") {
		t.Fatalf("llama model: %v", err)
	}
	_, err = FromGGUF(GGUF{Model: "gpt2", Pre: "qwen2", Tokens: base.Tokens, BOS: -1, EOS: 999, EOT: -1, EOM: -1})
	if err == nil || !strings.Contains(err.Error(), "eos_token_id 999") {
		t.Fatalf("eos range: %v", err)
	}
}
