package hf

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir/budget"
)

func baseConfig() map[string]any {
	return map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "hidden_size": 64, "intermediate_size": 100,
		"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 50,
		"max_position_embeddings": 256, "rms_norm_eps": 1e-5, "torch_dtype": "bfloat16", "hidden_act": "silu",
	}
}

func parse(t *testing.T, c map[string]any) (*Config, error) {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(data)
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parse(t, baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	if c.HeadDim != 16 || c.RopeTheta != 10000 || c.TieWordEmbeddings || c.QKVBias || c.QKNorm {
		t.Fatalf("defaults wrong: %+v", c)
	}
	q := baseConfig()
	q["architectures"] = []string{"Qwen3ForCausalLM"}
	q["head_dim"] = 24
	q["eos_token_id"] = []int{7, 9}
	c, err = parse(t, q)
	if err != nil {
		t.Fatal(err)
	}
	if c.HeadDim != 24 || !c.QKNorm || c.QKVBias || len(c.EOSTokenIDs) != 2 {
		t.Fatalf("qwen3 config wrong: %+v", c)
	}
	q["architectures"] = []string{"Qwen2ForCausalLM"}
	if c, _ = parse(t, q); !c.QKVBias || c.QKNorm {
		t.Fatalf("qwen2 must have q/k/v bias and no qk norm: %+v", c)
	}
}

func TestParseConfigRejects(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"unknown arch", func(c map[string]any) { c["architectures"] = []string{"GPT2LMHeadModel"} }, `unknown architecture "GPT2LMHeadModel"`},
		{"no arch", func(c map[string]any) { delete(c, "architectures") }, "exactly one architecture"},
		{"missing hidden", func(c map[string]any) { delete(c, "hidden_size") }, `missing field "hidden_size"`},
		{"zero layers", func(c map[string]any) { c["num_hidden_layers"] = 0 }, `"num_hidden_layers" is 0`},
		{"gqa", func(c map[string]any) { c["num_key_value_heads"] = 3 }, "multiple of num_key_value_heads (3)"},
		{"head dim", func(c map[string]any) { c["hidden_size"] = 66 }, "not a multiple of num_attention_heads"},
		{"odd head dim", func(c map[string]any) { c["head_dim"] = 15 }, "positive even number"},
		{"eps", func(c map[string]any) { delete(c, "rms_norm_eps") }, `missing field "rms_norm_eps"`},
		{"act", func(c map[string]any) { c["hidden_act"] = "gelu" }, `hidden_act is "gelu"`},
		{"dtype", func(c map[string]any) { c["torch_dtype"] = "int8" }, `torch_dtype "int8"`},
		{"rope type", func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4} }, `rope_scaling type "yarn"`},
		{"llama3 fields", func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8} }, "rope_scaling llama3 needs"},
		{"wrong type", func(c map[string]any) { c["vocab_size"] = "many" }, "invalid JSON"},
		{"eos", func(c map[string]any) { c["eos_token_id"] = "x" }, "eos_token_id"},
		{"sliding", func(c map[string]any) { c["use_sliding_window"] = true }, "use_sliding_window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.edit(c)
			_, err := parse(t, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParseConfig([]byte(`{"architectures": [`)); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Fatalf("broken JSON: %v", err)
	}
}

func TestBuildOptions(t *testing.T) {
	c, _ := parse(t, baseConfig())
	m, err := Build(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.MaxCacheLen != 256 || m.Meta.PrefillLen != 128 {
		t.Fatalf("defaults: cache %d prefill %d", m.Meta.MaxCacheLen, m.Meta.PrefillLen)
	}
	if _, err := Build(c, Options{MaxCacheLen: 16, PrefillLen: 32}); err == nil || !strings.Contains(err.Error(), "prefill length 32") {
		t.Fatalf("prefill longer than the cache: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	data, _ := json.Marshal(baseConfig())
	f.Add(data)
	f.Add([]byte(`{"architectures":["Qwen3ForCausalLM"],"rope_scaling":{"rope_type":"llama3"}}`))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":100,"num_hidden_layers":100000,"num_attention_heads":4,"vocab_size":50,"max_position_embeddings":256,"rms_norm_eps":1e-5}`))
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":4611686018427387904,"intermediate_size":100,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":50,"max_position_embeddings":256,"rms_norm_eps":1e-5} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if c.NumHeads%c.NumKVHeads != 0 || c.HeadDim%2 != 0 || c.HiddenSize <= 0 {
			t.Fatalf("accepted an inconsistent config: %+v", c)
		}
		// No allocation beyond the budget: the smallest build's graphs
		// (what an import allocates) fit, and what it declares (weights,
		// a one-slot cache, activations) adds up without overflow.
		size, err := c.Size(Options{MaxCacheLen: 1, PrefillLen: 1})
		if err != nil {
			t.Fatalf("accepted a config whose size overflows: %v", err)
		}
		if err := budget.Check("accepted config's graphs", size.IR); err != nil {
			t.Fatalf("accepted a config beyond the budget: %v", err)
		}
		// The default options may not fit, but are refused, not crashed on.
		if _, err := c.Size(Options{}); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error of more than one line: %q", err)
		}
	})
}
