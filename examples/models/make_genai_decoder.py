#!/usr/bin/env python3
"""The Hugging Face-style Llama of make_hf_decoders.py, as ONNX Runtime GenAI's model builder writes it.

Same weights (make_hf_decoders.build("llama_hf")), built with onnx.helper from the fused ops of
ONNX Runtime's com.microsoft domain that int4 exports use:

  - every projection is MatMulNBits with 4-bit weights, mixing the layouts exporters write:
    blocks of 32 without zero points (ONNX Runtime's default zero point 8), blocks of 64 and 128
    (wider than some rows: the tail is padding), and uint8 zero points (asymmetric blocks);
  - norms are SimplifiedLayerNormalization (first) and SkipSimplifiedLayerNormalization (the
    residual add fused; its fourth output carries the sum on);
  - layer 0 packs q, k and v in one MatMulNBits and lets GroupQueryAttention rotate them
    (do_rotary, cos/sin tables as initializers); layer 1 keeps them apart and rotates them with
    RotaryEmbedding nodes at the position_ids input;
  - GroupQueryAttention takes seqlens_k and total_sequence_length computed from the attention
    mask, as the builder's attn_mask_reformat subgraph does.

Inputs input_ids [batch_size, sequence_length], attention_mask [batch_size,
total_sequence_length], position_ids [batch_size, sequence_length],
past_key_values.N.key/value [batch_size, 1, past_sequence_length, 16]; outputs logits and
present.N.key/value [batch_size, 2, total_sequence_length, 8].

Writes OUT/model.onnx and OUT/prompt.json (prompt ids and one more token for a decode step).
The reference outputs come from ONNX Runtime (tests/e2e/ort_llm_steps.js).

Usage: /usr/bin/python3 make_genai_decoder.py --out DIR [--prefill-len 5]
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_hf_decoders as hf  # noqa: E402

MS = "com.microsoft"
HEADS, KV_HEADS, HEAD_DIM = 2, 1, 16
ACCURACY_LEVEL = 4  # the builder's default for CPU: ONNX Runtime rounds activations to int8 too


def quantize_nbits(w, block, zero_points):
    """W [N, K] -> MatMulNBits' B [N, blocks, block / 2], scales [N * blocks], zero points.

    Symmetric blocks: value = (code - 8) * scale with scale = amax / 7. Asymmetric blocks
    (zero_points): the block's range maps onto codes 0..15 and the zero point onto its 0.
    A row shorter than the blocks is padded with code 8 (ONNX Runtime ignores the tail).
    """
    n, k = w.shape
    blocks = -(-k // block)
    padded = np.zeros((n, blocks * block), np.float32)
    padded[:, :k] = w
    x = padded.reshape(n, blocks, block)
    if zero_points:
        lo, hi = np.minimum(x.min(-1), 0), np.maximum(x.max(-1), 0)
        scale = np.where(hi > lo, (hi - lo) / 15, 1.0).astype(np.float32)
        zp = np.clip(np.round(-lo / scale), 0, 15).astype(np.uint8)
    else:
        scale = np.abs(x).max(-1) / 7
        scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
        zp = np.full((n, blocks), 8, np.uint8)
    codes = np.clip(np.round(x / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    packed = (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)
    zp_packed = None
    if zero_points:
        zp_pad = np.full((n, blocks + blocks % 2), 0, np.uint8)
        zp_pad[:, :blocks] = zp
        zp_packed = (zp_pad[:, 0::2] | (zp_pad[:, 1::2] << 4)).reshape(-1).astype(np.uint8)
    return packed, scale.reshape(-1), zp_packed


class Builder:
    def __init__(self):
        self.nodes, self.inits = [], []

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name=name))
        return name

    def node(self, op, inputs, outputs, name, domain="", **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs[0]

    def skip_norm(self, x, residual, weight, name):
        """SkipSimplifiedLayerNormalization: (rms_norm(x + residual) * weight, x + residual)."""
        normed, total = name + "/out", name + "/sum"
        self.node("SkipSimplifiedLayerNormalization", [x, residual, weight], [normed, "", "", total], name, MS,
                  epsilon=1e-6)
        return normed, total

    def matmul_nbits(self, x, weight, name, block=32, zero_points=False):
        w = weight.detach().numpy().astype(np.float32)  # [N, K] as nn.Linear stores it
        n, k = w.shape
        packed, scales, zp = quantize_nbits(w, block, zero_points)
        inputs = [x, self.init(name + ".qweight", packed), self.init(name + ".scales", scales)]
        if zp is not None:
            inputs.append(self.init(name + ".qzeros", zp))
        return self.node("MatMulNBits", inputs, [name + "/out"], name, MS, K=k, N=n, bits=4, block_size=block,
                         accuracy_level=ACCURACY_LEVEL)


def build_graph(model):
    b = Builder()
    layers = model.layers
    rot = layers[0].self_attn.rotary_emb
    half = HEAD_DIM // 2
    cos = b.init("cos_cache", rot.cos_cached[:, :half].numpy().astype(np.float32))
    sin = b.init("sin_cache", rot.sin_cached[:, :half].numpy().astype(np.float32))
    x = b.node("Gather", [b.init("model.embed_tokens.weight", model.embed_tokens.weight.detach().numpy()), "input_ids"],
               ["/model/embed_tokens/out"], "/model/embed_tokens/Gather")
    # attn_mask_reformat: seqlens_k = sum(mask) - 1 and total_sequence_length, as int32.
    one = b.init("one_i64", np.array([1], np.int64))
    total = b.node("ReduceSum", ["attention_mask", one], ["/mask/sum"], "/mask/ReduceSum", keepdims=0)
    seqlens = b.node("Sub", [total, one], ["/mask/seqlens_i64"], "/mask/Sub")
    seqlens = b.node("Cast", [seqlens], ["seqlens_k"], "/mask/Cast", to=TensorProto.INT32)
    shape = b.node("Shape", ["attention_mask"], ["/mask/shape"], "/mask/Shape")
    total_len = b.node("Gather", [shape, b.init("one_scalar", np.array(1, np.int64))], ["/mask/total"], "/mask/Gather", axis=0)
    total_len = b.node("Cast", [total_len], ["total_seq_len"], "/mask/Cast_1", to=TensorProto.INT32)

    hidden, residual = x, None
    gqa = dict(num_heads=HEADS, kv_num_heads=KV_HEADS, scale=float(1 / np.sqrt(HEAD_DIM)))
    for i, layer in enumerate(layers):
        p = f"/model/layers.{i}"
        attn = layer.self_attn
        ln_w = b.init(f"model.layers.{i}.input_layernorm.weight", layer.input_layernorm.weight.detach().numpy())
        if residual is None:
            normed = b.node("SimplifiedLayerNormalization", [hidden, ln_w], [p + "/input_layernorm/out"],
                            p + "/input_layernorm/LayerNorm", axis=-1, epsilon=1e-6)
            residual = hidden
        else:
            normed, residual = b.skip_norm(hidden, residual, ln_w, p + "/input_layernorm/SkipLayerNorm")
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        present = [f"present.{i}.key", f"present.{i}.value"]
        if i == 0:
            qkv = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight], 0)
            packed = b.matmul_nbits(normed, qkv, p + "/attn/qkv_proj/MatMulNBits")
            out = b.node("GroupQueryAttention", [packed, "", "", past_k, past_v, seqlens, total_len, cos, sin],
                         [p + "/attn/out"] + present, p + "/attn/GroupQueryAttention", MS, do_rotary=1, **gqa)
        else:
            q = b.matmul_nbits(normed, attn.q_proj.weight, p + "/attn/q_proj/MatMulNBits", block=64)
            k = b.matmul_nbits(normed, attn.k_proj.weight, p + "/attn/k_proj/MatMulNBits", block=128)
            v = b.matmul_nbits(normed, attn.v_proj.weight, p + "/attn/v_proj/MatMulNBits", zero_points=True)
            q = b.node("RotaryEmbedding", [q, "position_ids", cos, sin], [p + "/attn/q_rotary/out"],
                       p + "/attn/q_rotary/RotaryEmbedding", MS, num_heads=HEADS)
            k = b.node("RotaryEmbedding", [k, "position_ids", cos, sin], [p + "/attn/k_rotary/out"],
                       p + "/attn/k_rotary/RotaryEmbedding", MS, num_heads=KV_HEADS)
            out = b.node("GroupQueryAttention", [q, k, v, past_k, past_v, seqlens, total_len],
                         [p + "/attn/out"] + present, p + "/attn/GroupQueryAttention", MS, **gqa)
        o = b.matmul_nbits(out, attn.o_proj.weight, p + "/attn/o_proj/MatMulNBits")
        post_w = b.init(f"model.layers.{i}.post_attention_layernorm.weight",
                        layer.post_attention_layernorm.weight.detach().numpy())
        normed, residual = b.skip_norm(o, residual, post_w, p + "/post_attention_layernorm/SkipLayerNorm")
        gate = b.matmul_nbits(normed, layer.gate_proj.weight, p + "/mlp/gate_proj/MatMulNBits", zero_points=i == 1)
        up = b.matmul_nbits(normed, layer.up_proj.weight, p + "/mlp/up_proj/MatMulNBits", block=128)
        sig = b.node("Sigmoid", [gate], [p + "/mlp/act/sigmoid"], p + "/mlp/act/Sigmoid")
        act = b.node("Mul", [gate, sig], [p + "/mlp/act/out"], p + "/mlp/act/Mul")
        prod = b.node("Mul", [act, up], [p + "/mlp/mul/out"], p + "/mlp/Mul")
        hidden = b.matmul_nbits(prod, layer.down_proj.weight, p + "/mlp/down_proj/MatMulNBits", block=64,
                                zero_points=i == 0)
    norm_w = b.init("model.norm.weight", model.norm.weight.detach().numpy())
    b.skip_norm(hidden, residual, norm_w, "/model/norm/SkipLayerNorm")
    b.matmul_nbits("/model/norm/SkipLayerNorm/out", model.lm_head.weight, "/lm_head/MatMulNBits")
    b.nodes.append(helper.make_node("Identity", ["/lm_head/MatMulNBits/out"], ["logits"], name="/lm_head/Identity"))
    return b


def make_model(model):
    b = build_graph(model)
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    kv = ["batch_size", KV_HEADS, "past_sequence_length", HEAD_DIM]
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", i64, ["batch_size", "total_sequence_length"]),
              helper.make_tensor_value_info("position_ids", i64, ["batch_size", "sequence_length"])]
    outputs = [helper.make_tensor_value_info("logits", f32, ["batch_size", "sequence_length", hf.VOCAB])]
    for i in range(hf.LAYERS):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", f32, kv))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", f32,
                                                         ["batch_size", KV_HEADS, "total_sequence_length", HEAD_DIM]))
    graph = helper.make_graph(b.nodes, "genai_llama", inputs, outputs, b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14), helper.make_opsetid(MS, 1)],
                             producer_name="make_genai_decoder")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--prefill-len", type=int, default=5)
    args = ap.parse_args()
    model = hf.build("llama_hf")
    os.makedirs(args.out, exist_ok=True)
    onnx_model = make_model(model)
    onnx.save(onnx_model, os.path.join(args.out, "model.onnx"))
    gen = torch.Generator().manual_seed(hf.SEED + 7)  # make_hf_decoders' prompt
    ids = torch.randint(0, hf.VOCAB, (1, args.prefill_len + 1), generator=gen)[0].tolist()
    with open(os.path.join(args.out, "prompt.json"), "w") as f:
        json.dump({"prompt_ids": ids[:-1], "decode_id": ids[-1]}, f)
    ops = sorted({n.op_type for n in onnx_model.graph.node})
    print(f"genai_llama: {len(onnx_model.graph.node)} nodes; {', '.join(ops)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
