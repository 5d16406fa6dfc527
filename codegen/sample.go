package codegen

import (
	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// cpuTopKParts is about how many items top-k's first launch has on a CPU
// (rounded down to whole groups of the target's CPU group): a few per
// core.
const cpuTopKParts = 64

// sampling prepares sampling on the device, as argmax does greedy
// decoding: the top-k launches with their scratch and result buffers, and
// the Gumbel-max launch with its parameter input and result. The row,
// its length and k are left for the host to set.
func (l *lowerer) sampling() error {
	part, merge, gumbel := kernels.TopKPart, kernels.TopKMerge, kernels.ArgmaxGumbel
	scratch := int64(schedule.TopKParts * schedule.MaxTopK)
	pv := l.addBuffer(nil, schedule.Buffer{Name: "topk_part_vals", Kind: schedule.Result, DType: schedule.F32, Shape: []int64{scratch}, Bytes: 4 * scratch})
	pi := l.addBuffer(nil, schedule.Buffer{Name: "topk_part_ids", Kind: schedule.Result, DType: schedule.I32, Shape: []int64{scratch}, Bytes: 4 * scratch})
	vals := l.addBuffer(nil, schedule.Buffer{Name: "topk_vals", Kind: schedule.Result, DType: schedule.F32, Shape: []int64{schedule.MaxTopK}, Bytes: 4 * schedule.MaxTopK})
	ids := l.addBuffer(nil, schedule.Buffer{Name: "topk_ids", Kind: schedule.Result, DType: schedule.I32, Shape: []int64{schedule.MaxTopK}, Bytes: 4 * schedule.MaxTopK})
	// A GPU wants many items (TopKParts, strided so that neighbours read
	// neighbouring floats); a CPU few long ones, since each item first
	// fills its k slots by insertion (k*k/2 moves) and the merge's rounds
	// scan every list: cpuTopKParts in groups of the CPU group size spread
	// over the cores, as the CPU alternative (schedule.Launch.CPU).
	bind := func(parts int) (p, m []schedule.Arg, err error) {
		if p, err = part.Bind(kernels.Args{"x": schedule.T(arenaBuf, 0), "n": schedule.I(0), "k": schedule.I(schedule.MaxTopK),
			"parts": schedule.I(int64(parts)), "part_vals": schedule.T(pv, 0), "part_ids": schedule.T(pi, 0)}); err != nil {
			return nil, nil, err
		}
		m, err = merge.Bind(kernels.Args{"part_vals": schedule.T(pv, 0), "part_ids": schedule.T(pi, 0), "k": schedule.I(schedule.MaxTopK),
			"parts": schedule.I(int64(parts)), "vals": schedule.T(vals, 0), "ids": schedule.T(ids, 0)})
		return p, m, err
	}
	partArgs, mergeArgs, err := bind(schedule.TopKParts)
	if err != nil {
		return err
	}
	pg, pl := l.target.grid(part, [3]int{schedule.TopKParts})
	mg, ml := l.target.grid(merge, [3]int{})
	l.s.TopK = schedule.TopK{
		Part:  schedule.Launch{Kernel: l.kernel(part.Instance()), Global: pg, Local: pl, Args: partArgs, Node: "topk"},
		Merge: schedule.Launch{Kernel: l.kernel(merge.Instance()), Global: mg, Local: ml, Args: mergeArgs, Node: "topk"},
		Row:   part.Index("x"), Count: part.Index("n"), PartK: part.Index("k"), MergeK: merge.Index("k"),
		Vals: vals, IDs: ids,
	}
	if l.target.CPU {
		// Whole groups: OpenCL 1.2 wants the global size a multiple of
		// the local one.
		group := l.target.CPUGroup
		cpuParts := max(min(cpuTopKParts, schedule.TopKParts)/group, 1) * group
		cpuPart, cpuMerge, err := bind(cpuParts)
		if err != nil {
			return err
		}
		p, m := l.s.TopK.Part, l.s.TopK.Merge
		p.Args, p.Global, p.Local = cpuPart, [3]int{cpuParts, 1, 1}, [3]int{group, 1, 1}
		m.Args = cpuMerge
		l.s.TopK.Part.CPU, l.s.TopK.Merge.CPU = &p, &m
	}

	params := l.addBuffer(nil, schedule.Buffer{Name: "sample_params", Kind: schedule.Input, DType: schedule.I32, Shape: []int64{4}, Bytes: 16})
	out := l.addBuffer(nil, schedule.Buffer{Name: "sample", Kind: schedule.Result, DType: schedule.I32, Shape: []int64{1}, Bytes: 4})
	args, err := gumbel.Bind(kernels.Args{"x": schedule.T(arenaBuf, 0), "n": schedule.I(0), "params": schedule.T(params, 0), "out": schedule.T(out, 0)})
	if err != nil {
		return err
	}
	gg, gl := l.target.grid(gumbel, [3]int{})
	l.s.Gumbel = schedule.Gumbel{Launch: schedule.Launch{Kernel: l.kernel(gumbel.Instance()), Global: gg, Local: gl, Args: args, Node: "sample"},
		Row: gumbel.Index("x"), Count: gumbel.Index("n"), Params: params, Out: out}
	return nil
}
