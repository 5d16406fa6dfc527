package testmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/irc-compiler/irc/ir/bf16"
	"github.com/irc-compiler/irc/ir/safetensors"
)

// Write creates dir and writes config.json and model.safetensors. The same
// preset and seed always give the same bytes: config keys are sorted,
// tensors are written in name order, and each tensor's values come from a
// generator seeded by the seed and the tensor's name (so adding a tensor
// never changes the others).
func Write(dir string, p Preset, seed uint64) error {
	if _, ok := modelTypes[p.Arch]; !ok {
		return fmt.Errorf("testmodel: preset %q: unknown architecture %q", p.Name, p.Arch)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(p.Config(), "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cfg, '\n'), 0o644); err != nil {
		return err
	}
	if p.HasTokenizer() {
		tok, cfg, err := p.tokenizerFiles()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), append(tok, '\n'), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(cfg, '\n'), 0o644); err != nil {
			return err
		}
	}
	shapes := p.Tensors()
	names := make([]string, 0, len(shapes))
	for name := range shapes {
		names = append(names, name)
	}
	sort.Strings(names)
	tensors := make([]safetensors.WriteTensor, 0, len(names))
	for _, name := range names {
		vals := values(name, shapes[name], seed)
		data := make([]byte, 2*len(vals))
		bf16.Encode(data, vals)
		tensors = append(tensors, safetensors.WriteTensor{Name: name, DType: safetensors.BF16, Shape: shapes[name], Data: data})
	}
	return safetensors.Write(filepath.Join(dir, "model.safetensors"), tensors, nil)
}
