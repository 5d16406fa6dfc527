package codegen

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Packed weights: merge_projections gives a merged linear the weight
// concat(@W1, @W2, ...) {axis=0}. Weights concatenated along their first
// axis are consecutive blocks of one row-major tensor, so such a concat
// lowers to no launch at all: one weight buffer whose parts are filled
// from their checkpoint tensors at load (schedule.Buffer.Parts), and the
// linear reads one contiguous weight. A weight only packed gets no buffer
// of its own; one read directly as well keeps it (the tied embedding, say).

// packedWeight reports whether n concatenates model weights along axis 0.
func packedWeight(n *ir.Node) bool {
	if n.Op != "concat" || len(n.Inputs) == 0 {
		return false
	}
	if ax, err := ir.NormAxis(n.Attrs.Int("axis", 0), len(n.Outputs[0].Type.Shape)); err != nil || ax != 0 {
		return false
	}
	for _, in := range n.Inputs {
		if in.Kind != ir.WeightValue {
			return false
		}
	}
	return true
}

// weightUse scans the graphs to lower: which weights a node reads
// directly, and which only packed.
func weightUse(m *ir.Model, graphs []string) (direct, packed map[*ir.Value]bool) {
	direct, packed = map[*ir.Value]bool{}, map[*ir.Value]bool{}
	for _, name := range graphs {
		g := m.Graph(name)
		if g == nil {
			continue
		}
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				if packedWeight(n) {
					packed[in] = true
				} else {
					direct[in] = true
				}
			}
		}
	}
	return direct, packed
}

// addPackedWeights gives every packed concat of the graphs to lower its
// buffer: one per distinct list of parts, shared by the graphs.
func (l *lowerer) addPackedWeights(graphs []string) error {
	files := map[*ir.Value]*ir.Weight{}
	for _, w := range l.m.Weights {
		files[w.Value] = w
	}
	byParts := map[string]int{}
	for _, name := range graphs {
		g := l.m.Graph(name)
		if g == nil {
			continue
		}
		for _, n := range g.Nodes {
			if !packedWeight(n) {
				continue
			}
			out := n.Outputs[0]
			var key []string
			for _, in := range n.Inputs {
				key = append(key, in.Name)
			}
			if id, ok := byParts[strings.Join(key, "\x00")]; ok {
				l.buf[out] = id
				continue
			}
			d, err := dtypeOf(out)
			if err != nil {
				return err
			}
			b := schedule.Buffer{Name: out.Name, Kind: schedule.Weight, DType: d, Shape: slices.Clone(out.Type.Shape), Bytes: out.Type.Bytes()}
			var off int64
			for _, in := range n.Inputs {
				w := files[in]
				if w == nil {
					return fmt.Errorf("graph %s node `%s`: @%s is not a weight of the model", g.Name, ir.FormatNode(n), in.Name)
				}
				b.Parts = append(b.Parts, schedule.Part{Name: in.Name, File: w.File, Tensor: w.Tensor, Shape: slices.Clone(in.Type.Shape), Offset: off})
				off += in.Type.Bytes()
			}
			byParts[strings.Join(key, "\x00")] = l.addBuffer(out, b)
		}
	}
	return nil
}

// lowerConcat: a packed weight is its buffer, filled at load; no other
// concatenation has a kernel.
func (gl *graphLowering) lowerConcat(n *ir.Node) error {
	if gl.buf[n.Outputs[0]] != 0 {
		return nil
	}
	return fmt.Errorf("concat has no GPU kernel: only model weights concatenated along axis 0 lower (to one packed weight buffer, filled at load); this one reads %s along axis %d",
		describeInputs(n.Inputs), n.Attrs.Int("axis", 0))
}

func describeInputs(vs []*ir.Value) string {
	var parts []string
	for _, v := range vs {
		what := "%" + v.Name
		if v.Kind == ir.WeightValue {
			what = "@" + v.Name
		}
		parts = append(parts, what)
	}
	return strings.Join(parts, ", ")
}
