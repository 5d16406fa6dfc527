package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/testmodel"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// parsed is a GGUF file read back by the test's own reader, which follows
// the format as ggml's gguf.cpp reads it.
type parsed struct {
	kv      map[string]any
	tensors map[string]parsedTensor
	order   []string
}

type parsedTensor struct {
	typ  Type
	dims []int64
	data []byte
}

func parse(t *testing.T, b []byte) parsed {
	t.Helper()
	r := bytes.NewReader(b)
	rd := func(v any) {
		if err := binary.Read(r, binary.LittleEndian, v); err != nil {
			t.Fatalf("reading at %d: %v", len(b)-r.Len(), err)
		}
	}
	u32 := func() uint32 { var v uint32; rd(&v); return v }
	u64 := func() uint64 { var v uint64; rd(&v); return v }
	str := func() string {
		s := make([]byte, u64())
		rd(s)
		return string(s)
	}
	var scalar func(typ uint32) any
	scalar = func(typ uint32) any {
		switch typ {
		case typeUint32:
			return u32()
		case typeInt32:
			return int32(u32())
		case typeFloat32:
			return math.Float32frombits(u32())
		case typeBool:
			var v uint8
			rd(&v)
			return v != 0
		case typeString:
			return str()
		case typeUint64:
			return u64()
		case typeArray:
			et, n := u32(), u64()
			out := make([]any, n)
			for i := range out {
				out[i] = scalar(et)
			}
			return out
		}
		t.Fatalf("metadata type %d", typ)
		return nil
	}
	if magic := make([]byte, 4); func() bool { rd(magic); return string(magic) != "GGUF" }() {
		t.Fatal("no GGUF magic")
	}
	if v := u32(); v != Version {
		t.Fatalf("version %d", v)
	}
	nt, nkv := u64(), u64()
	p := parsed{kv: map[string]any{}, tensors: map[string]parsedTensor{}}
	for range nkv {
		k := str()
		p.kv[k] = scalar(u32())
	}
	offsets := map[string]uint64{}
	for range nt {
		name := str()
		dims := make([]int64, u32())
		for i := range dims {
			dims[i] = int64(u64())
		}
		pt := parsedTensor{typ: Type(u32()), dims: dims}
		offsets[name] = u64()
		if offsets[name]%Alignment != 0 {
			t.Errorf("tensor %s at offset %d, not aligned", name, offsets[name])
		}
		p.tensors[name] = pt
		p.order = append(p.order, name)
	}
	start := pad(int64(len(b) - r.Len()))
	for _, name := range p.order {
		pt := p.tensors[name]
		n := (Tensor{Type: pt.typ, Dims: pt.dims}).Bytes()
		off := start + int64(offsets[name])
		if off+n > int64(len(b)) {
			t.Fatalf("tensor %s [%d, %d) past the file's %d bytes", name, off, off+n, len(b))
		}
		pt.data = b[off : off+n]
		p.tensors[name] = pt
	}
	return p
}

func TestWriteRoundTrip(t *testing.T) {
	kvs := []KV{{"a.u32", uint32(7)}, {"a.f32", float32(1.5)}, {"a.s", "x"}, {"a.b", true},
		{"a.strs", []string{"p", "", "qq"}}, {"a.f32s", []float32{1, -2}}, {"a.i32s", []int32{-1, 3}}, {"a.u64", uint64(1 << 40)}}
	tensors := []Tensor{
		{Name: "odd", Type: BF16, Dims: []int64{3}, Data: []byte{1, 2, 3, 4, 5, 6}},
		{Name: "m", Type: F32, Dims: []int64{2, 3}, Data: bytes.Repeat([]byte{9}, 24)},
	}
	var buf bytes.Buffer
	if err := Write(&buf, kvs, tensors); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%Alignment != 0 {
		t.Errorf("file is %d bytes, want the data section padded to %d", buf.Len(), Alignment)
	}
	p := parse(t, buf.Bytes())
	want := map[string]any{"a.u32": uint32(7), "a.f32": float32(1.5), "a.s": "x", "a.b": true,
		"a.strs": []any{"p", "", "qq"}, "a.f32s": []any{float32(1), float32(-2)}, "a.i32s": []any{int32(-1), int32(3)}, "a.u64": uint64(1 << 40)}
	if fmt.Sprint(p.kv) != fmt.Sprint(want) {
		t.Errorf("metadata %v, want %v", p.kv, want)
	}
	for _, w := range tensors {
		g := p.tensors[w.Name]
		if g.typ != w.Type || !slices.Equal(g.dims, w.Dims) || !bytes.Equal(g.data, w.Data) {
			t.Errorf("tensor %s read back as %v %v %v", w.Name, g.typ, g.dims, g.data)
		}
	}
	for _, bad := range []struct {
		kvs     []KV
		tensors []Tensor
		want    string
	}{
		{nil, []Tensor{{Name: "x", Type: BF16, Dims: []int64{2}, Data: []byte{1}}}, "1 bytes of data"},
		{nil, []Tensor{{Name: "x", Type: 12, Dims: []int64{2}}}, "not written"},
		{nil, []Tensor{{Name: "x", Type: Q8_0, Dims: []int64{16, 2}, Data: make([]byte, 34)}}, "Q8_0 [16 2] is -1"},
		{nil, []Tensor{{Name: "x", Type: Q4_0, Dims: []int64{32, 2}, Data: make([]byte, 34)}}, "34 bytes of data, Q4_0 [32 2] is 36"},
		{nil, []Tensor{{Name: "x", Type: F32, Dims: []int64{0}}, {Name: "x", Type: F32, Dims: []int64{0}}}, "twice"},
		{[]KV{{"k", 1}}, nil, "cannot write a int"},
		{[]KV{{"k", "a"}, {"k", "b"}}, nil, "twice"},
	} {
		if err := Write(&bytes.Buffer{}, bad.kvs, bad.tensors); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Write(%v, %v) = %v, want an error with %q", bad.kvs, bad.tensors, err, bad.want)
		}
	}
}

// The tiny Qwen2 converts: llama.cpp's keys with the config's values, every
// tensor under its llama.cpp name with ggml's dimension order, matrices
// byte for byte, vectors as their F32 values.
func TestConvertQwen2(t *testing.T) {
	p, _ := testmodel.Find("qwen2-tiny")
	dir := filepath.Join(t.TempDir(), p.Name)
	if err := testmodel.Write(dir, p, 1); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "m.gguf")
	if err := ConvertHF(dir, out); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, out)
	g := parse(t, b)
	for k, v := range map[string]any{
		"general.architecture":                   "qwen2",
		"general.file_type":                      uint32(FileTypeBF16),
		"qwen2.block_count":                      uint32(p.Layers),
		"qwen2.embedding_length":                 uint32(p.Hidden),
		"qwen2.feed_forward_length":              uint32(p.Intermediate),
		"qwen2.attention.head_count":             uint32(p.Heads),
		"qwen2.attention.head_count_kv":          uint32(p.KVHeads),
		"qwen2.context_length":                   uint32(256),
		"qwen2.rope.freq_base":                   float32(p.RopeTheta),
		"qwen2.attention.layer_norm_rms_epsilon": float32(p.Eps),
		"qwen2.rope.dimension_count":             uint32(p.Hidden / p.Heads),
		// The checkpoint's own tokenizer (testmodel's byte-level BPE).
		"tokenizer.ggml.model":        "gpt2",
		"tokenizer.ggml.pre":          "qwen2",
		"tokenizer.ggml.eos_token_id": uint32(270), // <|im_end|>
	} {
		if g.kv[k] != v {
			t.Errorf("%s = %v (%T), want %v (%T)", k, g.kv[k], g.kv[k], v, v)
		}
	}
	tok, err := hf.ReadTokenizer(dir)
	if err != nil || tok == nil {
		t.Fatalf("the checkpoint's tokenizer: %v", err)
	}
	toks, _ := g.kv["tokenizer.ggml.tokens"].([]any)
	merges, _ := g.kv["tokenizer.ggml.merges"].([]any)
	if len(toks) != p.Vocab || len(merges) != len(tok.Merges) || fmt.Sprint(toks) != fmt.Sprint(tok.Tokens) || fmt.Sprint(merges) != fmt.Sprint(tok.Merges) {
		t.Errorf("%d tokens and %d merges, want the checkpoint's %d and %d", len(toks), len(merges), len(tok.Tokens), len(tok.Merges))
	}
	if g.kv["tokenizer.chat_template"] != tok.ChatTemplate {
		t.Errorf("tokenizer.chat_template = %q, want the checkpoint's", g.kv["tokenizer.chat_template"])
	}

	ck, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	want := map[string]string{"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
		"model.layers.1.self_attn.q_proj.weight": "blk.1.attn_q.weight", "model.layers.1.self_attn.k_proj.bias": "blk.1.attn_k.bias",
		"model.layers.0.self_attn.o_proj.weight": "blk.0.attn_output.weight", "model.layers.0.mlp.down_proj.weight": "blk.0.ffn_down.weight",
		"model.layers.0.post_attention_layernorm.weight": "blk.0.ffn_norm.weight", "model.layers.1.input_layernorm.weight": "blk.1.attn_norm.weight"}
	if len(g.tensors) != len(ck.Names()) {
		t.Errorf("%d tensors, the checkpoint has %d", len(g.tensors), len(ck.Names()))
	}
	if _, ok := g.tensors["output.weight"]; ok {
		t.Error("tied embeddings written as output.weight too")
	}
	for hfName, name := range want {
		raw, info, err := ck.Bytes(hfName)
		if err != nil {
			t.Fatal(err)
		}
		gt, ok := g.tensors[name]
		if !ok {
			t.Fatalf("no %s", name)
		}
		rev := slices.Clone(info.Shape)
		slices.Reverse(rev)
		if !slices.Equal(gt.dims, rev) {
			t.Errorf("%s dims %v, want %v (HF %v reversed)", name, gt.dims, rev, info.Shape)
		}
		if len(info.Shape) == 2 {
			if gt.typ != BF16 || !bytes.Equal(gt.data, raw) {
				t.Errorf("%s: %v, not the checkpoint's BF16 bytes", name, gt.typ)
			}
			continue
		}
		vals, _, _ := ck.Float32(hfName)
		if gt.typ != F32 || !bytes.Equal(gt.data, f32Bytes(vals)) {
			t.Errorf("%s: %v, not the checkpoint's values as F32", name, gt.typ)
		}
	}
}

// Llama 3 RoPE scaling goes out as llama.cpp's rope_freqs tensor: one
// factor per frequency, the unscaled inverse frequency over the scaled.
func TestConvertRopeFreqs(t *testing.T) {
	p, _ := testmodel.Find("llama3-scaled")
	dir := filepath.Join(t.TempDir(), p.Name)
	if err := testmodel.Write(dir, p, 1); err != nil {
		t.Fatal(err)
	}
	cfg, err := hf.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := ropeFreqs(cfg)
	plain := *cfg
	plain.RopeScaling = nil
	base, scaled := hf.InvFreq(&plain), hf.InvFreq(cfg)
	if f.Name != "rope_freqs.weight" || f.Type != F32 || len(f.Data) != 4*len(base) {
		t.Fatalf("rope_freqs: %s %v %d bytes", f.Name, f.Type, len(f.Data))
	}
	var slowed int
	for i := range base {
		factor := float64(math.Float32frombits(binary.LittleEndian.Uint32(f.Data[4*i:])))
		if math.Abs(base[i]/factor-scaled[i]) > 1e-6*scaled[i] {
			t.Errorf("factor %d: %v turns %v into %v, want %v", i, factor, base[i], base[i]/factor, scaled[i])
		}
		if factor > 1 {
			slowed++
		}
	}
	if slowed == 0 {
		t.Error("no frequency is slowed: the preset's scaling did not reach the factors")
	}
}

func TestConvertRefuses(t *testing.T) {
	cfg := &hf.Config{Architecture: hf.Qwen2, NumHeads: 4, HeadDim: 8, HiddenSize: 40, VocabSize: 10}
	if _, _, err := FromHF(cfg, nil, "x"); err == nil || !strings.Contains(err.Error(), "heads x head_dim") {
		t.Errorf("head_dim mismatch: %v", err)
	}
}

// The synthetic vocabulary has byte tokens where they fit, so llama.cpp's
// SPM tokenizer finds "\n" (<0x0A>) and falls back to bytes.
func TestVocabulary(t *testing.T) {
	kv := map[string]any{}
	for _, x := range vocabulary(300, 1, []int64{2}) {
		kv[x.Key] = x.Value
	}
	toks := kv["tokenizer.ggml.tokens"].([]string)
	types := kv["tokenizer.ggml.token_type"].([]int32)
	if toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || toks[3+10] != "<0x0A>" || types[3+10] != tokByte || types[299] != tokNormal {
		t.Errorf("tokens %q..., %q", toks[:4], toks[13])
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Permute is convert_hf_to_gguf.py's reshape/swapaxes: with 2 heads of
// dimension 4, rows (h, i, j) of (2, 2, 2) go to (h, j, i).
func TestPermute(t *testing.T) {
	data := []byte{0, 1, 2, 3, 4, 5, 6, 7}
	got := Permute(data, 8, 2)
	want := []byte{0, 2, 1, 3, 4, 6, 5, 7}
	if !bytes.Equal(got, want) {
		t.Errorf("Permute = %v, want %v", got, want)
	}
	// Two-byte rows move whole.
	got = Permute([]byte{0, 10, 1, 11, 2, 12, 3, 13}, 4, 1)
	if want := []byte{0, 10, 2, 12, 1, 11, 3, 13}; !bytes.Equal(got, want) {
		t.Errorf("Permute of 2-byte rows = %v, want %v", got, want)
	}
}

// A vocabulary with room for the 256 byte tokens is SentencePiece's, one
// without is BPE's: llama.cpp's SPM tokenizer throws out of llama_tokenize
// for a character with no byte token.
func TestVocabularyModel(t *testing.T) {
	for _, c := range []struct {
		n     int
		model string
		tok3  string
	}{{259, "llama", "<0x00>"}, {300, "llama", "<0x00>"}, {258, "gpt2", "\u2581t3"}, {3, "gpt2", ""}} {
		kv := map[string]any{}
		for _, x := range vocabulary(c.n, 1, []int64{2}) {
			kv[x.Key] = x.Value
		}
		toks := kv["tokenizer.ggml.tokens"].([]string)
		_, merges := kv["tokenizer.ggml.merges"]
		if kv["tokenizer.ggml.model"] != c.model || len(toks) != c.n || merges != (c.model == "gpt2") {
			t.Errorf("vocabulary(%d): model %v, %d tokens, merges %v; want %s, %d, %v", c.n, kv["tokenizer.ggml.model"], len(toks), merges, c.model, c.n, c.model == "gpt2")
		}
		if c.n > 3 && toks[3] != c.tok3 {
			t.Errorf("vocabulary(%d): token 3 is %q, want %q", c.n, toks[3], c.tok3)
		}
	}
}
