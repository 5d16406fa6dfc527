package runner

import (
	"fmt"
	"io"

	"github.com/irc-compiler/irc/runtime/chat"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// Text is a model's text side: its tokenizer and chat template, which a
// runner carries so that `--prompt` works on a machine with nothing else.
type Text struct {
	tk *tokenizer.Tokenizer
}

// NewText prepares the text side of a model whose tokenizer is v (nil:
// the model has none).
func NewText(v *tokenizer.Vocab) (*Text, error) {
	switch {
	case v == nil:
		return nil, fmt.Errorf("the model has no tokenizer, so it takes token ids only (--tokens); import it from a folder with tokenizer.json, or from a GGUF file")
	case v.Unsupported != "":
		return nil, fmt.Errorf("the model's tokenizer (%s) is not supported (%s), so it takes token ids only (--tokens)", v.Model, v.Unsupported)
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		return nil, fmt.Errorf("the model's tokenizer: %w", err)
	}
	return &Text{tk: tk}, nil
}

// Prompt is the token ids of prompt: encoded as it is (special-token text
// matched, BOS added where the tokenizer adds one), or with chat as the
// conversation of system (if not empty) and prompt, rendered through the
// model's chat template with the assistant's turn opened, as
// apply_chat_template(..., add_generation_prompt=True) gives it.
func (t *Text) Prompt(prompt, system string, chatMode bool) ([]int64, error) {
	if !chatMode {
		if system != "" {
			return nil, usagef("--system is a chat turn: give --chat too")
		}
		return widen(t.tk.Encode(prompt, true)), nil
	}
	v := t.tk.Vocab()
	if v.ChatTemplate == "" {
		return nil, fmt.Errorf("--chat: the model ships no chat template (tokenizer_config.json's chat_template); give the prompt as it should be read, without --chat")
	}
	tmpl, err := chat.Compile(v.ChatTemplate)
	if err != nil {
		return nil, err
	}
	opts := chat.Options{AddGenerationPrompt: true}
	if v.BOS >= 0 {
		opts.BOSToken = t.tk.Piece(v.BOS)
	}
	if len(v.EOS) > 0 {
		opts.EOSToken = t.tk.Piece(v.EOS[0])
	}
	text, err := tmpl.Render(chat.Conversation(system, prompt), opts)
	if err != nil {
		return nil, err
	}
	ids := t.tk.Encode(text, true)
	// A template that writes bos_token itself (Llama 3's) would get a
	// second one from a tokenizer that adds it: transformers encodes a
	// rendered chat without adding special tokens.
	if v.AddBOS && len(ids) >= 2 && ids[0] == v.BOS && ids[1] == v.BOS {
		ids = ids[1:]
	}
	return widen(ids), nil
}

// IsEOS reports whether id ends a generation (end of sequence or of a turn).
func (t *Text) IsEOS(id int64) bool { return t.tk.IsEOS(int32(id)) }

// Streamer writes generated text to w as it completes: OnToken takes each
// id (special tokens such as the end of turn are not written; a character
// split across tokens is written when whole), flush writes what is left.
func (t *Text) Streamer(w io.Writer) (onToken func(id int64) error, flush func() error) {
	s := t.tk.NewStream(true)
	onToken = func(id int64) error {
		if piece := s.Push(int32(id)); piece != "" {
			_, err := io.WriteString(w, piece)
			return err
		}
		return nil
	}
	flush = func() error {
		_, err := io.WriteString(w, s.Flush())
		return err
	}
	return onToken, flush
}

func widen(ids []int32) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}
