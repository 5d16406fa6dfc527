package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/gguf"
)

// IsGGUF reports whether a weight file is read as GGUF (by its name: the
// weight table names the files the importer bound).
func IsGGUF(file string) bool { return strings.HasSuffix(strings.ToLower(file), ".gguf") }

// OpenGGUF opens a GGUF file from outside (a regular file, see OpenInput)
// and validates its header (gguf.Parse).
func OpenGGUF(path string) (*gguf.File, error) { return openGGUF(path, path) }

func openGGUF(open, shown string) (*gguf.File, error) {
	f, size, err := openInput(open, shown)
	if err != nil {
		return nil, err
	}
	g, err := gguf.NewFile(f, size, shown)
	if err != nil {
		f.Close()
		return nil, err
	}
	return g, nil
}

var ggufDTypes = map[gguf.Type]DType{gguf.F32: F32, gguf.F16: F16, gguf.BF16: BF16}

// ggufQuant maps the IR's quantized dtypes to the GGUF types with the
// same blocks.
var ggufQuant = map[string]gguf.Type{"q8_0": gguf.Q8_0, "q4_0": gguf.Q4_0}

// GGUFInfo describes a GGUF tensor in safetensors' terms (row-major shape,
// dtype, byte range relative to the data section) and checks it against
// what the model declares (irDType as the IR spells it, shape in
// elements), as TensorInfo.Check does for safetensors, with one
// allowance: a vector stored as F32 (llama.cpp's converter stores norms
// and biases as F32 whatever the model's type) is accepted for a BF16 or
// F16 model, and GGUFTensor converts it, refusing any value that the
// declared dtype cannot hold exactly. The returned info has the declared
// dtype in that case. A quantized weight (q8_0, q4_0) must be a tensor of
// the same GGUF type (Q8_0, Q4_0) and shape; its info is the storage
// IRStorage gives (U8 [N, K/32 * block bytes]), the same bytes.
func GGUFInfo(g *gguf.File, name, irDType string, shape []int64) (TensorInfo, error) {
	t, ok := g.Tensor(name)
	if !ok {
		return TensorInfo{}, errNoTensor(g.Path(), name)
	}
	info := TensorInfo{Name: name, DType: ggufDTypes[t.Type], Shape: t.Shape(), File: g.Path(), Begin: t.Offset, End: t.Offset + t.Size}
	want, isQuant := ggufQuant[irDType]
	switch {
	case isQuant || t.Type.Quantized():
		if t.Type != want {
			return info, fmt.Errorf("tensor %q in %s is %v, the model declares %s", name, g.Path(), t.Type, irDType)
		}
		if !slices.Equal(info.Shape, shape) {
			return info, fmt.Errorf("tensor %q in %s has shape %s, the model declares %s", name, g.Path(), formatShape(info.Shape), formatShape(shape))
		}
		st, stShape, err := IRStorage(irDType, shape)
		if err != nil {
			return info, fmt.Errorf("tensor %q in %s: %w", name, g.Path(), err)
		}
		info.DType, info.Shape = st, stShape
		return info, info.Check(st, stShape)
	}
	dtype, err := IRDType(irDType)
	if err != nil {
		return info, err
	}
	if info.DType == F32 && dtype != F32 && (dtype == BF16 || dtype == F16) && len(shape) == 1 {
		if err := info.Check(F32, shape); err != nil {
			return info, err
		}
		info.DType = dtype
		return info, nil
	}
	return info, info.Check(dtype, shape)
}

// GGUFTensor returns the bytes of a GGUF tensor as the model declares it
// (irDType and shape as in GGUFInfo): row-major (ggml's dims reversed,
// which is the same bytes; a quantized row is its blocks), with
// llama.cpp's q/k permutation undone for llama models (gguf.File.Rows,
// whole rows, so whole blocks), and an F32 vector converted exactly to a
// 16-bit dtype (see GGUFInfo). Unless something was converted or
// unpermuted, the bytes are a view into the mapped file.
func GGUFTensor(g *gguf.File, name, irDType string, shape []int64) ([]byte, TensorInfo, error) {
	info, err := GGUFInfo(g, name, irDType, shape)
	if err != nil {
		return nil, info, err
	}
	data, err := g.Rows(name)
	if err != nil {
		return nil, info, err
	}
	if t, _ := g.Tensor(name); !t.Type.Quantized() && ggufDTypes[t.Type] != info.DType {
		dtype := info.DType
		if err := budget.Check(fmt.Sprintf("%s: tensor %s as %s", g.Path(), name, dtype), int64(len(data)/2)); err != nil {
			return nil, info, err
		}
		out, err := narrowExact(data, dtype)
		if err != nil {
			return nil, info, fmt.Errorf("%s: tensor %s is F32 and the model declares %s: %w", g.Path(), name, dtype, err)
		}
		data = out
	}
	return data, info, nil
}

// narrowExact converts F32 bytes to BF16 or F16, failing at the first
// value the narrower type does not hold exactly.
func narrowExact(data []byte, dtype DType) ([]byte, error) {
	out := make([]byte, len(data)/2)
	for i := range len(data) / 4 {
		bits := binary.LittleEndian.Uint32(data[4*i:])
		var h uint16
		ok := false
		if dtype == BF16 {
			h, ok = uint16(bits>>16), bits&0xffff == 0
		} else {
			h, ok = f16Exact(math.Float32frombits(bits))
		}
		if !ok {
			return nil, fmt.Errorf("element %d (%g) is not exactly a %s value", i, math.Float32frombits(bits), dtype)
		}
		binary.LittleEndian.PutUint16(out[2*i:], h)
	}
	return out, nil
}

// f16Exact is x as IEEE half-precision bits, if x is exactly one (NaN is
// refused).
func f16Exact(x float32) (uint16, bool) {
	bits := math.Float32bits(x)
	sign := uint16(bits>>16) & 0x8000
	a := math.Abs(float64(x))
	switch {
	case a == 0:
		return sign, true
	case math.IsInf(float64(x), 0):
		return sign | 0x7c00, true
	case a != a:
		return 0, false
	}
	// a = m * 2^e with m an integer of at most 11 bits, e >= -24.
	frac, exp := math.Frexp(a) // a = frac * 2^exp, frac in [0.5, 1)
	if exp > 16 {
		return 0, false
	}
	if exp >= -13 { // normal: 2^-14 <= a < 2^16
		m := frac * 2048 // 11 significant bits
		if m != math.Trunc(m) {
			return 0, false
		}
		return sign | uint16(exp+14)<<10 | uint16(m)&0x3ff, true
	}
	m := a * (1 << 24) // subnormal: a = m * 2^-24, m < 1024
	if m != math.Trunc(m) {
		return 0, false
	}
	return sign | uint16(m), true
}
