package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
)

func f32bytes(xs ...float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func sample() []WriteTensor {
	bf := make([]byte, 2*3*5*7)
	vals := make([]float32, 3*5*7)
	for i := range vals {
		vals[i] = float32(i) - 50.5
	}
	bf16.Encode(bf, vals)
	h := make([]byte, 4)
	binary.LittleEndian.PutUint16(h, float16.Fromfloat32(1.5).Bits())
	binary.LittleEndian.PutUint16(h[2:], float16.Fromfloat32(-0.25).Bits())
	return []WriteTensor{
		{Name: "b.bf16", DType: BF16, Shape: []int64{3, 5, 7}, Data: bf},
		{Name: "a.scalar", DType: F32, Shape: []int64{}, Data: f32bytes(2.5)},
		{Name: "c.empty", DType: F32, Shape: []int64{0, 4}, Data: nil},
		{Name: "d.f16", DType: F16, Shape: []int64{2}, Data: h},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "model.safetensors"), sample(), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := strings.Join(c.Names(), ","); got != "a.scalar,b.bf16,c.empty,d.f16" {
		t.Fatalf("names %s", got)
	}
	v, info, err := c.Float32("b.bf16")
	if err != nil || len(v) != 105 || v[0] != -50.5 || v[104] != 53.5 || info.Shape[2] != 7 {
		t.Fatalf("bf16 tensor: %v %v %v", err, info, v[:3])
	}
	if v, _, _ := c.Float32("a.scalar"); len(v) != 1 || v[0] != 2.5 {
		t.Fatalf("scalar %v", v)
	}
	if v, _, _ := c.Float32("d.f16"); v[0] != 1.5 || v[1] != -0.25 {
		t.Fatalf("f16 %v", v)
	}
	if v, _, err := c.Float32("c.empty"); err != nil || len(v) != 0 {
		t.Fatalf("empty %v %v", v, err)
	}
	if _, _, err := c.Float32("nope"); err == nil {
		t.Fatal("missing tensor found")
	}
}

func TestSharded(t *testing.T) {
	dir := t.TempDir()
	s := sample()
	if err := Write(filepath.Join(dir, "s1.safetensors"), s[:2], nil); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "s2.safetensors"), s[2:], nil); err != nil {
		t.Fatal(err)
	}
	index := map[string]any{"metadata": map[string]any{}, "weight_map": map[string]string{
		"b.bf16": "s1.safetensors", "a.scalar": "s1.safetensors", "c.empty": "s2.safetensors", "d.f16": "s2.safetensors"}}
	js, _ := json.Marshal(index)
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), js, 0o644)
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.Tensor("d.f16")
	if filepath.Base(info.File) != "s2.safetensors" {
		t.Fatalf("d.f16 in %s", info.File)
	}
	c.Close()

	bad := func(wm map[string]string, want string) {
		t.Helper()
		js, _ := json.Marshal(map[string]any{"weight_map": wm})
		os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), js, 0o644)
		if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
	bad(map[string]string{"b.bf16": "s3.safetensors"}, "s3.safetensors")
	bad(map[string]string{"b.bf16": "s2.safetensors"}, "does not hold it")
	bad(map[string]string{"b.bf16": "../x.safetensors"}, "not a file inside the folder")
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte("{"), 0o644)
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "index.json: invalid index JSON") {
		t.Fatalf("broken index: %v", err)
	}
	if _, err := OpenDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no model.safetensors") {
		t.Fatalf("empty folder: %v", err)
	}
}

// rawFile builds a file from a header string and a data section size.
func rawFile(header string, data int) []byte {
	b := make([]byte, 8, 8+len(header)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, data)...)
}

func TestParseHeaderRejects(t *testing.T) {
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, 1<<60)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2}, "too short"},
		{"absurd length", huge, "header length 1152921504606846976 is absurd"},
		{"not json", rawFile("{nope", 0), "not a JSON object"},
		{"array", rawFile("[1,2]", 0), "not a JSON object"},
		{"entry", rawFile(`{"t": 5}`, 0), `tensor "t": entry must be an object`},
		{"dtype", rawFile(`{"t": {"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, 1), `unknown dtype "Q4"`},
		{"shape", rawFile(`{"t": {"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "not a non-negative integer"},
		{"offsets", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, 4), "begin <= end"},
		{"offsets count", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), "two integers"},
		{"past end", rawFile(`{"t": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "past the end of the data section"},
		{"size", rawFile(`{"t": {"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12"},
		{"overflow", rawFile(`{"t": {"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8), "too large"},
		{"overlap", rawFile(`{"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "b": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), "overlap"},
		{"duplicate", rawFile(`{"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), `tensor "a" is listed twice`},
		{"metadata", rawFile(`{"__metadata__": {"a": 1}}`, 0), "__metadata__"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := ParseHeader(c.file, int64(len(c.file)), "bad.safetensors")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.safetensors: ") {
				t.Fatalf("got %v, want an error naming the file and containing %q", err, c.want)
			}
		})
	}
}

func TestTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	Write(path, sample(), nil)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)-3], 0o644)
	if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") {
		t.Fatalf("truncated file: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "x.safetensors")
	Write(path, sample(), nil)
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(rawFile(`{"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, start, _, err := ParseHeader(data, int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for _, tt := range tensors {
			if tt.Begin < 0 || start+tt.End > int64(len(data)) {
				t.Fatalf("tensor %q [%d,%d) outside the data", tt.Name, tt.Begin, tt.End)
			}
			n := int64(tt.DType.Size())
			for _, d := range tt.Shape {
				n *= d
			}
			if n != tt.End-tt.Begin {
				t.Fatalf("tensor %q size mismatch", tt.Name)
			}
		}
	})
}
