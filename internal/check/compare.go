package check

import (
	"fmt"
	"math"

	"github.com/irc-compiler/irc/runtime/runner"
)

// The tolerance rule. A node's error is the relative L2 distance of the
// device's value from ref's, ||d - r|| / ||r|| (||d - r|| where r is all
// zero; +Inf for a NaN or an infinity ref does not have). ref keeps every
// value in float32 while a device stores each in its dtype, so errors
// start at that dtype's rounding and grow along the graph: that growth is
// expected, a jump is not. A node diverges when its error exceeds both
//
//   - its dtype's budget (Budget): what storing a correct result costs,
//     with room for float32 sums in another order; and
//   - Growth times the largest error among its inputs (the values it reads,
//     through views; a KV cache read counts with its rows' error so far):
//     a correct kernel on slightly wrong inputs stays near their error.
//
// Weights, constants and token ids are exact, so a node reading only them
// is held to its budget alone. The first diverging node in execution order
// (steps in order, launches in order) is the one that went wrong: its
// inputs are, by construction, within their own limits.

// Tolerance holds the rule's constants.
type Tolerance struct {
	// Budget is the error a value of each dtype may have whatever its
	// inputs' ("f32", "bf16", "f16", "i32").
	Budget map[string]float64
	// Growth is how many times its inputs' largest error a node may have.
	Growth float64
}

// DefaultTolerance is the rule irc check applies unless --tol says
// otherwise.
func DefaultTolerance() Tolerance {
	return Tolerance{Budget: map[string]float64{"f32": 1e-4, "bf16": 1e-2, "f16": 2e-3, "i32": 0}, Growth: 4}
}

func (t Tolerance) budget(dtype string) float64 {
	if b, ok := t.Budget[dtype]; ok {
		return b
	}
	return t.Budget["f32"]
}

// Row is one traced value of one step, compared.
type Row struct {
	Step  int    `json:"step"`
	Graph string `json:"graph"`
	Pos   int32  `json:"pos"`
	Value string `json:"value"`
	Op    string `json:"op"`
	DType string `json:"dtype"`
	State bool   `json:"kv_rows,omitempty"`
	// Err is the value's relative L2 error; InputErr the largest of its
	// inputs' (Input names that input); Limit what Err may reach.
	Err      float64 `json:"err"`
	InputErr float64 `json:"input_err"`
	Input    string  `json:"input,omitempty"`
	Limit    float64 `json:"limit"`
	Diverged bool    `json:"diverged"`
}

// Report is a whole comparison: every row in execution order and the first
// that diverged (-1: none).
type Report struct {
	Model   string `json:"model"`
	Backend string `json:"backend"`
	// Growth is the tolerance's Growth the limits were set with.
	Growth float64 `json:"growth"`
	Rows   []Row   `json:"rows"`
	First  int     `json:"first"`
	// Node describes the first divergent row's node; Inputs its inputs'
	// rows (in that step, or the latest step that wrote a cache).
	Node   *Node `json:"node,omitempty"`
	Inputs []Row `json:"inputs,omitempty"`
}

// Compare sets a device's trace against the expectations.
func Compare(exp *Expectations, got []runner.TracedStep, tol Tolerance) (*Report, error) {
	if len(got) != len(exp.Steps) {
		return nil, fmt.Errorf("the trace has %d steps, the expectations %d: were they made for the same --tokens and --trace-decode?", len(got), len(exp.Steps))
	}
	rep := &Report{Model: exp.Model, Backend: exp.Backend, Growth: tol.Growth, First: -1}
	cacheErr := map[string]float64{} // each KV cache's largest row error so far
	latest := map[string]int{}       // the row holding each value's latest error
	for i, st := range got {
		want := exp.Steps[i]
		if st.Graph != want.Graph || st.Pos != want.Pos || fmt.Sprint(st.Tokens) != fmt.Sprint(want.Tokens) {
			return nil, fmt.Errorf("step %d: the trace ran %s at %d, the expectations %s at %d on other tokens", i, st.Graph, st.Pos, want.Graph, want.Pos)
		}
		ref := map[string]runner.TracedValue{}
		for _, v := range want.Values {
			ref[v.Value] = v
		}
		stepErr := map[string]float64{}
		for _, v := range st.Values {
			r, ok := ref[v.Value]
			nd := exp.Nodes[st.Graph][v.Value]
			if !ok || nd == nil {
				return nil, fmt.Errorf("step %d (%s): the trace has %%%s, the expectations do not: was the runner built with them?", i, st.Graph, v.Value)
			}
			if len(r.Data) != len(v.Data) {
				return nil, fmt.Errorf("step %d (%s): %%%s has %d elements in the trace, %d expected", i, st.Graph, v.Value, len(v.Data), len(r.Data))
			}
			row := Row{Step: i, Graph: st.Graph, Pos: st.Pos, Value: v.Value, Op: nd.Op, DType: nd.DType, State: v.State, Err: relErr(v.Data, r.Data)}
			for _, in := range nd.Inputs {
				e, ok := stepErr[in]
				if !ok {
					e = cacheErr[in]
				}
				if e > row.InputErr || row.Input == "" && ok {
					row.InputErr, row.Input = e, in
				}
			}
			row.Limit = max(tol.budget(nd.DType), tol.Growth*row.InputErr)
			row.Diverged = !(row.Err <= row.Limit)
			if row.Diverged && rep.First < 0 {
				rep.First = len(rep.Rows)
				rep.Node = nd
				for _, in := range nd.Inputs {
					if j, ok := latest[in]; ok {
						rep.Inputs = append(rep.Inputs, rep.Rows[j])
					}
				}
			}
			stepErr[v.Value] = row.Err
			if v.State {
				cacheErr[v.Value] = max(cacheErr[v.Value], row.Err)
			}
			latest[v.Value] = len(rep.Rows)
			rep.Rows = append(rep.Rows, row)
		}
	}
	return rep, nil
}

// relErr is ||got - want|| / ||want||, in float64.
func relErr(got, want []float32) float64 {
	var num, den float64
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			if !(math.IsNaN(float64(w)) || math.IsInf(float64(w), 0)) || float64(w) != g && !math.IsNaN(g) {
				return math.Inf(1)
			}
			continue
		}
		d := g - float64(w)
		num += d * d
		den += float64(w) * float64(w)
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}
