#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): formatting, vet, the whole
# test suite (the OpenCL tests run for real, on PoCL where there is no GPU),
# then a short smoke run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
# The suite compiles and builds the CUDA backend (no GPU needed): nvcc too.
IRC_DEPS_CUDA=1 source scripts/deps.sh
go mod download

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
# The CUDA driver code builds only with the cuda tag (gorgonia.org/cu exits
# a process without a GPU): vet it, and build the conformance test binary
# scripts/gpu-check.sh runs on a GPU host.
go vet -tags cuda ./runtime/cuda
go test -tags cuda -c -o "$(mktemp -d)/cuda-conformance.test" ./runtime/cuda
# The Metal runtime builds only on macOS; its Go code (all but the cgo
# calls into metal_darwin.m) must type-check for darwin here.
GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet ./runtime/metal
# The OpenCL backend must run here (PoCL), nvcc must compile the CUDA
# kernels and runner, and the Metal library must run through the C++ shim
# (g++): their tests fail rather than skip.
IRC_REQUIRE_BACKENDS=opencl,nvcc,metal go test -count=1 ./...

# Fuzz smoke: each target for a fixed number of executions (a few seconds
# each here). Counts, not durations: with a -fuzztime duration, Go 1.26's
# fuzz coordinator can report a spurious "context deadline exceeded" failure
# at the deadline (golang/go#75804, fixed in Go 1.27). FUZZTIME overrides
# every budget. go test -fuzz takes one target and one package at a time.
# The parsers read outside bytes, so the smoke runs under the address-space
# limit the untrusted-input guarantees are stated for (ulimit -v 8000000,
# ~7.6 GiB): an input that made a parser allocate past its budget fails here.
(
ulimit -v 8000000
while read -r pkg target budget; do
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-$budget}" -fuzzminimizetime 200x
done <<'LIST'
./ir FuzzParse 100000x
./ir FuzzUnmarshal 100000x
./ir/hf FuzzParseConfig 150000x
./ir/safetensors FuzzParseHeader 150000x
./ir/gguf FuzzGGUFParse 100000x
./passes FuzzPipeline 50000x
./bench FuzzValidate 20000x
./runtime/tokenizer FuzzParseHF 30000x
./runtime/tokenizer FuzzEncode 20000x
./runtime/chat FuzzRender 30000x
LIST
)
