// Package runner is the backend-independent half of a generated runner: the
// command line, weight loading, greedy generation and the bench mode. The
// backend half (runtime/executor over a runtime/<backend> Device) executes
// the schedule's launch tables.
// It is copied into every generated runner, so it depends only on packages
// that are copied too.
package runner

import (
	"fmt"
	"time"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// Backend runs a schedule's graphs on a device.
type Backend interface {
	// Run enqueues one step of graph g on tokens at cache position pos.
	Run(g int, tokens []int32, pos int32) error
	// Logits reads rows [row, row+n) of graph g's last logits.
	Logits(g, row, n int) ([][]float32, error)
	// Argmax is the greedy choice from one row of graph g's last logits.
	Argmax(g, row int) (int32, error)
	// TopK is the k (1..schedule.MaxTopK) largest logits of one row of
	// graph g's last logits with their ids, largest first and the lower id
	// first on ties; fewer when the row is shorter.
	TopK(g, row, k int) (ids []int32, logits []float32, err error)
	// GumbelArgmax samples an id from softmax(row / temperature) of graph
	// g's last logits: the argmax of row / temperature + GumbelNoise(seed,
	// step, id).
	GumbelArgmax(g, row int, temperature float32, seed uint64, step int) (int32, error)
	// Reset empties the KV caches.
	Reset() error
	// Write copies data into buffer buf (the bench seeds KV caches).
	Write(buf int, data []byte) error
	// Finish waits for the device.
	Finish() error
	// Device names the device.
	Device() string
	Close()
}

// Generation is a greedy run's result: the generated ids and, when asked
// for, one row of next-token logits per consumed token (the prompt, then
// every generated token fed back but the last), as ref.Generation.
type Generation struct {
	IDs    []int64
	Logits [][]float32
	// Prefill is the time to the first generated id (TTFT); Decode the
	// time of the decode steps after it.
	Prefill, Decode time.Duration
}

// graphIndex finds a graph the runner needs.
func graphIndex(s *schedule.Schedule, name string) (int, error) {
	for i, g := range s.Graphs {
		if g.Name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("schedule has no %s graph", name)
}

// stepTokens is how many token ids one step of graph g takes: a prefill
// chunk, or 1 for decode.
func stepTokens(s *schedule.Schedule, g int) int {
	return int(s.Buffers[s.Graphs[g].Inputs[0]].Bytes / 4)
}

// GenerateOptions say how Generate runs; the zero value generates
// greedily, keeps no logits and never stops early.
type GenerateOptions struct {
	// KeepLogits reads every row of logits back into Generation.Logits.
	KeepLogits bool
	// Sampling chooses each next token (the zero value: greedy, on the
	// device).
	Sampling Sampling
	// Stop reports whether an id ends the generation (the model's EOS and
	// end-of-turn ids): it is kept as the last id and nothing is decoded
	// after it.
	Stop func(id int64) bool
	// OnToken is called with each id as soon as it is chosen (streaming
	// text); an error ends the generation with that error.
	OnToken func(id int64) error
}

// Generate runs prompt through the prefill graph in chunks (the last one
// padded), then decodes up to n tokens, exactly as ref.Generate does; the
// greedy choice is made on the device. Logits are read back only when
// opts.KeepLogits is set.
func Generate(b Backend, s *schedule.Schedule, prompt []int64, n int, opts GenerateOptions) (*Generation, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("empty prompt: give at least one token")
	}
	if n < 0 {
		return nil, fmt.Errorf("cannot generate %d tokens", n)
	}
	for _, id := range prompt {
		if id < 0 || id >= s.Model.Vocab {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, s.Model.Vocab)
		}
	}
	if consumed := int64(len(prompt)) + int64(max(n-1, 0)); consumed > s.Model.MaxCacheLen {
		return nil, fmt.Errorf("prompt of %d tokens plus %d generated needs %d cache positions, the model's max cache length is %d (import with a larger --max-cache-len)", len(prompt), n, consumed, s.Model.MaxCacheLen)
	}
	prefill, err := graphIndex(s, "prefill")
	if err != nil {
		return nil, err
	}
	decode, err := graphIndex(s, "decode")
	if err != nil {
		return nil, err
	}
	chunk := stepTokens(s, prefill)
	if err := b.Reset(); err != nil {
		return nil, err
	}
	gen := &Generation{}
	start := time.Now()
	last, lastRow := prefill, 0
	for start := 0; start < len(prompt); start += chunk {
		tokens := make([]int32, chunk)
		count := 0
		for i := start; i < len(prompt) && count < chunk; i++ {
			tokens[count] = int32(prompt[i])
			count++
		}
		if err := b.Run(prefill, tokens, int32(start)); err != nil {
			return nil, err
		}
		if opts.KeepLogits {
			rows, err := b.Logits(prefill, 0, count)
			if err != nil {
				return nil, err
			}
			gen.Logits = append(gen.Logits, rows...)
		}
		lastRow = count - 1
	}
	pos := int32(len(prompt))
	for i := 0; i < n; i++ {
		next, err := opts.Sampling.next(b, last, lastRow, i)
		if err != nil {
			return nil, err
		}
		gen.IDs = append(gen.IDs, int64(next))
		if i == 0 {
			gen.Prefill = time.Since(start)
			start = time.Now()
		}
		if opts.OnToken != nil {
			if err := opts.OnToken(int64(next)); err != nil {
				return nil, err
			}
		}
		if i == n-1 || opts.Stop != nil && opts.Stop(int64(next)) {
			break
		}
		if err := b.Run(decode, []int32{next}, pos); err != nil {
			return nil, err
		}
		if opts.KeepLogits {
			rows, err := b.Logits(decode, 0, 1)
			if err != nil {
				return nil, err
			}
			gen.Logits = append(gen.Logits, rows...)
		}
		last, lastRow = decode, 0
		pos++
	}
	err = b.Finish()
	if n > 0 {
		gen.Decode = time.Since(start)
	}
	return gen, err
}
