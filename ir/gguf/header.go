// Package gguf reads GGUF files (versions 2 and 3, little-endian), the
// container llama.cpp loads, for irc's importer and weight loaders. It is a
// parser of outside bytes and is strict: every count, length, dimension,
// offset and size in the header is checked against the file's size (and
// allocations against ir/budget) before anything is allocated; tensors
// must lie inside the data section, aligned, without overlapping; and only
// unquantized tensors (F32, F16, BF16) are accepted, any other type is
// refused by name. Errors are one line naming the file and the field.
//
// Layout: "GGUF", version u32, tensor count u64, metadata count u64; each
// metadata entry (key string, value type u32, value); each tensor info
// (name string, n_dims u32, dims u64 innermost first, type u32, offset
// u64 relative to the data section); padding to general.alignment
// (default 32); the data section. Strings are a u64 length and the bytes.
package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/irc-compiler/irc/ir/budget"
)

// Limits of what the reader accepts (ggml's own limits where it has them).
const (
	// MaxHeaderLen bounds the metadata and tensor infos together: a real
	// header (a 256k-token vocabulary and a thousand tensors) is a few MiB.
	MaxHeaderLen = 256 << 20
	// MaxDims is GGML_MAX_DIMS.
	MaxDims = 4
	// MaxNameLen is GGML_MAX_NAME less its terminating NUL.
	MaxNameLen = 63
	// MaxKeyLen bounds a metadata key (real ones are under 64 bytes).
	MaxKeyLen = 1 << 10
	// DefaultAlignment is the alignment when general.alignment is absent.
	DefaultAlignment = 32
)

// headerCost bounds the heap the parsed header takes per byte of it (a
// one-byte string array element becomes a 16-byte Go string header and
// its bytes).
const headerCost = 24

// Value is one metadata value: a scalar (uint64 for the unsigned integer
// types, int64 for the signed ones, float64 for the float types, bool or
// string) or an array of one scalar type ([]uint64, []int64, []float64,
// []bool or []string). Type is the value type as written (for an array,
// Type is TypeArray and Elem the element type).
type Value struct {
	Type, Elem uint32
	V          any
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor of the file.
type TensorInfo struct {
	Name string
	Type Type
	// Dims are ggml's, innermost first: a row-major [rows, cols] matrix
	// is Dims {cols, rows}. Shape gives the row-major order.
	Dims []int64
	// Offset is relative to the data section; Size is the tensor's bytes.
	Offset, Size int64
}

// Shape is the row-major shape (Dims reversed).
func (t TensorInfo) Shape() []int64 {
	s := slices.Clone(t.Dims)
	slices.Reverse(s)
	return s
}

// Header is a parsed and validated GGUF header.
type Header struct {
	Version   uint32
	Alignment int64
	// DataStart is the file offset of the data section.
	DataStart int64
	KVs       []KV         // in file order
	Tensors   []TensorInfo // in file order
	kv        map[string]int
	byName    map[string]int
}

// KV returns the value of key.
func (h *Header) KV(key string) (Value, bool) {
	i, ok := h.kv[key]
	if !ok {
		return Value{}, false
	}
	return h.KVs[i].Value, true
}

// Tensor describes the named tensor.
func (h *Header) Tensor(name string) (TensorInfo, bool) {
	i, ok := h.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return h.Tensors[i], true
}

// reader reads the header sequentially, tracking the offset and refusing
// any read past the end of the file or MaxHeaderLen.
type reader struct {
	r     *bufio.Reader
	off   int64
	limit int64 // min(file size, MaxHeaderLen)
	size  int64
	// heap counts the bytes allocated so far, checked against the budget
	// at every large allocation.
	heap int64
}

func (r *reader) left() int64 { return r.limit - r.off }

func (r *reader) read(n int64, what string) ([]byte, error) {
	if n > r.left() {
		if r.limit < r.size {
			return nil, fmt.Errorf("%s at offset %d: %d bytes would run past the %d-byte header limit", what, r.off, n, int64(MaxHeaderLen))
		}
		return nil, fmt.Errorf("%s at offset %d: %d bytes, but the file ends at %d (truncated?)", what, r.off, n, r.size)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, fmt.Errorf("%s at offset %d: reading: %v (the file shrank?)", what, r.off, err)
	}
	r.off += n
	return b, nil
}

func (r *reader) u32(what string) (uint32, error) {
	b, err := r.read(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) u64(what string) (uint64, error) {
	b, err := r.read(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// count reads a u64 count of items taking at least min bytes each in the
// file, refusing a count the rest of the header cannot hold.
func (r *reader) count(what string, min int64) (int64, error) {
	off := r.off
	n, err := r.u64(what)
	if err != nil {
		return 0, err
	}
	if n > uint64(r.left()/min) {
		return 0, fmt.Errorf("%s at offset %d is %d, but the %d bytes left can hold at most %d", what, off, n, r.left(), r.left()/min)
	}
	return int64(n), nil
}

// alloc accounts for n more bytes of heap, checking the budget for large
// steps.
func (r *reader) alloc(what string, n int64) error {
	r.heap += n
	if n >= 1<<20 {
		return budget.Check(what, r.heap)
	}
	return nil
}

func (r *reader) str(what string, max int64) (string, error) {
	off := r.off
	n, err := r.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(max) {
		return "", fmt.Errorf("%s at offset %d is %d bytes long, more than %d", what, off, n, max)
	}
	if err := r.alloc(what, int64(n)); err != nil {
		return "", err
	}
	b, err := r.read(int64(n), what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Parse reads and validates the header of a GGUF file of size bytes from
// r. path names the file in errors.
func Parse(r io.ReaderAt, size int64, path string) (*Header, error) {
	h, err := parse(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func parse(ra io.ReaderAt, size int64) (*Header, error) {
	r := &reader{r: bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 1<<16), size: size, limit: min(size, MaxHeaderLen)}
	magic, err := r.read(4, "magic")
	if err != nil {
		return nil, fmt.Errorf("not a GGUF file: %d bytes, too short for the magic", size)
	}
	if string(magic) != "GGUF" {
		return nil, fmt.Errorf("not a GGUF file: magic %q, want \"GGUF\"", magic)
	}
	h := &Header{Alignment: DefaultAlignment, kv: map[string]int{}, byName: map[string]int{}}
	if h.Version, err = r.u32("version"); err != nil {
		return nil, err
	}
	if h.Version != 2 && h.Version != 3 {
		if h.Version&0xffff == 0 && h.Version != 0 {
			return nil, fmt.Errorf("version %#x: a big-endian GGUF file? only little-endian versions 2 and 3 are read", h.Version)
		}
		return nil, fmt.Errorf("version %d is not supported (2 or 3)", h.Version)
	}
	// A tensor info takes at least 8+1 (name) + 4 + 8 (one dim) + 4 + 8.
	nTensors, err := r.count("tensor count", 33)
	if err != nil {
		return nil, err
	}
	// A metadata entry takes at least 8+1 (key) + 4 + 1.
	nKV, err := r.count("metadata count", 14)
	if err != nil {
		return nil, err
	}
	if err := r.alloc("the metadata table", nKV*64+nTensors*128); err != nil {
		return nil, err
	}
	h.KVs = make([]KV, 0, nKV)
	for i := range nKV {
		key, err := r.str(fmt.Sprintf("metadata key %d", i), MaxKeyLen)
		if err != nil {
			return nil, err
		}
		if key == "" || !utf8.ValidString(key) {
			return nil, fmt.Errorf("metadata key %d is %q, want a non-empty UTF-8 name", i, key)
		}
		if _, dup := h.kv[key]; dup {
			return nil, fmt.Errorf("metadata key %q appears twice", key)
		}
		v, err := r.value(key)
		if err != nil {
			return nil, err
		}
		h.kv[key] = len(h.KVs)
		h.KVs = append(h.KVs, KV{key, v})
	}
	if v, ok := h.KV("general.alignment"); ok {
		a, ok := v.V.(uint64)
		if !ok || v.Type != TypeUint32 {
			return nil, fmt.Errorf("general.alignment is a %s, want uint32", valueTypeName(v.Type))
		}
		if a == 0 || a&(a-1) != 0 || a > 1<<20 {
			return nil, fmt.Errorf("general.alignment is %d, want a power of two up to 1 MiB", a)
		}
		h.Alignment = int64(a)
	}
	h.Tensors = make([]TensorInfo, 0, nTensors)
	for i := range nTensors {
		t, err := r.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := h.byName[t.Name]; dup {
			return nil, fmt.Errorf("tensor %s appears twice", t.Name)
		}
		h.byName[t.Name] = len(h.Tensors)
		h.Tensors = append(h.Tensors, t)
	}
	h.DataStart = (r.off + h.Alignment - 1) / h.Alignment * h.Alignment
	if h.DataStart > size {
		return nil, fmt.Errorf("the data section would start at %d (offset %d aligned to %d), past the end of the %d-byte file", h.DataStart, r.off, h.Alignment, size)
	}
	if err := checkLayout(h, size-h.DataStart); err != nil {
		return nil, err
	}
	return h, nil
}

func (r *reader) tensorInfo(i int64) (TensorInfo, error) {
	name, err := r.str(fmt.Sprintf("tensor %d name", i), MaxNameLen)
	if err != nil {
		return TensorInfo{}, err
	}
	if name == "" || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return TensorInfo{}, fmt.Errorf("tensor %d: name %q, want a non-empty UTF-8 name", i, name)
	}
	what := "tensor " + name
	nd, err := r.u32(what + " n_dims")
	if err != nil {
		return TensorInfo{}, err
	}
	if nd < 1 || nd > MaxDims {
		return TensorInfo{}, fmt.Errorf("%s: n_dims is %d, want 1..%d", what, nd, MaxDims)
	}
	t := TensorInfo{Name: name, Dims: make([]int64, nd)}
	for d := range t.Dims {
		v, err := r.u64(fmt.Sprintf("%s dimension %d", what, d))
		if err != nil {
			return TensorInfo{}, err
		}
		if v < 1 || v > math.MaxInt64 {
			return TensorInfo{}, fmt.Errorf("%s: dimension %d is %d, want >= 1", what, d, v)
		}
		t.Dims[d] = int64(v)
	}
	typ, err := r.u32(what + " type")
	if err != nil {
		return TensorInfo{}, err
	}
	t.Type = Type(typ)
	if t.Type.Size() == 0 && !t.Type.Quantized() {
		if _, known := typeNames[t.Type]; !known {
			return TensorInfo{}, fmt.Errorf("%s: type %d is unknown (supported: %s)", what, typ, Supported)
		}
		return TensorInfo{}, fmt.Errorf("%s: type %v is not supported (%s)", what, t.Type, Supported)
	}
	off, err := r.u64(what + " offset")
	if err != nil {
		return TensorInfo{}, err
	}
	if off > math.MaxInt64 {
		return TensorInfo{}, fmt.Errorf("%s: offset %d is out of range", what, off)
	}
	t.Offset = int64(off)
	n, ok := budget.Elements(t.Dims...)
	if bb := t.Type.BlockBytes(); bb != 0 {
		// Rows (ne0, innermost) are whole blocks, as ggml requires.
		if t.Dims[0]%BlockLen != 0 {
			return TensorInfo{}, fmt.Errorf("%s: %v rows of %d elements are not whole blocks of %d", what, t.Type, t.Dims[0], BlockLen)
		}
		if ok {
			t.Size, ok = budget.Bytes(n/BlockLen, bb)
		}
	} else if ok {
		t.Size, ok = budget.Bytes(n, t.Type.Size())
	}
	if !ok {
		return TensorInfo{}, fmt.Errorf("%s: %v %v overflows int64 bytes", what, t.Type, t.Dims)
	}
	return t, nil
}

// checkLayout: every tensor aligned and inside the data section of
// dataLen bytes, no two overlapping.
func checkLayout(h *Header, dataLen int64) error {
	order := make([]int, len(h.Tensors))
	for i := range order {
		order[i] = i
	}
	for _, t := range h.Tensors {
		if t.Offset%h.Alignment != 0 {
			return fmt.Errorf("tensor %s: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, h.Alignment)
		}
		if t.Offset > dataLen || t.Size > dataLen-t.Offset {
			return fmt.Errorf("tensor %s: %d bytes at offset %d run past the data section's %d bytes (truncated?)", t.Name, t.Size, t.Offset, dataLen)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := h.Tensors[a], h.Tensors[b]
		if ta.Offset != tb.Offset {
			return cmpInt(ta.Offset, tb.Offset)
		}
		return cmpInt(ta.Size, tb.Size)
	})
	for k := 1; k < len(order); k++ {
		prev, t := h.Tensors[order[k-1]], h.Tensors[order[k]]
		if prev.Offset+prev.Size > t.Offset {
			return fmt.Errorf("tensor %s (bytes %d..%d) overlaps tensor %s (bytes %d..%d)", t.Name, t.Offset, t.Offset+t.Size, prev.Name, prev.Offset, prev.Offset+prev.Size)
		}
	}
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// value reads one metadata value of key.
func (r *reader) value(key string) (Value, error) {
	typ, err := r.u32(key + " value type")
	if err != nil {
		return Value{}, err
	}
	if typ != TypeArray {
		v, err := r.scalar(key, typ)
		return Value{Type: typ, V: v}, err
	}
	elem, err := r.u32(key + " array element type")
	if err != nil {
		return Value{}, err
	}
	if elem == TypeArray {
		return Value{}, fmt.Errorf("metadata %s: arrays of arrays are not supported", key)
	}
	min := valueSize(elem)
	if elem == TypeString {
		min = 8
	}
	if min == 0 {
		return Value{}, fmt.Errorf("metadata %s: array element type %s", key, valueTypeName(elem))
	}
	n, err := r.count(key+" array length", min)
	if err != nil {
		return Value{}, err
	}
	if err := r.alloc("metadata "+key, n*24); err != nil {
		return Value{}, err
	}
	v := Value{Type: TypeArray, Elem: elem}
	switch elem {
	case TypeString:
		a := make([]string, n)
		for i := range a {
			if a[i], err = r.str(key, r.left()); err != nil {
				return Value{}, err
			}
		}
		v.V = a
		return v, nil
	}
	// Fixed-size elements: one read, decoded in place.
	b, err := r.read(n*min, key)
	if err != nil {
		return Value{}, err
	}
	switch elem {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		a := make([]uint64, n)
		for i := range a {
			a[i] = decodeUint(b[int64(i)*min:], min)
		}
		v.V = a
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		a := make([]int64, n)
		for i := range a {
			a[i] = decodeInt(b[int64(i)*min:], min)
		}
		v.V = a
	case TypeFloat32, TypeFloat64:
		a := make([]float64, n)
		for i := range a {
			a[i] = decodeFloat(b[int64(i)*min:], min)
		}
		v.V = a
	case TypeBool:
		a := make([]bool, n)
		for i := range a {
			if b[i] > 1 {
				return Value{}, fmt.Errorf("metadata %s: bool element %d is %d, want 0 or 1", key, i, b[i])
			}
			a[i] = b[i] == 1
		}
		v.V = a
	}
	return v, nil
}

func (r *reader) scalar(key string, typ uint32) (any, error) {
	if typ == TypeString {
		return r.str("metadata "+key, r.left())
	}
	n := valueSize(typ)
	if n == 0 {
		return nil, fmt.Errorf("metadata %s: value type %s", key, valueTypeName(typ))
	}
	b, err := r.read(n, "metadata "+key)
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return decodeUint(b, n), nil
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return decodeInt(b, n), nil
	case TypeFloat32, TypeFloat64:
		return decodeFloat(b, n), nil
	}
	if b[0] > 1 {
		return nil, fmt.Errorf("metadata %s: bool is %d, want 0 or 1", key, b[0])
	}
	return b[0] == 1, nil
}

func decodeUint(b []byte, n int64) uint64 {
	switch n {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func decodeInt(b []byte, n int64) int64 {
	switch n {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	}
	return int64(binary.LittleEndian.Uint64(b))
}

func decodeFloat(b []byte, n int64) float64 {
	if n == 4 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b))
}
