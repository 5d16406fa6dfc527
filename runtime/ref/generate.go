package ref

import (
	"fmt"

	"github.com/irc-compiler/irc/ir"
)

// Generation is the result of a greedy run: the generated ids and one row
// of next-token logits per consumed token (the prompt, then every generated
// token fed back but the last).
type Generation struct {
	IDs    []int64
	Logits [][]float32
}

// Generate runs prompt through the prefill graph in chunks of prefill_len
// (the last chunk padded; padded rows write cache slots that the causal mask
// hides and later steps overwrite), then greedily decodes n tokens with the
// decode graph. States are reset first.
func (r *Runtime) Generate(prompt []int64, n int) (*Generation, error) {
	meta := r.m.Meta
	if len(prompt) == 0 {
		return nil, fmt.Errorf("empty prompt: give at least one token")
	}
	if n < 0 {
		return nil, fmt.Errorf("cannot generate %d tokens", n)
	}
	if meta.VocabSize <= 0 || meta.MaxCacheLen <= 0 {
		// The readers refuse such a model (ir.Model.Validate); one built
		// in memory may still lack them.
		return nil, fmt.Errorf("model meta has vocab_size %d and max_cache_len %d: generation needs both", meta.VocabSize, meta.MaxCacheLen)
	}
	for _, id := range prompt {
		if id < 0 || id >= meta.VocabSize {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, meta.VocabSize)
		}
	}
	consumed := int64(len(prompt)) + int64(max(n-1, 0))
	if consumed > meta.MaxCacheLen {
		return nil, fmt.Errorf("prompt of %d tokens plus %d generated needs %d cache positions, the model's max cache length is %d (import with a larger --max-cache-len)", len(prompt), n, consumed, meta.MaxCacheLen)
	}
	prefill, decode := r.m.Graph("prefill"), r.m.Graph("decode")
	if prefill == nil || decode == nil {
		return nil, fmt.Errorf("model needs graphs prefill and decode")
	}
	chunk := int(prefill.Inputs[0].Type.Shape[0])
	r.Reset()
	gen := &Generation{}
	for start := 0; start < len(prompt); start += chunk {
		tokens := make([]int64, chunk)
		count := copy(tokens, prompt[start:])
		logits, err := r.step(prefill, tokens, int64(start))
		if err != nil {
			return nil, err
		}
		gen.Logits = append(gen.Logits, logits[:count]...)
	}
	pos := int64(len(prompt))
	for i := 0; i < n; i++ {
		next := Argmax(gen.Logits[len(gen.Logits)-1])
		gen.IDs = append(gen.IDs, next)
		if i == n-1 {
			break
		}
		logits, err := r.step(decode, []int64{next}, pos)
		if err != nil {
			return nil, err
		}
		gen.Logits = append(gen.Logits, logits...)
		pos++
	}
	return gen, nil
}

// step runs one graph on tokens at cache position pos and splits its
// logits [t, vocab] into rows.
func (r *Runtime) step(g *ir.Graph, tokens []int64, pos int64) ([][]float32, error) {
	out, err := r.RunGraph(g, map[string]*Tensor{
		"tokens": Ints(ir.I32, ir.Shape{int64(len(tokens))}, tokens),
		"pos":    Ints(ir.I32, ir.Shape{1}, []int64{pos}),
	})
	if err != nil {
		return nil, err
	}
	logits := out[0]
	vocab := int(logits.Shape[len(logits.Shape)-1])
	rows := make([][]float32, len(tokens))
	for i := range rows {
		rows[i] = logits.F[i*vocab : (i+1)*vocab]
	}
	return rows, nil
}

// Argmax returns the index of the largest value (the first on ties): the
// greedy choice, shared with tests that pick ids from other logits.
func Argmax[F float32 | float64](xs []F) int64 {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return int64(best)
}
