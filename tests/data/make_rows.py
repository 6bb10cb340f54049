#!/usr/bin/env python3
"""Make the row oracle data in tests/data/rows/: what torchinfo, Keras and onnxruntime say
each row of a model is, for exports made the ordinary way.

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch, e.g.

    python3 -m venv ../torchvenv
    ../torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 torchinfo==1.8.0 \
        onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2 keras==3.15.1
    ../torchvenv/bin/python tests/data/make_rows.py [job ...] [--out DIR]

(made with Python 3.11.7, numpy 2.4.6, CPU). Keras runs on its torch backend in the same
environment (KERAS_BACKEND=torch is set before keras is imported); no TensorFlow is needed.
A full run takes about five minutes on 2 cores. The script reuses make_keras.py (onnxruntime
run with every tensor exposed, value matching, Keras layer view), make_torchinfo.py (torchinfo
row helpers) and make_wild.py (the skeleton policy), which sit beside it.

Jobs (default: all), each writing ``<model>.<route>.onnx`` + ``<model>.<route>.json``:

* functional nets, each exported by BOTH torch exporters with their defaults
  (``torch.onnx.export(model, (x,), path)``, i.e. dynamo with its optimiser, and
  ``torch.onnx.export(model, (x,), path, dynamo=False)``, i.e. TorchScript with
  do_constant_folding=True, opset 20): ``cifar_net`` (PyTorch's CIFAR-10 tutorial net:
  ``self.pool`` called twice, ``F.relu``, ``torch.flatten``), ``thrice`` (a conv called three
  times, a ReLU module called four times), ``resnet_cifar`` (kuangliu/pytorch-cifar's
  BasicBlock ResNet, one block per stage: ``out += self.shortcut(x)``, ``F.relu``,
  ``F.avg_pool2d``, an empty ``nn.Sequential()`` shortcut, ``view`` before the Linear),
  ``view_net`` (``features``/``classifier`` Sequentials joined by ``x.view(x.size(0), -1)``,
  inplace ReLUs, a Dropout) and ``out_of_order`` (``t = x.transpose(2, 3)`` computed first and
  used last, so the file lists the Transpose long before the Add that reads it; plus
  ``out_of_order.torchscript_unsorted.onnx``, the TorchScript file with its node list
  REVERSED by this script, i.e. not topologically sorted).
* ``small_cnn`` and ``resnet18`` (torchvision, weights=None): the float model exported by
  both exporters with their defaults (``.torchscript``, ``.dynamo``), and each float file
  quantized by onnxruntime: ``quantize_dynamic(float, q)`` (``.<route>_qdynamic``),
  ``quantize_static(float, q, reader, quant_format=QuantFormat.QDQ)`` (``.<route>_qdq``) and
  ``quantize_static(..., quant_format=QuantFormat.QOperator)`` (``.<route>_qoperator``), all
  other arguments default, calibrated on 4 random normal batches, no pre-processing.
* ``resnet18_untrained``: torchvision's own initialisation, NOT randomised (BatchNorm
  weight 1, bias 0, running mean 0, var 1), both exporters with their defaults: the folded
  conv biases are all zero, and the exporters drop (dynamo) or share (TorchScript) them.
* ``dense64``: a CNN exported at 64x64 whose Linear only fits 64x64 (both exporters).
* ``keras``: Keras 3 on the torch backend, ``model.export(path, format="onnx")``:
  ``two_conv`` (Conv2D, MaxPooling2D, Conv2D, MaxPooling2D, Flatten, Dense, Dense) and the
  seed CNN of make_keras.py (whose skeleton is ``../keras/seed.keras_torch.onnx``: the script
  checks that its own export has the same graph and then writes only the summary rows).
* ``silero``: nothing exported; ``silero_vad_legacy_v4.stored.json``, what
  ``../wild/silero_vad_legacy_v4.onnx`` stores, by a walk of its protobuf (dims only).

Every float parameter and buffer is randomised before export (kernels normal with std
1/sqrt(fan_in), other weights normal(0, 0.1), variances |.|+0.5, as make_keras.py does),
except in resnet18_untrained, because exporters drop zero biases and merge equal tensors.

Skeletons follow make_wild.py's policy: every float initializer, and every int8/uint8
initializer of more than 16 elements, is an external-data reference to
``<model>.<route>.weights``, a file that does not exist; other integer tensors (shapes, int32
biases of the static quantizer) stay inline. Load with ``onnx.load(path,
load_external_data=False)``. Exception: the six quantized small_cnn files are kept
COMPLETE (int8 weights, float scales, biases inline, runnable; each under 200 KB). The file
paths in the dynamo exporter's node metadata ``pkg.torch.onnx.stack_trace`` are made relative
(to the repository, or ``site-packages/``); nothing else in an export is changed.

Each JSON has ``versions`` and the export call, and: ``torchinfo`` (for depth 1, 2 and 3:
``torchinfo.summary(model, input_data=[x], depth=D, col_names=("output_size", "num_params",
"mult_adds"), row_settings=("var_names",))`` as rows, one per module CALL in torchinfo's
order, each with its qualified name, class, depth, output shape, printed Param # and
Mult-Adds, the call's MACs without bias and the ONNX tensor holding its output; the printed
table too), ``calls`` (every module call from forward hooks: output shape, params, MACs,
and the ONNX tensors whose VALUES equal its output on the same random input), ``nodes``
(file order, with each node's module scope), ``ort_shapes`` (every tensor, onnxruntime with
every node output exposed, all optimisations off) and per job extras (``bn_folding``,
``stored``, ``quantized``, ``dense_fit``, ``keras_summary``). README.md in the output folder
describes them and what the current tool shows.
"""

from __future__ import annotations

import argparse
import ast
import collections
import copy
import json
import math
import os
import platform
import re
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import onnxruntime.quantization as ortq
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchinfo
import torchvision
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_keras as mk  # noqa: E402  (onnx helpers, value matching, Keras layer view)
import make_torchinfo as mti  # noqa: E402  (torchinfo row helpers)
import make_wild as mw  # noqa: E402  (the skeleton policy)

OUT = HERE / "rows"
H = mk.onnx_helpers()
FLOAT_TYPES = H["FLOAT_TYPES"]
DEPTHS = (1, 2, 3)
COL_NAMES = ("output_size", "num_params", "mult_adds")
ROW_SETTINGS = ("var_names",)
ROUTES = ("dynamo", "torchscript")
EXPORT_CALLS = {
    "dynamo": "torch.onnx.export(model, (x,), path)",
    "torchscript": "torch.onnx.export(model, (x,), path, dynamo=False)",
}
warnings.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------------
# The models


class CifarNet(nn.Module):
    """PyTorch's "Training a Classifier" (CIFAR-10) tutorial net, verbatim."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


class Thrice(nn.Module):
    """One conv called three times, one ReLU module called four times."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Conv2d(8, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 10)

    def forward(self, x):
        x = self.act(self.stem(x))
        for _ in range(3):
            x = self.act(self.body(x))
        return self.head(torch.flatten(self.pool(x), 1))


class BasicBlock(nn.Module):
    """kuangliu/pytorch-cifar's BasicBlock, verbatim."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNetCifar(nn.Module):
    """kuangliu/pytorch-cifar's ResNet with one BasicBlock in each of three stages."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, 1, stride=1)
        self.layer2 = self._make_layer(32, 1, stride=2)
        self.layer3 = self._make_layer(64, 1, stride=2)
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(BasicBlock(self.in_planes, planes, stride))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, 8)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


class ViewNet(nn.Module):
    """features / classifier Sequentials joined by a view, as old AlexNet-style code does."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(inplace=True), nn.Linear(32, 10))

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


class OutOfOrder(nn.Module):
    """A functional op computed first and used last: the file lists it far from its reader."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.out = nn.Conv2d(4, 8, 1)

    def forward(self, x):
        t = x.transpose(2, 3)
        y = self.relu(self.conv(x))
        return self.out(y + t)


class SmallCNN(nn.Module):
    """A small CNN of modules only, for the quantizers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 8 * 8, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


class Dense64(nn.Module):
    """Exported at 64x64; its Linear takes 16*16*16 = 4096 features, i.e. a 64..67 input."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 16 * 16, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.features(x)))


# name -> (builder, input shape, randomise, what it is for)
TORCH_MODELS = {
    "cifar_net": (CifarNet, (1, 3, 32, 32), True,
                  "PyTorch's CIFAR-10 tutorial net: self.pool called twice, F.relu, torch.flatten"),
    "thrice": (Thrice, (1, 3, 16, 16), True,
               "a conv module called three times and a ReLU module called four times"),
    "resnet_cifar": (ResNetCifar, (1, 3, 32, 32), True,
                     "a small residual net: out += shortcut(x), F.relu outside modules, an empty "
                     "Sequential shortcut, F.avg_pool2d, view before the Linear"),
    "view_net": (ViewNet, (1, 1, 28, 28), True,
                 "x.view(x.size(0), -1) between two Sequentials, inplace ReLUs, a Dropout"),
    "out_of_order": (OutOfOrder, (1, 4, 8, 8), True,
                     "t = x.transpose(2, 3) computed first, read by the last Add"),
    "small_cnn": (SmallCNN, (1, 3, 32, 32), True, "a small CNN for the quantizers"),
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224), True,
                 "torchvision resnet18, weights=None, randomised"),
    "resnet18_untrained": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224),
                           False, "torchvision resnet18 as torchvision initialises it (NOT "
                           "randomised: BatchNorm weight 1, bias 0, mean 0, var 1)"),
    "dense64": (Dense64, (1, 3, 64, 64), True,
                "a CNN exported at 64x64 whose Linear takes 4096 = 16*16*16 features"),
}
FUNCTIONAL = ("cifar_net", "thrice", "resnet_cifar", "view_net", "out_of_order")
QUANTIZED = ("small_cnn", "resnet18")
JOBS = FUNCTIONAL + ("small_cnn", "resnet18", "resnet18_untrained", "dense64", "keras", "silero")


def versions() -> dict:
    import onnxscript
    return {"torch": torch.__version__, "torchvision": torchvision.__version__,
            "torchinfo": torchinfo.__version__, "onnx": onnx.__version__,
            "onnxruntime": ort.__version__, "onnxscript": onnxscript.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def build(name: str):
    builder, shape, randomise, _ = TORCH_MODELS[name]
    torch.manual_seed(0)
    model = builder().eval()
    if randomise:
        mk.randomise_torch(torch, model, seed=sum(map(ord, name)))
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    return model, x


# ---------------------------------------------------------------------------------------------
# torch's view: every module call, and torchinfo's rows


def conv_linear_macs(mod, out) -> int:
    """MACs of one call, bias excluded (the project's convention): Conv output units x
    C_in/groups x kernel; Linear output units x in_features; 0 for everything else."""
    if isinstance(mod, nn.Conv2d):
        return out.numel() * (mod.in_channels // mod.groups) * math.prod(mod.kernel_size)
    if isinstance(mod, nn.Linear):
        return out.numel() * mod.in_features
    return 0


def module_calls(model, x) -> tuple[list[dict], list]:
    """Every module call (the root too) in pre-hook order, as torchinfo lists its rows, with a
    copy of its output (inplace ReLUs would change it later) and its MACs and its subtree's."""
    calls, stack, hooks, outputs = [], [], [], []
    seen = collections.Counter()
    for qn, mod in model.named_modules():
        def pre(mod, args, qn=qn):
            rec = {"qualified_name": qn, "class": type(mod).__name__, "call": seen[qn],
                   "depth": qn.count(".") + 1 if qn else 0,
                   "input_shape": list(args[0].shape) if args else None,
                   "params_subtree": sum(p.numel() for p in mod.parameters()),
                   "params_own": sum(p.numel() for p in mod.parameters(recurse=False)),
                   "leaf": not list(mod.children()), "macs": 0, "macs_subtree": 0,
                   "input_ptr": args[0].data_ptr() if args else None}
            seen[qn] += 1
            calls.append(rec)
            outputs.append(None)
            stack.append(len(calls) - 1)

        def post(mod, args, out, qn=qn):
            i = stack.pop()
            calls[i]["output_shape"] = list(out.shape)
            calls[i]["output_ptr"] = out.data_ptr()
            outputs[i] = out.detach().clone()
            macs = conv_linear_macs(mod, out)
            calls[i]["macs"] = macs
            for j in stack + [i]:
                calls[j]["macs_subtree"] += macs
        hooks += [mod.register_forward_pre_hook(pre), mod.register_forward_hook(post)]
    with torch.no_grad():
        y = model(x)
    for hk in hooks:
        hk.remove()
    for seq, c in enumerate(calls):
        c["seq"] = seq
    return calls, [o.numpy() for o in outputs], y.numpy()


def torchinfo_depth(model, x, depth: int, calls: list[dict]) -> dict:
    """torchinfo's table at one depth as rows (one per call), checked against its text."""
    torchinfo.torchinfo.clear_cached_forward_pass()
    s = torchinfo.summary(model, input_data=[x], depth=depth, col_names=COL_NAMES,
                          row_settings=ROW_SETTINGS, verbose=0, device="cpu")
    text = str(s)
    by_call = {(c["qualified_name"], c["call"]): c for c in calls}
    seen = collections.Counter()
    order = {}  # torchinfo's k-th row of a module is the module's k-th call
    for li in s.summary_list:
        qn = mti.qualified_name(li)
        order[id(li)] = seen[qn]
        seen[qn] += 1
    shown = [li for li in s.summary_list if li.depth <= depth]
    rows = []
    for i, li in enumerate(shown):
        reached = li.depth == depth
        nxt = shown[i + 1] if i + 1 < len(shown) else None
        qn = mti.qualified_name(li)
        call = by_call.get((qn, order[id(li)]))
        rows.append({
            "qualified_name": qn, "var_name": li.var_name, "class_name": li.class_name,
            "depth": li.depth, "call": order[id(li)], "is_recursive": li.is_recursive,
            "is_leaf": nxt is None or nxt.depth <= li.depth,
            "output_size": list(li.output_size),
            "num_params": mti.printed_params(li, reached),
            "num_params_str": li.num_params_to_str(reached),
            "params_subtree": li.num_params,
            "mult_adds": mti.row_mult_adds(li, reached),
            "macs": call["macs_subtree"] if call else None,
            "onnx_tensor": None,
        })
    check_printed(text, rows, s)
    return {"rows": rows, "table": text}, s


def check_printed(text: str, rows: list[dict], s) -> None:
    """Each printed row's class, var name, output cell, Param # and Mult-Adds cell equal ours."""
    printed = mti.parse_table(text, s.formatting.layer_name_width)
    assert len(printed) == len(rows), (len(printed), len(rows))
    for p, r in zip(printed, rows):
        assert (p["cls"], p["var"] or "") == (r["class_name"], r["var_name"] or ""), (p, r)
        out_cell = str(r["output_size"]) if r["output_size"] else "--"
        macs_cell = f"{r['mult_adds']:,}" if r["mult_adds"] else "--"
        assert p["cells"] == [out_cell, r["num_params_str"], macs_cell], (p, r)
    assert sum(r["num_params"] or 0 for r in rows) == s.total_params


def torchinfo_view(model, x, calls) -> dict:
    view = {"call": ("torchinfo.summary(model, input_data=[x], depth=D, col_names="
                     f"{COL_NAMES}, row_settings={ROW_SETTINGS}, verbose=0, device='cpu')")}
    for d in DEPTHS:
        view[f"depth_{d}"], s = torchinfo_depth(model, x, d, calls)
    view["totals"] = {"total_params": s.total_params, "trainable_params": s.trainable_params,
                      "total_mult_adds": s.total_mult_adds,
                      "summary_list_len": len(s.summary_list)}
    return view


def torch_totals(model) -> dict:
    params = list(model.parameters())
    return {"params": sum(p.numel() for p in params),
            "trainable": sum(p.numel() for p in params if p.requires_grad),
            "float_buffers": sum(b.numel() for b in model.buffers() if b.is_floating_point())}


# ---------------------------------------------------------------------------------------------
# The ONNX side


def export(model, x, route: str) -> onnx.ModelProto:
    """Export with the exporter's defaults; return the full model (weights in memory)."""
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "m.onnx"
        if route == "dynamo":
            torch.onnx.export(model, (x,), str(path))
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False)
        return onnx.load(str(path))


def node_scope(n) -> list[str]:
    """dynamo: the module scopes of pkg.torch.onnx.name_scopes; TorchScript: the name's path."""
    for p in n.metadata_props:
        if p.key == "pkg.torch.onnx.name_scopes":
            return [c for c in ast.literal_eval(p.value)[1:-1] if c]
    return mk.name_path(n.name)


def node_list(m) -> list[dict]:
    return [{"name": n.name, "op_type": n.op_type, "domain": n.domain,
             "inputs": list(n.input), "outputs": list(n.output), "scope": node_scope(n)}
            for n in m.graph.node]


def run(m, x: np.ndarray):
    """onnxruntime's value of every tensor (file order) with the input under its name."""
    name = m.graph.input[0].name
    values, order = H["ort_run"](m, {name: x})
    values = dict(values)
    values[name] = x
    return values, [name] + order


def match_calls(m, calls, outputs, values, order) -> None:
    """Give each call the ONNX tensors whose values equal its output (exact match first)."""
    producer = {o: n for n in m.graph.node for o in n.output}
    for c, out in zip(calls, outputs):
        found = mk.match_values(np, out, values, order, False)
        for f in found:
            n = producer.get(f["tensor"])
            f["op_type"] = n.op_type if n is not None else "graph input"
            f["node"] = n.name if n is not None else None
        exact = [f for f in found if not f["layout"].startswith("reshaped")]
        first = (exact or [None])[0]
        c["onnx_tensor"] = first["tensor"] if first else None
        c["onnx_op_type"] = first["op_type"] if first else None
        c["onnx_matches"] = [{k: f[k] for k in ("tensor", "op_type", "node", "shape", "layout")}
                             for f in found[:6]]


def float_stored(m) -> dict:
    """What the file stores: float initializers (count, elements), shared and aliased ones."""
    inits = [t for t in m.graph.initializer if t.data_type in FLOAT_TYPES]
    uses = collections.Counter(i for n in m.graph.node for i in n.input)
    alias = [{"node": n.name, "from": n.input[0], "to": n.output[0]} for n in m.graph.node
             if n.op_type == "Identity" and n.input[0] in {t.name for t in inits}]
    return {"float_initializers": len(inits),
            "float_elements": sum(math.prod(t.dims) for t in inits),
            "initializers_read_by_several_nodes": {t.name: uses[t.name] for t in inits
                                                   if uses[t.name] > 1},
            "identity_aliases": alias}


def save_skeleton(m, path: Path) -> dict:
    """make_wild.py's policy (floats and int8/uint8 > 16 elements external, the file absent)."""
    stem = path.name[: -len(".onnx")]
    skel, info = mw.make_skeleton(m, f"{stem}.weights")
    onnx.save(skel, str(path))
    onnx.load(str(path), load_external_data=False)  # loads without the weights
    return info


def write_json(path: Path, rec: dict) -> None:
    """One line per key, per list item of dicts, so that a diff shows what changed."""
    def block(d: dict, ind: str) -> str:
        items = []
        for k, v in d.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                inner = ",\n".join(f"{ind}  " + json.dumps(e) for e in v)
                val = f"[\n{inner}\n{ind}]"
            elif isinstance(v, dict) and v and len(json.dumps(v)) > 100:
                val = block(v, ind + " ")
            else:
                val = json.dumps(v)
            items.append(f"{ind} {json.dumps(k)}: {val}")
        return "{\n" + ",\n".join(items) + "\n" + ind + "}"
    text = block(rec, "") + "\n"
    assert json.loads(text) == json.loads(json.dumps(rec))
    path.write_text(text)


def base_record(name: str, route: str, call: str, m) -> dict:
    return {"model": name, "route": route, "what": TORCH_MODELS.get(name, (0, 0, 0, ""))[3],
            "export_call": call, "versions": VERSIONS,
            "opset_import": {d.domain or "ai.onnx": d.version for d in m.opset_import},
            "ir_version": m.ir_version,
            "input": {"name": m.graph.input[0].name,
                      "shape": H["shape_of"](m.graph.input[0])}}


def torch_record(name, route, call, m, model, x, calls, outputs, y, ti) -> tuple[dict, dict]:
    """The record of one export: torch's and torchinfo's view joined to onnxruntime's."""
    values, order = run(m, x.numpy())
    match_calls(m, calls, outputs, values, order)
    ti = copy.deepcopy(ti)
    by_call = {(c["qualified_name"], c["call"]): c for c in calls}
    for d in DEPTHS:
        for r in ti[f"depth_{d}"]["rows"]:
            c = by_call.get((r["qualified_name"], r["call"]))
            r["onnx_tensor"] = c["onnx_tensor"] if c else None
    rec = base_record(name, route, call, m)
    got = values[m.graph.output[0].name]
    rec.update({
        "torch": torch_totals(model), "macs": sum(c["macs"] for c in calls),
        "torchinfo": ti,
        "calls": [{k: v for k, v in c.items() if not k.endswith("_ptr")} for c in calls],
        "nodes": node_list(m), "stored": float_stored(m),
        "ort_shapes": {n: list(values[n].shape) for n in order},
        "graph_outputs": {o.name: list(values[o.name].shape) for o in m.graph.output},
        "check": {"max_abs_diff_vs_torch": float(np.abs(got - y.reshape(got.shape)).max()),
                  "max_abs_output": float(np.abs(y).max())},
    })
    return rec, values


def torch_job(name: str, out: Path, routes=ROUTES) -> dict:
    """Export name with each route; write skeleton + JSON; return {route: (full model, rec)}."""
    model, x = build(name)
    calls, outputs, y = module_calls(model, x)
    ti = torchinfo_view(model, x, calls)
    done = {}
    for route in routes:
        m = export(model, x, route)
        rec, _ = torch_record(name, route, EXPORT_CALLS[route], m, model, x,
                              copy.deepcopy(calls), outputs, y, ti)
        if any(isinstance(mod, nn.BatchNorm2d) for mod in model.modules()):
            rec["bn_folding"] = bn_folding(model, rec["calls"], calls, m)
        done[route] = (m, rec)
    return {"model": model, "x": x, "calls": calls, "outputs": outputs, "y": y,
            "torchinfo": ti, "routes": done}


SITE_PACKAGES = Path(torch.__file__).resolve().parent.parent
REPO = HERE.parent.parent


def relative_stack_traces(m) -> None:
    """The dynamo exporter's pkg.torch.onnx.stack_trace names files by absolute path: make
    them relative to the repository or to site-packages, so that no machine path is kept."""
    for n in m.graph.node:
        for p in n.metadata_props:
            if p.key == "pkg.torch.onnx.stack_trace":
                p.value = p.value.replace(f"{REPO}/", "").replace(f"{SITE_PACKAGES}/",
                                                                  "site-packages/")


def write(out: Path, stem: str, m, rec: dict, skeleton: bool = True) -> None:
    path = out / f"{stem}.onnx"
    relative_stack_traces(m)
    if skeleton:
        rec["skeleton"] = save_skeleton(m, path)
    else:
        onnx.save(m, str(path))
        rec["skeleton"] = "complete file: every tensor inline"
    write_json(out / f"{stem}.json", rec)
    print(f"  {stem}: {len(m.graph.node)} nodes, {path.stat().st_size} B onnx, "
          f"{(out / f'{stem}.json').stat().st_size} B json", flush=True)


# ---------------------------------------------------------------------------------------------
# Jobs: functional nets


def functional_job(name: str, out: Path) -> None:
    job = torch_job(name, out)
    for route, (m, rec) in job["routes"].items():
        write(out, f"{name}.{route}", m, rec)
    if name == "out_of_order":
        unsorted_copy(job, out)


def unsorted_copy(job, out: Path) -> None:
    """The TorchScript export with its node list reversed: not topologically sorted."""
    m, rec = job["routes"]["torchscript"]
    m = copy.deepcopy(m)
    nodes = list(m.graph.node)[::-1]
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    rec = copy.deepcopy(rec)
    rec["route"] = "torchscript_unsorted"
    rec["export_call"] = (EXPORT_CALLS["torchscript"] + "; then this script reversed "
                          "m.graph.node (the same nodes, consumers listed before producers)")
    try:
        onnx.checker.check_model(m)
        rec["onnx_checker"] = "accepted"
    except onnx.checker.ValidationError as exc:
        rec["onnx_checker"] = re.sub(r"\s+", " ", str(exc).strip())[:300]
    values, order = run(m, job["x"].numpy())  # onnxruntime sorts the nodes itself
    rec["ort_shapes"] = {n: list(values[n].shape) for n in order}
    rec["nodes"] = node_list(m)
    write(out, "out_of_order.torchscript_unsorted", m, rec)


# ---------------------------------------------------------------------------------------------
# BatchNorm folding


def bn_folding(model, rec_calls, calls, m) -> dict:
    """For each BatchNorm call: the conv call whose output it reads, whether the export folded
    it (the BN's output is made by a Conv node), the Conv node and its initializers, and what
    was dropped (2C params, 2C running stats)."""
    mods = dict(model.named_modules())
    producer = {o: n for n in m.graph.node for o in n.output}
    inits = {t.name: list(t.dims) for t in m.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in m.graph.node  # TorchScript's shared equal tensors
             if n.op_type == "Identity" and n.input[0] in inits}
    rows = []
    for i, c in enumerate(calls):
        if c["class"] != "BatchNorm2d":
            continue
        # the nearest earlier call that returned the tensor this BN reads (alive, so its
        # address is not reused in between)
        j = next((k for k in range(i - 1, -1, -1)
                  if calls[k].get("output_ptr") == c["input_ptr"]), None)
        conv = calls[j] if j is not None and calls[j]["class"] == "Conv2d" else None
        bn_tensor = rec_calls[i]["onnx_tensor"]
        node = producer.get(bn_tensor) if bn_tensor else None
        # folded: no node of its own, a Conv makes its output (then the conv's own output is
        # nowhere in the file, unless the BN is the identity, as untrained ones nearly are)
        folded = bool(conv) and node is not None and node.op_type == "Conv"
        row = {"bn": c["qualified_name"], "channels": mods[c["qualified_name"]].num_features,
               "conv": conv["qualified_name"] if conv else None, "folded": folded,
               "bn_output_tensor": bn_tensor, "onnx_node": node.name if node else None,
               "onnx_op_type": node.op_type if node else None,
               "conv_output_tensor": rec_calls[j]["onnx_tensor"] if conv else None}
        if folded:
            row["conv_weight"] = {"name": node.input[1], "dims": inits.get(node.input[1])}
            b = node.input[2] if len(node.input) > 2 and node.input[2] else None
            src = alias.get(b, b)
            row["conv_bias"] = {"name": b, "initializer": src, "dims": inits.get(src)} \
                if b else None
            row["conv_had_bias"] = mods[conv["qualified_name"]].bias is not None
        rows.append(row)
    folded = [r for r in rows if r["folded"]]
    new_biases = {r["conv_bias"]["initializer"] for r in folded
                  if r["conv_bias"] and not r["conv_had_bias"]}
    c_sum = sum(r["channels"] for r in folded)
    return {
        "rows": rows, "batchnorms": len(rows), "folded": len(folded),
        "batchnormalization_nodes": sum(n.op_type == "BatchNormalization" for n in m.graph.node),
        "folded_channels": c_sum,
        "dropped_trainable_params": 2 * c_sum, "dropped_running_stats": 2 * c_sum,
        "new_conv_biases": sum(1 for r in folded if r["conv_bias"] and not r["conv_had_bias"]),
        "new_conv_bias_initializers": len(new_biases),
        "new_conv_bias_elements_stored": sum(math.prod(inits[b]) for b in new_biases),
    }


def resnet_job(name: str, out: Path) -> dict:
    job = torch_job(name, out)
    for route, (m, rec) in job["routes"].items():
        rec["num_params_torchvision"] = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta[
            "num_params"]
        write(out, f"{name}.{route}", m, rec)
    return job


# ---------------------------------------------------------------------------------------------
# Quantized models


class Batches(ortq.CalibrationDataReader):
    """A few random normal batches (seeded), fed under the model's input name."""

    def __init__(self, name: str, shape, count: int = 4):
        g = np.random.default_rng(1)
        self.feeds = iter([{name: g.standard_normal(shape).astype(np.float32)}
                           for _ in range(count)])

    def get_next(self):
        return next(self.feeds, None)


QUANTIZERS = {
    "qdynamic": "quantize_dynamic(float_path, path)",
    "qdq": "quantize_static(float_path, path, reader, quant_format=QuantFormat.QDQ)",
    "qoperator": "quantize_static(float_path, path, reader, quant_format=QuantFormat.QOperator)",
}


def quantize(m, x, kind: str):
    q = ortq
    with tempfile.TemporaryDirectory() as td:
        src, dst = Path(td) / "f.onnx", Path(td) / "q.onnx"
        onnx.save(m, str(src))
        if kind == "qdynamic":
            q.quantize_dynamic(str(src), str(dst))
        else:
            fmt = q.QuantFormat.QDQ if kind == "qdq" else q.QuantFormat.QOperator
            q.quantize_static(str(src), str(dst), Batches(m.graph.input[0].name, x.shape),
                              quant_format=fmt)
        return onnx.load(str(dst))


# (domain, op) -> formal input names, for the contrib ops onnx.defs does not know
CONTRIB_INPUTS = {
    ("com.microsoft", "QGemm"): ["A", "a_scale", "a_zero_point", "B", "b_scale",
                                 "b_zero_point", "C", "y_scale", "y_zero_point"],
    ("com.microsoft", "QLinearAdd"): ["A", "A_scale", "A_zero_point", "B", "B_scale",
                                      "B_zero_point", "C_scale", "C_zero_point"],
    ("com.microsoft", "QLinearGlobalAveragePool"): ["X", "x_scale", "x_zero_point", "y_scale",
                                                    "y_zero_point"],
}
# output scale / zero point input positions of ops whose int8 output they describe
OUT_QPARAMS = {"QuantizeLinear": (1, 2), "QLinearConv": (6, 7), "QLinearMatMul": (6, 7),
               "QGemm": (7, 8), "QLinearAdd": (6, 7), "QLinearGlobalAveragePool": (3, 4)}
PASS_THROUGH = {"MaxPool", "Flatten", "Reshape", "Transpose", "Identity", "Squeeze",
                "Unsqueeze"}


def formal_inputs(n) -> list[str]:
    key = (n.domain, n.op_type)
    if key in CONTRIB_INPUTS:
        return CONTRIB_INPUTS[key]
    try:
        schema = onnx.defs.get_schema(n.op_type, domain=n.domain)
        return [i.name for i in schema.inputs]
    except onnx.defs.SchemaError:
        return []


def initializer_roles(q, float_m) -> list[dict]:
    """Every initializer of the quantized file, its consumers (op, formal input) and the float
    file's initializer it was made from (the longest float name it starts with)."""
    float_names = sorted((t.name for t in float_m.graph.initializer), key=len, reverse=True)
    consumers = collections.defaultdict(list)
    for n in q.graph.node:
        formal = formal_inputs(n)
        for k, i in enumerate(n.input):
            if i:
                consumers[i].append(f"{n.op_type}.{formal[k] if k < len(formal) else k}")
    rows = []
    for t in q.graph.initializer:
        src = next((f for f in float_names if t.name == f or t.name.startswith(f + "_")), None)
        rows.append({"name": t.name, "dtype": onnx.TensorProto.DataType.Name(t.data_type),
                     "dims": list(t.dims), "elements": math.prod(t.dims),
                     "consumers": consumers.get(t.name, []), "from_float": src})
    return rows


def dequantized(q, values: dict) -> dict:
    """Float views of the int8/uint8 tensors of a run: (v - zero_point) * scale, the scale and
    zero point taken from the op that made the tensor (passed through pools and reshapes)."""
    inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    get = {**inits, **values}.get
    qp = {}
    for n in q.graph.node:
        if n.op_type in OUT_QPARAMS:
            s, z = OUT_QPARAMS[n.op_type]
            qp[n.output[0]] = (n.input[s], n.input[z])
        elif n.op_type == "DynamicQuantizeLinear":
            qp[n.output[0]] = (n.output[1], n.output[2])
        elif n.op_type in PASS_THROUGH and n.input[0] in qp:
            qp[n.output[0]] = qp[n.input[0]]
    out = {}
    for name, (s, z) in qp.items():
        v, scale, zp = get(name), get(s), get(z)
        if v is not None and scale is not None and zp is not None and v.dtype.kind in "iu":
            out[name] = (v.astype(np.float64) - np.asarray(zp, np.float64)) * np.asarray(scale)
    return out


def approx_matches(calls, outputs, values, deq) -> None:
    """For each float module call, the quantized run's tensors of its shape near its output
    (relative L2 error under 0.2): float tensors first, then dequantized int8 ones."""
    pool = {n: v.astype(np.float64) for n, v in values.items()
            if isinstance(v, np.ndarray) and v.dtype.kind == "f"}
    pool.update(deq)
    for c, ref in zip(calls, outputs):
        ref = np.asarray(ref, np.float64)
        norm = float(np.linalg.norm(ref))
        found = []
        for n, v in pool.items():
            if v.shape != ref.shape or norm == 0:
                continue
            err = float(np.linalg.norm(v - ref)) / norm
            if err < 0.2:
                found.append({"tensor": n, "rel_error": round(err, 4),
                              "dequantized": n in deq})
        found.sort(key=lambda f: (f["dequantized"], f["rel_error"]))  # float tensors first
        c["q_tensor"] = found[0]["tensor"] if found else None
        c["q_matches"] = found[:4]


def quantized_records(name, job, out: Path, skeleton: bool) -> None:
    """Each float export quantized three ways: <model>.<float route>_<quantizer>."""
    x = job["x"].numpy()
    for route, (float_m, float_rec) in job["routes"].items():
        for kind, call in QUANTIZERS.items():
            q = quantize(float_m, x, kind)
            values, order = run(q, x)
            calls = [{k: c[k] for k in ("seq", "qualified_name", "class", "call", "depth",
                                        "output_shape", "params_subtree", "macs",
                                        "macs_subtree", "onnx_tensor")}
                     for c in float_rec["calls"]]
            for c in calls:
                c["float_tensor"] = c.pop("onnx_tensor")
            approx_matches(calls, job["outputs"], values, dequantized(q, values))
            rec = base_record(name, f"{route}_{kind}", "onnxruntime.quantization." + call, q)
            inits = initializer_roles(q, float_m)
            rec.update({
                "float_file": f"{name}.{route}.onnx",
                "float_stored": float_rec["stored"], "torch": float_rec["torch"],
                "macs": float_rec["macs"], "torchinfo": float_rec["torchinfo"],
                "calls": calls, "nodes": node_list(q), "initializers": inits,
                "quantized": quant_summary(inits, float_m),
                "ort_shapes": {n: list(values[n].shape) for n in order},
                "ort_dtypes": {n: str(values[n].dtype) for n in order},
                "graph_outputs": {o.name: list(values[o.name].shape) for o in q.graph.output},
            })
            write(out, f"{name}.{route}_{kind}", q, rec, skeleton=skeleton)


def quant_summary(inits, float_m) -> dict:
    """Stored elements per role: each float initializer once (as int8/int32/float), scales,
    zero points and the rest, by dtype."""
    float_elems = {t.name: math.prod(t.dims) for t in float_m.graph.initializer
                   if t.data_type in FLOAT_TYPES}
    by = collections.Counter()
    covered = {}
    for r in inits:
        uses = " ".join(r["consumers"])
        if "scale" in uses or r["name"].endswith("_scale"):
            role = "scale"
        elif "zero_point" in uses or r["name"].endswith("_zero_point"):
            role = "zero_point"
        elif r["from_float"] in float_elems and r["elements"] == float_elems[r["from_float"]]:
            role = "weight_or_bias"
            covered[r["from_float"]] = r["dtype"]
        else:
            role = "other"
        r["role"] = role
        by[f"{role} {r['dtype']}"] += r["elements"]
    return {"elements_by_role_dtype": dict(sorted(by.items())),
            "float_initializers_of_float_file": len(float_elems),
            "float_elements_of_float_file": sum(float_elems.values()),
            "float_initializers_carried_over": len(covered),
            "float_elements_carried_over": sum(float_elems[k] for k in covered),
            "float_initializers_not_found": sorted(set(float_elems) - set(covered)),
            "carried_over_as": dict(collections.Counter(covered.values()))}


def quantized_job(name: str, out: Path) -> None:
    if name == "resnet18":
        job = resnet_job(name, out)
    else:
        job = torch_job(name, out)
        for route, (m, rec) in job["routes"].items():
            write(out, f"{name}.{route}", m, rec)
    quantized_records(name, job, out, skeleton=name != "small_cnn")


# ---------------------------------------------------------------------------------------------
# The dense layer that fits one input size


def dense_fit(model, m, x) -> dict:
    """The Linear's weight in the file, the square input sizes whose flattened features equal
    its in_features (by running torch's features on each size), and what onnxruntime says
    when the file's input is made symbolic and fed 32x32."""
    fc = model.fc
    sizes = []
    with torch.no_grad():
        for s in range(8, 129):
            f = model.flatten(model.features(torch.zeros(1, 3, s, s)))
            if f.shape[1] == fc.in_features:
                sizes.append(s)
    node = next(n for n in m.graph.node if n.op_type in ("Gemm", "MatMul"))
    dims = {t.name: list(t.dims) for t in m.graph.initializer}
    trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
    with torch.no_grad():
        at32 = model.flatten(model.features(torch.zeros(1, 3, 32, 32))).shape[1]
    return {"in_features": fc.in_features, "out_features": fc.out_features,
            "onnx_node": node.name, "onnx_op_type": node.op_type,
            "weight": {"name": node.input[1], "dims": dims.get(node.input[1]),
                       "transB": trans_b},
            "fitting_square_sizes": sizes, "smallest_fitting": [sizes[0], sizes[0]],
            "exported_at": list(x.shape[2:]), "flattened_at_32x32": at32,
            "ort_at_32x32": ort_error(m, np.zeros((1, 3, 32, 32), np.float32))}


def ort_error(m, x) -> str:
    """onnxruntime's first line when the model's input is made symbolic and fed x."""
    m = copy.deepcopy(m)
    for i, d in enumerate(m.graph.input[0].type.tensor_type.shape.dim):
        if i >= 2:
            d.ClearField("dim_value")
            d.dim_param = "HW"[i - 2]
    del m.graph.value_info[:]
    try:
        run(m, x)
    except Exception as exc:  # onnxruntime's Fail/RuntimeException
        return re.sub(r"\s+", " ", str(exc).strip())[:400]
    return "ran"


def dense_job(out: Path) -> None:
    job = torch_job("dense64", out)
    for route, (m, rec) in job["routes"].items():
        rec["dense_fit"] = dense_fit(job["model"], m, job["x"])
        write(out, f"dense64.{route}", m, rec)


# ---------------------------------------------------------------------------------------------
# Keras 3 on the torch backend


def keras_summary_rows(model) -> dict:
    """model.summary() as printed, and its rows (name, class, output shape, params)."""
    lines = []
    model.summary(print_fn=lambda s, line_break=True: lines.append(s))
    text = "\n".join(lines)
    rows = []
    for ln in text.splitlines():
        cells = [c.strip() for c in ln.strip().strip("│┃").split("│")]
        m = re.fullmatch(r"(\S+) \((\w+)\)", cells[0]) if len(cells) == 3 else None
        if m:
            rows.append({"name": m[1], "class": m[2], "output_shape": cells[1],
                         "params": int(cells[2].replace(",", ""))})
    totals = {k: int(v.replace(",", "")) for k, v in re.findall(
        r"(Total|Trainable|Non-trainable) params: ([\d,]+)", text)}
    return {"rows": rows, "totals": totals, "text": text}


def keras_model(keras, name: str):
    L = keras.layers
    keras.backend.clear_session()  # automatic names from conv2d, dense, ...
    if name == "two_conv":
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax"),
        ]), (28, 28, 1)
    return mk.build_keras(keras, name)


def keras_job(out: Path) -> None:
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    assert keras.backend.backend() == "torch"
    vers = dict(VERSIONS, keras=keras.__version__, backend="torch")
    for name in ("two_conv", "seed"):
        model, shape = keras_model(keras, name)
        mk.randomise_keras(np, model, seed=sum(map(ord, name)))
        x = np.random.default_rng(0).standard_normal((1, *shape)).astype("float32")
        y = keras.ops.convert_to_numpy(model(x, training=False))
        layers = mk.keras_layers(np, model)
        summary = keras_summary_rows(model)
        check_keras_summary(summary, layers, model)
        probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
        outs = [keras.ops.convert_to_numpy(o) for o in probe(x, training=False)]
        with tempfile.TemporaryDirectory() as td:
            path = Path(td) / "m.onnx"
            model.export(str(path), format="onnx", verbose=False)
            m = onnx.load(str(path))
        values, order = run(m, x)
        for layer, o in zip(layers, outs):
            found = mk.match_values(np, o, values, order, True)
            exact = [f for f in found if not f["layout"].startswith("reshaped")]
            layer["onnx_tensor"] = (exact or found or [{"tensor": None}])[0]["tensor"]
            layer["onnx_matches"] = found[:4]
        rec = base_record(name, "keras_torch", "model.export(path, format='onnx', "
                          "verbose=False)", m)
        rec.update({"versions": vers, "keras_summary": summary, "layers": layers,
                    "macs": sum(layer["macs"] for layer in layers), "nodes": node_list(m),
                    "ort_shapes": {n: list(values[n].shape) for n in order},
                    "check": {"max_abs_diff_vs_keras": float(np.abs(
                        values[m.graph.output[0].name] - y).max())}})
        if name == "seed":
            same_graph_as_committed(m, HERE / "keras" / "seed.keras_torch.onnx", rec)
            rec["onnx_file"] = "../keras/seed.keras_torch.onnx"
            write_json(out / "seed.keras_torch.json", rec)
            print("  seed.keras_torch.json (skeleton: ../keras/seed.keras_torch.onnx)")
        else:
            write(out, f"{name}.keras_torch", m, rec)


def check_keras_summary(summary, layers, model) -> None:
    """The printed rows are model.layers: same names, classes, params, output shapes."""
    assert len(summary["rows"]) == len(layers), (summary["rows"], layers)
    for r, layer in zip(summary["rows"], layers):
        shape = "(" + ", ".join("None" if d is None else str(d)
                                for d in layer["output_shape"]) + ")"
        assert (r["name"], r["class"], r["params"], r["output_shape"]) == (
            layer["name"], layer["class"], layer["params"], shape), (r, layer)
    assert summary["totals"]["Total"] == model.count_params()


def same_graph_as_committed(m, committed: Path, rec: dict) -> None:
    """The committed skeleton has the same nodes (op, name, inputs, outputs) and
    initializer names/dims as this export."""
    old = onnx.load(str(committed), load_external_data=False)

    def sig(g):
        return ([(n.op_type, n.name, list(n.input), list(n.output)) for n in g.node],
                sorted((t.name, list(t.dims)) for t in g.initializer))
    assert sig(old.graph) == sig(m.graph), "re-export differs from ../keras/seed.keras_torch"
    rec["same_graph_as_committed_skeleton"] = True


# ---------------------------------------------------------------------------------------------
# silero VAD v4: what the file stores


def stored_walk(g, path: str, rows: list) -> None:
    """Every float tensor a graph stores (initializers and Constant nodes), its subgraphs'
    too. Only dims are read: the skeleton has no weight bytes."""
    tensors = [(t, "initializer", t.name) for t in g.initializer]
    tensors += [(a.t, "Constant", n.output[0]) for n in g.node if n.op_type == "Constant"
                for a in n.attribute if a.name == "value"]
    for t, kind, name in tensors:
        if t.data_type in FLOAT_TYPES:
            rows.append({"graph": path, "kind": kind, "name": name, "dims": list(t.dims),
                         "elements": math.prod(t.dims)})
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                stored_walk(a.g, f"{path}/{n.name}.{a.name}", rows)


def subgraph_readers(g, path: str, acc: dict) -> None:
    """Which ops read each name, in every graph (outer-scope reads included)."""
    for n in g.node:
        for k, i in enumerate(n.input):
            acc[i].append(f"{path}:{n.op_type}[{k}]")
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                subgraph_readers(a.g, f"{path}/{n.name}.{a.name}", acc)


def silero_job(out: Path) -> None:
    src = HERE / "wild" / "silero_vad_legacy_v4.onnx"
    m = onnx.load(str(src), load_external_data=False)
    rows: list = []
    stored_walk(m.graph, "main", rows)
    acc = collections.defaultdict(list)
    subgraph_readers(m.graph, "main", acc)
    by_graph = collections.Counter()
    for r in rows:
        r["read_by"] = acc.get(r["name"], [])
        by_graph[r["graph"]] += r["elements"]
    scalars = [r for r in rows if r["elements"] == 1]
    branch_scalars = [r for r in scalars if r["graph"] != "main"]
    total = sum(r["elements"] for r in rows)
    rec = {"file": "../wild/silero_vad_legacy_v4.onnx", "versions": {"onnx": onnx.__version__},
           "float_elements_total": total, "float_tensors": len(rows),
           "float_elements_by_graph": dict(sorted(by_graph.items())),
           "one_element_float_tensors": [
               {k: r[k] for k in ("graph", "name", "read_by")} for r in scalars],
           "total_without_branch_scalars": total - sum(r["elements"] for r in branch_scalars),
           "lstm_weights_by_graph": {g: sum(r["elements"] for r in rows if r["graph"] == g and
                                            any(":LSTM[" in u for u in r["read_by"]))
                                     for g in sorted(by_graph)},
           "tensors": rows}
    write_json(out / "silero_vad_legacy_v4.stored.json", rec)
    print(f"  silero: {total} float elements stored, "
          f"{rec['total_without_branch_scalars']} without the If branches' scalars")


# ---------------------------------------------------------------------------------------------


VERSIONS: dict = {}


def main() -> int:
    global VERSIONS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("jobs", nargs="*", help=f"jobs to run (default: all): {', '.join(JOBS)}")
    ap.add_argument("--out", type=Path, default=OUT,
                    help="output folder (default: rows/ beside this script)")
    args = ap.parse_args()
    unknown = set(args.jobs) - set(JOBS)
    if unknown:
        ap.error(f"unknown jobs {sorted(unknown)}; choose from {', '.join(JOBS)}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    VERSIONS = versions()
    for job in args.jobs or JOBS:
        print(f"== {job}", flush=True)
        if job in FUNCTIONAL:
            functional_job(job, out)
        elif job in QUANTIZED:
            quantized_job(job, out)
        elif job == "resnet18_untrained":
            resnet_job(job, out)
        elif job == "dense64":
            dense_job(out)
        elif job == "keras":
            keras_job(out)
        elif job == "silero":
            silero_job(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
