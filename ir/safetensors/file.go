package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/mapped"
)

// File is one open safetensors file. Opening it reads and validates only
// the header; the tensor bytes are memory-mapped on the first Bytes call
// (where the platform allows), so opening a multi-GiB shard costs the
// header parse and no address space, and Bytes never copies. The methods
// other than Close are safe for concurrent use; slices from Bytes are valid
// until Close.
type File struct {
	path      string
	tensors   []TensorInfo // sorted by name
	byName    map[string]int
	dataStart int64
	meta      map[string]string

	file *mapped.File
}

// OpenFile opens path, which must be a regular file (see OpenInput), and
// validates its header (see ParseHeader).
func OpenFile(path string) (*File, error) { return openFile(path, path) }

// openFile opens the file at open and names it shown in errors and in
// TensorInfo.File (open is shown's resolved path).
func openFile(open, shown string) (*File, error) {
	f, size, err := openInput(open, shown)
	if err != nil {
		return nil, err
	}
	header, err := readHeader(f, size, shown)
	if err == nil && size > math.MaxInt {
		err = fmt.Errorf("%s: %d bytes is too large to map on this platform", shown, size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	tensors, dataStart, meta, err := ParseHeader(header, size, shown)
	if err != nil {
		f.Close()
		return nil, err
	}
	file := &File{path: shown, file: mapped.New(f, size), tensors: tensors, dataStart: dataStart, meta: meta,
		byName: make(map[string]int, len(tensors))}
	for i, t := range tensors {
		file.byName[t.Name] = i
	}
	return file, nil
}

// headerCost bounds the memory parsing a header takes per byte of it: the
// header itself, the JSON decoder's copies of every value, and a
// TensorInfo per entry. A 100 MiB header of minimal entries (1.8 million
// tensors) peaks at about 5 bytes of heap per byte; the rest is slack for
// the garbage collector.
const headerCost = 16

// readHeader reads the length prefix and, when ParseHeader would accept
// that length (within MaxHeaderLen and the file, and within this process's
// memory budget), the header after it. Otherwise it returns the prefix
// alone, for ParseHeader to refuse with its own message.
func readHeader(f *os.File, size int64, path string) ([]byte, error) {
	prefix := make([]byte, min(size, 8))
	if _, err := f.ReadAt(prefix, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	if len(prefix) < 8 {
		return prefix, nil
	}
	n := binary.LittleEndian.Uint64(prefix)
	if n > MaxHeaderLen || n > uint64(size-8) {
		return prefix, nil
	}
	if err := budget.Check(fmt.Sprintf("%s: parsing its %s header", path, budget.Format(int64(n))), int64(8+n)*headerCost); err != nil {
		return nil, err
	}
	header := make([]byte, 8+n)
	if _, err := f.ReadAt(header, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file shrank while its header was read", path)
		}
		return nil, fmt.Errorf("%s: reading the header: %w", path, err)
	}
	return header, nil
}

// Path is the path the file was opened with.
func (f *File) Path() string { return f.path }

// Tensors lists the file's tensors sorted by name. The slice is shared; do
// not modify it.
func (f *File) Tensors() []TensorInfo { return f.tensors }

// Metadata is the header's __metadata__ map (nil if the header has none).
func (f *File) Metadata() map[string]string { return f.meta }

// Info describes the named tensor.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

func errNoTensor(path, name string) error { return fmt.Errorf("%s: no tensor %q", path, name) }

// Bytes returns the named tensor's bytes: a view into the mapping, valid
// until Close, that must not be written (on unix the mapping is read-only
// and a write faults). Its capacity ends with the tensor, so an append
// copies instead of running into the next tensor. The first call maps the
// file.
func (f *File) Bytes(name string) ([]byte, error) {
	t, ok := f.Info(name)
	if !ok {
		return nil, errNoTensor(f.path, name)
	}
	data, err := f.file.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", f.path, name, err)
	}
	begin, end := f.dataStart+t.Begin, f.dataStart+t.End
	return data[begin:end:end], nil
}

// Close unmaps and closes the file. Slices from Bytes must not be used
// afterwards. Closing twice is harmless.
func (f *File) Close() error {
	if err := f.file.Close(); err != nil {
		return fmt.Errorf("%s: unmapping: %w", f.path, err)
	}
	return nil
}
