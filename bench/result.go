// Package bench holds irc bench's results: the JSON file (schema.json is
// its JSON Schema, documented in the README; GPU results under
// bench/results use it too), the seed-style tables and the PNG charts.
package bench

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/runtime/runner"
)

// Format names the file format; it changes when a field changes meaning.
const Format = "irc-bench/1"

// Schema is the JSON Schema every result file satisfies.
//
//go:embed schema.json
var Schema []byte

// Result is one irc bench run: the figures of one executor at the top
// level and, when both were measured, the DAG executor's beside them.
type Result struct {
	Format   string `json:"schema"` // Format
	Model    string `json:"model"`
	Target   string `json:"target"`
	Device   string `json:"device"`
	Executor string `json:"executor"` // whole or dag: whose figures the top level holds
	// CopyBandwidthGBs is the device's copy bandwidth (bytes read plus
	// written per second), where the backend measures it.
	CopyBandwidthGBs float64 `json:"copy_bandwidth_gbs,omitempty"`
	PrefillTokens    int     `json:"prefill_tokens"`
	MaxCacheLen      int64   `json:"max_cache_len"`
	Repeat           int     `json:"repeat"`
	MinTimeMs        float64 `json:"min_time_ms"`
	WeightBytes      int64   `json:"weight_bytes"`
	Run
	// DAG is the partitioned executor's run, when both were measured; its
	// positions are the top level's.
	DAG *Run `json:"dag,omitempty"`
	// Command is the command line that produced the result.
	Command string `json:"command,omitempty"`
	Date    string `json:"date,omitempty"` // RFC 3339
}

// Run is one executor's figures.
type Run struct {
	Partitions int     `json:"partitions"`
	CompileMs  float64 `json:"compile_ms"`
	LoadMs     float64 `json:"load_ms"`
	TTFTMs     float64 `json:"ttft_ms"`
	TTFTMsStd  float64 `json:"ttft_ms_std"`
	// Positions are the decode steps, in ascending position.
	Positions []Position `json:"positions"`
}

// Position is one decode step's timing and, at the top level of a run
// that measured both executors, whole step time over DAG step time (DAG
// TPS over whole TPS: 1 when partitioning costs nothing).
type Position struct {
	runner.Step
	DAGRatio float64 `json:"dag_ratio,omitempty"`
}

// HasFloor reports whether the positions carry their fraction of the
// bandwidth floor (the copy bandwidth was measured; older files lack it).
func (r *Result) HasFloor() bool {
	for _, p := range r.Positions {
		if p.FloorFraction > 0 {
			return true
		}
	}
	return false
}

// PeakTPS is the best tokens per second over the positions.
func (r *Run) PeakTPS() float64 {
	var best float64
	for _, p := range r.Positions {
		best = max(best, p.TPS)
	}
	return best
}

// FromReport is an executor's run as a runner measured it.
func FromReport(rep *runner.Report, compileMs float64) Run {
	run := Run{Partitions: rep.Partitions, CompileMs: compileMs, LoadMs: rep.LoadMs, TTFTMs: rep.TTFTMs, TTFTMsStd: rep.TTFTMsStd}
	for _, s := range rep.Positions {
		run.Positions = append(run.Positions, Position{Step: s})
	}
	return run
}

// SetDAG records the DAG executor's run and each position's ratio.
func (r *Result) SetDAG(dag Run) error {
	if len(dag.Positions) != len(r.Positions) {
		return fmt.Errorf("the DAG run measured %d positions, the whole run %d", len(dag.Positions), len(r.Positions))
	}
	for i := range r.Positions {
		if dag.Positions[i].Position != r.Positions[i].Position {
			return fmt.Errorf("position %d of the DAG run is %d, of the whole run %d", i, dag.Positions[i].Position, r.Positions[i].Position)
		}
		r.Positions[i].DAGRatio = r.Positions[i].StepMsMedian / dag.Positions[i].StepMsMedian
	}
	r.DAG = &dag
	return nil
}

// Write writes r to path as indented JSON.
func (r *Result) Write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing bench results: %w", err)
	}
	return nil
}

// Read reads a result file, checking it against the schema first so that a
// file from elsewhere fails with the field that is wrong, then what the
// schema cannot say (Check): positions measured once each, the DAG run's
// the same as the top level's. Positions come back ascending.
func Read(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := Validate(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Check checks what the schema cannot: each position is measured once
// (a repeated one would be paired with the wrong row), and the DAG run,
// when present, measured the top level's positions. It sorts the
// positions ascending.
func (r *Result) Check() error {
	if err := sortPositions("positions", r.Positions); err != nil {
		return err
	}
	if r.DAG == nil {
		return nil
	}
	if err := sortPositions("dag.positions", r.DAG.Positions); err != nil {
		return err
	}
	for i, p := range r.Positions {
		if i >= len(r.DAG.Positions) || r.DAG.Positions[i].Position != p.Position {
			return fmt.Errorf("dag.positions are not the positions of the top level (%s vs %s): both executors measure the same positions",
				positionList(r.DAG.Positions), positionList(r.Positions))
		}
	}
	if len(r.DAG.Positions) != len(r.Positions) {
		return fmt.Errorf("dag.positions are not the positions of the top level (%s vs %s): both executors measure the same positions",
			positionList(r.DAG.Positions), positionList(r.Positions))
	}
	return nil
}

// sortPositions sorts ps by position, refusing a position that appears
// twice.
func sortPositions(field string, ps []Position) error {
	seen := map[int64]int{}
	for i, p := range ps {
		if j, ok := seen[p.Position]; ok {
			return fmt.Errorf("%s[%d] and %s[%d] both measure position %d: each position is measured once", field, j, field, i, p.Position)
		}
		seen[p.Position] = i
	}
	slices.SortStableFunc(ps, func(a, b Position) int { return cmp.Compare(a.Position, b.Position) })
	return nil
}

// positionList is ps's positions, comma-separated.
func positionList(ps []Position) string {
	var s []string
	for _, p := range ps {
		s = append(s, strconv.FormatInt(p.Position, 10))
	}
	return strings.Join(s, ",")
}
