#!/usr/bin/env python3
"""Make the data-dependent-size oracle data in tests/data/detection/: torchvision's Faster R-CNN
(MobileNetV3-Large 320 FPN) exported to ONNX, and a tiny detection-like graph made with
onnx.helper whose every number can be derived by hand (see README.md).

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch (see make_conventions.py's docstring for the versions), e.g.

    ../torchvenv/bin/python tests/data/make_detection.py [--out DIR]

Writes:

* ``fasterrcnn_mobilenet_v3_large_320_fpn.torchscript.onnx``: ``torchvision.models.detection.
  fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None)``, every float
  parameter and buffer randomised, exported by the TorchScript exporter (opset 17,
  ``do_constant_folding=False``) on one 3x320x320 image (``torch.rand``, seed 0). The dynamo
  exporter cannot take the model (torch.export stops on a data-dependent guard); its error is
  in the JSON.
* ``fasterrcnn_mobilenet_v3_large_320_fpn.torchscript.json``: the oracle. onnxruntime's shape of
  every tensor on that image, with the taken branch of each If inlined so that the tensors in
  the branches are seen too (make_wild.py's inline_taken_ifs); every NonMaxSuppression, TopK
  and Slice with its static inputs and the values onnxruntime computed for them; the box head's
  MACs per proposal from the torch modules' shapes; the MACs from onnxruntime's shapes, split
  into the part that runs once per proposal and the rest; the same run's MACs in torch
  (FlopCounterMode / 2) for comparison; the caps torchvision configures.
* ``tiny_detector.onnx`` / ``tiny_detector.json``: the hand-made graph (``tiny_detector()``
  below) and onnxruntime's shapes and counts on two inputs (a random image: the caps bind; a
  zero image: every box is the same, each NMS keeps one).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_wild import all_graphs, inline_taken_ifs  # noqa: E402
from skeletons import (  # noqa: E402
    export, hand_macs, op_counts, ort_values, randomise, shapes_of, versions, write_skeleton,
)

OUT = Path(__file__).resolve().parent / "detection"
FRCNN = "fasterrcnn_mobilenet_v3_large_320_fpn"
INT64_MAX = 9223372036854775807


# ---------------------------------------------------------------------------------------------
# Faster R-CNN
# ---------------------------------------------------------------------------------------------
def build_frcnn() -> torch.nn.Module:
    model = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_320_fpn(
        weights=None, weights_backbone=None).eval()
    randomise(model, seed=sum(map(ord, FRCNN)))
    return model


def box_head_macs(model) -> dict:
    """MACs per proposal of the layers that run once per kept proposal, from module shapes."""
    layers = [(f"roi_heads.box_head.{n}", m) for n, m in model.roi_heads.box_head.named_children()]
    layers += [(f"roi_heads.box_predictor.{n}", m)
               for n, m in model.roi_heads.box_predictor.named_children()]
    terms = {n: [m.in_features, m.out_features, m.in_features * m.out_features] for n, m in layers}
    pool = model.roi_heads.box_roi_pool
    return {
        "per_proposal": sum(t[2] for t in terms.values()),
        "terms": terms,
        "terms_note": "module -> [in_features, out_features, in x out] (nn.Linear; bias "
                      "excluded); fc6's input is RoIAlign's 256 channels x 7 x 7 = 12544",
        "arithmetic": " + ".join(f"{a}*{b}" for a, b, _ in terms.values()),
        "roi_pool": {"output_size": list(pool.output_size), "sampling_ratio": pool.sampling_ratio,
                     "featmap_names": list(pool.featmap_names)},
    }


def caps(model) -> dict:
    return {
        "rpn_pre_nms_top_n_test": model.rpn._pre_nms_top_n["testing"],
        "rpn_post_nms_top_n_test": model.rpn._post_nms_top_n["testing"],
        "rpn_nms_thresh": model.rpn.nms_thresh,
        "rpn_score_thresh": model.rpn.score_thresh,
        "box_score_thresh": model.roi_heads.score_thresh,
        "box_nms_thresh": model.roi_heads.nms_thresh,
        "box_detections_per_img": model.roi_heads.detections_per_img,
        "note": "the RPN keeps per FPN level the top min(pre_nms_top_n, anchors of the level) "
                "objectness scores (a TopK whose k the graph computes from the shape), drops "
                "small and low-score boxes (NonZero), runs NMS (max_output_boxes_per_class is "
                "INT64_MAX: no cap there) and keeps the first post_nms_top_n (a Slice): the "
                "box head runs on at most post_nms_top_n proposals per image. The detections "
                "are cut the same way to detections_per_img.",
    }


def static_values(m: onnx.ModelProto) -> dict:
    """Every initializer and Constant value of every graph, by name."""
    out = {}
    for _, g in all_graphs(m.graph):
        for t in g.initializer:
            out[t.name] = numpy_helper.to_array(t)
        for n in g.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        out[n.output[0]] = numpy_helper.to_array(a.t)
    return out


def small(v) -> list | None:
    a = np.asarray(v)
    return a.reshape(-1).tolist() if a.size <= 8 and a.dtype != object else None


def inlined_name(path: str, name: str) -> str:
    """The name inline_taken_ifs gives a node of the graph at ``path`` (all_graphs' path, e.g.
    'main/If_1786.else_branch'): '<If>/<then|else>/<name>' per level."""
    prefix = ""
    for part in path.split("/")[1:]:
        node, branch = part.rsplit(".", 1)
        prefix += f"{node}/{branch.replace('_branch', '')}/"
    return prefix + name


def size_nodes(m: onnx.ModelProto, inlined: onnx.ModelProto, vals: dict) -> list[dict]:
    """NonMaxSuppression, TopK and Slice nodes wherever they are (If branches included), with
    their static small inputs and, from the inlined run, the values and shapes they saw."""
    static = static_values(m)
    ran = {n.name: n for n in inlined.graph.node}
    out = []
    for path, g in all_graphs(m.graph):
        for n in g.node:
            if n.op_type not in ("NonMaxSuppression", "TopK", "Slice"):
                continue
            r = ran.get(inlined_name(path, n.name))
            rec = {"graph": path, "node": n.name, "op": n.op_type, "inputs": list(n.input),
                   "static_inputs": [small(static[i]) if i in static else None for i in n.input],
                   "ran": r is not None}
            if r is not None:  # in input order: a small value, else its shape as {"shape": [...]}
                rec["runtime_inputs"] = [
                    None if i not in vals else small(vals[i]) if small(vals[i]) is not None
                    else {"shape": list(np.asarray(vals[i]).shape)} for i in r.input]
                rec["runtime_output_shapes"] = [list(np.asarray(vals[o]).shape) for o in r.output
                                                if o in vals]
            out.append(rec)
    return out


def per_proposal_nodes(inlined: onnx.ModelProto, per_node: dict) -> list[str]:
    """The nodes with MACs of the box head: the Gemms under /roi_heads/box_head and
    /roi_heads/box_predictor (TorchScript names nodes by module scope)."""
    heads = ("/roi_heads/box_head/", "/roi_heads/box_predictor/")
    return [k for k in per_node if k.startswith(heads)]


def do_frcnn(out: Path) -> None:
    t0 = time.time()
    model = build_frcnn()
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 320, 320, generator=g)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        dets = model([image])[0]
    with torch.no_grad():  # the proposals the box head ran on in torch
        images, _ = model.transform([image])
        proposals = model.rpn(images, model.backbone(images.tensors))[0][0].shape[0]
    dynamo_error = None
    try:
        export(model, ([image],), "dynamo", input_names=["image"])
    except Exception as e:  # the finding: the dynamo exporter cannot take this model
        lines = str(e).splitlines()
        why = next((ln for ln in lines if "data-dependent" in ln), lines[0])
        dynamo_error = f"{type(e).__name__}: {why}"[:400]
    m = export(model, ([image],), "torchscript", input_names=["image"])
    feeds = {"image": image.numpy()}
    inlined, control = inline_taken_ifs(m, feeds)
    vals = ort_values(inlined, feeds)
    shapes = shapes_of(vals)
    macs, per_node = hand_macs(inlined, shapes)
    head = box_head_macs(model)
    head_nodes = per_proposal_nodes(inlined, per_node)
    n_rois = shapes[next(n.output[0] for n in inlined.graph.node
                         if n.name == "/roi_heads/box_head/fc6/Gemm")][0]
    head_macs = sum(per_node[k] for k in head_nodes)
    cap = caps(model)
    info = write_skeleton(m, out / f"{FRCNN}.torchscript.onnx")
    record = {
        "model": FRCNN, "exporter": "torchscript", **versions("torchvision"),
        "build": f"torchvision.models.detection.{FRCNN}(weights=None, weights_backbone=None)",
        "opset_import": info["opset_import"],
        "input": {"name": "image", "shape": list(image.shape),
                  "fill": "torch.rand (uniform [0, 1)), generator seed 0"},
        "params_sum_torch": sum(p.numel() for p in model.parameters()),
        "torchvision_ops_gflops": torchvision.models.detection.
        FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1.meta["_ops"],
        "dynamo_export_error": dynamo_error,
        "ops": op_counts(m),
        "control_flow": control,
        "caps": cap,
        "size_nodes": size_nodes(m, inlined, vals),
        "box_head": head,
        "proposals_torch": int(proposals),
        "proposals_ort": int(n_rois),
        "detections_torch": int(dets["boxes"].shape[0]),
        "macs_from_ort_shapes": macs,
        "macs_per_proposal_nodes": {k: per_node[k] for k in head_nodes},
        "macs_once": macs - head_macs,
        "macs_at_cap": macs - head_macs + cap["rpn_post_nms_top_n_test"] * head["per_proposal"],
        "macs_note": "macs_from_ort_shapes: Conv/Gemm/MatMul MACs from the real shapes of this run "
                     f"({n_rois} proposals); macs_once: the nodes outside the box head; "
                     "macs_at_cap = macs_once + rpn_post_nms_top_n_test x box_head.per_proposal",
        "torch_flop_counter_macs": fc.get_total_flops() // 2,
        "torch_flop_counter_note": "FlopCounterMode on the torch model with the same image, halved "
                                   "(it counts 2 per multiply-add of convolution/mm/addmm/bmm)",
        "macs_per_node": per_node,
        "ort_shapes": shapes,
        "ort_shapes_note": "every tensor of the main graph and of the taken If branches (those "
                           "inlined; a branch tensor whose name clashed is prefixed with "
                           "'<If node>/<then|else>/')",
        "graph_outputs": {o.name: shapes[o.name] for o in m.graph.output},
        "skeleton": info,
    }
    text = json.dumps(record, sort_keys=True, indent=0) + "\n"
    (out / f"{FRCNN}.torchscript.json").write_text(text)
    print(f"{FRCNN}: {len(m.graph.node)} nodes, {n_rois} proposals (torch {proposals}), "
          f"MACs {macs:,}, "
          f"at cap {record['macs_at_cap']:,}, torch {record['torch_flop_counter_macs']:,}, "
          f"{info['bytes']:,} B, {time.time() - t0:.0f}s", flush=True)


# ---------------------------------------------------------------------------------------------
# The tiny detector, by hand
# ---------------------------------------------------------------------------------------------
def tiny_detector() -> onnx.ModelProto:
    """image [1,3,16,16] -> Conv 3x3 (4 maps) -> objectness Conv 1x1 -> TopK 64 candidate cells
    -> their 4 values are both the box [y1,x1,y2,x2] and the feature -> two NMS:
    head A: NMS with max_output_boxes_per_class 10 -> Gather -> MatMul 4x32 -> Relu -> Gemm 32->8;
    head B: NMS with max_output_boxes_per_class INT64_MAX (torchvision's way) -> first 6 kept
    (Slice) -> Gather -> Gemm 4->16."""
    rng = np.random.default_rng(25)

    def w(name, *shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    def const(name, value, dtype):
        return helper.make_node("Constant", [], [name], name=name,
                                value=numpy_helper.from_array(np.array(value, dtype=dtype), name))

    nodes = [
        const("k", [64], np.int64), const("flat_shape", [1, 256], np.int64),
        const("cells_shape", [256, 4], np.int64), const("axis0", [0], np.int64),
        const("col2", 2, np.int64), const("max_a", [10], np.int64),
        const("max_b", [INT64_MAX], np.int64),
        const("iou_a", [0.5], np.float32), const("iou_b", [0.3], np.float32),
        const("start", [0], np.int64), const("keep_b", [6], np.int64),
        helper.make_node("Conv", ["image", "backbone.weight", "backbone.bias"], ["feat"],
                         name="backbone", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["feat", "objectness.weight"], ["obj"], name="objectness",
                         kernel_shape=[1, 1]),
        helper.make_node("Reshape", ["obj", "flat_shape"], ["obj_flat"], name="obj_flat"),
        helper.make_node("TopK", ["obj_flat", "k"], ["top_scores", "top_idx"], name="topk", axis=1),
        helper.make_node("Transpose", ["feat"], ["feat_nhwc"], name="nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["feat_nhwc", "cells_shape"], ["cells"], name="cells"),
        helper.make_node("Squeeze", ["top_idx", "axis0"], ["cand_idx"], name="cand_idx"),
        helper.make_node("Gather", ["cells", "cand_idx"], ["cand"], name="candidates", axis=0),
        helper.make_node("Unsqueeze", ["cand", "axis0"], ["boxes"], name="boxes"),
        helper.make_node("Unsqueeze", ["top_scores", "axis0"], ["scores"], name="scores"),
        # head A: the cap is NMS's max_output_boxes_per_class
        helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_a", "iou_a"], ["sel_a"],
                         name="nms_a"),
        helper.make_node("Gather", ["sel_a", "col2"], ["idx_a"], name="idx_a", axis=1),
        helper.make_node("Gather", ["cand", "idx_a"], ["feat_a"], name="feat_a", axis=0),
        helper.make_node("MatMul", ["feat_a", "head_a.fc1.weight"], ["h_a"], name="head_a.fc1"),
        helper.make_node("Relu", ["h_a"], ["r_a"], name="head_a.relu"),
        helper.make_node("Gemm", ["r_a", "head_a.fc2.weight", "head_a.fc2.bias"], ["out_a"],
                         name="head_a.fc2", transB=1),
        # head B: no cap in NMS; the cap is a Slice of the kept indices
        helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_b", "iou_b"], ["sel_b"],
                         name="nms_b"),
        helper.make_node("Gather", ["sel_b", "col2"], ["idx_b_all"], name="idx_b_all", axis=1),
        helper.make_node("Slice", ["idx_b_all", "start", "keep_b", "axis0"], ["idx_b"],
                         name="keep_b_first"),
        helper.make_node("Gather", ["cand", "idx_b"], ["feat_b"], name="feat_b", axis=0),
        helper.make_node("Gemm", ["feat_b", "head_b.fc.weight", "head_b.fc.bias"], ["out_b"],
                         name="head_b.fc", transB=1),
    ]
    inits = [w("backbone.weight", 4, 3, 3, 3), w("backbone.bias", 4),
             w("objectness.weight", 1, 4, 1, 1),
             w("head_a.fc1.weight", 4, 32), w("head_a.fc2.weight", 8, 32), w("head_a.fc2.bias", 8),
             w("head_b.fc.weight", 16, 4), w("head_b.fc.bias", 16)]
    graph = helper.make_graph(
        nodes, "tiny_detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("out_a", TensorProto.FLOAT, ["boxes_a", 8]),
         helper.make_tensor_value_info("out_b", TensorProto.FLOAT, ["boxes_b", 16])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="make_detection.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


TINY_MACS = {
    "backbone": "16*16*4 outputs x 3*3*3 = 27648",
    "objectness": "16*16*1 outputs x 4*1*1 = 1024",
    "head_a.fc1": "K_a*32 outputs x 4 = 128*K_a",
    "head_a.fc2": "K_a*8 outputs x 32 = 256*K_a",
    "head_b.fc": "K_b*16 outputs x 4 = 64*K_b",
    "total": "28672 + 384*K_a + 64*K_b; K_a <= 10 (max_output_boxes_per_class), K_b <= 6 (the "
             "Slice); at the caps 28672 + 3840 + 384 = 32896",
}


def do_tiny(out: Path) -> None:
    m = tiny_detector()
    runs = []
    g = np.random.default_rng(0)
    for fill, x in (("random normal, numpy default_rng(0)", g.standard_normal((1, 3, 16, 16))),
                    ("zeros", np.zeros((1, 3, 16, 16)))):
        vals = ort_values(m, {"image": x.astype(np.float32)})
        shapes = shapes_of(vals)
        macs, per_node = hand_macs(m, shapes)
        k_a, k_b = shapes["out_a"][0], shapes["out_b"][0]
        assert macs == 28672 + 384 * k_a + 64 * k_b, (macs, k_a, k_b)  # the hand formula
        runs.append({"input_fill": fill, "K_a": k_a, "K_b": k_b,
                     "nms_b_kept_before_slice": shapes["sel_b"][0], "macs": macs,
                     "macs_per_node": per_node, "ort_shapes": shapes})
    info = write_skeleton(m, out / "tiny_detector.onnx")
    record = {
        "model": "tiny_detector", "build": "tiny_detector() in make_detection.py (onnx.helper)",
        **versions(), "opset_import": info["opset_import"],
        "input": {"name": "image", "shape": [1, 3, 16, 16]},
        "params": sum(int(np.prod(t.dims)) for t in m.graph.initializer),
        "macs_by_hand": TINY_MACS,
        "macs_once": 28672, "macs_per_box_a": 384, "macs_per_box_b": 64,
        "cap_a": 10, "cap_b": 6, "macs_at_cap": 32896,
        "runs": runs,
        "skeleton": info,
    }
    (out / "tiny_detector.json").write_text(json.dumps(record, sort_keys=True, indent=0) + "\n")
    print("tiny_detector:", [(r["input_fill"], r["K_a"], r["K_b"], r["macs"]) for r in runs],
          flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT, help="default: tests/data/detection")
    ap.add_argument("--only", choices=("tiny", "frcnn"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only != "frcnn":
        do_tiny(args.out)
    if args.only != "tiny":
        try:
            do_frcnn(args.out)
        except Exception:
            traceback.print_exc()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
