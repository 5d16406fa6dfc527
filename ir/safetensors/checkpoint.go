package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Checkpoint is a Hugging Face folder's weights: model.safetensors, or the
// shards listed by model.safetensors.index.json.
type Checkpoint struct {
	dir    string
	files  []*File
	byName map[string]*File
}

// OpenDir opens every file of the checkpoint in dir.
func OpenDir(dir string) (*Checkpoint, error) {
	c := &Checkpoint{dir: dir, byName: map[string]*File{}}
	index := filepath.Join(dir, "model.safetensors.index.json")
	single := filepath.Join(dir, "model.safetensors")
	switch {
	case exists(index):
		if err := c.openSharded(index); err != nil {
			c.Close()
			return nil, err
		}
	case exists(single):
		f, err := OpenFile(single)
		if err != nil {
			return nil, err
		}
		c.files = append(c.files, f)
		for _, t := range f.Tensors() {
			c.byName[t.Name] = f
		}
	default:
		return nil, fmt.Errorf("%s: no model.safetensors or model.safetensors.index.json", dir)
	}
	return c, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func (c *Checkpoint) openSharded(index string) error {
	data, err := os.ReadFile(index)
	if err != nil {
		return err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("%s: invalid index JSON: %v", index, err)
	}
	if len(idx.WeightMap) == 0 {
		return fmt.Errorf("%s: weight_map is missing or empty", index)
	}
	shards := map[string]*File{}
	names := make([]string, 0, len(idx.WeightMap))
	for name := range idx.WeightMap {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		shard := idx.WeightMap[name]
		if shard == "" || filepath.IsAbs(shard) || strings.Contains(filepath.ToSlash(shard), "..") {
			return fmt.Errorf("%s: tensor %q is mapped to %q, which is not a file inside the folder", index, name, shard)
		}
		f := shards[shard]
		if f == nil {
			if f, err = OpenFile(filepath.Join(c.dir, shard)); err != nil {
				return fmt.Errorf("%s: shard of tensor %q: %w", index, name, err)
			}
			shards[shard] = f
			c.files = append(c.files, f)
		}
		if _, ok := f.Info(name); !ok {
			return fmt.Errorf("%s: tensor %q is listed in %s but that shard does not hold it", index, name, shard)
		}
		c.byName[name] = f
	}
	return nil
}

// Names lists every tensor, sorted.
func (c *Checkpoint) Names() []string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor describes the named tensor.
func (c *Checkpoint) Tensor(name string) (TensorInfo, bool) {
	f := c.byName[name]
	if f == nil {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Bytes returns the named tensor's bytes (a view valid until Close).
func (c *Checkpoint) Bytes(name string) ([]byte, TensorInfo, error) {
	f := c.byName[name]
	if f == nil {
		return nil, TensorInfo{}, fmt.Errorf("%s: no tensor %q in the checkpoint", c.dir, name)
	}
	info, _ := f.Info(name)
	b, err := f.Bytes(name)
	return b, info, err
}

// Float32 decodes the named tensor (BF16, F16 or F32) to float32.
func (c *Checkpoint) Float32(name string) ([]float32, TensorInfo, error) {
	b, info, err := c.Bytes(name)
	if err != nil {
		return nil, info, err
	}
	out, err := DecodeFloat32(info.DType, b)
	if err != nil {
		return nil, info, fmt.Errorf("%s: tensor %q: %w", info.File, name, err)
	}
	return out, info, nil
}

// Close unmaps every file.
func (c *Checkpoint) Close() error {
	var first error
	for _, f := range c.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
