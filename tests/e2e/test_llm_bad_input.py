#!/usr/bin/env python3
"""Bad input on the LLM path gets a clear error (exit code 1 or 2 and a message naming the
problem), never a crash or silent output: malformed, truncated and unsupported GGUF files,
prompts that do not fit the context, ids outside the vocabulary, bad -n, missing bundle files.

Usage: test_llm_bad_input.py --edgecc PATH [--work DIR]
"""

import os
import shutil
import struct
import subprocess
import sys

from e2e_args import edgecc_and_work

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAKE_GGUF = os.path.join(REPO, "examples", "models", "make_gguf.py")


def patched_tensor_type(data, tensor_name, new_type):
    """The GGUF bytes with `tensor_name`'s type field set to new_type."""
    name = tensor_name.encode()
    at = data.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    n_dims = struct.unpack_from("<I", data, at)[0]
    type_at = at + 4 + 8 * n_dims
    return data[:type_at] + struct.pack("<I", new_type) + data[type_at + 4:]


def main():
    edgecc, work = edgecc_and_work(__doc__, "edgecc-llm-bad-")

    good = os.path.join(work, "tiny.gguf")
    subprocess.run([sys.executable, MAKE_GGUF, "--preset", "tiny", "--type", "q8_0", "-o", good], check=True,
                   capture_output=True)
    data = open(good, "rb").read()

    def variant(name, content):
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    bundle = os.path.join(work, "bundle")
    subprocess.run([edgecc, "compile", good, "-o", bundle, "--max-context", "16", "--max-batch", "4"], check=True,
                   capture_output=True)
    no_weights = os.path.join(work, "bundle_no_weights")
    shutil.copytree(bundle, no_weights)
    os.remove(os.path.join(no_weights, "weights.bin"))
    no_vocab = os.path.join(work, "bundle_no_tokenizer")
    shutil.copytree(bundle, no_vocab)
    os.remove(os.path.join(no_vocab, "tokenizer.bin"))
    bad_vocab = os.path.join(work, "bundle_bad_tokenizer")
    shutil.copytree(bundle, bad_vocab)
    with open(os.path.join(bad_vocab, "tokenizer.bin"), "r+b") as f:
        f.truncate(100)

    gen = [edgecc, "generate", bundle]
    cases = [
        # (what, command, expected exit code, text the message must contain)
        ("GGUF cut short", [edgecc, "compile", variant("cut.gguf", data[: len(data) * 3 // 5]), "-o", work + "/o1"], 1,
         "beyond the end of the file"),
        ("GGUF header only", [edgecc, "compile", variant("header.gguf", data[:20]), "-o", work + "/o2"], 1, "truncated"),
        ("garbage after the magic", [edgecc, "compile", variant("garbage.gguf", b"GGUF" + bytes(range(256)) * 8), "-o",
                                     work + "/o3"], 1, "GGUF version"),
        ("unknown architecture", [edgecc, "compile", variant("mamba.gguf", data.replace(b"llama", b"mamba")), "-o",
                                  work + "/o4"], 1, "architecture 'mamba' is not supported"),
        ("unknown tensor type", [edgecc, "compile", variant("type99.gguf", patched_tensor_type(data, "blk.0.attn_q.weight", 99)),
                                 "-o", work + "/o5"], 1, "tensor 'blk.0.attn_q.weight' has unknown type 99"),
        ("unsupported tensor type", [edgecc, "compile", variant("bf16.gguf", patched_tensor_type(data, "blk.0.ffn_up.weight", 30)),
                                     "-o", work + "/o6"], 1, "tensor 'blk.0.ffn_up.weight' has type bf16; supported"),
        ("a tensor the graph would ignore", [edgecc, "compile", variant("extra.gguf", data.replace(struct.pack("<Q", 13) + b"output.weight",
                                                                                               struct.pack("<Q", 13) + b"rope_freqs.wt")),
                                             "-o", work + "/o9"], 1, "tensor 'rope_freqs.wt' is not used"),
        ("huge metadata array", [edgecc, "compile", variant("bigarray.gguf", data[:24] + struct.pack("<Q", 5) + b"x.key" +
                                                            struct.pack("<IIQ", 9, 0, 2**40) + data[24:]), "-o", work + "/o10"], 1,
         "implausible array length"),
        ("missing tensor", [edgecc, "compile", variant("missing.gguf", data.replace(b"blk.1.ffn_down.weight", b"blk.1.ffn_dowX.weight")),
                            "-o", work + "/o7"], 1, "missing tensor 'blk.1.ffn_down.weight'"),
        ("prompt longer than the context", gen + ["--prompt-ids", ",".join(["5"] * 17), "-n", "1"], 1, "the context is full"),
        ("generation runs past the context", gen + ["--prompt-ids", "1,2,3,4,5,6,7,8,9,10", "-n", "10", "--ignore-eos"], 1,
         "the context is full"),
        ("id outside the vocabulary", gen + ["--prompt-ids", "1,99999", "-n", "2"], 1, "token id 99999 (at 1) is outside the vocabulary"),
        ("negative id", gen + ["--prompt-ids", "1,-4", "-n", "2"], 1, "token id -4"),
        ("not an id", gen + ["--prompt-ids", "1,x", "-n", "2"], 2, "'x' is not a token id"),
        ("-n 0", gen + ["--prompt-ids", "1,2", "-n", "0"], 2, "-n must be a positive number"),
        ("-n negative", gen + ["--prompt-ids", "1,2", "-n", "-3"], 2, "-n must be a positive number"),
        ("no prompt", gen + ["-n", "3"], 2, "--prompt TEXT or --prompt-ids"),
        ("missing weights.bin", [edgecc, "generate", no_weights, "--prompt-ids", "1,2", "-n", "2"], 1, "weights.bin: cannot open"),
        ("text prompt without tokenizer.bin", [edgecc, "generate", no_vocab, "--prompt", "hello", "-n", "2"], 1,
         "needs the bundle's tokenizer"),
        ("corrupt tokenizer.bin", [edgecc, "generate", bad_vocab, "--prompt-ids", "1,2", "-n", "2"], 1, "tokenizer.bin"),
        ("not a bundle or model", [edgecc, "generate", work, "--prompt-ids", "1", "-n", "1"], 1, "not a bundle directory"),
        ("ONNX model without a KV cache", [edgecc, "compile", "/usr/share/libonnx-testdata/data/node/test_add/model.onnx", "-o",
                                           work + "/o8", "--max-context", "8"], 1, "no KV cache found"),
    ]
    failed = 0
    for what, cmd, want_rc, want_text in cases:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=600)
        ok = proc.returncode == want_rc and want_text in proc.stderr
        failed += not ok
        msg = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "(no message)"
        print(f"{what:<38} rc={proc.returncode} {'ok' if ok else 'FAIL (want rc=%d and %r)' % (want_rc, want_text)}\n    {msg}")
    # A valid request still works on the same bundle (the errors above left no state behind).
    proc = subprocess.run(gen + ["--prompt-ids", "1,2,3", "-n", "4", "--json", "--ignore-eos"], capture_output=True, text=True)
    ok = proc.returncode == 0 and '"ids": [' in proc.stdout
    failed += not ok
    print(f"{'valid request after the errors':<38} rc={proc.returncode} {'ok' if ok else 'FAIL'}")
    # Every subcommand, and the bundle's own tool, answers --help with its usage and exit 0; a
    # subcommand with its own lines only.
    subs = ("compile", "run", "generate", "test-onnx", "targets", "perplexity", "quality", "bisect", "ops")
    helps = [[edgecc, sub, "--help"] for sub in subs]
    helps.append([os.path.join(bundle, "model_generate"), "--help"])
    for cmd in helps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        ok = proc.returncode == 0 and "usage:" in proc.stdout
        if cmd[0] == edgecc:
            listed = [s for s in subs if f"edgecc {s} " in proc.stdout]
            ok = ok and listed == [cmd[1]]
        failed += not ok
        print(f"{' '.join([os.path.basename(cmd[0])] + cmd[1:]):<38} rc={proc.returncode} {'ok' if ok else 'FAIL'}")
    print(f"{len(cases) + 1 + len(helps) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
