package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzGGUFParse checks that no input panics Parse or allocates past what
// the input holds, and that whatever it accepts is safe to slice: every
// tensor aligned and inside the data section, sized for its type and dims
// without overflow, no two overlapping. An accepted file is written out
// and read back through Open, Bytes and Rows (which undoes llama's q/k
// permutation where the metadata asks for it).
func FuzzGGUFParse(f *testing.F) {
	f.Add(goodFile())
	g := (&gb{}).start(3, 2, 3).kvStr("general.architecture", "llama").kvU32("llama.attention.head_count", 2).kvU32("general.alignment", 64)
	g.tensor("blk.0.attn_q.weight", BF16, 0, 3, 8).tensor("blk.0.attn_k.bias", F32, 64, 4)
	f.Add(g.data(64, 128))
	f.Add((&gb{}).start(2, 1, 1).str("k").u32(TypeArray).u32(TypeInt16).u64(3).raw(1, 0, 2, 0, 3, 0).tensor("t", F16, 0, 1, 1, 1, 2).data(32, 4))
	f.Add((&gb{}).start(3, 1, 0).tensor("t", 12, 0, 256).data(32, 144))
	// Quantized: a llama q matrix of Q8_0 blocks (permuted rows are whole
	// blocks), a Q4_0 one, a partial block, a short tensor.
	q := (&gb{}).start(3, 3, 2).kvStr("general.architecture", "llama").kvU32("llama.attention.head_count", 2)
	q.tensor("blk.0.attn_q.weight", Q8_0, 0, 64, 4).tensor("blk.0.attn_k.weight", Q4_0, 288, 32, 4).tensor("t", Q4_0, 384, 32)
	f.Add(q.data(32, 416))
	f.Add((&gb{}).start(3, 1, 0).tensor("t", Q8_0, 0, 48, 2).data(32, 102))
	f.Add((&gb{}).start(3, 1, 0).tensor("t", Q4_0, 0, 32, 2).data(32, 35))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseBytes(b)
		if err != nil {
			return
		}
		size := int64(len(b))
		if h.DataStart > size || h.DataStart%h.Alignment != 0 {
			t.Fatalf("data at %d of %d bytes, alignment %d", h.DataStart, size, h.Alignment)
		}
		for _, ti := range h.Tensors {
			if ti.Offset%h.Alignment != 0 || ti.Offset < 0 || ti.Size < 0 || ti.Offset+ti.Size > size-h.DataStart {
				t.Fatalf("tensor %+v outside the data section", ti)
			}
			n := ti.Type.Size()
			dims := ti.Dims
			if bb := ti.Type.BlockBytes(); bb != 0 {
				if dims[0]%BlockLen != 0 {
					t.Fatalf("tensor %+v: rows not whole blocks", ti)
				}
				n, dims = bb, append([]int64{dims[0] / BlockLen}, dims[1:]...)
			}
			for _, d := range dims {
				n *= d
			}
			if n != ti.Size {
				t.Fatalf("tensor %+v: size %d", ti, n)
			}
		}
		path := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := open(path)
		if err != nil {
			t.Fatalf("parsed, but Open refuses: %v", err)
		}
		defer file.Close()
		for _, ti := range file.Tensors {
			data, err := file.Bytes(ti.Name)
			if err != nil || int64(len(data)) != ti.Size {
				t.Fatalf("Bytes(%s): %d bytes, %v", ti.Name, len(data), err)
			}
			if rows, err := file.Rows(ti.Name); err == nil && len(rows) != len(data) {
				t.Fatalf("Rows(%s): %d bytes, want %d", ti.Name, len(rows), len(data))
			}
		}
	})
}
