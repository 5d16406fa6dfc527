package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/irc-compiler/irc/ir/budget"
)

// FuzzParseHeader checks that no input panics ParseHeader, that parsing
// allocates in proportion to the header and never to the sizes it
// declares, and that whatever it accepts is safe to slice and to allocate
// for: every range inside the data section, sized for its dtype and shape
// without overflow (the sizes ir/budget computes), the ranges tiling the
// data section exactly. An accepted file is then written out and read back
// through OpenFile, Bytes, TensorInfo.Check and DecodeFloat32. extra grows
// the file size past the given bytes, as when only a prefix is passed.
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
	f.Add(good[:8+binary.LittleEndian.Uint64(good)], uint16(len(good)-8-int(binary.LittleEndian.Uint64(good))))
	f.Add(rawFile(`{"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "b": {"dtype":"I64","shape":[],"data_offsets":[8,16]}}`, 16), uint16(0))
	f.Add(rawFile(`{"e": {"dtype":"BF16","shape":[0,3],"data_offsets":[4,4]}, "a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 0), uint16(4))
	f.Add(rawFile(`{"a": {"dtype":"F16","shape":[2,2],"data_offsets":[0,8]}}    `, 8), uint16(0))
	for _, c := range rejectCases {
		f.Add(c.file, uint16(0))
	}
	scratch := filepath.Join(f.TempDir(), "fuzz.safetensors")
	f.Fuzz(func(t *testing.T, data []byte, extra uint16) {
		fileSize := int64(len(data)) + int64(extra)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tensors, start, _, err := ParseHeader(data, fileSize, "fuzz.safetensors")
		runtime.ReadMemStats(&after)
		// The header is at most len(data) bytes; parsing may cost a
		// constant factor of that, never what the header claims.
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*len(data)+1<<20); got > limit {
			t.Fatalf("parsing a %d-byte input allocated %d bytes (limit %d)", len(data), got, limit)
		}
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
			// What a reader allocates for it: ir/budget's overflow-checked
			// count, which must agree with the range and fit the file.
			var n int64
			if !slices.Contains(tt.Shape, 0) {
				elems, ok := budget.Elements(tt.Shape...)
				if !ok {
					t.Fatalf("tensor %q: %v overflows", tt.Name, tt.Shape)
				}
				if n, ok = budget.Bytes(elems, int64(tt.DType.Size())); !ok {
					t.Fatalf("tensor %q: %s %v overflows in bytes", tt.Name, tt.DType, tt.Shape)
				}
			}
			if n != tt.End-tt.Begin || n > fileSize {
				t.Fatalf("tensor %q: %s %v in %d bytes of a %d-byte file", tt.Name, tt.DType, tt.Shape, tt.End-tt.Begin, fileSize)
			}
			if err := tt.Check(tt.DType, tt.Shape); err != nil {
				t.Fatalf("accepted tensor fails its own check: %v", err)
			}
		}
		byBegin := slices.Clone(tensors)
		slices.SortFunc(byBegin, func(a, b TensorInfo) int { return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End)) })
		var pos int64
		for _, tt := range byBegin {
			if tt.Begin != pos {
				t.Fatalf("tensor %q starts at %d, the previous one ends at %d", tt.Name, tt.Begin, pos)
			}
			pos = tt.End
		}
		if pos != fileSize-start {
			t.Fatalf("tensors end at %d, the data section at %d", pos, fileSize-start)
		}

		// Read it back as a file.
		file := append(slices.Clip(data), make([]byte, extra)...)
		if err := os.WriteFile(scratch, file, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := OpenFile(scratch)
		if err != nil {
			t.Fatalf("ParseHeader accepted what OpenFile refuses: %v", err)
		}
		defer st.Close()
		for _, tt := range st.Tensors() {
			b, err := st.Bytes(tt.Name)
			if err != nil || int64(len(b)) != tt.End-tt.Begin {
				t.Fatalf("tensor %q: %d bytes, %v", tt.Name, len(b), err)
			}
			if tt.DType.isFloat() {
				v, err := DecodeFloat32(tt.DType, b)
				if err != nil || len(v)*tt.DType.Size() != len(b) {
					t.Fatalf("tensor %q: decoded %d values, %v", tt.Name, len(v), err)
				}
			}
		}
	})
}
