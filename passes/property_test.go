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
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "  %%keys = iota() {shape=[1,%d], axis=1, dtype=i32} : i32[1,%d]\n", cols, cols)
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
	for i := range 40 {
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
				start := r.Int64N(shape[2])
				op, attrs = "slice", fmt.Sprintf("axis=2, start=%d, end=%d", start, shape[2])
				next = []int64{shape[0], shape[1], shape[2] - start}
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
