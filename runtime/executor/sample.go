package executor

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// topkKey names a bound pair of top-k kernels: graph, row and k.
type topkKey struct{ g, row, k int }

// rowArgs are launch l's arguments with argument row set to row r of graph
// g's logits and argument count to its length.
func (e *Executor) rowArgs(l *schedule.Launch, row, count, g, r int) []schedule.Arg {
	t := e.s.Graphs[g].Outputs[0]
	vocab := t.Shape[1]
	args := append([]schedule.Arg(nil), l.Args...)
	args[row] = schedule.T(t.Buf, t.Offset+int64(r)*vocab)
	args[count] = schedule.I(vocab)
	return args
}

// TopK returns the k largest logits of row of graph g with their ids,
// largest first and the lower id first on ties, reduced on the device so
// that only k pairs come back (fewer when the row is shorter than k).
func (e *Executor) TopK(g, row, k int) ([]int32, []float32, error) {
	tk := &e.s.TopK
	if k < 1 || k > schedule.MaxTopK {
		return nil, nil, fmt.Errorf("top-k of %d: the device returns 1 to %d candidates", k, schedule.MaxTopK)
	}
	key := topkKey{g, row, k}
	// The launches for the device's kind: a CPU's have fewer parts.
	pl, ml := tk.Part.For(e.kind), tk.Merge.For(e.kind)
	ks, ok := e.topk[key]
	if !ok {
		args := e.rowArgs(pl, tk.Row, tk.Count, g, row)
		args[tk.PartK] = schedule.I(int64(k))
		part, err := e.kernel(pl, args)
		if err != nil {
			return nil, nil, err
		}
		args = append([]schedule.Arg(nil), ml.Args...)
		args[tk.MergeK] = schedule.I(int64(k))
		merge, err := e.kernel(ml, args)
		if err != nil {
			return nil, nil, err
		}
		ks = [2]Kernel{part, merge}
		e.topk[key] = ks
	}
	if err := e.dev.Launch(ks[0], pl); err != nil {
		return nil, nil, err
	}
	if err := e.dev.Launch(ks[1], ml); err != nil {
		return nil, nil, err
	}
	n := min(k, int(e.s.Graphs[g].Outputs[0].Shape[1]))
	vb, ib := make([]byte, 4*n), make([]byte, 4*n)
	if err := e.dev.Read(e.bufs[tk.Vals], 0, vb); err != nil {
		return nil, nil, err
	}
	if err := e.dev.Read(e.bufs[tk.IDs], 0, ib); err != nil {
		return nil, nil, err
	}
	ids, vals := make([]int32, n), make([]float32, n)
	for i := range n {
		ids[i] = int32(binary.LittleEndian.Uint32(ib[4*i:]))
		vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(vb[4*i:]))
	}
	return ids, vals, nil
}

// GumbelArgmax samples a token from softmax(row / temperature) of graph
// g's logits on the device, with the noise of (seed, step) (see
// runner.GumbelNoise): 16 bytes go in and 4 come back.
func (e *Executor) GumbelArgmax(g, row int, temperature float32, seed uint64, step int) (int32, error) {
	gm := &e.s.Gumbel
	if !(temperature > 0) || math.IsInf(float64(temperature), 1) {
		return 0, fmt.Errorf("sampling at temperature %g: want a finite temperature above 0", temperature)
	}
	key := [2]int{g, row}
	k, ok := e.gumbel[key]
	if !ok {
		var err error
		if k, err = e.kernel(&gm.Launch, e.rowArgs(&gm.Launch, gm.Row, gm.Count, g, row)); err != nil {
			return 0, err
		}
		e.gumbel[key] = k
	}
	params := []int32{int32(uint32(seed)), int32(uint32(seed >> 32)), int32(step), int32(math.Float32bits(temperature))}
	if err := e.writeInts(gm.Params, params); err != nil {
		return 0, err
	}
	if err := e.dev.Launch(k, &gm.Launch); err != nil {
		return 0, err
	}
	var out [4]byte
	if err := e.dev.Read(e.bufs[gm.Out], 0, out[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(out[:])), nil
}
