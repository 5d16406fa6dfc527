package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Piece is the text of token id as raw bytes (which need not be valid
// UTF-8: a byte-level token may hold part of a character); "" for an id
// that is not a token.
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Decode is the bytes of the tokens, concatenated; special tokens
// included, ids that are not tokens skipped. It inverts Encode for valid
// UTF-8 text. Nothing is cleaned up (no clean_up_tokenization_spaces).
func (t *Tokenizer) Decode(ids []int32) string { return t.decode(ids, false) }

// DecodeSkipSpecial is Decode without the special (control) tokens, as
// transformers' skip_special_tokens.
func (t *Tokenizer) DecodeSkipSpecial(ids []int32) string { return t.decode(ids, true) }

func (t *Tokenizer) decode(ids []int32, skipSpecial bool) string {
	var b strings.Builder
	for _, id := range ids {
		if skipSpecial && t.IsSpecial(id) {
			continue
		}
		b.WriteString(t.Piece(id))
	}
	return b.String()
}

// Stream decodes generated tokens one at a time, returning text only in
// whole UTF-8 characters: bytes of a character split across tokens are held
// until it is complete. Bytes that cannot begin a character are passed on
// as they are rather than held forever.
type Stream struct {
	t           *Tokenizer
	skipSpecial bool
	pending     []byte
}

// NewStream starts a streaming decode; skipSpecial drops control tokens.
func (t *Tokenizer) NewStream(skipSpecial bool) *Stream {
	return &Stream{t: t, skipSpecial: skipSpecial}
}

// Push adds one token and returns the text that is now complete.
func (s *Stream) Push(id int32) string {
	if s.skipSpecial && s.t.IsSpecial(id) {
		return ""
	}
	s.pending = append(s.pending, s.t.Piece(id)...)
	cut := completePrefix(s.pending)
	out := string(s.pending[:cut])
	s.pending = append(s.pending[:0], s.pending[cut:]...)
	return out
}

// Flush returns what is held back (an incomplete character, as its raw
// bytes) and resets the stream.
func (s *Stream) Flush() string {
	out := string(s.pending)
	s.pending = s.pending[:0]
	return out
}

// completePrefix is the length of b without a trailing incomplete but
// still possibly valid UTF-8 sequence.
func completePrefix(b []byte) int {
	for back := 1; back <= utf8.UTFMax-1 && back <= len(b); back++ {
		i := len(b) - back
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			return len(b)
		}
	}
	return len(b)
}
