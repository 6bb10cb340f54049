"""The user-facing choices of diagrams and counting conventions, in a module light enough for
the CLI's parser.

One source of truth for the ``cnncount diagram`` command, the Sphinx directive's ``:kind:`` (or
``:diagram:``) option, ``cnncount_diagram`` in conf.py and the Python API (``render.diagram``
re-exports them); and for ``--convention``, the directive's ``:convention:`` and the API's
``convention=`` (``conventions.py`` computes them).
"""

from __future__ import annotations

import os
from enum import Enum


class Diagram(str, Enum):
    """The diagrams a summary can be drawn as; the value is the name users type."""

    AUTO = "auto"  # lenet for a chain, graph for a DAG
    LENET = "lenet"  # the LeNet-5 paper's Figure 2
    GRAPH = "graph"  # the layer DAG
    BLOCKS = "blocks"  # 3D boxes, as PlotNeuralNet and NN-SVG draw them
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


class Convention(str, Enum):
    """A counting tool whose figure cnncount reproduces; the value is the name users type."""

    TORCHVISION = "torchvision"
    FVCORE = "fvcore"
    PTFLOPS = "ptflops"
    PTFLOPS_ATEN = "ptflops-aten"
    THOP = "thop"
    TORCHINFO = "torchinfo"
    CALFLOPS = "calflops"
    ONNX_TOOL = "onnx-tool"
    TORCH_FLOP_COUNTER = "torch-flop-counter"


ALL = "all"  # --convention all: every one, in one reconciliation table


def parse_convention(value: str) -> tuple[Convention, ...]:
    """A convention name as a user writes it (``all``: every one); a ValueError lists them."""
    text = value.strip().lower()
    if text == ALL:
        return tuple(Convention)
    try:
        return (Convention(text),)
    except ValueError:
        names = ", ".join([c.value for c in Convention] + [ALL])
        raise ValueError(f"unknown convention {value.strip()!r} (choose from {names})") from None
