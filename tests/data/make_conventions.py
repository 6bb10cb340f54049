#!/usr/bin/env python3
"""Make the counting-conventions oracle in tests/data/conventions/: what each popular counting
tool prints for the same torch networks, and weight-free ONNX skeletons of those networks.

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch and the tools, e.g.

    python3 -m venv ../torchvenv
    ../torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 timm==1.0.31 \\
        onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2 torchinfo==1.8.0 \\
        fvcore==0.1.5.post20221221 ptflops==0.7.5 thop==0.1.1.post2209072238 \\
        calflops==0.3.2 onnx-tool==1.0.1
    ../torchvenv/bin/python tests/data/make_conventions.py [model ...] [--out DIR]

(thop 0.1.1.post2209072238 is Lyken17's ``thop`` on PyPI; ``ultralytics-thop`` installs a
different module under the same import name: only one of them may be installed.)

For every model it builds the torch module (no pretrained weights: ``weights=None`` /
``pretrained=False``; every float parameter and buffer randomised), feeds it one random input
and runs every tool the way its README calls it, on a fresh copy of the module each time:

* torchvision: ``weights.meta["_ops"]`` (where torchvision publishes one);
* fvcore: ``FlopCountAnalysis(model, x)``: ``.total()``, ``.by_module()``, ``.by_operator()``;
* ptflops: ``get_model_complexity_info(model, input_res, as_strings=False, backend=B)`` for B
  in ``pytorch`` and ``aten``;
* thop: ``profile(model, inputs=(x,), ret_layer_info=True)``;
* torchinfo: ``summary(model, input_size=..., verbose=0).total_mult_adds`` and the leaf rows;
* calflops: ``calculate_flops(model, input_shape=..., output_as_string=False)``: flops, macs;
* torch-flop-counter: ``torch.utils.flop_counter.FlopCounterMode``: total and per module;
* onnx-tool: ``onnx_tool.model_profile(path, save_profile=CSV)`` on the model's ONNX exports
  (dynamo and TorchScript), its Total and per-node Forward_MACs.

Per tool it records the version, the call, the raw number the call returns, the tool's label
and unit for it, the string the tool prints for it, and its per-layer numbers where it has
some. Per model it also records every leaf-module call (class, input and output elements,
parameters) and, per tool, the sums over leaf modules by class: the evidence for the rules in
README.md.

Writes ``<model>.conventions.json`` for every model and, for the networks not already in
tests/data/torchvision/ (the two LeNet-5s, timm's ViT-Tiny, vit_b_16's TorchScript export),
the skeletons ``<model>.<exporter>.onnx`` and their onnxruntime shapes
``<model>.<exporter>.json`` (the same fields as tests/data/torchvision/*.json). For the
torchvision classifiers it checks that today's export is the same graph as the committed
skeleton in ../torchvision/ (op sequence, attributes, initializer names/dims) and names it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path
from unittest import mock

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_torchvision  # noqa: E402
from make_torchinfo import qualified_name  # noqa: E402
from skeletons import (  # noqa: E402
    export, graph_signature, op_counts, ort_values, randomise, shapes_of, versions, write_skeleton,
)

HERE = Path(__file__).resolve().parent
OUT = HERE / "conventions"
TV_DIR = HERE / "torchvision"
EXPORTERS = ("dynamo", "torchscript")
DISTS = ("torchvision", "timm", "fvcore", "ptflops", "thop", "torchinfo", "calflops", "onnx-tool")


class LeNet5(nn.Module):
    """LeNet-5 as the PyTorch "Neural Networks" tutorial writes it: 1x32x32 in, conv 6 5x5,
    ReLU and 2x2 max pooling through torch.nn.functional, conv 16 5x5, the same, flatten,
    Linear 400->120, ReLU, 120->84, ReLU, 84->10."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lenet5_tanh() -> nn.Module:
    """The same LeNet-5 with the paper's squashing function and averaging, as nn modules in an
    nn.Sequential: Tanh after every layer but the last, 2x2 AvgPool2d."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )


def timm_model(name: str):
    def build() -> nn.Module:
        import timm  # only this model needs timm
        return timm.create_model(name, pretrained=False)
    return build


def tv_model(name: str):
    def build() -> nn.Module:
        _, kwargs = make_torchvision.MODELS[name]
        return torchvision.models.get_model(name, weights=None, **kwargs)
    return build


def tv_weights(name: str):
    return getattr(torchvision.models, make_torchvision.MODELS[name][0]).IMAGENET1K_V1


# name -> (builder, input shape, how it is built, in words)
MODELS: dict[str, tuple] = {
    "lenet5": (LeNet5, (1, 1, 32, 32), "LeNet5() in make_conventions.py: the PyTorch tutorial's "
               "LeNet-5, F.relu and F.max_pool2d(2) (functional, not modules)"),
    "lenet5_tanh": (lenet5_tanh, (1, 1, 32, 32), "lenet5_tanh() in make_conventions.py: "
                    "nn.Sequential with nn.Tanh and nn.AvgPool2d(2) modules"),
    **{n: (tv_model(n), None, f"torchvision.models.get_model({n!r}, weights=None, **{kw!r})")
       for n, (_, kw) in make_torchvision.MODELS.items()},
    "vit_tiny_patch16_224": (timm_model("vit_tiny_patch16_224"), (1, 3, 224, 224),
                             "timm.create_model('vit_tiny_patch16_224', pretrained=False)"),
}


def input_shape(name: str) -> tuple[int, ...]:
    shape = MODELS[name][1]
    if shape is None:
        size = tv_weights(name).transforms().crop_size[0]
        shape = (1, 3, size, size)
    return shape


def fresh(name: str) -> nn.Module:
    """A new, randomised copy of the model in eval mode (each tool gets its own: several
    leave hooks or attributes behind)."""
    model = MODELS[name][0]().eval()
    randomise(model, seed=sum(map(ord, name)))
    return model


def quiet():
    """Silence a tool's own printing (its progress and warnings), keeping what it returns."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    return stack


# ---------------------------------------------------------------------------------------------
# The tools, one function each: (name, x) -> record
# ---------------------------------------------------------------------------------------------
def tool_torchvision(name: str, x: torch.Tensor) -> dict | None:
    if name not in make_torchvision.MODELS:
        return None
    w = tv_weights(name)
    ops = w.meta["_ops"]
    return {
        "call": f"torchvision.models.{make_torchvision.MODELS[name][0]}.IMAGENET1K_V1.meta['_ops']",
        "value": ops, "label": "GFLOPS", "unit": "1e9",
        "total": round(ops * 1e9),
        "printed": f"{ops:.3f}",
        "note": "published metadata, rounded to 3 decimals (so 'total' is known to +-5e5); "
                "torchvision's docs call it GFLOPS; it was measured with a dispatch-mode counter "
                "of aten convolution/mm/addmm/bmm, one per multiply-add: GMACs",
        "num_params": w.meta["num_params"],
    }


def tool_fvcore(name: str, x: torch.Tensor) -> dict:
    from fvcore.nn import FlopCountAnalysis, flop_count_table
    with quiet():
        a = FlopCountAnalysis(fresh(name), x)
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        total = a.total()
        table = flop_count_table(a, max_depth=1)
    return {
        "call": "fvcore.nn.FlopCountAnalysis(model, x).total()",
        "value": int(total), "label": "flops", "unit": "1",
        "printed": table,
        "per_layer": {k: int(v) for k, v in a.by_module().items()},
        "per_layer_note": "by_module(): every module's qualified name ('' = the model) -> its "
                          "count including its submodules",
        "by_operator": {k: int(v) for k, v in a.by_operator().items()},
        "unsupported_ops": dict(a.unsupported_ops()),
    }


def tool_ptflops(name: str, x: torch.Tensor) -> dict:
    import ptflops
    import ptflops.pytorch_engine as pe
    from ptflops.utils import flops_to_string
    per: dict[str, int] = {}
    nested: dict[str, int] = {}

    def grab(model, total_flops, total_params, **_):  # replaces the per-layer printout
        counted: list[str] = []
        for q, mod in model.named_modules():
            if pe.is_supported_instance(mod):
                inside = any(q.startswith(c + ".") or c == "" for c in counted)
                (nested if inside else per)[q] = int(mod.__flops__ / model.__batch_counter__)
                if not inside:
                    counted.append(q)

    with quiet(), mock.patch.object(pe, "print_model_with_flops", grab):
        macs, params = ptflops.get_model_complexity_info(
            fresh(name), tuple(x.shape[1:]), as_strings=False, backend="pytorch",
            print_per_layer_stat=True)
    return {
        "call": "ptflops.get_model_complexity_info(model, input_res, as_strings=False, "
                "backend='pytorch')",
        "value": int(macs), "label": "MACs", "unit": "1", "printed": flops_to_string(macs),
        "params": int(params),
        "per_layer": per,
        "per_layer_note": "the supported modules' own __flops__ (qualified name -> count), "
                          "those the total adds up: a supported module's submodules are not "
                          "added (nested_not_counted); the rest of the total (the "
                          "torch.nn.functional and tensor-op patches) is outside_modules",
        "nested_not_counted": nested,
        "outside_modules": int(macs) - sum(per.values()),
    }


def tool_ptflops_aten(name: str, x: torch.Tensor) -> dict:
    import ptflops
    import ptflops.aten_engine as ae
    from ptflops.utils import flops_to_string

    class Grab(ae.FlopCounterMode):
        last = None

        def __exit__(self, *args):
            Grab.last = self
            return super().__exit__(*args)

    with quiet(), mock.patch.object(ae, "FlopCounterMode", Grab):
        macs, params = ptflops.get_model_complexity_info(
            fresh(name), tuple(x.shape[1:]), as_strings=False, backend="aten",
            print_per_layer_stat=False)
    counts = Grab.last.flop_counts
    return {
        "call": "ptflops.get_model_complexity_info(model, input_res, as_strings=False, "
                "backend='aten')",
        "value": int(macs), "label": "MACs", "unit": "1", "printed": flops_to_string(macs),
        "params": int(params),
        "per_layer": {k: int(sum(v.values())) for k, v in counts.items()},
        "per_layer_note": "the aten backend's own per-module table: only the model's direct "
                          "children ('Global' = the whole model)",
        "by_operator": {str(k): int(v) for k, v in counts["Global"].items()},
    }


def tool_thop(name: str, x: torch.Tensor) -> dict:
    import thop
    with quiet():
        ops, params, layers = thop.profile(fresh(name), inputs=(x,), verbose=False,
                                           ret_layer_info=True)
    per: dict[str, int] = {}

    def flat(d: dict, prefix: str) -> None:
        for n, (o, _, sub) in d.items():
            per[prefix + n] = int(o)
            flat(sub, prefix + n + ".")

    flat(layers, "")
    return {
        "call": "thop.profile(model, inputs=(x,), ret_layer_info=True)[0]",
        "value": int(ops), "label": "MACs", "unit": "1",
        "printed": thop.clever_format([ops], "%.3f"),
        "params": int(params),
        "per_layer": per,
        "per_layer_note": "ret_layer_info flattened: qualified name -> count including "
                          "submodules",
    }


def tool_torchinfo(name: str, x: torch.Tensor) -> dict:
    import torchinfo
    torchinfo.torchinfo.clear_cached_forward_pass()
    s = torchinfo.summary(fresh(name), input_size=tuple(x.shape), verbose=0, depth=1,
                          device="cpu")
    line = next(ln for ln in str(s).splitlines() if ln.startswith("Total mult-adds"))
    rows = [[qualified_name(li), li.class_name, int(li.macs)]
            for li in s.summary_list if li.is_leaf_layer]
    return {
        "call": "torchinfo.summary(model, input_size=..., verbose=0).total_mult_adds",
        "value": int(s.total_mult_adds), "label": "Total mult-adds", "unit": "1",
        "printed": line,
        "params": int(s.total_params),
        "per_layer": rows,
        "per_layer_note": "every leaf-module call in summary_list order: [qualified name, "
                          "class, macs]; a module called twice has two rows",
    }


def tool_calflops(name: str, x: torch.Tensor) -> dict:
    import calflops
    from calflops.calculate_pipline import CalFlopsPipline
    from calflops.utils import get_module_flops, get_module_macs
    per: dict[str, list[int]] = {}
    end = CalFlopsPipline.end_flops_calculate

    def grab(self):
        for q, mod in self.model.named_modules():
            per[q] = [int(get_module_flops(mod)), int(get_module_macs(mod))]
        end(self)

    buf = io.StringIO()
    patch = mock.patch.object(CalFlopsPipline, "end_flops_calculate", grab)
    with contextlib.redirect_stdout(buf), patch:
        flops, macs, params = calflops.calculate_flops(
            fresh(name), input_shape=tuple(x.shape), output_as_string=False, print_results=True,
            print_detailed=False)
    printed = [ln.strip() for ln in buf.getvalue().splitlines()
               if ln.startswith(("fwd MACs:", "fwd FLOPs:"))]
    return {
        "call": "calflops.calculate_flops(model, input_shape=..., output_as_string=False)",
        "value": int(flops), "label": "FLOPs", "unit": "1",
        "macs": int(macs), "macs_label": "MACs",
        "printed": printed,
        "params": int(params),
        "per_layer": per,
        "per_layer_note": "qualified name -> [FLOPs, MACs] including submodules",
    }


def tool_torch_flop_counter(name: str, x: torch.Tensor) -> dict:
    from torch.utils.flop_counter import FlopCounterMode
    model = fresh(name)
    root = type(model).__name__
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        with FlopCounterMode(display=True, depth=1) as fc:
            model(x)
    counts = fc.get_flop_counts()
    per = {}
    for k, v in counts.items():
        if k == "Global":
            continue
        q = "" if k == root else k[len(root) + 1:] if k.startswith(root + ".") else k
        per[q] = int(sum(v.values()))
    return {
        "call": "with torch.utils.flop_counter.FlopCounterMode() as fc: model(x); "
                "fc.get_total_flops()",
        "value": int(fc.get_total_flops()), "label": "FLOP", "unit": "1",
        "printed": buf.getvalue().strip(),
        "per_layer": per,
        "per_layer_note": "get_flop_counts(), the 'Global' entry dropped and the root class "
                          "name taken off: qualified name -> count including submodules",
        "by_operator": {str(k): int(v) for k, v in counts["Global"].items()},
    }


TOOLS = {
    "torchvision": tool_torchvision,
    "fvcore": tool_fvcore,
    "ptflops": tool_ptflops,
    "ptflops-aten": tool_ptflops_aten,
    "thop": tool_thop,
    "torchinfo": tool_torchinfo,
    "calflops": tool_calflops,
    "torch-flop-counter": tool_torch_flop_counter,
}


def onnx_tool_profile(m: onnx.ModelProto) -> dict:
    """onnx-tool's model_profile on a full (weighted) export; its Total and per-node MACs."""
    import onnx_tool
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "m.onnx"
        m = onnx.ModelProto.FromString(m.SerializeToString())  # onnx.save moves data out in place
        onnx.save(m, str(path), save_as_external_data=True, location="m.onnx.data")
        table = Path(td) / "profile.csv"
        with quiet():
            onnx_tool.model_profile(str(path), save_profile=str(table))
        rows = list(csv.reader(table.open()))
    header, body = rows[0], rows[1:]
    col = header.index("Forward_MACs")
    total = next(r for r in body if r[0] == "Total")
    per = {r[0]: int(r[col]) for r in body if r[0] != "Total"}
    by_op: dict[str, int] = {}
    for r in body:
        if r[0] != "Total":
            by_op[r[1]] = by_op.get(r[1], 0) + int(r[col])
    return {
        "call": "onnx_tool.model_profile(path, save_profile='profile.csv')",
        "value": int(total[col]), "label": "Forward_MACs", "unit": "1",
        "printed": ",".join(total),
        "params": int(total[header.index("Params")]),
        "per_layer": per,
        "per_layer_note": "the CSV's rows: ONNX node name -> Forward_MACs (the ops onnx-tool "
                          "hides by default, Identity, Constant, Shape, Reshape, Concat, ..., "
                          "have no row and count 0)",
        "by_op_type": dict(sorted(by_op.items())),
    }


# ---------------------------------------------------------------------------------------------
# Evidence: the leaf modules and each tool's sums over them, by class
# ---------------------------------------------------------------------------------------------
def leaf_calls(name: str, x: torch.Tensor) -> list[dict]:
    model = fresh(name)
    calls, handles = [], []

    def hook(q):
        def f(mod, inp, out):
            t_in = next((t for t in inp if isinstance(t, torch.Tensor)), None)
            t_out = out if isinstance(out, torch.Tensor) else next(
                (t for t in out if isinstance(t, torch.Tensor)), None)
            calls.append({
                "module": q, "class": type(mod).__name__,
                "input_elements": t_in.numel() if t_in is not None else None,
                "output_elements": t_out.numel() if t_out is not None else None,
                "params": sum(p.numel() for p in mod.parameters(recurse=False)),
                "bias": getattr(mod, "bias", None) is not None,
            })
        return f

    for q, mod in model.named_modules():
        if not list(mod.children()):
            handles.append(mod.register_forward_hook(hook(q)))
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return calls


def by_class(calls: list[dict], tools: dict) -> dict:
    """Per leaf-module class: how many calls, their input/output elements and parameters, and
    each tool's count summed over those modules (tools whose per-layer numbers are keyed by
    qualified module name)."""
    out: dict[str, dict] = {}
    seen: dict[str, set] = {}
    for c in calls:
        e = out.setdefault(c["class"], {"calls": 0, "input_elements": 0, "output_elements": 0,
                                        "params": 0, "tools": {}})
        e["calls"] += 1
        e["input_elements"] += c["input_elements"] or 0
        e["output_elements"] += c["output_elements"] or 0
        e["params"] += c["params"]
        seen.setdefault(c["class"], set()).add(c["module"])
    for tname, rec in tools.items():
        per = rec.get("per_layer") if rec else None
        if not isinstance(per, dict) or tname == "ptflops-aten":
            continue
        for cls, mods in seen.items():
            vals = [per.get(q) for q in mods]
            vals = [v[0] if isinstance(v, list) else v for v in vals if v is not None]
            out[cls]["tools"][tname] = sum(vals)
    if "torchinfo" in tools and tools["torchinfo"]:
        for q, cls, macs in tools["torchinfo"]["per_layer"]:
            t = out.setdefault(cls, {"tools": {}})["tools"]
            t["torchinfo"] = t.get("torchinfo", 0) + macs
    return out


# ---------------------------------------------------------------------------------------------
# The ONNX side
# ---------------------------------------------------------------------------------------------
def do_exports(name: str, x: torch.Tensor, out: Path) -> dict:
    """Export with both exporters, profile with onnx-tool, and name the skeleton of each."""
    res = {}
    for exporter in EXPORTERS:
        t0 = time.time()
        try:
            m = export(fresh(name), (x,), exporter, input_names=["image"])
        except Exception as e:  # an exporter that cannot take the model is a finding
            res[exporter] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"}
            continue
        entry = {"nodes": len(m.graph.node), "ops": op_counts(m)}
        try:
            entry["onnx-tool"] = onnx_tool_profile(m)
        except Exception as e:
            entry["onnx-tool"] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
        committed = TV_DIR / f"{name}.{exporter}.onnx"
        same = committed.exists() and graph_signature(
            onnx.load(str(committed), load_external_data=False)) == graph_signature(m)
        if same:
            entry["skeleton"] = f"../torchvision/{committed.name}"
        else:
            entry["skeleton"] = write_oracle(name, exporter, m, x, out)
            if committed.exists():
                entry["note"] = f"today's export differs from ../torchvision/{committed.name}"
        print(f"  {exporter}: {entry['nodes']} nodes, onnx-tool "
              f"{entry['onnx-tool'].get('value', entry['onnx-tool'].get('error'))}, "
              f"{time.time() - t0:.0f}s", flush=True)
        res[exporter] = entry
    return res


def write_oracle(name: str, exporter: str, m: onnx.ModelProto, x: torch.Tensor, out: Path) -> str:
    """Skeleton + onnxruntime shapes, in make_torchvision.py's JSON layout."""
    stem = f"{name}.{exporter}"
    shapes = shapes_of(ort_values(m, {m.graph.input[0].name: x.numpy()}))
    info = write_skeleton(m, out / f"{stem}.onnx")
    record = {
        "model": name, "exporter": exporter, **versions("torchvision", "timm"),
        "opset_import": info["opset_import"], "build": MODELS[name][2],
        "input": {"name": m.graph.input[0].name, "shape": list(x.shape)},
        "params_sum_torch": sum(p.numel() for p in fresh(name).parameters()),
        "ort_shapes": shapes,
        "graph_outputs": {o.name: shapes[o.name] for o in m.graph.output},
        "skeleton": info,
    }
    (out / f"{stem}.json").write_text(json.dumps(record, sort_keys=True, indent=0) + "\n")
    return f"{stem}.onnx"


def do_model(name: str, out: Path) -> None:
    t0 = time.time()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(input_shape(name), generator=g)
    tools = {}
    for tname, fn in TOOLS.items():
        try:
            tools[tname] = fn(name, x)
        except Exception as e:  # a tool that fails on a model is a finding, not a crash
            tools[tname] = {"error": f"{type(e).__name__}: {e}"[:500],
                            "traceback": traceback.format_exc().splitlines()[-3:]}
    exports = do_exports(name, x, out)
    calls = leaf_calls(name, x)
    record = {
        "model": name, "build": MODELS[name][2], "input_shape": list(x.shape),
        "params_sum_torch": sum(p.numel() for p in fresh(name).parameters()),
        "versions": versions(*DISTS),
        "tools": {k: v for k, v in tools.items() if v is not None},
        "onnx": exports,
        "leaf_calls": calls,
        "by_class": by_class(calls, tools),
    }
    text = json.dumps(record, indent=1, sort_keys=True) + "\n"
    (out / f"{name}.conventions.json").write_text(text)
    head = {k: (v.get("value") if v and "value" in v else v and v.get("error"))
            for k, v in tools.items()}
    print(f"{name}: {head} ({time.time() - t0:.0f}s)", flush=True)


# ---------------------------------------------------------------------------------------------
# The README's tables, from the JSON files
# ---------------------------------------------------------------------------------------------
HEAD = ("torchvision", "fvcore", "ptflops", "ptflops-aten", "thop", "torchinfo", "calflops",
        "calflops macs", "torch-flop-counter", "onnx-tool dynamo", "onnx-tool torchscript")
# the figures whose tool says they are multiply-accumulates (fvcore's "flop" is one)
MAC_LIKE = ("fvcore", "ptflops", "ptflops-aten", "thop", "torchinfo", "calflops macs",
            "onnx-tool dynamo", "onnx-tool torchscript")


def headline(d: dict) -> dict[str, int | None]:
    t, o = d["tools"], d["onnx"]
    row = {k: t[k].get("total", t[k].get("value")) if k in t else None for k in HEAD[:7]}
    row["calflops macs"] = t["calflops"].get("macs")
    row["torch-flop-counter"] = t["torch-flop-counter"].get("value")
    for e in EXPORTERS:
        row[f"onnx-tool {e}"] = o.get(e, {}).get("onnx-tool", {}).get("value")
    return row


def tables(folder: Path) -> str:
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.conventions.json"))]
    out = ["| model | " + " | ".join(HEAD) + " | spread of the MAC-like figures |",
           "| --- " * (len(HEAD) + 2) + "|"]
    for d in records:
        row = headline(d)
        macs = [row[k] for k in MAC_LIKE if row[k]]
        out.append(f"| {d['model']} | " + " | ".join(f"{row[k]:,}" if row[k] is not None else "-"
                                                    for k in HEAD)
                   + f" | {max(macs) / min(macs):.3f}x |")
    per_module = [k for k in TOOLS if k not in ("torchvision", "ptflops-aten")]
    for d in records:
        out += ["", f"{d['model']}: per leaf-module class, each tool's count summed over the "
                "modules of that class", "",
                "| class | calls | output elements | params | " + " | ".join(per_module) + " |",
                "| --- " * (len(per_module) + 4) + "|"]
        for cls, e in sorted(d["by_class"].items()):
            out.append(f"| {cls} | {e.get('calls', '-')} | {e.get('output_elements', 0):,} | "
                       f"{e.get('params', 0):,} | "
                       + " | ".join(f"{e['tools'][k]:,}" if k in e["tools"] else "-"
                                    for k in per_module)
                       + " |")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--out", type=Path, default=OUT, help="default: tests/data/conventions")
    ap.add_argument("--tables", action="store_true",
                    help="only print the README's markdown tables from the JSON files in --out")
    args = ap.parse_args()
    if args.tables:
        sys.stdout.write(tables(args.out))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name in args.models:
        do_model(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
