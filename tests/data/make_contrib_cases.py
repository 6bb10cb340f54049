"""Record the real output shapes of onnxruntime's contrib ops (domain com.microsoft) into
tests/data/contrib/cases.json, for tests/test_contrib.py.

NOT run in CI. Run by hand, in an environment that has onnx and onnxruntime (CPU):

    python tests/data/make_contrib_cases.py

Each case is one node in a one-node model built with onnx.helper, run by onnxruntime's
CPUExecutionProvider on random data of the declared shapes; the shapes of the outputs it
returns are recorded. Where the CPU provider has no kernel for the op, the case says so in
``source`` and takes its shapes either from the same computation written with ops the CPU
provider has (``equivalent``: still onnxruntime's shapes) or, failing that, from the schema
documentation (``schema``), as written in the case.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as TP
from onnx import helper

HERE = Path(__file__).resolve().parent
OUT = HERE / "contrib" / "cases.json"
MS = "com.microsoft"

DTYPES = {
    "float32": (TP.FLOAT, np.float32), "float16": (TP.FLOAT16, np.float16),
    "int8": (TP.INT8, np.int8), "uint8": (TP.UINT8, np.uint8),
    "int32": (TP.INT32, np.int32), "int64": (TP.INT64, np.int64), "bool": (TP.BOOL, np.bool_),
}


@dataclass
class I:
    """One input: its shape and dtype, and optionally its values (else random) and whether it
    is an initializer (some kernels want their weights constant)."""

    shape: tuple[int, ...]
    dtype: str = "float32"
    value: Any = None  # a list or scalar, or ("randint", lo, hi)
    const: bool = False

    def data(self, rng: np.random.Generator) -> np.ndarray:
        np_type = DTYPES[self.dtype][1]
        if isinstance(self.value, tuple) and self.value and self.value[0] == "randint":
            return rng.integers(self.value[1], self.value[2], size=self.shape).astype(np_type)
        if self.value is not None:
            return np.broadcast_to(np.array(self.value, dtype=np_type), self.shape).copy()
        if self.dtype in ("float32", "float16"):
            return rng.standard_normal(self.shape).astype(np_type)
        if self.dtype == "int8":
            return rng.integers(-8, 8, size=self.shape).astype(np_type)
        if self.dtype == "bool":
            return rng.integers(0, 2, size=self.shape).astype(np_type)
        if self.dtype == "uint8":
            return rng.integers(0, 16, size=self.shape).astype(np_type)
        return rng.integers(0, 2, size=self.shape).astype(np_type)


F = "float32"


@dataclass
class Case:
    op: str
    inputs: list[I | None]
    attrs: dict[str, Any] = field(default_factory=dict)
    outputs: int | list[bool] = 1  # how many outputs, or which of them are requested
    label: str = ""
    domain: str = MS
    opset: int = 17
    # For ops the CPU provider cannot run: a function building the same computation from ops it
    # has, returning (nodes, extra initializers), with the outputs named y0, y1...
    equivalent: Any = None
    expect: list[Any] | None = None  # shapes from the schema docs, when neither can run
    note: str = ""
    out_dtypes: dict[int, str] = field(default_factory=dict)  # declared output types
    # Outputs whose shape depends on an input's value, not only on shapes (a shape rule can
    # only give the usual case; the test says which).
    value_dependent: list[int] = field(default_factory=list)

    def wanted(self) -> list[bool]:
        return [True] * self.outputs if isinstance(self.outputs, int) else list(self.outputs)


def attr_json(v: Any) -> Any:
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, (list, tuple)):
        return [attr_json(x) for x in v]
    return v


def build(case: Case, nodes: list[onnx.NodeProto] | None = None,
          extra: list[onnx.TensorProto] | None = None) -> tuple[onnx.ModelProto, dict]:
    rng = np.random.default_rng(0)
    names = [f"x{i}" if x is not None else "" for i, x in enumerate(case.inputs)]
    outs = [f"y{i}" if w else "" for i, w in enumerate(case.wanted())]
    if nodes is None:
        nodes = [helper.make_node(case.op, names, outs, domain=case.domain, **case.attrs)]
    graph_inputs, inits, feeds = [], list(extra or []), {}
    for name, x in zip(names, case.inputs):
        if x is None:
            continue
        data = x.data(rng)
        if x.const:
            inits.append(onnx.numpy_helper.from_array(data, name))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, DTYPES[x.dtype][0], x.shape))
            feeds[name] = data
    graph_outputs = [
        helper.make_tensor_value_info(o, DTYPES[case.out_dtypes[i]][0], None)
        if i in case.out_dtypes else helper.make_value_info(o, onnx.TypeProto())
        for i, o in enumerate(outs) if o]
    graph = helper.make_graph(nodes, case.op, graph_inputs, graph_outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", case.opset), helper.make_opsetid(MS, 1)])
    model.ir_version = 10
    return model, feeds


def _dims(shape) -> list[int | str | None] | None:
    return None if shape is None else [d if isinstance(d, int) else None for d in shape]


def _run_here(model_bytes: bytes, feeds: dict, pipe) -> None:
    inferred = None
    try:
        sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        # The shapes onnxruntime's own shape inference gave the graph outputs.
        inferred = dict(zip(names, (_dims(o.shape) for o in sess.get_outputs())))
        shapes = [[int(d) for d in r.shape] for r in sess.run(None, feeds)]
        pipe.send(("ok", dict(zip(names, shapes)), inferred))
    except Exception as e:  # noqa: BLE001
        pipe.send(("error", str(e), inferred))


class RunError(Exception):
    def __init__(self, message: str, inferred: dict | None):
        super().__init__(message)
        self.inferred = inferred


def run(model: onnx.ModelProto, feeds: dict) -> tuple[dict, dict]:
    """The output shapes onnxruntime gives, and those its shape inference gave, run in a child
    process: some kernels abort the process on inputs they do not expect."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_run_here, args=(model.SerializeToString(), feeds, child))
    proc.start()
    proc.join(120)
    if not parent.poll():
        raise RunError(f"onnxruntime died (exit code {proc.exitcode})", None)
    status, got, inferred = parent.recv()
    if status != "ok":
        raise RunError(got, inferred)
    return got, inferred


def conflicts(inferred: list | None, real: list | None) -> bool:
    """Whether onnxruntime's shape inference stated a dim that the kernel's output contradicts
    (an unknown dim or an unknown shape, shown as [], is no contradiction)."""
    if inferred is None or real is None or (inferred == [] and real != []):
        return False
    return len(inferred) != len(real) or any(
        i is not None and i != r for i, r in zip(inferred, real))


def record(case: Case, idx: int) -> dict:
    wanted = case.wanted()
    row: dict[str, Any] = {
        "id": f"{case.op}-{idx}" + (f"-{case.label}" if case.label else ""),
        "op": case.op, "domain": case.domain,
        "attrs": {k: attr_json(v) for k, v in case.attrs.items()},
        "inputs": [None if x is None else {"shape": list(x.shape), "dtype": x.dtype}
                   for x in case.inputs],
        "outputs_requested": wanted,
    }
    if case.note:
        row["note"] = case.note
    if case.value_dependent:
        row["value_dependent_outputs"] = case.value_dependent
    inferred = None
    try:
        model, feeds = build(case)
        got, inferred = run(model, feeds)
        row["source"] = f"onnxruntime {ort.__version__} CPUExecutionProvider"
    except RunError as e:
        err = " ".join(str(e).split())[:300]
        inferred = None
        if case.equivalent is not None:
            nodes, extra = case.equivalent(case)
            model, feeds = build(case, nodes, extra)
            got, _ = run(model, feeds)
            row["source"] = (f"equivalent: onnxruntime {ort.__version__} CPUExecutionProvider "
                             f"cannot run {case.op} ({err}); shapes from the same computation "
                             "written with ops it has, run by onnxruntime")
        elif e.inferred is not None and all(  # [] is how onnxruntime shows an unknown shape
                e.inferred.get(f"y{i}") for i, w in enumerate(wanted) if w):
            got = e.inferred
            row["source"] = (f"inferred: onnxruntime {ort.__version__} builds the session but "
                             f"its CPU kernel refuses to run it ({err}); shapes from "
                             "onnxruntime's own shape inference of the op (its C++ schema)")
        elif case.expect is not None:
            row["source"] = (f"schema: onnxruntime {ort.__version__} CPUExecutionProvider cannot "
                             f"run this ({err}); shapes from the op's schema documentation")
            row["outputs"] = case.expect
            return row
        else:
            raise RuntimeError(f"{row['id']}: {err}") from e
    row["outputs"] = [got[f"y{i}"] if w else None for i, w in enumerate(wanted)]
    if inferred is not None:
        inf = [inferred.get(f"y{i}") if w else None for i, w in enumerate(wanted)]
        if any(conflicts(i, o) for i, o in zip(inf, row["outputs"])):
            row["onnxruntime_inferred"] = inf
            row["note"] = (row.get("note", "") + " onnxruntime's shape inference says "
                           f"{inf}; the kernel returns {row['outputs']} (recorded).").strip()
    if case.expect is not None and row["outputs"] != case.expect:
        raise RuntimeError(f"{row['id']}: onnxruntime gave {row['outputs']}, the case "
                           f"expected {case.expect}")
    return row


# ----------------------------------------------------------------------------------------
# The cases

def q(shape, dtype="uint8", **kw) -> I:
    return I(tuple(shape), dtype, **kw)


def scale(shape=()) -> I:
    return I(tuple(shape), F, value=np.full(shape, 0.05).tolist() if shape else 0.05, const=True)


def zp(dtype="uint8", shape=()) -> I:
    return I(tuple(shape), dtype, value=np.full(shape, 3).tolist() if shape else 3, const=True)


def ids(shape, hi) -> I:
    return I(tuple(shape), "int32", value=("randint", 0, hi))


def cases() -> list[Case]:
    out: list[Case] = []
    add = out.append

    # --- DynamicQuantizeLSTM: X [seq, batch, input], W [dirs, input, 4H], R [dirs, H, 4H]
    def dq_lstm(seq, batch, inp, hid, dirs, direction, with_b, with_init, outs, label):
        w_t = "int8"
        ins: list[I | None] = [
            I((seq, batch, inp)), q((dirs, inp, 4 * hid), w_t, const=True),
            q((dirs, hid, 4 * hid), w_t, const=True),
            I((dirs, 8 * hid), const=True) if with_b else None,
            None,
            I((dirs, batch, hid)) if with_init else None,
            I((dirs, batch, hid)) if with_init else None,
            None,
            scale((dirs,)), zp(w_t, (dirs,)), scale((dirs,)), zp(w_t, (dirs,)),
        ]
        attrs = {"hidden_size": hid}
        if direction:
            attrs["direction"] = direction
        add(Case("DynamicQuantizeLSTM", ins, attrs, outs, label))

    dq_lstm(5, 2, 4, 3, 1, None, True, False, 3, "forward")
    dq_lstm(4, 1, 6, 5, 2, "bidirectional", True, True, 3, "bidirectional")
    dq_lstm(3, 3, 2, 4, 1, "reverse", False, False, [False, True, False], "reverse_yh_only")
    dq_lstm(7, 2, 8, 2, 2, "bidirectional", False, True, [True, False, True], "bidir_y_yc")

    # --- DynamicQuantizeMatMul: A float, B int8/uint8, b_scale, b_zp?, bias?
    for a, b, bt, sc, with_zp, bias, label in [
        ((4, 8), (8, 5), "int8", (), True, True, "2d"),
        ((2, 3, 8), (8, 6), "uint8", (6,), True, False, "3d_per_column"),
        ((2, 2, 3, 4), (4, 7), "int8", (), False, True, "4d_no_zp"),
        ((8,), (8, 3), "uint8", (), True, False, "1d_a"),
    ]:
        add(Case("DynamicQuantizeMatMul", [
            I(a), q(b, bt, const=True), scale(sc), zp(bt, sc) if with_zp else None,
            I((b[-1],), const=True) if bias else None], label=label))

    # --- MatMulIntegerToFloat: A, B, a_scale, b_scale, a_zp?, b_zp?, bias?
    for a, b, bsc, zps, bias, label in [
        ((4, 8), (8, 5), (), True, True, "2d"),
        ((2, 3, 8), (8, 6), (6,), True, False, "3d_per_column"),
        ((2, 3, 4), (2, 4, 5), (), False, False, "batched_b"),
        ((1, 5, 6), (3, 6, 2), (), False, True, "broadcast_batch"),
    ]:
        add(Case("MatMulIntegerToFloat", [
            q(a, "uint8"), q(b, "int8", const=True), scale(), scale(bsc),
            zp("uint8") if zps else None, zp("int8", bsc) if zps else None,
            I((b[-1],), const=True) if bias else None], label=label))

    # --- QGemm: A, a_scale, a_zp, B, b_scale, b_zp, C?, y_scale?, y_zp?
    for m, k, n, ta, tb, with_c, quant_out, label in [
        (4, 8, 5, 0, 0, True, False, "float_out"),
        (3, 6, 7, 1, 0, False, True, "transA_quant_out"),
        (2, 5, 4, 0, 1, True, True, "transB_bias"),
        (6, 4, 3, 1, 1, False, False, "transA_transB"),
    ]:
        a = (k, m) if ta else (m, k)
        b = (n, k) if tb else (k, n)
        add(Case("QGemm", [
            q(a, "uint8"), scale(), zp("uint8"), q(b, "int8", const=True), scale(), zp("int8"),
            I((n,), "int32", value=("randint", -5, 5), const=True) if with_c else None,
            scale() if quant_out else None, zp("uint8") if quant_out else None],
            {"transA": ta, "transB": tb, "alpha": 1.0}, label=label))

    # --- QLinearConv (com.microsoft): x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?
    for x, w, attrs, bias, label in [
        ((1, 3, 8, 8), (4, 3, 3, 3), {}, True, "nchw"),
        ((2, 4, 9, 7), (6, 2, 3, 3), {"group": 2, "strides": [2, 2], "pads": [1, 1, 1, 1]},
         False, "groups_strides_pads"),
        ((1, 7, 7, 3), (5, 3, 3, 3), {"channels_last": 1}, True, "nhwc"),
        ((2, 10, 9, 4), (8, 4, 3, 2), {"channels_last": 1, "strides": [2, 1],
                                       "dilations": [2, 1]}, False, "nhwc_strided_dilated"),
        ((1, 2, 7, 7), (3, 2, 3, 3), {"auto_pad": b"SAME_UPPER", "strides": [2, 2]}, False,
         "same_upper"),
    ]:
        add(Case("QLinearConv", [
            q(x, "uint8"), scale(), zp("uint8"), q(w, "int8", const=True), scale(), zp("int8"),
            scale(), zp("uint8"),
            I((w[0],), "int32", value=("randint", -5, 5), const=True) if bias else None],
            attrs, label=label))

    # --- QLinearAdd / QLinearMul: A, As, Azp?, B, Bs, Bzp?, Cs, Czp?
    for op in ("QLinearAdd", "QLinearMul"):
        for a, b, with_zp, label in [
            ((2, 3, 4), (2, 3, 4), True, "same"),
            ((2, 3, 4), (4,), True, "broadcast_vector"),
            ((5, 1, 3), (1, 4, 1), True, "broadcast_both"),
            ((6,), (2, 1, 6), True, "rank_up"),
        ]:  # (with A_zero_point and B_zero_point absent, onnxruntime's type inference fails)
            add(Case(op, [
                q(a), scale(), zp() if with_zp else None, q(b), scale(),
                zp() if with_zp else None, scale(), zp()], label=label))

    # --- QLinearSigmoid / QLinearLeakyRelu: X, Xs, Xzp?, Ys, Yzp?
    for op in ("QLinearSigmoid", "QLinearLeakyRelu"):
        for x, dt, with_zp, label in [((2, 3, 4), "uint8", True, "uint8"),
                                      ((7,), "int8", False, "int8_no_zp"),
                                      ((1, 2, 5, 5), "uint8", True, "4d")]:
            attrs = {"alpha": 0.2} if op == "QLinearLeakyRelu" else {}
            add(Case(op, [q(x, dt), scale(), zp(dt) if with_zp else None, scale(),
                          zp(dt) if with_zp else None], attrs, label=label))

    # --- QLinearAveragePool: X, xs, xzp?, ys, yzp?
    for x, attrs, label in [
        ((1, 3, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}, "nchw"),
        ((2, 4, 7, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                        "count_include_pad": 1}, "pads"),
        ((1, 3, 7, 7), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, "ceil"),
        ((1, 8, 8, 3), {"kernel_shape": [3, 3], "strides": [1, 1], "channels_last": 1}, "nhwc"),
        ((2, 9, 5, 6), {"kernel_shape": [2, 3], "strides": [2, 2], "channels_last": 1,
                        "auto_pad": b"SAME_UPPER"}, "nhwc_same_upper"),
        ((1, 4, 10), {"kernel_shape": [3], "strides": [3]}, "1d"),
        ((1, 2, 6, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": b"VALID"},
         "valid"),
    ]:
        add(Case("QLinearAveragePool", [q(x), scale(), zp(), scale(), zp()], attrs, label=label))

    # --- QLinearGlobalAveragePool: X, xs, xzp, ys, yzp
    for x, cl, label in [((1, 3, 8, 8), 0, "nchw"), ((2, 5, 6, 4), 1, "nhwc"),
                         ((2, 4, 10), 0, "1d"), ((1, 3, 4, 5, 6), 0, "3d")]:
        add(Case("QLinearGlobalAveragePool", [q(x), scale(), zp(), scale(), zp()],
                 {"channels_last": cl}, label=label))

    # --- QLinearConcat: Y_scale, Y_zp, (X, X_scale, X_zp)...
    for xs, axis, label in [
        ([(2, 3, 4), (2, 5, 4)], 1, "two"),
        ([(1, 2, 3), (1, 2, 1), (1, 2, 6)], -1, "three_negative_axis"),
        ([(4, 2), (1, 2)], 0, "axis0"),
    ]:
        ins: list[I | None] = [scale(), zp()]
        for s in xs:
            ins += [q(s), scale(), zp()]
        add(Case("QLinearConcat", ins, {"axis": axis}, label=label))

    # --- QLinearSoftmax: X, Xs, xzp?, ys, yzp
    for x, attrs, label in [((2, 3, 5), {"opset": 13, "axis": -1}, "opset13"),
                            ((2, 3, 4), {"opset": 12, "axis": 1}, "opset12_axis1"),
                            ((4, 6), {"opset": 13}, "default_axis")]:
        add(Case("QLinearSoftmax", [q(x), scale(), zp(), scale(), zp()], attrs, label=label))

    # --- FusedConv: X, W, B?, Z?
    for x, w, attrs, bias, z, label in [
        ((1, 3, 8, 8), (4, 3, 3, 3), {"activation": b"Relu"}, True, False, "relu"),
        ((2, 4, 9, 9), (6, 2, 3, 3), {"activation": b"LeakyRelu", "activation_params": [0.1],
                                      "group": 2, "strides": [2, 2], "pads": [1, 1, 1, 1]},
         True, False, "leakyrelu_groups"),
        ((1, 2, 6, 6), (3, 2, 1, 1), {"activation": b"Relu"}, True, True, "with_z"),
        ((1, 3, 10), (5, 3, 3), {"activation": b"Sigmoid", "dilations": [2]}, False, False,
         "conv1d"),
        ((1, 2, 7, 7), (3, 2, 3, 3), {"activation": b"Relu", "auto_pad": b"SAME_UPPER",
                                      "strides": [2, 2]}, False, False, "same_upper"),
    ]:
        ins = [I(x), I(w, const=True), I((w[0],), const=True) if bias else None]
        if z:  # Z has the output's shape: 1x1 kernel, stride 1
            ins.append(I((x[0], w[0], *x[2:])))
        add(Case("FusedConv", ins, attrs, label=label))

    # --- FusedGemm: A, B, C?
    for a, b, c, attrs, label in [
        ((4, 8), (8, 5), (5,), {"activation": b"Relu"}, "relu_bias"),
        ((6, 3), (6, 7), None, {"transA": 1, "activation": b"LeakyRelu",
                                "activation_alpha": 0.1}, "transA"),
        ((2, 5), (4, 5), (2, 4), {"transB": 1, "alpha": 0.5, "beta": 2.0,
                                  "activation": b"Tanh"}, "transB_full_c"),
    ]:
        add(Case("FusedGemm", [I(a), I(b, const=True), I(c, const=True) if c else None],
                 attrs, label=label))

    # --- FusedMatMul: A, B
    for a, b, attrs, label in [
        ((3, 4), (4, 5), {}, "plain"),
        ((2, 4, 3), (2, 4, 5), {"transA": 1}, "transA"),
        ((2, 3, 4), (5, 4), {"transB": 1, "alpha": 0.5}, "transB_broadcast"),
        ((4, 2, 3), (2, 3, 5), {"transBatchA": 1}, "transBatchA"),
        ((2, 3, 4), (4, 2, 5), {"transBatchB": 1}, "transBatchB"),
        ((3, 2, 5, 4), (2, 5, 3, 6), {"transBatchA": 1, "transA": 1}, "transBatchA_transA"),
        ((4, 2, 3), (5, 2, 3), {"transBatchA": 1, "transBatchB": 1, "transB": 1},
         "transBatchA_transBatchB_transB"),
        ((4,), (2, 4, 3), {}, "vector_a"),
        ((2, 1, 3, 4), (5, 4, 6), {}, "broadcast_batch"),
    ]:
        add(Case("FusedMatMul", [I(a), I(b)], attrs, label=label))

    # --- NhwcConv: X [N, H, W, C], W [M, C/g, kh, kw], B?  (no CPU kernel)
    def nhwc_equivalent(case: Case):
        x = case.inputs[0]
        rank = len(x.shape)
        to_nchw = [0, rank - 1, *range(1, rank - 1)]
        to_nhwc = [0, *range(2, rank), 1]
        ins = ["xt", "x1"] + (["x2"] if len(case.inputs) > 2 and case.inputs[2] else [])
        return [helper.make_node("Transpose", ["x0"], ["xt"], perm=to_nchw),
                helper.make_node("Conv", ins, ["c"], **case.attrs),
                helper.make_node("Transpose", ["c"], ["y0"], perm=to_nhwc)], []

    for x, w, attrs, bias, label in [
        ((1, 8, 8, 3), (4, 3, 3, 3), {}, True, "plain"),
        ((2, 9, 7, 4), (6, 2, 3, 3), {"group": 2, "strides": [2, 2], "pads": [1, 1, 1, 1]},
         False, "groups_strides_pads"),
        ((1, 7, 7, 2), (3, 2, 3, 3), {"auto_pad": b"SAME_UPPER", "strides": [2, 2]}, True,
         "same_upper"),
    ]:
        add(Case("NhwcConv", [I(x), I(w, const=True), I((w[0],), const=True) if bias else None],
                 attrs, label=label, equivalent=nhwc_equivalent))

    # --- Attention: input, weights, bias?, mask_index?, past?, attention_bias?, past_seq_len?
    def attention(b, s, din, heads, qkv=None, bias=True, mask=None, past=None, abias=False,
                  outs=1, label="", extra=None, expect=None, **attrs):
        dq, dk, dv = qkv or (din, din, din)
        ins: list[I | None] = [I((b, s, din)), I((din, dq + dk + dv), const=True),
                               I((dq + dk + dv,), const=True) if bias else None]
        total = s + (past or 0)
        if mask == "2d":
            ins.append(I((b, total), "int32", value=1))
        elif mask == "2d_total":  # a shared buffer: the mask covers the whole buffer
            ins.append(I((b, past), "int32", value=1))
        elif mask == "index":
            ins.append(I((b,), "int32", value=[s] * b))
        else:
            ins.append(None)
        ins.append(I((2, b, heads, past, dk // heads)) if past is not None else None)
        ins.append(I((1, heads, s, total)) if abias else None)
        ins += extra or []
        a = {"num_heads": heads, **attrs}
        if qkv:
            a["qkv_hidden_sizes"] = list(qkv)
        add(Case("Attention", ins, a, outs, label, expect=expect))

    attention(2, 5, 16, 4, label="plain")
    attention(1, 3, 12, 2, qkv=(8, 8, 6), label="qkv_hidden_sizes")
    attention(2, 4, 16, 2, mask="2d", bias=False, label="mask2d_no_bias")
    attention(2, 3, 8, 2, mask="index", label="mask_index")
    attention(2, 1, 16, 4, past=6, outs=2, mask="2d", label="past_present")
    attention(1, 4, 8, 2, outs=2, unidirectional=1, label="present_no_past")
    attention(1, 1, 8, 2, past=10, outs=2, mask="2d_total", label="shared_buffer",
              past_present_share_buffer=1, extra=[I((1,), "int32", value=3)],
              expect=[[1, 1, 8], [2, 1, 2, 10, 4]])
    attention(2, 5, 16, 4, abias=True, label="attention_bias")

    # --- MultiHeadAttention
    def mha(ins, heads, outs=1, label="", out_dtypes=None, **attrs):
        add(Case("MultiHeadAttention", ins, {"num_heads": heads, **attrs}, outs, label,
                 out_dtypes=out_dtypes or {}))

    mha([I((2, 5, 16)), I((2, 5, 16)), I((2, 5, 16))], 4, label="self")
    mha([I((2, 3, 16)), I((2, 7, 16)), I((2, 7, 12)), I((44,), const=True)], 4,
        label="cross_bias_v_hidden")
    mha([I((2, 4, 2, 3, 8))], 2, label="packed_qkv")
    mha([I((2, 3, 16)), I((2, 6, 2, 2, 8))], 2, label="packed_kv")
    mha([I((1, 3, 8)), I((1, 2, 9, 4)), I((1, 2, 9, 4))], 2, label="bnsh_kv")
    mha([I((2, 1, 16)), I((2, 1, 16)), I((2, 1, 16)), None, None, None,
         I((2, 4, 5, 4)), I((2, 4, 5, 4))], 4, outs=3, label="past_present")
    mha([I((1, 4, 8)), I((1, 4, 8)), I((1, 4, 8))], 2, outs=3, label="present_no_past")
    mha([I((2, 3, 8)), I((2, 3, 8)), I((2, 3, 8)), None, I((2, 3), "int32", value=1),
         I((2, 2, 3, 3))], 2, label="mask_attention_bias")
    mha([I((1, 3, 8)), I((1, 2, 9, 4)), I((1, 2, 9, 4))], 2, outs=3, label="bnsh_kv_present")
    mha([I((1, 1, 8)), I((1, 1, 8)), I((1, 1, 8)), None, None, None,
         I((1, 2, 10, 4)), I((1, 2, 10, 4)), I((1,), "int32", value=3)], 2, outs=3,
        label="shared_buffer")
    mha([I((1, 2, 8)), I((1, 2, 8)), I((1, 2, 8)), None, None, None,
         I((1, 2, 3, 4)), I((1, 2, 3, 4))], 2, outs=4, label="qk_output",
        out_dtypes={3: F})

    # --- GroupQueryAttention: q, k?, v?, past_k?, past_v?, seqlens_k, total_seq_len, cos?,
    # sin?, position_ids?, attention_bias?, head_sink?
    def gqa(b, s, heads, kv_heads, head, past=None, packed=False, rotary=False, outs=3,
            label="", total=None, value_dependent=None, **attrs):
        total = total or s + (past or 0)
        if packed:
            ins: list[I | None] = [I((b, s, (heads + 2 * kv_heads) * head)), None, None]
        else:
            ins = [I((b, s, heads * head)), I((b, s, kv_heads * head)),
                   I((b, s, kv_heads * head))]
        if past is not None:
            ins += [I((b, kv_heads, past, head)), I((b, kv_heads, past, head))]
        else:
            ins += [None, None]
        ins += [I((b,), "int32", value=[total - 1] * b), I((), "int32", value=total)]
        if rotary:
            ins += [I((total + 4, head // 2), const=True), I((total + 4, head // 2), const=True)]
        a = {"num_heads": heads, "kv_num_heads": kv_heads, **attrs}
        if rotary:
            a["do_rotary"] = 1
        add(Case("GroupQueryAttention", ins, a, outs, label,
                 value_dependent=value_dependent or [],
                 out_dtypes={3: F} if attrs.get("qk_output") else {}))

    gqa(2, 5, 4, 2, 8, label="prompt")
    gqa(1, 3, 6, 2, 8, packed=True, label="packed_qkv")
    gqa(2, 1, 4, 1, 8, past=7, label="decode_past")
    gqa(1, 4, 2, 2, 16, rotary=True, label="rotary")
    gqa(1, 1, 8, 4, 16, past=5, packed=True, rotary=True, label="packed_rotary_past")
    gqa(2, 3, 4, 2, 8, outs=1, label="output_only")
    gqa(1, 2, 4, 2, 8, past=3, outs=4, label="qk_output", qk_output=1)
    gqa(1, 4, 4, 4, 8, outs=3, label="no_past_non_causal", causal=0)
    # A shared KV buffer: past holds the maximum length (12), 3 tokens are in it and one comes:
    # total_sequence_length is 4 and present keeps the buffer's 12. Shapes alone cannot tell
    # this from a past of 12 tokens (present 13): the present shapes depend on the value of
    # total_sequence_length.
    gqa(1, 1, 4, 2, 8, past=12, total=4, label="shared_buffer", value_dependent=[1, 2])

    # --- RotaryEmbedding: input, position_ids, cos_cache, sin_cache
    def rope(x, pos, cache, label, **attrs):
        add(Case("RotaryEmbedding", [I(x), I(pos, "int64", value=("randint", 0, 4)),
                                     I(cache, const=True), I(cache, const=True)], attrs,
                 label=label))

    rope((2, 4, 16), (2, 4), (8, 8), "bsd")
    rope((2, 2, 4, 8), (2, 4), (8, 4), "bnsh")
    rope((1, 3, 16), (1, 3), (6, 4), "partial", num_heads=2, rotary_embedding_dim=8)
    rope((2, 3, 8), (2, 3), (6, 4), "interleaved", interleaved=1)

    # --- SkipLayerNormalization: input, skip, gamma, beta?, bias?
    for x, sk, beta, bias, outs, label in [
        ((2, 3, 8), (2, 3, 8), True, True, 1, "full"),
        ((2, 3, 8), (1, 3, 8), False, False, 1, "skip_broadcast_batch"),
        ((2, 3, 8), (3, 8), True, False, 1, "skip_2d"),
        ((2, 4, 6), (2, 4, 6), True, True, 4, "all_outputs"),
        ((3, 8), (3, 8), True, True, [True, False, False, True], "2d_sum_output"),
    ]:
        add(Case("SkipLayerNormalization", [
            I(x), I(sk), I((x[-1],), const=True), I((x[-1],), const=True) if beta else None,
            I((x[-1],), const=True) if bias else None], {"epsilon": 1e-5}, outs, label))

    # --- SkipSimplifiedLayerNormalization: input, skip, gamma, bias?
    for x, sk, bias, outs, label in [
        ((2, 3, 8), (2, 3, 8), True, 1, "full"),
        ((2, 3, 8), (2, 3, 8), False, 4, "all_outputs"),
        ((5, 8), (5, 8), True, [True, False, False, True], "2d_sum_output"),
    ]:
        add(Case("SkipSimplifiedLayerNormalization", [
            I(x), I(sk), I((x[-1],), const=True), I((x[-1],), const=True) if bias else None],
            {"epsilon": 1e-5}, outs, label))

    # --- SimplifiedLayerNormalization and LayerNormalization: onnxruntime registers them in
    # the DEFAULT domain (opset 1); com.microsoft forms are rejected (see the note).
    for x, axis, outs, label in [((2, 3, 8), -1, 1, "last_axis"),
                                 ((2, 3, 8), -1, 2, "inv_std_output"),
                                 ((2, 4, 6), 1, 2, "axis1")]:
        add(Case("SimplifiedLayerNormalization", [I(x), I(x[axis:], const=True)],
                 {"axis": axis}, outs, label, domain=""))
    for x, axis, outs, label in [((2, 3, 8), -1, 3, "opset13_all_outputs"),
                                 ((2, 4, 6), 1, 3, "opset13_axis1")]:
        add(Case("LayerNormalization", [I(x), I(x[axis:], const=True), I(x[axis:], const=True)],
                 {"axis": axis}, outs, label, domain="", opset=13))

    # --- EmbedLayerNormalization: ids, segment_ids?, word, pos, seg?, gamma, beta, mask?,
    # position_ids?
    for b, s, d, seg, mask, pos_ids, outs, label in [
        (2, 5, 8, True, True, False, 2, "bert"),
        (1, 4, 6, False, False, False, [True, False], "no_segment"),
        (2, 3, 8, True, False, True, 3, "position_ids_sum_output"),
        (3, 4, 4, False, True, False, [True, True, True], "all_outputs"),
    ]:
        add(Case("EmbedLayerNormalization", [
            ids((b, s), 10), ids((b, s), 2) if seg else None, I((10, d), const=True),
            I((16, d), const=True), I((2, d), const=True) if seg else None,
            I((d,), const=True), I((d,), const=True),
            I((b, s), "int32", value=1) if mask else None,
            ids((b, s), 16) if pos_ids else None], {"epsilon": 1e-5}, outs, label))

    # --- QEmbedLayerNormalization: ids, segment_ids, word, pos, seg, gamma, beta (uint8), mask,
    # their five scales, their five zero points
    def q8(shape):
        return I(shape, "uint8", value=("randint", 0, 255), const=True)

    def scale1():
        return I((), value=0.02, const=True)

    def zp1():
        return I((), "uint8", value=128, const=True)

    for b, s, d, label in [(2, 5, 8, "bert"), (1, 3, 4, "one")]:
        add(Case("QEmbedLayerNormalization", [
            ids((b, s), 10), ids((b, s), 2), q8((10, d)), q8((16, d)), q8((2, d)), q8((d,)),
            q8((d,)),
            I((b, s), "int32", value=1), scale1(), scale1(), scale1(), scale1(), scale1(),
            zp1(), zp1(), zp1(), zp1(), zp1()], {"epsilon": 1e-5}, 2, label))

    # --- Activations
    for x, label in [((2, 3, 8), "3d"), ((5,), "1d")]:
        add(Case("BiasGelu", [I(x), I((x[-1],), const=True)], label=label))
        add(Case("FastGelu", [I(x), I((x[-1],), const=True)], label=label + "_bias"))
        add(Case("FastGelu", [I(x)], label=label))
        add(Case("Gelu", [I(x)], label=label))
        add(Case("QuickGelu", [I(x)], {"alpha": 1.702}, label=label))
    add(Case("BiasGelu", [I((2, 3, 4, 6)), I((6,), const=True)], label="4d"))

    # --- BiasAdd: X (N, S, C), bias (C), skip (N, S, C)
    def bias_add(case: Case):
        return [helper.make_node("Add", ["x0", "x1"], ["s"]),
                helper.make_node("Add", ["s", "x2"], ["y0"])], []

    for x, label in [((2, 16, 4), "nsc"), ((1, 9, 320), "sd")]:
        add(Case("BiasAdd", [I(x), I((x[-1],), const=True), I(x)], label=label,
                 equivalent=bias_add))

    # --- BiasSplitGelu: X (N, S, D), bias (D) -> (N, S, D/2). No CPU kernel.
    def bias_split_gelu(case: Case):
        d = case.inputs[0].shape[-1]
        half = helper.make_tensor("half", TP.INT64, [2], [d // 2, d // 2])
        return [helper.make_node("Add", ["x0", "x1"], ["s"]),
                helper.make_node("Split", ["s", "half"], ["l", "r"], axis=-1),
                helper.make_node("Gelu", ["r"], ["g"], domain=MS),
                helper.make_node("Mul", ["l", "g"], ["y0"])], [half]

    for x, label in [((2, 16, 2560), "sd_2560"), ((1, 4, 10240), "sd_10240")]:
        add(Case("BiasSplitGelu", [I(x), I((x[-1],), const=True)], label=label,
                 equivalent=bias_split_gelu))

    # --- QuantizeLinear / DequantizeLinear (com.microsoft)
    for x, axis, per_axis, label in [((2, 3, 4), None, False, "per_tensor"),
                                     ((2, 3, 4), 1, True, "per_axis"),
                                     ((6,), None, False, "1d")]:
        sc = (x[axis],) if per_axis else ()
        attrs = {"axis": axis} if axis is not None else {}
        add(Case("QuantizeLinear", [I(x), scale(sc), zp("int8", sc)], attrs, label=label))
        add(Case("DequantizeLinear", [q(x, "int8"), scale(sc), zp("int8", sc)], attrs,
                 label=label))
    add(Case("QuantizeLinear", [I((3, 5)), scale()], label="no_zero_point"))
    add(Case("DequantizeLinear", [q((3, 5), "uint8"), scale()], label="no_zero_point"))

    # --- MatMulNBits: A, B (N, k_blocks, blob), scales (N*k_blocks), zp?, g_idx?, bias?
    for a, k, n, bits, block, with_zp, bias, label in [
        ((2, 3, 32), 32, 16, 4, 32, True, False, "4bit"),
        ((1, 64), 64, 8, 4, 16, False, True, "4bit_2d_bias"),
        ((2, 48), 48, 5, 8, 32, True, False, "8bit_ragged_k"),
        ((2, 1, 3, 128), 128, 12, 4, 64, False, False, "4d_a"),
    ]:
        k_blocks = -(-k // block)
        blob = block * bits // 8
        add(Case("MatMulNBits", [
            I(a), q((n, k_blocks, blob), "uint8", const=True),
            I((n * k_blocks,), const=True),
            q((n * -(-k_blocks * bits // 8),), "uint8", const=True) if with_zp else None,
            None, I((n,), const=True) if bias else None],
            {"K": k, "N": n, "bits": bits, "block_size": block}, label=label))
    # --- More contrib ops met in optimized and quantized transformer models
    # GemmFastGelu: X, W, bias?
    def gemm_fast_gelu(case: Case):
        ins = ["m"] + (["x2"] if case.inputs[2] is not None else [])
        return [helper.make_node("MatMul", ["x0", "x1"], ["m"]),
                helper.make_node("FastGelu", ins, ["y0"], domain=MS)], []

    for x, w, bias, label in [((2, 3, 8), (8, 16), True, "3d_bias"), ((4, 8), (8, 5), False, "2d")]:
        add(Case("GemmFastGelu", [I(x), I(w, const=True), I((w[1],), const=True) if bias else None],
                 label=label, equivalent=gemm_fast_gelu))

    # QAttention: input, weight, bias, input_scale, weight_scale, mask_index?, input_zp?,
    # weight_zp?, past?
    def qattention(b, s, din, heads, mask=False, past=None, outs=1, label=""):
        ins: list[I | None] = [
            q((b, s, din)), q((din, 3 * din), "uint8", const=True), I((3 * din,), const=True),
            scale(), scale(), I((b,), "int32", value=[s] * b) if mask else None, zp(), zp(),
            I((2, b, heads, past, din // heads)) if past is not None else None]
        add(Case("QAttention", ins, {"num_heads": heads}, outs, label))

    qattention(2, 5, 16, 4, label="plain")
    qattention(1, 4, 8, 2, mask=True, label="mask_index")
    qattention(2, 1, 16, 4, past=3, outs=2, label="past_present")

    # GroupNorm, SkipGroupNorm (NHWC by default): no CPU kernel; the output has X's shape.
    for x, attrs, label in [((2, 8, 8, 32), {"groups": 4, "activation": 1}, "nhwc_silu"),
                            ((1, 32, 4, 4), {"groups": 8, "activation": 0, "channels_last": 0},
                             "nchw")]:
        c = x[-1] if attrs.get("channels_last", 1) else x[1]
        add(Case("GroupNorm", [I(x), I((c,), const=True), I((c,), const=True)], attrs,
                 label=label, expect=[list(x)]))
        add(Case("SkipGroupNorm", [I(x), I((c,), const=True), I((c,), const=True), I(x),
                                   I((c,), const=True)], attrs, 2, label=label,
                 expect=[list(x), list(x)]))

    # QLinearReduceMean: data, scale, zp?, reduced_scale, reduced_zp?
    def reduce_mean(case: Case):
        return [helper.make_node("Cast", ["x0"], ["f"], to=TP.FLOAT),
                helper.make_node("ReduceMean", ["f"], ["y0"], **case.attrs)], []

    for x, axes, keep, label in [((2, 3, 4), [1], 1, "keepdims"), ((2, 3, 4, 5), [2, 3], 0,
                                                                   "spatial_no_keepdims"),
                                 ((2, 3, 4), [-1], 0, "negative_axis")]:
        add(Case("QLinearReduceMean", [q(x), scale(), zp(), scale(), zp()],
                 {"axes": axes, "keepdims": keep}, label=label, equivalent=reduce_mean))

    # QLinearWhere: condition, X, x_scale, x_zp, Y, y_scale, y_zp, z_scale, z_zp
    for c, x, y, label in [((2, 3), (2, 3), (2, 3), "same"), ((3, 1), (1, 4), (4,), "broadcast")]:
        add(Case("QLinearWhere", [I(c, "bool"), q(x), scale(), zp(), q(y), scale(), zp(),
                                  scale(), zp()], label=label))
    return out


def main() -> int:
    rows = []
    seen: dict[str, int] = {}
    errors = []
    for case in cases():
        seen[case.op] = seen.get(case.op, 0) + 1
        try:
            rows.append(record(case, seen[case.op]))
        except RuntimeError as e:
            errors.append(str(e))
            print("ERROR", e)
            continue
        print(f"{rows[-1]['id']}: {rows[-1]['outputs']}  [{rows[-1]['source'][:40]}]")
    if errors:
        print(f"{len(errors)} case(s) failed; cases.json not written")
        return 1
    meta = {
        "onnxruntime": ort.__version__, "onnx": onnx.__version__,
        "made_by": "make_cases.py (by hand)",
        "notes": [
            "SimplifiedLayerNormalization and LayerNormalization are registered by "
            "onnxruntime in the DEFAULT domain (opset 1), not com.microsoft: a com.microsoft "
            "node of either is rejected ('is not a registered function/op'). Their cases "
            "use domain ''.",
            "No CPU kernel (session creation fails): NhwcConv, BiasAdd, BiasSplitGelu, "
            "GemmFastGelu, QLinearReduceMean (shapes from an equivalent default-domain graph "
            "run by onnxruntime), GroupNorm, SkipGroupNorm (shapes from the schema: Y has X's "
            "shape).",
            "CPU kernel refuses at run time: MultiHeadAttention with packed QKV or packed KV "
            "(shapes from onnxruntime's own shape inference, read from the built session); "
            "Attention with past_present_share_buffer ('past_sequence_length tensor must be of "
            "one element'; shapes from the schema).",
            "onnxruntime quirks met: QLinearAdd/QLinearMul with A_zero_point and B_zero_point "
            "absent fail its type inference; QLinearSigmoid/QLinearLeakyRelu whose trailing "
            "optional zero point is left out of the input list (not given as '') abort the "
            "process; FusedMatMul with transBatchA/B needs operands of equal rank >= 3 on CPU "
            "(its shape inference accepts others); SimplifiedLayerNormalization's inv_std_var "
            "with axis=1 is inferred as [2,1,6] but the kernel returns [2,1,1] (the kernel's is "
            "recorded).",
            "GroupQueryAttention's present length is max(past length, total_sequence_length "
            "value): a value, not a shape. The case marked value_dependent_outputs shows a "
            "shared KV buffer, where shapes alone cannot give it.",
        ],
    }
    OUT.write_text(json.dumps({"meta": meta, "cases": rows}, indent=1) + "\n")
    print(f"{len(rows)} cases -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
