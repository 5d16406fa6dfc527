package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
)

// FileName is the file a generated runner embeds its tokenizer from.
const FileName = "tokenizer.json.gz"

// maxFileBytes bounds what ReadFile inflates: a vocabulary of a few
// hundred thousand tokens and merges is tens of MB as JSON.
const maxFileBytes = 256 << 20

// WriteFile is v as a runner embeds it: JSON of the Vocab, gzipped. The
// same Vocab gives the same bytes (a generated runner is reproducible).
func WriteFile(v *Vocab) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	z, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(js); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadFile reads what WriteFile wrote.
func ReadFile(data []byte) (*Vocab, error) {
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	js, err := io.ReadAll(io.LimitReader(z, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	if len(js) > maxFileBytes {
		return nil, fmt.Errorf("%s: more than %d bytes of JSON", FileName, maxFileBytes)
	}
	var v Vocab
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	return &v, nil
}
