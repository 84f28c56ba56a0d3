#!/usr/bin/env python3
"""Instructions executed per decoded token on arm64, counted under qemu-aarch64, per kernel path.

With no arm64 hardware at hand, the number of guest instructions is the one figure an emulator
gives that compares kernels and packings: the NEON (smull), dotprod (sdot) and i8mm (smmla)
paths of the same model. It says nothing about memory stalls or the device's clock, so it is
not a speed: on a phone, decoding a model larger than the caches is bound by DRAM bandwidth,
which `compile` estimates (report.json's expected_on_device).

Counting: a QEMU TCG plugin (benchmarks/qemu_insn_count/insn_count.c, built here with the host
gcc) adds each translation block's instruction count to its function's counter when the block
runs. Each bundle runs model_generate with one thread twice, decoding N1 and N2 tokens after the
same prompt; (count(N2) - count(N1)) / (N2 - N1) is the cost of one decoded token, with loading,
prefill and start-up cancelled out. The same difference per function gives the top functions.
QEMU knows the symbols of the bundle's own binary only: code in shared libraries (libm's expf,
libc's memcpy) is listed as "shared-libraries".

Models: a tiny Llama from examples/models/make_gguf.py, and the 135m benchmark files when
benchmarks/bench_llm.py has cached them. Profiles and the emulated CPU each runs on:
  arm64 (NEON)            cortex-a53
  raspberry-pi-5 (sdot)   cortex-a76
  snapdragon-8-gen-3 (smmla)  max
  raspberry-pi-5 --kernels halide (float weights: Halide's NEON tiles)  cortex-a76
Never in CI. Writes benchmarks/results/arm64_insns.{json,md,svg}.
Usage: /usr/bin/python3 benchmarks/bench_arm64_insns.py [--models tiny-q8_0,135m-q4_0] [--n1 4 --n2 12]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import svg_bars
from bundle_size import run

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RESULTS = os.path.join(REPO, "benchmarks", "results")
BENCH = os.path.expanduser("~/.cache/edgecc/bench")
SYSROOT = "/usr/aarch64-linux-gnu"
PLUGIN_SOURCE = os.path.join(REPO, "benchmarks", "qemu_insn_count", "insn_count.c")
# profile, emulated CPU, compile flags; the Halide-generated tiles take float weights only.
PROFILES = [("arm64", "cortex-a53", []), ("raspberry-pi-5", "cortex-a76", []), ("snapdragon-8-gen-3", "max", []),
            ("raspberry-pi-5", "cortex-a76", ["--kernels", "halide"])]
FLOAT_TYPES = ("f32", "f16")
PROMPT = ",".join(str(1 + 16 * i) for i in range(16))
PARTS = ("linear", "attention", "everything else")
DEFAULT_MODELS = "tiny-q8_0,tiny-q4_0,tiny-f16,135m-q8_0,135m-q4_0,135m-f16,135m-f32"


def model_path(name, work):
    """A tiny model is generated; a 135m or 1.1b one must be in bench_llm.py's cache."""
    preset, wtype = name.split("-", 1)
    if preset == "tiny":
        path = os.path.join(work, name + ".gguf")
        run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", "tiny", "--type", wtype,
             "-o", path])
        return path
    path = os.path.join(BENCH, name + ".gguf")
    return path if os.path.exists(path) else None


def cross_build(bundle):
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    run(["cmake", "-S", bundle, "-B", os.path.join(bundle, "build"), "-G", "Ninja",
         "-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake"] + launcher, cwd=bundle)
    run(["cmake", "--build", os.path.join(bundle, "build"), "--target", "model_generate"])
    return os.path.join(bundle, "build", "model_generate")


def counted_run(plugin, cpu, exe, bundle, n, out):
    """Runs the bundle under qemu with the counting plugin; returns (token ids, {symbol: count})."""
    r = run(["qemu-aarch64", "-cpu", cpu, "-L", SYSROOT, "-plugin", f"{plugin},out={out}", exe, "--dir", bundle,
             "--prompt-ids", PROMPT, "-n", str(n), "--ignore-eos", "--json", "--threads", "1"])
    counts = {}
    with open(out) as f:
        for line in f:
            name, count = line.rstrip("\n").rsplit("\t", 1)
            counts[name] = int(count)
    return json.loads(r.stdout)["ids"], counts


def short_name(demangled):
    """The qualified name without template arguments, parameters, return type or clone suffix."""
    out, depth = [], 0
    for ch in demangled.split(" [clone")[0].replace("(anonymous namespace)", "anon").replace("(no symbol)", "shared-libraries"):
        depth += ch in "<("
        if depth == 0:
            out.append(ch)
        depth -= ch in ">)"
    return "".join(out).removesuffix(" const").split(" ")[-1]


def demangle(names):
    return run(["c++filt"], input="\n".join(names)).stdout.splitlines()


def part(demangled):
    """Which bar segment a function's instructions go to, by its full name: a thread pool body
    carries the kernel it runs in its template arguments."""
    if any(k in demangled for k in ("attention", "attend", "kv_row")):
        return PARTS[1]
    if any(k in demangled for k in ("linear", "packed_tile", "quantize_row", "arm64_neon", "arm64_dotprod", "arm64_i8mm", "halide")):
        return PARTS[0]
    return PARTS[2]


def svg(rows, path):
    w, h, left, top, bar = 900, 400, 80, 40, 18
    vmax = max(r["per_token"] for r in rows) * 1.1
    plot_h = h - top - 130
    gw = (w - left - 20) / max(len(rows), 1)
    y = lambda v: top + plot_h * (1 - v / vmax)  # noqa: E731
    step = 10 ** max(len(str(int(vmax))) - 1, 0)
    out = svg_bars.frame(w, h, left, "arm64 instructions per decoded token (qemu, 1 thread), by part")
    svg_bars.grid(out, range(0, int(vmax), step), y, left, w, lambda v: f"{v / 1e6:g}M")
    colors = dict(zip(PARTS, ("#4878a8", "#6aa84f", "#e0823d")))
    for i, r in enumerate(rows):
        x0 = left + i * gw + (gw - bar) / 2
        base = 0.0
        for p in PARTS:
            v = r["parts_per_token"][p]
            out.append(f'<rect x="{x0:.1f}" y="{y(base + v):.1f}" width="{bar}" height="{y(base) - y(base + v):.1f}" '
                       f'fill="{colors[p]}"><title>{r["model"]} {r["profile"]} {p}: {v:.0f}</title></rect>')
            base += v
        out.append(f'<text transform="translate({x0:.1f},{y(0) + 8:.1f}) rotate(60)">{r["model"]} {r["kernel"]}</text>')
    svg_bars.legend(out, colors.items(), left, h - 7, 160)
    svg_bars.save(out, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    ap.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated (default {DEFAULT_MODELS})")
    ap.add_argument("--n1", type=int, default=4, help="tokens decoded in the shorter run")
    ap.add_argument("--n2", type=int, default=12, help="tokens decoded in the longer run")
    ap.add_argument("--top", type=int, default=4, help="functions listed per row")
    args = ap.parse_args()
    for tool in ("qemu-aarch64", "aarch64-linux-gnu-g++", "gcc", "c++filt"):
        if not shutil.which(tool):
            sys.exit(f"bench_arm64_insns: {tool} not found (bash scripts/setup.sh installs the cross tools)")
    work = tempfile.mkdtemp(prefix="edgecc-insns-")
    os.environ["CCACHE_BASEDIR"] = work
    plugin = os.path.join(work, "insn_count.so")
    run(["gcc", "-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-o", plugin, PLUGIN_SOURCE])
    rows = []
    print(f"{'model':11s} {'profile':19s} {'cpu':10s} {'kernel':14s} {'insns/token':>11s} {'linear':>6s} {'attention':>9s}  top functions")
    for name in args.models.split(","):
        gguf = model_path(name, work)
        if gguf is None:
            print(f"{name}: not in {BENCH} (run benchmarks/bench_llm.py once to make it); not run")
            continue
        tokens = None
        for profile, cpu, flags in PROFILES:
            if flags and not name.endswith(FLOAT_TYPES):
                continue
            bundle = os.path.join(work, f"{name}-{profile}")
            run([args.edgecc, "compile", gguf, "-o", bundle, "--target", profile, "--max-context", "256"] + flags)
            with open(os.path.join(bundle, "report.json")) as f:
                kernel = next(op["kernel"] for op in json.load(f)["ops"] if op["kernel"].endswith("::linear"))
            exe = cross_build(bundle)
            ids1, c1 = counted_run(plugin, cpu, exe, bundle, args.n1, os.path.join(work, "n1.tsv"))
            ids2, c2 = counted_run(plugin, cpu, exe, bundle, args.n2, os.path.join(work, "n2.tsv"))
            steps = args.n2 - args.n1
            per_fn, parts = {}, {p: 0.0 for p in PARTS}
            for mangled, demangled in zip(list(c2), demangle(list(c2))):
                if mangled != "total":
                    count = (c2[mangled] - c1.get(mangled, 0)) / steps
                    per_fn[short_name(demangled)] = per_fn.get(short_name(demangled), 0) + count
                    parts[part(demangled)] += count
            top = sorted(per_fn.items(), key=lambda kv: -kv[1])[:args.top]
            per_token = (c2["total"] - c1["total"]) / steps
            same = tokens is None or ids2 == tokens
            tokens = tokens or ids2
            row = {"model": name, "profile": profile, "cpu": cpu, "kernel": kernel.split("::")[0], "per_token": per_token,
                   "parts_per_token": parts, "top": [{"function": n, "per_token": v} for n, v in top],
                   "same_tokens_as_first_profile": same}
            rows.append(row)
            shutil.rmtree(bundle)
            print(f"{name:11s} {profile:19s} {cpu:10s} {row['kernel']:14s} {per_token / 1e6:10.3f}M "
                  f"{parts['linear'] / per_token:6.0%} {parts['attention'] / per_token:9.0%}  "
                  + ", ".join(f"{n} {v / per_token:.0%}" for n, v in top)
                  + ("" if same else "  TOKENS DIFFER"))
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "arm64_insns.json"), "w") as f:
        json.dump({"n1": args.n1, "n2": args.n2, "prompt_tokens": 16, "threads": 1, "rows": rows}, f, indent=1)
    with open(os.path.join(RESULTS, "arm64_insns.md"), "w") as f:
        f.write("| model | profile | emulated CPU | linear kernel | instructions per decoded token | in linear | in attention "
                "| top functions |\n|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            parts = r["parts_per_token"]
            f.write(f"| {r['model']} | {r['profile']} | {r['cpu']} | {r['kernel']} | {r['per_token'] / 1e6:.3f} M | "
                    f"{parts['linear'] / r['per_token']:.0%} | {parts['attention'] / r['per_token']:.0%} | "
                    + ", ".join(f"{t['function']} {t['per_token'] / r['per_token']:.0%}" for t in r["top"]) + " |\n")
    if rows:
        svg(rows, os.path.join(RESULTS, "arm64_insns.svg"))
    shutil.rmtree(work)
    print(f"wrote {RESULTS}/arm64_insns.{{json,md,svg}}")


if __name__ == "__main__":
    main()
