package ir

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteDot writes the graphs of m in Graphviz dot: one cluster per graph,
// and inside it one cluster per partition when the graph is placed; a box
// per node labelled with its op and output type, an ellipse per graph
// input, weight or state it reads. Views are dashed (they cost nothing),
// copies and transfers, which move data, are filled.
func WriteDot(w io.Writer, m *Model) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph irc {")
	fmt.Fprintln(bw, "  node [fontname=\"monospace\", fontsize=10];")
	for gi, g := range m.Graphs {
		id := func(v *Value) string { return strconv.Quote(fmt.Sprintf("g%d:%s", gi, ref(v))) }
		fmt.Fprintf(bw, "  subgraph cluster_%d {\n    label=%s;\n", gi, strconv.Quote(g.Name))
		leaves := map[*Value]bool{}
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				if in.Def == nil && !leaves[in] {
					leaves[in] = true
					fmt.Fprintf(bw, "    %s [shape=ellipse, label=%s];\n", id(in), strconv.Quote(ref(in)+"\n"+in.Type.String()))
				}
			}
		}
		open := int64(-1)
		for _, n := range g.Nodes {
			if p, ok := n.Attrs[AttrPartition].(int64); ok && p != open {
				if open >= 0 {
					fmt.Fprintln(bw, "    }")
				}
				fmt.Fprintf(bw, "    subgraph cluster_%d_p%d {\n      label=%s;\n", gi, p, strconv.Quote(fmt.Sprintf("p%d on %s", p, n.Attrs.String(AttrDevice))))
				open = p
			}
			out := n.Outputs[0]
			style := ""
			switch n.Op {
			case "view":
				style = ", style=dashed"
			case "copy", "transfer":
				style = ", style=filled, fillcolor=\"#f4cccc\""
			}
			fmt.Fprintf(bw, "    %s [shape=box, label=%s%s];\n", id(out), strconv.Quote(n.Op+"\n"+ref(out)+"\n"+out.Type.String()), style)
		}
		if open >= 0 {
			fmt.Fprintln(bw, "    }")
		}
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				fmt.Fprintf(bw, "    %s -> %s;\n", id(in), id(n.Outputs[0]))
			}
		}
		fmt.Fprintln(bw, "  }")
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}
