#!/usr/bin/env python3
"""Make the torchinfo oracle data: tests/data/torchvision/<model>.torchinfo.json.

NOT run in CI and not a dependency of the project: run it by hand in a
separate environment that has torch, e.g.

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 \
        torchinfo==1.8.0
    /work/torchvenv/bin/python tests/data/make_torchinfo.py [model ...] [--out DIR]

For each of the 14 torchvision models of make_torchvision.py, built the same
way (``torchvision.models.get_model(name, weights=None, **kwargs).eval()``, the
same builder kwargs, input 1x3xSxS with S the crop size of the weights'
transforms: 224, 299 for inception_v3), it runs

    torchinfo.summary(model, input_size=(1, 3, S, S), depth=D,
                      col_names=("output_size", "num_params", "trainable"),
                      row_settings=("var_names", "depth"), verbose=0)

for D = 1 and D = 2 and writes ``<model>.torchinfo.json`` (see README.md /
the ``notes`` key of every file for the exact meaning of each field). No
weights are downloaded (the weights enum is only read for its metadata and
crop size) and, unlike make_torchvision.py, the parameters are not randomised:
torchinfo's counts and shapes do not depend on the values.

Every row is taken from ``summary.summary_list`` filtered as torchinfo's own
table filters it (``depth <= D``; hide_recursive_layers is not set) and is
checked against the printed table ``str(summary)``: same row count, and each
printed row's name, depth-index, output shape, Param # and Trainable cell
must equal what the JSON row says.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import torch
import torchinfo
import torchvision

OUT = Path(__file__).resolve().parent / "torchvision"
DEPTHS = (1, 2)
COL_NAMES = ("output_size", "num_params", "trainable")
ROW_SETTINGS = ("var_names", "depth")

# The models and how they are built: make_torchvision.py's table, so the skeletons and their
# torchinfo rows are of the same models.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_torchvision import MODELS  # noqa: E402

NOTES = {
    "row_order": (
        "rows are summary.summary_list filtered by depth <= D, in its order: the "
        "order in which modules' forward pre-hooks fired (execution order), with "
        "container modules that were never called themselves inserted before "
        "their first executed descendant. Row 0 is the model itself (depth 0). "
        "A module called k times appears k times (is_recursive true for calls "
        "2..k)."
    ),
    "var_name": (
        "var_name is what torchinfo prints in parentheses: the module's OWN "
        "attribute name in its parent (e.g. '0' for layer1.0), and the class "
        "name for the root. qualified_name is the dotted path from the root "
        "(as in model.named_modules(); '' for the root), rebuilt from "
        "torchinfo's parent_info chain."
    ),
    "depth_index": (
        "the N in the printed 'D-N' label: a running count of rows of that "
        "depth over the whole summary_list (all depths), not per parent, so "
        "it does not restart under a new parent; repeated calls get their own "
        "index."
    ),
    "num_params": (
        "the integer shown in torchinfo's Param # column ('--' -> 0, "
        "'(recursive)' -> null, '(1,234)' -> 1234). torchinfo's rule "
        "(LayerInfo.num_params_to_str): if the subtree has 0 params -> '--'; "
        "else if the row is a repeated call -> '(recursive)'; else if the row "
        "is at depth == D or its module has no child modules -> the WHOLE "
        "subtree count (params_subtree); else (a row that is expanded below) "
        "-> only the params the module owns directly (leftover_params(): "
        "subtree minus what its descendant rows account for), '--' if 0. So "
        "at D=1 every depth-1 container row shows its whole subtree, and the "
        "depth-0 model row shows only the parameters held directly by the "
        "model object (e.g. vit_b_16's class_token: 768). Summing num_params "
        "over the rows of one depth table gives total_params."
    ),
    "params_subtree": (
        "LayerInfo.num_params: sum of numel of module.named_parameters() "
        "(recursive over all its submodules, whatever D)."
    ),
    "trainable_params": (
        "LayerInfo.trainable_params: like params_subtree but only "
        "requires_grad parameters (all parameters are trainable here). "
        "trainable is the printed Trainable cell ('True', 'False', 'Partial', "
        "'--' when params_subtree is 0)."
    ),
    "is_leaf": (
        "is_leaf: no row is shown below this one in this depth's table (the "
        "next shown row is not deeper). is_leaf_module: torchinfo's "
        "is_leaf_layer, the module has no child modules at all. expanded = "
        "not is_leaf."
    ),
    "output_size": (
        "torchinfo's output_size: list(output.shape) (for a tuple/list "
        "output, the first tensor's); [] for a container inserted without "
        "being called (printed '--')."
    ),
    "mult_adds": (
        "not a printed column here (col_names has no mult_adds); the value "
        "torchinfo WOULD print in a Mult-Adds column at this depth "
        "(LayerInfo.macs_to_str): module's own macs if it has no child "
        "modules, else at depth == D the sum of macs over all executed "
        "leaf-module descendants (repeated calls included), else 0. torchinfo "
        "counts macs only from 'weight'/'bias' parameters: Conv = "
        "numel(param) * prod(output[0], output[2:]), others = output[0] * "
        "numel(param) (batch size only: a Linear on [1, 197, 768] counts "
        "numel(param), not 197 * numel(param)); parameter-free ops (pooling, "
        "activations, add, matmul inside attention) count 0."
    ),
    "totals": (
        "as torchinfo reports them (ModelStatistics), independent of D: "
        "total_params = sum over non-repeated rows of (leaf module: "
        "params_subtree, else leftover params); non_trainable = total - "
        "trainable; total_mult_adds = sum of macs over ALL leaf-module rows "
        "(repeated calls included, non-leaf modules such as "
        "nn.MultiheadAttention never counted). params_sum_torch = "
        "sum(p.numel() for p in model.parameters()) for comparison."
    ),
    "recursive_calls": (
        "every repeated module call anywhere in summary_list (all depths, not "
        "only the shown ones): each call is its own row with its own "
        "depth_index; calls 2..k have is_recursive true and print "
        "'(recursive)' in Param # only if the module has parameters (a "
        "parameter-free one such as a reused ReLU prints '--')."
    ),
    "modules_not_in_summary": (
        "qualified names from model.named_modules() that torchinfo never "
        "lists at any depth: modules whose forward is never called (e.g. "
        "empty or unused branches, nn.MultiheadAttention.out_proj whose "
        "weights are used functionally). Their parameters still count in "
        "their parent's params_subtree and leftover."
    ),
}


def qualified_name(info) -> str:
    parts = []
    while info is not None and info.depth > 0:
        parts.append(info.var_name)
        info = info.parent_info
    return ".".join(reversed(parts))


def printed_params(info, reached_max_depth: bool) -> int | None:
    s = info.num_params_to_str(reached_max_depth)
    if s == "--":
        return 0
    if s == "(recursive)":
        return None
    return int(s.strip("()").replace(",", ""))


def row_mult_adds(info, reached_max_depth: bool) -> int:
    s = info.macs_to_str(reached_max_depth)
    return 0 if s == "--" else int(s.replace(",", ""))


# A printed table row: tree prefix, "Class (var_name): D-N" and the cells.
ROW_RE = re.compile(
    r"^(?P<prefix>(?:│    )*(?:├─|└─)?)(?P<cls>[^\s(]+)(?: \((?P<var>[^)]*)\))?"
    r"(?:: (?P<depth>\d+)-(?P<idx>\d+))?$"
)


def parse_table(text: str, name_width: int) -> list[dict]:
    """Rows of a printed torchinfo table (between the 2nd and 3rd divider)."""
    lines = text.split("\n")
    div = [i for i, ln in enumerate(lines) if ln and set(ln) == {"="}]
    body = lines[div[1] + 1 : div[2]]
    rows = []
    for ln in body:
        label = ln[:name_width].rstrip()
        cells = re.split(r"\s{2,}", ln[name_width:].strip())
        m = ROW_RE.match(label)
        assert m, ln
        assert len(cells) == len(COL_NAMES), ln
        rows.append({
            "cls": m["cls"], "var": m["var"],
            "depth": int(m["depth"]) if m["depth"] else 0,
            "idx": int(m["idx"]) if m["idx"] else None,
            "cells": cells,
        })
    return rows


def do_depth(model, size, depth: int, module_names: set[str]) -> tuple[dict, torchinfo.ModelStatistics]:
    torchinfo.torchinfo.clear_cached_forward_pass()
    s = torchinfo.summary(
        model, input_size=(1, 3, size, size), depth=depth, col_names=COL_NAMES,
        row_settings=ROW_SETTINGS, verbose=0, device="cpu",
    )
    text = str(s)
    shown = [li for li in s.summary_list if li.depth <= depth]
    rows = []
    for i, li in enumerate(shown):
        reached = li.depth == depth
        nxt = shown[i + 1] if i + 1 < len(shown) else None
        is_leaf = nxt is None or nxt.depth <= li.depth
        qn = qualified_name(li)
        assert qn in module_names, qn
        rows.append({
            "var_name": li.var_name,
            "qualified_name": qn,
            "class_name": li.class_name,
            "depth": li.depth,
            "depth_index": li.depth_index,
            "output_size": list(li.output_size),
            "num_params": printed_params(li, reached),
            "num_params_str": li.num_params_to_str(reached),
            "params_subtree": li.num_params,
            "trainable_params": li.trainable_params,
            "trainable": s.formatting.str_(li.trainable),
            "is_leaf": is_leaf,
            "is_leaf_module": li.is_leaf_layer,
            "is_recursive": li.is_recursive,
            "mult_adds": row_mult_adds(li, reached),
        })
    # Check against the printed table.
    printed = parse_table(text, s.formatting.layer_name_width)
    assert len(printed) == len(rows), (len(printed), len(rows))
    for p, r in zip(printed, rows):
        want_var = r["var_name"] or None
        assert (p["cls"], p["var"], p["depth"]) == (r["class_name"], want_var, r["depth"]), (p, r)
        if r["depth"] > 0:
            assert p["idx"] == r["depth_index"], (p, r)
        out_cell = str(r["output_size"]) if r["output_size"] else "--"
        assert p["cells"] == [out_cell, r["num_params_str"], r["trainable"]], (p, r)
    # The printed Param # column adds up to the reported total.
    assert sum(r["num_params"] or 0 for r in rows) == s.total_params
    return {"rows": rows, f"table_depth_{depth}": text}, s


def recursive_calls(s) -> list[dict]:
    """Every repeated module call in the full summary_list (all depths)."""
    out = []
    for li in s.summary_list:
        if li.is_recursive:
            out.append({"qualified_name": qualified_name(li), "class_name": li.class_name,
                        "depth": li.depth, "depth_index": li.depth_index,
                        "params_subtree": li.num_params})
    return out


def dumps(record: dict) -> str:
    """JSON with one line per key, per table row and per recursive call."""
    def block(d: dict, ind: str) -> str:
        items = []
        for k, v in d.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                inner = ",\n".join(f"{ind}  " + json.dumps(x, ensure_ascii=False) for x in v)
                val = f"[\n{inner}\n{ind}]"
            elif isinstance(v, dict) and k != "build_kwargs" and k != "summary_call":
                val = block(v, ind + " ")
            else:
                val = json.dumps(v, ensure_ascii=False)
            items.append(f"{ind} {json.dumps(k)}: {val}")
        return "{\n" + ",\n".join(items) + "\n" + ind + "}"
    text = block(record, "") + "\n"
    assert json.loads(text) == record
    return text


def do_model(name: str, out: Path) -> None:
    wname, kwargs = MODELS[name]
    weights = getattr(torchvision.models, wname).IMAGENET1K_V1
    size = weights.transforms().crop_size[0]
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    nparams = sum(p.numel() for p in model.parameters())
    module_names = {n for n, _ in model.named_modules()}
    record = {
        "model": name,
        "input_size": [1, 3, size, size],
        "torchinfo_version": torchinfo.__version__,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "build_kwargs": kwargs,
        "summary_call": {"col_names": list(COL_NAMES), "row_settings": list(ROW_SETTINGS),
                         "verbose": 0, "device": "cpu", "depths": list(DEPTHS)},
        "params_sum_torch": nparams,
    }
    stats = None
    for d in DEPTHS:
        rec, s = do_depth(model, size, d, module_names)
        record[f"depth_{d}"] = rec
        tot = (s.total_params, s.trainable_params, s.total_mult_adds)
        if stats is not None:
            assert tot == stats, (tot, stats)  # totals do not depend on depth
        stats = tot
    record["totals"] = {
        "total_params": s.total_params,
        "trainable_params": s.trainable_params,
        "non_trainable_params": s.total_params - s.trainable_params,
        "total_mult_adds": s.total_mult_adds,
        "summary_list_len": len(s.summary_list),
        "max_depth": max(li.depth for li in s.summary_list),
    }
    record["recursive_calls"] = recursive_calls(s)
    listed = {qualified_name(li) for li in s.summary_list}
    record["modules_not_in_summary"] = [n for n in sorted(module_names) if n not in listed]
    record["notes"] = NOTES
    with open(out / f"{name}.torchinfo.json", "w") as fh:
        fh.write(dumps(record))
    t = record["totals"]
    print(f"{name}: input {size}, rows d1={len(record['depth_1']['rows'])} "
          f"d2={len(record['depth_2']['rows'])}, total_params={t['total_params']} "
          f"(torch {nparams}), mult_adds={t['total_mult_adds']}, "
          f"recursive calls={len(record['recursive_calls'])}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--out", type=Path, default=OUT,
                    help="output folder (default: torchvision/ beside this script)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name in args.models:
        do_model(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
