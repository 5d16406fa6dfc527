package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// expected is testdata/chat/expected.json, made by
// scripts/peer/tokenizers/make-chat-expected.mjs with an independent
// implementation of apply_chat_template.
type expected struct {
	Templates map[string]struct {
		File     string `json:"file"`
		BOSToken string `json:"bos_token"`
		EOSToken string `json:"eos_token"`
	} `json:"templates"`
	Cases []struct {
		Template            string         `json:"template"`
		Name                string         `json:"name"`
		Messages            []jsonMessage  `json:"messages"`
		AddGenerationPrompt bool           `json:"add_generation_prompt"`
		Extra               map[string]any `json:"extra"`
		Expected            string         `json:"expected"`
	} `json:"cases"`
}

type jsonMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

var testdata = filepath.Join("..", "..", "testdata", "chat")

func loadExpected(t testing.TB) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func readTemplate(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMatchesApplyChatTemplate renders every conversation of the test data
// with the published Qwen3 and Llama 3 templates and wants the peer's prompt
// byte for byte.
func TestMatchesApplyChatTemplate(t *testing.T) {
	e := loadExpected(t)
	compiled := map[string]*Template{}
	for name, tmpl := range e.Templates {
		c, err := Compile(readTemplate(t, tmpl.File))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		compiled[name] = c
	}
	seen := map[string]int{}
	for _, c := range e.Cases {
		seen[c.Template]++
		tmpl := e.Templates[c.Template]
		msgs := make([]Message, len(c.Messages))
		for i, m := range c.Messages {
			msgs[i] = Message{Role: m.Role, Content: m.Content}
		}
		opts := Options{
			AddGenerationPrompt: c.AddGenerationPrompt,
			BOSToken:            tmpl.BOSToken,
			EOSToken:            tmpl.EOSToken,
			Vars:                c.Extra,
		}
		got, err := compiled[c.Template].Render(msgs, opts)
		if err != nil {
			t.Errorf("%s %q gen=%v %v: %v", c.Template, c.Name, c.AddGenerationPrompt, c.Extra, err)
			continue
		}
		if got != c.Expected {
			t.Errorf("%s %q gen=%v %v:\n got %q\nwant %q", c.Template, c.Name, c.AddGenerationPrompt, c.Extra, got, c.Expected)
		}
	}
	// Guard against test data that lost a template or its cases.
	for _, name := range []string{"qwen3", "llama3"} {
		if seen[name] < 10 {
			t.Errorf("%s: only %d cases in the test data", name, seen[name])
		}
	}
}

// TestRenderOnce checks that the one-shot Render is Compile then Render.
func TestRenderOnce(t *testing.T) {
	e := loadExpected(t)
	c := e.Cases[0]
	tmpl := e.Templates[c.Template]
	msgs := []Message{}
	for _, m := range c.Messages {
		msgs = append(msgs, Message(m))
	}
	got, err := Render(readTemplate(t, tmpl.File), msgs, Options{
		AddGenerationPrompt: c.AddGenerationPrompt, BOSToken: tmpl.BOSToken, EOSToken: tmpl.EOSToken, Vars: c.Extra,
	})
	if err != nil || got != c.Expected {
		t.Fatalf("Render = %q, %v; want %q", got, err, c.Expected)
	}
}
