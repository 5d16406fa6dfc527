#!/usr/bin/env bash
# The CUDA backend's GPU checks as two commands: build everything here (Go
# and nvcc, no GPU), carry gpu/ to a GPU host (driver, nvcc, Python with
# torch and transformers; no Go, no network) and run it there.
#
#   bash scripts/gpu-check.sh build   # here: gpu/ (< 60 MiB)
#   bash scripts/gpu-check.sh run     # on the GPU host (the device tool: carry gpu);
#                                     # results in $OUT (default gpu/results)
#
# run stops at the first failure, in this order: a driver probe; irc check
# of the tiny Qwen2 (reported before the conformance, so that a failure there
# comes with the first node that departs from ref); every
# kernel's conformance against ref and the tiny presets end to end (the
# shared harness, ref computing its own expectations, nvcc compiling the
# kernels); irc bench of Qwen2.5-1.5B (32K cache, random weights, whole and
# DAG executors, positions 1, 2, 4, ..., 32640, repeat 3), with CUDA graphs
# and without; transformers' eager and torch.compile decode steps on the
# same GPU; irc bench compare.
set -euo pipefail
cd "$(dirname "$0")/.."
model=qwen2.5-1.5b-instruct
case "${1:-}" in
build)
  IRC_DEPS_CUDA=1 source scripts/deps.sh
  rm -rf gpu && mkdir -p gpu
  CGO_ENABLED=0 go build -trimpath -o gpu/irc ./cmd/irc
  go test -tags cuda -trimpath -c -o gpu/cuda-conformance.test ./runtime/cuda
  gpu/irc import "models/$model" -o "gpu/$model.irpb" --max-cache-len 32768
  gpu/irc bench "gpu/$model.irpb" --target cuda --keep "$PWD/gpu/runners" --build-only
  mkdir -p "gpu/$model" && cp "models/$model/config.json" "gpu/$model/"
  # irc check's runner and ref's expectations for the tiny Qwen2, so that
  # a failure on the GPU names the first node that departs from ref.
  gpu/irc testmodel -o gpu/tiny --preset qwen2-tiny
  gpu/irc import gpu/tiny/qwen2-tiny -o gpu/tiny/qwen2-tiny.irpb --max-cache-len 64 --prefill-len 16
  gpu/irc check gpu/tiny/qwen2-tiny.irpb --backend cuda --random-weights --tokens 1,5,9,2,7,3,11,4,6,8,10,12,13,14,15,16,17,18,19,20 \
    --generate 3 --keep "$PWD/gpu/check" --build-only
  cp scripts/gpu-peer.py gpu/
  size=$(du -sm gpu | cut -f1)
  echo "gpu/: ${size} MiB"
  if [ "$size" -ge 60 ]; then
    echo "gpu/ is ${size} MiB: more than the 60 MiB a device run can carry" >&2
    exit 1
  fi
  ;;
run)
  out=${OUT:-gpu/results}
  mkdir -p "$out"
  echo "== driver"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.csv"
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n1 | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
  echo "== conformance: every kernel against ref, the tiny presets end to end"
  echo "== irc check: the tiny Qwen2 node by node against ref (every traced value in $out/check.md)"
  checked=0
  gpu/irc check --runners gpu/check --all > "$out/check.md" || checked=$?
  tail -n 12 "$out/check.md"
  gpu/cuda-conformance.test -test.run TestConformance -test.v -test.timeout 240s > "$out/conformance.txt" 2>&1 ||
    { tail -n 40 "$out/conformance.txt"; echo "conformance FAILED (all of it in $out/conformance.txt; irc check above names the first divergent node)" >&2; exit 1; }
  [ "$checked" = 0 ] || { echo "irc check found a divergence (above; all of it in $out/check.md)" >&2; exit 1; }
  grep -E '^(--- |ok|PASS)' "$out/conformance.txt" | tail -n 5
  echo "== irc bench (CUDA graphs)"
  gpu/irc bench --runners gpu/runners --target cuda --random-weights --repeat 3 \
    --json "$out/$gpu-$model.json" --chart "$out/$gpu-$model.png" | tee "$out/$gpu-$model.md"
  echo "== irc bench without CUDA graphs (A/B)"
  gpu/irc bench --runners gpu/runners --target cuda --random-weights --repeat 3 --no-graphs \
    --json "$out/$gpu-$model-nographs.json" | tee "$out/$gpu-$model-nographs.md"
  gpu/irc bench compare "$out/$gpu-$model-nographs.json" "$out/$gpu-$model.json" --labels "no graphs,graphs" | tee "$out/$gpu-$model-graphs-ab.md"
  positions=$(python3 -c "import json; print(','.join(str(p['position']) for p in json.load(open('$out/$gpu-$model.json'))['positions']))")
  for mode in eager compile; do
    echo "== transformers $mode"
    python3 gpu/gpu-peer.py --config "gpu/$model" --mode "$mode" --positions "$positions" \
      --max-cache-len 32768 --repeat 3 --json "$out/$gpu-$model-transformers-$mode.json"
    gpu/irc bench compare "$out/$gpu-$model-transformers-$mode.json" "$out/$gpu-$model.json" \
      --labels "transformers $mode,irc" --chart "$out/$gpu-$model-vs-$mode.png" | tee "$out/$gpu-$model-vs-$mode.md"
  done
  ;;
*)
  echo "usage: bash scripts/gpu-check.sh build|run" >&2
  exit 2
  ;;
esac
