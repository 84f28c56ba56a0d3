#!/usr/bin/env bash
# Builds llama.cpp's tools natively (-march=native: the peer at its best on this CPU; AMX
# excluded: its tile instructions fault in virtual machines that do not enable them) from the
# source node-llama-cpp@3.21.1 carries (scripts/setup_llama_ref.sh fetches it), into
# ${EDGECC_LLAMA_BENCH:-~/.cache/edgecc/llama-bench}: llama-bench (speed), llama-perplexity
# and llama-quantize, llama-imatrix (accuracy). About 15 minutes on 2 cores the first time, then cached; for
# benchmarks and accuracy scripts only, never run by the tests. Prints "TOOL: PATH" per tool.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${EDGECC_LLAMA_BENCH:-$HOME/.cache/edgecc/llama-bench}
REF=$(bash "$ROOT/scripts/setup_llama_ref.sh" | tail -1)
SRC=${REF#llama-ref: }/src
TOOLS=(llama-bench llama-perplexity llama-quantize llama-imatrix)
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
STAMP=$DIR/build/.edgecc-config-2  # bump when the configuration below changes
if [[ ! -f $STAMP ]]; then
  rm -rf "$DIR/build"
  echo "llama.cpp: configuring $SRC (native, CPU only)" >&2
  no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  cmake -S "$SRC" -B "$DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
      -DCMAKE_C_FLAGS="$no_amx" -DCMAKE_CXX_FLAGS="$no_amx" \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_OPENMP=ON >&2
  touch "$STAMP"
fi
for tool in "${TOOLS[@]}"; do
  [[ -x $DIR/build/bin/$tool ]] || cmake --build "$DIR/build" --target "$tool" -j "$(nproc)" >&2
done
for tool in "${TOOLS[@]}"; do echo "$tool: $DIR/build/bin/$tool"; done
