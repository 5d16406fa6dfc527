package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
)

// openSharded opens the shards named by a model.safetensors.index.json,
// {"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}, and
// checks that the index and the shards agree exactly: each listed tensor is
// in the shard named for it, no tensor is in two shards, and no shard holds
// a tensor the index does not list. A disagreement means a partial download
// or a hand-edited index, and loading would then pick weights by accident.
// The index metadata (total_size) is not checked: writers compute it
// differently, and the shards' own headers are validated anyway.
func (c *Checkpoint) openSharded(r *root) error {
	index, indexPath, err := r.resolve("checkpoint index", IndexFileName)
	if err != nil {
		return err
	}
	data, err := readInput(indexPath, index, MaxIndexLen, 1)
	if err != nil {
		return err
	}
	weightMap, err := parseIndex(data)
	if err != nil {
		return fmt.Errorf("%s: %w", index, err)
	}
	// Group tensors by shard, keyed by the cleaned path so that "a" and
	// "./a" are one file rather than two that hold the same tensors.
	byShard := map[string][]string{}
	for _, e := range weightMap {
		rel := filepath.FromSlash(e.shard)
		if !filepath.IsLocal(rel) || filepath.Clean(rel) == "." { // IsLocal rejects "", "..", absolute paths, but allows "."
			return fmt.Errorf("%s: tensor %q maps to shard %q, which is not a relative path inside the folder", index, e.tensor, e.shard)
		}
		rel = filepath.Clean(rel)
		byShard[rel] = append(byShard[rel], e.tensor)
	}
	shards := make([]string, 0, len(byShard))
	for rel := range byShard {
		shards = append(shards, rel)
	}
	slices.Sort(shards) // open and report in a stable order
	holder := map[string]*File{}
	for _, rel := range shards {
		path, open, err := r.resolve("shard", filepath.ToSlash(rel))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: shard %s is missing (it should hold %d tensors, e.g. %q)", index, filepath.Join(c.dir, rel), len(byShard[rel]), byShard[rel][0])
		}
		if err != nil {
			return fmt.Errorf("%s: %w", index, err)
		}
		f, err := openFile(open, path)
		if err != nil {
			return err
		}
		c.files = append(c.files, f)
		for _, t := range f.Tensors() {
			if other := holder[t.Name]; other != nil {
				return fmt.Errorf("%s: tensor %q appears in two shards, %s and %s", index, t.Name, other.Path(), path)
			}
			holder[t.Name] = f
		}
	}
	for _, rel := range shards {
		path := filepath.Join(c.dir, rel)
		for _, name := range byShard[rel] {
			f := holder[name]
			if f == nil {
				return fmt.Errorf("%s: tensor %q is listed under shard %s, but that shard does not hold it", index, name, path)
			}
			if f.Path() != path {
				return fmt.Errorf("%s: tensor %q is listed under shard %s, but that shard does not hold it (%s does)", index, name, path, f.Path())
			}
			c.byName[name] = f
		}
	}
	for name, f := range holder {
		if c.byName[name] == nil {
			return fmt.Errorf("%s: shard %s holds tensor %q, which the index's weight_map does not list", index, f.Path(), name)
		}
	}
	return nil
}

type weightMapEntry struct{ tensor, shard string }

// parseIndex extracts weight_map from an index file, strictly: a tensor
// listed twice would otherwise silently map to whichever shard came last.
func parseIndex(data []byte) ([]weightMapEntry, error) {
	members, err := objectMembers(data)
	if err != nil {
		return nil, fmt.Errorf("invalid index JSON: %v", err)
	}
	i := slices.IndexFunc(members, func(m member) bool { return m.key == "weight_map" })
	if i < 0 {
		return nil, errors.New(`invalid index: no "weight_map"`)
	}
	wm, err := objectMembers(members[i].val)
	if dup, ok := errors.AsType[*duplicateKeyError](err); ok {
		return nil, fmt.Errorf("tensor %q appears twice in weight_map, possibly in two shards", dup.key)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid index: weight_map must be an object of file names: %v", err)
	}
	if len(wm) == 0 {
		return nil, errors.New("invalid index: weight_map is empty")
	}
	entries := make([]weightMapEntry, len(wm))
	for i, m := range wm {
		shard, ok := jsonString(m.val)
		if !ok {
			return nil, fmt.Errorf("invalid index: weight_map[%q] must be a file name, got %s", m.key, snippet(m.val))
		}
		entries[i] = weightMapEntry{m.key, shard}
	}
	return entries, nil
}
