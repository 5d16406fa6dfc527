package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/passes"
)

func newDumpCmd() *cobra.Command {
	var format, graph string
	var fullTokenizer bool
	cmd := &cobra.Command{
		Use:   "dump MODEL",
		Short: "Print a model (.irpb or text IR) as text, JSON or Graphviz dot",
		Long: `Dump prints a model. The text format (the default) is read back by every command that
takes a model, so a dump can be edited and used as input. --format=json prints the
protobuf model as JSON; --format=dot prints Graphviz (one cluster per graph, and one per
partition in a compiled model). A compiled model's text starts with its partition DAG
as '#' comments. The tokenizer is summarised in one '#' line; --tokenizer prints it in
full (base64 of its protobuf message) so that the dump reads back with it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := ir.Load(args[0])
			if err != nil {
				return err
			}
			if graph != "" {
				g := m.Graph(graph)
				if g == nil {
					return fmt.Errorf("%s has no graph %q", args[0], graph)
				}
				m.Graphs = []*ir.Graph{g}
			}
			w := cmd.OutOrStdout()
			switch format {
			case "text":
				passes.WritePlacement(w, m)
				if fullTokenizer {
					return ir.Print(w, m)
				}
				return ir.PrintBrief(w, m)
			case "json":
				raw, err := protojson.Marshal(ir.ToProto(m))
				if err != nil {
					return err
				}
				// protojson varies its spacing on purpose; re-indenting makes
				// the dump stable.
				var b bytes.Buffer
				if err := json.Indent(&b, raw, "", "  "); err != nil {
					return err
				}
				b.WriteByte('\n')
				_, err = w.Write(b.Bytes())
				return err
			case "dot":
				return ir.WriteDot(w, m)
			}
			return fmt.Errorf("unknown --format %q (want text, json or dot)", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or dot")
	cmd.Flags().BoolVar(&fullTokenizer, "tokenizer", false, "text format: print the tokenizer in full, not only its summary")
	cmd.Flags().StringVar(&graph, "graph", "", "print only this graph (prefill or decode)")
	return cmd
}
