// Package testmodel writes deterministic tiny Hugging Face checkpoints
// (config.json + model.safetensors in bf16) with random weights. Tests, the
// CLI and the README's example use them; together the presets cover every
// supported architecture and the shapes that break naive code (GQA ratios,
// head_dim != hidden/heads, sizes that are not multiples of 32, llama3 RoPE
// scaling, tied and untied heads, attention biases).
package testmodel

// Preset is one tiny model: its architecture and sizes. Config and Tensors
// derive the config.json and the tensor list from it.
type Preset struct {
	Name string
	Arch string // LlamaForCausalLM, Qwen2ForCausalLM or Qwen3ForCausalLM
	Doc  string // what the preset exercises

	Hidden, Intermediate, Layers, Heads, KVHeads, Vocab int
	// HeadDim is written to the config when non-zero; zero means
	// hidden/heads, with no head_dim field (as in most Llama/Qwen2 configs).
	HeadDim int
	Tied    bool
	// AttentionBias is the config's attention_bias (Llama, Qwen3): biases on
	// q/k/v and o_proj. Qwen2 has q/k/v biases regardless.
	AttentionBias bool
	RopeScaling   *Llama3Scaling // nil: plain RoPE
	RopeTheta     float64
	Eps           float64
	// MaxPositions is the config's max_position_embeddings; zero means
	// maxPositions.
	MaxPositions int
}

// Llama3Scaling is a rope_scaling block of rope_type "llama3".
type Llama3Scaling struct {
	Factor, LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositionEmbeddings         int
}

// maxPositions is every tiny preset's max_position_embeddings: far above the test
// sequences, and above the llama3 original context so scaling is legal.
const maxPositions = 256

// Presets lists every tiny model. Sizes are chosen so that each checkpoint
// stays well under 1 MB.
func Presets() []Preset {
	return []Preset{
		{Name: "llama-tiny", Arch: "LlamaForCausalLM", Doc: "GQA 4:1, untied head",
			Hidden: 64, Intermediate: 96, Layers: 2, Heads: 8, KVHeads: 2, Vocab: 97,
			RopeTheta: 10000, Eps: 1e-5},
		// original_max_position_embeddings 64 with theta 5e5 and head_dim 16
		// puts the inverse frequencies in all three llama3 bands: index 0
		// (wavelength 6.3 < 64/4) is kept, index 1 (32.5) is interpolated,
		// the rest (> 64/1) are divided by the factor.
		{Name: "llama3-scaled", Arch: "LlamaForCausalLM", Doc: "llama3 rope scaling (all three frequency bands), explicit head_dim 16 != 48/4, tied head",
			Hidden: 48, Intermediate: 80, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, Vocab: 120, Tied: true,
			RopeTheta: 500000, Eps: 1e-5,
			RopeScaling: &Llama3Scaling{Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}},
		{Name: "llama-mha-odd", Arch: "LlamaForCausalLM", Doc: "plain multi-head (1:1), sizes not multiples of 32, attention bias, 3 layers",
			Hidden: 72, Intermediate: 100, Layers: 3, Heads: 3, KVHeads: 3, Vocab: 263, AttentionBias: true,
			RopeTheta: 10000, Eps: 1e-6},
		{Name: "qwen2-tiny", Arch: "Qwen2ForCausalLM", Doc: "GQA 3:1, q/k/v bias, tied head",
			Hidden: 60, Intermediate: 84, Layers: 2, Heads: 6, KVHeads: 2, Vocab: 271, Tied: true,
			RopeTheta: 1000000, Eps: 1e-6},
		{Name: "qwen3-tiny", Arch: "Qwen3ForCausalLM", Doc: "q/k norm, explicit head_dim 12 != 40/4, GQA 2:1, untied head",
			Hidden: 40, Intermediate: 70, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 12, Vocab: 130,
			RopeTheta: 1000000, Eps: 1e-6},
	}
}

// BenchPresets lists the models written only on request (irc testmodel
// --preset NAME): checkpoints the size of small real models, for
// benchmarks against other implementations. Tests iterate over Presets,
// never these: writing one takes seconds and hundreds of MB.
func BenchPresets() []Preset {
	return []Preset{
		// Qwen2.5-0.5B's family shape scaled to ~245 MB of bf16: GQA 4:1,
		// head_dim 64, q/k/v biases, tied embeddings, a 32768-position
		// config, so that irc import's default cache (4096) holds position
		// 4000 and llama.cpp's context can be as long.
		{Name: "qwen2-mid", Arch: "Qwen2ForCausalLM", Doc: "benchmark size (~245 MB bf16, 122M parameters): hidden 1024, 8 layers, GQA 16:4, head_dim 64, intermediate 2816, vocab 32000, tied head",
			Hidden: 1024, Intermediate: 2816, Layers: 8, Heads: 16, KVHeads: 4, Vocab: 32000, Tied: true,
			RopeTheta: 1000000, Eps: 1e-6, MaxPositions: 32768},
	}
}

// Find returns the preset with the given name, tiny or bench.
func Find(name string) (Preset, bool) {
	for _, p := range append(Presets(), BenchPresets()...) {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// headDim is the attention head size the HF modeling code uses.
func (p Preset) headDim() int {
	if p.HeadDim != 0 {
		return p.HeadDim
	}
	return p.Hidden / p.Heads
}

// maxPos is the config's max_position_embeddings.
func (p Preset) maxPos() int {
	if p.MaxPositions != 0 {
		return p.MaxPositions
	}
	return maxPositions
}

// Blocks is p with its sizes rounded up to whole blocks of 32 (ggml's
// quantized blocks, which do not split a row): hidden and intermediate to
// multiples of 32, and the head dimension (even, for RoPE) so that the
// heads' width is one too; with no explicit head_dim, hidden grows until
// it divides into even heads. Every linear layer of the result quantizes
// (irc import --quantize, GGUF Q8_0/Q4_0).
func (p Preset) Blocks() Preset {
	p.Intermediate = (p.Intermediate + 31) / 32 * 32
	if p.HeadDim == 0 {
		for p.Hidden%32 != 0 || p.Hidden%p.Heads != 0 || p.Hidden/p.Heads%2 != 0 {
			p.Hidden++
		}
		return p
	}
	p.Hidden = (p.Hidden + 31) / 32 * 32
	for p.Heads*p.HeadDim%32 != 0 || p.HeadDim%2 != 0 {
		p.HeadDim++
	}
	return p
}
