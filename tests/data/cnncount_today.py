#!/usr/bin/env python3
"""What the project's own ``cnncount summary`` shows today on oracle skeletons: a markdown
table for a data folder's README, so that the gaps between the counter and an oracle are
written down beside the oracle.

Hand-run, never in CI. Run it with the project's interpreter (the one sphinx_cnncount is
installed in); it runs the ``cnncount`` script next to that interpreter:

    .venv/bin/python tests/data/cnncount_today.py FILE.onnx [FILE.onnx ...] [--dim SYM=N ...]

For each file: exit status, the summary's status, params, MACs, what it says it could not
count (its ``incomplete`` list, or the error line), and the wall time of the whole process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CNNCOUNT = Path(sys.executable).parent / "cnncount"


def run(path: Path, extra: list[str]) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([str(CNNCOUNT), "summary", str(path), "--format", "json", *extra],
                       capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0 and not p.stdout.strip():
        return {"exit": p.returncode, "status": "error", "params": None, "macs": None,
                "says": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "", "seconds": took}
    d = json.loads(p.stdout)
    return {"exit": p.returncode, "status": d["status"], "params": d["totals"].get("params"),
            "macs": d["totals"].get("macs"), "says": "; ".join(d["incomplete"]), "seconds": took}


def cell(v) -> str:
    if v is None:
        return "?"
    return f"{v:,}" if isinstance(v, int) else str(v).replace("|", "\\|")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--dim", action="append", default=[], help="passed on as --dim SYM=N")
    args = ap.parse_args()
    extra = [a for d in args.dim for a in ("--dim", d)]
    print("| file | args | exit | status | params | MACs | what it says it could not count | time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for f in args.files:
        r = run(f, extra)
        print(f"| {f.name} | {' '.join(extra) or '-'} | {r['exit']} | {r['status']} | "
              f"{cell(r['params'])} | {cell(r['macs'])} | {cell(r['says']) or '-'} | "
              f"{r['seconds']:.2f} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
