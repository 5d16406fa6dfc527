#!/usr/bin/env bash
# The GPU benchmark as two commands, for a GPU host without Go (the device
# tool's H100/H200): build everything here, carry gpu/, measure there.
#
#   bash scripts/bench-gpu.sh build     # here: irc and the whole and DAG
#                                       # runners of Qwen2.5-1.5B (32K cache) in gpu/
#   bash scripts/bench-gpu.sh measure [FLAGS]  # on the GPU host (device tool, carry
#                                       # gpu): irc bench --runners [FLAGS], results in $OUT
#
# The weights are the deterministic random ones (the step time does not
# depend on their values); bench/results/ keeps what the runs measured.
set -euo pipefail
cd "$(dirname "$0")/.."
model=qwen2.5-1.5b-instruct
case "${1:-}" in
build)
  source scripts/deps.sh
  rm -rf gpu && mkdir -p gpu
  CGO_ENABLED=0 go build -trimpath -o gpu/irc ./cmd/irc
  gpu/irc import "models/$model" -o "gpu/$model.irpb" --max-cache-len 32768
  gpu/irc bench "gpu/$model.irpb" --target opencl --keep "$PWD/gpu/runners" --build-only
  # The OpenCL ICD loader the runners link, in case the host has none.
  cp -L "$(ldconfig -p | awk '/libOpenCL\.so\.1 /{print $NF; exit}')" gpu/
  du -sh gpu
  ;;
measure)
  out=${OUT:-gpu/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/gpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    # The NVIDIA driver ships its OpenCL library; point the loader at it.
    mkdir -p gpu/vendors && echo libnvidia-opencl.so.1 > gpu/vendors/nvidia.icd
    export OCL_ICD_VENDORS="$PWD/gpu/vendors"
  fi
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv" 2>&1 || true
  gpu/irc bench --runners gpu/runners --target opencl --random-weights \
    --json "$out/$model-opencl.json" --chart "$out/$model-opencl.png" "${@:2}" | tee "$out/$model-opencl.md"
  ;;
*)
  echo "usage: bash scripts/bench-gpu.sh build|measure" >&2
  exit 2
  ;;
esac
