"""What a file that is not an ONNX model is, told from its first bytes, and what to do with it.

People pass cnncount the files that sit beside their models: a PyTorch checkpoint, a TorchScript
archive, a Keras ``.keras`` or ``.h5`` file, a TensorFlow SavedModel, the external data file of
an ONNX model, a Git LFS pointer. Each is recognised by its signature (zip members, the HDF5 and
pickle magic numbers) and named with the step that gives an ONNX model. No weight is read: a zip
archive's member names come from its central directory, and an ONNX model beside a data file is
parsed without its external data.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import onnx

HEAD = 4096  # bytes read to tell a file's kind
ZIP = b"PK\x03\x04"
EMPTY_ZIP = b"PK\x05\x06"
HDF5 = b"\x89HDF\r\n\x1a\n"  # at offset 0, or 512, 1024, 2048 after a user block
# torch.save's legacy (pre-1.6) format starts with its magic number pickled with protocol 2.
TORCH_LEGACY = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."
GIT_LFS = b"version https://git-lfs"
SIBLING_LIMIT = 64 * 2**20  # bytes: an .onnx beside a data file, read to see if it names it
SIBLINGS = 16  # .onnx files beside a data file that are read at most

TORCH_EXPORT = 'export the model with torch.onnx.export(model, example_input, "model.onnx")'
KERAS_EXPORT = ('load it in Keras and export it with model.export("model.onnx", format="onnx"), '
                "or convert it with tf2onnx")
TF_EXPORT = ("convert it with tf2onnx (python -m tf2onnx.convert --saved-model DIR --output "
             "model.onnx)")


def read_head(path: str | os.PathLike[str]) -> bytes:
    """The first bytes of a regular file (empty when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read(HEAD)
    except OSError:
        return b""


def before_parsing(path: str | os.PathLike[str], head: bytes) -> str | None:
    """The kind of a file whose signature no ONNX file has (a zip, HDF5 or pickle), with what
    to do; None for anything else, which is left to the protobuf parser."""
    if head.startswith((ZIP, EMPTY_ZIP)):
        return _zip(path)
    if any(head[at:at + len(HDF5)] == HDF5 for at in (0, 512, 1024, 2048)):
        return f"is an HDF5 file (a Keras .h5 model or its weights), not an ONNX model; " \
               f"{KERAS_EXPORT}"
    if head.startswith(TORCH_LEGACY):
        return f"is a PyTorch checkpoint (torch.save, legacy format), not an ONNX model; " \
               f"{TORCH_EXPORT}"
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # a pickle's PROTO opcode
        torch = Path(path).suffix.lower() in (".pt", ".pth", ".bin", ".ckpt")
        return "is a Python pickle" + (" (a PyTorch checkpoint?)" if torch else "") + \
               ", not an ONNX model" + (f"; {TORCH_EXPORT}" if torch else "")
    return None


def _zip(path: str | os.PathLike[str]) -> str:
    """A zip archive by its member names: torch.save, torch.jit.save, Keras 3, or another."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        names = []
    base = {n.split("/", 1)[-1] for n in names}  # torch puts every member under one folder
    if {"config.json", "model.weights.h5"} <= set(names):
        return f"is a Keras model (.keras), not an ONNX model; {KERAS_EXPORT}"
    if "data.pkl" in base and any(n.startswith("code/") for n in base):
        return f"is a TorchScript archive (torch.jit.save), not an ONNX model; {TORCH_EXPORT}"
    if "data.pkl" in base:
        return f"is a PyTorch checkpoint (torch.save), not an ONNX model; {TORCH_EXPORT}"
    models = [n for n in names if n.lower().endswith(".onnx")]
    if models:
        return f"is a zip archive holding {models[0]!r}; extract it and pass the .onnx file"
    if names and all(n.endswith(".npy") for n in names):
        return "is a NumPy .npz archive, not an ONNX model"
    return "is a zip archive, not an ONNX model"


def after_parsing(path: str | os.PathLike[str], head: bytes) -> str:
    """What a file that did not parse as an ONNX model (or held no graph) is: a TensorFlow
    graph, the external data of a model beside it, a text file, a damaged ONNX file, or none
    of these."""
    p = Path(path)
    if p.name == "saved_model.pb":
        return f"is a TensorFlow SavedModel's graph, not an ONNX model; {TF_EXPORT}"
    owner = data_owner(p)
    if owner is not None:
        return (f"is the external data (the weights) of {owner!r} beside it, not a model; "
                f"pass {owner!r}")
    if p.suffix.lower() == ".pb":
        return ("is not an ONNX model (a TensorFlow .pb graph?); convert it with tf2onnx "
                "(python -m tf2onnx.convert --graphdef FILE.pb --inputs ... --outputs ...)")
    text = _text(head)
    if text is not None:
        if text.startswith(GIT_LFS.decode()):
            return ("is a Git LFS pointer, not the model itself; fetch the file with "
                    "git lfs pull")
        if text.lstrip().startswith("<") and "ir_version" in text:
            return ("is ONNX's text format, not a binary model; convert it with "
                    "onnx.parser.parse_model and onnx.save")
        return "is a text file, not an ONNX model"
    if head[:1] == b"\x08":  # ModelProto's first field, ir_version
        return ("is not a readable ONNX model: it starts like one but does not parse "
                "(truncated or damaged?); export or download it again")
    return "is not an ONNX model (it does not parse as one)"


def _text(head: bytes) -> str | None:
    """``head`` as text, when it is UTF-8 with no control characters but whitespace (its
    last character may be cut)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return None
        text = head[:exc.start].decode("utf-8")
    if not text or any(c < " " and c not in "\t\n\r\f" for c in text):
        return None
    return text


def data_owner(path: Path) -> str | None:
    """The name of the ONNX model beside ``path`` whose tensors keep their data in it, if one
    does: the models whose name the file's name starts with first (``m.onnx`` for
    ``m.onnx.data``), at most SIBLINGS of them, each parsed without its external data."""
    folder = path.parent
    try:
        siblings = sorted(f for f in os.listdir(folder) if f.lower().endswith(".onnx")
                          and f != path.name)
    except OSError:
        return None
    siblings.sort(key=lambda f: not path.name.startswith(Path(f).stem))
    for name in siblings[:SIBLINGS]:
        candidate = folder / name
        try:
            st = candidate.stat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > SIBLING_LIMIT:
                continue
            model = onnx.load(os.fspath(candidate), load_external_data=False)
        except Exception:  # noqa: BLE001 (any file that does not parse names nothing)
            continue
        if path.name in _locations(model.graph):
            return name
    return None


def _locations(graph: onnx.GraphProto) -> set[str]:
    """The external data files a graph's initializers name, as written (normalised)."""
    return {os.path.normpath(e.value) for t in graph.initializer
            if t.data_location == onnx.TensorProto.EXTERNAL
            for e in t.external_data if e.key == "location"}


def directory(path: str | os.PathLike[str]) -> str:
    """What to say of a directory given where a model file was expected."""
    p = Path(path)
    if (p / "saved_model.pb").is_file():
        return f"is a TensorFlow SavedModel folder, not an ONNX model; {TF_EXPORT}"
    try:
        models = sorted(f for f in os.listdir(p) if f.lower().endswith(".onnx"))
    except OSError:
        models = []
    if models:
        shown = ", ".join(os.path.join(os.fspath(path), m) for m in models[:3])
        return f"is a directory, not an ONNX file; give one of its models: {shown}" + \
               (", ..." if len(models) > 3 else "")
    return "is a directory, not an ONNX file"
