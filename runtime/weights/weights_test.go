package weights

import (
	"os"
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
		{Name: "half", DType: safetensors.F16, Shape: []int64{2, 3}, Data: make([]byte, 12)},
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
		{&ir.Weight{Value: &ir.Value{Name: "a", Type: ir.T(ir.BF16, 3, 2)}, File: "w.safetensors", Tensor: "a"}, "has shape [2,3], the model declares [3,2]"},
		{&ir.Weight{Value: &ir.Value{Name: "i", Type: ir.T(ir.BF16, 3)}, File: "w.safetensors", Tensor: "ints"}, "has dtype I32, the model declares BF16"},
		// Issue 12, class 8: an F16 checkpoint for a model declared bf16
		// used to load here (decoded to float32) while the runners refused it.
		{&ir.Weight{Value: &ir.Value{Name: "h", Type: ir.T(ir.BF16, 2, 3)}, File: "w.safetensors", Tensor: "half"}, `tensor "half" in ` + filepath.Join(dir, "w.safetensors") + " has dtype F16, the model declares BF16"},
		{&ir.Weight{Value: &ir.Value{Name: "n", Type: ir.T(ir.I32, 3)}, File: "w.safetensors", Tensor: "ints"}, "the model declares dtype i32, but weights are read from checkpoints only as bf16, f16, f32, q8_0 or q4_0"},
		{&ir.Weight{Value: &ir.Value{Name: "b", Type: ir.T(ir.BF16, 3)}, File: "w.safetensors", Tensor: "b"}, `no tensor "b"`},
		{&ir.Weight{Value: &ir.Value{Name: "c", Type: ir.T(ir.BF16, 3)}, File: "x.safetensors", Tensor: "c"}, "no such file"},
	}
	for _, c := range cases {
		if _, err := files.Load(c.w); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "weight @"+c.w.Value.Name+": ") {
			t.Errorf("got %v, want an error naming @%s and containing %q", err, c.w.Value.Name, c.want)
		}
	}
}

// Issue 12, class 6: a weight file outside the folder (here a valid
// checkpoint next to it) is refused unless AllowOutside.
func TestLoadStaysInside(t *testing.T) {
	base := t.TempDir()
	model, outside := filepath.Join(base, "model"), filepath.Join(base, "outside")
	os.Mkdir(model, 0o755)
	os.Mkdir(outside, 0o755)
	secret := filepath.Join(outside, "secret.safetensors")
	if err := safetensors.Write(secret, []safetensors.WriteTensor{{Name: "w", DType: safetensors.BF16, Shape: []int64{2}, Data: make([]byte, 4)}}, nil); err != nil {
		t.Fatal(err)
	}
	w := &ir.Weight{Value: &ir.Value{Name: "w", Type: ir.T(ir.BF16, 2)}, File: "../outside/secret.safetensors", Tensor: "w"}
	files := Open(model)
	defer files.Close()
	_, err := files.Load(w)
	if want := "weight @w: weight file ../outside/secret.safetensors leads to " + secret + ", outside the folder " + model; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	w.File = filepath.ToSlash(secret)
	if _, err := files.Load(w); err == nil || !strings.Contains(err.Error(), "is an absolute path") {
		t.Errorf("absolute: %v", err)
	}
	trusting := OpenWith(model, safetensors.FolderOptions{AllowOutside: true})
	defer trusting.Close()
	for _, file := range []string{"../outside/secret.safetensors", filepath.ToSlash(secret)} {
		w.File = file
		if v, err := trusting.Load(w); err != nil || len(v) != 2 {
			t.Errorf("AllowOutside %s: %v %v", file, v, err)
		}
	}
}
