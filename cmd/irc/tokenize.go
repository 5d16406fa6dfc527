package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/hf"
	"github.com/irc-compiler/irc/ir/safetensors"
	"github.com/irc-compiler/irc/runtime/tokenizer"
)

const tokenizerPaths = `PATH is a model (.irpb or text IR), a Hugging Face folder holding tokenizer.json,
a tokenizer.json (read with the tokenizer_config.json beside it), or a GGUF file.`

func newTokenizeCmd() *cobra.Command {
	var text, file string
	var special bool
	cmd := &cobra.Command{
		Use:   "tokenize PATH (--text TEXT | --file FILE)",
		Short: "Print the token ids of a text with a model's tokenizer",
		Long: `Tokenize encodes text as the model's own tokenizer does (byte-level BPE, as Hugging Face
tokenizers and llama.cpp). ` + tokenizerPaths + `

The first line of output is the ids, comma-separated; then one line per token: its id, a
tab, and its bytes written as in a Go string literal without the quotes (\n, \t, \\, \",
\xNN for bytes that are not UTF-8, \u/\U for unprintable characters), so each stays on
one line. --file reads the text as raw bytes; invalid UTF-8 is replaced by U+FFFD as the
reference tokenizers would see it. --special=false encodes special-token text such as
<|im_start|> as plain text.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("text") == (file != "") {
				return fmt.Errorf("tokenize needs one of --text or --file")
			}
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				text = string(b)
			}
			tk, err := loadTokenizer(args[0])
			if err != nil {
				return err
			}
			ids := tk.Encode(text, special)
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, joinIDs(ids))
			for _, id := range ids {
				fmt.Fprintf(w, "%d\t%s\n", id, escapePiece(tk.Piece(id)))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&text, "text", "", "the text to encode")
	cmd.Flags().StringVar(&file, "file", "", "read the text from this file (raw bytes)")
	cmd.Flags().BoolVar(&special, "special", true, "match special tokens written in the text")
	return cmd
}

func newDetokenizeCmd() *cobra.Command {
	var ids string
	var skipSpecial bool
	cmd := &cobra.Command{
		Use:   "detokenize PATH --ids 1,2,3",
		Short: "Print the text of token ids with a model's tokenizer",
		Long: `Detokenize decodes token ids to text, byte for byte, with nothing added (no newline).
` + tokenizerPaths,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := parseIDs(ids)
			if err != nil {
				return err
			}
			tk, err := loadTokenizer(args[0])
			if err != nil {
				return err
			}
			for _, id := range list {
				if int(id) >= tk.Len() {
					return fmt.Errorf("--ids: %d is not a token id of %s (0 to %d)", id, args[0], tk.Len()-1)
				}
			}
			out := tk.Decode(list)
			if skipSpecial {
				out = tk.DecodeSkipSpecial(list)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVar(&ids, "ids", "", "token ids, comma-separated")
	cmd.Flags().BoolVar(&skipSpecial, "skip-special", false, "leave out special (control) tokens")
	return cmd
}

// loadTokenizer reads the tokenizer at path (see tokenizerPaths); errors
// name the path.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	v, err := readVocab(path)
	if err != nil {
		return nil, err
	}
	tk, err := tokenizer.New(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return tk, nil
}

func readVocab(path string) (*tokenizer.Vocab, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir() || filepath.Base(path) == "tokenizer.json":
		dir := path
		if !st.IsDir() {
			dir = filepath.Dir(path)
		}
		v, err := hf.ReadTokenizer(dir)
		if err == nil && v == nil {
			err = fmt.Errorf("%s: no tokenizer.json", path)
		}
		return v, err
	case safetensors.IsGGUF(path):
		g, err := safetensors.OpenGGUF(path)
		if err != nil {
			return nil, err
		}
		defer g.Close()
		v, err := hf.GGUFTokenizer(g.Header)
		if err == nil && v == nil {
			err = fmt.Errorf("%s: the GGUF file has no tokenizer (tokenizer.ggml.model)", path)
		} else if err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return v, err
	}
	m, err := ir.Load(path)
	if err != nil {
		return nil, err
	}
	if m.Meta.Tokenizer == nil {
		return nil, fmt.Errorf("%s: the model has no tokenizer (import it from a folder with tokenizer.json, or from a GGUF file)", path)
	}
	return m.Meta.Tokenizer, nil
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

func parseIDs(s string) ([]int32, error) {
	var out []int32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(f, 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("--ids: %q is not a token id", f)
		}
		out = append(out, int32(id))
	}
	return out, nil
}

// escapePiece writes a token's bytes on one line: a Go string literal's
// escaping without the quotes.
func escapePiece(p string) string {
	q := strconv.Quote(p)
	return q[1 : len(q)-1]
}
