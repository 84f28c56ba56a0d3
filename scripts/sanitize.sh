#!/usr/bin/env bash
# The ASan + UBSan run: builds edgecc, its unit and kernel tests with clang and both
# sanitizers (build-fuzz/, shared with scripts/fuzz.sh), then runs
#   - the unit tests and the kernel tests of every ISA this CPU has;
#   - end to end, with every bundle built by a sanitizing compiler too: the ONNX decoders
#     against PyTorch (tests/e2e/test_decoders.py) and GGUF generation against llama.cpp
#     (tests/e2e/test_llama_cpp.py).
# Any sanitizer report fails the run (-fno-sanitize-recover, halt_on_error). Takes ~25 min on
# 2 cores; not part of scripts/test.sh (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
bash scripts/setup.sh
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DEDGECC_SANITIZE=ON "${launcher[@]}" > /dev/null
fi
cmake --build build-fuzz -j "$(nproc)" --target edgecc edgecc_unit_tests edgecc_kernel_tests edgecc_kernel_tests_avx2 \
  edgecc_kernel_tests_avx512vnni

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Bundles are compiled by edgecc through $CXX: a wrapper adds the sanitizers to them.
wrapper=$PWD/build-fuzz/sanitizing-c++
printf '#!/bin/sh\nexec clang++-14 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer "$@"\n' > "$wrapper"
chmod +x "$wrapper"
export CXX=$wrapper

status=0
step() {  # step NAME COMMAND...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then echo "=== $name: clean"; else echo "=== $name: FAILED"; status=1; fi
}
step "unit tests" build-fuzz/bin/edgecc_unit_tests --gtest_brief=1
step "kernel tests (portable)" build-fuzz/bin/edgecc_kernel_tests --gtest_brief=1
for isa in avx2 avx512vnni; do
  if grep -q -w "$([ $isa = avx2 ] && echo avx2 || echo avx512_vnni)" /proc/cpuinfo; then
    step "kernel tests ($isa)" "build-fuzz/bin/edgecc_kernel_tests_$isa" --gtest_brief=1
  else
    echo "=== kernel tests ($isa): not run (this CPU lacks it)"
  fi
done
work=build-fuzz/sanitize-work
rm -rf "$work"
step "ONNX decoders vs PyTorch" /usr/bin/python3 tests/e2e/test_decoders.py --edgecc build-fuzz/bin/edgecc --work "$work/decoders"
step "GGUF generation vs llama.cpp" /usr/bin/python3 tests/e2e/test_llama_cpp.py --edgecc build-fuzz/bin/edgecc --work "$work/llama"
[ $status -eq 0 ] && echo "sanitize: all clean" || echo "sanitize: FAILED"
exit $status
