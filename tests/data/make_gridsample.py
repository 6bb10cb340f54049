#!/usr/bin/env python3
"""Make the GridSample oracle data in tests/data/gridsample/: torchvision's RAFT (small) and a
tiny flow-warping network, both of which use ``F.grid_sample`` (ONNX GridSample, a standard op
since opset 16), as weight-free skeletons with onnxruntime's shape of every tensor.

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch (see make_conventions.py's docstring for the versions), e.g.

    ../torchvenv/bin/python tests/data/make_gridsample.py [--out DIR]

Models (weights=None, every float parameter and buffer randomised, inputs random in [0, 1)):

* ``raft_small``: ``torchvision.models.optical_flow.raft_small(weights=None)``, two frames
  1x3x128x128, the default 12 flow updates (each samples a 4-level correlation pyramid: 48
  GridSample nodes); 12 outputs (the flow after each update).
* ``warp``: ``Warp`` below, two frames 1x3x16x16: a 3x3 conv predicts a flow from the
  concatenated frames, GridSample warps the second frame by it, a 3x3 conv refines. Its MACs
  by hand: flow conv 2*16*16*(6*3*3) = 27,648; refine conv 3*16*16*(3*3*3) = 20,736;
  GridSample 0; total 48,384.

Each is exported by the dynamo exporter (opset 20: GridSample-20, mode "linear") and the
TorchScript exporter (opset 17: GridSample-16, mode "bilinear"). Writes ``<model>.<exporter>.onnx``
and ``<model>.<exporter>.json`` (see README.md for the fields).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from skeletons import run_scripts_main  # noqa: E402
from skeletons import (  # noqa: E402
    export, hand_macs, op_counts, ort_values, randomise, shapes_of, versions, write_skeleton,
)

OUT = Path(__file__).resolve().parent / "gridsample"
EXPORTERS = ("dynamo", "torchscript")


class Warp(nn.Module):
    """Predict a flow from two frames, warp the second frame by it, refine the result."""

    def __init__(self, size: int = 16) -> None:
        super().__init__()
        self.flow = nn.Conv2d(6, 2, 3, padding=1)
        self.refine = nn.Conv2d(3, 3, 3, padding=1)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size),
                                indexing="ij")
        self.register_buffer("base", torch.stack([xs, ys], -1)[None])  # [1, H, W, 2]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        flow = self.flow(torch.cat([a, b], 1))
        grid = self.base + flow.permute(0, 2, 3, 1)
        warped = F.grid_sample(b, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return self.refine(warped)


MODELS = {
    "raft_small": (lambda: torchvision.models.optical_flow.raft_small(weights=None), 128,
                   "torchvision.models.optical_flow.raft_small(weights=None), num_flow_updates=12"),
    "warp": (Warp, 16, "Warp() in make_gridsample.py"),
}


def do_model(name: str, out: Path) -> None:
    build, size, how = MODELS[name]
    model = build().eval()
    randomise(model, seed=sum(map(ord, name)))
    g = torch.Generator().manual_seed(0)
    frames = (torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g))
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(*frames)
    for exporter in EXPORTERS:
        t0 = time.time()
        stem = f"{name}.{exporter}"
        m = export(model, frames, exporter, input_names=["image1", "image2"])
        feeds = {"image1": frames[0].numpy(), "image2": frames[1].numpy()}
        shapes = shapes_of(ort_values(m, feeds))
        known = {**{k: list(v.shape) for k, v in feeds.items()}, **shapes}
        macs, per_node = hand_macs(m, shapes)
        info = write_skeleton(m, out / f"{stem}.onnx")
        record = {
            "model": name, "exporter": exporter, "build": how, **versions("torchvision"),
            "opset_import": info["opset_import"],
            "inputs": {k: list(v.shape) for k, v in feeds.items()},
            "input_fill": "torch.rand (uniform [0, 1)), generator seed 0, image1 then image2",
            "params_sum_torch": sum(p.numel() for p in model.parameters()),
            "ops": op_counts(m),
            "grid_sample_nodes": [
                {"name": n.name, "inputs": [known.get(i) for i in n.input],
                 "output": shapes[n.output[0]],
                 "attributes": {a.name: (a.s.decode() if a.s else a.i) for a in n.attribute}}
                for n in m.graph.node if n.op_type == "GridSample"],
            "macs_from_ort_shapes": macs,
            "macs_per_node": per_node,
            "macs_note": "Conv: output elements x C_in/groups x kernel; MatMul/Gemm: output "
                         "elements x K; every other op (GridSample included) 0",
            "torch_flop_counter_flops": fc.get_total_flops(),
            "torch_flop_counter_note": "FlopCounterMode on the torch model: 2 per multiply-add "
                                       "of convolution/mm/bmm/addmm; half of it is the MACs",
            "ort_shapes": shapes,
            "graph_outputs": {o.name: shapes[o.name] for o in m.graph.output},
            "skeleton": info,
        }
        (out / f"{stem}.json").write_text(json.dumps(record, sort_keys=True, indent=0) + "\n")
        print(f"{stem}: {len(m.graph.node)} nodes, MACs {macs:,} "
              f"(torch {fc.get_total_flops() // 2:,}), "
              f"{info['bytes']:,} B, {time.time() - t0:.0f}s", flush=True)


def main() -> int:
    return run_scripts_main(list(MODELS), OUT, do_model)


if __name__ == "__main__":
    sys.exit(main())
