// Package gguf writes GGUF files (version 3), the container llama.cpp loads,
// so that an independent implementation can run the very weights irc runs.
// Only what the peer benchmark and the GGUF import tests need is here: metadata of the scalar, string
// and array types, and tensors stored as given (F32, F16, BF16, and ggml's
// Q8_0 and Q4_0 blocks).
//
// Layout (little-endian): "GGUF", version, tensor count, metadata count;
// the metadata (key, type, value); one info per tensor (name, dimensions
// innermost first, type, offset into the data section); padding to the
// alignment; the data section, each tensor at an aligned offset.
package gguf

import (
	"bufio"

	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	irgguf "github.com/irc-compiler/irc/ir/gguf"
)

// Version is the GGUF version written.
const Version = 3

// Alignment is the data alignment (general.alignment's default, not
// written).
const Alignment = 32

// Type is a ggml tensor type: the reader's (ir/gguf), so the writer and
// the reader share one table of ids, sizes and names.
type Type = irgguf.Type

// The ggml types this package writes.
const (
	F32  = irgguf.F32
	F16  = irgguf.F16
	Q4_0 = irgguf.Q4_0
	Q8_0 = irgguf.Q8_0
	BF16 = irgguf.BF16
)

// Metadata value types, as the reader knows them.
const (
	typeUint32  = irgguf.TypeUint32
	typeInt32   = irgguf.TypeInt32
	typeFloat32 = irgguf.TypeFloat32
	typeBool    = irgguf.TypeBool
	typeString  = irgguf.TypeString
	typeArray   = irgguf.TypeArray
	typeUint64  = irgguf.TypeUint64
)

// KV is one metadata entry. Value is a uint32, int32, float32, bool,
// string, uint64, []string, []float32 or []int32; llama.cpp checks each
// key's type, so counts are uint32 and hyperparameters float32.
type KV struct {
	Key   string
	Value any
}

// Tensor is one tensor: Dims innermost first, as ggml counts them (a
// PyTorch [out, in] matrix is Dims {in, out}, with the same bytes), and its
// Data in Type.
type Tensor struct {
	Name string
	Type Type
	Dims []int64
	Data []byte
}

// Bytes is the size Dims and Type give (a quantized type's rows, Dims[0],
// are whole blocks of 32; -1 if they are not).
func (t Tensor) Bytes() int64 {
	n := t.Type.Size()
	if bb := t.Type.BlockBytes(); bb != 0 {
		if len(t.Dims) == 0 || t.Dims[0]%32 != 0 {
			return -1
		}
		n = bb
		dims := append([]int64{t.Dims[0] / 32}, t.Dims[1:]...)
		for _, d := range dims {
			n *= d
		}
		return n
	}
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

func pad(n int64) int64 { return (n + Alignment - 1) / Alignment * Alignment }

// WriteFile writes a GGUF file at path.
func WriteFile(path string, kvs []KV, tensors []Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, kvs, tensors); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// Write writes a GGUF file to w. It refuses a tensor whose data does not
// have the size its dimensions and type give, a metadata value of a type
// it cannot write, and a name twice.
func Write(w io.Writer, kvs []KV, tensors []Tensor) error {
	seen := map[string]bool{}
	for _, kv := range kvs {
		if seen["kv:"+kv.Key] {
			return fmt.Errorf("metadata key %q twice", kv.Key)
		}
		seen["kv:"+kv.Key] = true
	}
	for _, t := range tensors {
		if t.Type.Size() == 0 && t.Type.BlockBytes() == 0 {
			return fmt.Errorf("tensor %s: type %v is not written", t.Name, t.Type)
		}
		if int64(len(t.Data)) != t.Bytes() {
			return fmt.Errorf("tensor %s: %d bytes of data, %v %v is %d", t.Name, len(t.Data), t.Type, t.Dims, t.Bytes())
		}
		if seen["t:"+t.Name] {
			return fmt.Errorf("tensor %s twice", t.Name)
		}
		seen["t:"+t.Name] = true
	}
	e := &encoder{w: bufio.NewWriterSize(w, 1<<20)}
	e.raw([]byte("GGUF"))
	e.u32(Version)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.str(kv.Key)
		if err := e.value(kv.Value); err != nil {
			return fmt.Errorf("metadata %s: %w", kv.Key, err)
		}
	}
	var offset int64
	for _, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.Type))
		e.u64(uint64(offset))
		offset = pad(offset + t.Bytes())
	}
	e.zeros(pad(e.n) - e.n)
	start := e.n
	for _, t := range tensors {
		e.raw(t.Data)
		e.zeros(pad(e.n-start) - (e.n - start))
	}
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err != nil {
		return
	}
	var k int
	k, e.err = e.w.Write(b)
	e.n += int64(k)
}

func (e *encoder) zeros(n int64) { e.raw(make([]byte, n)) }

func (e *encoder) u32(v uint32) { e.raw(binary.LittleEndian.AppendUint32(nil, v)) }
func (e *encoder) u64(v uint64) { e.raw(binary.LittleEndian.AppendUint64(nil, v)) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case uint32:
		e.u32(typeUint32)
		e.u32(v)
	case int32:
		e.u32(typeInt32)
		e.u32(uint32(v))
	case float32:
		e.u32(typeFloat32)
		e.u32(math.Float32bits(v))
	case bool:
		e.u32(typeBool)
		b := byte(0)
		if v {
			b = 1
		}
		e.raw([]byte{b})
	case string:
		e.u32(typeString)
		e.str(v)
	case uint64:
		e.u32(typeUint64)
		e.u64(v)
	case []string:
		e.u32(typeArray)
		e.u32(typeString)
		e.u64(uint64(len(v)))
		for _, s := range v {
			e.str(s)
		}
	case []float32:
		e.u32(typeArray)
		e.u32(typeFloat32)
		e.u64(uint64(len(v)))
		for _, x := range v {
			e.u32(math.Float32bits(x))
		}
	case []int32:
		e.u32(typeArray)
		e.u32(typeInt32)
		e.u64(uint64(len(v)))
		for _, x := range v {
			e.u32(uint32(x))
		}
	default:
		return fmt.Errorf("cannot write a %T", v)
	}
	return nil
}

func appendF32(b []byte, x float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
}
