#!/usr/bin/python3
"""Generation speed of edgecc bundles next to llama.cpp on the same GGUF files, in one run.

For each preset x weight type: generate the model once (examples/models/make_gguf.py, cached),
compile it with edgecc (cached by content), then run
    edgecc generate BUNDLE --prompt-ids P -n N --threads T --json --ignore-eos
    llama_ref generate MODEL --ids P -n N --threads T --timings        (libllama, llama.cpp)
and report prefill and decode tokens/s, their ratios, load time and peak RSS. llama.cpp runs
with an f32 KV cache and no flash attention, like edgecc's cache. Run with nothing else busy.

    /usr/bin/python3 benchmarks/bench_llm.py [--presets 135m,1.1b] [--types q8_0,q4_0]
        [--prompt-len 64] [-n 32] [--threads 2] [--out benchmarks/results/llm_generate.json]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from test_llama_cpp import our_forced_logits  # noqa: E402  (teacher forcing through `edgecc run`)

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "edgecc", "bench")


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="135m,1.1b")
    ap.add_argument("--types", default="q8_0,q4_0")
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("-n", type=int, default=32, help="tokens generated (n - 1 decode steps are timed)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--edgecc", default=os.path.join(REPO, "build", "bin", "edgecc"))
    ap.add_argument("--out", default=os.path.join(REPO, "benchmarks", "results", "llm_generate.json"))
    args = ap.parse_args()

    llama_dir = run(["bash", os.path.join(REPO, "scripts", "setup_llama_ref.sh")]).strip().splitlines()[-1].split(": ", 1)[1]
    llama_ref = os.path.join(llama_dir, "bin", "llama_ref")
    os.makedirs(CACHE, exist_ok=True)
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
            bundle = os.path.join(CACHE, f"{preset}-{wtype}-bundle")
            t0 = time.time()
            run([args.edgecc, "compile", gguf, "-o", bundle, "--max-context", str(args.prompt_len + args.n + 8)])
            compile_s = time.time() - t0
            # Warm-up builds the bundle's tool and pages the weights in; the second run is measured.
            cmd = [args.edgecc, "generate", bundle, "--prompt-ids", ids, "-n", str(args.n), "--threads", str(args.threads),
                   "--json", "--ignore-eos"]
            run(cmd)
            ours = last_json(run(cmd))
            ref_logits = os.path.join(CACHE, "llama_logits.f32")
            ref = last_json(run([llama_ref, "generate", gguf, "--ids", ids, "-n", str(args.n), "--threads",
                                 str(args.threads), "--timings", "--logits", ref_logits]))
            # Agreement next to speed: our top-1 with llama.cpp's tokens fed back (teacher forcing).
            ours_forced = our_forced_logits(args.edgecc, bundle, ref["ids"], os.path.join(CACHE, "forced"), prompt)
            top1 = float(np.mean(ours_forced.argmax(axis=1) == np.array(ref["ids"])))
            same = next((k for k, (a, b) in enumerate(zip(ours["ids"], ref["ids"])) if a != b), len(ref["ids"]))
            rows.append({"model": preset, "type": wtype, "file_bytes": os.path.getsize(gguf), "compile_s": compile_s,
                         "prefill_tok_s": ours["prefill_tok_s"], "llama_prefill_tok_s": ref["prefill_tok_s"],
                         "decode_tok_s": ours["decode_tok_s"], "llama_decode_tok_s": ref["decode_tok_s"],
                         "load_ms": ours["load_ms"], "peak_rss_bytes": ours["peak_rss_bytes"],
                         "greedy_tokens_identical": same, "tokens": len(ref["ids"]), "teacher_forced_top1": top1})
            r = rows[-1]
            print(f"{preset} {wtype}: prefill {r['prefill_tok_s']:.1f} vs {r['llama_prefill_tok_s']:.1f} tok/s, "
                  f"decode {r['decode_tok_s']:.2f} vs {r['llama_decode_tok_s']:.2f} tok/s", file=sys.stderr)

    header = (f"| model | type | prefill tok/s (edgecc / llama.cpp = ratio) | decode tok/s (edgecc / llama.cpp = ratio) "
              f"| load ms | peak RSS MB | greedy tokens identical | teacher-forced top-1 |")
    lines = [header, "|" + "---|" * 8]
    for r in rows:
        lines.append(f"| {r['model']} | {r['type']} | {r['prefill_tok_s']:.1f} / {r['llama_prefill_tok_s']:.1f} = "
                     f"{r['prefill_tok_s'] / max(r['llama_prefill_tok_s'], 1e-9):.2f} | {r['decode_tok_s']:.2f} / "
                     f"{r['llama_decode_tok_s']:.2f} = {r['decode_tok_s'] / max(r['llama_decode_tok_s'], 1e-9):.2f} | "
                     f"{r['load_ms']:.0f} | {r['peak_rss_bytes'] / 2**20:.0f} | {r['greedy_tokens_identical']}/{r['tokens']} | "
                     f"{r['teacher_forced_top1']:.1%} |")
    table = "\n".join(lines)
    print(f"prompt {args.prompt_len} tokens, {args.n} generated, {args.threads} threads, {platform.machine()}")
    print(table)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"prompt_len": args.prompt_len, "n": args.n, "threads": args.threads, "machine": platform.machine(),
                   "rows": rows, "table": table}, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
