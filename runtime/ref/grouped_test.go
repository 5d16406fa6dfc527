package ref

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// grouped_matmul's causal bounds, taken literally, against a naive float64
// loop: "columns" writes 0 past positions[m], "reduction" sums k <= positions[m].
// Positions below 0 and past the end, groups of one and of several heads,
// both layouts, and sizes big enough to go parallel.
func TestGroupedMatmulCausalBoundAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		h, g, m, k, n int
		pos           []int64
	}{
		{6, 2, 3, 7, 5, []int64{0, 3, 9}},
		{4, 4, 1, 9, 13, []int64{5}},
		{3, 1, 4, 5, 6, []int64{-1, 0, 4, 2}},
		{8, 2, 40, 64, 64, nil}, // parallel; positions drawn
	} {
		pos := c.pos
		if pos == nil {
			for range c.m {
				pos = append(pos, rng.Int64N(int64(c.k+c.n)))
			}
		}
		a := randTensor(rng, ir.T(ir.F32, int64(c.h), int64(c.m), int64(c.k)))
		b := randTensor(rng, ir.T(ir.F32, int64(c.g), int64(c.k), int64(c.n)))
		p := Ints(ir.I32, ir.Shape{int64(c.m)}, pos)
		for _, bound := range []string{ir.CausalColumns, ir.CausalReduction} {
			for _, rowsFirst := range []int64{0, 1} {
				what := fmt.Sprintf("%v %s rows_first=%d", c, bound, rowsFirst)
				out := runOp(t, "grouped_matmul", ir.Attrs{ir.CausalBoundAttr: bound, "rows_first": rowsFirst}, a, b, p)
				for h := range c.h {
					for m := range c.m {
						for n := range c.n {
							var want float64
							for k := range c.k {
								if bound == ir.CausalReduction && int64(k) > pos[m] {
									continue
								}
								want += float64(a.F[(h*c.m+m)*c.k+k]) * float64(b.F[(h/(c.h/c.g)*c.k+k)*c.n+n])
							}
							if bound == ir.CausalColumns && int64(n) > pos[m] {
								want = 0
							}
							at := (h*c.m+m)*c.n + n
							if rowsFirst == 1 {
								at = (m*c.h+h)*c.n + n
							}
							close32(t, what, out.F[at], want)
						}
					}
				}
			}
		}
	}
}

// Where the bound skips only zero terms (causal probabilities past the
// position) or columns nobody reads, it changes nothing: the read entries
// equal the unbounded op's bit for bit.
func TestGroupedMatmulCausalBoundKeepsReadEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const h, g, m, k, n = 6, 3, 5, 17, 8
	pos := []int64{2, 16, 0, 7, 11}
	probs := randTensor(rng, ir.T(ir.F32, h, m, k))
	for i := range probs.F {
		if int64(i%k) > pos[i/k%m] {
			probs.F[i] = 0
		}
	}
	v := randTensor(rng, ir.T(ir.F32, g, k, n))
	p := Ints(ir.I32, ir.Shape{m}, pos)
	full := runOp(t, "grouped_matmul", nil, probs, v)
	bounded := runOp(t, "grouped_matmul", ir.Attrs{ir.CausalBoundAttr: ir.CausalReduction}, probs, v, p)
	for i := range full.F {
		if full.F[i] != bounded.F[i] {
			t.Fatalf("reduction: element %d is %v, unbounded %v", i, bounded.F[i], full.F[i])
		}
	}
	q := randTensor(rng, ir.T(ir.F32, h, m, n))
	kt := randTensor(rng, ir.T(ir.F32, g, n, k))
	full = runOp(t, "grouped_matmul", nil, q, kt)
	bounded = runOp(t, "grouped_matmul", ir.Attrs{ir.CausalBoundAttr: ir.CausalColumns}, q, kt, p)
	for i := range full.F {
		col, row := int64(i%k), pos[i/k%m]
		if want := map[bool]float32{true: full.F[i], false: 0}[col <= row]; bounded.F[i] != want {
			t.Fatalf("columns: element %d (column %d, position %d) is %v, want %v", i, col, row, bounded.F[i], want)
		}
	}
}
