#!/usr/bin/env python3
"""Memory against the plan: what bundles hold when they run, next to what the compiler planned,
and what compiling a model costs.

1. Compile: `edgecc compile` of each model, its wall time and peak RSS (the child's ru_maxrss).
2. Run: each bundle's model_generate fills its whole context (a 128-token prompt, then tokens
   until the cache is full), sampled every 2 ms from /proc/PID/status: peak RssAnon, RssFile
   and VmHWM (the whole process's peak). The plan is report.json's "memory": its file-backed
   items (mapped weights, code) and the rest (KV cache, arena, scratch, I/O, tokenizer,
   sampler, stacks). The goal: measured <= 1.05 x planned.

Models: make_gguf.py's random-weight 135m (SmolLM-135M shapes) and 1.1b (TinyLlama shapes),
q8_0 and q4_0, at contexts 256 and 1024 and each --kv-types (the KV cache is the part of the
plan a budget trades). Float models are compiled only, to measure the compiler on the largest
inputs: the 1.1b with f16 weights (GGUF, 2.1 GiB) and its f32 ONNX export (4.1 GiB of external
data files). Never in CI. Writes benchmarks/results/memory_bench.{json,md,svg}.

Usage: /usr/bin/python3 benchmarks/bench_memory.py [--presets 135m,1.1b] [--types q8_0,q4_0]
           [--contexts 256,1024] [--kv-types f32,q8_0] [--float-compiles 1.1b-f16,1.1b-f32-onnx]
           [--threads 2] [--target native]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
import svg_bars  # noqa: E402
from bench_llm import CACHE, cpu_model, run  # noqa: E402

PROMPT = 128


def compile_measured(cmd):
    """Runs `cmd` under /usr/bin/time; returns (wall seconds, peak RSS bytes) of that child alone."""
    err = subprocess.run(["/usr/bin/time", "-f", "edgecc-time %e %M", *cmd], capture_output=True, text=True)
    if err.returncode != 0:
        raise RuntimeError(f"exit {err.returncode}: {' '.join(cmd)}\n{err.stderr.strip()[-2000:]}")
    seconds, kib = err.stderr.strip().splitlines()[-1].split()[1:]
    return float(seconds), int(kib) * 1024


def run_sampled(cmd):
    """Runs `cmd`, sampling its /proc status; returns the peaks in bytes."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks = {"RssAnon": 0, "RssFile": 0, "VmHWM": 0}

    def sample():
        path = f"/proc/{proc.pid}/status"
        while proc.poll() is None:
            try:
                with open(path) as f:
                    for line in f:
                        key = line.split(":", 1)[0]
                        if key in peaks:
                            peaks[key] = max(peaks[key], int(line.split()[1]) * 1024)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                break
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{err.strip()[-2000:]}")
    return peaks, out


def gguf_model(preset, wtype):
    path = os.path.join(CACHE, f"{preset}-{wtype}.gguf")
    if not os.path.exists(path):
        print(f"generating {path} ...", file=sys.stderr)
        run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", preset, "--type", wtype, "-o", path])
    return path


def onnx_model(preset):
    """The preset's f32 weights exported as ONNX; over 2 GiB, torch writes them as external data."""
    path = os.path.join(CACHE, f"{preset}-f32-onnx", "model.onnx")
    if not os.path.exists(path):
        print(f"generating {path} ...", file=sys.stderr)
        run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", preset, "--type", "f32",
             "-o", os.path.join(CACHE, f"{preset}-f32.gguf"), "--onnx", path])
    return path


def model_bytes(path):
    """A GGUF file's size; an ONNX model's directory (the model and its external data)."""
    if path.endswith(".gguf"):
        return os.path.getsize(path)
    d = os.path.dirname(path)
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))


def mib(b):
    return b / 2**20


def svg_chart(rows, path):
    """Per bundle: planned and measured, each split into anonymous and file-backed."""
    left, width, bar = 70, max(560, 70 + 70 * len(rows) + 40), 22
    height, top, bottom = 340, 40, 270
    peak = max(max(r["planned_bytes"], r["measured_hwm"]) for r in rows) * 1.1
    y = lambda v: bottom - (bottom - top) * v / peak  # noqa: E731
    out = svg_bars.frame(width, height, left, "Planned vs measured resident memory (MiB): left bar planned, right measured")
    step = peak / 5
    svg_bars.grid(out, [i * step for i in range(6)], y, left, width, lambda v: f"{mib(v):.0f}")
    colors = {"anon": "#4e79a7", "file": "#a0cbe8"}
    for i, r in enumerate(rows):
        x = left + 20 + i * 70
        for j, (anon, file) in enumerate(((r["planned_anon"], r["planned_file"]), (r["measured_anon"], r["measured_file"]))):
            bx = x + j * (bar + 2)
            out.append(f'<rect x="{bx}" y="{y(anon):.1f}" width="{bar}" height="{bottom - y(anon):.1f}" fill="{colors["anon"]}"/>')
            out.append(f'<rect x="{bx}" y="{y(anon + file):.1f}" width="{bar}" height="{y(anon) - y(anon + file):.1f}" '
                       f'fill="{colors["file"]}"/>')
        out.append(f'<text x="{x + bar}" y="{bottom + 14}" text-anchor="middle">{r["model"]} {r["type"]}</text>'
                   f'<text x="{x + bar}" y="{bottom + 27}" text-anchor="middle">ctx {r["context"]} {r["kv"]}</text>'
                   f'<text x="{x + bar}" y="{bottom + 40}" text-anchor="middle">{r["ratio"]:.2f}x</text>')
    svg_bars.legend(out, [("anonymous", colors["anon"]), ("file-backed (weights, code)", colors["file"])], left, height - 14, 160)
    svg_bars.save(out, path)


def measure_bundle(args, preset, wtype, gguf, context, kv, prompt, compiles, rows):
    """Compiles one bundle (measuring the compiler), then runs it over its whole context."""
    bundle = os.path.join(CACHE, f"memory-{preset}-{wtype}-{context}-{kv}")
    wall, peak_rss = compile_measured([args.edgecc, "compile", gguf, "-o", bundle, "--target", args.target,
                                       "--max-context", str(context), "--max-batch", str(PROMPT), "--kv-type", kv])
    compiles.append({"model": preset, "type": wtype, "context": context, "kv": kv, "model_bytes": os.path.getsize(gguf),
                     "seconds": wall, "peak_rss_bytes": peak_rss})
    run([args.edgecc, "generate", bundle, "--prompt-ids", "1", "-n", "1"])  # builds the tool
    with open(os.path.join(bundle, "report.json")) as f:
        plan = json.load(f)["memory"]
    planned_file = sum(i["bytes"] for i in plan["items"] if i["file_backed"])
    planned_anon = sum(i["bytes"] for i in plan["items"] if not i["file_backed"])
    tool = [os.path.join(bundle, "model_generate"), "--dir", bundle, "--prompt-ids", prompt, "--ignore-eos",
            "-n", str(context - PROMPT), "--threads", str(args.threads), "--json"]
    peaks, _ = run_sampled(tool)
    rows.append({"model": preset, "type": wtype, "context": context, "kv": kv, "planned_bytes": plan["total_bytes"],
                 "planned_anon": planned_anon, "planned_file": planned_file, "measured_anon": peaks["RssAnon"],
                 "measured_file": peaks["RssFile"], "measured_hwm": peaks["VmHWM"],
                 "ratio": peaks["VmHWM"] / plan["total_bytes"], "plan": plan["items"]})
    r = rows[-1]
    print(f"{preset} {wtype} ctx {context} kv {kv}: planned {mib(r['planned_bytes']):.1f} MiB, peak RSS "
          f"{mib(r['measured_hwm']):.1f} MiB ({r['ratio']:.3f}x); compile {wall:.1f} s, "
          f"{mib(compiles[-1]['peak_rss_bytes']):.0f} MiB", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="135m,1.1b")
    ap.add_argument("--types", default="q8_0,q4_0")
    ap.add_argument("--contexts", default="256,1024")
    ap.add_argument("--kv-types", default="f32", help="KV cache types to run at each context, e.g. f32,f16,q8_0")
    ap.add_argument("--float-compiles", default="1.1b-f16,1.1b-f32-onnx",
                    help="models compiled (not run) to measure the compiler on float weights: PRESET-f16 (GGUF) or "
                         "PRESET-f32-onnx (ONNX, external data over 2 GiB); empty for none")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--target", default="native")
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "memory_bench.json"))
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    prompt = ",".join(str(1 if i == 0 else 300 + (i * 7919) % 20000) for i in range(PROMPT))
    compiles, rows = [], []
    for preset in args.presets.split(","):
        for wtype in args.types.split(","):
            gguf = gguf_model(preset, wtype)
            for context in (int(c) for c in args.contexts.split(",")):
                for kv in args.kv_types.split(","):
                    measure_bundle(args, preset, wtype, gguf, context, kv, prompt, compiles, rows)
    for name in filter(None, args.float_compiles.split(",")):
        preset, kind = name.split("-", 1)
        model = gguf_model(preset, "f16") if kind == "f16" else onnx_model(preset)
        bundle = os.path.join(CACHE, f"memory-{name}")
        wall, peak_rss = compile_measured([args.edgecc, "compile", model, "-o", bundle, "--target", args.target,
                                           "--max-context", "1024"])
        shutil.rmtree(bundle)  # gigabytes of weights, compiled only to measure the compiler
        compiles.append({"model": preset, "type": "f16 GGUF" if kind == "f16" else "f32 ONNX", "context": 1024, "kv": "f32",
                         "model_bytes": model_bytes(model), "seconds": wall, "peak_rss_bytes": peak_rss})
        print(f"compile {name}: {wall:.1f} s, {mib(peak_rss):.0f} MiB", file=sys.stderr)

    header = (f"{cpu_model()}; edgecc --target {args.target}; model_generate with {args.threads} threads fills the context "
              f"({PROMPT}-token prompt, then decoding until the cache is full); peak RSS sampled every 2 ms")
    md = [header, "",
          "| model | type | context | KV | planned MiB (anon + file) | peak RSS MiB (anon + file) | peak / planned |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['model']} | {r['type']} | {r['context']} | {r['kv']} | {mib(r['planned_bytes']):.1f} "
                  f"({mib(r['planned_anon']):.1f} + {mib(r['planned_file']):.1f}) | {mib(r['measured_hwm']):.1f} "
                  f"({mib(r['measured_anon']):.1f} + {mib(r['measured_file']):.1f}) | {r['ratio']:.3f} |")
    md += ["", "Compiling (`edgecc compile`, wall time and the compiler's peak RSS):", "",
           "| model | type | context | KV | model files MiB | seconds | peak RSS MiB | peak / files |", "|---|---|---|---|---|---|---|---|"]
    for c in compiles:
        md.append(f"| {c['model']} | {c['type']} | {c['context']} | {c['kv']} | {mib(c['model_bytes']):.0f} | {c['seconds']:.1f} | "
                  f"{mib(c['peak_rss_bytes']):.0f} | {c['peak_rss_bytes'] / c['model_bytes']:.2f} |")
    base = os.path.splitext(args.out)[0]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"cpu": cpu_model(), "threads": args.threads, "rows": rows, "compiles": compiles}, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    svg_chart(rows, base + ".svg")
    print("\n".join(md))


if __name__ == "__main__":
    main()
