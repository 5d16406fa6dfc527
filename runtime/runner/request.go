package runner

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/runtime/schedule"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

// Request is one generation as a command line asks for it: token ids in
// and ids out (--tokens), or text in and text streamed out (--prompt).
// Its flags are the runner's and irc run's alike (RegisterFlags).
type Request struct {
	Tokens    string
	Generate  int
	LogitsOut string
	Prompt    string
	Chat      bool
	System    string
	MaxTokens int
	Sampling  Sampling // Seed: the command's --seed
}

// DefaultMaxTokens is --max-tokens's default.
const DefaultMaxTokens = 256

// RegisterFlags defines r's flags on fs (--seed is the command's own: it
// seeds --random-weights too).
func (r *Request) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&r.Tokens, "tokens", "", "prompt token ids, comma-separated (or --prompt)")
	fs.IntVar(&r.Generate, "generate", 8, "with --tokens: number of tokens to generate")
	fs.StringVar(&r.LogitsOut, "logits-out", "", "with --tokens: write every row of logits to this .npy file (float32)")
	fs.StringVar(&r.Prompt, "prompt", "", "prompt text, encoded with the model's tokenizer; the generated text is streamed to stdout")
	fs.BoolVar(&r.Chat, "chat", false, "with --prompt: render it as a user turn through the model's chat template (and stop at the end of the answer)")
	fs.StringVar(&r.System, "system", "", "with --chat: a system turn before the prompt")
	fs.IntVar(&r.MaxTokens, "max-tokens", DefaultMaxTokens, "with --prompt: most tokens to generate (generation stops earlier at the model's end-of-sequence or end-of-turn token, or at the cache's end)")
	fs.Float64Var(&r.Sampling.Temperature, "temperature", 0, "sampling temperature; 0 is greedy decoding (on the device)")
	fs.IntVar(&r.Sampling.TopK, "top-k", 0, "sample from the K most likely tokens (0: all)")
	fs.Float64Var(&r.Sampling.TopP, "top-p", 0, "sample from the smallest set of most likely tokens whose probability reaches P (0 or 1: all)")
}

// Args are the command-line arguments that give r (irc run hands them to
// the runner it builds).
func (r Request) Args() []string {
	var a []string
	if r.Prompt != "" || r.Tokens == "" {
		a = append(a, "--prompt", r.Prompt, "--max-tokens", strconv.Itoa(r.MaxTokens))
		if r.Chat {
			a = append(a, "--chat")
		}
		if r.System != "" {
			a = append(a, "--system", r.System)
		}
	} else {
		a = append(a, "--tokens", r.Tokens, "--generate", strconv.Itoa(r.Generate))
		if r.LogitsOut != "" {
			a = append(a, "--logits-out", r.LogitsOut)
		}
	}
	s := r.Sampling
	return append(a, "--temperature", fmt.Sprint(s.Temperature), "--top-k", strconv.Itoa(s.TopK), "--top-p", fmt.Sprint(s.TopP))
}

// Check refuses a request the command line got wrong, before anything is
// loaded.
func (r Request) Check() error {
	if err := r.Sampling.Check(); err != nil {
		return usagef("%v", err)
	}
	if r.Sampling.Greedy() && (r.Sampling.TopK != 0 || r.Sampling.TopP != 0) {
		return usagef("--top-k and --top-p shape sampling, and greedy decoding (--temperature 0) does not sample: give --temperature too")
	}
	if (r.Tokens == "") == (r.Prompt == "") {
		return usagef("give the prompt as --prompt TEXT or as token ids with --tokens 5,17,3 (one of them)")
	}
	if r.Prompt == "" {
		if r.Chat || r.System != "" {
			return usagef("--chat and --system take a text prompt (--prompt), not --tokens")
		}
		if r.Generate < 0 {
			return usagef("--generate %d: want a number of tokens >= 0", r.Generate)
		}
		if _, err := ParseTokens(r.Tokens); err != nil {
			return err
		}
		return CheckOutputFile("--logits-out", r.LogitsOut)
	}
	if r.LogitsOut != "" {
		return usagef("--logits-out goes with --tokens")
	}
	if r.MaxTokens < 1 {
		return usagef("--max-tokens %d: want at least 1", r.MaxTokens)
	}
	if r.System != "" && !r.Chat {
		return usagef("--system is a chat turn: give --chat too")
	}
	return nil
}

// Respond runs r on b and writes what it asks for: the generated ids as
// the last line of stdout (--tokens), or the generated text as it comes
// (--prompt); timings go to stderr. vocab is the model's tokenizer, read
// only for text.
func Respond(b Backend, s *schedule.Schedule, vocab func() (*tokenizer.Vocab, error), r Request, stdout, stderr io.Writer) error {
	if r.Prompt == "" {
		prompt, err := ParseTokens(r.Tokens)
		if err != nil {
			return err
		}
		gen, err := Generate(b, s, prompt, r.Generate, GenerateOptions{KeepLogits: r.LogitsOut != "", Sampling: r.Sampling})
		if err != nil {
			return err
		}
		timings(stderr, len(prompt), gen)
		if r.LogitsOut != "" {
			if err := WriteNpy(r.LogitsOut, gen.Logits); err != nil {
				return err
			}
		}
		ids := make([]string, len(gen.IDs))
		for i, id := range gen.IDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		_, err = fmt.Fprintln(stdout, strings.Join(ids, ","))
		return err
	}
	v, err := vocab()
	if err != nil {
		return err
	}
	text, err := NewText(v)
	if err != nil {
		return err
	}
	prompt, err := text.Prompt(r.Prompt, r.System, r.Chat)
	if err != nil {
		return err
	}
	if len(prompt) == 0 {
		return fmt.Errorf("--prompt: the text encodes to no tokens (and the tokenizer adds no BOS): give some text")
	}
	capacity := s.Model.MaxCacheLen
	if int64(len(prompt)) > capacity {
		return fmt.Errorf("--prompt: the prompt is %d tokens, the model's cache holds %d (import with a larger --max-cache-len, or shorten it)", len(prompt), capacity)
	}
	// The last generated id is not fed back: a full cache still yields one.
	n := r.MaxTokens
	if room := capacity - int64(len(prompt)) + 1; int64(n) > room {
		n = int(room)
		fmt.Fprintf(stderr, "--max-tokens %d: the cache's %d positions leave room for %d tokens after the %d-token prompt; generating at most %d\n", r.MaxTokens, capacity, n, len(prompt), n)
	}
	onToken, flush := text.Streamer(stdout)
	gen, err := Generate(b, s, prompt, n, GenerateOptions{Sampling: r.Sampling, OnToken: onToken, Stop: text.IsEOS})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	timings(stderr, len(prompt), gen)
	return nil
}

// timings reports a generation's prefill and decode times on stderr.
func timings(stderr io.Writer, prompt int, gen *Generation) {
	fmt.Fprintf(stderr, "prefill %d tokens: %s; decode %d tokens: %s\n", prompt, ms(gen.Prefill), max(len(gen.IDs)-1, 0), perToken(gen.Decode, len(gen.IDs)-1))
}
