#!/usr/bin/env bash
# Installs ONNX Runtime for Node (onnxruntime-node, from the npm registry; its CPU binaries ship
# in the package, so its install script, which fetches the CUDA build, is skipped) into
# ${EDGECC_ORT:-~/.cache/edgecc/ort}, once: the reference of `edgecc bisect` (its test runs this)
# and the ONNX Runtime column of the benchmarks.
# Prints "onnxruntime-node: MODULE_DIR".
set -euo pipefail
DIR=${EDGECC_ORT:-$HOME/.cache/edgecc/ort}
VERSION=1.20.1
MODULE=$DIR/node_modules/onnxruntime-node
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
if [[ ! -f $MODULE/package.json ]] || ! grep -q "\"version\": \"$VERSION\"" "$MODULE/package.json"; then
  command -v npm > /dev/null || { echo "setup_onnxruntime: npm not found (apt install npm)" >&2; exit 1; }
  echo "onnxruntime-node: installing $VERSION into $DIR" >&2
  (cd "$DIR" && { [[ -f package.json ]] || npm init -y > /dev/null; } && npm install --ignore-scripts --no-audit --no-fund \
    "onnxruntime-node@$VERSION" >&2)
fi
echo "onnxruntime-node: $MODULE"
