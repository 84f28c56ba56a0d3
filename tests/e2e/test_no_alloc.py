#!/usr/bin/env python3
"""prefill() and decode() allocate nothing: a program built against a bundle (with the bundle's
own CMakeLists.txt, as an app would) counts every malloc made during a prefill and decode steps
after a warm-up pass of the same shape, for each weight format and 1 and 2 threads. The program
first checks that its counter counts (one `new` must count as one).

Usage: test_no_alloc.py --edgecc PATH [--work DIR]
"""
import os
import re
import subprocess
import sys

from e2e_args import edgecc_and_work

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-no-alloc-")
    failures = []
    for wtype in ("q4_0", "f16"):
        gguf, bundle, build = (os.path.join(work, f"{wtype}-{p}") for p in ("tiny.gguf", "bundle", "build"))
        subprocess.run([sys.executable, os.path.join(REPO, "examples", "models", "make_gguf.py"), "--preset", "tiny", "--type",
                        wtype, "-o", gguf], check=True, capture_output=True)
        subprocess.run([edgecc, "compile", gguf, "-o", bundle, "--max-context", "128", "--max-batch", "16", "--target", "native"],
                       check=True, capture_output=True)
        subprocess.run(["cmake", "-S", os.path.join(REPO, "tests", "e2e", "no_alloc"), "-B", build, f"-DEDGECC_BUNDLE={bundle}"],
                       check=True, capture_output=True)
        subprocess.run(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)], check=True, capture_output=True)
        for threads in (1, 2):
            # 40 prompt tokens: three runs of --max-batch 16, the last one shorter.
            r = subprocess.run([os.path.join(build, "no_alloc"), bundle, str(threads), "40", "16"], capture_output=True, text=True)
            print(f"{wtype}: {r.stdout.strip() or r.stderr.strip()}")
            if r.returncode != 0 or not re.search(r"during prefill 0, during decode 0 ", r.stdout):
                failures.append(f"{wtype}, {threads} threads: exit {r.returncode}")
    for f in failures:
        print("FAIL:", f)
    print(f"{4 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
