"""Declared numbers: what a document or an expectations file says a model has, and the check.

Shared by the Sphinx directive's content lines and ``cnncount lint`` (TOML expectations), so
both accept the same spellings and word a mismatch the same way.

* integers with ``,`` or ``_`` separators: ``60,840``, ``340_908``;
* an SI suffix (k, M, G, T), which matches to the precision written: ``1.81G`` holds for
  1,814,073,344 (1.814G rounds to 1.81G) and ``1.82G`` does not;
* shapes with the batch omitted, as the paper writes them or plainly: ``6@28x28``, ``6x28x28``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .summary import Summary
from .shapes import Shape, is_known
from .render import fmt_field, fmt_int, layer_shape

SI = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
NUMBER_KEYS = ("params", "trainable_params", "non_trainable_params", "connections", "macs", "flops",
               "backward_macs", "activation_bytes", "training_macs", "peak_activation_bytes")
SHAPE_KEYS = ("output", "output_shape")
FIELD_KEYS = ("receptive_field",)
KEYS = NUMBER_KEYS + SHAPE_KEYS + FIELD_KEYS


class DeclarationError(ValueError):
    """A declaration that cannot be read (bad key, value or syntax)."""


@dataclass(frozen=True)
class Declared:
    """A number as written: it holds for ``actual`` when ``actual`` rounds to it.

    Kept as exact integers: ``digits`` units of ``unit`` (``1.81G`` is 181 units of 10^7; a
    plain ``60,840`` is 60,840 units of 1), so matching never depends on a decimal context.
    """

    text: str
    digits: int
    unit: int  # 1 for an exact number, else the place value of the last digit written

    @property
    def scale(self) -> int:
        return self.unit

    def matches(self, actual: int) -> bool:
        if self.unit == 1:
            return actual == self.digits
        return (2 * actual + self.unit) // (2 * self.unit) == self.digits  # round half up


# A count has at most this many digits (2^63 per dim, a handful of dims): a longer declaration
# is a typo, and reading ``1e10000000`` exactly would take minutes.
MAX_DIGITS = 80


def parse_number(text: str | int) -> Declared:
    if isinstance(text, bool):
        raise DeclarationError(f"expected a number, got {text!r}")
    if isinstance(text, int):
        if abs(text) >= 10**MAX_DIGITS:
            raise DeclarationError(f"{text!r} is too large to be a count")
        return Declared(str(text), text, 1)
    raw = str(text).strip()
    s = raw.replace(",", "").replace("_", "")
    scale = 0  # power of ten of the SI suffix
    if s and s[-1] in SI:
        scale = len(str(SI[s[-1]])) - 1
        s = s[:-1]
    if len(s) > 2 * MAX_DIGITS:
        raise DeclarationError(f"{raw[:40]!r}... is too long to be a count")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise DeclarationError(f"{raw!r} is not a number (write 60,840 or 1.81G)") from None
    if not value.is_finite():
        raise DeclarationError(f"{raw!r} is not a number (write 60,840 or 1.81G)")
    sign, digit_tuple, exponent = value.as_tuple()
    exponent = int(exponent)
    if value and value.adjusted() + scale >= MAX_DIGITS:
        raise DeclarationError(f"{raw!r} is too large to be a count")
    place = exponent + scale  # the power of ten of the last digit written
    digits = int("".join(map(str, digit_tuple)) or "0") * (-1 if sign else 1)
    if place < 0:
        # Trailing zeros after the point say nothing finer: 60840.0 is 60840.
        while place < 0 and digits % 10 == 0 and digits:
            digits //= 10
            place += 1
        if place < 0 and digits:
            what = "a whole number" if not scale else "a count to a whole unit"
            raise DeclarationError(f"{raw!r} is not {what}; "
                                   + ("use an SI suffix for a rounded figure" if not scale
                                      else "write fewer decimals"))
        place = max(place, 0)
    if not scale:
        return Declared(raw, digits * 10**place, 1)
    return Declared(raw, digits, 10**place)


def parse_shape(text: str) -> tuple[int, ...]:
    """``6@28x28`` or ``6x28x28`` (or a list of ints) -> (6, 28, 28); batch omitted."""
    if isinstance(text, (list, tuple)):
        return tuple(int(d) for d in text)
    raw = str(text).strip()
    try:
        return tuple(int(d) for d in raw.replace("@", "x").replace(",", "x").split("x"))
    except ValueError:
        raise DeclarationError(f"{raw!r} is not a shape (write 6@28x28 or 6x28x28)") from None


def shape_matches(declared: tuple[int, ...], actual: Shape | None,
                  layout: str | None = None) -> bool:
    """A declared shape omits the batch; one that spells it out matches too. Written as
    ``C@HxW``, it names the channels first whatever the tensor's layout (``layout``)."""
    if actual is None:
        return False
    if layout and len(layout) == len(actual) and "C" in layout:
        c = layout.index("C")
        actual = (actual[0], actual[c], *(d for k, d in enumerate(actual) if k not in (0, c)))
    return tuple(actual[1:]) == declared or tuple(actual) == declared


@dataclass(frozen=True)
class Declaration:
    target: str  # a layer name, or "total"
    key: str
    value: str | int
    line: int = 0  # offset within the block that declared it (0-based), where known


@dataclass(frozen=True)
class Mismatch:
    target: str
    key: str
    declared: str
    actual: str | None  # None when the layer does not exist
    line: int = 0
    unchecked: bool = False  # the model's figure is not counted: the declaration is not checked

    @property
    def message(self) -> str:
        if self.actual is None:
            return f"{self.target}: declared layer does not exist in the model"
        if self.unchecked:
            return (f"{self.target}: {self.key} declared {self.declared} cannot be checked: the "
                    f"model's figure is not counted ({self.actual}; its count is partial)")
        return f"{self.target}: {self.key} declared {self.declared}, model has {self.actual}"


# A comment starts with a "#" at the start of a line or after a space; a "#" inside a word is
# part of it (the summary names a second layer called "a" "a#2").
_COMMENT = re.compile(r"(^|\s)#.*$")


def parse_lines(lines: list[str]) -> list[Declaration]:
    """Directive content: ``<layer|total> key=value ...`` per line; ``#`` starts a comment."""
    out = []
    for offset, line in enumerate(lines):
        text = _COMMENT.sub("", line).strip()
        if not text:
            continue
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise DeclarationError(f"line {offset + 1}: {exc}") from None
        target, pairs = words[0], words[1:]
        if not pairs:
            raise DeclarationError(f"line {offset + 1}: {target!r} declares nothing; "
                                   "write e.g. 'C3 params=1,516'")
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not value:
                raise DeclarationError(f"line {offset + 1}: {pair!r} is not key=value")
            out.append(Declaration(target, key, value, offset))
    return out


def check(summary: Summary, declarations: list[Declaration]) -> list[Mismatch]:
    """Every declaration that does not hold for ``summary``. Raises DeclarationError on a key or
    value that cannot be read."""
    layers = {layer.name: layer for layer in summary.layers}
    out: list[Mismatch] = []
    missing_reported: set[str] = set()
    for d in declarations:
        key = d.key.strip().lower().replace("-", "_")
        if key not in KEYS:
            raise DeclarationError(
                f"unknown key {d.key!r} for {d.target} (known: {', '.join(KEYS)})")
        if d.target.lower() == "total":
            if key in SHAPE_KEYS:
                raise DeclarationError("total has no output shape; declare it on a layer")
            record = summary.totals
        elif d.target in layers:
            record = layers[d.target]
        else:
            if d.target not in missing_reported:
                missing_reported.add(d.target)
                out.append(Mismatch(d.target, key, str(d.value), None, d.line))
            continue
        if key in FIELD_KEYS:
            if record is summary.totals:
                raise DeclarationError("total has no receptive field; declare it on a layer")
            actual_field = fmt_field(record.receptive_field)  # type: ignore[union-attr]
            if _field_text(str(d.value)) != actual_field:
                out.append(Mismatch(d.target, key, str(d.value), actual_field, d.line))
            continue
        if key in SHAPE_KEYS:
            declared_shape = parse_shape(d.value)  # type: ignore[arg-type]
            if not shape_matches(declared_shape, record.output_shape,  # type: ignore[union-attr]
                                 record.layout if "@" in str(d.value) else None):  # type: ignore
                out.append(Mismatch(d.target, "output", str(d.value),
                                    layer_shape(record), d.line,  # type: ignore[arg-type]
                                    not is_known(record.output_shape)))  # type: ignore
            continue
        declared = parse_number(d.value)
        if not hasattr(record, key):
            raise DeclarationError(f"{key} is a figure of the totals, not of a layer")
        actual = getattr(record, key)
        if actual is None:  # not counted (an op with no rule, an unknown shape)
            shown = declared.text if declared.unit != 1 else fmt_int(declared.digits)
            out.append(Mismatch(d.target, key, shown, fmt_int(actual), d.line, True))
            continue
        if not declared.matches(actual):
            shown = declared.text if declared.unit != 1 else fmt_int(declared.digits)
            bound = " (an upper bound: data-dependent sizes counted at their caps)" \
                if summary.upper_bound and "params" not in key else ""
            out.append(Mismatch(d.target, key, shown, fmt_int(actual) + bound, d.line))
    return out


def _field_text(text: str) -> str:
    """A declared receptive field, normalised as fmt_field writes it: '14x14/2x2' -> '14/2'."""
    text = text.strip()
    if text in ("-", "none", "None"):
        return "-"
    size, _, stride = text.partition("/")

    def side(part: str) -> str:
        values = [v.strip() for v in part.split("x")]
        return values[0] if len(set(values)) == 1 else "x".join(values)

    return f"{side(size)}/{side(stride)}"


def quote(summary: Summary, target: str, key: str) -> str:
    """A figure as the tables print it (``C3``, ``params`` -> ``1,516``), for prose that quotes
    it. Raises KeyError for a layer the model does not have, DeclarationError for a key."""
    key = key.strip().lower().replace("-", "_")
    if key not in KEYS:
        raise DeclarationError(f"unknown key {key!r} (known: {', '.join(KEYS)})")
    if target.lower() == "total":
        if not hasattr(summary.totals, key):
            what = {"output": "output shape", "output_shape": "output shape",
                    "receptive_field": "receptive field"}.get(key, key)
            raise DeclarationError(f"total has no {what}; quote a layer's")
        return fmt_int(getattr(summary.totals, key))
    layer = summary.layer(target)
    if key in SHAPE_KEYS:
        return layer_shape(layer)
    if key in FIELD_KEYS:
        return fmt_field(layer.receptive_field)
    if not hasattr(layer, key):
        raise DeclarationError(f"{key} is a figure of the totals, not of a layer")
    return fmt_int(getattr(layer, key))


@dataclass(frozen=True)
class Reference:
    """What a ``cnncount`` role quotes: ``MODEL[@DEPTH]:LAYER.KEY``."""

    model: str  # the path as written
    depth: int | None  # the depth written after ``@``, else None (the default depth)
    target: str  # a layer name or ``total``
    key: str  # normalised: lower case, ``_`` for ``-``


def parse_reference(text: str) -> Reference:
    """A role's text, as the Sphinx role and ``cnncount lint --docs`` both read it; a
    DeclarationError says what is wrong with it."""
    path_text, colon, ref = text.rpartition(":")
    target, dot, key = ref.strip().rpartition(".")
    key = key.lower().replace("-", "_")
    head, at, depth_text = path_text.rpartition("@")
    explicit = bool(at and head.strip() and depth_text.strip().isdigit())
    if explicit:
        path_text = head
    if not (colon and path_text.strip() and dot and target):
        raise DeclarationError(f"expected MODEL:LAYER.KEY or MODEL@DEPTH:LAYER.KEY (e.g. "
                               f"lenet5.onnx:C3.params), got {text!r}")
    if key not in KEYS:
        raise DeclarationError(f"unknown key {key!r} in {text!r} (known: {', '.join(KEYS)})")
    return Reference(path_text.strip(), int(depth_text) if explicit else None, target, key)


def reference_depths(ref: Reference, default: int) -> list[int]:
    """The depths to look the quoted layer up at, in order: the one written after ``@``; else
    the default, then (for a dotted module path) the depth the path names, one level a part."""
    if ref.depth is not None:
        return [ref.depth]
    named = ref.target.count(".") + 1
    if ref.target.lower() == "total" or named == default:
        return [default]
    return [default, named]


def has_layer(summary: Summary, name: str) -> bool:
    try:
        summary.layer(name)
    except KeyError:
        return False
    return True
