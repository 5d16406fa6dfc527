// Package irc holds the sources a generated runner is built from: the
// runtime packages it imports, copied into its folder by the runner
// generator so that the runner is a self-contained module that builds with
// go build alone.
package irc

import "embed"

// RunnerSources are the packages (non-test files) every generated runner
// carries, and the module files whose requirements it shares.
//
//go:embed go.mod go.sum
//go:embed runtime/schedule/*.go runtime/runner/*.go runtime/randinit/*.go
//go:embed runtime/opencl/*.go ir/safetensors/*.go ir/bf16/*.go
var RunnerSources embed.FS
