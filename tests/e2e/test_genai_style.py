#!/usr/bin/env python3
"""ONNX Runtime GenAI-style graphs (com.microsoft fused ops, int4 MatMulNBits) against ONNX Runtime.

1. MatMulNBits alone, one node per layout (blocks of 32, 64 and 128; no zero points, uint8
   zero points; f32 and f16 scales; a bias; K not a multiple of the block), on A [1, 3, 256]:
   ONNX Runtime (accuracy_level 0: f32 arithmetic) and edgecc both against a float64
   dequantize-and-multiply in numpy. ONNX Runtime must agree to float rounding (this checks the
   reading of the format); edgecc within the bound of its arithmetic: its kernels round each
   block of 32 activations to int8 (error <= amax / 254 per value) and the block scales to f16
   (relative 2^-11), so |dy_n| <= sum_blocks amax/254 * sum|w_n| + 2^-10 * sum|a w_n| + 1e-5.
   The report must show the repacked format: q4_0 where the codes fit (no zero point, or
   zero points that shift codes within 0..15), q8_0 for other zero points.
2. make_genai_decoder.py's Llama (GroupQueryAttention with and without do_rotary, packed and
   separate q/k/v, RotaryEmbedding, (Skip)SimplifiedLayerNormalization, MatMulNBits int4 in
   every projection), compiled with --max-context only:
   - prefill and one decode step on the bundle's own cache: logits within 2e-2 * max|ref| of
     ONNX Runtime's, and the same argmax at every position. Both round activations to int8
     per block (accuracy_level 4), each its own way: a chain of seven such linears (q/k/v, o,
     gate/up, down per layer, the head) moves each by up to 1/254 of its block maxima, about
     3 % in all; twice that, for the two sides, is the bound;
   - `edgecc generate`: the same 16 greedy tokens as ONNX Runtime.
3. A GroupQueryAttention with a sliding window is refused in one line naming the node.

Usage: test_genai_style.py --edgecc PATH [--work DIR]
Prints one line per check and `N passed, M failed`; exits 1 on any failure.
"""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples", "models"))
import make_genai_decoder as genai  # noqa: E402
sys.path.insert(0, HERE)
from e2e_args import edgecc_and_work  # noqa: E402
from test_decoders import load_tensor  # noqa: E402

CONTEXT = "64"
LOGITS_REL_TOL = 6e-2


def ort_module():
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "setup_onnxruntime.sh")], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit("onnxruntime-node is not available: " + out.stderr.strip())
    return out.stdout.strip().split("onnxruntime-node: ", 1)[1]


def node(*args):
    proc = subprocess.run(["node", *map(str, args)], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip()[-2000:])
    return proc.stdout


def save_tensor(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name=name).SerializeToString())


def ort_outputs(ort, model, inputs, directory):
    """Every output of `model` on `inputs` (name -> array), by ONNX Runtime (the script bisect uses)."""
    os.makedirs(directory, exist_ok=True)
    entries = []
    for name, array in inputs.items():
        array.tofile(os.path.join(directory, name + ".bin"))
        entries.append({"name": name, "dtype": str(array.dtype), "dims": list(array.shape), "file": name + ".bin"})
    with open(os.path.join(directory, "inputs.json"), "w") as f:
        json.dump(entries, f)
    node(os.path.join(ROOT, "compiler", "driver", "ort_reference.js"), ort, model, directory)
    with open(os.path.join(directory, "outputs.json")) as f:
        listed = json.load(f)
    return {e["name"]: np.fromfile(os.path.join(directory, e["file"]), np.dtype(e["dtype"])).reshape(e["dims"])
            for e in listed}


# ----------------------------------------------------------------------- MatMulNBits alone

LAYOUTS = [  # name, block, zero points, scale type, bias, K
    ("block32", 32, False, np.float32, False, 256),
    ("block64_zp", 64, True, np.float32, False, 256),
    ("block128_f16", 128, False, np.float16, False, 256),
    ("block32_bias", 32, False, np.float32, True, 256),
    ("block128_tail", 128, False, np.float32, False, 160),
    ("block16_k80", 16, False, np.float32, False, 80),  # rows of 80: no blocks of 32, so f32
]


def dequantize(packed, scales, zp_packed, n, k, block):
    """MatMulNBits' weight as float64 [N, K], read as ONNX Runtime's spec says."""
    blocks = packed.shape[1]
    codes = np.stack([packed & 0xF, packed >> 4], -1).reshape(n, blocks, block).astype(np.float64)
    if zp_packed is None:
        zero = np.full((n, blocks), 8.0)
    else:
        zp = zp_packed.reshape(n, -1)
        zero = np.stack([zp & 0xF, zp >> 4], -1).reshape(n, -1)[:, :blocks].astype(np.float64)
    w = (codes - zero[..., None]) * scales.astype(np.float64).reshape(n, blocks)[..., None]
    return w.reshape(n, -1)[:, :k]


def matmul_nbits_checks(edgecc, ort, work, record):
    rng = np.random.default_rng(11)
    n = 48
    for name, block, zero_points, scale_type, with_bias, k in LAYOUTS:
        d = os.path.join(work, "matmul_nbits", name)
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        w = rng.standard_normal((n, k)).astype(np.float32) * 0.1
        packed, scales, zp = genai.quantize_nbits(w, block, zero_points)
        scales = scales.astype(scale_type)
        a = rng.standard_normal((1, 3, k)).astype(scale_type)
        inits = [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "scales")]
        inputs = ["A", "B", "scales", "zp" if zp is not None else ""]
        if zp is not None:
            inits.append(numpy_helper.from_array(zp, "zp"))
        bias = None
        if with_bias:
            bias = (rng.standard_normal(n) * 0.1).astype(scale_type)
            inits.append(numpy_helper.from_array(bias, "bias"))
            inputs += ["", "bias"]
        while inputs[-1] == "":
            inputs.pop()
        elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(scale_type)]
        graph = helper.make_graph(
            [helper.make_node("MatMulNBits", inputs, ["Y"], name="/proj/MatMulNBits", domain=genai.MS, K=k, N=n, bits=4,
                              block_size=block, accuracy_level=0)], name,
            [helper.make_tensor_value_info("A", elem, [1, 3, k])], [helper.make_tensor_value_info("Y", elem, [1, 3, n])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14), helper.make_opsetid(genai.MS, 1)])
        path = os.path.join(d, "model.onnx")
        onnx.save(model, path)
        save_tensor(os.path.join(d, "test_data_set_0", "input_0.pb"), a, "A")

        wd = dequantize(packed, scales, zp, n, k, block)
        a64 = a.astype(np.float64).reshape(3, k)
        exact = a64 @ wd.T + (bias.astype(np.float64) if bias is not None else 0)
        # edgecc's bound: int8 activations per 32 (amax / 254 each), f16 scales (2^-11 relative).
        # (Rows that are no whole blocks of 32 stay f32: only float rounding, 2^-20 relative.)
        if k % 32 == 0:
            blocks32 = np.abs(a64).reshape(3, -1, 32).max(-1) / 254
            bound = (blocks32 @ np.abs(wd).reshape(n, -1, 32).sum(-1).T) + 2.0 ** -10 * (np.abs(a64) @ np.abs(wd).T) + 1e-5
        else:
            bound = 2.0 ** -20 * (np.abs(a64) @ np.abs(wd).T) + 1e-6
        if scale_type == np.float16:  # the output rounds to f16 too
            bound += np.abs(exact) * 2.0 ** -10

        # ONNX Runtime on the same file: the reading of the format, to float rounding.
        got_ort = ort_outputs(ort, path, {"A": a}, os.path.join(d, "ort"))["Y"].astype(np.float64).reshape(3, n)
        ort_err = float(np.abs(got_ort - exact).max())
        ort_ok = ort_err <= (2e-3 if scale_type == np.float16 else 1e-4) * float(np.abs(exact).max())
        record(f"MatMulNBits {name}: ONNX Runtime = numpy dequantization", ort_ok, f"max err {ort_err:.2e}")

        out = os.path.join(d, "out")
        proc = subprocess.run([edgecc, "run", path, "--inputs", os.path.join(d, "test_data_set_0"), "--outputs", out],
                              capture_output=True, text=True)
        if proc.returncode:
            record(f"MatMulNBits {name}: edgecc within the int8-activation bound", False, proc.stderr.strip()[-500:])
            continue
        got = load_tensor(os.path.join(out, "output_0.pb"))[1].astype(np.float64).reshape(3, n)
        err = np.abs(got - exact)
        record(f"MatMulNBits {name}: edgecc within the int8-activation bound", bool((err <= bound).all()),
               f"max err {err.max():.2e}, max err/bound {(err / bound).max():.2f}")

        bundle = os.path.join(d, "bundle")
        proc = subprocess.run([edgecc, "compile", path, "-o", bundle], capture_output=True, text=True)
        formats = []
        if proc.returncode == 0:
            with open(os.path.join(bundle, "report.json")) as f:
                formats = [o["format"] for o in json.load(f)["ops"] if "MatMulNBits" in o.get("op", "") and o.get("format")]
        want = "f32" if k % 32 else "q8_0" if zero_points else "q4_0"
        record(f"MatMulNBits {name}: repacked as {want}", len(formats) == 1 and formats[0].startswith(want),
               f"formats {formats}" if proc.returncode == 0 else proc.stderr.strip()[-500:])


# ----------------------------------------------------------------------- the GenAI-style Llama

def llm_checks(edgecc, ort, work, record):
    model_dir = os.path.join(work, "genai_llama")
    gen = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "models", "make_genai_decoder.py"), "--out", model_dir],
                         capture_output=True, text=True)
    print(gen.stdout, end="")
    if gen.returncode:
        record("make_genai_decoder.py", False, gen.stderr.strip()[-2000:])
        return
    with open(os.path.join(model_dir, "prompt.json")) as f:
        prompt = json.load(f)
    path = os.path.join(model_dir, "model.onnx")
    ref = json.loads(node(os.path.join(HERE, "ort_llm_steps.js"), ort, path, ",".join(map(str, prompt["prompt_ids"])),
                          prompt["decode_id"], 16, genai.KV_HEADS, genai.HEAD_DIM))

    # Two consecutive steps on the bundle's own cache: the prompt, then one more token.
    steps = [(prompt["prompt_ids"], 0, ref["prefill"]["logits"]), ([prompt["decode_id"]], len(prompt["prompt_ids"]),
                                                                     ref["decode"]["logits"])]
    bundle = os.path.join(work, "bundles", "genai_llama")
    proc = subprocess.run([edgecc, "compile", path, "-o", bundle, "--max-context", CONTEXT], capture_output=True, text=True)
    record("genai_llama compiles with --max-context only", proc.returncode == 0, proc.stderr.strip()[-2000:] or "ok")
    if proc.returncode:
        return
    cmd = [edgecc, "run", bundle]
    for k, (ids, past, _) in enumerate(steps):
        ds, out = os.path.join(work, "genai_steps", f"in{k}"), os.path.join(work, "genai_steps", f"out{k}")
        os.makedirs(ds, exist_ok=True)
        save_tensor(os.path.join(ds, "input_0.pb"), np.array([ids], np.int64), "input_ids")
        save_tensor(os.path.join(ds, "input_1.pb"), np.ones((1, past + len(ids)), np.int64), "attention_mask")
        save_tensor(os.path.join(ds, "input_2.pb"), np.arange(past, past + len(ids), dtype=np.int64)[None], "position_ids")
        cmd += ["--inputs", ds, "--outputs", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for k, (_, _, want) in enumerate(steps):
        name = f"genai_llama {'prefill' if k == 0 else 'decode'} logits vs ONNX Runtime"
        if proc.returncode:
            record(name, False, proc.stderr.strip()[-2000:])
            continue
        got = load_tensor(os.path.join(work, "genai_steps", f"out{k}", "output_0.pb"))[1].astype(np.float64)
        want = np.array(want["data"], np.float64).reshape(want["dims"])
        err, bound = float(np.abs(got - want).max()), LOGITS_REL_TOL * float(np.abs(want).max())
        same = int((got.argmax(-1) == want.argmax(-1)).sum())
        record(name, err <= bound and same == want.shape[1],
               f"max err {err:.2e} (bound {bound:.2e}), argmax same at {same}/{want.shape[1]} positions")

    proc = subprocess.run([edgecc, "generate", path, "--max-context", CONTEXT, "--prompt-ids",
                           ",".join(map(str, prompt["prompt_ids"])), "-n", "16", "--ignore-eos", "--json",
                           "--bundle-dir", os.path.join(work, "generate")], capture_output=True, text=True)
    got = json.loads(proc.stdout.strip().splitlines()[-1])["ids"] if proc.returncode == 0 else None
    record("genai_llama generate: 16 greedy tokens as ONNX Runtime", got == ref["greedy"],
           f"edgecc {got}, ONNX Runtime {ref['greedy']}" if got else proc.stderr.strip()[-2000:])

    # A sliding window is not ours to drop silently: refused, naming the node.
    model = onnx.load(path)
    gqa = next(n for n in model.graph.node if n.op_type == "GroupQueryAttention")
    gqa.attribute.append(helper.make_attribute("local_window_size", 16))
    bad = os.path.join(model_dir, "sliding_window.onnx")
    onnx.save(model, bad)
    proc = subprocess.run([edgecc, "compile", bad, "-o", os.path.join(work, "bundles", "refused"), "--max-context", CONTEXT],
                          capture_output=True, text=True)
    lines = proc.stderr.strip().splitlines()
    ok = proc.returncode == 1 and len(lines) == 1 and gqa.name in lines[0] and "local_window_size" in lines[0]
    record("sliding-window GroupQueryAttention refused", ok, lines[-1] if lines else f"exit {proc.returncode}")


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-genai-")
    ort = ort_module()
    passed = failed = 0

    def record(name, ok, text):
        nonlocal passed, failed
        print(f"{name}: {'ok' if ok else 'FAIL'} ({text})")
        passed, failed = passed + ok, failed + (not ok)

    matmul_nbits_checks(edgecc, ort, work, record)
    llm_checks(edgecc, ort, work, record)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
