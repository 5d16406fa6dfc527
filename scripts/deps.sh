#!/usr/bin/env bash
# Installs what building and testing irc needs on a fresh Debian machine,
# skipping what is already there: Go (if missing), a C compiler for cgo,
# OpenCL (the ICD loader and headers, and PoCL, which runs OpenCL on the CPU
# where no GPU driver is installed), and with IRC_DEPS_CUDA=1 the CUDA 11.8
# toolkit (nvcc, cuda.h, libcuda) from Debian's contrib and non-free, which
# compiles and builds the CUDA runner without a GPU. Sourced by the set-up
# scripts.
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
# g++ compiles the generated Metal library with the C++ test shim.
command -v g++ >/dev/null || need+=(g++)
[ -e /usr/include/CL/cl.h ] || need+=(ocl-icd-opencl-dev)
ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 || need+=(pocl-opencl-icd)
if ! command -v go >/dev/null; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH=/usr/local/go/bin:$PATH
  else
    # Debian's Go fetches the toolchain go.mod asks for through the module
    # proxy (Go 1.21 and later).
    need+=(golang-go git ca-certificates)
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} ..." >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "${IRC_DEPS_CUDA:-0}" = 1 ] && { ! command -v nvcc >/dev/null || [ ! -e /usr/include/cuda.h ]; }; then
  echo "installing the CUDA toolkit (nvidia-cuda-toolkit nvidia-cuda-dev, from contrib non-free) ..." >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    $sudo sed -i '/^Components:/{/contrib/!s/$/ contrib/;/non-free\b/!s/$/ non-free/}' /etc/apt/sources.list.d/debian.sources
  elif [ -f /etc/apt/sources.list ]; then
    $sudo sed -i -E '/^deb /{/contrib/!s/( main)( |$)/\1 contrib\2/;/non-free( |$)/!s/( main contrib)( |$)/\1 non-free\2/}' /etc/apt/sources.list
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev >/dev/null
fi
