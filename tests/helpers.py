"""Small onnx.helper models for the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from sphinx_cnncount.count import count
from sphinx_cnncount.summary import Summary
from sphinx_cnncount.load import load


def weight(name: str, *shape: int, dtype=np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, dtype=dtype), name)


def ints(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inputs: dict, outputs: list[str] | dict, inits=(), opset: int = 21,
          extra_opsets=()) -> onnx.ModelProto:
    """inputs: {name: shape}; outputs: names (shape left to inference) or {name: shape}."""
    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()]
    if isinstance(outputs, dict):
        outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs.items()]
    else:
        outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
    g = helper.make_graph(list(nodes), "g", ins, outs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), *extra_opsets])
    m.ir_version = 10
    return m


def summarize(tmp_path: Path, m: onnx.ModelProto, depth: int = 1, name: str = "m.onnx",
              **kw) -> Summary:
    path = tmp_path / name
    onnx.save(m, path)
    return count(load(path, **kw), depth)


def sphinx_build(srcdir: Path, outdir: Path, builder: str = "html", **overrides) -> str:
    """Build ``srcdir`` where it is (its relative model paths kept) into ``outdir``; the
    warnings. For roots whose pages point at models outside them (tests/roots/test-themes)."""
    import io

    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    warnings = io.StringIO()
    with docutils_namespace():  # each build registers its nodes and directives afresh
        app = Sphinx(str(srcdir), str(srcdir), str(outdir), str(outdir / ".doctrees"), builder,
                     confoverrides=overrides, status=None, warning=warnings, freshenv=True)
        app.build()
    return warnings.getvalue()
