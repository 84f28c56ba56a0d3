#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (corpus/<target>/) from the project's own generators:
a one-layer Llama exported by PyTorch (make_decoders.py's classes, shrunk), a few hand-made
ONNX graphs, `micro` GGUF files (make_gguf.py), and the weights.bin / tokenizer.bin of bundles
edgecc compiles from them. The seeds are committed; rerun this after a format changes.

usage: make_corpus.py --edgecc build/bin/edgecc
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "examples", "models")
sys.path.insert(0, MODELS)
import make_decoders  # noqa: E402


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def two_parts(first, second):
    """The layout fuzz_input_file.h's split_two reads: a 4-byte little-endian length, then both."""
    return struct.pack("<I", len(first)) + first + second


def tiny_model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def micro_llama_onnx(path):
    """make_decoders.py's Llama with every size shrunk, exported as make_decoders.py does: the
    real exporter's structure (RoPE from positions, causal mask, grouped-query attention,
    KV-cache inputs) in a few KB."""
    torch.manual_seed(0)
    model = make_decoders.LlamaDecoder(n_heads=2, intermediate=8, vocab=8, hidden=8, n_layers=1,
                                       head_dim=4, n_kv_heads=1).eval()
    make_decoders.export(model, path, 17)
    with open(path, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edgecc", required=True)
    args = ap.parse_args()
    # Regenerate the seeds; the regression-* files (crashes found and fixed) stay.
    for root, _, files in os.walk(os.path.join(HERE, "corpus")):
        for name in files:
            if not name.startswith("regression-"):
                os.remove(os.path.join(root, name))
    work = tempfile.mkdtemp(prefix="edgecc-corpus-")
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True)

    # ONNX models.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    matmul = tiny_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="proj")], [x], [y],
                        [numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(3, 4), "w")])
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 4])
    norm = tiny_model([
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "one"], ["n"], name="seq_len", axis=0),
        helper.make_node("Range", ["zero", "n", "one"], ["pos"], name="positions"),
        helper.make_node("Cast", ["pos"], ["posf"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["posf", "axes"], ["p"], name="unsq"),
        helper.make_node("Add", ["x", "p"], ["a"], name="add"),
        helper.make_node("LayerNormalization", ["a", "scale"], ["ln"], name="ln", axis=-1),
        helper.make_node("Softmax", ["ln"], ["y"], name="sm", axis=-1),
    ], [xs], [y], [numpy_helper.from_array(np.array(1, np.int64), "one"), numpy_helper.from_array(np.array(0, np.int64), "zero"),
                   numpy_helper.from_array(np.array([0, 2], np.int64), "axes"),
                   numpy_helper.from_array(np.ones(4, np.float32), "scale")])
    llama = micro_llama_onnx(os.path.join(work, "llama.onnx"))
    for name, data in (("matmul.onnx", matmul), ("symbolic_norm.onnx", norm), ("llama_micro.onnx", llama)):
        write("fuzz_onnx_import", name, data)

    # GGUF models, and the bundles' tokenizer.bin and weights.bin.
    for arch, wtype in (("llama", "q4_0"), ("llama", "q8_0"), ("qwen2", "q4_0")):
        path = os.path.join(work, f"{arch}-{wtype}.gguf")
        run(sys.executable, os.path.join(MODELS, "make_gguf.py"), "--preset", "micro", "--type", wtype,
            "--arch", arch, "-o", path)
        with open(path, "rb") as f:
            write("fuzz_gguf", f"micro-{arch}-{wtype}.gguf", f.read())
    bundle = os.path.join(work, "gguf_bundle")
    run(args.edgecc, "compile", os.path.join(work, "llama-q4_0.gguf"), "-o", bundle, "--max-context", "16")
    with open(os.path.join(bundle, "tokenizer.bin"), "rb") as f:
        vocab = f.read()
    for k, text in enumerate(["Hello world, it's 42!", "  spaces\tand\nnewlines ünïcödé 日本 🙂", "<s></s><unk>"]):
        write("fuzz_tokenizer", f"vocab_text_{k}", two_parts(vocab, text.encode()))
    onnx_path = os.path.join(work, "matmul.onnx")
    with open(onnx_path, "wb") as f:
        f.write(matmul)
    run(args.edgecc, "compile", onnx_path, "-o", os.path.join(work, "onnx_bundle"))
    for name, d in (("matmul", "onnx_bundle"), ("micro_llama_q4_0", "gguf_bundle")):
        with open(os.path.join(work, d, "weights.bin"), "rb") as f:
            data = f.read()
        write("fuzz_weights_file", f"{name}.weights.bin", data[:64 + 4096] if len(data) > 64 + 4096 else data)

    # TensorProto files as `edgecc run --inputs` reads them: raw data and typed fields.
    protos = {
        "f32_2x3_raw": numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "x"),
        "i64_typed": helper.make_tensor("ids", TensorProto.INT64, [4], [1, -2, 3, 2**40]),
        "f16_raw": numpy_helper.from_array(np.array([1.5, -2, 65504], np.float16), "h"),
        "bool_raw": numpy_helper.from_array(np.array([True, False]), "b"),
        "i32_scalar_typed": helper.make_tensor("s", TensorProto.INT32, [], [7]),
        "f32_typed_empty": helper.make_tensor("e", TensorProto.FLOAT, [0, 3], []),
    }
    for name, t in protos.items():
        write("fuzz_tensor_proto", name + ".pb", t.SerializeToString())
    x = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "x").SerializeToString()
    for name, shape in (("reshape_3x2", [3, 2]), ("reshape_infer", [-1, 2]), ("reshape_zero", [0, 3])):
        s = numpy_helper.from_array(np.array(shape, np.int64), "shape").SerializeToString()
        write("fuzz_run_inputs", name, two_parts(x, s))
    shutil.rmtree(work)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(HERE, "corpus")) for f in fs)
    print(f"corpus written: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
