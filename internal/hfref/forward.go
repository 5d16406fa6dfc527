package hfref

// forward is LlamaModel.forward + lm_head for batch 1: per layer
// x += o_proj(attn(rope(qk_norm(q, k)), v)) over input_layernorm(x), then
// x += mlp(post_attention_layernorm(x)); final norm; head.
func (m *model) forward(tokens []int) [][]float64 {
	c := m.cfg
	T, H := len(tokens), c.hidden
	x := make([][]float64, T)
	for t, id := range tokens {
		x[t] = append([]float64(nil), m.embed[id*H:(id+1)*H]...)
	}
	for l := range m.layers {
		ly := &m.layers[l]
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			h := rmsNorm(x[t], ly.inputNorm, c.eps)
			q[t], k[t], v[t] = ly.q.apply(h), ly.k.apply(h), ly.v.apply(h)
			if c.qkNorm {
				headNorm(q[t], ly.qNorm, c.headDim, c.eps)
				headNorm(k[t], ly.kNorm, c.headDim, c.eps)
			}
			applyRope(q[t], t, m.invFreq, c.headDim)
			applyRope(k[t], t, m.invFreq, c.headDim)
		}
		attn := attention(q, k, v, c.heads, c.kvHeads, c.headDim)
		for t := range x {
			addTo(x[t], ly.o.apply(attn[t]))
			addTo(x[t], mlp(ly, rmsNorm(x[t], ly.postNorm, c.eps)))
		}
	}
	logits := make([][]float64, T)
	for t := range x {
		logits[t] = m.head.apply(rmsNorm(x[t], m.norm, c.eps))
	}
	return logits
}

func addTo(x, y []float64) {
	for i := range x {
		x[i] += y[i]
	}
}
