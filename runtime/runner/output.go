package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckOutputFile checks, before any work is done, that path (given with
// flag, e.g. "--logits-out") can be written as an output file: an existing
// regular file (it is overwritten: the user named it), or a new file in an
// existing folder that can be created. A folder, a device, a named pipe
// (opening one would block), a socket or a dangling link is refused with
// one line naming the flag and the path. An empty path (flag not given)
// is fine.
func CheckOutputFile(flag, path string) error {
	if path == "" {
		return nil
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s %s: %s", flag, path, fmt.Sprintf(format, args...))
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fail("is a folder; name the file to write")
	case err == nil && !fi.Mode().IsRegular():
		return fail("exists and is %s, not a regular file; name a new file or a regular one", fileKind(fi.Mode()))
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // no O_TRUNC: only checks
		if err != nil {
			return fail("cannot be written: %v", pathErr(err))
		}
		return f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return fail("%v", pathErr(err))
	}
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		return fail("is a symbolic link to a file that does not exist")
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("folder %s does not exist", dir)
	case err != nil:
		return fail("%v", pathErr(err))
	case !di.IsDir():
		return fail("%s is not a folder", dir)
	}
	// Create it to know that it can be, then leave no trace.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fail("cannot be created: %v", pathErr(err))
	}
	f.Close()
	return os.Remove(path)
}

// pathErr is err without the path a *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// fileKind names a file mode that is not a regular file or a folder.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a special file"
}
