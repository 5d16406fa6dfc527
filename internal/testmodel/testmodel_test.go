package testmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
)

func TestWriteIsDeterministicAndComplete(t *testing.T) {
	for _, p := range Presets() {
		a, b := t.TempDir(), t.TempDir()
		if err := Write(a, p, 3); err != nil {
			t.Fatal(err)
		}
		Write(b, p, 3)
		for _, f := range []string{"config.json", "model.safetensors"} {
			x, _ := os.ReadFile(filepath.Join(a, f))
			y, _ := os.ReadFile(filepath.Join(b, f))
			if !bytes.Equal(x, y) || len(x) == 0 {
				t.Fatalf("%s/%s differs between two writes", p.Name, f)
			}
			if len(x) > 1<<20 {
				t.Fatalf("%s/%s is %d bytes, want < 1 MiB", p.Name, f, len(x))
			}
		}
		c, err := safetensors.OpenDir(a)
		if err != nil {
			t.Fatal(err)
		}
		for name, shape := range p.Tensors() {
			info, ok := c.Tensor(name)
			if !ok || !ir.Shape(info.Shape).Equal(shape) {
				t.Fatalf("%s: tensor %s is %v, want %v", p.Name, name, info.Shape, shape)
			}
		}
		c.Close()
	}
}
