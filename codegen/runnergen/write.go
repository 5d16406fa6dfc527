package runnergen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// MarkerFile is the file irc writes into every runner folder: its first
// line says what wrote the folder, the others list the files irc wrote
// there (relative, slash-separated). A non-empty folder without it is not
// irc's, and Write refuses it unless forced; a folder with it is rewritten
// and the files it lists that the new runner lacks are removed.
const MarkerFile = ".irc-runner"

// markerHeader is the marker's first line.
const markerHeader = "irc runner folder: written by irc (compile --target BACKEND, bench --keep); irc rewrites it, removing the files listed here that a new runner lacks, and leaves other files alone"

// marker is the marker's contents for the files names (the marker itself
// left out).
func marker(names []string) []byte {
	var b bytes.Buffer
	b.WriteString(markerHeader + "\n")
	for _, n := range names {
		if n != MarkerFile {
			b.WriteString(n + "\n")
		}
	}
	return b.Bytes()
}

// readMarker reads the marker of the folder root holds: ok is false when
// there is none (or it is not irc's); names are the files it lists, each
// checked to be a path inside the folder.
func readMarker(root *os.Root) (names []string, ok bool, err error) {
	fi, err := root.Lstat(MarkerFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("%s is not a regular file", MarkerFile)
	}
	if fi.Size() > 1<<20 {
		return nil, false, nil // not one irc wrote: no runner lists that many files
	}
	data, err := root.ReadFile(MarkerFile)
	if err != nil {
		return nil, false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "irc runner folder:") {
		return nil, false, nil
	}
	for sc.Scan() {
		n := sc.Text()
		if n == "" || n == MarkerFile || !filepath.IsLocal(filepath.FromSlash(n)) || strings.Contains(n, `\`) {
			return nil, false, fmt.Errorf("%s lists %q, not a file inside the folder", MarkerFile, n)
		}
		names = append(names, n)
	}
	return names, true, sc.Err()
}

// Write writes the runner's files into dir, creating it. A folder that
// exists must be empty or one irc wrote (it holds MarkerFile): then the
// files of the previous runner that this one lacks (a stale schedule or
// kernel file would be compiled in) are removed, and nothing else. With
// force, a non-empty folder irc did not write is written into anyway:
// files of the same names are replaced, others are kept. Every write stays
// inside dir, even through symbolic links in it.
func (r *Runner) Write(dir string, force bool) error {
	files, err := r.Files()
	if err != nil {
		return err
	}
	fail := func(err error) error { return fmt.Errorf("runner folder %s: %w", dir, err) }
	old, err := CheckFolder(dir, force)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(unwrapPath(err))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fail(unwrapPath(err))
	}
	defer root.Close()
	names := slices.Sorted(maps.Keys(files))
	// First a marker naming every file this write may leave, so that an
	// interrupted write is still cleaned up by the next one; the final
	// marker goes last.
	all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(names, old))))
	if err := root.WriteFile(MarkerFile, marker(all), 0o644); err != nil {
		return fail(unwrapPath(err))
	}
	for _, p := range names {
		if p == MarkerFile {
			continue
		}
		if err := writeIn(root, p, files[p]); err != nil {
			return fail(err)
		}
	}
	for _, p := range old {
		if _, ok := files[p]; !ok {
			if err := removeIn(root, p); err != nil {
				return fail(err)
			}
		}
	}
	if err := root.WriteFile(MarkerFile, files[MarkerFile], 0o644); err != nil {
		return fail(unwrapPath(err))
	}
	return nil
}

// CheckFolder checks that a runner may be written into dir (see Write)
// before anything is compiled: it is new, empty, or irc's (then old are
// the files its marker lists), or force is set. It writes nothing.
func CheckFolder(dir string, force bool) (old []string, err error) {
	fail := func(err error) error { return fmt.Errorf("runner folder %s: %w", dir, err) }
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fail(unwrapPath(err))
	case !fi.IsDir():
		return nil, fail(errors.New("exists and is not a folder; name a new or empty folder, or one irc wrote"))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fail(unwrapPath(err))
	}
	defer root.Close()
	old, ours, err := readMarker(root)
	if err != nil {
		if !force {
			return nil, fail(fmt.Errorf("%w; remove %s or give --force", err, MarkerFile))
		}
		old, ours = nil, false
	}
	if !ours && !force {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fail(unwrapPath(err))
		}
		if len(entries) > 0 {
			return nil, fail(fmt.Errorf("not empty, and irc did not write it (no %s in it): refusing to mix a runner into it (it would replace go.mod, go.sum, main.go, ...); name a new or empty folder, or give --force", MarkerFile))
		}
	}
	return old, nil
}

// Claim records in the runner folder dir's marker that irc wrote names
// there too (the built binary, bench's built.json): the next Write
// removes them unless the new runner has them.
func Claim(dir string, names ...string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("runner folder %s: %w", dir, unwrapPath(err))
	}
	defer root.Close()
	old, ours, err := readMarker(root)
	if err != nil || !ours {
		return fmt.Errorf("runner folder %s: no %s to record %s in (%v)", dir, MarkerFile, strings.Join(names, ", "), err)
	}
	all := slices.Compact(slices.Sorted(slices.Values(slices.Concat(old, names))))
	if err := root.WriteFile(MarkerFile, marker(all), 0o644); err != nil {
		return fmt.Errorf("runner folder %s: %w", dir, unwrapPath(err))
	}
	return nil
}

// writeIn writes a file of the runner at slash path p inside root.
func writeIn(root *os.Root, p string, data []byte) error {
	if d := path.Dir(p); d != "." {
		if err := root.MkdirAll(filepath.FromSlash(d), 0o755); err != nil {
			return fmt.Errorf("making %s: %w", d, unwrapPath(err))
		}
	}
	name := filepath.FromSlash(p)
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s exists and is not a regular file (%s); remove it", p, fi.Mode().Type())
	}
	if err := root.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", p, unwrapPath(err))
	}
	return nil
}

// removeIn removes a file of a previous runner at slash path p inside
// root, and the folders that leaves empty. A folder of that name is left
// alone: irc wrote a file there.
func removeIn(root *os.Root, p string) error {
	name := filepath.FromSlash(p)
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || fi.IsDir() {
		return nil
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s, a file of the previous runner: %w", p, unwrapPath(err))
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if root.Remove(filepath.FromSlash(d)) != nil { // not empty: done
			break
		}
	}
	return nil
}

// unwrapPath drops the path an *fs.PathError repeats, when the message
// names the file already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
