package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/internal/gguf"
)

// irc run --prompt --chat on the tiny Qwen2 (whose checkpoint carries a
// tokenizer and ChatML's template) reads the ids irc tokenize gives for
// the rendered conversation, and writes the text irc detokenize gives for
// the ids irc run --tokens generates from them.
func TestRunPromptMatchesTokens(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	rendered := "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nHello, wörld! 🙂<|im_end|>\n<|im_start|>assistant\n"
	out, errOut, code := irc(t, "tokenize", irpb, "--text", rendered)
	if code != 0 {
		t.Fatalf("tokenize: %s", errOut)
	}
	ids := strings.SplitN(out, "\n", 2)[0]
	out, errOut, code = irc(t, "run", irpb, "--tokens", ids, "--generate", "6")
	if code != 0 {
		t.Fatalf("run --tokens: %s", errOut)
	}
	gen := strings.Split(lastLine(out), ",")
	// Generation stops at an end id (<|im_end|> 270, <|endoftext|> 268).
	for i, id := range gen {
		if id == "270" || id == "268" {
			gen = gen[:i+1]
			break
		}
	}
	want, errOut, code := irc(t, "detokenize", irpb, "--ids", strings.Join(gen, ","), "--skip-special")
	if code != 0 {
		t.Fatalf("detokenize: %s", errOut)
	}
	text, errOut, code := irc(t, "run", irpb, "--prompt", "Hello, wörld! 🙂", "--chat", "--system", "be brief", "--max-tokens", "6")
	if code != 0 {
		t.Fatalf("run --prompt: %s", errOut)
	}
	if text != want+"\n" {
		t.Errorf("run --prompt --chat wrote %q, want %q (the ids %s of run --tokens)", text, want+"\n", strings.Join(gen, ","))
	}
	if n := len(strings.Split(ids, ",")); !strings.Contains(errOut, fmt.Sprintf("prefill %d tokens", n)) {
		t.Errorf("stderr %q: want the %d-token rendered prompt's timings", errOut, n)
	}
}

// The tokenizer a checkpoint carries survives GGUF conversion (written as
// tokenizer.ggml.*, read back through the pre name's split rules): irc
// tokenize gives the same ids from the GGUF file as from the folder, NFC
// included.
func TestTokenizeGGUFMatchesFolder(t *testing.T) {
	dir, _ := tinyModel(t, "qwen2-tiny")
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := gguf.ConvertHF(dir, path); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Hello, the world!", "cafe\u0301 Zürich 12.5°C", "<|im_start|>user\nhi<|im_end|>", " \t\n  x  ", "日本語 🙂👍🏽"} {
		want, errOut, code := irc(t, "tokenize", dir, "--text", text)
		if code != 0 {
			t.Fatalf("tokenize folder: %s", errOut)
		}
		got, errOut, code := irc(t, "tokenize", path, "--text", text)
		if code != 0 {
			t.Fatalf("tokenize GGUF: %s", errOut)
		}
		if got != want {
			t.Errorf("%q: GGUF gives\n%s\nthe folder\n%s", text, got, want)
		}
	}
}
