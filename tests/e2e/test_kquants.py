#!/usr/bin/env python3
"""The k-quants (Q2_K .. Q6_K) against llama.cpp, on the trained model (models/brown-6m,
whose rows are whole 256-value super-blocks). For each type, llama_model_quantize (libllama
via tests/reference/llama_ref, --pure: every 2-D tensor in that type) writes a GGUF file:

  1. Quantization bytes: edgecc.quantize_rows (the compiler's --weights code) on the f16
     tensors gives exactly llama.cpp's bytes, tensor for tensor.
  2. Decoding: edgecc.dequantize_rows (the bundles' kernels' reading) equals llama.cpp's own
     numpy dequantizer (gguf-py/gguf/quants.py from the same llama.cpp source). Both multiply
     the same float32 values in the same order, so the bound is 1e-6 of the tensor's largest
     value (0 measured; the slack is for a build that fuses the multiply-subtract).
  3. Perplexity: `edgecc perplexity` on llama.cpp's file equals the perplexity computed from
     llama.cpp's own logits on that file within 2e-3 relative. Both quantize activations to
     8 bits per 256 (llama.cpp's Q8_K) and form the same integer sums; what differs is float
     summation order, which can flip an activation's rounding and moves the figure by ~3e-4
     (measured on the full held-out text). The same check for llama-quantize's Q4_K_M mix.
  4. The compile path: the f16 file compiled with --weights q4_k --weights-head q4_k has
     exactly the perplexity of llama.cpp's q4_k file (same bytes, same kernels).
  5. `edgecc quality`: its q4_k row has exactly the perplexity `edgecc perplexity --weights q4_k`
     gives, and the KL and top-1 it reports for llama.cpp's q4_k file (against the f32 build)
     agree with numpy's KL and top-1 between llama.cpp's own logits of the f16 model and of
     that file, within KL_RTOL and TOP1_ATOL (0.2 % and 0 measured): the two engines' logits differ by ~1e-3 of the
     quantization's effect on them, and only 124 positions are scored.
  6. Bad input: an i-quant tensor (iq4_xs) is refused in one line naming the tensor and type.

Prints a table, exits 1 on any failure.
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
sys.path.insert(0, os.path.dirname(__file__))
import make_gguf as gg  # noqa: E402
from check_table import CheckTable  # noqa: E402
import test_quality as tq  # noqa: E402  (perplexity helpers: llama.cpp's chunking)

MODEL = os.path.join(REPO, "models", "brown-6m", "model-f16.gguf")
# edgecc --weights name, llama_ref --type for a --pure file of that type, gguf-py type id
TYPES = [("q2_k", "q2_k", 10), ("q3_k", "q3_k_m", 11), ("q4_k", "q4_k_s", 12), ("q5_k", "q5_k_s", 13),
         ("q6_k", "q6_k", 14)]
DECODE_RTOL = 1e-6
PPL_RTOL = 2e-3
GGML_IQ4_XS = 23
KL_RTOL, TOP1_ATOL = 0.05, 0.03


def llama_log_probs(llama_ref, gguf, text_file):
    """llama.cpp's log-softmax at the positions llama-perplexity scores (tq.CTX, tq.CHUNKS)."""
    text = open(text_file, encoding="utf-8").read()
    ids = json.loads(tq.run([llama_ref, "tokenize", gguf, "--text", text]).stdout)["ids"]
    rows = []
    for c in range(tq.CHUNKS):
        chunk = ids[c * tq.CTX:(c + 1) * tq.CTX]
        chunk[0] = 1
        with tempfile.NamedTemporaryFile(suffix=".f32") as f:
            tq.run([llama_ref, "forced", gguf, "--ids", ",".join(map(str, chunk)), "--logits", f.name])
            logits = np.fromfile(f.name, dtype=np.float32).reshape(tq.CTX, -1).astype(np.float64)
        for j in range(tq.CTX // 2, tq.CTX - 1):
            row = logits[j] - logits[j].max()
            rows.append(row - np.log(np.exp(row).sum()))
    return np.stack(rows)


def retype_tensor(src, dst, name, new_type):
    """Copies a GGUF file with one tensor's type field changed (its data left as it is)."""
    data = bytearray(open(src, "rb").read())
    key = struct.pack("<Q", len(name)) + name.encode()
    at = data.find(key)  # the tensor info: name, n_dims (u32), dims (u64 each), type (u32)
    if at < 0:
        raise RuntimeError(f"{name} not in {src}")
    at += len(key)
    n_dims = struct.unpack_from("<I", data, at)[0]
    struct.pack_into("<I", data, at + 4 + 8 * n_dims, new_type)
    open(dst, "wb").write(bytes(data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--python-module", required=True, help="directory of the edgecc Python module")
    ap.add_argument("--work")
    args = ap.parse_args()
    sys.path.insert(0, args.python_module)
    import edgecc as edgecc_py  # noqa: E402
    edgecc = os.path.abspath(args.edgecc)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="edgecc-kquants-"))
    os.makedirs(work, exist_ok=True)
    ref_dir = tq.llama_ref_dir()
    llama_ref = os.path.join(ref_dir, "bin", "llama_ref")
    # llama.cpp's numpy reference, without the package's __init__ (it imports yaml and more
    # for its writer): a bare package object whose submodules load from the source.
    import types
    package = types.ModuleType("gguf")
    package.__path__ = [os.path.join(ref_dir, "src", "gguf-py", "gguf")]
    sys.modules["gguf"] = package
    from gguf import quants as ggml_quants  # noqa: E402
    from gguf.constants import GGMLQuantizationType  # noqa: E402
    text = tq.short_text(work)

    table = CheckTable()
    check = table.check

    src = gg.GgufFile(MODEL)
    files = {}
    for q, llama_type, type_id in TYPES:
        files[q] = os.path.join(work, f"brown-{q}.gguf")
        tq.run([llama_ref, "quantize", MODEL, "--out", files[q], "--type", llama_type, "--pure"])
        theirs = gg.GgufFile(files[q])
        same = differ = 0
        worst = 0.0
        for name, (ne, _, _) in src.tensors.items():
            if len(ne) != 2:
                continue
            raw = bytes(theirs.raw(name))
            x = src.tensor(name).astype(np.float32).reshape(ne[1], ne[0])
            if edgecc_py.quantize_rows(x, q) == raw:
                same += 1
            else:
                differ += 1
            ours = edgecc_py.dequantize_rows(raw, q, ne[0])
            ref = ggml_quants.dequantize(np.frombuffer(raw, np.uint8).reshape(ne[1], -1),
                                         GGMLQuantizationType(type_id)).astype(np.float32)
            worst = max(worst, float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30)))
        check(f"{q} bytes vs llama_model_quantize", differ == 0 and same > 0, f"{same} tensors identical, {differ} differ")
        check(f"{q} decoding vs gguf-py", worst <= DECODE_RTOL, f"max |diff| / max |x| = {worst:.1e} (bound {DECODE_RTOL:g})")

    mix = os.path.join(work, "brown-q4_k_m.gguf")
    tq.run([llama_ref, "quantize", MODEL, "--out", mix, "--type", "q4_k_m"])
    for label, path in [(q, files[q]) for q, _, _ in TYPES] + [("Q4_K_M mix", mix)]:
        ref, _ = tq.reference_ppl(llama_ref, path, text)
        got = tq.edgecc_ppl(edgecc, path, text, work)
        rel = abs(got["ppl"] - ref) / ref
        check(f"{label} perplexity vs llama.cpp logits", rel <= PPL_RTOL,
              f"edgecc {got['ppl']:.4f}, llama.cpp {ref:.4f}, rel {rel:.1e} (bound {PPL_RTOL:g})")

    ours = tq.edgecc_ppl(edgecc, MODEL, text, work, "--weights", "q4_k", "--weights-head", "q4_k")
    theirs = tq.edgecc_ppl(edgecc, files["q4_k"], text, work)
    check("--weights q4_k vs llama-quantize's q4_k file", ours["ppl"] == theirs["ppl"],
          f"ppl {ours['ppl']:.6f} vs {theirs['ppl']:.6f}")

    qjson = os.path.join(work, "quality.json")
    tq.run([edgecc, "quality", MODEL, "--text", text, "--formats", "q4_k", "--compare", files["q4_k"], "--ctx",
            str(tq.CTX), "--chunks", str(tq.CHUNKS), "--json", qjson, "--work", os.path.join(work, "quality")])
    q = json.load(open(qjson))
    ours = tq.edgecc_ppl(edgecc, MODEL, text, work, "--weights", "q4_k")
    check("quality q4_k row vs edgecc perplexity", q["rows"][0]["ppl"] == ours["ppl"],  # both the tool's %.6f
          f"{q['rows'][0]['ppl']:.6f} vs {ours['ppl']:.6f}")
    p = llama_log_probs(llama_ref, MODEL, text)
    lq = llama_log_probs(llama_ref, files["q4_k"], text)
    kl = float(np.mean(np.sum(np.exp(p) * (p - lq), axis=1)))
    top1 = float(np.mean(p.argmax(axis=1) == lq.argmax(axis=1)))
    row = q["rows"][1]
    check("quality KL vs numpy on llama.cpp's logits", abs(row["kl"] - kl) <= KL_RTOL * kl,
          f"edgecc {row['kl']:.5f}, llama.cpp {kl:.5f} (bound {KL_RTOL:g} relative)")
    check("quality top-1 vs llama.cpp's logits", abs(row["top1"] - top1) <= TOP1_ATOL,
          f"edgecc {row['top1']:.4f}, llama.cpp {top1:.4f} (bound {TOP1_ATOL:g})")

    bad = os.path.join(work, "brown-iq4_xs.gguf")
    retype_tensor(files["q4_k"], bad, "blk.0.ffn_down.weight", GGML_IQ4_XS)
    p = subprocess.run([edgecc, "compile", bad, "-o", os.path.join(work, "bad-iq")], capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    ok = p.returncode == 1 and len(lines) == 1 and "blk.0.ffn_down.weight" in lines[0] and "iq4_xs" in lines[0]
    check("i-quant tensor refused", ok, f"exit {p.returncode}: {lines[-1] if lines else ''}")

    return table.report()


if __name__ == "__main__":
    sys.exit(main())
