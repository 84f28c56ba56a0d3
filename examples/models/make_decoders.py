#!/usr/bin/env python3
"""Generate tiny, deterministic decoder-only transformers as ONNX test models.

For every (model, opset) pair this writes

    OUT/<model>_op<opset>/model.onnx
    OUT/<model>_op<opset>/test_data_set_0/   prefill: --prefill-len tokens, empty past
    OUT/<model>_op<opset>/test_data_set_1/   one decode step fed with set 0's presents

in the ONNX backend-test layout (input_K.pb / output_K.pb, K in graph order).
Reference outputs come from running the PyTorch module itself.

Graph interface (batch is fixed at 1, S = new tokens, P = past length):
    inputs:  input_ids int64 [1, S], then past_k.i, past_v.i float32 [1, kv_heads, P, head_dim]
    outputs: logits float32 [1, S, vocab], then present_k.i, present_v.i [1, kv_heads, P+S, head_dim]

Usage:
    python3 make_decoders.py --out DIR [--models llama,gpt2] [--opsets 14,17] [--prefill-len 5]
"""

import argparse
import collections
import math
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 64
HIDDEN = 32
LAYERS = 2
HEAD_DIM = 8
SEED = 1234

# The compiler supports exactly these ONNX ops; anything else is a generator bug.
ALLOWED_OPS = {
    "Constant", "Unsqueeze", "Squeeze", "Mul", "Add", "Sub", "Div", "Pow", "Sqrt",
    "Neg", "Concat", "MatMul", "Gemm", "Shape", "Reshape", "Gather", "Cast",
    "Transpose", "Slice", "Split", "ReduceMean", "Where", "ConstantOfShape", "Equal",
    "LessOrEqual", "Expand", "Range", "Sigmoid", "Tanh", "Erf", "Softmax", "Cos",
    "Sin", "LayerNormalization",
}


def positions(past_len, seq_len):
    """Absolute positions of the new tokens: arange(P, P+S) (exports as Range)."""
    return torch.arange(past_len, past_len + seq_len)


def causal_bias(past_len, seq_len):
    """Additive mask [S, P+S]: 0 where key_pos <= query_pos, else float32 min.

    Built by comparison + where rather than triu/masked_fill so the export
    stays within LessOrEqual/Where (no Trilu, no Not).
    """
    q_pos = positions(past_len, seq_len)
    k_pos = torch.arange(0, past_len + seq_len)
    visible = k_pos.unsqueeze(0) <= q_pos.unsqueeze(1)
    zero = torch.tensor(0.0)
    neg = torch.tensor(torch.finfo(torch.float32).min)
    return torch.where(visible, zero, neg)


def attend(q, k, v, bias, head_dim=HEAD_DIM):
    """Scaled dot-product attention on [B, H, S, D] tensors with an additive mask."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + bias
    return F.softmax(scores, dim=-1) @ v


def split_heads(x, n_heads, head_dim=HEAD_DIM):
    b, s = x.shape[0], x.shape[1]
    return x.reshape(b, s, n_heads, head_dim).transpose(1, 2)


def merge_heads(x, n_heads, head_dim=HEAD_DIM):
    b, s = x.shape[0], x.shape[2]
    return x.transpose(1, 2).reshape(b, s, n_heads * head_dim)


# --------------------------------------------------------------------------- llama

class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x, head_dim=HEAD_DIM):
    """HF convention: (x1, x2) -> (-x2, x1) over the two halves of head_dim."""
    x1, x2 = x[..., : head_dim // 2], x[..., head_dim // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep, head_dim=HEAD_DIM):
    """[B, KV, T, D] -> [B, KV*n_rep, T, D], as in HF's repeat_kv."""
    b, kv, t = x.shape[0], x.shape[1], x.shape[2]
    x = x[:, :, None, :, :].expand(b, kv, n_rep, t, head_dim)
    return x.reshape(b, kv * n_rep, t, head_dim)


class LlamaLayer(nn.Module):
    # hidden/head_dim/eps/qkv_bias default to this file's tiny model; make_gguf.py
    # builds bigger (and Qwen2-style, Q/K/V-biased) variants of the same module.
    def __init__(self, n_heads, n_kv_heads, intermediate, hidden=HIDDEN, head_dim=HEAD_DIM,
                 eps=1e-6, qkv_bias=False):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = n_heads, n_kv_heads, head_dim
        self.input_norm = RMSNorm(hidden, eps)
        self.q_proj = nn.Linear(hidden, n_heads * head_dim, bias=qkv_bias)
        self.k_proj = nn.Linear(hidden, n_kv_heads * head_dim, bias=qkv_bias)
        self.v_proj = nn.Linear(hidden, n_kv_heads * head_dim, bias=qkv_bias)
        self.o_proj = nn.Linear(n_heads * head_dim, hidden, bias=False)
        self.post_norm = RMSNorm(hidden, eps)
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        hd = self.head_dim
        h = self.input_norm(x)
        q = split_heads(self.q_proj(h), self.n_heads, hd)
        k = split_heads(self.k_proj(h), self.n_kv_heads, hd)
        v = split_heads(self.v_proj(h), self.n_kv_heads, hd)
        q = q * cos + rotate_half(q, hd) * sin
        k = k * cos + rotate_half(k, hd) * sin
        # The cache stores post-RoPE keys with only the KV heads (the GQA saving).
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        n_rep = self.n_heads // self.n_kv_heads
        a = attend(q, repeat_kv(k, n_rep, hd), repeat_kv(v, n_rep, hd), bias, hd)
        x = x + self.o_proj(merge_heads(a, self.n_heads, hd))
        h = self.post_norm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, k, v


class LlamaDecoder(nn.Module):
    n_kv_heads = 2

    def __init__(self, n_heads=4, intermediate=64, rope_theta=10000.0, vocab=VOCAB,
                 hidden=HIDDEN, n_layers=LAYERS, head_dim=HEAD_DIM, n_kv_heads=2, eps=1e-6,
                 qkv_bias=False):
        super().__init__()
        self.n_kv_heads, self.n_layers, self.head_dim = n_kv_heads, n_layers, head_dim
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(
            LlamaLayer(n_heads, n_kv_heads, intermediate, hidden, head_dim, eps, qkv_bias)
            for _ in range(n_layers))
        self.norm = RMSNorm(hidden, eps)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        inv_freq = 1.0 / rope_theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, input_ids, *past):
        past_len, seq_len = past[0].shape[2], input_ids.shape[1]
        # cos/sin are computed in-graph from the positions so one graph serves any P.
        freqs = positions(past_len, seq_len).float()[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)  # [S, D], broadcasts over [B, H, S, D]
        cos, sin = emb.cos(), emb.sin()
        bias = causal_bias(past_len, seq_len)
        x = self.embed(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, cos, sin, bias, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(x)), *presents)


# ---------------------------------------------------------------------------- gpt2

class Gpt2Block(nn.Module):
    def __init__(self, n_heads, intermediate):
        super().__init__()
        self.n_heads = n_heads
        self.ln_1 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.c_attn = nn.Linear(HIDDEN, 3 * HIDDEN)  # fused q, k, v
        self.c_proj = nn.Linear(HIDDEN, HIDDEN)
        self.ln_2 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.fc_in = nn.Linear(HIDDEN, intermediate)
        self.fc_out = nn.Linear(intermediate, HIDDEN)

    def forward(self, x, bias, past_k, past_v):
        q, k, v = self.c_attn(self.ln_1(x)).split(HIDDEN, dim=-1)
        q, k, v = (split_heads(t, self.n_heads) for t in (q, k, v))
        k = torch.cat((past_k, k), dim=2)
        v = torch.cat((past_v, v), dim=2)
        x = x + self.c_proj(merge_heads(attend(q, k, v, bias), self.n_heads))
        x = x + self.fc_out(F.gelu(self.fc_in(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class Gpt2Decoder(nn.Module):
    n_kv_heads = 4
    max_positions = 64

    def __init__(self, n_heads=4, intermediate=128):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, HIDDEN)
        self.wpe = nn.Embedding(self.max_positions, HIDDEN)
        self.blocks = nn.ModuleList(Gpt2Block(n_heads, intermediate) for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(HIDDEN, eps=1e-5)

    def forward(self, input_ids, *past):
        past_len, seq_len = past[0].shape[2], input_ids.shape[1]
        x = self.wte(input_ids) + self.wpe(positions(past_len, seq_len))
        bias = causal_bias(past_len, seq_len)
        presents = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, bias, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        # Head tied to the token embedding.
        return (self.ln_f(x) @ self.wte.weight.t(), *presents)


MODELS = {"llama": LlamaDecoder, "gpt2": Gpt2Decoder}


# ------------------------------------------------------------------------- helpers

def build(name):
    """Construct a model and give it deterministic, non-degenerate weights."""
    torch.manual_seed(SEED)
    model = MODELS[name]()
    fill_weights(model, SEED + sum(map(ord, name)), lambda _, p: _is_norm_scale(model, p))
    return model.eval()


def fill_weights(model, seed, is_norm_scale):
    """Deterministic, non-degenerate weights; is_norm_scale(name, param) picks the norm scales."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in sorted(model.named_parameters()):
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() >= 2:      # projections / embeddings: big enough for distinct logits
                p.copy_(0.1 * noise)
            elif is_norm_scale(pname, p):
                p.copy_(1.0 + 0.1 * noise)
            else:                 # biases (incl. LayerNorm shift)
                p.copy_(0.02 * noise)


def _is_norm_scale(model, param):
    return any(isinstance(m, (RMSNorm, nn.LayerNorm)) and m.weight is param
               for m in model.modules())


def io_names(n_layers=LAYERS):
    past = [f"past_{kv}.{i}" for i in range(n_layers) for kv in ("k", "v")]
    present = [f"present_{kv}.{i}" for i in range(n_layers) for kv in ("k", "v")]
    return ["input_ids"] + past, ["logits"] + present


def empty_past(n_kv_heads, n_layers=LAYERS, head_dim=HEAD_DIM):
    return [torch.zeros(1, n_kv_heads, 0, head_dim) for _ in range(2 * n_layers)]


def export(model, path, opset):
    n_layers = getattr(model, "n_layers", LAYERS)
    head_dim = getattr(model, "head_dim", HEAD_DIM)
    in_names, out_names = io_names(n_layers)
    axes = {"input_ids": {1: "seq"}, "logits": {1: "seq"}}
    axes.update({n: {2: "past"} for n in in_names[1:]})
    axes.update({n: {2: "past_plus_seq"} for n in out_names[1:]})
    # Trace with S=2, P=3 so no dimension is 0 or 1 (avoids size specialisation).
    ids = torch.zeros(1, 2, dtype=torch.int64)
    args = (ids, *(torch.randn(1, model.n_kv_heads, 3, head_dim) for _ in range(2 * n_layers)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shape->int are expected
        torch.onnx.export(model, args, path, opset_version=opset, input_names=in_names,
                          output_names=out_names, dynamic_axes=axes,
                          do_constant_folding=True)
    onnx.checker.check_model(path, full_check=True)  # by path: a model over 2 GiB has external data
    return collections.Counter(n.op_type for n in onnx.load(path, load_external_data=False).graph.node)


def write_data_set(directory, inputs, outputs):
    in_names, out_names = io_names((len(inputs) - 1) // 2)
    os.makedirs(directory, exist_ok=True)
    for prefix, names, tensors in (("input", in_names, inputs), ("output", out_names, outputs)):
        for k, (name, t) in enumerate(zip(names, tensors)):
            proto = numpy_helper.from_array(np.ascontiguousarray(t.numpy()), name=name)
            with open(os.path.join(directory, f"{prefix}_{k}.pb"), "wb") as f:
                f.write(proto.SerializeToString())


def reference_data(model, name, prefill_len):
    """Prefill then one decode step, computed by the torch module itself."""
    gen = torch.Generator().manual_seed(SEED + 7 + sum(map(ord, name)))
    ids = torch.randint(0, VOCAB, (1, prefill_len + 1), generator=gen)
    with torch.no_grad():
        in0 = [ids[:, :prefill_len], *empty_past(model.n_kv_heads)]
        out0 = list(model(*in0))
        in1 = [ids[:, prefill_len:], *out0[1:]]
        out1 = list(model(*in1))
    return [(in0, out0), (in1, out1)]


def logit_margin(logits):
    """Smallest gap between the top-2 logits over all positions (argmax robustness)."""
    top2 = torch.topk(logits, 2, dim=-1).values
    return float((top2[..., 0] - top2[..., 1]).min())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default="llama,gpt2", help="comma list of: " + ",".join(MODELS))
    ap.add_argument("--opsets", default="14,17", help="comma list of ONNX opsets")
    ap.add_argument("--prefill-len", type=int, default=5)
    args = ap.parse_args()

    models = [m for m in args.models.split(",") if m]
    opsets = [int(o) for o in args.opsets.split(",") if o]
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}")
    if not 1 <= args.prefill_len < Gpt2Decoder.max_positions:
        ap.error(f"--prefill-len must be in [1, {Gpt2Decoder.max_positions - 1}]")

    torch.set_num_threads(1)  # bitwise-reproducible references, modest CPU use
    bad = False
    for name in models:
        model = build(name)
        data = reference_data(model, name, args.prefill_len)
        for opset in opsets:
            model_dir = os.path.join(args.out, f"{name}_op{opset}")
            os.makedirs(model_dir, exist_ok=True)
            hist = export(model, os.path.join(model_dir, "model.onnx"), opset)
            for k, (inputs, outputs) in enumerate(data):
                write_data_set(os.path.join(model_dir, f"test_data_set_{k}"), inputs, outputs)
            extra = sorted(set(hist) - ALLOWED_OPS)
            margin = min(logit_margin(out[0]) for _, out in data)
            print(f"{name}_op{opset}: {sum(hist.values())} nodes, min top-2 logit gap "
                  f"{margin:.4f}")
            print("  " + ", ".join(f"{op}={n}" for op, n in sorted(hist.items())))
            if extra:
                print(f"  ERROR: unsupported op types: {', '.join(extra)}", file=sys.stderr)
                bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
