package bench

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// series is one executor's (or one run's) curve.
type series struct {
	name  string
	color color.Color
	run   *Run
}

var (
	blue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	orange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	grey   = color.RGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
)

// Chart draws a result as the seed's panels: decode throughput, step time
// with error bars, the fraction of the bandwidth floor where the copy
// bandwidth was measured and, when both executors ran, the DAG/whole
// ratio, all over the cache position on a log2 axis.
func Chart(r *Result, path string) error {
	s := []series{{runName(r.Executor, &r.Run), blue, &r.Run}}
	if r.DAG != nil {
		s = append(s, series{runName("dag", r.DAG), orange, r.DAG})
	}
	title := fmt.Sprintf("%s on %s (%s)", r.Model, r.Device, r.Target)
	panels := []*plot.Plot{tpsPanel(title, s), stepPanel(s)}
	if r.HasFloor() {
		panels = append(panels, floorPanel(s))
	}
	if r.DAG != nil {
		ratio := points(r.Positions, func(p Position) float64 { return p.DAGRatio })
		panels = append(panels, ratioPanel("DAG / whole TPS", "DAG executor over the whole graph", ratio))
	}
	return save(panels, path)
}

func runName(executor string, r *Run) string {
	if executor == "whole" {
		return "whole graph"
	}
	return fmt.Sprintf("DAG, %d partitions", r.Partitions)
}

// CompareChart overlays two results (the top-level executor of each) and
// adds a panel of b's speed-up over a.
func CompareChart(a, b *Result, labelA, labelB string, path string) error {
	s := []series{{labelA, blue, &a.Run}, {labelB, orange, &b.Run}}
	title := fmt.Sprintf("%s: %s vs %s", a.Model, labelB, labelA)
	if b.Model != a.Model {
		title = fmt.Sprintf("%s vs %s", labelB, labelA)
	}
	var pts plotter.XYs
	for _, p := range Speedups(a, b) {
		pts = append(pts, plotter.XY{X: float64(p.Position), Y: p.Speedup})
	}
	speedup := ratioPanel("speed-up (×)", fmt.Sprintf("%s over %s (step time ratio)", labelB, labelA), pts)
	panels := []*plot.Plot{tpsPanel(title, s), stepPanel(s), speedup}
	// The runs may cover different positions: one x range for all panels.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		lo, hi = min(lo, p.X.Min), max(hi, p.X.Max)
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = lo, hi
	}
	return save(panels, path)
}

// Speedup is one position both of two results measured.
type Speedup struct {
	Position int64
	A, B     Position
	// Speedup is A's step time over B's: how much faster B is.
	Speedup float64
}

// Speedups pairs a's and b's positions measured by both, by position
// value (never by row), ascending. The results must have passed Check
// (Read does it): a position measured twice has no one row to pair.
func Speedups(a, b *Result) []Speedup {
	at := map[int64]Position{}
	for _, p := range a.Positions {
		at[p.Position] = p
	}
	var out []Speedup
	for _, p := range b.Positions {
		if q, ok := at[p.Position]; ok {
			out = append(out, Speedup{Position: p.Position, A: q, B: p, Speedup: q.StepMsMedian / p.StepMsMedian})
		}
	}
	slices.SortFunc(out, func(x, y Speedup) int { return cmp.Compare(x.Position, y.Position) })
	return out
}

// Unpaired are the positions only a measured and those only b measured,
// ascending: compare leaves them out and says so.
func Unpaired(a, b *Result) (onlyA, onlyB []int64) {
	has := func(r *Result, pos int64) bool {
		return slices.ContainsFunc(r.Positions, func(p Position) bool { return p.Position == pos })
	}
	for _, p := range a.Positions {
		if !has(b, p.Position) {
			onlyA = append(onlyA, p.Position)
		}
	}
	for _, p := range b.Positions {
		if !has(a, p.Position) {
			onlyB = append(onlyB, p.Position)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}

func tpsPanel(title string, s []series) *plot.Plot {
	p := panel("decode throughput (tokens/s)")
	p.Title.Text = title
	for _, se := range s {
		line(p, se.name, se.color, points(se.run.Positions, func(q Position) float64 { return q.TPS }))
	}
	headroom(p, 0)
	return p
}

// headroom sets the y range from lo to a third above the data, where the
// legend goes without covering a curve.
func headroom(p *plot.Plot, lo float64) {
	p.Y.Min = lo
	p.Y.Max = lo + (p.Y.Max-lo)*1.35
}

func stepPanel(s []series) *plot.Plot {
	p := panel("decode step time (ms), median ± std")
	for _, se := range s {
		pts := points(se.run.Positions, func(q Position) float64 { return q.StepMsMedian })
		line(p, se.name, se.color, pts)
		errs := make(plotter.YErrors, len(se.run.Positions))
		for i, q := range se.run.Positions {
			errs[i] = struct{ Low, High float64 }{q.StepMsStd, q.StepMsStd}
		}
		bars, err := plotter.NewYErrorBars(errorPoints{pts, errs})
		if err == nil { // only for non-finite data, which points excludes
			bars.Color = se.color
			bars.CapWidth = vg.Points(6)
			p.Add(bars)
		}
	}
	headroom(p, 0)
	return p
}

// floorPanel plots each run's fraction of the bandwidth floor, with the
// floor itself (1) drawn where the curves come near it.
func floorPanel(s []series) *plot.Plot {
	p := panel("fraction of the bandwidth floor")
	hi := 0.0
	for _, se := range s {
		pts := points(se.run.Positions, func(q Position) float64 { return q.FloorFraction })
		for _, q := range pts {
			hi = max(hi, q.Y)
		}
		line(p, se.name, se.color, pts)
	}
	if hi >= 0.5 && len(s[0].run.Positions) > 0 {
		ps := s[0].run.Positions
		floor, _ := plotter.NewLine(plotter.XYs{{X: float64(ps[0].Position), Y: 1}, {X: float64(ps[len(ps)-1].Position), Y: 1}})
		floor.Color, floor.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(floor)
		p.Legend.Add("the floor (1.0)", floor)
	}
	headroom(p, 0)
	return p
}

// ratioPanel plots a ratio per position with a parity line at 1.
func ratioPanel(ylabel, name string, pts plotter.XYs) *plot.Plot {
	p := panel(ylabel)
	if len(pts) > 0 {
		parity, _ := plotter.NewLine(plotter.XYs{{X: pts[0].X, Y: 1}, {X: pts[len(pts)-1].X, Y: 1}})
		parity.Color, parity.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(parity)
		p.Legend.Add("parity (1.0)", parity)
	}
	line(p, name, orange, pts)
	lo, hi := 1.0, 1.0
	for _, q := range pts {
		lo, hi = min(lo, q.Y), max(hi, q.Y)
	}
	pad := max(0.05, 0.1*(hi-lo))
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	headroom(p, p.Y.Min)
	return p
}

// panel is an empty plot over cache positions on a log2 axis.
func panel(ylabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text = "KV-cache position (tokens, log2 scale)"
	p.Y.Label.Text = ylabel
	p.X.Scale = log2Scale{}
	p.X.Tick.Marker = plot.TickerFunc(log2Ticks)
	p.Y.Tick.Marker = plot.TickerFunc(linearTicks)
	p.Add(plotter.NewGrid())
	// Top right, in headroom above the data (see headroom); the offset
	// keeps the legend's thumbnails inside the frame.
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(60), -vg.Points(4)
	return p
}

func line(p *plot.Plot, name string, c color.Color, pts plotter.XYs) {
	l, s, err := plotter.NewLinePoints(pts)
	if err != nil {
		return
	}
	l.Color, s.Color = c, c
	l.Width = vg.Points(1.5)
	s.Shape = draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
}

func points(rows []Position, value func(Position) float64) plotter.XYs {
	var pts plotter.XYs
	for _, r := range rows {
		if v := value(r); !math.IsNaN(v) && !math.IsInf(v, 0) {
			pts = append(pts, plotter.XY{X: float64(r.Position), Y: v})
		}
	}
	return pts
}

type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// lg is log2 with position 0 drawn where 1/2 would be, so a list that
// measures the empty cache still has a place on the axis.
func lg(x float64) float64 { return math.Log2(max(x, 0.5)) }

// log2Scale places positions on a log2 axis.
type log2Scale struct{}

func (log2Scale) Normalize(min, max, x float64) float64 {
	lo, hi := lg(min), lg(max)
	if hi == lo {
		return 0.5
	}
	return (lg(x) - lo) / (hi - lo)
}

// log2Ticks marks every power of two in range, labelled 1, 2, ... 512,
// 1K, ..., with every other label dropped when there are many.
func log2Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if lo < 1 {
		ticks = append(ticks, plot.Tick{Value: 0, Label: "0"})
	}
	first, last := max(int(math.Floor(lg(lo))), 0), int(math.Ceil(lg(hi)))
	step := 1
	if last-first > 12 {
		step = 2
	}
	for e := first; e <= last; e++ {
		label := ""
		if (e-first)%step == 0 {
			label = powerLabel(e)
		}
		ticks = append(ticks, plot.Tick{Value: math.Exp2(float64(e)), Label: label})
	}
	return ticks
}

// linearTicks marks about six round values (1, 2 or 5 times a power of
// ten apart) labelled with just the decimals that step needs, and minor
// ticks between them.
func linearTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{2, 5, 10} {
		if step >= raw {
			break
		}
		step = m * mag
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for k := math.Ceil(lo / step * 2); k/2*step <= hi+1e-9*step; k++ {
		v := k / 2 * step
		label := ""
		if int(k)%2 == 0 {
			label = strconv.FormatFloat(v, 'f', decimals, 64)
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
	}
	return ticks
}

func powerLabel(e int) string {
	switch {
	case e >= 20:
		return fmt.Sprintf("%dM", 1<<(e-20))
	case e >= 10:
		return fmt.Sprintf("%dK", 1<<(e-10))
	}
	return fmt.Sprint(1 << e)
}

// save stacks the panels vertically, x axes aligned, into a PNG.
func save(panels []*plot.Plot, path string) error {
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" {
		return fmt.Errorf("chart %s: only .png charts are written (got %q)", path, ext)
	}
	const w, h = 9 * vg.Inch, 3.2 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h*vg.Length(len(panels))), vgimg.UseDPI(110), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	rows := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(12)}
	canvases := plot.Align(rows, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("writing chart %s: %w", path, err)
	}
	return f.Close()
}
