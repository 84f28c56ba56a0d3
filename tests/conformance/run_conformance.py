#!/usr/bin/python3
"""ONNX backend node tests (Debian's libonnx-testdata) for every operator edgecc claims.

Selects the node tests whose model uses only operators listed by `edgecc ops`, runs them
with `edgecc test-onnx` (compile -> build -> run -> compare, rtol 1e-3 / atol 1e-5) and
writes the per-test results to --report. Exit status: 0 when the failures are exactly the
known ones in known_failures.txt (each with its reason), 1 otherwise. Known failures are
reported as failures, never counted as passes.
"""
import argparse
import os
import subprocess
import sys

import onnx

DATA = "/usr/share/libonnx-testdata/data/node"
HERE = os.path.dirname(os.path.abspath(__file__))


def claimed_tests(ops):
    tests = []
    for name in sorted(os.listdir(DATA)):
        path = os.path.join(DATA, name, "model.onnx")
        if not os.path.exists(path):
            continue
        model = onnx.load(path)
        if all(n.op_type in ops and n.domain in ("", "ai.onnx") for n in model.graph.node):
            tests.append(os.path.join(DATA, name))
    return tests


def known_failures():
    known = {}
    with open(os.path.join(HERE, "known_failures.txt")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                known[name] = reason.strip()
    return known


def integer_controls(edgecc, work):
    """test-onnx on an int64 Add whose expected output is right, and off by one at 1000
    (inside rtol 1e-3, but an integer is right or wrong): the first must pass, the second fail.
    Returns the problems found."""
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np
    x = helper.make_tensor_value_info("x", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [2])
    model = helper.make_model(helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"], name="twice")], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    dirs = {}
    for name, want in (("exact", [1000, 6]), ("off_by_one", [1001, 6])):
        d = os.path.join(work, f"control_int64_{name}")
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        for role, value in (("input", [500, 3]), ("output", want)):
            with open(os.path.join(d, "test_data_set_0", f"{role}_0.pb"), "wb") as f:
                f.write(numpy_helper.from_array(np.array(value, np.int64), "x" if role == "input" else "y").SerializeToString())
        dirs[name] = d
    out = subprocess.run([edgecc, "test-onnx", dirs["exact"], dirs["off_by_one"]], capture_output=True, text=True).stdout
    problems = []
    if f"PASS {os.path.basename(dirs['exact'])}" not in out:
        problems.append("an exact int64 result did not pass")
    if f"FAIL {os.path.basename(dirs['off_by_one'])}" not in out:
        problems.append("1001 for an expected int64 1000 did not fail")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--report", default="conformance_report.txt")
    ap.add_argument("--jobs", default="0")
    args = ap.parse_args()
    ops = set(subprocess.run([args.edgecc, "ops"], check=True, capture_output=True, text=True).stdout.split())
    tests = claimed_tests(ops)
    print(f"{len(tests)} node tests use only claimed operators", flush=True)
    proc = subprocess.run([args.edgecc, "test-onnx", "--jobs", args.jobs] + tests, capture_output=True, text=True)
    with open(args.report, "w") as f:
        f.write(proc.stdout)
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith("PASS "):
            results[line[5:].strip()] = None
        elif line.startswith("FAIL "):
            name, _, reason = line[5:].partition(": ")
            results[name] = reason
    known = known_failures()
    unexpected = {n: r for n, r in results.items() if r is not None and n not in known}
    fixed = [n for n in known if n in results and results[n] is None]
    missing = len(tests) - len(results)
    for n, r in sorted(unexpected.items()):
        print(f"UNEXPECTED FAIL {n}: {r}")
    for n in fixed:
        print(f"UNEXPECTED PASS {n} (remove it from known_failures.txt)")
    passed = sum(1 for r in results.values() if r is None)
    failed = len(results) - passed
    print(f"conformance: {passed} of {len(tests)} claimed node tests pass; {failed} fail "
          f"({failed - len(unexpected)} known, {len(unexpected)} unexpected, {len(fixed)} known now passing"
          f"{', %d did not report' % missing if missing else ''})")
    controls = integer_controls(args.edgecc, os.path.dirname(os.path.abspath(args.report)))
    for p in controls:
        print(f"CONTROL FAILED: {p}")
    print(f"integer comparison controls: {'ok' if not controls else 'FAIL'}")
    ok = not unexpected and not fixed and missing == 0 and not controls
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
