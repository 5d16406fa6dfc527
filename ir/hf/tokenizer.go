package hf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// maxTokenizerFile bounds what is read of a tokenizer file: the largest
// real tokenizer.json files are ~20 MB.
const maxTokenizerFile = 64 << 20

// ReadTokenizer reads the tokenizer of a Hugging Face folder: tokenizer.json
// with tokenizer_config.json and generation_config.json's eos_token_id when
// present. (nil, nil) when there is no tokenizer.json. The files are opened
// through an os.Root, so neither a name nor a symlink leads outside dir. A
// tokenizer.json that is corrupt or not byte-level BPE is an error naming
// the file: a model whose text side would silently be missing is worse than
// a failed import.
func ReadTokenizer(dir string) (*tokenizer.Vocab, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	tj, err := readSmall(root, "tokenizer.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "tokenizer.json"), err)
	}
	cfg, err := readSmall(root, "tokenizer_config.json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "tokenizer_config.json"), err)
	}
	v, err := tokenizer.ParseHF(tj, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the model needs a byte-level BPE tokenizer.json, as Qwen2/3 and Llama 3 ship)", dir, err)
	}
	gen, err := readSmall(root, "generation_config.json")
	if err == nil {
		err = v.AddGenerationConfig(gen)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return v, nil
}

// readSmall reads a regular file of root, at most maxTokenizerFile bytes.
func readSmall(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenizerFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTokenizerFile {
		return nil, fmt.Errorf("larger than %d bytes", maxTokenizerFile)
	}
	return b, nil
}
