package ir

import (
	"strings"
	"testing"
)

// quantModel is a model with q8_0 and q4_0 weights read where kernels
// dequantize them: linear's weight, embedding's table, a packed concat.
func quantModel() *Model {
	m := &Model{Meta: Meta{Architecture: "Test", DType: "bfloat16", VocabSize: 5, HiddenSize: 64, NumLayers: 1}}
	emb := m.AddWeight("embed", T(Q4_0, 5, 64), "q.safetensors", "embed")
	wa := m.AddWeight("wa", T(Q8_0, 3, 64), "q.safetensors", "wa")
	wb := m.AddWeight("wb", T(Q8_0, 2, 64), "q.safetensors", "wb")
	g := m.NewGraph("g")
	tok := g.AddInput("tokens", T(I32, 2))
	b := NewBuilder(m, g)
	x := b.Op("embedding", Attrs{"dtype": BF16}, emb, tok)
	y := b.Op("linear", nil, x, b.Op("concat", Attrs{"axis": int64(0)}, wa, wb))
	g.Outputs = []*Value{y}
	if b.Err() != nil {
		panic(b.Err())
	}
	return m
}

func TestQuantizedTypes(t *testing.T) {
	for _, c := range []struct {
		t     TensorType
		bytes int64
	}{{T(Q8_0, 3, 64), 3 * 2 * 34}, {T(Q4_0, 3, 64), 3 * 2 * 18}, {T(Q4_0, 4096, 4096), 4096 * 128 * 18}} {
		if err := CheckType(c.t); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.t.SizeBytes(); c.t.Bytes() != c.bytes || got != c.bytes {
			t.Errorf("%v: %d (%d) bytes, want %d", c.t, c.t.Bytes(), got, c.bytes)
		}
	}
	// 4.5 and 8.5 bits per weight.
	if b := T(Q4_0, 1, 32).Bytes(); b*8 != 32*45/10 {
		t.Errorf("q4_0 block is %d bytes", b)
	}
	for _, bad := range []TensorType{T(Q8_0, 3, 48), T(Q4_0, 64), T(Q8_0, 1, 2, 64)} {
		if err := CheckType(bad); err == nil || !strings.Contains(err.Error(), "multiple of 32") {
			t.Errorf("%v: got %v, want a refusal", bad, err)
		}
	}
	m := quantModel()
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	text := m.String()
	if !strings.Contains(text, "q8_0[3,64]") || !strings.Contains(text, "q4_0[5,64]") {
		t.Fatalf("dump does not show the quantized types:\n%s", text)
	}
	back, err := Parse("q.ir", text)
	if err != nil || back.String() != text {
		t.Fatalf("text round trip: %v\n%s", err, text)
	}
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := Unmarshal("q.irpb", data); err != nil || back.String() != text {
		t.Fatalf("proto round trip: %v", err)
	}
}

func TestQuantizedMisuseIsRefused(t *testing.T) {
	good := quantModel().String()
	for _, c := range []struct{ from, to, want string }{
		{"embedding(@embed, %tokens) {dtype=bf16}", "embedding(@embed, %tokens)", "needs dtype"},
		{"%tokens: i32[2]", "%tokens: i32[2], %q: q8_0[2,64]", "only weights may be quantized"},
		{"linear(%", "silu_mul(%", ""},
	} {
		if !strings.Contains(good, c.from) {
			t.Fatalf("sample text lacks %q:\n%s", c.from, good)
		}
		_, err := Parse("q.ir", strings.Replace(good, c.from, c.to, 1))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: got %v, want an error containing %q", c.from, c.to, err, c.want)
		}
	}
	// An op other than linear, embedding or concat reading a quantized
	// weight, and an activation of a quantized type.
	_, err := Parse("q.ir", strings.Replace(good, "linear(%embedding, %concat) : bf16[2,5]", "copy(@wa) : q8_0[3,64]", 1))
	if err == nil || !strings.Contains(err.Error(), "read only as linear's weight") {
		t.Errorf("copy of a quantized weight: got %v", err)
	}
}
