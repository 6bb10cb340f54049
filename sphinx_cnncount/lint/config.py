"""``[tool.cnncount]`` in ``pyproject.toml``, found by walking up from the working directory.

```toml
[tool.cnncount]
select = ["ALL"]                  # codes, prefixes (CNC1) or names (floor-drop); default: the
extend-select = ["floor-drop"]    #   rules marked on by default, and these added to them
ignore = ["param-share"]
fail-level = "warning"            # findings at or above this severity exit 1 (default: error)
exclude = [".git", "build"]       # what a directory walk skips (default: DEFAULT_EXCLUDE)
extend-exclude = ["models/old"]   #   and these besides
depth = 1
dims = { batch = 1 }
input-shapes = { image = "1x3x224x224" }

[tool.cnncount.severity]          # override a rule's default severity
floor-drop = "error"

[tool.cnncount.thresholds]
param-share = 0.5

[tool.cnncount.expect]            # model (glob, relative to pyproject.toml) -> expectation file
"models/resnet*.onnx" = "expect/resnet.cnncount.toml"

[tool.cnncount.per-file-ignores]  # model or .rst (glob) -> rules
"examples/keras_cnn.onnx" = ["floor-drop"]
```
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..spelling import parse_input_shapes
from ..textfiles import FileProblem, key_lines, read_text
from .codes import DEFAULT_THRESHOLDS, Rule, Severity

KEYS = frozenset({"select", "extend-select", "ignore", "fail-level", "depth", "dims",
                  "input-shapes", "severity", "thresholds", "expect", "per-file-ignores",
                  "exclude", "extend-exclude"})

# What a walk of a directory for models never enters (names or globs of a file or folder, as
# ruff's ``exclude``): version control, environments, caches, build output. Any folder holding
# a ``pyvenv.cfg`` (a virtual environment of another name) is skipped too.
DEFAULT_EXCLUDE = (".bzr", ".direnv", ".eggs", ".git", ".hg", ".mypy_cache", ".nox", ".pants.d",
                   ".pytest_cache", ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__",
                   "__pycache__", "_build", "buck-out", "build", "dist", "node_modules",
                   "site-packages", "venv")


class ConfigError(ValueError):
    """A ``[tool.cnncount]`` table that cannot be used; str() names the file."""


@dataclass(frozen=True)
class Config:
    """Settings from pyproject.toml; paths in ``expect`` and ``per_file_ignores`` are globs
    relative to ``root``."""

    path: str | None = None
    root: Path = field(default_factory=Path.cwd)
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    fail_level: Severity | None = None
    depth: int | None = None
    dims: dict[str, int] = field(default_factory=dict)
    input_shapes: dict[str, str] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # input_shapes, parsed
    severity: dict[Rule, Severity] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    expect: dict[str, str] = field(default_factory=dict)
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # [tool.cnncount.expect] patterns refused: (pattern, why, line in pyproject.toml)
    refused: tuple[tuple[str, str, int], ...] = ()

    def _matches(self, pattern: str, file: str | os.PathLike[str]) -> bool:
        try:
            rel = Path(os.path.abspath(file)).relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = Path(file).as_posix()
        return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(Path(file).as_posix(), pattern)

    def excluded(self, path: str | os.PathLike[str]) -> bool:
        """Whether a walk skips ``path``: its name matches an exclude pattern, or a pattern
        with a ``/`` matches its path relative to the configuration's folder."""
        name = os.path.basename(os.path.normpath(path))
        for pattern in (*self.exclude, *self.extend_exclude):
            if "/" in pattern.rstrip("/"):
                if self._matches(pattern.rstrip("/"), path):
                    return True
            elif fnmatch.fnmatch(name, pattern.rstrip("/")):
                return True
        return False

    def expectation_for(self, model: str | os.PathLike[str]) -> Path | None:
        for pattern, target in self.expect.items():
            if self._matches(pattern, model):
                return self.root / target
        return None

    def ignored_for(self, file: str | os.PathLike[str]) -> set[Rule]:
        rules: set[Rule] = set()
        for pattern, selectors in self.per_file_ignores.items():
            if self._matches(pattern, file):
                for s in selectors:
                    rules.update(Rule.lookup(s))
        return rules


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.cnncount]`` table."""
    start = (start or Path.cwd()).resolve()
    for d in (start, *start.parents):
        f = d / "pyproject.toml"
        if f.is_file():
            try:
                data = tomllib.loads(read_text(f))
            except (FileProblem, tomllib.TOMLDecodeError):
                continue
            if isinstance(data.get("tool"), dict) and "cnncount" in data["tool"]:
                return f
    return None


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [s for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    for v in value:
        try:
            Rule.lookup(v)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return tuple(v.strip() for v in value)


def _patterns(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a list of file or folder names or globs")
    return tuple(v.strip() for v in value)


def _table(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return value


def _escapes(pattern: str, what: str = "") -> str | None:
    """Why a model pattern (or ``what``, its expectation file) would leave the project it is
    written in (patterns are globbed from the project's root: ``/**`` or ``../../**`` would
    walk the whole disk), or None."""
    subject = f"{what} " if what else ""
    if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).drive or \
            pattern.startswith("\\"):
        return f"{subject}is an absolute path"
    if ".." in PurePosixPath(pattern.replace("\\", "/")).parts:
        return f"{subject}leaves the project's directory"
    return None


def _bindings(w: str, table: dict[str, Any]) -> dict[str, Any]:
    """``dims`` and ``input-shapes``: what binds the models' inputs by default."""
    kw: dict[str, Any] = {}
    dims = _table(f"{w}.dims", table.get("dims", {}))
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63
               for v in dims.values()):
        raise ConfigError(f"{w}.dims values must be positive ints below 2^63")
    kw["dims"] = dict(dims)
    shapes = _table(f"{w}.input-shapes", table.get("input-shapes", {}))
    for k, v in shapes.items():
        if not (isinstance(v, str) or (isinstance(v, list) and v and all(
                isinstance(d, int) and not isinstance(d, bool) for d in v))):
            raise ConfigError(f"{w}.input-shapes.{k} must be a shape: \"1x3x224x224\" or "
                              "[1, 3, 224, 224]")
    kw["input_shapes"] = {k: (v if isinstance(v, str) else "x".join(map(str, v)))
                          for k, v in shapes.items()}
    try:
        kw["shapes"] = parse_input_shapes([f"{k}={v}" for k, v in kw["input_shapes"].items()])
    except ValueError as exc:
        raise ConfigError(f"{w}.input-shapes: {str(exc).removeprefix('--input-shape ')}") \
            from None
    for k, shape in kw["shapes"].items():
        if not all(0 < d < 2**63 for d in shape):
            raise ConfigError(f"{w}.input-shapes.{k}: dims must be positive ints below 2^63")
    return kw


def _expect(w: str, table: dict[str, Any], text: str) -> dict[str, Any]:
    """``[tool.cnncount.expect]``: model patterns and their expectation files; a pattern or
    file that leaves the project is refused, with its line in pyproject.toml."""
    kw: dict[str, Any] = {}
    expect = _table(f"{w}.expect", table.get("expect", {}))
    if not all(isinstance(v, str) for v in expect.values()):
        raise ConfigError(f"{w}.expect values must be paths")
    lines = key_lines(text)
    refused = {p: why for p, v in expect.items()
               if (why := _escapes(p) or _escapes(v, "its expectation file")) is not None}
    kw["expect"] = {p: v for p, v in expect.items() if p not in refused}
    kw["refused"] = tuple((p, why, lines.get(("tool", "cnncount", "expect", p), 0))
                          for p, why in refused.items())
    return kw


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read ``[tool.cnncount]`` from ``path``, or from the nearest pyproject.toml that has one."""
    f = Path(path) if path is not None else find_pyproject()
    if f is None:
        return Config()
    try:
        text = read_text(f)
        data = tomllib.loads(text)
    except FileProblem as exc:
        raise ConfigError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{f}: cannot read: {exc}") from None
    tool = _table(f"{f}: [tool]", data.get("tool", {}))
    w = f"{f}: [tool.cnncount]"
    table = _table(w, tool.get("cnncount", {}))
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise ConfigError(f"{w}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    kw: dict[str, Any] = {"path": str(f), "root": f.parent.resolve()}
    if "select" in table:
        kw["select"] = _strings(f"{w} select", table["select"])
    if "extend-select" in table:
        kw["extend_select"] = _strings(f"{w} extend-select", table["extend-select"])
    if "ignore" in table:
        kw["ignore"] = _strings(f"{w} ignore", table["ignore"])
    for key in ("exclude", "extend-exclude"):
        if key in table:
            kw[key.replace("-", "_")] = _patterns(f"{w} {key}", table[key])
    try:
        if "fail-level" in table:
            kw["fail_level"] = Severity.parse(table["fail-level"])
        kw["severity"] = {
            rule: Severity.parse(level)
            for key, level in _table(f"{w}.severity", table.get("severity", {})).items()
            for rule in Rule.lookup(key)
        }
    except ValueError as exc:
        raise ConfigError(f"{w}: {exc}") from None
    if "depth" in table:
        depth = table["depth"]
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ConfigError(f"{w} depth must be an int >= 1")
        kw["depth"] = depth
    kw.update(_bindings(w, table))
    thresholds = dict(DEFAULT_THRESHOLDS)
    for key, value in _table(f"{w}.thresholds", table.get("thresholds", {})).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ConfigError(f"{w}.thresholds: unknown threshold {key!r} "
                              f"(known: {', '.join(DEFAULT_THRESHOLDS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ConfigError(f"{w}.thresholds.{key} must be a number in (0, 1]")
        thresholds[key] = float(value)
    kw["thresholds"] = thresholds
    kw.update(_expect(w, table, text))
    kw["per_file_ignores"] = {
        pattern: _strings(f"{w}.per-file-ignores {pattern!r}", rules)
        for pattern, rules in _table(f"{w}.per-file-ignores",
                                     table.get("per-file-ignores", {})).items()
    }
    return Config(**kw)
