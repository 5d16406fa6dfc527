package codegen

import (
	"cmp"
	"slices"
)

// slot is one arena-backed value, or a launch's scratch: its size and the
// node indices of its definition and last use.
type slot struct {
	name        string
	bytes       int64
	first, last int
	offset      int64
	scratch     bool
}

// planArena assigns byte offsets to slots so that two slots whose lifetimes
// overlap never overlap in memory, each at a multiple of align, and returns
// the arena size. It places the
// largest slots first, each at the lowest offset that fits between the
// slots already placed and live at the same time (greedy by size, as
// TFLite's arena planner does); ties break by definition order, so the plan
// is deterministic.
func planArena(slots []*slot, align int64) int64 {
	order := slices.Clone(slots)
	slices.SortStableFunc(order, func(a, b *slot) int { return cmp.Compare(b.bytes, a.bytes) })
	var placed []*slot
	var size int64
	for _, s := range order {
		var live []*slot
		for _, p := range placed {
			if p.first <= s.last && s.first <= p.last {
				live = append(live, p)
			}
		}
		slices.SortFunc(live, func(a, b *slot) int { return cmp.Compare(a.offset, b.offset) })
		var at int64
		for _, p := range live {
			if at+s.bytes <= p.offset {
				break
			}
			at = max(at, alignUp(p.offset+p.bytes, align))
		}
		s.offset = at
		size = max(size, at+s.bytes)
		placed = append(placed, s)
	}
	return alignUp(size, align)
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }
