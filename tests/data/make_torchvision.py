#!/usr/bin/env python3
"""Make the torchvision oracle data in tests/data/torchvision/.

NOT run in CI and not a dependency of the project: run it by hand in a
separate environment that has torch, e.g.

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 \
        onnx onnxruntime onnxscript
    /work/torchvenv/bin/python tests/data/make_torchvision.py [model ...]

For every model and for both exporters (dynamo and the legacy TorchScript one)
it writes:

* ``<model>.<exporter>.onnx``: a weight-free skeleton. Every initializer is an
  external-data reference (dims, dtype, location/offset/length kept) to a
  ``<model>.<exporter>.weights`` file that is deleted, so load it with
  ``onnx.load(path, load_external_data=False)``.
* ``<model>.<exporter>.json``: the oracle: torchvision's published
  ``num_params`` and ``_ops`` (GFLOPS as torchvision counts them, i.e. GMACs),
  the parameter count of the built module, and the actual shape of every
  tensor onnxruntime produced when it ran the full (randomly weighted) model
  with every node output exposed as a graph output.

No pretrained weights are downloaded: models are built with ``weights=None``
and every parameter and buffer is randomised (the dynamo exporter would
otherwise deduplicate equal tensors, e.g. freshly initialised BN weights).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnx.external_data_helper
import onnxruntime as ort
import torch
import torchvision

OUT = Path(__file__).resolve().parent / "torchvision"
INPUT_NAME = "image"

# name -> (weights enum, extra builder kwargs)
MODELS: dict[str, tuple[str, dict]] = {
    "alexnet": ("AlexNet_Weights", {}),
    "vgg11": ("VGG11_Weights", {}),
    "resnet18": ("ResNet18_Weights", {}),
    "resnet50": ("ResNet50_Weights", {}),
    "resnext50_32x4d": ("ResNeXt50_32X4D_Weights", {}),
    "mobilenet_v2": ("MobileNet_V2_Weights", {}),
    "mobilenet_v3_small": ("MobileNet_V3_Small_Weights", {}),
    "efficientnet_b0": ("EfficientNet_B0_Weights", {}),
    "shufflenet_v2_x1_0": ("ShuffleNet_V2_X1_0_Weights", {}),
    "squeezenet1_0": ("SqueezeNet1_0_Weights", {}),
    "densenet121": ("DenseNet121_Weights", {}),
    # As torchvision builds it for the pretrained weights, minus the aux
    # classifiers (which the weights' num_params does not count).
    "googlenet": (
        "GoogLeNet_Weights",
        {"aux_logits": False, "transform_input": True, "init_weights": False},
    ),
    # Here the weights' num_params DOES count the AuxLogits head (3,326,696
    # params), which is not used in eval mode and so is not in the ONNX
    # graph: num_params != params_sum_torch for this model (see "note").
    "inception_v3": (
        "Inception_V3_Weights",
        {"aux_logits": False, "transform_input": True, "init_weights": False},
    ),
    "vit_b_16": ("ViT_B_16_Weights", {}),
}

NOTES = {
    "inception_v3": (
        "weights.meta num_params (27161264) includes the AuxLogits head "
        "(3326696 params) that eval mode never runs; built with "
        "aux_logits=False, so params_sum_torch = 23834568 = meta - aux."
    ),
    "googlenet": (
        "built with aux_logits=False (so params match meta) and "
        "transform_input=True as for the pretrained weights."
    ),
}


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Give every float parameter and buffer distinct random values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point():
                continue  # e.g. BatchNorm's num_batches_tracked
            r = torch.randn(t.shape, generator=g, dtype=t.dtype)
            if name.endswith("running_var"):
                t.copy_(r.abs() + 0.5)
            else:
                t.copy_(r * 0.1)


def rename_input(m: onnx.ModelProto, old: str, new: str) -> None:
    if old == new:
        return
    for vi in m.graph.input:
        if vi.name == old:
            vi.name = new
    for node in m.graph.node:
        for i, n in enumerate(node.input):
            if n == old:
                node.input[i] = new
    for vi in m.graph.output:
        if vi.name == old:
            vi.name = new


def export(model, x, path: Path, exporter: str) -> None:
    if exporter == "dynamo":
        torch.onnx.export(
            model, (x,), str(path), dynamo=True, external_data=True,
            input_names=[INPUT_NAME],
        )
    else:
        torch.onnx.export(
            model, (x,), str(path), dynamo=False, do_constant_folding=False,
            opset_version=17, input_names=[INPUT_NAME],
        )


def ort_shapes(m: onnx.ModelProto, x: np.ndarray):
    """Run m with every node output exposed; return {name: shape}."""
    m = onnx.ModelProto.FromString(m.SerializeToString())
    existing = {o.name for o in m.graph.output}
    inputs = {i.name for i in m.graph.input}
    for node in m.graph.node:
        for o in node.output:
            if o and o not in existing and o not in inputs:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                existing.add(o)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "m.onnx")
        onnx.save(m, p, save_as_external_data=True, location="m.data")
        sess = ort.InferenceSession(p, so, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        res = sess.run(names, {m.graph.input[0].name: x})
    return {n: list(np.asarray(r).shape) for n, r in zip(names, res)}


def strip_weights(path: Path) -> None:
    """Drop the bytes of every float initializer (the weights), keeping its dims, dtype and an
    external-data reference to a file that is not committed. Integer initializers (shapes, axes,
    indices) stay inline, as small tensors do in real exports: they are not weights."""
    refs = onnx.load(str(path), load_external_data=False)
    data_files = {
        e.value
        for t in refs.graph.initializer
        for e in t.external_data
        if e.key == "location"
    }
    m = onnx.load(str(path))  # with its external data
    stem = path.name[: -len(".onnx")]
    loc = f"{stem}.weights"
    offset = 0
    for t in m.graph.initializer:
        if t.data_type not in FLOAT_TYPES:
            continue
        raw = onnx.numpy_helper.to_array(t).tobytes()
        for field in ("raw_data", "float_data", "double_data", "int32_data"):
            t.ClearField(field)
        del t.external_data[:]
        t.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", loc), ("offset", str(offset)), ("length", str(len(raw)))):
            t.external_data.add(key=key, value=value)
        offset += len(raw)
    for f in data_files:  # the exporter's own data file
        (path.parent / f).unlink(missing_ok=True)
    onnx.save(m, str(path))
    # Sanity: the skeleton loads and no float initializer carries bytes.
    sk = onnx.load(str(path), load_external_data=False)
    for t in sk.graph.initializer:
        assert t.data_type not in FLOAT_TYPES or t.data_location == onnx.TensorProto.EXTERNAL, t.name


FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
               onnx.TensorProto.BFLOAT16}


def do_model(name: str, exporters: list[str]) -> list[dict]:
    wname, kwargs = MODELS[name]
    weights = getattr(torchvision.models, wname).IMAGENET1K_V1
    meta = weights.meta
    size = weights.transforms().crop_size[0]
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    randomise(model, seed=sum(map(ord, name)))
    nparams = sum(p.numel() for p in model.parameters())
    ok = nparams == meta["num_params"]
    print(f"{name}: num_params={meta['num_params']} torch={nparams} match={ok} "
          f"ops={meta['_ops']} input={size}", flush=True)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, size, size, generator=g)
    summaries = []
    for exporter in exporters:
        stem = f"{name}.{exporter}"
        path = OUT / f"{stem}.onnx"
        t0 = time.time()
        export(model, x, path, exporter)
        m = onnx.load(str(path))
        in_name = m.graph.input[0].name
        if in_name != INPUT_NAME:
            rename_input(m, in_name, INPUT_NAME)
            in_name = INPUT_NAME
        shapes = ort_shapes(m, x.numpy())
        # Save (possibly renamed) full model, then strip its weights.
        for f in list(OUT.glob(f"{stem}.onnx*")):
            f.unlink()
        onnx.save(m, str(path), save_as_external_data=True,
                  location=f"{stem}.onnx.data")
        strip_weights(path)
        graph_outputs = {o.name: shapes[o.name] for o in m.graph.output}
        opset = {d.domain or "ai.onnx": d.version for d in m.opset_import}
        record = {
            "model": name,
            "exporter": exporter,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
            "opset_import": opset,
            "build_kwargs": kwargs,
            "note": NOTES.get(name, ""),
            "input": {"name": in_name, "shape": list(x.shape)},
            "num_params": meta["num_params"],
            "ops_gflops": meta["_ops"],
            "params_sum_torch": nparams,
            "ort_shapes": shapes,
            "graph_outputs": graph_outputs,
        }
        with open(OUT / f"{stem}.json", "w") as fh:
            json.dump(record, fh, sort_keys=True, indent=0)
            fh.write("\n")
        ops = sorted({n.op_type for n in m.graph.node})
        print(f"  {exporter}: {len(m.graph.node)} nodes, {len(shapes)} tensors, "
              f"opset {opset}, onnx {path.stat().st_size} B, "
              f"{time.time() - t0:.0f}s, ops {ops}", flush=True)
        summaries.append({"stem": stem, "ops": ops, "opset": opset, "match": ok})
    return summaries


def main() -> int:
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--exporters", default="dynamo,torchscript")
    ap.add_argument("--out", type=Path, default=OUT,
                    help="output folder (default: tests/data/torchvision)")
    args = ap.parse_args()
    OUT = args.out
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    for name in args.models:
        do_model(name, args.exporters.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
