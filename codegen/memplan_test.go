package codegen

import (
	"math/rand/v2"
	"testing"
)

// arenaAlign is the alignment the plan tests use.
const arenaAlign = 256

// The arena plan never lets two values that are live at the same time share
// a byte, keeps every offset aligned, and is no bigger than the sum of the
// values (it is exactly the largest live set when lifetimes nest).
func TestPlanArenaSeparatesLiveValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var slots []*slot
		var sum int64
		for range 1 + r.IntN(40) {
			first := r.IntN(50)
			s := &slot{bytes: 1 + r.Int64N(5000), first: first, last: first + r.IntN(10)}
			slots = append(slots, s)
			sum += alignUp(s.bytes, arenaAlign)
		}
		size := planArena(slots, arenaAlign)
		if size > sum {
			t.Fatalf("trial %d: arena %d is bigger than no reuse at all (%d)", trial, size, sum)
		}
		for i, a := range slots {
			if a.offset%arenaAlign != 0 || a.offset+a.bytes > size {
				t.Fatalf("trial %d: slot %d at %d+%d in an arena of %d", trial, i, a.offset, a.bytes, size)
			}
			for _, b := range slots[i+1:] {
				live := a.first <= b.last && b.first <= a.last
				apart := a.offset+a.bytes <= b.offset || b.offset+b.bytes <= a.offset
				if live && !apart {
					t.Fatalf("trial %d: live at once and overlapping: [%d,%d]@%d+%d and [%d,%d]@%d+%d",
						trial, a.first, a.last, a.offset, a.bytes, b.first, b.last, b.offset, b.bytes)
				}
			}
		}
	}
}

// A chain where each value dies as the next is made needs two slots' worth.
func TestPlanArenaReusesAChain(t *testing.T) {
	var slots []*slot
	for i := range 10 {
		slots = append(slots, &slot{bytes: 1000, first: i, last: i + 1})
	}
	if size := planArena(slots, arenaAlign); size != 2*alignUp(1000, arenaAlign) {
		t.Fatalf("arena %d, want two slots", size)
	}
}
