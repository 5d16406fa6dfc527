package hfref

import "math"

// apply is x @ w^T + b for one row.
func (l linear) apply(x []float64) []float64 {
	y := make([]float64, l.out)
	for o := range y {
		row := l.w[o*l.in : (o+1)*l.in]
		var s float64
		for i, v := range x {
			s += v * row[i]
		}
		if l.b != nil {
			s += l.b[o]
		}
		y[o] = s
	}
	return y
}

// rmsNorm is w * x * rsqrt(mean(x^2) + eps) (LlamaRMSNorm).
func rmsNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = w[i] * (v * r)
	}
	return out
}

// headNorm applies RMSNorm over each head_dim slice of x in place (Qwen3's
// q_norm/k_norm, before RoPE).
func headNorm(x, w []float64, d int, eps float64) {
	for h := 0; h < len(x)/d; h++ {
		copy(x[h*d:(h+1)*d], rmsNorm(x[h*d:(h+1)*d], w, eps))
	}
}

// mlp is down(silu(gate(x)) * up(x)).
func mlp(ly *layer, x []float64) []float64 {
	g, u := ly.gate.apply(x), ly.up.apply(x)
	for i, v := range g {
		g[i] = v / (1 + math.Exp(-v)) * u[i]
	}
	return ly.down.apply(g)
}

// attention is causal scaled-dot-product attention for every position of
// q [T][heads*d] over k, v [T][kv_heads*d]: query head h reads kv head
// h / (heads/kv_heads) (repeat_kv), scores scaled by 1/sqrt(d), softmax
// over positions 0..t.
func attention(q, k, v [][]float64, heads, kvHeads, d int) [][]float64 {
	group := heads / kvHeads
	scale := 1 / math.Sqrt(float64(d))
	out := make([][]float64, len(q))
	for t := range q {
		out[t] = make([]float64, heads*d)
		for h := 0; h < heads; h++ {
			qh := q[t][h*d : (h+1)*d]
			kvOff := (h / group) * d
			scores := make([]float64, t+1)
			maxScore := math.Inf(-1)
			for s := range scores {
				var dot float64
				for i, x := range qh {
					dot += x * k[s][kvOff+i]
				}
				scores[s] = dot * scale
				maxScore = max(maxScore, scores[s])
			}
			var z float64
			for s := range scores {
				scores[s] = math.Exp(scores[s] - maxScore)
				z += scores[s]
			}
			oh := out[t][h*d : (h+1)*d]
			for s, p := range scores {
				for i := range oh {
					oh[i] += p / z * v[s][kvOff+i]
				}
			}
		}
	}
	return out
}
