package hfref

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// naiveLogits recomputes the HF forward pass a second way, deliberately
// unlike the package's: the config is read into a generic map, weights are
// indexed element by element, RoPE builds rotate_half(x) and cat(freqs,
// freqs) literally, llama3 bands are decided on frequencies rather than
// wavelengths, GQA materialises repeat_kv, attention masks a full T x T
// score matrix with -inf and normalises without subtracting the maximum,
// and silu is written with tanh.
func naiveLogits(t *testing.T, dir string, tokens []int) [][]float64 {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	num := func(k string) float64 { return cfg[k].(float64) }
	arch := cfg["architectures"].([]any)[0].(string)
	H, nh, nkv := int(num("hidden_size")), int(num("num_attention_heads")), int(num("num_key_value_heads"))
	d := H / nh
	if v, ok := cfg["head_dim"]; ok {
		d = int(v.(float64))
	}
	I, V, L := int(num("intermediate_size")), int(num("vocab_size")), int(num("num_hidden_layers"))
	eps, theta := num("rms_norm_eps"), num("rope_theta")
	attnBias, _ := cfg["attention_bias"].(bool)
	tied := cfg["tie_word_embeddings"].(bool)

	ck, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	W := func(name string) func(r, c int) float64 {
		vals, info, err := ck.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		cols := 1
		if len(info.Shape) == 2 {
			cols = int(info.Shape[1])
		}
		return func(r, c int) float64 { return float64(vals[r*cols+c]) }
	}
	vec := func(name string) func(i int) float64 {
		w := W(name)
		return func(i int) float64 { return w(i, 0) }
	}
	lin := func(x []float64, name string, out int, bias bool) []float64 {
		w := W(name + ".weight")
		y := make([]float64, out)
		for o := 0; o < out; o++ {
			for i := range x {
				y[o] += w(o, i) * x[i]
			}
			if bias {
				y[o] += vec(name + ".bias")(o)
			}
		}
		return y
	}
	norm := func(x []float64, name string) []float64 {
		w := vec(name)
		var mean float64
		for _, v := range x {
			mean += v * v / float64(len(x))
		}
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = w(i) * v / math.Sqrt(mean+eps)
		}
		return y
	}
	freqs := make([]float64, d/2)
	for i := range freqs {
		freqs[i] = math.Exp(-float64(2*i) / float64(d) * math.Log(theta))
		if rs, ok := cfg["rope_scaling"].(map[string]any); ok && rs != nil {
			f, lo, hi, orig := rs["factor"].(float64), rs["low_freq_factor"].(float64), rs["high_freq_factor"].(float64), rs["original_max_position_embeddings"].(float64)
			// wavelen < orig/hi  <=>  freq > 2*pi*hi/orig, and so on.
			switch fr := freqs[i]; {
			case fr > 2*math.Pi*hi/orig:
			case fr < 2*math.Pi*lo/orig:
				freqs[i] = fr / f
			default:
				s := (orig*fr/(2*math.Pi) - lo) / (hi - lo)
				freqs[i] = (1-s)*fr/f + s*fr
			}
		}
	}
	rope := func(x []float64, pos int) []float64 { // one head
		emb := append(append([]float64(nil), freqs...), freqs...)
		rot := make([]float64, 0, d)
		for _, v := range x[d/2:] {
			rot = append(rot, -v)
		}
		rot = append(rot, x[:d/2]...)
		y := make([]float64, d)
		for i := range y {
			y[i] = x[i]*math.Cos(float64(pos)*emb[i]) + rot[i]*math.Sin(float64(pos)*emb[i])
		}
		return y
	}
	T := len(tokens)
	x := make([][]float64, T)
	for s, tok := range tokens {
		x[s] = make([]float64, H)
		for i := range x[s] {
			x[s][i] = W("model.embed_tokens.weight")(tok, i)
		}
	}
	qkvBias := arch == "Qwen2ForCausalLM" || attnBias
	oBias := attnBias && arch != "Qwen2ForCausalLM"
	for l := 0; l < L; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		// heads[h][s] is head h of position s, after q/k norm and RoPE.
		Q, K, Vv := make([][][]float64, nh), make([][][]float64, nkv), make([][][]float64, nkv)
		for s := 0; s < T; s++ {
			hn := norm(x[s], p+"input_layernorm.weight")
			q := lin(hn, p+"self_attn.q_proj", nh*d, qkvBias)
			k := lin(hn, p+"self_attn.k_proj", nkv*d, qkvBias)
			v := lin(hn, p+"self_attn.v_proj", nkv*d, qkvBias)
			for h := 0; h < nh; h++ {
				qh := q[h*d : (h+1)*d]
				if arch == "Qwen3ForCausalLM" {
					qh = norm(qh, p+"self_attn.q_norm.weight")
				}
				Q[h] = append(Q[h], rope(qh, s))
			}
			for h := 0; h < nkv; h++ {
				kh := k[h*d : (h+1)*d]
				if arch == "Qwen3ForCausalLM" {
					kh = norm(kh, p+"self_attn.k_norm.weight")
				}
				K[h] = append(K[h], rope(kh, s))
				Vv[h] = append(Vv[h], v[h*d:(h+1)*d])
			}
		}
		// repeat_kv: query head h uses copy h of the expanded K and V.
		rep := nh / nkv
		Krep, Vrep := make([][][]float64, nh), make([][][]float64, nh)
		for kvh := 0; kvh < nkv; kvh++ {
			for r := 0; r < rep; r++ {
				Krep[kvh*rep+r], Vrep[kvh*rep+r] = K[kvh], Vv[kvh]
			}
		}
		attn := make([][]float64, T) // [T][nh*d], the transposed attn_output
		for s := range attn {
			attn[s] = make([]float64, nh*d)
		}
		for h := 0; h < nh; h++ {
			for i := 0; i < T; i++ {
				w := make([]float64, T)
				var z float64
				for j := 0; j < T; j++ {
					score := math.Inf(-1) // causal mask
					if j <= i {
						score = 0
						for e := 0; e < d; e++ {
							score += Q[h][i][e] * Krep[h][j][e]
						}
						score /= math.Sqrt(float64(d))
					}
					w[j] = math.Exp(score)
					z += w[j]
				}
				for j := 0; j < T; j++ {
					for e := 0; e < d; e++ {
						attn[i][h*d+e] += w[j] / z * Vrep[h][j][e]
					}
				}
			}
		}
		for s := 0; s < T; s++ {
			o := lin(attn[s], p+"self_attn.o_proj", H, oBias)
			for i := range o {
				x[s][i] += o[i]
			}
			hn := norm(x[s], p+"post_attention_layernorm.weight")
			g, u := lin(hn, p+"mlp.gate_proj", I, false), lin(hn, p+"mlp.up_proj", I, false)
			act := make([]float64, I)
			for k := range act {
				act[k] = 0.5 * g[k] * (1 + math.Tanh(g[k]/2)) * u[k] // silu(g) * u
			}
			down := lin(act, p+"mlp.down_proj", H, false)
			for i := range down {
				x[s][i] += down[i]
			}
		}
	}
	head := "lm_head"
	if tied {
		head = "model.embed_tokens"
	}
	out := make([][]float64, T)
	for s := range out {
		out[s] = lin(norm(x[s], "model.norm.weight"), head, V, false)
	}
	return out
}

// A one-layer model of every preset, computed by Forward and by the naive
// per-element formulas, agrees to 1e-12; so do the full presets.
func TestMatchesNaiveFormulas(t *testing.T) {
	tokens := []int{5, 1, 77, 20, 3, 60}
	for _, full := range testmodel.Presets() {
		one := full
		one.Layers = 1
		for _, p := range []testmodel.Preset{one, full} {
			dir := writePreset(t, p, 9)
			got, err := Forward(dir, tokens)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveLogits(t, dir, tokens)
			var worst float64
			for i := range want {
				for j := range want[i] {
					worst = max(worst, math.Abs(got[i][j]-want[i][j]))
				}
			}
			if worst > 1e-12 {
				t.Errorf("%s with %d layers: max |Forward - naive| = %g > 1e-12", p.Name, p.Layers, worst)
			}
			t.Logf("%s, %d layers: max |Forward - naive| = %.2g", p.Name, p.Layers, worst)
		}
	}
}
