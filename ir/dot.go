package ir

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteDot writes the graphs of m in Graphviz dot: one cluster per graph,
// a box per node labelled with its op and output type, an ellipse per graph
// input, weight or state it reads.
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
			out := n.Outputs[0]
			fmt.Fprintf(bw, "    %s [shape=box, label=%s];\n", id(out), strconv.Quote(n.Op+"\n"+ref(out)+"\n"+out.Type.String()))
			for _, in := range n.Inputs {
				fmt.Fprintf(bw, "    %s -> %s;\n", id(in), id(out))
			}
		}
		fmt.Fprintln(bw, "  }")
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}
