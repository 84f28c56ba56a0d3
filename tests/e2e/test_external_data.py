#!/usr/bin/python3
"""Models whose weights live in ONNX external data files compile and match PyTorch, also with
every large constant in the compiler's scratch file (EDGECC_COMPILE_HEAP_BYTES=0, as for a model
over 512 MiB); a missing external file is a clear error."""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    models = os.path.join(args.work, "models")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "../../examples/models/make_decoders.py"), "--out", models,
                    "--models", "llama", "--opsets", "14"], check=True, capture_output=True)
    src = os.path.join(models, "llama_op14")
    ext = os.path.join(args.work, "external")
    os.makedirs(ext)
    model = onnx.load(os.path.join(src, "model.onnx"))
    onnx.save_model(model, os.path.join(ext, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.data", size_threshold=256)
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        print(f"{'ok' if ok else 'FAIL'}: {name} {detail}")
        passed += ok
        failed += not ok

    check("weights moved to the external file", os.path.getsize(os.path.join(ext, "weights.data")) > 50000)
    out = os.path.join(args.work, "out")
    data = os.path.join(src, "test_data_set_0")
    p = subprocess.run([args.edgecc, "run", os.path.join(ext, "model.onnx"), "--inputs", data, "--outputs", out,
                        "--bundle-dir", os.path.join(args.work, "bundle")], capture_output=True, text=True,
                       env=dict(os.environ, EDGECC_COMPILE_HEAP_BYTES="0"))
    check("edgecc run succeeds", p.returncode == 0, p.stderr.strip())
    if p.returncode == 0:
        for k in range(5):
            got = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, f"output_{k}.pb")))
            ref = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, f"output_{k}.pb")))
            err, bound = float(np.abs(got - ref).max()), 1e-4 * float(np.abs(ref).max()) + 1e-5
            check(f"output {k} matches PyTorch", err <= bound, f"(max abs err {err:.3g}, bound {bound:.3g})")

    os.remove(os.path.join(ext, "weights.data"))
    p = subprocess.run([args.edgecc, "compile", os.path.join(ext, "model.onnx"), "-o", os.path.join(args.work, "b2")],
                       capture_output=True, text=True)
    check("missing external file is a clear error",
          p.returncode == 1 and "cannot open external data file" in p.stderr and "weights.data" in p.stderr,
          p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
