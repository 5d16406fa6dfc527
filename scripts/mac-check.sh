#!/usr/bin/env bash
# The Metal backend's checks on a Mac, as one command (Go installed, with
# the Xcode command line tools for cgo and the Metal framework):
#
#   bash scripts/mac-check.sh
#
# It stops at the first failure, in this order: the Metal runtime's tests
# and the shared conformance harness on the Mac's GPU (every kernel against
# ref, awkward shapes, f32/bf16/f16, the tiny presets end to end), then
# irc bench of Qwen2.5-1.5B (32K cache, random weights, repeat 3), written
# to bench/results/<chip>-qwen2.5-1.5b.json. CI on Linux verifies the
# generated MSL through the C++ shim; this is the only check of Apple's
# compiler, driver and the Objective-C layer.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)" = Darwin ] || { echo "mac-check.sh runs on macOS (this is $(uname -s))" >&2; exit 1; }
model=qwen2.5-1.5b-instruct
chip=$(sysctl -n machdep.cpu.brand_string | tr '[:upper:] ' '[:lower:]-')
echo "== Metal runtime and conformance on $chip"
IRC_REQUIRE_BACKENDS=metal go test -count=1 ./runtime/metal
echo "== irc bench $model (32K cache, random weights)"
tmp=$(mktemp -d)
go run ./cmd/irc import "models/$model" -o "$tmp/$model.irpb" --max-cache-len 32768
mkdir -p bench/results
go run ./cmd/irc bench "$tmp/$model.irpb" --target metal --random-weights --repeat 3 \
  --json "bench/results/$chip-qwen2.5-1.5b.json" | tee "bench/results/$chip-qwen2.5-1.5b.md"
echo "wrote bench/results/$chip-qwen2.5-1.5b.json"
