#!/usr/bin/env python3
"""Make the symbolic-size oracle data in tests/data/symbolic/: models exported with free input
dims, and what onnxruntime computes at several bindings of them, so that a cost formula in the
free symbols can be checked against real runs.

NOT run in CI and not a dependency of the project: run it by hand in a separate environment
that has torch and transformers (see make_conventions.py's docstring; transformers==5.25.0), e.g.

    ../torchvenv/bin/python tests/data/make_symbolic.py [model ...] [--out DIR]

Models (no pretrained weights; every float parameter and buffer randomised):

* ``bert_tiny``: ``transformers.BertModel(BertConfig(vocab_size=30522, hidden_size=128,
  num_hidden_layers=2, num_attention_heads=2, intermediate_size=512,
  max_position_embeddings=512), attn_implementation="eager")`` (BERT-Tiny's configuration),
  wrapped to take ``input_ids`` and ``attention_mask`` [1, sequence] and return
  ``last_hidden_state`` and ``pooler_output``. Free symbol: ``sequence``. Bindings 8, 16, 32,
  64, 128, 512 (its largest: max_position_embeddings). Inputs: token ids random in [0, 30522),
  mask all ones.
* ``resnet18_hw``: ``torchvision.models.resnet18(weights=None)`` on [1, 3, H, W]. Free symbols
  ``H`` and ``W``. Bindings (H, W) = (64, 64), (96, 96), (128, 128), (224, 224), (256, 256),
  (160, 224) (all multiples of 32) and (100, 100), (225, 225), (97, 130) (not: the stride-2
  layers floor).

Both exported by the dynamo exporter (``dynamic_shapes`` with ``torch.export.Dim``) and the
TorchScript exporter (``dynamic_axes``, opset 17). Writes ``<model>.<exporter>.onnx`` and
``<model>.<exporter>.json``: per binding, onnxruntime's shape of every tensor, the MACs from
those shapes, and what fvcore, torchinfo and torch's FlopCounterMode say of the torch model at
the same size; plus the hand-derived formula and its check at every binding (see README.md).
"""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_conventions import quiet  # noqa: E402
from skeletons import run_scripts_main  # noqa: E402
from skeletons import (  # noqa: E402
    export, hand_macs, op_counts, ort_values, randomise, shapes_of, versions, write_skeleton,
)

OUT = Path(__file__).resolve().parent / "symbolic"
EXPORTERS = ("dynamo", "torchscript")
BERT = {"vocab_size": 30522, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 512, "max_position_embeddings": 512}


class BertOutputs(torch.nn.Module):
    """BertModel with positional inputs and a tuple of outputs, as exporters want it."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel  # only this model needs transformers
        self.bert = BertModel(BertConfig(**BERT, attn_implementation="eager"))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask)
        return out.last_hidden_state, out.pooler_output


def bert_formula() -> dict:
    """MACs of BERT-Tiny in the sequence length L, by hand: per layer the Q, K, V and output
    projections (4 L d^2), the scores Q K^T and their product with V (2 L^2 d, over all heads),
    the feed-forward pair (2 L d f); then the pooler's one dense layer on the first token (d^2)."""
    d, f, n = BERT["hidden_size"], BERT["intermediate_size"], BERT["num_hidden_layers"]
    return {"symbols": ["sequence"],
            "terms": [[n * (4 * d * d + 2 * d * f), {"sequence": 1}], [n * 2 * d, {"sequence": 2}],
                      [d * d, {}]],
            "derivation": f"{n} layers x (4*L*{d}^2 + 2*L^2*{d} + 2*L*{d}*{f}) + {d}^2",
            "condition": "any sequence in 1..512 (max_position_embeddings)"}


def resnet18_formula(model) -> dict:
    """MACs of resnet18 in H and W when both are multiples of 32: every conv's output is
    (H/s) x (W/s) for its output stride s, so conv MACs = sum C_out*C_in/g*kh*kw / s^2 * H*W;
    the final Linear is 512*1000. The strides are read from a run at 224x224."""
    strides: dict[str, int] = {}
    def remember(name):
        return lambda mod, inp, out: strides.__setitem__(name, 224 // out.shape[-1])

    hooks = [m.register_forward_hook(remember(n))
             for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    by_stride: dict[int, int] = {}
    for n, m in model.named_modules():
        if isinstance(m, torch.nn.Conv2d):
            kh, kw = m.kernel_size
            w = m.out_channels * m.in_channels // m.groups * kh * kw
            by_stride[strides[n]] = by_stride.get(strides[n], 0) + w
    per_hw = sum(Fraction(w, s * s) for s, w in by_stride.items())
    assert per_hw.denominator == 1, per_hw
    fc = model.fc.in_features * model.fc.out_features
    return {"symbols": ["H", "W"], "terms": [[int(per_hw), {"H": 1, "W": 1}], [fc, {}]],
            "derivation": "sum over convs of C_out*C_in/groups*kh*kw/stride^2 (strides 2..32) "
                          f"= {int(per_hw)} per input pixel, + fc 512*1000",
            "condition": "H and W multiples of 32 (every stride-2 layer halves exactly)",
            "any_size": {
                "by_stride": {str(s): w for s, w in sorted(by_stride.items())}, "fc": fc,
                "formula": "sum over strides s of by_stride[s] * ceil(H/s) * ceil(W/s) + fc: "
                           "every stride-2 layer (7x7 pad 3, 3x3 pad 1, 1x1 pad 0, the 3x3 "
                           "max pool pad 1) maps h to ceil(h/2), and ceil(ceil(h/2)/2) = "
                           "ceil(h/4); exact for every H, W >= 1"}}


def evaluate_any_size(formula: dict, b: dict) -> int | None:
    if "any_size" not in formula:
        return None
    a = formula["any_size"]
    return sum(w * -(-b["H"] // int(s)) * -(-b["W"] // int(s))  # -(-x // s) = ceil(x / s)
               for s, w in a["by_stride"].items()) + a["fc"]


def evaluate(formula: dict, binding: dict) -> int:
    return sum(c * int(np.prod([binding[s] ** p for s, p in powers.items()]))
               for c, powers in formula["terms"])


def bert_case():
    model = BertOutputs().eval()
    randomise(model, seed=sum(map(ord, "bert_tiny")))
    g = torch.Generator().manual_seed(0)

    def inputs(b):
        ids = torch.randint(0, BERT["vocab_size"], (1, b["sequence"]), generator=g)
        return (ids, torch.ones(1, b["sequence"], dtype=torch.long))

    seq = torch.export.Dim("sequence", min=2, max=BERT["max_position_embeddings"])
    return {
        "model": model, "inputs": inputs, "input_names": ["input_ids", "attention_mask"],
        "output_names": ["last_hidden_state", "pooler_output"],
        "export_binding": {"sequence": 16},
        "bindings": [{"sequence": n} for n in (8, 16, 32, 64, 128, 512)],
        "dynamic_shapes": {"input_ids": {1: seq}, "attention_mask": {1: seq}},
        "dynamic_axes": {"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"},
                         "last_hidden_state": {1: "sequence"}},
        "formula": bert_formula(),
        "holds": lambda b: True,
        "build": "BertOutputs() in make_symbolic.py: transformers.BertModel(BertConfig("
                 + ", ".join(f"{k}={v}" for k, v in BERT.items())
                 + ", attn_implementation='eager'))",
        "input_fill": "input_ids torch.randint(0, 30522), generator seed 0, drawn per binding in "
                      "order; attention_mask ones",
    }


def resnet_case():
    model = torchvision.models.resnet18(weights=None).eval()
    randomise(model, seed=sum(map(ord, "resnet18")))
    g = torch.Generator().manual_seed(0)

    def inputs(b):
        return (torch.randn(1, 3, b["H"], b["W"], generator=g),)

    h, w = torch.export.Dim("H", min=32, max=1024), torch.export.Dim("W", min=32, max=1024)
    sizes = [(64, 64), (96, 96), (128, 128), (224, 224), (256, 256), (160, 224), (100, 100),
             (225, 225), (97, 130)]
    return {
        "model": model, "inputs": inputs, "input_names": ["image"], "output_names": ["logits"],
        "export_binding": {"H": 224, "W": 224},
        "bindings": [{"H": a, "W": b} for a, b in sizes],
        "dynamic_shapes": {"x": {2: h, 3: w}},
        "dynamic_axes": {"image": {2: "H", 3: "W"}},
        "formula": resnet18_formula(model),
        "holds": lambda b: b["H"] % 32 == 0 and b["W"] % 32 == 0,
        "build": "torchvision.models.resnet18(weights=None)",
        "input_fill": "torch.randn, generator seed 0, drawn per binding in order",
    }


CASES = {"bert_tiny": bert_case, "resnet18_hw": resnet_case}


def torch_counts(model, args) -> dict:
    """fvcore, torchinfo and FlopCounterMode on the torch model at one binding."""
    from fvcore.nn import FlopCountAnalysis
    import torchinfo
    out = {}
    with quiet():
        a = FlopCountAnalysis(model, args)
        a.unsupported_ops_warnings(False)
        a.uncalled_modules_warnings(False)
        out["fvcore_flops"] = int(a.total())
    torchinfo.torchinfo.clear_cached_forward_pass()
    out["torchinfo_mult_adds"] = int(torchinfo.summary(model, input_data=list(args), verbose=0,
                                                       device="cpu").total_mult_adds)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(*args)
    out["torch_flop_counter_macs"] = fc.get_total_flops() // 2
    return out


def do_case(name: str, out: Path) -> None:
    case = CASES[name]()
    model = case["model"]
    for exporter in EXPORTERS:
        t0 = time.time()
        stem = f"{name}.{exporter}"
        m = export(model, case["inputs"](case["export_binding"]), exporter,
                   input_names=case["input_names"], output_names=case["output_names"],
                   dynamic_shapes=case["dynamic_shapes"] if exporter == "dynamo" else None,
                   dynamic_axes=case["dynamic_axes"] if exporter == "torchscript" else None)
        runs = []
        for b in case["bindings"]:
            args = case["inputs"](b)
            feeds = {n: a.numpy() for n, a in zip(case["input_names"], args)}
            shapes = shapes_of(ort_values(m, feeds))
            macs, per_node = hand_macs(m, shapes)
            if case["holds"](b):  # the hand formula, checked where its condition holds
                assert evaluate(case["formula"], b) == macs, (b, macs)
            any_size = evaluate_any_size(case["formula"], b)
            assert any_size in (None, macs), (b, any_size, macs)
            runs.append({"binding": b, "macs_from_ort_shapes": macs,
                         "formula_macs": evaluate(case["formula"], b),
                         **({"any_size_formula_macs": any_size} if any_size is not None else {}),
                         **torch_counts(model, args),
                         "macs_per_node": per_node, "ort_shapes": shapes,
                         "graph_outputs": {o.name: shapes[o.name] for o in m.graph.output}})
        info = write_skeleton(m, out / f"{stem}.onnx")
        record = {
            "model": name, "exporter": exporter, "build": case["build"],
            **versions("torchvision", "transformers", "fvcore", "torchinfo"),
            "opset_import": info["opset_import"],
            "inputs": {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
                       for i in m.graph.input},
            "outputs": {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
                        for o in m.graph.output},
            "input_fill": case["input_fill"],
            "params_sum_torch": sum(p.numel() for p in model.parameters()),
            "ops": op_counts(m),
            "formula": case["formula"],
            "runs": runs,
            "skeleton": info,
        }
        (out / f"{stem}.json").write_text(json.dumps(record, sort_keys=True, indent=0) + "\n")
        summary = [(tuple(r["binding"].values()), r["macs_from_ort_shapes"], r["formula_macs"])
                   for r in runs]
        print(f"{stem}: {len(m.graph.node)} nodes, inputs {record['inputs']}, {summary}, "
              f"{info['bytes']:,} B, {time.time() - t0:.0f}s", flush=True)


def main() -> int:
    return run_scripts_main(list(CASES), OUT, do_case)


if __name__ == "__main__":
    sys.exit(main())
