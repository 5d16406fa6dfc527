package tokenizer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Encode turns text into token ids: added tokens are found first (the
// longest at the leftmost position), the text between them is
// NFC-normalized if the Vocab says so, split by the pre-tokenizer patterns
// and each piece BPE-merged; the BOS token comes first when the Vocab adds
// it.
//
// special says whether special (control) tokens written in the text, such
// as "<|im_start|>", are read as those tokens. With special false their
// text is encoded like any other (transformers' split_special_tokens);
// non-special added tokens are still matched, as in Hugging Face
// tokenizers and llama.cpp.
//
// Invalid UTF-8 is first replaced by U+FFFD, one per maximal ill-formed
// subsequence, as Python's bytes.decode(errors="replace") and the WHATWG
// TextDecoder do: the reference tokenizers take Unicode strings, so this is
// the text they would see for the same bytes.
func (t *Tokenizer) Encode(text string, special bool) []int32 {
	text = toValidUTF8(text)
	var ids []int32
	if t.v.AddBOS {
		ids = append(ids, t.v.BOS)
	}
	start := 0
	for i := 0; i < len(text); {
		id, n := t.addedAt(text[i:], special)
		if n == 0 {
			i++
			continue
		}
		ids = t.encodeText(ids, text[start:i])
		ids = append(ids, id)
		i += n
		start = i
	}
	return t.encodeText(ids, text[start:])
}

// addedAt is the longest added token text starts with, and its length (0
// if none).
func (t *Tokenizer) addedAt(text string, special bool) (int32, int) {
	for _, id := range t.added[text[0]] {
		if !special && t.v.typeOf(int(id)) == TypeControl {
			continue
		}
		if s := t.v.Tokens[id]; strings.HasPrefix(text, s) {
			return id, len(s)
		}
	}
	return -1, 0
}

// encodeText encodes text holding no added tokens.
func (t *Tokenizer) encodeText(ids []int32, text string) []int32 {
	if text == "" {
		return ids
	}
	if t.v.NFC {
		text = norm.NFC.String(text)
	}
	for _, piece := range t.split(text) {
		ids = t.bpe(ids, piece)
	}
	return ids
}

// split applies the patterns in turn: each cuts every piece into its
// matches and the text between them, all kept.
func (t *Tokenizer) split(text string) []string {
	pieces := []string{text}
	for _, re := range t.patterns {
		var next []string
		for _, p := range pieces {
			idx, err := re.FindAllStringIndex(p, -1)
			if err != nil {
				// Only a backtracking limit can fail a match of these
				// patterns; keep the piece whole rather than lose text.
				next = append(next, p)
				continue
			}
			at := 0
			for _, m := range idx {
				if m[0] > at {
					next = append(next, p[at:m[0]])
				}
				if m[1] > m[0] {
					next = append(next, p[m[0]:m[1]])
				}
				at = m[1]
			}
			if at < len(p) {
				next = append(next, p[at:])
			}
		}
		pieces = next
	}
	return pieces
}

// toValidUTF8 replaces each maximal ill-formed subsequence by U+FFFD
// (Unicode's "substitution of maximal subparts"): a lead byte followed by
// fewer continuation bytes than it needs, but ones it allows, is one
// replacement; any other bad byte is one replacement each.
func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return b.String()
}

// maximalSubpart is the length of the ill-formed sequence starting s: the
// longest prefix that could still begin a well-formed character, at least
// one byte.
func maximalSubpart(s string) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := s[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF // only the second byte has a narrower range
	}
	return n
}
