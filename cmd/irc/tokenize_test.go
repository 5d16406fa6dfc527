package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// qwen3Dir is a folder holding the reference Qwen3 tokenizer files.
func qwen3Dir(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "tokenizers")
	dir := t.TempDir()
	f, err := os.Open(filepath.Join(src, "qwen3.tokenizer.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(src, "qwen3.tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), cfg, 0o644)
	return dir
}

func TestTokenize(t *testing.T) {
	dir := qwen3Dir(t)
	out, errOut, code := irc(t, "tokenize", dir, "--text", "Hello, world!<|im_end|>\n")
	want := "9707,11,1879,0,151645,198\n9707\tHello\n11\t,\n1879\t world\n0\t!\n151645\t<|im_end|>\n198\t\\n\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d %s\n%q\nwant %q", code, errOut, out, want)
	}
	out, _, code = irc(t, "tokenize", filepath.Join(dir, "tokenizer.json"), "--special=false", "--text", "<|im_end|>")
	if code != 0 || strings.Contains(strings.SplitN(out, "\n", 2)[0], "151645") {
		t.Fatalf("--special=false: exit %d %q", code, out)
	}
	out, errOut, code = irc(t, "detokenize", dir, "--ids", "9707,11,1879,0,151645,198")
	if code != 0 || out != "Hello, world!<|im_end|>\n" {
		t.Fatalf("detokenize: exit %d %s %q", code, errOut, out)
	}
	out, _, _ = irc(t, "detokenize", dir, "--ids", "9707, 151645", "--skip-special")
	if out != "Hello" {
		t.Fatalf("--skip-special: %q", out)
	}
	textFile := filepath.Join(t.TempDir(), "in.txt")
	os.WriteFile(textFile, []byte("a\xffb"), 0o644)
	if out, _, code = irc(t, "tokenize", dir, "--file", textFile); code != 0 || !strings.Contains(out, "\t\\ufffd") && !strings.Contains(out, "�") {
		t.Fatalf("--file with invalid UTF-8: exit %d %q", code, out)
	}
}

func TestTokenizeErrors(t *testing.T) {
	dir := qwen3Dir(t)
	_, irpb := tinyModel(t, "llama-tiny")
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", dir}, "tokenize needs one of --text or --file"},
		{[]string{"tokenize", filepath.Join(dir, "nope"), "--text", "x"}, "nope"},
		{[]string{"tokenize", empty, "--text", "x"}, empty + ": no tokenizer.json"},
		{[]string{"tokenize", irpb, "--text", "x"}, "the model has no tokenizer"},
		{[]string{"detokenize", dir, "--ids", "1,x"}, `--ids: "x" is not a token id`},
		{[]string{"detokenize", dir, "--ids", "999999"}, "999999 is not a token id"},
	} {
		_, errOut, code := irc(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, %q, want one line with %q", c.args, code, errOut, c.want)
		}
	}
}
