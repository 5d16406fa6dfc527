package chat

import (
	"github.com/ardanlabs/jinja"
)

// Template is a parsed chat template. A runner parses its template once and
// renders it for every turn; a Template is safe for concurrent use.
type Template struct {
	t *jinja.Template
}

// Compile parses a chat template. Errors are *Error.
func Compile(source string) (t *Template, err error) {
	defer recoverAsError(&err)
	jt, err := jinja.Compile(source)
	if err != nil {
		return nil, engineError(err)
	}
	return &Template{t: jt}, nil
}

// Render parses and renders a chat template once; see Template.Render.
func Render(source string, messages []Message, opts Options) (string, error) {
	t, err := Compile(source)
	if err != nil {
		return "", err
	}
	return t.Render(messages, opts)
}

// Render turns messages into prompt text. Errors are *Error; a template that
// calls raise_exception gives an *Error with Raised set and the template's
// message.
func (t *Template) Render(messages []Message, opts Options) (out string, err error) {
	defer recoverAsError(&err)
	out, err = t.t.RenderValues(variables(messages, opts))
	if err != nil {
		return "", engineError(err)
	}
	return out, nil
}

// variables builds what transformers' render_jinja_template passes: messages,
// tools and documents (None when not given), add_generation_prompt, the
// tokenizer's special tokens, then the caller's keyword arguments.
func variables(messages []Message, opts Options) map[string]jinja.Value {
	msgs := make([]jinja.Value, len(messages))
	for i, m := range messages {
		// A dict with role then content, in the order a Python caller writes
		// them, which is what dict iteration and tojson in a template see.
		d := jinja.NewDict()
		d.AsDict().Set("role", jinja.NewString(m.Role))
		d.AsDict().Set("content", jinja.NewString(m.Content))
		msgs[i] = d
	}
	vars := map[string]jinja.Value{
		"messages":              jinja.NewList(msgs),
		"tools":                 jinja.None(),
		"documents":             jinja.None(),
		"add_generation_prompt": jinja.NewBool(opts.AddGenerationPrompt),
		"raise_exception":       jinja.NewCallable("raise_exception", raiseException),
	}
	if opts.BOSToken != "" {
		vars["bos_token"] = jinja.NewString(opts.BOSToken)
	}
	if opts.EOSToken != "" {
		vars["eos_token"] = jinja.NewString(opts.EOSToken)
	}
	for k, v := range opts.Vars {
		vars[k] = jinja.FromGoValue(v)
	}
	return vars
}
