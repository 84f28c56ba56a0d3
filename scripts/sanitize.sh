#!/usr/bin/env bash
# The ASan + UBSan run: builds edgecc, its unit and kernel tests with clang and both
# sanitizers (build-fuzz/, shared with scripts/fuzz.sh), then runs
#   - the unit tests (portable kernels included), the tokenizer tests, and the kernel tests of
#     every ISA this CPU has;
#   - end to end, with every bundle built by a sanitizing compiler too: the ONNX decoders
#     against PyTorch (tests/e2e/test_decoders.py) and GGUF generation against llama.cpp
#     (tests/e2e/test_llama_cpp.py).
# Any sanitizer report fails the run (-fno-sanitize-recover, halt_on_error). Takes ~25 min on
# 2 cores; not part of scripts/test.sh (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
bash scripts/sanitize_build.sh edgecc edgecc_unit_tests edgecc_tokenizer_tests cpu_gate edgecc_kernel_tests_avx2 \
  edgecc_kernel_tests_avx512vnni
bash scripts/setup_llama_ref.sh > /dev/null  # llama.cpp: the reference of the GGUF case and the tokenizer tests

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
step "tokenizer tests" env EDGECC_LLAMA_SRC="$HOME/.cache/edgecc/llama-ref/src" build-fuzz/bin/edgecc_tokenizer_tests --gtest_brief=1
# The ISA builds run only where this CPU has the features (cpu_gate exits 77: not run).
gated() {  # gated NAME FEATURES BINARY
  local rc=0
  build-fuzz/bin/cpu_gate "$2" "$3" --gtest_brief=1 || rc=$?
  if [ $rc -eq 77 ]; then echo "=== $1: not run (this CPU lacks $2)"; else [ $rc -eq 0 ]; fi
}
step "kernel tests (avx2)" gated "kernel tests (avx2)" "avx2 fma f16c" build-fuzz/bin/edgecc_kernel_tests_avx2
step "kernel tests (avx512vnni)" gated "kernel tests (avx512vnni)" "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni" \
  build-fuzz/bin/edgecc_kernel_tests_avx512vnni
work=build-fuzz/sanitize-work
rm -rf "$work"
step "ONNX decoders vs PyTorch" /usr/bin/python3 tests/e2e/test_decoders.py --edgecc build-fuzz/bin/edgecc --work "$work/decoders"
step "GGUF generation vs llama.cpp" /usr/bin/python3 tests/e2e/test_llama_cpp.py --edgecc build-fuzz/bin/edgecc --work "$work/llama"
[ $status -eq 0 ] && echo "sanitize: all clean" || echo "sanitize: FAILED"
exit $status
