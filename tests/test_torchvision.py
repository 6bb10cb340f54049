"""Oracle 2: torchvision classification models exported by both torch exporters.

The skeletons in tests/data/torchvision/ were exported by hand with make_torchvision.py (torch is
not a dependency); beside each is what torchvision publishes (meta num_params and _ops, its
GFLOPS, which are GMACs) and the shape of every tensor as onnxruntime actually produced it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sphinx_cnncount.api import analyze

DATA = Path(__file__).resolve().parent / "data" / "torchvision"
CASES = sorted(p.stem for p in DATA.glob("*.json") if not p.stem.endswith(".torchinfo"))

# inception_v3's published num_params counts its AuxLogits head, which eval mode never runs,
# so the exported graph does not hold it (3,326,696 params; see the JSON's note).
AUX_LOGITS = {"inception_v3": 3_326_696}


def record(case: str) -> dict:
    return json.loads((DATA / f"{case}.json").read_text())


@pytest.fixture(scope="module")
def summaries():
    return {case: analyze(DATA / f"{case}.onnx") for case in CASES}


def test_the_oracle_set_covers_both_exporters_and_the_families():
    models = {record(c)["model"] for c in CASES}
    assert len(models) >= 10
    assert {record(c)["exporter"] for c in CASES} == {"dynamo", "torchscript"}
    assert {"resnet18", "mobilenet_v2", "densenet121", "googlenet", "shufflenet_v2_x1_0",
            "vit_b_16", "efficientnet_b0", "resnext50_32x4d"} <= models


@pytest.mark.parametrize("case", [c for c in CASES if c.endswith(".torchscript")])
def test_trainable_params_equal_num_params_where_batchnorm_is_kept(summaries, case):
    r = record(case)
    s = summaries[case]
    assert s.totals.trainable_params == r["num_params"] - AUX_LOGITS.get(r["model"], 0)
    assert s.diagnostics == ()


@pytest.mark.parametrize("case", CASES)
def test_macs_match_torchvision_ops(summaries, case):
    """Within 0.5%, or within half a unit of the last decimal torchvision publishes (its
    0.057 for mobilenet_v3_small stands for anything from 0.0565 to 0.0575 GMACs)."""
    r = record(case)
    published = r["ops_gflops"] * 10**9
    digits = len(str(r["ops_gflops"]).split(".")[1])
    tolerance = max(0.005 * published, 0.5 * 10 ** (9 - digits))
    assert abs(summaries[case].totals.macs - published) <= tolerance


@pytest.mark.parametrize("case", CASES)
def test_every_tensor_shape_equals_onnxruntime(summaries, case):
    actual = record(case)["ort_shapes"]
    ours = summaries[case].tensors
    wrong = {t: (ours.get(t), tuple(shape)) for t, shape in actual.items()
             if ours.get(t) != tuple(shape)}
    assert wrong == {}
    assert len(actual) > 10


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_resnet18_last_stage_receptive_field(summaries, exporter):
    layer4 = summaries[f"resnet18.{exporter}"].layer("layer4")
    assert layer4.receptive_field == {"size": [435, 435], "stride": [32, 32]}


def test_dynamo_folds_batchnorm_into_the_conv_bias(summaries):
    """The dynamo export replaces each BatchNorm after a conv by a conv bias: one parameter per
    channel instead of two (resnet18 has 4,800 such channels)."""
    ts, dy = summaries["resnet18.torchscript"], summaries["resnet18.dynamo"]
    assert ts.totals.non_trainable_params == 2 * 4_800  # running mean and variance
    assert dy.totals.non_trainable_params == 0
    assert ts.totals.trainable_params - dy.totals.trainable_params == 4_800


def test_torchscript_layers_are_the_modules(summaries):
    s = summaries["resnet18.torchscript"]
    assert [layer.name for layer in s.layers] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
        "flatten", "fc"]
    assert s.layer("fc").params == (512 + 1) * 1000
    # two BasicBlocks, each two 3x3 convs without bias and two BatchNorms (weight, bias, mean, var)
    assert s.layer("layer1").params == 2 * 2 * (3 * 3 * 64 * 64 + 4 * 64)


# ---------------------------------------------------------------------------------------------
# Rows as torchinfo shows them, at --depth 1 and 2 (tests/data/make_torchinfo.py, by hand)


def torchinfo(model: str) -> dict:
    return json.loads((DATA / f"{model}.torchinfo.json").read_text())


TORCHINFO = sorted(p.name.split(".")[0] for p in DATA.glob("*.torchinfo.json"))
ROWS = [(m, e, d) for m in TORCHINFO for e in ("torchscript", "dynamo") for d in (1, 2)]


@pytest.fixture(scope="module")
def layered():
    return {(m, e, d): analyze(DATA / f"{m}.{e}.onnx", d) for m, e, d in ROWS}


def module_rows(model: str, depth: int) -> list[dict]:
    """torchinfo's rows at a depth that are not expanded below it: the modules shown whole."""
    return [r for r in torchinfo(model)[f"depth_{depth}"]["rows"]
            if r["depth"] >= 1 and r["is_leaf"] and not r["is_recursive"]]


@pytest.mark.parametrize("model, exporter, depth", ROWS)
def test_rows_are_torchinfos_modules(layered, model, exporter, depth):
    """Every module torchinfo shows at the depth is a row of that name, with its output shape
    and parameters: the torchscript export keeps each BatchNorm (its running statistics are the
    non-trainable params torchinfo leaves out); the dynamo export folds each into the conv
    before it (torchvision's convs have no bias): its scale and shift are gone and the conv has
    a bias of one per channel, in the row that says so or in the same module's row."""
    s = layered[model, exporter, depth]
    rows = {layer.name: layer for layer in s.layers}
    kept = {layer.name: layer for layer in layered[model, "torchscript", depth].layers}
    folded = {f for layer in s.layers for f in layer.folded}
    missing, wrong = [], []
    for r in module_rows(model, depth):
        name, params = r["qualified_name"], r["params_subtree"]
        if name in folded:
            continue  # a BatchNorm folded into the conv row that names it
        row = rows.get(name)
        if row is None:
            if params == 0:
                continue  # a module with no node of its own (an Identity, a Dropout in eval)
            missing.append(name)
            continue
        if tuple(row.output_shape) != tuple(r["output_size"]):
            wrong.append((name, "shape", row.output_shape, r["output_size"]))
        got, want = row.trainable_params, params
        if exporter == "dynamo":
            # Channels of the norms folded here: they keep running statistics in the
            # torchscript export (2 per channel), none here; each left a bias per channel.
            folded_here = (kept[name].non_trainable_params - row.non_trainable_params) // 2
            moved = sum(kept[n].non_trainable_params // 2 for n in row.folded if n in kept)
            want = params - folded_here + moved
        if got != want:
            wrong.append((name, "params", got, want))
    assert (missing, wrong) == ([], [])


@pytest.mark.parametrize("model, exporter, depth", ROWS)
def test_rows_of_no_shown_module_hold_only_what_containers_own(layered, model, exporter, depth):
    """Rows of no module torchinfo shows whole (torch.flatten, an operator between modules)
    hold only the parameters a container owns itself (torchinfo's Param # on an expanded row:
    vit_b_16's class token, its encoder's position embedding)."""
    s = layered[model, exporter, depth]
    rows = torchinfo(model)[f"depth_{depth}"]["rows"]
    whole = {r["qualified_name"] for r in module_rows(model, depth)}
    owned = sum(r["num_params"] for r in rows if not r["is_leaf"])
    assert sum(layer.trainable_params for layer in s.layers if layer.name not in whole) == owned
