package runner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Sampling chooses each generated token. The zero value is greedy decoding
// (the argmax, on the device).
//
// Every path reads back only what the device has reduced a row to:
//   - Temperature 0: the argmax (4 bytes).
//   - TopK 0, TopP 0 or 1: one id drawn from softmax(logits / Temperature)
//     over the whole vocabulary, by the Gumbel-max trick on the device
//     (Backend.GumbelArgmax; 4 bytes).
//   - TopK > 0: the device's top TopK (value, id) pairs; the host applies
//     the temperature, the softmax over them, the top-p cut and the draw.
//
// TopP < 1 needs TopK > 0 (Check): the nucleus of a whole row may hold any
// number of tokens, so it cannot be cut exactly from a bounded candidate
// list without the rest of the row.
type Sampling struct {
	// Temperature divides the logits before sampling; 0 is greedy.
	Temperature float64
	// TopK keeps the K most likely tokens; 0 keeps every one.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P; 0 or 1 keeps every one.
	TopP float64
	// Seed makes the draws reproducible: a step's draw depends on (Seed,
	// step) only, not on the draws before it.
	Seed uint64
}

// Greedy reports whether s is greedy decoding.
func (s Sampling) Greedy() bool { return s.Temperature == 0 }

// nucleus reports whether s cuts the candidates at a probability mass.
func (s Sampling) nucleus() bool { return s.TopP > 0 && s.TopP < 1 }

// Check reports every bad value of s, one line each, named by the runner's
// flag.
func (s Sampling) Check() error {
	var errs []error
	if math.IsNaN(s.Temperature) || s.Temperature < 0 || math.IsInf(s.Temperature, 0) {
		errs = append(errs, fmt.Errorf("--temperature %g: want 0 (greedy) or a finite value above 0", s.Temperature))
	}
	if s.TopK < 0 || s.TopK > schedule.MaxTopK {
		errs = append(errs, fmt.Errorf("--top-k %d: want 0..%d (the device reduces a row to at most that many)", s.TopK, schedule.MaxTopK))
	}
	if math.IsNaN(s.TopP) || s.TopP < 0 || s.TopP > 1 {
		errs = append(errs, fmt.Errorf("--top-p %g: want a probability in (0, 1] (0 or 1 keeps every token)", s.TopP))
	} else if s.nucleus() && s.TopK == 0 && !s.Greedy() {
		errs = append(errs, fmt.Errorf("--top-p %g needs --top-k 1..%d: the device reduces a row to at most %d candidates, and a nucleus of the whole vocabulary is not cut exactly from those", s.TopP, schedule.MaxTopK, schedule.MaxTopK))
	}
	return errors.Join(errs...)
}

// next chooses the token after row of graph g's logits, the step-th
// generated one.
func (s Sampling) next(b Backend, g, row, step int) (int32, error) {
	if err := s.Check(); err != nil {
		return 0, err
	}
	if s.Greedy() {
		return b.Argmax(g, row)
	}
	if s.TopK == 0 {
		return b.GumbelArgmax(g, row, float32(s.Temperature), s.Seed, step)
	}
	ids, logits, err := b.TopK(g, row, s.TopK)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("top-k of graph %d row %d returned no candidates", g, row)
	}
	return ids[s.draw(logits, step)], nil
}

// draw picks an index of logits (the candidates, largest first): the
// softmax of logits / Temperature, cut to its smallest prefix whose
// probability reaches TopP, sampled with a PCG stream of (Seed, step).
func (s Sampling) draw(logits []float32, step int) int {
	if math.IsInf(float64(logits[0]), -1) {
		return 0 // every candidate is impossible: take the first, as argmax does
	}
	// Probabilities relative to the largest, whose weight is 1.
	w := make([]float64, len(logits))
	top := float64(logits[0]) / s.Temperature
	total := 0.0
	for i, l := range logits {
		w[i] = math.Exp(float64(l)/s.Temperature - top)
		total += w[i]
	}
	keep := len(w)
	if s.nucleus() {
		mass := 0.0
		for i, x := range w {
			mass += x
			if mass >= s.TopP*total {
				keep = i + 1
				break
			}
		}
		total = 0
		for _, x := range w[:keep] {
			total += x
		}
	}
	r := rand.New(rand.NewPCG(s.Seed, uint64(step))).Float64() * total
	for i, x := range w[:keep] {
		if r < x {
			return i
		}
		r -= x
	}
	return keep - 1 // r fell past the last weight by rounding
}
