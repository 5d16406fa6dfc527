package safetensors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// shardedDir writes s split over two shards and an index mapping each
// tensor to its shard, and returns the folder.
func shardedDir(t *testing.T, s []sampleTensor) string {
	t.Helper()
	dir := t.TempDir()
	half := len(s) / 2
	wm := map[string]string{}
	for i, part := range [][]sampleTensor{s[:half], s[half:]} {
		shard := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		if err := Write(filepath.Join(dir, shard), writeTensors(part), nil); err != nil {
			t.Fatal(err)
		}
		for _, st := range part {
			wm[st.Name] = shard
		}
	}
	writeIndex(t, dir, map[string]any{"metadata": map[string]any{"total_size": 12345}, "weight_map": wm})
	return dir
}

func writeIndex(t *testing.T, dir string, index any) {
	t.Helper()
	var js []byte
	if s, ok := index.(string); ok {
		js = []byte(s)
	} else {
		js, _ = json.Marshal(index)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFileName), js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSharded(t *testing.T) {
	s := samples(t)
	dir := shardedDir(t, s)
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := sortedNames(s)
	if got := c.Names(); !slices.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	c.Names()[0] = "changed" // Names hands out a copy
	if c.Names()[0] != want[0] {
		t.Error("Names shares its slice")
	}
	for i, st := range s {
		info, ok := c.Tensor(st.Name)
		wantShard := "model-00001-of-00002.safetensors"
		if i >= len(s)/2 {
			wantShard = "model-00002-of-00002.safetensors"
		}
		if !ok || info.File != filepath.Join(dir, wantShard) {
			t.Errorf("%s: in %q, want %s", st.Name, info.File, wantShard)
		}
		got, _, err := c.Float32(st.Name)
		if err != nil || !slices.Equal(got, st.want) {
			t.Errorf("%s: %v", st.Name, err)
		}
	}
	if _, ok := c.Tensor("nope"); ok {
		t.Error("found a tensor that is not there")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A shard named as "./x" or "sub/../x" is the same file as "x".
func TestShardPathsNormalised(t *testing.T) {
	dir := t.TempDir()
	w := []WriteTensor{{"a", F32, nil, f32le(1)}, {"b", F32, nil, f32le(2)}}
	if err := Write(filepath.Join(dir, "s.safetensors"), w, nil); err != nil {
		t.Fatal(err)
	}
	writeIndex(t, dir, map[string]any{"weight_map": map[string]string{"a": "./s.safetensors", "b": "sub/../s.safetensors"}})
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, _, err := c.Float32("b"); err != nil || v[0] != 2 {
		t.Errorf("b: %v %v", v, err)
	}
}

// Like transformers, a folder with both layouts uses model.safetensors.
func TestSingleFilePreferred(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, SingleFileName), []WriteTensor{{"x", F32, nil, f32le(3)}}, nil); err != nil {
		t.Fatal(err)
	}
	writeIndex(t, dir, map[string]any{"weight_map": map[string]string{"y": "gone.safetensors"}})
	c, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Names(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("names %v", got)
	}
}

func TestCheckpointRejects(t *testing.T) {
	two := func(t *testing.T, dir string) {
		// s1 holds a and b; s2 holds c.
		if err := Write(filepath.Join(dir, "s1.safetensors"), []WriteTensor{{"a", F32, nil, f32le(1)}, {"b", F32, nil, f32le(2)}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := Write(filepath.Join(dir, "s2.safetensors"), []WriteTensor{{"c", F32, nil, f32le(3)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	good := map[string]string{"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}
	with := func(k, v string) map[string]any {
		wm := map[string]string{}
		for a, b := range good {
			wm[a] = b
		}
		if v == "" {
			delete(wm, k)
		} else {
			wm[k] = v
		}
		return map[string]any{"weight_map": wm}
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		index any      // nil: no index file
		want  []string // besides the index path
	}{
		{"missing shard", two, with("d", "s3.safetensors"), []string{"s3.safetensors is missing", `"d"`}},
		{"tensor absent from its shard", two, with("d", "s2.safetensors"), []string{`tensor "d" is listed under shard`, "s2.safetensors", "does not hold it"}},
		{"tensor in the other shard", two, with("b", "s2.safetensors"), []string{`tensor "b" is listed under shard`, "s2.safetensors", "does not hold it", "s1.safetensors does"}},
		{"shard holds an unlisted tensor", two, with("b", ""), []string{"s1.safetensors holds tensor \"b\"", "does not list"}},
		{"parent directory", two, with("c", "../s2.safetensors"), []string{`tensor "c" maps to shard "../s2.safetensors"`, "not a relative path inside the folder"}},
		{"parent via subfolder", two, with("c", "sub/../../s2.safetensors"), []string{`tensor "c"`, "not a relative path inside the folder"}},
		{"absolute path", two, with("c", "/tmp/s2.safetensors"), []string{`tensor "c" maps to shard "/tmp/s2.safetensors"`, "not a relative path"}},
		{"the folder itself", two, with("c", "."), []string{`tensor "c" maps to shard "."`, "not a relative path inside the folder"}},
		{"empty shard name", two, `{"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors", "c": ""}}`, []string{`tensor "c" maps to shard ""`, "not a relative path"}},
		{"same tensor in two shards", func(t *testing.T, dir string) {
			two(t, dir)
			Write(filepath.Join(dir, "s3.safetensors"), []WriteTensor{{"a", F32, nil, f32le(9)}}, nil)
		}, map[string]any{"weight_map": map[string]string{"a": "s3.safetensors", "b": "s1.safetensors", "c": "s2.safetensors"}},
			[]string{`tensor "a" appears in two shards`, "s1.safetensors", "s3.safetensors"}},
		{"same tensor twice in weight_map", two,
			`{"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors", "c": "s2.safetensors", "a": "s2.safetensors"}}`,
			[]string{`tensor "a" appears twice in weight_map`}},
		{"broken index JSON", two, `{"weight_map": {`, []string{"invalid index JSON"}},
		{"index not an object", two, `["s1.safetensors"]`, []string{"invalid index JSON", "not a JSON object"}},
		{"no weight_map", two, `{"metadata": {}}`, []string{`no "weight_map"`}},
		{"empty weight_map", two, `{"weight_map": {}}`, []string{"weight_map is empty"}},
		{"weight_map not an object", two, `{"weight_map": ["s1.safetensors"]}`, []string{"weight_map must be an object"}},
		{"shard name not a string", two, `{"weight_map": {"a": 1}}`, []string{`weight_map["a"] must be a file name, got 1`}},
		{"corrupt shard", func(t *testing.T, dir string) {
			two(t, dir)
			p := filepath.Join(dir, "s2.safetensors")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-1], 0o644)
		}, with("c", "s2.safetensors"), []string{"s2.safetensors", `tensor "c"`, "beyond the data section"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			writeIndex(t, dir, c.index)
			ckpt, err := OpenDir(dir)
			if err == nil {
				ckpt.Close()
			}
			wantErr(t, err, c.want...)
			// Errors about the index name it; errors inside a shard name the shard.
			if c.name != "corrupt shard" {
				wantErr(t, err, filepath.Join(dir, IndexFileName))
			}
		})
	}
}

func TestOpenDirErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenDir(dir)
	wantErr(t, err, dir, "neither model.safetensors nor model.safetensors.index.json")

	missing := filepath.Join(dir, "absent")
	_, err = OpenDir(missing)
	wantErr(t, err, missing, "no such file or directory")

	os.WriteFile(filepath.Join(dir, SingleFileName), []byte("junk"), 0o644)
	_, err = OpenDir(dir)
	wantErr(t, err, filepath.Join(dir, SingleFileName), "too short")
}
