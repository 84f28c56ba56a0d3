"""Bundles with Halide-generated kernels (compile --kernels halide) on AVX-512 VNNI.

For tiny q8_0, f32 and f16 models: compiling twice gives byte-identical bundles (objects included);
report.json names the generated variant; greedy tokens are the same as with the hand-written
kernels (the generated GEMV and GEMM are bit-exact with them, tests/unit/PackedLinearTest.cpp), both
through edgecc's builder and through the bundle's own CMakeLists.txt in a clean environment.
Run through cpu_gate: where the CPU lacks AVX-512 VNNI it is reported as not run.
"""
import filecmp
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_args import edgecc_and_work  # noqa: E402
from test_llama_cpp import run  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")
TARGET = "x86-64-avx512-vnni"
PROMPT = "1,17,230,5,99"


def tokens(cmd):
    return json.loads(run(cmd + ["--prompt-ids", PROMPT, "-n", "12", "--ignore-eos", "--json"]).strip().splitlines()[-1])["ids"]


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.diff_files or cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    return all(same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-generated-")
    failures = 0
    for kind in ("q8_0", "f32", "f16"):
        model = os.path.join(work, f"tiny-{kind}.gguf")
        run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", kind, "-o", model], cwd=work)
        bundles = {}
        for kernels in ("hand", "halide", "halide-again"):
            bundles[kernels] = os.path.join(work, f"{kind}-{kernels}")
            run([edgecc, "compile", model, "-o", bundles[kernels], "--target", TARGET, "--max-context", "64",
                 "--kernels", kernels.split("-")[0]])
        checks = {}
        checks["compiled twice, identical"] = same_tree(bundles["halide"], bundles["halide-again"])
        with open(os.path.join(bundles["halide"], "report.json")) as f:
            checks["report.json names the generated variant"] = "x86_avx512vnni_halide::linear" in json.load(f)["kernels"]
        want = tokens([edgecc, "generate", bundles["hand"]])
        got = tokens([edgecc, "generate", bundles["halide"]])
        checks[f"greedy tokens as with hand-written kernels ({len(want)})"] = got == want
        # The bundle's own build: CMake and a C++ compiler, nothing else on PATH.
        build = bundles["halide"] + "/build"
        run(["env", "-i", "PATH=/usr/bin:/bin", "bash", "-c",
             f"cmake -S {bundles['halide']} -B {build} -G Ninja > /dev/null && cmake --build {build} > /dev/null"])
        tool = [os.path.join(build, "model_generate"), "--dir", bundles["halide"]]
        checks["its CMake build gives the same tokens"] = tokens(tool) == want
        for name, ok in checks.items():
            print(f"{'ok' if ok else 'FAIL'}: {kind}: {name}")
            failures += not ok
    if failures:
        raise SystemExit(f"{failures} check(s) failed")


if __name__ == "__main__":
    main()
