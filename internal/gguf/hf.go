package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/schedule"
)

// FileTypeBF16 is general.file_type for a model whose matrices are BF16
// (llama.h's LLAMA_FTYPE_MOSTLY_BF16); 0 is all F32, 1 mostly F16.
const FileTypeBF16 = 32

// ConvertHF writes the Hugging Face checkpoint in dir (config.json and
// safetensors, and tokenizer.json where it has one) as a GGUF file at out
// that llama.cpp loads. See FromHF.
func ConvertHF(dir, out string) error { return ConvertHFAs(dir, out, Keep) }

// Keep, as ConvertHFAs's matrix type, stores matrices in the checkpoint's
// dtype.
const Keep Type = math.MaxUint32

// ConvertHFAs is ConvertHF with the matrices stored as matrices (F32, F16,
// BF16, rounded to nearest even; or Keep), as llama.cpp's converter's
// --outtype does. With Q8_0 or Q4_0 the linear layers' weights (the
// *_proj matrices whose rows are whole blocks) are quantized with ggml's
// reference rounding (schedule.Encode, the rounding of irc import
// --quantize) and the embedding and output layer keep the checkpoint's
// dtype: the weights irc import --quantize declares, so both imports
// compute the same logits.
func ConvertHFAs(dir, out string, matrices Type) error {
	cfg, err := hf.ReadConfig(dir)
	if err != nil {
		return err
	}
	ck, err := safetensors.OpenDir(dir)
	if err != nil {
		return err
	}
	defer ck.Close()
	kvs, tensors, err := FromHFAs(cfg, ck, filepath.Base(filepath.Clean(dir)), matrices)
	if err != nil {
		return err
	}
	// A checkpoint with a tokenizer.json keeps it, as llama.cpp's converter
	// writes it; one without gets FromHF's synthetic vocabulary.
	tok, err := hf.ReadTokenizer(dir)
	if err != nil {
		return err
	}
	if tok != nil {
		if kvs, err = withTokenizer(kvs, tok, int(cfg.VocabSize)); err != nil {
			return err
		}
	}
	return WriteFile(out, kvs, tensors)
}

// FromHF maps a Llama, Qwen2 or Qwen3 checkpoint to llama.cpp's llama,
// qwen2 or qwen3 architecture: its
// hyperparameters as llama.cpp's keys, its tensors under llama.cpp's names,
// and a synthetic vocabulary of the checkpoint's size (the checkpoint has
// no tokenizer; a benchmark feeds token ids). Matrices keep their dtype
// and bytes (an HF [out, in] matrix is ggml's {in, out}); Qwen's q and k
// need no permutation (llama.cpp's qwen2 and qwen3 apply NeoX-style RoPE,
// as the HF code does), Llama's q and k rows (weights and biases) are
// permuted as llama.cpp's converter does (Permute), since its llama
// architecture expects the rotated pairs interleaved.
// Vectors (norm weights, biases) are stored as F32, as llama.cpp's own
// converter does: its CPU backend adds and multiplies f32 activations by
// f32 operands.
func FromHF(cfg *hf.Config, ck *safetensors.Checkpoint, name string) ([]KV, []Tensor, error) {
	return FromHFAs(cfg, ck, name, Keep)
}

// FromHFAs is FromHF with the matrices stored as matrices (see
// ConvertHFAs).
func FromHFAs(cfg *hf.Config, ck *safetensors.Checkpoint, name string, matrices Type) ([]KV, []Tensor, error) {
	// llama.h's LLAMA_FTYPE_MOSTLY_Q4_0 is 2, MOSTLY_Q8_0 7.
	fileType, ok := map[Type]uint32{Keep: FileTypeBF16, F32: 0, F16: 1, BF16: FileTypeBF16, Q8_0: 7, Q4_0: 2}[matrices]
	if !ok {
		return nil, nil, fmt.Errorf("gguf: matrices as %v are not written", matrices)
	}
	arch := map[string]string{hf.Llama: "llama", hf.Qwen2: "qwen2", hf.Qwen3: "qwen3"}[cfg.Architecture]
	switch {
	case arch == "":
		return nil, nil, fmt.Errorf("gguf: %s does not convert", cfg.Architecture)
	case cfg.RopeScaling != nil && arch != "llama":
		return nil, nil, fmt.Errorf("gguf: rope_scaling is converted for llama only")
	case arch == "qwen2" && cfg.NumHeads*cfg.HeadDim != cfg.HiddenSize:
		return nil, nil, fmt.Errorf("gguf: llama.cpp's qwen2 needs heads x head_dim = hidden (%d x %d != %d)", cfg.NumHeads, cfg.HeadDim, cfg.HiddenSize)
	case cfg.VocabSize < 3:
		return nil, nil, fmt.Errorf("gguf: vocab_size %d: the synthetic vocabulary needs at least 3 ids (<unk>, <s>, </s>)", cfg.VocabSize)
	}
	kvs := []KV{
		{"general.architecture", arch},
		{"general.name", name},
		{"general.file_type", fileType},
		{arch + ".context_length", uint32(cfg.MaxPositionEmbeddings)},
		{arch + ".embedding_length", uint32(cfg.HiddenSize)},
		{arch + ".block_count", uint32(cfg.NumLayers)},
		{arch + ".feed_forward_length", uint32(cfg.IntermediateSize)},
		{arch + ".attention.head_count", uint32(cfg.NumHeads)},
		{arch + ".attention.head_count_kv", uint32(cfg.NumKVHeads)},
		{arch + ".rope.dimension_count", uint32(cfg.HeadDim)},
		{arch + ".attention.key_length", uint32(cfg.HeadDim)},
		{arch + ".attention.value_length", uint32(cfg.HeadDim)},
		{arch + ".rope.freq_base", float32(cfg.RopeTheta)},
		{arch + ".attention.layer_norm_rms_epsilon", float32(cfg.RMSNormEps)},
	}
	kvs = append(kvs, vocabulary(int(cfg.VocabSize), cfg.BOSTokenID, cfg.EOSTokenIDs)...)

	names := map[string]string{
		"model.embed_tokens.weight": "token_embd.weight",
		"model.norm.weight":         "output_norm.weight",
	}
	if !cfg.TieWordEmbeddings {
		names["lm_head.weight"] = "output.weight"
	}
	for l := range cfg.NumLayers {
		hfp, gp := fmt.Sprintf("model.layers.%d.", l), fmt.Sprintf("blk.%d.", l)
		for h, g := range hf.GGUFLayerNames {
			names[hfp+h] = gp + g
		}
	}
	have := map[string]bool{}
	for _, n := range ck.Names() {
		have[n] = true
		if _, ok := names[n]; !ok {
			return nil, nil, fmt.Errorf("gguf: tensor %s has no llama.cpp %s name", n, arch)
		}
	}
	var tensors []Tensor
	for _, n := range ck.Names() { // sorted: deterministic output
		t, err := tensor(ck, n, names[n], matrices)
		if err != nil {
			return nil, nil, err
		}
		if arch == "llama" {
			heads := int64(0)
			switch {
			case strings.HasSuffix(n, "q_proj.weight"), strings.HasSuffix(n, "q_proj.bias"):
				heads = cfg.NumHeads
			case strings.HasSuffix(n, "k_proj.weight"), strings.HasSuffix(n, "k_proj.bias"):
				heads = cfg.NumKVHeads
			}
			if heads > 0 {
				t.Data = Permute(t.Data, t.Dims[len(t.Dims)-1], heads)
			}
		}
		tensors = append(tensors, t)
	}
	if cfg.RopeScaling != nil {
		tensors = append(tensors, ropeFreqs(cfg))
	}
	for n := range names {
		optional := strings.Contains(n, "bias") || strings.Contains(n, "_norm.weight") && strings.Contains(n, "self_attn")
		if !have[n] && !optional {
			return nil, nil, fmt.Errorf("gguf: the checkpoint has no tensor %s", n)
		}
	}
	return kvs, tensors, nil
}

// tensor is one checkpoint tensor under its GGUF name: matrices as they
// are, vectors as F32.
func tensor(ck *safetensors.Checkpoint, hfName, name string, matrices Type) (Tensor, error) {
	data, info, err := ck.Bytes(hfName)
	if err != nil {
		return Tensor{}, err
	}
	dims := make([]int64, len(info.Shape))
	for i, d := range info.Shape {
		dims[len(dims)-1-i] = d
	}
	if len(dims) == 1 {
		vals, _, err := ck.Float32(hfName)
		if err != nil {
			return Tensor{}, err
		}
		return Tensor{Name: name, Type: F32, Dims: dims, Data: f32Bytes(vals)}, nil
	}
	if matrices.BlockBytes() != 0 && (!strings.HasSuffix(hfName, "_proj.weight") || dims[0]%32 != 0) {
		matrices = Keep // as irc import --quantize: only whole-block linear layers
	}
	if matrices != Keep {
		vals, _, err := ck.Float32(hfName)
		if err != nil {
			return Tensor{}, err
		}
		d := map[Type]schedule.DType{F32: schedule.F32, F16: schedule.F16, BF16: schedule.BF16, Q8_0: schedule.Q8_0, Q4_0: schedule.Q4_0}[matrices]
		return Tensor{Name: name, Type: matrices, Dims: dims, Data: schedule.Encode(d, vals)}, nil
	}
	var typ Type
	switch info.DType {
	case safetensors.BF16:
		typ = BF16
	case safetensors.F16:
		typ = F16
	case safetensors.F32:
		typ = F32
	default:
		return Tensor{}, fmt.Errorf("gguf: tensor %s is %v (want BF16, F16 or F32)", hfName, info.DType)
	}
	return Tensor{Name: name, Type: typ, Dims: dims, Data: data}, nil
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = appendF32(b, x)
	}
	return b
}

// Token types of tokenizer.ggml.token_type (llama.h's llama_token_type).
const (
	tokNormal  = 1
	tokUnknown = 2
	tokControl = 3
	tokUnused  = 5
	tokByte    = 6
)

// vocabulary is a vocabulary of n tokens that llama.cpp accepts: <unk>,
// <s>, </s>, the 256 byte tokens <0x00>..<0xFF> where they fit, then
// "▁t<id>" pieces. BOS and EOS are the config's ids; BOS is not added to
// tokenized text.
//
// With the byte tokens it is a SentencePiece-style ("llama") vocabulary.
// Without them (n < 259, the tiny presets) it is a byte-level BPE ("gpt2")
// one with no merges: llama.cpp's SPM tokenizer falls back to byte tokens
// for any character not in the vocabulary and, finding none, throws
// std::out_of_range (_Map_base::at) out of llama_tokenize, which aborts a
// process such as node-llama-cpp's (it tokenizes text while loading a
// model); its BPE tokenizer skips such bytes.
func vocabulary(n int, bos int64, eos []int64) []KV {
	tokens := make([]string, n)
	scores := make([]float32, n)
	types := make([]int32, n)
	tokens[0], types[0] = "<unk>", tokUnknown
	tokens[1], types[1] = "<s>", tokControl
	tokens[2], types[2] = "</s>", tokControl
	next := 3
	if n >= 3+256 {
		for b := range 256 {
			tokens[3+b], types[3+b] = fmt.Sprintf("<0x%02X>", b), tokByte
		}
		next += 256
	}
	for i := next; i < n; i++ {
		tokens[i], types[i], scores[i] = fmt.Sprintf("\u2581t%d", i), tokNormal, -float32(i)
	}
	kvs := []KV{
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.unknown_token_id", uint32(0)},
		{"tokenizer.ggml.add_bos_token", false},
	}
	if next == 3 { // no byte tokens: BPE (see above)
		kvs[0].Value = "gpt2"
		kvs = append(kvs, KV{"tokenizer.ggml.pre", "default"}, KV{"tokenizer.ggml.merges", []string{}})
	}
	if bos >= 0 && bos < int64(n) {
		kvs = append(kvs, KV{"tokenizer.ggml.bos_token_id", uint32(bos)})
	}
	if len(eos) > 0 && eos[0] >= 0 && eos[0] < int64(n) {
		kvs = append(kvs, KV{"tokenizer.ggml.eos_token_id", uint32(eos[0])})
	}
	return kvs
}

// Permute reorders the rows of data (rows rows of equal size) as llama.cpp's
// converter does for a llama model's q_proj and k_proj (LlamaModel.permute
// in convert_hf_to_gguf.py):
//
//	w.reshape(n_head, 2, rows/n_head/2, ...).swapaxes(1, 2).reshape(w.shape)
//
// written here as the index arithmetic of that reshape: source row
// (h, i, j) of shape (n_head, 2, D/2) goes to (h, j, i) of (n_head, D/2, 2).
func Permute(data []byte, rows, heads int64) []byte {
	out := make([]byte, len(data))
	rowBytes := int64(len(data)) / rows
	half := rows / heads / 2
	for h := range heads {
		for i := range int64(2) {
			for j := range half {
				src := (h*2+i)*half + j
				dst := (h*half+j)*2 + i
				copy(out[dst*rowBytes:(dst+1)*rowBytes], data[src*rowBytes:(src+1)*rowBytes])
			}
		}
	}
	return out
}

// ropeFreqs is Llama 3 RoPE scaling as llama.cpp's converter writes it: an
// F32 tensor of one factor per frequency, the unscaled inverse frequency
// over the scaled one (hf.InvFreq).
func ropeFreqs(cfg *hf.Config) Tensor {
	plain := *cfg
	plain.RopeScaling = nil
	base, scaled := hf.InvFreq(&plain), hf.InvFreq(cfg)
	data := make([]byte, 4*len(base))
	for i := range base {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(base[i]/scaled[i])))
	}
	return Tensor{Name: "rope_freqs.weight", Type: F32, Dims: []int64{int64(len(base))}, Data: data}
}
