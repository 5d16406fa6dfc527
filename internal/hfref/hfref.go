// Package hfref is an independent float64 implementation of the Hugging
// Face Llama, Qwen2 and Qwen3 forward passes, written straight from
// transformers' modeling code with plain loops. It shares nothing with the
// compiler's frontend or runtime (it parses config.json itself) so that it
// can serve as the oracle the ref runtime is tested against.
package hfref

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/irc-compiler/irc/ir/safetensors"
)

type config struct {
	Architectures []string `json:"architectures"`
	Hidden        int      `json:"hidden_size"`
	Inter         int      `json:"intermediate_size"`
	Layers        int      `json:"num_hidden_layers"`
	Heads         int      `json:"num_attention_heads"`
	KVHeads       int      `json:"num_key_value_heads"`
	HeadDim       int      `json:"head_dim"`
	Vocab         int      `json:"vocab_size"`
	Theta         float64  `json:"rope_theta"`
	Eps           float64  `json:"rms_norm_eps"`
	Tied          bool     `json:"tie_word_embeddings"`
	AttnBias      bool     `json:"attention_bias"`
	RopeScaling   *struct {
		RopeType string  `json:"rope_type"`
		Factor   float64 `json:"factor"`
		Low      float64 `json:"low_freq_factor"`
		High     float64 `json:"high_freq_factor"`
		Orig     float64 `json:"original_max_position_embeddings"`
	} `json:"rope_scaling"`
}

type model struct {
	c    config
	ckpt *safetensors.Checkpoint
}

func (m *model) w(name string) []float64 {
	v, _, err := m.ckpt.Float32(name)
	if err != nil {
		panic(err)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Forward returns, for every position t of tokens, the next-token logits
// after token t (a full causal pass, no cache).
func Forward(dir string, tokens []int) (logits [][]float64, err error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.HeadDim == 0 {
		c.HeadDim = c.Hidden / c.Heads
	}
	if c.Theta == 0 {
		c.Theta = 10000
	}
	ckpt, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer ckpt.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hfref: %v", r)
		}
	}()
	m := &model{c: c, ckpt: ckpt}
	return m.forward(tokens), nil
}

func (m *model) forward(tokens []int) [][]float64 {
	c := m.c
	arch := c.Architectures[0]
	T, H := len(tokens), c.Hidden
	emb := m.w("model.embed_tokens.weight")
	x := make([][]float64, T)
	for t, id := range tokens {
		x[t] = append([]float64(nil), emb[id*H:(id+1)*H]...)
	}
	cos, sin := m.rope(T)
	for l := 0; l < c.Layers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		h := rmsNormRows(x, m.w(p+"input_layernorm.weight"), c.Eps)
		qkvBias := arch == "Qwen2ForCausalLM" || c.AttnBias
		q := linear(h, m.w(p+"self_attn.q_proj.weight"), m.bias(p+"self_attn.q_proj.bias", qkvBias), c.Heads*c.HeadDim)
		k := linear(h, m.w(p+"self_attn.k_proj.weight"), m.bias(p+"self_attn.k_proj.bias", qkvBias), c.KVHeads*c.HeadDim)
		v := linear(h, m.w(p+"self_attn.v_proj.weight"), m.bias(p+"self_attn.v_proj.bias", qkvBias), c.KVHeads*c.HeadDim)
		if arch == "Qwen3ForCausalLM" {
			perHeadNorm(q, m.w(p+"self_attn.q_norm.weight"), c.HeadDim, c.Eps)
			perHeadNorm(k, m.w(p+"self_attn.k_norm.weight"), c.HeadDim, c.Eps)
		}
		applyRope(q, cos, sin, c.HeadDim)
		applyRope(k, cos, sin, c.HeadDim)
		attn := m.attention(q, k, v)
		o := linear(attn, m.w(p+"self_attn.o_proj.weight"), m.bias(p+"self_attn.o_proj.bias", c.AttnBias), H)
		addRows(x, o)
		h = rmsNormRows(x, m.w(p+"post_attention_layernorm.weight"), c.Eps)
		gate := linear(h, m.w(p+"mlp.gate_proj.weight"), nil, c.Inter)
		up := linear(h, m.w(p+"mlp.up_proj.weight"), nil, c.Inter)
		for t := range gate {
			for i, g := range gate[t] {
				gate[t][i] = g / (1 + math.Exp(-g)) * up[t][i]
			}
		}
		addRows(x, linear(gate, m.w(p+"mlp.down_proj.weight"), nil, H))
	}
	h := rmsNormRows(x, m.w("model.norm.weight"), c.Eps)
	head := "lm_head.weight"
	if c.Tied {
		head = "model.embed_tokens.weight"
	}
	return linear(h, m.w(head), nil, c.Vocab)
}

func (m *model) bias(name string, present bool) []float64 {
	if !present {
		return nil
	}
	return m.w(name)
}

// rope returns cos and sin [T][head_dim] with emb = cat(freqs, freqs), the
// inverse frequencies scaled as transformers' llama3 rope does.
func (m *model) rope(T int) (cos, sin [][]float64) {
	c := m.c
	d := c.HeadDim
	inv := make([]float64, d/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.Theta, float64(2*i)/float64(d))
		if rs := c.RopeScaling; rs != nil && rs.RopeType == "llama3" {
			lowWave, highWave := rs.Orig/rs.Low, rs.Orig/rs.High
			wave := 2 * math.Pi / inv[i]
			if wave > lowWave {
				inv[i] /= rs.Factor
			} else if wave >= highWave {
				smooth := (rs.Orig/wave - rs.Low) / (rs.High - rs.Low)
				inv[i] = (1-smooth)*inv[i]/rs.Factor + smooth*inv[i]
			}
		}
	}
	cos, sin = make([][]float64, T), make([][]float64, T)
	for t := range cos {
		cos[t], sin[t] = make([]float64, d), make([]float64, d)
		for i := 0; i < d; i++ {
			a := float64(t) * inv[i%(d/2)]
			cos[t][i], sin[t][i] = math.Cos(a), math.Sin(a)
		}
	}
	return cos, sin
}

// attention is causal scaled-dot-product attention with GQA: query head h
// reads kv head h / (heads/kv_heads).
func (m *model) attention(q, k, v [][]float64) [][]float64 {
	c := m.c
	T, d, group := len(q), c.HeadDim, c.Heads/c.KVHeads
	out := make([][]float64, T)
	for t := range out {
		out[t] = make([]float64, c.Heads*d)
		for h := 0; h < c.Heads; h++ {
			kvh := h / group
			scores := make([]float64, t+1)
			mx := math.Inf(-1)
			for s := 0; s <= t; s++ {
				var dot float64
				for i := 0; i < d; i++ {
					dot += q[t][h*d+i] * k[s][kvh*d+i]
				}
				scores[s] = dot / math.Sqrt(float64(d))
				mx = math.Max(mx, scores[s])
			}
			var z float64
			for s := range scores {
				scores[s] = math.Exp(scores[s] - mx)
				z += scores[s]
			}
			for s := range scores {
				for i := 0; i < d; i++ {
					out[t][h*d+i] += scores[s] / z * v[s][kvh*d+i]
				}
			}
		}
	}
	return out
}

func rmsNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = w[i] * v * r
	}
	return out
}

func rmsNormRows(x [][]float64, w []float64, eps float64) [][]float64 {
	out := make([][]float64, len(x))
	for t := range x {
		out[t] = rmsNorm(x[t], w, eps)
	}
	return out
}

func perHeadNorm(x [][]float64, w []float64, d int, eps float64) {
	for t := range x {
		for h := 0; h < len(x[t])/d; h++ {
			copy(x[t][h*d:(h+1)*d], rmsNorm(x[t][h*d:(h+1)*d], w, eps))
		}
	}
}

// applyRope is x*cos + rotate_half(x)*sin per head, rotate_half(x) =
// cat(-x[d/2:], x[:d/2]).
func applyRope(x, cos, sin [][]float64, d int) {
	half := d / 2
	for t := range x {
		for h := 0; h < len(x[t])/d; h++ {
			head := x[t][h*d : (h+1)*d]
			rot := make([]float64, d)
			for i := 0; i < half; i++ {
				rot[i], rot[i+half] = -head[i+half], head[i]
			}
			for i := range head {
				head[i] = head[i]*cos[t][i] + rot[i]*sin[t][i]
			}
		}
	}
}

// linear is x @ w^T + b with w [out, in].
func linear(x [][]float64, w, b []float64, out int) [][]float64 {
	in := len(w) / out
	y := make([][]float64, len(x))
	for t := range x {
		y[t] = make([]float64, out)
		for o := 0; o < out; o++ {
			var s float64
			for i := 0; i < in; i++ {
				s += x[t][i] * w[o*in+i]
			}
			if b != nil {
				s += b[o]
			}
			y[t][o] = s
		}
	}
	return y
}

func addRows(x, y [][]float64) {
	for t := range x {
		for i := range x[t] {
			x[t][i] += y[t][i]
		}
	}
}
