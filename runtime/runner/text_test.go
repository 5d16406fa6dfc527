package runner

import (
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// byteVocab is a byte-level tokenizer of the 256 bytes and one control
// token, <|end|> (id 256); eos are the ids that end generation.
func byteVocab(t *testing.T, template string, eos ...int32) []byte {
	t.Helper()
	v := &tokenizer.Vocab{Model: tokenizer.ModelBPE, Patterns: tokenizer.PrePatterns("qwen2"), BOS: -1, EOS: eos, ChatTemplate: template}
	for b := range 256 {
		v.Tokens = append(v.Tokens, tokenizer.ByteLevel(string([]byte{byte(b)})))
		v.Types = append(v.Types, tokenizer.TypeNormal)
	}
	v.Tokens = append(v.Tokens, "<|end|>")
	v.Types = append(v.Types, tokenizer.TypeControl)
	data, err := tokenizer.WriteFile(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// textRun runs the fake model (it predicts token+1; cache 20, chunks of 4)
// with a tokenizer.
func textRun(t *testing.T, tok []byte, args ...string) (b *fakeBackend, stdout, stderr string, err error) {
	b = &fakeBackend{vocab: 257, last: map[int][]int32{}}
	p := fakeProgram(b)
	p.Tokenizer = tok
	var out, errOut strings.Builder
	err = Run(p, append(args, "--random-weights"), &out, &errOut)
	return b, out.String(), errOut.String(), err
}

// The prompt's text is encoded, the generated ids come back as text,
// streamed, and generation ends at an end-of-sequence id (kept, not
// decoded further) or at --max-tokens.
func TestRunPrompt(t *testing.T) {
	_, out, stderr, err := textRun(t, byteVocab(t, "", 256), "--prompt", "ab", "--max-tokens", "3")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if out != "cde\n" {
		t.Errorf("text %q, want %q", out, "cde\n")
	}
	if !strings.Contains(stderr, "decode 2 tokens") {
		t.Errorf("stderr %q: want the timings of 2 decode steps", stderr)
	}
	// 'd' (100) ends the generation: c, d and nothing after.
	b, out, _, err := textRun(t, byteVocab(t, "", 100), "--prompt", "ab", "--max-tokens", "10")
	if err != nil {
		t.Fatal(err)
	}
	if out != "cd\n" || len(b.steps) != 2 {
		t.Errorf("text %q after steps %v: want \"cd\\n\" and no decode step after the end", out, b.steps)
	}
	// A character split across tokens is written whole; control tokens
	// are not written.
	v, err := tokenizer.ReadFile(byteVocab(t, "", 256))
	if err != nil {
		t.Fatal(err)
	}
	text, err := NewText(v)
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	onToken, flush := text.Streamer(&w)
	for i, id := range []int64{'a', 0xC3, 256, 0xA8, 'b'} {
		if err := onToken(id); err != nil {
			t.Fatal(err)
		}
		if want := []string{"a", "a", "a", "aè", "aèb"}[i]; w.String() != want {
			t.Errorf("after %d tokens: %q, want %q", i+1, w.String(), want)
		}
	}
	if err := flush(); err != nil || w.String() != "aèb" {
		t.Errorf("flushed %q (%v)", w.String(), err)
	}
}

// --chat renders the conversation through the template, the assistant's
// turn opened, and the model reads exactly its bytes.
func TestRunChat(t *testing.T) {
	tmpl := `{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{% if add_generation_prompt %}>{% endif %}`
	b, _, _, err := textRun(t, byteVocab(t, tmpl, 256), "--prompt", "hi", "--chat", "--system", "s", "--max-tokens", "1")
	if err != nil {
		t.Fatal(err)
	}
	want := "[system:s][user:hi]>"
	if got := string(bytesOf(b.fed[:len(want)])); got != want {
		t.Errorf("the model read %q, want %q", got, want)
	}
}

func bytesOf(ids []int32) []byte {
	out := make([]byte, len(ids))
	for i, id := range ids {
		out[i] = byte(id)
	}
	return out
}

// What the text side refuses, one line each: no tokenizer, no template,
// a template that fails, a prompt longer than the cache; --max-tokens past
// the cache's end is cut to it, saying so.
func TestRunPromptErrors(t *testing.T) {
	for _, tc := range []struct {
		tok  []byte
		args []string
		want string
	}{
		{nil, []string{"--prompt", "ab"}, "the model has no tokenizer"},
		{byteVocab(t, "", 256), []string{"--prompt", "ab", "--chat"}, "ships no chat template"},
		{byteVocab(t, "{{ raise_exception('no system role') }}", 256), []string{"--prompt", "ab", "--chat"}, "no system role"},
		{byteVocab(t, "{% if %}", 256), []string{"--prompt", "ab", "--chat"}, "chat template"},
		{byteVocab(t, "", 256), []string{"--prompt", strings.Repeat("x", 21)}, "the prompt is 21 tokens, the model's cache holds 20"},
		{[]byte("not gzip"), []string{"--prompt", "ab"}, "tokenizer.json.gz"},
	} {
		_, _, _, err := textRun(t, tc.tok, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: got %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
	_, out, stderr, err := textRun(t, byteVocab(t, "", 256), "--prompt", strings.Repeat("a", 18), "--max-tokens", "10")
	if err != nil {
		t.Fatal(err)
	}
	if out != "bcd\n" || !strings.Contains(stderr, "generating at most 3") {
		t.Errorf("text %q, stderr %q: want 3 tokens (18 + 3 - 1 = 20 positions) and a note", out, stderr)
	}
}
