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

from ..count import Layer, Summary
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
        return [b for b in self.budgets
                if b.exceeded(getattr(self.old.totals, b.key), getattr(self.new.totals, b.key))]

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
                "delta": {k: getattr(c.new, k) - getattr(c.old, k) for k in NUMBER_KEYS}
                if c.old is not None and c.new is not None else None,
            } for c in self.layers],
            "totals": {k: {"old": getattr(self.old.totals, k), "new": getattr(self.new.totals, k),
                           "delta": getattr(self.new.totals, k) - getattr(self.old.totals, k)}
                       for k in NUMBER_KEYS},
            "budgets": [{
                "key": b.key, "budget": b.text,
                "allowance": _exact(b.allowance(getattr(self.old.totals, b.key))),
                "delta": getattr(self.new.totals, b.key) - getattr(self.old.totals, b.key),
                "exceeded": b in self.exceeded,
            } for b in self.budgets],
        }


def _exact(x: Fraction) -> int | float:
    return int(x) if x.denominator == 1 else float(x)


def diff(old_path: str, new_path: str, old: Summary, new: Summary,
         budgets: Sequence[Budget] = ()) -> Diff:
    return Diff(old_path, new_path, old, new, tuple(diff_layers(old, new)), tuple(budgets))


def _signed(n: int) -> str:
    return f"+{fmt_int(n)}" if n > 0 else fmt_int(n)


def _percent(old: int, new: int) -> str:
    if old == 0:
        return "new" if new else "0%"
    return f"{float(Fraction(new - old, old) * 100):+.2f}%"


def _layer_text(layer: Layer) -> str:
    return "; ".join([f"{shown_name(layer_type(layer))} {layer_shape(layer)}",
                      *(f"{k} {fmt_int(getattr(layer, k))}" for k in ("params", "macs"))])


def text(d: Diff) -> str:
    """``~ name: key old -> new (+delta)`` per changed layer, ``+``/``-`` per added/removed layer,
    then the totals and any budget exceeded."""
    out = [printable(f"{d.old_path} -> {d.new_path}")]
    names = {c.name: shown_name(c.name) for c in d.layers if c.status != "unchanged"}
    width = max(map(len, names.values()), default=0)
    unchanged = 0
    for c in d.layers:
        if c.status == "unchanged":
            unchanged += 1
        elif c.status == "added":
            out.append(f"+ {names[c.name]:<{width}}  {_layer_text(c.new)}")  # type: ignore[arg-type]
        elif c.status == "removed":
            out.append(f"- {names[c.name]:<{width}}  {_layer_text(c.old)}")  # type: ignore[arg-type]
        else:
            parts = []
            for key, a, b in c.changes():
                if key in NUMBER_KEYS:
                    delta = getattr(c.new, key) - getattr(c.old, key)
                    parts.append(f"{key} {a} -> {b} ({_signed(delta)})")
                else:
                    parts.append(f"{key} {shown_name(a)} -> {shown_name(b)}")
            out.append(f"~ {names[c.name]:<{width}}  {'; '.join(parts)}")
    if unchanged:
        out.append(f"  ({unchanged} layer{'s' if unchanged != 1 else ''} unchanged)")
    totals = []
    for key in ("params", "connections", "macs", "flops"):
        a, b = getattr(d.old.totals, key), getattr(d.new.totals, key)
        totals.append(f"{key} {fmt_int(a)}" if a == b else
                      f"{key} {fmt_int(a)} -> {fmt_int(b)} ({_signed(b - a)}, {_percent(a, b)})")
    out.append("total: " + "; ".join(totals))
    for b in d.exceeded:
        a, n = getattr(d.old.totals, b.key), getattr(d.new.totals, b.key)
        allowed = math.floor(b.allowance(a))  # deltas are whole: > x iff > floor(x)
        out.append(f"budget exceeded: {b.key} grew by {_signed(n - a)} ({_percent(a, n)}), "
                   f"more than {b.text} allows ({_signed(allowed)})")
    return "\n".join(out) + "\n"


def as_json(d: Diff) -> str:
    return json.dumps(d.to_json(), indent=2) + "\n"
