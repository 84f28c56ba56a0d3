#!/usr/bin/env python3
"""`edgecc bisect` finds the node where the numerics go wrong.

On the tiny Llama of make_decoders.py (prefill data set):

1. Clean: every intermediate agrees with ONNX Runtime, and so do the model's outputs as
   shipped; with `--reference DIR` holding PyTorch's outputs (the data set's output_K.pb),
   exactly those values are compared, and agree.
2. Broken: the bundles are built through a compiler wrapper that scales the softmax kernel's
   normalisation by 1.01 (and fails if the kernel's source no longer has the line it edits).
   bisect must name the model's first Softmax node (found here from the ONNX graph), with an
   error near 1 % of its largest probability, and every node before it agreeing.

On the tiny Llama GGUF of make_gguf.py, against llama.cpp's intermediates (llama_ref):

3. Clean: all 7 values of each layer, the final norm and the logits are compared and agree.
4. Broken: the SwiGLU kernel's product scaled by 1.01: bisect must name the first layer's
   feed-forward output (ffn_out-0), with everything before it agreeing.

Usage: python3 tests/e2e/test_bisect.py --edgecc PATH/TO/edgecc --work DIR
(llama.cpp's runner where scripts/setup_llama_ref.sh puts it, as edgecc looks for it)
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap

import onnx

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GENERATOR = os.path.join(REPO, "examples", "models", "make_decoders.py")
GGUF_GENERATOR = os.path.join(REPO, "examples", "models", "make_gguf.py")

# The compiler wrapper: the bundle's FILE is compiled with LINE replaced by BROKEN; everything
# else as usual. It fails if the kernel's source no longer has the line it edits.
SABOTAGE = textwrap.dedent("""\
    #!/usr/bin/python3
    import os, sys, tempfile
    FILE, LINE, BROKEN = {file!r}, {line!r}, {broken!r}
    args = sys.argv[1:]
    for i, a in enumerate(args):
        if a.endswith(FILE):
            src = open(a).read()
            if LINE not in src:
                sys.exit("sabotage: the line to break is no longer in " + a)
            fd, path = tempfile.mkstemp(suffix="-" + os.path.basename(a))
            os.write(fd, src.replace(LINE, BROKEN).encode())
            os.close(fd)
            args[i] = path
    os.execvp("c++", ["c++"] + args)
    """)


def sabotaging_env(work, name, file, line, broken):
    wrapper = os.path.join(work, name)
    with open(wrapper, "w") as f:
        f.write(SABOTAGE.format(file=file, line=line, broken=broken))
    os.chmod(wrapper, 0o755)
    return dict(os.environ, CXX=wrapper, CCACHE_DISABLE="1")


def bisect(edgecc, model, inputs, work, *extra, env=None):
    cmd = [edgecc, "bisect", model, *inputs, "--work-dir", work, "--json", *extra]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {run.returncode}:\n{run.stderr}")
    return json.loads(run.stdout)


def check(failures, ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def check_gguf(args, failures):
    model = os.path.join(args.work, "tiny-llama.gguf")
    subprocess.run([sys.executable, GGUF_GENERATOR, "--preset", "tiny", "--type", "f32", "-o", model],
                   check=True, stdout=subprocess.DEVNULL)
    tokens = ["--tokens", "1,5,9,200,7,3,44,310"]
    clean = bisect(args.edgecc, model, tokens, os.path.join(args.work, "gguf-clean"))
    names = [n["name"] for n in clean["nodes"]]
    per_layer = ["attn_norm", "kqv_out", "attn_out", "ffn_inp", "ffn_norm", "ffn_out", "l_out"]
    want = [f"{v}-{l}" for l in range(2) for v in per_layer] + ["result_norm", "result_output"]
    check(failures, names == want, f"gguf clean: llama.cpp's values in graph order ({names})")
    check(failures, all(o["compared"] and o["dims"][-2] == 8 for n in clean["nodes"] for o in n["outputs"]),
          "gguf clean: every value compared with llama.cpp's, 8 token rows each")
    check(failures, clean["first_divergent"] is None, f"gguf clean: no divergent value (got {clean['first_divergent']})")

    env = sabotaging_env(args.work, "swiglu-breaking-c++", "/runtime/kernels/elementwise.cpp",
                         "y[r * F + i] = (v / (1.f + std::exp(-v))) * u[i];",
                         "y[r * F + i] = (v / (1.f + std::exp(-v))) * u[i] * 1.01f;")
    broken = bisect(args.edgecc, model, tokens, os.path.join(args.work, "gguf-broken"), env=env)
    first = broken["first_divergent"] or {}
    check(failures, first.get("name") == "ffn_out-0", f"gguf broken swiglu: first divergent value is 'ffn_out-0' (got {first})")
    if first:
        check(failures, not any(n["diverges"] for n in broken["nodes"][:first["index"]]),
              "gguf broken swiglu: every value before it agrees")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    subprocess.run([sys.executable, GENERATOR, "--out", os.path.join(args.work, "models"), "--models", "llama", "--opsets", "17"],
                   check=True, stdout=subprocess.DEVNULL)
    model_dir = os.path.join(args.work, "models", "llama_op17")
    model, inputs = os.path.join(model_dir, "model.onnx"), os.path.join(model_dir, "test_data_set_0")
    graph = onnx.load(model).graph
    computed = [n for n in graph.node if n.op_type != "Constant"]
    failures = []

    clean = bisect(args.edgecc, model, ["--inputs", inputs], os.path.join(args.work, "clean"))
    compared = [o for n in clean["nodes"] for o in n["outputs"] if o["compared"]]
    check(failures, len(clean["nodes"]) == len(computed), f"clean: all {len(computed)} computing nodes listed ({len(clean['nodes'])})")
    check(failures, len(compared) == sum(len([o for o in n.output if o]) for n in computed),
          f"clean: every node output compared with ONNX Runtime ({len(compared)})")
    check(failures, clean["first_divergent"] is None, f"clean: no divergent node (got {clean['first_divergent']})")
    check(failures, [s["value"] for s in clean["shipped"]] == [o.name for o in graph.output] and
          all(s["compared"] and not s["diverges"] for s in clean["shipped"]), "clean: the shipped model's outputs agree")

    # PyTorch's outputs as the reference: only the values it holds are compared.
    torch_ref = bisect(args.edgecc, model, ["--inputs", inputs], os.path.join(args.work, "torch"), "--reference", inputs)
    compared = sorted(o["value"] for n in torch_ref["nodes"] for o in n["outputs"] if o["compared"])
    check(failures, compared == sorted(o.name for o in graph.output),
          f"--reference DIR: exactly the model's outputs compared ({compared})")
    check(failures, torch_ref["first_divergent"] is None, "--reference DIR: they agree with PyTorch")

    env = sabotaging_env(args.work, "softmax-breaking-c++", "/runtime/kernels/reduce.cpp",
                         "const float inv = 1.f / sum;", "const float inv = 1.01f / sum;")
    broken = bisect(args.edgecc, model, ["--inputs", inputs], os.path.join(args.work, "broken"), env=env)
    softmax = next(n.name for n in computed if n.op_type == "Softmax")
    first = broken["first_divergent"] or {}
    check(failures, first.get("name") == softmax and first.get("op_type") == "Softmax",
          f"broken softmax: first divergent node is '{softmax}' (got {first})")
    if first:
        node = broken["nodes"][first["index"]]
        out = node["outputs"][0]
        # Probabilities <= 1 scaled by 1.01: errors up to 0.01 (the largest row entry).
        check(failures, 0.002 < out["max_abs_error"] <= 0.0101 and out["tolerance_ratio"] > 1,
              f"broken softmax: max |error| {out['max_abs_error']:.4g} near 1 % of max |want| {out['max_abs_expected']:.3g}")
        check(failures, not any(n["diverges"] for n in broken["nodes"][:first["index"]]),
              "broken softmax: every node before it agrees")

    check_gguf(args, failures)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
