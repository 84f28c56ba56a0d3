"""The command line every e2e test script takes: --edgecc PATH and --work DIR."""
import argparse
import os
import shutil
import tempfile


def edgecc_and_work(doc, prefix):
    """Parses --edgecc (required) and --work (default: a new temporary directory); returns both
    as absolute paths, with the work directory emptied."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--edgecc", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix=prefix))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return os.path.abspath(args.edgecc), work
