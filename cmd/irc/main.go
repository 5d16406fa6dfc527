// Command irc is the irc graph compiler's command line: import a Hugging
// Face checkpoint to the IR, dump it, run it on the reference runtime, and
// make tiny test checkpoints.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI and returns the exit code. Errors print as one line;
// a panic is reported as an internal error instead of a stack trace.
func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "irc: internal error: %v (please report this)\n", r)
			code = 2
		}
	}()
	root := newRoot()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "irc: %v\n", err)
		return 1
	}
	return 0
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "irc",
		Short: "irc compiles Llama and Qwen models to GPU kernels and a Go runner",
		Long: `irc is a graph compiler for Llama- and Qwen-family LLMs. It imports a Hugging Face
checkpoint into a primitive-level IR (protobuf, .irpb), prints it, runs it on the
reference CPU runtime, compiles it to a generated runner for OpenCL devices, and
benchmarks it.

  irc testmodel -o tiny                      # write tiny random checkpoints
  irc import tiny/qwen2-tiny -o qwen2.irpb   # checkpoint -> IR
  irc dump qwen2.irpb                        # IR as text
  irc compile qwen2.irpb -o qwen2.fused.ir --dump-after=all --dump-dir dumps
  irc run qwen2.irpb --tokens 5,17,3 --generate 8
  irc compile qwen2.irpb --target opencl -o runner   # a Go runner for OpenCL devices
  irc bench qwen2.irpb --json r.json --chart r.png    # TTFT and step time over positions`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newImportCmd(), newCompileCmd(), newDumpCmd(), newRunCmd(), newBenchCmd(), newTestmodelCmd(), newVersionCmd())
	return root
}
