#!/usr/bin/env bash
# The main job on the bundled example: write the tiny Qwen2 test checkpoint,
# import it to the IR, print the start of the decode graph, and generate
# tokens on the reference runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$(mktemp -d)}
go build -o "$out/irc" ./cmd/irc
"$out/irc" testmodel -o "$out/models" --preset qwen2-tiny
"$out/irc" import "$out/models/qwen2-tiny" -o "$out/qwen2-tiny.irpb"
"$out/irc" dump "$out/qwen2-tiny.irpb" --graph decode | sed -n '/^graph decode/,/l0.attn.rope /p'
"$out/irc" run "$out/qwen2-tiny.irpb" --tokens 1,2,3,4,5 --generate 8 --logits-out "$out/logits.npy"
echo "logits: $out/logits.npy"
