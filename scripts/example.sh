#!/usr/bin/env bash
# The main job on the bundled example: write the tiny Qwen2 test checkpoint,
# import it to the IR, compile it (fusion, views, placement) with a dump per
# pass and the stats, print the fused decode graph's first layer, and
# generate tokens on the reference runtime from the compiled model.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$(mktemp -d)}
go build -o "$out/irc" ./cmd/irc
"$out/irc" testmodel -o "$out/models" --preset qwen2-tiny
"$out/irc" import "$out/models/qwen2-tiny" -o "$out/qwen2-tiny.irpb"
"$out/irc" compile "$out/qwen2-tiny.irpb" --target ref -o "$out/qwen2-tiny.fused.irpb" \
  --dump-after=all --dump-dir "$out/dumps" --stats-json "$out/stats.json" --time-passes
"$out/irc" dump "$out/qwen2-tiny.fused.irpb" --graph decode | sed -n '/^graph decode/,/l0.mlp.residual /p'
"$out/irc" run "$out/qwen2-tiny.fused.irpb" --passes none --tokens 1,2,3,4,5 --generate 8 --logits-out "$out/logits.npy"
echo "per-pass dumps: $out/dumps; stats: $out/stats.json; logits: $out/logits.npy"
