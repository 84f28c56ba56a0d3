#!/usr/bin/env python3
"""Tiny decoders written the way Hugging Face's modeling code writes them, exported by PyTorch.

The project's own exports (make_decoders.py) take only token ids and past keys/values. Real
exports do not: Hugging Face Optimum's graphs also take an `attention_mask` over every position
(past and new) and `position_ids`, build the causal mask in the graph from shapes, index a
rotary table by the position ids, and name their dims and caches their own way. These modules
transcribe that code (transformers 4.3x: `_make_causal_mask`, `_expand_mask`, rotary tables
indexed by position ids, GPT-2's `bias` buffer sliced by key and query lengths, `Conv1D` as
addmm, `gelu_new`), so the compiler sees the same op patterns:

    llama_hf  Optimum naming: input_ids [batch_size, sequence_length], attention_mask
              [batch_size, total_sequence_length], position_ids [batch_size, sequence_length],
              past_key_values.N.key/value [batch_size, 1, past_sequence_length, 16];
              outputs logits, present.N.key/value
    gpt2_hf   positions from arange(past, past + seq) in the graph (no position_ids input),
              dims batch, seq, past_seq, total_seq; past.N.key/value -> present.N.key/value
    gpt2_hf_cumsum  the same, with positions counted from the mask: cumsum(mask) - 1

For each model this writes OUT/<model>/model.onnx and, in the ONNX backend-test layout,
test_data_set_0 (prefill of --prefill-len tokens, empty past) and test_data_set_1 (one decode
step on set 0's presents), with outputs from the PyTorch module itself, plus greedy.json: the
prompt ids and the PyTorch module's greedy continuation (--greedy-steps tokens).

Usage:
    /usr/bin/python3 make_hf_decoders.py --out DIR [--models llama_hf,gpt2_hf] [--prefill-len 5]
"""

import argparse
import collections
import json
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_decoders import fill_weights  # noqa: E402

VOCAB = 64
HIDDEN = 32
LAYERS = 2
SEED = 4321
MAX_POSITIONS = 128


# --------------------------------------------------------------------------- llama

def make_causal_mask(bsz, tgt_len, past_len, dtype=torch.float32):
    """transformers' _make_causal_mask: [bsz, 1, tgt, past + tgt], 0 or finfo.min."""
    mask = torch.full((tgt_len, tgt_len), torch.finfo(dtype).min)
    mask_cond = torch.arange(mask.size(-1))
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    mask = torch.cat([torch.zeros(tgt_len, past_len, dtype=dtype), mask], dim=-1)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len + past_len)


def expand_mask(mask, tgt_len, dtype=torch.float32):
    """transformers' _expand_mask: [bsz, src] of 1/0 -> additive [bsz, 1, tgt, src]."""
    bsz, src_len = mask.size()
    expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, dim, max_positions=MAX_POSITIONS, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        t = torch.arange(max_positions, dtype=inv_freq.dtype)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def forward(self, seq_len):
        return self.cos_cached[:seq_len], self.sin_cached[:seq_len]


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, position_ids):
    cos = cos[position_ids].unsqueeze(1)  # [bs, 1, seq, dim]
    sin = sin[position_ids].unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(hidden_states, n_rep):
    batch, kv_heads, slen, head_dim = hidden_states.shape
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, kv_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, kv_heads * n_rep, slen, head_dim)


class LlamaAttention(nn.Module):
    def __init__(self, hidden=HIDDEN, heads=2, kv_heads=1):  # head size 16, as ONNX Runtime's GQA needs
        super().__init__()
        self.num_heads, self.num_key_value_heads = heads, kv_heads
        self.head_dim = hidden // heads
        self.q_proj = nn.Linear(hidden, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, hidden, bias=False)
        self.rotary_emb = LlamaRotaryEmbedding(self.head_dim)

    def forward(self, hidden_states, attention_mask, position_ids, past_key, past_value):
        bsz, q_len, _ = hidden_states.size()
        q = self.q_proj(hidden_states).view(bsz, q_len, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(hidden_states).view(bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(hidden_states).view(bsz, q_len, self.num_key_value_heads, self.head_dim).transpose(1, 2)
        kv_seq_len = k.shape[-2] + past_key.shape[-2]
        cos, sin = self.rotary_emb(seq_len=kv_seq_len)
        q, k = apply_rotary_pos_emb(q, k, cos, sin, position_ids)
        k = torch.cat([past_key, k], dim=2)
        v = torch.cat([past_value, v], dim=2)
        present = (k, v)
        n_rep = self.num_heads // self.num_key_value_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
        attn_weights = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        attn_weights = attn_weights + attention_mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(attn_weights, v).transpose(1, 2).contiguous()
        out = out.reshape(bsz, q_len, self.num_heads * self.head_dim)
        return self.o_proj(out), present


class LlamaDecoderLayer(nn.Module):
    def __init__(self, hidden=HIDDEN, intermediate=64):
        super().__init__()
        self.self_attn = LlamaAttention(hidden)
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)
        self.input_layernorm = LlamaRMSNorm(hidden)
        self.post_attention_layernorm = LlamaRMSNorm(hidden)

    def forward(self, x, attention_mask, position_ids, past_key, past_value):
        h, present = self.self_attn(self.input_layernorm(x), attention_mask, position_ids, past_key, past_value)
        x = x + h
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h)), present


class LlamaForCausalLM(nn.Module):
    kv_heads, head_dim = 1, 16
    takes_position_ids = True
    names = ("past_key_values.{}.key", "past_key_values.{}.value", "present.{}.key", "present.{}.value")
    dims = {"batch": "batch_size", "seq": "sequence_length", "past": "past_sequence_length",
            "total": "total_sequence_length"}

    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList(LlamaDecoderLayer() for _ in range(LAYERS))
        self.norm = LlamaRMSNorm(HIDDEN)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        batch_size, seq_length = input_ids.shape
        past_length = past[0].shape[2]
        x = self.embed_tokens(input_ids)
        mask = make_causal_mask(batch_size, seq_length, past_length) + expand_mask(attention_mask, seq_length)
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, mask, position_ids, past[2 * i], past[2 * i + 1])
            presents += present
        return (self.lm_head(self.norm(x)), *presents)


# ---------------------------------------------------------------------------- gpt2

class Conv1D(nn.Module):
    """GPT-2's linear layer: weight [in, out], y = addmm(bias, x, weight)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, hidden=HIDDEN, heads=4):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones((MAX_POSITIONS, MAX_POSITIONS), dtype=torch.bool))
                             .view(1, 1, MAX_POSITIONS, MAX_POSITIONS), persistent=False)
        self.num_heads, self.head_dim, self.split_size = heads, hidden // heads, hidden
        self.c_attn = Conv1D(3 * hidden, hidden)
        self.c_proj = Conv1D(hidden, hidden)

    def _split_heads(self, tensor):
        new_shape = tensor.size()[:-1] + (self.num_heads, self.head_dim)
        return tensor.view(new_shape).permute(0, 2, 1, 3)

    def _merge_heads(self, tensor):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        return tensor.view(tensor.size()[:-2] + (self.num_heads * self.head_dim,))

    def _attn(self, query, key, value, attention_mask):
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=attn_weights.dtype)
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        mask_value = torch.full([], torch.finfo(attn_weights.dtype).min, dtype=attn_weights.dtype)
        attn_weights = torch.where(causal_mask, attn_weights, mask_value)
        attn_weights = attn_weights + attention_mask
        attn_weights = F.softmax(attn_weights, dim=-1)
        return torch.matmul(attn_weights, value)

    def forward(self, hidden_states, attention_mask, past_key, past_value):
        query, key, value = self.c_attn(hidden_states).split(self.split_size, dim=2)
        query, key, value = self._split_heads(query), self._split_heads(key), self._split_heads(value)
        key = torch.cat((past_key, key), dim=-2)
        value = torch.cat((past_value, value), dim=-2)
        out = self._merge_heads(self._attn(query, key, value, attention_mask))
        return self.c_proj(out), (key, value)


class GPT2Block(nn.Module):
    def __init__(self, hidden=HIDDEN, inner=128):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.attn = GPT2Attention(hidden)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.c_fc = Conv1D(inner, hidden)
        self.mlp_proj = Conv1D(hidden, inner)

    def forward(self, x, attention_mask, past_key, past_value):
        h, present = self.attn(self.ln_1(x), attention_mask, past_key, past_value)
        x = x + h
        return x + self.mlp_proj(gelu_new(self.c_fc(self.ln_2(x)))), present


class GPT2LMHeadModel(nn.Module):
    kv_heads, head_dim = 4, 8
    takes_position_ids = False
    names = ("past.{}.key", "past.{}.value", "present.{}.key", "present.{}.value")
    dims = {"batch": "batch", "seq": "seq", "past": "past_seq", "total": "total_seq"}

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, HIDDEN)
        self.wpe = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.h = nn.ModuleList(GPT2Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(HIDDEN, eps=1e-5)

    def forward(self, input_ids, attention_mask, *past):
        input_shape = input_ids.size()
        batch_size = input_ids.shape[0]
        past_length = past[0].size(-2)
        position_ids = self.positions(attention_mask, past_length, input_shape[-1])
        attention_mask = attention_mask.view(batch_size, -1)[:, None, None, :].to(torch.float32)
        attention_mask = (1.0 - attention_mask) * torch.finfo(torch.float32).min
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents = []
        for i, block in enumerate(self.h):
            x, present = block(x, attention_mask, past[2 * i], past[2 * i + 1])
            presents += present
        return (self.ln_f(x) @ self.wte.weight.t(), *presents)

    def positions(self, attention_mask, past_length, seq_length):
        return torch.arange(past_length, seq_length + past_length, dtype=torch.long).unsqueeze(0)


class GPT2MaskPositions(GPT2LMHeadModel):
    """Positions counted from the mask, as transformers' generation code counts them (and exports
    that fold it into the graph): cumsum(mask) - 1, 1 where masked, the new tokens' part."""

    def positions(self, attention_mask, past_length, seq_length):
        position_ids = attention_mask.long().cumsum(-1) - 1
        position_ids = position_ids.masked_fill(attention_mask == 0, 1)
        return position_ids[:, past_length:]


MODELS = {"llama_hf": LlamaForCausalLM, "gpt2_hf": GPT2LMHeadModel, "gpt2_hf_cumsum": GPT2MaskPositions}


# ------------------------------------------------------------------------- helpers

def build(name):
    """Construct a model with deterministic, non-degenerate weights (1-D `weight`s: norm scales)."""
    torch.manual_seed(SEED)
    model = MODELS[name]()
    fill_weights(model, SEED + sum(map(ord, name)), lambda pname, _: pname.endswith("weight"))
    return model.eval()


def io_names(model):
    pk, pv, ok, ov = model.names
    past = [n.format(i) for i in range(LAYERS) for n in (pk, pv)]
    present = [n.format(i) for i in range(LAYERS) for n in (ok, ov)]
    ins = ["input_ids", "attention_mask"] + (["position_ids"] if model.takes_position_ids else [])
    return ins + past, ["logits"] + present


def step_inputs(model, ids, past):
    """The inputs a generation loop gives one step: ids [1, S], a mask of ones, positions."""
    past_len = past[0].shape[2]
    seq = ids.shape[1]
    mask = torch.ones(1, past_len + seq, dtype=torch.int64)
    pos = [torch.arange(past_len, past_len + seq).unsqueeze(0)] if model.takes_position_ids else []
    return [ids, mask, *pos, *past]


def empty_past(model):
    return [torch.zeros(1, model.kv_heads, 0, model.head_dim) for _ in range(2 * LAYERS)]


def export(model, path):
    in_names, out_names = io_names(model)
    d = model.dims
    axes = {"input_ids": {0: d["batch"], 1: d["seq"]}, "attention_mask": {0: d["batch"], 1: d["total"]},
            "logits": {0: d["batch"], 1: d["seq"]}}
    if model.takes_position_ids:
        axes["position_ids"] = {0: d["batch"], 1: d["seq"]}
    n_in = len(in_names) - 2 * LAYERS
    axes.update({n: {0: d["batch"], 2: d["past"]} for n in in_names[n_in:]})
    axes.update({n: {0: d["batch"], 2: d["total"]} for n in out_names[1:]})
    # Traced with S=2, P=3 so that no dim is 0 or 1 (avoids size specialisation).
    past = [torch.randn(1, model.kv_heads, 3, model.head_dim) for _ in range(2 * LAYERS)]
    args = tuple(step_inputs(model, torch.zeros(1, 2, dtype=torch.int64), past))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, path, opset_version=14, input_names=in_names, output_names=out_names,
                          dynamic_axes=axes, do_constant_folding=True)
    onnx_model = onnx.load(path)
    onnx.checker.check_model(onnx_model, full_check=True)
    return collections.Counter(n.op_type for n in onnx_model.graph.node)


def write_data_set(directory, names, tensors):
    os.makedirs(directory, exist_ok=True)
    for prefix, ns, ts in (("input", names[0], tensors[0]), ("output", names[1], tensors[1])):
        for k, (name, t) in enumerate(zip(ns, ts)):
            proto = numpy_helper.from_array(np.ascontiguousarray(t.numpy()), name=name)
            with open(os.path.join(directory, f"{prefix}_{k}.pb"), "wb") as f:
                f.write(proto.SerializeToString())


def greedy(model, prompt, steps):
    """The module's own greedy continuation, one step at a time with its cache."""
    past, ids, out = empty_past(model), prompt, []
    with torch.no_grad():
        for _ in range(steps):
            res = model(*step_inputs(model, ids, past))
            ids = res[0][:, -1:].argmax(-1)
            out.append(int(ids))
            past = list(res[1:])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--prefill-len", type=int, default=5)
    ap.add_argument("--greedy-steps", type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name in args.models.split(","):
        if name not in MODELS:
            ap.error(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        model = build(name)
        model_dir = os.path.join(args.out, name)
        os.makedirs(model_dir, exist_ok=True)
        hist = export(model, os.path.join(model_dir, "model.onnx"))
        names = io_names(model)
        gen = torch.Generator().manual_seed(SEED + 7)
        ids = torch.randint(0, VOCAB, (1, args.prefill_len + 1), generator=gen)
        with torch.no_grad():
            in0 = step_inputs(model, ids[:, :args.prefill_len], empty_past(model))
            out0 = list(model(*in0))
            in1 = step_inputs(model, ids[:, args.prefill_len:], out0[1:])
            out1 = list(model(*in1))
        for k, (i, o) in enumerate(((in0, out0), (in1, out1))):
            write_data_set(os.path.join(model_dir, f"test_data_set_{k}"), names, (i, o))
        prompt = ids[:, :args.prefill_len]
        with open(os.path.join(model_dir, "greedy.json"), "w") as f:
            json.dump({"prompt_ids": prompt[0].tolist(), "ids": greedy(model, prompt, args.greedy_steps)}, f)
        print(f"{name}: {sum(hist.values())} nodes; " + ", ".join(f"{op}={n}" for op, n in sorted(hist.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
