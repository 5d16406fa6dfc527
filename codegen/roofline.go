package codegen

import (
	"fmt"
	"strings"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Roofline is one graph's bandwidth roofline as the schedule dump and the
// compile stats show it: the traffic of a step (schedule.Traffic, the one
// computation irc bench uses too) and its figures at two positions.
type Roofline struct {
	schedule.Traffic
	KVRowBytes int64 `json:"kv_row_bytes"`
	// KVWrittenBytes is the rows a step writes, at any position.
	KVWrittenBytes int64 `json:"kv_written_bytes"`
	// BandwidthGBs is the bandwidth the floors are at (--bandwidth);
	// absent without one.
	BandwidthGBs float64 `json:"bandwidth_gbs,omitempty"`
	// Points are the figures at position 1 (or the last, when the cache
	// is shorter) and at the last position, where the step's tokens fill
	// the cache.
	Points []RooflinePoint `json:"points"`
}

// RooflinePoint is a step's bytes at one position and its floor.
type RooflinePoint struct {
	Position    int64 `json:"position"`
	KVReadBytes int64 `json:"kv_read_bytes"`
	// Bytes is everything the step reads and writes (Traffic.Bytes).
	Bytes int64 `json:"bytes"`
	// FloorMs is Bytes at the bandwidth; absent without one.
	FloorMs float64 `json:"floor_ms,omitempty"`
}

// Rooflines is every graph's roofline at gbs GB/s (0: bytes only).
func Rooflines(s *schedule.Schedule, gbs float64) []Roofline {
	var out []Roofline
	for _, t := range s.Roofline() {
		r := Roofline{Traffic: t, KVRowBytes: t.KVRowBytes(), KVWrittenBytes: t.KVWrittenBytes(), BandwidthGBs: gbs}
		last := t.LastPosition()
		for _, p := range []int64{min(1, last), last} {
			if len(r.Points) > 0 && r.Points[0].Position == p {
				break
			}
			r.Points = append(r.Points, RooflinePoint{Position: p, KVReadBytes: t.KVReadBytes(p), Bytes: t.Bytes(p), FloorMs: t.FloorSeconds(p, gbs) * 1e3})
		}
		out = append(out, r)
	}
	return out
}

// format prints r as the dump's block, indented under its graph.
func (r Roofline) format(b *strings.Builder) {
	tokens := "1 token"
	if r.Tokens != 1 {
		tokens = fmt.Sprintf("%d tokens", r.Tokens)
	}
	at := func(f func(p RooflinePoint) string) string {
		var parts []string
		for _, p := range r.Points {
			parts = append(parts, fmt.Sprintf("%s at p=%d", f(p), p.Position))
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(b, "  roofline of one step (%d launches, %s at position p):\n", r.Launches, tokens)
	fmt.Fprintf(b, "    weights      %s read (%d buffers, each once)\n", budget.Format(r.WeightBytes), r.WeightBuffers)
	if r.StateBuffers > 0 {
		fmt.Fprintf(b, "    KV cache     read (p+%d) x %s: %s; written %d x %s = %s (%d caches of %d rows)\n",
			r.Tokens, budget.Format(r.KVRowBytes), at(func(p RooflinePoint) string { return budget.Format(p.KVReadBytes) }),
			r.Tokens, budget.Format(r.KVRowBytes), budget.Format(r.KVWrittenBytes), r.StateBuffers, r.CacheLen)
	} else {
		b.WriteString("    KV cache     none\n")
	}
	fmt.Fprintf(b, "    activations  %s read+written (per launch: the arena values, inputs and constants it points into)\n", budget.Format(r.ActivationBytes))
	fmt.Fprintf(b, "    total        %s\n", at(func(p RooflinePoint) string { return budget.Format(p.Bytes) }))
	if r.BandwidthGBs > 0 {
		fmt.Fprintf(b, "    floor        %s (at %g GB/s)\n", at(func(p RooflinePoint) string { return formatSeconds(p.FloorMs / 1e3) }), r.BandwidthGBs)
	} else {
		b.WriteString("    floor        give --bandwidth GB/s for the time\n")
	}
}

// formatSeconds prints a duration for people: ns, µs, ms or s.
func formatSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	case s >= 1e-6:
		return fmt.Sprintf("%.1f µs", s*1e6)
	}
	return fmt.Sprintf("%.0f ns", s*1e9)
}
