#!/usr/bin/env python3
"""Make the per-layer export oracle data in tests/data/keras/.

NOT run in CI and not a dependency of the project: run it by hand with two
separate environments, one with TensorFlow and one with torch, e.g.

    python3 -m venv ../tfvenv
    ../tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 \
        keras==3.15.1 tf2onnx==1.17.0 onnx onnxruntime
    python3 -m venv ../torchvenv
    ../torchvenv/bin/pip install torch==2.14.1 torchvision==0.29.1 \
        keras==3.15.1 onnx onnxruntime onnxscript
    python3 tests/data/make_keras.py --tf-python ../tfvenv/bin/python \
        --torch-python ../torchvenv/bin/python [--models ...] [--routes ...]

(made with onnx 1.23.2, onnxruntime 1.32.0, onnxscript 0.7.2, numpy 2.4.6).
The script itself only needs the standard library; it runs itself once per
(route, model) in the right environment (``--worker ROUTE --models MODEL``),
with KERAS_BACKEND or TF_USE_LEGACY_KERAS set before anything is imported.
Re-running with the same versions gives the same files, except that tf2onnx
numbers some of its own constants (``new_shape__62``, ``const_fold_opt__71``)
differently from run to run (the keras_tf and tf2onnx routes).

Models and routes (each model through each route that applies):

* Keras models ``seed`` (the seed article's CNN, 28x28x1), ``seed_bn`` (the
  same with BatchNormalization after each Conv2D and after the first Dense),
  ``lenet5`` (LeNet-5 as Keras tutorials write it: 32x32x1, Conv2D 6 and 16
  of 5x5 with tanh, AveragePooling2D, Conv2D 120 of 5x5, Dense 84 and 10),
  ``resnet50`` and ``mobilenet_v2`` (``keras.applications``, weights=None);
  routes ``keras_tf`` (Keras 3, TensorFlow backend, ``model.export(path,
  format="onnx")``: tf2onnx under the hood), ``keras_torch`` (Keras 3, torch
  backend, the same call: with the default dynamic batch Keras picks torch's
  TorchScript exporter), ``keras_torch_static`` (the same with a batch-1
  ``input_signature``: Keras then tries torch's dynamo exporter first) and
  ``tf2onnx`` (tf-keras, i.e. TF_USE_LEGACY_KERAS=1,
  ``tf2onnx.convert.from_keras``).
* torch models ``torch_cnn`` (a small CNN of Conv2d/BatchNorm2d/ReLU/
  MaxPool2d/Flatten/Linear/BatchNorm1d modules, 1x1x28x28) and ``resnet18``
  (torchvision, weights=None); routes ``dynamo`` and ``torchscript``
  (exactly as tests/data/make_torchvision.py calls them), and for torch_cnn
  only ``dynamo_external``.

For every (model, route) it writes ``<model>.<route>.onnx``, a weight-free
skeleton (every float initializer an external-data reference to a
``<model>.<route>.weights`` file that is deleted; integer initializers
inline, as in make_torchvision.py), and ``<model>.<route>.json``, the oracle:

* ``layers``: the framework's own per-layer view. Keras: each layer of
  ``model.layers`` (name, class, output shape as Keras reports it with None
  for the batch, count_params(), trainable / non-trainable). torch: every
  module (leaves and containers, ``depth`` 1 = top-level child; qualified
  name, class, params of the module and its children, float buffers, output
  shape of each call from a forward hook). Each layer also has ``macs``
  (Conv: output units x C_in/groups x kh x kw, Dense/Linear: output units x
  in_features, bias excluded; batch 1) and ``onnx``: the ONNX tensors whose
  VALUES equal the layer's output (onnxruntime vs the framework on the same
  random input), with their layout and producing node, and the first one as
  ``tensor``. No tensor means the exporter fused the layer away (a Conv
  folded with its BatchNorm has no pre-BN output).
* ``totals``: params, trainable, non_trainable (the framework's numbers; for
  torch also ``float_buffers``, e.g. BatchNorm running stats, which torch
  does not call parameters and Keras counts as non-trainable params).
* ``macs``: the sum of the layers' macs.
* ``shapes``: every tensor of the ONNX graph as onnxruntime produced it
  (every node output exposed as a graph output, one run, all graph
  optimisations off), and ``graph_outputs``.
* ``layout``: the input's layout and, for each layer, the ONNX tensor holding
  its output and whether it is NHWC, NCHW, flat or reshaped.
* ``mapping``: for each layer name, where it occurs in the file (node names,
  output tensor names, initializer names, dynamo ``pkg.torch.onnx.name_scopes``
  module scopes, and names that only look like it), and ``mapping_notes``:
  the route's summary in words.
* ``check``: the largest difference between onnxruntime's and the
  framework's model output.

``torch_cnn.dynamo_external/`` keeps a complete dynamo export with its real
external data file, re-saved with ``size_threshold=0`` so that the integer
initializers (shape constants) are in the data file too: the exporter itself
keeps tensors under its size threshold inline. Its JSON lists them
(``external_data.integer_tensors``: name, dims, offset, length). A copy of
that .onnx alone is ``torch_cnn.dynamo_external.onnx``.

No pretrained weights are downloaded and every weight is random (the
exporters drop zero biases and merge equal tensors otherwise): kernels are
normal with std 1/sqrt(fan_in) so that activations stay finite through
ResNet50, other weights normal(0, 0.1), variances |.|+0.5.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "keras"

KERAS_MODELS = ["seed", "seed_bn", "lenet5", "resnet50", "mobilenet_v2"]
TORCH_MODELS = ["torch_cnn", "resnet18"]
KERAS_ROUTES = ["keras_tf", "keras_torch", "keras_torch_static", "tf2onnx"]
TORCH_ROUTES = ["dynamo", "torchscript", "dynamo_external"]
ROUTE_MODELS = {r: KERAS_MODELS for r in KERAS_ROUTES}
ROUTE_MODELS.update({"dynamo": TORCH_MODELS, "torchscript": TORCH_MODELS,
                     "dynamo_external": ["torch_cnn"]})
# route -> (environment, extra environment variables)
ROUTE_ENV = {
    "keras_tf": ("tf", {"KERAS_BACKEND": "tensorflow"}),
    "tf2onnx": ("tf", {"TF_USE_LEGACY_KERAS": "1"}),
    "keras_torch": ("torch", {"KERAS_BACKEND": "torch"}),
    "keras_torch_static": ("torch", {"KERAS_BACKEND": "torch"}),
    "dynamo": ("torch", {}),
    "torchscript": ("torch", {}),
    "dynamo_external": ("torch", {}),
}
TORCH_INPUT_NAME = "image"
KERAS_INPUT_NAME = "input"  # only where the route lets us choose (tf2onnx)

# Per route, in words: where the framework's layer names live in the file.
MAPPING_NOTES = {
    "keras_tf": (
        "Keras 3 (TensorFlow backend) model.export(format='onnx') traces the model with "
        "tf.function (ExportArchive) and converts it with tf2onnx.convert.from_function. Node "
        "and output tensor names are TF op names '<model scope>/<layer scope>/<op>' (tensors "
        "end in ':0'), but the scopes are TF's UNIQUIFIED name scopes of a second trace, not "
        "the Keras names: the model scope gets '_1' (sequential_1, resnet50_1, "
        "mobilenetv2_1.00_224_1) and so does every layer, a name already taken getting the "
        "next free suffix. In the seed CNN Keras 'conv2d' is scope 'conv2d_1' and Keras "
        "'conv2d_1' is 'conv2d_1_2': read verbatim, the scopes name the WRONG layers (each "
        "layer's 'onnx.other_layer_name_in_scope'). In ResNet50/MobileNetV2 every scope is "
        "'<keras name>_1'. Initializers carry the same mangled names "
        "('sequential_1/conv2d_1/convolution/ReadVariableOp:0'). ResNet50 (Conv2D with bias): "
        "Conv (named '.../<conv>_1/BiasAdd') then the BN as Mul/Add under "
        "'<bn>_1/batchnorm/'; the first Conv is 'Conv__350', with no scope, because "
        "ZeroPadding2D conv1_pad was merged into its pads (conv1_pad has no node). "
        "MobileNetV2 (Conv2D use_bias=False, then BN): the Conv and its BN are folded into "
        "one Conv node named 'Conv__<n>' with NO scope (weight "
        "'<conv>_1/convolution/merged_input:0', bias '<bn>_1/batchnorm/sub:0'), so the "
        "conv layer has no tensor and the BN layer's tensor is that Conv's output; "
        "DepthwiseConv2D stays a scoped Conv followed by the BN's Mul/Add. The Relu6 Clip "
        "min/max scalars are shared and named after arbitrary other layers. The model input "
        "is NHWC as in Keras; after the first Transpose everything runs NCHW. No node "
        "metadata."
    ),
    "tf2onnx": (
        "tf2onnx.convert.from_keras on a tf-keras (Keras 2) model: node and tensor names are "
        "TF op names '<model>/<layer>/<op>' with the Keras layer names verbatim "
        "('sequential/conv2d/Conv2D', 'sequential/conv2d/Relu:0'), initializers "
        "'<model>/<layer>/<op>/ReadVariableOp:0'; tf2onnx's own nodes are 'Transpose__34', "
        "'<op>__6'. The graph output is named after the last layer ('dense_1'). tf2onnx "
        "folds a BatchNormalization that directly follows a Conv2D (ResNet50, MobileNetV2) "
        "into it: the fused Conv node carries the CONV layer's name "
        "('resnet50/conv2_block1_1_conv/BiasAdd') but its output tensor carries the BN "
        "layer's ('resnet50/conv2_block1_1_bn/FusedBatchNormV3:0'), weights "
        "'<conv op>_weights_fused_bn'/'_bias_fused_bn'; the conv layer's own (pre-BN) output "
        "does not exist and the BN layer has no node. ResNet50's first Conv is 'Conv__513' "
        "(no scope; conv1_pad merged into its pads). In seed_bn (BN after the ReLU) the BNs "
        "stay BatchNormalization after convs and become Mul/Add after the Dense. Input NHWC, "
        "then NCHW inside. No node metadata."
    ),
    "keras_torch": (
        "Keras 3 (torch backend) model.export(format='onnx') with the default input "
        "signature (batch None): Keras sees a dynamic axis and calls torch's TorchScript "
        "exporter (torch.onnx.export(..., dynamo=False, do_constant_folding=True, "
        "dynamic_axes={'keras_tensor': {0: 'batch'}})), opset 20. Node names are '/Conv', "
        "'/Conv_1', '/Relu', ... and tensors '/Conv_output_0': Keras layers make no TorchScript "
        "scopes, so NO layer name appears anywhere (initializers are 'onnx::Conv_129'). Every "
        "conv/pool is bracketed by Transposes (Keras's NHWC <-> torch's NCHW) and Casts. "
        "BatchNormalization becomes Sub/Mul/Add with constant-folded operands (3 x C floats "
        "instead of Keras's 4 x C); scalar Constant nodes stay inline. Layers can be "
        "recovered only by value (see 'onnx' per layer)."
    ),
    "keras_torch_static": (
        "Keras 3 (torch backend) model.export(format='onnx', input_signature=[batch-1 "
        "InputSpec]): with no dynamic axis Keras tries torch's dynamo exporter first "
        "(torch.onnx.export(..., dynamo=True), then onnx_program.optimize()) and silently "
        "falls back to TorchScript if it raises ('exporter_detected' says which ran: dynamo "
        "for all four models here). pkg.torch.onnx.name_scopes is ['', '<fx node name>'] for "
        "EVERY node and class_hierarchy ['keras.src.models.sequential.Sequential' (or "
        "functional.Functional), 'aten.conv2d.default']: the only module is the root, so "
        "there is NO layer scope. The fx names (node 'node_Conv_59', output tensors "
        "'conv2d', 'conv2d_1', 'relu', 'max_pool2d', 'add_1') are aten op names; where one "
        "equals a Keras layer name ('conv2d', 'conv2d_1', 'conv2d_2' in the seed CNN) that is a "
        "coincidence of two counters starting at the same place, not the layer ('fx_name_only' "
        "in 'mapping'). Initializers are 'lifted_tensor_<n>' / fx names. BN as Sub/Mul/Add."
    ),
    "dynamo": (
        "torch.onnx.export(..., dynamo=True): every node has metadata_props "
        "pkg.torch.onnx.name_scopes = ['', <cumulative qualified module names>..., <fx node "
        "name>] (e.g. ['', 'layer1', 'layer1.0', 'layer1.0.bn1', "
        "'_native_batch_norm_legit_no_training_1']) and pkg.torch.onnx.class_hierarchy "
        "(module classes, then the aten op). Node names ('node_Conv_24') and tensor names "
        "('getitem_3', 'relu_1') are fx names, not module names; parameters keep their "
        "state_dict names ('layer1.0.conv1.weight'). The optimiser folds a BatchNorm that "
        "follows a Conv or a Linear (BatchNorm1d) into it, and the fused node carries the "
        "BATCHNORM's scope: the Conv/Linear module then has no node and no tensor (its "
        "'onnx' is empty), while its weight initializer keeps the conv's name. A module "
        "called twice (BasicBlock's ReLU) has one node per call, all with its scope."
    ),
    "dynamo_external": (
        "As 'dynamo' (same call, external_data=True), then re-saved with "
        "onnx.save_model(..., save_as_external_data=True, all_tensors_to_one_file=True, "
        "size_threshold=0): the exporter itself writes only the four weight matrices to its "
        "data file and keeps the biases and the int64 Reshape shape 'val_19' inline "
        "('external_data.exporter_inline'), so this forcing is what puts the INTEGER tensor "
        "in the external file ('external_data.integer_tensors')."
    ),
    "torchscript": (
        "torch.onnx.export(..., dynamo=False): node names are the module path "
        "'/layer1/layer1.0/conv1/Conv' (components are attribute names, a nested "
        "Sequential's child qualified by its parent: 'layer1.0', 'downsample.0', but "
        "'conv1' not 'layer1.0.conv1'), output tensors '/layer1/layer1.0/conv1/Conv_output_0', "
        "initializers the state_dict names ('layer1.0.conv1.weight'). A module called twice "
        "gets a suffixed scope on the second call: BasicBlock's relu is "
        "'/layer1/layer1.0/relu/Relu' then '/layer1/layer1.0/relu_1/Relu' ('relu_1' is no "
        "module). BatchNorm stays BatchNormalization (running stats as initializers). No "
        "node metadata."
    ),
}

# The README table's short answer to "where do the layer names live".
NAMES_SHORT = {
    "keras_tf": "node/tensor/initializer names, but as TF-uniquified scopes (`conv2d` -> "
                "`conv2d_1`, `conv2d_1` -> `conv2d_1_2`; big models `<name>_1`); folded "
                "Conv+BN unscoped `Conv__N`",
    "tf2onnx": "node/tensor/initializer names verbatim (`sequential/conv2d/Conv2D`); "
               "fused Conv+BN: node = conv's name, output tensor = BN's name",
    "keras_torch": "nowhere (`/Conv_1`, `onnx::Conv_129`)",
    "keras_torch_static": "nowhere: name_scopes `['', fx name]`; fx names like `conv2d_1` "
                          "match Keras names by coincidence only",
    "dynamo": "metadata `pkg.torch.onnx.name_scopes` (qualified names); folded Conv/Linear "
              "shows under its BatchNorm's scope",
    "dynamo_external": "as dynamo",
    "torchscript": "node names, e.g. `/layer1/layer1.0/conv1/Conv` (a module's 2nd call: "
                   "`relu_1`)",
}


# ---------------------------------------------------------------------------------------------
# The driver: runs each route in its environment, then writes the README table.


def driver(args) -> int:
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    pythons = {"tf": args.tf_python, "torch": args.torch_python}
    failed = []
    for route in args.routes:
        models = [m for m in args.models if m in ROUTE_MODELS[route]]
        if not models:
            continue
        kind, extra = ROUTE_ENV[route]
        env = dict(os.environ, **extra)
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("PYTHONHASHSEED", "0")
        # One process per (route, model): tf2onnx numbers its symbolic dims and new nodes
        # (unk__75, Const__40) with process-wide counters, so a model's file would otherwise
        # depend on which models were converted before it.
        for model in models:
            cmd = [pythons[kind], str(Path(__file__).resolve()), "--worker", route,
                   "--out", str(out), "--models", model]
            print(f"== {route}: {model}", flush=True)
            if subprocess.run(cmd, env=env).returncode:
                failed.append(f"{model}.{route}")
    write_readme(out)
    if failed:
        print(f"failed: {failed}", file=sys.stderr)
    return 1 if failed else 0


def write_readme(out: Path) -> None:
    rows = []
    for j in sorted(out.glob("*.json")):
        rec = json.loads(j.read_text())
        rows.append(rec)
    order = {m: i for i, m in enumerate(KERAS_MODELS + TORCH_MODELS)}
    rorder = {r: i for i, r in enumerate(KERAS_ROUTES + TORCH_ROUTES)}
    rows.sort(key=lambda r: (order.get(r["model"], 99), rorder.get(r["route"], 99)))
    failures = []
    fail_file = out / "failures.json"
    if fail_file.exists():
        failures = json.loads(fail_file.read_text())
    lines = [
        "# Export oracle data: one row per framework layer",
        "",
        "Weight-free ONNX skeletons of Keras and torch models, each exported through every",
        "route that applies, with a JSON oracle made from the FRAMEWORK (its own layers,",
        "shapes and parameter counts) and onnxruntime (every tensor's shape and value), never",
        "from sphinx_cnncount. Made by hand with `tests/data/make_keras.py` (see its",
        "docstring for the environments); never run in CI.",
        "",
        "Load a skeleton with `onnx.load(path, load_external_data=False)`: every float",
        "initializer is an external-data reference (dims, dtype, location/offset/length) to a",
        "`<model>.<route>.weights` file that was deleted; integer initializers are inline.",
        "",
        "| model | route | exporter (detected) | versions | opset | where layer names live |"
        " nodes | .onnx bytes | .json bytes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        onnx_p = out / f"{r['model']}.{r['route']}.onnx"
        json_p = out / f"{r['model']}.{r['route']}.json"
        vers = ", ".join(f"{k} {v}" for k, v in r["versions"].items()
                         if k not in ("onnx", "onnxruntime", "numpy", "python"))
        lines.append(
            f"| {r['model']} | {r['route']} | {r['exporter_detected']} | {vers} | "
            f"{r['opset_import'].get('ai.onnx')} | {NAMES_SHORT[r['route']]} | {r['node_count']} | "
            f"{onnx_p.stat().st_size if onnx_p.exists() else '-'} | "
            f"{json_p.stat().st_size} |")
    ext = out / "torch_cnn.dynamo_external"
    lines += [""]
    if ext.exists():
        lines += ["`torch_cnn.dynamo_external/` (the complete export, real random weights):", ""]
        for f in sorted(ext.iterdir()):
            lines.append(f"* `{f.name}`: {f.stat().st_size} bytes")
        lines.append("")
    if failures:
        lines += ["## Failed exports", ""]
        for f in failures:
            lines.append(f"* {f['model']} / {f['route']}: `{f['error']}`")
        lines.append("")
    lines += ["## Counted per file", "",
              "Per layer name, how many layers occur in each place (`mapping` in the JSON), "
              "and the by-value mapping: layers whose output tensor onnxruntime produced, and "
              "whether the node making it is scoped by the layer's own name.", ""]
    for r in rows:
        lines.append(f"* {r['model']}.{r['route']}: {r['names_live']}")
    lines += ["", "## Where the layer names live, per route", ""]
    for route in KERAS_ROUTES + TORCH_ROUTES:
        if any(r["route"] == route for r in rows):
            lines += [f"* **{route}**: {MAPPING_NOTES[route]}", ""]
    lines += [
        "## JSON keys",
        "",
        "`model`, `route`, `exporter_detected`, `export_call`, `versions`, `opset_import`,",
        "`input` (name, shape run, layout), `layers` (framework view + `macs` + `onnx`: the",
        "ONNX tensors whose values equal the layer's output, `tensor` the first of them),",
        "`totals`, `macs`, `shapes` (every tensor, onnxruntime), `graph_outputs`, `layout`,",
        "`mapping` (per layer name: where it occurs), `mapping_notes`, `names_live`,",
        "`check` (onnxruntime vs framework output). Keras shapes keep None for the batch",
        "as Keras reports them; the run used batch 1 (a symbolic batch dim was bound to 1).",
        "",
        "Re-running gives the same files except for tf2onnx's own constant names",
        "(`new_shape__62`, `const_fold_opt__71`), which vary between runs.",
        "",
        "Numbers not to confuse: Keras counts BatchNormalization's moving mean/variance as",
        "non-trainable params; torch keeps them as buffers (`float_buffers`), not params.",
        "Exporters that fold a BatchNorm into the Conv before it leave fewer float",
        "initializers than the framework has weights (and a new bias).",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# ONNX helpers shared by the workers (onnx, onnxruntime and numpy only).


def onnx_helpers():
    import numpy as np
    import onnx
    import onnx.numpy_helper
    import onnxruntime as ort

    FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16,
                   onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}

    def ort_run(m, feeds):
        """Run m with every node output exposed; return ({name: array}, graph order)."""
        m = onnx.ModelProto.FromString(m.SerializeToString())
        existing = {o.name for o in m.graph.output}
        inputs = {i.name for i in m.graph.input}
        order = []
        for node in m.graph.node:
            for o in node.output:
                if o and o not in inputs:
                    order.append(o)
                    if o not in existing:
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
            res = sess.run(names, feeds)
        return {n: np.asarray(r) for n, r in zip(names, res)}, order

    def strip_weights(path: Path, m) -> None:
        """Save m at path as a skeleton: every float initializer an external-data reference to
        <stem>.weights (never written), integer initializers inline (as make_torchvision.py)."""
        m = onnx.ModelProto.FromString(m.SerializeToString())
        loc = f"{path.name[: -len('.onnx')]}.weights"
        offset = 0
        for t in m.graph.initializer:
            if t.data_type not in FLOAT_TYPES:
                continue
            raw = onnx.numpy_helper.to_array(t).tobytes()
            for field in ("raw_data", "float_data", "double_data", "int32_data"):
                t.ClearField(field)
            del t.external_data[:]
            t.data_location = onnx.TensorProto.EXTERNAL
            for key, value in (("location", loc), ("offset", str(offset)),
                               ("length", str(len(raw)))):
                t.external_data.add(key=key, value=value)
            offset += len(raw)
        onnx.save(m, str(path))
        sk = onnx.load(str(path), load_external_data=False)
        for t in sk.graph.initializer:
            assert (t.data_type not in FLOAT_TYPES
                    or t.data_location == onnx.TensorProto.EXTERNAL), t.name

    def load_full(path: Path):
        """Load an export with its external data, then delete the exporter's data files."""
        refs = onnx.load(str(path), load_external_data=False)
        files = {e.value for t in refs.graph.initializer for e in t.external_data
                 if e.key == "location"}
        m = onnx.load(str(path))
        for f in files:
            (path.parent / f).unlink(missing_ok=True)
        path.unlink()
        return m

    def shape_of(vi):
        dims = []
        for d in vi.type.tensor_type.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
        return dims

    return dict(np=np, onnx=onnx, ort=ort, ort_run=ort_run, strip_weights=strip_weights,
                load_full=load_full, shape_of=shape_of, FLOAT_TYPES=FLOAT_TYPES)


def match_values(np, ref, values: dict, order: list, channels_last: bool) -> list[dict]:
    """The ONNX tensors (graph order) whose values equal ref, with their layout."""
    ref = np.asarray(ref, dtype=np.float64)
    if ref.size == 0 or not np.isfinite(ref).all() or ref.std() == 0:
        return []
    tol = 1e-3 * float(np.abs(ref).max()) + 1e-6
    found = []
    for name in order:
        v = values.get(name)
        if v is None or v.size != ref.size or v.dtype.kind != "f":
            continue
        v = v.astype(np.float64)
        layout = None
        if v.shape == ref.shape and np.allclose(v, ref, rtol=1e-3, atol=tol):
            layout = ("NHWC" if channels_last else "NCHW") if ref.ndim == 4 else (
                "flat" if ref.ndim == 2 else "same")
        elif (ref.ndim == 4 and channels_last and v.ndim == 4
              and v.shape == (ref.shape[0], ref.shape[3], ref.shape[1], ref.shape[2])
              and np.allclose(v, ref.transpose(0, 3, 1, 2), rtol=1e-3, atol=tol)):
            layout = "NCHW"
        elif np.allclose(v.reshape(ref.shape), ref, rtol=1e-3, atol=tol):
            layout = f"reshaped {list(v.shape)}"
        if layout:
            found.append({"tensor": name, "layout": layout, "shape": list(v.shape)})
    return found


def name_evidence(m, names: list[str]) -> dict:
    """Where each framework layer name occurs in the model m."""
    nodes = []
    for n in m.graph.node:
        scopes, fx = metadata_scopes(n)
        outs = []
        for o in n.output:
            o = o.split(":")[0]
            outs.append((o, name_path(o + "/x") if "/" in o else []))
        nodes.append((n, scopes, fx, set(name_path(n.name)), outs))
    inits = [t.name.split(":")[0].strip("/").split("/") for t in m.graph.initializer]
    init_names = [t.name for t in m.graph.initializer]
    ev = {}
    for name in names:
        suffixed = re.compile(re.escape(name) + r"(_\d+)+")
        e = {"node_name": [], "node_name_suffixed": [], "output_name": [], "metadata_scope": [],
             "fx_name_only": [], "initializer_name": [],
             "initializer_name_suffixed": []}
        for n, scopes, fx, comps, outs in nodes:
            if name in comps:
                e["node_name"].append(n.name)
            elif any(suffixed.fullmatch(c) for c in comps):
                e["node_name_suffixed"].append(n.name)
            if any(name in oc or o == name for o, oc in outs):
                e["output_name"].append(n.output[0])
            if name in scopes:
                e["metadata_scope"].append(n.name)
            elif fx == name:
                e["fx_name_only"].append(n.name)
        for parts, full in zip(inits, init_names):
            if name in parts or full.startswith(name + ".") or full == name:
                e["initializer_name"].append(full)
            elif any(suffixed.fullmatch(c) for c in parts):
                e["initializer_name_suffixed"].append(full)
        ev[name] = {k: {"count": len(v), "first": v[0]} for k, v in e.items() if v}
    return ev


def name_path(name: str) -> list[str]:
    """The scope components of a node name: a TorchScript name ('/layer1/layer1.0/relu_1/Relu')
    as torch qualified names ('layer1', 'layer1.0', 'layer1.0.relu_1': a component that does
    not start with its parent's is qualified by it), a tf2onnx name ('sequential/conv2d/Conv2D')
    as its raw components; the last component (the op) is not a scope."""
    if "/" not in name:
        return []
    comps = name.strip("/").split("/")[:-1]
    if not name.startswith("/"):
        return comps
    out, q, r = [], "", ""
    for c in comps:
        if r and c.startswith(r + "."):
            q = q[: len(q) - len(r)] + c
        else:
            q = f"{q}.{c}" if q else c
        r = c
        out.append(q)
    return out


def metadata_scopes(n) -> tuple[list[str], str | None]:
    """The dynamo metadata's module scopes of a node and its fx node name."""
    import ast

    for p in n.metadata_props:
        if p.key == "pkg.torch.onnx.name_scopes":
            try:
                s = ast.literal_eval(p.value)
                return [c for c in s[1:-1] if c], s[-1]
            except (ValueError, SyntaxError):
                return [], None
    return [], None


def node_scope(n) -> list[str]:
    """A node's scope: its dynamo metadata module scopes, else its name's path."""
    scopes, _ = metadata_scopes(n)
    return scopes or name_path(n.name)


def related(a: str, b: str) -> bool:
    """a and b are the same module or one contains the other (torch qualified names)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def names_live(ev: dict) -> str:
    """A one-line summary of name_evidence over all layers."""
    total = len(ev)
    keys = ["metadata_scope", "node_name", "node_name_suffixed", "output_name",
            "initializer_name", "initializer_name_suffixed", "fx_name_only"]
    parts = []
    for k in keys:
        c = sum(1 for e in ev.values() if k in e)
        if c:
            parts.append(f"{k} {c}/{total}")
    none = sum(1 for e in ev.values() if not e)
    if none:
        parts.append(f"nowhere {none}/{total}")
    return "; ".join(parts)


def base_record(h, m, route, model, exporter, call, versions):
    return {
        "model": model,
        "route": route,
        "exporter_detected": exporter,
        "export_call": call,
        "versions": versions,
        "opset_import": {d.domain or "ai.onnx": d.version for d in m.opset_import},
        "ir_version": m.ir_version,
        "producer": f"{m.producer_name} {m.producer_version}".strip(),
        "node_count": len(m.graph.node),
        "onnx_input": [{"name": i.name, "shape": h["shape_of"](i)} for i in m.graph.input
                       if i.name not in {t.name for t in m.graph.initializer}],
        "onnx_output": [{"name": o.name, "shape": h["shape_of"](o)} for o in m.graph.output],
        "mapping_notes": MAPPING_NOTES[route],
    }


def detect_exporter(m) -> str:
    if any(p.key.startswith("pkg.torch.onnx") for n in m.graph.node for p in n.metadata_props):
        return "torch.onnx dynamo"
    if m.producer_name == "pytorch":
        return "torch.onnx torchscript"
    return m.producer_name or "?"


def write_json(path: Path, rec: dict) -> None:
    with open(path, "w") as fh:
        json.dump(rec, fh, sort_keys=True, indent=0)
        fh.write("\n")


def record_failure(out: Path, model: str, route: str, exc: BaseException) -> None:
    p = out / "failures.json"
    fails = json.loads(p.read_text()) if p.exists() else []
    first = (str(exc).strip().splitlines() or [""])[0]
    fails = [f for f in fails if (f["model"], f["route"]) != (model, route)]
    fails.append({"model": model, "route": route,
                  "error": f"{type(exc).__name__}: {first}"[:400]})
    p.write_text(json.dumps(fails, indent=1, sort_keys=True) + "\n")


def clear_failure(out: Path, model: str, route: str) -> None:
    p = out / "failures.json"
    if p.exists():
        fails = [f for f in json.loads(p.read_text())
                 if (f["model"], f["route"]) != (model, route)]
        if fails:
            p.write_text(json.dumps(fails, indent=1, sort_keys=True) + "\n")
        else:
            p.unlink()


def finish(h, rec, m, path: Path, values, order, layer_outputs, layers, channels_last,
           framework_out, input_name, x):
    """Fill shapes/layout/mapping/check into rec, write the skeleton and the JSON."""
    np = h["np"]
    rec["shapes"] = {n: list(values[n].shape) for n in order}
    rec["graph_outputs"] = {o.name: list(values[o.name].shape) for o in m.graph.output}
    rec["input"] = {"name": input_name, "shape": list(x.shape),
                    "layout": "NHWC" if channels_last else "NCHW"}
    values = dict(values)
    values[input_name] = x
    order_in = [input_name] + order
    layout = {"input": rec["input"], "layers": {}}
    producer = {o: n for n in m.graph.node for o in n.output}
    layer_names = {layer["name"] for layer in layers}
    nhwc: set[str] = set()
    for layer in layers:
        outs = layer_outputs.get(layer["name"], [])
        matches = []
        for call, ref in enumerate(outs):
            for f in match_values(np, ref, values, order_in, channels_last):
                f["call"] = call
                matches.append(f)
        for f in matches:
            n = producer.get(f["tensor"])
            f["node"] = n.name if n is not None else None
            f["op_type"] = n.op_type if n is not None else "graph input"
        nhwc.update(f["tensor"] for f in matches if f["layout"] == "NHWC")
        exact = [f for f in matches if not f["layout"].startswith("reshaped")]
        first = (exact or matches or [None])[0]
        scope = node_scope(producer[first["tensor"]]) if first and first["tensor"] in \
            producer else []
        others = [c for c in scope if c in layer_names and not related(c, layer["name"])]
        layer["onnx"] = {"tensor": first["tensor"] if first else None,
                         "layout": first["layout"] if first else None,
                         "node": first["node"] if first else None,
                         "node_scope": scope,
                         "own_name_in_scope": layer["name"] in scope,
                         "own_name_suffixed_in_scope": any(
                             re.fullmatch(re.escape(layer["name"]) + r"(_\d+)+", c)
                             for c in scope),
                         "other_layer_name_in_scope": others[-1] if others else None,
                         "matches": matches[:8], "match_count": len(matches)}
        if first:
            layout["layers"][layer["name"]] = {"tensor": first["tensor"],
                                               "layout": first["layout"]}
    if channels_last:
        # every tensor found holding some layer's output in Keras's own NHWC order
        layout["nhwc_tensors"] = sorted(nhwc | {input_name})
    rec["layers"] = layers
    rec["layout"] = layout
    ev = name_evidence(m, [layer["name"] for layer in layers])
    rec["mapping"] = ev
    rec["names_live"] = names_live(ev)
    mapped = [layer["onnx"] for layer in layers if layer["onnx"]["tensor"]]
    rec["names_live"] += (
        f" | by value: {len(mapped)}/{len(layers)} layers found, scope of the node making the "
        f"output holds own name {sum(o['own_name_in_scope'] for o in mapped)}/{len(mapped)}, "
        f"own name + TF suffix {sum(o['own_name_suffixed_in_scope'] for o in mapped)}"
        f"/{len(mapped)}, "
        f"another layer's name {sum(bool(o['other_layer_name_in_scope']) for o in mapped)}"
        f"/{len(mapped)}")
    got = values[m.graph.output[0].name].astype(np.float64)
    want = np.asarray(framework_out, dtype=np.float64).reshape(got.shape)
    rec["check"] = {"output": m.graph.output[0].name,
                    "max_abs_diff_vs_framework": float(np.abs(got - want).max()),
                    "max_abs_output": float(np.abs(want).max())}
    h["strip_weights"](path, m)
    write_json(path.with_suffix(".json"), rec)
    print(f"  {path.name}: {len(m.graph.node)} nodes, {len(order)} tensors, "
          f"{path.stat().st_size} B, names: {rec['names_live']}, "
          f"diff {rec['check']['max_abs_diff_vs_framework']:.2g}", flush=True)


# ---------------------------------------------------------------------------------------------
# Keras worker (keras_tf, keras_torch, keras_torch_static, tf2onnx)


def keras_worker(route: str, models: list[str], out: Path) -> int:
    h = onnx_helpers()
    np = h["np"]
    legacy = route == "tf2onnx"
    if legacy:
        import tensorflow as tf
        import tf2onnx
        import tf_keras as keras
    else:
        import keras
        if route == "keras_tf":
            import tensorflow as tf
            import tf2onnx
    import platform
    versions = {"keras": keras.__version__, "onnx": h["onnx"].__version__,
                "onnxruntime": h["ort"].__version__, "numpy": np.__version__,
                "python": platform.python_version()}
    if route == "keras_tf" or legacy:
        versions.update(tensorflow=tf.__version__, tf2onnx=tf2onnx.__version__)
    if route.startswith("keras_torch"):
        import torch
        versions.update(torch=torch.__version__, backend="torch")
    elif not legacy:
        versions["backend"] = "tensorflow"
    rc = 0
    for name in [m for m in models if m in ROUTE_MODELS[route]]:
        t0 = time.time()
        try:
            keras_one(h, keras, route, name, out, versions)
            clear_failure(out, name, route)
        except Exception as exc:  # a route that fails is recorded, the others go on
            import traceback
            traceback.print_exc()
            record_failure(out, name, route, exc)
            rc = 1
        print(f"  ({name}: {time.time() - t0:.0f}s)", flush=True)
    return rc


def build_keras(keras, name: str):
    L = keras.layers
    keras.backend.clear_session()  # deterministic auto names: conv2d, conv2d_1, ...
    if name in ("seed", "seed_bn"):
        bn = name == "seed_bn"
        layers = [keras.Input((28, 28, 1))]
        for filters in (32, 64, 128):
            layers.append(L.Conv2D(filters, 3, activation="relu"))
            if bn:
                layers.append(L.BatchNormalization())
            layers.append(L.MaxPooling2D(2))
        layers += [L.Flatten(), L.Dense(64, activation="relu")]
        if bn:
            layers.append(L.BatchNormalization())
        layers.append(L.Dense(10, activation="softmax"))
        return keras.Sequential(layers), (28, 28, 1)
    if name == "lenet5":
        return keras.Sequential([
            keras.Input((32, 32, 1)),
            L.Conv2D(6, 5, activation="tanh"), L.AveragePooling2D(2),
            L.Conv2D(16, 5, activation="tanh"), L.AveragePooling2D(2),
            L.Conv2D(120, 5, activation="tanh"), L.Flatten(),
            L.Dense(84, activation="tanh"), L.Dense(10, activation="softmax"),
        ]), (32, 32, 1)
    if name == "resnet50":
        return keras.applications.ResNet50(weights=None), (224, 224, 3)
    if name == "mobilenet_v2":
        return keras.applications.MobileNetV2(weights=None), (224, 224, 3)
    raise ValueError(name)


def randomise_keras(np, model, seed: int) -> None:
    rng = np.random.default_rng(seed)
    new = []
    for w in model.weights:
        shape = tuple(int(d) for d in w.shape)
        lname = w.name.split("/")[-1].split(":")[0]
        r = rng.standard_normal(shape).astype("float32")
        if "kernel" in lname and len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) if "depthwise" not in lname else int(
                np.prod(shape[:2]))
            r = r / np.sqrt(fan_in)
        elif "moving_variance" in lname:
            r = np.abs(r) + 0.5
        elif "gamma" in lname:
            r = 1.0 + 0.1 * r
        else:
            r = 0.1 * r
        new.append(r)
    model.set_weights(new)


def keras_shape(t) -> list:
    shape = t.shape
    return [None if d is None else int(d) for d in shape]


def keras_layers(np, model) -> list[dict]:
    rows = []
    for layer in model.layers:
        out_shape = keras_shape(layer.output)
        inp = layer.input
        in_shape = keras_shape(inp) if not isinstance(inp, (list, tuple)) else [
            keras_shape(i) for i in inp]
        tr = int(sum(int(np.prod(w.shape)) for w in layer.trainable_weights))
        nt = int(sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights))
        cls = type(layer).__name__
        macs = 0
        units = int(np.prod(out_shape[1:]))
        if cls in ("Conv2D", "DepthwiseConv2D"):
            kh, kw = layer.kernel_size
            cin = in_shape[-1]
            per = kh * kw if cls == "DepthwiseConv2D" else cin // getattr(layer, "groups", 1) \
                * kh * kw
            macs = units * per
        elif cls == "Dense":
            macs = units * in_shape[-1]
        rows.append({"name": layer.name, "class": cls, "output_shape": out_shape,
                     "input_shape": in_shape, "params": int(layer.count_params()),
                     "trainable": tr, "non_trainable": nt, "macs": int(macs)})
    return rows


def keras_one(h, keras, route, name, out, versions):
    np = h["np"]
    model, shape = build_keras(keras, name)
    randomise_keras(np, model, seed=sum(map(ord, name)))
    x = np.random.default_rng(0).standard_normal((1, *shape)).astype("float32")
    to_np = keras.ops.convert_to_numpy if hasattr(keras, "ops") else np.asarray
    framework_out = to_np(model(x, training=False))
    layers = keras_layers(np, model)
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
    outs = probe(x, training=False)
    layer_outputs = {layer["name"]: [to_np(o)] for layer, o in zip(layers, outs)}
    totals = {"params": int(model.count_params()),
              "trainable": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
              "non_trainable": int(sum(int(np.prod(w.shape))
                                       for w in model.non_trainable_weights))}
    stem = f"{name}.{route}"
    path = out / f"{stem}.onnx"
    work = Path(tempfile.mkdtemp(prefix="export-", dir=out))
    try:
        tmp = work / f"{stem}.onnx"
        if route == "tf2onnx":
            import tensorflow as tf
            import tf2onnx
            spec = (tf.TensorSpec((None, *shape), tf.float32, name=KERAS_INPUT_NAME),)
            tf2onnx.convert.from_keras(model, input_signature=spec, output_path=str(tmp))
            call = ("tf2onnx.convert.from_keras(model, input_signature=(tf.TensorSpec((None, "
                    f"{', '.join(map(str, shape))}), tf.float32, name='{KERAS_INPUT_NAME}'),), "
                    "output_path=path)")
        elif route == "keras_torch_static":
            sig = [keras.InputSpec(shape=(1, *shape), dtype="float32")]
            model.export(str(tmp), format="onnx", verbose=False, input_signature=sig)
            call = ("model.export(path, format='onnx', verbose=False, input_signature="
                    f"[keras.InputSpec(shape=(1, {', '.join(map(str, shape))}), "
                    "dtype='float32')])")
        else:
            model.export(str(tmp), format="onnx", verbose=False)
            call = "model.export(path, format='onnx', verbose=False)"
        m = h["load_full"](tmp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    exporter = detect_exporter(m)
    rec = base_record(h, m, route, name, exporter, call, versions)
    rec["build"] = {"seed": "Sequential, see build_keras", "seed_bn": "Sequential, see build_keras",
                    "lenet5": "Sequential, see build_keras",
                    "resnet50": "keras.applications.ResNet50(weights=None)",
                    "mobilenet_v2": "keras.applications.MobileNetV2(weights=None)"}[name]
    rec["totals"] = totals
    rec["macs"] = int(sum(layer["macs"] for layer in layers))
    input_name = rec["onnx_input"][0]["name"]
    values, order = h["ort_run"](m, {input_name: x})
    finish(h, rec, m, path, values, order, layer_outputs, layers, True, framework_out,
           input_name, x)


# ---------------------------------------------------------------------------------------------
# torch worker (dynamo, torchscript, dynamo_external)


def torch_worker(route: str, models: list[str], out: Path) -> int:
    import platform

    import torch
    import torchvision
    h = onnx_helpers()
    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__,
                "onnx": h["onnx"].__version__, "onnxruntime": h["ort"].__version__,
                "numpy": h["np"].__version__, "python": platform.python_version()}
    try:
        import onnxscript
        versions["onnxscript"] = onnxscript.__version__
    except ImportError:
        pass
    torch.manual_seed(0)
    rc = 0
    for name in [m for m in models if m in ROUTE_MODELS[route]]:
        t0 = time.time()
        try:
            torch_one(h, torch, torchvision, route, name, out, versions)
            clear_failure(out, name, route)
        except Exception as exc:
            import traceback
            traceback.print_exc()
            record_failure(out, name, route, exc)
            rc = 1
        print(f"  ({name}: {time.time() - t0:.0f}s)", flush=True)
    return rc


def build_torch(torch, torchvision, name: str):
    nn = torch.nn
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None), (1, 3, 224, 224)
    if name == "torch_cnn":
        class SmallCNN(nn.Module):
            """Conv/BN/ReLU/pool features (one grouped conv), then Linear/BN1d/ReLU/Linear."""

            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(8, 16, 3, padding=1, groups=2), nn.BatchNorm2d(16), nn.ReLU(),
                    nn.MaxPool2d(2))
                self.flatten = nn.Flatten()
                self.fc1 = nn.Linear(16 * 6 * 6, 32)
                self.bn = nn.BatchNorm1d(32)
                self.relu = nn.ReLU()
                self.fc2 = nn.Linear(32, 10)

            def forward(self, x):
                return self.fc2(self.relu(self.bn(self.fc1(self.flatten(self.features(x))))))

        return SmallCNN(), (1, 1, 28, 28)
    raise ValueError(name)


def randomise_torch(torch, model, seed: int) -> None:
    """Distinct random values for every float parameter and buffer (as make_torchvision.py,
    but weights of ndim >= 2 scaled by 1/sqrt(fan_in))."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point():
                continue
            r = torch.randn(t.shape, generator=g, dtype=t.dtype)
            if name.endswith("running_var"):
                t.copy_(r.abs() + 0.5)
            elif t.ndim >= 2:
                t.copy_(r / (t[0].numel() ** 0.5))
            else:
                t.copy_(r * 0.1)


def torch_layers(torch, model, x):
    """Every module's framework view, with each call's output (cloned: ReLU(inplace=True))."""
    nn = torch.nn
    calls: dict[str, list] = {}
    hooks = []
    for qn, mod in model.named_modules():
        if not qn:
            continue

        def hook(mod, args, output, qn=qn):
            calls.setdefault(qn, []).append((tuple(args[0].shape), output.detach().clone()))
        hooks.append(mod.register_forward_hook(hook))
    with torch.no_grad():
        y = model(x)
    for hk in hooks:
        hk.remove()
    rows, outputs = [], {}
    for qn, mod in model.named_modules():
        if not qn:
            continue
        params = list(mod.parameters())
        bufs = [b for b in mod.buffers() if b.is_floating_point()]
        macs = 0
        for in_shape, o in calls.get(qn, []):
            if isinstance(mod, nn.Conv2d):
                kh, kw = mod.kernel_size
                macs += o.numel() * (mod.in_channels // mod.groups) * kh * kw
            elif isinstance(mod, nn.Linear):
                macs += o.numel() * mod.in_features
        children = list(mod.children())
        rows.append({
            "name": qn, "class": f"{type(mod).__module__}.{type(mod).__name__}",
            "depth": qn.count(".") + 1,
            "top_level": "." not in qn, "leaf": not children,
            "output_shape": list(calls[qn][0][1].shape) if qn in calls else None,
            "output_shapes": [list(o.shape) for _, o in calls.get(qn, [])],
            "input_shape": list(calls[qn][0][0]) if qn in calls else None,
            "calls": len(calls.get(qn, [])),
            "params": int(sum(p.numel() for p in params)),
            "trainable": int(sum(p.numel() for p in params if p.requires_grad)),
            "non_trainable": int(sum(p.numel() for p in params if not p.requires_grad)),
            "float_buffers": int(sum(b.numel() for b in bufs)),
            "macs": int(macs),
        })
        outputs[qn] = [o.numpy() for _, o in calls.get(qn, [])]
    # MACs are counted on the Conv2d/Linear leaves only (containers have 0)
    return rows, outputs, y


def torch_one(h, torch, torchvision, route, name, out, versions):
    model, shape = build_torch(torch, torchvision, name)
    model = model.eval()
    randomise_torch(torch, model, seed=sum(map(ord, name)))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g)
    layers, layer_outputs, y = torch_layers(torch, model, x)
    params = list(model.parameters())
    totals = {"params": int(sum(p.numel() for p in params)),
              "trainable": int(sum(p.numel() for p in params if p.requires_grad)),
              "non_trainable": int(sum(p.numel() for p in params if not p.requires_grad)),
              "float_buffers": int(sum(b.numel() for b in model.buffers()
                                       if b.is_floating_point()))}
    stem = f"{name}.{route}"
    path = out / f"{stem}.onnx"
    work = Path(tempfile.mkdtemp(prefix="export-", dir=out))
    external = None
    try:
        tmp = work / f"{stem}.onnx"
        if route in ("dynamo", "dynamo_external"):
            torch.onnx.export(model, (x,), str(tmp), dynamo=True, external_data=True,
                              input_names=[TORCH_INPUT_NAME])
            call = ("torch.onnx.export(model, (x,), path, dynamo=True, external_data=True, "
                    f"input_names=['{TORCH_INPUT_NAME}'])")
        else:
            torch.onnx.export(model, (x,), str(tmp), dynamo=False, do_constant_folding=False,
                              opset_version=17, input_names=[TORCH_INPUT_NAME])
            call = ("torch.onnx.export(model, (x,), path, dynamo=False, "
                    "do_constant_folding=False, opset_version=17, "
                    f"input_names=['{TORCH_INPUT_NAME}'])")
        if route == "dynamo_external":
            external = save_external(h, tmp, out, stem)
        m = h["load_full"](tmp)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rec = base_record(h, m, route, name, detect_exporter(m), call, versions)
    rec["build"] = {"resnet18": "torchvision.models.resnet18(weights=None)",
                    "torch_cnn": "SmallCNN in build_torch"}[name]
    if external:
        rec["external_data"] = external
    rec["totals"] = totals
    rec["macs"] = int(sum(r["macs"] for r in layers))
    input_name = rec["onnx_input"][0]["name"]
    values, order = h["ort_run"](m, {input_name: x.numpy()})
    finish(h, rec, m, path, values, order, layer_outputs, layers, False, y.numpy(),
           input_name, x.numpy())
    if external:
        # the skeleton written by finish() is replaced by a copy of the real .onnx alone
        shutil.copyfile(out / f"{stem}" / f"{stem}.onnx", path)


def save_external(h, tmp: Path, out: Path, stem: str) -> dict:
    """Keep the full export in out/<stem>/ with ALL initializers (ints too) in its data file."""
    onnx = h["onnx"]
    refs = onnx.load(str(tmp), load_external_data=False)
    by_exporter = {"external": [], "inline": []}
    for t in refs.graph.initializer:
        key = "external" if t.data_location == onnx.TensorProto.EXTERNAL else "inline"
        by_exporter[key].append({"name": t.name, "dtype": onnx.TensorProto.DataType.Name(
            t.data_type), "dims": list(t.dims)})
    ints_inline = [t for t in by_exporter["inline"] if t["dtype"] not in ("FLOAT", "FLOAT16",
                                                                          "DOUBLE", "BFLOAT16")]
    full = onnx.load(str(tmp))
    d = out / stem
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    data = f"{stem}.onnx.data"
    onnx.save_model(full, str(d / f"{stem}.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location=data, size_threshold=0)
    saved = onnx.load(str(d / f"{stem}.onnx"), load_external_data=False)
    ints = []
    for t in saved.graph.initializer:
        ext = {e.key: e.value for e in t.external_data}
        if t.data_type in h["FLOAT_TYPES"]:
            continue
        ints.append({"name": t.name, "dtype": onnx.TensorProto.DataType.Name(t.data_type),
                     "dims": list(t.dims), "location": ext.get("location"),
                     "offset": int(ext.get("offset", 0)), "length": int(ext["length"])
                     if "length" in ext else None,
                     "external": t.data_location == onnx.TensorProto.EXTERNAL})
    assert all(i["external"] for i in ints), ints
    for f in d.iterdir():
        f.chmod(0o644)
    return {
        "directory": stem,
        "data_file": data,
        "data_bytes": (d / data).stat().st_size,
        "exporter_external": by_exporter["external"],
        "exporter_inline": by_exporter["inline"],
        "exporter_kept_integers_inline": bool(ints_inline),
        "forced": ("onnx.save_model(model, path, save_as_external_data=True, "
                   "all_tensors_to_one_file=True, location=data, size_threshold=0)"),
        "integer_tensors": ints,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=OUT,
                    help="output folder (default: tests/data/keras beside this script)")
    ap.add_argument("--models", nargs="*", default=KERAS_MODELS + TORCH_MODELS)
    ap.add_argument("--routes", nargs="*", default=KERAS_ROUTES + TORCH_ROUTES)
    ap.add_argument("--tf-python", default=sys.executable,
                    help="python of the TensorFlow environment")
    ap.add_argument("--torch-python", default=sys.executable,
                    help="python of the torch environment")
    ap.add_argument("--worker", choices=KERAS_ROUTES + TORCH_ROUTES, help=argparse.SUPPRESS)
    ap.add_argument("--readme-only", action="store_true", help="only rewrite README.md")
    args = ap.parse_args()
    if args.readme_only:
        write_readme(args.out.resolve())
        return 0
    if args.worker:
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        if args.worker in KERAS_ROUTES:
            return keras_worker(args.worker, args.models, out)
        return torch_worker(args.worker, args.models, out)
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
