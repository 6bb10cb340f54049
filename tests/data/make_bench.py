#!/usr/bin/env python3
"""Make the benchmark models in tests/data/bench/: exports heavy in shape arithmetic, as
weight-free skeletons, for timing ``cnncount summary`` against its floor (see benchmarks/).

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch (see make_conventions.py's docstring for the versions), e.g.

    ../torchvenv/bin/python tests/data/make_bench.py [model ...] [--out DIR]

Models (weights=None, weights_backbone=None; every float parameter and buffer randomised):

* ``swin_t.torchscript``: ``torchvision.models.swin_t``, 1x3x224x224, TorchScript exporter,
  opset 17, ``do_constant_folding=False`` (as every TorchScript export in tests/data).
* ``swin_t.torchscript_folded``: the same with ``do_constant_folding=True`` (the exporter's
  default).
* ``ssdlite320_mobilenet_v3_large.torchscript``: ``torchvision.models.detection.
  ssdlite320_mobilenet_v3_large``, one 3x320x320 image, TorchScript exporter, opset 17, no
  folding. (The dynamo exporter cannot take it: torch.export stops on a data-dependent guard.)
* Faster R-CNN is made by make_detection.py (tests/data/detection/).

For each it writes the skeleton ``<stem>.onnx`` and ``<stem>.json``: nodes, op counts, the
onnxruntime shape of every tensor on a random input (taken If branches inlined), the MACs from
those shapes, and torchvision's published ``_ops``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_wild import inline_taken_ifs  # noqa: E402
from skeletons import run_scripts_main  # noqa: E402
from skeletons import (  # noqa: E402
    export, hand_macs, op_counts, ort_values, randomise, shapes_of, versions, write_skeleton,
)

OUT = Path(__file__).resolve().parent / "bench"

# stem -> (torchvision name, builder kwargs, input shape, batched input?, constant folding)
MODELS = {
    "swin_t.torchscript": ("swin_t", {}, (1, 3, 224, 224), True, False),
    "swin_t.torchscript_folded": ("swin_t", {}, (1, 3, 224, 224), True, True),
    "ssdlite320_mobilenet_v3_large.torchscript": (
        "ssdlite320_mobilenet_v3_large", {"weights_backbone": None}, (3, 320, 320), False, False),
}


def do_model(stem: str, out: Path) -> None:
    t0 = time.time()
    name, kwargs, shape, batched, fold = MODELS[stem]
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    randomise(model, seed=sum(map(ord, name)))
    image = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    m = export(model, (image,) if batched else ([image],), "torchscript", input_names=["image"],
               constant_folding=fold)
    feeds = {"image": image.numpy()}
    inlined, control = inline_taken_ifs(m, feeds)
    shapes = shapes_of(ort_values(inlined, feeds))
    macs, per_node = hand_macs(inlined, shapes)
    info = write_skeleton(m, out / f"{stem}.onnx")
    weights = torchvision.models.get_model_weights(name)
    record = {
        "model": name, "exporter": "torchscript", "do_constant_folding": fold,
        **versions("torchvision"), "opset_import": info["opset_import"],
        "build": f"torchvision.models.get_model({name!r}, weights=None, **{kwargs!r})",
        "input": {"name": "image", "shape": list(shape), "fill": "torch.rand, generator seed 0"},
        "params_sum_torch": sum(p.numel() for p in model.parameters()),
        "torchvision_ops_gflops": next(iter(weights)).meta["_ops"],
        "nodes": len(m.graph.node), "ops": op_counts(m), "control_flow": control,
        "macs_from_ort_shapes": macs, "macs_per_node": per_node,
        "ort_shapes": shapes,
        "graph_outputs": {o.name: shapes[o.name] for o in m.graph.output},
        "skeleton": info,
    }
    (out / f"{stem}.json").write_text(json.dumps(record, sort_keys=True, indent=0) + "\n")
    print(f"{stem}: {len(m.graph.node)} nodes, MACs {macs:,}, {info['bytes']:,} B, "
          f"{time.time() - t0:.0f}s", flush=True)


def main() -> int:
    return run_scripts_main(list(MODELS), OUT, do_model)


if __name__ == "__main__":
    sys.exit(main())
