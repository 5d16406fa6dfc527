package tokenizer

import "container/heap"

// bpe appends the tokens of one pre-tokenized piece (raw bytes): it starts
// from one token per byte and merges the adjacent pair of lowest rank,
// leftmost first on ties, until no pair has a merge.
func (t *Tokenizer) bpe(ids []int32, piece string) []int32 {
	if len(piece) == 1 {
		return append(ids, t.byteTok[piece[0]])
	}
	if t.v.IgnoreMerges {
		if id, ok := t.raw[piece]; ok {
			return append(ids, id)
		}
	}
	cacheable := len(piece) <= maxCachedPiece
	if cacheable {
		t.mu.Lock()
		got, ok := t.cache[piece]
		t.mu.Unlock()
		if ok {
			return append(ids, got...)
		}
	}
	out := t.merge(piece)
	if cacheable {
		t.mu.Lock()
		if len(t.cache) >= maxCacheEntries {
			t.cache = map[string][]int32{}
		}
		t.cache[piece] = out
		t.mu.Unlock()
	}
	return append(ids, out...)
}

// symbol is one token of the word being merged, in a linked list (dead
// symbols have id -1).
type symbol struct{ id, prev, next int32 }

// candidate is a pair that has a merge, found when its left symbol was at
// pos with the given ids; it is stale if they changed since.
type candidate struct{ rank, pos, left, right int32 }

type candidates []candidate

func (c candidates) Len() int { return len(c) }
func (c candidates) Less(i, j int) bool {
	return c[i].rank < c[j].rank || (c[i].rank == c[j].rank && c[i].pos < c[j].pos)
}
func (c candidates) Swap(i, j int) { c[i], c[j] = c[j], c[i] }
func (c *candidates) Push(x any)   { *c = append(*c, x.(candidate)) }
func (c *candidates) Pop() any {
	old := *c
	x := old[len(old)-1]
	*c = old[:len(old)-1]
	return x
}

func (t *Tokenizer) merge(piece string) []int32 {
	syms := make([]symbol, len(piece))
	for i := range syms {
		syms[i] = symbol{t.byteTok[piece[i]], int32(i - 1), int32(i + 1)}
	}
	syms[len(syms)-1].next = -1
	q := make(candidates, 0, len(syms))
	push := func(pos int32) {
		if pos < 0 {
			return
		}
		nx := syms[pos].next
		if nx < 0 {
			return
		}
		l, r := syms[pos].id, syms[nx].id
		if m, ok := t.merges[pairKey(l, r)]; ok {
			heap.Push(&q, candidate{m.rank, pos, l, r})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for q.Len() > 0 {
		c := heap.Pop(&q).(candidate)
		s := &syms[c.pos]
		if s.id != c.left || s.next < 0 || syms[s.next].id != c.right {
			continue
		}
		right := s.next
		s.id = t.merges[pairKey(c.left, c.right)].id
		s.next = syms[right].next
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		syms[right].id = -1
		push(s.prev)
		push(c.pos)
	}
	out := make([]int32, 0, 4)
	for i := int32(0); i >= 0; i = syms[i].next {
		out = append(out, syms[i].id)
	}
	return out
}
