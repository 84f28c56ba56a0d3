#!/usr/bin/env bash
# The generated bundle is standalone and deterministic:
#  1. compiling the same model twice gives byte-identical bundles;
#  2. it builds with `g++ -std=c++17 -O2` and nothing else (no MLIR/LLVM/protobuf paths), and
#     with its own CMakeLists.txt;
#  3. both builds produce exactly the outputs `edgecc run` produced for the same inputs.
# usage: test_bundle_standalone.sh EDGECC WORK_DIR
set -euo pipefail
EDGECC=$(realpath "$1")
WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"
passed=0 failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@" > "$name.log" 2>&1; then echo "ok: $name"; passed=$((passed + 1))
  else echo "FAIL: $name"; sed 's/^/    /' "$name.log" | tail -20; failed=$((failed + 1)); fi
}

/usr/bin/python3 "$HERE/../../examples/models/make_decoders.py" --out models --models llama --opsets 17 > gen.log
MODEL=models/llama_op17/model.onnx
INPUTS=models/llama_op17/test_data_set_0

check compile_twice_identical bash -c "
  '$EDGECC' compile $MODEL -o bundle_a --dim seq=5 --dim past=0 &&
  '$EDGECC' compile $MODEL -o bundle_b --dim seq=5 --dim past=0 &&
  diff -r bundle_a bundle_b"

check symbolic_compile_twice_identical bash -c "
  '$EDGECC' compile $MODEL -o bundle_s1 --max-dim seq=32 --max-dim past=32 &&
  '$EDGECC' compile $MODEL -o bundle_s2 --max-dim seq=32 --max-dim past=32 &&
  diff -r bundle_s1 bundle_s2"

check edgecc_run "$EDGECC" run bundle_a --inputs $INPUTS --outputs out_edgecc

# Plain g++, a clean environment: only the bundle's own files and its target's flags (the
# default target, x86-64-avx2, as its CMakeLists.txt says).
grep -q -- "-mavx2 -mfma -mf16c" bundle_a/CMakeLists.txt
check gxx_alone env -i PATH=/usr/bin:/bin bash -c "
  cd bundle_a && g++ -std=c++17 -O2 -mavx2 -mfma -mf16c -I. model.cpp runtime/*.cpp runtime/kernels/*.cpp \
    runtime/kernels/*/*.cpp -o ../model_run_gxx"
check cmake_build env -i PATH=/usr/bin:/bin bash -c "
  cmake -S bundle_b -B build_b -G Ninja > /dev/null && cmake --build build_b > /dev/null"

# Builds with other flags than `edgecc run` (no -mfma, -O3) may round differently: the outputs
# must agree within float rounding (1e-5 of the largest value).
compare_outputs() {  # compare_outputs RUNNER OUT_DIR
  mkdir -p "$2" && "$1" --weights bundle_a/weights.bin --inputs $INPUTS --outputs "$2" &&
  /usr/bin/python3 - "$2" <<'PY'
import glob, os, sys
import numpy as np, onnx
from onnx import numpy_helper
ours, theirs = sorted(glob.glob("out_edgecc/*.pb")), sorted(glob.glob(os.path.join(sys.argv[1], "*.pb")))
# Nothing to compare is a failure, not a pass.
assert ours, "edgecc run wrote no outputs"
assert [os.path.basename(f) for f in ours] == [os.path.basename(f) for f in theirs], (ours, theirs)
for f in ours:
    a = numpy_helper.to_array(onnx.load_tensor(f))
    b = numpy_helper.to_array(onnx.load_tensor(os.path.join(sys.argv[1], os.path.basename(f))))
    err, bound = float(np.abs(a - b).max()), 1e-5 * float(np.abs(a).max()) + 1e-6
    print(f"{os.path.basename(f)}: max abs difference {err:.3g} (bound {bound:.3g})")
    assert a.shape == b.shape and err <= bound, f
PY
}
check gxx_outputs_match compare_outputs ./model_run_gxx out_gxx
check cmake_outputs_match compare_outputs build_b/model_run out_cmake

check no_compiler_dependencies bash -c "
  ! grep -rnE '#include *[<\\\"](mlir|llvm|google/protobuf|Halide|onnx)' bundle_a &&
  ! grep -nE 'mlir|llvm|protobuf|Halide|onnx' bundle_a/CMakeLists.txt"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
