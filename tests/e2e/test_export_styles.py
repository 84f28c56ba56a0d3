#!/usr/bin/env python3
"""ONNX decoders exported in other styles than the project's own, compiled with --max-context only.

make_hf_decoders.py writes Llama and GPT-2 written as Hugging Face's modeling code writes them
(attention_mask and position_ids inputs, causal masks built from shapes, Optimum's
past_key_values.N.key naming, dims batch_size / past_sequence_length / total_sequence_length
or batch / seq / past_seq / total_seq; GPT-2 also with positions counted from the mask by
CumSum), with PyTorch's own outputs and greedy tokens. For each:

  1. `edgecc compile model.onnx --max-context 64`, then the prefill and one decode step run on
     the bundle's own cache: logits within max|d| <= 1e-4 * max|ref| + 1e-5 of PyTorch's, same
     argmax at every position (the bounds of test_decoders.py);
  2. `edgecc generate model.onnx --max-context 64`: the same 16 greedy tokens as PyTorch, also
     with the inputs renamed (the bundle finds token ids, mask and positions by structure);
  3. with the extended caches' dim names removed, the mask's past-plus-new dim is placed by
     structure (no Gather indexes by it), and the logits match again;
  4. with the mask's dim renamed to a sum of unknown names, compile refuses in one line naming
     the dim and the flag; with that flag (`--dim NAME=PAST+NEW`) it compiles and matches.

Usage: test_export_styles.py --edgecc PATH [--work DIR]
Prints one line per check and `N passed, M failed`; exits 1 on any failure.
"""

import json
import os
import subprocess
import sys

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_args import edgecc_and_work  # noqa: E402
from test_decoders import run_kv_steps, describe  # noqa: E402  (same bounds and step runner)

GENERATOR = os.path.join(HERE, "..", "..", "examples", "models", "make_hf_decoders.py")
MODELS = ("llama_hf", "gpt2_hf", "gpt2_hf_cumsum")
CONTEXT = "64"


def kv_steps_ok(edgecc, model_dir, bundle, work, extra=()):
    proc = subprocess.run([edgecc, "compile", os.path.join(model_dir, "model.onnx"), "-o", bundle,
                           "--max-context", CONTEXT, *extra], capture_output=True, text=True)
    if proc.returncode:
        return False, "compile failed: " + proc.stderr.strip()[-2000:]
    data_sets = [os.path.join(model_dir, f"test_data_set_{k}") for k in (0, 1)]
    outs = [os.path.join(work, "out", os.path.basename(bundle), str(k)) for k in (0, 1)]
    steps, failure = run_kv_steps(edgecc, bundle, data_sets, outs, 600)
    if failure:
        return False, failure
    text = "; ".join(f"step {k}: " + describe(recs[0]) for k, (recs, _) in enumerate(steps))
    return all(ok for _, ok in steps), text


def generate(edgecc, model_dir, ref, bundle_dir):
    """`edgecc generate` greedy from the reference prompt: (ids or None, text for the report)."""
    proc = subprocess.run([edgecc, "generate", os.path.join(model_dir, "model.onnx"), "--max-context", CONTEXT,
                           "--prompt-ids", ",".join(map(str, ref["prompt_ids"])), "-n", str(len(ref["ids"])),
                           "--ignore-eos", "--json", "--bundle-dir", bundle_dir], capture_output=True, text=True)
    if proc.returncode:
        return None, proc.stderr.strip()[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])["ids"]
    return got, f"edgecc {got}, PyTorch {ref['ids']}"


def save_variant(model, model_dir, models, name):
    """The model edited, beside the original's data sets."""
    variant = os.path.join(models, name)
    os.makedirs(variant, exist_ok=True)
    onnx.save(model, os.path.join(variant, "model.onnx"))
    for k in (0, 1):
        link = os.path.join(variant, f"test_data_set_{k}")
        if not os.path.exists(link):
            os.symlink(os.path.join(model_dir, f"test_data_set_{k}"), link)
    return variant


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-styles-")
    models = os.path.join(work, "models")
    gen = subprocess.run([sys.executable, GENERATOR, "--out", models, "--models", ",".join(MODELS),
                          "--greedy-steps", "16"], capture_output=True, text=True)
    print(gen.stdout, end="")
    if gen.returncode:
        print(gen.stderr, file=sys.stderr)
        print("make_hf_decoders.py failed: FAIL")
        return 1

    passed = failed = 0

    def record(name, ok, text):
        nonlocal passed, failed
        print(f"{name}: {'ok' if ok else 'FAIL'} ({text})")
        passed, failed = passed + ok, failed + (not ok)

    for name in MODELS:
        model_dir = os.path.join(models, name)
        ok, text = kv_steps_ok(edgecc, model_dir, os.path.join(work, "bundles", name), work)
        record(f"{name} prefill + decode logits", ok, text)

        with open(os.path.join(model_dir, "greedy.json")) as f:
            ref = json.load(f)
        got, text = generate(edgecc, model_dir, ref, os.path.join(work, "generate", name))
        record(f"{name} generate", got == ref["ids"], text)

        # Other input names: the bundle still fills token ids, mask and positions by structure.
        model = onnx.load(os.path.join(model_dir, "model.onnx"))
        renamed = {"input_ids": "tokens", "attention_mask": "keep", "position_ids": "where_am_i"}
        for v in model.graph.input:
            v.name = renamed.get(v.name, v.name)
        for node in model.graph.node:
            node.input[:] = [renamed.get(i, i) for i in node.input]
        variant = save_variant(model, model_dir, models, name + "_renamed")
        got, text = generate(edgecc, variant, ref, os.path.join(work, "generate", name + "_renamed"))
        record(f"{name} generate with inputs renamed", got == ref["ids"], text)

        # Without names on the extended caches, the mask's dim is placed by structure: it is
        # the rank-2 input dim that no Gather indexes by.
        model = onnx.load(os.path.join(model_dir, "model.onnx"))
        for out in model.graph.output[1:]:
            out.type.tensor_type.shape.dim[2].ClearField("dim_param")
        variant = save_variant(model, model_dir, models, name + "_unnamed")
        ok, text = kv_steps_ok(edgecc, variant, os.path.join(work, "bundles", name + "_unnamed"), work)
        record(f"{name} with unnamed cache outputs", ok, text)

        # A mask dim that reads as a sum of unknown names cannot be placed: the one-line error
        # names it and the flag, and the flag places it.
        model = onnx.load(os.path.join(model_dir, "model.onnx"))
        past = model.graph.input[-1].type.tensor_type.shape.dim[2].dim_param
        new = model.graph.input[0].type.tensor_type.shape.dim[1].dim_param
        odd = past + " + new_tokens"
        mask = next(i for i in model.graph.input if i.name == "attention_mask")
        mask.type.tensor_type.shape.dim[1].dim_param = odd
        variant = save_variant(model, model_dir, models, name + "_odd")
        proc = subprocess.run([edgecc, "compile", os.path.join(variant, "model.onnx"), "-o",
                               os.path.join(work, "bundles", name + "_refused"), "--max-context", CONTEXT],
                              capture_output=True, text=True)
        lines = proc.stderr.strip().splitlines()
        ok = proc.returncode == 1 and len(lines) == 1 and f"'{odd}'" in lines[0] and "--dim" in lines[0]
        record(f"{name} unplaced dim refused", ok, lines[-1] if lines else f"exit {proc.returncode}, no message")
        ok, text = kv_steps_ok(edgecc, variant, os.path.join(work, "bundles", name + "_odd"), work,
                               ["--dim", f"{odd}={past}+{new}"])
        record(f"{name} placed by --dim '{odd}={past}+{new}'", ok, text)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
