package ir

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"

	"github.com/irc-compiler/irc/ir/safetensors"
)

// Load reads a model from a .irpb protobuf file or from the text format (a
// dump), telling them apart by the text format's "irc v1" header. The model
// is validated (Model.Validate); a file too large to decode in this
// process's memory is refused before it is read.
func Load(path string) (*Model, error) {
	data, err := safetensors.ReadInput(path, math.MaxInt64, ModelExpansion)
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
