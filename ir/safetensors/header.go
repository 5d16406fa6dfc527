// Package safetensors reads and writes Hugging Face safetensors files:
// an 8-byte little-endian header length, a JSON header describing every
// tensor, then the tensor bytes. Reading is strict, because these bytes
// come from outside: every range must lie in the file, match its dtype and
// shape, and not overlap another.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// DType is a safetensors element type name.
type DType string

// The float types irc computes with; others are recognised for validation.
const (
	BF16 DType = "BF16"
	F16  DType = "F16"
	F32  DType = "F32"
)

var dtypeSizes = map[DType]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, F16: 2, BF16: 2,
	"I32": 4, "U32": 4, F32: 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// Size is the size of one element in bytes (0 for an unknown dtype).
func (d DType) Size() int { return dtypeSizes[d] }

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int64
	File  string // path of the file holding it
	// Begin and End are byte offsets relative to the data section.
	Begin, End int64
}

// MaxHeaderLen bounds the JSON header (real ones are well under 1 MiB).
const MaxHeaderLen = 100 << 20

type rawEntry struct {
	DType       DType           `json:"dtype"`
	Shape       []json.Number   `json:"shape"`
	DataOffsets []json.Number   `json:"data_offsets"`
	Rest        json.RawMessage `json:"-"`
}

// ParseHeader parses and validates the header at the start of data, which
// must hold at least the 8-byte length and the header itself; fileSize is
// the size of the whole file and path names it in errors. It returns the
// tensors sorted by name, the absolute offset of the data section and the
// metadata.
func ParseHeader(data []byte, fileSize int64, path string) ([]TensorInfo, int64, map[string]string, error) {
	fail := func(format string, args ...any) ([]TensorInfo, int64, map[string]string, error) {
		return nil, 0, nil, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
	if len(data) < 8 || fileSize < 8 {
		return fail("file is %d bytes, too short for a safetensors header", fileSize)
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderLen || n > uint64(fileSize-8) {
		return fail("header length %d is absurd (file is %d bytes, limit %d)", n, fileSize, MaxHeaderLen)
	}
	if uint64(len(data)-8) < n {
		return fail("truncated header: want %d bytes, have %d", n, len(data)-8)
	}
	dataStart := int64(8 + n)
	dataLen := fileSize - dataStart
	var entries map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data[8:dataStart]))
	dec.UseNumber()
	if err := dec.Decode(&entries); err != nil {
		return fail("header is not a JSON object: %v", err)
	}
	if entries == nil {
		return fail("header is not a JSON object")
	}
	if dup := duplicateKey(data[8:dataStart]); dup != "" {
		return fail("tensor %q is listed twice in the header", dup)
	}
	var meta map[string]string
	var tensors []TensorInfo
	for name, raw := range entries {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return fail("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		t, err := parseEntry(name, raw, dataLen)
		if err != nil {
			return fail("%v", err)
		}
		t.File = path
		tensors = append(tensors, t)
	}
	sort.Slice(tensors, func(i, j int) bool {
		return tensors[i].Begin < tensors[j].Begin || tensors[i].Begin == tensors[j].Begin && tensors[i].End < tensors[j].End
	})
	for i := 1; i < len(tensors); i++ {
		a, b := tensors[i-1], tensors[i]
		if b.Begin < a.End {
			return fail("tensors %q [%d,%d) and %q [%d,%d) overlap", a.Name, a.Begin, a.End, b.Name, b.Begin, b.End)
		}
	}
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].Name < tensors[j].Name })
	return tensors, dataStart, meta, nil
}

func parseEntry(name string, raw json.RawMessage, dataLen int64) (TensorInfo, error) {
	var e rawEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return TensorInfo{}, fmt.Errorf("tensor %q: entry must be an object with dtype, shape and data_offsets: %v", name, err)
	}
	size := e.DType.Size()
	if size == 0 {
		return TensorInfo{}, fmt.Errorf("tensor %q: unknown dtype %q", name, e.DType)
	}
	t := TensorInfo{Name: name, DType: e.DType, Shape: make([]int64, len(e.Shape))}
	bytesWanted := uint64(size)
	for i, d := range e.Shape {
		v, err := d.Int64()
		if err != nil || v < 0 {
			return TensorInfo{}, fmt.Errorf("tensor %q: shape entry %q is not a non-negative integer", name, d)
		}
		t.Shape[i] = v
		hi, lo := bits.Mul64(bytesWanted, uint64(v))
		if hi != 0 || lo > math.MaxInt64 {
			return TensorInfo{}, fmt.Errorf("tensor %q: shape %v is too large", name, t.Shape)
		}
		bytesWanted = lo
	}
	if len(e.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("tensor %q: data_offsets must be two integers", name)
	}
	begin, err1 := e.DataOffsets[0].Int64()
	end, err2 := e.DataOffsets[1].Int64()
	if err1 != nil || err2 != nil || begin < 0 || end < begin {
		return TensorInfo{}, fmt.Errorf("tensor %q: data_offsets %v are not 0 <= begin <= end", name, e.DataOffsets)
	}
	if end > dataLen {
		return TensorInfo{}, fmt.Errorf("tensor %q: data ends at %d, past the end of the data section (%d bytes); the file is truncated or corrupt", name, end, dataLen)
	}
	if uint64(end-begin) != bytesWanted {
		return TensorInfo{}, fmt.Errorf("tensor %q: %d bytes stored, but %s%v needs %d", name, end-begin, e.DType, t.Shape, bytesWanted)
	}
	t.Begin, t.End = begin, end
	return t, nil
}

// duplicateKey returns a top-level key that appears twice in a JSON object
// (encoding/json would silently keep the last one), or "".
func duplicateKey(obj []byte) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // the opening brace
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}
