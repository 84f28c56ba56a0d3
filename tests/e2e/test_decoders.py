#!/usr/bin/env python3
"""End-to-end check of `edgecc run` on the tiny decoders from make_decoders.py.

Generates llama/gpt2 at opsets 14 and 17 (prefill + one decode step each), runs

    EDGECC run <model_dir>/model.onnx --inputs <data_set> --outputs <out_dir>

for every model x data set, and compares each output_K.pb with the torch reference:
    max|got - ref| <= 1e-4 * max|ref| + 1e-5, and for logits identical argmax at every position.

With --max-dims (e.g. seq=16,past=48) each model is instead compiled once, keeping those dims
symbolic, and that one bundle runs every data set (prefill and decode):

    EDGECC compile model.onnx -o BUNDLE --max-dim seq=16 --max-dim past=48
    EDGECC run BUNDLE --inputs <data_set> --outputs <out_dir>

With --max-context N each model is compiled once with an in-place KV cache the bundle owns
(its past_*/present_* tensors leave the interface), and one `edgecc run` feeds the data sets
as consecutive steps on that bundle (the prefill, then the decode step on the cache it left);
the logits of every step are compared:

    EDGECC compile model.onnx -o BUNDLE --max-context N
    EDGECC run BUNDLE --inputs set_0 --outputs out_0 --inputs set_1 --outputs out_1

Usage:
    python3 tests/e2e/test_decoders.py --edgecc PATH/TO/edgecc [--work DIR]
                                       [--max-dims seq=16,past=48 | --max-context 64]

Prints one line per (model, data set, output), then `N passed, M failed`
(counted per model x data set); exits 1 on any failure. Writes <work>/e2e_results.json.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GENERATOR = os.path.join(REPO, "examples", "models", "make_decoders.py")
MODELS, OPSETS = ("llama", "gpt2"), (14, 17)  # what make_decoders.py writes, all compared
REL_TOL = 1e-4
ABS_TOL = 1e-5


def load_tensor(path):
    proto = onnx.TensorProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return proto.name, numpy_helper.to_array(proto)


def numbered(directory, prefix):
    """Files <prefix>_K.pb sorted by K as an integer (so _10 follows _9)."""
    paths = glob.glob(os.path.join(directory, f"{prefix}_*.pb"))
    key = lambda p: int(re.search(r"_(\d+)\.pb$", p).group(1))
    return sorted((p for p in paths if re.search(r"_(\d+)\.pb$", p)), key=key)


def compare(name, ref, got):
    """Return (record, ok) for one output tensor."""
    rec = {"output": name, "shape": list(ref.shape)}
    if got is None:
        return dict(rec, error="missing output file"), False
    if got.shape != ref.shape:
        return dict(rec, error=f"shape {list(got.shape)} != reference {list(ref.shape)}"), False
    if got.dtype != ref.dtype:
        return dict(rec, error=f"dtype {got.dtype} != reference {ref.dtype}"), False
    ref64, got64 = ref.astype(np.float64), got.astype(np.float64)
    bound = REL_TOL * float(np.abs(ref64).max(initial=0.0)) + ABS_TOL
    finite = bool(np.isfinite(got64).all())
    err = float(np.abs(got64 - ref64).max(initial=0.0)) if finite else float("inf")
    rec.update(max_abs_err=err, bound=bound)
    ok = finite and err <= bound
    if name == "logits":
        same = np.argmax(ref, axis=-1) == np.argmax(got, axis=-1)
        rec["argmax_mismatches"] = int(same.size - same.sum())
        ok = ok and bool(same.all())
    return rec, ok


def run_case(edgecc, model_dir, data_set, out_dir, timeout, bundle=None):
    """Run edgecc on one data set; return (records, ok, edgecc_failure_or_None)."""
    shutil.rmtree(out_dir, ignore_errors=True)  # no stale outputs from an earlier run
    os.makedirs(out_dir)
    cmd = [edgecc, "run", bundle or os.path.join(model_dir, "model.onnx"),
           "--inputs", data_set, "--outputs", out_dir]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], False, f"timed out after {timeout}s: {' '.join(cmd)}"
    except OSError as e:
        return [], False, f"cannot execute: {' '.join(cmd)}\n{e}"
    if proc.returncode != 0:
        return [], False, (f"exit {proc.returncode}: {' '.join(cmd)}\n"
                           + (proc.stderr or proc.stdout).rstrip()[-4000:])

    graph_outputs = [o.name for o in onnx.load(os.path.join(model_dir, "model.onnx")).graph.output]
    if not graph_outputs:
        return [], False, "the model has no outputs to compare"
    records, ok = [], True
    for k, name in enumerate(graph_outputs):
        ref_name, ref = load_tensor(os.path.join(data_set, f"output_{k}.pb"))
        assert ref_name == name, f"reference output_{k}.pb is {ref_name!r}, graph says {name!r}"
        got_path = os.path.join(out_dir, f"output_{k}.pb")
        got = load_tensor(got_path)[1] if os.path.exists(got_path) else None
        rec, rec_ok = compare(name, ref, got)
        records.append(dict(rec, ok=rec_ok))
        ok = ok and rec_ok
    return records, ok, None


def run_kv_steps(edgecc, bundle, data_sets, out_dirs, timeout):
    """Run the data sets as consecutive steps on one KV-cache bundle; return per-step
    (records, ok) lists and an edgecc failure or None. Only the logits remain outputs."""
    cmd = [edgecc, "run", bundle]
    for ds, out in zip(data_sets, out_dirs):
        shutil.rmtree(out, ignore_errors=True)
        cmd += ["--inputs", ds, "--outputs", out]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return None, f"exit {proc.returncode}: {' '.join(cmd)}\n" + (proc.stderr or proc.stdout).rstrip()[-4000:]
    steps = []
    for ds, out in zip(data_sets, out_dirs):
        ref_name, ref = load_tensor(os.path.join(ds, "output_0.pb"))
        got_path = os.path.join(out, "output_0.pb")
        got = load_tensor(got_path)[1] if os.path.exists(got_path) else None
        rec, ok = compare(ref_name, ref, got)
        steps.append(([dict(rec, ok=ok)], ok))
    return steps, None


def describe(rec):
    if "error" in rec:
        return rec["error"]
    text = f"max_abs_err={rec['max_abs_err']:.3e} bound={rec['bound']:.3e}"
    if "argmax_mismatches" in rec:
        text += f" argmax_mismatches={rec['argmax_mismatches']}"
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", required=True, help="path to the edgecc executable")
    ap.add_argument("--work", help="work directory (default: a fresh temporary one)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per edgecc run")
    ap.add_argument("--max-dims", help="NAME=BOUND,...: compile once with these dims symbolic")
    ap.add_argument("--max-context", type=int, help="compile once with an in-place KV cache of this many positions")
    args = ap.parse_args()
    max_dims = [d for d in (args.max_dims or "").split(",") if d]

    edgecc = os.path.abspath(args.edgecc)
    if not os.access(edgecc, os.X_OK):
        print(f"edgecc not found or not executable: {edgecc}", file=sys.stderr)
        return 1
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="edgecc-e2e-"))
    models_dir = os.path.join(work, "models")
    os.makedirs(work, exist_ok=True)
    print(f"work dir: {work}")

    gen = subprocess.run([sys.executable, GENERATOR, "--out", models_dir,
                          "--models", ",".join(MODELS), "--opsets", ",".join(map(str, OPSETS))],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        print(gen.stdout + gen.stderr, file=sys.stderr)
        print("make_decoders.py failed", file=sys.stderr)
        return 1

    passed, failed, results = 0, 0, []
    # Nothing to compare is a failure: every generated model must be there with its data sets.
    model_dirs = sorted(glob.glob(os.path.join(models_dir, "*_op*")))
    expected = sorted(f"{m}_op{o}" for m in MODELS for o in OPSETS)
    if [os.path.basename(d) for d in model_dirs] != expected:
        print(f"make_decoders.py wrote {[os.path.basename(d) for d in model_dirs]}, expected {expected}: FAIL")
        failed += 1
    for model_dir in model_dirs:
        model = os.path.basename(model_dir)
        if not glob.glob(os.path.join(model_dir, "test_data_set_*")):
            print(f"{model}: no test_data_set_* to compare: FAIL")
            failed += 1
            continue
        bundle = None
        if args.max_context:
            bundle = os.path.join(work, "bundles", model)
            proc = subprocess.run([edgecc, "compile", os.path.join(model_dir, "model.onnx"), "-o", bundle,
                                   "--max-context", str(args.max_context)], capture_output=True, text=True)
            data_sets = sorted(glob.glob(os.path.join(model_dir, "test_data_set_*")))
            out_dirs = [os.path.join(work, "outputs", model, os.path.basename(d)) for d in data_sets]
            steps, failure = (None, f"compile failed: {proc.stderr}") if proc.returncode else \
                run_kv_steps(edgecc, bundle, data_sets, out_dirs, args.timeout)
            if failure:
                print(f"{model}: FAILED ({failure})")
                failed += 1
                continue
            for data_set, (records, ok) in zip(data_sets, steps):
                ds = os.path.basename(data_set)
                for rec in records:
                    print(f"{model} {ds} (KV cache step) {rec['output']}: {describe(rec)} {'ok' if rec['ok'] else 'FAIL'}")
                results.append({"model": model, "data_set": ds, "ok": ok, "kv_cache": True, "outputs": records})
                passed, failed = passed + ok, failed + (not ok)
            continue
        if max_dims:
            bundle = os.path.join(work, "bundles", model)
            flags = [f for d in max_dims for f in ("--max-dim", d)]
            proc = subprocess.run([edgecc, "compile", os.path.join(model_dir, "model.onnx"), "-o", bundle] + flags,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"{model}: compile FAILED\n{proc.stderr}")
                failed += 1
                continue
        for data_set in sorted(glob.glob(os.path.join(model_dir, "test_data_set_*"))):
            ds = os.path.basename(data_set)
            out_dir = os.path.join(work, "outputs", model, ds)
            records, ok, failure = run_case(edgecc, model_dir, data_set, out_dir, args.timeout, bundle)
            if failure:
                print(f"{model} {ds}: edgecc FAILED ({failure.splitlines()[0]})")
                print("\n".join("    " + line for line in failure.splitlines()[1:]))
            for rec in records:
                print(f"{model} {ds} {rec['output']}: {describe(rec)} "
                      f"{'ok' if rec['ok'] else 'FAIL'}")
            results.append({"model": model, "data_set": ds, "ok": ok,
                            "edgecc_failure": failure, "outputs": records})
            passed, failed = passed + ok, failed + (not ok)

    if max_dims:
        # Inputs past a bound are refused with the dim's name, not read out of bounds.
        model_dir = os.path.join(models_dir, "llama_op17")
        small = os.path.join(work, "bundles", "llama_op17_seq4")
        proc = subprocess.run([edgecc, "compile", os.path.join(model_dir, "model.onnx"), "-o", small,
                               "--max-dim", "seq=4", "--max-dim", "past=8"], capture_output=True, text=True)
        run = subprocess.run([edgecc, "run", small, "--inputs", os.path.join(model_dir, "test_data_set_0"),
                              "--outputs", os.path.join(work, "outputs", "seq4")], capture_output=True, text=True)
        ok = proc.returncode == 0 and run.returncode == 1 and "dim 'seq' is 5, the bundle supports 0..4" in run.stderr
        print(f"llama_op17 prefill of 5 tokens on a seq<=4 bundle is refused: {'ok' if ok else 'FAIL'}\n    "
              f"{(run.stderr or proc.stderr).strip()}")
        passed, failed = passed + ok, failed + (not ok)

    summary = {"passed": passed, "failed": failed, "rel_tol": REL_TOL, "abs_tol": ABS_TOL,
               "edgecc": edgecc, "cases": results}
    with open(os.path.join(work, "e2e_results.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
