#!/usr/bin/env python3
"""--calibration: the inputs a calibration bundle observes, and what error-feedback rounding
buys, on the trained model (models/brown-6m) and real text.

  1. The observed moments: the statistics of layer 0's attention input (shared by q, k and v)
     equal sum x x^T computed here in float64 from the GGUF's embedding table and norm weight,
     over llama.cpp's tokens of the text in llama-perplexity's chunks (tokens from
     tests/reference/llama_ref). f32 arithmetic in the bundle: 1e-4 of the largest entry.
     Every float weight a linear reads is named, and the token count is chunks x context.
  2. The accuracy: on held-out chunks the calibration never saw, q2_k with --calibration has a
     lower perplexity and at most 0.9x the mean KL from the f32 build of plain q2_k (on the full
     held-out text it is 0.61x with 32 chunks of calibration, here 0.7x with 8; the margin absorbs the short sample).
  3. Bad input: --calibration without --weights, and a missing calibration file, exit non-zero
     with one line naming the reason.

Prints a table, exits 1 on any failure.
"""

import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
sys.path.insert(0, os.path.dirname(__file__))
import make_gguf as gg  # noqa: E402
import test_quality as tq  # noqa: E402
from check_table import CheckTable  # noqa: E402
from e2e_args import edgecc_and_work  # noqa: E402

MODEL = os.path.join(REPO, "models", "brown-6m", "model-f16.gguf")
HELDOUT = os.path.join(REPO, "models", "brown-6m", "heldout.txt")
CTX, CAL_CHUNKS, EVAL_CHUNKS = 256, 8, 24
H_ATOL = 1e-4      # x the largest |H| entry
KL_RATIO = 0.9


def fnv1a64(data, h):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_statistics(path):
    """runtime/input_statistics.h's file: {names: (tokens, H)}."""
    buf = open(path, "rb").read()
    assert buf[:8] == b"EKHSTAT1", path
    count, pos, out = int.from_bytes(buf[8:12], "little"), 12, {}
    for _ in range(count):
        n = int.from_bytes(buf[pos:pos + 4], "little")
        names = buf[pos + 4:pos + 4 + n].decode()
        pos += 4 + n
        k = int.from_bytes(buf[pos:pos + 4], "little")
        tokens = np.frombuffer(buf[pos + 4:pos + 12], dtype=np.float64)[0]
        h = np.frombuffer(buf[pos + 12:pos + 12 + 4 * k * k], dtype=np.float32).reshape(k, k)
        pos += 12 + 4 * k * k
        out[names] = (tokens, h.astype(np.float64))
    assert pos == len(buf), "trailing bytes"
    return out


def reference_moments(llama_ref, text):
    """sum over llama-perplexity's chunks of x x^T, x = rms_norm(embedding) * attn_norm (layer 0)."""
    g = gg.GgufFile(MODEL)
    emb = g.tensor("token_embd.weight").astype(np.float64)
    norm = g.tensor("blk.0.attn_norm.weight").astype(np.float64)
    eps = float(g.get("llama.attention.layer_norm_rms_epsilon"))
    ids = json.loads(tq.run([llama_ref, "tokenize", MODEL, "--text", text]).stdout)["ids"]
    assert len(ids) >= CAL_CHUNKS * CTX, f"calibration text too short: {len(ids)} tokens"
    h = np.zeros((emb.shape[1], emb.shape[1]))
    for c in range(CAL_CHUNKS):
        chunk = list(ids[c * CTX:(c + 1) * CTX])
        chunk[0] = 1  # <s>, as llama-perplexity
        x = emb[chunk]
        x = x / np.sqrt((x * x).mean(axis=1, keepdims=True) + eps) * norm
        h += x.T @ x
    return h


def perplexity(edgecc, text, extra):
    out = tq.run([edgecc, "perplexity", MODEL, "--text", text, "--chunks", str(EVAL_CHUNKS), "--json"] + extra).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-calibration-")
    llama_ref = os.path.join(tq.llama_ref_dir(), "bin", "llama_ref")
    text = open(HELDOUT, encoding="utf-8").read()
    # Calibration: the start of the held-out text, with a marker line that makes its bytes (and
    # so its statistics file) this run's own, whatever earlier runs left in the cache.
    # Evaluation: later files of the held-out text.
    calibration_text = f"edgecc calibration test {os.getpid()} {time.time_ns()}\n" + text[:40000]
    calibration = os.path.join(work, "calibration.txt")
    evaluation = os.path.join(work, "evaluation.txt")
    open(calibration, "w", encoding="utf-8").write(calibration_text)
    open(evaluation, "w", encoding="utf-8").write(text[150000:])
    table = CheckTable()
    check = table.check

    # 1. What the calibration bundle observed.
    reference = perplexity(edgecc, evaluation, ["--weights", "f32", "--save-logits", os.path.join(work, "f32.logprobs")])
    rtn = perplexity(edgecc, evaluation, ["--weights", "q2_k", "--compare-logits", os.path.join(work, "f32.logprobs")])
    cal = perplexity(edgecc, evaluation, ["--weights", "q2_k", "--calibration", calibration, "--calibration-chunks",
                                               str(CAL_CHUNKS), "--compare-logits", os.path.join(work, "f32.logprobs")])
    key = fnv1a64(calibration_text.encode(), CAL_CHUNKS)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ["HOME"], ".cache")
    found = glob.glob(os.path.join(cache, "edgecc", "generate-*", f"input-statistics-{key:016x}.bin"))
    check("statistics file", len(found) == 1, f"{len(found)} file(s) input-statistics-{key:016x}.bin")
    if found:
        stats = read_statistics(found[0])
        for f in found:  # this run's own: nothing else will read it
            os.remove(f)
        names = sorted(n for entry in stats for n in entry.split(","))
        expected = sorted([f"blk.{i}.{t}.weight" for i in range(6) for t in
                           ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")] + ["token_embd.weight"])
        check("observed weights", names == expected, f"{len(names)} names, {len(stats)} inputs")
        entry = next((e for e in stats if "blk.0.attn_q.weight" in e.split(",")), None)
        if entry is None:
            check("layer 0 moments", False, "no entry names blk.0.attn_q.weight")
        else:
            tokens, h = stats[entry]
            ref = reference_moments(llama_ref, calibration_text)
            err = float(np.abs(h - ref).max() / np.abs(ref).max())
            check("layer 0 tokens", tokens == CAL_CHUNKS * CTX, f"{tokens:.0f} (expected {CAL_CHUNKS * CTX})")
            check("layer 0 moments", err <= H_ATOL, f"max |H - numpy| = {err:.2e} of max |H| (bound {H_ATOL:g})")
            check("layer 0 shared input", set(entry.split(",")) == {"blk.0.attn_q.weight", "blk.0.attn_k.weight",
                                                                   "blk.0.attn_v.weight"}, entry)

    # 2. Accuracy on text the calibration never saw.
    check("perplexity", cal["ppl"] < rtn["ppl"],
          f"f32 {reference['ppl']:.3f}, q2_k {rtn['ppl']:.3f}, q2_k+cal {cal['ppl']:.3f}")
    check("KL", cal["kl"] <= KL_RATIO * rtn["kl"],
          f"q2_k {rtn['kl']:.5f}, q2_k+cal {cal['kl']:.5f} ({cal['kl'] / rtn['kl']:.2f}x, bound {KL_RATIO})")

    # 3. Bad input.
    for name, cmd, want in [
        ("no --weights", ["compile", MODEL, "-o", os.path.join(work, "b"), "--calibration", calibration],
         "--calibration needs --weights"),
        ("missing text", ["compile", MODEL, "-o", os.path.join(work, "b"), "--weights", "q4_k", "--calibration",
                          os.path.join(work, "missing.txt")], "no such calibration text file"),
    ]:
        p = subprocess.run([edgecc] + cmd, capture_output=True, text=True)
        first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
        check(f"bad input: {name}", p.returncode != 0 and want in first, f"exit {p.returncode}: {first}")

    return table.report()


if __name__ == "__main__":
    sys.exit(main())
