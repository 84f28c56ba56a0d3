#!/usr/bin/env bash
# Configures (once) and builds the given targets in build-fuzz/: clang 14 with ASan + UBSan
# (EDGECC_SANITIZE), which also builds the fuzz targets. Shared by fuzz.sh and sanitize.sh.
#   scripts/sanitize_build.sh TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DEDGECC_SANITIZE=ON "${launcher[@]}" > /dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target "$@"
