package ir

import "fmt"

// attention is causal self-attention over a KV cache with the steps around
// it that touch one head at a time: the rotary embedding of q and k and the
// cache writes. One op, so a device reads each group's K/V once per step
// for all its query heads and nothing past the positions.
func init() {
	Register(&OpDef{Name: "attention", Doc: "Causal grouped-query attention over KV caches, rotary embedding and cache " +
		"writes included: for q[H, M, D], k and v [G, M, D] (the new rows, G dividing H), caches k_cache and v_cache " +
		"[G, L, D] (states, updated in place), positions i32[M] and the cache position start i32[1]: q and k are rotated " +
		"(rope, angle positions[t]*inv_freq[i]); row r of k and v is written to the caches at start + r, as cache_write " +
		"does (rows past L are dropped); " +
		"then out[m, h] = softmax(scale * q[h, m] . K[h / (H/G), j]) . V[h / (H/G), j] over the cache rows " +
		"j <= min(positions[m], L - 1). The result is laid out [M, H, D] (rows first, ready for o_proj).",
		Inputs: []string{"q", "k", "v", "k_cache", "v_cache", "positions", "start"}, SideEffect: true,
		Attrs: []AttrSpec{{Name: "scale", Kind: AttrFloat},
			{Name: "inv_freq", Kind: AttrFloats, Doc: "D/2 rotary frequencies (rope scaling already applied)"}},
		Infer: inferAttention})
}

func inferAttention(in []TensorType, a Attrs) ([]TensorType, error) {
	q, k, v, kc, vc, pos, start := in[0], in[1], in[2], in[3], in[4], in[5], in[6]
	if !q.DType.IsFloat() || len(q.Shape) != 3 {
		return nil, fmt.Errorf("q is %v, want a float [H, M, D]", q)
	}
	h, m, d := q.Shape[0], q.Shape[1], q.Shape[2]
	if len(kc.Shape) != 3 || kc.DType != q.DType || !kc.Equal(vc) {
		return nil, fmt.Errorf("caches are %v and %v, want one %s[G, L, D] type", kc, vc, q.DType)
	}
	g := kc.Shape[0]
	if g == 0 || h%g != 0 || kc.Shape[2] != d {
		return nil, fmt.Errorf("caches %v do not group q %v (want [G, L, %d] with G dividing %d)", kc, q, d, h)
	}
	if want := (TensorType{DType: q.DType, Shape: Shape{g, m, d}}); !k.Equal(want) || !v.Equal(want) {
		return nil, fmt.Errorf("new rows k %v and v %v, want %v", k, v, want)
	}
	if pos.DType != I32 || !pos.Shape.Equal(Shape{m}) {
		return nil, fmt.Errorf("positions are %v, want i32[%d]", pos, m)
	}
	if start.DType != I32 || !start.Shape.Equal(Shape{1}) {
		return nil, fmt.Errorf("start is %v, want i32[1]", start)
	}
	if d%2 != 0 || int64(len(a.Floats("inv_freq")))*2 != d {
		return nil, fmt.Errorf("inv_freq has %d entries, want %d (half of head dim %d, which must be even)", len(a.Floats("inv_freq")), d/2, d)
	}
	return []TensorType{{DType: q.DType, Shape: Shape{m, h, d}}}, nil
}
