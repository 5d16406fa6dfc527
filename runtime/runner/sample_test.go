package runner

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/ref"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// rowBackend has one fixed logits row, whatever the graph or row asked
// for; TopK and GumbelArgmax are the host's, as the ref backend's.
type rowBackend struct {
	fakeBackend
	row []float32
}

func (r *rowBackend) Argmax(g, row int) (int32, error) { return int32(ref.Argmax(r.row)), nil }
func (r *rowBackend) TopK(g, row, k int) ([]int32, []float32, error) {
	ids, vals := TopKRow(r.row, k)
	return ids, vals, nil
}
func (r *rowBackend) GumbelArgmax(g, row int, temperature float32, seed uint64, step int) (int32, error) {
	return GumbelArgmax(r.row, temperature, seed, step), nil
}

// draws samples n tokens, one per step.
func draws(t *testing.T, s Sampling, b Backend, n int) []int32 {
	t.Helper()
	out := make([]int32, n)
	for step := range out {
		id, err := s.next(b, 0, 0, step)
		if err != nil {
			t.Fatal(err)
		}
		out[step] = id
	}
	return out
}

func randomRow(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	row := make([]float32, n)
	for i := range row {
		row[i] = float32(rng.NormFloat64() * 2)
	}
	return row
}

// policies are one sampling policy per path: Gumbel-max over the whole
// row, top-k, top-k with top-p.
var policies = map[string]Sampling{
	"gumbel": {Temperature: 0.9},
	"topk":   {Temperature: 0.9, TopK: 20},
	"topp":   {Temperature: 0.9, TopK: 20, TopP: 0.8},
}

// A seed gives the same ids twice; another seed other ids.
func TestSamplingReproducible(t *testing.T) {
	b := &rowBackend{row: randomRow(1, 100)}
	for name, s := range policies {
		s.Seed = 42
		a, again := draws(t, s, b, 50), draws(t, s, b, 50)
		s.Seed = 43
		other := draws(t, s, b, 50)
		if !equal(a, again) {
			t.Errorf("%s: seed 42 sampled %v, then %v", name, a, again)
		}
		if equal(a, other) {
			t.Errorf("%s: seeds 42 and 43 both sampled %v", name, a)
		}
	}
}

func equal(a, b []int32) bool { return strings.Join(itoas(a), ",") == strings.Join(itoas(b), ",") }
func itoas(xs []int32) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = itoa(int(x))
	}
	return out
}

// Top-k 1, a tiny temperature and a tiny top-p all decode greedily.
func TestSamplingDegeneratesToGreedy(t *testing.T) {
	for seed := range uint64(20) {
		b := &rowBackend{row: randomRow(seed, 300)}
		want := int32(ref.Argmax(b.row))
		for name, s := range map[string]Sampling{
			"top-k 1":             {Temperature: 1.5, TopK: 1, Seed: seed},
			"temperature 1e-6":    {Temperature: 1e-6, Seed: seed},
			"temperature 1e-6 k":  {Temperature: 1e-6, TopK: 50, Seed: seed},
			"top-p 1e-9":          {Temperature: 2, TopK: 50, TopP: 1e-9, Seed: seed},
			"greedy (zero value)": {},
		} {
			for _, id := range draws(t, s, b, 5) {
				if id != want {
					t.Errorf("%s, row %d: sampled %d, greedy is %d", name, seed, id, want)
				}
			}
		}
	}
}

// The empirical distribution of many draws (one per step) is the policy's:
// softmax(row / T) over the whole row (Gumbel-max), over the top k, and
// over the top-p nucleus of those, by a chi-square test at p = 0.001.
func TestSamplingDistribution(t *testing.T) {
	row := []float32{1, 0.5, 2, -1, 0, 1.5, float32(math.Inf(-1)), -0.5}
	const temp, n = 0.8, 40000
	softmax := func(keep []int) []float64 {
		p := make([]float64, len(row))
		total := 0.0
		for _, i := range keep {
			p[i] = math.Exp(float64(row[i]) / temp)
			total += p[i]
		}
		for i := range p {
			p[i] /= total
		}
		return p
	}
	// Row order by value: 2 (2), 5 (1.5), 0 (1), 1 (0.5), 4 (0), 7 (-0.5), 3 (-1), 6 (-inf).
	// At T 0.8 the top 3 hold 0.55, 0.29, 0.15 of their mass: top-p 0.8
	// keeps the first two (0.84 >= 0.8).
	for _, c := range []struct {
		name string
		s    Sampling
		want []float64
	}{
		{"gumbel", Sampling{Temperature: temp, Seed: 9}, softmax([]int{0, 1, 2, 3, 4, 5, 7})},
		{"topk", Sampling{Temperature: temp, TopK: 4, Seed: 9}, softmax([]int{2, 5, 0, 1})},
		{"topp", Sampling{Temperature: temp, TopK: 3, TopP: 0.8, Seed: 9}, softmax([]int{2, 5})},
	} {
		counts := make([]float64, len(row))
		for _, id := range draws(t, c.s, &rowBackend{row: row}, n) {
			counts[id]++
		}
		chi2, df := 0.0, -1
		for i, p := range c.want {
			if p == 0 {
				if counts[i] != 0 {
					t.Errorf("%s: token %d (probability 0) sampled %g times", c.name, i, counts[i])
				}
				continue
			}
			d := counts[i] - n*p
			chi2 += d * d / (n * p)
			df++
		}
		// The 0.999 quantiles of chi-square with 1..6 degrees of freedom.
		limit := []float64{0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46}[df]
		if chi2 > limit {
			t.Errorf("%s: chi-square %.2f over %d degrees of freedom, above %.2f: counts %v, want %v", c.name, chi2, df, limit, counts, c.want)
		}
	}
}

func TestSamplingCheck(t *testing.T) {
	for _, c := range []struct {
		s    Sampling
		want string // "" for valid
	}{
		{Sampling{}, ""},
		{Sampling{Temperature: 0.7, TopK: 40, TopP: 0.95, Seed: 1}, ""},
		{Sampling{Temperature: 1, TopP: 1}, ""},
		{Sampling{Temperature: 1, TopK: schedule.MaxTopK}, ""},
		{Sampling{TopP: 0.5}, ""}, // greedy ignores the rest
		{Sampling{Temperature: -1}, "--temperature -1: want 0 (greedy) or a finite value above 0"},
		{Sampling{Temperature: math.NaN()}, "--temperature NaN"},
		{Sampling{Temperature: math.Inf(1)}, "--temperature +Inf"},
		{Sampling{Temperature: 1, TopK: -1}, "--top-k -1: want 0..64 (the device reduces a row to at most that many)"},
		{Sampling{Temperature: 1, TopK: schedule.MaxTopK + 1}, "--top-k 65"},
		{Sampling{Temperature: 1, TopK: 5, TopP: 1.5}, "--top-p 1.5: want a probability in (0, 1]"},
		{Sampling{Temperature: 1, TopK: 5, TopP: -0.1}, "--top-p -0.1"},
		{Sampling{Temperature: 1, TopP: 0.9}, "--top-p 0.9 needs --top-k 1..64"},
	} {
		err := c.s.Check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.s, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one containing %q", c.s, err, c.want)
		}
	}
	// Every bad value has its own line.
	err := Sampling{Temperature: -1, TopK: -1, TopP: 2}.Check()
	if err == nil || len(strings.Split(err.Error(), "\n")) != 3 {
		t.Errorf("three bad values: %v", err)
	}
	// next refuses a bad policy before asking the backend.
	if _, err := (Sampling{Temperature: 1, TopK: 99}).next(&rowBackend{row: []float32{1}}, 0, 0, 0); err == nil {
		t.Error("next sampled with top-k 99")
	}
}

// GumbelNoise is Gumbel(0, 1): its mean is the Euler–Mascheroni constant
// and u never reaches 0 or 1 (the noise stays finite).
func TestGumbelNoise(t *testing.T) {
	const n = 200000
	sum := 0.0
	for i := range n {
		g := float64(GumbelNoise(5, i/1000, i%1000))
		if math.IsInf(g, 0) || math.IsNaN(g) {
			t.Fatalf("noise %g at %d", g, i)
		}
		sum += g
	}
	// The standard deviation is pi/sqrt(6) ~ 1.28: the mean of n is
	// within 5 of its standard errors.
	if mean := sum / n; math.Abs(mean-0.5772156649) > 5*1.28/math.Sqrt(n) {
		t.Errorf("mean noise %g, want 0.5772", mean)
	}
}

// Generate samples through the policy, reproducibly.
func TestGenerateSamples(t *testing.T) {
	b := &rowBackend{fakeBackend: fakeBackend{vocab: 50, last: map[int][]int32{}}, row: randomRow(3, 50)}
	s := fakeProgram(&b.fakeBackend).Schedule
	gen := func(seed uint64) []int64 {
		g, err := Generate(b, s, []int64{1, 2, 3}, 8, GenerateOptions{Sampling: Sampling{Temperature: 1, TopK: 10, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		return g.IDs
	}
	a, again, other := gen(1), gen(1), gen(2)
	if len(a) != 8 || strings.Join(ids64(a), ",") != strings.Join(ids64(again), ",") {
		t.Errorf("seed 1 generated %v, then %v", a, again)
	}
	if strings.Join(ids64(a), ",") == strings.Join(ids64(other), ",") {
		t.Errorf("seeds 1 and 2 both generated %v", a)
	}
}

func ids64(xs []int64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = itoa(int(x))
	}
	return out
}

// The device skips the noise of tokens that cannot win (GUMBEL_MIN,
// GUMBEL_MAX): the noise any hash gives lies within the bounds.
func TestGumbelNoiseBounds(t *testing.T) {
	noise := func(h uint32) float32 {
		u := (float32(h) + 0.5) * (1.0 / 8388608)
		return float32(-math.Log(-math.Log(float64(u))))
	}
	lo, hi := noise(0), noise(1<<23-1) // the smallest and largest u
	if lo <= schedule.GumbelMin || lo > -2.5 || hi >= schedule.GumbelMax || hi < 16 {
		t.Errorf("Gumbel noise spans [%g, %g], want just within [%d, %d]", lo, hi, schedule.GumbelMin, schedule.GumbelMax)
	}
}
