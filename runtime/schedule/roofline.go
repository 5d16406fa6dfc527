package schedule

// Traffic is what one step of a graph must move through device memory at
// least, the numerator of a bandwidth roofline: the step cannot take less
// than these bytes over the device's bandwidth. Schedule.Traffic computes
// it from the buffers and the launch arguments alone (not from the IR), so
// the compiler's schedule dump and stats and a runner's bench share one
// definition.
type Traffic struct {
	Graph    string `json:"graph"`
	Launches int    `json:"launches"`
	// Tokens is how many tokens a step takes: the length of the graph's
	// first input (the token ids), 1 for decode, a chunk for prefill.
	Tokens int64 `json:"tokens"`
	// WeightBytes is every weight buffer the launches read, each counted
	// once whatever reads it and however many tensors it packs;
	// WeightBuffers is their number.
	WeightBytes   int64 `json:"weight_bytes"`
	WeightBuffers int   `json:"weight_buffers"`
	// StateBytes is the size of every state buffer (KV cache) the
	// launches use, StateBuffers their number, and CacheLen the rows
	// (cache positions) each holds. A step at position p reads rows
	// 0..p+Tokens-1 (KVReadBytes) and writes rows p..p+Tokens-1
	// (KVWrittenBytes).
	StateBytes   int64 `json:"state_bytes"`
	StateBuffers int   `json:"state_buffers"`
	CacheLen     int64 `json:"cache_len"`
	// ActivationBytes is, summed over the launches, the bytes of the
	// arena values (Launch.ArenaBytes), graph inputs and constants each
	// launch's tensor arguments point into, counted once per launch: the
	// activations read and written, as if none stayed in a cache between
	// launches.
	ActivationBytes int64 `json:"activation_bytes"`
}

// Traffic is graph gi's traffic per step.
func (s *Schedule) Traffic(gi int) Traffic {
	g := &s.Graphs[gi]
	t := Traffic{Graph: g.Name, Launches: len(g.Launches), Tokens: 1, CacheLen: s.Model.MaxCacheLen}
	if len(g.Inputs) > 0 {
		b := s.Buffers[g.Inputs[0]]
		t.Tokens = b.Bytes / b.DType.Size()
	}
	seen := map[int]bool{} // weight and state buffers, counted once a graph
	for _, ln := range g.Launches {
		t.ActivationBytes += ln.ArenaBytes
		once := map[int]bool{} // inputs and constants, counted once a launch
		for _, a := range ln.Args {
			if a.Kind != TensorArg || a.Buf < 0 || a.Buf >= len(s.Buffers) {
				continue
			}
			b := &s.Buffers[a.Buf]
			switch b.Kind {
			case Arena: // counted by the lowering, in ArenaBytes
			case Weight, State:
				if seen[a.Buf] {
					continue
				}
				seen[a.Buf] = true
				if b.Kind == Weight {
					t.WeightBytes += b.Bytes
					t.WeightBuffers++
				} else {
					t.StateBytes += b.Bytes
					t.StateBuffers++
				}
			default:
				if !once[a.Buf] {
					once[a.Buf] = true
					t.ActivationBytes += b.Bytes
				}
			}
		}
	}
	return t
}

// Roofline is the traffic of every graph, in graph order.
func (s *Schedule) Roofline() []Traffic {
	out := make([]Traffic, len(s.Graphs))
	for i := range s.Graphs {
		out[i] = s.Traffic(i)
	}
	return out
}

// LastPosition is the last position a step can start at: the one whose
// tokens fill the cache.
func (t Traffic) LastPosition() int64 { return max(t.CacheLen-t.Tokens, 0) }

// kvRows is rows of every state buffer in bytes (each holds CacheLen).
func (t Traffic) kvRows(rows int64) int64 {
	if t.CacheLen <= 0 {
		return 0
	}
	return t.StateBytes * min(rows, t.CacheLen) / t.CacheLen
}

// KVRowBytes is one cache position of every state buffer.
func (t Traffic) KVRowBytes() int64 { return t.kvRows(1) }

// KVReadBytes is the KV cache a step starting at pos reads: every state
// buffer up to its last token, StateBytes * (pos + Tokens) / CacheLen.
func (t Traffic) KVReadBytes(pos int64) int64 { return t.kvRows(pos + t.Tokens) }

// KVWrittenBytes is the KV cache a step writes: its tokens' new rows,
// StateBytes * Tokens / CacheLen.
func (t Traffic) KVWrittenBytes() int64 { return t.kvRows(t.Tokens) }

// ReadBytes is what a step at pos must read of the model and its cache:
// the weights and the KV cache up to its last token (activations aside).
func (t Traffic) ReadBytes(pos int64) int64 { return t.WeightBytes + t.KVReadBytes(pos) }

// Bytes is everything a step at pos reads and writes: weights, KV cache
// read and written, activations. It is the roofline's numerator.
func (t Traffic) Bytes(pos int64) int64 {
	return t.ReadBytes(pos) + t.KVWrittenBytes() + t.ActivationBytes
}

// FloorSeconds is the least time a step at pos takes on a device that
// reads plus writes gbs GB/s (1e9 bytes per second): Bytes(pos) / gbs.
// It is 0 without a bandwidth.
func (t Traffic) FloorSeconds(pos int64, gbs float64) float64 {
	if gbs <= 0 {
		return 0
	}
	return float64(t.Bytes(pos)) / (gbs * 1e9)
}
