#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan + UBSan, into build-fuzz/) and runs
# each from its seed corpus, then prints one line per target: executions, coverage, crashes.
#
#   scripts/fuzz.sh                      # every target, 10^6 executions each
#   scripts/fuzz.sh --runs 20000 fuzz_gguf
#   scripts/fuzz.sh --seconds 600        # each target for 10 minutes
#   scripts/fuzz.sh --smoke              # scripts/test.sh: the corpus and 3000 fixed-seed runs each
#
# New inputs go to build-fuzz/fuzz/<target>/corpus, never into the repo. A crash leaves its
# input in build-fuzz/fuzz/<target>/ (crash-*, oom-*, timeout-*); once fixed, copy it into
# tests/fuzz/corpus/<target>/ so every later run replays it. Exit status 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
limit=(-runs=1000000)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) limit=(-runs="$2"); shift 2 ;;
    --seconds) limit=(-max_total_time="$2"); shift 2 ;;
    --smoke) limit=(-runs=3000 -seed=1); shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
all=(fuzz_onnx_import fuzz_run_inputs fuzz_gguf fuzz_weights_file fuzz_tokenizer fuzz_tensor_proto)
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

bash scripts/sanitize_build.sh "${targets[@]}"

failed=0
rows=()
for t in "${targets[@]}"; do
  out=build-fuzz/fuzz/$t
  mkdir -p "$out/corpus"
  rm -f "$out"/crash-* "$out"/oom-* "$out"/timeout-* "$out"/leak-*
  log=$out/last.log
  set +e
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a small file must not need GBs.
  "build-fuzz/bin/$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "tests/fuzz/corpus/$t" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED).*cov: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "-")
  crashes=$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  [ "$crashes" -eq 0 ] || { failed=1; echo "--- $t: see $log"; grep -m3 -E 'ERROR|SUMMARY|deadly' "$log" || true; }
  rows+=("$(printf '%-20s %12s %10s %8s' "$t" "${execs:-0}" "${cov:--}" "$crashes")")
done
printf '%-20s %12s %10s %8s\n' target executions coverage crashes
printf '%s\n' "${rows[@]}"
exit $failed
