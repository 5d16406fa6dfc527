package hf

import (
	"fmt"
	"math"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
)

// irBytesPerLayer is what one decoder layer of the two graphs takes as IR
// while it is built, verified and written (~100 nodes a graph; measured at
// ~86 KiB live and ~200 KiB allocated per layer), so that a config of a
// hundred thousand tiny layers is refused before it is built.
const irBytesPerLayer = 256 << 10

// Size is what a model built from a config holds, from the config alone:
// its weights, its KV caches, its largest activation (one prefill chunk)
// and the IR of its graphs.
type Size struct {
	Weights, KVCache, Activation, IR, Total int64
	// Largest names the activation and the fields that size it.
	Largest string
}

// sizer multiplies and adds config values with overflow checks; the first
// overflow names the fields that caused it.
type sizer struct{ err error }

type term struct {
	name string
	v    int64
}

func (s *sizer) mul(terms ...term) int64 {
	if s.err != nil {
		return 0
	}
	n := int64(1)
	for _, t := range terms {
		p, ok := budget.Elements(n, t.v)
		if !ok {
			var parts []string
			for _, t := range terms {
				parts = append(parts, fmt.Sprintf("%s (%d)", t.name, t.v))
			}
			s.err = fmt.Errorf("%s overflows int64", strings.Join(parts, " * "))
			return 0
		}
		n = p
	}
	return n
}

func (s *sizer) add(what string, xs ...int64) int64 {
	if s.err != nil {
		return 0
	}
	sum := int64(0)
	for _, x := range xs {
		if sum > math.MaxInt64-x {
			s.err = fmt.Errorf("%s overflow int64", what)
			return 0
		}
		sum += x
	}
	return sum
}

// Size computes what Build(c, opts) would declare, without building it.
// An overflow is an error naming the config fields (or option) that cause
// it.
func (c *Config) Size(opts Options) (Size, error) {
	opts, err := opts.withDefaults(c)
	if err != nil {
		return Size{}, err
	}
	var s sizer
	elem := int64(ir.DType.Size(irDType(c.DType)))
	V, H := term{"vocab_size", c.VocabSize}, term{"hidden_size", c.HiddenSize}
	I, L := term{"intermediate_size", c.IntermediateSize}, term{"num_hidden_layers", c.NumLayers}
	NH, KV := term{"num_attention_heads", c.NumHeads}, term{"num_key_value_heads", c.NumKVHeads}
	D, C := term{"head_dim", c.HeadDim}, term{"max cache length (--max-cache-len)", opts.MaxCacheLen}
	T := term{"prefill length (--prefill-len)", opts.PrefillLen}
	q, kv := s.mul(NH, D), s.mul(KV, D)
	layer := s.add("one layer's weights", s.mul(H, term{"two norms", 2}), s.mul(NH, D, H), s.mul(KV, D, H, term{"k and v", 2}),
		s.mul(H, NH, D), s.mul(I, H, term{"gate, up and down", 3}))
	if c.QKVBias {
		layer = s.add("one layer's weights", layer, q, s.mul(KV, D, term{"k and v", 2}))
	}
	if c.OBias {
		layer = s.add("one layer's weights", layer, c.HiddenSize)
	}
	if c.QKNorm {
		layer = s.add("one layer's weights", layer, s.mul(D, term{"q and k", 2}))
	}
	heads := int64(2)
	if c.TieWordEmbeddings {
		heads = 1
	}
	weights := s.add("the weights", s.mul(V, H, term{"embedding and lm_head", heads}), c.HiddenSize, s.mul(L, term{"one layer's weights", layer}))
	size := Size{
		Weights: s.mul(term{"the weights' elements", weights}, term{"bytes per element", elem}),
		KVCache: s.mul(L, term{"k and v", 2}, KV, C, D, term{"bytes per element", elem}),
		// The graphs, and in each RoPE's inverse frequencies: head_dim/2
		// float64s held in a constant's attribute.
		IR: s.add("the graphs' IR", s.mul(L, term{"IR bytes per layer", irBytesPerLayer}),
			s.mul(D, term{"graphs", 2}, term{"bytes per frequency / 2", 4})),
	}
	// The largest activation of a prefill chunk: the attention scores
	// (float32 for the softmax), the repeated K/V, the causal mask, the
	// logits (float32), the MLP, or a weight's transposed view.
	for _, a := range []struct {
		what  string
		bytes int64
	}{
		{"attention scores [num_attention_heads, prefill length, max cache length] f32", s.mul(NH, T, C, term{"f32", 4})},
		{"repeated K/V [num_attention_heads, max cache length, head_dim]", s.mul(NH, C, D, term{"bytes per element", elem})},
		{"causal mask [prefill length, max cache length]", s.mul(T, C, term{"bytes per element", elem})},
		{"logits [prefill length, vocab_size] f32", s.mul(T, V, term{"f32", 4})},
		{"MLP activation [prefill length, intermediate_size] f32", s.mul(T, I, term{"f32", 4})},
		{"queries [prefill length, num_attention_heads * head_dim] f32", s.mul(T, term{"num_attention_heads*head_dim", q}, term{"f32", 4})},
		{"keys [prefill length, num_key_value_heads * head_dim] f32", s.mul(T, term{"num_key_value_heads*head_dim", kv}, term{"f32", 4})},
		{"transposed lm_head [hidden_size, vocab_size]", s.mul(V, H, term{"bytes per element", elem})},
		{"transposed MLP weight [hidden_size, intermediate_size]", s.mul(I, H, term{"bytes per element", elem})},
	} {
		if a.bytes > size.Activation {
			size.Activation, size.Largest = a.bytes, a.what
		}
	}
	size.Total = s.add("the model's bytes", size.Weights, size.KVCache, size.Activation, size.IR)
	if s.err != nil {
		return Size{}, s.err
	}
	return size, nil
}

// checkSize refuses a config whose sizes overflow, and one whose graphs
// cannot be built in this process's memory, before any of it is built.
// The weights, KV caches and activations are only declared by an import:
// what allocates them (ref, a device) checks them against its own memory,
// so a model bigger than this machine still compiles for a bigger one.
func (c *Config) checkSize(opts Options) error {
	size, err := c.Size(opts)
	if err != nil {
		return err
	}
	return budget.Check(fmt.Sprintf("the graphs of %d layers with head_dim %d", c.NumLayers, c.HeadDim), size.IR)
}
