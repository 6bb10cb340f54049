"""The figures' words for a layer, from its ONNX ops (never from the table's Type column, never
an ONNX op type): a table per rule, and every layer of every model in tests/data."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import onnx
import pytest

from sphinx_cnncount import BindingError
from sphinx_cnncount import analyze
from sphinx_cnncount.ops import REGISTRY
from sphinx_cnncount.render import lenet
from sphinx_cnncount.render.vocabulary import PHRASES, Kind, Link, Word, kind_of, layer_kind, \
    phrases

from .test_wild import SETTINGS as WILD_SETTINGS

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("ops, shape, params, kind", [
    (("Conv", "Mul", "Tanh"), (1, 6, 28, 28), 156, Kind.CONVOLUTION),  # LeNet C1
    (("AveragePool", "Mul", "Add", "Tanh"), (1, 6, 14, 14), 12, Kind.SUBSAMPLING),  # S2
    (("Gather", "Conv", "Concat", "Mul", "Tanh"), (1, 16, 10, 10), 1516, Kind.CONVOLUTION),  # C3
    (("Concat", "Mul", "Tanh"), (1, 16, 10, 10), 0, Kind.CONCATENATION),  # C3 at depth 2
    (("Mul", "Tanh"), (1, 6, 28, 28), 0, Kind.ACTIVATION),  # LeNet's scaled tanh, A tanh(S a)
    (("Flatten", "Gemm", "Mul", "Tanh"), (1, 84), 10164, Kind.FULL_CONNECTION),  # F6
    (("Unsqueeze", "Sub", "Mul", "ReduceSum"), (1, 10), 840, Kind.GAUSSIAN_CONNECTIONS),
    (("Transpose", "Reshape"), (1, 128), 0, Kind.FLATTEN),  # Keras' Flatten
    (("Flatten",), (1, 512), 0, Kind.FLATTEN),
    (("Reshape",), (1, 4, 8, 8), 0, Kind.RESHAPE),
    (("MatMul", "Add", "Softmax"), (1, 10), 650, Kind.FULL_CONNECTION),  # Keras' Dense, softmax
    (("MaxPool",), (1, 32, 13, 13), 0, Kind.MAX_POOLING),
    (("GlobalAveragePool",), (1, 512, 1, 1), 0, Kind.GLOBAL_POOLING),
    (("ReduceMean",), (1, 512, 1, 1), 0, Kind.GLOBAL_POOLING),  # dynamo's AdaptiveAvgPool2d
    (("ReduceMean",), (1, 1024), 0, Kind.GLOBAL_POOLING),  # x.mean([2, 3])
    (("ReduceMean",), (1, 16, 7), 0, Kind.REDUCTION),  # a mean that is not over the map
    (("ConvTranspose", "Relu"), (1, 8, 32, 32), 100, Kind.TRANSPOSED_CONVOLUTION),
    (("BatchNormalization",), (1, 64, 112, 112), 256, Kind.BATCH_NORMALIZATION),
    (("LayerNormalization",), (1, 197, 768), 1536, Kind.LAYER_NORMALIZATION),
    # a LayerNorm written out: mean, variance, square root, division, scale and shift
    (("ReduceMean", "Sub", "Pow", "Add", "Sqrt", "Div", "Mul"), (1, 128, 384), 768,
     Kind.LAYER_NORMALIZATION),
    (("Mul", "ReduceSum", "Max", "Sqrt", "Reciprocal"), (1, 512), 0, Kind.NORMALIZATION),  # L2
    (("Sub", "Mul", "Add"), (1, 32, 26, 26), 96, Kind.SCALE_AND_SHIFT),  # a Keras BatchNorm
    (("Relu",), (1, 64, 112, 112), 0, Kind.ACTIVATION),
    (("Sigmoid", "Mul"), (1, 32, 112, 112), 0, Kind.ACTIVATION),  # SiLU, as torch exports it
    (("Div", "Erf", "Add", "Mul"), (1, 128, 1536), 0, Kind.ACTIVATION),  # GELU written out
    (("Add", "Relu"), (1, 64, 56, 56), 0, Kind.SUM),  # a residual join
    (("Add",), (1, 197, 768), 197 * 768, Kind.POSITION_EMBEDDING),  # ViT's learned positions
    (("Gather",), (1, 128, 384), 11_720_448, Kind.EMBEDDING),  # token ids -> rows of a table
    (("Gather",), (1, 768), 0, Kind.SELECTION),  # ViT's class token, x[:, 0]
    (("Concat",), (1, 256, 28, 28), 0, Kind.CONCATENATION),  # an Inception join
    (("Transpose", "MatMul", "Add", "Reshape", "Mul", "Softmax", "Gemm"), (1, 197, 768),
     2_362_368, Kind.ATTENTION),  # torch's MultiheadAttention
    (("LayerNormalization", "MatMul", "Add", "Reshape", "Softmax", "Gemm", "Gelu"),
     (1, 197, 768), 7_087_872, Kind.TRANSFORMER_BLOCK),  # a whole encoder block
    (("Attention",), (1, 128, 384), 591_360, Kind.ATTENTION),  # onnxruntime's fused one
    (("ReduceMean", "Conv", "Relu", "HardSigmoid", "Mul"), (1, 16, 56, 56), 1_512,
     Kind.SQUEEZE_AND_EXCITATION),
    (("Resize",), (1, 256, 40, 40), 0, Kind.UPSAMPLING),
    (("Pad",), (1, 3, 225, 225), 0, Kind.PADDING),
    (("Where",), (1, 128), 0, Kind.MASKING),
    (("Slice",), (1, 3, 28, 28), 0, Kind.SELECTION),
    (("Split",), (1, 58, 28, 28), 0, Kind.SPLIT),
    (("LSTM", "Squeeze"), (1, 20, 64), 33_280, Kind.RECURRENT),
    (("Einsum",), (1, 64), 0, Kind.FULL_CONNECTION),
    (("Mul",), (1, 64), 0, Kind.ARITHMETIC),
    (("If",), None, 0, Kind.CONTROL_FLOW),
    (("Identity",), (1, 10), 0, Kind.IDENTITY),
    (("ZipMap",), None, 0, Kind.ENCODING),
    (("GridSample",), (1, 2, 46, 62), 0, Kind.GRID_SAMPLING),  # RAFT's correlation lookup
    (("DeformConv",), (1, 64, 28, 28), 36_928, Kind.CONVOLUTION),
    (("SVMClassifier",), (1,), 0, Kind.SUPPORT_VECTORS),
    (("SoftmaxCrossEntropyLoss",), (), 0, Kind.LOSS),
    (("Adam",), (64,), 0, Kind.TRAINING),
    (("RMSNormalization",), (1, 16, 64), 64, Kind.LAYER_NORMALIZATION),
    (("STFT", "HannWindow"), (1, 201, 101, 2), 0, Kind.FOURIER),
    (("SequenceConstruct",), None, 0, Kind.OTHER),  # no word: said as such, never by its op
    ((), None, 0, Kind.OTHER),
])
def test_kind_of(ops: tuple[str, ...], shape: tuple[int, ...] | None, params: int,
                 kind: Kind) -> None:
    assert kind_of(ops, shape, params) is kind


def test_links_and_words() -> None:
    assert Kind.CONVOLUTION.link is Link.LOCAL and Kind.SUBSAMPLING.link is Link.LOCAL
    assert Kind.FULL_CONNECTION.link is Link.FULL and Kind.ATTENTION.link is Link.FULL
    assert Kind.FLATTEN.link is Link.ONE_TO_ONE  # a reshape connects no units: no fan
    assert Kind.CONVOLUTION.caption == "convolutions" and Kind.CONVOLUTION.noun == "convolution"
    assert Kind.GAUSSIAN_CONNECTIONS.caption == "Gaussian connections"
    assert Kind.GLOBAL_POOLING.caption == "global pooling"


def test_every_op_counted_has_a_word() -> None:
    """A layer made of any one op the registry counts is said in the vocabulary's words; only
    the containers (sequences, optionals) are other operations."""
    wordless = {op for _, op in REGISTRY if kind_of((op,), (1, 8, 4, 4), 0) is Kind.OTHER}
    assert wordless == {op for _, op in REGISTRY if op.startswith(("Sequence", "Optional"))}


def onnx_op_types() -> frozenset[str]:
    """Every op type ONNX defines (all domains, all versions) and every one this package
    counts (onnxruntime's contrib ops too)."""
    return frozenset({s.name for s in onnx.defs.get_all_schemas_with_history()}
                     | {op for _, op in REGISTRY})


def test_the_table_of_phrases() -> None:
    """One phrase per kind, no op type among them; phrases() lists every text once."""
    assert set(PHRASES) == set(Kind)
    ops = onnx_op_types()
    texts = phrases()
    assert len(texts) == len(set(texts))
    for phrase in PHRASES.values():
        assert phrase.caption in texts and phrase.noun in texts
    assert {w.value for w in Word} <= set(texts)
    for text in texts:
        assert "+" not in text and not set(text.split()) & ops, text


def _wild_inputs(path: Path) -> dict[str, tuple[int, ...]]:
    oracle = json.loads(path.with_suffix(".json").read_text())
    return {k: tuple(v["shape"]) for k, v in oracle["inputs"].items() if v["shape"]}


MODELS = sorted(p for p in DATA.rglob("*.onnx")) + sorted(EXAMPLES.glob("*.onnx"))


@cache
def _summaries(path: Path) -> list:
    out = []
    for depth in (1, 2, 3):
        if path.parent.name == "wild":  # the inputs and settings the oracle ran with
            out.append(analyze(path, depth, None, _wild_inputs(path),
                               WILD_SETTINGS.get(path.stem)))
        else:
            dims = {"unk__32": 1} if path.stem == "keras_cnn" else {}
            try:
                out.append(analyze(path, depth, dims))
            except BindingError as exc:  # free sizes (tests/data/symbolic): bound at 64
                out.append(analyze(path, depth, {**dims, **{u.symbol: 64 for u in exc.unbound
                                                             if u.symbol}}))
    return out


@pytest.mark.parametrize("path", MODELS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_caption_is_an_onnx_op_type(path: Path) -> None:
    """Over every model of tests/data and examples, at depths 1 to 3: every layer is said in
    the table's words, and the LeNet figure's captions are those words (no ``ReduceMean``,
    ``Sigmoid+Mul``, ``Gather``, ``And``: what the old captions were)."""
    ops = onnx_op_types()
    allowed = {line for p in PHRASES.values() for line in lenet._caption(p.caption)}
    for summary in _summaries(path):
        for layer in summary.layers:
            kind = layer_kind(layer)
            assert kind.caption in phrases()
            assert not set(kind.caption.split()) & ops, (layer.name, layer.op_types)
        picture = lenet.lenet(summary)
        captions = [s.text for s in picture.shapes
                    if getattr(s, "size", None) == lenet.CAPTION_SIZE]
        assert set(captions) <= allowed, set(captions) - allowed
