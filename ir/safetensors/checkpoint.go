package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// The file names Hugging Face uses for a checkpoint's weights.
const (
	SingleFileName = "model.safetensors"
	IndexFileName  = "model.safetensors.index.json"
)

// Checkpoint is the weights of a Hugging Face model folder: either
// model.safetensors, or model.safetensors.index.json and the shards it
// names. Every file's header is validated when the checkpoint opens, so
// the read methods only fail for unknown names, unsupported dtypes, or a
// file that cannot be mapped (each is mapped on its first read). The
// methods other than Close are safe for concurrent use.
type Checkpoint struct {
	dir    string
	files  []*File          // every open file, to close
	byName map[string]*File // tensor name -> the file holding it
	names  []string         // sorted
}

// OpenDir opens the checkpoint in dir, reading only files inside it (see
// OpenDirWith). Like transformers, it prefers model.safetensors when both
// it and an index are present.
func OpenDir(dir string) (*Checkpoint, error) { return OpenDirWith(dir, FolderOptions{}) }

// OpenDirWith opens the checkpoint in dir. Every file it reads must be a
// regular file (OpenInput) and, unless opt.AllowOutside, lie inside dir
// once symlinks are resolved: a model.safetensors or a shard that is a
// symlink to elsewhere is refused (note that a Hugging Face cache snapshot
// is such a folder: its files link to ../../blobs).
func OpenDirWith(dir string, opt FolderOptions) (*Checkpoint, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err // names dir
	}
	r := newRoot(dir, opt)
	c := &Checkpoint{dir: dir, byName: map[string]*File{}}
	switch {
	case exists(filepath.Join(dir, SingleFileName)):
		shown, path, err := r.resolve("checkpoint file", SingleFileName)
		if err != nil {
			return nil, err
		}
		f, err := openFile(path, shown)
		if err != nil {
			return nil, err
		}
		c.files = []*File{f}
		for _, t := range f.Tensors() {
			c.byName[t.Name] = f
		}
	case exists(filepath.Join(dir, IndexFileName)):
		if err := c.openSharded(r); err != nil {
			c.Close()
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: folder has neither %s nor %s", dir, SingleFileName, IndexFileName)
	}
	c.names = make([]string, 0, len(c.byName))
	for name := range c.byName {
		c.names = append(c.names, name)
	}
	slices.Sort(c.names)
	return c, nil
}

// exists reports whether path may exist: an error other than "not found"
// (say, permission denied) counts as present, so that opening it reports
// the real problem instead of "no checkpoint". It only stats, which never
// blocks, even on a named pipe.
func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// Names lists every tensor, sorted. The caller may modify the slice.
func (c *Checkpoint) Names() []string { return slices.Clone(c.names) }

// Tensor describes the named tensor; its File says which shard holds it.
func (c *Checkpoint) Tensor(name string) (TensorInfo, bool) {
	f := c.byName[name]
	if f == nil {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Bytes returns the named tensor's bytes, a zero-copy view into the mapped
// shard that is valid until Close and must not be written.
func (c *Checkpoint) Bytes(name string) ([]byte, TensorInfo, error) {
	f := c.byName[name]
	if f == nil {
		return nil, TensorInfo{}, fmt.Errorf("%s: no tensor %q in the checkpoint", c.dir, name)
	}
	info, _ := f.Info(name)
	b, err := f.Bytes(name)
	return b, info, err
}

// Float32 decodes the named tensor to a new float32 slice. It accepts BF16,
// F16 and F32 and fails, naming the file and tensor, for other dtypes.
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

// Close unmaps every file. Slices from Bytes must not be used afterwards.
// Closing twice is harmless.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, f := range c.files {
		errs = append(errs, f.Close())
	}
	c.files = nil
	return errors.Join(errs...)
}
