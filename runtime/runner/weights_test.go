package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/schedule"
	"github.com/irc-compiler/irc/runtime/weights"
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
		{"wrong shape", func(b *schedule.Buffer) { b.Shape = []int64{3, 2} }, []string{"@layer.w", "shape [2,3]", "declares [3,2]"}},
		{"wrong dtype", func(b *schedule.Buffer) { b.Tensor, b.Shape, b.DType = "f", []int64{3}, schedule.BF16 }, []string{"@layer.w", "dtype F32", "declares BF16"}},
		{"outside the folder", func(b *schedule.Buffer) { b.File = "../m.safetensors" }, []string{"@layer.w", "weight file ../m.safetensors leads to", "outside the folder", "--weights"}},
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

// Issue 12, classes 5, 6 and 8: the reference runtime (runtime/weights)
// and the runners (Checkpoint) read weights through one Folder and one
// check, so for every weight either both load the same bytes or both
// refuse it with the same line. (Before, an F16 tensor declared bf16 loaded
// on ref and failed here, and a weight file outside the folder loaded on
// both.)
func TestRefAndRunnerAgree(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "model"), filepath.Join(base, "outside")
	os.Mkdir(dir, 0o755)
	os.Mkdir(outside, 0o755)
	err := safetensors.Write(filepath.Join(dir, "m.safetensors"), []safetensors.WriteTensor{
		{Name: "bf", DType: safetensors.BF16, Shape: []int64{2, 3}, Data: make([]byte, 12)},
		{Name: "half", DType: safetensors.F16, Shape: []int64{2, 3}, Data: make([]byte, 12)},
		{Name: "f", DType: safetensors.F32, Shape: []int64{3}, Data: make([]byte, 12)},
		{Name: "ints", DType: "I32", Shape: []int64{3}, Data: make([]byte, 12)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret.safetensors")
	if err := safetensors.Write(secret, []safetensors.WriteTensor{{Name: "bf", DType: safetensors.BF16, Shape: []int64{2, 3}, Data: make([]byte, 12)}}, nil); err != nil {
		t.Fatal(err)
	}
	if os.Symlink(secret, filepath.Join(dir, "link.safetensors")) != nil {
		t.Log("no symlinks here")
	}
	if exec.Command("mkfifo", filepath.Join(dir, "pipe.safetensors")).Run() != nil {
		t.Log("no mkfifo here")
	}
	dtypes := map[schedule.DType]ir.DType{schedule.BF16: ir.BF16, schedule.F16: ir.F16, schedule.F32: ir.F32, schedule.I32: ir.I32}
	cases := []struct {
		file, tensor string
		dtype        schedule.DType
		shape        []int64
		want         string // "": loads
	}{
		{"m.safetensors", "bf", schedule.BF16, []int64{2, 3}, ""},
		{"m.safetensors", "half", schedule.F16, []int64{2, 3}, ""},
		{"m.safetensors", "f", schedule.F32, []int64{3}, ""},
		{"m.safetensors", "half", schedule.BF16, []int64{2, 3}, "has dtype F16, the model declares BF16"},
		{"m.safetensors", "bf", schedule.F32, []int64{2, 3}, "has dtype BF16, the model declares F32"},
		{"m.safetensors", "f", schedule.F32, []int64{1, 3}, "has shape [3], the model declares [1,3]"},
		{"m.safetensors", "ints", schedule.I32, []int64{3}, "the model declares dtype i32"},
		{"m.safetensors", "nope", schedule.BF16, []int64{3}, `no tensor "nope"`},
		{"absent.safetensors", "bf", schedule.BF16, []int64{2, 3}, "absent.safetensors: no such file"},
		{"../outside/secret.safetensors", "bf", schedule.BF16, []int64{2, 3}, "weight file ../outside/secret.safetensors leads to " + secret + ", outside the folder " + dir},
		{filepath.ToSlash(secret), "bf", schedule.BF16, []int64{2, 3}, "is an absolute path: it must be a path inside the folder " + dir},
		{"link.safetensors", "bf", schedule.BF16, []int64{2, 3}, "weight file link.safetensors is a symlink to " + secret},
		{"pipe.safetensors", "bf", schedule.BF16, []int64{2, 3}, "pipe.safetensors: is a named pipe (FIFO), not a regular file"},
	}
	files := weights.Open(dir)
	defer files.Close()
	ckpt := OpenCheckpoint(dir)
	defer ckpt.Close()
	for _, c := range cases {
		if _, err := os.Lstat(filepath.Join(dir, c.file)); err != nil && (strings.Contains(c.want, "FIFO") || strings.Contains(c.want, "symlink")) {
			continue // the platform could not make it
		}
		w := &ir.Weight{Value: &ir.Value{Name: "x", Type: ir.T(dtypes[c.dtype], c.shape...)}, File: c.file, Tensor: c.tensor}
		b := &schedule.Buffer{Name: "x", Kind: schedule.Weight, DType: c.dtype, Shape: c.shape, File: c.file, Tensor: c.tensor}
		var refErr, runErr error
		var raw []byte
		done := make(chan bool)
		go func() {
			_, refErr = files.Load(w)
			raw, runErr = ckpt.Load(b)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the readers blocked", c.file)
		}
		if c.want == "" {
			if n := ir.Shape(c.shape).NumElements() * b.DType.Size(); refErr != nil || runErr != nil || int64(len(raw)) != n {
				t.Errorf("%s %s: ref %v, runner %v", c.file, c.tensor, refErr, runErr)
			}
			continue
		}
		if refErr == nil || runErr == nil {
			t.Errorf("%s %s as %s%v: ref %v, runner %v; want both to refuse", c.file, c.tensor, c.dtype, c.shape, refErr, runErr)
			continue
		}
		if !strings.Contains(refErr.Error(), c.want) || strings.Contains(refErr.Error(), "\n") {
			t.Errorf("ref: %q does not contain %q", refErr, c.want)
		}
		if !strings.HasPrefix(runErr.Error(), refErr.Error()) {
			t.Errorf("the readers disagree:\nref    %s\nrunner %s", refErr, runErr)
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

// A packed weight (merge_projections' concat of weights, one buffer) is
// its parts side by side: from a checkpoint and from --random-weights it
// holds exactly the bytes its parts load alone (random weights are drawn
// per part name, as the reference runtime draws them per weight), and a
// missing part is named with the buffer it belongs to.
func TestPackedWeightsAreTheirParts(t *testing.T) {
	dir := t.TempDir()
	data := func(n, seed int) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = byte(i*7 + seed)
		}
		return out
	}
	err := safetensors.Write(filepath.Join(dir, "m.safetensors"), []safetensors.WriteTensor{
		{Name: "q", DType: safetensors.BF16, Shape: []int64{2, 3}, Data: data(12, 1)},
		{Name: "k", DType: safetensors.BF16, Shape: []int64{1, 3}, Data: data(6, 2)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	single := func(name, tensor string, rows int64) *schedule.Buffer {
		return &schedule.Buffer{Name: name, Kind: schedule.Weight, DType: schedule.BF16, Shape: []int64{rows, 3}, Bytes: rows * 6, File: "m.safetensors", Tensor: tensor}
	}
	q, k := single("l.q", "q", 2), single("l.k", "k", 1)
	packed := &schedule.Buffer{Name: "l.qk", Kind: schedule.Weight, DType: schedule.BF16, Shape: []int64{3, 3}, Bytes: 18, Parts: []schedule.Part{
		{Name: "l.q", File: "m.safetensors", Tensor: "q", Shape: []int64{2, 3}, Offset: 0},
		{Name: "l.k", File: "m.safetensors", Tensor: "k", Shape: []int64{1, 3}, Offset: 12},
	}}
	ckpt := OpenCheckpoint(dir)
	defer ckpt.Close()
	for name, load := range map[string]WeightFunc{"checkpoint": ckpt.Load, "random": RandomWeights(3)} {
		a, errA := load(q)
		b, errB := load(k)
		got, err := load(packed)
		if errA != nil || errB != nil || err != nil {
			t.Fatalf("%s: %v %v %v", name, errA, errB, err)
		}
		if want := append(append([]byte{}, a...), b...); string(got) != string(want) {
			t.Errorf("%s: packed bytes %v, want the parts' %v", name, got, want)
		}
	}
	packed.Parts[1].Tensor = "nope"
	if _, err := ckpt.Load(packed); err == nil || !strings.Contains(err.Error(), "@l.k (part of @l.qk)") || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("a missing part: %v", err)
	}
	packed.Parts[1].Tensor, packed.Parts[1].Offset = "k", 14
	if _, err := ckpt.Load(packed); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("a part past the end: %v", err)
	}
	s := &schedule.Schedule{Buffers: []schedule.Buffer{*packed}}
	if _, err := FindWeights(s, t.TempDir()); err == nil || !strings.Contains(err.Error(), "m.safetensors not found") {
		t.Errorf("FindWeights does not look for the parts' files: %v", err)
	}
	if got, err := FindWeights(s, dir); err != nil || got == "" {
		t.Errorf("FindWeights: %q, %v", got, err)
	}
}
