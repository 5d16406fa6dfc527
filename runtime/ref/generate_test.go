package ref_test

import (
	"math"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/runtime/ref"
)

const tinyConfig = `{"architectures":["Qwen2ForCausalLM"],"hidden_size":40,"intermediate_size":52,
"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":37,
"max_position_embeddings":64,"rms_norm_eps":1e-6,"rope_theta":10000,"torch_dtype":"bfloat16"}`

func tinyRuntime(t *testing.T, prefill int64) *ref.Runtime {
	t.Helper()
	c, err := hf.ParseConfig([]byte(tinyConfig))
	if err != nil {
		t.Fatal(err)
	}
	m, err := hf.Build(c, hf.Options{MaxCacheLen: 32, PrefillLen: prefill})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := ref.New(m, ref.RandomWeights{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func maxRelDiff(a, b [][]float32) float64 {
	var worst float64
	for i := range a {
		for j := range a[i] {
			d := math.Abs(float64(a[i][j]-b[i][j])) / (1 + math.Abs(float64(b[i][j])))
			worst = max(worst, d)
		}
	}
	return worst
}

// The KV cache must make decoding token by token equal to prefilling the
// whole sequence, and the chunk length must not change anything.
func TestDecodeMatchesPrefillAndChunking(t *testing.T) {
	prompt := []int64{3, 14, 15, 9, 26, 5, 35, 8, 9, 7}
	big := tinyRuntime(t, 16)
	gen, err := big.Generate(prompt, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.IDs) != 6 || len(gen.Logits) != len(prompt)+5 {
		t.Fatalf("got %d ids and %d logit rows", len(gen.IDs), len(gen.Logits))
	}
	// Prefill the prompt plus the generated tokens in one go: row for row
	// the logits must equal what the decode steps produced.
	full := append(append([]int64{}, prompt...), gen.IDs[:5]...)
	once, err := big.Generate(full, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(once.Logits, gen.Logits); d > 1e-5 {
		t.Fatalf("decode with the KV cache differs from prefill by %g", d)
	}
	small := tinyRuntime(t, 3) // four chunks, the last one padded
	chunked, err := small.Generate(prompt, 6)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRelDiff(chunked.Logits, gen.Logits); d > 1e-5 {
		t.Fatalf("chunked prefill differs by %g", d)
	}
	for i := range gen.IDs {
		if chunked.IDs[i] != gen.IDs[i] {
			t.Fatalf("ids differ: %v vs %v", chunked.IDs, gen.IDs)
		}
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	rt := tinyRuntime(t, 8)
	for _, c := range []struct {
		prompt []int64
		n      int
	}{{nil, 1}, {[]int64{37}, 1}, {[]int64{-1}, 1}, {make([]int64, 30), 4}} {
		if _, err := rt.Generate(c.prompt, c.n); err == nil {
			t.Errorf("Generate(%v, %d) accepted", c.prompt, c.n)
		}
	}
	if _, err := rt.Run("decode", map[string]*ref.Tensor{"tokens": ref.Ints(ir.I32, ir.Shape{2}, []int64{1, 2})}); err == nil {
		t.Error("wrong input shape accepted")
	}
}
