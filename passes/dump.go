package passes

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/irc-compiler/irc/ir"
)

// DumpSink receives per-pass dumps: numbered files NNN_<pass>.ir (or .dot)
// in Dir, or, without a Dir, one after another on W.
type DumpSink struct {
	Dir    string
	Format string // "text" (default) or "dot"
	W      io.Writer
}

func (d *DumpSink) dump(index int, p *Pass, before bool, stats []*PassStat, m *ir.Model) error {
	pass := p.Name
	if d == nil {
		return nil
	}
	var buf bytes.Buffer
	when := "after"
	if before {
		when = "before"
	}
	switch d.Format {
	case "dot":
		if err := ir.WriteDot(&buf, m); err != nil {
			return err
		}
	case "", "text":
		fmt.Fprintf(&buf, "# irc: IR %s pass %03d %s: %s\n", when, index, pass, p.Doc)
		for _, st := range stats {
			fmt.Fprintf(&buf, "#   %s: %d candidates, %d rewritten, %d declined (see --explain %s), %d -> %d nodes\n",
				st.Graph, st.Candidates, st.Rewrites, st.Declined, pass, st.NodesBefore, st.NodesAfter)
		}
		fmt.Fprintln(&buf)
		WritePlacement(&buf, m)
		if err := ir.Print(&buf, m); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown dump format %q (want text or dot)", d.Format)
	}
	if d.Dir == "" {
		_, err := d.W.Write(buf.Bytes())
		return err
	}
	ext := ".ir"
	if d.Format == "dot" {
		ext = ".dot"
	}
	name := fmt.Sprintf("%03d_%s%s", index, pass, ext)
	if before {
		name = fmt.Sprintf("%03d_%s.before%s", index, pass, ext)
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return err
	}
	// Through os.Root: a symbolic link already in the folder cannot send
	// a dump outside it.
	root, err := os.OpenRoot(d.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return root.WriteFile(name, buf.Bytes(), 0o644)
}

// WritePlacement prints each placed graph's partition DAG as '#'
// comments, which the parser skips, so the dump still reads back.
// Unplaced models get nothing.
func WritePlacement(w io.Writer, m *ir.Model) {
	placed := false
	for _, g := range m.Graphs {
		parts := Partitions(g)
		if len(parts) == 0 {
			continue
		}
		placed = true
		fmt.Fprintf(w, "# graph %s: %d partitions\n", g.Name, len(parts))
		for _, line := range describePartitions(parts) {
			fmt.Fprintf(w, "#   %s\n", line)
		}
	}
	if placed {
		fmt.Fprintln(w)
	}
}
