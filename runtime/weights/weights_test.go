package weights

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/bf16"
	"github.com/irc-compiler/irc/ir/safetensors"
)

func TestLoadChecksShapeAndDType(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 12)
	bf16.Encode(data, []float32{1, 2, 3, 4, 5, 6})
	err := safetensors.Write(filepath.Join(dir, "w.safetensors"), []safetensors.WriteTensor{
		{Name: "a", DType: safetensors.BF16, Shape: []int64{2, 3}, Data: data},
		{Name: "ints", DType: "I32", Shape: []int64{3}, Data: make([]byte, 12)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := &ir.Weight{Value: &ir.Value{Name: "a", Type: ir.T(ir.BF16, 2, 3)}, File: "w.safetensors", Tensor: "a"}
	files := Open(dir)
	defer files.Close()
	v, err := files.Load(good)
	if err != nil || len(v) != 6 || v[5] != 6 {
		t.Fatalf("load: %v %v", v, err)
	}
	cases := []struct {
		w    *ir.Weight
		want string
	}{
		{&ir.Weight{Value: &ir.Value{Name: "a", Type: ir.T(ir.BF16, 3, 2)}, File: "w.safetensors", Tensor: "a"}, "has shape [2,3], the model expects [3,2]"},
		{&ir.Weight{Value: &ir.Value{Name: "i", Type: ir.T(ir.BF16, 3)}, File: "w.safetensors", Tensor: "ints"}, "has dtype I32"},
		{&ir.Weight{Value: &ir.Value{Name: "b", Type: ir.T(ir.BF16, 3)}, File: "w.safetensors", Tensor: "b"}, `no tensor "b"`},
		{&ir.Weight{Value: &ir.Value{Name: "c", Type: ir.T(ir.BF16, 3)}, File: "x.safetensors", Tensor: "c"}, "no such file"},
	}
	for _, c := range cases {
		if _, err := files.Load(c.w); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "@"+c.w.Value.Name) {
			t.Errorf("got %v, want an error naming @%s and containing %q", err, c.w.Value.Name, c.want)
		}
	}
}
