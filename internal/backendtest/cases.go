// Package backendtest is the conformance harness every GPU backend runs:
// each kernel on random inputs and awkward shapes in f32, bf16 and f16
// against ref (in the spirit of ggml's test-backend-ops), the device's
// greedy argmax, and the tiny presets end to end. A backend enables it
// with one line in a test of its own:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, b, open) }
package backendtest

// opCase is one kernel test, in the spirit of ggml's test-backend-ops: a
// graph (IR text, D standing for the float dtype under test) run on the
// device and by ref on the same random inputs. ints bounds the values of
// integer inputs by name (default 8).
type opCase struct {
	name string
	src  string
	ints map[string]int64
}

var opCases = []opCase{
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
	{name: "attention_prefill_gqa3", ints: map[string]int64{"zero": 1, "p": 23, "s": 23}, src: `state @kc : D[2,23,10]
state @vc : D[2,23,10]
graph g(%fk: D[2,23,10], %fv: D[2,23,10], %zero: i32[1], %q: D[6,3,10], %k: D[2,3,10], %v: D[2,3,10], %p: i32[3], %s: i32[1]) {
  %kf = cache_write(@kc, %fk, %zero) {axis=1} : D[2,23,10]
  %vf = cache_write(@vc, %fv, %zero) {axis=1} : D[2,23,10]
  %o = attention(%q, %k, %v, @kc, @vc, %p, %s) {scale=0.3, inv_freq=[1.0,0.158489,0.025119,0.003981,0.000631]} : D[3,6,10]
  %kw = copy(@kc) : D[2,23,10]
  %vw = copy(@vc) : D[2,23,10]
  return %o, %kw, %vw
}`},
	{name: "attention_decode_gqa4_d72", ints: map[string]int64{"zero": 1, "p": 37, "s": 37}, src: `state @kc : D[2,37,72]
state @vc : D[2,37,72]
graph g(%fk: D[2,37,72], %fv: D[2,37,72], %zero: i32[1], %q: D[8,1,72], %k: D[2,1,72], %v: D[2,1,72], %p: i32[1], %s: i32[1]) {
  %kf = cache_write(@kc, %fk, %zero) {axis=1} : D[2,37,72]
  %vf = cache_write(@vc, %fv, %zero) {axis=1} : D[2,37,72]
  %o = attention(%q, %k, %v, @kc, @vc, %p, %s) {scale=0.3, inv_freq=[1.0,0.774264,0.599484,0.464159,0.359381,0.278256,0.215443,0.16681,0.129155,0.1,0.077426,0.059948,0.046416,0.035938,0.027826,0.021544,0.016681,0.012915,0.01,0.007743,0.005995,0.004642,0.003594,0.002783,0.002154,0.001668,0.001292,0.001,0.000774,0.000599,0.000464,0.000359,0.000278,0.000215,0.000167,0.000129]} : D[1,8,72]
  %kw = copy(@kc) : D[2,37,72]
  %vw = copy(@vc) : D[2,37,72]
  return %o, %kw, %vw
}`},
	{name: "attention_gqa2_d64_long_cache", ints: map[string]int64{"zero": 1, "p": 4000, "s": 4000}, src: `state @kc : D[2,4000,64]
state @vc : D[2,4000,64]
graph g(%fk: D[2,4000,64], %fv: D[2,4000,64], %zero: i32[1], %q: D[4,1,64], %k: D[2,1,64], %v: D[2,1,64], %p: i32[1], %s: i32[1]) {
  %kf = cache_write(@kc, %fk, %zero) {axis=1} : D[2,4000,64]
  %vf = cache_write(@vc, %fv, %zero) {axis=1} : D[2,4000,64]
  %o = attention(%q, %k, %v, @kc, @vc, %p, %s) {scale=0.3, inv_freq=[1.0,0.749894,0.562341,0.421697,0.316228,0.237137,0.177828,0.133352,0.1,0.074989,0.056234,0.04217,0.031623,0.023714,0.017783,0.013335,0.01,0.007499,0.005623,0.004217,0.003162,0.002371,0.001778,0.001334,0.001,0.00075,0.000562,0.000422,0.000316,0.000237,0.000178,0.000133]} : D[1,4,64]
  %kw = copy(@kc) : D[2,4000,64]
  %vw = copy(@vc) : D[2,4000,64]
  return %o, %kw, %vw
}`},
	{name: "attention_9_heads_per_group_d128", ints: map[string]int64{"zero": 1, "p": 50, "s": 50}, src: `state @kc : D[2,50,128]
state @vc : D[2,50,128]
graph g(%fk: D[2,50,128], %fv: D[2,50,128], %zero: i32[1], %q: D[18,2,128], %k: D[2,2,128], %v: D[2,2,128], %p: i32[2], %s: i32[1]) {
  %kf = cache_write(@kc, %fk, %zero) {axis=1} : D[2,50,128]
  %vf = cache_write(@vc, %fv, %zero) {axis=1} : D[2,50,128]
  %o = attention(%q, %k, %v, @kc, @vc, %p, %s) {scale=0.3, inv_freq=[1.0,0.865964,0.749894,0.649382,0.562341,0.486968,0.421697,0.365174,0.316228,0.273842,0.237137,0.205353,0.177828,0.153993,0.133352,0.115478,0.1,0.086596,0.074989,0.064938,0.056234,0.048697,0.04217,0.036517,0.031623,0.027384,0.023714,0.020535,0.017783,0.015399,0.013335,0.011548,0.01,0.00866,0.007499,0.006494,0.005623,0.00487,0.004217,0.003652,0.003162,0.002738,0.002371,0.002054,0.001778,0.00154,0.001334,0.001155,0.001,0.000866,0.00075,0.000649,0.000562,0.000487,0.000422,0.000365,0.000316,0.000274,0.000237,0.000205,0.000178,0.000154,0.000133,0.000115]} : D[2,18,128]
  %kw = copy(@kc) : D[2,50,128]
  %vw = copy(@vc) : D[2,50,128]
  return %o, %kw, %vw
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
}
