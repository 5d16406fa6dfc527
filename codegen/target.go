package codegen

import (
	"fmt"

	"github.com/irc-compiler/irc/codegen/kernels"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// Target describes what the lowering may specialise per backend: launch
// sizes, the kernel variant per op and memory alignment. The sizes reach
// the kernel sources through the generated header (Sizes), so the grids
// the lowering computes and the loops the kernels run agree by
// construction.
type Target struct {
	// WorkGroup is the items per work group of the row kernels (norms,
	// softmax, GEMV, argmax) and of the element-wise ones; a power of two
	// (the row reductions halve it).
	WorkGroup int
	// Tile is the edge of the tiled GEMM's square work groups.
	Tile int
	// MatmulGroup is grouped_matmul's work-group size along its columns.
	MatmulGroup int
	// MatvecRows is the largest row count a linear lowers to the GEMV
	// kernel rather than a GEMM.
	MatvecRows int64
	// GEMM is the kernel a linear of more rows lowers to: LinearGEMM,
	// LinearGEMMBlocked, or LinearGEMMTensorCore (its blocked twin where
	// the dtype has no tensor-core instance).
	GEMM *kernels.Kernel
	// The blocked GEMMs' tiling: GemmBM x GemmBN output blocks, GemmBK
	// deep, a GemmTM x GemmTN micro-tile per item of the portable twin.
	GemmBM, GemmBN, GemmBK, GemmTM, GemmTN int
	// AttentionSplits is how many work groups share one query row's keys
	// in decode attention (flash-decoding's splits); a chunk of M rows
	// uses ceil(AttentionSplits / M).
	AttentionSplits int
	// CPUAttentionSplits is AttentionSplits for a CPU device, whose few
	// cores want few, long splits (each split rotates its query rows).
	CPUAttentionSplits int
	// Align is the byte alignment of every arena slot (vector loads).
	Align int64
	// GemvLanes is the items of the GPU-shaped GEMV that share one
	// output (a subgroup where the device has one that size): a power of
	// two dividing WorkGroup.
	GemvLanes int
	// CPU says the backend's devices may be CPUs: launches of kernels
	// with a CPU-shaped twin (the GEMV) carry it as their CPU
	// alternative (schedule.Launch.CPU), which the executor makes on a
	// CPU device. CPUGroup is the work-group size of those kernels,
	// GemvItemRows the weight rows one item of the CPU GEMV owns (even:
	// with glu, half are gate rows), GemvPrefetch how many bytes ahead
	// it prefetches each row, and CPUTileM x CPUTileN the output tile
	// one item of the CPU GEMM keeps in registers.
	CPU                                  bool
	CPUGroup, GemvItemRows, GemvPrefetch int
	CPUTileM, CPUTileN                   int
}

// Portable is the target of the shared templates as written: sizes every
// backend runs, tuned for none.
var Portable = Target{WorkGroup: 64, Tile: 16, MatmulGroup: 32, MatvecRows: 1, GEMM: kernels.LinearGEMM,
	GemmBM: 64, GemmBN: 64, GemmBK: 16, GemmTM: 8, GemmTN: 4, AttentionSplits: 16, CPUAttentionSplits: 4, Align: 256,
	GemvLanes: 32, CPU: true, CPUGroup: 8, GemvItemRows: 8, GemvPrefetch: 16384, CPUTileM: 3, CPUTileN: 3}

// Twin is t with every backend-only kernel variant replaced by its
// portable twin (same parameters and tiling): what the conformance harness
// runs on a device of another backend to check the variant's tiling.
func (t Target) Twin() Target {
	if t.GEMM.Twin != nil {
		t.GEMM = t.GEMM.Twin
	}
	return t
}

// check refuses sizes the kernels cannot run with.
func (t Target) check() error {
	pow2 := func(n int) bool { return n > 0 && n&(n-1) == 0 }
	switch {
	case !pow2(t.WorkGroup):
		return fmt.Errorf("target: work-group size %d is not a power of two", t.WorkGroup)
	case t.WorkGroup > schedule.TopKParts:
		// topk_part's grid is TopKParts items in groups of WorkGroup.
		return fmt.Errorf("target: work-group size %d is over the %d items of top-k's first launch", t.WorkGroup, schedule.TopKParts)
	case !pow2(t.GemvLanes) || t.GemvLanes > t.WorkGroup:
		return fmt.Errorf("target: %d GEMV lanes is not a power of two up to the work-group size %d", t.GemvLanes, t.WorkGroup)
	case t.AttentionSplits < 1 || (t.CPU && t.CPUAttentionSplits < 1):
		return fmt.Errorf("target: %d attention splits (%d on a CPU), want at least 1", t.AttentionSplits, t.CPUAttentionSplits)
	case t.CPU && (t.CPUGroup < 1 || t.GemvItemRows < 2 || t.GemvItemRows%2 != 0 || t.GemvPrefetch < 0 || t.CPUTileM < 1 || t.CPUTileN < 1):
		return fmt.Errorf("target: CPU group %d, %d GEMV rows per item (want an even number), prefetch %d, GEMM tile %dx%d",
			t.CPUGroup, t.GemvItemRows, t.GemvPrefetch, t.CPUTileM, t.CPUTileN)
	}
	return nil
}

// gemmThreads is the items of a blocked GEMM's group.
func (t Target) gemmThreads() int { return (t.GemmBM / t.GemmTM) * (t.GemmBN / t.GemmTN) }

// Sizes are the target's sizes as the kernel sources name them.
func (t Target) Sizes() []kernels.Const {
	return []kernels.Const{{Name: "WG", Value: int64(t.WorkGroup)}, {Name: "TS", Value: int64(t.Tile)},
		{Name: "GEMM_BM", Value: int64(t.GemmBM)}, {Name: "GEMM_BN", Value: int64(t.GemmBN)}, {Name: "GEMM_BK", Value: int64(t.GemmBK)},
		{Name: "GEMM_TM", Value: int64(t.GemmTM)}, {Name: "GEMM_TN", Value: int64(t.GemmTN)}, {Name: "GEMM_THREADS", Value: int64(t.gemmThreads())},
		{Name: "GEMV_LANES", Value: int64(t.GemvLanes)}, {Name: "GEMV_ITEM_ROWS", Value: int64(t.GemvItemRows)}, {Name: "GEMV_PREFETCH", Value: int64(t.GemvPrefetch)},
		{Name: "GEMM_CPU_TM", Value: int64(t.CPUTileM)}, {Name: "GEMM_CPU_TN", Value: int64(t.CPUTileN)}}
}

// grid is the launch shape of kernel k over extent (items, rows or
// output columns/rows/heads, by k's rule): global items and group sizes.
func (t Target) grid(k *kernels.Kernel, extent [3]int) (global, local [3]int) {
	switch k.Grid {
	case kernels.PerRow:
		global, local = [3]int{extent[0] * t.WorkGroup, extent[1], extent[2]}, [3]int{t.WorkGroup}
	case kernels.PerTile:
		global, local = extent, [3]int{t.Tile, t.Tile}
	case kernels.PerOutput3D:
		global, local = extent, [3]int{t.MatmulGroup}
	case kernels.OneGroup:
		global, local = [3]int{t.WorkGroup}, [3]int{t.WorkGroup}
	case kernels.PerBlock:
		blocks := func(n, b int) int { return (n + b - 1) / b }
		global, local = [3]int{blocks(extent[0], t.GemmBN) * t.gemmThreads(), blocks(extent[1], t.GemmBM)}, [3]int{t.gemmThreads()}
	case kernels.PerRowSlice:
		perGroup := t.WorkGroup / t.GemvLanes
		global, local = [3]int{(extent[0] + perGroup - 1) / perGroup * t.WorkGroup, extent[1], extent[2]}, [3]int{t.WorkGroup}
	case kernels.PerItemRows:
		global, local = [3]int{(extent[0] + t.GemvItemRows - 1) / t.GemvItemRows, extent[1], extent[2]}, [3]int{t.CPUGroup}
	case kernels.PerItemTile:
		tiles := func(n, t int) int { return (n + t - 1) / t }
		global, local = [3]int{tiles(extent[1], t.CPUTileM), tiles(extent[0], t.CPUTileN)}, [3]int{t.CPUGroup}
	case kernels.PerItemAlone:
		global, local = extent, [3]int{1, 1, 1}
	default: // PerItem
		global, local = extent, [3]int{t.WorkGroup}
	}
	for i := range global {
		local[i] = max(local[i], 1)
		global[i] = int(alignUp(int64(max(global[i], 1)), int64(local[i])))
	}
	return global, local
}
