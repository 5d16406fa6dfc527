package hf

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// Options are the static sizes of the graphs.
type Options struct {
	// MaxCacheLen is the KV-cache length; 0 means min(max_position_embeddings, 4096).
	MaxCacheLen int64
	// PrefillLen is the number of tokens one prefill chunk holds; 0 means 128.
	PrefillLen int64
	// AllowWeightsOutside lets the checkpoint's files resolve outside the
	// imported folder (a Hugging Face cache snapshot links to ../../blobs).
	AllowWeightsOutside bool
	// Quantize (q8_0 or q4_0; Invalid for none) is the type the linear
	// layers' weights (the *_proj matrices) are declared in; norms and
	// biases keep the model's dtype, and so do the embedding and the
	// output layer unless QuantizeEmbeddings. A weight whose rows are not
	// a whole number of blocks (K % 32 != 0) keeps the model's dtype.
	// Import writes the quantized tensors to QuantizedFile.
	Quantize           ir.DType
	QuantizeEmbeddings bool
	// QuantizedFile is where Import writes the quantized weights (a
	// safetensors file); required with Quantize when the folder has a
	// checkpoint.
	QuantizedFile string
	// WeightTypes declares the named matrices (Hugging Face names) in the
	// given type whatever Quantize and the model's dtype say: a GGUF
	// file's matrices, which ImportGGUF binds as they are stored (F16,
	// BF16, Q8_0, Q4_0) while the model computes in F32 as llama.cpp does.
	WeightTypes map[string]ir.DType
}

// DefaultPrefillLen is the chunk length of the prefill graph.
const DefaultPrefillLen = 128

// DefaultFile is where weights are expected when a model is imported from
// config.json alone.
const DefaultFile = safetensors.SingleFileName

func (o Options) withDefaults(c *Config) (Options, error) {
	if o.MaxCacheLen == 0 {
		o.MaxCacheLen = min(c.MaxPositionEmbeddings, 4096)
	}
	if o.PrefillLen == 0 {
		o.PrefillLen = min(DefaultPrefillLen, o.MaxCacheLen)
	}
	if o.MaxCacheLen < 1 {
		return o, fmt.Errorf("max cache length %d, want >= 1", o.MaxCacheLen)
	}
	if c.MaxPositionEmbeddings > 0 && o.MaxCacheLen > c.MaxPositionEmbeddings {
		return o, fmt.Errorf("max cache length %d is past the model's max_position_embeddings (%d): positions beyond it were never trained", o.MaxCacheLen, c.MaxPositionEmbeddings)
	}
	if o.PrefillLen < 1 || o.PrefillLen > o.MaxCacheLen {
		return o, fmt.Errorf("prefill length %d, want 1..%d (the max cache length)", o.PrefillLen, o.MaxCacheLen)
	}
	return o, nil
}

// irDType is the IR dtype of a config's torch_dtype (validated by
// ParseConfig): float32 unless it names a 16-bit type.
func irDType(torch string) ir.DType {
	if d, ok := ir.DTypeOfTorch(torch); ok {
		return d
	}
	return ir.F32
}

// Build declares the weights and KV caches of the model and builds its
// prefill and decode graphs from primitive ops, as the model's PyTorch code
// computes them (batch 1, so the batch axis is dropped). Weights are declared
// in DefaultFile; Import points them at the real shards.
func Build(c *Config, opts Options) (*ir.Model, error) {
	opts, err := opts.withDefaults(c)
	if err != nil {
		return nil, err
	}
	// Sizes come from the config and the options: refuse a model that
	// cannot fit before building any of it.
	if err := c.checkSize(opts); err != nil {
		return nil, err
	}
	m := &ir.Model{Meta: meta(c, opts)}
	if q := opts.Quantize; q != ir.Invalid && !q.IsQuantized() {
		return nil, fmt.Errorf("quantize to %s: want q8_0 or q4_0", q)
	}
	b := &modelBuilder{c: c, m: m, dt: irDType(c.DType), cacheLen: opts.MaxCacheLen, opts: opts}
	b.declare()
	for _, g := range []struct {
		name string
		t    int64
	}{{"prefill", opts.PrefillLen}, {"decode", 1}} {
		if err := b.graph(g.name, g.t); err != nil {
			return nil, err
		}
	}
	// The model leaves the importer through the readers' own check.
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("the built model does not validate: %w", err)
	}
	return m, nil
}

func meta(c *Config, o Options) ir.Meta {
	mt := ir.Meta{
		Architecture: c.Architecture, DType: c.DType, VocabSize: c.VocabSize, HiddenSize: c.HiddenSize,
		IntermediateSize: c.IntermediateSize, NumLayers: c.NumLayers, NumHeads: c.NumHeads,
		NumKVHeads: c.NumKVHeads, HeadDim: c.HeadDim, MaxPositionEmbeddings: c.MaxPositionEmbeddings,
		MaxCacheLen: o.MaxCacheLen, PrefillLen: o.PrefillLen, RopeTheta: c.RopeTheta, RMSNormEps: c.RMSNormEps,
		TieWordEmbeddings: c.TieWordEmbeddings, EOSTokenIDs: c.EOSTokenIDs, BOSTokenID: c.BOSTokenID,
	}
	if c.RopeScaling != nil {
		js, _ := json.Marshal(c.RopeScaling)
		mt.RopeScaling = string(js)
	}
	return mt
}

type modelBuilder struct {
	c        *Config
	m        *ir.Model
	dt       ir.DType
	cacheLen int64
	opts     Options
	w        map[string]*ir.Value // weights by HF tensor name
	kCache   []*ir.Value
	vCache   []*ir.Value
}

// declare adds the weight table (with the exact HF tensor names) and one K
// and one V cache per layer, [kv_heads, max_cache_len, head_dim].
func (b *modelBuilder) declare() {
	c := b.c
	b.w = map[string]*ir.Value{}
	add := func(name string, dims ...int64) {
		b.w[name] = b.m.AddWeight(name, ir.T(b.weightDType(name, dims), dims...), DefaultFile, name)
	}
	q, kv := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	add("model.embed_tokens.weight", c.VocabSize, c.HiddenSize)
	for l := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", c.HiddenSize)
		add(p+"self_attn.q_proj.weight", q, c.HiddenSize)
		add(p+"self_attn.k_proj.weight", kv, c.HiddenSize)
		add(p+"self_attn.v_proj.weight", kv, c.HiddenSize)
		if c.QKVBias {
			add(p+"self_attn.q_proj.bias", q)
			add(p+"self_attn.k_proj.bias", kv)
			add(p+"self_attn.v_proj.bias", kv)
		}
		if c.QKNorm {
			add(p+"self_attn.q_norm.weight", c.HeadDim)
			add(p+"self_attn.k_norm.weight", c.HeadDim)
		}
		add(p+"self_attn.o_proj.weight", c.HiddenSize, q)
		if c.OBias {
			add(p+"self_attn.o_proj.bias", c.HiddenSize)
		}
		add(p+"post_attention_layernorm.weight", c.HiddenSize)
		add(p+"mlp.gate_proj.weight", c.IntermediateSize, c.HiddenSize)
		add(p+"mlp.up_proj.weight", c.IntermediateSize, c.HiddenSize)
		add(p+"mlp.down_proj.weight", c.HiddenSize, c.IntermediateSize)
	}
	add("model.norm.weight", c.HiddenSize)
	if !c.TieWordEmbeddings {
		add("lm_head.weight", c.VocabSize, c.HiddenSize)
	}
	for l := range c.NumLayers {
		t := ir.T(b.dt, c.NumKVHeads, b.cacheLen, c.HeadDim)
		b.kCache = append(b.kCache, b.m.AddState(fmt.Sprintf("cache.%d.k", l), t))
		b.vCache = append(b.vCache, b.m.AddState(fmt.Sprintf("cache.%d.v", l), t))
	}
}

// weightDType is the dtype weight name of shape dims is declared in: the
// model's, the type Options.WeightTypes gives a matrix, or the quantized
// type for the matrices Options.Quantize names.
func (b *modelBuilder) weightDType(name string, dims []int64) ir.DType {
	if d, ok := b.opts.WeightTypes[name]; ok && len(dims) == 2 && (!d.IsQuantized() || dims[1]%ir.QuantBlock == 0) {
		return d
	}
	q := b.opts.Quantize
	if q == ir.Invalid || len(dims) != 2 || dims[1]%ir.QuantBlock != 0 {
		return b.dt
	}
	if strings.HasSuffix(name, "_proj.weight") ||
		(b.opts.QuantizeEmbeddings && (name == "model.embed_tokens.weight" || name == "lm_head.weight")) {
		return q
	}
	return b.dt
}

// graph builds one graph over a chunk of t tokens starting at position pos.
// Inputs: tokens i32[t], pos i32[1]. Output: logits f32[t, vocab].
func (b *modelBuilder) graph(name string, t int64) error {
	c := b.c
	g := b.m.NewGraph(name)
	tokens := g.AddInput("tokens", ir.T(ir.I32, t))
	pos := g.AddInput("pos", ir.T(ir.I32, 1))
	bb := ir.NewBuilder(b.m, g)
	s := &step{modelBuilder: b, b: bb, t: t}

	bb.Scope("pos")
	positions := bb.Let("positions", "add", nil, bb.Op("iota", ir.Attrs{"shape": []int64{t}, "axis": int64(0), "dtype": ir.I32}), pos)
	s.rope(positions)
	s.causalMask(positions)

	bb.Scope("embed")
	var embAttrs ir.Attrs
	if b.w["model.embed_tokens.weight"].Type.DType != b.dt {
		embAttrs = ir.Attrs{"dtype": b.dt} // converted (dequantized) row by row as it is read
	}
	x := bb.Let("x", "embedding", embAttrs, b.w["model.embed_tokens.weight"], tokens)
	for l := range c.NumLayers {
		x = s.layer(int(l), x, pos)
	}
	bb.Scope("head")
	x = s.rmsNorm(x, b.w["model.norm.weight"])
	head := b.w["lm_head.weight"]
	if c.TieWordEmbeddings {
		head = b.w["model.embed_tokens.weight"]
	}
	logits := bb.Let("logits", "cast", ir.Attrs{"dtype": ir.F32}, s.linear(x, head, nil))
	g.Outputs = []*ir.Value{logits}
	return bb.Err()
}

// step holds what every layer of one graph shares.
type step struct {
	*modelBuilder
	b        *ir.Builder
	t        int64
	cos, sin *ir.Value // [1, t, head_dim] in the model dtype
	mask     *ir.Value // [t, max_cache_len] additive causal mask
}

// rope builds cos/sin of positions*inv_freq as HF's rotary embedding does:
// freqs in float32, emb = cat(freqs, freqs), then cast to the model dtype.
func (s *step) rope(positions *ir.Value) {
	b, d := s.b, s.c.HeadDim
	inv := InvFreq(s.c)
	p := b.Op("unsqueeze", ir.Attrs{"axis": int64(1)}, b.Op("cast", ir.Attrs{"dtype": ir.F32}, positions))
	f := b.Let("inv_freq", "constant", ir.Attrs{"value": inv, "dtype": ir.F32, "shape": []int64{1, d / 2}})
	freqs := b.Let("freqs", "mul", nil, p, f)
	emb := b.Let("emb", "concat", ir.Attrs{"axis": int64(1)}, freqs, freqs)
	cos := b.Op("cast", ir.Attrs{"dtype": s.dt}, b.Op("cos", nil, emb))
	sin := b.Op("cast", ir.Attrs{"dtype": s.dt}, b.Op("sin", nil, emb))
	s.cos = b.Let("cos_table", "unsqueeze", ir.Attrs{"axis": int64(0)}, cos)
	s.sin = b.Let("sin_table", "unsqueeze", ir.Attrs{"axis": int64(0)}, sin)
}

// causalMask builds mask[i, j] = (j > positions[i]) ? finfo(dtype).min : 0
// over every cache slot j, as transformers' static-cache causal mask does.
func (s *step) causalMask(positions *ir.Value) {
	b := s.b
	keys := b.Let("key_pos", "iota", ir.Attrs{"shape": []int64{1, s.cacheLen}, "axis": int64(1), "dtype": ir.I32})
	queries := b.Op("unsqueeze", ir.Attrs{"axis": int64(1)}, positions)
	future := b.Let("future", "greater", nil, keys, queries)
	s.mask = b.Let("mask", "where", nil, future, b.Const(s.dt, minValue(s.dt)), b.Const(s.dt, 0))
}

// minValue is torch.finfo(dtype).min.
func minValue(d ir.DType) float64 {
	switch d {
	case ir.BF16:
		return -3.3895313892515355e38
	case ir.F16:
		return -65504
	}
	return -math.MaxFloat32
}

// rmsNorm is LlamaRMSNorm: w * (x.f32 * rsqrt(mean(x.f32^2) + eps)).to(dtype).
func (s *step) rmsNorm(x, w *ir.Value) *ir.Value {
	b := s.b
	xf := b.Op("cast", ir.Attrs{"dtype": ir.F32}, x)
	sq := b.Op("pow", ir.Attrs{"exponent": 2.0}, xf)
	variance := b.Let("variance", "mean", ir.Attrs{"axes": []int64{-1}, "keepdim": int64(1)}, sq)
	r := b.Op("rsqrt", nil, b.Op("add", nil, variance, b.Const(ir.F32, s.c.RMSNormEps)))
	n := b.Op("cast", ir.Attrs{"dtype": x.Type.DType}, b.Op("mul", nil, xf, r))
	return b.Let("norm", "mul", nil, w, n)
}

// linear is nn.Linear: x @ w^T (+ bias), with the transpose as a view.
//
// A quantized weight has no primitive form (no op but linear and embedding
// reads one: a transposed view of blocks or a dequantized copy would be
// the waste quantizing avoids), so its layer is the linear op itself, with
// the bias as its epilogue; the passes fuse the rest around it as they do
// around the linears they find.
func (s *step) linear(x, w, bias *ir.Value) *ir.Value {
	b := s.b
	if w.Type.DType != x.Type.DType { // quantized, or a GGUF file's F16 matrix under F32
		if bias != nil {
			return b.Op("linear", ir.Attrs{"bias": int64(1)}, x, w, bias)
		}
		return b.Op("linear", nil, x, w)
	}
	y := b.Op("matmul", nil, x, b.Op("transpose", ir.Attrs{"perm": []int64{1, 0}}, w))
	if bias != nil {
		y = b.Op("add", nil, y, bias)
	}
	return y
}

func (s *step) layer(l int, x, pos *ir.Value) *ir.Value {
	b, c := s.b, s.c
	w := func(name string) *ir.Value { return s.w[fmt.Sprintf("model.layers.%d.%s", l, name)] }
	bias := func(name string, ok bool) *ir.Value {
		if !ok {
			return nil
		}
		return w(name)
	}
	b.Scope(fmt.Sprintf("l%d.attn", l))
	h := s.rmsNorm(x, w("input_layernorm.weight"))
	q := s.heads(s.linear(h, w("self_attn.q_proj.weight"), bias("self_attn.q_proj.bias", c.QKVBias)), c.NumHeads, w, "q_norm")
	k := s.heads(s.linear(h, w("self_attn.k_proj.weight"), bias("self_attn.k_proj.bias", c.QKVBias)), c.NumKVHeads, w, "k_norm")
	v := s.heads(s.linear(h, w("self_attn.v_proj.weight"), bias("self_attn.v_proj.bias", c.QKVBias)), c.NumKVHeads, w, "")
	q, k = s.applyRope(q), s.applyRope(k)
	kc := b.Let("k_cache", "cache_write", ir.Attrs{"axis": int64(1)}, s.kCache[l], k, pos)
	vc := b.Let("v_cache", "cache_write", ir.Attrs{"axis": int64(1)}, s.vCache[l], v, pos)
	kc, vc = s.repeatKV(kc), s.repeatKV(vc)
	scores := b.Let("scores", "matmul", nil, q, b.Op("transpose", ir.Attrs{"perm": []int64{0, 2, 1}}, kc))
	scores = b.Op("mul", nil, scores, b.Const(s.dt, 1/math.Sqrt(float64(c.HeadDim))))
	scores = b.Op("add", nil, scores, s.mask)
	probs := b.Let("probs", "softmax", ir.Attrs{"axis": int64(-1)}, b.Op("cast", ir.Attrs{"dtype": ir.F32}, scores))
	probs = b.Op("cast", ir.Attrs{"dtype": s.dt}, probs)
	o := b.Op("matmul", nil, probs, vc)
	o = b.Op("transpose", ir.Attrs{"perm": []int64{1, 0, 2}}, o)
	o = b.Op("reshape", ir.Attrs{"shape": []int64{s.t, c.NumHeads * c.HeadDim}}, o)
	x = b.Let("residual", "add", nil, x, s.linear(o, w("self_attn.o_proj.weight"), bias("self_attn.o_proj.bias", c.OBias)))

	b.Scope(fmt.Sprintf("l%d.mlp", l))
	h = s.rmsNorm(x, w("post_attention_layernorm.weight"))
	gate := b.Let("gate", "silu", nil, s.linear(h, w("mlp.gate_proj.weight"), nil))
	up := s.linear(h, w("mlp.up_proj.weight"), nil)
	down := s.linear(b.Op("mul", nil, gate, up), w("mlp.down_proj.weight"), nil)
	return b.Let("residual", "add", nil, x, down)
}

// heads splits a projection [t, n*d] into heads [n, t, d], applying Qwen3's
// per-head RMSNorm (normWeight) before the transpose as HF does.
func (s *step) heads(y *ir.Value, n int64, w func(string) *ir.Value, normWeight string) *ir.Value {
	b := s.b
	y = b.Op("reshape", ir.Attrs{"shape": []int64{s.t, n, s.c.HeadDim}}, y)
	if s.c.QKNorm && normWeight != "" {
		y = s.rmsNorm(y, w("self_attn."+normWeight+".weight"))
	}
	return b.Op("transpose", ir.Attrs{"perm": []int64{1, 0, 2}}, y)
}

// applyRope is x*cos + rotate_half(x)*sin, rotate_half(x) = cat(-x2, x1).
func (s *step) applyRope(x *ir.Value) *ir.Value {
	b, half := s.b, s.c.HeadDim/2
	x1 := b.Op("slice", ir.Attrs{"axis": int64(2), "start": int64(0), "end": half}, x)
	x2 := b.Op("slice", ir.Attrs{"axis": int64(2), "start": half, "end": 2 * half}, x)
	rot := b.Op("concat", ir.Attrs{"axis": int64(2)}, b.Op("neg", nil, x2), x1)
	return b.Let("rope", "add", nil, b.Op("mul", nil, x, s.cos), b.Op("mul", nil, rot, s.sin))
}

// repeatKV is HF's repeat_kv: [kv, n, d] -> [kv, 1, n, d] -> expand
// [kv, g, n, d] -> reshape [kv*g, n, d].
func (s *step) repeatKV(x *ir.Value) *ir.Value {
	b, c := s.b, s.c
	groups := c.NumHeads / c.NumKVHeads
	if groups == 1 {
		return x
	}
	sh := x.Type.Shape
	e := b.Op("expand", ir.Attrs{"shape": []int64{sh[0], groups, sh[1], sh[2]}}, b.Op("unsqueeze", ir.Attrs{"axis": int64(1)}, x))
	return b.Let("repeat_kv", "reshape", ir.Attrs{"shape": []int64{c.NumHeads, sh[1], sh[2]}}, e)
}
