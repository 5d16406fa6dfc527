package codegen

import (
	"fmt"
	"maps"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// lowerAttention launches the attention op as attention_split over
// ceil(AttentionSplits / M) splits of each row's keys, with the partial
// maxima, sums and outputs in f32 scratch, then attention_combine; on a
// CPU, attention_split_rows over ceil(CPUAttentionSplits / M) splits and
// the combine of as many.
func (gl *graphLowering) lowerAttention(n *ir.Node) error {
	out := n.Outputs[0]
	q, k, v, kCache, vCache := n.Inputs[0], n.Inputs[1], n.Inputs[2], n.Inputs[3], n.Inputs[4]
	H, M, D := q.Type.Shape[0], q.Type.Shape[1], q.Type.Shape[2]
	G, L := kCache.Type.Shape[0], kCache.Type.Shape[1]
	if D > kernels.AttentionDim.Value {
		return fmt.Errorf("head dim %d: the attention kernel holds at most %d", D, kernels.AttentionDim.Value)
	}
	splitsFor := func(n int) int64 { return int64(max(1, (n+int(M)-1)/int(M))) }
	splits, cpuSplits := splitsFor(gl.target.AttentionSplits), splitsFor(gl.target.CPUAttentionSplits)
	if !gl.target.CPU || D%8 != 0 {
		cpuSplits = splits // the CPU runs the GPU shape: same partials
	}
	chunks := (H/G + kernels.AttentionHeads.Value - 1) / kernels.AttentionHeads.Value
	freqs := n.Attrs.Floats("inv_freq")
	f32 := make([]float32, len(freqs))
	for i, f := range freqs {
		f32[i] = float32(f)
	}
	fb := gl.constant("rope.inv_freq", schedule.F32, []int64{int64(len(f32))}, schedule.Encode(schedule.F32, f32))
	most := max(splits, cpuSplits)
	partMax, partSum := gl.scratch("max", schedule.F32, M*H*most), gl.scratch("sum", schedule.F32, M*H*most)
	partOut := gl.scratch("out", schedule.F32, M*H*most*D)
	args := kernels.Args{"inv_freq": schedule.T(fb, 0), "part_max": partMax, "part_sum": partSum, "part_out": partOut,
		"H": intArg(H), "G": intArg(G), "M": intArg(M), "L": intArg(L), "D": intArg(D), "splits": intArg(splits),
		"written": intArg(0), "scale": floatArg(n.Attrs.Float("scale", 1))}
	for _, o := range []struct {
		prefix string
		v      *ir.Value
	}{{"q", q}, {"k", k}, {"v", v}} {
		a, t, err := gl.arg(o.v)
		if err != nil {
			return err
		}
		args[o.prefix] = a
		for i, s := range t.Strides {
			args[fmt.Sprintf("s%s%d", o.prefix, i)] = intArg(s)
		}
	}
	if err := gl.bindDense(args, operand{"k_cache", kCache}, operand{"v_cache", vCache}, operand{"pos", n.Inputs[5]}, operand{"start", n.Inputs[6]}); err != nil {
		return err
	}
	if M > 1 {
		// A chunk's rows are rotated and written before the launch: its
		// groups would otherwise each rotate every new key they read.
		if err := gl.writeRows(n, args, fb); err != nil {
			return err
		}
		args["written"] = intArg(1)
	}
	extent := [3]int{int(splits), int(M), int(G * chunks)}
	if err := gl.launchTyped(kernels.AttentionSplit, out, extent, args); err != nil {
		return err
	}
	if D%8 == 0 { // the CPU shape walks the head dimension 8 at a time
		cpu := maps.Clone(args)
		cpu["splits"] = intArg(cpuSplits)
		if err := gl.launchCPU(kernels.AttentionSplitRows, out, [3]int{int(cpuSplits), int(M), int(G * chunks)}, cpu); err != nil {
			return err
		}
	}
	combine := kernels.Args{"part_max": partMax, "part_sum": partSum, "part_out": partOut,
		"M": intArg(M), "H": intArg(H), "D": intArg(D), "splits": intArg(splits)}
	if err := gl.bindDense(combine, operand{"out", out}); err != nil {
		return err
	}
	if err := gl.launchTyped(kernels.AttentionCombine, out, [3]int{int(M * H * D)}, combine); err != nil {
		return err
	}
	if cpuSplits == splits {
		return nil
	}
	cpu := maps.Clone(combine) // the CPU shape's fewer splits
	cpu["splits"] = intArg(cpuSplits)
	return gl.launchCPU(kernels.AttentionCombine, out, [3]int{int(M * H * D)}, cpu)
}

// writeRows launches what the attention kernels skip when written = 1:
// the new k rows rotated (rope into scratch), then both cache writes, with
// the op's own operands (args holds them, bound by the attention kernel's
// parameter names).
func (gl *graphLowering) writeRows(n *ir.Node, args kernels.Args, freqs int) error {
	out := n.Outputs[0]
	k, kCache := n.Inputs[1], n.Inputs[3]
	d, err := dtypeOf(k)
	if err != nil {
		return err
	}
	G, M, D := k.Type.Shape[0], k.Type.Shape[1], k.Type.Shape[2]
	L := kCache.Type.Shape[1]
	rotated := gl.scratch("k_rotated", d, G*M*D)
	rope := kernels.Args{"x": args["k"], "pos": args["pos"], "inv_freq": schedule.T(freqs, 0), "out": rotated,
		"H": intArg(G), "Tn": intArg(M), "D": intArg(D), "pairs": intArg(D / 2), "sx0": args["sk0"], "sx1": args["sk1"], "sx2": args["sk2"]}
	if err := gl.launchTyped(kernels.Rope, out, [3]int{int(G * M * D / 2)}, rope); err != nil {
		return err
	}
	for _, w := range []struct {
		cache            string
		x, sx0, sx1, sx2 schedule.Arg
	}{{"k_cache", rotated, intArg(M * D), intArg(D), intArg(1)}, {"v_cache", args["v"], args["sv0"], args["sv1"], args["sv2"]}} {
		write := kernels.Args{"cache": args[w.cache], "x": w.x, "pos": args["start"], "G": intArg(G), "L": intArg(L), "D": intArg(D),
			"count": intArg(M), "sx0": w.sx0, "sx1": w.sx1, "sx2": w.sx2}
		if err := gl.launchTyped(kernels.CacheWrite, out, [3]int{int(G * M * D)}, write); err != nil {
			return err
		}
	}
	return nil
}
