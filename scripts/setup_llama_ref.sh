#!/usr/bin/env bash
# Sets up the llama.cpp reference used by the correctness tests, in
# DIR=${EDGECC_LLAMA_REF:-~/.cache/edgecc/llama-ref}:
#   DIR/npm      node-llama-cpp@3.21.1 from npm: prebuilt linux-x64 libllama/libggml
#   DIR/src      the matching llama.cpp source (headers, gguf-py, models/ggml-vocab-*)
#   DIR/bin/llama_ref   tests/reference/llama_ref.cpp linked against those libraries
# Idempotent (each step runs only when its output is missing or stale) and safe to run
# concurrently (flock on DIR/.lock). On success prints one line: "llama-ref: DIR".
set -euo pipefail

VERSION=3.21.1
DIR=${EDGECC_LLAMA_REF:-$HOME/.cache/edgecc/llama-ref}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC_CPP=$ROOT/tests/reference/llama_ref.cpp
PKG=$DIR/npm/node_modules/node-llama-cpp
BINS=$DIR/npm/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64

fail() { echo "setup_llama_ref: $*" >&2; exit 1; }

[[ $(uname -sm) == "Linux x86_64" ]] || fail "only linux x86_64 is supported (prebuilt binaries), not $(uname -sm)"
for tool in npm git g++ flock; do
  command -v "$tool" >/dev/null || fail "'$tool' not found in PATH"
done

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9

# 1. Prebuilt libraries. Only the linux-x64 CPU package is wanted: --omit=optional skips
# node-llama-cpp's other prebuilt packages (CUDA, Vulkan, arm: ~650 MB), --ignore-scripts
# (and NODE_LLAMA_CPP_SKIP_DOWNLOAD for good measure) stops its postinstall from trying
# to download or build llama.cpp. Installed into a temporary prefix, then renamed.
if ! grep -qs "\"version\": \"$VERSION\"" "$PKG/package.json" || ! compgen -G "$BINS/libllama.v*.so" >/dev/null; then
  echo "llama-ref: installing node-llama-cpp@$VERSION from npm into $DIR/npm" >&2
  rm -rf "${DIR:?}/npm" "${DIR:?}/npm.tmp" "${DIR:?}/src" "${DIR:?}/bin"
  mkdir -p "$DIR/npm.tmp"
  NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm i -E --no-audit --no-fund --ignore-scripts --omit=optional \
      --loglevel=error --prefix "$DIR/npm.tmp" \
      "node-llama-cpp@$VERSION" "@node-llama-cpp/linux-x64@$VERSION" >&2 \
    || fail "npm install of node-llama-cpp@$VERSION failed (is the npm registry reachable?)"
  mv "$DIR/npm.tmp" "$DIR/npm"
  compgen -G "$BINS/libllama.v*.so" >/dev/null || fail "no libllama.v*.so in $BINS after install"
fi

# 2. llama.cpp source matching the binaries, from the git bundle inside the npm package.
if [[ ! -f $DIR/src/include/llama.h ]]; then
  echo "llama-ref: cloning llama.cpp source into $DIR/src" >&2
  rm -rf "$DIR/src" "$DIR/src.tmp"
  git -c advice.detachedHead=false clone -q "$PKG/llama/gitRelease.bundle" "$DIR/src.tmp" >&2 \
    || fail "git clone of $PKG/llama/gitRelease.bundle failed"
  mv "$DIR/src.tmp" "$DIR/src"
fi

# 3. The reference tool, rebuilt when its source is newer than the binary.
[[ -f $SRC_CPP ]] || fail "missing $SRC_CPP"
if [[ ! -x $DIR/bin/llama_ref || $SRC_CPP -nt $DIR/bin/llama_ref ]]; then
  echo "llama-ref: compiling $DIR/bin/llama_ref" >&2
  mkdir -p "$DIR/bin"
  libs=("$BINS"/libllama.v*.so "$BINS"/libggml.v*.so "$BINS/libggml-base.so")
  g++ -std=c++17 -O2 -Wall -o "$DIR/bin/llama_ref.tmp" "$SRC_CPP" \
      -I"$DIR/src/include" -I"$DIR/src/ggml/include" -DLLAMA_REF_BINS="\"$BINS\"" \
      "${libs[@]}" -Wl,-rpath,"$BINS" \
    || fail "compiling $SRC_CPP failed"
  mv "$DIR/bin/llama_ref.tmp" "$DIR/bin/llama_ref"
fi

echo "llama-ref: $DIR"
