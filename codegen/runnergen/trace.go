package runnergen

import (
	"github.com/dave/jennifer/jen"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// traceTable writes a graph's trace table (schedule.Traced, read by the
// runner's --trace), one value per line, after the launch table: every
// runner can be traced, and the launches are written as without it.
func traceTable(trace []schedule.Traced) jen.Code {
	q := func(name string) *jen.Statement { return jen.Qual(schedulePkg, name) }
	var rows []jen.Code
	for _, t := range trace {
		fields := []jen.Code{
			field("Value", jen.Lit(t.Value)), field("After", jen.Lit(t.After)),
			field("Out", q("Tensor").Values(
				field("Buf", jen.Lit(t.Out.Buf)), field("Offset", lit64(t.Out.Offset)), field("DType", jen.Lit(string(t.Out.DType))),
				field("Shape", ints(t.Out.Shape)), field("Strides", ints(t.Out.Strides)))),
		}
		if t.State {
			fields = append(fields, field("State", jen.True()))
		}
		rows = append(rows, jen.Line().Values(fields...))
	}
	return jen.Index().Add(q("Traced")).Values(append(rows, jen.Line())...)
}
