package ir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/irc-compiler/irc/ir/budget"
	"github.com/irc-compiler/irc/ir/safetensors"
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
// bytes of memory per byte of the file. The file is opened as every input
// from outside is (safetensors.OpenInput): only a regular file, so that a
// named pipe cannot block the open and a device such as /dev/zero cannot
// stream without end. A file whose size times expansion does not fit in
// what this process can allocate (budget.Check) is refused, with one line
// naming it, before anything is read.
func ReadBounded(path string, expansion int64) ([]byte, error) {
	f, size, err := safetensors.OpenInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	need, ok := budget.Bytes(size, max(expansion, 1))
	if !ok {
		need = math.MaxInt64
	}
	if err := budget.Check(fmt.Sprintf("%s (%s, decoded)", path, budget.Format(size)), need); err != nil {
		return nil, err
	}
	// One byte more than the size tells a file that grew since the stat.
	data := make([]byte, size+1)
	n, err := io.ReadFull(f, data)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(n) > size {
		return nil, fmt.Errorf("%s: the file grew while it was being read", path)
	}
	return data[:n], nil
}
