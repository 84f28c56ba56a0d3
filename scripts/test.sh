#!/usr/bin/env bash
# Sets up the machine (Debian packages), builds everything and runs every test:
# unit (GoogleTest), lit/FileCheck pass tests, end-to-end against PyTorch, bad input,
# standalone bundles, the Python module, the ONNX conformance suite, and for LLMs: GGUF import,
# generation and the tokenizer against llama.cpp, the example chat app, bad input; then a
# fuzzing smoke (scripts/fuzz.sh --smoke: every fuzz target replays its corpus, regressions
# included, and runs a few thousand fixed-seed mutations).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
bash scripts/setup_llama_ref.sh  # llama.cpp (npm, pinned): the reference for GGUF models
(cd build && ctest --output-on-failure -j "$(nproc)" "$@")
bash scripts/fuzz.sh --smoke
