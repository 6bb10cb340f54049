"""Files that are not ONNX models: each kind named, with what to do, in one line.

The PyTorch, TorchScript and Keras files are real ones, written by those libraries
(tests/data/make_not_onnx.py); the others are made here as the tools that write them do
(onnx's own external data, a SavedModel's layout, a Git LFS pointer)."""

from __future__ import annotations

import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from sphinx_cnncount import ModelError, analyze
from sphinx_cnncount.cli import main

from .conftest import EXAMPLES
from .helpers import model

mk = helper.make_node

REAL = Path(__file__).resolve().parent / "data" / "not_onnx"

TORCH = 'export the model with torch.onnx.export(model, example_input, "model.onnx")'
KERAS = ('load it in Keras and export it with model.export("model.onnx", format="onnx"), or '
         "convert it with tf2onnx")


@pytest.mark.parametrize("name, message", [
    ("checkpoint.pt", f"is a PyTorch checkpoint (torch.save), not an ONNX model; {TORCH}"),
    ("legacy.pt", f"is a PyTorch checkpoint (torch.save, legacy format), not an ONNX model; "
                  f"{TORCH}"),
    ("scripted.pt", f"is a TorchScript archive (torch.jit.save), not an ONNX model; {TORCH}"),
    ("model.keras", f"is a Keras model (.keras), not an ONNX model; {KERAS}"),
    ("model.h5", f"is an HDF5 file (a Keras .h5 model or its weights), not an ONNX model; "
                 f"{KERAS}"),
])
def test_real_files_of_other_frameworks(capsys, name, message):
    path = str(REAL / name)
    assert main(["summary", path]) == 2
    assert capsys.readouterr() == ("", f"cnncount: error: {path}: {message}\n")
    with pytest.raises(ModelError) as info:  # the API says the same
        analyze(path)
    assert info.value.reason == message


def made(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files of each other kind, and what cnncount says of each."""
    d = tmp_path
    # onnx's own external data: the model beside its weights file.
    weights = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w")
    m = model([mk("MatMul", ["x", "w"], ["y"])], {"x": [1, 8]}, ["y"], [weights])
    onnx.save(m, d / "net.onnx", save_as_external_data=True, location="net.onnx.data",
              size_threshold=0)
    with zipfile.ZipFile(d / "ckpt.zip.pt", "w") as z:  # torch.save's member names
        for member in ("archive/data.pkl", "archive/byteorder", "archive/data/0",
                       "archive/version"):
            z.writestr(member, b"")
    with zipfile.ZipFile(d / "bundle.zip", "w") as z:
        z.writestr("model/net.onnx", b"")
    np.savez(d / "arrays.npz", a=np.zeros(2))
    (d / "userblock.h5").write_bytes(b"\0" * 512 + b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    (d / "weights.pth").write_bytes(pickle.dumps({"w": [0.0, 1.0]}, protocol=4))
    (d / "saved").mkdir()
    (d / "saved" / "saved_model.pb").write_bytes(b"\x08\x01\x12\x04\x0a\x02\x08\x01")
    (d / "saved" / "variables").mkdir()
    (d / "graph.pb").write_bytes(b"\x0a\x0c\x0a\x01x\x12\x0bPlaceholder")  # a GraphDef node
    (d / "lfs.onnx").write_text("version https://git-lfs.github.com/spec/v1\n"
                                "oid sha256:0123\nsize 61706\n")
    (d / "readme.onnx").write_text("this is not a model\n")
    (d / "text.onnx").write_text("<\n  ir_version: 8,\n  opset_import: [\"\" : 17]\n>\n"
                                 "g (float[1] x) => (float[1] y) { y = Relu(x) }\n")
    (d / "empty.onnx").write_bytes(b"")
    full = (EXAMPLES / "lenet5.onnx").read_bytes()
    (d / "half.onnx").write_bytes(full[: len(full) // 2])
    (d / "noise.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    (d / "models").mkdir()
    shutil.copy(EXAMPLES / "lenet5.onnx", d / "models")
    tf = ("convert it with tf2onnx (python -m tf2onnx.convert --saved-model DIR --output "
          "model.onnx)")
    return {
        "external data": (d / "net.onnx.data", "is the external data (the weights) of 'net.onnx' "
                                               "beside it, not a model; pass 'net.onnx'"),
        "torch zip": (d / "ckpt.zip.pt", f"is a PyTorch checkpoint (torch.save), not an ONNX "
                                         f"model; {TORCH}"),
        "zip holding a model": (d / "bundle.zip", "is a zip archive holding 'model/net.onnx'; "
                                                  "extract it and pass the .onnx file"),
        "npz": (d / "arrays.npz", "is a NumPy .npz archive, not an ONNX model"),
        "hdf5 with a user block": (d / "userblock.h5", "is an HDF5 file (a Keras .h5 model or "
                                                       f"its weights), not an ONNX model; {KERAS}"),
        "pickle": (d / "weights.pth", "is a Python pickle (a PyTorch checkpoint?), not an ONNX "
                                      f"model; {TORCH}"),
        "savedmodel folder": (d / "saved", f"is a TensorFlow SavedModel folder, not an ONNX "
                                           f"model; {tf}"),
        "savedmodel graph": (d / "saved" / "saved_model.pb",
                             f"is a TensorFlow SavedModel's graph, not an ONNX model; {tf}"),
        "frozen graph": (d / "graph.pb", "is not an ONNX model (a TensorFlow .pb graph?); convert "
                                         "it with tf2onnx (python -m tf2onnx.convert --graphdef "
                                         "FILE.pb --inputs ... --outputs ...)"),
        "git lfs pointer": (d / "lfs.onnx", "is a Git LFS pointer, not the model itself; fetch "
                                            "the file with git lfs pull"),
        "text": (d / "readme.onnx", "is a text file, not an ONNX model"),
        "onnx text format": (d / "text.onnx", "is ONNX's text format, not a binary model; convert "
                                              "it with onnx.parser.parse_model and onnx.save"),
        "empty": (d / "empty.onnx", "is empty, not an ONNX model"),
        "truncated onnx": (d / "half.onnx", "is not a readable ONNX model: it starts like one but "
                                            "does not parse (truncated or damaged?); export or "
                                            "download it again"),
        "noise": (d / "noise.onnx", "is not an ONNX model (it does not parse as one)"),
        "folder of models": (d / "models", f"is a directory, not an ONNX file; give one of its "
                                           f"models: {d / 'models' / 'lenet5.onnx'}"),
    }


KINDS = ["external data", "torch zip", "zip holding a model", "npz", "hdf5 with a user block",
         "pickle", "savedmodel folder", "savedmodel graph", "frozen graph", "git lfs pointer",
         "text", "onnx text format", "empty", "truncated onnx", "noise", "folder of models"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_named_with_what_to_do(tmp_path, capsys, kind):
    path, message = made(tmp_path)[kind]
    assert main(["summary", str(path)]) == 2
    assert capsys.readouterr() == ("", f"cnncount: error: {path}: {message}\n")


def test_no_parser_jargon(tmp_path):
    for path, _ in made(tmp_path).values():
        with pytest.raises(ModelError) as info:
            analyze(path)
        assert "DecodeError" not in info.value.reason and "protobuf" not in info.value.reason


def test_the_model_beside_its_data_is_read(tmp_path):
    """The data file's owner is found by what it names, and it is the model to pass."""
    path, _ = made(tmp_path)["external data"]
    assert analyze(path.with_name("net.onnx")).totals.params == 64


def test_lint_says_it_once_as_a_finding(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REAL)
    assert main(["lint", "checkpoint.pt", "--isolated"]) == 2
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        f"checkpoint.pt: CNC000 [error] is a PyTorch checkpoint (torch.save), not an ONNX "
        f"model; {TORCH}",
        "Found 1 finding (1 error).",
    ]
