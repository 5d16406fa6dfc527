#!/usr/bin/env bash
# The CPU peer benchmark: the same mid-size checkpoint through irc (OpenCL on
# PoCL, the whole-graph executor) and through llama.cpp's CPU backend (the
# prebuilt build npm's node-llama-cpp ships), BF16 weights, decode step time
# at each position and the prefill chunk's time to first token, side by side
# with irc/llama.cpp per position.
#
#   bash scripts/bench-peer.sh
#
# Environment: OUT (work folder; default tmp/peer), POSITIONS (1,64,512,4000),
# THREADS (llama.cpp's threads and PoCL's; 2), REPEAT (irc bench --repeat;
# 3), PEER_REPEAT (llama.cpp's timed steps per position; 7), PREFILL (the
# prompt chunk; 128), FLASH_ATTN (llama.cpp's flash attention: auto, on or
# off; auto, node-llama-cpp's default), PRESET (qwen2-mid).
# It writes OUT/irc.json (irc bench's schema), OUT/llamacpp.json and
# OUT/compare.json; it installs node-llama-cpp (scripts/peer/package.json,
# pinned) into scripts/peer/node_modules when that is missing. Needs Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
out=${OUT:-tmp/peer}
positions=${POSITIONS:-1,64,512,4000}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
peer_repeat=${PEER_REPEAT:-7}
prefill=${PREFILL:-128}
flash=${FLASH_ATTN:-auto}
preset=${PRESET:-qwen2-mid}
command -v node >/dev/null || { echo "bench-peer: needs Node.js (20 or later) for llama.cpp's npm build" >&2; exit 1; }
mkdir -p "$out"

# The cache holds the last position plus a prefill chunk (irc bench measures
# positions up to max cache - prefill), rounded up to a multiple of 128;
# llama.cpp gets the same context.
last=$(tr , '\n' <<<"$positions" | sort -n | tail -n 1)
cache=$(( (last + prefill + 127) / 128 * 128 ))

echo "== building irc and hf2gguf"
go build -o "$out/irc" ./cmd/irc
go build -o "$out/hf2gguf" ./scripts/peer/hf2gguf
if [ ! -d scripts/peer/node_modules/node-llama-cpp ]; then
  echo "== installing node-llama-cpp (scripts/peer/package-lock.json)"
  (cd scripts/peer && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== $preset: checkpoint, GGUF, irc import (cache $cache, prefill $prefill)"
"$out/irc" testmodel -o "$out/models" --preset "$preset"
model="$out/models/$preset"
"$out/hf2gguf" "$model" "$out/$preset.gguf"
"$out/irc" import "$model" -o "$model/model.irpb" --max-cache-len "$cache" --prefill-len "$prefill"

# PoCL's pthread device takes every core unless told; give it llama.cpp's
# thread count (both variables: PoCL renamed it).
export POCL_MAX_PTHREAD_COUNT=$threads POCL_CPU_MAX_CU_COUNT=$threads
echo "== irc bench (opencl, whole, positions $positions, repeat $repeat)"
"$out/irc" bench "$model/model.irpb" --target opencl --executor whole --positions "$positions" \
  --repeat "$repeat" --json "$out/irc.json"
echo "== llama.cpp CPU ($threads threads, flash attention $flash, $peer_repeat steps per position)"
node scripts/peer/llamacpp-bench.mjs "$out/$preset.gguf" --threads "$threads" --positions "$positions" \
  --prefill "$prefill" --ctx "$cache" --repeat "$peer_repeat" --flash-attention "$flash" --json "$out/llamacpp.json"
echo "== irc vs llama.cpp"
node scripts/peer/compare.mjs "$out/irc.json" "$out/llamacpp.json" --json "$out/compare.json"
