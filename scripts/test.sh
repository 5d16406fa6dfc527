#!/usr/bin/env bash
# The project's test command (README.md, .ci/run): formatting, vet, the whole
# test suite (the OpenCL tests run for real, on PoCL where there is no GPU),
# then a short smoke run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
go mod download

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -count=1 ./...

# Fuzz smoke: each target for a few seconds (go test -fuzz takes one target
# and one package at a time).
fuzztime=${FUZZTIME:-8s}
while read -r pkg target; do
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s
done <<'LIST'
./ir FuzzParse
./ir FuzzUnmarshal
./ir/hf FuzzParseConfig
./ir/safetensors FuzzParseHeader
./passes FuzzPipeline
LIST
