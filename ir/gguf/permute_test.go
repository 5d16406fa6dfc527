package gguf_test

import (
	"bytes"
	"testing"

	writer "github.com/irc-compiler/irc/internal/gguf"
	"github.com/irc-compiler/irc/ir/gguf"
)

// The reader's inverse against the writer's statement of llama.cpp's
// permutation (convert_hf_to_gguf.py's reshape/swapaxes), over head
// counts, head dimensions and row sizes.
func TestUnpermuteInvertsConverter(t *testing.T) {
	for _, c := range []struct{ heads, dim, rowBytes int64 }{{1, 2, 1}, {2, 4, 2}, {8, 8, 4}, {3, 24, 6}, {4, 12, 2}} {
		rows := c.heads * c.dim
		data := make([]byte, rows*c.rowBytes)
		for i := range data {
			data[i] = byte(i*7 + i/3)
		}
		if got := gguf.Unpermute(writer.Permute(data, rows, c.heads), rows, c.heads); !bytes.Equal(got, data) {
			t.Errorf("%+v: Unpermute(Permute(x)) != x", c)
		}
	}
}
