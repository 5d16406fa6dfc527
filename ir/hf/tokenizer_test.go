package hf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTokenizer(t *testing.T) {
	dir := t.TempDir()
	if v, err := ReadTokenizer(dir); v != nil || err != nil {
		t.Fatalf("no tokenizer.json: %v, %v", v, err)
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tokenizer.json", `{"model": {"type": "Unigram"}}`)
	_, err := ReadTokenizer(dir)
	if err == nil || !strings.Contains(err.Error(), "tokenizer.json") || !strings.Contains(err.Error(), "byte-level BPE") {
		t.Fatalf("unigram: %v", err)
	}
	write("tokenizer.json", `{"model": `)
	if _, err := ReadTokenizer(dir); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("truncated: %v", err)
	}
	// A symlink out of the folder is not followed.
	outside := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(outside, []byte(`{}`), 0o644)
	os.Remove(filepath.Join(dir, "tokenizer.json"))
	if err := os.Symlink(outside, filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Skip(err)
	}
	if _, err := ReadTokenizer(dir); err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("symlink out: %v", err)
	}
}
