"""``cnncount diff OLD NEW``: per-layer and total changes between two models, and budgets."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..summary import Layer, Summary
from .. import escape
from ..escape import name as shown_name
from ..escape import printable
from ..declare import SI
from ..render import fmt_int, layer_shape, layer_type

NUMBER_KEYS = ("params", "trainable_params", "non_trainable_params", "connections", "macs",
               "flops")
SHOWN_KEYS = ("type", "output", *NUMBER_KEYS)  # the order a changed layer lists its changes


@dataclass(frozen=True)
class LayerChange:
    """One layer's fate: added, removed, changed or unchanged (matched by name)."""

    name: str
    status: str
    old: Layer | None
    new: Layer | None

    def changes(self) -> list[tuple[str, str, str]]:
        """(key, old, new) display strings of what differs."""
        if self.old is None or self.new is None:
            return []
        out = []
        split = self.old.non_trainable_params or self.new.non_trainable_params
        for key in SHOWN_KEYS:
            if not split and key in ("trainable_params", "non_trainable_params"):
                continue  # all params trainable on both sides: the split repeats params
            a, b = _shown(self.old, key), _shown(self.new, key)
            if a != b:
                out.append((key, a, b))
        return out


def _shown(layer: Layer, key: str) -> str:
    if key == "type":
        return layer_type(layer)
    if key == "output":
        return layer_shape(layer)
    return fmt_int(getattr(layer, key))


def diff_layers(old: Summary, new: Summary) -> list[LayerChange]:
    """Layers of both models, in the new model's order, each removed layer after the layer that
    preceded it in the old model (itself removed, or kept)."""
    news = {layer.name for layer in new.layers}
    olds = {layer.name: layer for layer in old.layers}
    # The removed layer that follows each old layer (None: the first), a chain per kept layer.
    follower: dict[str | None, Layer] = {}
    prev: str | None = None
    for layer in old.layers:
        if layer.name not in news:
            follower[prev] = layer
        prev = layer.name
    out: list[LayerChange] = []

    def removed_after(anchor: str | None) -> None:
        while (removed := follower.get(anchor)) is not None:
            out.append(LayerChange(removed.name, "removed", removed, None))
            anchor = removed.name

    removed_after(None)
    for layer in new.layers:
        before = olds.get(layer.name)
        if before is None:
            out.append(LayerChange(layer.name, "added", None, layer))
        else:
            ch = LayerChange(layer.name, "changed", before, layer)
            out.append(ch if ch.changes() else LayerChange(layer.name, "unchanged", before, layer))
        removed_after(layer.name)
    return out


@dataclass(frozen=True)
class Budget:
    """How much a total may grow: ``params=+5%`` (of the old total) or ``macs=+1M`` (absolute)."""

    key: str
    amount: Fraction
    percent: bool
    text: str

    def allowance(self, old: int) -> Fraction:
        return old * self.amount / 100 if self.percent else self.amount

    def exceeded(self, old: int, new: int) -> bool:
        return new - old > self.allowance(old)


_BUDGET = re.compile(r"^([A-Za-z_-]+)=\+?(\d+(?:\.\d+)?)([kKMGT]?)(%?)$")  # on a spaceless spec


def parse_budgets(specs: Sequence[str]) -> list[Budget]:
    """``["params=+5%,macs=+10%"]`` -> budgets; a ValueError says what is wrong."""
    out = []
    for spec in specs:
        for part in (p for p in spec.split(",") if p.strip()):
            m = _BUDGET.match(re.sub(r"\s+", "", part))
            if not m or (m.group(3) and m.group(4)):
                raise ValueError(f"--fail-on expects KEY=+N%, KEY=+N or KEY=+1.5M, got {part!r}")
            key = m.group(1).lower().replace("-", "_")
            if key not in NUMBER_KEYS:
                raise ValueError(f"--fail-on: unknown key {m.group(1)!r} "
                                 f"(known: {', '.join(NUMBER_KEYS)})")
            amount = Fraction(Decimal(m.group(2))) * SI.get(m.group(3), 1)
            out.append(Budget(key, amount, bool(m.group(4)), part.strip()))
    return out


@dataclass(frozen=True)
class Diff:
    """Two models compared: their layers and totals, and which budgets they break."""

    old_path: str
    new_path: str
    old: Summary
    new: Summary
    layers: tuple[LayerChange, ...]
    budgets: tuple[Budget, ...] = ()

    @property
    def exceeded(self) -> list[Budget]:
        return [b for b in self.budgets if (pair := self.total(b.key)) is not None
                and b.exceeded(*pair)]

    @property
    def unchecked(self) -> list[Budget]:
        """Budgets on a total one of the models could not count: they fail, said as such."""
        return [b for b in self.budgets if self.total(b.key) is None]

    def total(self, key: str) -> tuple[int, int] | None:
        a, b = getattr(self.old.totals, key), getattr(self.new.totals, key)
        return None if a is None or b is None else (a, b)

    def to_json(self) -> dict[str, Any]:
        def record(layer: Layer | None) -> dict[str, Any] | None:
            if layer is None:
                return None
            shape = None if layer.output_shape is None else list(layer.output_shape)
            return {"type": layer_type(layer), "output_shape": shape,
                    **{k: getattr(layer, k) for k in NUMBER_KEYS}}

        return {
            "old": self.old_path,
            "new": self.new_path,
            "layers": [{
                "name": c.name, "status": c.status, "old": record(c.old), "new": record(c.new),
                "delta": {k: _delta(getattr(c.old, k), getattr(c.new, k)) for k in NUMBER_KEYS}
                if c.old is not None and c.new is not None else None,
            } for c in self.layers],
            "totals": {k: {"old": getattr(self.old.totals, k), "new": getattr(self.new.totals, k),
                           "delta": _delta(getattr(self.old.totals, k),
                                           getattr(self.new.totals, k))}
                       for k in NUMBER_KEYS},
            "budgets": [{
                "key": b.key, "budget": b.text,
                "allowance": None if (pair := self.total(b.key)) is None
                else _exact(b.allowance(pair[0])),
                "delta": None if pair is None else pair[1] - pair[0],
                "exceeded": b in self.exceeded,
                "checked": pair is not None,  # a total not counted cannot be checked: it fails
            } for b in self.budgets],
        }


def _delta(old: int | None, new: int | None) -> int | None:
    return None if old is None or new is None else new - old


def _exact(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


def diff(old_path: str, new_path: str, old: Summary, new: Summary,
         budgets: Sequence[Budget] = ()) -> Diff:
    return Diff(old_path, new_path, old, new, tuple(diff_layers(old, new)), tuple(budgets))


def _signed(n: int | None) -> str:
    if n is None:
        return "?"
    return f"+{fmt_int(n)}" if n > 0 else fmt_int(n)


def _percent(old: int | None, new: int | None) -> str:
    if old is None or new is None:
        return "?"
    if old == 0:
        return "new" if new else "0.00%"
    return f"{float(Fraction(new - old, old) * 100):+.2f}%"


HEADER = ("Layer", "Metric", "Old", "New", "Change", "%")
NUMERIC = (False, False, True, True, True, True)  # right-aligned columns
TOTAL_KEYS = ("params", "connections", "macs", "flops")
LAYER_KEYS = ("params", "macs")  # what an added or removed layer's rows show


def rows(d: Diff) -> list[tuple[str, str, str, str, str, str]]:
    """The table both formats show: one row per changed figure of a changed layer, a layer row
    and its params and MACs (those not 0) for an added or removed one, then the totals. Cells are plain text
    (names not yet escaped for the format)."""
    out: list[tuple[str, str, str, str, str, str]] = []
    for c in d.layers:
        if c.status == "added" and c.new is not None:
            out.append((c.name, "layer", "", _layer_text(c.new), "added", ""))
            out += [(c.name, k, "", fmt_int(n), _signed(n), "?" if n is None else "new")
                    for k in LAYER_KEYS if (n := getattr(c.new, k)) != 0]
        elif c.status == "removed" and c.old is not None:
            out.append((c.name, "layer", _layer_text(c.old), "", "removed", ""))
            out += [(c.name, k, fmt_int(n), "", _signed(None if n is None else -n),
                     "?" if n is None else "-100.00%")
                    for k in LAYER_KEYS if (n := getattr(c.old, k)) != 0]
        elif c.status == "changed" and c.old is not None and c.new is not None:
            for key, a, b in c.changes():
                if key in NUMBER_KEYS:
                    x, y = getattr(c.old, key), getattr(c.new, key)
                    out.append((c.name, key, a, b, _signed(_delta(x, y)), _percent(x, y)))
                else:
                    out.append((c.name, key, a, b, "", ""))
    for key in TOTAL_KEYS:
        x, y = getattr(d.old.totals, key), getattr(d.new.totals, key)
        out.append(("Total", key, fmt_int(x), fmt_int(y), _signed(_delta(x, y)), _percent(x, y)))
    return out


def _layer_text(layer: Layer) -> str:
    return f"{layer_type(layer)} {layer_shape(layer)}"


def _footer(d: Diff) -> list[str]:
    unchanged = sum(1 for c in d.layers if c.status == "unchanged")
    out = [f"{unchanged} layer{'s' if unchanged != 1 else ''} unchanged."] if unchanged else []
    for b in d.exceeded:
        a, n = d.total(b.key)  # type: ignore[misc]
        allowed = math.floor(b.allowance(a))  # deltas are whole: > x iff > floor(x)
        out.append(f"Budget exceeded: {b.key} grew by {_signed(n - a)} ({_percent(a, n)}), "
                   f"more than {b.text} allows ({_signed(allowed)}).")
    for b in d.unchecked:
        missing = [side for side, summary in (("old", d.old), ("new", d.new))
                   if getattr(summary.totals, b.key) is None]
        out.append(f"Budget not checked: {b.key} could not be counted in the "
                   f"{' and '.join(missing)} model{'s' if len(missing) > 1 else ''} "
                   f"({b.text}); a budget not checked fails.")
    return out


def text(d: Diff) -> str:
    """An aligned table (layer, metric, old, new, change, %) of what changed and the totals,
    then the unchanged count and any budget exceeded."""
    table = [HEADER, *((shown_name(r[0]), r[1], *map(shown_name, r[2:4]), r[4], r[5])
                       for r in rows(d))]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if right else c.ljust(w)
                         for c, w, right in zip(cells, widths, NUMERIC, strict=True)).rstrip()

    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line(r) for r in table[1:]]
    n_totals = len(TOTAL_KEYS)
    out = [printable(f"{d.old_path} -> {d.new_path}"), rule, line(HEADER), rule,
           *body[:-n_totals], *([rule] if len(body) > n_totals else []), *body[-n_totals:], rule,
           *_footer(d)]
    return "\n".join(out) + "\n"


def markdown(d: Diff) -> str:
    """The same table as GitHub-flavoured markdown, for a pull request comment."""
    out = [f"**{escape.markdown(d.old_path)}** → **{escape.markdown(d.new_path)}**", "",
           "| " + " | ".join(HEADER) + " |",
           "| " + " | ".join("---:" if right else ":---" for right in NUMERIC) + " |"]
    for r in rows(d):
        cells = [escape.markdown(c) for c in r]
        if r[0] == "Total":
            cells[0] = "**Total**"
        out.append("| " + " | ".join(cells) + " |")
    footer = _footer(d)
    return "\n".join([*out, *([""] if footer else []), *footer]) + "\n"


def as_json(d: Diff) -> str:
    return json.dumps(d.to_json(), indent=2) + "\n"
