#!/usr/bin/env python3
"""The chat example builds against a bundle with the bundle's own CMakeLists.txt (as an app
would), and its multi-turn replies continue one KV cache: the second greedy reply equals what
`edgecc generate` produces from the whole conversation's ids at once.

Usage: test_example_chat.py --edgecc PATH [--work DIR]
"""
import json
import os
import subprocess
import sys

from e2e_args import edgecc_and_work

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-chat-")
    gguf, bundle, build = (os.path.join(work, p) for p in ("tiny.gguf", "bundle", "build"))
    subprocess.run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", "tiny", "--type",
                    "f32", "-o", gguf], check=True, capture_output=True)
    subprocess.run([edgecc, "compile", gguf, "-o", bundle, "--max-context", "128"], check=True, capture_output=True)
    subprocess.run(["cmake", "-S", os.path.join(REPO, "examples", "chat"), "-B", build, f"-DEDGECC_BUNDLE={bundle}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], check=True, capture_output=True)

    chat = subprocess.run([os.path.join(build, "chat"), bundle, "-n", "6", "--temperature", "0", "--json"],
                          input="hello world\nthe end\n", capture_output=True, text=True, check=True)
    turns = [json.loads(line) for line in chat.stdout.splitlines()]
    failures = []
    if len(turns) != 2:
        failures.append(f"expected 2 replies, got {len(turns)}: {chat.stdout!r}")
    else:
        history = turns[0]["prompt_ids"] + turns[0]["ids"] + turns[1]["prompt_ids"]
        ref = subprocess.run([edgecc, "generate", bundle, "--prompt-ids", ",".join(map(str, history)), "-n", "6", "--json",
                              "--ignore-eos"], capture_output=True, text=True, check=True)
        want = json.loads(ref.stdout.strip().splitlines()[-1])["ids"][: len(turns[1]["ids"])]
        print(f"turn 2 reply {turns[1]['ids']}, one-shot generation from the whole conversation {want}")
        if turns[1]["ids"] != want or not turns[1]["ids"]:
            failures.append("the second reply does not continue the first turn's KV cache")
        for t in turns:
            if not {"prompt_ids", "ids", "text", "prefill_tok_s", "decode_tok_s", "load_ms", "peak_rss_bytes"} <= set(t):
                failures.append(f"missing JSON fields in {t}")
    for f in failures:
        print("FAIL:", f)
    print("ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
