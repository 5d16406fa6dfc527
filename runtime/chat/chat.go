// Package chat turns a conversation into prompt text with a model's own chat
// template (tokenizer_config.json's chat_template, GGUF's
// tokenizer.chat_template), rendering it as Hugging Face transformers'
// apply_chat_template(..., tokenize=False) does.
//
// It is used by the compiler and copied into generated runners, so its
// non-test files depend only on the standard library and the Jinja engine
// (github.com/ardanlabs/jinja), never on other irc packages.
package chat

// Message is one turn of a conversation. Role is what the template switches on
// ("system", "user", "assistant", "tool"); Content is the turn's text, passed
// to the template unchanged.
type Message struct {
	Role    string
	Content string
}

// Options are the variables apply_chat_template passes besides the messages.
type Options struct {
	// AddGenerationPrompt ends the prompt with the header of an assistant turn,
	// so that the model answers rather than continues the last message.
	AddGenerationPrompt bool
	// BOSToken and EOSToken become bos_token and eos_token. Empty means the
	// model has none, and the variable is left undefined, as transformers
	// leaves out special tokens a tokenizer does not set (Qwen3 has no BOS).
	BOSToken string
	EOSToken string
	// Vars are further template variables, e.g. Qwen3's enable_thinking (the
	// keyword arguments of apply_chat_template), or the tokenizer's other
	// special tokens (pad_token, unk_token) for a template that uses them. Values may be nil, bool, int,
	// int64, float64, string, []any and map[string]any (nested). They are set
	// last, so they override the variables above.
	Vars map[string]any
}

// Conversation is the conversation of a single prompt, as the CLI's
// --chat [--system S] sends it: a system turn when system is not empty, then
// the user's prompt.
func Conversation(system, prompt string) []Message {
	var msgs []Message
	if system != "" {
		msgs = append(msgs, Message{Role: "system", Content: system})
	}
	return append(msgs, Message{Role: "user", Content: prompt})
}
