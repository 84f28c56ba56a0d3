#!/usr/bin/env bash
# Cross-builds the arm64 kernel tests (tests/arm64/CMakeLists.txt) into $1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$1"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$here/../../cmake/aarch64-linux-gnu.cmake" "${launcher[@]}" >/dev/null
fi
cmake --build "$build"
