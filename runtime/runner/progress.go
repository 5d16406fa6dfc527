package runner

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// loadProgress wraps a WeightFunc to report how much of the weights have
// been read, on w, once loading has taken longer than a second (small
// models load silently) and then at most twice a second. On a terminal the
// report rewrites one line; elsewhere each report is a line of its own.
func loadProgress(s *schedule.Schedule, load WeightFunc, w io.Writer) (WeightFunc, func()) {
	return loadProgressAt(s, load, w, time.Now)
}

// loadProgressAt is loadProgress on the given clock.
func loadProgressAt(s *schedule.Schedule, load WeightFunc, w io.Writer, clock func() time.Time) (WeightFunc, func()) {
	var total, done int64
	for _, b := range s.Buffers {
		if b.Kind == schedule.Weight {
			total += b.Bytes
		}
	}
	start, last := clock(), time.Time{}
	shown := false
	end := "\n"
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			end = "\r"
		}
	}
	wrapped := func(b *schedule.Buffer) ([]byte, error) {
		data, err := load(b)
		done += b.Bytes
		if now := clock(); now.Sub(start) > time.Second && now.Sub(last) > 500*time.Millisecond {
			fmt.Fprintf(w, "loading weights: %3.0f%% (%s)%s", 100*float64(done)/float64(max(total, 1)), ofSize(done, total), end)
			last, shown = now, true
		}
		return data, err
	}
	finish := func() {
		if shown && end == "\r" {
			fmt.Fprintln(w)
		}
	}
	return wrapped, finish
}

// ofSize is "done of total" in GiB, or MiB for totals under a GiB.
func ofSize(done, total int64) string {
	unit, name := float64(1<<30), "GiB"
	if total < 1<<30 {
		unit, name = 1<<20, "MiB"
	}
	return fmt.Sprintf("%.2f of %.2f %s", float64(done)/unit, float64(total)/unit, name)
}
