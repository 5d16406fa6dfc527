package ref

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/irc-compiler/irc/ir"
)

func init() {
	register("constant", func(n *ir.Node, _ []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		vals := n.Attrs.Floats("value")
		for i := range out.Len() {
			out.set(i, vals[i%len(vals)])
		}
		return out, nil
	})
	register("iota", func(n *ir.Node, _ []*Tensor) (*Tensor, error) {
		out := NewTensor(n.Outputs[0].Type)
		ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(out.Shape))
		st := strides(out.Shape)
		for i := range out.Len() {
			out.set(i, float64(i/st[ax]%int(out.Shape[ax])))
		}
		return out, nil
	})
	register("embedding", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		table, ids := in[0], in[1]
		out := NewTensor(n.Outputs[0].Type)
		vocab, h := table.Shape[0], int(table.Shape[1])
		for i, id := range ids.I {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("token id %d out of range [0, %d)", id, vocab)
			}
			copy(out.F[i*h:(i+1)*h], table.F[int(id)*h:(int(id)+1)*h])
		}
		return out, nil
	})
	register("cache_write", func(n *ir.Node, in []*Tensor) (*Tensor, error) {
		state, rows, pos := in[0], in[1], in[2]
		ax, _ := ir.NormAxis(n.Attrs.Int("axis", 0), len(state.Shape))
		p := pos.I[0]
		if p < 0 {
			return nil, fmt.Errorf("cache position %d is negative", p)
		}
		outer := int(ir.Shape(state.Shape[:ax]).NumElements())
		inner := int(ir.Shape(state.Shape[ax+1:]).NumElements())
		capacity, count := int(state.Shape[ax]), int(rows.Shape[ax])
		for o := 0; o < outer; o++ {
			for r := 0; r < count && int(p)+r < capacity; r++ {
				dst := (o*capacity + int(p) + r) * inner
				src := (o*count + r) * inner
				copy(state.F[dst:dst+inner], rows.F[src:src+inner])
			}
		}
		return state, nil
	})
	register("matmul", matmul)
}

// matmul computes batched a[..., M, K] @ b[..., K, N] in float32, rows of the
// output split across the machine's cores.
func matmul(n *ir.Node, in []*Tensor) (*Tensor, error) {
	a, b := in[0], in[1]
	out := NewTensor(n.Outputs[0].Type)
	ra, rb, ro := len(a.Shape), len(b.Shape), len(out.Shape)
	m, k, nn := int(a.Shape[ra-2]), int(a.Shape[ra-1]), int(b.Shape[rb-1])
	batch := out.Shape[:ro-2]
	// Offsets of each batch's matrices, in units of whole matrices.
	aBatch := broadcastOffsets(batch, ir.Shape(a.Shape[:ra-2]))
	bBatch := broadcastOffsets(batch, ir.Shape(b.Shape[:rb-2]))
	rows := len(aBatch) * m
	work := func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bi, i := r/m, r%m
			arow := a.F[(aBatch[bi]*m+i)*k : (aBatch[bi]*m+i+1)*k]
			bmat := b.F[bBatch[bi]*k*nn : (bBatch[bi]+1)*k*nn]
			crow := out.F[r*nn : (r+1)*nn]
			for kk, av := range arow {
				brow := bmat[kk*nn : (kk+1)*nn]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
	parallelRows(rows, rows*k*nn, work)
	return out, nil
}

// parallelRows runs work over rows [0, rows) split across the machine's
// cores, or in one call where the multiply-adds (cost) are too few to pay
// for goroutines.
func parallelRows(rows, cost int, work func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || cost < 1<<16 {
		work(0, rows)
		return
	}
	var wg sync.WaitGroup
	chunk := (rows + workers - 1) / workers
	for lo := 0; lo < rows; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			work(lo, hi)
		}(lo, min(lo+chunk, rows))
	}
	wg.Wait()
}
