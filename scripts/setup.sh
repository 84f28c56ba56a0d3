#!/usr/bin/env bash
# Installs the Debian packages edgecc needs to build and test. Idempotent: only missing
# packages are installed, so a ready machine pays nothing.
set -euo pipefail
PACKAGES=(
  cmake ninja-build g++ ccache
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools libzstd-dev
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  pybind11-dev python3-dev python3-numpy python3-onnx python3-torch
  libopenblas0-pthread   # PyTorch through OpenBLAS: ~25x the matmul speed of the reference BLAS
  libgtest-dev
  g++-aarch64-linux-gnu qemu-user   # arm64 bundles: cross-built, tested under emulation
  libhalide14-0-dev llvm-14   # generated kernels: Halide at compile time, llc-14 for the target's objects
  clang-14 libclang-rt-14-dev   # scripts/fuzz.sh and scripts/sanitize.sh: libFuzzer, ASan, UBSan
)
# npm fetches the llama.cpp reference (node-llama-cpp) for the tests; use the machine's own
# Node.js when there is one.
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
