package chat_test

import (
	"fmt"

	"github.com/irc-compiler/irc/runtime/chat"
)

// A runner compiles the model's template once and renders the conversation
// for each turn.
func Example() {
	const chatML = "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
		"{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
	t, err := chat.Compile(chatML)
	if err != nil {
		fmt.Println(err)
		return
	}
	prompt, err := t.Render(chat.Conversation("Be brief.", "Hi!"), chat.Options{AddGenerationPrompt: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(prompt)
	// Output:
	// <|im_start|>system
	// Be brief.<|im_end|>
	// <|im_start|>user
	// Hi!<|im_end|>
	// <|im_start|>assistant
}
