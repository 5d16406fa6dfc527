package weights

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/ref"
)

// A q8_0 and a q4_0 weight in a safetensors file (U8 [N, K/32 * block
// bytes]) load dequantized exactly, and ref's linear and embedding compute
// with those values.
func TestQuantizedWeightsLoadAndRun(t *testing.T) {
	dir := t.TempDir()
	// q8_0 [2, 32]: row 0 scale -0.5 with quants -128, 127, 0...; row 1
	// scale 2^-24 (a float16 subnormal) with quants 127 everywhere.
	q8 := make([]byte, 2*34)
	q8[0], q8[1], q8[2], q8[3] = 0x00, 0xb8, 0x80, 0x7f
	q8[34], q8[35] = 0x01, 0x00
	for j := range 32 {
		q8[34+2+j] = 127
	}
	// q4_0 [3, 32] (an embedding table): row r scale 1, 2, 0 (negative
	// zero for the last); nibble 0 in element 0, 15 in element 16.
	q4 := make([]byte, 3*18)
	for r, scale := range []uint16{0x3c00, 0x4000, 0x8000} {
		b := q4[r*18:]
		b[0], b[1] = byte(scale), byte(scale>>8)
		for j := range 16 {
			b[2+j] = 0x88
		}
		b[2] = 0xf0
	}
	err := safetensors.Write(filepath.Join(dir, "q.safetensors"), []safetensors.WriteTensor{
		{Name: "w8", DType: "U8", Shape: []int64{2, 34}, Data: q8},
		{Name: "t4", DType: "U8", Shape: []int64{3, 18}, Data: q4},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &ir.Model{}
	w8 := m.AddWeight("w8", ir.T(ir.Q8_0, 2, 32), "q.safetensors", "w8")
	t4 := m.AddWeight("t4", ir.T(ir.Q4_0, 3, 32), "q.safetensors", "t4")
	g := m.NewGraph("g")
	ids := g.AddInput("ids", ir.T(ir.I32, 2))
	b := ir.NewBuilder(m, g)
	x := b.Op("embedding", ir.Attrs{"dtype": ir.F32}, t4, ids)
	g.Outputs = []*ir.Value{x, b.Op("linear", nil, x, w8)}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	files := Open(dir)
	defer files.Close()
	rt, err := ref.New(m, files)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := rt.Run("g", map[string]*ref.Tensor{"ids": ref.Ints(ir.I32, ir.Shape{2}, []int64{1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	emb, lin := outs[0].F, outs[1].F
	// Row 1 (scale 2): element 0 = (0-8)*2, element 16 = (15-8)*2, else 0.
	if emb[0] != -16 || emb[16] != 14 || emb[1] != 0 || emb[32] != 0 || emb[48] != 0 {
		t.Errorf("embedding: %v", emb)
	}
	// linear row 0: x . w8[0] = -16*(-128*-0.5) + 0 = -1024; x . w8[1] =
	// 2^-24*127*(-16+14).
	if want := float32(-16 * 64); lin[0] != want {
		t.Errorf("linear [0,0] = %g, want %g", lin[0], want)
	}
	if want := float32(127) * (-2) / (1 << 24); lin[1] != want {
		t.Errorf("linear [0,1] = %g, want %g", lin[1], want)
	}
	if lin[2] != 0 || lin[3] != 0 {
		t.Errorf("linear of the zero-scale row: %v", lin[2:])
	}
	// A file whose bytes do not match the declared blocks is refused.
	bad := &ir.Weight{Value: &ir.Value{Name: "b", Type: ir.T(ir.Q4_0, 2, 32)}, File: "q.safetensors", Tensor: "w8"}
	if _, err := files.Load(bad); err == nil || !strings.Contains(err.Error(), "has shape [2,34], the model declares [2,18]") {
		t.Errorf("q8_0 bytes read as q4_0: %v", err)
	}
}
