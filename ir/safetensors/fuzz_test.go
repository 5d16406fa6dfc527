package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParseHeader checks that no input panics ParseHeader and that whatever
// it accepts is safe to slice: every range inside the data section, sized
// for its dtype and shape, and disjoint from the others. extra grows the
// file size past the given bytes, as when only a prefix is passed.
func FuzzParseHeader(f *testing.F) {
	path := filepath.Join(f.TempDir(), "x.safetensors")
	if err := Write(path, writeTensors(samples(f)), map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint16(0))
	f.Add(good[:8+binary.LittleEndian.Uint64(good)], uint16(0))
	f.Add(rawFile(`{"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "b": {"dtype":"I64","shape":[],"data_offsets":[8,16]}}`, 16), uint16(0))
	f.Add(rawFile(`{"e": {"dtype":"BF16","shape":[0,3],"data_offsets":[2,2]}, "a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 0), uint16(4))
	for _, c := range rejectCases {
		f.Add(c.file, uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, extra uint16) {
		fileSize := int64(len(data)) + int64(extra)
		tensors, start, _, err := ParseHeader(data, fileSize, "fuzz.safetensors")
		if err != nil {
			if bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if n := binary.LittleEndian.Uint64(data); start != int64(8+n) || start > fileSize {
			t.Fatalf("data starts at %d; header length %d, file %d bytes", start, n, fileSize)
		}
		for i, tt := range tensors {
			if i > 0 && tensors[i-1].Name >= tt.Name {
				t.Fatalf("names not sorted and unique: %q then %q", tensors[i-1].Name, tt.Name)
			}
			if tt.File != "fuzz.safetensors" {
				t.Fatalf("File %q", tt.File)
			}
			if tt.Begin < 0 || tt.End < tt.Begin || start+tt.End > fileSize {
				t.Fatalf("tensor %q [%d, %d) outside the data section [%d, %d)", tt.Name, tt.Begin, tt.End, start, fileSize)
			}
			if tt.DType.Size() == 0 {
				t.Fatalf("tensor %q: unknown dtype %q accepted", tt.Name, tt.DType)
			}
			n := uint64(tt.DType.Size())
			for _, d := range tt.Shape {
				if d < 0 {
					t.Fatalf("tensor %q: shape %v", tt.Name, tt.Shape)
				}
				hi, lo := bits.Mul64(n, uint64(d))
				if hi != 0 && !slices.Contains(tt.Shape, 0) {
					t.Fatalf("tensor %q: %s %v overflows", tt.Name, tt.DType, tt.Shape)
				}
				n = lo
			}
			if slices.Contains(tt.Shape, 0) {
				n = 0
			}
			if n != uint64(tt.End-tt.Begin) {
				t.Fatalf("tensor %q: %s %v in %d bytes", tt.Name, tt.DType, tt.Shape, tt.End-tt.Begin)
			}
		}
		byBegin := slices.Clone(tensors)
		slices.SortFunc(byBegin, func(a, b TensorInfo) int { return cmp.Compare(a.Begin, b.Begin) })
		var prev *TensorInfo
		for i := range byBegin {
			tt := &byBegin[i]
			if tt.End == tt.Begin {
				continue
			}
			if prev != nil && tt.Begin < prev.End {
				t.Fatalf("tensors %q and %q overlap", prev.Name, tt.Name)
			}
			prev = tt
		}
	})
}
