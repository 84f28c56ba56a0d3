#!/usr/bin/env bash
# Sets up the machine (Debian packages), builds everything and runs every test:
# unit (GoogleTest), lit/FileCheck pass tests, end-to-end against PyTorch, bad input,
# standalone bundles, the Python module and the ONNX conformance suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
