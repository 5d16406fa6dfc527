#!/usr/bin/env bash
# The main job on the bundled example: write the tiny Qwen2 test checkpoint,
# import it to the IR, compile it for OpenCL (a dump per pass, the stats and
# the kernel schedule), build the generated runner, and generate tokens on
# the OpenCL device (PoCL on the CPU where there is no GPU), with timings:
# token ids in and out, then a text prompt in and text out through the
# tokenizer and chat template the checkpoint carries (random weights: the
# text is gibberish); benchmark it (irc bench: JSON and a PNG chart); the
# reference runtime's ids follow for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
out=${OUT:-$(mktemp -d)}
go build -o "$out/irc" ./cmd/irc
"$out/irc" testmodel -o "$out/models" --preset qwen2-tiny
"$out/irc" import "$out/models/qwen2-tiny" -o "$out/qwen2-tiny.irpb"
"$out/irc" compile "$out/qwen2-tiny.irpb" --target opencl -o "$out/runner" \
  --dump-after=all --dump-dir "$out/dumps" --time-passes --emit schedule > "$out/schedule.txt"
tail -n 1 "$out/schedule.txt"
sed -n '/^graph decode/,/launches:/p' "$out/schedule.txt" | head -n 4
(cd "$out/runner" && go build -trimpath -o qwen2-tiny .)
echo "== opencl: generate 8 tokens after the prompt 1,2,3,4,5"
"$out/runner/qwen2-tiny" --tokens 1,2,3,4,5 --generate 8 --weights "$out" --logits-out "$out/logits.npy"
echo "== opencl, text: the prompt through the model's tokenizer and chat template (irc tokenize shows the ids), the answer streamed back"
echo "   (random weights: the text is gibberish; it ends at <|im_end|> or after 24 tokens)"
prompt="Hello! What is a graph compiler?"
"$out/irc" tokenize "$out/qwen2-tiny.irpb" --text "$prompt" | sed -n 1p
"$out/runner/qwen2-tiny" --prompt "$prompt" --chat --max-tokens 24 --weights "$out"
echo "== irc bench: TTFT and one decode step at positions 1..64, whole graph vs DAG (--partition layer)"
"$out/irc" bench "$out/qwen2-tiny.irpb" --target opencl --max-position 64 --repeat 3 --executor both \
  --json "$out/bench.json" --chart "$out/bench.png"
echo "== ref"
"$out/irc" run "$out/qwen2-tiny.irpb" --tokens 1,2,3,4,5 --generate 8
echo "runner: $out/runner; per-pass dumps: $out/dumps; schedule: $out/schedule.txt; logits: $out/logits.npy; bench: $out/bench.json, $out/bench.png"
