package chat

import (
	"errors"
	"strings"
	"testing"
)

// TestErrors wants one clear line for each way a template goes wrong, with
// the template line where the engine reports one.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      string // the whole error text
		raised    bool
	}{
		{"unclosed block", "{% for m in messages %}{{ m.content }}", "chat template: unclosed for block", false},
		{"unclosed tag", "ok\n{{ messages", "chat template: line 2: unclosed expression tag", false},
		{"unknown statement", "a\nb\n{% frobnicate %}", "chat template: line 3: unknown statement \"frobnicate\"", false},
		{"unknown filter", "{{ messages | nosuchfilter }}", "chat template: unknown filter \"nosuchfilter\"", false},
		{"raise_exception", "{%- if messages[0].role != 'user' %}\n{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}\n{%- endif %}",
			"chat template: Conversation roles must alternate user/assistant/user/assistant/...", true},
		{"raise_exception newline", "{{ raise_exception('two\nlines') }}", `chat template: two\nlines`, true},
	} {
		_, err := Render(c.src, Conversation("be brief", "hi"), Options{})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s: error %q, want %q", c.name, err, c.want)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %T is not *Error", c.name, err)
		} else if e.Raised != c.raised {
			t.Errorf("%s: Raised = %v, want %v", c.name, e.Raised, c.raised)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.name, err)
		}
	}
}

// TestParseErrorAtCompile: syntax errors are found once, when a runner
// compiles its template, not at the first turn.
func TestParseErrorAtCompile(t *testing.T) {
	if _, err := Compile("{% if %}"); err == nil {
		t.Fatal("Compile accepted {% if %}")
	}
}
