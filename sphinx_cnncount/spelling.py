"""How each front end spells the arguments that bind a model's inputs, for the messages that
tell the user what to bind.

Loading raises its errors with the facts (which input, which axis, which symbol, which
argument: :class:`~sphinx_cnncount.load.BindingError`); the words come from the
:class:`Spelling` the caller passes: ``dims={"H": SIZE}`` to a Python caller of
:func:`~sphinx_cnncount.analyze`, ``--dim H=SIZE`` on the command line, ``:dim: H=SIZE`` in a
Sphinx directive. Kept free of onnx, so the CLI can import it at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Syntax(Enum):
    """Where the message is read."""

    PYTHON = "python"  # analyze(path, dims=..., input_shapes=..., input_values=...)
    CLI = "cli"  # --dim, --input-shape, --input-value
    DIRECTIVE = "directive"  # :dim:, :input-shape:, :input-value:


class Arg(Enum):
    """The three arguments that bind a model's inputs."""

    DIM = "dim"
    SHAPE = "input-shape"
    VALUE = "input-value"


_NAMES = {
    Syntax.PYTHON: {Arg.DIM: "dims", Arg.SHAPE: "input_shapes", Arg.VALUE: "input_values"},
    Syntax.CLI: {Arg.DIM: "--dim", Arg.SHAPE: "--input-shape", Arg.VALUE: "--input-value"},
    Syntax.DIRECTIVE: {Arg.DIM: ":dim:", Arg.SHAPE: ":input-shape:",
                       Arg.VALUE: ":input-value:"},
}

PLACEHOLDER = "SIZE"  # a dim the user is to choose

# A dim of a suggested shape: a size, or None for "choose it".
Dims = Sequence[int | None]


@dataclass(frozen=True)
class Spelling:
    """The words for the binding arguments where a message is read. ``sources`` names where a
    symbol's or an input's binding came from when that was not the argument itself
    (``pyproject.toml [tool.cnncount] dims``, conf.py's ``cnncount_dims``): a message blames
    what the user wrote, and such a default binds only the models that have that symbol or
    input."""

    syntax: Syntax = Syntax.PYTHON
    sources: Mapping[str, str] = field(default_factory=dict)

    def arg(self, arg: Arg) -> str:
        """The argument itself: ``--input-shape``, ``input_shapes``, ``:input-shape:``."""
        return _NAMES[self.syntax][arg]

    def source(self, arg: Arg, name: str) -> str:
        """What gave ``name`` its binding: the configuration key, else the argument."""
        return self.sources.get(name, self.arg(arg))

    def given(self, arg: Arg, name: str) -> str:
        """The binding of one symbol or input as given: ``--dim H``, ``dims["H"]``,
        ``:dim: H``, or ``pyproject.toml [tool.cnncount] dims H``."""
        if name in self.sources:
            return f"{self.sources[name]} {name}"
        if self.syntax is Syntax.PYTHON:
            return f"{self.arg(arg)}[{_quote(name)}]"
        return f"{self.arg(arg)} {name}"

    def bind_dims(self, symbols: Sequence[str]) -> str:
        """How to bind these symbols: ``--dim H=SIZE --dim W=SIZE``, ``dims={"H": SIZE, "W":
        SIZE}``, ``:dim: H=SIZE W=SIZE``."""
        if self.syntax is Syntax.PYTHON:
            return "dims={" + ", ".join(f"{_quote(s)}: {PLACEHOLDER}" for s in symbols) + "}"
        if self.syntax is Syntax.DIRECTIVE:
            return ":dim: " + " ".join(f"{s}={PLACEHOLDER}" for s in symbols)
        return " ".join(f"--dim {s}={PLACEHOLDER}" for s in symbols)

    def bind_shapes(self, shapes: Mapping[str, Dims | None]) -> str:
        """How to give these inputs their whole shapes (None: a shape of unknown rank):
        ``--input-shape x=1x3xSIZExSIZE``, ``input_shapes={"x": (1, 3, SIZE, SIZE)}``,
        ``:input-shape: x=1x3xSIZExSIZE``."""
        if self.syntax is Syntax.PYTHON:
            return "input_shapes={" + ", ".join(
                f"{_quote(name)}: " + ("(D, D, ...)" if dims is None else
                                       "(" + ", ".join(map(_dim, dims))
                                       + ("," if len(dims) == 1 else "") + ")")
                for name, dims in shapes.items()) + "}"
        specs = [f"{name}=" + ("DxDx..." if dims is None else "x".join(map(_dim, dims)))
                 for name, dims in shapes.items()]
        if self.syntax is Syntax.DIRECTIVE:
            return ":input-shape: " + " ".join(specs)
        return " ".join(f"--input-shape {spec}" for spec in specs)


def unbound_message(unbound: Sequence[object], shapes: Mapping[str, Dims | None],
                    spelling: Spelling) -> str:
    """Every unbound dim of every input in one message, and how to bind them all: the
    symbols' binding, or the whole shape (the only way for an unnamed dim, a dim that is no
    size, or an input with no shape). ``unbound``: :class:`~sphinx_cnncount.load.Unbound`
    records; ``shapes``: each input's dims as far as they are bound."""
    by_input: dict[str, list[Any]] = {}
    for u in unbound:
        by_input.setdefault(u.input, []).append(u)  # type: ignore[attr-defined]
    what = "; ".join(f"input {name!r} has {_dims_text(dims)}" for name, dims in by_input.items())
    whole = [name for name, dims in by_input.items()
             if any(not u.symbol or u.value is not None for u in dims)]
    symbols = list(dict.fromkeys(u.symbol for name, dims in by_input.items()
                                 if name not in whole for u in dims))
    if not whole:
        them = "it" if len(symbols) == 1 else "them"
        shapes_text = "the whole shape" if len(by_input) == 1 else "the whole shapes"
        return (f"{what}; bind {them} with {spelling.bind_dims(symbols)}, or give "
                f"{shapes_text} with {_shapes(spelling, shapes, by_input)}")
    theirs = "its whole shape" if len(whole) == 1 else "their whole shapes"
    if not symbols:
        return f"{what}; give {theirs} with {_shapes(spelling, shapes, whole)}"
    return (f"{what}; bind {', '.join(map(repr, symbols))} with {spelling.bind_dims(symbols)} "
            f"and give {', '.join(map(repr, whole))} {theirs} with "
            f"{_shapes(spelling, shapes, whole)}")


def _shapes(spelling: Spelling, shapes: Mapping[str, Dims | None], names: Iterable[str]) -> str:
    return spelling.bind_shapes({name: shapes.get(name) for name in names})


def _dims_text(dims: Sequence[Any]) -> str:
    """``symbolic dims 'H' (axis 2) and 'W' (axis 3)``, ``an unnamed dim at axis 1``, ``no
    shape``, ``dim -1 at axis 0 (not a size)``: one input's unbound dims, in axis order."""
    if any(d.axis is None for d in dims):
        return "no shape"
    if len(dims) > 1 and all(d.symbol and d.value is None for d in dims):
        listed = [f"{d.symbol!r} (axis {d.axis})" for d in dims]
        return f"symbolic dims {', '.join(listed[:-1])} and {listed[-1]}"
    parts = [f"dim {d.value} at axis {d.axis} (not a size)" if d.value is not None
             else f"symbolic dim {d.symbol!r} at axis {d.axis}" if d.symbol
             else f"an unnamed dim at axis {d.axis}" for d in dims]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _quote(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _dim(d: int | None) -> str:
    return PLACEHOLDER if d is None else str(d)


PYTHON = Spelling(Syntax.PYTHON)
CLI = Spelling(Syntax.CLI)
DIRECTIVE = Spelling(Syntax.DIRECTIVE)


# ---------------------------------------------------------------------------------------------
# The syntax every front end shares: NAME=DxDx..., SYMBOL=N, NAME=V,V,...


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
