#!/usr/bin/env python3
"""What the project's own ``cnncount summary`` shows today on oracle skeletons: a markdown
table for a data folder's README, so that the gaps between the counter and an oracle are
written down beside the oracle.

Hand-run, never in CI. Run it with the project's interpreter (the one sphinx_cnncount is
installed in); it runs the ``cnncount`` script next to that interpreter:

    .venv/bin/python tests/data/cnncount_today.py FILE.onnx [FILE.onnx ...] [--dim SYM=N ...]

For each file: exit status, the summary's status, params, MACs, what it says it could not
count (its ``incomplete`` list, or the error line), and the wall time of the whole process
(one run; use farm-bench for figures to publish). With ``--floor``, also the wall time of the
floor the benchmarks compare with (import onnx, load without external data, infer_shapes with
data propagation) and the ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CNNCOUNT = Path(sys.executable).parent / "cnncount"
FLOOR = ("import onnx, sys; m = onnx.load(sys.argv[1], load_external_data=False); "
         "onnx.shape_inference.infer_shapes(m, data_prop=True)")


def floor_seconds(path: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(path)], check=True, capture_output=True)
    return time.perf_counter() - t0


def run(path: Path, extra: list[str]) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([str(CNNCOUNT), "summary", str(path), "--format", "json", *extra],
                       capture_output=True, text=True)
    took = time.perf_counter() - t0
    if p.returncode != 0 and not p.stdout.strip():
        says = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        return {"exit": p.returncode, "status": "error", "params": None, "macs": None,
                "says": says, "seconds": took}
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
    ap.add_argument("--floor", action="store_true", help="also time the floor")
    args = ap.parse_args()
    extra = [a for d in args.dim for a in ("--dim", d)]
    floor_head = " floor | ratio |" if args.floor else ""
    print("| file | args | exit | status | params | MACs | what it says it could not count "
          f"| time |{floor_head}")
    print("| --- " * (10 if args.floor else 8) + "|")
    for f in args.files:
        r = run(f, extra)
        row = (f"| {f.name} | {' '.join(extra) or '-'} | {r['exit']} | {r['status']} | "
               f"{cell(r['params'])} | {cell(r['macs'])} | {cell(r['says']) or '-'} | "
               f"{r['seconds']:.2f} s |")
        if args.floor:
            fl = floor_seconds(f)
            row += f" {fl:.2f} s | {r['seconds'] / fl:.1f}x |"
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
