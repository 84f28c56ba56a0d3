#!/usr/bin/env python3
"""Halide-generated kernels against the hand-written ones, in the same bundles, one run.

Compiles each model twice for the target (--kernels hand and --kernels halide: the only
difference is `linear`'s tiles: for f32/f16 weights a generated GEMM (prefill) and GEMV
(decode), for q8_0 a generated GEMV), runs both alternately (--reps times, medians) and reports
prefill and decode speed, their ratios, the weight bytes a decoded token reads as GB/s against
the DRAM bandwidth measured in the same run, and whether the greedy tokens are identical. This decides
which one a target uses: the variant table (runtime/kernels/variants.h) takes generated kernels
only under --kernels halide. Writes JSON, an SVG chart and a Markdown table. Run with nothing
else busy.

    /usr/bin/python3 benchmarks/bench_generated_kernels.py [--models 1.1b-q8_0,135m-q8_0,135m-f32,135m-f16]
        [--threads 1,2] [--reps 5] [--target native]
"""
import argparse
import json
import os
import statistics
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svg_bars  # noqa: E402
from bench_llm import CACHE, bytes_per_token, cpu_model, dram_bandwidth, last_json, run  # noqa: E402


def svg_chart(rows, bandwidth, path):
    """Halide / hand-written speed, prefill and decode, per model and threads; 1.0 dashed."""
    w, h, left, top, bar = 820, 360, 60, 40, 22
    ymax = max(1.2, max(max(r["prefill_ratio"], r["ratio"]) for r in rows) * 1.15)
    plot_h = h - top - 90
    gw = (w - left - 20) / max(len(rows), 1)
    y = lambda v: top + plot_h * (1 - v / ymax)  # noqa: E731
    out = svg_bars.frame(w, h, left, f"Halide-generated / hand-written kernels, tok/s ratio (DRAM {bandwidth:.1f} GB/s, 2 threads)")
    svg_bars.grid(out, [i / 4 for i in range(int(ymax * 4) + 1)], y, left, w, label=lambda v: f"{v:.2f}")
    for i, r in enumerate(rows):
        x0 = left + i * gw + (gw - 2 * bar) / 2
        for j, (key, color) in enumerate((("prefill_ratio", "#4878a8"), ("ratio", "#e0823d"))):
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(r[key]):.1f}" width="{bar - 2}" height="{y(0) - y(r[key]):.1f}" '
                       f'fill="{color}"><title>{key} {r[key]:.2f}</title></rect>')
            out.append(f'<text x="{x0 + j * bar + bar / 2 - 1:.1f}" y="{y(r[key]) - 4:.1f}" text-anchor="middle" '
                       f'font-size="9">{r[key]:.2f}</text>')
        out.append(f'<text x="{x0 + bar:.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">{r["model"]} t{r["threads"]}</text>')
    svg_bars.reference_line(out, 1.0, y, left, w)
    svg_bars.legend(out, [("prefill", "#4878a8"), ("decode", "#e0823d")], left, h - 9, 120)
    svg_bars.save(out, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="1.1b-q8_0,135m-q8_0,135m-f32,135m-f16", help="PRESET-TYPE, as make_gguf.py makes them")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("-n", type=int, default=64, help="tokens generated")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--target", default="native")
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "generated_kernels.json"))
    args = ap.parse_args()

    os.makedirs(CACHE, exist_ok=True)
    threads = [int(t) for t in args.threads.split(",")]
    bandwidth = {t: dram_bandwidth(t) for t in sorted(set(threads) | {2})}
    cpu = cpu_model()
    print(f"{cpu}: DRAM read {', '.join(f'{v:.1f} GB/s ({t} threads)' for t, v in bandwidth.items())}", file=sys.stderr)
    ids = ",".join(str(1 + (i * 7919) % 20000) for i in range(args.prompt_len))
    rows = []
    for model in args.models.split(","):
        preset, wtype = model.split("-", 1)
        gguf = os.path.join(CACHE, f"{model}.gguf")
        if not os.path.exists(gguf):
            print(f"generating {gguf} ...", file=sys.stderr)
            run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", preset, "--type", wtype, "-o", gguf])
        tools = {}
        for kernels in ("hand", "halide"):
            bundle = os.path.join(CACHE, f"{model}-{args.target}-{kernels}")
            run([args.edgecc, "compile", gguf, "-o", bundle, "--target", args.target, "--kernels", kernels,
                 "--max-context", str(args.prompt_len + args.n + 8), "--max-batch", str(args.prompt_len)])
            run([args.edgecc, "generate", bundle, "--prompt-ids", "1", "-n", "2"])  # builds the tool
            with open(os.path.join(bundle, "report.json")) as f:
                linear = sorted(k for k in json.load(f)["kernels"] if k.endswith("linear"))
            tools[kernels] = ([os.path.join(bundle, "model_generate"), "--dir", bundle, "--prompt-ids", ids, "--ignore-eos",
                               "-n", str(args.n), "--json"], linear)
        per_token = bytes_per_token(gguf, args.prompt_len + args.n // 2)
        for t in threads:
            speed, prefill, tokens = {"hand": [], "halide": []}, {"hand": [], "halide": []}, {}
            for _ in range(args.reps):
                for kernels, (cmd, _) in tools.items():
                    out = last_json(run(cmd + ["--threads", str(t)]))
                    speed[kernels].append(out["decode_tok_s"])
                    prefill[kernels].append(out["prefill_tok_s"])
                    tokens[kernels] = out["ids"]
            hand, halide = statistics.median(speed["hand"]), statistics.median(speed["halide"])
            hand_pp, halide_pp = statistics.median(prefill["hand"]), statistics.median(prefill["halide"])
            row = {"model": model, "threads": t, "hand_tok_s": hand, "halide_tok_s": halide, "ratio": halide / hand,
                   "hand_prefill_tok_s": hand_pp, "halide_prefill_tok_s": halide_pp, "prefill_ratio": halide_pp / hand_pp,
                   "hand_gb_s": hand * per_token / 1e9, "halide_gb_s": halide * per_token / 1e9,
                   "dram_gb_s": bandwidth[t], "identical_tokens": tokens["hand"] == tokens["halide"],
                   "kernels": {k: v[1] for k, v in tools.items()}}
            rows.append(row)
            print(f"{model} t{t}: prefill hand {hand_pp:.1f}, halide {halide_pp:.1f} tok/s = {halide_pp / hand_pp:.2f}x; "
                  f"decode hand {hand:.1f}, halide {halide:.1f} tok/s = {halide / hand:.2f}x", file=sys.stderr)

    head = (f"{cpu}, DRAM read {bandwidth[2]:.1f} GB/s (2 threads); edgecc --target {args.target}, "
            f"prompt {args.prompt_len}, {args.n} generated, medians of {args.reps}")
    lines = [head, "", "| model | threads | prefill tok/s hand / Halide = ratio | decode tok/s hand / Halide = ratio "
             "| GB/s (hand, Halide) | of DRAM bw (hand, Halide) | greedy tokens identical | linear variants (halide bundle) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['threads']} | {r['hand_prefill_tok_s']:.1f} / {r['halide_prefill_tok_s']:.1f} = "
                     f"{r['prefill_ratio']:.2f} | {r['hand_tok_s']:.1f} / {r['halide_tok_s']:.1f} = {r['ratio']:.2f} | "
                     f"{r['hand_gb_s']:.1f}, {r['halide_gb_s']:.1f} | {r['hand_gb_s'] / r['dram_gb_s']:.0%}, "
                     f"{r['halide_gb_s'] / r['dram_gb_s']:.0%} | {'yes' if r['identical_tokens'] else 'NO'} | "
                     f"{', '.join(r['kernels']['halide'])} |")
    table = "\n".join(lines)
    print(table)
    base = os.path.splitext(args.out)[0]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"cpu": cpu, "dram_gb_s": bandwidth, "rows": rows}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(table + "\n")
    svg_chart(rows, bandwidth[2], base + ".svg")
    print(f"wrote {args.out}, {base}.md, {base}.svg", file=sys.stderr)


if __name__ == "__main__":
    main()
