package ir

// sampleModel builds a small model that uses every registered op, for
// round-trip, verifier and fuzz tests. Its one graph is not a runner graph
// (prefill, decode), so only the meta fields it sets are checked.
func sampleModel() *Model {
	m := &Model{Meta: Meta{Architecture: "Test", DType: "float32", VocabSize: 11, HiddenSize: 6, NumLayers: 1,
		RopeTheta: 10000, RMSNormEps: 1e-6, EOSTokenIDs: []int64{2, 3}, RopeScaling: `{"rope_type":"llama3"}`}}
	emb := m.AddWeight("embed", T(F32, 11, 6), "model.safetensors", "model.embed.weight")
	cache := m.AddState("cache.0.k", T(F32, 2, 8, 3))
	kCache, vCache := m.AddState("cache.1.k", T(F32, 1, 8, 6)), m.AddState("cache.1.v", T(F32, 1, 8, 6))
	g := m.NewGraph("g")
	tok := g.AddInput("tokens", T(I32, 2))
	pos := g.AddInput("pos", T(I32, 1))
	b := NewBuilder(m, g)
	b.Scope("s")
	x := b.Op("embedding", nil, emb, tok) // [2,6]
	x = b.Op("neg", nil, b.Op("sqrt", nil, b.Op("exp", nil, x)))
	x = b.Op("rsqrt", nil, b.Op("exp", nil, b.Op("sigmoid", nil, b.Op("silu", nil, b.Op("cos", nil, b.Op("sin", nil, x))))))
	x = b.Op("pow", Attrs{"exponent": 2.0}, x)
	x = b.Op("div", nil, b.Op("sub", nil, b.Op("add", nil, x, b.Const(F32, 0.5)), x), b.Const(F32, 3))
	mean := b.Op("mean", Attrs{"axes": []int64{-1}, "keepdim": int64(1)}, x)
	sum := b.Op("sum", Attrs{"axes": []int64{0}}, x)
	mx := b.Op("max", Attrs{"axes": []int64{0, 1}}, x)
	x = b.Op("mul", nil, b.Op("add", nil, x, mean), b.Op("add", nil, sum, mx))
	x = b.Op("softmax", Attrs{"axis": int64(-1)}, x)
	r := b.Op("reshape", Attrs{"shape": []int64{2, 2, 3}}, x)
	r = b.Op("transpose", Attrs{"perm": []int64{1, 0, 2}}, r)
	kc := b.Op("cache_write", Attrs{"axis": int64(1)}, cache, r, pos)
	s := b.Op("slice", Attrs{"axis": int64(1), "start": int64(1), "end": int64(7), "step": int64(2)}, kc) // [2,3,3]
	s = b.Op("concat", Attrs{"axis": int64(0)}, s, s)                                                     // [4,3,3]
	u := b.Op("unsqueeze", Attrs{"axis": int64(0)}, s)
	e := b.Op("expand", Attrs{"shape": []int64{2, 4, 3, 3}}, u)
	mm := b.Op("matmul", nil, e, b.Op("squeeze", Attrs{"axis": int64(0)}, u))
	io := b.Op("iota", Attrs{"shape": []int64{1, 3}, "axis": int64(1), "dtype": I32})
	c := b.Op("cast", Attrs{"dtype": I32}, b.Op("constant", Attrs{"value": []float64{0, 1, 2}, "dtype": F32, "shape": []int64{3, 1}}))
	mask := b.Op("greater", nil, io, c)
	mask2 := b.Op("less", nil, io, c)
	w := b.Op("where", nil, mask, mm, b.Op("where", nil, mask2, mm, b.Const(F32, -1e30)))
	out := b.Let("out", "cast", Attrs{"dtype": BF16}, w)
	// Fused and layout ops, on the [2,6] softmax result.
	norm := b.Op("rms_norm", Attrs{"eps": 1e-6}, x, m.AddWeight("norm", T(F32, 6), "model.safetensors", "model.norm.weight"))
	sm := b.Op("silu_mul", nil, norm, b.Op("rms_norm", Attrs{"eps": 1e-5}, x))
	v := b.Op("view", Attrs{"shape": []int64{2, 3}, "strides": []int64{6, 2}, "offset": int64(1)}, sm)
	moved := b.Op("transfer", Attrs{"to": "cpu", AttrPartition: int64(1), AttrDevice: "cpu"}, b.Op("copy", nil, v))
	rows := b.Op("rope", Attrs{"inv_freq": []float64{1, 0.1, 0.01}}, b.Op("view", Attrs{"shape": []int64{1, 2, 6}, "strides": []int64{0, 6, 1}}, sm), tok)
	causal := b.Op("masked_softmax", Attrs{"scale": 0.5, "causal": int64(1), "dtype": BF16}, rows, tok)
	additive := b.Op("masked_softmax", Attrs{"scale": 0.25}, rows, x)
	grouped := b.Op("grouped_matmul", Attrs{"rows_first": int64(1)}, rows, b.Op("view", Attrs{"shape": []int64{1, 6, 2}, "strides": []int64{0, 1, 6}}, sm))
	bounded := b.Op("grouped_matmul", Attrs{CausalBoundAttr: CausalReduction}, rows, b.Op("view", Attrs{"shape": []int64{1, 6, 2}, "strides": []int64{0, 1, 6}}, sm), tok)
	proj := m.AddWeight("proj", T(F32, 3, 6), "model.safetensors", "model.proj.weight")
	lin := b.Op("linear", Attrs{"bias": int64(1), "residual": int64(1)}, sm, proj, b.Op("linear", nil, b.Op("view", Attrs{"shape": []int64{6}, "strides": []int64{1}}, sm), proj), v)
	heads := b.Op("view", Attrs{"shape": []int64{1, 2, 6}, "strides": []int64{0, 6, 1}}, sm)
	attn := b.Op("attention", Attrs{"scale": 0.4, "inv_freq": []float64{1, 0.1, 0.01}}, heads, heads, heads, kCache, vCache, tok, pos)
	if b.Err() != nil {
		panic(b.Err())
	}
	g.Outputs = []*Value{out, moved, causal, additive, grouped, bounded, lin, attn}
	return m
}
