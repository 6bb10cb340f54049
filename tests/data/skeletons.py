"""Shared by the hand-run torch oracle scripts (make_conventions.py, make_gridsample.py,
make_detection.py, make_symbolic.py, make_bench.py): export a torch module to ONNX, run the
export with onnxruntime with every tensor exposed, write its weight-free skeleton.

NOT run in CI and never imported by the package or the tests: it needs torch (see the
scripts' docstrings for the environment). The skeleton format and the onnxruntime run are
make_wild.py's (imported from it, not copied): every float initializer and every float
Constant of more than 16 elements becomes an external-data reference to ``<stem>.weights``,
a file that is never written; integer tensors stay inline with their values; float tensors
that feed a Resize's roi/scales stay inline.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
import platform
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from make_torchvision import randomise  # noqa: F401  (re-exported for the scripts)
from make_wild import make_skeleton, node_macs, numel, run_all, verify_skeleton

MAX_TRACKED_BYTES = 2 * 1024 * 1024  # a committed file stays under 2 MB


def versions(*dists: str) -> dict[str, str]:
    """The installed version of each distribution (and of Python)."""
    out = {"python": platform.python_version()}
    for d in ("torch", "onnx", "onnxruntime", "onnxscript", *dists):
        out[d] = importlib.metadata.version(d)
    return out


def export(model: torch.nn.Module, args: tuple, exporter: str, *, input_names: list[str],
           output_names: list[str] | None = None, dynamic_shapes=None, dynamic_axes=None,
           opset: int = 17, constant_folding: bool = False) -> onnx.ModelProto:
    """Export ``model`` with the dynamo (``dynamo=True``) or the legacy TorchScript exporter
    (``dynamo=False, do_constant_folding=constant_folding, opset_version=opset``) and return
    the full model, weights loaded. The dynamo exporter picks its own opset (20 with torch
    2.14)."""
    with tempfile.TemporaryDirectory() as td:
        path = Path(td) / "m.onnx"
        if exporter == "dynamo":
            torch.onnx.export(model, args, str(path), dynamo=True, external_data=True,
                              input_names=input_names, output_names=output_names,
                              dynamic_shapes=dynamic_shapes)
        elif exporter == "torchscript":
            torch.onnx.export(model, args, str(path), dynamo=False,
                              do_constant_folding=constant_folding,
                              opset_version=opset, input_names=input_names,
                              output_names=output_names, dynamic_axes=dynamic_axes)
        else:
            raise ValueError(exporter)
        return onnx.load(str(path))


def ort_values(m: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every node output of the main graph (and the model's outputs) as onnxruntime computes
    them: CPU, graph optimisations off. Models over 2 GB are not supported (none is)."""
    return run_all(m, feeds)


def shapes_of(values: dict[str, np.ndarray]) -> dict[str, list[int]]:
    return {k: [int(d) for d in np.asarray(v).shape] for k, v in values.items()}


def hand_macs(m: onnx.ModelProto, shapes: dict[str, list[int]]) -> tuple[int, dict[str, int]]:
    """MACs of the main graph's nodes from real shapes, make_wild.py's formulas (Conv: output
    elements x C_in/groups x kernel; Gemm/MatMul: output elements x K; ...; other ops 0).
    Returns the total and {node name: MACs} for the nodes with MACs."""
    known = dict(shapes)
    for t in m.graph.initializer:
        known[t.name] = list(t.dims)
    for n in m.graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    known[n.output[0]] = list(a.t.dims)
    per_node = {}
    for i, n in enumerate(m.graph.node):
        v = node_macs(n, known)
        if v:
            per_node[n.name or f"{n.op_type}_{i}"] = int(v)
    return sum(per_node.values()), per_node


def write_skeleton(m: onnx.ModelProto, path: Path, *, track: bool = True) -> dict:
    """Save the weight-free skeleton of ``m`` as ``path``, check it and return its facts.
    ``track``: the file is meant to be committed, so it must stay under 2 MB."""
    stem = path.name[: -len(".onnx")]
    skel, info = make_skeleton(m, f"{stem}.weights")
    verify_skeleton(m, skel)
    onnx.save(skel, str(path))
    back = onnx.load(str(path), load_external_data=False)
    assert len(back.graph.node) == len(m.graph.node)
    size = path.stat().st_size
    if track:
        assert size < MAX_TRACKED_BYTES, f"{path.name}: {size} bytes, over 2 MB"
    info.update({"file": path.name, "bytes": size, "nodes": len(m.graph.node),
                 "opset_import": {d.domain or "ai.onnx": d.version for d in m.opset_import},
                 "ir_version": m.ir_version})
    return info


def op_counts(m: onnx.ModelProto) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in m.graph.node:
        key = f"{n.domain}:{n.op_type}" if n.domain not in ("", "ai.onnx") else n.op_type
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def graph_signature(m: onnx.ModelProto) -> tuple:
    """What makes two exports the same network whatever their weights: the op sequence, the
    nodes' attributes and the initializers' names, dims and dtypes."""
    def attrs(n):
        return tuple(sorted((a.name, str(onnx.helper.get_attribute_value(a)))
                            for a in n.attribute if a.type != onnx.AttributeProto.TENSOR))

    ops = tuple((n.op_type, attrs(n)) for n in m.graph.node)
    inits = tuple(sorted((t.name, tuple(t.dims), t.data_type) for t in m.graph.initializer))
    return ops, inits


__all__ = ["export", "graph_signature", "hand_macs", "numel", "op_counts", "ort_values",
           "randomise", "shapes_of", "versions", "write_skeleton", "ort"]


def run_scripts_main(names: list[str], out: Path, make: Callable[[str, Path], object]) -> int:
    """The scripts' command line: ``[NAME ...] [--out DIR]``, each name made into ``out``."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=list(names))
    ap.add_argument("--out", type=Path, default=out, help=f"default: {out.name}/ beside the script")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        make(name, args.out)
    return 0
