package ir

import "fmt"

// Fused ops: the passes find each of them as a pattern of primitive ops.
// Arithmetic is float32 whatever the storage dtype.

func init() {
	Register(&OpDef{Name: "rms_norm", Doc: "RMSNorm over the last axis: weight * x / sqrt(mean(x^2) + eps), " +
		"computed in float32 and stored in x's dtype; the weight (shape [last axis]) is optional.",
		Inputs: []string{"x", "weight"}, OptionalInputs: 1,
		Attrs: []AttrSpec{{Name: "eps", Kind: AttrFloat}},
		Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
			x := in[0]
			if !x.DType.IsFloat() || len(x.Shape) == 0 {
				return nil, fmt.Errorf("x is %v, want a float tensor of rank >= 1", x)
			}
			if len(in) == 2 {
				w := in[1]
				if !w.DType.IsFloat() || len(w.Shape) != 1 || w.Shape[0] != x.Shape[len(x.Shape)-1] {
					return nil, fmt.Errorf("weight is %v, want a float vector of %d", w, x.Shape[len(x.Shape)-1])
				}
			}
			return []TensorType{x}, nil
		}})
	Register(&OpDef{Name: "linear", Doc: "nn.Linear with a fused prologue and epilogues: x @ weight^T (+ bias) (+ residual), for " +
		"x[..., K] and weight[N, K] as stored (each output reads one weight row). With norm=1 x is first RMS-normalised " +
		"over K and scaled by norm_weight[K] (rms_norm's prologue: each row's inverse RMS is recomputed where it is read). " +
		"With glu=1 the weight is [2N, K], gate rows then up rows, and the result is silu(x @ gate^T) * (x @ up^T) " +
		"(SwiGLU's gate as an epilogue; no bias or residual then). bias[N or 2N], residual[..., N] and norm_weight[K] are present " +
		"when their attribute is 1, in that order. The weight may be quantized (q8_0, q4_0): it is dequantized where it is read.",
		Inputs: []string{"x", "weight", "bias", "residual", "norm_weight"}, OptionalInputs: 3,
		Attrs: []AttrSpec{{Name: "bias", Kind: AttrInt, Optional: true, Doc: "1: the third input is a bias"},
			{Name: "residual", Kind: AttrInt, Optional: true, Doc: "1: an input after the bias is added to the result"},
			{Name: "norm", Kind: AttrInt, Optional: true, Doc: "1: the last input is an RMSNorm weight applied to x first"},
			{Name: "eps", Kind: AttrFloat, Optional: true, Doc: "the RMSNorm prologue's epsilon (with norm=1)"},
			{Name: "glu", Kind: AttrInt, Optional: true, Doc: "1: silu(gate half) * up half of a [2N, K] weight"}},
		Infer: inferLinear})
	Register(&OpDef{Name: "silu_mul", Doc: "SwiGLU gate: silu(gate) * up, elementwise.",
		Inputs: []string{"gate", "up"},
		Infer: func(in []TensorType, _ Attrs) ([]TensorType, error) {
			if !in[0].DType.IsFloat() || !in[0].Equal(in[1]) {
				return nil, fmt.Errorf("operands are %v and %v, want the same float type", in[0], in[1])
			}
			return []TensorType{in[0]}, nil
		}})
	Register(&OpDef{Name: "masked_softmax", Doc: "softmax(x*scale + mask) over the last axis. With causal=1 the second " +
		"input holds the query positions (i32[rows], rows = x's second-to-last axis) and key j of row t is masked " +
		"when j > positions[t]: no mask tensor is read. Otherwise it is an additive mask broadcast to x.",
		Inputs: []string{"x", "mask"},
		Attrs: []AttrSpec{{Name: "scale", Kind: AttrFloat}, {Name: "causal", Kind: AttrInt, Optional: true, Doc: "default 0"},
			{Name: "dtype", Kind: AttrDType, Optional: true, Doc: "result dtype, default x's"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			x, m := in[0], in[1]
			if !x.DType.IsFloat() || len(x.Shape) < 2 {
				return nil, fmt.Errorf("x is %v, want a float tensor of rank >= 2", x)
			}
			if a.Int("causal", 0) != 0 {
				if !m.DType.IsInt() || len(m.Shape) != 1 || m.Shape[0] != x.Shape[len(x.Shape)-2] {
					return nil, fmt.Errorf("positions are %v, want an integer vector of %d", m, x.Shape[len(x.Shape)-2])
				}
			} else if s, err := BroadcastShapes(x.Shape, m.Shape); err != nil || !s.Equal(x.Shape) || !m.DType.IsFloat() {
				return nil, fmt.Errorf("mask %v does not broadcast to %v", m, x)
			}
			out := x
			if d := a.DType("dtype"); d != Invalid {
				if !d.IsFloat() {
					return nil, fmt.Errorf("dtype %s, want a float type", d)
				}
				out.DType = d
			}
			return []TensorType{out}, nil
		}})
	Register(&OpDef{Name: "grouped_matmul", Doc: "Grouped-query matmul: out[h] = a[h] @ b[h / (H/G)] for a[H, M, K] and " +
		"b[G, K, N]: each query head of a indexes its group's head of b in place, so no repeated K/V tensor exists " +
		"(whether a device shares b's loads across a group is the kernel's business). " +
		"With rows_first=1 the result is laid out [M, H, N] (attention output ready for o_proj). " +
		"In causal attention a third operand, positions (i32[M], one per row of a), bounds row m by positions[m], " +
		"and causal_bound says how: \"columns\" (the scores feeding a causal softmax): outputs with n > positions[m] " +
		"are unspecified, a device may skip them; \"reduction\" (the probabilities times V): the sum over k stops " +
		"at k <= positions[m]. The operand is present exactly when the attribute is.",
		Inputs: []string{"a", "b", "positions"}, OptionalInputs: 1,
		Attrs: []AttrSpec{{Name: "rows_first", Kind: AttrInt, Optional: true, Doc: "1: result [M, H, N]; default 0: [H, M, N]"},
			{Name: CausalBoundAttr, Kind: AttrString, Optional: true,
				Doc: "columns or reduction: how positions bound each row (absent: no bound, no positions operand)"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			out, err := inferGrouped(in[:2])
			if err != nil {
				return nil, err
			}
			bound, hasBound := a[CausalBoundAttr]
			switch {
			case hasBound && bound != CausalColumns && bound != CausalReduction:
				return nil, fmt.Errorf("%s=%q, want %q or %q", CausalBoundAttr, bound, CausalColumns, CausalReduction)
			case hasBound && len(in) != 3:
				return nil, fmt.Errorf("%s=%q needs the positions operand (a third input)", CausalBoundAttr, bound)
			case !hasBound && len(in) == 3:
				return nil, fmt.Errorf("a third input (positions) without %s: say how it bounds the rows", CausalBoundAttr)
			}
			if hasBound {
				if p, rows := in[2], in[0].Shape[1]; p.DType != I32 || !p.Shape.Equal(Shape{rows}) {
					return nil, fmt.Errorf("positions are %v, want i32[%d] (one per row of a %v)", p, rows, in[0].Shape)
				}
			}
			if a.Int("rows_first", 0) == 0 {
				return out, nil
			}
			s := out[0].Shape
			return []TensorType{{DType: out[0].DType, Shape: Shape{s[1], s[0], s[2]}}}, nil
		}})
	Register(&OpDef{Name: "rope", Doc: "Rotary embedding (rotate_half form) with angles computed on the fly: for row t " +

		"(x's second-to-last axis) and i < d/2, angle = positions[t]*inv_freq[i]; out = x*cos + rotate_half(x)*sin.",
		Inputs: []string{"x", "positions"},
		Attrs:  []AttrSpec{{Name: "inv_freq", Kind: AttrFloats, Doc: "d/2 frequencies (rope scaling already applied)"}},
		Infer: func(in []TensorType, a Attrs) ([]TensorType, error) {
			x, p := in[0], in[1]
			r := len(x.Shape)
			if !x.DType.IsFloat() || r < 2 || x.Shape[r-1]%2 != 0 {
				return nil, fmt.Errorf("x is %v, want a float tensor of rank >= 2 with an even last axis", x)
			}
			if !p.DType.IsInt() || len(p.Shape) != 1 || p.Shape[0] != x.Shape[r-2] {
				return nil, fmt.Errorf("positions are %v, want an integer vector of %d", p, x.Shape[r-2])
			}
			if int64(len(a.Floats("inv_freq")))*2 != x.Shape[r-1] {
				return nil, fmt.Errorf("inv_freq has %d entries, want %d", len(a.Floats("inv_freq")), x.Shape[r-1]/2)
			}
			return []TensorType{x}, nil
		}})
}

// The causal bound of a grouped_matmul in causal attention: the attribute,
// and its two values.
const (
	CausalBoundAttr = "causal_bound"
	// CausalColumns: output columns n > positions[m] are unspecified.
	CausalColumns = "columns"
	// CausalReduction: the sum over k runs to k <= positions[m].
	CausalReduction = "reduction"
)

// LinearInputs says where linear's optional operands are: the index of
// bias, residual and norm_weight among its inputs (-1 when absent) and how
// many inputs it takes. The op's attributes are its only description.
func LinearInputs(a Attrs) (bias, residual, norm, count int) {
	bias, residual, norm, count = -1, -1, -1, 2
	if a.Int("bias", 0) != 0 {
		bias, count = count, count+1
	}
	if a.Int("residual", 0) != 0 {
		residual, count = count, count+1
	}
	if a.Int("norm", 0) != 0 {
		norm, count = count, count+1
	}
	return bias, residual, norm, count
}

func inferLinear(in []TensorType, a Attrs) ([]TensorType, error) {
	x, w := in[0], in[1]
	bias, residual, norm, count := LinearInputs(a)
	if len(in) != count {
		return nil, fmt.Errorf("%d inputs, want %d for bias=%d residual=%d norm=%d", len(in), count, a.Int("bias", 0), a.Int("residual", 0), a.Int("norm", 0))
	}
	if !x.DType.IsFloat() || !(w.DType.IsFloat() || w.DType.IsQuantized()) || len(x.Shape) == 0 || len(w.Shape) != 2 || w.Shape[1] != x.Shape[len(x.Shape)-1] {
		return nil, fmt.Errorf("x %v and weight %v, want x[..., K] of a float type and weight[N, K] of a float type or q8_0/q4_0", x, w)
	}
	n := w.Shape[0]
	if a.Int("glu", 0) != 0 {
		if n%2 != 0 {
			return nil, fmt.Errorf("glu=1 with weight %v: want an even row count (gate rows, then up rows)", w)
		}
		if bias >= 0 || residual >= 0 {
			return nil, fmt.Errorf("glu=1 takes no bias or residual")
		}
		n /= 2
	}
	out := TensorType{DType: x.DType, Shape: append(x.Shape[:len(x.Shape)-1:len(x.Shape)-1], n)}
	if bias >= 0 {
		if b := in[bias]; b.DType != x.DType || !b.Shape.Equal(Shape{n}) {
			return nil, fmt.Errorf("bias is %v, want %s[%d]", b, x.DType, n)
		}
	}
	if residual >= 0 {
		if r := in[residual]; !r.Equal(out) {
			return nil, fmt.Errorf("residual is %v, want %v", r, out)
		}
	}
	if norm >= 0 {
		k := w.Shape[1]
		if g := in[norm]; g.DType != x.DType || !g.Shape.Equal(Shape{k}) {
			return nil, fmt.Errorf("norm_weight is %v, want %s[%d]", g, x.DType, k)
		}
	} else if _, ok := a["eps"]; ok {
		return nil, fmt.Errorf("eps without norm=1")
	}
	return []TensorType{out}, nil
}

func inferGrouped(in []TensorType) ([]TensorType, error) {
	a, b := in[0], in[1]
	if a.DType != b.DType || !a.DType.IsFloat() || len(a.Shape) != 3 || len(b.Shape) != 3 {
		return nil, fmt.Errorf("operands are %v and %v, want rank-3 tensors of one float type", a, b)
	}
	if b.Shape[0] == 0 || a.Shape[0]%b.Shape[0] != 0 || a.Shape[2] != b.Shape[1] {
		return nil, fmt.Errorf("cannot group %v @ %v (want a[H,M,K], b[G,K,N] with G dividing H)", a.Shape, b.Shape)
	}
	return []TensorType{{DType: a.DType, Shape: Shape{a.Shape[0], a.Shape[1], b.Shape[2]}}}, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
