package tokenizer

import "slices"

// endOfTurn are control tokens that end a model's turn although the
// configuration may name only one end-of-sequence token: chat models stop
// at these (llama.cpp keeps a similar list for the same reason).
var endOfTurn = []string{
	"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>",
	"<|end|>", "<end_of_turn>", "<|return|>",
}

// addEndOfTurn adds the end-of-turn control tokens the vocabulary has.
func addEndOfTurn(v *Vocab) {
	for id, s := range v.Tokens {
		if v.typeOf(id) == TypeControl && slices.Contains(endOfTurn, s) {
			addEOS(v, int32(id))
		}
	}
}

func addEOS(v *Vocab, id int32) {
	if !slices.Contains(v.EOS, id) {
		v.EOS = append(v.EOS, id)
	}
}
