// Package hf is the Hugging Face frontend: it reads a checkpoint folder
// (config.json and *.safetensors) and builds the primitive-level graphs of
// LlamaForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM.
package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/irc-compiler/irc/ir/safetensors"
)

// Architectures this frontend builds.
const (
	Llama = "LlamaForCausalLM"
	Qwen2 = "Qwen2ForCausalLM"
	Qwen3 = "Qwen3ForCausalLM"
)

// Config is the part of a Hugging Face config.json the graphs depend on,
// validated and with defaults applied.
type Config struct {
	Architecture          string
	VocabSize             int64
	HiddenSize            int64
	IntermediateSize      int64
	NumLayers             int64
	NumHeads              int64
	NumKVHeads            int64
	HeadDim               int64
	MaxPositionEmbeddings int64
	RopeTheta             float64
	RMSNormEps            float64
	TieWordEmbeddings     bool
	// QKVBias: the q/k/v projections have biases (always for Qwen2).
	QKVBias bool
	// OBias: o_proj has a bias (attention_bias in Llama and Qwen3).
	OBias bool
	// QKNorm: per-head RMSNorm of q and k before RoPE (Qwen3).
	QKNorm      bool
	RopeScaling *RopeScaling
	// RopeFreqFactors, when set (a GGUF file's rope_freqs tensor: how
	// llama.cpp's converter stores Llama 3 scaling), divide the inverse
	// frequencies one by one instead of RopeScaling.
	RopeFreqFactors []float64
	DType           string // "bfloat16", "float16" or "float32"
	BOSTokenID      int64
	EOSTokenIDs     []int64
}

// RopeScaling is the config's rope_scaling object; only rope_type llama3
// changes the frequencies.
type RopeScaling struct {
	RopeType                      string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings int64   `json:"original_max_position_embeddings"`
}

// rawConfig mirrors config.json; pointers tell a missing field from a zero.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	VocabSize             *int64          `json:"vocab_size"`
	HiddenSize            *int64          `json:"hidden_size"`
	IntermediateSize      *int64          `json:"intermediate_size"`
	NumHiddenLayers       *int64          `json:"num_hidden_layers"`
	NumAttentionHeads     *int64          `json:"num_attention_heads"`
	NumKeyValueHeads      *int64          `json:"num_key_value_heads"`
	HeadDim               *int64          `json:"head_dim"`
	MaxPositionEmbeddings *int64          `json:"max_position_embeddings"`
	RopeTheta             *float64        `json:"rope_theta"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	HiddenAct             *string         `json:"hidden_act"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	TorchDType            *string         `json:"torch_dtype"`
	DType                 *string         `json:"dtype"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	BOSTokenID            *int64          `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
}

// configExpansion bounds the memory a config.json takes once decoded, per
// byte of the file (a two-byte list item becomes an eight-byte integer).
const configExpansion = 16

// ReadConfig reads and validates DIR/config.json: a regular file of at most
// safetensors.MaxConfigLen bytes whose decoded form fits in memory.
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := safetensors.ReadInput(path, safetensors.MaxConfigLen, configExpansion)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig validates the bytes of a config.json: one JSON object and
// nothing after it, every field the graphs depend on in range, and a model
// small enough to build here (Config.Size with a one-slot cache must pass
// budget.Check; Build checks again with the real cache and prefill
// lengths).
func ParseConfig(data []byte) (*Config, error) {
	var raw rawConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("invalid JSON after the top-level object: %v", err)
		}
		return nil, fmt.Errorf("invalid JSON: data after the top-level object (%v at offset %d), want one object", tok, dec.InputOffset())
	}
	if len(raw.Architectures) != 1 {
		return nil, fmt.Errorf("architectures must list exactly one architecture, got %v", raw.Architectures)
	}
	c := &Config{Architecture: raw.Architectures[0]}
	switch c.Architecture {
	case Llama, Qwen2, Qwen3:
	default:
		return nil, fmt.Errorf("unknown architecture %q (supported: %s, %s, %s)", c.Architecture, Llama, Qwen2, Qwen3)
	}
	required := []struct {
		name string
		v    *int64
		dst  *int64
	}{
		{"vocab_size", raw.VocabSize, &c.VocabSize},
		{"hidden_size", raw.HiddenSize, &c.HiddenSize},
		{"intermediate_size", raw.IntermediateSize, &c.IntermediateSize},
		{"num_hidden_layers", raw.NumHiddenLayers, &c.NumLayers},
		{"num_attention_heads", raw.NumAttentionHeads, &c.NumHeads},
		{"max_position_embeddings", raw.MaxPositionEmbeddings, &c.MaxPositionEmbeddings},
	}
	for _, f := range required {
		if f.v == nil {
			return nil, fmt.Errorf("missing field %q", f.name)
		}
		if *f.v <= 0 {
			return nil, fmt.Errorf("field %q is %d, want a positive integer", f.name, *f.v)
		}
		*f.dst = *f.v
	}
	c.NumKVHeads = c.NumHeads
	if raw.NumKeyValueHeads != nil {
		c.NumKVHeads = *raw.NumKeyValueHeads
	}
	if c.NumKVHeads <= 0 || c.NumHeads%c.NumKVHeads != 0 {
		return nil, fmt.Errorf("num_attention_heads (%d) must be a multiple of num_key_value_heads (%d)", c.NumHeads, c.NumKVHeads)
	}
	switch {
	case raw.HeadDim != nil:
		c.HeadDim = *raw.HeadDim
	case c.HiddenSize%c.NumHeads != 0:
		return nil, fmt.Errorf("hidden_size (%d) is not a multiple of num_attention_heads (%d) and head_dim is not given", c.HiddenSize, c.NumHeads)
	default:
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	if c.HeadDim <= 0 || c.HeadDim%2 != 0 {
		return nil, fmt.Errorf("head_dim is %d, want a positive even number (RoPE rotates pairs)", c.HeadDim)
	}
	if raw.RMSNormEps == nil {
		return nil, fmt.Errorf("missing field %q", "rms_norm_eps")
	}
	c.RMSNormEps = *raw.RMSNormEps
	if c.RMSNormEps <= 0 {
		return nil, fmt.Errorf("rms_norm_eps is %g, want > 0", c.RMSNormEps)
	}
	c.RopeTheta = 10000
	if raw.RopeTheta != nil {
		c.RopeTheta = *raw.RopeTheta
	}
	if c.RopeTheta <= 0 {
		return nil, fmt.Errorf("rope_theta is %g, want > 0", c.RopeTheta)
	}
	if raw.HiddenAct != nil && *raw.HiddenAct != "silu" {
		return nil, fmt.Errorf("hidden_act is %q, only \"silu\" is supported", *raw.HiddenAct)
	}
	if raw.MLPBias != nil && *raw.MLPBias {
		return nil, fmt.Errorf("mlp_bias true is not supported")
	}
	if raw.UseSlidingWindow != nil && *raw.UseSlidingWindow {
		return nil, fmt.Errorf("use_sliding_window true is not supported")
	}
	c.TieWordEmbeddings = raw.TieWordEmbeddings != nil && *raw.TieWordEmbeddings
	bias := raw.AttentionBias != nil && *raw.AttentionBias
	switch c.Architecture {
	case Qwen2:
		c.QKVBias = true
	case Llama:
		c.QKVBias, c.OBias = bias, bias
	case Qwen3:
		c.QKVBias, c.OBias, c.QKNorm = bias, bias, true
	}
	var err error
	if c.RopeScaling, err = parseRopeScaling(raw.RopeScaling); err != nil {
		return nil, err
	}
	c.DType = "float32" // transformers' default when the config names none
	for _, d := range []*string{raw.TorchDType, raw.DType} {
		if d != nil {
			c.DType = *d
		}
	}
	switch c.DType {
	case "bfloat16", "float16", "float32":
	default:
		return nil, fmt.Errorf("torch_dtype %q is not supported (want bfloat16, float16 or float32)", c.DType)
	}
	if raw.BOSTokenID != nil {
		c.BOSTokenID = *raw.BOSTokenID
	}
	if c.EOSTokenIDs, err = parseIDs(raw.EOSTokenID); err != nil {
		return nil, fmt.Errorf("eos_token_id: %w", err)
	}
	for _, id := range c.EOSTokenIDs {
		if id < 0 || id >= c.VocabSize {
			return nil, fmt.Errorf("eos_token_id holds %d, want ids in [0, vocab_size=%d)", id, c.VocabSize)
		}
	}
	if c.BOSTokenID < 0 || c.BOSTokenID >= c.VocabSize {
		return nil, fmt.Errorf("bos_token_id is %d, want an id in [0, vocab_size=%d)", c.BOSTokenID, c.VocabSize)
	}
	// The model must fit with the smallest cache; Build checks the real one.
	if err := c.checkSize(Options{MaxCacheLen: 1, PrefillLen: 1}); err != nil {
		return nil, err
	}
	return c, nil
}

func parseRopeScaling(raw json.RawMessage) (*RopeScaling, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var rs RopeScaling
	var legacy struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("rope_scaling: %v", err)
	}
	_ = json.Unmarshal(raw, &legacy)
	if rs.RopeType == "" {
		rs.RopeType = legacy.Type
	}
	switch rs.RopeType {
	case "default", "":
		return nil, nil
	case "llama3":
		if rs.Factor <= 0 || rs.LowFreqFactor <= 0 || rs.HighFreqFactor <= rs.LowFreqFactor || rs.OriginalMaxPositionEmbeddings <= 0 {
			return nil, fmt.Errorf("rope_scaling llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0, got %s", compact(raw))
		}
		return &rs, nil
	}
	return nil, fmt.Errorf("rope_scaling type %q is not supported (want llama3 or default)", rs.RopeType)
}

func parseIDs(raw json.RawMessage) ([]int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int64
	if json.Unmarshal(raw, &one) == nil {
		return []int64{one}, nil
	}
	var many []int64
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("want an integer or a list of integers, got %s", compact(raw))
	}
	return many, nil
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return strings.TrimSpace(string(raw))
	}
	return b.String()
}
