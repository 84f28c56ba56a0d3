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
    ok = not unexpected and not fixed and missing == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
