package kernels

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// The kernel calling convention, written once: every kernel's parameters,
// the named constants its body compares against, and how its launch grid
// is shaped. The lowering binds arguments by parameter name, the tests
// read them by name, and each backend renders the C signatures and
// constants from this table (Signature, Header), so no number or argument
// position is written both in Go and in a kernel source.

// ParamKind is how a parameter is passed.
type ParamKind uint8

const (
	// TensorParam is a buffer and an element offset: two C parameters,
	// NAME_base and NAME_off.
	TensorParam ParamKind = iota
	// IntParam is a 32-bit signed integer.
	IntParam
	// FloatParam is a 32-bit float.
	FloatParam
)

// Param is one kernel parameter.
type Param struct {
	Name string
	Kind ParamKind
	// Elem is a tensor's element type as the templates spell it: T (the
	// instantiated type), SRC_T and DST_T (a cast's), float or int.
	Elem string
}

func tensor(name, elem string) Param { return Param{Name: name, Kind: TensorParam, Elem: elem} }
func ints(names ...string) []Param {
	out := make([]Param, len(names))
	for i, n := range names {
		out[i] = Param{Name: n, Kind: IntParam}
	}
	return out
}
func float(name string) Param { return Param{Name: name, Kind: FloatParam} }

// Grid is a kernel's launch-shape rule.
type Grid uint8

const (
	// PerItem: one work item per output element, in 1-D groups of the
	// target's work-group size.
	PerItem Grid = iota
	// PerRow: one work group of the target's work-group size per row.
	PerRow
	// PerTile: 2-D groups of Tile x Tile items over (columns, rows).
	PerTile
	// PerOutput3D: one item per element of a 3-D output (n, m, h), in
	// groups of the target's matmul group along n.
	PerOutput3D
	// OneGroup: a single work group.
	OneGroup
	// PerBlock: one 1-D group of the target's GEMM threads per
	// GEMM_BM x GEMM_BN block of the output (columns, rows).
	PerBlock
	// PerRowSlice: 1-D groups of the target's work-group size (WG), a
	// slice of GEMV_LANES items per output along dimension 0, so WG /
	// GEMV_LANES outputs per group; dimension 1 one group per index.
	PerRowSlice
	// PerItemRows: one work item per GEMV_ITEM_ROWS outputs along
	// dimension 0, in 1-D groups of the target's CPU group size;
	// dimension 1 one item per index.
	PerItemRows
	// PerItemAlone: one work item per index of the 3-D extent, each its
	// own work group (a CPU spreads the groups over its cores).
	PerItemAlone
	// PerItemTile: one work item per GEMM_CPU_TM x GEMM_CPU_TN tile of
	// the output (columns, rows), the row tiles of one column tile side by
	// side in groups of the target's CPU group size (so a group's items
	// share the weight rows they read).
	PerItemTile
)

// Instantiation says which instances of a template exist.
type Instantiation uint8

const (
	// FloatTypes: one per float dtype (f32, bf16, f16), named NAME_dtype.
	FloatTypes Instantiation = iota
	// AllTypes: one per dtype, i32 included.
	AllTypes
	// Casts: one per (from, to) pair, named cast_from_to.
	Casts
	// Once: the name as it is.
	Once
	// HalfTypes: one per 16-bit float dtype (bf16, f16).
	HalfTypes
	// WeightPairs: one per (float dtype, weight dtype) pair where the
	// weight is stored in another type (quantized, or another float
	// type), named NAME_dtype_wdtype. The linear kernels have these
	// instances too (their weight is WT), besides their FloatTypes ones.
	WeightPairs
)

// Kernel is one kernel template's calling convention.
type Kernel struct {
	Name   string
	Inst   Instantiation
	Grid   Grid
	Params []Param
	// Backend names the one backend whose source defines the kernel (a
	// variant only it can run, such as CUDA's tensor cores); "" for the
	// shared templates.
	Backend string
	// Twin is a backend kernel's portable twin: a shared template with
	// the same parameters and tiling, which runs where the variant cannot
	// (other backends, dtypes it has no instance for, the harness on PoCL).
	Twin *Kernel
}

// The kernel table, in the order the templates define them.
var (
	Embedding = &Kernel{Name: "embedding", Grid: PerItem,
		Params: append([]Param{tensor("table", "T"), tensor("ids", "int"), tensor("out", "T")}, ints("rows", "dim", "vocab")...)}
	// EmbeddingMixed is embedding of a table stored in another type
	// than its result (q8_0, q4_0, or another float type), each element
	// converted as it is read; one instance per (output dtype, table
	// dtype).
	EmbeddingMixed = &Kernel{Name: "embedding_mixed", Inst: WeightPairs, Grid: PerItem,
		Params: append([]Param{tensor("table", "WT"), tensor("ids", "int"), tensor("out", "T")}, ints("rows", "dim", "vocab")...)}
	RMSNorm = &Kernel{Name: "rms_norm", Grid: PerRow,
		Params: []Param{tensor("x", "T"), tensor("w", "T"), tensor("out", "T"), {Name: "dim", Kind: IntParam}, float("eps"), {Name: "has_weight", Kind: IntParam}}}
	// LinearGEMV is linear for a few rows (decode), with every fused
	// prologue and epilogue: flags say which (LINEAR_*); nw is the norm
	// weight; N counts outputs (with LINEAR_GLU the weight has 2N rows).
	// Shaped for a GPU: a slice of GEMV_LANES items (a subgroup where the
	// device has them) per output, several outputs per work group.
	LinearGEMV = &Kernel{Name: "linear_gemv", Grid: PerRowSlice, Params: gemvParams}
	// LinearGEMVRows is LinearGEMV shaped for a CPU: one work item owns
	// GEMV_ITEM_ROWS whole outputs and walks K once for all of them with
	// wide loads, prefetching GEMV_PREFETCH bytes ahead. A schedule
	// carries it as the CPU alternative of a LinearGEMV launch.
	LinearGEMVRows = &Kernel{Name: "linear_gemv_rows", Grid: PerItemRows, Params: gemvParams}
	LinearGEMM     = &Kernel{Name: "linear_gemm", Grid: PerTile, Params: linearParams}
	// LinearGEMMTiles is the GEMM shaped for a CPU: one work item keeps a
	// GEMM_CPU_TM x GEMM_CPU_TN output tile in vector registers and walks
	// K once; a schedule carries it as the CPU alternative of a GEMM.
	LinearGEMMTiles = &Kernel{Name: "linear_gemm_tiles", Grid: PerItemTile, Params: linearParams}
	// LinearGEMMBlocked is the GEMM tiled as the tensor-core one is
	// (GEMM_BM x GEMM_BN blocks, GEMM_BK deep, a GEMM_TM x GEMM_TN
	// micro-tile per item): its portable twin, which every backend runs.
	LinearGEMMBlocked = &Kernel{Name: "linear_gemm_blocked", Grid: PerBlock, Params: linearParams}
	// LinearGEMMTensorCore is the blocked GEMM on CUDA's tensor cores
	// (wmma, 16-bit inputs, f32 accumulation): codegen/cuda/gemm_tc.cuh.
	LinearGEMMTensorCore = &Kernel{Name: "linear_gemm_tc", Inst: HalfTypes, Grid: PerBlock, Params: linearParams, Backend: "cuda", Twin: LinearGEMMBlocked}
	SiLUMul              = &Kernel{Name: "silu_mul", Grid: PerItem,
		Params: append([]Param{tensor("gate", "T"), tensor("up", "T"), tensor("out", "T")}, ints("n")...)}
	CausalSoftmax = &Kernel{Name: "causal_softmax", Grid: PerRow,
		Params: append([]Param{tensor("x", "T"), tensor("pos", "int"), tensor("out", "T")}, append(ints("rows", "cols"), float("scale"))...)}
	GroupedMatmul = &Kernel{Name: "grouped_matmul", Grid: PerOutput3D,
		Params: append([]Param{tensor("a", "T"), tensor("b", "T"), tensor("out", "T"), tensor("pos", "int")},
			ints("bound", "H", "G", "M", "K", "N", "sa0", "sa1", "sa2", "sb0", "sb1", "sb2", "so0", "so1", "so2")...)}
	Rope = &Kernel{Name: "rope", Grid: PerItem,
		Params: append([]Param{tensor("x", "T"), tensor("pos", "int"), tensor("inv_freq", "float"), tensor("out", "T")},
			ints("H", "Tn", "D", "pairs", "sx0", "sx1", "sx2")...)}
	CacheWrite = &Kernel{Name: "cache_write", Grid: PerItem,
		Params: append([]Param{tensor("cache", "T"), tensor("x", "T"), tensor("pos", "int")},
			ints("G", "L", "D", "count", "sx0", "sx1", "sx2")...)}
	// AttentionSplit and AttentionCombine are the attention op: per split
	// of each row's keys the partial softmax (maxima, sums, outputs in f32
	// scratch), then their merge (attention.c.in). written = 1 says the
	// step's new rows are in the caches already (a prefill chunk's are
	// written by launches before); 0 that the kernel rotates and writes
	// them itself (a decode step's one row).
	AttentionSplit = &Kernel{Name: "attention_split", Grid: PerRow,
		Params: append([]Param{tensor("q", "T"), tensor("k", "T"), tensor("v", "T"), tensor("k_cache", "T"), tensor("v_cache", "T"),
			tensor("pos", "int"), tensor("start", "int"), tensor("inv_freq", "float"),
			tensor("part_max", "float"), tensor("part_sum", "float"), tensor("part_out", "float")},
			append(ints("H", "G", "M", "L", "D", "splits", "written", "sq0", "sq1", "sq2", "sk0", "sk1", "sk2", "sv0", "sv1", "sv2"), float("scale"))...)}
	// AttentionSplitRows is AttentionSplit shaped for a CPU: one work
	// item per split, the head dimension in vf8 vectors.
	AttentionSplitRows = &Kernel{Name: "attention_split_rows", Grid: PerItemAlone, Params: AttentionSplit.Params}
	AttentionCombine   = &Kernel{Name: "attention_combine", Grid: PerItem,
		Params: append([]Param{tensor("part_max", "float"), tensor("part_sum", "float"), tensor("part_out", "float"), tensor("out", "T")},
			ints("M", "H", "D", "splits")...)}
	Unary = &Kernel{Name: "unary", Grid: PerItem,
		Params: append([]Param{tensor("x", "T"), tensor("out", "T"), {Name: "op", Kind: IntParam}, float("p")},
			ints("n", "d1", "d2", "d3", "s0", "s1", "s2", "s3")...)}
	Binary = &Kernel{Name: "binary", Inst: AllTypes, Grid: PerItem,
		Params: append([]Param{tensor("a", "T"), tensor("b", "T"), tensor("out", "T")},
			ints("op", "n", "d1", "d2", "d3", "sa0", "sa1", "sa2", "sa3", "sb0", "sb1", "sb2", "sb3")...)}
	Copy = &Kernel{Name: "copy", Inst: AllTypes, Grid: PerItem,
		Params: append([]Param{tensor("x", "T"), tensor("out", "T")}, ints("n", "d1", "d2", "d3", "s0", "s1", "s2", "s3")...)}
	Cast = &Kernel{Name: "cast", Inst: Casts, Grid: PerItem,
		Params: append([]Param{tensor("x", "SRC_T"), tensor("out", "DST_T")}, ints("n", "d1", "d2", "d3", "s0", "s1", "s2", "s3")...)}
	ArgmaxF32 = &Kernel{Name: "argmax_f32", Inst: Once, Grid: OneGroup,
		Params: []Param{tensor("x", "float"), {Name: "n", Kind: IntParam}, tensor("out", "int")}}
	// TopKPart and TopKMerge reduce a row of n floats to its k largest
	// (value, id) pairs (sample.c.in): parts (up to TOPK_PARTS) items
	// each keep the best k of a strided slice in scratch, then one group
	// merges them.
	TopKPart = &Kernel{Name: "topk_part", Inst: Once, Grid: PerItem,
		Params: []Param{tensor("x", "float"), {Name: "n", Kind: IntParam}, {Name: "k", Kind: IntParam}, {Name: "parts", Kind: IntParam}, tensor("part_vals", "float"), tensor("part_ids", "int")}}
	TopKMerge = &Kernel{Name: "topk_merge", Inst: Once, Grid: OneGroup,
		Params: []Param{tensor("part_vals", "float"), tensor("part_ids", "int"), {Name: "k", Kind: IntParam}, {Name: "parts", Kind: IntParam}, tensor("vals", "float"), tensor("ids", "int")}}
	// ArgmaxGumbel is sampling from softmax(x / temperature): the argmax
	// of x / temperature plus Gumbel noise hashed from (seed, step, id);
	// params holds seed low, seed high, step and the temperature's bits.
	ArgmaxGumbel = &Kernel{Name: "argmax_gumbel_f32", Inst: Once, Grid: OneGroup,
		Params: []Param{tensor("x", "float"), {Name: "n", Kind: IntParam}, tensor("params", "int"), tensor("out", "int")}}

	// The weight's element type is WT: T, or bytes for a quantized one.
	linearParams = append([]Param{tensor("x", "T"), tensor("w", "WT"), tensor("bias", "T"), tensor("res", "T"), tensor("out", "T")},
		ints("M", "N", "K", "flags")...)
	gemvParams = append([]Param{tensor("x", "T"), tensor("w", "WT"), tensor("bias", "T"), tensor("res", "T"), tensor("nw", "T"), tensor("out", "T")},
		append(ints("M", "N", "K", "flags"), float("eps"))...)
)

// Table lists every kernel template.
var Table = []*Kernel{Embedding, EmbeddingMixed, RMSNorm, LinearGEMV, LinearGEMVRows, LinearGEMM, LinearGEMMTiles, LinearGEMMBlocked, LinearGEMMTensorCore, SiLUMul, CausalSoftmax, GroupedMatmul, Rope, CacheWrite, AttentionSplit, AttentionSplitRows, AttentionCombine, Unary, Binary, Copy, Cast, ArgmaxF32, TopKPart, TopKMerge, ArgmaxGumbel}

// Const is a named value a kernel body compares an argument against.
type Const struct {
	Name  string
	Value int64
	// Op is the IR op an op code stands for.
	Op string
}

// The constants, rendered into every program's header.
var (
	// UnaryOps are the codes of Unary's op argument.
	UnaryOps = []Const{{"OP_NEG", 1, "neg"}, {"OP_SQRT", 2, "sqrt"}, {"OP_RSQRT", 3, "rsqrt"}, {"OP_EXP", 4, "exp"},
		{"OP_SIGMOID", 5, "sigmoid"}, {"OP_SILU", 6, "silu"}, {"OP_COS", 7, "cos"}, {"OP_SIN", 8, "sin"}, {"OP_POW", 9, "pow"}}
	// BinaryOps are the codes of Binary's op argument.
	BinaryOps = []Const{{"OP_ADD", 0, "add"}, {"OP_SUB", 1, "sub"}, {"OP_MUL", 2, "mul"}, {"OP_DIV", 3, "div"}}
	// LinearBias and LinearResidual are the bits of the linear kernels'
	// flags argument: which epilogue operands they read.
	LinearBias     = Const{Name: "LINEAR_BIAS", Value: 1}
	LinearResidual = Const{Name: "LINEAR_RESIDUAL", Value: 2}
	// LinearNorm (the RMSNorm prologue, weight nw) and LinearGLU (the
	// SwiGLU epilogue over the weight's halves) are GEMV flags only.
	LinearNorm = Const{Name: "LINEAR_NORM", Value: 4}
	LinearGLU  = Const{Name: "LINEAR_GLU", Value: 8}
	// LinearAligned (GEMV only) says that the lowering checked that
	// every row of x, w and nw starts on a 16-byte boundary (offsets and
	// K; buffer bases are at least 16-byte aligned: OpenCL's
	// CL_DEVICE_MEM_BASE_ADDR_ALIGN is 128 bytes or more, CUDA's
	// allocations 256): the kernels may read them with 16-byte vector
	// loads (LDV). Without it they read element by element.
	LinearAligned = Const{Name: "LINEAR_ALIGNED", Value: 16}
	// The values of GroupedMatmul's bound argument (the IR attribute
	// causal_bound): none, skip columns past pos[m], or stop the sum there.
	BoundNone      = Const{Name: "BOUND_NONE", Value: 0}
	BoundColumns   = Const{Name: "BOUND_COLUMNS", Value: 1, Op: ir.CausalColumns}
	BoundReduction = Const{Name: "BOUND_REDUCTION", Value: 2, Op: ir.CausalReduction}
	// AttentionHeads and AttentionDim bound what one attention_split group
	// holds in local memory: query heads per group (more are split across
	// groups) and the head dimension (larger ones have no kernel).
	AttentionHeads = Const{Name: "ATT_HEADS", Value: 8}
	AttentionDim   = Const{Name: "ATT_DIM", Value: 256}
	// QuantBlock is the weights in one block of a quantized type (q8_0,
	// q4_0: ggml's blocks).
	QuantBlock = Const{Name: "QUANT_BLOCK", Value: schedule.QuantBlock}
	// AttentionCPUTile is the keys attention_split_rows scores at a time.
	AttentionCPUTile = Const{Name: "ATT_CPU_TILE", Value: 16}
	// MaxTopK is the most candidates top-k returns (each TopKPart item
	// keeps that many privately), TopKParts the most items TopKPart has.
	MaxTopK   = Const{Name: "TOPK_MAX", Value: schedule.MaxTopK}
	TopKParts = Const{Name: "TOPK_PARTS", Value: schedule.TopKParts}
	GumbelMin = Const{Name: "GUMBEL_MIN", Value: schedule.GumbelMin}
	GumbelMax = Const{Name: "GUMBEL_MAX", Value: schedule.GumbelMax}
)

// Consts lists every named constant.
func Consts() []Const {
	out := slices.Concat(UnaryOps, BinaryOps)
	return append(out, LinearBias, LinearResidual, LinearNorm, LinearGLU, LinearAligned, BoundNone, BoundColumns, BoundReduction, AttentionHeads, AttentionDim, AttentionCPUTile, QuantBlock, MaxTopK, TopKParts, GumbelMin, GumbelMax)
}

// Code is the constant standing for IR op (or attribute value) op in table.
func Code(table []Const, op string) (int64, bool) {
	for _, c := range table {
		if c.Op == op {
			return c.Value, true
		}
	}
	return 0, false
}

// Instance is a kernel's function name for dtype d (a cast's: from, to;
// a mixed instance's: the float dtype, then the weight's).
func (k *Kernel) Instance(d ...schedule.DType) string {
	switch k.Inst {
	case Once:
		return k.Name
	case Casts:
		return k.Name + "_" + string(d[0]) + "_" + string(d[1])
	}
	if len(d) == 2 && d[1] != d[0] {
		return k.Name + "_" + string(d[0]) + "_" + string(d[1])
	}
	return k.Name + "_" + string(d[0])
}

// Args are a launch's arguments by parameter name.
type Args map[string]schedule.Arg

// Bind orders args as k's parameters, checking that each parameter gets
// exactly one argument of its kind.
func (k *Kernel) Bind(args Args) ([]schedule.Arg, error) {
	if len(args) != len(k.Params) {
		var extra []string
		for name := range args {
			if k.Index(name) < 0 {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		if len(extra) > 0 {
			return nil, fmt.Errorf("kernel %s has no parameters %s", k.Name, strings.Join(extra, ", "))
		}
	}
	out := make([]schedule.Arg, len(k.Params))
	for i, p := range k.Params {
		a, ok := args[p.Name]
		if !ok {
			return nil, fmt.Errorf("kernel %s: no argument for parameter %s", k.Name, p.Name)
		}
		if want := argKind(p.Kind); a.Kind != want {
			return nil, fmt.Errorf("kernel %s: parameter %s takes a %s, got a %s", k.Name, p.Name, kindName(want), kindName(a.Kind))
		}
		out[i] = a
	}
	return out, nil
}

// Index is the position of parameter name among k's arguments (a tensor
// counts once), or -1.
func (k *Kernel) Index(name string) int {
	return slices.IndexFunc(k.Params, func(p Param) bool { return p.Name == name })
}

func argKind(p ParamKind) schedule.ArgKind {
	switch p {
	case IntParam:
		return schedule.IntArg
	case FloatParam:
		return schedule.FloatArg
	}
	return schedule.TensorArg
}

func kindName(k schedule.ArgKind) string {
	return [...]string{schedule.TensorArg: "tensor", schedule.IntArg: "int", schedule.FloatArg: "float"}[k]
}

// Style is how a backend's C dialect spells parameters.
type Style interface {
	// Param spells one C parameter of type ctype (a pointer's element type
	// for a buffer) at C parameter position slot; buffer tells a pointer
	// from a scalar.
	Param(ctype, name string, buffer bool, slot int) string
	// IndexParams are the thread-index parameters after the others
	// (Metal's attributes), or "".
	IndexParams() string
}

// Packer is a Style that passes a kernel's scalars (its ints, floats and
// tensor offsets, in parameter order) in one struct instead of one
// parameter each: Metal binds every kernel parameter to one of 31 buffer
// slots, fewer than attention_split's 39 C parameters. The header then
// defines the struct (ScalarStruct) and an UNPACK_<kernel> macro that
// declares each scalar as a local of its parameter's name, which Source
// places at the top of every kernel body, so the templates read the same
// names in every dialect.
type Packer interface {
	Style
	// Pack spells the struct parameter, of struct type typ, named name,
	// at slot (after the buffers, which Param numbers from 0).
	Pack(typ, name string, slot int) string
}

// PackedName is the struct parameter's name in a packing style's
// kernels; ScalarStruct(k) is its type.
const PackedName = "irc_args"

// ScalarStruct is the struct type holding k's scalars in a Packer style.
func ScalarStruct(k *Kernel) string { return "irc_args_" + k.Name }

// cparam is one C parameter of a kernel.
type cparam struct {
	ctype, name string
	buffer      bool
}

// cparams lists k's C parameters in order: a tensor is its pointer, then
// its element offset.
func (k *Kernel) cparams() []cparam {
	var out []cparam
	for _, p := range k.Params {
		switch p.Kind {
		case TensorParam:
			out = append(out, cparam{p.Elem, p.Name + "_base", true}, cparam{"int", p.Name + "_off", false})
		case IntParam:
			out = append(out, cparam{"int", p.Name, false})
		case FloatParam:
			out = append(out, cparam{"float", p.Name, false})
		}
	}
	return out
}

// Signature renders k's C parameter list in style s.
func (k *Kernel) Signature(s Style) string {
	var parts []string
	slot := 0
	packer, packs := s.(Packer)
	for _, c := range k.cparams() {
		if packs && !c.buffer {
			continue
		}
		parts = append(parts, s.Param(c.ctype, c.name, c.buffer, slot))
		slot++
	}
	if packs {
		parts = append(parts, packer.Pack(ScalarStruct(k), PackedName, slot))
	}
	if ix := s.IndexParams(); ix != "" {
		parts = append(parts, ix)
	}
	return strings.Join(parts, ", ")
}

// Header renders what every program starts with after the backend's
// prelude: the target's sizes, the named constants, and one
// PARAMS_<kernel> macro per kernel holding its parameter list (the
// templates write KERNEL void NAME(PARAMS(kernel))).
func Header(s Style, sizes []Const) string {
	var b strings.Builder
	b.WriteString("/* The calling convention, generated from codegen/kernels/signature.go. */\n")
	for _, c := range slices.Concat(sizes, Consts()) {
		fmt.Fprintf(&b, "#define %s %d\n", c.Name, c.Value)
	}
	b.WriteString("#define PARAMS(kernel) PARAMS_##kernel\n")
	for _, k := range Table {
		fmt.Fprintf(&b, "#define PARAMS_%s %s\n", k.Name, k.Signature(s))
	}
	if _, ok := s.(Packer); ok {
		b.WriteString("#define UNPACK(kernel) UNPACK_##kernel\n")
		for _, k := range Table {
			var fields, locals []string
			for _, c := range k.cparams() {
				if !c.buffer {
					fields = append(fields, fmt.Sprintf("%s %s;", c.ctype, c.name))
					locals = append(locals, fmt.Sprintf("%s %s = %s.%s;", c.ctype, c.name, PackedName, c.name))
				}
			}
			fmt.Fprintf(&b, "struct %s { %s };\n", ScalarStruct(k), strings.Join(fields, " "))
			fmt.Fprintf(&b, "#define UNPACK_%s %s\n", k.Name, strings.Join(locals, " "))
		}
	}
	return b.String()
}
