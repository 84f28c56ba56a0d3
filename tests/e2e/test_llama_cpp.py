#!/usr/bin/env python3
"""Agreement with llama.cpp on the same GGUF files, and with PyTorch on the ONNX export of the
same weights.

For each generated tiny model (examples/models/make_gguf.py; Llama with f32, f16, q8_0 and
q4_0 weights, a tied and an untied head, and qwen2 with Q/K/V biases):

  1. llama.cpp (libllama from node-llama-cpp, through tests/reference/llama_ref) decodes
     STEPS tokens greedily after a prompt and records the logits of every step.
  2. edgecc compiles the GGUF and `edgecc generate --json` decodes greedily too.
  3. `edgecc run` feeds the same tokens as consecutive steps (teacher forcing on llama.cpp's
     sequence) and records our logits at every step.

Checks:
  - f32 and f16: the greedy sequences are identical, and every step's logits agree:
    max|ours - llama.cpp| <= LOGITS_RTOL * max|llama.cpp| + LOGITS_ATOL (+ for f16, what
    llama.cpp's arithmetic adds, below).
  - f16 weights: most of llama.cpp's CPU variants (haswell, zen4, skylakex, ...) round the
    activations to f16 before an f16 matrix product; edgecc multiplies them in f32. The
    difference this makes is computed, not guessed: a float64 numpy forward of the same file
    over the same tokens, once with and once without that rounding; its largest logit change
    is added to the f16 bound (on this kind of model about 5e-3, 40x the rounding bound).
  - q8_0 and q4_0: the top-1 token agrees with llama.cpp's on at least 95 % of the
    teacher-forced steps (both quantize activations to 8-bit blocks the same way).
  - A prompt longer than --max-batch is split into steps inside prefill(): the logits equal
    those of a bundle that takes the prompt in one step.
  - ONNX path: the same weights exported by PyTorch, compiled with --max-context, match
    PyTorch's logits for a prefill and a decode step (bound as in test_decoders.py), and the
    GGUF bundle's last-position logits match PyTorch's too.

Prints a table, writes <work>/llama_cpp_results.json, exits 1 on any failure.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")
SETUP = os.path.join(REPO, "scripts", "setup_llama_ref.sh")
PROMPT = [1, 20, 30, 40, 299, 5]
STEPS = 32
LOGITS_RTOL, LOGITS_ATOL = 1e-3, 1e-4  # f32/f16; measured worst is far below (see the table)
TOP1_MIN = 0.95

CASES = [  # name, make_gguf flags, exact (sequence + logits) or top-1 agreement
    ("llama-f32", ["--type", "f32"], "exact"),
    ("llama-f16", ["--type", "f16"], "exact"),
    ("llama-q8_0", ["--type", "q8_0"], "top1"),
    ("llama-q4_0", ["--type", "q4_0"], "top1"),
    ("llama-f32-tied", ["--type", "f32", "--tied"], "exact"),
    ("qwen2-f32", ["--type", "f32", "--arch", "qwen2"], "exact"),
    ("qwen2-q8_0", ["--type", "q8_0", "--arch", "qwen2"], "top1"),
]


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr.strip()[-3000:]}")
    return proc.stdout


def write_ids(directory, ids):
    os.makedirs(directory, exist_ok=True)
    t = numpy_helper.from_array(np.array([ids], dtype=np.int32), "input_ids")
    with open(os.path.join(directory, "input_0.pb"), "wb") as f:
        f.write(t.SerializeToString())


def read_tensor(path):
    proto = onnx.TensorProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return numpy_helper.to_array(proto)


def our_forced_logits(edgecc, bundle, ids, work, prompt=PROMPT):
    """Logits after the prompt, then after each further token, from one bundle (KV cache)."""
    steps = [prompt] + [[i] for i in ids[:-1]]
    cmd = [edgecc, "run", bundle]
    outs = []
    for k, step in enumerate(steps):
        d, o = os.path.join(work, f"in_{k}"), os.path.join(work, f"out_{k}")
        shutil.rmtree(o, ignore_errors=True)
        write_ids(d, step)
        cmd += ["--inputs", d, "--outputs", o]
        outs.append(o)
    run(cmd)
    last_rows = []
    for o in outs:
        t = read_tensor(os.path.join(o, "output_0.pb"))
        last_rows.append(t.reshape(-1, t.shape[-1])[-1])  # the last position's logits
    return np.stack(last_rows)


def check_case(edgecc, llama_ref, work, name, flags, mode):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    gguf = os.path.join(d, "model.gguf")
    run([sys.executable, MAKE_GGUF, "--preset", "tiny", "-o", gguf] + flags)
    ref_logits_path = os.path.join(d, "llama_logits.f32")
    ref = json.loads(run([llama_ref, "generate", gguf, "--ids", ",".join(map(str, PROMPT)), "-n", str(STEPS),
                          "--logits", ref_logits_path]))
    ref_ids = ref["ids"]
    ref_logits = np.fromfile(ref_logits_path, dtype=np.float32).reshape(STEPS, -1)

    bundle = os.path.join(d, "bundle")
    run([edgecc, "compile", gguf, "-o", bundle, "--max-context", "64"])
    ours = json.loads(run([edgecc, "generate", bundle, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", str(STEPS),
                           "--json", "--ignore-eos"]).strip().splitlines()[-1])
    logits = our_forced_logits(edgecc, bundle, ref_ids, os.path.join(d, "steps"))

    same_prefix = next((k for k, (a, b) in enumerate(zip(ours["ids"], ref_ids)) if a != b), STEPS)
    top1 = float(np.mean(logits.argmax(axis=1) == np.array(ref_ids)))
    err = float(np.abs(logits.astype(np.float64) - ref_logits).max())
    bound = LOGITS_RTOL * float(np.abs(ref_logits).max()) + LOGITS_ATOL
    if "f16" in flags:
        bound += f16_activation_effect(gguf, ref_ids)
    if mode == "exact":
        ok = ours["ids"] == ref_ids and err <= bound
    else:
        ok = top1 >= TOP1_MIN
    return {"case": name, "mode": mode, "ok": bool(ok), "greedy_identical_steps": same_prefix, "steps": STEPS,
            "top1_agreement": top1, "max_abs_logits_err": err, "logits_bound": bound,
            "max_abs_ref_logit": float(np.abs(ref_logits).max())}


def f16_activation_effect(gguf, ref_ids):
    """max |logits(f16-rounded activations) - logits(f32 activations)| over the teacher-forced
    steps, from make_gguf's float64 numpy forward of the file."""
    sys.path.insert(0, os.path.dirname(MAKE_GGUF))
    import make_gguf  # noqa: E402  (the generator's own reader and forward)
    g = make_gguf.GgufFile(gguf)
    W, cfg = make_gguf.load_weights(g), make_gguf.config_from_gguf(g)
    ids = PROMPT + ref_ids[:-1]  # step k's logits predict ref_ids[k]
    exact, _ = make_gguf.np_forward(W, cfg, ids)
    rounded, _ = make_gguf.np_forward(W, cfg, ids, f16_activations=True)
    rows = slice(len(PROMPT) - 1, len(ids))
    return float(np.abs(rounded[rows] - exact[rows]).max())


def check_chunked_prefill(edgecc, work):
    """A 6-token prompt through a bundle of at most 4 tokens per step (two runs inside
    prefill) against a bundle that takes it at once: the same greedy tokens."""
    d = os.path.join(work, "chunked")
    os.makedirs(d, exist_ok=True)
    gguf = os.path.join(d, "model.gguf")
    run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", "f32", "-o", gguf])
    results = []
    for batch in (4, 64):
        bundle = os.path.join(d, f"bundle_{batch}")
        run([edgecc, "compile", gguf, "-o", bundle, "--max-context", "64", "--max-batch", str(batch)])
        results.append(json.loads(run([edgecc, "generate", bundle, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", "8",
                                       "--json", "--ignore-eos"]).strip().splitlines()[-1])["ids"])
    return [{"case": "prompt split by --max-batch 4 == one step", "ok": results[0] == results[1],
             "greedy_identical_steps": next((k for k, (a, b) in enumerate(zip(*results)) if a != b), 8), "steps": 8}]


def check_onnx(edgecc, work):
    """The same weights through PyTorch's ONNX export: bundle vs PyTorch, and GGUF bundle vs PyTorch."""
    d = os.path.join(work, "onnx")
    os.makedirs(d, exist_ok=True)
    gguf, model = os.path.join(d, "model.gguf"), os.path.join(d, "model.onnx")
    run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", "f32", "-o", gguf, "--onnx", model, "--onnx-test-data"])
    sets = [os.path.join(d, f"test_data_set_{k}") for k in (0, 1)]
    bundle = os.path.join(d, "bundle_onnx")
    run([edgecc, "compile", model, "-o", bundle, "--max-context", "64"])
    cmd = [edgecc, "run", bundle]
    for k, s in enumerate(sets):
        shutil.rmtree(os.path.join(d, f"out_{k}"), ignore_errors=True)
        cmd += ["--inputs", s, "--outputs", os.path.join(d, f"out_{k}")]
    run(cmd)
    records = []
    for k, s in enumerate(sets):
        ref = read_tensor(os.path.join(s, "output_0.pb")).astype(np.float64)
        got = read_tensor(os.path.join(d, f"out_{k}", "output_0.pb")).astype(np.float64)
        bound = 1e-4 * np.abs(ref).max() + 1e-5
        err = float(np.abs(got - ref).max()) if got.shape == ref.shape else float("inf")
        records.append({"case": f"onnx step {k} vs PyTorch", "ok": bool(err <= bound and (got.argmax(-1) == ref.argmax(-1)).all()),
                        "max_abs_logits_err": err, "logits_bound": float(bound)})
    # The GGUF bundle on the prefill's ids: its last-position logits against PyTorch's.
    ids = read_tensor(os.path.join(sets[0], "input_0.pb")).astype(np.int32)
    gbundle = os.path.join(d, "bundle_gguf")
    run([edgecc, "compile", gguf, "-o", gbundle, "--max-context", "64"])
    write_ids(os.path.join(d, "gguf_in"), list(ids.reshape(-1)))
    shutil.rmtree(os.path.join(d, "gguf_out"), ignore_errors=True)
    run([edgecc, "run", gbundle, "--inputs", os.path.join(d, "gguf_in"), "--outputs", os.path.join(d, "gguf_out")])
    ref = read_tensor(os.path.join(sets[0], "output_0.pb")).astype(np.float64)[0, -1]
    got = read_tensor(os.path.join(d, "gguf_out", "output_0.pb")).astype(np.float64).reshape(-1)
    bound = 1e-4 * np.abs(ref).max() + 1e-5
    err = float(np.abs(got - ref).max())
    records.append({"case": "gguf bundle vs PyTorch (same weights)", "ok": bool(err <= bound and got.argmax() == ref.argmax()),
                    "max_abs_logits_err": err, "logits_bound": float(bound)})
    # Deterministic: compiling the same GGUF again gives byte-identical files.
    again = os.path.join(d, "bundle_gguf_again")
    run([edgecc, "compile", gguf, "-o", again, "--max-context", "64"])
    differ = [f for f in ("model.h", "model.cpp", "weights.bin", "tokenizer.bin", "CMakeLists.txt", "report.json")
              if open(os.path.join(gbundle, f), "rb").read() != open(os.path.join(again, f), "rb").read()]
    records.append({"case": "gguf bundle is deterministic", "ok": not differ,
                    **({"error": f"files differ: {differ}"} if differ else {})})
    # `edgecc generate` straight from the ONNX file (compiled into the cache with a default
    # context) and from the GGUF bundle: the same weights give the same greedy tokens.
    prompt = ",".join(map(str, ids.reshape(-1)))
    gen = [json.loads(run([edgecc, "generate", m, "--prompt-ids", prompt, "-n", "16", "--json", "--ignore-eos"])
                      .strip().splitlines()[-1])["ids"] for m in (model, gbundle)]
    same = next((k for k, (a, b) in enumerate(zip(*gen)) if a != b), 16)
    records.append({"case": "generate from .onnx == from .gguf", "ok": gen[0] == gen[1], "greedy_identical_steps": same,
                    "steps": 16})
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--work", help="work directory (default: a fresh temporary one)")
    args = ap.parse_args()
    edgecc = os.path.abspath(args.edgecc)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="edgecc-llama-"))
    os.makedirs(work, exist_ok=True)
    out = run(["bash", SETUP])
    llama_ref = os.path.join(out.strip().splitlines()[-1].split(": ", 1)[1], "bin", "llama_ref")

    results = []
    for name, flags, mode in CASES:
        try:
            results.append(check_case(edgecc, llama_ref, work, name, flags, mode))
        except Exception as e:  # report and go on: one broken case must not hide the others
            results.append({"case": name, "ok": False, "error": str(e)})
    try:
        results += check_chunked_prefill(edgecc, work)
    except Exception as e:
        results.append({"case": "chunked prefill", "ok": False, "error": str(e)})
    try:
        results += check_onnx(edgecc, work)
    except Exception as e:
        results.append({"case": "onnx", "ok": False, "error": str(e)})

    print(f"{'case':<40} {'greedy same':>11} {'top-1':>7} {'max|dlogit|':>12} {'bound':>10}  result")
    for r in results:
        if "error" in r:
            print(f"{r['case']:<40} ERROR {r['error']}")
            continue
        same = f"{r['greedy_identical_steps']}/{r['steps']}" if "steps" in r else "-"
        top1 = f"{r['top1_agreement']:.1%}" if "top1_agreement" in r else "-"
        # Cases that compare tokens or files measure no logits: '-', never a made-up 0.
        err = f"{r['max_abs_logits_err']:.3e}" if "max_abs_logits_err" in r else "-"
        bound = f"{r['logits_bound']:.3e}" if "logits_bound" in r else "-"
        print(f"{r['case']:<40} {same:>11} {top1:>7} {err:>12} {bound:>10}  {'ok' if r['ok'] else 'FAIL'}")
    with open(os.path.join(work, "llama_cpp_results.json"), "w") as f:
        json.dump(results, f, indent=2)
    failed = sum(not r["ok"] for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
