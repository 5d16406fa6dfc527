// Package irc holds the sources a generated runner is built from: the
// runtime packages it imports, copied into its folder by the runner
// generator so that the runner is a self-contained module that builds with
// go build alone.
package irc

import "embed"

// RunnerSources are the folders whose packages runners carry (which ones
// a runner copies is the runner generator's and the backend registry's
// business), and the module files whose requirements it shares.
//
//go:embed go.mod go.sum runtime ir/safetensors ir/gguf ir/mapped ir/bf16 ir/budget
var RunnerSources embed.FS
