package gguf

import (
	"encoding/binary"
	"math"
)

// gb builds GGUF bytes field by field, so tests can write any malformed
// file.
type gb struct{ b []byte }

func (g *gb) u32(v uint32) *gb             { g.b = binary.LittleEndian.AppendUint32(g.b, v); return g }
func (g *gb) u64(v uint64) *gb             { g.b = binary.LittleEndian.AppendUint64(g.b, v); return g }
func (g *gb) str(s string) *gb             { g.u64(uint64(len(s))); g.b = append(g.b, s...); return g }
func (g *gb) raw(b ...byte) *gb            { g.b = append(g.b, b...); return g }
func (g *gb) kvStr(k, v string) *gb        { return g.str(k).u32(TypeString).str(v) }
func (g *gb) kvU32(k string, v uint32) *gb { return g.str(k).u32(TypeUint32).u32(v) }
func (g *gb) kvF32(k string, v float32) *gb {
	return g.str(k).u32(TypeFloat32).u32(math.Float32bits(v))
}
func (g *gb) start(version uint32, tensors, kvs uint64) *gb {
	return g.raw('G', 'G', 'U', 'F').u32(version).u64(tensors).u64(kvs)
}
func (g *gb) tensor(name string, typ Type, off uint64, dims ...uint64) *gb {
	g.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		g.u64(d)
	}
	return g.u32(uint32(typ)).u64(off)
}

// pad aligns to a (the data section's start) and appends n data bytes.
func (g *gb) data(a, n int) []byte {
	for len(g.b)%a != 0 {
		g.b = append(g.b, 0)
	}
	for i := range n {
		g.b = append(g.b, byte(i))
	}
	return g.b
}

// goodFile is a small valid file: metadata of every scalar type and an
// array, an F32 [2,3] matrix and an F16 vector, at aligned offsets.
func goodFile() []byte {
	g := (&gb{}).start(3, 2, 5)
	g.kvStr("general.architecture", "llama")
	g.kvU32("llama.attention.head_count", 1)
	g.kvF32("llama.rope.freq_base", 10000)
	g.str("tokenizer.ggml.tokens").u32(TypeArray).u32(TypeString).u64(2).str("a").str("bc")
	g.str("x.bool").u32(TypeBool).raw(1)
	g.tensor("m", F32, 0, 3, 2)
	g.tensor("v", F16, 32, 4)
	return g.data(32, 40)
}
