#!/usr/bin/env python3
"""KV cache precision (--kv-type f32|f16|q8_0) on a tiny Llama with head size 32 (GQA 2:1).

For each type:
  1. Our arithmetic: the bundle's teacher-forced logits against a float64 numpy forward of the
     same file whose keys and values are rounded as that cache stores them
     (make_gguf.round_kv: f16, or q8_0 blocks as ggml's quantizer makes them). Bound as for f32
     against PyTorch in test_decoders.py: 1e-4 x max|logit| + 1e-5 (f32 arithmetic; a key
     rounded to the neighbouring f16 or q8_0 step where float64 and f32 differ moves a logit
     far less). The table also gives how far the rounding moves numpy's logits from an f32
     cache: it exceeds the bound for f16 and q8_0, so a bundle that stored f32 would fail.
  2. llama.cpp at the same cache type (llama_ref --kv-type: --cache-type-k/v, flash attention
     on): the greedy tokens are the same for STEPS steps and the top-1 token agrees on at least
     95 % of them. llama.cpp also rounds the queries (to f16 or q8_0) and, with an f16 cache,
     accumulates values in f16; the max |dlogit| is reported, not bounded.
  3. The plan: report.json's KV cache is layers x 2 x context x KV width x bytes per value of
     the type (q8_0: 34 bytes per 32 values).
Bad input: q8_0 with a head size of 16 is refused naming the input and its head size (exit
1); an unknown type is a usage error (exit 2).

Prints a table, exits 1 on any failure.
"""

import json
import os
import subprocess
import sys

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
sys.path.insert(0, os.path.dirname(__file__))
import make_gguf as gg  # noqa: E402
from check_table import CheckTable  # noqa: E402
from e2e_args import edgecc_and_work  # noqa: E402
from test_llama_cpp import PROMPT, STEPS, TOP1_MIN, our_forced_logits, run  # noqa: E402

CONTEXT = 64
BYTES_PER_VALUE = {"f32": 4.0, "f16": 2.0, "q8_0": 34 / 32}


def llama_ref_bin():
    out = run(["bash", os.path.join(REPO, "scripts", "setup_llama_ref.sh")])
    return os.path.join(out.strip().splitlines()[-1].split(": ", 1)[1], "bin", "llama_ref")


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-kv-types-")
    table = CheckTable()
    check = table.check
    llama_ref = llama_ref_bin()
    gguf = os.path.join(work, "model.gguf")
    run([sys.executable, gg.__file__, "--preset", "tiny", "--type", "f32", "--heads", "2", "--kv-heads", "1", "-o", gguf])
    g = gg.GgufFile(gguf)
    W, cfg = gg.load_weights(g), gg.config_from_gguf(g)
    kv_width = cfg["head_dim"] * cfg["n_kv_heads"]

    for kv in ("f32", "f16", "q8_0"):
        d = os.path.join(work, kv)
        os.makedirs(d, exist_ok=True)
        ref_path = os.path.join(d, "llama_logits.f32")
        ref = json.loads(run([llama_ref, "generate", gguf, "--ids", ",".join(map(str, PROMPT)), "-n", str(STEPS),
                              "--kv-type", kv, "--logits", ref_path]))
        ref_ids, ref_logits = ref["ids"], np.fromfile(ref_path, dtype=np.float32).reshape(STEPS, -1).astype(np.float64)
        bundle = os.path.join(d, "bundle")
        run([edgecc, "compile", gguf, "-o", bundle, "--max-context", str(CONTEXT), "--kv-type", kv])
        ours = our_forced_logits(edgecc, bundle, ref_ids, os.path.join(d, "steps")).astype(np.float64)
        greedy = json.loads(run([edgecc, "generate", bundle, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", str(STEPS),
                                 "--json", "--ignore-eos"]).strip().splitlines()[-1])["ids"]

        # 1. Against numpy with the same rounding of keys and values.
        ids = PROMPT + ref_ids[:-1]  # step k's logits predict ref_ids[k]
        rows = slice(len(PROMPT) - 1, len(ids))
        expected = gg.np_forward(W, cfg, ids, kv_type=kv)[0][rows]
        exact_f32 = gg.np_forward(W, cfg, ids)[0][rows]
        bound = 1e-4 * float(np.abs(expected).max()) + 1e-5
        err = float(np.abs(ours - expected).max())
        moved = float(np.abs(expected - exact_f32).max())
        check(f"{kv}: logits vs numpy with {kv} keys/values", err <= bound and (kv == "f32" or moved > bound),
              f"max|d| {err:.2e} <= {bound:.2e}; the rounding itself moves logits by {moved:.2e}")

        # 2. llama.cpp at the same cache type.
        top1 = float(np.mean(ours.argmax(axis=1) == np.array(ref_ids)))
        same = next((k for k, (a, b) in enumerate(zip(greedy, ref_ids)) if a != b), STEPS)
        check(f"{kv}: llama.cpp --cache-type-k/v {kv}", greedy == ref_ids and top1 >= TOP1_MIN,
              f"greedy same {same}/{STEPS}, top-1 {top1:.1%}, max|dlogit| {float(np.abs(ours - ref_logits).max()):.2e}")

        # 3. The plan's KV cache.
        memory = json.load(open(os.path.join(bundle, "report.json")))["memory"]
        item = next((i for i in memory["items"] if i["name"] == "KV cache"), {})
        want = int(cfg["n_layers"] * 2 * CONTEXT * kv_width * BYTES_PER_VALUE[kv])
        check(f"{kv}: planned KV cache", item.get("bytes") == want and memory.get("kv_type") == kv,
              f"{item.get('bytes')} bytes ({memory.get('kv_type')}) vs {want}")

    # Bad input.
    small = os.path.join(work, "hd16.gguf")
    run([sys.executable, gg.__file__, "--preset", "tiny", "--type", "f32", "-o", small])  # head size 16
    p = subprocess.run([edgecc, "compile", small, "-o", os.path.join(work, "refused"), "--kv-type", "q8_0"],
                       capture_output=True, text=True)
    first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
    check("q8_0 with head size 16 is refused", p.returncode == 1 and "hd16.gguf" in first and "head size 16" in first,
          f"exit {p.returncode}: {first[:160]}")
    p = subprocess.run([edgecc, "compile", gguf, "-o", os.path.join(work, "bad"), "--kv-type", "q4"], capture_output=True, text=True)
    check("unknown --kv-type is a usage error", p.returncode == 2 and "--kv-type" in p.stderr, f"exit {p.returncode}")
    return table.report()


if __name__ == "__main__":
    sys.exit(main())
