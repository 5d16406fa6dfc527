package hfref

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

const (
	llama = "LlamaForCausalLM"
	qwen2 = "Qwen2ForCausalLM"
	qwen3 = "Qwen3ForCausalLM"
)

// config is what the forward pass needs, resolved with transformers'
// defaults for fields the file leaves out.
type config struct {
	arch                                           string
	hidden, inter, layers, heads, kvHeads, headDim int
	vocab                                          int
	eps, theta                                     float64
	tied, qkvBias, oBias, mlpBias, qkNorm          bool
	llama3                                         *llama3Scaling // nil: plain RoPE
}

// llama3Scaling is rope_type "llama3" (_compute_llama3_parameters).
type llama3Scaling struct {
	factor, low, high, origMax float64
}

// rawConfig mirrors config.json; pointers tell a missing field from a zero.
type rawConfig struct {
	Architectures    []string        `json:"architectures"`
	Hidden           *int            `json:"hidden_size"`
	Inter            *int            `json:"intermediate_size"`
	Layers           *int            `json:"num_hidden_layers"`
	Heads            *int            `json:"num_attention_heads"`
	KVHeads          *int            `json:"num_key_value_heads"`
	HeadDim          *int            `json:"head_dim"`
	Vocab            *int            `json:"vocab_size"`
	Theta            *float64        `json:"rope_theta"`
	Eps              *float64        `json:"rms_norm_eps"`
	Tied             *bool           `json:"tie_word_embeddings"`
	AttnBias         *bool           `json:"attention_bias"`
	MLPBias          *bool           `json:"mlp_bias"`
	HiddenAct        *string         `json:"hidden_act"`
	PartialRotary    *float64        `json:"partial_rotary_factor"`
	UseSlidingWindow *bool           `json:"use_sliding_window"`
	RopeScaling      json.RawMessage `json:"rope_scaling"`
	RopeParameters   json.RawMessage `json:"rope_parameters"` // transformers v5 spelling
}

// ropeBlock is a rope_scaling (or v5 rope_parameters) object.
type ropeBlock struct {
	RopeType string   `json:"rope_type"`
	Type     string   `json:"type"` // legacy spelling of rope_type
	Theta    *float64 `json:"rope_theta"`
	Factor   *float64 `json:"factor"`
	Low      *float64 `json:"low_freq_factor"`
	High     *float64 `json:"high_freq_factor"`
	OrigMax  *float64 `json:"original_max_position_embeddings"`
}

func readConfig(dir string) (config, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return config{}, fmt.Errorf("hfref: %w", err)
	}
	c, err := parseConfig(data)
	if err != nil {
		return config{}, fmt.Errorf("hfref: %s/config.json: %w", dir, err)
	}
	return c, nil
}

func parseConfig(data []byte) (config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return config{}, err
	}
	if len(r.Architectures) != 1 {
		return config{}, fmt.Errorf("architectures must name one class, got %v", r.Architectures)
	}
	c := config{arch: r.Architectures[0]}
	switch c.arch {
	case llama, qwen2, qwen3:
	default:
		return config{}, fmt.Errorf("unsupported architecture %q", c.arch)
	}
	for _, f := range []struct {
		name string
		v    *int
		dst  *int
	}{
		{"hidden_size", r.Hidden, &c.hidden}, {"intermediate_size", r.Inter, &c.inter},
		{"num_hidden_layers", r.Layers, &c.layers}, {"num_attention_heads", r.Heads, &c.heads},
		{"vocab_size", r.Vocab, &c.vocab},
	} {
		if f.v == nil || *f.v <= 0 {
			return config{}, fmt.Errorf("%s must be a positive integer", f.name)
		}
		*f.dst = *f.v
	}
	applyDefaults(&c, &r)
	if r.HiddenAct != nil && *r.HiddenAct != "silu" {
		return config{}, fmt.Errorf("hidden_act %q is not supported (only silu)", *r.HiddenAct)
	}
	if r.PartialRotary != nil && *r.PartialRotary != 1 {
		return config{}, fmt.Errorf("partial_rotary_factor %g is not supported", *r.PartialRotary)
	}
	if r.UseSlidingWindow != nil && *r.UseSlidingWindow {
		return config{}, fmt.Errorf("use_sliding_window true is not supported")
	}
	if err := parseRope(&c, r.RopeScaling, r.RopeParameters); err != nil {
		return config{}, err
	}
	switch {
	case c.kvHeads <= 0 || c.heads%c.kvHeads != 0:
		return config{}, fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.heads, c.kvHeads)
	case c.headDim <= 0 || c.headDim%2 != 0:
		return config{}, fmt.Errorf("head_dim %d must be positive and even (RoPE rotates halves)", c.headDim)
	case c.eps <= 0 || c.theta <= 0:
		return config{}, fmt.Errorf("rms_norm_eps %g and rope_theta %g must be positive", c.eps, c.theta)
	}
	return c, nil
}

// applyDefaults fills what the file leaves out as the transformers config
// classes do: LlamaConfig takes num_key_value_heads = num_attention_heads,
// Qwen2Config and Qwen3Config default it to 32; Qwen3Config defaults
// head_dim to 128, the others use hidden_size // num_attention_heads;
// rope_theta 10000, rms_norm_eps 1e-6, untied heads, no attention bias.
func applyDefaults(c *config, r *rawConfig) {
	c.kvHeads = 32
	if c.arch == llama {
		c.kvHeads = c.heads
	}
	if r.KVHeads != nil {
		c.kvHeads = *r.KVHeads
	}
	c.headDim = c.hidden / c.heads
	if c.arch == qwen3 {
		c.headDim = 128
	}
	if r.HeadDim != nil {
		c.headDim = *r.HeadDim
	}
	c.theta, c.eps = 10000, 1e-6
	if r.Theta != nil {
		c.theta = *r.Theta
	}
	if r.Eps != nil {
		c.eps = *r.Eps
	}
	c.tied = r.Tied != nil && *r.Tied
	attnBias := r.AttnBias != nil && *r.AttnBias
	// Qwen2's q/k/v projections always have a bias and its o_proj never
	// does; Llama and Qwen3 put a bias on all four when attention_bias.
	c.qkvBias = attnBias || c.arch == qwen2
	c.oBias = attnBias && c.arch != qwen2
	c.mlpBias = c.arch == llama && r.MLPBias != nil && *r.MLPBias
	c.qkNorm = c.arch == qwen3
}

// parseRope reads rope_scaling (or v5's rope_parameters, which also carries
// rope_theta). Only the default and llama3 rope types are implemented.
func parseRope(c *config, scaling, params json.RawMessage) error {
	for _, raw := range []json.RawMessage{params, scaling} {
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var b ropeBlock
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("rope_scaling: %w", err)
		}
		if b.Theta != nil {
			c.theta = *b.Theta
		}
		kind := b.RopeType
		if kind == "" {
			kind = b.Type
		}
		switch kind {
		case "", "default":
		case "llama3":
			if b.Factor == nil || b.Low == nil || b.High == nil || b.OrigMax == nil {
				return fmt.Errorf("llama3 rope_scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
			}
			if *b.High <= *b.Low || *b.Factor <= 0 || *b.OrigMax <= 0 {
				return fmt.Errorf("llama3 rope_scaling: need high_freq_factor > low_freq_factor and positive factor and context")
			}
			c.llama3 = &llama3Scaling{factor: *b.Factor, low: *b.Low, high: *b.High, origMax: *b.OrigMax}
		default:
			return fmt.Errorf("rope type %q is not supported", kind)
		}
		return nil // rope_parameters wins over the legacy rope_scaling
	}
	return nil
}
