#!/usr/bin/python3
"""Bad input gets one clear error line and a non-zero exit: never a crash or a signal.

Each case runs the edgecc CLI and checks the exit code exactly (1 for bad input, 2 for a
command line edgecc cannot parse; never a signal or 0), and that stderr names what the user
needs (file, node name, op type, reason).
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


# Cases whose command line itself is wrong: edgecc's usage exit code 2. Every other case is
# bad input: exit code 1.
USAGE_ERRORS = {"unknown option"}


def save(model, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    return path


def tiny_model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def write_inputs(directory, arrays):
    os.makedirs(directory, exist_ok=True)
    for k, a in enumerate(arrays):
        with open(os.path.join(directory, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, f"in{k}").SerializeToString())
    return directory


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    good = save(tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")], [x], [y],
                           [numpy_helper.from_array(np.ones((3, 4), np.float32), "w")]), f"{work}/good/model.onnx")
    with open(good, "rb") as f:
        good_bytes = f.read()
    truncated = f"{work}/truncated.onnx"
    with open(truncated, "wb") as f:
        f.write(good_bytes[: len(good_bytes) // 2])
    foreign = f"{work}/foreign.onnx"
    with open(foreign, "wb") as f:
        f.write(b"\x7fELF this is not an ONNX model at all")
    unsupported = save(tiny_model([helper.make_node("Relu", ["x"], ["r"], name="act"),
                                   helper.make_node("NonMaxSuppression", ["r"], ["y"], name="nms_7")], [x], [y]),
                       f"{work}/unsupported.onnx")
    missing_init = save(tiny_model([helper.make_node("MatMul", ["x", "w_missing"], ["y"], name="proj")], [x], [y]),
                        f"{work}/missing.onnx")
    mismatch = save(tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")], [x], [y],
                               [numpy_helper.from_array(np.ones((5, 4), np.float32), "w")]), f"{work}/mismatch.onnx")
    right = write_inputs(f"{work}/inputs_right", [np.ones((2, 3), np.float32)])
    wrong = write_inputs(f"{work}/inputs_wrong", [np.ones((2, 5), np.float32)])
    wrong_type = write_inputs(f"{work}/inputs_wrong_type", [np.ones((2, 3), np.int64)])
    bundle = f"{work}/bundle"
    if subprocess.run([args.edgecc, "compile", good, "-o", bundle], capture_output=True).returncode != 0:
        print("could not compile the good model")
        return 1
    cases = [
        ("truncated file", ["compile", truncated, "-o", f"{work}/o1"], [truncated, "not a valid ONNX model"]),
        ("not an ONNX file", ["compile", foreign, "-o", f"{work}/o2"], [foreign, "not a valid ONNX model"]),
        ("unsupported op", ["compile", unsupported, "-o", f"{work}/o3"],
         [unsupported, "node 'nms_7' (NonMaxSuppression)", "unsupported operator"]),
        ("missing initializer", ["compile", missing_init, "-o", f"{work}/o4"],
         ["node 'proj' (MatMul)", "input 'w_missing' is not produced"]),
        ("shape mismatch in the model", ["compile", mismatch, "-o", f"{work}/o5"],
         ["node 'proj' (MatMul)", "contraction dims differ: 3 vs 5"]),
        ("missing model file", ["compile", f"{work}/nope.onnx", "-o", f"{work}/o6"], ["nope.onnx", "cannot open"]),
        ("input of the wrong shape (model)", ["run", good, "--inputs", wrong, "--outputs", f"{work}/o7"],
         ["graph input 'x' needs size 3 on axis 1"]),
        ("input of the wrong shape (bundle)", ["run", bundle, "--inputs", wrong, "--outputs", f"{work}/o8"],
         ["input 'x' expects f32[2,3], got f32[2,5]"]),
        ("input of the wrong type (bundle)", ["run", bundle, "--inputs", wrong_type, "--outputs", f"{work}/o9"],
         ["input 'x' expects f32[2,3], got i64[2,3]"]),
        ("unknown target", ["compile", good, "-o", f"{work}/o10", "--target", "z80"], ["unknown target 'z80'"]),
        ("unknown option", ["compile", good, "-o", f"{work}/o11", "--frobnicate", "1"], ["unknown option --frobnicate"]),
    ]
    # A bundle with corrupted weights is refused at load.
    corrupt = f"{work}/bundle_corrupt"
    shutil.copytree(bundle, corrupt)
    with open(f"{corrupt}/weights.bin", "r+b") as f:
        f.seek(70)
        b = f.read(1)
        f.seek(70)
        f.write(bytes([b[0] ^ 0xFF]))
    cases.append(("corrupted weights", ["run", corrupt, "--inputs", right, "--outputs", f"{work}/o12"],
                  ["weights.bin", "checksum mismatch"]))

    # Indices known only at run time: one outside the table stops the run with the node's
    # name (never a silently made-up row); in-range ones, negative included, still work.
    table = np.arange(15, dtype=np.float32).reshape(5, 3)
    ids_info = helper.make_tensor_value_info("ids", TensorProto.INT64, [2])
    lookup = save(tiny_model([helper.make_node("Gather", ["table", "ids"], ["y"], name="lookup", axis=0)], [ids_info], [y],
                             [numpy_helper.from_array(table, "table")]), f"{work}/lookup/model.onnx")
    lookup_bundle = f"{work}/lookup_bundle"
    if subprocess.run([args.edgecc, "compile", lookup, "-o", lookup_bundle], capture_output=True).returncode != 0:
        print("could not compile the lookup model")
        return 1
    ids_ok = write_inputs(f"{work}/ids_ok", [np.array([1, -1], np.int64)])
    ids_bad = write_inputs(f"{work}/ids_bad", [np.array([1, 5], np.int64)])
    p = subprocess.run([args.edgecc, "run", lookup_bundle, "--inputs", ids_ok, "--outputs", f"{work}/ids_ok_out"],
                       capture_output=True, text=True)
    lookup_ok = p.returncode == 0 and np.array_equal(
        numpy_helper.to_array(onnx.load_tensor(f"{work}/ids_ok_out/output_0.pb")), table[[1, -1]])
    print(f"run-time indices in range (1, -1) read the right rows: {'ok' if lookup_ok else 'FAIL'}\n    {p.stderr.strip()[-300:]}")
    cases.append(("run-time index outside the table", ["run", lookup_bundle, "--inputs", ids_bad, "--outputs", f"{work}/o18"],
                  ["node 'lookup' (Gather)", "an index is outside the gathered axis"]))

    # Hostile or unusual but valid models must compile, build and compute the right thing.
    odd = "odd\nname \"quoted\" \\"
    xs = helper.make_tensor_value_info(odd, TensorProto.FLOAT, [2, 300])
    out_info = helper.make_tensor_value_info("out\\", TensorProto.FLOAT, None)
    idx = numpy_helper.from_array(np.arange(300, dtype=np.int64)[::-1].copy(), "idx")  # >1 KiB: a dense resource
    w = numpy_helper.from_array(np.linspace(-1, 1, 300).astype(np.float32), "w")      # >1 KiB
    nodes = [
        helper.make_node("Gather", [odd, "idx"], ["g"], name="gather\\", axis=1),
        helper.make_node("Mul", ["g", "w"], ["m"], name="*/ #error injected\n#error injected"),
        helper.make_node("Tanh", ["m"], ["t"], name="tanh"),
        helper.make_node("LayerNormalization", ["t", "w"], ["ln"], name="ln", epsilon=0.0, axis=-1),
        helper.make_node("Softmax", ["ln"], ["out\\"], name="sm", axis=-1),
    ]
    hostile = save(tiny_model(nodes, [xs], [out_info], [idx, w]), f"{work}/hostile/model.onnx")
    xv = np.random.default_rng(0).standard_normal((2, 300)).astype(np.float32)
    hostile_in = write_inputs(f"{work}/hostile_in", [xv])
    p = subprocess.run([args.edgecc, "run", hostile, "--inputs", hostile_in, "--outputs", f"{work}/hostile_out"],
                       capture_output=True, text=True)
    t = np.tanh(xv[:, ::-1] * np.linspace(-1, 1, 300).astype(np.float32))
    ln = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True)) * np.linspace(-1, 1, 300)
    ref = np.exp(ln - ln.max(-1, keepdims=True))
    ref /= ref.sum(-1, keepdims=True)
    robust_ok = p.returncode == 0
    detail = p.stderr.strip()[-300:]
    if robust_ok:
        got = numpy_helper.to_array(onnx.load_tensor(f"{work}/hostile_out/output_0.pb"))
        err = float(np.abs(got - ref).max())
        robust_ok = err <= 1e-4 * float(np.abs(ref).max()) + 1e-6
        detail = f"max abs err {err:.3g}"
    print(f"odd names, 1-KiB constants, epsilon 0: {'ok' if robust_ok else 'FAIL'}\n    {detail}")

    # Malformed structure: errors, not crashes.
    x9 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 8)
    cases += [
        ("rank above the runtime's 8", ["compile", save(tiny_model(
            [helper.make_node("Unsqueeze", ["x", "ax"], ["y"], name="unsq")], [x9], [y],
            [numpy_helper.from_array(np.array([0], np.int64), "ax")]), f"{work}/rank9.onnx"), "-o", f"{work}/o13"],
         ["node 'unsq' (Unsqueeze)", "rank 9 exceeds the supported 8"]),
        ("split into zero outputs", ["compile", save(tiny_model(
            [helper.make_node("Split", ["x"], [], name="split0", axis=1, num_outputs=0),
             helper.make_node("Relu", ["x"], ["y"], name="r")], [x], [y]), f"{work}/split0.onnx"), "-o", f"{work}/o14"],
         ["node 'split0' (Split)", "has no outputs"]),
        ("huge range", ["compile", save(tiny_model(
            [helper.make_node("Range", ["a", "b", "c"], ["y"], name="rng")], [], [y],
            [numpy_helper.from_array(np.array(0, np.int64), "a"), numpy_helper.from_array(np.array(10**15, np.int64), "b"),
             numpy_helper.from_array(np.array(1, np.int64), "c")]), f"{work}/range.onnx"), "-o", f"{work}/o15"],
         ["node 'rng' (Range)", "too long"]),
    ]

    # Symbolic dims: a bound for a dim the model lacks, and a size expression that would
    # overflow 64 bits at the bound, are refused.
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq"])
    c = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
    huge = save(tiny_model([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "one"], ["n"], name="gather"),
        helper.make_node("Mul", ["n", "big"], ["m"], name="mul"),
        helper.make_node("Unsqueeze", ["m", "zero"], ["shape_vec"], name="unsq"),
        helper.make_node("Expand", ["x1", "shape_vec"], ["y"], name="expand_huge"),
    ], [xs], [y], [c("one", 1), c("big", 2**60), c("zero", [0]),
                    numpy_helper.from_array(np.ones([1], np.float32), "x1")]), f"{work}/huge.onnx")
    cases += [
        ("bound for a dim the model lacks", ["compile", good, "-o", f"{work}/o16", "--max-dim", "sequ=4"],
         ["no graph input has a dim named 'sequ'"]),
        ("size expression overflowing at the bound", ["compile", huge, "-o", f"{work}/o17", "--max-dim", "seq=16"],
         ["node 'expand_huge' (Expand)", "invalid or too large shape"]),
    ]

    passed = failed = 0
    passed += robust_ok + lookup_ok
    failed += (not robust_ok) + (not lookup_ok)
    for name, cmd, needles in cases:
        p = subprocess.run([args.edgecc] + cmd, capture_output=True, text=True)
        problems = []
        want_rc = 2 if name in USAGE_ERRORS else 1
        if p.returncode < 0:
            problems.append(f"killed by signal {-p.returncode}")
        elif p.returncode != want_rc:
            problems.append(f"exit code {p.returncode}, expected {want_rc}")
        for n in needles:
            if n not in p.stderr:
                problems.append(f"stderr lacks {n!r}")
        if "Stack dump" in p.stderr or "Assertion" in p.stderr:
            problems.append("crash trace in stderr")
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
        print(f"{name}: rc={p.returncode} {status}\n    {first}")
        passed += not problems
        failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
