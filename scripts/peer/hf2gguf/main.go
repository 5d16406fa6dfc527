// Command hf2gguf converts a Llama, Qwen2 or Qwen3 Hugging Face checkpoint (config.json +
// safetensors) to a GGUF file llama.cpp loads, for the CPU peer benchmark
// (scripts/bench-peer.sh):
//
//	go run ./scripts/peer/hf2gguf MODEL_DIR OUT.gguf
//
// Matrices keep their dtype (BF16 stays BF16), vectors become F32, and the
// vocabulary is synthetic (see internal/gguf).
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/irc-compiler/irc/internal/gguf"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: hf2gguf MODEL_DIR OUT.gguf")
		os.Exit(2)
	}
	start := time.Now()
	if err := gguf.ConvertHF(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "hf2gguf:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %s in %s\n", os.Args[2], time.Since(start).Round(time.Millisecond))
}
