"""Expectation files: ``MODEL.cnncount.toml``, the numbers a model is declared to have.

```toml
depth = 1                  # optional: the layer depth the names below refer to
[total]
params = 60840
macs = "326k"              # an SI suffix matches to the precision written
[layers.C3]
params = 1516
output_shape = "16@10x10"  # or "16x10x10", or [16, 10, 10]; batch omitted
op_types = ["Gather", "Conv", "Concat", "Mul", "Tanh"]
```

Every key of the JSON layer record can be declared. The check itself is :func:`declare.check`,
shared with the Sphinx directive; this module adds the TOML reading and the line numbers.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..summary import Summary
from ..textfiles import FileProblem, key_lines, line_of, read_text
from ..declare import (KEYS, NUMBER_KEYS, SHAPE_KEYS, Declaration, DeclarationError, Mismatch,
                       check, parse_number, parse_shape)
from .rules import Finding, Rule

LIST_KEYS = ("op_types", "nodes")  # compared as exact lists; not in declare.KEYS
SUFFIX = ".cnncount.toml"


class ExpectError(ValueError):
    """An expectation file, or a declaration in it, that cannot be used; str() is
    ``path[:line]: what``, and ``path``, ``line`` (0: the whole file) and ``reason`` are kept
    for the finding lint reports it as."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}" if line else f"{path}: {reason}")
        self.path, self.line, self.reason = path, line, reason


@dataclass(frozen=True)
class Expectations:
    path: str
    declarations: tuple[Declaration, ...]  # .line is the 1-based TOML line, 0 when unknown
    depth: int | None = None
    problems: tuple[ExpectError, ...] = ()  # declarations that cannot be read, each located


def default_path(model: str | os.PathLike[str]) -> Path:
    """``examples/lenet5.onnx`` -> ``examples/lenet5.cnncount.toml``."""
    p = Path(model)
    return p.with_name((p.stem if p.suffix == ".onnx" else p.name) + SUFFIX)


def _value(where: tuple[str, int], key: str, value: Any) -> str | int:
    """A TOML value as declare.check takes it; ``where``: (file, line)."""
    if key in LIST_KEYS:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return "+".join(value)
        raise ExpectError(*where, f"{key} must be a list of strings")
    if isinstance(value, bool) or isinstance(value, float):
        raise ExpectError(*where, f"{key} = {value!r}: write an exact int (60840) or a string "
                                  "with an SI suffix (\"1.81G\")")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value
    if key in SHAPE_KEYS and isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "x".join(str(v) for v in value)
    raise ExpectError(*where, f"{key} = {value!r} is neither a number nor a shape")


def load_expectations(path: str | os.PathLike[str]) -> Expectations:
    """Read and validate an expectation file, keeping each declaration's line."""
    shown = os.fspath(path)
    try:
        text = read_text(path)
    except FileProblem as exc:
        reason = str(exc).removeprefix(f"{shown}: ")
        raise ExpectError(shown, 0, "no such expectation file" if reason == "no such file"
                          else reason) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectError(shown, getattr(exc, "lineno", 0) or 0, f"not valid TOML: {exc}") from None
    lines = key_lines(text)
    unknown = set(data) - {"total", "layers", "depth"}
    if unknown:
        key = sorted(unknown)[0]
        raise ExpectError(shown, line_of(lines, (key,)), f"unknown table or key {key!r} "
                          "(expected [total], [layers.NAME] and depth)")
    depth = data.get("depth")
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ExpectError(shown, line_of(lines, ("depth",)), "depth must be an int >= 1")
    tables: list[tuple[str, tuple[str, ...], Any]] = []
    if "total" in data:
        tables.append(("total", ("total",), data["total"]))
    layers = data.get("layers", {})
    if not isinstance(layers, dict):
        raise ExpectError(shown, line_of(lines, ("layers",)), "layers must be a table of "
                          "[layers.NAME] tables")
    tables.extend((name, ("layers", name), rec) for name, rec in layers.items())
    decls: list[Declaration] = []
    problems: list[ExpectError] = []  # a bad declaration hides none of the others
    for target, where_path, record in tables:
        if not isinstance(record, dict):
            problems.append(ExpectError(shown, line_of(lines, where_path),
                                        f"{'.'.join(where_path)} must be a table"))
            continue
        for key, value in record.items():
            line = line_of(lines, where_path + (key,))
            try:
                if isinstance(value, dict):  # [layers.layer1.0] is the table "0" in "layer1"
                    raise ExpectError(shown, line, f"[layers.{target}.{key}] is a table inside "
                                      f"[layers.{target}]; quote a layer name with a dot: "
                                      f"[layers.\"{target}.{key}\"]")
                norm = key.strip().lower().replace("-", "_")
                d = Declaration(target, norm, _value((shown, line), norm, value), line)
                problem = validate(d, KEYS + LIST_KEYS)
                if problem:
                    raise ExpectError(shown, line, problem)
            except ExpectError as exc:
                problems.append(exc)
                continue
            decls.append(d)
    return Expectations(shown, tuple(decls), depth, tuple(problems))


def validate(d: Declaration, keys: tuple[str, ...] = KEYS) -> str | None:
    """What is wrong with a declaration's key or value, or None."""
    key = d.key.strip().lower().replace("-", "_")
    total = d.target.lower() == "total"
    if key not in keys or (total and key not in NUMBER_KEYS):
        allowed = NUMBER_KEYS if total else keys
        return f"{d.target}: unknown key {d.key!r} (known: {', '.join(allowed)})"
    try:
        if key in NUMBER_KEYS:
            parse_number(d.value)
        elif key in SHAPE_KEYS:
            parse_shape(d.value)  # type: ignore[arg-type]
    except DeclarationError as exc:
        return f"{d.target}: {key}: {exc}"
    return None


def check_declarations(summary: Summary, decls: list[Declaration] | tuple[Declaration, ...],
                       model: str, file: str) -> list[Finding]:
    """The findings for declarations that do not hold; ``Declaration.line`` is a line of ``file``.

    Raises DeclarationError for a value that cannot be read.
    """
    numeric = [d for d in decls if d.key not in LIST_KEYS]
    mismatches = check(summary, numeric)
    missing = {m.target for m in mismatches if m.actual is None}
    layers = {layer.name: layer for layer in summary.layers}
    for d in decls:
        if d.key not in LIST_KEYS:
            continue
        if d.target not in layers:
            if d.target not in missing:
                missing.add(d.target)
                mismatches.append(Mismatch(d.target, d.key, str(d.value), None, d.line))
            continue
        declared = [s.strip() for s in str(d.value).split("+") if s.strip()]
        actual = list(getattr(layers[d.target], d.key))
        if declared != actual:
            mismatches.append(Mismatch(d.target, d.key, "+".join(declared), "+".join(actual),
                                       d.line))
    mismatches.sort(key=lambda m: m.line)
    name = os.path.basename(model)
    out = []
    for m in mismatches:
        if m.actual is None:
            known = ", ".join(layer.name for layer in summary.layers[:12])
            more = ", ..." if len(summary.layers) > 12 else ""
            out.append(Finding(Rule.UNKNOWN_LAYER,
                               f"{name}: {m.target}: declared layer does not exist in the model "
                               f"(its layers: {known}{more})",
                               model, file, m.line or None, m.target, declared=m.declared))
        else:
            rule = Rule.UNCHECKED_DECLARATION if m.unchecked else Rule.DECLARED_MISMATCH
            out.append(Finding(rule, f"{name}: {m.message}", model, file, m.line or None,
                               m.target, declared=m.declared, actual=m.actual))
    return out


def check_expectations(summary: Summary, exp: Expectations, model: str) -> list[Finding]:
    """Findings for an expectation file; a value declare cannot read is an ExpectError."""
    try:
        return check_declarations(summary, exp.declarations, model, exp.path)
    except DeclarationError as exc:
        raise ExpectError(exp.path, 0, str(exc)) from None
