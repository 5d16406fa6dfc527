package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func parseBytes(b []byte) (*Header, error) {
	return Parse(bytes.NewReader(b), int64(len(b)), "x.gguf")
}

func TestParseGood(t *testing.T) {
	h, err := parseBytes(goodFile())
	if err != nil {
		t.Fatal(err)
	}
	m, _ := h.Tensor("m")
	if !slices.Equal(m.Shape(), []int64{2, 3}) || m.Size != 24 || m.Type != F32 {
		t.Errorf("m = %+v", m)
	}
	if s, _, _ := h.String("general.architecture"); s != "llama" {
		t.Errorf("arch %q", s)
	}
	if v, _, _ := h.Int("llama.attention.head_count"); v != 1 {
		t.Errorf("heads %d", v)
	}
	if v, _ := h.KV("tokenizer.ggml.tokens"); !slices.Equal(v.V.([]string), []string{"a", "bc"}) {
		t.Errorf("tokens %v", v.V)
	}
	if _, _, err := h.Float("llama.attention.head_count"); err == nil {
		t.Error("an integer read as a float")
	}
	path := filepath.Join(t.TempDir(), "x.gguf")
	os.WriteFile(path, goodFile(), 0o644)
	f, err := open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := f.Bytes("v")
	if err != nil || len(b) != 8 || b[0] != 32 || b[7] != 39 {
		t.Errorf("v bytes %v %v", b, err)
	}
}

// Every malformed header gives one line naming the file, never a panic.
func TestMalformed(t *testing.T) {
	huge := uint64(1) << 62
	zeros := make([]byte, 64)
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"empty", "too short", nil},
		{"magic", "magic", []byte("GGML\x03\x00\x00\x00")},
		{"version 1", "version 1 is not supported", (&gb{}).start(1, 0, 0).b},
		{"big-endian", "big-endian", (&gb{}).raw('G', 'G', 'U', 'F', 0, 0, 0, 3).u64(0).u64(0).b},
		{"huge tensor count", "tensor count", (&gb{}).start(3, huge, 0).b},
		{"huge kv count", "metadata count", (&gb{}).start(3, 0, huge).b},
		{"huge key", "metadata key 0 at offset 24 is 4611686018427387904 bytes long", (&gb{}).start(3, 0, 1).u64(huge).raw(zeros...).b},
		{"huge string", "metadata k at offset 37 is 1099511627776 bytes long, more than 72", (&gb{}).start(3, 0, 1).str("k").u32(TypeString).u64(1 << 40).raw(zeros...).b},
		{"huge array", "array length", (&gb{}).start(3, 0, 1).str("k").u32(TypeArray).u32(TypeUint64).u64(huge).b},
		{"nested array", "arrays of arrays", (&gb{}).start(3, 0, 1).str("k").u32(TypeArray).u32(TypeArray).u64(1).b},
		{"bad value type", "unknown value type 13", (&gb{}).start(3, 0, 1).str("k").u32(13).u64(0).b},
		{"bad bool", "want 0 or 1", (&gb{}).start(3, 0, 1).str("k").u32(TypeBool).raw(2).b},
		{"duplicate key", "appears twice", (&gb{}).start(3, 0, 2).kvU32("k", 1).kvU32("k", 2).b},
		{"alignment type", "general.alignment is a string", (&gb{}).start(3, 0, 1).kvStr("general.alignment", "x").b},
		{"alignment 48", "power of two", (&gb{}).start(3, 0, 1).kvU32("general.alignment", 48).b},
		{"truncated info", "tensor t dimension 2 at offset 53: 8 bytes, but the file ends at 57 (truncated?)", (&gb{}).start(3, 1, 0).str("t").u32(4).u64(1).u64(1).raw(0, 0, 0, 0).b},
		{"n_dims 5", "n_dims is 5", (&gb{}).start(3, 1, 0).tensor("t", F32, 0, 1, 1, 1, 1, 1).data(32, 4)},
		{"dim 0", "dimension 1 is 0", (&gb{}).start(3, 1, 0).tensor("t", F32, 0, 4, 0).data(32, 0)},
		{"dims overflow", "overflows", (&gb{}).start(3, 1, 0).tensor("t", F32, 0, 1<<40, 1<<40).data(32, 0)},
		{"long name", "tensor 0 name at offset 24 is 64 bytes long", (&gb{}).start(3, 1, 0).tensor(strings.Repeat("n", 64), F32, 0, 1).data(32, 4)},
		{"Q4_K", "tensor blk.0.attn_q.weight: type Q4_K is not supported (F32, F16, BF16, Q8_0, Q4_0)", (&gb{}).start(3, 1, 0).tensor("blk.0.attn_q.weight", 12, 0, 256).data(32, 144)},
		{"Q8_0 partial block", "tensor t: Q8_0 rows of 48 elements are not whole blocks of 32", (&gb{}).start(3, 1, 0).tensor("t", Q8_0, 0, 48, 2).data(32, 102)},
		{"Q4_0 vector partial block", "tensor t: Q4_0 rows of 16 elements", (&gb{}).start(3, 1, 0).tensor("t", Q4_0, 0, 16).data(32, 9)},
		{"Q8_0 short", "tensor t: 68 bytes at offset 0 run past the data section's 67 bytes", (&gb{}).start(3, 1, 0).tensor("t", Q8_0, 0, 32, 2).data(32, 67)},
		{"Q4_0 overlap", "overlaps", (&gb{}).start(3, 2, 0).tensor("a", Q4_0, 0, 64).tensor("b", Q4_0, 32, 32).data(32, 64)},
		{"Q8_0 huge", "overflows", (&gb{}).start(3, 1, 0).tensor("t", Q8_0, 0, 1<<40, 1<<40).data(32, 0)},
		{"unknown type", "type 99 is unknown", (&gb{}).start(3, 1, 0).tensor("t", 99, 0, 1).data(32, 4)},
		{"misaligned", "not a multiple of the alignment 32", (&gb{}).start(3, 1, 0).tensor("t", F32, 4, 1).data(32, 8)},
		{"out of range", "run past the data section", (&gb{}).start(3, 1, 0).tensor("t", F32, 0, 4).data(32, 15)},
		{"huge offset", "run past", (&gb{}).start(3, 1, 0).tensor("t", F32, 1<<62, 1).data(32, 4)},
		{"offset past int64", "out of range", (&gb{}).start(3, 1, 0).tensor("t", F32, 1<<63, 1).data(32, 4)},
		{"overlap", "overlaps", (&gb{}).start(3, 2, 0).tensor("a", F32, 0, 16).tensor("b", F32, 32, 16).data(32, 96)},
		{"duplicate tensor", "appears twice", (&gb{}).start(3, 2, 0).tensor("a", F32, 0, 1).tensor("a", F32, 32, 1).data(32, 64)},
		{"no data section", "past the end", (&gb{}).start(3, 1, 0).tensor("t", F32, 0, 1).b},
	}
	for _, c := range cases {
		_, err := parseBytes(c.file)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "x.gguf: ") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line with %q", c.name, msg, c.want)
		}
	}
	// Every truncation of a good file is refused.
	good := goodFile()
	for n := range len(good) - 1 {
		if _, err := parseBytes(good[:n]); err == nil {
			t.Errorf("a %d-byte prefix of a %d-byte file is accepted", n, len(good))
		}
	}
}

// Version 2 has the same layout as 3 (64-bit counts).
func TestVersion2(t *testing.T) {
	b := goodFile()
	b[4] = 2
	if h, err := parseBytes(b); err != nil || h.Version != 2 {
		t.Fatal(err)
	}
}

func TestAlignment(t *testing.T) {
	g := (&gb{}).start(3, 2, 1).kvU32("general.alignment", 64)
	g.tensor("a", BF16, 0, 3).tensor("b", F32, 64, 2)
	h, err := parseBytes(g.data(64, 72))
	if err != nil {
		t.Fatal(err)
	}
	if h.Alignment != 64 || h.DataStart%64 != 0 {
		t.Errorf("alignment %d, data at %d", h.Alignment, h.DataStart)
	}
	g = (&gb{}).start(3, 1, 1).kvU32("general.alignment", 64)
	if _, err := parseBytes(g.tensor("a", F32, 32, 1).data(64, 64)); err == nil || !strings.Contains(err.Error(), "alignment 64") {
		t.Errorf("offset 32 with alignment 64: %v", err)
	}
}

// Unpermute inverts llama.cpp's permutation of q/k rows.
func TestUnpermute(t *testing.T) {
	// 2 heads of dimension 4: GGUF row h*4 + 2j + i holds HF row h*4 + 2i + j.
	gguf := []byte{0, 2, 1, 3, 4, 6, 5, 7}
	if got := Unpermute(gguf, 8, 2); !bytes.Equal(got, []byte{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("Unpermute = %v", got)
	}
}
