#!/usr/bin/env python3
"""Generate deterministic Llama-architecture GGUF models (and the same function as ONNX).

The weights are random (numpy default_rng, seeded per tensor), scaled so that
activations stay sane through many layers and greedy decoding does not collapse.
The file layout, tensor names and metadata follow llama.cpp's `llama` (or `qwen2`)
architecture, so llama.cpp itself can load the result.

    make_gguf.py --preset micro|tiny|135m|1.1b --type f32|f16|q8_0|q4_0 -o OUT.gguf
        [--seed N] [--vocab ggml-vocab-*.gguf] [--tied|--no-tied] [--arch llama|qwen2]
        [--onnx OUT.onnx [--onnx-test-data]] [--layers N] [--context N] [--check]

Conventions (the traps):
  * ggml dims: ne[0] is innermost. A torch Linear weight [out, in] is stored
    row-major with ne = [in, out]; blocks of Q8_0/Q4_0 run along ne[0] (= in).
  * RoPE: llama.cpp's `llama` arch rotates ADJACENT pairs, HF models rotate halves.
    The weights are generated HF-style; the GGUF stores Q/K rows permuted the way
    convert_hf_to_gguf.py does, the ONNX uses the unpermuted rows + rotate-halves.
    `qwen2` uses NEOX (rotate-halves) RoPE in llama.cpp, so nothing is permuted,
    and Q/K/V carry (always F32) biases.
  * 1-D tensors (norms, biases) are always F32; every 2-D weight (token_embd and
    output included) gets the chosen type, as llama-quantize does by default.
  * Quantization reproduces ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref
    bit for bit (float32 arithmetic, roundf = half away from zero, RNE fp16 scale).
  * --onnx builds its weights by reading the GGUF just written back and
    dequantizing it, so the ONNX and the GGUF compute the same function.

Only numpy is needed to write GGUF files; torch + onnx only for --onnx.
"""

import argparse
import itertools
import math
import os
import struct
import sys
import time
import zlib

import numpy as np

# ----------------------------------------------------------------------- presets

PRESETS = {
    # ~0.6 MB as f32; every dim a multiple of 32 so all types apply.
    "tiny": dict(n_layers=2, dim=64, n_heads=4, n_kv_heads=2, ff=160, vocab=512,
                 context=256, rope_theta=10000.0, eps=1e-5, tied=False),
    # ~25 KB as q4_0: the fuzzers' seeds (tests/fuzz/make_corpus.py).
    "micro": dict(n_layers=1, dim=32, n_heads=2, n_kv_heads=1, ff=64, vocab=416,
                  context=64, rope_theta=10000.0, eps=1e-5, tied=True),
    # SmolLM-135M shapes.
    "135m": dict(n_layers=30, dim=576, n_heads=9, n_kv_heads=3, ff=1536, vocab=49152,
                 context=2048, rope_theta=10000.0, eps=1e-5, tied=True),
    # TinyLlama-1.1B shapes.
    "1.1b": dict(n_layers=22, dim=2048, n_heads=32, n_kv_heads=4, ff=5632, vocab=32000,
                 context=2048, rope_theta=10000.0, eps=1e-5, tied=False),
}

# ------------------------------------------------------------------ GGUF constants

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32

# gguf_type (metadata value types)
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, \
    T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
               T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
               T_FLOAT64: "<d"}
_SCALAR_DTYPE = {t: np.dtype(f) for t, f in _SCALAR_FMT.items()}

# ggml_type (tensor types)
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0 = 0, 1, 2, 8
TYPE_BY_NAME = {"f32": GGML_F32, "f16": GGML_F16, "q4_0": GGML_Q4_0, "q8_0": GGML_Q8_0}
NAME_BY_TYPE = {v: k for k, v in TYPE_BY_NAME.items()}
# llama_ftype written to general.file_type
FILE_TYPE = {GGML_F32: 0, GGML_F16: 1, GGML_Q4_0: 2, GGML_Q8_0: 7}
# (block size in elements, bytes per block)
BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q4_0: (32, 18), GGML_Q8_0: (32, 34),
         # the k-quants (read only: files from llama-quantize) q2_k .. q6_k
         10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210)}
QK = 32

# llama.cpp token types (llama_token_type)
TOK_NORMAL, TOK_UNKNOWN, TOK_CONTROL, TOK_BYTE = 1, 2, 3, 6


def tensor_nbytes(ne, ggml_type):
    blk, size = BLOCK[ggml_type]
    n = int(np.prod(ne, dtype=np.int64))
    if ne[0] % blk:
        raise ValueError(f"ne[0]={ne[0]} is not a multiple of the block size {blk}")
    return n // blk * size


def _align(n, a=ALIGNMENT):
    return (n + a - 1) // a * a


# ----------------------------------------------------------------- quantization

def quantize_q8_0(x):
    """ggml quantize_row_q8_0_ref on float32 rows [R, K] -> uint8 [R, K/32*34]."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows = x.shape[0]
    b = x.reshape(-1, QK)
    amax = np.abs(b).max(axis=1)
    d = amax / np.float32(127)                        # float32 division, as in C
    inv = np.zeros_like(d)
    np.divide(np.float32(1), d, out=inv, where=d != 0)
    x0 = b * inv[:, None]                             # float32 product
    # roundf: half away from zero. |x0| <= 127 so the float64 sum below is exact.
    a = np.floor(np.abs(x0).astype(np.float64) + 0.5)
    q = np.copysign(a, x0).astype(np.int8)
    out = np.empty((b.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)   # RNE like ggml
    out[:, 2:] = q.view(np.uint8)
    return out.reshape(rows, -1)


def quantize_q4_0(x):
    """ggml quantize_row_q4_0_ref on float32 rows [R, K] -> uint8 [R, K/32*18]."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows = x.shape[0]
    b = x.reshape(-1, QK)
    # the signed value of largest magnitude; the first one on ties (C uses `<`)
    idx = np.abs(b).argmax(axis=1)
    mx = b[np.arange(b.shape[0]), idx]
    d = mx / np.float32(-8)
    inv = np.zeros_like(d)
    np.divide(np.float32(1), d, out=inv, where=d != 0)
    v = b * inv[:, None] + np.float32(8.5)            # two float32 roundings, as in C
    q = np.minimum(np.trunc(v), 15).astype(np.uint8)  # (int8_t) truncates; v >= 0 here
    out = np.empty((b.shape[0], 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.reshape(rows, -1)


def encode(x, ggml_type):
    """float32 rows [R, K] -> the tensor's bytes for ggml_type (as uint8 array)."""
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(x, dtype="<f4").view(np.uint8)
    if ggml_type == GGML_F16:
        return np.ascontiguousarray(x.astype("<f2")).view(np.uint8)
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(x)
    if ggml_type == GGML_Q4_0:
        return quantize_q4_0(x)
    raise ValueError(ggml_type)


def dequantize(raw, ggml_type, ne):
    """Raw tensor bytes -> float32 array of numpy shape reversed(ne)."""
    shape = tuple(reversed([int(n) for n in ne]))
    raw = np.asarray(raw, dtype=np.uint8).reshape(-1)
    if ggml_type == GGML_F32:
        return raw.view("<f4").reshape(shape).copy()
    if ggml_type == GGML_F16:
        return raw.view("<f2").astype(np.float32).reshape(shape)
    if ggml_type == GGML_Q8_0:
        blocks = raw.reshape(-1, 34)
        d = blocks[:, :2].copy().view("<f2").astype(np.float32)
        return (blocks[:, 2:].view(np.int8).astype(np.float32) * d).reshape(shape)
    if ggml_type == GGML_Q4_0:
        blocks = raw.reshape(-1, 18)
        d = blocks[:, :2].copy().view("<f2").astype(np.float32)
        qs = blocks[:, 2:]
        q = np.concatenate((qs & 0x0F, qs >> 4), axis=1).astype(np.int8) - np.int8(8)
        return (q.astype(np.float32) * d).reshape(shape)
    raise ValueError(f"unsupported ggml type {ggml_type}")


# ---------------------------------------------------------------- GGUF writing

def _pack_string(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype, value):
    """value for T_ARRAY is (elem_type, sequence)."""
    if vtype == T_STRING:
        return _pack_string(value)
    if vtype == T_ARRAY:
        etype, items = value
        head = struct.pack("<IQ", etype, len(items))
        if etype == T_STRING:
            return head + b"".join(_pack_string(s) for s in items)
        if etype == T_ARRAY:
            return head + b"".join(_pack_value(T_ARRAY, it) for it in items)
        return head + np.asarray(items, dtype=_SCALAR_DTYPE[etype]).tobytes()
    return struct.pack(_SCALAR_FMT[vtype], value)


def gguf_header(kvs, tensors):
    """kvs: [(key, vtype, value)], tensors: [(name, ne, ggml_type)] -> (header bytes
    padded to the alignment, [data offsets], total padded data size)."""
    out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(kvs))]
    for key, vtype, value in kvs:
        out += [_pack_string(key), struct.pack("<I", vtype), _pack_value(vtype, value)]
    offsets, off = [], 0
    for name, ne, gtype in tensors:
        offsets.append(off)
        out += [_pack_string(name), struct.pack("<I", len(ne)),
                struct.pack(f"<{len(ne)}Q", *ne), struct.pack("<IQ", gtype, off)]
        off = _align(off + tensor_nbytes(ne, gtype))
    head = b"".join(out)
    return head + b"\0" * (_align(len(head)) - len(head)), offsets, off


def write_gguf(path, kvs, tensors, produce, progress=None):
    """Stream a GGUF file: produce(index) yields uint8 chunks of tensor `index`.

    Written to PATH.tmp and renamed at the end, so a failed run leaves nothing."""
    header, offsets, data_size = gguf_header(kvs, tensors)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for i, (name, ne, gtype) in enumerate(tensors):
            t0, n = time.time(), 0
            for chunk in produce(i):
                f.write(np.ascontiguousarray(chunk).data)
                n += chunk.nbytes
            want = tensor_nbytes(ne, gtype)
            if n != want:
                raise AssertionError(f"{name}: wrote {n} bytes, expected {want}")
            f.write(b"\0" * (_align(n) - n))
            if progress:
                progress(i, name, ne, gtype, n, time.time() - t0)
        assert f.tell() == len(header) + data_size
    os.replace(tmp, path)


# ---------------------------------------------------------------- GGUF reading

class GgufFile:
    """Minimal GGUF v2/v3 reader: .kv {key: (vtype, value)} in file order,
    .tensors {name: (ne, ggml_type, absolute offset)}, .tensor(name) -> float32."""

    def __init__(self, path):
        self.path = path
        self.mm = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(self.mm)
        if bytes(buf[:4]) != GGUF_MAGIC:
            raise ValueError(f"{path}: not a GGUF file")
        self.version, n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
        if self.version not in (2, 3):
            raise ValueError(f"{path}: unsupported GGUF version {self.version}")
        self.pos = 24
        self.kv = {}
        for _ in range(n_kv):
            key = self._string(buf)
            (vtype,) = self._unpack(buf, "<I")
            self.kv[key] = (vtype, self._value(buf, vtype))
        alignment = self.kv.get("general.alignment", (T_UINT32, ALIGNMENT))[1]
        infos = []
        for _ in range(n_tensors):
            name = self._string(buf)
            (n_dims,) = self._unpack(buf, "<I")
            ne = list(self._unpack(buf, f"<{n_dims}Q"))
            gtype, off = self._unpack(buf, "<IQ")
            infos.append((name, ne, gtype, off))
        data_start = _align(self.pos, alignment)
        self.tensors = {n: (ne, t, data_start + off) for n, ne, t, off in infos}
        del buf

    def _unpack(self, buf, fmt):
        vals = struct.unpack_from(fmt, buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _string(self, buf):
        (n,) = self._unpack(buf, "<Q")
        s = bytes(buf[self.pos:self.pos + n]).decode("utf-8")
        self.pos += n
        return s

    def _value(self, buf, vtype):
        if vtype == T_STRING:
            return self._string(buf)
        if vtype == T_ARRAY:
            etype, n = self._unpack(buf, "<IQ")
            if etype in _SCALAR_DTYPE:
                dt = _SCALAR_DTYPE[etype]
                arr = np.frombuffer(buf, dtype=dt, count=n, offset=self.pos).copy()
                self.pos += n * dt.itemsize
                return (etype, arr)
            return (etype, [self._value(buf, etype) for _ in range(n)])
        (v,) = self._unpack(buf, _SCALAR_FMT[vtype])
        return v

    def get(self, key, default=None):
        return self.kv[key][1] if key in self.kv else default

    def raw(self, name):
        ne, gtype, off = self.tensors[name]
        return self.mm[off:off + tensor_nbytes(ne, gtype)]

    def tensor(self, name):
        ne, gtype, _ = self.tensors[name]
        return dequantize(self.raw(name), gtype, ne)


# --------------------------------------------------------------- tokenizer vocab

_WORDS = """the of and to in a is that for it as was with be by on not he I this are or
his from at which but have an they you were her she there one all we their been has
when who will more no if out so said what up its about into than them can only other
new some could time these two may then do first any my now such like our over man me
even most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very make
world still own see men work long get here between both life being under never day
same another know while last might us great old year off come since against go came
right used take three small large number house under water place again found""".split()


def synthetic_vocab(n_tokens):
    """SentencePiece-style vocab: <unk> <s> </s>, the 256 byte tokens, then pieces."""
    if n_tokens < 259 + 128:
        raise ValueError("a synthetic vocab needs at least 387 tokens")
    sp = "\u2581"  # '▁', SentencePiece's word-boundary marker
    lower = "abcdefghijklmnopqrstuvwxyz"
    chars = list(lower) + list(lower.upper()) + list("0123456789") + list(".,!?'\"-:;()")

    def pieces():
        yield sp
        yield from chars
        for c in lower + lower.upper():
            yield sp + c
        for w in _WORDS:  # every prefix too, so SPM merges can reach the whole word
            for k in range(2, len(w) + 1):
                yield sp + w[:k]
            yield w
        for n in itertools.count(2):
            for t in itertools.product(lower, repeat=n):
                yield "".join(t)
                yield sp + "".join(t)

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TOK_UNKNOWN, TOK_CONTROL, TOK_CONTROL] + [TOK_BYTE] * 256
    seen = set(tokens)
    gen = pieces()
    while len(tokens) < n_tokens:
        p = next(gen)
        if p not in seen:
            seen.add(p)
            tokens.append(p)
            types.append(TOK_NORMAL)
    # scores: specials/bytes 0, pieces decreasing with id (earlier = merged first)
    scores = np.zeros(n_tokens, dtype=np.float32)
    scores[259:] = -np.arange(n_tokens - 259, dtype=np.float32)
    return [
        ("tokenizer.ggml.model", T_STRING, "llama"),
        ("tokenizer.ggml.pre", T_STRING, "default"),
        ("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, tokens)),
        ("tokenizer.ggml.scores", T_ARRAY, (T_FLOAT32, scores)),
        ("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, np.array(types, dtype=np.int32))),
        ("tokenizer.ggml.bos_token_id", T_UINT32, 1),
        ("tokenizer.ggml.eos_token_id", T_UINT32, 2),
        ("tokenizer.ggml.unknown_token_id", T_UINT32, 0),
        ("tokenizer.ggml.add_bos_token", T_BOOL, True),
        ("tokenizer.ggml.add_eos_token", T_BOOL, False),
    ]


def vocab_from_file(path):
    """All tokenizer.* keys of a GGUF (e.g. llama.cpp's models/ggml-vocab-*.gguf)."""
    g = GgufFile(path)
    kvs = [(k, t, v) for k, (t, v) in g.kv.items() if k.startswith("tokenizer.")]
    tok = g.kv.get("tokenizer.ggml.tokens")
    if tok is None or tok[0] != T_ARRAY or tok[1][0] != T_STRING:
        raise ValueError(f"{path}: no tokenizer.ggml.tokens string array")
    return kvs, len(tok[1][1])


# ------------------------------------------------------------------ model layout

def permute_qk(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute: HF rotate-halves rows -> adjacent pairs."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def unpermute_qk(w, n_head):
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


# Weight scales. Linear weights ~ N(0, 1/fan_in) keep every projection of a
# normalized input at unit RMS; the residual stream grows ~sqrt(layers) and the
# RMSNorms absorb it. Norm weights ~ 1 + N(0, 0.05^2), biases ~ N(0, 0.05^2).
# Measured with 32-step greedy decoding and by rounding the weights to f16:
#  * attn_output x0.5: with it at 1 the deep presets suffer attention rank collapse
#    (135m: 8 distinct tokens of 32); sharper attention (Q/K x2) fixes that too but
#    makes the model chaotic (f16 rounding moved 1.1b's logits by 1% and flipped 6%
#    of the argmaxes; now ~0.3% and none).
#  * token_embd x0.25 (of 1/sqrt(dim)): a small embedding keeps the final hidden
#    state from pointing at the current token's own row, which with a tied head
#    made greedy decoding repeat one token forever (tiny --tied, half the seeds).
# Result: ~30-32 distinct greedy tokens of 32 at 135m/1.1b, 13-30 at tiny.
EMBD_GAIN = 0.25
QK_GAIN = 1.0
O_GAIN = 0.5


def tensor_plan(cfg, wtype):
    """[(name, ne, ggml_type, init)] in file order; init = (kind, std, permute_heads)."""
    d, hd, ff, V = cfg["dim"], cfg["head_dim"], cfg["ff"], cfg["vocab"]
    nq, nkv = cfg["n_heads"] * hd, cfg["n_kv_heads"] * hd
    llama = cfg["arch"] == "llama"
    norm = ("norm", 0.05, None)

    def lin(n_in, n_out, perm=None, gain=1.0):
        return [n_in, n_out], wtype, ("normal", gain / math.sqrt(n_in), perm)

    bias = ("normal", 0.05, None)
    plan = [("token_embd.weight", [d, V], wtype, ("normal", EMBD_GAIN / math.sqrt(d), None))]
    for i in range(cfg["n_layers"]):
        p = f"blk.{i}."
        plan.append((p + "attn_norm.weight", [d], GGML_F32, norm))
        for t, n_out, heads in (("q", nq, cfg["n_heads"]), ("k", nkv, cfg["n_kv_heads"]),
                                ("v", nkv, None)):
            perm = heads if llama else None      # only Q and K are permuted, only for llama
            gain = QK_GAIN if heads else 1.0
            plan.append((p + f"attn_{t}.weight", *lin(d, n_out, perm, gain)))
            if not llama:
                plan.append((p + f"attn_{t}.bias", [n_out], GGML_F32, bias))
        plan.append((p + "attn_output.weight", *lin(nq, d, gain=O_GAIN)))
        plan.append((p + "ffn_norm.weight", [d], GGML_F32, norm))
        plan.append((p + "ffn_gate.weight", *lin(d, ff)))
        plan.append((p + "ffn_up.weight", *lin(d, ff)))
        plan.append((p + "ffn_down.weight", *lin(ff, d)))
    plan.append(("output_norm.weight", [d], GGML_F32, norm))
    if not cfg["tied"]:
        plan.append(("output.weight", [d, V], wtype, ("normal", 1.0 / math.sqrt(d), None)))
    return plan


CHUNK_ELEMS = 1 << 21  # float32 generation/quantization chunk (~8 MB)


def produce_tensor(name, ne, gtype, init, seed):
    """Yield the tensor's encoded bytes chunk by chunk.

    Every tensor has its own generator, default_rng([seed, crc32(name)]), so a
    tensor's values do not depend on the others (--layers N gives exactly the first
    N blocks of the full model) and chunking never changes the stream."""
    kind, std, perm = init
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    row = ne[0]
    rows = int(np.prod(ne[1:], dtype=np.int64)) if len(ne) > 1 else 1
    if perm is not None:  # Q/K: needs the whole tensor (at most dim x dim)
        step = rows
    else:
        step = max(1, CHUNK_ELEMS // row)
    for r0 in range(0, rows, step):
        n = min(step, rows - r0)
        x = rng.standard_normal((n, row), dtype=np.float32)
        x *= np.float32(std)
        if kind == "norm":
            x += np.float32(1.0)
        if perm is not None:
            x = permute_qk(x, perm)
        yield encode(x, gtype).reshape(-1)


def metadata(cfg, wtype, name):
    a = cfg["arch"]
    return [
        ("general.architecture", T_STRING, a),
        ("general.name", T_STRING, name),
        ("general.alignment", T_UINT32, ALIGNMENT),
        ("general.file_type", T_UINT32, FILE_TYPE[wtype]),
        ("general.quantization_version", T_UINT32, 2),
        (f"{a}.context_length", T_UINT32, cfg["context"]),
        (f"{a}.embedding_length", T_UINT32, cfg["dim"]),
        (f"{a}.block_count", T_UINT32, cfg["n_layers"]),
        (f"{a}.feed_forward_length", T_UINT32, cfg["ff"]),
        (f"{a}.attention.head_count", T_UINT32, cfg["n_heads"]),
        (f"{a}.attention.head_count_kv", T_UINT32, cfg["n_kv_heads"]),
        (f"{a}.rope.freq_base", T_FLOAT32, cfg["rope_theta"]),
        (f"{a}.attention.layer_norm_rms_epsilon", T_FLOAT32, cfg["eps"]),
        (f"{a}.rope.dimension_count", T_UINT32, cfg["head_dim"]),
        (f"{a}.vocab_size", T_UINT32, cfg["vocab"]),
    ]


def config_from_gguf(g):
    a = g.get("general.architecture")
    cfg = dict(arch=a, dim=g.get(f"{a}.embedding_length"), n_layers=g.get(f"{a}.block_count"),
               ff=g.get(f"{a}.feed_forward_length"), n_heads=g.get(f"{a}.attention.head_count"),
               n_kv_heads=g.get(f"{a}.attention.head_count_kv"),
               rope_theta=g.get(f"{a}.rope.freq_base"),
               eps=g.get(f"{a}.attention.layer_norm_rms_epsilon"),
               context=g.get(f"{a}.context_length"))
    cfg["head_dim"] = g.get(f"{a}.rope.dimension_count", cfg["dim"] // cfg["n_heads"])
    cfg["vocab"] = g.tensors["token_embd.weight"][0][1]
    cfg["tied"] = "output.weight" not in g.tensors
    return cfg


# ---------------------------------------------------------- numpy reference forward

def load_weights(g):
    """Dequantized float32 weights as stored in the GGUF (Q/K still permuted)."""
    return {name: g.tensor(name) for name in g.tensors}


def round_kv(x, kv_type):
    """Rows [..., hd] as a KV cache of `kv_type` stores them: f16, or q8_0 blocks of 32 (scale
    max|x| / 127 at f16 precision, values rounded half to even, as ggml's x86 quantizer)."""
    if kv_type == "f32":
        return x
    if kv_type == "f16":
        return x.astype(np.float32).astype(np.float16).astype(x.dtype)
    b = x.astype(np.float32).reshape(*x.shape[:-1], -1, 32)
    amax = np.abs(b).max(-1, keepdims=True)
    d = (amax / np.float32(127)).astype(np.float16).astype(np.float32)
    inv = np.where(amax > 0, np.float32(127) / np.where(amax > 0, amax, 1), 0).astype(np.float32)
    q = np.clip(np.rint(b * inv), -127, 127)
    return (q * d).reshape(x.shape).astype(x.dtype)


def np_forward(W, cfg, ids, past=None, dtype=np.float64, f16_activations=False, kv_type="f32"):
    """llama.cpp semantics on GGUF weights: adjacent-pair RoPE for `llama` (on the
    permuted Q/K rows), rotate-halves for `qwen2`. Returns (logits [S, V], past).
    f16_activations rounds the input of every weight matrix product to f16 first, as
    llama.cpp's CPU backends without a direct f16 x f32 kernel do for f16 weights.
    kv_type rounds each new key and value row as a KV cache of that type stores it."""
    hd, H, KV = cfg["head_dim"], cfg["n_heads"], cfg["n_kv_heads"]
    eps, neox = cfg["eps"], cfg["arch"] != "llama"
    ids = np.asarray(ids)
    S = len(ids)
    P = 0 if past is None else past[0][0].shape[0]
    pos = np.arange(P, P + S, dtype=np.float64)
    inv = cfg["rope_theta"] ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = pos[:, None] * inv[None, :]                    # [S, hd/2]
    cos, sin = np.cos(ang).astype(dtype), np.sin(ang).astype(dtype)

    def w(n):
        return W[n].astype(dtype, copy=False)

    def mm(a, n):  # a @ W[n]^T
        if f16_activations:
            a = a.astype(np.float16).astype(dtype)
        return a @ w(n).T

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g

    def rope(x):                                         # x [S, heads, hd]
        if neox:
            a, b = x[..., : hd // 2], x[..., hd // 2:]
        else:
            a, b = x[..., 0::2], x[..., 1::2]
        c, s = cos[:, None, :], sin[:, None, :]
        ra, rb = a * c - b * s, a * s + b * c
        if neox:
            return np.concatenate((ra, rb), axis=-1)
        return np.stack((ra, rb), axis=-1).reshape(x.shape)

    x = w("token_embd.weight")[ids]
    new_past = []
    mask = np.where(np.arange(P + S)[None, :] <= (P + np.arange(S))[:, None], 0.0, -np.inf)
    for i in range(cfg["n_layers"]):
        p = f"blk.{i}."
        h = rms(x, w(p + "attn_norm.weight"))
        q, k, v = (mm(h, p + f"attn_{t}.weight") for t in "qkv")
        if not cfg["arch"] == "llama":
            q, k, v = q + w(p + "attn_q.bias"), k + w(p + "attn_k.bias"), v + w(p + "attn_v.bias")
        q = rope(q.reshape(S, H, hd))
        k = rope(k.reshape(S, KV, hd))
        v = v.reshape(S, KV, hd)
        k, v = round_kv(k, kv_type), round_kv(v, kv_type)
        if past is not None:
            k = np.concatenate((past[i][0], k), axis=0)
            v = np.concatenate((past[i][1], v), axis=0)
        new_past.append((k, v))
        rep = H // KV
        kk, vv = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)   # head h -> kv h//rep
        sc = np.einsum("shd,thd->hst", q, kk) / math.sqrt(hd) + mask[None]
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        sc /= sc.sum(-1, keepdims=True)
        a = np.einsum("hst,thd->shd", sc, vv).reshape(S, H * hd)
        x = x + mm(a, p + "attn_output.weight")
        h = rms(x, w(p + "ffn_norm.weight"))
        g = mm(h, p + "ffn_gate.weight")
        u = mm(h, p + "ffn_up.weight")
        x = x + mm(g / (1 + np.exp(-g)) * u, p + "ffn_down.weight")
    head = "output.weight" if "output.weight" in W else "token_embd.weight"
    return mm(rms(x, w("output_norm.weight")), head), new_past


def greedy(W, cfg, prompt, steps, dtype=np.float32):
    logits, past = np_forward(W, cfg, prompt, dtype=dtype)
    out = []
    for _ in range(steps):
        t = int(np.argmax(logits[-1]))
        out.append(t)
        logits, past = np_forward(W, cfg, [t], past, dtype=dtype)
    return out


def prompt_tokens(cfg, seed, n=5):
    """BOS + n-1 deterministic non-special, non-byte tokens."""
    rng = np.random.default_rng([seed, 0x70726F6D])
    lo = 259 if cfg["vocab"] > 300 else 3
    return [1] + [int(t) for t in rng.integers(lo, cfg["vocab"], n - 1)]


# ------------------------------------------------------------------------- ONNX

def torch_module(g, cfg):
    """make_decoders.LlamaDecoder holding the GGUF's dequantized weights, Q/K unpermuted."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_decoders as md

    torch.manual_seed(0)  # default init is overwritten below; seeded for tidiness
    model = md.LlamaDecoder(n_heads=cfg["n_heads"], intermediate=cfg["ff"],
                            rope_theta=cfg["rope_theta"], vocab=cfg["vocab"],
                            hidden=cfg["dim"], n_layers=cfg["n_layers"],
                            head_dim=cfg["head_dim"], n_kv_heads=cfg["n_kv_heads"],
                            eps=cfg["eps"], qkv_bias=cfg["arch"] != "llama")
    llama = cfg["arch"] == "llama"
    sd = {"embed.weight": g.tensor("token_embd.weight"),
          "norm.weight": g.tensor("output_norm.weight"),
          "lm_head.weight": g.tensor("token_embd.weight" if cfg["tied"] else "output.weight")}
    for i in range(cfg["n_layers"]):
        p, m = f"blk.{i}.", f"layers.{i}."
        q, k = g.tensor(p + "attn_q.weight"), g.tensor(p + "attn_k.weight")
        if llama:
            q, k = unpermute_qk(q, cfg["n_heads"]), unpermute_qk(k, cfg["n_kv_heads"])
        sd.update({m + "input_norm.weight": g.tensor(p + "attn_norm.weight"),
                   m + "q_proj.weight": q, m + "k_proj.weight": k,
                   m + "v_proj.weight": g.tensor(p + "attn_v.weight"),
                   m + "o_proj.weight": g.tensor(p + "attn_output.weight"),
                   m + "post_norm.weight": g.tensor(p + "ffn_norm.weight"),
                   m + "gate_proj.weight": g.tensor(p + "ffn_gate.weight"),
                   m + "up_proj.weight": g.tensor(p + "ffn_up.weight"),
                   m + "down_proj.weight": g.tensor(p + "ffn_down.weight")})
        if not llama:
            for t in "qkv":
                sd[m + f"{t}_proj.bias"] = g.tensor(p + f"attn_{t}.bias")
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()},
                          strict=True)
    return model.eval(), md


def torch_reference(model, md, cfg, prompt):
    """Prefill `prompt`, then one greedy decode step, with the torch module."""
    import torch
    with torch.no_grad():
        ids = torch.tensor([prompt], dtype=torch.int64)
        in0 = [ids, *md.empty_past(cfg["n_kv_heads"], cfg["n_layers"], cfg["head_dim"])]
        out0 = list(model(*in0))
        nxt = out0[0][0, -1].argmax().reshape(1, 1)
        in1 = [nxt, *out0[1:]]
        out1 = list(model(*in1))
    return [(in0, out0), (in1, out1)]


def write_onnx(g, cfg, path, test_data, seed, check, log):
    import torch
    torch.set_num_threads(1)  # bitwise-reproducible references
    model, md = torch_module(g, cfg)
    n_bytes = sum(p.numel() * 4 for p in model.parameters())
    if n_bytes >= 2 ** 31 - 2 ** 26:  # protobuf's limit: torch writes the weights as external data files
        log(f"onnx: {n_bytes / 2**30:.1f} GiB of f32 weights: saved as external data beside {os.path.basename(path)}")
    t0 = time.time()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    hist = md.export(model, path, 17)
    extra = sorted(set(hist) - md.ALLOWED_OPS)
    log(f"onnx: {path} ({os.path.getsize(path) / 1e6:.2f} MB, {sum(hist.values())} nodes, "
        f"{time.time() - t0:.1f}s)")
    if extra:
        raise SystemExit(f"ERROR: unsupported op types in export: {', '.join(extra)}")
    prompt = prompt_tokens(cfg, seed)
    data = torch_reference(model, md, cfg, prompt)
    if test_data:
        base = os.path.dirname(os.path.abspath(path))
        for k, (inputs, outputs) in enumerate(data):
            md.write_data_set(os.path.join(base, f"test_data_set_{k}"), inputs, outputs)
        log(f"onnx: test_data_set_0 (prefill {prompt}), test_data_set_1 "
            f"(decode {int(data[1][0][0])}) in {base}")
    if check:
        W = load_weights(g)
        l0, past = np_forward(W, cfg, prompt)
        l1, _ = np_forward(W, cfg, [int(data[1][0][0])], past)
        worst = 0.0
        for ref, (_, out) in zip((l0, l1), data):
            t = out[0][0].numpy().astype(np.float64)
            worst = max(worst, float(np.abs(t - ref).max() / np.abs(ref).max()))
        log(f"check: torch (rotate-halves, unpermuted) vs numpy (GGUF rope, stored weights) "
            f"logits: max |diff| / max |logit| = {worst:.2e}")
        if worst > 1e-4:
            raise SystemExit("check FAILED: torch module and GGUF weights disagree")


# -------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--type", required=True, choices=list(TYPE_BY_NAME))
    ap.add_argument("-o", "--out", required=True, help="output .gguf path")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab", help="copy tokenizer.* from this GGUF (e.g. ggml-vocab-*.gguf)")
    ap.add_argument("--tied", action=argparse.BooleanOptionalAction, default=None,
                    help="share token_embd as the output head (default: the preset's)")
    ap.add_argument("--arch", choices=["llama", "qwen2"], default="llama")
    ap.add_argument("--layers", type=int, help="override the block count")
    ap.add_argument("--context", type=int, help="override the context length")
    ap.add_argument("--heads", type=int, help="override the query heads (head size: dim / heads)")
    ap.add_argument("--kv-heads", type=int, help="override the key/value heads")
    ap.add_argument("--onnx", help="also export the same function as ONNX (opset 17)")
    ap.add_argument("--onnx-test-data", action="store_true",
                    help="write test_data_set_0 (prefill) / _1 (decode) next to --onnx")
    ap.add_argument("--check", action="store_true",
                    help="read the file back: 32 greedy steps with a numpy forward (and, with "
                         "--onnx, torch-vs-numpy logits)")
    args = ap.parse_args()
    if args.onnx_test_data and not args.onnx:
        ap.error("--onnx-test-data needs --onnx")

    cfg = dict(PRESETS[args.preset], arch=args.arch)
    if args.layers is not None:
        if args.layers < 1:
            ap.error("--layers must be >= 1")
        cfg["n_layers"] = args.layers
    if args.context is not None:
        cfg["context"] = args.context
    if args.heads is not None:
        cfg["n_heads"] = args.heads
    if args.kv_heads is not None:
        cfg["n_kv_heads"] = args.kv_heads
    if cfg["dim"] % cfg["n_heads"] or cfg["n_heads"] % cfg["n_kv_heads"]:
        ap.error("--heads must divide the width, and --kv-heads the heads")
    if args.tied is not None:
        cfg["tied"] = args.tied
    cfg["head_dim"] = cfg["dim"] // cfg["n_heads"]
    if args.vocab:
        vocab_kvs, cfg["vocab"] = vocab_from_file(args.vocab)
    else:
        vocab_kvs = synthetic_vocab(cfg["vocab"])
    wtype = TYPE_BY_NAME[args.type]

    name = f"edgecc-{args.preset}-{args.arch}" + (f"-{cfg['n_layers']}l" if args.layers else "")
    kvs = metadata(cfg, wtype, name) + vocab_kvs
    plan = tensor_plan(cfg, wtype)
    tensors = [(n, ne, t) for n, ne, t, _ in plan]
    n_params = sum(int(np.prod(ne)) for _, ne, _ in tensors)
    verbose = n_params > 20_000_000

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    def progress(i, tname, ne, gtype, nbytes, dt):
        if verbose:
            log(f"[{i + 1:3d}/{len(tensors)}] {tname:28s} {NAME_BY_TYPE[gtype]:5s} "
                f"{str(ne):14s} {nbytes / 1e6:8.2f} MB {dt:6.2f}s")

    t0 = time.time()
    if verbose:
        log(f"{name}: {n_params / 1e6:.1f}M params, {len(tensors)} tensors, {args.type}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    write_gguf(args.out, kvs, tensors,
               lambda i: produce_tensor(*plan[i][:3], plan[i][3], args.seed), progress)
    size = os.path.getsize(args.out)
    print(f"{args.out}: {size} bytes ({size / 2**20:.2f} MiB), {n_params} params, "
          f"{len(tensors)} tensors, {args.type}, {time.time() - t0:.1f}s")

    if args.onnx or args.check:
        g = GgufFile(args.out)
        rcfg = config_from_gguf(g)
        if args.check:
            t1 = time.time()
            W = load_weights(g)
            toks = greedy(W, rcfg, prompt_tokens(rcfg, args.seed), 32)
            log(f"check: 32 greedy tokens ({len(set(toks))} distinct, {time.time() - t1:.1f}s): "
                f"{toks}")
            del W
        if args.onnx:
            write_onnx(g, rcfg, args.onnx, args.onnx_test_data, args.seed, args.check, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
