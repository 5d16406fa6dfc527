package safetensors

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/irc-compiler/irc/ir/budget"
)

// MaxIndexLen bounds model.safetensors.index.json. Real indexes list one
// line per tensor and stay under a few MiB even for the largest models.
const MaxIndexLen = 64 << 20

// MaxConfigLen bounds a config.json (real ones are a few KiB); the
// importer reads it with ReadInput.
const MaxConfigLen = 16 << 20

// OpenInput opens a file that came from outside (a checkpoint, an index, a
// config.json, a model file) for reading. It first checks with os.Stat,
// which follows symlinks and opens nothing, that the path leads to a
// regular file: a named pipe would block the open forever, and a device
// such as /dev/zero would stream without end, so both are refused with one
// line before any open. If the path is swapped for a pipe between the check
// and the open, the open still does not block (O_NONBLOCK where the
// platform has it) and the open file is checked again. It returns the file
// and its size.
func OpenInput(path string) (*os.File, int64, error) { return openInput(path, path) }

// RegularFile checks, without opening it, that path leads (through any
// symlinks) to a regular file, and otherwise says what it is in one line
// ("PATH: is a named pipe (FIFO), not a regular file"). A reader with its
// own way of reading calls it first, so that it never opens a pipe (which
// blocks until a writer comes) or a device.
func RegularFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return bare(path, err)
	}
	return regular(path, st)
}

// openInput opens path and names it name in errors (name is what the user
// or the model file wrote, path its resolved form).
func openInput(path, name string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, bare(name, err)
	}
	if err := regular(name, st); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, 0, bare(name, err)
	}
	st2, err := f.Stat()
	if err == nil {
		err = regular(name, st2)
	}
	if err == nil && !os.SameFile(st, st2) {
		err = fmt.Errorf("%s: the file was replaced while it was being opened", name)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st2.Size(), nil
}

// ReadInput reads a whole input file (see OpenInput) of at most limit
// bytes whose decoded form takes up to expansion bytes of memory per byte
// of the file. A larger file, or one whose decoded size does not fit in
// what this process can allocate (ir/budget), is refused with one line
// before anything is read. Use it for config.json (MaxConfigLen), an index
// (MaxIndexLen) and model files.
func ReadInput(path string, limit, expansion int64) ([]byte, error) {
	return readInput(path, path, limit, expansion)
}

func readInput(path, name string, limit, expansion int64) ([]byte, error) {
	f, size, err := openInput(path, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("%s: %s is more than the %s such a file may hold", name, budget.Format(size), budget.Format(limit))
	}
	need, ok := budget.Bytes(size, max(expansion, 1))
	if !ok {
		need = math.MaxInt64
	}
	if err := budget.Check(fmt.Sprintf("%s (%s, decoded)", name, budget.Format(size)), need); err != nil {
		return nil, err
	}
	// Read one byte past the size so that a file that grew since the
	// stat is noticed rather than silently cut.
	data := make([]byte, 0, size+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if int64(len(data)) > size {
			return nil, fmt.Errorf("%s: the file grew while it was being read", name)
		}
	}
	return data, nil
}

// regular refuses anything but a regular file, naming what it is instead.
func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	var kind string
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	default:
		kind = "a special file (mode " + m.String() + ")"
	}
	return fmt.Errorf("%s: is %s, not a regular file", path, kind)
}
