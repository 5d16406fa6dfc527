package runner

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Profiler is a Backend that can time every launch of a step on the device.
type Profiler interface {
	Profile(g int, tokens []int32, pos int32) ([]time.Duration, error)
	// Kind is the device kind whose launch variants it makes.
	Kind() schedule.DeviceKind
}

// profile prints, for one prefill chunk and a decode step at each of
// positions, the device time spent in each kernel, largest first.
func profile(b Backend, s *schedule.Schedule, positions []int64, w io.Writer) error {
	p, ok := b.(Profiler)
	if !ok {
		return fmt.Errorf("--profile: the %s backend cannot time single launches", b.Device())
	}
	for g := range s.Graphs {
		tokens := benchTokens(s, g)
		at := []int64{min(int64(len(tokens)), s.Model.MaxCacheLen-int64(len(tokens)))}
		if len(tokens) == 1 && len(positions) > 0 {
			at = positions // a decode step, at each bench position
		}
		for _, pos := range at {
			if err := profileStep(p, s, g, tokens, pos, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// profileStep prints the device time per kernel of one step of graph g at
// position pos.
func profileStep(p Profiler, s *schedule.Schedule, g int, tokens []int32, pos int64, w io.Writer) error {
	graph := s.Graphs[g]
	times, err := p.Profile(g, tokens, int32(pos))
	if err != nil {
		return err
	}
	type row struct {
		kernel string
		n      int
		total  time.Duration
	}
	byKernel := map[int]*row{}
	var total time.Duration
	for i := range graph.Launches {
		l := graph.Launches[i].For(p.Kind())
		r := byKernel[l.Kernel]
		if r == nil {
			r = &row{kernel: s.Kernels[l.Kernel]}
			byKernel[l.Kernel] = r
		}
		r.n++
		r.total += times[i]
		total += times[i]
	}
	var rows []*row
	for _, r := range byKernel {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *row) int { return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.kernel, b.kernel)) })
	fmt.Fprintf(w, "profile of %s at position %d (%d launches, %s of device time):\n", graph.Name, pos, len(graph.Launches), ms(total))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kernel\tlaunches\ttime\tshare\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f%%\t\n", r.kernel, r.n, ms(r.total), 100*float64(r.total)/float64(max(total, 1)))
	}
	tw.Flush()
	return nil
}

// benchTokens is a full chunk of valid ids for graph g.
func benchTokens(s *schedule.Schedule, g int) []int32 {
	tokens := make([]int32, stepTokens(s, g))
	for i := range tokens {
		tokens[i] = int32(i % int(s.Model.Vocab))
	}
	return tokens
}
