package chat

import "testing"

// FuzzRender feeds template text to Compile and Render: whatever the text, the
// result is a prompt or an *Error of one line, never a panic. Plain go test
// runs the seeds (the two published templates and a few malformed ones);
// go test -fuzz=FuzzRender explores from them.
func FuzzRender(f *testing.F) {
	e := loadExpected(f)
	for _, tmpl := range e.Templates {
		f.Add(readTemplate(f, tmpl.File))
	}
	for _, s := range []string{
		"", "{{", "{%", "{#", "{% if %}", "{% for %}", "{{ x | }}", "{{ (((( }}",
		"{% set ns = namespace(a=1) %}{% set ns.a = ns.a + 1 %}{{ ns.a }}",
		"{{ messages[::-1][0].content.split('x')[-1].strip() }}",
		"{{ raise_exception(messages) }}", "{{ messages|tojson }}",
		"{%- for m in messages -%}{{ loop.index0 }}{{ loop.last }}{%- endfor -%}",
	} {
		f.Add(s)
	}
	msgs := []Message{
		{Role: "system", Content: "sys"},
		{Role: "user", Content: "hi {{ x }}"},
		{Role: "assistant", Content: "<think>\nr\n</think>\n\nok"},
		{Role: "user", Content: ""},
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Render(src, msgs, Options{AddGenerationPrompt: true, BOSToken: "<s>", EOSToken: "</s>"})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			for _, r := range err.Error() {
				if r == '\n' {
					t.Fatalf("error is not one line: %q", err)
				}
			}
		}
	})
}
