#!/usr/bin/env python3
"""Code size of LLM bundles per target: stripped binaries, x86 and arm64, with a chart.

For each model (a tiny Llama GGUF from examples/models/make_gguf.py, and the 135m / 1.1b
benchmark files when cached by benchmarks/bench_llm.py) and each target, compiles the bundle,
builds it with the system compiler (arm64: the bundle's own toolchain file and the
aarch64-linux-gnu cross compiler), strips copies of its tools and reports their sizes:
  model_run       runtime + model code, no tokenizer or generation loop (what an app that
                  drives token ids links);
  model_generate  the same with the tokenizer (its Unicode tables), sampler and text loop.
Weights (weights.bin) are data, not code, and are not counted. Goal: model_run <= 300 KB.
Writes benchmarks/results/bundle_size.{json,md,svg}.
Usage: /usr/bin/python3 benchmarks/bundle_size.py [--edgecc build/bin/edgecc]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import svg_bars

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RESULTS = os.path.join(REPO, "benchmarks", "results")
BENCH = os.path.expanduser("~/.cache/edgecc/bench")
TARGETS = ["x86-64", "x86-64-avx2", "x86-64-avx512-vnni", "arm64", "raspberry-pi-5", "snapdragon-8-gen-3"]
GOAL = 300 * 1000


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return r


def stripped_size(path, arm64):
    copy = path + ".stripped"
    shutil.copy(path, copy)
    run(["aarch64-linux-gnu-strip" if arm64 else "strip", copy])
    return os.path.getsize(copy)


def svg(rows, path):
    w, h, left, top, bar = 900, 380, 70, 40, 14
    vmax = max([GOAL] + [r[k] for r in rows for k in ("model_run", "model_generate")]) * 1.1
    plot_h = h - top - 120
    gw = (w - left - 20) / max(len(rows), 1)
    y = lambda v: top + plot_h * (1 - v / vmax)  # noqa: E731
    out = svg_bars.frame(w, h, left, "Stripped bundle code per target (KB); dashed: the 300 KB goal for model_run")
    svg_bars.grid(out, range(0, int(vmax), 100000), y, left, w, lambda v: v // 1000)
    svg_bars.reference_line(out, GOAL, y, left, w)
    colors = {"model_run": "#4878a8", "model_generate": "#e0823d"}
    for i, r in enumerate(rows):
        x0 = left + i * gw + (gw - 2 * bar) / 2
        for j, key in enumerate(colors):
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(r[key]):.1f}" width="{bar - 1}" height="{y(0) - y(r[key]):.1f}" '
                       f'fill="{colors[key]}"><title>{r["model"]} {r["target"]} {key}: {r[key]} B</title></rect>')
        out.append(f'<text transform="translate({x0:.1f},{y(0) + 8:.1f}) rotate(60)">{r["model"]} {r["target"]}</text>')
    svg_bars.legend(out, colors.items(), left, h - 7, 160)
    svg_bars.save(out, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="edgecc-size-")
    os.environ["CCACHE_BASEDIR"] = work
    models = {"tiny-q4_0": os.path.join(work, "tiny-q4_0.gguf")}
    run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", "tiny", "--type", "q4_0",
         "-o", models["tiny-q4_0"]])
    for name in ("135m-q4_0", "1.1b-q4_0"):
        if os.path.exists(os.path.join(BENCH, name + ".gguf")):
            models[name] = os.path.join(BENCH, name + ".gguf")
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    rows = []
    print(f"{'model':12s} {'target':20s} {'model_run':>10s} {'model_generate':>15s}  (stripped bytes)")
    for model, gguf in models.items():
        for target in TARGETS:
            bundle = os.path.join(work, f"{model}-{target}")
            run([args.edgecc, "compile", gguf, "-o", bundle, "--target", target, "--max-context", "256"])
            arm64 = os.path.exists(os.path.join(bundle, "cmake", "aarch64-linux-gnu.cmake"))
            toolchain = ["-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake"] if arm64 else []
            run(["cmake", "-S", bundle, "-B", os.path.join(bundle, "build"), "-G", "Ninja"] + toolchain + launcher, cwd=bundle)
            run(["cmake", "--build", os.path.join(bundle, "build")])
            row = {"model": model, "target": target, "isa": "arm64" if arm64 else "x86-64"}
            for tool in ("model_run", "model_generate"):
                row[tool] = stripped_size(os.path.join(bundle, "build", tool), arm64)
            rows.append(row)
            shutil.rmtree(bundle)
            print(f"{model:12s} {target:20s} {row['model_run']:10d} {row['model_generate']:15d}")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "bundle_size.json"), "w") as f:
        json.dump({"goal_model_run_bytes": GOAL, "rows": rows}, f, indent=1)
    with open(os.path.join(RESULTS, "bundle_size.md"), "w") as f:
        f.write("| model | target | model_run (KB, stripped) | model_generate (KB, stripped) |\n|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['model']} | {r['target']} | {r['model_run'] / 1000:.0f} | {r['model_generate'] / 1000:.0f} |\n")
    svg(rows, os.path.join(RESULTS, "bundle_size.svg"))
    shutil.rmtree(work)
    print(f"wrote {RESULTS}/bundle_size.{{json,md,svg}}")


if __name__ == "__main__":
    main()
