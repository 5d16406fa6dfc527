package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStream: pushing ids one by one gives the whole decode, and every
// piece returned before Flush is whole UTF-8 when the text is.
func TestStream(t *testing.T) {
	for _, name := range refNames {
		tk := refTokenizer(t, name)
		texts := append(corpus(t), "👨‍👩‍👧‍👦 家族 🇯🇵 é", strings.Repeat("😀", 7))
		for _, s := range texts {
			ids := tk.Encode(s, true)
			want := tk.Decode(ids)
			for cut := 0; cut <= len(ids); cut++ {
				st := tk.NewStream(false)
				var b strings.Builder
				for _, id := range ids[:cut] {
					out := st.Push(id)
					if utf8.ValidString(want) && !utf8.ValidString(out) {
						t.Fatalf("%s %q: Push returned broken UTF-8 %q", name, s, out)
					}
					b.WriteString(out)
				}
				b.WriteString(st.Flush())
				if got, w := b.String(), tk.Decode(ids[:cut]); got != w {
					t.Fatalf("%s %q cut %d: stream %q, decode %q", name, s, cut, got, w)
				}
			}
		}
	}
}

// TestStreamHolds: a character split across byte tokens comes out whole.
func TestStreamHolds(t *testing.T) {
	tk := small(t)
	st := tk.NewStream(true)
	smile := "😀"
	var outs []string
	for i := 0; i < len(smile); i++ {
		outs = append(outs, st.Push(tk.byteTok[smile[i]]))
	}
	outs = append(outs, st.Push(261)) // special: skipped
	if strings.Join(outs, "|") != "|||😀|" || st.Flush() != "" {
		t.Fatalf("got %q", outs)
	}
	// A byte that cannot start a character is not held.
	if out := st.Push(tk.byteTok[0xff]); out != "\xff" {
		t.Fatalf("0xff: %q", out)
	}
	st.Push(tk.byteTok[0xe4])
	if out := st.Flush(); out != "\xe4" {
		t.Fatalf("Flush: %q", out)
	}
}
