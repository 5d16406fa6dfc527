// Package tokenizer turns text into a model's token ids and back, exactly
// as the model's reference tokenizer does: byte-level BPE as Hugging Face
// tokenizers (tokenizer.json) and llama.cpp (GGUF tokenizer.ggml.*) run it
// for GPT-2 descendants such as Qwen2/2.5/3 and Llama 3.
//
// A tokenizer is stored as a Vocab, plain data that the IR and generated
// runners carry; New checks one and builds the lookup tables. The package
// imports no other irc package because it is copied into generated
// runners.
package tokenizer

// Token types, as GGUF's tokenizer.ggml.token_type numbers them. Added
// tokens of a tokenizer.json become TypeControl when special, else
// TypeUserDefined; the rest of its vocabulary is TypeNormal.
const (
	TypeNormal      = 1
	TypeUnknown     = 2
	TypeControl     = 3 // special: matched in text only when asked, skipped by DecodeSkipSpecial
	TypeUserDefined = 4 // added but not special: always matched in text
	TypeUnused      = 5
	TypeByte        = 6
)

// ModelBPE is the only supported Vocab.Model: byte-level BPE, which GGUF
// names "gpt2" after the tokenizer that introduced it.
const ModelBPE = "gpt2"

// Vocab is a tokenizer as irc stores it: plain data, one representation
// for both sources (tokenizer.json and GGUF).
type Vocab struct {
	// Model is the tokenizer kind, GGUF's tokenizer.ggml.model spelling:
	// "gpt2" (byte-level BPE) is the only one supported.
	Model string
	// Pre is GGUF's tokenizer.ggml.pre name ("qwen2", "llama-bpe", ...);
	// "" when the Vocab came from a tokenizer.json. Informational: the
	// split rules are Patterns.
	Pre string
	// Patterns are the pre-tokenizer's split regexes, applied in order,
	// each splitting every piece the previous one left into its matches
	// and the text between them (Hugging Face's Split with behavior
	// "Isolated"). Spelled as tokenizer.json spells them.
	Patterns []string
	// NFC is whether text is NFC-normalized before splitting.
	NFC bool
	// Tokens are the token strings by id, normal tokens in the GPT-2
	// byte-to-unicode spelling that tokenizer.json and GGUF use, added
	// tokens (TypeControl, TypeUserDefined) as their literal text.
	Tokens []string
	// Types are the token types by id (TypeNormal, ...); empty means all
	// normal.
	Types []int32
	// Merges are the BPE merges, "a b" in rank order (first merges first).
	Merges []string
	// IgnoreMerges: a whole piece that is itself a token is emitted as that
	// token without merging (Llama 3).
	IgnoreMerges bool
	// BOS is the beginning-of-sequence token, -1 if none; AddBOS says
	// whether Encode puts it first.
	BOS    int32
	AddBOS bool
	// EOS are the tokens that end generation: the end-of-sequence token and
	// end-of-turn tokens such as <|im_end|> or <|eot_id|>.
	EOS []int32
	// ChatTemplate is the Jinja chat template the model ships with, carried
	// for the chat side; "" if none.
	ChatTemplate string
	// Unsupported says why this tokenizer cannot be used ("" when it can):
	// a model keeps the name of a tokenizer irc cannot run (a SentencePiece
	// GGUF, say) so that text features can say so; only Model and Pre are
	// kept with it.
	Unsupported string
}

// UnsupportedVocab is the Vocab kept for a tokenizer that cannot be used,
// err saying why.
func UnsupportedVocab(model, pre string, err error) *Vocab {
	return &Vocab{Model: model, Pre: pre, BOS: -1, Unsupported: err.Error()}
}

// typeOf is token id's type; Types may be empty (all normal).
func (v *Vocab) typeOf(id int) int32 {
	if id < len(v.Types) {
		return v.Types[id]
	}
	return TypeNormal
}

// isAdded: matched whole in the input text rather than built by merges.
func isAdded(typ int32) bool { return typ == TypeControl || typ == TypeUserDefined }
