#!/usr/bin/env python3
"""Make the weight-free models of the docs' gallery that the tests' data does not have.

NOT run in CI and not a dependency of the project: run it by hand where torch and
ultralytics are installed, e.g.

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 onnx onnxruntime ultralytics
    /work/torchvenv/bin/python docs/models/make_models.py

It writes ``yolov8n.onnx``: Ultralytics' YOLOv8n built from the model definition the package
ships (``yolov8n.yaml``: nothing is downloaded, the weights are random), exported by the
TorchScript exporter (opset 17) for a 640x640 image. Every float initializer is then made an
external-data reference to ``yolov8n.weights``, which is deleted: the skeleton keeps every
tensor's dims and dtype, and no weight bytes (load it with
``onnx.load(path, load_external_data=False)``). The other models of the gallery are the tests'
torchvision skeletons (``tests/data/torchvision/``) and ``examples/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests" / "data"))

from make_torchvision import randomise, strip_weights  # noqa: E402 (the tests' own helpers)


def yolov8n(out: Path) -> None:
    from ultralytics import YOLO

    model = YOLO("yolov8n.yaml").model.eval()  # the bundled definition, random weights
    randomise(model, seed=8)
    for m in model.modules():  # export the inference graph, as `yolo export` does
        if hasattr(m, "export"):
            m.export = True
        if hasattr(m, "format"):
            m.format = "onnx"
    x = torch.zeros(1, 3, 640, 640)
    torch.onnx.export(model, (x,), str(out), dynamo=False, do_constant_folding=False,
                      opset_version=17, input_names=["images"], output_names=["output0"])
    strip_weights(out)


if __name__ == "__main__":
    yolov8n(HERE / "yolov8n.onnx")
    print(f"wrote {HERE / 'yolov8n.onnx'} ({(HERE / 'yolov8n.onnx').stat().st_size:,} bytes)")
