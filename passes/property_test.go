package passes

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// Property tests: each draws small random graphs (awkward sizes, f32 or
// bf16) holding one pass's pattern in a variant the pass accepts, or a near
// miss it must decline, runs that pass alone and checks that
//
//   - the graph computes the same outputs before and after on random
//     inputs (ref runtime, max relative error 1e-5);
//   - a pattern became the fused op and its primitive root is gone;
//   - a near miss was left alone and --explain says why.
//
// Variants are cycled (case i draws variant i mod the number of variants)
// so every one is exercised; the sizes and operand orders are drawn.

// propCases is how many random graphs each property test draws.
const propCases = 30

// propCase describes one generated graph.
type propCase struct {
	fused  bool   // a pattern: the fused op must appear
	reason string // a near miss: a substring of the explain line
	intMax int64  // integer inputs are drawn from [0, intMax) (0: 4)
	// check, when set, inspects the rewritten graph further.
	check func(g *ir.Graph) error
}

// propGen builds graph b.Graph of model m (setting its outputs) for
// variant v, drawing everything else from r.
type propGen func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase

// buildProp builds case i of a test: the same seed gives the same graph, so
// building twice gives an untouched copy to compare against.
func buildProp(t *testing.T, seed uint64, i, variants int, gen propGen) (*ir.Model, propCase) {
	t.Helper()
	m := &ir.Model{}
	b := ir.NewBuilder(m, m.NewGraph("g"))
	c := gen(rand.New(rand.NewPCG(seed, uint64(i))), i%variants, m, b)
	if err := b.Err(); err != nil {
		t.Fatalf("case %d: building the graph: %v", i, err)
	}
	if err := m.VerifyGraph(b.Graph); err != nil {
		t.Fatalf("case %d: the generated graph is invalid: %v\n%s", i, err, m)
	}
	return m, c
}

// runPass runs one pipeline on m with the verifier and --explain on, and
// returns the explain log.
func runPass(t *testing.T, m *ir.Model, pipeline ...string) string {
	t.Helper()
	var log strings.Builder
	explain := map[string]bool{}
	for _, p := range pipeline {
		explain[p] = true
	}
	if _, err := Run(m, &Options{Pipeline: pipeline, Target: "ref", GPULayers: -1, VerifyEach: true, Explain: explain, Log: &log}); err != nil {
		t.Fatalf("%v\n%s", err, m)
	}
	return log.String()
}

// explained reports whether log has a "explain <pass>: g " line mentioning reason.
func explained(log, pass, reason string) bool {
	for line := range strings.Lines(log) {
		if strings.HasPrefix(line, "explain "+pass+": g ") && strings.Contains(line, reason) {
			return true
		}
	}
	return false
}

// checkFusion runs the property loop for a fusion pass producing op, whose
// patterns are rooted at one of roots (gone once fused).
func checkFusion(t *testing.T, pass, op string, roots []string, variants int, gen propGen) {
	t.Helper()
	var fused, declined int
	for i := range propCases {
		before, c := buildProp(t, 7, i, variants, gen)
		after, _ := buildProp(t, 7, i, variants, gen)
		log := runPass(t, after, pass)
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), c.intMax)
		h := OpHistogram(after.Graphs[0])
		if c.fused {
			fused++
			if h[op] == 0 {
				t.Fatalf("case %d: %s did not fire:\n%s\n%s", i, pass, before, log)
			}
			for _, root := range roots {
				if h[root] != 0 {
					t.Fatalf("case %d: %d %s remain after %s:\n%s", i, h[root], root, pass, after)
				}
			}
		} else {
			declined++
			if h[op] != 0 {
				t.Fatalf("case %d: %s fused a near miss (%s):\n%s\nafter:\n%s", i, pass, c.reason, before, after)
			}
			if !explained(log, pass, c.reason) {
				t.Fatalf("case %d: no explain line for g mentions %q:\n%s\n%s", i, c.reason, log, before)
			}
		}
		if c.check != nil {
			if err := c.check(after.Graphs[0]); err != nil {
				t.Fatalf("case %d: %v:\n%s\nafter:\n%s", i, err, before, after)
			}
		}
	}
	if fused == 0 || declined == 0 {
		t.Fatalf("%d patterns and %d near misses drawn: both kinds must be exercised", fused, declined)
	}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// mulOf multiplies a and b in a random operand order.
func mulOf(r *rand.Rand, b *ir.Builder, x, y *ir.Value) *ir.Value {
	if r.IntN(2) == 0 {
		x, y = y, x
	}
	return b.Op("mul", nil, x, y)
}

func addOf(r *rand.Rand, b *ir.Builder, x, y *ir.Value) *ir.Value {
	if r.IntN(2) == 0 {
		x, y = y, x
	}
	return b.Op("add", nil, x, y)
}

func floatDType(r *rand.Rand) ir.DType { return pick(r, ir.F32, ir.BF16) }

func TestPropertyRMSNorm(t *testing.T) {
	// Variants 0-3 are patterns; 4: eps added after the rsqrt; 5: mean over
	// a leading axis; 6: pow exponent 3 or 4; 7: keepdim=0.
	checkFusion(t, "rms_norm", "rms_norm", []string{"rsqrt"}, 8, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		d := int64(pick(r, 1, 3, 7, 12, 13))
		shape := []int64{int64(pick(r, 1, 3, 5)), d}
		if r.IntN(2) == 0 {
			shape = append([]int64{int64(pick(r, 2, 3))}, shape...)
		}
		rank := len(shape)
		x := b.Graph.AddInput("x", ir.T(dt, shape...))
		cast := dt == ir.BF16 || r.IntN(2) == 0
		x32 := x
		if cast {
			x32 = b.Op("cast", ir.Attrs{"dtype": ir.F32}, x)
		}
		c := propCase{fused: true}
		exp, axis, keep := 2.0, pick(r, int64(-1), int64(rank-1)), int64(1)
		switch v {
		case 4:
			c = propCase{reason: "no eps is added before the root"}
		case 5:
			axis, c = int64(pick(r, 0, rank-2)), propCase{reason: "not only the last axis"}
		case 6:
			exp = pick(r, 3.0, 4.0) // x^3 may give NaN rows: both sides agree on them
			c = propCase{reason: fmt.Sprintf("mean of x^%g, not x^2", exp)}
		case 7:
			keep, c = 0, propCase{reason: "keepdim=0"}
		}
		var sq *ir.Value
		if exp == 2 && r.IntN(2) == 0 {
			sq = b.Op("mul", nil, x32, x32)
		} else {
			sq = b.Op("pow", ir.Attrs{"exponent": exp}, x32)
		}
		mean := b.Op("mean", ir.Attrs{"axes": []int64{axis}, "keepdim": keep}, sq)
		eps := b.Const(ir.F32, pick(r, 1e-6, 1e-5))
		var inv *ir.Value
		if v == 4 {
			inv = b.Op("add", nil, b.Op("rsqrt", nil, mean), eps)
		} else {
			inv = b.Op("rsqrt", nil, addOf(r, b, mean, eps))
		}
		if keep == 0 {
			inv = b.Op("unsqueeze", ir.Attrs{"axis": int64(-1)}, inv)
		}
		y := mulOf(r, b, x32, inv)
		if cast {
			y = b.Op("cast", ir.Attrs{"dtype": dt}, y)
		}
		if r.IntN(2) == 0 {
			w := m.AddWeight("norm_w", ir.T(dt, d), "w.safetensors", "norm_w")
			y = mulOf(r, b, y, w)
		}
		b.Graph.Outputs = []*ir.Value{y}
		return c
	})
}

func TestPropertySiLUMul(t *testing.T) {
	// 0: silu(a)*b; 1: a*sigmoid(a)*b; 2: sigmoid(a)*c*b with c != a;
	// 3: silu(a)*b with b broadcasting.
	checkFusion(t, "silu_mul", "silu_mul", []string{"silu", "sigmoid"}, 4, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		rows, d := int64(pick(r, 1, 3, 5)), int64(pick(r, 1, 3, 7, 12, 13))
		a := b.Graph.AddInput("a", ir.T(dt, rows, d))
		up := b.Graph.AddInput("b", ir.T(dt, rows, d))
		c := propCase{fused: true}
		var s *ir.Value
		switch v {
		case 0:
			s = b.Op("silu", nil, a)
		case 1:
			s = mulOf(r, b, a, b.Op("sigmoid", nil, a))
		case 2:
			other := b.Graph.AddInput("c", ir.T(dt, rows, d))
			s = mulOf(r, b, other, b.Op("sigmoid", nil, a))
			c = propCase{reason: "not its own input"}
		case 3:
			if r.IntN(2) == 0 { // the up operand broadcasts along the rows
				up = b.Graph.AddInput("c", ir.T(dt, 1, d))
			} else { // the gate does
				a = b.Graph.AddInput("c", ir.T(dt, rows, 1))
			}
			s = b.Op("silu", nil, a)
			c = propCase{reason: "(broadcasting)"}
		}
		b.Graph.Outputs = []*ir.Value{mulOf(r, b, s, up)}
		return c
	})
}

// ropeTables builds cos and sin tables [1, rows, d] of positions as
// ir/hf/build.go does (f32 angles, cast to dt, unsqueezed); freqScale
// scales inv_freq.
func ropeTables(r *rand.Rand, b *ir.Builder, pos *ir.Value, half int64, dt ir.DType, theta, freqScale float64) (cos, sin *ir.Value) {
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = freqScale / math.Pow(theta, float64(2*i)/float64(2*half))
	}
	p := b.Op("unsqueeze", ir.Attrs{"axis": int64(1)}, b.Op("cast", ir.Attrs{"dtype": ir.F32}, pos))
	f := b.Let("inv_freq", "constant", ir.Attrs{"value": inv, "dtype": ir.F32, "shape": []int64{1, half}})
	freqs := mulOf(r, b, p, f)
	emb := b.Op("concat", ir.Attrs{"axis": pick(r, int64(1), int64(-1))}, freqs, freqs)
	cos = b.Op("cast", ir.Attrs{"dtype": dt}, b.Op("cos", nil, emb))
	sin = b.Op("cast", ir.Attrs{"dtype": dt}, b.Op("sin", nil, emb))
	return b.Op("unsqueeze", ir.Attrs{"axis": int64(0)}, cos), b.Op("unsqueeze", ir.Attrs{"axis": int64(0)}, sin)
}

func TestPropertyRoPE(t *testing.T) {
	// 0-2: patterns; 3: the neg on the first half; 4: halves swapped (the
	// neg on the second operand); 5: cos and sin tables swapped; 6: sin
	// from other frequencies.
	checkFusion(t, "rope", "rope", []string{"add", "cos", "sin"}, 7, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		h, rows, half := int64(pick(r, 1, 3)), int64(pick(r, 1, 3, 5, 7)), int64(pick(r, 1, 3, 6))
		d := 2 * half
		x := b.Graph.AddInput("x", ir.T(dt, h, rows, d))
		pos := b.Graph.AddInput("pos", ir.T(pick(r, ir.I32, ir.I64), rows))
		theta := pick(r, 10000.0, 1e6)
		cos, sin := ropeTables(r, b, pos, half, dt, theta, 1)
		c := propCase{fused: true, intMax: 13}
		ax := pick(r, int64(2), int64(-1))
		x1 := b.Op("slice", ir.Attrs{"axis": ax, "start": int64(0), "end": half}, x)
		x2 := b.Op("slice", ir.Attrs{"axis": ax, "start": half, "end": d}, x)
		var rot *ir.Value
		switch v {
		case 3:
			rot = b.Op("concat", ir.Attrs{"axis": ax}, b.Op("neg", nil, x1), x2)
			c = propCase{reason: "rotate_half negates", intMax: 13}
		case 4:
			rot = b.Op("concat", ir.Attrs{"axis": ax}, x1, b.Op("neg", nil, x2))
			c = propCase{reason: "not the negated second half", intMax: 13}
		default:
			rot = b.Op("concat", ir.Attrs{"axis": ax}, b.Op("neg", nil, x2), x1)
		}
		switch v {
		case 5:
			cos, sin = sin, cos
			c = propCase{reason: "not a cos table", intMax: 13}
		case 6:
			_, sin = ropeTables(r, b, pos, half, dt, theta, 0.5)
			c = propCase{reason: "different positions or frequencies", intMax: 13}
		}
		b.Graph.Outputs = []*ir.Value{addOf(r, b, mulOf(r, b, x, cos), mulOf(r, b, rot, sin))}
		return c
	})
}

func TestPropertyMaskedSoftmax(t *testing.T) {
	// 0: mul scale; 1: div scale; 2: no scale (all with an additive float
	// mask); 3: the causal iota mask (must become causal=1); 4: the mask
	// multiplies; 5: where(cond, scores, min) on the scores; 6: softmax
	// over axis 0; 7: a where mask whose keys run along the wrong axis (all
	// zero): additive, but not the causal one.
	checkFusion(t, "masked_softmax", "masked_softmax", []string{"softmax"}, 8, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		h, rows, cols := int64(pick(r, 1, 2, 3)), int64(pick(r, 1, 3, 5)), int64(pick(r, 1, 3, 7, 12))
		dt := pick(r, ir.F32, ir.BF16, ir.F16)
		s := b.Graph.AddInput("s", ir.T(dt, h, rows, cols))
		c := propCase{fused: true, intMax: cols}
		// positions[t] < cols: key 0 is never masked, so no row is empty.
		pos := b.Graph.AddInput("pos", ir.T(pick(r, ir.I32, ir.I64), rows))
		maskShape := pick(r, []int64{rows, cols}, []int64{h, rows, cols}, []int64{1, rows, cols})
		mask := b.Graph.AddInput("mask", ir.T(dt, maskShape...))
		causal := v == 3 || v == 5 || v == 7
		if causal {
			keyAxis := int64(1)
			if v == 7 {
				keyAxis = 0
			}
			keys := b.Op("iota", ir.Attrs{"shape": []int64{1, cols}, "axis": keyAxis, "dtype": pos.Type.DType})
			future := b.Op("greater", nil, keys, b.Op("unsqueeze", ir.Attrs{"axis": int64(1)}, pos))
			if v != 5 {
				lowest := -3.4e38 // transformers' finfo(dtype).min; f16's is -65504
				if dt == ir.F16 {
					lowest = -65504
				}
				mask = b.Op("where", nil, future, b.Const(dt, pick(r, lowest, math.Inf(-1))), b.Const(dt, 0))
				c.check = func(g *ir.Graph) error {
					for _, n := range g.Nodes {
						if n.Op == "masked_softmax" && (n.Attrs.Int("causal", 0) == 1) != (v == 3) {
							return fmt.Errorf("%s: the causal form was wrongly chosen", ir.FormatNode(n))
						}
					}
					return nil
				}
			} else {
				mask = future
			}
		}
		scores := s
		switch v % 3 {
		case 0:
			scores = mulOf(r, b, s, b.Const(dt, pick(r, 0.5, 0.125, 3.0)))
		case 1:
			scores = b.Op("div", nil, s, b.Const(dt, pick(r, 2.0, 8.0, 0.3)))
		}
		axis := pick(r, int64(-1), int64(2))
		var logits *ir.Value
		switch v {
		case 4:
			logits = mulOf(r, b, scores, mask)
			c = propCase{reason: "not additive", intMax: cols}
		case 5:
			logits = b.Op("where", nil, mask, b.Const(dt, -3.4e38), scores)
			c = propCase{reason: "not additive", intMax: cols}
		case 6:
			logits = addOf(r, b, scores, mask)
			axis, c = 0, propCase{reason: "not the last", intMax: cols}
		default:
			logits = addOf(r, b, scores, mask)
		}
		if dt == ir.BF16 {
			logits = b.Op("cast", ir.Attrs{"dtype": ir.F32}, logits)
		}
		p := b.Op("softmax", ir.Attrs{"axis": axis}, logits)
		if dt == ir.BF16 {
			p = b.Op("cast", ir.Attrs{"dtype": dt}, p)
		}
		b.Graph.Outputs = []*ir.Value{p}
		return c
	})
}

func TestPropertyGQA(t *testing.T) {
	// 0: scores against transposed repeat_kv(K); 1: probabilities against
	// repeat_kv(V); 2: unsqueeze at axis 2 (heads interleaved); 3: a
	// reshape that does not merge (kv_heads, group).
	checkFusion(t, "gqa", GQAOp, []string{"matmul", "expand"}, 4, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		kv, n, seq, rows, d := int64(pick(r, 1, 2, 3)), int64(pick(r, 2, 3)), int64(pick(r, 1, 5, 7)), int64(pick(r, 1, 3)), int64(pick(r, 1, 3, 5))
		hq := kv * n
		k := b.Graph.AddInput("kv", ir.T(dt, kv, seq, d))
		c := propCase{fused: true}
		var rep *ir.Value
		switch v {
		case 2:
			u := b.Op("unsqueeze", ir.Attrs{"axis": int64(2)}, k)
			e := b.Op("expand", ir.Attrs{"shape": []int64{kv, seq, n, d}}, u)
			rep = b.Op("reshape", ir.Attrs{"shape": []int64{hq, seq, d}}, e)
			c = propCase{reason: "not after the KV-head axis (1): not repeat_kv"}
		default:
			u := b.Op("unsqueeze", ir.Attrs{"axis": pick(r, int64(1), int64(-3))}, k)
			e := b.Op("expand", ir.Attrs{"shape": []int64{kv, n, seq, d}}, u)
			if v == 3 {
				rep = b.Op("reshape", ir.Attrs{"shape": []int64{kv, n * seq, d}}, e)
				c = propCase{reason: "does not merge the (kv_heads, group) axes"}
			} else {
				rep = b.Op("reshape", ir.Attrs{"shape": []int64{hq, seq, d}}, e)
			}
		}
		heads, cols := rep.Type.Shape[0], rep.Type.Shape[1]
		var out *ir.Value
		if v == 0 || (v >= 2 && r.IntN(2) == 0) {
			q := b.Graph.AddInput("q", ir.T(dt, heads, rows, d))
			out = b.Op("matmul", nil, q, b.Op("transpose", ir.Attrs{"perm": []int64{0, 2, 1}}, rep))
		} else {
			p := b.Graph.AddInput("p", ir.T(dt, heads, rows, cols))
			out = b.Op("matmul", nil, p, rep)
		}
		if c.fused && r.IntN(2) == 0 { // attention output to [rows, heads, d]
			out = b.Op("transpose", ir.Attrs{"perm": []int64{1, 0, 2}}, out)
			c.check = func(g *ir.Graph) error {
				for _, n := range g.Nodes {
					if n.Op == GQAOp && n.Attrs.Int("rows_first", 0) == 1 {
						return nil
					}
				}
				return fmt.Errorf("the output transpose was not absorbed (rows_first=1)")
			}
		}
		b.Graph.Outputs = []*ir.Value{out}
		return c
	})
}

// viewChain appends 1-4 random view ops to x. Where copyFree, reshapes only
// split an axis, or merge axes of a tensor still laid out row-major, so
// strides always express the chain.
func viewChain(r *rand.Rand, b *ir.Builder, x *ir.Value, copyFree bool) *ir.Value {
	rowMajor := true
	for range 1 + r.IntN(4) {
		s := x.Type.Shape
		rank := len(s)
		switch r.IntN(7) {
		case 0: // transpose
			perm := make([]int64, rank)
			for i, p := range r.Perm(rank) {
				perm[i] = int64(p)
			}
			x = b.Op("transpose", ir.Attrs{"perm": perm}, x)
			rowMajor = rowMajor && slices.IsSorted(perm)
		case 1: // slice
			ax := r.IntN(rank)
			if s[ax] < 2 {
				continue
			}
			start, step := r.Int64N(s[ax]-1), int64(pick(r, 1, 2))
			x = b.Op("slice", ir.Attrs{"axis": int64(ax), "start": start, "end": s[ax], "step": step}, x)
			rowMajor = false
		case 2: // unsqueeze
			if rank >= 5 {
				continue
			}
			x = b.Op("unsqueeze", ir.Attrs{"axis": int64(r.IntN(rank + 1))}, x)
		case 3: // squeeze a size-1 axis, or expand it
			ax := slices.Index(s, 1)
			if ax < 0 {
				continue
			}
			if r.IntN(2) == 0 && rank > 1 {
				x = b.Op("squeeze", ir.Attrs{"axis": int64(ax)}, x)
				continue
			}
			shape := []int64(slices.Clone(s))
			shape[ax] = int64(pick(r, 2, 3))
			x = b.Op("expand", ir.Attrs{"shape": shape}, x)
			rowMajor = false
		case 4: // reshape splitting an axis
			ax := slices.IndexFunc(s, func(d int64) bool { return d%2 == 0 || d%3 == 0 })
			if ax < 0 || rank >= 5 {
				continue
			}
			f := int64(2)
			if s[ax]%2 != 0 {
				f = 3
			}
			shape := slices.Insert([]int64(slices.Clone(s)), ax+1, s[ax]/f)
			shape[ax] = f
			x = b.Op("reshape", ir.Attrs{"shape": shape}, x)
		default: // reshape merging two adjacent axes
			if rank < 2 || (copyFree && !rowMajor) {
				continue
			}
			ax := r.IntN(rank - 1)
			shape := slices.Delete([]int64(slices.Clone(s)), ax+1, ax+2)
			shape[ax] = s[ax] * s[ax+1]
			x = b.Op("reshape", ir.Attrs{"shape": shape}, x)
		}
	}
	return x
}

// views: chains strides express become at most one view and no copy; a
// transpose then a reshape merging the swapped axes gets one explained copy
// (then views as before); any chain gets at most one view per copy plus
// one. Always no primitive view op is left. Twice the cases: chains are
// cheap and varied.
func TestPropertyViews(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		dt := floatDType(r)
		if v == 0 {
			rows, cols, n := int64(pick(r, 2, 3)), int64(pick(r, 3, 5)), int64(pick(r, 1, 3, 7, 12))
			src := b.Op("neg", nil, b.Graph.AddInput("x", ir.T(dt, rows, cols, n)))
			tr := b.Op("transpose", ir.Attrs{"perm": []int64{1, 0, 2}}, src)
			y := b.Op("reshape", ir.Attrs{"shape": []int64{cols * rows, n}}, tr)
			b.Graph.Outputs = []*ir.Value{b.Op("exp", nil, viewChain(r, b, y, false))}
			return propCase{reason: "crosses axes no stride can merge"}
		}
		shape := []int64{int64(pick(r, 1, 2, 3)), int64(pick(r, 1, 4, 5)), int64(pick(r, 3, 6, 7, 12))}
		src := b.Op("neg", nil, b.Graph.AddInput("x", ir.T(dt, shape...)))
		if v == 2 { // any chain: copies where the pass finds them necessary
			b.Graph.Outputs = []*ir.Value{b.Op("exp", nil, viewChain(r, b, src, false))}
			return propCase{}
		}
		b.Graph.Outputs = []*ir.Value{b.Op("exp", nil, viewChain(r, b, src, true))}
		return propCase{fused: true}
	}
	for i := range 2 * propCases {
		v := i % 3
		before, c := buildProp(t, 8, i, 3, gen)
		after, _ := buildProp(t, 8, i, 3, gen)
		log := runPass(t, after, "views")
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), 0)
		h := OpHistogram(after.Graphs[0])
		for op := range viewOps {
			if h[op] != 0 {
				t.Fatalf("case %d: %d %s remain:\n%s", i, h[op], op, after)
			}
		}
		switch {
		case v == 2:
			if h["view"] > 1+h["copy"] {
				t.Fatalf("case %d: a chain left %d views and %d copies:\n%s\nafter:\n%s", i, h["view"], h["copy"], before, after)
			}
		case c.fused && (h["view"] > 1 || h["copy"] != 0 || log != ""):
			t.Fatalf("case %d: a stride-expressible chain left %d views and %d copies:\n%s\nafter:\n%s\n%s", i, h["view"], h["copy"], before, after, log)
		case !c.fused && (h["copy"] == 0 || h["view"] > 1+h["copy"]):
			t.Fatalf("case %d: %d copies and %d views, want a copy and at most one view more than copies:\n%s\nafter:\n%s", i, h["copy"], h["view"], before, after)
		case !c.fused && !explained(log, "views", c.reason):
			t.Fatalf("case %d: no explain line for g mentions %q:\n%s\n%s", i, c.reason, log, before)
		}
	}
}

func TestPropertyLinear(t *testing.T) {
	// 0-2: x @ transpose(W) (+ bias) (+ residual); 3: a batched matmul
	// against a transposed 3-D operand.
	checkFusion(t, "linear", "linear", []string{"matmul"}, 4, func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		rows, k, n := int64(pick(r, 1, 3, 5)), int64(pick(r, 1, 4, 7, 13)), int64(pick(r, 1, 3, 12))
		if v == 3 {
			x := b.Graph.AddInput("x", ir.T(ir.F32, 2, rows, k))
			w := b.Graph.AddInput("w", ir.T(ir.F32, 2, n, k))
			b.Graph.Outputs = []*ir.Value{b.Op("matmul", nil, x, b.Op("transpose", ir.Attrs{"perm": []int64{0, 2, 1}}, w))}
			return propCase{reason: "batched matmul"}
		}
		xs := []int64{rows, k}
		if r.IntN(2) == 0 {
			xs = []int64{int64(pick(r, 1, 2)), rows, k}
		}
		x := b.Graph.AddInput("x", ir.T(ir.F32, xs...))
		w := m.AddWeight("w", ir.T(ir.F32, n, k), "w.safetensors", "w")
		y := b.Op("matmul", nil, x, b.Op("transpose", ir.Attrs{"perm": []int64{1, 0}}, w))
		if r.IntN(2) == 0 {
			y = addOf(r, b, y, m.AddWeight("bias", ir.T(ir.F32, n), "w.safetensors", "bias"))
		}
		if r.IntN(2) == 0 {
			y = addOf(r, b, y, b.Graph.AddInput("res", y.Type))
		}
		b.Graph.Outputs = []*ir.Value{y}
		return propCase{fused: true}
	})
}

// const_fold on random expressions mixing constants, an input and
// identities (x+0, 0+x, x-0, x*1, 1*x, x/1, same-dtype casts): afterwards
// no node but a constant reads only constants, no identity is left, and
// the outputs keep. The near miss is an all-constant tensor over the fold
// limit: left to compute at run time, and explained.
func TestPropertyConstFold(t *testing.T) {
	gen := func(r *rand.Rand, v int, m *ir.Model, b *ir.Builder) propCase {
		n := int64(pick(r, 1, 3, 7, 12))
		x := b.Graph.AddInput("x", ir.T(ir.F32, n))
		pool := []*ir.Value{x, b.Op("iota", ir.Attrs{"shape": []int64{n}, "axis": int64(0), "dtype": ir.F32})}
		vec := make([]float64, n)
		for i := range vec {
			vec[i] = float64(r.IntN(5)) - 1
		}
		pool = append(pool, b.Op("constant", ir.Attrs{"value": vec, "dtype": ir.F32, "shape": []int64{n}}))
		for range 3 + r.IntN(6) {
			a, c := pick(r, pool...), pick(r, pool...)
			var y *ir.Value
			switch r.IntN(6) {
			case 0:
				y = b.Op(pick(r, "add", "mul", "sub"), nil, a, c)
			case 1:
				y = b.Op(pick(r, "exp", "neg", "sigmoid"), nil, a)
			case 2: // an identity
				switch r.IntN(4) {
				case 0:
					y = addOf(r, b, a, b.Const(ir.F32, 0))
				case 1:
					y = mulOf(r, b, a, b.Const(ir.F32, 1))
				case 2:
					if r.IntN(2) == 0 {
						y = b.Op("sub", nil, a, b.Const(ir.F32, 0))
					} else {
						y = b.Op("div", nil, a, b.Const(ir.F32, 1))
					}
				default:
					y = b.Op("cast", ir.Attrs{"dtype": ir.F32}, a)
				}
			case 3: // an operand that is 0 or 1 but broadcasts: no identity
				z := b.Op("constant", ir.Attrs{"value": []float64{0}, "dtype": ir.F32, "shape": []int64{2, n}})
				y = b.Op("add", nil, a, z)
				y = b.Op("slice", ir.Attrs{"axis": int64(0), "start": int64(0), "end": int64(1)}, y)
				y = b.Op("reshape", ir.Attrs{"shape": []int64{n}}, y)
			case 4:
				y = b.Op("mul", nil, a, b.Const(ir.F32, pick(r, 0.5, 2, -1)))
			default:
				y = b.Op("cast", ir.Attrs{"dtype": ir.F32}, b.Op("cast", ir.Attrs{"dtype": ir.BF16}, a))
			}
			pool = append(pool, y)
		}
		b.Graph.Outputs = pool[1:]
		if v == 1 { // over the fold limit
			big := b.Op("iota", ir.Attrs{"shape": []int64{5, 211}, "axis": int64(1), "dtype": ir.F32})
			b.Graph.Outputs = append(b.Graph.Outputs, b.Op("add", nil, big, b.Graph.AddInput("y", ir.T(ir.F32, 5, 211))))
			return propCase{reason: "over the fold limit of 1024"}
		}
		return propCase{fused: true}
	}
	for i := range propCases {
		before, c := buildProp(t, 9, i, 2, gen)
		after, _ := buildProp(t, 9, i, 2, gen)
		log := runPass(t, after, "const_fold")
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), 0)
		consts := map[*ir.Value]float64{} // uniform constants
		for _, node := range after.Graphs[0].Nodes {
			if node.Op == "constant" {
				if vals := node.Attrs.Floats("value"); uniform(vals) {
					consts[node.Outputs[0]] = vals[0]
				}
				continue
			}
			big := node.Outputs[0].Type.Shape.NumElements() > foldLimit
			allConst := true
			for _, in := range node.Inputs {
				allConst = allConst && in.Def != nil && in.Def.Op == "constant"
			}
			if allConst && !big {
				t.Fatalf("case %d: %s reads only constants but was not folded:\n%s\nafter:\n%s", i, ir.FormatNode(node), before, after)
			}
			if identityOperand(node, nil, newRewriter(after.Graphs[0])) != nil || isIdentity(node, consts) {
				t.Fatalf("case %d: identity %s was kept:\n%s\nafter:\n%s", i, ir.FormatNode(node), before, after)
			}
		}
		if !c.fused && (OpHistogram(after.Graphs[0])["iota"] != 1 || !explained(log, "const_fold", c.reason)) {
			t.Fatalf("case %d: the big iota was folded or not explained (%q):\n%s\nafter:\n%s", i, c.reason, log, after)
		}
	}
}

// isIdentity reports whether n computes an operand unchanged, judged
// independently of the pass: x+0, 0+x, x-0, x*1, 1*x, x/1 without
// broadcasting, and casts to the same dtype.
func isIdentity(n *ir.Node, consts map[*ir.Value]float64) bool {
	out := n.Outputs[0].Type
	is := func(i int, want float64) bool {
		k, ok := consts[n.Inputs[i]]
		return ok && k == want && n.Inputs[1-i].Type.Equal(out)
	}
	switch n.Op {
	case "cast":
		return n.Inputs[0].Type.DType == out.DType
	case "add":
		return is(0, 0) || is(1, 0)
	case "mul":
		return is(0, 1) || is(1, 1)
	case "sub":
		return is(1, 0)
	case "div":
		return is(1, 1)
	}
	return false
}

// cse on random graphs with exact duplicates (possibly reading other
// duplicates), near duplicates (other attributes, other constants, other
// operand order) and duplicated state writes: afterwards the graph holds
// exactly one node per distinct computation, every state write stays, and
// the outputs keep.
func TestPropertyCSE(t *testing.T) {
	var distinct, writes int
	gen := func(r *rand.Rand, _ int, m *ir.Model, b *ir.Builder) propCase {
		n := int64(pick(r, 1, 3, 7, 12))
		cache := m.AddState("cache", ir.T(ir.F32, 8, n))
		pos := b.Graph.AddInput("pos", ir.T(ir.I32, 1))
		x, y := b.Graph.AddInput("x", ir.T(ir.F32, 1, n)), b.Graph.AddInput("y", ir.T(ir.F32, 1, n))
		// A class is a computation (op, attributes, classes of the
		// inputs); its members are the nodes built for it.
		members := map[string][]*ir.Value{"x": {x}, "y": {y}, "@cache": {cache}, "pos": {pos}}
		f32 := []string{"x", "y"} // classes usable as f32[1, n] operands
		var order []string
		type recipe struct {
			op string
			a  ir.Attrs
			in []string
		}
		var recipes []recipe
		distinct, writes = 0, 0
		emit := func(rc recipe) {
			in := make([]*ir.Value, len(rc.in))
			for j, k := range rc.in {
				in[j] = pick(r, members[k]...)
			}
			v := b.Op(rc.op, rc.a, in...)
			recipes = append(recipes, rc)
			if rc.op == "cache_write" {
				writes++
				return
			}
			key := rc.op + "(" + strings.Join(rc.in, ",") + "){" + ir.FormatAttrs(v.Def) + "}"
			if members[key] == nil {
				distinct++
				order = append(order, key)
				if v.Type.Equal(x.Type) {
					f32 = append(f32, key)
				}
			}
			members[key] = append(members[key], v)
		}
		for range 4 + r.IntN(10) {
			if len(recipes) > 0 && r.IntN(3) == 0 { // a duplicate
				emit(pick(r, recipes...))
				continue
			}
			switch r.IntN(6) {
			case 0:
				emit(recipe{op: pick(r, "add", "mul", "sub"), in: []string{pick(r, f32...), pick(r, f32...)}})
			case 1:
				emit(recipe{op: pick(r, "exp", "neg"), in: []string{pick(r, f32...)}})
			case 2:
				emit(recipe{op: "constant", a: ir.Attrs{"value": []float64{pick(r, 0.5, 2.0)}, "dtype": ir.F32, "shape": []int64{1, n}}})
			case 3:
				emit(recipe{op: "cast", a: ir.Attrs{"dtype": pick(r, ir.F32, ir.BF16, ir.F16)}, in: []string{pick(r, f32...)}})
			case 4:
				emit(recipe{op: "softmax", a: ir.Attrs{"axis": pick(r, int64(0), int64(1))}, in: []string{pick(r, f32...)}})
			default: // a state write: never merged
				emit(recipe{op: "cache_write", a: ir.Attrs{"axis": int64(0)}, in: []string{"@cache", pick(r, f32...), "pos"}})
			}
		}
		for _, k := range order { // every member is read, so none dies
			b.Graph.Outputs = append(b.Graph.Outputs, members[k]...)
		}
		return propCase{fused: true, intMax: 8}
	}
	merged := 0
	for i := range propCases {
		before, c := buildProp(t, 10, i, 1, gen)
		after, _ := buildProp(t, 10, i, 1, gen)
		runPass(t, after, "cse")
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), c.intMax)
		h := OpHistogram(after.Graphs[0])
		if got := len(after.Graphs[0].Nodes) - h["cache_write"]; got != distinct {
			t.Fatalf("case %d: %d nodes (besides state writes) after cse, want %d distinct computations:\n%s\nafter:\n%s", i, got, distinct, before, after)
		}
		if h["cache_write"] != writes {
			t.Fatalf("case %d: %d state writes left of %d:\n%s", i, h["cache_write"], writes, after)
		}
		merged += len(before.Graphs[0].Nodes) - len(after.Graphs[0].Nodes)
	}
	if merged == 0 {
		t.Fatal("no duplicate was drawn")
	}
}

// dce on random graphs with dead chains and unread state writes: every
// node left is read (or writes state), every state write stays, and the
// outputs keep.
func TestPropertyDCE(t *testing.T) {
	var writes int
	gen := func(r *rand.Rand, _ int, m *ir.Model, b *ir.Builder) propCase {
		cache := m.AddState("cache", ir.T(ir.F32, 2, 8, 3))
		x := b.Graph.AddInput("x", ir.T(ir.F32, 2, 1, 3))
		pos := b.Graph.AddInput("pos", ir.T(ir.I32, 1))
		vals := []*ir.Value{x}
		writes = 0
		for range 3 + r.IntN(8) {
			switch r.IntN(4) {
			case 0:
				b.Op("cache_write", ir.Attrs{"axis": int64(1)}, cache, pick(r, vals...), pos)
				writes++
			case 1:
				vals = append(vals, b.Op("add", nil, pick(r, vals...), pick(r, vals...)))
			default:
				vals = append(vals, b.Op(pick(r, "neg", "exp", "sigmoid"), nil, pick(r, vals...)))
			}
		}
		b.Graph.Outputs = []*ir.Value{pick(r, vals...)}
		return propCase{fused: true, intMax: 6}
	}
	for i := range propCases {
		before, c := buildProp(t, 11, i, 1, gen)
		after, _ := buildProp(t, 11, i, 1, gen)
		runPass(t, after, "dce")
		sameOutputs(t, fmt.Sprintf("case %d", i), before, after, uint64(i), c.intMax)
		g := after.Graphs[0]
		if got := OpHistogram(g)["cache_write"]; got != writes {
			t.Fatalf("case %d: %d state writes left of %d", i, got, writes)
		}
		read := map[*ir.Value]bool{g.Outputs[0]: true}
		for k := len(g.Nodes) - 1; k >= 0; k-- {
			n := g.Nodes[k]
			if n.Op != "cache_write" && !read[n.Outputs[0]] {
				t.Fatalf("case %d: %s is dead but kept:\n%s", i, ir.FormatNode(n), after)
			}
			for _, in := range n.Inputs {
				read[in] = true
			}
		}
	}
}
