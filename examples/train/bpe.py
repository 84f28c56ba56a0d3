#!/usr/bin/env python3
"""A byte-pair-encoding vocabulary in SentencePiece form, trained on a text file.

The vocabulary is what llama.cpp's `llama` tokenizer (SPM) reads: <unk> <s> </s>, the 256
byte tokens <0x00>..<0xFF> (the fallback for any character outside the vocabulary), the
characters of the training text, then one piece per merge, scored -rank so that the SPM
tokenizer (merge the adjacent pair whose concatenation scores highest) replays the merges
in the order they were learned.

Text is seen the way SPM sees it: spaces become U+2581 and one is prepended. No piece
crosses a word boundary (a U+2581 only starts a piece; newline is never in the vocabulary),
so each word is tokenized on its own, which makes tokenizing a corpus fast.
"""

import collections
import heapq
import re

SPACE = "\u2581"
N_SPECIAL = 3 + 256            # <unk> <s> </s> + byte tokens
BOS, EOS = 1, 2
TOK_NORMAL, TOK_UNKNOWN, TOK_CONTROL, TOK_BYTE = 1, 2, 3, 6

_WORD = re.compile(SPACE + "?[^" + SPACE + "\n]+|" + SPACE + "|\n")


def words(text):
    """SPM's view of text, cut at every word boundary: '▁The', '▁jury', '\\n', 'The', ..."""
    return _WORD.findall(SPACE + text.replace(" ", SPACE))


def train(text, vocab_size, min_char_count=2):
    """-> list of pieces (index = token id), merges ranked by the order they were learned."""
    counts = collections.Counter(w for w in words(text) if w != "\n")
    chars = collections.Counter()
    for w, c in counts.items():
        for ch in w:
            chars[ch] += c
    alphabet = sorted(ch for ch, c in chars.items() if c >= min_char_count)
    known = set(alphabet)
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + alphabet

    # Words as symbol lists; a character outside the alphabet splits the word (it will be
    # bytes), so merges never reach across it.
    seqs, freqs = [], []
    for w, c in sorted(counts.items()):
        part = []
        for ch in w:
            if ch in known:
                part.append(ch)
            elif part:
                seqs.append(part); freqs.append(c); part = []
        if part:
            seqs.append(part); freqs.append(c)

    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for i, s in enumerate(seqs):
        for a, b in zip(s, s[1:]):
            pair_count[a, b] += freqs[i]
            where[a, b].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    seen = set(pieces)
    while len(pieces) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg <= 0:
            continue  # stale entry
        merged = pair[0] + pair[1]
        if merged not in seen:
            seen.add(merged)
            pieces.append(merged)
        touched = collections.Counter()
        for i in sorted(where.pop(pair, ())):
            s, f = seqs[i], freqs[i]
            for a, b in zip(s, s[1:]):
                pair_count[a, b] -= f
                touched[a, b] += 0
            out, k = [], 0
            while k < len(s):
                if k + 1 < len(s) and (s[k], s[k + 1]) == pair:
                    out.append(merged); k += 2
                else:
                    out.append(s[k]); k += 1
            seqs[i] = out
            for a, b in zip(out, out[1:]):
                pair_count[a, b] += f
                where[a, b].add(i)
                touched[a, b] += 0
        pair_count.pop(pair, None)
        for p in sorted(touched):
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_count.pop(p, None)
    return pieces


def piece_scores(pieces):
    """0 for specials, bytes and single characters; -rank for merged pieces (all longer)."""
    import numpy as np
    scores = np.zeros(len(pieces), dtype=np.float32)
    rank = 0
    for i in range(N_SPECIAL, len(pieces)):
        if len(pieces[i]) > 1:
            rank += 1
            scores[i] = -rank
    return scores


def gguf_keys(pieces, T_STRING, T_ARRAY, T_FLOAT32, T_INT32, T_UINT32, T_BOOL):
    """The tokenizer.* GGUF metadata for these pieces (type codes passed in by the writer)."""
    import numpy as np
    scores = piece_scores(pieces)
    types = [TOK_UNKNOWN, TOK_CONTROL, TOK_CONTROL] + [TOK_BYTE] * 256
    types += [TOK_NORMAL] * (len(pieces) - len(types))
    return [
        ("tokenizer.ggml.model", T_STRING, "llama"),
        ("tokenizer.ggml.pre", T_STRING, "default"),
        ("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, pieces)),
        ("tokenizer.ggml.scores", T_ARRAY, (T_FLOAT32, scores)),
        ("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, np.array(types, dtype=np.int32))),
        ("tokenizer.ggml.bos_token_id", T_UINT32, BOS),
        ("tokenizer.ggml.eos_token_id", T_UINT32, EOS),
        ("tokenizer.ggml.unknown_token_id", T_UINT32, 0),
        ("tokenizer.ggml.add_bos_token", T_BOOL, True),
        ("tokenizer.ggml.add_eos_token", T_BOOL, False),
    ]


class Tokenizer:
    """SPM tokenization (llama.cpp's llm_tokenizer_spm) over pieces from train()."""

    def __init__(self, pieces, scores):
        self.id = {p: i for i, p in enumerate(pieces) if i >= N_SPECIAL}
        self.score = scores
        self.cache = {}

    def _word(self, w):
        syms = list(w)
        while len(syms) > 1:
            best, at = None, -1
            for k in range(len(syms) - 1):
                t = self.id.get(syms[k] + syms[k + 1])
                if t is not None and (best is None or self.score[t] > self.score[best]):
                    best, at = t, k
            if best is None:
                break
            syms[at:at + 2] = [syms[at] + syms[at + 1]]
        out = []
        for s in syms:
            t = self.id.get(s)
            if t is not None:
                out.append(t)
            else:
                out.extend(3 + b for b in s.encode("utf-8"))
        return out

    def encode(self, text):
        out = []
        for w in words(text):
            ids = self.cache.get(w)
            if ids is None:
                ids = self.cache[w] = self._word(w)
            out.extend(ids)
        return out
