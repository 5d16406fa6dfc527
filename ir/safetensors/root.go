package safetensors

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
)

// FolderOptions says how a Folder or a checkpoint (OpenDirWith) resolves
// file names.
type FolderOptions struct {
	// AllowOutside lets file names lead outside the folder: an absolute
	// path, "..", or a symlink to elsewhere. Off, every file read must lie
	// inside the folder once ".." and symlinks are resolved, so a hostile
	// model file cannot make irc read, say, ../../etc/passwd or another
	// user's checkpoint. Set it only from an explicit user choice.
	AllowOutside bool
}

// OutsideError is a file name that leads outside the folder it is read
// from.
type OutsideError struct {
	Role   string // what the name is: "weight file", "shard", ...
	Name   string // as written (slash-separated, relative to Dir unless absolute)
	Dir    string // the folder, as given
	Target string // where it leads; empty for an absolute name
	// Symlink is set when the name stays in the folder but a symlink
	// leads out.
	Symlink bool
}

func (e *OutsideError) Error() string {
	switch {
	case e.Target == "":
		return fmt.Sprintf("%s %s is an absolute path: it must be a path inside the folder %s", e.Role, e.Name, e.Dir)
	case e.Symlink:
		return fmt.Sprintf("%s %s is a symlink to %s, outside the folder %s: it must lie inside that folder", e.Role, e.Name, e.Target, e.Dir)
	}
	return fmt.Sprintf("%s %s leads to %s, outside the folder %s: it must lie inside that folder", e.Role, e.Name, e.Target, e.Dir)
}

// root is a folder that files are read from, and the rule that keeps the
// reads inside it.
type root struct {
	dir string
	opt FolderOptions

	once          sync.Once
	abs, real     string // the folder made absolute, and with symlinks resolved
	errAbs, errRe error
}

func newRoot(dir string, opt FolderOptions) *root { return &root{dir: dir, opt: opt} }

func (r *root) resolveRoot() {
	r.once.Do(func() {
		if r.abs, r.errAbs = filepath.Abs(r.dir); r.errAbs != nil {
			return
		}
		if r.real, r.errRe = filepath.EvalSymlinks(r.abs); r.errRe != nil {
			r.errRe = bare(r.dir, r.errRe)
		}
	})
}

// resolve turns name, a slash-separated path relative to the folder (as a
// weight table or an index writes it), into the path to show in messages
// (the folder joined with name, as the user would spell it) and the path
// to open. Unless AllowOutside is set, the file must lie inside the folder
// both as written and once every symlink on the way is resolved; the path
// to open is then the resolved one, so what was checked is what is read.
// A name that does not exist gives an error satisfying
// errors.Is(err, fs.ErrNotExist) that names the shown path.
func (r *root) resolve(role, name string) (shown, open string, err error) {
	if name == "" {
		return "", "", fmt.Errorf("%s name is empty (in the folder %s)", role, r.dir)
	}
	rel := filepath.FromSlash(name)
	if filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" {
		if !r.opt.AllowOutside {
			return "", "", &OutsideError{Role: role, Name: name, Dir: r.dir}
		}
		return rel, rel, nil
	}
	shown = filepath.Join(r.dir, rel)
	if r.opt.AllowOutside {
		return shown, shown, nil
	}
	r.resolveRoot()
	if r.errAbs != nil {
		return "", "", r.errAbs
	}
	// As written: ".." may not climb out (checked without touching the
	// file system out there).
	lexical := filepath.Join(r.abs, rel)
	if !inside(r.abs, lexical) {
		return "", "", &OutsideError{Role: role, Name: name, Dir: r.dir, Target: lexical}
	}
	if r.errRe != nil {
		return "", "", r.errRe
	}
	real, err := filepath.EvalSymlinks(lexical)
	if err != nil {
		return "", "", bare(shown, err)
	}
	if !inside(r.real, real) {
		return "", "", &OutsideError{Role: role, Name: name, Dir: r.dir, Target: real, Symlink: true}
	}
	return shown, real, nil
}

// inside reports whether path is dir or lies below it; both are absolute
// and clean.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}

// bare rewrites a *fs.PathError from a step on the way (lstat of some
// component) into "path: reason" for the path the user knows; other
// errors get the path prefixed.
func bare(path string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
