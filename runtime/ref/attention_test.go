package ref

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// The fused attention computes what its ops compute, caches included, for
// prefill and decode rows, GQA 1:1 and 3:1, and positions whose rows run
// past the cache's end.
func TestAttentionMatchesItsOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ heads, groups, rows, length, dim, first int }{
		{6, 2, 3, 23, 10, 0},  // prefill from 0, 3:1
		{4, 4, 1, 17, 8, 9},   // decode, 1:1
		{6, 2, 1, 23, 10, 22}, // decode at the last row
		{8, 2, 5, 19, 6, 16},  // rows past the end are dropped
	} {
		t.Run(fmt.Sprintf("H%d_G%d_M%d_L%d_D%d_at%d", c.heads, c.groups, c.rows, c.length, c.dim, c.first), func(t *testing.T) {
			q := randTensor(rng, ir.T(ir.F32, int64(c.heads), int64(c.rows), int64(c.dim)))
			k := randTensor(rng, ir.T(ir.F32, int64(c.groups), int64(c.rows), int64(c.dim)))
			v := randTensor(rng, ir.T(ir.F32, int64(c.groups), int64(c.rows), int64(c.dim)))
			cache := ir.T(ir.F32, int64(c.groups), int64(c.length), int64(c.dim))
			kc, vc := randTensor(rng, cache), randTensor(rng, cache)
			kc2, vc2 := &Tensor{DType: kc.DType, Shape: kc.Shape, F: slices.Clone(kc.F)}, &Tensor{DType: vc.DType, Shape: vc.Shape, F: slices.Clone(vc.F)}
			ps := make([]int64, c.rows)
			for i := range ps {
				ps[i] = int64(c.first + i)
			}
			pos := Ints(ir.I32, ir.Shape{int64(c.rows)}, ps)
			start := Ints(ir.I32, ir.Shape{1}, ps[:1])
			invFreq := make([]float64, c.dim/2)
			for i := range invFreq {
				invFreq[i] = 1 / float64(i+1)
			}
			const scale = 0.3
			got := runOp(t, "attention", ir.Attrs{"scale": scale, "inv_freq": invFreq}, q, k, v, kc, vc, pos, start)

			rope := ir.Attrs{"inv_freq": invFreq}
			axis := ir.Attrs{"axis": int64(1)}
			kWritten := runOp(t, "cache_write", axis, kc2, runOp(t, "rope", rope, k, pos), start)
			vWritten := runOp(t, "cache_write", axis, vc2, v, start)
			kt := runOp(t, "view", ir.Attrs{"shape": []int64{int64(c.groups), int64(c.dim), int64(c.length)},
				"strides": []int64{int64(c.length * c.dim), 1, int64(c.dim)}}, kWritten)
			scores := runOp(t, "grouped_matmul", ir.Attrs{ir.CausalBoundAttr: ir.CausalColumns}, runOp(t, "rope", rope, q, pos), kt, pos)
			probs := runOp(t, "masked_softmax", ir.Attrs{"scale": scale, "causal": int64(1)}, scores, pos)
			want := runOp(t, "grouped_matmul", ir.Attrs{"rows_first": int64(1), ir.CausalBoundAttr: ir.CausalReduction}, probs, vWritten, pos)

			for i, x := range got.F {
				close32(t, "attention output", x, float64(want.F[i]))
			}
			for i := range kc.F {
				if kc.F[i] != kc2.F[i] || vc.F[i] != vc2.F[i] {
					t.Fatalf("caches differ at %d: k %v vs %v, v %v vs %v", i, kc.F[i], kc2.F[i], vc.F[i], vc2.F[i])
				}
			}
		})
	}
}
