#!/usr/bin/python3
"""The Python module: compile a PyTorch-exported decoder, check the summary, run the bundle on
numpy inputs and compare with the PyTorch reference outputs stored next to the model. Then an
LLM: compile a GGUF, generate from ids and from text, and compare the greedy tokens with an
independent numpy forward of the same file."""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

import edgecc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../examples/models"))
import make_gguf  # noqa: E402  (GGUF writer/reader and a numpy forward, for the LLM checks)


def load_dir(directory, prefix):
    out, k = [], 0
    while os.path.exists(os.path.join(directory, f"{prefix}_{k}.pb")):
        out.append(numpy_helper.to_array(onnx.load_tensor(os.path.join(directory, f"{prefix}_{k}.pb"))))
        k += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    models = os.path.join(args.work, "models")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "../../examples/models/make_decoders.py"), "--out", models,
                    "--models", "gpt2", "--opsets", "17"], check=True, capture_output=True)
    model_dir = os.path.join(models, "gpt2_op17")
    failures, passes = [], []

    def check(name, ok, detail=""):
        print(f"{'ok' if ok else 'FAIL'}: {name} {detail}")
        (passes if ok else failures).append(name)

    check("targets", "x86-64-avx2" in edgecc.targets())
    check("supported ops", {"MatMul", "LayerNormalization", "Softmax"} <= set(edgecc.supported_ops()))

    bundle_dir = os.path.join(args.work, "bundle")
    summary = edgecc.compile(os.path.join(model_dir, "model.onnx"), bundle_dir, target="x86-64-avx2",
                             dims={"seq": 5, "past": 0})
    check("summary fields", {"op_counts", "arena_bytes", "weight_bytes", "kernel_calls", "target"} <= set(summary), str(summary.keys()))
    ops = summary["op_counts"]
    check("fused layer norms", ops.get("graph.layer_norm") == 5, str(ops))
    check("fused attention", ops.get("graph.attention") == 2, str(ops))
    check("arena > 0", summary["arena_bytes"] > 0)
    check("weight bytes = file payload", summary["weight_bytes"] == os.path.getsize(os.path.join(bundle_dir, "weights.bin")) - 64)

    # One bundle with symbolic dims runs both the prefill and the decode step.
    sym_dir = os.path.join(args.work, "bundle_symbolic")
    sym = edgecc.compile(os.path.join(model_dir, "model.onnx"), sym_dir, max_dims={"seq": 8, "past": 8})
    check("symbolic compile", sym["op_counts"].get("graph.attention") == 2, str(sym["op_counts"]))
    for ds in ("test_data_set_0", "test_data_set_1"):
        ins = load_dir(os.path.join(model_dir, ds), "input")
        refs = load_dir(os.path.join(model_dir, ds), "output")
        outs = edgecc.Bundle(sym_dir).run(ins)
        errs = [float(np.abs(g - w).max()) if g.shape == w.shape else float("inf") for g, w in zip(outs, refs)]
        check(f"symbolic bundle on {ds}", len(outs) == len(refs) and max(errs) <= 1e-4 * max(float(np.abs(w).max()) for w in refs),
              f"(max abs err {max(errs):.3g})")

    # A Hugging Face-style export whose mask dim no structure places: refused naming the flag,
    # then placed by dim_sums.
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "../../examples/models/make_hf_decoders.py"), "--out", models,
                    "--models", "gpt2_hf", "--greedy-steps", "1"], check=True, capture_output=True)
    hf = onnx.load(os.path.join(models, "gpt2_hf", "model.onnx"))
    next(i for i in hf.graph.input if i.name == "attention_mask").type.tensor_type.shape.dim[1].dim_param = "past_seq + extra"
    hf_path = os.path.join(models, "gpt2_hf", "renamed_dims.onnx")
    onnx.save(hf, hf_path)
    try:
        edgecc.compile(hf_path, os.path.join(args.work, "hf_refused"), max_context=32)
        check("unplaced dim refused", False, "(compiled)")
    except RuntimeError as e:
        check("unplaced dim refused", "'past_seq + extra'" in str(e) and "--dim" in str(e), str(e))
    placed = edgecc.compile(hf_path, os.path.join(args.work, "hf_placed"), max_context=32,
                            dim_sums={"past_seq + extra": "past_seq+seq"})
    check("dim_sums places it", placed["op_counts"].get("graph.attention") == 2, str(placed["op_counts"]))

    inputs = load_dir(os.path.join(model_dir, "test_data_set_0"), "input")
    want = load_dir(os.path.join(model_dir, "test_data_set_0"), "output")
    got = edgecc.Bundle(bundle_dir).run(inputs)
    check("output count", len(got) == len(want))
    for k, (g, w) in enumerate(zip(got, want)):
        err, bound = float(np.abs(g - w).max()), 1e-4 * float(np.abs(w).max()) + 1e-5
        check(f"output {k} matches PyTorch", g.shape == w.shape and err <= bound, f"(max abs err {err:.3g}, bound {bound:.3g})")

    try:
        edgecc.compile(os.path.join(args.work, "missing.onnx"), os.path.join(args.work, "x"))
        check("compile error raises", False)
    except RuntimeError as e:
        check("compile error raises", "missing.onnx" in str(e), str(e))
    try:
        edgecc.Bundle(bundle_dir).run([np.zeros((1, 7), np.int64)] + inputs[1:])
        check("wrong input shape raises", False)
    except RuntimeError as e:
        check("wrong input shape raises", "input_ids" in str(e), str(e))

    # An LLM from GGUF: compile, generate, compare with a numpy forward of the same weights.
    gguf = os.path.join(args.work, "tiny.gguf")
    subprocess.run(["/usr/bin/python3", make_gguf.__file__, "--preset", "tiny", "--type", "f32", "-o", gguf],
                   check=True, capture_output=True)
    llm_dir = os.path.join(args.work, "llm")
    llm = edgecc.compile(gguf, llm_dir, max_context=32)
    with open(os.path.join(llm_dir, "report.json")) as f:
        report_memory = json.load(f)["memory"]
    memory = llm.get("memory", {})
    check("memory plan dict = report.json's", memory == report_memory and
          sum(i["bytes"] for i in memory["items"]) == memory["total_bytes"] > 0, str(memory)[:200])
    try:
        edgecc.compile(gguf, os.path.join(args.work, "llm_small"), max_context=32, ram_budget="1MiB")
        check("ram_budget refuses a plan over it", False, "no error")
    except RuntimeError as e:
        check("ram_budget refuses a plan over it", "over the 1.0 MiB RAM budget" in str(e), str(e).splitlines()[0])
    # kv_type: the plan's KV cache halves at f16 (same positions, 2 bytes a value instead of 4).
    half = edgecc.compile(gguf, os.path.join(args.work, "llm_f16kv"), max_context=32, kv_type="f16")["memory"]
    kv_bytes = {m["kv_type"]: next(i["bytes"] for i in m["items"] if i["name"] == "KV cache") for m in (memory, half)}
    check("kv_type", kv_bytes.get("f16", 0) * 2 == kv_bytes.get("f32", -1), str(kv_bytes))
    try:
        edgecc.compile(gguf, os.path.join(args.work, "llm_bad_kv"), kv_type="q4")
        check("unknown kv_type raises", False, "no error")
    except ValueError as e:
        check("unknown kv_type raises", "kv_type" in str(e), str(e))
    check("gguf compile", llm["op_counts"].get("graph.linear", 0) > 0 and os.path.exists(os.path.join(llm_dir, "tokenizer.bin")),
          str(llm["op_counts"]))
    g = make_gguf.GgufFile(gguf)
    cfg = make_gguf.config_from_gguf(g)
    prompt = [1, 20, 30, 40, 299]
    want = make_gguf.greedy(make_gguf.load_weights(g), cfg, prompt, 8, dtype=np.float64)
    got = edgecc.Bundle(llm_dir).generate(prompt, n=8, ignore_eos=True)
    check("greedy tokens match a numpy forward", got["ids"] == want, f"{got['ids']} vs {want}")
    check("generate result fields", {"prompt_ids", "ids", "text", "prefill_tok_s", "decode_tok_s", "load_ms",
                                     "peak_rss_bytes"} <= set(got) and got["prompt_ids"] == prompt, str(got.keys()))
    text = edgecc.Bundle(llm_dir).generate("the world", n=4, ignore_eos=True)
    check("text prompt", len(text["prompt_ids"]) >= 2 and text["prompt_ids"][0] == 1 and isinstance(text["text"], str),
          str(text["prompt_ids"]))
    a = edgecc.Bundle(llm_dir).generate(prompt, n=8, temperature=1.0, seed=7, ignore_eos=True)
    b = edgecc.Bundle(llm_dir).generate(prompt, n=8, temperature=1.0, seed=7, ignore_eos=True)
    check("seeded sampling repeats", a["ids"] == b["ids"], f"{a['ids']} vs {b['ids']}")
    try:
        edgecc.Bundle(llm_dir).generate(list(range(40)), n=2)
        check("context overflow raises", False)
    except RuntimeError as e:
        check("context overflow raises", "context is full" in str(e), str(e))

    # Error-feedback rounding from Python: uncorrelated inputs give the plain bytes; correlated
    # ones a smaller output error, measured with edgecc's dequantizer against numpy's sums.
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.05, (16, 256)).astype(np.float32)
    diag = np.diag(rng.uniform(0.5, 2.0, 256)).astype(np.float32)
    check("quantize_rows: diagonal moments give the plain bytes",
          edgecc.quantize_rows(w, "q3_k", moments=diag) == edgecc.quantize_rows(w, "q3_k"))
    x = rng.normal(size=(1024, 8)) @ rng.normal(size=(8, 256)) + 0.3 * rng.normal(size=(1024, 256))
    h = x.T @ x
    def output_error(data):
        e = w.astype(np.float64) - edgecc.dequantize_rows(data, "q3_k", 256)
        return float(np.einsum("ri,ij,rj->", e, h, e))
    plain, fed = output_error(edgecc.quantize_rows(w, "q3_k")), output_error(edgecc.quantize_rows(w, "q3_k", moments=h))
    check("quantize_rows: error feedback lowers the output error", fed < 0.7 * plain, f"({fed:.4g} vs {plain:.4g})")

    print(f"{len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
