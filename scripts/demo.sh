#!/usr/bin/env bash
# The main job on the built-in default model: sets up, builds edgecc, generates a small
# Llama-style decoder (PyTorch export, KV cache as explicit past/present tensors), compiles it
# once with the sequence and cache lengths kept symbolic, builds the bundle with the system
# compiler, runs a 5-token prefill and then one decode step on that cache with the same
# bundle, and prints the outputs against PyTorch with timings. Then the trained default LLM
# (models/brown-6m): compile, generate text, and its held-out perplexity at f16 and q4_0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
OUT=${1:-out/demo}
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== generating the default model (Llama-style decoder, opset 17)"
/usr/bin/python3 examples/models/make_decoders.py --out "$OUT/models" --models llama --opsets 17
MODEL="$OUT/models/llama_op17"
echo "== compiling $MODEL/model.onnx -> $OUT/bundle (seq <= 64, past <= 64)"
build/bin/edgecc compile "$MODEL/model.onnx" -o "$OUT/bundle" --max-dim seq=64 --max-dim past=64
echo "== building the bundle with the system C++ compiler (its own CMakeLists.txt)"
cmake -S "$OUT/bundle" -B "$OUT/bundle/build" -G Ninja > /dev/null
cmake --build "$OUT/bundle/build" > /dev/null
for step in prefill decode; do
  set_dir="$MODEL/test_data_set_0"; [ "$step" = decode ] && set_dir="$MODEL/test_data_set_1"
  echo "== $step ($(basename "$set_dir"), 100 runs)"
  mkdir -p "$OUT/outputs_$step"
  "$OUT/bundle/build/model_run" --weights "$OUT/bundle/weights.bin" --inputs "$set_dir" \
    --outputs "$OUT/outputs_$step" --repeat 100
  /usr/bin/python3 - "$set_dir" "$OUT/outputs_$step" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
ref_dir, out_dir = sys.argv[1], sys.argv[2]
for k, name in enumerate(["logits", "present_k.0", "present_v.0", "present_k.1", "present_v.1"]):
    got = numpy_helper.to_array(onnx.load_tensor(f"{out_dir}/output_{k}.pb"))
    ref = numpy_helper.to_array(onnx.load_tensor(f"{ref_dir}/output_{k}.pb"))
    print(f"  {name:12s} shape {str(got.shape):16s} max |edgecc - PyTorch| = {np.abs(got - ref).max():.3g}")
    if name == "logits":
        print(f"    next-token argmax per position: {got[0].argmax(-1).tolist()} (PyTorch: {ref[0].argmax(-1).tolist()})")
PY
done

echo
MODEL_LLM=models/brown-6m/model-f16.gguf
echo "== LLM: the default model, $MODEL_LLM (a 5.8M-parameter Llama trained on the Brown corpus;"
echo "   models/brown-6m/README.md says how), compiled with an in-place KV cache of 256 positions"
build/bin/edgecc compile "$MODEL_LLM" -o "$OUT/llm" --max-context 256
echo "== edgecc generate (sampled: temperature 0.7, top-k 40, seed 1)"
build/bin/edgecc generate "$OUT/llm" --prompt "The jury said that" -n 48 --temperature 0.7 --top-k 40 --seed 1
echo "== the same with --json (ids, text, timings)"
build/bin/edgecc generate "$OUT/llm" --prompt "The jury said that" -n 48 --temperature 0.7 --top-k 40 --seed 1 --json
echo "== held-out perplexity (llama-perplexity's chunking), f16 weights and q4_0 converted while compiling"
build/bin/edgecc perplexity "$MODEL_LLM" --text models/brown-6m/heldout.txt --chunks 32 2>/dev/null
build/bin/edgecc perplexity "$MODEL_LLM" --text models/brown-6m/heldout.txt --chunks 32 --weights q4_0 2>/dev/null
