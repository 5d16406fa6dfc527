package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/dlclark/regexp2/v2"
)

// Size limits: far above any real tokenizer (the largest have ~260k tokens
// and merges), low enough that bad data cannot make New allocate without
// bound.
const (
	MaxTokens       = 1 << 21
	MaxMerges       = 1 << 22
	MaxTokenLen     = 1 << 12
	MaxPatterns     = 16
	MaxPatternLen   = 1 << 12
	MaxChatTemplate = 1 << 20
	maxCachedPiece  = 256     // longer pieces are rarely repeated
	maxCacheEntries = 1 << 16 // then the cache starts over
)

// Tokenizer encodes and decodes text with one Vocab. It is safe for
// concurrent use.
type Tokenizer struct {
	v        *Vocab
	patterns []*regexp2.Regexp

	pieces  []string         // raw bytes of each token, by id
	byteTok [256]int32       // the token of each single byte
	raw     map[string]int32 // normal tokens by raw bytes (IgnoreMerges)
	merges  map[uint64]merge // by pairKey(left, right)
	added   [256][]int32     // added tokens by first byte, longest first
	eos     map[int32]bool

	mu    sync.Mutex
	cache map[string][]int32 // BPE result per piece
}

type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// New checks v and builds its tables. Every problem is one error line; v
// is not modified and must not be modified while the Tokenizer is in use.
func New(v *Vocab) (*Tokenizer, error) {
	if v.Unsupported != "" {
		return nil, fmt.Errorf("%s", v.Unsupported)
	}
	if err := checkModel(v.Model); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	switch {
	case n == 0:
		return nil, fmt.Errorf("tokenizer: no tokens")
	case n > MaxTokens:
		return nil, fmt.Errorf("tokenizer: %d tokens, more than %d", n, MaxTokens)
	case len(v.Types) != 0 && len(v.Types) != n:
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	case len(v.Merges) > MaxMerges:
		return nil, fmt.Errorf("tokenizer: %d merges, more than %d", len(v.Merges), MaxMerges)
	case len(v.Patterns) > MaxPatterns:
		return nil, fmt.Errorf("tokenizer: %d pre-tokenizer patterns, more than %d", len(v.Patterns), MaxPatterns)
	case len(v.ChatTemplate) > MaxChatTemplate:
		return nil, fmt.Errorf("tokenizer: chat template of %d bytes, more than %d", len(v.ChatTemplate), MaxChatTemplate)
	}
	t := &Tokenizer{v: v, pieces: make([]string, n), raw: make(map[string]int32, n),
		merges: make(map[uint64]merge, len(v.Merges)), eos: map[int32]bool{}, cache: map[string][]int32{}}
	for i, p := range v.Patterns {
		if len(p) > MaxPatternLen {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer pattern %d is %d bytes long, more than %d", i, len(p), MaxPatternLen)
		}
		re, err := regexp2.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: pre-tokenizer pattern %d %s: %v", i, clip(p), err)
		}
		t.patterns = append(t.patterns, re)
	}
	if err := t.indexTokens(); err != nil {
		return nil, err
	}
	if err := t.indexMerges(); err != nil {
		return nil, err
	}
	if err := t.checkIDs(); err != nil {
		return nil, err
	}
	return t, nil
}

func checkModel(model string) error {
	switch model {
	case ModelBPE:
		return nil
	case "llama":
		return fmt.Errorf(`tokenizer: model "llama" (SentencePiece) is not supported: only byte-level BPE ("gpt2")`)
	case "":
		return fmt.Errorf(`tokenizer: no model: want "gpt2" (byte-level BPE)`)
	}
	return fmt.Errorf(`tokenizer: model %s is not supported: only byte-level BPE ("gpt2")`, clip(model))
}

// indexTokens fills pieces, raw, byteTok and added, rejecting empty,
// over-long and duplicate tokens and unknown types, and requiring a token
// for every byte so that any text can be encoded.
func (t *Tokenizer) indexTokens() error {
	v := t.v
	seen := make(map[string]int, len(v.Tokens))
	for i := range t.byteTok {
		t.byteTok[i] = -1
	}
	for id, s := range v.Tokens {
		typ := v.typeOf(id)
		switch {
		case typ < TypeNormal || typ > TypeByte:
			return fmt.Errorf("tokenizer: token %d has type %d, want 1 to 6", id, typ)
		case s == "":
			return fmt.Errorf("tokenizer: token %d is empty", id)
		case len(s) > MaxTokenLen:
			return fmt.Errorf("tokenizer: token %d is %d bytes long, more than %d", id, len(s), MaxTokenLen)
		}
		if prev, ok := seen[s]; ok {
			return fmt.Errorf("tokenizer: token %s is both id %d and id %d", clip(s), prev, id)
		}
		seen[s] = id
		if isAdded(typ) {
			t.pieces[id] = s
			t.added[s[0]] = append(t.added[s[0]], int32(id))
			continue
		}
		raw := unmapBytes(s)
		t.pieces[id] = raw
		if _, ok := t.raw[raw]; !ok {
			t.raw[raw] = int32(id)
		}
		if len(raw) == 1 && t.byteTok[raw[0]] < 0 && s == string(byteToRune[raw[0]]) {
			t.byteTok[raw[0]] = int32(id)
		}
	}
	for b, id := range t.byteTok {
		if id < 0 {
			return fmt.Errorf("tokenizer: no token for byte 0x%02x (%q): not a byte-level vocabulary", b, string(byteToRune[b]))
		}
	}
	for i := range t.added {
		l := t.added[i]
		// Longest first, so the first match at a position is the longest.
		sortByLenDesc(l, v.Tokens)
	}
	return nil
}

// indexMerges reads "a b" merges; both halves and their concatenation must
// be normal tokens. A repeated pair keeps its first (better) rank.
func (t *Tokenizer) indexMerges() error {
	for rank, m := range t.v.Merges {
		a, b, ok := strings.Cut(m, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return fmt.Errorf(`tokenizer: merge %d %s: want "a b", two tokens and one space`, rank, clip(m))
		}
		ia, oka := t.normal(a)
		ib, okb := t.normal(b)
		ic, okc := t.normal(a + b)
		switch {
		case !oka:
			return fmt.Errorf("tokenizer: merge %d %s: %s is not a token", rank, clip(m), clip(a))
		case !okb:
			return fmt.Errorf("tokenizer: merge %d %s: %s is not a token", rank, clip(m), clip(b))
		case !okc:
			return fmt.Errorf("tokenizer: merge %d %s: the merged %s is not a token", rank, clip(m), clip(a+b))
		}
		k := pairKey(ia, ib)
		if _, dup := t.merges[k]; !dup {
			t.merges[k] = merge{int32(rank), ic}
		}
	}
	return nil
}

// normal is the id of a normal token given in the byte-level spelling.
func (t *Tokenizer) normal(s string) (int32, bool) {
	id, ok := t.raw[unmapBytes(s)]
	if !ok || t.v.Tokens[id] != s {
		return -1, false
	}
	return id, true
}

func (t *Tokenizer) checkIDs() error {
	v, n := t.v, int32(len(t.v.Tokens))
	if v.BOS < -1 || v.BOS >= n {
		return fmt.Errorf("tokenizer: BOS token %d is not a token id (0 to %d, or -1 for none)", v.BOS, n-1)
	}
	if v.AddBOS && v.BOS < 0 {
		return fmt.Errorf("tokenizer: adds a BOS token but has none")
	}
	for _, id := range v.EOS {
		if id < 0 || id >= n {
			return fmt.Errorf("tokenizer: EOS token %d is not a token id (0 to %d)", id, n-1)
		}
		t.eos[id] = true
	}
	return nil
}

// Vocab is the vocabulary the Tokenizer was built from (not to be modified).
func (t *Tokenizer) Vocab() *Vocab { return t.v }

// Len is the number of tokens.
func (t *Tokenizer) Len() int { return len(t.pieces) }

// IsEOS says whether id ends generation.
func (t *Tokenizer) IsEOS(id int32) bool { return t.eos[id] }

// IsSpecial says whether id is a special (control) token.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.pieces) && t.v.typeOf(int(id)) == TypeControl
}

// clip quotes s for an error message, shortened to keep the line short.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

func sortByLenDesc(ids []int32, tokens []string) {
	slices.SortStableFunc(ids, func(a, b int32) int { return len(tokens[b]) - len(tokens[a]) })
}
