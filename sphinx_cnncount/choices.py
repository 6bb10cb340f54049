"""User-facing choices, in a module light enough for the CLI's parser (it imports no onnx).

One source of truth for the ``cnncount diagram`` command, the Sphinx directive's ``:diagram:``
option, ``cnncount_diagram`` in conf.py and the Python API (``render.diagram`` re-exports them);
and the parsers of ``--dim``, ``--input-shape`` and ``--input-value`` (the directive's ``:dim:``,
``:input-shape:`` and ``:input-value:``; ``load`` re-exports them).
"""

from __future__ import annotations

import os
from enum import Enum


class Diagram(str, Enum):
    """The diagrams a summary can be drawn as; the value is the name users type."""

    AUTO = "auto"  # lenet for a chain, graph for a DAG
    LENET = "lenet"
    GRAPH = "graph"
    NONE = "none"


def parse_diagram(value: str) -> Diagram:
    """A diagram name as a user writes it; a ValueError lists the choices."""
    try:
        return Diagram(value.strip().lower())
    except ValueError:
        choices = ", ".join(d.value for d in Diagram)
        raise ValueError(f"unknown diagram {value.strip()!r} (choose from {choices})") from None


class Format(str, Enum):
    """The files a diagram is written as; the value is the suffix (and ``--format``)."""

    SVG = "svg"
    TIKZ = "tex"  # a tikzpicture, for \input in a LaTeX document with \usepackage{tikz}
    PDF = "pdf"
    PNG = "png"

    @classmethod
    def of_path(cls, path: str | os.PathLike[str]) -> Format:
        """The format a file name asks for by its suffix (``.tikz`` is TikZ too)."""
        suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        try:
            return cls({"tikz": "tex"}.get(suffix, suffix))
        except ValueError:
            choices = ", ".join(f".{f.value}" for f in cls)
            raise ValueError(f"cannot tell the format of {os.fspath(path)!r} from its suffix "
                             f"(choose from {choices}, or give --format)") from None


def parse_input_shapes(specs: list[str] | tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """``["image=1x3x224x224"]`` -> ``{"image": (1, 3, 224, 224)}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for spec in specs:
        name, sep, dims = spec.rpartition("=")
        if not sep or not name or not dims:
            raise ValueError(f"--input-shape expects NAME=DxDx..., got {spec!r}")
        try:
            shapes[name] = tuple(int(d) for d in dims.replace(",", "x").split("x"))
        except ValueError:
            raise ValueError(f"--input-shape expects NAME=DxDx..., got {spec!r}") from None
    return shapes


def parse_dims(specs: list[str] | tuple[str, ...]) -> dict[str, int]:
    """``["batch=1", "H=224"]`` -> ``{"batch": 1, "H": 224}``."""
    dims: dict[str, int] = {}
    for spec in specs:
        for part in spec.split(","):
            name, sep, value = part.strip().partition("=")
            try:
                dims[name.strip()] = int(value)
            except ValueError:
                raise ValueError(f"--dim expects SYMBOL=N, got {part.strip()!r}") from None
            if not sep or not name.strip():
                raise ValueError(f"--dim expects SYMBOL=N, got {part.strip()!r}")
    return dims


def parse_input_values(specs: list[str] | tuple[str, ...]) -> dict[str, tuple[int | float, ...]]:
    """``["sr=16000", "mask=1,0,1"]`` -> ``{"sr": (16000,), "mask": (1, 0, 1)}``: the values
    of small inputs that are settings, not data (a sample rate a branch depends on)."""
    values: dict[str, tuple[int | float, ...]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise ValueError(f"--input-value expects NAME=V or NAME=V,V,..., got {spec!r}")
        try:
            values[name.strip()] = tuple(float(v) if any(c in v for c in ".eE") else int(v)
                                         for v in text.split(","))
        except ValueError:
            raise ValueError(f"--input-value {name.strip()}: {text!r} is not a list of numbers") \
                from None
        if len(values[name.strip()]) > 1 << 16:
            raise ValueError(f"--input-value {name.strip()}: too many values")
    return values
