package chat

import (
	"reflect"
	"testing"
)

func TestConversation(t *testing.T) {
	got := Conversation("You are terse.", "Hi\nthere")
	want := []Message{{Role: "system", Content: "You are terse."}, {Role: "user", Content: "Hi\nthere"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Conversation with system = %+v, want %+v", got, want)
	}
	got = Conversation("", "Hi")
	want = []Message{{Role: "user", Content: "Hi"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Conversation without system = %+v, want %+v", got, want)
	}
}

// TestVariables checks the variables apply_chat_template defines besides the
// messages: unset special tokens stay undefined, tools and documents are
// None, and Vars are set last.
func TestVariables(t *testing.T) {
	const src = "{{ bos_token is defined }} {{ eos_token }} {{ tools is none }} {{ documents is none }} " +
		"{{ add_generation_prompt }} {{ enable_thinking is defined and enable_thinking is false }} {{ n + 1 }} {{ messages|length }}"
	got, err := Render(src, Conversation("", "q"), Options{
		AddGenerationPrompt: true,
		EOSToken:            "</s>",
		Vars:                map[string]any{"enable_thinking": false, "n": 41},
	})
	want := "False </s> True True True True 42 1"
	if err != nil || got != want {
		t.Errorf("Render = %q, %v; want %q", got, err, want)
	}
	got, err = Render("{{ bos_token }}", nil, Options{BOSToken: "<s>", Vars: map[string]any{"bos_token": "<b>"}})
	if err != nil || got != "<b>" {
		t.Errorf("Vars did not override bos_token: %q, %v", got, err)
	}
}

// TestContentIsData: message text is never evaluated as template text.
func TestContentIsData(t *testing.T) {
	const content = "{{ raise_exception('no') }}{% for %}"
	got, err := Render("{{ messages[0].content }}", Conversation("", content), Options{})
	if err != nil || got != content {
		t.Errorf("Render = %q, %v; want the content unchanged", got, err)
	}
}
