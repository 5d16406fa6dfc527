package schedule

import (
	"math"
	"testing"
)

// A hand-built decode step: two launches share a packed weight (counted
// once), one reads a second weight and a KV cache, one writes the cache;
// inputs and constants count once per launch, arena values as the
// lowering summed them.
func TestTrafficHandBuilt(t *testing.T) {
	s := &Schedule{
		Model: Model{MaxCacheLen: 8},
		Buffers: []Buffer{
			{Name: "arena", Kind: Arena, Bytes: 1 << 20},
			{Name: "w_packed", Kind: Weight, Bytes: 1000},
			{Name: "w2", Kind: Weight, Bytes: 24},
			{Name: "unused", Kind: Weight, Bytes: 1 << 30}, // no launch reads it
			{Name: "k_cache", Kind: State, Bytes: 8 * 64},
			{Name: "v_cache", Kind: State, Bytes: 8 * 64},
			{Name: "decode.tokens", Kind: Input, Shape: []int64{1}, Bytes: 4},
			{Name: "decode.pos", Kind: Input, Shape: []int64{1}, Bytes: 4},
			{Name: "rope.inv_freq", Kind: Constant, Bytes: 32},
		},
		Graphs: []Graph{{
			Name:   "decode",
			Inputs: []int{6, 7},
			Launches: []Launch{
				// gather: tokens, twice (once), w_packed; writes 100 arena bytes.
				{Args: []Arg{T(6, 0), T(6, 0), T(1, 0), I(3), T(0, 0)}, ArenaBytes: 100},
				// rope: pos, constant; 100 + 100 arena bytes.
				{Args: []Arg{T(7, 0), T(8, 0), F(1), T(0, 16)}, ArenaBytes: 200},
				// linear over the packed weight again and w2, the caches.
				{Args: []Arg{T(1, 10), T(2, 0), T(4, 0), T(5, 0), T(0, 0)}, ArenaBytes: 50},
			},
		}},
	}
	got := s.Traffic(0)
	want := Traffic{Graph: "decode", Launches: 3, Tokens: 1, WeightBytes: 1024, WeightBuffers: 2,
		StateBytes: 1024, StateBuffers: 2, CacheLen: 8, ActivationBytes: 100 + 4 + 200 + 4 + 32 + 50}
	if got != want {
		t.Fatalf("traffic\n got %+v\nwant %+v", got, want)
	}
	// Position 1 reads cache rows 0 and 1 (128 bytes each) and writes row 1.
	if got.KVRowBytes() != 128 || got.KVReadBytes(1) != 256 || got.KVWrittenBytes() != 128 || got.ReadBytes(1) != 1024+256 {
		t.Errorf("kv: row %d, read@1 %d, written %d, read bytes %d", got.KVRowBytes(), got.KVReadBytes(1), got.KVWrittenBytes(), got.ReadBytes(1))
	}
	if got.LastPosition() != 7 || got.KVReadBytes(7) != 1024 || got.KVReadBytes(100) != 1024 {
		t.Errorf("last position %d reads %d (past it %d)", got.LastPosition(), got.KVReadBytes(7), got.KVReadBytes(100))
	}
	total := int64(1024 + 256 + 128 + 390)
	if got.Bytes(1) != total {
		t.Errorf("bytes at 1: %d, want %d", got.Bytes(1), total)
	}
	if f := got.FloorSeconds(1, 1e-6); math.Abs(f-float64(total)/1e3) > 1e-12 || got.FloorSeconds(1, 0) != 0 {
		t.Errorf("floor at 1 kB/s: %g s", f)
	}
	if r := s.Roofline(); len(r) != 1 || r[0] != got {
		t.Errorf("roofline %+v", r)
	}
}

// A prefill chunk of 4 tokens: it reads the cache up to its last token
// and writes 4 rows; no cache at all reads nothing.
func TestTrafficChunk(t *testing.T) {
	tr := Traffic{Tokens: 4, StateBytes: 16 * 10, CacheLen: 16}
	if tr.KVReadBytes(0) != 40 || tr.KVWrittenBytes() != 40 || tr.KVReadBytes(12) != 160 || tr.LastPosition() != 12 {
		t.Errorf("chunk: read@0 %d, written %d, read@12 %d, last %d", tr.KVReadBytes(0), tr.KVWrittenBytes(), tr.KVReadBytes(12), tr.LastPosition())
	}
	none := Traffic{Tokens: 4, WeightBytes: 7}
	if none.KVReadBytes(3) != 0 || none.Bytes(3) != 7 || none.LastPosition() != 0 {
		t.Errorf("no cache: %d %d", none.KVReadBytes(3), none.Bytes(3))
	}
}
