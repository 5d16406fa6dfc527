// Command irc is the irc graph compiler's command line: import a Hugging
// Face checkpoint to the IR, dump it, run it on the reference runtime, and
// make tiny test checkpoints.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI and returns the exit code: 0, 1 for an error, 2
// for a command line that does not parse (unknown command or flag, a
// flag's value of the wrong type, the wrong number of arguments). Errors
// print as one line; a panic is reported as an internal error (exit 1)
// instead of a stack trace.
func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "irc: internal error: %v (please report this)\n", r)
			code = 1
		}
	}()
	root := newRoot()
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "irc: %s\n", oneLine(err.Error()))
		var usage usageError
		if errors.As(err, &usage) {
			return 2
		}
		return 1
	}
	return 0
}

// oneLine keeps an error on one line: a message that carries newlines
// (a child's output, a library's report) has them replaced.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")), " ")
}

// usageError is a command line that does not parse (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// commandName is c's path without the leading "irc ".
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), "irc ")
}

// usageErrors marks cobra's own errors (flags, argument counts) of c and
// its subcommands as usage errors, each naming its command and its help.
func usageErrors(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{fmt.Errorf("%s: %v (usage: %s)", commandName(cmd), err, cmd.UseLine())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageErrors(sub)
	}
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
	root.AddCommand(newImportCmd(), newCompileCmd(), newDumpCmd(), newTokenizeCmd(), newDetokenizeCmd(), newRunCmd(), newBenchCmd(), newCheckCmd(), newTestmodelCmd(), newVersionCmd())
	usageErrors(root)
	// An unknown command is a usage error too: the root runs (printing
	// its help) with no arguments and refuses any.
	root.Args = func(cmd *cobra.Command, a []string) error {
		if len(a) > 0 {
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return usageError{fmt.Errorf("unknown command %q (commands: %s; see irc --help)", a[0], strings.Join(names, ", "))}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %v (see %s --help)", commandName(c), err, c.CommandPath())}
	})
	return root
}
