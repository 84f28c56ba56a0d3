#!/usr/bin/env bash
# The main job on the built-in default model: sets up, builds edgecc, generates a small
# Llama-style decoder (PyTorch export), compiles it to a C++ bundle, builds the bundle with the
# system compiler, runs a prefill on it, and prints the outputs and timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
OUT=${1:-out/demo}
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== generating the default model (Llama-style decoder, opset 17)"
/usr/bin/python3 examples/models/make_decoders.py --out "$OUT/models" --models llama --opsets 17
MODEL="$OUT/models/llama_op17"
echo "== compiling $MODEL/model.onnx -> $OUT/bundle"
build/bin/edgecc compile "$MODEL/model.onnx" -o "$OUT/bundle" --dim seq=5 --dim past=0
echo "== building the bundle with the system C++ compiler (its own CMakeLists.txt)"
cmake -S "$OUT/bundle" -B "$OUT/bundle/build" -G Ninja > /dev/null
cmake --build "$OUT/bundle/build" > /dev/null
echo "== running a 5-token prefill (100 runs)"
mkdir -p "$OUT/outputs"
"$OUT/bundle/build/model_run" --weights "$OUT/bundle/weights.bin" --inputs "$MODEL/test_data_set_0" \
  --outputs "$OUT/outputs" --repeat 100
/usr/bin/python3 - "$MODEL/test_data_set_0" "$OUT/outputs" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
ref_dir, out_dir = sys.argv[1], sys.argv[2]
for k, name in enumerate(["logits", "present_k.0", "present_v.0", "present_k.1", "present_v.1"]):
    got = numpy_helper.to_array(onnx.load_tensor(f"{out_dir}/output_{k}.pb"))
    ref = numpy_helper.to_array(onnx.load_tensor(f"{ref_dir}/output_{k}.pb"))
    print(f"{name:12s} shape {str(got.shape):16s} max |edgecc - PyTorch| = {np.abs(got - ref).max():.3g}")
    if name == "logits":
        print(f"  next-token argmax per position: {got[0].argmax(-1).tolist()} (PyTorch: {ref[0].argmax(-1).tolist()})")
PY
