package hfref

import (
	"fmt"
	"slices"

	"github.com/irc-compiler/irc/ir/safetensors"
)

// linear is an nn.Linear: y = x @ w^T + b, w stored [out, in].
type linear struct {
	w       []float64
	b       []float64 // nil: no bias
	out, in int
}

type layer struct {
	inputNorm, postNorm []float64
	q, k, v, o          linear
	qNorm, kNorm        []float64 // Qwen3 only
	gate, up, down      linear
}

type model struct {
	cfg     config
	embed   []float64 // [vocab, hidden]
	layers  []layer
	norm    []float64
	head    linear
	invFreq []float64
}

// loader reads tensors, checking each against the shape the config implies:
// an oracle that silently read a mis-shaped weight would prove nothing.
type loader struct {
	ckpt *safetensors.Checkpoint
	err  error
}

func (ld *loader) tensor(name string, shape ...int) []float64 {
	if ld.err != nil {
		return nil
	}
	vals, info, err := ld.ckpt.Float32(name)
	if err != nil {
		ld.err = fmt.Errorf("hfref: %w", err)
		return nil
	}
	want := make([]int64, len(shape))
	for i, d := range shape {
		want[i] = int64(d)
	}
	if !slices.Equal(info.Shape, want) {
		ld.err = fmt.Errorf("hfref: tensor %s has shape %v, the config implies %v", name, info.Shape, want)
		return nil
	}
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = float64(v)
	}
	return out
}

func (ld *loader) linear(prefix string, out, in int, bias bool) linear {
	l := linear{w: ld.tensor(prefix+".weight", out, in), out: out, in: in}
	if bias {
		l.b = ld.tensor(prefix+".bias", out)
	}
	return l
}

func loadModel(c config, ckpt *safetensors.Checkpoint) (*model, error) {
	ld := &loader{ckpt: ckpt}
	h, q, kv := c.hidden, c.heads*c.headDim, c.kvHeads*c.headDim
	m := &model{cfg: c, embed: ld.tensor("model.embed_tokens.weight", c.vocab, h), invFreq: invFreq(c)}
	for l := 0; l < c.layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		ly := layer{
			inputNorm: ld.tensor(p+"input_layernorm.weight", h),
			postNorm:  ld.tensor(p+"post_attention_layernorm.weight", h),
			q:         ld.linear(p+"self_attn.q_proj", q, h, c.qkvBias),
			k:         ld.linear(p+"self_attn.k_proj", kv, h, c.qkvBias),
			v:         ld.linear(p+"self_attn.v_proj", kv, h, c.qkvBias),
			o:         ld.linear(p+"self_attn.o_proj", h, q, c.oBias),
			gate:      ld.linear(p+"mlp.gate_proj", c.inter, h, c.mlpBias),
			up:        ld.linear(p+"mlp.up_proj", c.inter, h, c.mlpBias),
			down:      ld.linear(p+"mlp.down_proj", h, c.inter, c.mlpBias),
		}
		if c.qkNorm {
			ly.qNorm = ld.tensor(p+"self_attn.q_norm.weight", c.headDim)
			ly.kNorm = ld.tensor(p+"self_attn.k_norm.weight", c.headDim)
		}
		m.layers = append(m.layers, ly)
	}
	m.norm = ld.tensor("model.norm.weight", h)
	if c.tied {
		m.head = linear{w: m.embed, out: c.vocab, in: h}
	} else {
		m.head = ld.linear("lm_head", c.vocab, h, false)
	}
	return m, ld.err
}
