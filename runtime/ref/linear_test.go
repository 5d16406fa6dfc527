package ref

import (
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// The fused linear computes what its unfused ops compute: the norm
// prologue is rms_norm then linear, the glu epilogue silu_mul of two
// linears over the weight's halves.
func TestLinearPrologueAndGLUMatchTheirOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, k, n, eps = 3, 13, 7, 1e-5
	x := randTensor(rng, ir.T(ir.F32, rows, k))
	g := randTensor(rng, ir.T(ir.F32, k))
	w := randTensor(rng, ir.T(ir.F32, 2*n, k))
	gate := Floats(ir.F32, ir.Shape{n, k}, w.F[:n*k])
	up := Floats(ir.F32, ir.Shape{n, k}, w.F[n*k:])

	fused := runOp(t, "linear", ir.Attrs{"norm": int64(1), "eps": float64(eps), "glu": int64(1)}, x, w, g)
	normed := runOp(t, "rms_norm", ir.Attrs{"eps": float64(eps)}, x, g)
	silu := runOp(t, "silu_mul", nil, runOp(t, "linear", nil, normed, gate), runOp(t, "linear", nil, normed, up))
	want := silu
	for i, v := range fused.F {
		close32(t, "fused linear", v, float64(want.F[i]))
	}
}

// The norm prologue alone, with a bias.
func TestLinearNormPrologueWithBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const rows, k, n, eps = 2, 9, 5, 1e-6
	x := randTensor(rng, ir.T(ir.F32, rows, k))
	g := randTensor(rng, ir.T(ir.F32, k))
	w := randTensor(rng, ir.T(ir.F32, n, k))
	b := randTensor(rng, ir.T(ir.F32, n))
	fused := runOp(t, "linear", ir.Attrs{"norm": int64(1), "eps": float64(eps), "bias": int64(1)}, x, w, b, g)
	want := runOp(t, "linear", ir.Attrs{"bias": int64(1)}, runOp(t, "rms_norm", ir.Attrs{"eps": float64(eps)}, x, g), w, b)
	for i, v := range fused.F {
		close32(t, "norm prologue", v, float64(want.F[i]))
	}
}
