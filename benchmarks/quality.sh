#!/usr/bin/env bash
# The quality table of the trained model (models/brown-6m) on its held-out text: every
# --weights format of edgecc's quantizer next to llama-quantize's files of the same f16 model
# (its standard mixes, no importance matrix), all measured by `edgecc quality` against the f32
# build: bits per weight, size, perplexity, KL, top-1. Calibrated rows: edgecc's error-feedback
# rounding (--calibration) and llama-quantize with llama-imatrix's importance matrix, both from
# the same calibration text (the start of the training split, never the held-out text). Then
# the per-tensor sensitivity (one tensor at a time in q4_k and in q2_k, over the first chunks). Writes
# benchmarks/results/quality-brown-6m.{md,json,svg} and quality-brown-6m-sensitivity.svg. Not
# part of the tests (about 25 minutes on 2 cores); needs llama-quantize and llama-imatrix
# (scripts/build_llama_tools.sh).
#   bash benchmarks/quality.sh [--chunks N] [--sensitivity-chunks N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EDGECC=${EDGECC:-$ROOT/build/bin/edgecc}
MODEL=$ROOT/models/brown-6m/model-f16.gguf
TEXT=$ROOT/models/brown-6m/heldout.txt
OUT=$ROOT/benchmarks/results
CHUNKS=0 SENS_CHUNKS=40 CAL_CHUNKS=32
while [[ $# -gt 0 ]]; do
  case $1 in
    --chunks) CHUNKS=$2; shift 2 ;;
    --sensitivity-chunks) SENS_CHUNKS=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "quality.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
TOOLS=$(bash "$ROOT/scripts/build_llama_tools.sh")
QUANTIZE=$(sed -n 's/^llama-quantize: //p' <<< "$TOOLS")
IMATRIX=$(sed -n 's/^llama-imatrix: //p' <<< "$TOOLS")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Calibration text: the first 300 kB of the training split (examples/train/brown.py).
/usr/bin/python3 "$ROOT/examples/train/brown.py" --out "$WORK/brown" > /dev/null
CALIB=$WORK/calibration.txt
head -c 300000 "$WORK/brown/train.txt" > "$CALIB"
"$IMATRIX" -m "$MODEL" -f "$CALIB" -o "$WORK/imatrix.gguf" -c 256 --chunks "$CAL_CHUNKS" -t 2 > "$WORK/imatrix.log" 2>&1
FILES=()
for t in Q8_0 Q6_K Q5_K_M Q4_K_M Q4_0 Q3_K_M Q2_K; do
  "$QUANTIZE" "$MODEL" "$WORK/llama-quantize-$t.gguf" "$t" 2 > "$WORK/quantize-$t.log" 2>&1
  FILES+=(--compare "$WORK/llama-quantize-$t.gguf")
done
for t in Q4_K_M Q4_0 Q3_K_M Q2_K; do
  "$QUANTIZE" --imatrix "$WORK/imatrix.gguf" "$MODEL" "$WORK/llama-quantize-imatrix-$t.gguf" "$t" 2 > "$WORK/quantize-imatrix-$t.log" 2>&1
  FILES+=(--compare "$WORK/llama-quantize-imatrix-$t.gguf")
done
CHUNK_ARGS=()
[[ $CHUNKS -gt 0 ]] && CHUNK_ARGS=(--chunks "$CHUNKS")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# Quality of weight formats: brown-6m on its held-out text"
  echo
  echo "\`edgecc quality\` on $cpu, $(date -u +%Y-%m-%d). Reference: the f32 build of models/brown-6m/model-f16.gguf."
  echo "Rows \`edgecc --weights F\` are edgecc's quantizer (head q8_0 under q4_0, q6_k under the k-quants);"
  echo "rows \`llama-quantize-*.gguf\` are llama-quantize's mixes of the same f16 file (no importance matrix), run by edgecc."
  echo "Calibrated, from the same text ($CAL_CHUNKS chunks of 256 tokens from the start of the training split):"
  echo "rows \`F+cal\` are edgecc's error-feedback rounding (\`--weights F --calibration\`), rows"
  echo "\`llama-quantize-imatrix-*.gguf\` llama-quantize with llama-imatrix's importance matrix."
  echo "Command: \`bash benchmarks/quality.sh\`."
  echo
  "$EDGECC" quality "$MODEL" --text "$TEXT" --formats f16,q8_0,q6_k,q5_k,q4_k,q4_0,q3_k,q2_k --kv-types f16,q8_0 "${FILES[@]}" \
    --calibration "$CALIB" --calibration-chunks "$CAL_CHUNKS" \
    "${CHUNK_ARGS[@]}" --sensitivity q4_k,q2_k --sensitivity-chunks "$SENS_CHUNKS" \
    --json "$OUT/quality-brown-6m.json" --svg "$OUT/quality-brown-6m.svg"
  echo
  # Mixes: llama.cpp's choice of tensors that get more bits in its Q2_K and Q3_K_M (attn_v and
  # ffn_down one step up), with edgecc's calibrated rounding: its answer at their sizes.
  echo "Mixes with calibration (attn_v and ffn_down one format up, as llama-quantize's Q2_K / Q3_K_M choose),"
  echo "perplexity on the same text; bits per weight as above:"
  echo
  echo "| weights | bits/weight | weights MiB | PPL | vs f32 |"
  echo "|---|---|---|---|---|"
  f32_ppl=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['reference']['ppl'])" "$OUT/quality-brown-6m.json")
  f32_bytes=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['reference']['weight_bytes'])" "$OUT/quality-brown-6m.json")
  for mix in "q2_k q3_k" "q3_k q4_k"; do
    read -r body up <<< "$mix"
    args=(--weights "$body" --calibration "$CALIB" --calibration-chunks "$CAL_CHUNKS" --bundle-dir "$WORK/mix")
    for i in 0 1 2 3 4 5; do args+=(--weights-override "blk.$i.attn_v.weight=$up" --weights-override "blk.$i.ffn_down.weight=$up"); done
    rm -rf "$WORK/mix"
    "$EDGECC" perplexity "$MODEL" --text "$TEXT" "${CHUNK_ARGS[@]}" "${args[@]}" --json 2> /dev/null | tail -1 > "$WORK/mix.json"
    /usr/bin/python3 - "$WORK/mix.json" "$WORK/mix/weights.bin" "$f32_ppl" "$f32_bytes" "$body" "$up" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
size, f32_ppl, f32_bytes = os.path.getsize(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"| {sys.argv[5]}+cal, attn_v/ffn_down {sys.argv[6]} | {8 * size / (f32_bytes / 4):.2f} | {size / 2**20:.2f} | "
      f"{r['ppl']:.4f} ± {r['ppl_error']:.2f} | {100 * (r['ppl'] / f32_ppl - 1):+.2f} % |")
PY
  done
  echo
  echo "![perplexity by bits per weight](quality-brown-6m.svg)"
  echo
  echo "![KL per tensor](quality-brown-6m-sensitivity.svg)"
} > "$OUT/quality-brown-6m.md"
cat "$OUT/quality-brown-6m.md"
