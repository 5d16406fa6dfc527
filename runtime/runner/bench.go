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

// bench times full prefill chunks and decode steps at the position after
// one chunk, each repeated, and prints the medians.
func bench(b Backend, s *schedule.Schedule, repeat int, w io.Writer) error {
	prefill, err := graphIndex(s, "prefill")
	if err != nil {
		return err
	}
	decode, err := graphIndex(s, "decode")
	if err != nil {
		return err
	}
	tokens := benchTokens(s, prefill)
	chunk := len(tokens)
	pos := int32(min(int64(chunk), s.Model.MaxCacheLen-1))
	step := func(g int, tokens []int32, pos int32) (time.Duration, error) {
		start := time.Now()
		if err := b.Run(g, tokens, pos); err != nil {
			return 0, err
		}
		err := b.Finish()
		return time.Since(start), err
	}
	var pre, dec []time.Duration
	for i := 0; i <= repeat; i++ { // the first round warms up
		p, err := step(prefill, tokens, 0)
		if err != nil {
			return err
		}
		d, err := step(decode, tokens[:1], pos)
		if err != nil {
			return err
		}
		if i > 0 {
			pre, dec = append(pre, p), append(dec, d)
		}
	}
	mp, md := median(pre), median(dec)
	fmt.Fprintf(w, "bench (median of %d): prefill %d tokens %s (%.1f tok/s); decode step at position %d %s (%.1f tok/s)\n",
		repeat, chunk, ms(mp), float64(chunk)/mp.Seconds(), pos, ms(md), 1/md.Seconds())
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchTokens is a full chunk of valid ids for graph g.
func benchTokens(s *schedule.Schedule, g int) []int32 {
	tokens := make([]int32, s.Buffers[s.Graphs[g].Inputs[0]].Bytes/4)
	for i := range tokens {
		tokens[i] = int32(i % int(s.Model.Vocab))
	}
	return tokens
}

// Profiler is a Backend that can time every launch of a step on the device.
type Profiler interface {
	Profile(g int, tokens []int32, pos int32) ([]time.Duration, error)
}

// profile prints, for one prefill chunk and one decode step, the device
// time spent in each kernel, largest first.
func profile(b Backend, s *schedule.Schedule, w io.Writer) error {
	p, ok := b.(Profiler)
	if !ok {
		return fmt.Errorf("--profile: the %s backend cannot time single launches", b.Device())
	}
	for g, graph := range s.Graphs {
		tokens := benchTokens(s, g)
		times, err := p.Profile(g, tokens, int32(min(int64(len(tokens)), s.Model.MaxCacheLen-int64(len(tokens)))))
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
		for i, l := range graph.Launches {
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
		fmt.Fprintf(w, "profile of %s (%d launches, %s of device time):\n", graph.Name, len(graph.Launches), ms(total))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kernel\tlaunches\ttime\tshare\t")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f%%\t\n", r.kernel, r.n, ms(r.total), 100*float64(r.total)/float64(max(total, 1)))
		}
		tw.Flush()
	}
	return nil
}
