package hf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/irc-compiler/irc/ir/budget"
)

// Class 2: sizes in config.json (and the cache length option) are checked,
// overflow first, then against the memory budget, before anything of that
// size is allocated; each refusal is one line naming the field.
func TestConfigSizesAreBounded(t *testing.T) {
	cases := []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		// Was a Go fatal out-of-memory after 26 s, building the graphs
		// (refused where the ~30 GiB it takes is not available).
		{"layers", func(c map[string]any) { c["num_hidden_layers"] = 100000 },
			[]string{"the graphs of 100000 layers with head_dim 16 needs 24.41 GiB", "this process can allocate"}},
		{"layers 10^7", func(c map[string]any) { c["num_hidden_layers"] = 10000000 },
			[]string{"the graphs of 10000000 layers", "this process can allocate"}},
		// Were fatal allocations of RoPE's inverse frequencies.
		{"head dim 2^40", func(c map[string]any) { c["head_dim"] = int64(1) << 40 },
			[]string{"this process can allocate"}},
		{"hidden 6e11", func(c map[string]any) { c["hidden_size"] = int64(600000000000) },
			[]string{"num_attention_heads (4) * head_dim (150000000000) * hidden_size (600000000000) overflows int64"}},
		// Was "internal error: makeslice: len out of range".
		{"hidden 2^62", func(c map[string]any) { c["hidden_size"] = int64(1) << 62 },
			[]string{"hidden_size (4611686018427387904) * two norms (2) overflows int64"}},
		{"intermediate", func(c map[string]any) { c["intermediate_size"] = int64(1) << 61 },
			[]string{"intermediate_size (2305843009213693952) * hidden_size (64) * gate, up and down (3) overflows int64"}},
		{"eos past vocab", func(c map[string]any) { c["eos_token_id"] = []int{2, 50} },
			[]string{"eos_token_id holds 50, want ids in [0, vocab_size=50)"}},
		{"bos past vocab", func(c map[string]any) { c["bos_token_id"] = -1 },
			[]string{"bos_token_id is -1, want an id in [0, vocab_size=50)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			tc.edit(c)
			_, err := parse(t, c)
			if err == nil && tc.name == "layers" && budget.Available() > 30<<30 {
				t.Skip("this machine can hold the model")
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %q, want one line containing %q", err, w)
				}
			}
		})
	}
	// The cache length comes from the command line: Build checks it.
	c, err := parse(t, baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{1 << 40, 1 << 62} {
		_, err = Build(c, Options{MaxCacheLen: n})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("max cache length %d is past the model's max_position_embeddings (256)", n)) {
			t.Fatalf("--max-cache-len %d: %v", n, err)
		}
	}
	// A huge vocabulary is only declared by an import (nothing of its size
	// is allocated): ref and the devices check what they allocate.
	big := baseConfig()
	big["vocab_size"] = int64(4000000000)
	if _, err := parse(t, big); err != nil {
		t.Fatalf("vocab 4e9 refused at import, which allocates none of it: %v", err)
	}
}

// Class 4: config.json is one JSON object; anything after it is refused.
func TestConfigTrailingDataIsRefused(t *testing.T) {
	data, _ := json.Marshal(baseConfig())
	for _, tail := range []string{`{"vocab_size": 7}`, "garbage", "]"} {
		_, err := ParseConfig(append(append([]byte{}, data...), tail...))
		if err == nil || !strings.Contains(err.Error(), "invalid JSON") {
			t.Errorf("trailing %q: %v", tail, err)
		}
	}
	if _, err := ParseConfig(append(data, " \n\t"...)); err != nil {
		t.Errorf("trailing space: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(data, `{"x":1}`...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Import(dir, Options{})
	if err == nil || err.Error() != filepath.Join(dir, "config.json")+`: invalid JSON: data after the top-level object ({ at offset `+itoa(int64(len(data)+1))+`), want one object` {
		t.Fatalf("import: %v", err)
	}
}

// The size estimate is an upper bound of what Build declares.
func TestSizeBoundsTheBuiltModel(t *testing.T) {
	for _, arch := range []string{Llama, Qwen2, Qwen3} {
		c := baseConfig()
		c["architectures"] = []string{arch}
		cfg, err := parse(t, c)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{MaxCacheLen: 64, PrefillLen: 16}
		size, err := cfg.Size(opts)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Build(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.DeclaredSize()
		if err != nil {
			t.Fatal(err)
		}
		if got.Weights != size.Weights || got.States != size.KVCache || got.Largest > size.Activation {
			t.Errorf("%s: built %+v, estimated %+v", arch, got, size)
		}
	}
}

// config.json is read as every input from outside: a regular file of
// bounded size (a named pipe would block the open; a huge file would be
// read whole).
func TestConfigFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := syscall.Mkfifo(path, 0o600); err == nil {
		if _, err := ReadConfig(dir); err == nil || err.Error() != path+": is a named pipe (FIFO), not a regular file" {
			t.Fatalf("fifo: %v", err)
		}
		os.Remove(path)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil { // sparse
		t.Skip(err)
	}
	f.Close()
	if _, err := ReadConfig(dir); err == nil || !strings.HasPrefix(err.Error(), path+": ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("1 TiB config.json: %v", err)
	}
}
