package safetensors

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/x448/float16"

	"github.com/irc-compiler/irc/ir/bf16"
)

// DecodeFloat32 converts little-endian BF16, F16 or F32 bytes to a new
// float32 slice. The conversion is exact: every value of those types is a
// float32. Other dtypes are refused, naming the ones it accepts.
func DecodeFloat32(d DType, data []byte) ([]float32, error) {
	if !d.isFloat() {
		return nil, fmt.Errorf("dtype %s cannot be decoded to float32 (supported: BF16, F16, F32)", d)
	}
	size := d.Size()
	if len(data)%size != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s values", len(data), d)
	}
	out := make([]float32, len(data)/size)
	var decode func([]float32, []byte)
	switch d {
	case BF16:
		decode = bf16.Decode
	case F16:
		decode = decodeF16
	case F32:
		decode = decodeF32
	}
	parallel(len(out), func(lo, hi int) { decode(out[lo:hi], data[lo*size:hi*size]) })
	return out, nil
}

// parallelMin is the element count below which one goroutine is faster
// than starting several.
const parallelMin = 1 << 18

// parallel runs f over [0, n) in one contiguous chunk per CPU. Decoding a
// large tensor is bound by memory bandwidth and by faulting in the pages of
// the fresh output slice, and both scale with cores.
func parallel(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}

// f16Table maps every float16 bit pattern to its float32 value. One 256 KiB
// lookup is about three times faster than converting bit by bit, and
// building it with x448/float16 keeps that library the single source of
// truth for the conversion.
var f16Table = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = float16.Frombits(uint16(i)).Float32()
	}
	return &t
})

// decodeF16 widens little-endian float16; len(src) must be 2*len(dst).
func decodeF16(dst []float32, src []byte) {
	t := f16Table()
	src = src[:2*len(dst)]
	for i := range dst {
		b := src[2*i : 2*i+2 : 2*i+2] // lets the compiler drop bounds checks
		dst[i] = t[uint16(b[0])|uint16(b[1])<<8]
	}
}

// decodeF32 reads little-endian float32; len(src) must be 4*len(dst). It
// converts bytes rather than reinterpreting the memory, because tensor
// offsets need not be 4-byte aligned.
func decodeF32(dst []float32, src []byte) {
	src = src[:4*len(dst)]
	for i := range dst {
		b := src[4*i : 4*i+4 : 4*i+4]
		dst[i] = math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
}
