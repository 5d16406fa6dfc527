// Package kernels holds the kernel templates every GPU backend shares,
// written once in a portable C dialect (common.c.in, sample.c.in; typed.c.in, linear.c.in and
// attention.c.in per dtype; cast.c.in),
// the table of their calling convention (signature.go), and instantiates
// them for the element types a schedule uses. A backend supplies only a
// prelude that maps the dialect's macros (KERNEL, GLOBAL, LOCAL, GID,
// BARRIER, storage types) onto its language and a Style that spells
// parameters.
package kernels

import (
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/runtime/schedule"
)

//go:embed common.c.in
var common string

//go:embed sample.c.in
var sample string

//go:embed typed.c.in
var typed string

//go:embed linear.c.in
var linear string

//go:embed attention.c.in
var attention string

// typedTemplates are the templates instantiated once per dtype, in order.
var typedTemplates = typed + linear + attention

//go:embed cast.c.in
var cast string

// Set is what a schedule needs instantiated.
type Set struct {
	DTypes []schedule.DType    // typed templates, one block per dtype
	Casts  [][2]schedule.DType // cast kernels, from and to
	// Mixed are the (float dtype, weight dtype) pairs of the linear
	// kernels and embedding_mixed whose weight is stored in another type
	// (quantized, or another float type): linear.c.in, one block per pair.
	Mixed [][2]schedule.DType
}

// Typed returns body instantiated for dtype d: T, LD, ST, TYPED(name),
// ACC and IS_FLOAT defined around it, and for float types VW, the
// elements in 16 bytes, LDV, the load of VW of them into a float array
// (ldv_*), and LD8V, the load of 8 as a vf8_t (ld8v_*, the prelude's). Backends instantiate their own
// variants (CUDA's tensor-core GEMM) with it.
func Typed(d schedule.DType, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n/* ---- %s ---- */\n", d)
	elementDefs(&b, d, string(d))
	b.WriteString("#define IS_QUANT 0\n#define IS_MIXED 0\n#define WT T\n#define WROW(n, K) ((n) * (K))\n#define WLD LD\n#define WLDV LDV\n#define WLD8V LD8V\n")
	return closeTyped(&b, d, body)
}

// elementDefs writes the defines of element type d that Typed and
// TypedMixed share, TYPED(name) being name_suffix.
func elementDefs(b *strings.Builder, d schedule.DType, suffix string) {
	fmt.Fprintf(b, "#define T %s_t\n#define LD ld_%s\n#define ST st_%s\n#define TYPED(name) name##_%s\n", d, d, d, suffix)
	if d == schedule.I32 {
		b.WriteString("#define ACC int\n#define IS_FLOAT 0\n")
	} else {
		fmt.Fprintf(b, "#define ACC float\n#define IS_FLOAT 1\n#define VW %d\n#define LDV ldv_%s\n#define LD8V ld8v_%s\n", 16/d.Size(), d, d)
	}
}

// closeTyped writes body and undefines what the instance defined.
func closeTyped(b *strings.Builder, d schedule.DType, body string) string {
	b.WriteString(body)
	b.WriteString(typedUndefs)
	if d != schedule.I32 {
		b.WriteString("#undef VW\n#undef LDV\n#undef LD8V\n")
	}
	return b.String()
}

const typedUndefs = "#undef T\n#undef LD\n#undef ST\n#undef TYPED\n#undef ACC\n#undef IS_FLOAT\n" +
	"#undef IS_QUANT\n#undef IS_MIXED\n#undef WT\n#undef WROW\n#undef WLD\n#undef WLDV\n#undef WLD8V\n#undef WQ8\n"

// TypedMixed returns body (linear.c.in) instantiated for float dtype d
// with a weight stored in another dtype w: as Typed, but the weight is
// read through w's loads, and TYPED(name) is name_d_w. A quantized w is
// bytes (WT uchar) read through its dequantizing loads (common.c.in's
// ldq_*, ldqv_*, ld8q_*); a float w through its own element loads (its
// 16-byte ldv_* holds another count than d's VW: ldnv_* instead).
func TypedMixed(d, w schedule.DType, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n/* ---- %s, %s weights ---- */\n", d, w)
	elementDefs(&b, d, string(d)+"_"+string(w))
	b.WriteString("#define IS_MIXED 1\n")
	if w.Quantized() {
		fmt.Fprintf(&b, "#define IS_QUANT 1\n#define WT uchar\n#define WROW(n, K) ((n) * ((K) / QUANT_BLOCK * %d))\n", w.BlockBytes())
		fmt.Fprintf(&b, "#define WLD ldq_%s\n#define WLDV(p, k, v) ldqv_%s(p, k, VW, v)\n#define WLD8V ld8q_%s\n#define WQ8 q8_%s\n", w, w, w, w)
	} else {
		fmt.Fprintf(&b, "#define IS_QUANT 0\n#define WT %s_t\n#define WROW(n, K) ((n) * (K))\n", w)
		fmt.Fprintf(&b, "#define WLD ld_%s\n#define WLDV(p, k, v) ldnv_%s(p, k, VW, v)\n#define WLD8V ld8v_%s\n", w, w, w)
	}
	return closeTyped(&b, d, body)
}

// Source returns the whole program: the backend's prelude, the header of
// sizes, constants and signatures in the backend's style, the shared
// templates, one typed block per dtype and the cast kernels, in a fixed
// order so that equal sets give byte-identical source.
func Source(prelude string, style Style, sizes []Const, set Set) string {
	common, sample, typedTemplates, linear, cast := common, sample, typedTemplates, linear, cast
	if _, ok := style.(Packer); ok {
		common, sample, typedTemplates, linear, cast = unpacking(common), unpacking(sample), unpacking(typedTemplates), unpacking(linear), unpacking(cast)
	}
	var b strings.Builder
	b.WriteString("/* Code generated by irc; DO NOT EDIT. */\n\n")
	b.WriteString(prelude)
	b.WriteString("\n")
	b.WriteString(Header(style, sizes))
	b.WriteString("\n")
	b.WriteString(common)
	b.WriteString(sample)
	for _, d := range set.DTypes {
		b.WriteString(Typed(d, typedTemplates))
	}
	for _, p := range set.Mixed {
		b.WriteString(TypedMixed(p[0], p[1], linear))
	}
	for _, c := range set.Casts {
		fmt.Fprintf(&b, "\n/* ---- %s -> %s ---- */\n", c[0], c[1])
		fmt.Fprintf(&b, "#define SRC_T %s_t\n#define DST_T %s_t\n#define LD_SRC ld_%s\n#define ST_DST st_%s\n#define CAST_NAME %s\n",
			c[0], c[1], c[0], c[1], Cast.Instance(c[0], c[1]))
		b.WriteString(cast)
		b.WriteString("#undef SRC_T\n#undef DST_T\n#undef LD_SRC\n#undef ST_DST\n#undef CAST_NAME\n")
	}
	return b.String()
}

// kernelOpening is how every template opens a kernel body (the test
// TestTemplatesDefineTheTable holds them to it).
var kernelOpening = regexp.MustCompile(`(?m)(\(PARAMS\((\w+)\)\) \{)$`)

// unpacking puts UNPACK(kernel) at the top of every kernel body in src,
// for a Packer style: the kernel's scalars become locals of their
// parameters' names. Other styles' programs never contain it.
func unpacking(src string) string {
	return kernelOpening.ReplaceAllString(src, "$1 UNPACK($2)")
}

// Instances lists the kernel functions Source defines for set, in source
// order: a backend that must name every entry point itself (the Metal
// test shim's table) reads them here rather than parsing the program. A
// kernel is instantiated per dtype by its Inst (FloatTypes for float
// dtypes only), per weight pair where one of its parameters is the weight
// (WT), per cast pair, or once; backend-only variants are left out.
func (s Set) Instances() []string {
	var out []string
	weighted := func(k *Kernel) bool {
		return slices.ContainsFunc(k.Params, func(p Param) bool { return p.Elem == "WT" })
	}
	for _, k := range Table {
		if k.Inst == Once && k.Backend == "" {
			out = append(out, k.Instance())
		}
	}
	for _, d := range s.DTypes {
		for _, k := range Table {
			if k.Backend == "" && (k.Inst == AllTypes || k.Inst == FloatTypes && d != schedule.I32) {
				out = append(out, k.Instance(d))
			}
		}
	}
	for _, p := range s.Mixed {
		for _, k := range Table {
			if k.Backend == "" && (k.Inst == WeightPairs || k.Inst == FloatTypes && weighted(k)) {
				out = append(out, k.Instance(p[0], p[1]))
			}
		}
	}
	for _, c := range s.Casts {
		out = append(out, Cast.Instance(c[0], c[1]))
	}
	return out
}
