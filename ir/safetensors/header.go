// Package safetensors reads and writes Hugging Face safetensors files: an
// 8-byte little-endian header length N, N bytes of JSON describing every
// tensor, then the tensor bytes.
//
// Reading is strict because checkpoints come from outside, and it follows
// the reference implementation (huggingface/safetensors) wherever that one
// refuses a file:
//
//   - the header length is at most MaxHeaderLen and fits in the file, and
//     the header is read only after that (and ir/budget) allows it;
//   - the header is valid UTF-8 and exactly one JSON object that starts at
//     its first byte; after the object's closing brace only spaces (0x20,
//     the padding writers add to align the data) may follow: a newline, a
//     NUL or anything else there is refused as trailing garbage;
//   - every entry has a known dtype, a shape of non-negative integers and
//     data_offsets whose span is exactly the shape's byte size, computed
//     with overflow checks;
//   - the tensors lie end to end: sorted by offset, the first starts at 0,
//     each starts where the previous one ends, and the last ends at the end
//     of the file. So no two tensors share a byte, and no byte of the data
//     section belongs to no tensor: a hole between tensors or bytes after
//     the last one (a corrupt, concatenated or doctored file, or data that
//     another reader might interpret) is refused, as the reference refuses
//     it (InvalidOffset, MetadataIncompleteBuffer). An empty tensor must sit
//     at such a boundary too.
//
// After that, later code can slice without checking. Files are opened only
// if they are regular files (OpenInput), and a Folder or a checkpoint reads
// only files inside its folder unless told otherwise (FolderOptions).
// TensorInfo.Check is the one check of a tensor against what a model
// declares for it (dtype, shape, byte size), shared by the importer, the
// reference runtime and the generated runners.
package safetensors

import (
	"bytes"
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
	if len(header) > 0 && isJSONSpace(header[0]) {
		return nil, 0, nil, fmt.Errorf("header starts with %s: it must start with '{' (only trailing spaces may pad it)", describeByte(header[0]))
	}
	members, err := objectMembers(header)
	if err != nil {
		if dup, ok := errors.AsType[*duplicateKeyError](err); ok {
			return nil, 0, nil, fmt.Errorf("tensor %q appears twice in the header", dup.key)
		}
		return nil, 0, nil, fmt.Errorf("header is %w", err)
	}
	// objectMembers allows any JSON whitespace after the object; the format
	// pads with spaces only.
	if body := bytes.TrimRight(header, " "); body[len(body)-1] != '}' {
		i := bytes.LastIndexByte(body, '}') + 1
		i += len(body[i:]) - len(bytes.TrimLeft(body[i:], " "))
		return nil, 0, nil, fmt.Errorf("header has %s after its JSON object, at byte %d of %d: only spaces may pad the header", describeByte(body[i]), i, len(header))
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
	if err := checkLayout(tensors, dataLen); err != nil {
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

// checkLayout checks that the tensors lie end to end over the whole data
// section of dataLen bytes (see the package doc): no byte in two tensors,
// none in no tensor.
func checkLayout(tensors []TensorInfo, dataLen int64) error {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b TensorInfo) int {
		return cmp.Or(cmp.Compare(a.Begin, b.Begin), cmp.Compare(a.End, b.End), cmp.Compare(a.Name, b.Name))
	})
	var pos int64        // where the next tensor must start
	var last *TensorInfo // the tensor ending at pos, if any
	for i := range sorted {
		t := &sorted[i]
		switch {
		case t.Begin < pos && t.End == t.Begin:
			return fmt.Errorf("empty tensor %q at offset %d lies inside tensor %q [%d, %d): tensors must lie end to end", t.Name, t.Begin, last.Name, last.Begin, last.End)
		case t.Begin < pos:
			return fmt.Errorf("tensors %q [%d, %d) and %q [%d, %d) overlap", last.Name, last.Begin, last.End, t.Name, t.Begin, t.End)
		case t.Begin > pos:
			after := "at the start of the data section"
			if last != nil {
				after = fmt.Sprintf("between tensors %q and %q", last.Name, t.Name)
			} else {
				after += fmt.Sprintf(", before tensor %q", t.Name)
			}
			return fmt.Errorf("bytes [%d, %d) of the data section belong to no tensor (%s): tensors must lie end to end", pos, t.Begin, after)
		}
		pos = t.End
		if t.End > t.Begin || last == nil {
			last = t
		}
	}
	if pos != dataLen {
		after := "and the header names no tensor"
		if last != nil {
			after = fmt.Sprintf("after the last tensor %q", last.Name)
		}
		return fmt.Errorf("the data section is %d bytes but its tensors end at byte %d: %d bytes %s belong to no tensor (a corrupt or appended-to file)", dataLen, pos, dataLen-pos, after)
	}
	return nil
}

// isJSONSpace reports JSON's insignificant whitespace.
func isJSONSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// describeByte names a byte for an error message.
func describeByte(b byte) string {
	switch b {
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	case '\n':
		return "a newline"
	case '\r':
		return "a carriage return"
	}
	return fmt.Sprintf("byte %#02x", b)
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
