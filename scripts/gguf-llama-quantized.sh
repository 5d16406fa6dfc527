#!/usr/bin/env bash
# Issue 15's "a GGUF written by an independent tool loads and runs":
# llama.cpp itself writes the F16, Q8_0 and Q4_0 files.
# For every tiny preset it writes the checkpoint with its sizes rounded to whole blocks
# (irc testmodel --blocks), the F32 GGUF (scripts/peer/hf2gguf --outtype f32),
# quantizes that with llama.cpp's own llama_model_quantize (the libllama
# node-llama-cpp 3.21.1 ships; scripts/peer/llama-quantize.c, params.pure so
# that every matrix, token_embd and output included, gets the one type; norms
# stay F32), imports the result (irc import), and runs the prompt and greedy
# steps through llama.cpp's CPU backend (scripts/peer/llamacpp-logits.mjs,
# KV cache F32 and F16), irc's ref and, unless OPENCL=0, irc on OpenCL. It
# prints per preset and type the relative L2 and largest |diff| of the whole
# logits array against llama.cpp's (rows centred, see gguf-crosscheck.sh)
# and whether the greedy ids agree; where they differ, llama.cpp's margin at
# the first differing row and the largest |diff| before it
# (logits-compare.mjs --argmax). As in gguf-crosscheck.sh, F16 lines must
# meet BAR (relative L2 1e-3) with equal ids; Q8_0/Q4_0 figures are
# reported, not held to a bar (llama.cpp's CPU matmuls quantize the
# activations to Q8_0 too). A line fails when irc refuses the file, a run
# fails, an F16 line misses the bar, or the ids differ where llama.cpp's
# margin is more than twice the largest difference before it.
#
#   bash scripts/gguf-llama-quantized.sh
#
# Environment: OUT (work folder; default tmp/llama-quantized), TOKENS
# (1,5,17,42,9), GENERATE (4), OPENCL (1), KV_TYPES ("f32 f16"), TYPES
# ("f16 q8_0 q4_0"), BAR (1e-3). Needs Node 20, gcc, git and node-llama-cpp in
# scripts/peer/node_modules (installed from package-lock.json when missing):
# llama.h comes from the llama.cpp source bundle in that package
# (node-llama-cpp/llama/gitRelease.bundle), cloned into a temporary folder.
# Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-tmp/llama-quantized}
tokens=${TOKENS:-1,5,17,42,9}
generate=${GENERATE:-4}
opencl=${OPENCL:-1}
kv_types=${KV_TYPES:-f32 f16}
types=${TYPES:-f16 q8_0 q4_0}
bar=${BAR:-1e-3}
presets="llama-tiny llama3-scaled llama-mha-odd qwen2-tiny qwen3-tiny"
for c in node gcc git; do
  command -v "$c" >/dev/null || { echo "gguf-llama-quantized: needs $c" >&2; exit 1; }
done
source scripts/peer/gguf-lines.sh
build_tools
lib=$(cd scripts/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 && pwd -P)
[ -f "$lib/libllama.v0.4.0.so" ] || { echo "gguf-llama-quantized: no $lib/libllama.v0.4.0.so" >&2; exit 1; }
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git clone --quiet scripts/peer/node_modules/node-llama-cpp/llama/gitRelease.bundle "$src/llama.cpp" 2>/dev/null
gcc -O1 -Wall -o "$out/llama-quantize" scripts/peer/llama-quantize.c \
  -I"$src/llama.cpp/include" -I"$src/llama.cpp/ggml/include" \
  -L"$lib" -l:libllama.v0.4.0.so -Wl,-rpath,"$lib"
"$out/irc" testmodel -o "$out/models-blocks" --blocks >/dev/null

header "llama.cpp's llama_model_quantize (pure); prompt $tokens, $generate greedy ids; relative L2 and max |diff| against llama.cpp's logits (rows centred)"
fail=0
for p in $presets; do
  "$out/hf2gguf" --outtype f32 "$out/models-blocks/$p" "$out/$p-f32.gguf" 2>/dev/null
  for t in $types; do
    base="$out/$p-llama-$t"
    if ! "$out/llama-quantize" "$out/$p-f32.gguf" "$base.gguf" "$t" >"$base.quantize.log" 2>&1; then
      echo "$p $t: llama_model_quantize failed: $(tail -n 1 "$base.quantize.log")"; fail=1; continue
    fi
    echo "$p $t: llama.cpp wrote $(grep -o 'type = *[a-z0-9_]*, converting to [a-z0-9_]*' "$base.quantize.log" | awk '{print $NF}' | sort | uniq -c | awk '{printf "%s%d %s", s, $1, $2; s=", "}') matrices, $(grep -c 'type = *f32, size =' "$base.quantize.log") kept F32" >&2
    check_gguf "$p" "$t" "$base"
  done
done
exit $fail
