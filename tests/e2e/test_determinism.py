"""Determinism: the same model and flags give byte-identical bundles whatever the host looks
like, and a bundle computes bit-identical results for any thread count.

1. Bundles: each model is compiled twice for an explicit target (x86-64-avx2), the second
   time from another working directory, into another path, under another locale and time zone,
   with the host's AVX-512 hidden (EDGECC_CPU_DISABLE, as on the AVX2-only machines), and with
   every large constant kept in the compiler's scratch file instead of its heap
   (EDGECC_COMPILE_HEAP_BYTES=0: written, mapped back, its pages dropped after each read, as
   when compiling a model larger than 512 MiB). Every file of the two bundles must be
   byte-identical.
2. Threads: `edgecc perplexity --save-logits` stores every position's log-probabilities. They
   must be byte-identical for --threads 1, 2 and 3, for prefill (a bundle taking 64 tokens per
   step) and decode (a bundle taking one token per step, the single-token kernels). No kernel
   splits one reduction across threads: each output element is summed by one thread in one
   order, so this holds for float weights as well as for the integer dot products of q8_0/q4_0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_args import edgecc_and_work  # noqa: E402
from test_generated_kernels import same_tree  # noqa: E402
from test_llama_cpp import run  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")
TARGET = "x86-64-avx2"
# (name, make_gguf --type, extra compile flags): weights as stored, and quantized while compiling.
MODELS = [("q8_0", "q8_0", []), ("q4_0", "q4_0", []), ("f32", "f32", []), ("f32-to-q4_k", "f32", ["--weights", "q4_k"])]


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-determinism-")
    text = os.path.join(work, "text.txt")
    with open(os.path.join(REPO, "models", "brown-6m", "heldout.txt"), encoding="utf-8") as f:
        sample = f.read(6000)
    with open(text, "w", encoding="utf-8") as f:
        f.write(sample)
    other_cwd = os.path.join(work, "elsewhere")
    os.makedirs(other_cwd)
    host_env = dict(os.environ, LC_ALL="C.UTF-8", TZ="Asia/Kolkata", EDGECC_CPU_DISABLE="avx512vnni,avx512f",
                    EDGECC_COMPILE_HEAP_BYTES="0")
    results = []
    for name, gguf_type, flags in MODELS:
        gguf = os.path.join(work, f"tiny-{gguf_type}.gguf")
        if not os.path.exists(gguf):
            run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", gguf_type, "-o", gguf], cwd=work)
        common = ["--target", TARGET, "--max-context", "64", "--all-logits"] + flags  # all logits: perplexity
        a = os.path.join(work, f"{name}-a")
        b = os.path.join(other_cwd, "nested", "path", f"{name}-b")
        run([edgecc, "compile", gguf, "-o", a] + common, cwd=work)
        run([edgecc, "compile", gguf, "-o", b] + common, cwd=other_cwd, env=host_env)
        results.append((f"{name}: bundle identical across host setups", same_tree(a, b)))
        decode = os.path.join(work, f"{name}-decode")
        run([edgecc, "compile", gguf, "-o", decode, "--max-batch", "1"] + common, cwd=work)
        for label, bundle in (("prefill", a), ("decode", decode)):
            saved = []
            for threads in (1, 2, 3):
                out = os.path.join(work, f"{name}-{label}-t{threads}.logprobs")
                run([edgecc, "perplexity", bundle, "--text", text, "--ctx", "64", "--chunks", "2",
                     "--threads", str(threads), "--save-logits", out])
                with open(out, "rb") as f:
                    saved.append(f.read())
            ok = len(saved[0]) > 0 and saved[0] == saved[1] == saved[2]
            results.append((f"{name}: {label} log-probs bit-identical, threads 1/2/3 ({len(saved[0])} bytes)", ok))
    for what, ok in results:
        print(f"{what}: {'ok' if ok else 'FAIL'}")
    failed = sum(not ok for _, ok in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
