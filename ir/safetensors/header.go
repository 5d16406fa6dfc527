// Package safetensors reads and writes Hugging Face safetensors files: an
// 8-byte little-endian header length N, N bytes of JSON describing every
// tensor, then the tensor bytes. Reading is strict because checkpoints come
// from outside: every range must lie in the file, match its dtype and shape
// and not overlap another, so that later code can slice without checking.
package safetensors

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// MaxHeaderLen bounds the JSON header, as the reference implementation
// does: a larger length is corruption or an attack, since real headers of
// even the largest models are a few hundred KiB.
const MaxHeaderLen = 100 << 20

// metadataKey is the header key that holds free-form string metadata
// instead of a tensor.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int64
	File  string // path of the .safetensors file holding it
	// Begin and End are byte offsets relative to the data section.
	Begin, End int64
}

// ParseHeader parses and validates a header. data must hold the file's
// first 8+N bytes at least (the tensor bytes are never read, so a fuzzer or
// a reader of a partial download can pass just the prefix); fileSize is the
// size of the whole file and path names it in errors. It returns the tensors
// sorted by name, the absolute offset of the data section, and the
// __metadata__ map (nil if absent). Every error is one line starting with
// path.
func ParseHeader(data []byte, fileSize int64, path string) (tensors []TensorInfo, dataStart int64, meta map[string]string, err error) {
	tensors, dataStart, meta, err = parseHeader(data, fileSize)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range tensors {
		tensors[i].File = path
	}
	return tensors, dataStart, meta, nil
}

func parseHeader(data []byte, fileSize int64) ([]TensorInfo, int64, map[string]string, error) {
	if fileSize < 8 || len(data) < 8 {
		return nil, 0, nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length", min(fileSize, int64(len(data))))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderLen {
		return nil, 0, nil, fmt.Errorf("header length %d is absurd (the limit is %d bytes)", n, MaxHeaderLen)
	}
	if n > uint64(fileSize-8) {
		return nil, 0, nil, fmt.Errorf("header length %d is absurd: only %d bytes follow it in the file", n, fileSize-8)
	}
	if n > uint64(len(data)-8) {
		return nil, 0, nil, fmt.Errorf("header is truncated: %d bytes announced, %d given", n, len(data)-8)
	}
	dataStart := int64(8 + n)
	dataLen := fileSize - dataStart
	header := data[8:dataStart]
	// encoding/json would quietly turn bad bytes into U+FFFD, so two
	// distinct invalid names could collide; the format requires UTF-8.
	if !utf8.Valid(header) {
		return nil, 0, nil, errors.New("header is not valid UTF-8")
	}
	members, err := objectMembers(header)
	if err != nil {
		if dup, ok := errors.AsType[*duplicateKeyError](err); ok {
			return nil, 0, nil, fmt.Errorf("tensor %q appears twice in the header", dup.key)
		}
		return nil, 0, nil, fmt.Errorf("header is %w", err)
	}
	var meta map[string]string
	tensors := make([]TensorInfo, 0, len(members))
	for _, m := range members {
		if m.key == metadataKey {
			if meta, err = parseMetadata(m.val); err != nil {
				return nil, 0, nil, err
			}
			continue
		}
		t, err := parseEntry(m.key, m.val, dataLen)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("tensor %q: %w", m.key, err)
		}
		tensors = append(tensors, t)
	}
	if err := checkOverlaps(tensors); err != nil {
		return nil, 0, nil, err
	}
	slices.SortFunc(tensors, func(a, b TensorInfo) int { return cmp.Compare(a.Name, b.Name) })
	return tensors, dataStart, meta, nil
}

// parseMetadata reads __metadata__, which must map strings to strings
// (null counts as absent, as in the reference implementation).
func parseMetadata(raw json.RawMessage) (map[string]string, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	members, err := objectMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%s must be an object of strings: %v", metadataKey, err)
	}
	meta := make(map[string]string, len(members))
	for _, m := range members {
		s, ok := jsonString(m.val)
		if !ok {
			return nil, fmt.Errorf("%s[%q] must be a string, got %s", metadataKey, m.key, snippet(m.val))
		}
		meta[m.key] = s
	}
	return meta, nil
}

// parseEntry validates one tensor entry against the data section length.
// Keys other than dtype, shape and data_offsets are ignored, as the
// reference implementation ignores them.
func parseEntry(name string, raw json.RawMessage, dataLen int64) (TensorInfo, error) {
	members, err := objectMembers(raw)
	if dup, ok := errors.AsType[*duplicateKeyError](err); ok {
		return TensorInfo{}, fmt.Errorf("entry has %q twice", dup.key)
	}
	if err != nil {
		return TensorInfo{}, fmt.Errorf("entry must be an object with dtype, shape and data_offsets, got %s", snippet(raw))
	}
	fields := map[string]json.RawMessage{}
	for _, m := range members {
		fields[m.key] = m.val
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if fields[k] == nil {
			return TensorInfo{}, fmt.Errorf("entry has no %q", k)
		}
	}
	dt, ok := jsonString(fields["dtype"])
	if !ok {
		return TensorInfo{}, fmt.Errorf("dtype must be a string, got %s", snippet(fields["dtype"]))
	}
	dtype := DType(dt)
	if dtype.Size() == 0 {
		return TensorInfo{}, fmt.Errorf("unknown dtype %q (known: %s; irc computes with BF16, F16, F32)", dt, knownDTypes)
	}
	shape, ok := jsonInts(fields["shape"])
	if !ok || slices.ContainsFunc(shape, func(d int64) bool { return d < 0 }) {
		return TensorInfo{}, fmt.Errorf("shape must be an array of non-negative integers, got %s", snippet(fields["shape"]))
	}
	offs, ok := jsonInts(fields["data_offsets"])
	if !ok || len(offs) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets must be two integers [begin, end], got %s", snippet(fields["data_offsets"]))
	}
	begin, end := offs[0], offs[1]
	if begin < 0 || end < begin {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] must satisfy 0 <= begin <= end", begin, end)
	}
	if end > dataLen {
		return TensorInfo{}, fmt.Errorf("data_offsets end %d lies beyond the data section (%d bytes); the file is truncated or the header is corrupt", end, dataLen)
	}
	want, err := byteSize(dtype, shape)
	if err != nil {
		return TensorInfo{}, err
	}
	if end-begin != want {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] span %d bytes, but %s %v needs %d", begin, end, end-begin, dtype, shape, want)
	}
	return TensorInfo{Name: name, DType: dtype, Shape: shape, Begin: begin, End: end}, nil
}

// byteSize is product(shape)*dtype size, failing instead of wrapping when it
// does not fit in an int64 (a hostile shape could otherwise wrap to match a
// small range).
func byteSize(dtype DType, shape []int64) (int64, error) {
	size := dtype.Size()
	if size == 0 {
		return 0, fmt.Errorf("unknown dtype %q (known: %s)", dtype, knownDTypes)
	}
	if slices.Contains(shape, 0) {
		return 0, nil // even if the other dims alone would overflow
	}
	n := uint64(size)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("%s %v is too large: its byte size overflows int64", dtype, shape)
		}
		n = lo
	}
	return int64(n), nil
}

// checkOverlaps rejects two tensors sharing a byte. Empty tensors hold no
// bytes, so they cannot overlap anything wherever they point.
func checkOverlaps(tensors []TensorInfo) error {
	ranges := make([]TensorInfo, 0, len(tensors))
	for _, t := range tensors {
		if t.End > t.Begin {
			ranges = append(ranges, t)
		}
	}
	slices.SortFunc(ranges, func(a, b TensorInfo) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End), cmp.Compare(a.Name, b.Name))
	})
	for i := 1; i < len(ranges); i++ {
		a, b := ranges[i-1], ranges[i]
		if b.Begin < a.End {
			return fmt.Errorf("tensors %q [%d, %d) and %q [%d, %d) overlap", a.Name, a.Begin, a.End, b.Name, b.Begin, b.End)
		}
	}
	return nil
}

// snippet shows a JSON value in an error: compacted onto one line and cut
// short, so a hostile header cannot flood the message.
func snippet(raw json.RawMessage) string {
	var buf []byte
	if c, err := compact(raw); err == nil {
		buf = c
	} else {
		buf = raw
	}
	const limit = 64
	if len(buf) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(buf[cut]) { // do not split a character
			cut--
		}
		return string(buf[:cut]) + "..."
	}
	return string(buf)
}
