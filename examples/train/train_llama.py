#!/usr/bin/env python3
"""Train a small Llama on the Brown corpus (CPU, PyTorch) and write it as a GGUF file.

    train_llama.py --data DIR --out model.gguf [--steps N] [--threads 2] [--resume CKPT]

DIR holds train.txt and heldout.txt (brown.py). The vocabulary is a BPE trained on train.txt
(bpe.py) and is stored in the GGUF, so llama.cpp and edgecc read the same tokenizer.
Architecture: RMSNorm, RoPE (rotate-halves, as Hugging Face writes it; Q/K rows are permuted
for GGUF as convert_hf_to_gguf.py does), SwiGLU, grouped-query attention, tied embeddings.
Every batch row is <s> followed by 255 tokens from a random place in the training text, the
way llama-perplexity scores its chunks. The held-out loss is logged as the mean over all its
full 256-token windows. A checkpoint is written every --eval-every steps, so a stopped run
resumes with --resume.
"""

import argparse
import hashlib
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import make_gguf as gg  # noqa: E402
import bpe  # noqa: E402

CONFIG = dict(arch="llama", dim=256, n_layers=6, n_heads=8, n_kv_heads=4, ff=768, vocab=4096,
              context=256, rope_theta=10000.0, eps=1e-5, tied=True)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["dim"], c["dim"] // c["n_heads"]
        self.c, self.hd = c, hd
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.q = torch.nn.Linear(d, c["n_heads"] * hd, bias=False)
        self.k = torch.nn.Linear(d, c["n_kv_heads"] * hd, bias=False)
        self.v = torch.nn.Linear(d, c["n_kv_heads"] * hd, bias=False)
        self.o = torch.nn.Linear(c["n_heads"] * hd, d, bias=False)
        self.ffn_norm = torch.nn.Parameter(torch.ones(d))
        self.gate = torch.nn.Linear(d, c["ff"], bias=False)
        self.up = torch.nn.Linear(d, c["ff"], bias=False)
        self.down = torch.nn.Linear(c["ff"], d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, S, _ = x.shape
        c, hd = self.c, self.hd
        h = rms_norm(x, self.attn_norm, c["eps"])
        q = self.q(h).view(B, S, c["n_heads"], hd).transpose(1, 2)
        k = self.k(h).view(B, S, c["n_kv_heads"], hd).transpose(1, 2)
        v = self.v(h).view(B, S, c["n_kv_heads"], hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = c["n_heads"] // c["n_kv_heads"]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        y = torch.softmax(att, dim=-1) @ v
        x = x + self.o(y.transpose(1, 2).reshape(B, S, -1))
        h = rms_norm(x, self.ffn_norm, c["eps"])
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Embedding(c["vocab"], c["dim"])
        self.blocks = torch.nn.ModuleList(Block(c) for _ in range(c["n_layers"]))
        self.norm = torch.nn.Parameter(torch.ones(c["dim"]))
        hd = c["dim"] // c["n_heads"]
        inv = 1.0 / c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd)
        ang = torch.outer(torch.arange(c["context"]).float(), inv)
        ang = torch.cat([ang, ang], dim=-1)
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)
        mask = torch.full((c["context"], c["context"]), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["n_layers"]) if n.endswith(("o.weight", "down.weight")) else 0.02
                torch.nn.init.normal_(p, std=std)

    def forward(self, ids):
        S = ids.shape[1]
        x = self.embed(ids)
        for b in self.blocks:
            x = b(x, self.cos[:S], self.sin[:S], self.mask[:S, :S])
        return rms_norm(x, self.norm, self.c["eps"]) @ self.embed.weight.t()


def windows_loss(model, tokens, ctx, batch=16):
    """Mean next-token loss over consecutive windows (<s> + ctx-1 tokens), all positions."""
    n = (len(tokens) // (ctx - 1))
    total, count = 0.0, 0
    with torch.no_grad():
        for w0 in range(0, n, batch):
            rows = []
            for w in range(w0, min(n, w0 + batch)):
                rows.append([bpe.BOS] + tokens[w * (ctx - 1):(w + 1) * (ctx - 1)])
            x = torch.tensor(rows)
            logits = model(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                                   reduction="sum")
            total += loss.item()
            count += x[:, 1:].numel()
    return total / count


def write_gguf(model, pieces, path):
    c = dict(model.c)
    c["head_dim"] = c["dim"] // c["n_heads"]
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    tensors, data = [], {}

    def add(name, arr, gtype):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        tensors.append((name, list(reversed(arr.shape)), gtype))
        data[name] = arr

    F16 = gg.GGML_F16
    add("token_embd.weight", sd["embed.weight"], F16)
    for i in range(c["n_layers"]):
        p, b = f"blk.{i}.", f"blocks.{i}."
        add(p + "attn_norm.weight", sd[b + "attn_norm"], gg.GGML_F32)
        add(p + "attn_q.weight", gg.permute_qk(sd[b + "q.weight"], c["n_heads"]), F16)
        add(p + "attn_k.weight", gg.permute_qk(sd[b + "k.weight"], c["n_kv_heads"]), F16)
        add(p + "attn_v.weight", sd[b + "v.weight"], F16)
        add(p + "attn_output.weight", sd[b + "o.weight"], F16)
        add(p + "ffn_norm.weight", sd[b + "ffn_norm"], gg.GGML_F32)
        add(p + "ffn_gate.weight", sd[b + "gate.weight"], F16)
        add(p + "ffn_up.weight", sd[b + "up.weight"], F16)
        add(p + "ffn_down.weight", sd[b + "down.weight"], F16)
    add("output_norm.weight", sd["norm"], gg.GGML_F32)
    kvs = gg.metadata(c, F16, "brown-llama") + bpe.gguf_keys(
        pieces, gg.T_STRING, gg.T_ARRAY, gg.T_FLOAT32, gg.T_INT32, gg.T_UINT32, gg.T_BOOL)
    gg.write_gguf(path, kvs, tensors, lambda i: [gg.encode(data[tensors[i][0]], tensors[i][2])])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resume")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log_path = os.path.splitext(args.out)[0] + ".train.log"
    log = open(log_path, "a")

    def say(msg):
        print(msg, flush=True)
        log.write(msg + "\n"); log.flush()

    text = open(os.path.join(args.data, "train.txt"), encoding="utf-8").read()
    held = open(os.path.join(args.data, "heldout.txt"), encoding="utf-8").read()
    pieces = bpe.train(text, CONFIG["vocab"])
    tok = bpe.Tokenizer(pieces, bpe.piece_scores(pieces))
    train_ids = np.array(tok.encode(text), dtype=np.int64)
    held_ids = tok.encode(held)
    say(f"# {' '.join(sys.argv)}")
    say(f"# train {len(train_ids)} tokens, held-out {len(held_ids)} tokens, vocab {len(pieces)}")

    model = Llama(CONFIG)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"# {n_params} parameters, config {CONFIG}")
    decay = [p for p in model.parameters() if p.dim() == 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    start = 0
    ckpt = os.path.splitext(args.out)[0] + ".ckpt"
    if args.resume:
        state = torch.load(args.resume)
        model.load_state_dict(state["model"]); opt.load_state_dict(state["opt"]); start = state["step"]
        say(f"# resumed at step {start}")
    rng = np.random.default_rng([args.seed, start])
    ctx = CONFIG["context"]
    t0 = time.time()
    for step in range(start, args.steps):
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        starts = rng.integers(0, len(train_ids) - ctx, size=args.batch)
        # row = <s> + ctx-1 tokens; position j predicts the token at s + j
        x = np.stack([np.concatenate([[bpe.BOS], train_ids[s:s + ctx - 1]]) for s in starts])
        y = np.stack([train_ids[s:s + ctx] for s in starts])
        logits = model(torch.from_numpy(x))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0:
            say(f"step {step} lr {lr:.2e} train_loss {loss.item():.4f} elapsed {time.time() - t0:.0f}s")
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            model.eval()
            hl = windows_loss(model, held_ids, ctx)
            model.train()
            say(f"eval step {step + 1} heldout_loss {hl:.4f} heldout_ppl {math.exp(hl):.2f} "
                f"elapsed {time.time() - t0:.0f}s")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1}, ckpt)
    write_gguf(model, pieces, args.out)
    digest = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    say(f"# wrote {args.out} sha256 {digest}")


if __name__ == "__main__":
    main()
