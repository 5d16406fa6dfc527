package passes

import (
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// attention on random causal attention chains (GQA 1:1 to 4:1, one to three
// new rows, caches of a few rows, random positions and start): the chain
// becomes one attention op with the same outputs and the same caches (read
// back after it); near misses (the probabilities also a graph output, k
// turned by other frequencies, v written at another position) stay and
// are explained.
func TestPropertyAttention(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		groups, ratio, rows := int64(1+r.IntN(3)), int64(1+r.IntN(4)), int64(1+r.IntN(3))
		heads, length, dim := groups*ratio, rows+1+int64(r.IntN(7)), int64(2*(1+r.IntN(3)))
		dt := floatDType(r)
		kState := m.AddState("cache.k", ir.T(dt, groups, length, dim))
		vState := m.AddState("cache.v", ir.T(dt, groups, length, dim))
		g := b.Graph
		q := g.AddInput("q", ir.T(dt, heads, rows, dim))
		k := g.AddInput("k", ir.T(dt, groups, rows, dim))
		val := g.AddInput("v", ir.T(dt, groups, rows, dim))
		pos := g.AddInput("pos", ir.T(ir.I32, rows))
		start := g.AddInput("start", ir.T(ir.I32, 1))
		freqs := make([]float64, dim/2)
		for i := range freqs {
			freqs[i] = 1 / float64(1+3*i)
		}
		kFreqs, vStart := freqs, start
		c := propCase{fused: true, intMax: length}
		switch v {
		case 2:
			kFreqs = append([]float64{2}, freqs[1:]...)
			c = propCase{reason: "different frequencies", intMax: length}
		case 3:
			vStart = g.AddInput("start2", ir.T(ir.I32, 1))
			c = propCase{reason: "do not both write rows", intMax: length}
		}
		axis := ir.Attrs{"axis": int64(1)}
		qr := b.Op("rope", ir.Attrs{"inv_freq": freqs}, q, pos)
		kc := b.Op("cache_write", axis, kState, b.Op("rope", ir.Attrs{"inv_freq": kFreqs}, k, pos), start)
		vc := b.Op("cache_write", axis, vState, val, vStart)
		kt := b.Op("view", ir.Attrs{"shape": []int64{groups, dim, length}, "strides": []int64{length * dim, 1, dim}}, kc)
		scores := b.Op(GQAOp, ir.Attrs{ir.CausalBoundAttr: ir.CausalColumns}, qr, kt, pos)
		probs := b.Op("masked_softmax", ir.Attrs{"scale": 0.2 + r.Float64(), "causal": int64(1)}, scores, pos)
		out := b.Op(GQAOp, ir.Attrs{"rows_first": int64(1), ir.CausalBoundAttr: ir.CausalReduction}, probs, vc, pos)
		g.Outputs = []*ir.Value{out, b.Op("copy", nil, kState), b.Op("copy", nil, vState)}
		if v == 1 {
			g.Outputs = append(g.Outputs, probs)
			c = propCase{reason: "read outside the pattern", intMax: length}
		}
		return c
	}
	checkFusion(t, "attention", "attention", []string{"masked_softmax", "rope", "cache_write"}, 4, gen)
}
