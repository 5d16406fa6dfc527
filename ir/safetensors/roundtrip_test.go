package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

type sampleTensor struct {
	WriteTensor
	want []float32 // what Float32 must return
}

// samples is every float dtype in every awkward shape.
func samples(t testing.TB) []sampleTensor {
	var out []sampleTensor
	shapes := map[string][]int64{"cube": {3, 5, 7}, "scalar": {}, "empty": {0, 4}}
	for _, d := range []DType{BF16, F16, F32} {
		for sname, shape := range shapes {
			n := 1
			for _, s := range shape {
				n *= int(s)
			}
			data, want := encode(t, d, ramp(n))
			name := fmt.Sprintf("%s.%s", strings.ToLower(string(d)), sname)
			out = append(out, sampleTensor{WriteTensor{name, d, shape, data}, want})
		}
	}
	return out
}

func writeTensors(s []sampleTensor) []WriteTensor {
	w := make([]WriteTensor, len(s))
	for i := range s {
		w[i] = s[i].WriteTensor
	}
	return w
}

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := samples(t)
	if err := Write(filepath.Join(dir, SingleFileName), writeTensors(s), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantNames := sortedNames(s)
	if got := c.Names(); !slices.Equal(got, wantNames) {
		t.Fatalf("names %v, want %v", got, wantNames)
	}
	for _, st := range s {
		b, info, err := c.Bytes(st.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, st.Data) || len(b) != len(st.Data) {
			t.Errorf("%s: bytes differ", st.Name)
		}
		if info.Name != st.Name || info.DType != st.DType || !slices.Equal(info.Shape, st.Shape) ||
			info.File != filepath.Join(dir, SingleFileName) || info.End-info.Begin != int64(len(st.Data)) {
			t.Errorf("%s: info %+v", st.Name, info)
		}
		got, _, err := c.Float32(st.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: decoded %v, want %v", st.Name, got[:min(4, len(got))], st.want[:min(4, len(st.want))])
		}
	}
	f, err := OpenFile(filepath.Join(dir, SingleFileName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if m := f.Metadata(); len(m) != 2 || m["format"] != "pt" || m["k"] != "v" {
		t.Errorf("metadata %v", m)
	}
}

// Known bit patterns decode to known values, independently of the encoders
// the round trip uses.
func TestFloat32KnownValues(t *testing.T) {
	le16 := func(xs ...uint16) []byte {
		b := make([]byte, 2*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint16(b[2*i:], x)
		}
		return b
	}
	f32 := make([]byte, 8)
	binary.LittleEndian.PutUint32(f32, 0x3FC00000)     // 1.5
	binary.LittleEndian.PutUint32(f32[4:], 0xC1200000) // -10
	dir := t.TempDir()
	err := Write(filepath.Join(dir, SingleFileName), []WriteTensor{
		{"bf", BF16, []int64{4}, le16(0x3F80, 0xC000, 0x4049, 0x0001)},
		{"h", F16, []int64{5}, le16(0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555)},
		{"f", F32, []int64{2}, f32},
		{"i", "I64", []int64{1}, make([]byte, 8)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for name, want := range map[string][]float32{
		"bf": {1, -2, 3.140625, 9.183549615799121e-41}, // 0x0001 is 2^-133
		"h":  {1, -2, 65504, 5.960464477539063e-08, 0.333251953125},
		"f":  {1.5, -10},
	} {
		got, _, err := c.Float32(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v %v, want %v", name, got, err, want)
		}
	}
	// Other dtypes open and read as bytes, but do not decode to floats.
	if b, info, err := c.Bytes("i"); err != nil || len(b) != 8 || info.DType != "I64" {
		t.Errorf("I64 bytes: %v %v %v", b, info, err)
	}
	_, _, err = c.Float32("i")
	wantErr(t, err, filepath.Join(dir, SingleFileName), `tensor "i"`, "I64 cannot be decoded to float32", "BF16, F16, F32")
	_, _, err = c.Float32("nope")
	wantErr(t, err, dir, `no tensor "nope"`)
}

// Large tensors decode in parallel chunks; the result must not depend on
// where the chunks split.
func TestDecodeParallel(t *testing.T) {
	n := 3*parallelMin + 7
	vals := ramp(n)
	for _, d := range []DType{BF16, F16, F32} {
		data, want := encode(t, d, vals)
		got, err := DecodeFloat32(d, data)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: parallel decode differs (err %v)", d, err)
		}
	}
	_, err := DecodeFloat32(BF16, make([]byte, 3))
	wantErr(t, err, "3 bytes is not a whole number of BF16 values")
}

func TestBytesIsAView(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	s := samples(t)
	if err := Write(path, writeTensors(s), nil); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.Info("f32.cube")
	b, err := f.Bytes("f32.cube")
	if err != nil {
		t.Fatal(err)
	}
	// No copy: the slice points into the file's own buffer (the mapping).
	whole, err := f.file.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.SliceData(b) != &whole[f.dataStart+info.Begin] {
		t.Error("Bytes copied the tensor")
	}
	if cap(b) != len(b) {
		t.Errorf("cap %d > len %d: an append would overwrite the next tensor", cap(b), len(b))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = f.Bytes("f32.cube")
	wantErr(t, err, path, `tensor "f32.cube"`, "closed")
	_, err = f.Bytes("nope")
	wantErr(t, err, path, `no tensor "nope"`)
}

// The layout is fixed: header length, sorted keys, space padding to a
// multiple of 8, data in name order with no gaps.
func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	s := writeTensors(samples(t))
	p1, p2 := filepath.Join(dir, "1.safetensors"), filepath.Join(dir, "2.safetensors")
	if err := Write(p1, s, map[string]string{"b": "2", "a": "1"}); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(s)
	if err := Write(p2, s, map[string]string{"a": "1", "b": "2"}); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if !bytes.Equal(b1, b2) {
		t.Fatal("output depends on the input order")
	}
	n := binary.LittleEndian.Uint64(b1)
	header := b1[8 : 8+n]
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	trimmed := bytes.TrimRight(header, " ")
	if len(header)-len(trimmed) >= 8 || trimmed[len(trimmed)-1] != '}' {
		t.Errorf("padding: %q", header[len(trimmed)-1:])
	}
	if bytes.ContainsAny(trimmed, "\n\t") {
		t.Error("header is not compact")
	}
	members, err := objectMembers(header)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range members {
		keys = append(keys, m.key)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys not sorted: %v", keys)
	}
	if !bytes.Contains(header, []byte(`"__metadata__":{"a":"1","b":"2","format":"pt"}`)) {
		t.Errorf("metadata not as expected in %s", header)
	}
	tensors, start, _, err := ParseHeader(b1, int64(len(b1)), p1)
	if err != nil {
		t.Fatal(err)
	}
	var end int64
	for _, tt := range tensors { // sorted by name, and laid out in that order
		if tt.Begin != end {
			t.Errorf("%s starts at %d, want %d", tt.Name, tt.Begin, end)
		}
		end = tt.End
	}
	if start+end != int64(len(b1)) {
		t.Errorf("data ends at %d, file is %d bytes", start+end, len(b1))
	}
}

func TestWriteRejects(t *testing.T) {
	cases := []struct {
		name    string
		tensors []WriteTensor
		want    string
	}{
		{"short data", []WriteTensor{{"a", F32, []int64{2, 3}, make([]byte, 20)}}, `tensor "a": 20 bytes of data, but F32 [2 3] needs 24`},
		{"long data", []WriteTensor{{"a", BF16, []int64{}, make([]byte, 4)}}, `tensor "a": 4 bytes of data, but BF16 [] needs 2`},
		{"unknown dtype", []WriteTensor{{"a", "Q4", []int64{1}, make([]byte, 1)}}, `tensor "a": unknown dtype "Q4"`},
		{"negative dim", []WriteTensor{{"a", F32, []int64{-1, -4}, make([]byte, 16)}}, `tensor "a": shape [-1 -4] has a negative dimension`},
		{"overflow", []WriteTensor{{"a", F32, []int64{1 << 62, 4}, nil}}, `tensor "a": F32 [4611686018427387904 4] is too large`},
		{"duplicate", []WriteTensor{{"a", F32, nil, make([]byte, 4)}, {"a", F32, nil, make([]byte, 4)}}, `tensor "a" is given twice`},
		{"reserved name", []WriteTensor{{"__metadata__", F32, nil, make([]byte, 4)}}, `"__metadata__" is reserved`},
		{"bad UTF-8", []WriteTensor{{"a\xff", F32, nil, make([]byte, 4)}}, "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "w.safetensors")
			wantErr(t, Write(path, c.tensors, nil), path, c.want)
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// Overwriting a file that is open leaves the open view intact: Write
// renames a new file into place instead of truncating the old one.
func TestWriteOverOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := Write(path, []WriteTensor{{"a", F32, []int64{1}, f32le(7)}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Write(path, []WriteTensor{{"b", F32, []int64{2}, f32le(1, 2)}}, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := f.Bytes("a"); err != nil || !bytes.Equal(b, f32le(7)) {
		t.Errorf("old view: %v %v", b, err)
	}
	g, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, ok := g.Info("b"); !ok {
		t.Error("new file does not hold b")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
}

func f32le(xs ...float32) []byte {
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := Write(path, writeTensors(samples(t)), nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	// The last tensor in the data section is the last by name.
	if err := os.WriteFile(path, data[:len(data)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenFile(path)
	wantErr(t, err, path, `tensor "f32.scalar"`, "beyond the data section", "truncated")
	_, err = OpenFile(dir)
	wantErr(t, err, dir, "not a regular file")
	_, err = OpenFile(filepath.Join(dir, "none.safetensors"))
	wantErr(t, err, "none.safetensors", "no such file")
	empty := filepath.Join(dir, "empty.safetensors")
	os.WriteFile(empty, nil, 0o644)
	_, err = OpenFile(empty)
	wantErr(t, err, empty, "too short")
}

func BenchmarkFloat32BF16(b *testing.B) {
	for _, n := range []int{1 << 16, 1 << 24} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := make([]byte, 2*n)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := DecodeFloat32(BF16, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sortedNames lists the samples' names as Checkpoint.Names should return them.
func sortedNames(s []sampleTensor) []string {
	var names []string
	for _, st := range s {
		names = append(names, st.Name)
	}
	slices.Sort(names)
	return names
}
