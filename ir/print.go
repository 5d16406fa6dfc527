package ir

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The text format, version 1. It is stable, deterministic, and read back by
// Parse, so any dump is a valid input:
//
//	irc v1
//	meta {
//	  architecture = "Qwen2ForCausalLM"
//	  ...
//	}
//	weight @model.norm.weight : bf16[1536] = "model.safetensors" "model.norm.weight"
//	state @l0.k_cache : bf16[2,4096,128]
//
//	graph decode(%tokens: i32[1], %pos: i32[1]) {
//	  %x = embedding(@model.embed_tokens.weight, %tokens) : bf16[1,1536]
//	  return %logits
//	}

// Print writes m in the text format.
func Print(w io.Writer, m *Model) error { return printModel(w, m, true) }

// PrintBrief is Print with the tokenizer only summarised in a comment: for
// people (irc dump), as the full tokenizer is a multi-megabyte line. Its
// output reads back as a model without a tokenizer.
func PrintBrief(w io.Writer, m *Model) error { return printModel(w, m, false) }

func printModel(w io.Writer, m *Model, fullTokenizer bool) error {
	var b bytes.Buffer
	b.WriteString("irc v1\n\nmeta {\n")
	for _, f := range metaFields {
		fmt.Fprintf(&b, "  %s = %s\n", f.name, formatMetaValue(f.ptr(&m.Meta)))
	}
	if t := m.Meta.Tokenizer; t != nil {
		fmt.Fprintf(&b, "  # %s\n", TokenizerSummary(t))
		if fullTokenizer {
			fmt.Fprintf(&b, "  tokenizer = %s\n", strconv.Quote(tokenizerText(t)))
		}
	}
	b.WriteString("}\n\n")
	for _, wt := range m.Weights {
		fmt.Fprintf(&b, "weight @%s : %v = %s %s\n", wt.Value.Name, wt.Value.Type, strconv.Quote(wt.File), strconv.Quote(wt.Tensor))
	}
	for _, s := range m.States {
		fmt.Fprintf(&b, "state @%s : %v\n", s.Value.Name, s.Value.Type)
	}
	for _, g := range m.Graphs {
		b.WriteString("\n")
		printGraph(&b, g)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// String returns the text form of m.
func (m *Model) String() string {
	var b strings.Builder
	_ = Print(&b, m)
	return b.String()
}

func printGraph(b *bytes.Buffer, g *Graph) {
	fmt.Fprintf(b, "graph %s(", g.Name)
	for i, v := range g.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(b, "%s: %v", ref(v), v.Type)
	}
	b.WriteString(") {\n")
	for _, n := range g.Nodes {
		b.WriteString("  ")
		b.WriteString(FormatNode(n))
		b.WriteString("\n")
	}
	b.WriteString("  return ")
	for i, v := range g.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ref(v))
	}
	b.WriteString("\n}\n")
}

// FormatNode renders one node as a line of the text format.
func FormatNode(n *Node) string {
	var b strings.Builder
	for i, o := range n.Outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ref(o))
	}
	if len(n.Outputs) > 0 {
		b.WriteString(" = ")
	}
	b.WriteString(n.Op)
	b.WriteString("(")
	for i, in := range n.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ref(in))
	}
	b.WriteString(")")
	if len(n.Attrs) > 0 {
		b.WriteString(" {")
		b.WriteString(FormatAttrs(n))
		b.WriteString("}")
	}
	if len(n.Outputs) > 0 {
		b.WriteString(" : ")
		for i, o := range n.Outputs {
			if i > 0 {
				b.WriteString(", ")
			}
			if o == nil {
				b.WriteString("?")
				continue
			}
			b.WriteString(o.Type.String())
		}
	}
	return b.String()
}

// FormatAttrs prints a node's attributes as in the text format, without the
// braces, in a deterministic order.
func FormatAttrs(n *Node) string {
	var b strings.Builder
	for i, k := range attrOrder(n) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(formatAttr(n.Attrs[k]))
	}
	return b.String()
}

// Ref prints a value reference: @name for weights and states, %name otherwise.
func Ref(v *Value) string { return ref(v) }

func ref(v *Value) string {
	if v == nil {
		return "%<nil>"
	}
	if v.Kind == WeightValue || v.Kind == StateValue {
		return "@" + v.Name
	}
	return "%" + v.Name
}

// attrOrder lists attributes in their declaration order, unknown ones last
// and sorted, so output is deterministic.
func attrOrder(n *Node) []string {
	var keys []string
	if def := Lookup(n.Op); def != nil {
		for _, s := range def.Attrs {
			if _, ok := n.Attrs[s.Name]; ok {
				keys = append(keys, s.Name)
			}
		}
	}
	var rest []string
	for k := range n.Attrs {
		if !slices.Contains(keys, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

func formatAttr(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case string:
		return strconv.Quote(v)
	case DType:
		return v.String()
	case []int64:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.FormatInt(x, 10)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case []float64:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = formatFloat(x)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("<%T>", v)
}

// formatFloat prints the shortest text that parses back to the same float64.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func formatMetaValue(p any) string {
	switch p := p.(type) {
	case *string:
		return strconv.Quote(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *float64:
		return formatFloat(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *[]int64:
		return formatAttr(*p)
	}
	panic("ir: unhandled meta field type")
}
