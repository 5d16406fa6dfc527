package codegen

import (
	"fmt"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Format prints a lowered model for people: the buffers, the arena plan of
// each graph (offset, size and live range of every value) and the launch
// tables (kernel, grid, arguments, the node computed), each graph after
// its roofline (bytes only; FormatAt adds the floor times).
func Format(l *Lowered) string { return FormatAt(l, 0) }

// FormatAt is Format with each graph's floor time at gbs GB/s (0: none).
func FormatAt(l *Lowered, gbs float64) string {
	s := l.Schedule
	roofs := Rooflines(s, gbs)
	var b strings.Builder
	fmt.Fprintf(&b, "# kernel schedule of %s: %d buffers, %d kernels, %d graphs\n", s.Model.Name, len(s.Buffers), len(s.Kernels), len(s.Graphs))
	var total [schedule.Result + 1]int64
	for _, buf := range s.Buffers {
		total[buf.Kind] += buf.Bytes
	}
	fmt.Fprintf(&b, "# device memory: weights %s, states %s, arena %s, inputs %s, constants %s\n\n",
		budget.Format(total[schedule.Weight]), budget.Format(total[schedule.State]), budget.Format(total[schedule.Arena]),
		budget.Format(total[schedule.Input]), budget.Format(total[schedule.Constant]))
	b.WriteString("buffers:\n")
	for i, buf := range s.Buffers {
		fmt.Fprintf(&b, "  b%-3d %-8s %s%v %s %s%s\n", i, buf.Kind, buf.DType, ir.Shape(buf.Shape), budget.Format(buf.Bytes), buf.Name, packedParts(buf))
	}
	for gi, g := range s.Graphs {
		plan := l.Plans[gi]
		var sum int64
		for _, v := range plan.Slots {
			sum += v.Bytes
		}
		fmt.Fprintf(&b, "\ngraph %s: %d launches; arena %s for %d values (%s without reuse)\n", g.Name, len(g.Launches), budget.Format(plan.Bytes), len(plan.Slots), budget.Format(sum))
		roofs[gi].format(&b)
		b.WriteString("  arena plan (offset, bytes, live nodes):\n")
		for _, v := range plan.Slots {
			what := "%" + v.Value
			if v.Scratch {
				what = "scratch " + v.Value
			}
			fmt.Fprintf(&b, "    %10d %10d [%d, %d] %s\n", v.Offset, v.Bytes, v.First, v.Last, what)
		}
		b.WriteString("  launches:\n")
		for i, ln := range g.Launches {
			fmt.Fprintf(&b, "    %4d p%d %-26s grid %v/%v (%s)  %s\n", i, ln.Part, s.Kernels[ln.Kernel], ln.Global, ln.Local, formatArgs(ln.Args), ln.Node)
			if c := ln.CPU; c != nil {
				fmt.Fprintf(&b, "         on a CPU: %-21s grid %v/%v (%s)\n", s.Kernels[c.Kernel], c.Global, c.Local, formatArgs(c.Args))
			}
		}
		for _, t := range g.Outputs {
			fmt.Fprintf(&b, "  output: b%d+%d %s%v\n", t.Buf, t.Offset, t.DType, ir.Shape(t.Shape))
		}
	}
	return b.String()
}

func formatArgs(args []schedule.Arg) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch a.Kind {
		case schedule.TensorArg:
			parts[i] = fmt.Sprintf("b%d+%d", a.Buf, a.Off)
		case schedule.IntArg:
			parts[i] = fmt.Sprint(a.Int)
		case schedule.FloatArg:
			parts[i] = fmt.Sprint(a.F)
		}
	}
	return strings.Join(parts, ", ")
}

// packedParts lists a packed weight's parts: " = @a + @b" (nothing for
// other buffers).
func packedParts(b schedule.Buffer) string {
	if len(b.Parts) == 0 {
		return ""
	}
	names := make([]string, len(b.Parts))
	for i, p := range b.Parts {
		names[i] = "@" + p.Name
	}
	return " = packed " + strings.Join(names, " + ")
}
