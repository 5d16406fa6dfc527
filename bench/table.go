package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteTable prints a result as the seed's Markdown tables: per position
// the executors' TPS and step time, the fraction of the bandwidth floor
// (where the copy bandwidth was measured) and their ratio, then the
// summary metrics.
func WriteTable(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%s on %s (%s), median of %d, max cache %d\n\n", r.Model, r.Device, r.Target, r.Repeat, r.MaxCacheLen)
	name := executorName(r.Executor)
	floor := r.HasFloor()
	cols := []string{"Position", name + " TPS", name + " Step (ms)", "GB/s"}
	if floor {
		cols = append(cols, "Floor")
	}
	if r.DAG != nil {
		cols = append(cols, "DAG TPS", "DAG Step (ms)")
		if floor {
			cols = append(cols, "DAG Floor")
		}
		cols = append(cols, "Ratio")
	}
	t := newTable(cols...)
	for i, p := range r.Positions {
		row := []string{fmt.Sprint(p.Position), tps(p.TPS), step(p.StepMsMedian, p.StepMsStd), fmt.Sprintf("%.1f", p.GBs)}
		if floor {
			row = append(row, percent(p.FloorFraction))
		}
		if r.DAG != nil {
			d := r.DAG.Positions[i]
			row = append(row, tps(d.TPS), step(d.StepMsMedian, d.StepMsStd))
			if floor {
				row = append(row, percent(d.FloorFraction))
			}
			row = append(row, fmt.Sprintf("%.2fx", p.DAGRatio))
		}
		t.row(row...)
	}
	t.write(w)
	fmt.Fprintln(w)

	cols = []string{"Metric", name}
	if r.DAG != nil {
		cols = append(cols, "DAG")
	}
	t = newTable(cols...)
	metric := func(label string, f func(*Run) string) {
		row := []string{label, f(&r.Run)}
		if r.DAG != nil {
			row = append(row, f(r.DAG))
		}
		t.row(row...)
	}
	metric("Partitions", func(x *Run) string { return fmt.Sprint(x.Partitions) })
	metric("Compile time", func(x *Run) string { return seconds(x.CompileMs) })
	metric("Weight loading time", func(x *Run) string { return seconds(x.LoadMs) })
	metric(fmt.Sprintf("TTFT (%d-token prompt)", r.PrefillTokens), func(x *Run) string { return fmt.Sprintf("%.2f ms", x.TTFTMs) })
	metric("Peak TPS", func(x *Run) string { return tps(x.PeakTPS()) + " tok/s" })
	if r.DAG != nil {
		lo, hi := r.Positions[0].DAGRatio, r.Positions[0].DAGRatio
		for _, p := range r.Positions {
			lo, hi = min(lo, p.DAGRatio), max(hi, p.DAGRatio)
		}
		t.row("DAG/whole TPS ratio", fmt.Sprintf("%.2fx to %.2fx", lo, hi), "")
	}
	if r.CopyBandwidthGBs > 0 {
		row := []string{"Copy bandwidth", fmt.Sprintf("%.1f GB/s", r.CopyBandwidthGBs)}
		if r.DAG != nil {
			row = append(row, "")
		}
		t.row(row...)
	}
	t.write(w)
}

// WriteCompareTable prints two results side by side with b's speed-up
// over a at each position both measured, then their summary metrics.
func WriteCompareTable(w io.Writer, a, b *Result, labelA, labelB string) {
	t := newTable("Position", labelA+" TPS", labelA+" Step (ms)", labelB+" TPS", labelB+" Step (ms)", "Speedup")
	for _, s := range Speedups(a, b) {
		t.row(fmt.Sprint(s.Position), tps(s.A.TPS), step(s.A.StepMsMedian, s.A.StepMsStd),
			tps(s.B.TPS), step(s.B.StepMsMedian, s.B.StepMsStd), fmt.Sprintf("%.2fx", s.Speedup))
	}
	t.write(w)
	fmt.Fprintln(w)
	t = newTable("Metric", labelA, labelB, "Speedup")
	t.row("Device", a.Device, b.Device, "")
	t.row("TTFT", fmt.Sprintf("%.2f ms", a.TTFTMs), fmt.Sprintf("%.2f ms", b.TTFTMs), ratio(a.TTFTMs, b.TTFTMs))
	t.row("Peak TPS", tps(a.PeakTPS())+" tok/s", tps(b.PeakTPS())+" tok/s", ratio(b.PeakTPS(), a.PeakTPS()))
	t.row("Compile time", seconds(a.CompileMs), seconds(b.CompileMs), "")
	t.row("Weight loading time", seconds(a.LoadMs), seconds(b.LoadMs), "")
	t.write(w)
}

// ratio is x/y as a speed-up, or "-" where it has no value (a time of 0
// in a file).
func ratio(x, y float64) string {
	r := x / y
	if math.IsNaN(r) || math.IsInf(r, 0) || r == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", r)
}

func executorName(e string) string {
	if e == "dag" {
		return "DAG"
	}
	return "Executor"
}

func tps(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// percent prints a fraction of the floor; "-" where it was not measured.
func percent(f float64) string {
	switch {
	case f <= 0:
		return "-"
	case f < 0.1:
		return fmt.Sprintf("%.1f%%", 100*f)
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func step(median, std float64) string { return fmt.Sprintf("%.3f ± %.3f", median, std) }

func seconds(ms float64) string { return fmt.Sprintf("%.3f s", ms/1e3) }

// table is a Markdown table with columns padded to line up in a terminal.
type table struct{ rows [][]string }

func newTable(header ...string) *table { return &table{rows: [][]string{header}} }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := make([]int, len(t.rows[0]))
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.rows[0])
	sep := make([]string, len(width))
	for i, n := range width {
		sep[i] = strings.Repeat("-", n)
	}
	line(sep)
	for _, r := range t.rows[1:] {
		line(r)
	}
}
