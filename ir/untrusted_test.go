package ir

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// tinyLLM is a runnable model (prefill and decode graphs) as small as the
// meta checks allow: vocab 7, hidden 4 (2 KV heads of 2), one layer, a
// 6-slot cache, prefill chunks of 3 tokens.
func tinyLLM() *Model { return tinyLLMChunks(3, 1) }

// tinyLLMChunks is tinyLLM with graphs taking prefill and decode tokens.
func tinyLLMChunks(prefill, decode int64) *Model {
	const v, h, kv, hd, cache = 7, 4, 2, 2, 6
	m := &Model{Meta: Meta{Architecture: "LlamaForCausalLM", DType: "float32", VocabSize: v, HiddenSize: h,
		IntermediateSize: 5, NumLayers: 1, NumHeads: 2, NumKVHeads: kv, HeadDim: hd, MaxPositionEmbeddings: 16,
		MaxCacheLen: cache, PrefillLen: prefill, RopeTheta: 10000, RMSNormEps: 1e-6, EOSTokenIDs: []int64{2},
		BOSTokenID: 1}}
	embed := m.AddWeight("model.embed_tokens.weight", T(F32, v, h), "model.safetensors", "model.embed_tokens.weight")
	head := m.AddWeight("lm_head.weight", T(F32, v, h), "model.safetensors", "lm_head.weight")
	m.AddWeight("model.layers.0.self_attn.q_proj.weight", T(F32, 4, h), "model.safetensors", "model.layers.0.self_attn.q_proj.weight")
	m.AddWeight("model.layers.0.mlp.gate_proj.weight", T(F32, 5, h), "model.safetensors", "model.layers.0.mlp.gate_proj.weight")
	m.AddWeight("model.norm.weight", T(F32, h), "model.safetensors", "model.norm.weight")
	k := m.AddState("cache.0.k", T(F32, kv, cache, hd))
	vc := m.AddState("cache.0.v", T(F32, kv, cache, hd))
	for _, g := range []struct {
		name string
		n    int64
	}{{"prefill", prefill}, {"decode", decode}} {
		gr := m.NewGraph(g.name)
		tok := gr.AddInput("tokens", T(I32, g.n))
		pos := gr.AddInput("pos", T(I32, 1))
		b := NewBuilder(m, gr)
		x := b.Op("embedding", nil, embed, tok)
		heads := b.Op("transpose", Attrs{"perm": []int64{1, 0, 2}}, b.Op("reshape", Attrs{"shape": []int64{g.n, kv, hd}}, x))
		b.Op("cache_write", Attrs{"axis": int64(1)}, k, heads, pos)
		b.Op("cache_write", Attrs{"axis": int64(1)}, vc, heads, pos)
		logits := b.Let("logits", "matmul", nil, x, b.Op("transpose", Attrs{"perm": []int64{1, 0}}, head))
		if b.Err() != nil {
			panic(b.Err())
		}
		gr.Outputs = []*Value{logits}
	}
	return m
}

// loadBoth runs m through both readers: its text through Parse, its
// protobuf through Unmarshal (Marshal checks nothing, so a bad model gets
// written as it is).
func loadBoth(t *testing.T, m *Model) (textErr, protoErr error) {
	t.Helper()
	_, textErr = Parse("bad.ir", m.String())
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	_, protoErr = Unmarshal("bad.irpb", data)
	return textErr, protoErr
}

func TestTinyLLMValidates(t *testing.T) {
	m := tinyLLM()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if textErr, protoErr := loadBoth(t, m); textErr != nil || protoErr != nil {
		t.Fatalf("text: %v; protobuf: %v", textErr, protoErr)
	}
}

// Class 1: a meta field that disagrees with the graphs, weights or states
// it describes, or is out of range, is refused by both readers with one
// line naming the field.
func TestMetaMustAgreeWithTheModel(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Model)
		want string
	}{
		// A token past the table would be accepted and read out of bounds.
		{"vocab past the embedding", func(m *Model) { m.Meta.VocabSize = 1000 },
			"meta vocab_size: is 1000, but graph prefill node 0 looks tokens up in @model.embed_tokens.weight, a table of 7 rows"},
		// Generation would run past the caches and drop rows.
		{"cache past the states", func(m *Model) { m.Meta.MaxCacheLen = 1000 },
			"meta max_cache_len: is 1000, but state @cache.0.k is f32[2,6,2] (6 positions on axis 1)"},
		{"prefill length", func(m *Model) { m.Meta.PrefillLen = 2 },
			"meta prefill_len: is 2, but graph prefill takes %tokens: i32[3]"},
		{"layers", func(m *Model) { m.Meta.NumLayers = 7 },
			"meta num_layers: is 7, but the model has 2 KV-cache states (want one K and one V per layer)"},
		{"layers past the model", func(m *Model) { m.Meta.NumLayers = 100000 },
			"meta num_layers: is 100000, but the model declares only 5 weights and 2 states"},
		{"layers vs states", func(m *Model) { m.Meta.NumLayers = 2 },
			"meta num_layers: is 2, but the model has 2 KV-cache states (want one K and one V per layer)"},
		{"zero layers", func(m *Model) { m.Meta.NumLayers = 0 },
			"meta num_layers: is 0, but the model has 2 KV-cache states"},
		{"head dim", func(m *Model) { m.Meta.HeadDim = 4 },
			"meta head_dim: is 4, but state @cache.0.k is f32[2,6,2] (2 columns on axis 2)"},
		{"odd head dim", func(m *Model) { m.Meta.HeadDim = 3 }, "meta head_dim: is 3, want an even number"},
		{"kv heads", func(m *Model) { m.Meta.NumKVHeads = 1 },
			"meta num_kv_heads: is 1, but state @cache.0.k is f32[2,6,2] (2 heads on axis 0)"},
		{"negative vocab", func(m *Model) { m.Meta.VocabSize = -5 }, "meta vocab_size: is -5, want >= 0"},
		{"zero vocab", func(m *Model) { m.Meta.VocabSize = 0; m.Meta.EOSTokenIDs = nil },
			"meta vocab_size: is 0, but graph prefill node 0 looks tokens up in @model.embed_tokens.weight, a table of 7 rows"},
		{"eos past vocab", func(m *Model) { m.Meta.EOSTokenIDs = []int64{2, 500} },
			"meta eos_token_ids: holds 500, want ids in [0, vocab_size=7)"},
		{"negative eos", func(m *Model) { m.Meta.EOSTokenIDs = []int64{-1} }, "meta eos_token_ids: holds -1"},
		{"bos past vocab", func(m *Model) { m.Meta.BOSTokenID = 7 }, "meta bos_token_id: is 7, want an id in [0, vocab_size=7)"},
		{"hidden", func(m *Model) { m.Meta.HiddenSize = 8 },
			"meta hidden_size: is 8, but graph prefill node 0 looks tokens up in @model.embed_tokens.weight, a table of 4 columns"},
		{"intermediate", func(m *Model) { m.Meta.IntermediateSize = 9 },
			"weight @model.layers.0.mlp.gate_proj.weight is f32[5,4], but the meta's [intermediate_size, hidden_size] is [9,4]"},
		{"heads", func(m *Model) { m.Meta.NumHeads = 4 },
			"weight @model.layers.0.self_attn.q_proj.weight is f32[4,4], but the meta's [num_heads*head_dim, hidden_size] is [8,4]"},
		{"heads not grouped", func(m *Model) { m.Meta.NumHeads = 3 }, "meta num_heads: is 3, want a multiple of num_kv_heads (2)"},
		{"dtype", func(m *Model) { m.Meta.DType = "bfloat16" }, `meta dtype: is "bfloat16", but weight @model.norm.weight is f32[4] (want the meta's dtype; a matrix may be another float type, q8_0 or q4_0)`},
		{"unknown dtype", func(m *Model) { m.Meta.DType = "int8" }, `meta dtype: is "int8", want bfloat16, float16 or float32`},
		{"no dtype", func(m *Model) { m.Meta.DType = "" }, "meta dtype: is empty: a model with prefill and decode graphs needs it"},
		{"no architecture", func(m *Model) { m.Meta.Architecture = "" }, "meta architecture: is empty"},
		{"theta", func(m *Model) { m.Meta.RopeTheta = math.NaN() }, "meta rope_theta: is NaN, want a finite number > 0"},
		{"eps", func(m *Model) { m.Meta.RMSNormEps = -1 }, "meta rms_norm_eps: is -1, want a finite number > 0"},
		{"zero eps", func(m *Model) { m.Meta.RMSNormEps = 0 }, "meta rms_norm_eps: is 0: a model with prefill and decode graphs needs it"},
		{"positions", func(m *Model) { m.Meta.MaxPositionEmbeddings = 0 }, "meta max_position_embeddings: is 0"},
		{"rope scaling", func(m *Model) { m.Meta.RopeScaling = "[1,2]" }, "meta rope_scaling: is \"[1,2]\", want a JSON object"},
		{"tokenizer past vocab", func(m *Model) {
			m.Meta.Tokenizer = &tokenizer.Vocab{Model: "gpt2", Tokens: make([]string, 8), BOS: -1}
		}, "meta tokenizer: has 8 tokens, the vocabulary 7"},
		{"tokenizer types", func(m *Model) {
			m.Meta.Tokenizer = &tokenizer.Vocab{Model: "gpt2", Tokens: make([]string, 7), Types: make([]int32, 1), BOS: -1}
		}, "meta tokenizer: has 1 token types for 7 tokens"},
		{"tokenizer bos", func(m *Model) { m.Meta.Tokenizer = &tokenizer.Vocab{Model: "gpt2", Tokens: make([]string, 7), BOS: 7} },
			"meta tokenizer: has BOS token 7, want -1 or an id below 7"},
		{"tokenizer eos", func(m *Model) {
			m.Meta.Tokenizer = &tokenizer.Vocab{Model: "gpt2", Tokens: make([]string, 7), BOS: -1, EOS: []int32{-1}}
		}, "meta tokenizer: has EOS token -1, want an id below 7"},
		{"unsupported with tokens", func(m *Model) {
			m.Meta.Tokenizer = &tokenizer.Vocab{Model: "llama", Tokens: make([]string, 7), Unsupported: "x"}
		}, "meta tokenizer: is unsupported but has tokens"},
		{"tokenizer model", func(m *Model) { m.Meta.Tokenizer = &tokenizer.Vocab{Tokens: make([]string, 7)} }, "meta tokenizer: has no model"},
		{"tied with a head", func(m *Model) { m.Meta.TieWordEmbeddings = true }, "meta tie_word_embeddings: is true, but the model has its own @lm_head.weight"},
		{"layer past num_layers", func(m *Model) {
			m.AddWeight("model.layers.5.extra", T(F32, 1), "model.safetensors", "x")
		}, "meta num_layers: is 1, but weight @model.layers.5.extra belongs to layer 5"},
		{"decode chunk", func(m *Model) { *m = *tinyLLMChunks(3, 2) }, "graph decode takes %tokens: i32[2], want i32[1] (one token per step)"},
		{"logits", func(m *Model) {
			m.Graph("decode").Outputs = append(m.Graph("decode").Outputs, m.Graph("decode").Inputs[1])
		},
			"graph decode: it returns 2 values; a runner drives prefill and decode as (%tokens: i32[n], %pos: i32[1]) -> logits f32[n, vocab]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyLLM()
			c.edit(m)
			textErr, protoErr := loadBoth(t, m)
			want := c.want
			if i := strings.Index(want, " ... "); i >= 0 {
				want = want[:i]
			}
			for _, e := range []struct {
				err    error
				prefix string
			}{{textErr, "bad.ir: "}, {protoErr, "bad.irpb: "}} {
				if e.err == nil {
					t.Fatalf("accepted (%s)", e.prefix)
				}
				msg := e.err.Error()
				if !strings.HasPrefix(msg, e.prefix) || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
					t.Errorf("error %q: want one line starting %q and containing %q", msg, e.prefix, want)
				}
			}
		})
	}
}

// Class 4: a model needs a graph.
func TestModelNeedsAGraph(t *testing.T) {
	for _, src := range []string{"irc v1\n", "irc v1\nmeta {\n  vocab_size = 3\n}\n"} {
		_, err := Parse("empty.ir", src)
		if err == nil || err.Error() != "empty.ir: the model has no graphs: want at least one (an imported model has prefill and decode)" {
			t.Errorf("%q: got %v", src, err)
		}
	}
	if _, err := Unmarshal("empty.irpb", []byte{0x08, 0x01}); err == nil || !strings.Contains(err.Error(), "has no graphs") {
		t.Errorf("protobuf: got %v", err)
	}
}

// Class 3: a type whose element count or byte size overflows int64 is
// refused by the readers and the verifier, naming the value.
func TestOverflowingTypesAreRefused(t *testing.T) {
	const huge = "[4294967296,4294967296,4294967296]"
	cases := []struct{ name, src, want string }{
		{"node output", "irc v1\ngraph g(%x: f32[2]) {\n  %huge = iota() {shape=" + huge + ", axis=0, dtype=i32} : i32" + huge + "\n  return %x\n}\n",
			"%huge: shape " + huge + " has more elements than int64 can count"},
		{"weight", "irc v1\nweight @w : f32" + huge + " = \"m.safetensors\" \"w\"\ngraph g(%x: f32[2]) {\n  return %x\n}\n",
			"@w: shape " + huge},
		{"input", "irc v1\ngraph g(%x: f32" + huge + ") {\n  return %x\n}\n", "graph g input %x: shape"},
		{"bytes", "irc v1\ngraph g(%x: f32[2]) {\n  %big = iota() {shape=[4611686018427387904], axis=0, dtype=i64} : i64[4611686018427387904]\n  return %x\n}\n",
			"%big: i64[4611686018427387904]: 8 bytes per element times the element count overflows int64"},
		{"attribute shape", "irc v1\ngraph g(%x: f32[0]) {\n  %r = reshape(%x) {shape=" + huge + "} : f32[0]\n  return %x\n}\n",
			"shape " + huge + " has more elements than int64 can count"},
		{"view strides", "irc v1\ngraph g(%x: f32[10]) {\n  %v = view(%x) {shape=[3], strides=[9223372036854775807]} : f32[3]\n  return %v\n}\n",
			"view with shape [3] and strides [9223372036854775807] reads past the 10 elements of its input"},
		{"concat", "irc v1\ngraph g(%x: bool[4611686018427387904]) {\n  %c = concat(%x, %x, %x, %x) {axis=0} : bool[0]\n  return %c\n}\n",
			"concatenated axis 0 overflows int64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.ir", c.src)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.ir:") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	// The verifier checks models built in memory too.
	m := &Model{}
	g := m.NewGraph("g")
	g.AddInput("x", T(I32, 1<<32, 1<<32, 1<<32))
	g.Outputs = g.Inputs
	if err := m.Verify(); err == nil || !strings.Contains(err.Error(), "input %x has an invalid type") {
		t.Fatalf("verify: %v", err)
	}
	// And the protobuf reader.
	data, _ := Marshal(m)
	if _, err := Unmarshal("x.irpb", data); err == nil || !strings.Contains(err.Error(), "graph g input %x: shape [4294967296,4294967296,4294967296] has more elements than int64 can count") {
		t.Fatalf("protobuf: %v", err)
	}
}

// Class 2/4: what a model declares is overflow-checked at load, but not
// held against this machine's memory: loading allocates none of it (a model
// is compiled here for a bigger machine). What allocates it checks it:
// ref.New and ref's evaluation (runtime/ref's untrusted tests), a device.
func TestDeclaredBytesAreCheckedNotAllocated(t *testing.T) {
	for _, src := range []string{
		"irc v1\ngraph g(%x: f32[2]) {\n  %huge = iota() {shape=[1099511627776], axis=0, dtype=i32} : i32[1099511627776]\n  return %x\n}\n",
		"irc v1\nweight @w : f32[1099511627776] = \"m.safetensors\" \"w\"\ngraph g(%x: f32[2]) {\n  return %x\n}\n",
	} {
		if _, err := Parse("x.ir", src); err != nil {
			t.Errorf("a model declaring 4 TiB is refused at load, where nothing of it is allocated: %v", err)
		}
	}
	_, err := Parse("x.ir", "irc v1\nstate @a : bool[9223372036854775807]\nstate @b : bool[9223372036854775807]\ngraph g(%x: f32[2]) {\n  return %x\n}\n")
	if err == nil || !strings.Contains(err.Error(), "the model's declared bytes overflow int64 at state @b") {
		t.Fatalf("got %v, want the overflow named", err)
	}
}

// A meta field given twice (or two meta blocks) would silently override.
func TestMetaGivenTwiceIsRefused(t *testing.T) {
	good := tinyLLM().String()
	for _, c := range []struct{ src, want string }{
		{strings.Replace(good, "  vocab_size = 7\n", "  vocab_size = 7\n  vocab_size = 1000\n", 1), "twice.ir:7:3: meta field vocab_size given twice"},
		{strings.Replace(good, "\nweight ", "\nmeta {\n}\nweight ", 1), "meta given twice"},
	} {
		if _, err := Parse("twice.ir", c.src); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// The text format's lists do not nest: a file of brackets cannot recurse
// the parser into a stack overflow.
func TestNestedListsAreRefused(t *testing.T) {
	src := "irc v1\nmeta {\n  eos_token_ids = " + strings.Repeat("[", 1<<20) + "\n}\n"
	_, err := Parse("deep.ir", src)
	if err == nil || !strings.Contains(err.Error(), "deep.ir:3:20: lists do not nest") {
		t.Fatalf("got %v", err)
	}
}

// A model file larger than what this process could decode is refused
// before it is read; a file that never ends is read only up to the bound.
func TestLoadBoundsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.irpb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(budget.Available()/ModelExpansion + 1<<20); err != nil { // sparse
		t.Skip(err)
	}
	f.Close()
	_, err = Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+" (") || !strings.Contains(err.Error(), ", decoded) needs") {
		t.Fatalf("got %v", err)
	}
	// Only regular files: a device would stream without end, a named pipe
	// would block the open.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Load("/dev/zero"); err == nil || err.Error() != "/dev/zero: is a character device, not a regular file" {
			t.Fatalf("/dev/zero: %v", err)
		}
	}
	fifo := filepath.Join(t.TempDir(), "fifo.ir")
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		if _, err := Load(fifo); err == nil || err.Error() != fifo+": is a named pipe (FIFO), not a regular file" {
			t.Fatalf("fifo: %v", err)
		}
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory: %v", err)
	}
}

// No hang: reading takes time linear in the file. Symbol and graph lookups
// were linear searches, so 100k weights used by 100k nodes took 84 s (7 MB
// of text).
func TestReadersAreLinear(t *testing.T) {
	const n = 50000
	var b strings.Builder
	b.WriteString("irc v1\n")
	for i := range n {
		fmt.Fprintf(&b, "weight @w%d : f32[1] = \"a\" \"b\"\n", i)
	}
	b.WriteString("graph g(%x: f32[1]) {\n")
	for i := range n {
		fmt.Fprintf(&b, "  %%y%d = add(%%x, @w%d) : f32[1]\n", i, n-1-i)
	}
	b.WriteString("  return %x\n}\n")
	for i := range n {
		fmt.Fprintf(&b, "graph g%d(%%x: f32[1]) {\n  return %%x\n}\n", i)
	}
	start := time.Now()
	m, err := Parse("many.ir", b.String())
	if err != nil {
		t.Fatal(err)
	}
	parse := time.Since(start)
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := Unmarshal("many.irpb", data); err != nil {
		t.Fatal(err)
	}
	unmarshal := time.Since(start)
	if parse > 5*time.Second || unmarshal > 5*time.Second {
		t.Fatalf("%d weights, uses and graphs: parse %v, unmarshal %v (quadratic?)", n, parse, unmarshal)
	}
}
