package passes

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// A property case is a random small graph holding a pass's pattern (then
// the fused op must appear) or a near miss (then it must not, and the
// explain log must give the reason).
type propertyCase struct {
	src    string
	fused  bool
	reason string // near misses: a substring of the explain line
	// check, when set, inspects the rewritten graph further.
	check func(g *ir.Graph) error
}

// checkProperty runs pass on graphs drawn by gen and checks meaning
// (outputs before and after on random inputs), firing and explanations.
func checkProperty(t *testing.T, pass, op string, gen func(r *rand.Rand) propertyCase) {
	r := rand.New(rand.NewPCG(7, uint64(len(pass))))
	for i := range 40 {
		c := gen(r)
		src := "irc v1\n\n" + c.src
		before, err := ir.Parse("case.ir", src)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, src)
		}
		after, _ := ir.Parse("case.ir", src)
		var log strings.Builder
		compile(t, after, Options{Pipeline: []string{pass}, GPULayers: -1, Explain: map[string]bool{pass: true}, Log: &log})
		sameOutputs(t, before, after)
		n := histogram(after.Graphs[0])[op]
		switch {
		case c.fused && n == 0:
			t.Fatalf("case %d: %s did not fire:\n%s\n%s", i, pass, src, log.String())
		case !c.fused && n != 0:
			t.Fatalf("case %d: %s fused a near miss (%s):\n%s", i, pass, c.reason, src)
		case !c.fused && !(strings.Contains(log.String(), "explain "+pass+": g ") && strings.Contains(log.String(), c.reason)):
			t.Fatalf("case %d: the explain log lacks %q:\n%s\n%s", i, c.reason, log.String(), src)
		}
		if c.check != nil {
			if err := c.check(after.Graphs[0]); err != nil {
				t.Fatalf("case %d: %v:\n%s\n%s", i, err, src, after)
			}
		}
	}
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func TestPropertyRMSNorm(t *testing.T) {
	checkProperty(t, "rms_norm", "rms_norm", func(r *rand.Rand) propertyCase {
		rows, d := pick(r, 1, 3, 5), pick(r, 1, 6, 7, 13)
		dt := pick(r, "f32", "bf16")
		cast := dt == "bf16" || r.IntN(2) == 0
		var b strings.Builder
		fmt.Fprintf(&b, "weight @w : %s[%d] = \"w.safetensors\" \"w\"\n\ngraph g(%%x: %s[%d,%d]) {\n", dt, d, dt, rows, d)
		x32 := "%x"
		if cast {
			fmt.Fprintf(&b, "  %%x32 = cast(%%x) {dtype=f32} : f32[%d,%d]\n", rows, d)
			x32 = "%x32"
		}
		c := propertyCase{fused: true}
		miss := r.IntN(4)
		exp, axes, keep := "2", "-1", 1
		switch miss {
		case 1:
			exp, c = "3", propertyCase{reason: "mean of x^3"}
		case 2:
			keep, c = 0, propertyCase{reason: "keepdim=0"}
		case 3:
			axes, c = "0", propertyCase{reason: "not only the last axis"}
		}
		red := fmt.Sprintf("[%d,1]", rows)
		if axes == "0" {
			red = fmt.Sprintf("[1,%d]", d)
		}
		if keep == 0 {
			red = fmt.Sprintf("[%d]", rows)
		}
		if exp == "2" && r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%sq = mul(%s, %s) : f32[%d,%d]\n", x32, x32, rows, d)
		} else {
			fmt.Fprintf(&b, "  %%sq = pow(%s) {exponent=%s} : f32[%d,%d]\n", x32, exp, rows, d)
		}
		fmt.Fprintf(&b, "  %%var = mean(%%sq) {axes=[%s], keepdim=%d} : f32%s\n", axes, keep, red)
		fmt.Fprintf(&b, "  %%eps = constant() {value=[%g], dtype=f32, shape=[]} : f32[]\n", pick(r, 1e-6, 1e-5))
		fmt.Fprintf(&b, "  %%sum = add(%s) : f32%s\n", pick(r, "%var, %eps", "%eps, %var"), red)
		fmt.Fprintf(&b, "  %%inv = rsqrt(%%sum) : f32%s\n", red)
		if keep == 0 {
			fmt.Fprintf(&b, "  %%invk = unsqueeze(%%inv) {axis=1} : f32[%d,1]\n  %%n = mul(%s, %%invk) : f32[%d,%d]\n", rows, x32, rows, d)
		} else {
			fmt.Fprintf(&b, "  %%n = mul(%s) : f32[%d,%d]\n", pick(r, x32+", %inv", "%inv, "+x32), rows, d)
		}
		out := "%n"
		if cast {
			fmt.Fprintf(&b, "  %%nc = cast(%%n) {dtype=%s} : %s[%d,%d]\n", dt, dt, rows, d)
			out = "%nc"
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%out = mul(%s) : %s[%d,%d]\n", pick(r, "@w, "+out, out+", @w"), dt, rows, d)
			out = "%out"
		}
		fmt.Fprintf(&b, "  return %s\n}\n", out)
		c.src = b.String()
		return c
	})
}

func TestPropertySiLUMul(t *testing.T) {
	checkProperty(t, "silu_mul", "silu_mul", func(r *rand.Rand) propertyCase {
		rows, d := pick(r, 2, 5), pick(r, 1, 3, 7, 12)
		ty := fmt.Sprintf("f32[%d,%d]", rows, d)
		src := fmt.Sprintf("graph g(%%a: %s, %%b: %s, %%c: f32[1,%d]) {\n", ty, ty, d)
		c := propertyCase{fused: true}
		switch r.IntN(4) {
		case 0:
			src += fmt.Sprintf("  %%s = silu(%%a) : %s\n  %%o = mul(%s) : %s\n", ty, pick(r, "%s, %b", "%b, %s"), ty)
		case 1:
			src += fmt.Sprintf("  %%sg = sigmoid(%%a) : %s\n  %%s = mul(%s) : %s\n  %%o = mul(%%s, %%b) : %s\n", ty, pick(r, "%a, %sg", "%sg, %a"), ty, ty)
		case 2: // sigmoid of one value times another: not silu
			src += fmt.Sprintf("  %%sg = sigmoid(%%a) : %s\n  %%s = mul(%%b, %%sg) : %s\n  %%o = mul(%%s, %%b) : %s\n", ty, ty, ty)
			c = propertyCase{reason: "not its own input"}
		case 3: // the up operand broadcasts
			src = fmt.Sprintf("graph g(%%a: %s, %%b: %s, %%c: f32[1,%d]) {\n  %%s = silu(%%c) : f32[1,%d]\n  %%o = mul(%%s, %%a) : %s\n", ty, ty, d, d, ty)
			c = propertyCase{reason: "broadcasting"}
		}
		c.src = src + "  return %o\n}\n"
		return c
	})
}

func TestPropertyMaskedSoftmax(t *testing.T) {
	checkProperty(t, "masked_softmax", "masked_softmax", func(r *rand.Rand) propertyCase {
		h, rows, cols := pick(r, 1, 2, 3), pick(r, 1, 3), pick(r, 3, 5, 7)
		ty := fmt.Sprintf("f32[%d,%d,%d]", h, rows, cols)
		var b strings.Builder
		fmt.Fprintf(&b, "graph g(%%s: %s, %%pos: i32[%d], %%m: f32[%d,%d]) {\n", ty, rows, rows, cols)
		c := propertyCase{fused: true}
		mask := "%m"
		if causal := r.IntN(3); causal > 0 {
			// causal == 2: the keys run along the wrong axis (all zero): an
			// ordinary additive mask, not the causal one.
			c.check = func(g *ir.Graph) error {
				for _, n := range g.Nodes {
					if n.Op == "masked_softmax" && (n.Attrs.Int("causal", 0) == 1) != (causal == 1) {
						return fmt.Errorf("%s: causal form wrongly chosen", ir.FormatNode(n))
					}
				}
				return nil
			}
			fmt.Fprintf(&b, "  %%keys = iota() {shape=[1,%d], axis=%d, dtype=i32} : i32[1,%d]\n", cols, causal%2, cols)
			fmt.Fprintf(&b, "  %%rows = unsqueeze(%%pos) {axis=1} : i32[%d,1]\n", rows)
			fmt.Fprintf(&b, "  %%future = greater(%%keys, %%rows) : bool[%d,%d]\n", rows, cols)
			fmt.Fprintf(&b, "  %%min = constant() {value=[-3.4e+38], dtype=f32, shape=[]} : f32[]\n  %%zero = constant() {value=[0], dtype=f32, shape=[]} : f32[]\n")
			fmt.Fprintf(&b, "  %%mask = where(%%future, %%min, %%zero) : f32[%d,%d]\n", rows, cols)
			mask = "%mask"
		}
		fmt.Fprintf(&b, "  %%k = constant() {value=[%g], dtype=f32, shape=[]} : f32[]\n", pick(r, 0.5, 0.125, 3.0))
		scaled := "%s"
		switch r.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "  %%sc = mul(%s) : %s\n", pick(r, "%s, %k", "%k, %s"), ty)
			scaled = "%sc"
		case 1:
			fmt.Fprintf(&b, "  %%sc = div(%%s, %%k) : %s\n", ty)
			scaled = "%sc"
		}
		axis := "-1"
		switch r.IntN(4) {
		case 0: // the mask multiplies: not additive
			fmt.Fprintf(&b, "  %%l = mul(%s, %s) : %s\n", scaled, mask, ty)
			c = propertyCase{reason: "not additive"}
		case 1: // softmax over the heads
			fmt.Fprintf(&b, "  %%l = add(%s, %s) : %s\n", scaled, mask, ty)
			axis, c = "0", propertyCase{reason: "not the last"}
		default:
			fmt.Fprintf(&b, "  %%l = add(%s) : %s\n", pick(r, scaled+", "+mask, mask+", "+scaled), ty)
		}
		fmt.Fprintf(&b, "  %%p = softmax(%%l) {axis=%s} : %s\n  return %%p\n}\n", axis, ty)
		c.src = b.String()
		return c
	})
}

func TestPropertyGQA(t *testing.T) {
	checkProperty(t, "gqa", GQAOp, func(r *rand.Rand) propertyCase {
		kv, n, seq, d := pick(r, 1, 2, 3), pick(r, 2, 3), pick(r, 1, 5), pick(r, 4, 6)
		hq := kv * n
		var b strings.Builder
		fmt.Fprintf(&b, "graph g(%%q: f32[%d,1,%d], %%k: f32[%d,%d,%d], %%p: f32[%d,1,%d]) {\n", hq, d, kv, seq, d, hq, seq)
		c := propertyCase{fused: true}
		if r.IntN(3) == 0 { // heads interleaved (unsqueeze at 2): not repeat_kv
			fmt.Fprintf(&b, "  %%u = unsqueeze(%%k) {axis=2} : f32[%d,%d,1,%d]\n  %%e = expand(%%u) {shape=[%d,%d,%d,%d]} : f32[%d,%d,%d,%d]\n", kv, seq, d, kv, seq, n, d, kv, seq, n, d)
			c = propertyCase{reason: "not repeat_kv"}
		} else {
			fmt.Fprintf(&b, "  %%u = unsqueeze(%%k) {axis=1} : f32[%d,1,%d,%d]\n  %%e = expand(%%u) {shape=[%d,%d,%d,%d]} : f32[%d,%d,%d,%d]\n", kv, seq, d, kv, n, seq, d, kv, n, seq, d)
		}
		fmt.Fprintf(&b, "  %%rep = reshape(%%e) {shape=[%d,%d,%d]} : f32[%d,%d,%d]\n", hq, seq, d, hq, seq, d)
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%t = transpose(%%rep) {perm=[0,2,1]} : f32[%d,%d,%d]\n  %%o = matmul(%%q, %%t) : f32[%d,1,%d]\n", hq, d, seq, hq, seq)
		} else {
			fmt.Fprintf(&b, "  %%o = matmul(%%p, %%rep) : f32[%d,1,%d]\n", hq, d)
		}
		c.src = b.String() + "  return %o\n}\n"
		return c
	})
}

// views: random chains of view ops keep their values and leave no
// primitive view op; whatever is not the input itself is one view (after a
// copy where a reshape needs one).
func TestPropertyViews(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 150 {
		shape := []int64{int64(pick(r, 2, 3)), int64(pick(r, 1, 4)), int64(pick(r, 5, 6))}
		var b strings.Builder
		fmt.Fprintf(&b, "irc v1\n\ngraph g(%%x: f32%s) {\n", ir.Shape(shape))
		cur := "%x"
		for j := range 1 + r.IntN(4) {
			var op, attrs string
			next := shape
			switch r.IntN(4) {
			case 0:
				op, attrs = "transpose", "perm=[2,1,0]"
				next = []int64{shape[2], shape[1], shape[0]}
			case 1:
				start, step := r.Int64N(shape[2]), int64(pick(r, 1, 2))
				op, attrs = "slice", fmt.Sprintf("axis=2, start=%d, end=%d, step=%d", start, shape[2], step)
				next = []int64{shape[0], shape[1], (shape[2] - start + step - 1) / step}
			case 2:
				op, attrs = "reshape", fmt.Sprintf("shape=[%d,%d,%d]", shape[1], shape[0], shape[2])
				next = []int64{shape[1], shape[0], shape[2]}
			default:
				op, attrs = "reshape", fmt.Sprintf("shape=[%d,1,%d]", shape[0]*shape[1], shape[2])
				next = []int64{shape[0] * shape[1], 1, shape[2]}
			}
			fmt.Fprintf(&b, "  %%v%d = %s(%s) {%s} : f32%s\n", j, op, cur, attrs, ir.Shape(next))
			cur, shape = fmt.Sprintf("%%v%d", j), next
		}
		fmt.Fprintf(&b, "  %%out = neg(%s) : f32%s\n  return %%out\n}\n", cur, ir.Shape(shape))
		before, err := ir.Parse("case.ir", b.String())
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, b.String())
		}
		after, _ := ir.Parse("case.ir", b.String())
		compile(t, after, Options{Pipeline: []string{"views"}, GPULayers: -1})
		sameOutputs(t, before, after)
		h := histogram(after.Graphs[0])
		for op := range viewOps {
			if h[op] != 0 {
				t.Fatalf("case %d: %d %s remain:\n%s", i, h[op], op, after)
			}
		}
		if h["view"] > 1+h["copy"] {
			t.Fatalf("case %d: a chain left %d views and %d copies:\n%s", i, h["view"], h["copy"], after)
		}
	}
}

func TestPropertyRoPE(t *testing.T) {
	checkProperty(t, "rope", "rope", func(r *rand.Rand) propertyCase {
		h, rows, half := pick(r, 1, 2, 3), pick(r, 1, 3, 5), pick(r, 1, 2, 3, 6)
		d := 2 * half
		dt := pick(r, "f32", "bf16")
		var b strings.Builder
		fmt.Fprintf(&b, "graph g(%%x: %s[%d,%d,%d], %%pos: i32[%d]) {\n", dt, h, rows, d, rows)
		freqs, freqs2 := make([]string, half), make([]string, half)
		for i := range freqs {
			freqs[i] = fmt.Sprint(1 / float64(int(1)<<(3*i)))
			freqs2[i] = fmt.Sprint(0.5 / float64(int(1)<<(3*i)))
		}
		fmt.Fprintf(&b, "  %%pf = cast(%%pos) {dtype=f32} : f32[%d]\n  %%pu = unsqueeze(%%pf) {axis=1} : f32[%d,1]\n", rows, rows)
		fmt.Fprintf(&b, "  %%inv = constant() {value=[%s], dtype=f32, shape=[1,%d]} : f32[1,%d]\n", strings.Join(freqs, ","), half, half)
		fmt.Fprintf(&b, "  %%f = mul(%s) : f32[%d,%d]\n", pick(r, "%pu, %inv", "%inv, %pu"), rows, half)
		fmt.Fprintf(&b, "  %%emb = concat(%%f, %%f) {axis=1} : f32[%d,%d]\n", rows, d)
		for _, fn := range []string{"cos", "sin"} {
			src := "%" + fn + "32"
			fmt.Fprintf(&b, "  %s = %s(%%emb) : f32[%d,%d]\n", src, fn, rows, d)
			if dt != "f32" {
				fmt.Fprintf(&b, "  %%%sc = cast(%s) {dtype=%s} : %s[%d,%d]\n", fn, src, dt, dt, rows, d)
				src = "%" + fn + "c"
			}
			fmt.Fprintf(&b, "  %%%s = unsqueeze(%s) {axis=0} : %s[1,%d,%d]\n", fn, src, dt, rows, d)
		}
		x := fmt.Sprintf("%s[%d,%d,%d]", dt, h, rows, d)
		hx := fmt.Sprintf("%s[%d,%d,%d]", dt, h, rows, half)
		c := propertyCase{fused: true}
		lo, hi := "%lo", "%hi"
		cosT, sinT := "%cos", "%sin"
		switch r.IntN(6) {
		case 0: // the wrong half negated
			lo, hi = "%hi", "%lo"
			c = propertyCase{reason: "rotate_half negates"}
		case 1: // cos and sin swapped
			cosT, sinT = "%sin", "%cos"
			c = propertyCase{reason: "not a cos table"}
		case 2: // sin from other frequencies
			fmt.Fprintf(&b, "  %%inv2 = constant() {value=[%s], dtype=f32, shape=[1,%d]} : f32[1,%d]\n", strings.Join(freqs2, ","), half, half)
			fmt.Fprintf(&b, "  %%f2 = mul(%%pu, %%inv2) : f32[%d,%d]\n  %%emb2 = concat(%%f2, %%f2) {axis=1} : f32[%d,%d]\n", rows, half, rows, d)
			fmt.Fprintf(&b, "  %%sin2 = sin(%%emb2) : f32[%d,%d]\n", rows, d)
			if dt != "f32" {
				fmt.Fprintf(&b, "  %%sin2c = cast(%%sin2) {dtype=%s} : %s[%d,%d]\n  %%sinx = unsqueeze(%%sin2c) {axis=0} : %s[1,%d,%d]\n", dt, dt, rows, d, dt, rows, d)
			} else {
				fmt.Fprintf(&b, "  %%sinx = unsqueeze(%%sin2) {axis=0} : %s[1,%d,%d]\n", dt, rows, d)
			}
			sinT = "%sinx"
			c = propertyCase{reason: "different positions or frequencies"}
		}
		fmt.Fprintf(&b, "  %%lo = slice(%%x) {axis=2, start=0, end=%d} : %s\n  %%hi = slice(%%x) {axis=2, start=%d, end=%d} : %s\n", half, hx, half, d, hx)
		fmt.Fprintf(&b, "  %%n = neg(%s) : %s\n  %%rot = concat(%%n, %s) {axis=2} : %s\n", hi, hx, lo, x)
		fmt.Fprintf(&b, "  %%xc = mul(%s) : %s\n", pick(r, "%x, "+cosT, cosT+", %x"), x)
		fmt.Fprintf(&b, "  %%xs = mul(%s) : %s\n", pick(r, "%rot, "+sinT, sinT+", %rot"), x)
		fmt.Fprintf(&b, "  %%out = add(%s) : %s\n  return %%out\n}\n", pick(r, "%xc, %xs", "%xs, %xc"), x)
		c.src = b.String()
		return c
	})
}

func TestPropertyLinear(t *testing.T) {
	checkProperty(t, "linear", "linear", func(r *rand.Rand) propertyCase {
		rows, k, n := pick(r, 1, 3, 5), pick(r, 1, 4, 7), pick(r, 1, 3, 6)
		var b strings.Builder
		fmt.Fprintf(&b, "weight @w : f32[%d,%d] = \"w.safetensors\" \"w\"\nweight @b : f32[%d] = \"w.safetensors\" \"b\"\n\n", n, k, n)
		fmt.Fprintf(&b, "graph g(%%x: f32[%d,%d], %%r: f32[%d,%d], %%w3: f32[2,%d,%d], %%x3: f32[2,%d,%d]) {\n", rows, k, rows, n, n, k, rows, k)
		y := fmt.Sprintf("f32[%d,%d]", rows, n)
		if r.IntN(4) == 0 { // a batched matmul against a transposed 3-D operand
			fmt.Fprintf(&b, "  %%t = transpose(%%w3) {perm=[0,2,1]} : f32[2,%d,%d]\n  %%o = matmul(%%x3, %%t) : f32[2,%d,%d]\n  return %%o\n}\n", k, n, rows, n)
			return propertyCase{src: b.String(), reason: "batched matmul"}
		}
		fmt.Fprintf(&b, "  %%t = transpose(@w) {perm=[1,0]} : f32[%d,%d]\n  %%o = matmul(%%x, %%t) : %s\n", k, n, y)
		out := "%o"
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%ob = add(%s) : %s\n", pick(r, out+", @b", "@b, "+out), y)
			out = "%ob"
		}
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%or = add(%s) : %s\n", pick(r, out+", %r", "%r, "+out), y)
			out = "%or"
		}
		fmt.Fprintf(&b, "  return %s\n}\n", out)
		return propertyCase{src: b.String(), fused: true}
	})
}

// const_fold and cse on random constant expressions: every all-constant
// node within the fold limit becomes a constant, duplicates merge, and the
// outputs stay.
func TestPropertyConstFoldAndCSE(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 40 {
		n := pick(r, 1, 3, 8)
		var b strings.Builder
		fmt.Fprintf(&b, "irc v1\n\ngraph g(%%x: f32[%d]) {\n", n)
		fmt.Fprintf(&b, "  %%i = iota() {shape=[%d], axis=0, dtype=f32} : f32[%d]\n", n, n)
		vals := []string{"%i"}
		for j := range 2 + r.IntN(5) {
			a, c := pick(r, vals...), pick(r, vals...)
			k := fmt.Sprintf("%%c%d", j)
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "  %s = constant() {value=[%g], dtype=f32, shape=[]} : f32[]\n  %s_b = add(%s, %s) : f32[%d]\n", k, pick(r, 0.0, 1.0, 2.5), k, a, k, n)
				k += "_b"
			case 1:
				fmt.Fprintf(&b, "  %s = mul(%s, %s) : f32[%d]\n", k, a, c, n)
			case 2:
				fmt.Fprintf(&b, "  %s = add(%s, %%x) : f32[%d]\n", k, a, n)
			default:
				fmt.Fprintf(&b, "  %s = exp(%s) : f32[%d]\n", k, pick(r, "%i", a), n)
			}
			vals = append(vals, k)
		}
		fmt.Fprintf(&b, "  return %s\n}\n", strings.Join(vals[1:], ", "))
		before, err := ir.Parse("case.ir", b.String())
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, b.String())
		}
		after, _ := ir.Parse("case.ir", b.String())
		compile(t, after, Options{Pipeline: []string{"const_fold", "cse"}, GPULayers: -1})
		sameOutputs(t, before, after)
		seen := map[string]bool{}
		for _, node := range after.Graphs[0].Nodes {
			allConst := node.Op != "constant" && node.Op != "iota"
			for _, in := range node.Inputs {
				allConst = allConst && in.Def != nil && in.Def.Op == "constant"
			}
			if allConst || node.Op == "iota" {
				t.Fatalf("case %d: %s was not folded:\n%s", i, ir.FormatNode(node), after)
			}
			if node.Op != "constant" {
				key := node.Op + fmt.Sprint(node.Inputs) + ir.FormatAttrs(node)
				if seen[key] {
					t.Fatalf("case %d: duplicate %s survived cse:\n%s", i, ir.FormatNode(node), after)
				}
				seen[key] = true
			}
		}
	}
}

// dce on random graphs with dead chains and unread cache writes: every node
// left is read (or writes state), every state write stays, outputs keep.
func TestPropertyDCE(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := range 40 {
		var b strings.Builder
		b.WriteString("irc v1\n\nstate @cache : f32[2,8,3]\n\ngraph g(%x: f32[2,1,3], %pos: i32[1]) {\n")
		vals := []string{"%x"}
		writes := 0
		for j := range 3 + r.IntN(8) {
			v := fmt.Sprintf("%%v%d", j)
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&b, "  %s = cache_write(@cache, %s, %%pos) {axis=1} : f32[2,8,3]\n", v, pick(r, vals...))
				writes++
				continue // a state, not an f32[2,1,3] value
			case 1:
				fmt.Fprintf(&b, "  %s = add(%s, %s) : f32[2,1,3]\n", v, pick(r, vals...), pick(r, vals...))
			default:
				fmt.Fprintf(&b, "  %s = %s(%s) : f32[2,1,3]\n", v, pick(r, "neg", "exp", "sigmoid"), pick(r, vals...))
			}
			vals = append(vals, v)
		}
		fmt.Fprintf(&b, "  return %s\n}\n", pick(r, vals...))
		before, err := ir.Parse("case.ir", b.String())
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, b.String())
		}
		after, _ := ir.Parse("case.ir", b.String())
		compile(t, after, Options{Pipeline: []string{"dce"}, GPULayers: -1})
		sameOutputs(t, before, after)
		g := after.Graphs[0]
		if got := histogram(g)["cache_write"]; got != writes {
			t.Fatalf("case %d: %d cache writes left of %d", i, got, writes)
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
