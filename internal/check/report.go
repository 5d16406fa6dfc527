package check

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report: the first divergent node with its inputs
// and launches, or that nothing diverged; all adds the whole error profile
// as a table.
func (r *Report) WriteText(w io.Writer, all bool) {
	if all {
		r.WriteTable(w)
		fmt.Fprintln(w)
	}
	if r.First < 0 {
		worst := -1
		for i, row := range r.Rows {
			if worst < 0 || row.Err > r.Rows[worst].Err {
				worst = i
			}
		}
		fmt.Fprintf(w, "no divergence: %d values over %d steps within tolerance", len(r.Rows), r.steps())
		if worst >= 0 {
			row := r.Rows[worst]
			fmt.Fprintf(w, " (largest error %.2e at %s of step %d, limit %.2e)", row.Err, name(row), row.Step, row.Limit)
		}
		fmt.Fprintln(w)
		return
	}
	row := r.Rows[r.First]
	fmt.Fprintf(w, "first divergence: %s (%s, %s) at step %d (%s at position %d)\n", name(row), row.Op, row.DType, row.Step, row.Graph, row.Pos)
	fmt.Fprintf(w, "  error %.3e > limit %.3e (max of the %s budget and %g x its inputs' largest error %.3e)\n", row.Err, row.Limit, row.DType, r.Growth, row.InputErr)
	if n := r.Node; n != nil {
		fmt.Fprintf(w, "  node:   %s\n", n.Line)
		if n.Attrs != "" {
			fmt.Fprintf(w, "  attrs:  %s\n", n.Attrs)
		}
	}
	if len(r.Inputs) == 0 {
		fmt.Fprintf(w, "  inputs: none traced (weights, constants and token ids are exact)\n")
	}
	for _, in := range r.Inputs {
		fmt.Fprintf(w, "  input   %-24s %-14s err %.3e (limit %.3e, step %d)%s\n", name(in), in.Op, in.Err, in.Limit, in.Step, map[bool]string{true: "  DIVERGED", false: ""}[in.Diverged])
	}
	if r.Node != nil {
		for _, l := range r.Node.Launches {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

func (r *Report) steps() int {
	if len(r.Rows) == 0 {
		return 0
	}
	return r.Rows[len(r.Rows)-1].Step + 1
}

// name is how a row names its value: %v, or a cache's rows.
func name(r Row) string {
	if r.State {
		return "@" + r.Value + " rows"
	}
	return "%" + r.Value
}

// WriteTable prints every row: the error profile, step by step.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintln(w, "| step | graph@pos | value | op | dtype | error | inputs' error | limit | |")
	fmt.Fprintln(w, "| ---- | --------- | ----- | -- | ----- | ----- | ------------- | ----- | - |")
	for i, row := range r.Rows {
		mark := ""
		if row.Diverged {
			mark = "DIVERGED"
			if i == r.First {
				mark = "FIRST"
			}
		}
		fmt.Fprintf(w, "| %d | %s@%d | %s | %s | %s | %.2e | %s | %.2e | %s |\n", row.Step, row.Graph, row.Pos, name(row), row.Op, row.DType, row.Err, inputErr(row), row.Limit, mark)
	}
}

func inputErr(r Row) string {
	if r.Input == "" {
		return "-"
	}
	return fmt.Sprintf("%.2e (%s)", r.InputErr, strings.TrimPrefix(r.Input, "%"))
}
