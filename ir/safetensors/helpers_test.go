package safetensors

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
)

// rawFile builds a file from a literal header and a zeroed data section of
// dataLen bytes, so tests can write headers no well-behaved writer would.
func rawFile(header string, dataLen int) []byte {
	b := make([]byte, 8, 8+len(header)+dataLen)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, dataLen)...)
}

// encode stores vals in dtype d and returns the bytes together with the
// float32 values a reader must get back (vals rounded to d).
func encode(t testing.TB, d DType, vals []float32) ([]byte, []float32) {
	t.Helper()
	want := make([]float32, len(vals))
	var data []byte
	switch d {
	case BF16:
		data = make([]byte, 2*len(vals))
		bf16.Encode(data, vals)
		for i, v := range vals {
			want[i] = bf16.ToFloat32(bf16.FromFloat32(v))
		}
	case F16:
		data = make([]byte, 2*len(vals))
		for i, v := range vals {
			h := float16.Fromfloat32(v)
			binary.LittleEndian.PutUint16(data[2*i:], h.Bits())
			want[i] = h.Float32()
		}
	case F32:
		data = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
		copy(want, vals)
	default:
		t.Fatalf("encode: dtype %s", d)
	}
	return data, want
}

// ramp is n distinct values, most of them not exactly representable in
// 16-bit formats, so a decoder that mixed up formats would be caught.
func ramp(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (float32(i) - float32(n)/3) * 0.3719
	}
	return v
}

// wantErr fails unless err is one line containing every phrase.
func wantErr(t *testing.T, err error, phrases ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", phrases)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	for _, p := range phrases {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}
