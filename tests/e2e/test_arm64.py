#!/usr/bin/env python3
"""arm64 bundles, cross-built and run under qemu-aarch64: the same greedy tokens as on x86.

For tiny Llama GGUF models (examples/models/make_gguf.py) in q4_0 and q8_0, and f32 and f16
on one profile, each arm64 profile below is compiled, cross-built with the toolchain file the
bundle carries (unchanged), and run under qemu-aarch64 on an emulated CPU that has exactly the
features of its kernel path:
  arm64 (NEON, smull kernels)            on cortex-a53 (Armv8.0)
  raspberry-pi-5 (dotprod, sdot kernels) on cortex-a76 (dotprod, no i8mm)
  snapdragon-8-gen-3 (i8mm, smmla)       on max        (everything)
  raspberry-pi-5 --kernels halide        on cortex-a76 (float weights: Halide-generated NEON tiles)
and every other arm64 profile (edgecc targets) in q4_0, on max (i8mm) or cortex-a76 (dotprod).
Each must generate exactly the token ids of the same model compiled for this x86 machine
(--target native), whose agreement with llama.cpp tests/e2e/test_llama_cpp.py checks. The
report must name the arm64 kernel variant of its profile. A bundle compiled for i8mm, run on
a CPU without it (cortex-a76), must refuse with one clear line and a non-zero exit.

Code size: the arm64 q4_0 bundle, and the same model for x86-64-avx2, are compiled with
`--build`, which builds them with their own CMakeLists.txt and records the stripped size of
their tools in report.json. Each must equal the size of a copy this test strips itself, and
model_run (runtime + model, no tokenizer) must meet the 300 KB goal on both.
"""
import json
import os
import shutil
import subprocess
import sys

from e2e_args import edgecc_and_work

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")
SYSROOT = "/usr/aarch64-linux-gnu"
PROMPT = "1,17,33,49,65,81,97,113,129"  # 9 tokens: odd, so pair tiles and a single token both run
TOKENS = "24"

# profile, emulated CPU, the linear kernel variant its report must name, formats, compile flags
CASES = [
    ("arm64", "cortex-a53", "arm64_neon::linear", ["q4_0", "q8_0"], []),
    ("raspberry-pi-5", "cortex-a76", "arm64_dotprod::linear", ["q4_0", "q8_0", "f32", "f16"], []),
    ("snapdragon-8-gen-3", "max", "arm64_i8mm::linear", ["q4_0", "q8_0"], []),
    ("raspberry-pi-5", "cortex-a76", "arm64_neon_halide::linear", ["f32", "f16"], ["--kernels", "halide"]),
    # The other profiles: each cross-builds and generates, on a CPU with its features.
    ("snapdragon-8-gen-2", "max", "arm64_i8mm::linear", ["q4_0"], []),
    ("tensor-g3", "max", "arm64_i8mm::linear", ["q4_0"], []),
    ("dimensity-9300", "max", "arm64_i8mm::linear", ["q4_0"], []),
    ("arm64-i8mm", "max", "arm64_i8mm::linear", ["q4_0"], []),
    ("arm64-dotprod", "cortex-a76", "arm64_dotprod::linear", ["q4_0"], []),
    ("phone-8gb", "cortex-a76", "arm64_dotprod::linear", ["q4_0"], []),
]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r


def build(bundle, cross):
    # ccache hits across bundles only with paths relative to a common base
    os.environ["CCACHE_BASEDIR"] = os.path.dirname(bundle)
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if subprocess.run(["which", "ccache"], capture_output=True).returncode == 0 else []
    toolchain = ["-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake"] if cross else []
    run(["cmake", "-S", bundle, "-B", os.path.join(bundle, "build"), "-G", "Ninja"] + toolchain + launcher, cwd=bundle)
    run(["cmake", "--build", os.path.join(bundle, "build")])
    return os.path.join(bundle, "build", "model_generate")


def stripped_size(path, arm64):
    copy = path + ".test-stripped"
    shutil.copy(path, copy)
    run(["aarch64-linux-gnu-strip" if arm64 else "strip", copy])
    size = os.path.getsize(copy)
    os.remove(copy)
    return size


def check_code_size(bundle, arm64):
    """compile --build's report.json "code_size" against this test's own strip of the tools."""
    with open(os.path.join(bundle, "report.json")) as f:
        code = json.load(f).get("code_size", {})
    ours = {tool: stripped_size(os.path.join(bundle, "build", tool), arm64) for tool in ("model_run", "model_generate")}
    meets_goal = ours["model_run"] <= 300000
    ok = (code.get("isa") == ("arm64" if arm64 else "x86-64") and code.get("model_run_bytes") == ours["model_run"]
          and code.get("model_generate_bytes") == ours["model_generate"] and meets_goal)
    print(f"{'ok  ' if ok else 'FAIL'} code size of {os.path.basename(bundle)}: report {code}, stripped here {ours}; "
          f"model_run {'meets' if meets_goal else 'is over'} the 300000-byte goal")
    return ok


def generate(exe, bundle, cpu=None):
    cmd = [exe, "--dir", bundle, "--prompt-ids", PROMPT, "-n", TOKENS, "--ignore-eos", "--json", "--threads", "2"]
    if cpu:
        cmd = ["qemu-aarch64", "-cpu", cpu, "-L", SYSROOT] + cmd
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-arm64-")
    os.environ["CCACHE_BASEDIR"] = work  # ccache hits across bundles, also for compile --build
    failures = []
    expected = {}
    formats = sorted({f for case in CASES for f in case[3]})
    for fmt in formats:
        gguf = os.path.join(work, f"tiny-{fmt}.gguf")
        run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", fmt, "-o", gguf])
        r = run([edgecc, "generate", gguf, "--prompt-ids", PROMPT, "-n", TOKENS, "--ignore-eos", "--json", "--target", "native",
                 "--bundle-dir", os.path.join(work, f"x86-{fmt}")])
        expected[fmt] = json.loads(r.stdout)["ids"]
    for profile, cpu, variant, fmts, flags in CASES:
        for fmt in fmts:
            bundle = os.path.join(work, f"{profile}-{fmt}" + ("-" + flags[-1] if flags else ""))
            measure = profile == "arm64" and fmt == "q4_0"
            run([edgecc, "compile", os.path.join(work, f"tiny-{fmt}.gguf"), "-o", bundle, "--target", profile] + flags
                + (["--build"] if measure else []))
            with open(os.path.join(bundle, "report.json")) as f:
                kernels = {op["kernel"] for op in json.load(f)["ops"]}
            if measure:
                exe = os.path.join(bundle, "build", "model_generate")
                if not check_code_size(bundle, arm64=True):
                    failures.append("arm64 code size")
            else:
                exe = build(bundle, cross=True)
            r = generate(exe, bundle, cpu)
            got = json.loads(r.stdout)["ids"] if r.returncode == 0 else None
            ok = got == expected[fmt] and variant in kernels
            print(f"{'ok  ' if ok else 'FAIL'} {profile:20s} {fmt:5s} on qemu {cpu:10s} {variant} {' '.join(flags)}: "
                  f"{'same ' + str(len(got)) + ' tokens as x86' if got == expected[fmt] else 'tokens differ: ' + str(got) + ' vs ' + str(expected[fmt]) if got else r.stderr.strip()}"
                  f"{'' if variant in kernels else '; report has no ' + variant}")
            if not ok:
                failures.append(f"{profile} {fmt}")
            if profile == "snapdragon-8-gen-3" and fmt == "q4_0":
                refused = generate(exe, bundle, "cortex-a76")
                lines = refused.stderr.strip().splitlines()
                ok = refused.returncode != 0 and len(lines) == 1 and "lacks i8mm" in lines[0] and not refused.stdout
                print(f"{'ok  ' if ok else 'FAIL'} {profile} bundle on qemu cortex-a76 (no i8mm) refused: {lines}")
                if not ok:
                    failures.append("refusal on a CPU without i8mm")
    x86 = os.path.join(work, "x86-64-avx2-q4_0")
    run([edgecc, "compile", os.path.join(work, "tiny-q4_0.gguf"), "-o", x86, "--target", "x86-64-avx2", "--build"])
    if not check_code_size(x86, arm64=False):
        failures.append("x86 code size")
    if failures:
        sys.exit("FAIL: " + ", ".join(failures))
    print("all arm64 bundles agree with x86")


if __name__ == "__main__":
    main()
