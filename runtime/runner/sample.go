package runner

import "fmt"

// Sampling chooses each generated token. The zero value is greedy decoding
// (the argmax, on the device).
type Sampling struct {
	// Temperature divides the logits before sampling; 0 is greedy.
	Temperature float64
	// TopK keeps the K most likely tokens; 0 keeps every one.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P; 0 or 1 keeps every one.
	TopP float64
	// Seed makes the draws reproducible.
	Seed uint64
}

// Greedy reports whether s is greedy decoding.
func (s Sampling) Greedy() bool { return s.Temperature == 0 }

// next chooses the token after row of graph g's logits, the step-th
// generated one.
func (s Sampling) next(b Backend, g, row, step int) (int32, error) {
	if s.Greedy() {
		return b.Argmax(g, row)
	}
	return 0, fmt.Errorf("sampling (temperature %g) is not implemented yet", s.Temperature)
}
