#!/usr/bin/env python3
"""--ram-budget and the resident memory plan, on the trained model (models/brown-6m).

  1. The plan: report.json's "memory" items add up to its total; the weights item is the
     size of weights.bin's payload and the KV cache is layers x 2 x context x KV width x 4
     bytes, both from the GGUF's own metadata; memory.svg parses and draws every arena buffer.
  2. Refusal: a budget below the plan exits 1, the first line names the model file and the
     budget, and the report lists what would fit.
  3. Honest alternatives: each suggestion (weights format, KV cache type, context) gives its
     predicted loss, whole-context ones in increasing order; compiling each suggested set of
     flags under the same budget succeeds and its plan is within the budget; --fit compiles
     the first and says so.
  4. Batch: the plan prices smaller token batches (batch_totals); a bundle compiled at such a
     batch plans exactly that total.
  5. Per-tensor formats from the model's own sensitivities (its quality report, measured by
     `edgecc quality --sensitivity q4_k,q2_k`): the refusal lists one, --fit compiles it under
     the budget, and measured against the f32 model over the held-out text it loses less (KL)
     than the most accurate plan with one format for all, within 2x of its prediction.
  6. Bad input: an unreadable --ram-budget exits 2 naming the value; --sensitivity-from with a
     file that is not a quality report exits 1 naming it.

Prints a table, exits 1 on any failure.
"""

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
sys.path.insert(0, os.path.dirname(__file__))
import make_gguf as gg  # noqa: E402
from check_table import CheckTable  # noqa: E402
from e2e_args import edgecc_and_work  # noqa: E402

MODEL = os.path.join(REPO, "models", "brown-6m", "model-f16.gguf")
HELDOUT = os.path.join(REPO, "models", "brown-6m", "heldout.txt")
SENSITIVITIES = os.path.join(REPO, "benchmarks", "results", "quality-brown-6m.json")
CHUNKS = "40"  # of 256 tokens: 10 k scored tokens
BUDGET = "12MiB"
BUDGET_BYTES = 12 << 20


def compile_model(edgecc, out, *flags):
    return subprocess.run([edgecc, "compile", MODEL, "-o", out, *flags], capture_output=True, text=True)


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-memory-budget-")
    table = CheckTable()
    check = table.check

    # 1. The plan of the model as stored.
    out = os.path.join(work, "stored")
    p = compile_model(edgecc, out)
    check("compile as stored", p.returncode == 0, p.stderr.strip()[-200:])
    if p.returncode == 0:
        memory = json.load(open(os.path.join(out, "report.json")))["memory"]
        items = {i["name"]: i["bytes"] for i in memory["items"]}
        check("items add up", sum(items.values()) == memory["total_bytes"], f"{sum(items.values())} vs {memory['total_bytes']}")
        payload = os.path.getsize(os.path.join(out, "weights.bin")) - 64  # the file's header
        check("weights = weights.bin payload", items.get("weights") == payload, f"{items.get('weights')} vs {payload}")
        g = gg.GgufFile(MODEL)
        layers, ctx = g.get("llama.block_count"), g.get("llama.context_length")
        kv_width = g.get("llama.embedding_length") // g.get("llama.attention.head_count") * g.get("llama.attention.head_count_kv")
        kv = layers * 2 * ctx * kv_width * 4
        check("KV cache from the GGUF", items.get("KV cache") == kv, f"{items.get('KV cache')} vs {kv}")
        svg = ET.parse(os.path.join(out, "memory.svg"))
        titles = [e for e in svg.iter() if e.tag.endswith("title") and " at offset " in (e.text or "")]
        arena_buffers = memory["arena_buffers"]
        check("memory.svg draws every arena buffer", len(titles) == arena_buffers, f"{len(titles)} of {arena_buffers}")

    # 2. Refusal under a budget the stored model exceeds.
    p = compile_model(edgecc, os.path.join(work, "refused"), "--ram-budget", BUDGET)
    first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
    check("refused", p.returncode == 1 and "model-f16.gguf" in first and "12.0 MiB RAM budget" in first, f"exit {p.returncode}: {first}")
    check("nothing written", not os.path.exists(os.path.join(work, "refused", "report.json")), "")
    lines = re.findall(r"^    ((?:--(?:weights|kv-type|max-context|max-batch) \S+ ?)+): .*predicted loss (\S+) nats/token", p.stderr, re.M)
    suggestions = [flags.strip() for flags, _ in lines]
    check("what would fit", len(suggestions) >= 1, "; ".join(suggestions))
    # Whole-context plans come first, the smallest predicted loss first; one of them stores the
    # KV cache in fewer bits (the choices cover both weights and KV type).
    whole = [float(kl) for flags, kl in lines if "--max-context" not in flags]
    check("ordered by predicted loss", whole == sorted(whole), f"{whole}")
    check("KV type among the choices", any("--kv-type" in f for f in suggestions), "")

    # 3. Every suggestion compiles under the budget, and --fit takes the first.
    for i, flags in enumerate(suggestions):
        out = os.path.join(work, f"fit{i}")
        q = compile_model(edgecc, out, "--ram-budget", BUDGET, *flags.split())
        total = json.load(open(os.path.join(out, "report.json")))["memory"]["total_bytes"] if q.returncode == 0 else None
        check(f"suggestion '{flags}'", q.returncode == 0 and total <= BUDGET_BYTES,
              f"exit {q.returncode}, planned {total} of {BUDGET_BYTES}" + (f": {q.stderr.strip()[:160]}" if q.returncode else ""))
    out = os.path.join(work, "fit")
    q = compile_model(edgecc, out, "--ram-budget", BUDGET, "--fit")
    chose = re.search(r"--fit chose (.*)", q.stdout)
    check("--fit", q.returncode == 0 and chose is not None and suggestions and chose.group(1) == suggestions[0],
          f"exit {q.returncode}, chose {chose.group(1) if chose else None}")

    # 4. Smaller batches, priced and compiled.
    totals = json.load(open(os.path.join(work, "stored", "report.json")))["memory"].get("batch_totals", {})
    check("batch totals shrink with the batch", len(totals) > 0 and list(totals.values()) == sorted(totals.values(), reverse=True), f"{totals}")
    for batch in ("16", "1"):
        out = os.path.join(work, f"batch{batch}")
        q = compile_model(edgecc, out, "--max-batch", batch)
        total = json.load(open(os.path.join(out, "report.json")))["memory"]["total_bytes"] if q.returncode == 0 else None
        check(f"batch {batch} as priced", total is not None and total == totals.get(batch), f"compiled {total}, priced {totals.get(batch)}")

    # 5. Per-tensor formats from the model's sensitivities, against one format for all.
    p = compile_model(edgecc, os.path.join(work, "refused-sens"), "--ram-budget", BUDGET, "--sensitivity-from", SENSITIVITIES)
    check("refusal lists per-tensor plans", p.returncode == 1 and re.search(r"^    per-tensor weights \(", p.stderr, re.M) is not None,
          p.stderr.strip()[-300:])
    out = os.path.join(work, "fit-sens")
    q = compile_model(edgecc, out, "--ram-budget", BUDGET, "--sensitivity-from", SENSITIVITIES, "--fit")
    fit = json.load(open(os.path.join(out, "report.json")))["memory"] if q.returncode == 0 else {}
    fit_flags = fit.get("fit", {}).get("flags", "")
    check("--fit per tensor", q.returncode == 0 and "--weights-override" in fit_flags and fit["total_bytes"] <= BUDGET_BYTES,
          f"exit {q.returncode}, planned {fit.get('total_bytes')}: {fit.get('fit', {}).get('chose')}")
    reference = os.path.join(work, "f32.logits")
    r = subprocess.run([edgecc, "perplexity", MODEL, "--weights", "f32", "--text", HELDOUT, "--ctx", "256", "--chunks", CHUNKS,
                        "--save-logits", reference], capture_output=True, text=True)
    check("f32 reference logits", r.returncode == 0, r.stderr.strip()[-200:])

    def measured_kl(flags):
        m = subprocess.run([edgecc, "perplexity", MODEL, *flags.split(), "--text", HELDOUT, "--ctx", "256", "--chunks", CHUNKS,
                            "--compare-logits", reference], capture_output=True, text=True)
        found = re.search(r"KL divergence from the reference: mean (\S+),", m.stdout + m.stderr)
        return float(found.group(1)) if found else None

    if fit_flags and suggestions and r.returncode == 0:
        per_tensor, uniform = measured_kl(fit_flags), measured_kl(suggestions[0])
        predicted = fit["fit"]["predicted_kl"]
        check("per tensor loses less than one format", per_tensor is not None and uniform is not None and per_tensor < uniform,
              f"KL {per_tensor} ({fit['fit']['chose']}) vs {uniform} ({suggestions[0]})")
        check("per-tensor loss as predicted (2x)", per_tensor is not None and predicted / 2 <= per_tensor <= predicted * 2,
              f"measured {per_tensor}, predicted {predicted}")

    # 6. Bad input.
    p = compile_model(edgecc, os.path.join(work, "bad"), "--ram-budget", "lots")
    first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
    check("bad --ram-budget", p.returncode == 2 and "'lots'" in first, f"exit {p.returncode}: {first}")
    p = compile_model(edgecc, os.path.join(work, "bad-sens"), "--ram-budget", BUDGET, "--sensitivity-from", HELDOUT)
    first = p.stderr.strip().splitlines()[0] if p.stderr.strip() else ""
    check("bad --sensitivity-from", p.returncode == 1 and "heldout.txt" in first, f"exit {p.returncode}: {first}")

    return table.report()


if __name__ == "__main__":
    sys.exit(main())
