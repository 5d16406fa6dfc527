# gguf-lines.sh: what scripts/gguf-crosscheck.sh and
# scripts/gguf-llama-quantized.sh share, sourced by both (from the repo
# root, with out, tokens, generate, opencl, kv_types and bar set): the
# tools they build, and check_gguf, which imports one GGUF file, runs it
# through irc's ref and (OPENCL=1) OpenCL and through llama.cpp for each KV
# cache type, and prints one line per type (see either script's header).

# build_tools builds irc and hf2gguf into $out and installs node-llama-cpp
# (scripts/peer/package-lock.json) where it is missing.
build_tools() {
  mkdir -p "$out"
  go build -o "$out/irc" ./cmd/irc
  go build -o "$out/hf2gguf" ./scripts/peer/hf2gguf
  if [ ! -d scripts/peer/node_modules/node-llama-cpp ]; then
    echo "== installing node-llama-cpp (scripts/peer/package-lock.json)" >&2
    (cd scripts/peer && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# ids is the last line of ids in its input (the OpenCL runner prints its
# timings after them).
ids() { grep -E '^[0-9]+(,[0-9]+)*$' | tail -n 1; }
# compare prints "REL_L2 MAX_ABS ARGMAX_DIFF_ROW MARGIN MAX_ABS_BEFORE" of
# GOT against WANT, rows centred (see logits-compare.mjs --argmax).
compare() { node scripts/peer/logits-compare.mjs "$1" "$2" --center --argmax | awk '{print $3, $5, $11, $13, $15}'; }
# judge prints the ids verdict of one side: "yes", "NO: IDS (margin M
# CLEAR)" (a failure) or, for a quantized type only, "NO: IDS (margin M <=
# 2 x |diff| D: not clear)".
judge() { # ids llama_ids type margin before
  if [ "$1" = "$2" ]; then echo yes; return; fi
  case "$3" in q*)
    if awk -v m="$4" -v d="$5" 'BEGIN{exit !(m != "-" && m <= 2 * d)}'; then
      echo "NO: $1 (margin $4 <= 2 x |diff| $5: not clear)"; return
    fi ;;
  esac
  echo "NO: $1 (margin ${4:--} CLEAR)"
}

# header prints the table's title line and its column names.
header() {
  echo "$1"
  printf '%-14s %-4s %-8s %-10s %-10s %-10s %-10s %s\n' preset type llama-kv ref-relL2 ref-maxabs ocl-relL2 ocl-maxabs "greedy ids (llama.cpp; irc equal?)"
}

# check_gguf PRESET TYPE BASE: $BASE.gguf against llama.cpp, one line per
# KV cache type; sets fail=1 on a refused file, a failed run, an F32/F16
# line past the bar or ids that differ where llama.cpp's margin is clear.
check_gguf() {
  local p=$1 t=$2 base=$3
  if ! "$out/irc" import "$base.gguf" -o "$base.irpb" >"$base.import.log" 2>&1; then
    echo "$p $t: irc import refused: $(grep -m 1 . "$base.import.log")"; fail=1; return
  fi
  local ref_ids ocl_ids=- ocl=$opencl
  ref_ids=$("$out/irc" run "$base.irpb" --tokens "$tokens" --generate "$generate" --logits-out "$base.ref.npy" 2>/dev/null | ids)
  if [ "$ocl" = 1 ]; then
    rm -f "$base.ocl.npy"
    if ! "$out/irc" run "$base.irpb" --backend opencl --tokens "$tokens" --generate "$generate" \
      --logits-out "$base.ocl.npy" >"$base.ocl.log" 2>&1; then
      echo "$p $t: irc on OpenCL failed: $(grep -m 1 '^irc:' "$base.ocl.log" || tail -n 1 "$base.ocl.log")" >&2
      ocl=0 fail=1
    else
      ocl_ids=$(ids <"$base.ocl.log")
    fi
  fi
  local kv llama_ids ref_rel ref_max ref_row ref_margin ref_before ocl_rel ocl_max ocl_row ocl_margin ocl_before agree verdict r
  for kv in $kv_types; do
    llama_ids=$(node scripts/peer/llamacpp-logits.mjs "$base.gguf" --tokens "$tokens" --generate "$generate" \
      --kv-type "$kv" --out "$base.llama-$kv.npy" | ids)
    read -r ref_rel ref_max ref_row ref_margin ref_before < <(compare "$base.llama-$kv.npy" "$base.ref.npy")
    ocl_rel=- ocl_max=-
    if [ "$ocl" = 1 ]; then
      read -r ocl_rel ocl_max ocl_row ocl_margin ocl_before < <(compare "$base.llama-$kv.npy" "$base.ocl.npy")
    fi
    agree="ref $(judge "$ref_ids" "$llama_ids" "$t" "$ref_margin" "$ref_before")"
    [ "$ocl" = 1 ] && agree="$agree, opencl $(judge "$ocl_ids" "$llama_ids" "$t" "$ocl_margin" "$ocl_before")"
    verdict=""
    case "$t" in
      q*) verdict=" (reported)" ;;
      *)
        for r in $ref_rel $ocl_rel; do
          [ "$r" = - ] && continue
          awk -v r="$r" -v b="$bar" 'BEGIN{exit !(r > b)}' && verdict=" MISSES $bar" && fail=1
        done ;;
    esac
    case "$agree" in *CLEAR*) fail=1 ;; esac
    [ "$opencl" = 1 ] && [ "$ocl" = 0 ] && ocl_rel=failed
    printf '%-14s %-4s %-8s %-10s %-10s %-10s %-10s %s\n' "$p" "$t" "$kv" "$ref_rel" "$ref_max" "$ocl_rel" "$ocl_max" "$llama_ids ($agree)$verdict"
  done
}
