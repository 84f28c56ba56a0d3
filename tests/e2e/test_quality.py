#!/usr/bin/env python3
"""Perplexity and compile-time quantization, against llama.cpp (libllama via
tests/reference/llama_ref) on the same GGUF files.

  1. `edgecc perplexity` on a tiny f32 model equals the perplexity computed here in float64
     from llama.cpp's teacher-forced logits, with llama-perplexity's chunking (first token of
     each chunk replaced by <s>, second half scored). f32 logits agree to ~1e-5 relative, so
     the mean NLL may move by ~1e-5: the bound is 1e-4 relative on the perplexity.
  2. The same tokens: edgecc's token count equals llama.cpp's tokenization of the text.
  3. Quantization arithmetic: every 2-D tensor of tiny f32 and f16 models, quantized by
     edgecc (edgecc.quantize_rows, the compiler's --weights code) and by llama_model_quantize
     (--pure: what llama-quantize writes), is byte-identical, for q8_0 and q4_0.
  4. The compile path: a bundle compiled from the f16 file with --weights q4_0 --weights-head
     q4_0 gives exactly the perplexity of a bundle compiled from llama.cpp's q4_0 file (same
     bytes, same kernels: equal to the last digit).
  5. Bad input: a text too short for two chunks and an unknown --weights format exit 1 with
     one line naming the reason.

Prints a table, exits 1 on any failure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
import make_gguf as gg  # noqa: E402
from check_table import CheckTable  # noqa: E402

MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")
SETUP = os.path.join(REPO, "scripts", "setup_llama_ref.sh")
TEXT = os.path.join(REPO, "models", "brown-6m", "heldout.txt")
CTX, CHUNKS = 64, 4
PPL_RTOL = 1e-4


def run(cmd, ok_codes=(0,)):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode not in ok_codes:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return proc


def reference_ppl(llama_ref, gguf, text_file):
    """llama-perplexity's figure, computed from llama.cpp's logits in float64."""
    text = open(text_file, encoding="utf-8").read()
    ids = json.loads(run([llama_ref, "tokenize", gguf, "--text", text]).stdout)["ids"]
    nll, count = 0.0, 0
    for c in range(min(CHUNKS, len(ids) // CTX)):
        chunk = ids[c * CTX:(c + 1) * CTX]
        chunk[0] = 1  # <s>
        with tempfile.NamedTemporaryFile(suffix=".f32") as f:
            run([llama_ref, "forced", gguf, "--ids", ",".join(map(str, chunk)), "--logits", f.name])
            logits = np.fromfile(f.name, dtype=np.float32).reshape(CTX, -1).astype(np.float64)
        for j in range(CTX // 2, CTX - 1):
            row = logits[j]
            m = row.max()
            nll += np.log(np.exp(row - m).sum()) - (row[chunk[j + 1]] - m)
            count += 1
    return float(np.exp(nll / count)), len(ids)


def llama_ref_dir():
    """The llama.cpp reference directory (bin/llama_ref, src/), set up if needed."""
    return run(["bash", SETUP]).stdout.strip().splitlines()[-1].split(": ", 1)[1]


def short_text(work):
    """The start of the held-out text, enough for CHUNKS chunks of CTX tokens (llama_ref takes
    the text as an argument, limited to 128 KiB)."""
    path = os.path.join(work, "text.txt")
    with open(TEXT, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as o:
        o.write(f.read(6000))
    return path


def edgecc_ppl(edgecc, model, text_file, work, *flags):
    out = run([edgecc, "perplexity", model, "--text", text_file, "--ctx", str(CTX), "--chunks", str(CHUNKS),
               "--json", "--bundle-dir", os.path.join(work, "ppl-" + os.path.basename(model) + "-".join(flags))]
              + list(flags))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--python-module", required=True, help="directory of the edgecc Python module")
    ap.add_argument("--work")
    args = ap.parse_args()
    sys.path.insert(0, args.python_module)
    import edgecc as edgecc_py  # noqa: E402
    edgecc = os.path.abspath(args.edgecc)
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="edgecc-quality-"))
    os.makedirs(work, exist_ok=True)
    llama_ref = os.path.join(llama_ref_dir(), "bin", "llama_ref")
    text = short_text(work)
    models = {}
    for t in ("f32", "f16"):
        models[t] = os.path.join(work, f"tiny-{t}.gguf")
        run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", t, "-o", models[t]])

    table = CheckTable()
    check = table.check

    # 1 + 2: perplexity against llama.cpp's logits.
    ref, n_ref_tokens = reference_ppl(llama_ref, models["f32"], text)
    got = edgecc_ppl(edgecc, models["f32"], text, work)
    rel = abs(got["ppl"] - ref) / ref
    check("perplexity f32 vs llama.cpp logits", rel <= PPL_RTOL,
          f"edgecc {got['ppl']:.6f}, llama.cpp {ref:.6f}, rel {rel:.2e} (bound {PPL_RTOL:g})")
    check("tokens of the text", got["tokens"] == n_ref_tokens, f"edgecc {got['tokens']}, llama.cpp {n_ref_tokens}")
    check("scored tokens", got["scored_tokens"] == CHUNKS * (CTX - CTX // 2 - 1),
          f"{got['scored_tokens']} of {CHUNKS} chunks x {CTX - CTX // 2 - 1}")

    # 3: quantization bytes.
    for t in ("f32", "f16"):
        src = gg.GgufFile(models[t])
        for q in ("q8_0", "q4_0"):
            ref_file = os.path.join(work, f"tiny-{t}-llama-{q}.gguf")
            run([llama_ref, "quantize", models[t], "--out", ref_file, "--type", q, "--pure"])
            ref_g = gg.GgufFile(ref_file)
            same = differ = 0
            for name, (ne, _, _) in src.tensors.items():
                if len(ne) != 2:
                    continue
                x = src.tensor(name).astype(np.float32).reshape(ne[1], ne[0])
                if edgecc_py.quantize_rows(x, q) == bytes(ref_g.raw(name)):
                    same += 1
                else:
                    differ += 1
            check(f"{q} bytes from {t} vs llama_model_quantize", differ == 0 and same > 0,
                  f"{same} tensors identical, {differ} differ")

    # 4: --weights in the compiler gives the same bundle arithmetic as llama.cpp's file.
    ours = edgecc_ppl(edgecc, models["f16"], text, work, "--weights", "q4_0", "--weights-head", "q4_0")
    theirs = edgecc_ppl(edgecc, os.path.join(work, "tiny-f16-llama-q4_0.gguf"), text, work)
    check("--weights q4_0 vs llama-quantize's q4_0 file", ours["ppl"] == theirs["ppl"],
          f"ppl {ours['ppl']:.6f} vs {theirs['ppl']:.6f}")

    # 5: bad input.
    short = os.path.join(work, "short.txt")
    with open(short, "w") as f:
        f.write("Too short.")
    p = subprocess.run([edgecc, "perplexity", models["f32"], "--text", short, "--ctx", str(CTX), "--bundle-dir",
                        os.path.join(work, "ppl-short")], capture_output=True, text=True)
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    check("text shorter than two chunks", p.returncode == 1 and "needs at least" in last, f"exit {p.returncode}: {last}")
    p = subprocess.run([edgecc, "compile", models["f32"], "-o", os.path.join(work, "bad-weights"), "--weights", "q3_x"],
                       capture_output=True, text=True)
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    check("unknown --weights format", p.returncode == 1 and "q3_x" in last, f"exit {p.returncode}: {last}")

    return table.report()


if __name__ == "__main__":
    sys.exit(main())
