// Package backendtest is the conformance harness every GPU backend runs:
// each kernel on random inputs and awkward shapes in f32, bf16 and f16
// against ref (in the spirit of ggml's test-backend-ops), the device's
// greedy argmax, and the tiny presets end to end. A backend enables it
// with one line in a test of its own:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, b, open) }
package backendtest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/ir"
)

// opCase is one kernel test, in the spirit of ggml's test-backend-ops: a
// graph (IR text, D standing for the float dtype under test) run on the
// device and by ref on the same random inputs. ints bounds the values of
// integer inputs by name (default 8).
type opCase struct {
	name string
	src  string
	ints map[string]int64
	// dtypes are the float dtypes D the case runs for (nil: every one).
	dtypes []ir.DType
}

var opCases = append([]opCase{
	{name: "rms_norm", src: `graph g(%x: D[5,67], %w: D[67]) {
  %y = rms_norm(%x, %w) {eps=1e-05} : D[5,67]
  return %y
}`},
	{name: "rms_norm_no_weight_tiny_rows", src: `graph g(%x: D[2,1,3]) {
  %y = rms_norm(%x) {eps=1e-06} : D[2,1,3]
  return %y
}`},
	{name: "linear_gemv_bias_residual", src: `graph g(%x: D[1,37], %w: D[45,37], %b: D[45], %r: D[1,45]) {
  %y = linear(%x, %w, %b, %r) {bias=1, residual=1} : D[1,45]
  return %y
}`},
	{name: "linear_gemv_long_k", src: `graph g(%x: D[1,300], %w: D[3,300]) {
  %y = linear(%x, %w) : D[1,3]
  return %y
}`},
	{name: "linear_gemv_norm_bias", src: `graph g(%x: D[1,37], %w: D[45,37], %b: D[45], %g: D[37]) {
  %y = linear(%x, %w, %b, %g) {bias=1, norm=1, eps=1e-05} : D[1,45]
  return %y
}`},
	{name: "linear_gemv_norm_glu", src: `graph g(%x: D[2,70], %w: D[58,70], %g: D[70]) {
  %y = linear(%x, %w, %g) {norm=1, eps=1e-06, glu=1} : D[2,29]
  return %y
}`},
	// The GEMV's vector paths: K rows of 16-byte multiples (a 2-VW step
	// with a VW tail where K % 16 = 8), odd N, x computed into the arena;
	// and the element-by-element fallback for an x view one element in.
	{name: "linear_gemv_aligned_bias_residual", src: `graph g(%x: D[1,264], %w: D[45,264], %b: D[45], %r: D[1,45]) {
  %h = add(%x, %x) : D[1,264]
  %y = linear(%h, %w, %b, %r) {bias=1, residual=1} : D[1,45]
  return %y
}`},
	{name: "linear_gemv_aligned_norm_glu", src: `graph g(%x: D[1,264], %w: D[58,264], %g: D[264]) {
  %y = linear(%x, %w, %g) {norm=1, eps=1e-06, glu=1} : D[1,29]
  return %y
}`},
	{name: "linear_gemv_aligned_norm_bias_residual", src: `graph g(%x: D[1,136], %w: D[37,136], %b: D[37], %r: D[1,37], %g: D[136]) {
  %y = linear(%x, %w, %b, %r, %g) {bias=1, residual=1, norm=1, eps=1e-05} : D[1,37]
  return %y
}`},
	{name: "linear_gemv_glu_misaligned_view", src: `graph g(%xx: D[1,137], %w: D[34,136]) {
  %x = view(%xx) {shape=[1,136], strides=[137,1], offset=1} : D[1,136]
  %y = linear(%x, %w) {glu=1} : D[1,17]
  return %y
}`},
	{name: "linear_gemv_rows", src: `graph g(%x: D[4,72], %w: D[31,72], %r: D[4,31]) {
  %y = linear(%x, %w, %r) {residual=1} : D[4,31]
  return %y
}`},
	{name: "linear_gemm_norm_residual", src: `graph g(%x: D[19,37], %w: D[45,37], %r: D[19,45], %g: D[37]) {
  %y = linear(%x, %w, %r, %g) {residual=1, norm=1, eps=1e-05} : D[19,45]
  return %y
}`},
	{name: "linear_gemm_glu", src: `graph g(%x: D[2,9,33], %w: D[34,33]) {
  %y = linear(%x, %w) {glu=1} : D[2,9,17]
  return %y
}`},
	{name: "linear_few_rows", src: `graph g(%x: D[3,41], %w: D[29,41], %r: D[3,29]) {
  %y = linear(%x, %w, %r) {residual=1} : D[3,29]
  return %y
}`},
	{name: "linear_gemm_bias", src: `graph g(%x: D[19,37], %w: D[45,37], %b: D[45]) {
  %y = linear(%x, %w, %b) {bias=1} : D[19,45]
  return %y
}`},
	{name: "linear_gemm_residual_3d", src: `graph g(%x: D[2,9,33], %w: D[17,33], %r: D[2,9,17]) {
  %y = linear(%x, %w, %r) {residual=1} : D[2,9,17]
  return %y
}`},
	{name: "silu_mul", src: `graph g(%a: D[3,70], %b: D[3,70]) {
  %y = silu_mul(%a, %b) : D[3,70]
  return %y
}`},
	{name: "masked_softmax_causal", ints: map[string]int64{"p": 23}, src: `graph g(%x: D[3,5,23], %p: i32[5]) {
  %y = masked_softmax(%x, %p) {scale=0.3, causal=1} : D[3,5,23]
  return %y
}`},
	{name: "grouped_matmul_strided_b", src: `graph g(%a: D[6,3,10], %c: D[2,23,10]) {
  %bt = view(%c) {shape=[2,10,23], strides=[230,1,10]} : D[2,10,23]
  %y = grouped_matmul(%a, %bt) : D[6,3,23]
  return %y
}`},
	{name: "grouped_matmul_rows_first", src: `graph g(%a: D[6,3,23], %c: D[2,23,10]) {
  %y = grouped_matmul(%a, %c) {rows_first=1} : D[3,6,10]
  return %y
}`},
	{name: "causal_attention", ints: map[string]int64{"p": 23}, src: `graph g(%q: D[6,3,10], %k: D[2,23,10], %v: D[2,23,10], %p: i32[3]) {
  %kt = view(%k) {shape=[2,10,23], strides=[230,1,10]} : D[2,10,23]
  %s = grouped_matmul(%q, %kt) : D[6,3,23]
  %w = masked_softmax(%s, %p) {scale=0.3, causal=1} : D[6,3,23]
  %o = grouped_matmul(%w, %v) {rows_first=1} : D[3,6,10]
  return %o, %w
}`},
	{name: "causal_attention_bounded", ints: map[string]int64{"p": 23}, src: `graph g(%q: D[6,3,10], %k: D[2,23,10], %v: D[2,23,10], %p: i32[3]) {
  %kt = view(%k) {shape=[2,10,23], strides=[230,1,10]} : D[2,10,23]
  %s = grouped_matmul(%q, %kt, %p) {causal_bound="columns"} : D[6,3,23]
  %w = masked_softmax(%s, %p) {scale=0.3, causal=1} : D[6,3,23]
  %o = grouped_matmul(%w, %v, %p) {rows_first=1, causal_bound="reduction"} : D[3,6,10]
  return %o, %w
}`},
	{name: "rope_strided", ints: map[string]int64{"p": 300}, src: `graph g(%x: D[5,30], %p: i32[5]) {
  %xv = view(%x) {shape=[3,5,10], strides=[10,30,1]} : D[3,5,10]
  %y = rope(%xv, %p) {inv_freq=[1,0.1,0.01,0.001,0.0001]} : D[3,5,10]
  return %y
}`},
	{name: "cache_write", ints: map[string]int64{"pos": 12}, src: `state @c : D[2,16,10]
graph g(%x: D[4,20], %pos: i32[1]) {
  %xv = view(%x) {shape=[2,4,10], strides=[10,20,1]} : D[2,4,10]
  %c2 = cache_write(@c, %xv, %pos) {axis=1} : D[2,16,10]
  return %c2
}`},
	{name: "cache_write_past_the_end", ints: map[string]int64{"pos": 16}, src: `state @c : D[2,16,10]
graph g(%x: D[2,7,10], %pos: i32[1]) {
  %c2 = cache_write(@c, %x, %pos) {axis=1} : D[2,16,10]
  return %c2
}`},
	{name: "embedding", ints: map[string]int64{"ids": 37}, src: `graph g(%t: D[37,13], %ids: i32[6]) {
  %y = embedding(%t, %ids) : D[6,13]
  return %y
}`},
	{name: "binary_broadcast", src: `graph g(%a: D[4,1,7], %b: D[3,7]) {
  %s = add(%a, %b) : D[4,3,7]
  %d = sub(%s, %b) : D[4,3,7]
  %m = mul(%d, %a) : D[4,3,7]
  %q = div(%m, %s) : D[4,3,7]
  return %s, %d, %m, %q
}`},
	{name: "unary", src: `graph g(%x: D[3,50]) {
  %n = neg(%x) : D[3,50]
  %e = exp(%x) : D[3,50]
  %sq = sqrt(%e) : D[3,50]
  %rs = rsqrt(%e) : D[3,50]
  %sg = sigmoid(%x) : D[3,50]
  %sl = silu(%x) : D[3,50]
  %c = cos(%x) : D[3,50]
  %s = sin(%x) : D[3,50]
  %p = pow(%x) {exponent=2} : D[3,50]
  return %n, %e, %sq, %rs, %sg, %sl, %c, %s, %p
}`},
	{name: "copy_strided", src: `graph g(%x: D[6,5]) {
  %t = view(%x) {shape=[5,6], strides=[1,5]} : D[5,6]
  %y = copy(%t) : D[5,6]
  return %y
}`},
	{name: "cast_strided", src: `graph g(%x: D[6,5], %h: f16[4]) {
  %t = view(%x) {shape=[5,6], strides=[1,5]} : D[5,6]
  %f = cast(%t) {dtype=f32} : f32[5,6]
  %b = cast(%f) {dtype=bf16} : bf16[5,6]
  %hf = cast(%h) {dtype=f32} : f32[4]
  return %f, %b, %hf
}`},
	{name: "int_copy", ints: map[string]int64{"a": 1000}, src: `graph g(%a: i32[3,4]) {
  %t = view(%a) {shape=[4,3], strides=[1,4]} : i32[4,3]
  %y = copy(%t) : i32[4,3]
  return %y
}`},
	{name: "int_add", ints: map[string]int64{"a": 1000, "b": 1000}, src: `graph g(%a: i32[9], %b: i32[1]) {
  %y = add(%a, %b) : i32[9]
  return %y
}`},
},
	// Fused attention, awkward shapes: GQA 1:1, 3:1, 4:1, 2:1 and 9:1
	// (two groups of heads per KV head), head dims 10, 72, 64 and 128,
	// caches of 23 to 4000 rows, prefill chunks and decode steps.
	attentionCase("attention_mha_d64_chunk", 4, 4, 5, 300, 64),
	attentionCase("attention_prefill_gqa3", 6, 2, 3, 23, 10),
	attentionCase("attention_decode_gqa4_d72", 8, 2, 1, 37, 72),
	attentionCase("attention_gqa2_d64_long_cache", 4, 2, 1, 4000, 64),
	attentionCase("attention_9_heads_per_group_d128", 18, 2, 2, 50, 128),
)

// attentionCase is an attention op of H query heads over G KV heads with
// M new rows and caches of L rows of D: the caches are first filled with
// random rows, positions and the start are random (so rows past the cache
// are dropped and queries see caches written in earlier rounds), and the
// caches are outputs too, so their writes are checked.
func attentionCase(name string, H, G, M, L, D int) opCase {
	freqs := make([]string, D/2)
	for i := range freqs {
		freqs[i] = strconv.FormatFloat(math.Pow(10000, -2*float64(i)/float64(D)), 'g', 6, 64)
	}
	cache := fmt.Sprintf("D[%d,%d,%d]", G, L, D)
	src := fmt.Sprintf(`state @kc : %[1]s
state @vc : %[1]s
graph g(%%fk: %[1]s, %%fv: %[1]s, %%zero: i32[1], %%q: D[%[2]d,%[3]d,%[4]d], %%k: D[%[5]d,%[3]d,%[4]d], %%v: D[%[5]d,%[3]d,%[4]d], %%p: i32[%[3]d], %%s: i32[1]) {
  %%kf = cache_write(@kc, %%fk, %%zero) {axis=1} : %[1]s
  %%vf = cache_write(@vc, %%fv, %%zero) {axis=1} : %[1]s
  %%o = attention(%%q, %%k, %%v, @kc, @vc, %%p, %%s) {scale=0.3, inv_freq=[%[6]s]} : D[%[3]d,%[2]d,%[4]d]
  %%kw = copy(@kc) : %[1]s
  %%vw = copy(@vc) : %[1]s
  return %%o, %%kw, %%vw
}`, cache, H, M, D, G, strings.Join(freqs, ","))
	return opCase{name: name, ints: map[string]int64{"zero": 1, "p": int64(L), "s": int64(L)}, src: src}
}

// weightCases instantiates each case for weights of type q (Q in the
// source), named after the type; the harness then runs it per float dtype
// (D, and DT for a dtype attribute; only dtypes where given) with weights
// from randinit, quantized alike for the device and for ref.
func weightCases(cases []opCase, dtypes []ir.DType, types ...string) []opCase {
	var out []opCase
	for _, q := range types {
		for _, c := range cases {
			c.name = q + "_" + c.name
			c.src = strings.ReplaceAll(c.src, "Q[", q+"[")
			c.dtypes = dtypes
			out = append(out, c)
		}
	}
	return out
}

// Quantized weights (q8_0 and q4_0, Q below): K of one block, three,
// and 129 (4128, not a multiple of 256), odd N, decode and prefill
// rows, every prologue and epilogue, a packed (concatenated) weight,
// and embedding of a quantized table.
var quantOpCases = []opCase{
	{name: "linear_gemv_k32_bias_residual", src: `weight @w : Q[45,32] = "w.safetensors" "w"
graph g(%x: D[1,32], %b: D[45], %r: D[1,45]) {
  %y = linear(%x, @w, %b, %r) {bias=1, residual=1} : D[1,45]
  return %y
}`},
	{name: "linear_gemv_k96_norm_glu", src: `weight @w : Q[58,96] = "w.safetensors" "w"
graph g(%x: D[2,96], %g: D[96]) {
  %y = linear(%x, @w, %g) {norm=1, eps=1e-06, glu=1} : D[2,29]
  return %y
}`},
	{name: "linear_gemv_k4128_norm_bias", src: `weight @w : Q[7,4128] = "w.safetensors" "w"
graph g(%x: D[1,4128], %b: D[7], %g: D[4128]) {
  %y = linear(%x, @w, %b, %g) {bias=1, norm=1, eps=1e-05} : D[1,7]
  return %y
}`},
	{name: "linear_gemv_aligned_arena_x", src: `weight @w : Q[45,256] = "w.safetensors" "w"
graph g(%x: D[1,256], %r: D[1,45]) {
  %h = add(%x, %x) : D[1,256]
  %y = linear(%h, @w, %r) {residual=1} : D[1,45]
  return %y
}`},
	{name: "linear_gemv_packed_glu", src: `weight @a : Q[19,64] = "w.safetensors" "a"
weight @b : Q[19,64] = "w.safetensors" "b"
graph g(%x: D[1,64]) {
  %w = concat(@a, @b) {axis=0} : Q[38,64]
  %y = linear(%x, %w) {glu=1} : D[1,19]
  return %y
}`},
	{name: "linear_few_rows", src: `weight @w : Q[29,64] = "w.safetensors" "w"
graph g(%x: D[3,64], %r: D[3,29]) {
  %y = linear(%x, @w, %r) {residual=1} : D[3,29]
  return %y
}`},
	{name: "linear_gemm_k96_norm_residual", src: `weight @w : Q[45,96] = "w.safetensors" "w"
graph g(%x: D[19,96], %r: D[19,45], %g: D[96]) {
  %y = linear(%x, @w, %r, %g) {residual=1, norm=1, eps=1e-05} : D[19,45]
  return %y
}`},
	{name: "linear_gemm_glu_3d", src: `weight @w : Q[34,64] = "w.safetensors" "w"
graph g(%x: D[2,9,64]) {
  %y = linear(%x, @w) {glu=1} : D[2,9,17]
  return %y
}`},
	{name: "linear_gemm_k4128_bias", src: `weight @w : Q[5,4128] = "w.safetensors" "w"
graph g(%x: D[9,4128], %b: D[5]) {
  %y = linear(%x, @w, %b) {bias=1} : D[9,5]
  return %y
}`},
	{name: "embedding", ints: map[string]int64{"ids": 37}, src: `weight @t : Q[37,64] = "w.safetensors" "t"
graph g(%ids: i32[6], %x: D[1]) {
  %y = embedding(@t, %ids) {dtype=DT} : D[6,64]
  return %y
}`},
}

// f32 activations over f16 and bf16 weights (a GGUF file's F16 matrices,
// which llama.cpp multiplies into F32): every quantized case, and K odd.
var floatWeightCases = slices.Concat(quantOpCases, []opCase{{name: "linear_gemv_k67_bias", src: `weight @w : Q[9,67] = "w.safetensors" "w"
graph g(%x: D[2,67], %b: D[9]) {
  %y = linear(%x, @w, %b) {bias=1} : D[2,9]
  return %y
}`}, {name: "linear_gemm_k67_glu", src: `weight @w : Q[18,67] = "w.safetensors" "w"
graph g(%x: D[17,67]) {
  %y = linear(%x, @w) {glu=1} : D[17,9]
  return %y
}`}})

func init() {
	opCases = append(opCases, weightCases(quantOpCases, nil, "q8_0", "q4_0")...)
	opCases = append(opCases, weightCases(floatWeightCases, []ir.DType{ir.F32}, "f16", "bf16")...)
}
