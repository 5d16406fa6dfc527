package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The reference data lives at the repository root (runtime/ is embedded in
// the irc binary): see testdata/tokenizers/README.md.
var refDir = filepath.Join("..", "..", "testdata", "tokenizers")

var refNames = []string{"qwen3", "llama3"}

type refData struct {
	json, config []byte
}

var (
	refOnce  sync.Once
	refFiles map[string]refData
	refErr   error
)

func loadRef(t testing.TB, name string) refData {
	t.Helper()
	refOnce.Do(func() {
		refFiles = map[string]refData{}
		for _, n := range refNames {
			f, err := os.Open(filepath.Join(refDir, n+".tokenizer.json.gz"))
			if err != nil {
				refErr = err
				return
			}
			z, err := gzip.NewReader(f)
			if err != nil {
				refErr = err
				return
			}
			j, err := io.ReadAll(z)
			f.Close()
			if err != nil {
				refErr = err
				return
			}
			c, err := os.ReadFile(filepath.Join(refDir, n+".tokenizer_config.json"))
			if err != nil {
				refErr = err
				return
			}
			refFiles[n] = refData{j, c}
		}
	})
	if refErr != nil {
		t.Fatal(refErr)
	}
	return refFiles[name]
}

var (
	tokMu    sync.Mutex
	tokCache = map[string]*Tokenizer{}
)

// refTokenizer is the named reference tokenizer read through ParseHF.
func refTokenizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tokMu.Lock()
	defer tokMu.Unlock()
	if tk := tokCache[name]; tk != nil {
		return tk
	}
	d := loadRef(t, name)
	v, err := ParseHF(d.json, d.config)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tk, err := New(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tokCache[name] = tk
	return tk
}

// corpus is the test strings, raw bytes for {"b64": ...} entries.
func corpus(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		if json.Unmarshal(r, &out[i]) == nil {
			continue
		}
		var e struct{ B64 string }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatalf("corpus entry %d: %v", i, err)
		}
		dec, err := base64.StdEncoding.DecodeString(e.B64)
		if err != nil {
			t.Fatalf("corpus entry %d: %v", i, err)
		}
		out[i] = string(dec)
	}
	return out
}

type expectedIDs struct{ Special, NoSpecial [][]int32 }

func expected(t testing.TB) map[string]expectedIDs {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]struct {
		Special   [][]int32 `json:"special"`
		NoSpecial [][]int32 `json:"nospecial"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]expectedIDs{}
	for k, v := range raw {
		out[k] = expectedIDs{v.Special, v.NoSpecial}
	}
	return out
}

// checkCorpus encodes every corpus string both ways and compares with the
// reference's ids; valid UTF-8 must decode back to itself.
func checkCorpus(t *testing.T, tk *Tokenizer, want expectedIDs) {
	texts := corpus(t)
	if len(want.Special) != len(texts) || len(want.NoSpecial) != len(texts) {
		t.Fatalf("expected.json has %d/%d entries for %d corpus strings: run make-expected.mjs", len(want.Special), len(want.NoSpecial), len(texts))
	}
	bad := 0
	for i, s := range texts {
		for _, c := range []struct {
			special bool
			want    []int32
		}{{true, want.Special[i]}, {false, want.NoSpecial[i]}} {
			got := tk.Encode(s, c.special)
			if !slices.Equal(got, c.want) {
				t.Errorf("corpus %d %q special=%v:\n got %v\nwant %v", i, clipTest(s), c.special, got, c.want)
				bad++
			}
			if utf8.ValidString(s) {
				if tk.Vocab().NFC {
					s = norm.NFC.String(s) // what the tokenizer encodes
				}
				if back := tk.Decode(got); back != s {
					t.Errorf("corpus %d %q special=%v: decodes to %q", i, clipTest(s), c.special, clipTest(back))
				}
			}
		}
		if bad > 10 {
			t.Fatal("too many mismatches")
		}
	}
}

func clipTest(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func TestReferenceHF(t *testing.T) {
	want := expected(t)
	for _, name := range refNames {
		t.Run(name, func(t *testing.T) { checkCorpus(t, refTokenizer(t, name), want[name]) })
	}
}

// TestReferenceGGUF builds each reference vocabulary the way a GGUF holds
// it (tokens by id with added tokens in place, types, "a b" merges, the
// pre name) and requires the same ids as the tokenizer.json.
func TestReferenceGGUF(t *testing.T) {
	want := expected(t)
	for _, c := range []struct{ name, pre string }{{"qwen3", "qwen2"}, {"llama3", "llama-bpe"}} {
		t.Run(c.name, func(t *testing.T) {
			hf := refTokenizer(t, c.name).Vocab()
			addBOS := hf.AddBOS
			v, err := FromGGUF(GGUF{Model: "gpt2", Pre: c.pre, Tokens: hf.Tokens, TokenTypes: hf.Types,
				Merges: hf.Merges, BOS: int64(hf.BOS), EOS: int64(hf.EOS[0]), EOT: -1, EOM: -1, AddBOS: &addBOS,
				ChatTemplate: hf.ChatTemplate})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Patterns, hf.Patterns) || v.NFC != hf.NFC || v.IgnoreMerges != hf.IgnoreMerges {
				t.Fatalf("pre %q: patterns %q nfc %v ignore_merges %v, tokenizer.json %q %v %v", c.pre, v.Patterns, v.NFC, v.IgnoreMerges, hf.Patterns, hf.NFC, hf.IgnoreMerges)
			}
			if !slices.Equal(v.EOS, hf.EOS) {
				t.Errorf("EOS %v, tokenizer.json %v", v.EOS, hf.EOS)
			}
			tk, err := New(v)
			if err != nil {
				t.Fatal(err)
			}
			checkCorpus(t, tk, want[c.name])
		})
	}
}

// TestReferenceVocab pins what ParseHF reads from the two files.
func TestReferenceVocab(t *testing.T) {
	q := refTokenizer(t, "qwen3").Vocab()
	l := refTokenizer(t, "llama3").Vocab()
	checks := []struct {
		what      string
		got, want any
	}{
		{"qwen3 tokens", len(q.Tokens), 151669},
		{"qwen3 NFC", q.NFC, true},
		{"qwen3 BOS", q.BOS, int32(-1)},
		{"qwen3 EOS", q.EOS, []int32{151645, 151643}},
		{"qwen3 <think> type", q.Types[151667], int32(TypeUserDefined)},
		{"qwen3 <|im_start|> type", q.Types[151644], int32(TypeControl)},
		{"qwen3 template", len(q.ChatTemplate) > 0, true},
		{"llama3 tokens", len(l.Tokens), 128256},
		{"llama3 ignore_merges", l.IgnoreMerges, true},
		{"llama3 BOS", l.BOS, int32(128000)},
		{"llama3 AddBOS", l.AddBOS, false}, // this tokenizer.json's post-processor adds none
		{"llama3 EOS", l.EOS, []int32{128001, 128009}},
	}
	for _, c := range checks {
		if !equalAny(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
