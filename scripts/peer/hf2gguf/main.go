// Command hf2gguf converts a Llama, Qwen2 or Qwen3 Hugging Face checkpoint (config.json +
// safetensors) to a GGUF file llama.cpp loads, for the CPU peer benchmark
// (scripts/bench-peer.sh) and the logits cross-check (scripts/gguf-crosscheck.sh):
//
//	go run ./scripts/peer/hf2gguf [--outtype keep|f32|f16|bf16|q8_0|q4_0] MODEL_DIR OUT.gguf
//
// Matrices keep their dtype (BF16 stays BF16) or become --outtype's, as
// llama.cpp's converter's --outtype does; vectors become F32, and the
// vocabulary is synthetic (see internal/gguf).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/irc-compiler/irc/internal/gguf"
)

func main() {
	outtype := flag.String("outtype", "keep", "matrix type: keep (the checkpoint's), f32, f16, bf16; or q8_0, q4_0 (the linear layers' weights, as irc import --quantize)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: hf2gguf [--outtype keep|f32|f16|bf16|q8_0|q4_0] MODEL_DIR OUT.gguf")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	typ, ok := map[string]gguf.Type{"keep": gguf.Keep, "f32": gguf.F32, "f16": gguf.F16, "bf16": gguf.BF16, "q8_0": gguf.Q8_0, "q4_0": gguf.Q4_0}[*outtype]
	if !ok {
		fmt.Fprintf(os.Stderr, "hf2gguf: --outtype %s: want keep, f32, f16, bf16, q8_0 or q4_0\n", *outtype)
		os.Exit(2)
	}
	start := time.Now()
	if err := gguf.ConvertHFAs(flag.Arg(0), flag.Arg(1), typ); err != nil {
		fmt.Fprintln(os.Stderr, "hf2gguf:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "wrote %s in %s\n", flag.Arg(1), time.Since(start).Round(time.Millisecond))
}
