package tokenizer

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzParseHF: any bytes give a Vocab or an error, never a panic; a Vocab
// ParseHF accepts builds a Tokenizer.
func FuzzParseHF(f *testing.F) {
	good := smallJSON(f, nil)
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}}`))
	f.Add([]byte(`{"model": null, "added_tokens": [{"id": -1}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseHF(b, nil)
		if err != nil {
			return
		}
		tk, err := New(v)
		if err != nil {
			t.Fatalf("ParseHF accepted what New rejects: %v", err)
		}
		tk.Encode("hello <|end|> world", true)
	})
}

// FuzzEncode: any text encodes without panic and decodes back (to its NFC
// form; invalid UTF-8 is replaced first).
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "hello world", "<|end|>x", "\xff\xe4\xbd", "e\u0301", "😀👍🏽", "  \n\t 123456"} {
		f.Add(s)
	}
	tk := small(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tk.Encode(s, true)
		want := norm.NFC.String(toValidUTF8(s))
		if got := tk.Decode(ids); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
		if !utf8.ValidString(tk.Decode(tk.Encode(s, false))) {
			t.Fatalf("special=false: invalid UTF-8 back for %q", s)
		}
	})
}
