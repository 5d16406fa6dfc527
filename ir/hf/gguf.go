package hf

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/gguf"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// ggufArchs maps general.architecture to the Hugging Face architecture
// whose graph the model is.
var ggufArchs = map[string]string{"llama": Llama, "qwen2": Qwen2, "qwen3": Qwen3}

// ImportGGUF reads a GGUF file (llama.cpp's container) of a llama, qwen2
// or qwen3 model with unquantized tensors and builds the same graphs Build
// builds for the equivalent Hugging Face checkpoint: the hyperparameters
// come from the {arch}.* metadata, made into a Config and validated by
// ParseConfig, and every weight is bound to its GGUF tensor (File is the
// GGUF file's base name, relative to its folder; Tensor the GGUF name),
// checked for dtype and shape as the loaders will check it. Every tensor
// of the file must be one the graph uses.
func ImportGGUF(path string, opts Options) (*ir.Model, error) {
	g, err := safetensors.OpenGGUF(path)
	if err != nil {
		return nil, err
	}
	defer g.Close()
	cfg, err := GGUFConfig(g.Header)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.RopeFreqFactors, err = ropeFreqFactors(g, cfg.HeadDim); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.Quantize != ir.Invalid || opts.QuantizeEmbeddings {
		return nil, fmt.Errorf("%s: --quantize applies to Hugging Face checkpoints; a GGUF file's weights keep the types they are stored in", path)
	}
	// Matrices are declared in the types they are stored in (Q8_0 and
	// Q4_0 as q8_0 and q4_0, the same blocks) and bound to the file's
	// bytes: nothing is copied, converted or dequantized. The model
	// computes in cfg's dtype (GGUFConfig: F32 for llama.cpp's files).
	opts.WeightTypes = map[string]ir.DType{}
	for _, t := range g.Tensors {
		if d, ok := ggufMatrixTypes[t.Type]; ok && len(t.Dims) == 2 {
			opts.WeightTypes[hfName(t.Name)] = d
		}
	}
	m, err := Build(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	used := map[string]bool{ropeFreqs: cfg.RopeFreqFactors != nil} // read at import, into the rope ops
	for _, w := range m.Weights {
		name, ok := GGUFName(w.Tensor)
		if !ok {
			return nil, fmt.Errorf("%s: weight @%s has no GGUF name", path, w.Value.Name)
		}
		if _, ok := g.Tensor(name); !ok {
			return nil, fmt.Errorf("%s: missing tensor %s (wanted %v for weight @%s)", path, name, w.Value.Type, w.Value.Name)
		}
		if _, err := safetensors.GGUFInfo(g, name, w.Value.Type.DType.String(), w.Value.Type.Shape); err != nil {
			return nil, fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		if _, _, err := g.PermutedHeads(name); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %w", path, name, err)
		}
		w.File, w.Tensor = filepath.Base(path), name
		used[name] = true
	}
	for _, t := range g.Tensors {
		if !used[t.Name] {
			return nil, fmt.Errorf("%s: tensor %s is not part of the %s graph irc builds (not supported)", path, t.Name, cfg.Architecture)
		}
	}
	if m.Meta.Tokenizer, err = GGUFTokenizer(g.Header); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// GGUFTokenizer is the tokenizer of a GGUF header's tokenizer.ggml.*
// metadata (nil when it has no tokenizer.ggml.model), read within the
// reader's header budget. A malformed header is an error; a tokenizer irc
// cannot run (SentencePiece "llama", an unknown pre-tokenizer, a vocabulary
// that is not byte-level) is kept by name with the reason, so that the
// weights still import and text features say why they are unavailable.
func GGUFTokenizer(h *gguf.Header) (*tokenizer.Vocab, error) {
	model, ok, err := h.String("tokenizer.ggml.model")
	if err != nil || !ok {
		return nil, err
	}
	g := tokenizer.GGUF{Model: model}
	if g.Pre, _, err = h.String("tokenizer.ggml.pre"); err != nil {
		return nil, err
	}
	if g.ChatTemplate, _, err = h.String("tokenizer.chat_template"); err != nil {
		return nil, err
	}
	array := func(key string, required bool) (any, error) {
		v, ok := h.KV(key)
		if !ok {
			if required {
				return nil, fmt.Errorf("metadata %s is missing (tokenizer.ggml.model is %q)", key, model)
			}
			return nil, nil
		}
		if v.Type != gguf.TypeArray {
			return nil, fmt.Errorf("metadata %s is not an array", key)
		}
		return v.V, nil
	}
	v, err := array("tokenizer.ggml.tokens", true)
	if err != nil {
		return nil, err
	}
	var isStr bool
	if g.Tokens, isStr = v.([]string); !isStr {
		return nil, fmt.Errorf("metadata tokenizer.ggml.tokens is not an array of strings")
	}
	if v, err = array("tokenizer.ggml.merges", false); err != nil {
		return nil, err
	} else if v != nil {
		if g.Merges, isStr = v.([]string); !isStr {
			return nil, fmt.Errorf("metadata tokenizer.ggml.merges is not an array of strings")
		}
	}
	if v, err = array("tokenizer.ggml.token_type", false); err != nil {
		return nil, err
	} else if v != nil {
		var n []int64
		switch a := v.(type) {
		case []int64:
			n = a
		case []uint64:
			for _, x := range a {
				n = append(n, int64(min(x, 1<<31)))
			}
		default:
			return nil, fmt.Errorf("metadata tokenizer.ggml.token_type is not an array of integers")
		}
		g.TokenTypes = make([]int32, len(n))
		for i, x := range n {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, fmt.Errorf("metadata tokenizer.ggml.token_type[%d] is %d, out of int32", i, x)
			}
			g.TokenTypes[i] = int32(x)
		}
	}
	for key, into := range map[string]*int64{"bos_token_id": &g.BOS, "eos_token_id": &g.EOS, "eot_token_id": &g.EOT, "eom_token_id": &g.EOM} {
		id, ok, err := h.Int("tokenizer.ggml." + key)
		if err != nil {
			return nil, err
		}
		*into = -1
		if ok {
			*into = id
		}
	}
	if kv, ok := h.KV("tokenizer.ggml.add_bos_token"); ok {
		b, isBool := kv.V.(bool)
		if !isBool {
			return nil, fmt.Errorf("metadata tokenizer.ggml.add_bos_token is not a bool")
		}
		g.AddBOS = &b
	}
	vocab, err := tokenizer.FromGGUF(g)
	if err != nil {
		return tokenizer.UnsupportedVocab(model, g.Pre, err), nil
	}
	return vocab, nil
}

// GGUFConfig makes a GGUF header's metadata into the Config Build takes.
func GGUFConfig(h *gguf.Header) (*Config, error) {
	arch, ok, err := h.String("general.architecture")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("metadata general.architecture is missing")
	}
	hfArch, ok := ggufArchs[arch]
	if !ok {
		return nil, fmt.Errorf("general.architecture is %q (supported: llama, qwen2, qwen3)", arch)
	}
	p := arch + "."
	ints := map[string]int64{}
	for _, k := range []string{"context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count"} {
		v, ok, err := h.Int(p + k)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("metadata %s is missing", p+k)
		}
		if v <= 0 {
			return nil, fmt.Errorf("metadata %s is %d, want > 0", p+k, v)
		}
		ints[k] = v
	}
	heads := ints["attention.head_count"]
	optional := func(key string, def int64) (int64, error) {
		v, ok, err := h.Int(p + key)
		if err != nil || !ok {
			return def, err
		}
		if v <= 0 {
			return 0, fmt.Errorf("metadata %s is %d, want > 0", p+key, v)
		}
		return v, nil
	}
	kvHeads, err := optional("attention.head_count_kv", heads)
	if err != nil {
		return nil, err
	}
	if ints["embedding_length"]%heads != 0 {
		// Build's own check would name head_dim; say it in GGUF's terms.
		if _, ok := h.KV(p + "attention.key_length"); !ok {
			return nil, fmt.Errorf("metadata %sembedding_length (%d) is not a multiple of %sattention.head_count (%d) and %sattention.key_length is missing", p, ints["embedding_length"], p, heads, p)
		}
	}
	headDim, err := optional("attention.key_length", ints["embedding_length"]/heads)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"attention.value_length", "rope.dimension_count"} {
		v, err := optional(k, headDim)
		if err != nil {
			return nil, err
		}
		if v != headDim {
			return nil, fmt.Errorf("metadata %s is %d, but the head dimension is %d (only full-width RoPE and equal key/value heads are supported)", p+k, v, headDim)
		}
	}
	eps, ok, err := float(h, p+"attention.layer_norm_rms_epsilon")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("metadata %sattention.layer_norm_rms_epsilon is missing", p)
	}
	theta, ok, err := float(h, p+"rope.freq_base")
	if err != nil {
		return nil, err
	}
	if !ok {
		theta = 10000
	}
	if typ, ok, err := h.String(p + "rope.scaling.type"); err != nil {
		return nil, err
	} else if ok && typ != "none" {
		return nil, fmt.Errorf("metadata %srope.scaling.type is %q: RoPE scaling from GGUF is not supported", p, typ)
	}
	emb, ok := h.Tensor("token_embd.weight")
	if !ok {
		return nil, fmt.Errorf("tensor token_embd.weight is missing")
	}
	if len(emb.Dims) != 2 {
		return nil, fmt.Errorf("tensor token_embd.weight has %d dims %v, want 2 {embedding_length, vocab}", len(emb.Dims), emb.Dims)
	}
	// The model computes in output_norm's type, as llama.cpp computes in
	// its norms' F32 whatever its matrices are stored in (they keep their
	// types: ImportGGUF): F32 activations over F16 weights give llama.cpp's
	// numbers, F16 activations would not (one rounding per node).
	torch := map[gguf.Type]string{gguf.F32: "float32", gguf.F16: "float16", gguf.BF16: "bfloat16"}
	dtype := "float32"
	if norm, ok := h.Tensor("output_norm.weight"); ok && torch[norm.Type] != "" {
		dtype = torch[norm.Type]
	}
	_, hasOutput := h.Tensor("output.weight")
	_, bias := h.Tensor("blk.0.attn_q.bias")
	raw := map[string]any{
		"architectures":           []string{hfArch},
		"vocab_size":              emb.Dims[1],
		"hidden_size":             ints["embedding_length"],
		"intermediate_size":       ints["feed_forward_length"],
		"num_hidden_layers":       ints["block_count"],
		"num_attention_heads":     heads,
		"num_key_value_heads":     kvHeads,
		"head_dim":                headDim,
		"max_position_embeddings": ints["context_length"],
		"rope_theta":              theta,
		"rms_norm_eps":            eps,
		"tie_word_embeddings":     !hasOutput,
		"attention_bias":          bias,
		"torch_dtype":             dtype,
	}
	for key, field := range map[string]string{"tokenizer.ggml.bos_token_id": "bos_token_id", "tokenizer.ggml.eos_token_id": "eos_token_id"} {
		v, ok, err := h.Int(key)
		if err != nil {
			return nil, err
		}
		if ok {
			raw[field] = v
		}
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(js)
	if err != nil {
		return nil, fmt.Errorf("the model its metadata describes: %w", err)
	}
	return cfg, nil
}

// float reads a float hyperparameter. A float32 (what llama.cpp writes) is
// taken as the shortest decimal that is that float32, which is what the
// Hugging Face config held (1e-06, not 9.999999974752427e-07), so a GGUF
// import computes with the same constants as the checkpoint's.
func float(h *gguf.Header, key string) (float64, bool, error) {
	v, ok, err := h.Float(key)
	if err != nil || !ok {
		return 0, ok, err
	}
	if val, _ := h.KV(key); val.Type == gguf.TypeFloat32 {
		v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
	}
	if v != v || v <= 0 {
		return 0, true, fmt.Errorf("metadata %s is %g, want > 0", key, v)
	}
	return v, true, nil
}

// ggufMatrixTypes are the IR types of the GGUF types a matrix may be stored in.
var ggufMatrixTypes = map[gguf.Type]ir.DType{gguf.F32: ir.F32, gguf.F16: ir.F16, gguf.BF16: ir.BF16, gguf.Q8_0: ir.Q8_0, gguf.Q4_0: ir.Q4_0}

// hfName is the Hugging Face name of a GGUF tensor (GGUFName's inverse),
// or "" for a name the graph does not use.
func hfName(name string) string {
	switch name {
	case "token_embd.weight":
		return "model.embed_tokens.weight"
	case "output_norm.weight":
		return "model.norm.weight"
	case "output.weight":
		return "lm_head.weight"
	}
	var l int
	var rest string
	if n, _ := fmt.Sscanf(name, "blk.%d.%s", &l, &rest); n != 2 {
		return ""
	}
	for hf, g := range GGUFLayerNames {
		if g == rest {
			return "model.layers." + strconv.Itoa(l) + "." + hf
		}
	}
	return ""
}

var hfLayerName = regexp.MustCompile(`^model\.layers\.([0-9]+)\.(.+)$`)

// GGUFLayerNames maps the name of a decoder layer's tensor within the
// layer (Hugging Face's, after "model.layers.N.") to llama.cpp's (after
// "blk.N."): the one table the importer and internal/gguf's writer use.
var GGUFLayerNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.q_proj.bias":           "attn_q.bias",
	"self_attn.k_proj.bias":           "attn_k.bias",
	"self_attn.v_proj.bias":           "attn_v.bias",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"self_attn.o_proj.bias":           "attn_output.bias",
	"self_attn.q_norm.weight":         "attn_q_norm.weight",
	"self_attn.k_norm.weight":         "attn_k_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
}

// GGUFName is llama.cpp's name (llama-arch.cpp's LLM_TENSOR_NAMES) of the
// Hugging Face tensor Build declares.
func GGUFName(hfName string) (string, bool) {
	switch hfName {
	case "model.embed_tokens.weight":
		return "token_embd.weight", true
	case "model.norm.weight":
		return "output_norm.weight", true
	case "lm_head.weight":
		return "output.weight", true
	}
	m := hfLayerName.FindStringSubmatch(hfName)
	if m == nil {
		return "", false
	}
	n, ok := GGUFLayerNames[m[2]]
	if !ok {
		return "", false
	}
	l, err := strconv.Atoi(m[1])
	if err != nil {
		return "", false
	}
	return "blk." + strconv.Itoa(l) + "." + n, true
}

// ropeFreqs is the tensor llama.cpp's converter writes Llama 3 RoPE scaling
// as: one factor per frequency, dividing 1/theta^(2i/d).
const ropeFreqs = "rope_freqs.weight"

// ropeFreqFactors reads g's rope_freqs tensor (nil without one): F32, one
// positive finite factor per pair of a head of headDim.
func ropeFreqFactors(g *gguf.File, headDim int64) ([]float64, error) {
	t, ok := g.Tensor(ropeFreqs)
	if !ok {
		return nil, nil
	}
	if t.Type != gguf.F32 || len(t.Dims) != 1 || int64(t.Dims[0]) != headDim/2 {
		return nil, fmt.Errorf("tensor %s is %v %v, want F32 [%d] (one factor per RoPE frequency)", ropeFreqs, t.Type, t.Dims, headDim/2)
	}
	data, err := g.Bytes(ropeFreqs)
	if err != nil {
		return nil, fmt.Errorf("tensor %s: %w", ropeFreqs, err)
	}
	factors := make([]float64, headDim/2)
	for i := range factors {
		f := float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])))
		if !(f > 0) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("tensor %s: factor %d is %v, want a positive finite number", ropeFreqs, i, f)
		}
		factors[i] = f
	}
	return factors, nil
}
