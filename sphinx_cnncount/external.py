"""The one reader of data beside a model file: the small integer initializers (shapes, axes,
indices) an exporter stored in the model's external data file, which decide the shapes of the
tensors downstream.

Float tensors (weights) are never read, nor any tensor a node's attribute holds (Constant and
ConstantOfShape values stay unread: exporters store integers as initializers). An integer
initializer is read only when all of these hold:
it has at most :data:`~limits.VALUE_LIMIT` elements; its location is a relative path with no
hidden component (none starting with a dot: never ``.env`` or ``.git/config``) that, resolved
(links followed), lies inside the model's own directory; that path is a regular file (never a
FIFO, a device or a directory); its offset and length lie inside the file and match the
tensor's dims; and its bytes fit the model's integer data budget (:class:`~limits.Budget`).
Anything else leaves the tensor unread and says why. Nothing else in cnncount opens a file
beside the model.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from math import prod

import numpy as np
import onnx
from onnx import helper

from .control import subgraphs
from .limits import VALUE_LIMIT, Budget

# Integer and bool element types and their little-endian numpy types.
INTEGER_TYPES = {
    onnx.TensorProto.INT64: "<i8", onnx.TensorProto.INT32: "<i4", onnx.TensorProto.INT16: "<i2",
    onnx.TensorProto.INT8: "i1", onnx.TensorProto.UINT64: "<u8", onnx.TensorProto.UINT32: "<u4",
    onnx.TensorProto.UINT16: "<u2", onnx.TensorProto.UINT8: "u1", onnx.TensorProto.BOOL: "?",
}


SHAPE_TYPES = frozenset({onnx.TensorProto.INT64, onnx.TensorProto.INT32})


@dataclass
class ExternalReport:
    """What became of the integer tensors stored outside the model file."""

    read: list[str] = field(default_factory=list)  # tensor names now inline
    missing: dict[str, list[str]] = field(default_factory=dict)  # location -> tensors
    refused: list[tuple[str, str]] = field(default_factory=list)  # (tensor, why)

    def messages(self) -> list[str]:
        """One line per missing file and per refused tensor, for the diagnostics."""
        out = [f"external data file {location!r} is missing: {len(names)} integer "
               f"tensor{'s' if len(names) != 1 else ''} (shapes, axes, indices) could not be "
               f"read ({', '.join(repr(n) for n in names[:3])}{', ...' if len(names) > 3 else ''})"
               for location, names in sorted(self.missing.items())]
        out += [f"integer tensor {name!r} in external data was not read: {why}"
                for name, why in self.refused]
        return out


def inline_integer_data(model_path: str | os.PathLike[str], model: onnx.ModelProto,
                        bodies: bool, budget: Budget) -> ExternalReport:
    """Read the small integer initializers of ``model`` that live in external data (in the
    main graph and in every body) and store them inline, in place. Float tensors and everything
    the rules above refuse are left as they are."""
    report = ExternalReport()
    base = os.path.dirname(os.path.abspath(model_path))
    for tensor in _external_integer_tensors(model.graph, bodies):
        values, missing, why = read_integers(base, tensor, budget)
        if values is not None:
            _store_inline(tensor, values)
            report.read.append(tensor.name)
        elif missing is not None:
            report.missing.setdefault(missing, []).append(tensor.name)
        else:
            report.refused.append((tensor.name, why))
    return report


def _external_integer_tensors(graph: onnx.GraphProto, bodies: bool) -> list[onnx.TensorProto]:
    """The external initializers that can be shape data: int64 and int32 (shapes, axes,
    indices), of at most VALUE_LIMIT elements. Narrower integers are quantized weights, larger
    tensors are data: neither is read, nor missed."""
    found: list[onnx.TensorProto] = []
    graphs = [graph]
    for g in graphs:
        found += [t for t in g.initializer if t.data_location == onnx.TensorProto.EXTERNAL
                  and t.data_type in SHAPE_TYPES and prod(t.dims) <= VALUE_LIMIT]
        for node in g.node if bodies else ():
            graphs += [body for _, body in subgraphs(node)]
    return found


def read_integers(base: str, tensor: onnx.TensorProto, budget: Budget
                  ) -> tuple[np.ndarray | None, str | None, str]:
    """(values, None, "") when read; (None, location, "") when its file is missing;
    (None, None, why) when the rules refuse it. The bytes are charged to ``budget`` before
    they are read (past it, a ModelError)."""
    info = {e.key: e.value for e in tensor.external_data}
    location = info.get("location", "")
    n = 1
    for d in tensor.dims:
        n *= d
    if min(tensor.dims, default=1) < 0:
        return None, None, "negative dims"
    if n > VALUE_LIMIT:
        return None, None, f"{n:,} elements, over the {VALUE_LIMIT:,}-element limit"
    if not location or os.path.isabs(location) or "\0" in location:
        return None, None, f"location {location!r} is not a relative path"
    path = os.path.realpath(os.path.join(base, location))
    if os.path.commonpath([path, os.path.realpath(base)]) != os.path.realpath(base):
        return None, None, f"location {location!r} lies outside the model's directory"
    if any(part.startswith(".") and part != "."
           for part in location.replace("\\", "/").split("/")):
        return None, None, f"location {location!r} names a hidden file or folder"
    try:
        offset = int(info.get("offset", "0"))
        dtype = np.dtype(INTEGER_TYPES[tensor.data_type])
        length = int(info["length"]) if "length" in info else n * dtype.itemsize
    except ValueError:
        return None, None, "offset or length is not a number"
    if length != n * dtype.itemsize or offset < 0:
        return None, None, (f"length {length} does not hold {n} element(s) of "
                            f"{dtype.itemsize} byte(s)" if offset >= 0 else "negative offset")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None, location, ""
    except OSError as exc:
        return None, None, f"cannot open {location!r}: {exc.strerror}"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, None, f"{location!r} is not a regular file"
        if offset + length > st.st_size:
            return None, None, f"offset {offset} + length {length} lie past the end of {location!r}"
        budget.charge(length)
        data = os.pread(fd, length, offset)
    except OSError as exc:
        return None, None, f"cannot read {location!r}: {exc.strerror}"
    finally:
        os.close(fd)
    if len(data) != length:
        return None, None, f"{location!r} ended early"
    return np.frombuffer(data, dtype=dtype).reshape(tuple(tensor.dims)), None, ""


def _store_inline(tensor: onnx.TensorProto, values: np.ndarray) -> None:
    """The tensor with its bytes in ``raw_data`` (little-endian, as ONNX stores them)."""
    tensor.CopyFrom(helper.make_tensor(tensor.name, tensor.data_type, list(tensor.dims),
                                       values.tobytes(), raw=True))
