#!/usr/bin/env bash
# The GGUF cross-check (issue 15's first acceptance item): irc's logits
# against llama.cpp's on the very same GGUF files. For every tiny preset and F32,
# F16, Q8_0 and Q4_0 matrices, it writes the checkpoint (irc testmodel; for
# Q8_0/Q4_0 with its sizes rounded up to whole blocks, --blocks, so every
# linear layer quantizes), the GGUF
# (scripts/peer/hf2gguf --outtype, over internal/gguf), imports it
# (irc import), and runs a fixed prompt and greedy steps through
#   - llama.cpp's CPU backend (npm's node-llama-cpp, scripts/peer/llamacpp-logits.mjs),
#     with its KV cache in F32 and in F16 (llama.cpp's default),
#   - irc's ref (irc run --logits-out), and irc on OpenCL (irc run --backend opencl)
#     unless OPENCL=0,
# then prints per preset and type the relative L2 of the whole logits array
# (P + N - 1 rows x vocab; llama.cpp as the reference) and the largest
# absolute difference, and whether the greedy ids agree.
# Q8_0/Q4_0 lines are reported, not held to the bar: llama.cpp's CPU
# matmuls quantize the activations to Q8_0 blocks too, irc computes with
# exactly dequantized weights and float activations. Their greedy ids must
# agree where the margin is clear: where they differ, the line shows
# llama.cpp's margin (top logit less the second) at the first row whose
# argmax differs and the largest |diff| of the rows before it, and fails
# only if that margin is more than twice that difference.
#
#   bash scripts/gguf-crosscheck.sh
#
# node-llama-cpp hands JavaScript the softmax of a row, not the logits, so
# llama.cpp's rows are log-probabilities: both sides are compared with each
# row's mean removed (scripts/peer/logits-compare.mjs --center), which is
# the logits up to the one constant per row that softmax ignores.
# Environment: OUT (work folder; default tmp/crosscheck), TOKENS (the
# prompt; 1,5,17,42,9), GENERATE (greedy ids; 4), OPENCL (1: also irc's
# OpenCL runner; needs an OpenCL device, e.g. PoCL), KV_TYPES (llama.cpp's
# KV cache types; "f32 f16"), TYPES (the GGUF matrix types; "f32 f16 q8_0
# q4_0"), BAR (the relative L2 an F32/F16 line must meet; 1e-3). It exits 1 when a line misses the bar, the greedy ids differ or
# a run fails (an OpenCL failure is printed, its columns read "failed").
# Last, the GGUF tokenizer: llama.cpp's ids against irc tokenize's for
# every text of testdata/tokenizers/corpus.json, on the presets that carry a
# tokenizer.
# Needs Node 20; installs node-llama-cpp (scripts/peer/package-lock.json)
# into scripts/peer/node_modules when that is missing. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-tmp/crosscheck}
tokens=${TOKENS:-1,5,17,42,9}
generate=${GENERATE:-4}
opencl=${OPENCL:-1}
kv_types=${KV_TYPES:-f32 f16}
types=${TYPES:-f32 f16 q8_0 q4_0}
bar=${BAR:-1e-3}
presets="llama-tiny llama3-scaled llama-mha-odd qwen2-tiny qwen3-tiny"
command -v node >/dev/null || { echo "gguf-crosscheck: needs Node.js (20 or later) for llama.cpp's npm build" >&2; exit 1; }
source scripts/peer/gguf-lines.sh
build_tools
"$out/irc" testmodel -o "$out/models" >/dev/null
"$out/irc" testmodel -o "$out/models-blocks" --blocks >/dev/null

header "prompt $tokens, $generate greedy ids; relative L2 and max |diff| of the whole logits array against llama.cpp's (rows centred)"
fail=0
for p in $presets; do
  for t in $types; do
    base="$out/$p-$t"
    models="$out/models"
    case "$t" in q*) models="$out/models-blocks" ;; esac
    "$out/hf2gguf" --outtype "$t" "$models/$p" "$base.gguf" 2>/dev/null
    check_gguf "$p" "$t" "$base"
  done
done

# The tokenizer a GGUF file carries: for the presets whose checkpoint has a
# tokenizer.json (hf2gguf writes it as tokenizer.ggml.*), llama.cpp's
# tokenization of every text string of the tokenizer corpus
# (testdata/tokenizers/corpus.json; raw-byte entries left out) against
# irc tokenize's on the same GGUF file (strings holding NUL, which a
# command-line argument cannot, left out). Strings that NFC normalization
# changes are left out and counted: Qwen's tokenizer.json normalizes to NFC
# and irc does so for a GGUF of Qwen's pre-tokenizer too (the same ids
# from both sources, as transformers gives), where llama.cpp skips it.
node -e '
const all = JSON.parse(require("fs").readFileSync("testdata/tokenizers/corpus.json", "utf8")).filter(s => typeof s === "string");
const text = all.filter(s => !s.includes("\0")); // a command-line argument cannot hold NUL
const stable = text.filter(s => s === s.normalize("NFC"));
console.log(JSON.stringify(stable));
console.error(`${text.length - stable.length} that NFC changes and ${all.length - text.length} holding NUL left out`);' >"$out/corpus.json" 2>"$out/corpus-left-out.txt"
for p in $presets; do
  [ -f "$out/models/$p/tokenizer.json" ] || continue
  node scripts/peer/llamacpp-tokenize.mjs "$out/$p-f32.gguf" "$out/corpus.json" >"$out/$p.llama-tokens.txt"
  total=0 same=0 first=""
  while IFS= read -r -d '' text && IFS= read -r want <&3; do
    got=$("$out/irc" tokenize "$out/$p-f32.gguf" --text "$text" | sed -n 1p)
    total=$((total + 1))
    if [ "$got" = "$want" ]; then same=$((same + 1)); elif [ -z "$first" ]; then first="$text"; fi
  done < <(node -e 'for (const s of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) process.stdout.write(s + "\0")' "$out/corpus.json") 3<"$out/$p.llama-tokens.txt"
  echo "$p tokenizer (GGUF): irc tokenize equals llama.cpp's ids on $same of $total corpus strings ($(cat "$out/corpus-left-out.txt"))${first:+; first difference: $(printf %q "$first")}"
  [ "$same" = "$total" ] || fail=1
done
exit $fail
