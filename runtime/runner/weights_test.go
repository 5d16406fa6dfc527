package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/schedule"
)

func TestCheckpointErrorsNameTheWeight(t *testing.T) {
	dir := t.TempDir()
	err := safetensors.Write(filepath.Join(dir, "m.safetensors"), []safetensors.WriteTensor{
		{Name: "w", DType: safetensors.BF16, Shape: []int64{2, 3}, Data: make([]byte, 12)},
		{Name: "f", DType: safetensors.F32, Shape: []int64{3}, Data: make([]byte, 12)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := OpenCheckpoint(dir)
	defer c.Close()
	good := schedule.Buffer{Name: "layer.w", Kind: schedule.Weight, DType: schedule.BF16, Shape: []int64{2, 3}, Bytes: 12, File: "m.safetensors", Tensor: "w"}
	if data, err := c.Load(&good); err != nil || len(data) != 12 {
		t.Fatalf("good weight: %d bytes, %v", len(data), err)
	}
	for _, tc := range []struct {
		name string
		edit func(b *schedule.Buffer)
		want []string
	}{
		{"missing file", func(b *schedule.Buffer) { b.File = "absent.safetensors" }, []string{"@layer.w", "absent.safetensors", "--weights"}},
		{"missing tensor", func(b *schedule.Buffer) { b.Tensor = "nope" }, []string{"@layer.w", `"nope"`}},
		{"wrong shape", func(b *schedule.Buffer) { b.Shape = []int64{3, 2} }, []string{"@layer.w", "shape [2,3]", "expects [3,2]"}},
		{"wrong dtype", func(b *schedule.Buffer) { b.Tensor, b.Shape, b.DType = "f", []int64{3}, schedule.BF16 }, []string{"@layer.w", "dtype F32", "compiled for BF16"}},
	} {
		b := good
		tc.edit(&b)
		_, err := c.Load(&b)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// WriteNpy is read back by an independent .npy reader.
func TestWriteNpyReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	rows := [][]float32{{1, 2, 3}, {4, 5, 6.5}}
	if err := WriteNpy(path, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var back []float32
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Descr.Shape[0] != 2 || r.Header.Descr.Shape[1] != 3 {
		t.Fatalf("shape %v", r.Header.Descr.Shape)
	}
	if err := r.Read(&back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 6 || back[5] != 6.5 || back[3] != 4 {
		t.Fatalf("read back %v", back)
	}
	if err := WriteNpy(path, [][]float32{{1}, {1, 2}}); err == nil {
		t.Fatal("ragged rows written")
	}
}
