package safetensors

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	os.WriteFile(p, []byte(`{"a": 1}`), 0o644)
	if data, err := ReadInput(p, 100, 1); err != nil || string(data) != `{"a": 1}` {
		t.Fatalf("%q %v", data, err)
	}
	_, err := ReadInput(p, 4, 1)
	wantErr(t, err, p, "8 B is more than the 4 B such a file may hold")
	_, err = ReadInput(filepath.Join(dir, "none.json"), 100, 1)
	wantErr(t, err, "none.json", "no such file")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%v is not ErrNotExist", err)
	}
	if err := RegularFile(p); err != nil {
		t.Errorf("RegularFile(%s): %v", p, err)
	}
	wantErr(t, RegularFile(dir), dir+": is a directory, not a regular file")
	wantErr(t, RegularFile(filepath.Join(dir, "none")), filepath.Join(dir, "none")+": no such file")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if data, err := ReadInput(empty, 100, 1); err != nil || len(data) != 0 {
		t.Fatalf("empty: %q %v", data, err)
	}
}

// symlink makes a symlink or skips the test where the platform cannot.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlink: %v", err)
	}
}

// insideLayout writes base/model (the folder weights are read from) with
// a weight file, a subfolder, and symlinks in and out, and base/outside
// with a valid checkpoint that must not be read.
func insideLayout(t *testing.T) (model, outside string) {
	t.Helper()
	base := t.TempDir()
	model, outside = filepath.Join(base, "model"), filepath.Join(base, "outside")
	for _, d := range []string{model, filepath.Join(model, "sub"), outside} {
		os.MkdirAll(d, 0o755)
	}
	for _, p := range []string{filepath.Join(model, "w.safetensors"), filepath.Join(model, "sub", "w2.safetensors"), filepath.Join(outside, "secret.safetensors")} {
		if err := Write(p, []WriteTensor{{"a", F32, []int64{1}, f32le(1)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	symlink(t, filepath.Join(outside, "secret.safetensors"), filepath.Join(model, "link.safetensors"))
	symlink(t, "../../outside/secret.safetensors", filepath.Join(model, "sub", "rel.safetensors"))
	symlink(t, outside, filepath.Join(model, "linkdir"))
	symlink(t, "w.safetensors", filepath.Join(model, "in.safetensors"))
	symlink(t, "sub", filepath.Join(model, "subdir"))
	return model, outside
}

// Class 6 of issue 12: a weight file name leads outside the folder through
// "..", an absolute path or a symlink: refused unless AllowOutside.
func TestFolderStaysInside(t *testing.T) {
	model, outsideDir := insideLayout(t)
	secret := filepath.Join(outsideDir, "secret.safetensors")
	const (
		read    = iota // read, with or without AllowOutside
		escapes        // an *OutsideError; read with AllowOutside
		fails          // an error either way
	)
	cases := []struct {
		file string
		kind int
		want []string
	}{
		{"w.safetensors", read, nil},
		{"./sub/w2.safetensors", read, nil},
		{"sub/../w.safetensors", read, nil},
		{"in.safetensors", read, nil},
		{"subdir/w2.safetensors", read, nil},
		{"../outside/secret.safetensors", escapes, []string{"weight file ../outside/secret.safetensors leads to " + secret + ", outside the folder " + model + ": it must lie inside that folder"}},
		{"sub/../../outside/secret.safetensors", escapes, []string{"leads to " + secret, "outside the folder"}},
		{filepath.ToSlash(secret), escapes, []string{"weight file " + filepath.ToSlash(secret) + " is an absolute path: it must be a path inside the folder " + model}},
		{"link.safetensors", escapes, []string{"weight file link.safetensors is a symlink to " + secret + ", outside the folder " + model}},
		{"sub/rel.safetensors", escapes, []string{"weight file sub/rel.safetensors is a symlink to " + secret}},
		{"linkdir/secret.safetensors", escapes, []string{"weight file linkdir/secret.safetensors is a symlink to " + secret}},
		{"missing.safetensors", fails, []string{filepath.Join(model, "missing.safetensors") + ": no such file"}},
		{"", fails, []string{"weight file name is empty"}},
	}
	for _, allow := range []bool{false, true} {
		f := OpenFolder(model, FolderOptions{AllowOutside: allow})
		for _, c := range cases {
			data, info, err := f.Tensor(c.file, "a", F32, []int64{1})
			if c.kind == read || c.kind == escapes && allow {
				if err != nil || len(data) != 4 || info.Name != "a" {
					t.Errorf("allow=%v %s: %v", allow, c.file, err)
				}
				continue
			}
			wantErr(t, err, c.want...)
			if _, ok := errors.AsType[*OutsideError](err); ok != (c.kind == escapes) {
				t.Errorf("%s: %T", c.file, err)
			}
		}
		f.Close()
	}
	// /etc/passwd is not even read to be refused.
	_, _, err := OpenFolder(model, FolderOptions{}).Tensor("../../../../../../../../etc/passwd", "a", F32, []int64{1})
	wantErr(t, err, "weight file ../../../../../../../../etc/passwd leads to "+filepath.FromSlash("/etc/passwd")+", outside the folder "+model)

	// The folder itself may be reached through a symlink.
	alias := filepath.Join(t.TempDir(), "alias")
	symlink(t, model, alias)
	f := OpenFolder(alias, FolderOptions{})
	defer f.Close()
	if _, _, err := f.Tensor("w.safetensors", "a", F32, []int64{1}); err != nil {
		t.Errorf("through a symlinked folder: %v", err)
	}
	_, _, err = f.Tensor("link.safetensors", "a", F32, []int64{1})
	wantErr(t, err, "is a symlink to", "outside the folder "+alias)
	_, _, err = OpenFolder(filepath.Join(model, "absent"), FolderOptions{}).Tensor("w.safetensors", "a", F32, []int64{1})
	wantErr(t, err, filepath.Join(model, "absent")+": no such file")
}

// The checkpoint reader applies the same rule to model.safetensors, the
// index and the shards.
func TestOpenDirStaysInside(t *testing.T) {
	_, outside := insideLayout(t)
	secret := filepath.Join(outside, "secret.safetensors")
	t.Run("single file links out", func(t *testing.T) {
		dir := t.TempDir()
		symlink(t, secret, filepath.Join(dir, SingleFileName))
		_, err := OpenDir(dir)
		wantErr(t, err, "checkpoint file model.safetensors is a symlink to "+secret+", outside the folder "+dir)
		c, err := OpenDirWith(dir, FolderOptions{AllowOutside: true})
		if err != nil {
			t.Fatalf("AllowOutside: %v", err)
		}
		c.Close()
	})
	t.Run("single file links inside", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "blobs"), 0o755)
		Write(filepath.Join(dir, "blobs", "x"), []WriteTensor{{"a", F32, []int64{1}, f32le(1)}}, nil)
		symlink(t, "blobs/x", filepath.Join(dir, SingleFileName))
		c, err := OpenDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info, ok := c.Tensor("a"); !ok || info.File != filepath.Join(dir, SingleFileName) {
			t.Errorf("tensor a: %+v", info)
		}
		c.Close()
	})
	t.Run("shard links out", func(t *testing.T) {
		dir := t.TempDir()
		Write(filepath.Join(dir, "s1.safetensors"), []WriteTensor{{"b", F32, []int64{1}, f32le(1)}}, nil)
		symlink(t, secret, filepath.Join(dir, "s2.safetensors"))
		writeIndex(t, dir, `{"weight_map": {"b": "s1.safetensors", "a": "s2.safetensors"}}`)
		_, err := OpenDir(dir)
		wantErr(t, err, filepath.Join(dir, IndexFileName)+": shard s2.safetensors is a symlink to "+secret+", outside the folder "+dir)
		c, err := OpenDirWith(dir, FolderOptions{AllowOutside: true})
		if err != nil {
			t.Fatalf("AllowOutside: %v", err)
		}
		c.Close()
	})
	t.Run("index links out", func(t *testing.T) {
		dir := t.TempDir()
		other := t.TempDir()
		writeIndex(t, other, `{"weight_map": {"a": "s1.safetensors"}}`)
		symlink(t, filepath.Join(other, IndexFileName), filepath.Join(dir, IndexFileName))
		_, err := OpenDir(dir)
		wantErr(t, err, "checkpoint index model.safetensors.index.json is a symlink to", "outside the folder "+dir)
	})
}

// Class 8 of issue 12: one check of a tensor against the model's
// declaration, whoever reads it.
func TestCheck(t *testing.T) {
	info := TensorInfo{Name: "w", DType: F16, Shape: []int64{2, 3}, File: "m.safetensors", Begin: 8, End: 20}
	if err := info.Check(F16, []int64{2, 3}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, info.Check(BF16, []int64{2, 3}), `tensor "w" in m.safetensors has dtype F16, the model declares BF16`)
	wantErr(t, info.Check(F16, []int64{3, 2}), `tensor "w" in m.safetensors has shape [2,3], the model declares [3,2]`)
	wantErr(t, info.Check(F16, nil), `has shape [2,3], the model declares []`)
	short := info
	short.End = 18
	wantErr(t, short.Check(F16, []int64{2, 3}), `tensor "w" in m.safetensors holds 10 bytes, but F16 [2,3] needs 12`)

	for name, want := range map[string]DType{"bf16": BF16, "f16": F16, "f32": F32} {
		if d, err := IRDType(name); err != nil || d != want {
			t.Errorf("IRDType(%s) = %s, %v", name, d, err)
		}
	}
	for _, name := range []string{"i32", "i64", "bool", "BF16", ""} {
		_, err := IRDType(name)
		wantErr(t, err, "the model declares dtype "+name+", but weights are read from checkpoints only as bf16, f16, f32, q8_0 or q4_0")
	}

	// Through a Folder: an F16 checkpoint for a model declared bf16.
	dir := t.TempDir()
	Write(filepath.Join(dir, "m.safetensors"), []WriteTensor{{"w", F16, []int64{2, 3}, make([]byte, 12)}}, nil)
	f := OpenFolder(dir, FolderOptions{})
	defer f.Close()
	_, _, err := f.Tensor("m.safetensors", "w", BF16, []int64{2, 3})
	wantErr(t, err, `tensor "w" in `+filepath.Join(dir, "m.safetensors")+` has dtype F16, the model declares BF16`)
	_, _, err = f.Tensor("m.safetensors", "nope", BF16, []int64{2, 3})
	wantErr(t, err, filepath.Join(dir, "m.safetensors")+`: no tensor "nope"`)
	if b, _, err := f.Tensor("m.safetensors", "w", F16, []int64{2, 3}); err != nil || len(b) != 12 {
		t.Errorf("matching declaration: %d bytes, %v", len(b), err)
	}
}

// Opening a checkpoint reads the header only: the tensors are mapped when
// first read.
func TestOpenReadsOnlyTheHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := Write(path, writeTensors(samples(t)), nil); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.file.Mapped() {
		t.Error("OpenFile mapped the file")
	}
	if _, err := f.Bytes("f32.cube"); err != nil || !f.file.Mapped() {
		t.Errorf("Bytes: %v, mapped %v", err, f.file.Mapped())
	}
}
