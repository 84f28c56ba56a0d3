#!/usr/bin/python3
"""Generation speed of edgecc bundles next to llama.cpp and ONNX Runtime on the same weights, in one run.

For each preset x weight type x thread count, the tools alternate for --reps repetitions and the
medians are reported:
    edgecc:    the bundle's model_generate (compiled with --target, default native)
    llama.cpp: both builds within reach, and the ratio is taken against the faster of the two
               for each figure (the table names which): llama-bench built natively
               (scripts/build_llama_tools.sh), and libllama from node-llama-cpp, whose prebuilt
               CPU variants are chosen at load (tests/reference/llama_ref)
The ONNX path: the 135m weights exported as f32 ONNX (make_gguf.py --onnx, explicit past/present
tensors), compiled by edgecc with --max-context and run by ONNX Runtime (onnxruntime-node,
scripts/setup_onnxruntime.sh, all graph optimizations, intra-op threads = threads) feeding
present back as past; both greedy, compared token for token.
No flash attention on either side; edgecc's KV cache is f32, llama-bench's its default f16 (it
takes no f32 cache; at these contexts the cache is a few percent of the bytes). The DRAM read
bandwidth is measured in the same run (benchmarks/dram_bandwidth.cpp), and every decode figure is
also given as GB/s read (weights read per token + the KV cache at the mean position) and as a
fraction of that bandwidth. Time to first token is process start to the first token, for both
tools (llama_ref and model_generate, -n 1). Writes JSON, an SVG chart and a Markdown table.
Run with nothing else busy.

    /usr/bin/python3 benchmarks/bench_llm.py [--presets 135m,1.1b] [--types f16,q8_0,q4_0]
        [--prompt-len 128] [-n 64] [--threads 1,2] [--reps 5] [--target native] [--no-onnx]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import svg_bars

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, os.path.join(REPO, "examples", "models"))
from make_gguf import GgufFile, tensor_nbytes  # noqa: E402
from test_llama_cpp import our_forced_logits  # noqa: E402  (teacher forcing through `edgecc run`)

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "edgecc", "bench")


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def dram_bandwidth(threads):
    exe = os.path.join(CACHE, "dram_bandwidth")
    src = os.path.join(REPO, "benchmarks", "dram_bandwidth.cpp")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        run(["g++", "-O3", "-march=native", "-pthread", src, "-o", exe])
    return last_json(run([exe, str(threads)]))["read_gb_s"]


def bytes_per_token(gguf_path, position):
    """Bytes a decode step reads: every weight, except that an untied embedding table gives
    one row, plus the f32 KV cache up to `position`."""
    g = GgufFile(gguf_path)
    total = sum(tensor_nbytes(ne, t) for ne, t, _ in g.tensors.values())
    if "output.weight" in g.tensors:  # untied: the table is read one row per token
        ne, t, _ = g.tensors["token_embd.weight"]
        total -= tensor_nbytes(ne, t) - tensor_nbytes([ne[0], 1], t)
    arch = g.get("general.architecture")
    layers, heads = g.get(f"{arch}.block_count"), g.get(f"{arch}.attention.head_count")
    kv_heads, width = g.get(f"{arch}.attention.head_count_kv", heads), g.get(f"{arch}.embedding_length")
    total += 2 * layers * kv_heads * (width // heads) * 4 * position
    return total


def llama_bench_path():
    path = os.path.expanduser(os.environ.get("EDGECC_LLAMA_BENCH", "~/.cache/edgecc/llama-bench")) + "/build/bin/llama-bench"
    return path if os.access(path, os.X_OK) else None


def run_llama_bench(bench, gguf, prompt_len, n, threads):
    """Prefill from an empty cache, decode after the prompt (depth = prompt_len), as edgecc is
    measured: llama-bench's own generation test starts from an empty cache."""
    out = json.loads(run([bench, "-m", gguf, "-p", str(prompt_len), "-n", str(n), "-d", f"0,{prompt_len}",
                          "-t", str(threads), "-r", "1", "-fa", "0", "-o", "json"]))
    pp = next(r["avg_ts"] for r in out if r["n_prompt"] > 0 and r.get("n_depth", 0) == 0)
    tg = next(r["avg_ts"] for r in out if r["n_gen"] > 0 and r.get("n_depth", 0) == prompt_len)
    return pp, tg


def run_libllama(llama_ref, gguf, ids, n, threads):
    r = last_json(run([llama_ref, "generate", gguf, "--ids", ids, "-n", str(n), "--threads", str(threads), "--timings"]))
    return r["prefill_tok_s"], r["decode_tok_s"]


def gguf_shape(gguf_path):
    """(KV heads, head dim) of a GGUF's architecture."""
    g = GgufFile(gguf_path)
    arch = g.get("general.architecture")
    heads = g.get(f"{arch}.attention.head_count")
    return g.get(f"{arch}.attention.head_count_kv", heads), g.get(f"{arch}.embedding_length") // heads


def onnx_rows(args, prompt, threads, bandwidth):
    """edgecc's ONNX path next to ONNX Runtime on the f32 ONNX export of the 135m weights."""
    module = run(["bash", os.path.join(REPO, "scripts", "setup_onnxruntime.sh")]).strip().splitlines()[-1].split(": ", 1)[1]
    gguf, onnx = os.path.join(CACHE, "135m-f32.gguf"), os.path.join(CACHE, "135m-f32.onnx")
    if not os.path.exists(onnx):
        print(f"generating {onnx} ...", file=sys.stderr)
        run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", "135m", "--type", "f32",
             "-o", gguf, "--onnx", onnx])
    bundle = os.path.join(CACHE, f"135m-f32-onnx-{args.target}")
    run([args.edgecc, "compile", onnx, "-o", bundle, "--target", args.target,
         "--max-context", str(max(args.prompt_len + args.n, 96) + 8)])
    run([args.edgecc, "generate", bundle, "--prompt-ids", "1", "-n", "2"])  # builds the tool
    ids = ",".join(map(str, prompt))
    tool = [os.path.join(bundle, "model_generate"), "--dir", bundle, "--prompt-ids", ids, "--ignore-eos"]
    kv_heads, head_dim = gguf_shape(gguf)
    per_token = bytes_per_token(gguf, args.prompt_len + args.n // 2)
    rows = []
    for t in threads:
        samples = {"pp": [], "tg": [], "ort_pp": [], "ort_tg": []}
        same = None
        for _ in range(args.reps):
            ours = last_json(run(tool + ["-n", str(args.n), "--threads", str(t), "--json"]))
            theirs = last_json(run(["node", os.path.join(REPO, "benchmarks", "ort_generate.js"), module, onnx, ids,
                                    str(args.n), str(t), str(kv_heads), str(head_dim)]))
            samples["pp"].append(ours["prefill_tok_s"])
            samples["tg"].append(ours["decode_tok_s"])
            samples["ort_pp"].append(theirs["prefill_tok_s"])
            samples["ort_tg"].append(theirs["decode_tok_s"])
            agree = next((i for i, (a, b) in enumerate(zip(ours["ids"], theirs["ids"])) if a != b), len(theirs["ids"]))
            same = agree if same is None else min(same, agree)
        med = {k: statistics.median(v) for k, v in samples.items()}
        gbs = med["tg"] * per_token / 1e9
        rows.append({"model": "135m", "type": "f32 onnx", "threads": t, "prefill_tok_s": med["pp"], "ort_prefill_tok_s": med["ort_pp"],
                     "decode_tok_s": med["tg"], "ort_decode_tok_s": med["ort_tg"], "prefill_ratio": med["pp"] / med["ort_pp"],
                     "decode_ratio": med["tg"] / med["ort_tg"], "decode_gb_s": gbs, "decode_bw_fraction": gbs / bandwidth[t],
                     "greedy_identical": same, "samples": samples})
        r = rows[-1]
        print(f"135m f32 onnx t{t}: prefill {r['prefill_tok_s']:.1f} vs ORT {r['ort_prefill_tok_s']:.1f}, "
              f"decode {r['decode_tok_s']:.2f} vs ORT {r['ort_decode_tok_s']:.2f} tok/s", file=sys.stderr)
    return rows


def wall(cmd):
    t0 = time.perf_counter()
    run(cmd)
    return time.perf_counter() - t0


def svg_chart(rows, bandwidth, path):
    """Grouped bars: edgecc / llama.cpp (or / ONNX Runtime for the ONNX rows) for prefill and
    decode per model, type and threads, with the parity line; and decode GB/s as a fraction of
    the measured bandwidth."""
    w, h, left, top, bar = 980, 420, 60, 40, 12
    groups = [f"{r['model']} {r['type']} t{r['threads']}" + (" vs ORT" if "ort_decode_tok_s" in r else "") for r in rows]
    series = [("prefill ratio", "prefill_ratio", "#4878a8"), ("decode ratio", "decode_ratio", "#e0823d"),
              ("decode / DRAM bw", "decode_bw_fraction", "#6aa84f")]
    ymax = max([1.5] + [r[k] for r in rows for _, k, _ in series]) * 1.1
    plot_h = h - top - 110
    gw = (w - left - 20) / max(len(rows), 1)
    y = lambda v: top + plot_h * (1 - v / ymax)  # noqa: E731
    out = svg_bars.frame(w, h, left, "edgecc vs llama.cpp / ONNX Runtime (ratio, 1 = parity) and decode as a fraction of "
                                      f"DRAM bandwidth ({bandwidth:.1f} GB/s, 2 threads)")
    svg_bars.grid(out, np.arange(0, ymax, 0.25), y, left, w, lambda v: f"{v:.2f}")
    svg_bars.reference_line(out, 1, y, left, w)
    for i, r in enumerate(rows):
        x0 = left + i * gw + (gw - 3 * bar) / 2
        for j, (_, key, color) in enumerate(series):
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{y(r[key]):.1f}" width="{bar - 1}" height="{y(0) - y(r[key]):.1f}" '
                       f'fill="{color}"><title>{groups[i]}: {key} {r[key]:.2f}</title></rect>')
        out.append(f'<text transform="translate({x0 + bar:.1f},{y(0) + 8:.1f}) rotate(60)">{groups[i]}</text>')
    svg_bars.legend(out, [(label, color) for label, _, color in series], left, h - 9, 170)
    svg_bars.save(out, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="135m,1.1b")
    ap.add_argument("--types", default="f16,q8_0,q4_0")
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("-n", type=int, default=64, help="tokens generated")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--target", default="native")
    ap.add_argument("--onnx", action=argparse.BooleanOptionalAction, default=True,
                    help="also the ONNX path against ONNX Runtime (135m, f32)")
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "llm_bench.json"))
    args = ap.parse_args()

    llama_dir = run(["bash", os.path.join(REPO, "scripts", "setup_llama_ref.sh")]).strip().splitlines()[-1].split(": ", 1)[1]
    llama_ref = os.path.join(llama_dir, "bin", "llama_ref")
    bench = llama_bench_path()
    peers = (["llama-bench"] if bench else []) + ["libllama"]
    peer = ("llama-bench (native build, f16 KV cache) and " if bench else "") + "libllama 0.4.0 (node-llama-cpp prebuilt, f32 KV cache)"
    os.makedirs(CACHE, exist_ok=True)
    threads = [int(t) for t in args.threads.split(",")]
    bandwidth = {t: dram_bandwidth(t) for t in sorted(set(threads) | {2})}
    print(f"{cpu_model()}: DRAM read {', '.join(f'{v:.1f} GB/s ({t} threads)' for t, v in bandwidth.items())}", file=sys.stderr)
    prompt = [1] + [300 + (i * 7919) % 20000 for i in range(args.prompt_len - 1)]
    ids = ",".join(map(str, prompt))
    rows = []
    for preset in args.presets.split(","):
        for wtype in args.types.split(","):
            gguf = os.path.join(CACHE, f"{preset}-{wtype}.gguf")
            if not os.path.exists(gguf):
                print(f"generating {gguf} ...", file=sys.stderr)
                run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", preset,
                     "--type", wtype, "-o", gguf])
            bundle = os.path.join(CACHE, f"{preset}-{wtype}-{args.target}")
            t0 = time.time()
            run([args.edgecc, "compile", gguf, "-o", bundle, "--target", args.target,
                 "--max-context", str(max(args.prompt_len + args.n, 96) + 8), "--max-batch", str(args.prompt_len)])
            compile_s = time.time() - t0
            run([args.edgecc, "generate", bundle, "--prompt-ids", "1", "-n", "2"])  # builds the tool
            tool = [os.path.join(bundle, "model_generate"), "--dir", bundle, "--prompt-ids", ids, "--ignore-eos"]
            per_token = bytes_per_token(gguf, args.prompt_len + args.n // 2)
            ttft_ours = statistics.median(wall(tool + ["-n", "1"]) for _ in range(3))
            ttft_llama = statistics.median(wall([llama_ref, "generate", gguf, "--ids", ids, "-n", "1"]) for _ in range(3))
            top1 = None
            for t in threads:
                samples = {"pp": [], "tg": [], "load": []}
                for p in peers:
                    samples[p + "_pp"], samples[p + "_tg"] = [], []
                for _ in range(args.reps):  # alternating, so drifts of the machine hit every tool
                    ours = last_json(run(tool + ["-n", str(args.n), "--threads", str(t), "--json"]))
                    samples["pp"].append(ours["prefill_tok_s"])
                    samples["tg"].append(ours["decode_tok_s"])
                    samples["load"].append(ours["load_ms"])
                    for p in peers:
                        pp, tg = (run_llama_bench(bench, gguf, args.prompt_len, args.n, t) if p == "llama-bench"
                                  else run_libllama(llama_ref, gguf, ids, args.n, t))
                        samples[p + "_pp"].append(pp)
                        samples[p + "_tg"].append(tg)
                med = {k: statistics.median(v) for k, v in samples.items()}
                # The stronger llama.cpp build for each figure.
                best_pp = max(peers, key=lambda p: med[p + "_pp"])
                best_tg = max(peers, key=lambda p: med[p + "_tg"])
                med["lpp"], med["ltg"] = med[best_pp + "_pp"], med[best_tg + "_tg"]
                if top1 is None:  # agreement next to speed: our top-1 with llama.cpp's tokens fed back
                    forced_prompt = prompt[:64]
                    ref = last_json(run([llama_ref, "generate", gguf, "--ids", ",".join(map(str, forced_prompt)), "-n", "32",
                                         "--threads", "2"]))
                    ours_forced = our_forced_logits(args.edgecc, bundle, ref["ids"], os.path.join(CACHE, "forced"), forced_prompt)
                    top1 = float(np.mean(ours_forced.argmax(axis=1) == np.array(ref["ids"])))
                gbs = med["tg"] * per_token / 1e9
                rows.append({"model": preset, "type": wtype, "threads": t, "compile_s": compile_s,
                             "prefill_tok_s": med["pp"], "llama_prefill_tok_s": med["lpp"],
                             "decode_tok_s": med["tg"], "llama_decode_tok_s": med["ltg"],
                             "prefill_ratio": med["pp"] / med["lpp"], "decode_ratio": med["tg"] / med["ltg"],
                             "bytes_per_token": per_token, "decode_gb_s": gbs, "llama_decode_gb_s": med["ltg"] * per_token / 1e9,
                             "decode_bw_fraction": gbs / bandwidth[t], "load_ms": med["load"],
                             "ttft_s": ttft_ours, "llama_ttft_s": ttft_llama, "teacher_forced_top1": top1,
                             "llama_prefill_from": best_pp, "llama_decode_from": best_tg,
                             "peer_medians": {k: v for k, v in med.items() if "_" in k and k.split("_")[0] in peers},
                             "samples": samples})
                r = rows[-1]
                print(f"{preset} {wtype} t{t}: prefill {r['prefill_tok_s']:.1f} vs {r['llama_prefill_tok_s']:.1f}, "
                      f"decode {r['decode_tok_s']:.2f} vs {r['llama_decode_tok_s']:.2f} tok/s", file=sys.stderr)

    ort_rows = onnx_rows(args, prompt, threads, bandwidth) if args.onnx else []

    # Measured again at the end: other load on the machine only lowers it, so the higher of the
    # two is the bandwidth; decode fractions use it.
    for t in bandwidth:
        bandwidth[t] = max(bandwidth[t], dram_bandwidth(t))
    for r in rows + ort_rows:
        r["decode_bw_fraction"] = r["decode_gb_s"] / bandwidth[r["threads"]]
    lines = [f"{cpu_model()}, DRAM read {bandwidth[2]:.1f} GB/s (2 threads)" +
             (f", {bandwidth[1]:.1f} GB/s (1 thread)" if 1 in bandwidth else "") +
             f"; edgecc --target {args.target}; peer: {peer}; prompt {args.prompt_len}, {args.n} generated, "
             f"medians of {args.reps}", "",
             "| model | type | threads | prefill tok/s edgecc / llama.cpp = ratio | decode tok/s edgecc / llama.cpp = ratio "
             "| decode GB/s (edgecc, llama.cpp) | of DRAM bw | first token s (edgecc, llama.cpp) | teacher-forced top-1 |",
             "|" + "---|" * 9]
    short = {"llama-bench": "B", "libllama": "L"}
    for r in rows:
        lines.append(f"| {r['model']} | {r['type']} | {r['threads']} | {r['prefill_tok_s']:.1f} / {r['llama_prefill_tok_s']:.1f}"
                     f"{short[r['llama_prefill_from']]} = {r['prefill_ratio']:.2f} | {r['decode_tok_s']:.1f} / "
                     f"{r['llama_decode_tok_s']:.1f}{short[r['llama_decode_from']]} = {r['decode_ratio']:.2f} | "
                     f"{r['decode_gb_s']:.1f}, {r['llama_decode_gb_s']:.1f} | {r['decode_bw_fraction']:.0%} | "
                     f"{r['ttft_s']:.2f}, {r['llama_ttft_s']:.2f} | {r['teacher_forced_top1']:.1%} |")
    lines.append("")
    lines.append("llama.cpp figures: B = llama-bench (native build), L = libllama (node-llama-cpp prebuilt), whichever "
                 "was faster in this run.")
    if ort_rows:
        lines += ["", "ONNX path: the same 135m weights as f32 ONNX, edgecc (compiled from the ONNX file) against ONNX "
                  "Runtime 1.20.1 (onnxruntime-node), both greedy", "",
                  "| model | type | threads | prefill tok/s edgecc / ORT = ratio | decode tok/s edgecc / ORT = ratio "
                  "| decode GB/s (edgecc) | of DRAM bw | greedy tokens identical |", "|" + "---|" * 8]
        for r in ort_rows:
            lines.append(f"| {r['model']} | {r['type']} | {r['threads']} | {r['prefill_tok_s']:.1f} / {r['ort_prefill_tok_s']:.1f} = "
                         f"{r['prefill_ratio']:.2f} | {r['decode_tok_s']:.1f} / {r['ort_decode_tok_s']:.1f} = {r['decode_ratio']:.2f} | "
                         f"{r['decode_gb_s']:.1f} | {r['decode_bw_fraction']:.0%} | {r['greedy_identical']} of {args.n} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"cpu": cpu_model(), "dram_read_gb_s": bandwidth, "peer": peer, "target": args.target,
                   "prompt_len": args.prompt_len, "n": args.n, "reps": args.reps, "rows": rows, "onnx_rows": ort_rows,
                   "table": table}, f, indent=2)
    chart = os.path.splitext(args.out)[0] + ".svg"
    svg_chart(rows + ort_rows, bandwidth[2], chart)
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
        f.write(table + f"\n\n![chart]({os.path.basename(chart)})\n")
    print(f"wrote {args.out}, {chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
