package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

func TestEveryOpHasAnEvaluator(t *testing.T) {
	for _, d := range ir.Ops() {
		if !Supports(d.Name) {
			t.Errorf("op %s has no ref implementation", d.Name)
		}
	}
}

func randTensor(rng *rand.Rand, t ir.TensorType) *Tensor {
	x := NewTensor(t)
	for i := range x.F {
		x.F[i] = float32(rng.NormFloat64())
	}
	return x
}

// runOp builds a one-node graph and evaluates it.
func runOp(t *testing.T, op string, a ir.Attrs, in ...*Tensor) *Tensor {
	t.Helper()
	types := make([]ir.TensorType, len(in))
	vals := make([]*ir.Value, len(in))
	for i, x := range in {
		types[i] = x.Type()
		vals[i] = &ir.Value{Name: "in", Type: x.Type(), Kind: ir.Input}
	}
	outs, err := ir.InferTypes(op, types, a)
	if err != nil {
		t.Fatal(err)
	}
	n := &ir.Node{Op: op, Inputs: vals, Attrs: a}
	n.Outputs = []*ir.Value{{Name: "out", Type: outs[0], Def: n}}
	out, err := eval(n, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func close32(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// Shapes are deliberately awkward: odd sizes, broadcast batch axes.
func TestMatmulBroadcastAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ a, b ir.Shape }{
		{ir.Shape{3, 5}, ir.Shape{5, 7}},
		{ir.Shape{2, 1, 3, 33}, ir.Shape{4, 33, 5}},
		{ir.Shape{7, 1, 65}, ir.Shape{65, 130}}, // big enough to go parallel
		{ir.Shape{1, 300, 70}, ir.Shape{3, 70, 9}},
	} {
		a := randTensor(rng, ir.TensorType{DType: ir.F32, Shape: c.a})
		b := randTensor(rng, ir.TensorType{DType: ir.F32, Shape: c.b})
		out := runOp(t, "matmul", nil, a, b)
		ra, rb, ro := len(c.a), len(c.b), len(out.Shape)
		m, k, n := int(c.a[ra-2]), int(c.a[ra-1]), int(c.b[rb-1])
		batch := out.Shape[:ro-2]
		ao := broadcastOffsets(batch, c.a[:ra-2])
		bo := broadcastOffsets(batch, c.b[:rb-2])
		for bi := range ao {
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var want float64
					for kk := 0; kk < k; kk++ {
						want += float64(a.F[ao[bi]*m*k+i*k+kk]) * float64(b.F[bo[bi]*k*n+kk*n+j])
					}
					close32(t, "matmul", out.F[(bi*m+i)*n+j], want)
				}
			}
		}
	}
}

func TestTransposeSliceConcat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randTensor(rng, ir.T(ir.F32, 2, 3, 5))
	tr := runOp(t, "transpose", ir.Attrs{"perm": []int64{2, 0, 1}}, x) // [5,2,3]
	for i := 0; i < 5; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 3; k++ {
				if tr.F[i*6+j*3+k] != x.F[j*15+k*5+i] {
					t.Fatalf("transpose wrong at %d,%d,%d", i, j, k)
				}
			}
		}
	}
	sl := runOp(t, "slice", ir.Attrs{"axis": int64(2), "start": int64(1), "end": int64(5), "step": int64(2)}, x) // [2,3,2]
	for j := 0; j < 2; j++ {
		for k := 0; k < 3; k++ {
			for l := 0; l < 2; l++ {
				if sl.F[j*6+k*2+l] != x.F[j*15+k*5+1+2*l] {
					t.Fatalf("slice wrong at %d,%d,%d", j, k, l)
				}
			}
		}
	}
	y := randTensor(rng, ir.T(ir.F32, 2, 1, 5))
	cat := runOp(t, "concat", ir.Attrs{"axis": int64(1)}, x, y) // [2,4,5]
	for j := 0; j < 2; j++ {
		for k := 0; k < 4; k++ {
			for l := 0; l < 5; l++ {
				want := y.F[j*5+l]
				if k < 3 {
					want = x.F[j*15+k*5+l]
				}
				if cat.F[j*20+k*5+l] != want {
					t.Fatalf("concat wrong at %d,%d,%d", j, k, l)
				}
			}
		}
	}
}

func TestReduceAndSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randTensor(rng, ir.T(ir.F32, 3, 4, 5))
	mean := runOp(t, "mean", ir.Attrs{"axes": []int64{0, 2}, "keepdim": int64(1)}, x) // [1,4,1]
	mx := runOp(t, "max", ir.Attrs{"axes": []int64{-1}}, x)                           // [3,4]
	for j := 0; j < 4; j++ {
		var s float64
		for i := 0; i < 3; i++ {
			m := math.Inf(-1)
			for k := 0; k < 5; k++ {
				v := float64(x.F[i*20+j*5+k])
				s += v
				m = math.Max(m, v)
			}
			close32(t, "max", mx.F[i*4+j], m)
		}
		close32(t, "mean", mean.F[j], s/15)
	}
	sm := runOp(t, "softmax", ir.Attrs{"axis": int64(1)}, x)
	for i := 0; i < 3; i++ {
		for k := 0; k < 5; k++ {
			var z float64
			for j := 0; j < 4; j++ {
				z += math.Exp(float64(x.F[i*20+j*5+k]))
			}
			for j := 0; j < 4; j++ {
				close32(t, "softmax", sm.F[i*20+j*5+k], math.Exp(float64(x.F[i*20+j*5+k]))/z)
			}
		}
	}
}

func TestCacheWriteDropsRowsPastTheEnd(t *testing.T) {
	state := NewTensor(ir.T(ir.F32, 2, 4, 3))
	rows := randTensor(rand.New(rand.NewPCG(7, 8)), ir.T(ir.F32, 2, 3, 3))
	out := runOp(t, "cache_write", ir.Attrs{"axis": int64(1)}, state, rows, Ints(ir.I32, ir.Shape{1}, []int64{2}))
	if &out.F[0] != &state.F[0] {
		t.Fatal("cache_write did not update the state in place")
	}
	for h := 0; h < 2; h++ {
		for p := 0; p < 4; p++ {
			for d := 0; d < 3; d++ {
				want := float32(0)
				if p >= 2 {
					want = rows.F[h*9+(p-2)*3+d]
				}
				if state.F[h*12+p*3+d] != want {
					t.Fatalf("state[%d,%d,%d] = %v, want %v", h, p, d, state.F[h*12+p*3+d], want)
				}
			}
		}
	}
}

func TestElementwiseBroadcastAndWhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a := randTensor(rng, ir.T(ir.F32, 3, 1, 4))
	b := randTensor(rng, ir.T(ir.F32, 2, 1))
	sum := runOp(t, "add", nil, a, b) // [3,2,4]
	gt := runOp(t, "greater", nil, a, b)
	w := runOp(t, "where", nil, gt, a, b)
	for i := 0; i < 3; i++ {
		for j := 0; j < 2; j++ {
			for k := 0; k < 4; k++ {
				av, bv := a.F[i*4+k], b.F[j]
				o := i*8 + j*4 + k
				close32(t, "add", sum.F[o], float64(av)+float64(bv))
				if (gt.I[o] == 1) != (av > bv) || w.F[o] != max(av, bv) {
					t.Fatalf("greater/where wrong at %d,%d,%d", i, j, k)
				}
			}
		}
	}
	silu := runOp(t, "silu", nil, a)
	for i, v := range a.F {
		close32(t, "silu", silu.F[i], float64(v)/(1+math.Exp(-float64(v))))
	}
	io := runOp(t, "iota", ir.Attrs{"shape": []int64{2, 3}, "axis": int64(1), "dtype": ir.I32})
	for i, v := range io.I {
		if v != int64(i%3) {
			t.Fatalf("iota[%d] = %d", i, v)
		}
	}
}

func TestEmbeddingRejectsOutOfRangeIDs(t *testing.T) {
	table := NewTensor(ir.T(ir.F32, 5, 2))
	n := &ir.Node{Op: "embedding", Outputs: []*ir.Value{{Type: ir.T(ir.F32, 1, 2)}}}
	if _, err := eval(n, []*Tensor{table, Ints(ir.I32, ir.Shape{1}, []int64{5})}); err == nil {
		t.Fatal("id 5 accepted for a vocabulary of 5")
	}
}
