package ir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/irc-compiler/irc/ir/budget"
)

// Load reads a model from a .irpb protobuf file or from the text format (a
// dump), telling them apart by the text format's "irc v1" header. The model
// is validated (Model.Validate); a file too large to decode in this
// process's memory is refused before it is read.
func Load(path string) (*Model, error) {
	data, err := ReadBounded(path, ModelExpansion)
	if err != nil {
		return nil, err
	}
	if isText(data) {
		return Parse(path, string(data))
	}
	return Unmarshal(path, data)
}

// isText reports whether data starts, after blank and '#' comment lines
// (pass dumps begin with some), with the text format's "irc " header.
func isText(data []byte) bool {
	for {
		data = bytes.TrimLeft(data, " \t\r\n")
		if !bytes.HasPrefix(data, []byte("#")) {
			return bytes.HasPrefix(data, []byte("irc "))
		}
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return false
		}
		data = data[i+1:]
	}
}

// RebaseWeights rewrites weight file paths that are relative to folder from
// so that they are relative to folder to (where the model file is written).
func (m *Model) RebaseWeights(from, to string) error {
	absFrom, err := filepath.Abs(from)
	if err != nil {
		return err
	}
	absTo, err := filepath.Abs(to)
	if err != nil {
		return err
	}
	for _, w := range m.Weights {
		rel, err := filepath.Rel(absTo, filepath.Join(absFrom, filepath.FromSlash(w.File)))
		if err != nil {
			return fmt.Errorf("weight @%s: %w", w.Value.Name, err)
		}
		w.File = filepath.ToSlash(rel)
	}
	return nil
}

// ModelExpansion bounds the memory a model file takes once decoded, per
// byte of the file: a protobuf node of two bytes becomes two structs of a
// hundred bytes or more, a text node of a dozen bytes a few hundred, and
// the verifier's tables come on top. Real models are far below it (a 28-layer
// model's .irpb is ~400 KB and decodes into ~7 MB).
const ModelExpansion = 256

// ReadBounded reads an input file whose decoded form takes up to expansion
// bytes of memory per byte of the file. A file whose size times expansion
// does not fit in what this process can allocate (budget.Check) is refused
// before anything is read, with one line naming it; a file that is not a
// regular file (a pipe, /dev/zero) is read only up to that bound.
func ReadBounded(path string, expansion int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, want a file", path)
	}
	limit := budget.Available() / max(expansion, 1)
	if st.Mode().IsRegular() {
		size := st.Size()
		need, ok := budget.Bytes(size, expansion)
		if !ok {
			need = math.MaxInt64
		}
		if err := budget.Check(fmt.Sprintf("%s (%s, decoded)", path, budget.Format(size)), need); err != nil {
			return nil, err
		}
		limit = size
	}
	var data []byte
	if st.Mode().IsRegular() {
		data = make([]byte, limit+1) // one byte more tells a file that grew
		n, err := io.ReadFull(f, data)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		data = data[:n]
	} else if data, err = io.ReadAll(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		if st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s grew while it was read", path)
		}
		return nil, errors.New(path + ": more input than this process can decode (" + budget.Format(limit) + " at most)")
	}
	return data, nil
}
