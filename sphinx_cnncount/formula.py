"""Cost as a formula of the input size: params, MACs, FLOPs and activation bytes as exact
polynomials in the model's free symbols (``cnncount summary --symbolic``).

Derived, never fitted: the model is counted at integer bindings of its free symbols (each a
multiple of the stride its output units step by on that axis, so that every floor of a window
is exact), the degree in each symbol read off finite differences, the polynomial solved for
exactly (rational arithmetic) on a grid of bindings, then checked at bindings off the grid. A
metric that is no polynomial there (a quasi-polynomial of ceil divisions, a count that is
unknown) gets no formula, and says why.

Sits after ``count``: it loads and counts the model at each binding, as a user would.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import product
from math import lcm

from .count import count
from .load import LoadedModel, WindowError, load
from .read import normalize, read_model, real_inputs
from .shapes import ModelError
from .spelling import PYTHON, Spelling
from .summary import Formula, Summary, Term

__all__ = ["METRICS", "symbolic"]

# The metrics a formula is derived for: a Totals field, and its name in words.
METRICS = {"params": "params", "macs": "MACs", "flops": "FLOPs",
           "activation_bytes": "activation bytes"}

MAX_DEGREE = 4  # per symbol; a count of a higher degree in one input size is no network's
MAX_SIDE_STEPS = 2**20  # the smallest multiple that fits is searched this far


Binding = tuple[int, ...]  # one value per free symbol, in order
Poly = dict[tuple[int, ...], Fraction]  # exponents (one per symbol) -> coefficient


@dataclass(frozen=True)
class _Free:
    """A free symbol: its name, its modulus (the formula holds on its multiples) and the
    first multiple (as a count of moduli) at which the model loads."""

    name: str
    modulus: int
    first: int = 1

    def value(self, step: int) -> int:
        return self.modulus * (self.first + step)


def free_symbols(path: str | os.PathLike[str], dims: Mapping[str, int]) -> list[str]:
    """The symbolic dims of the model's inputs that ``dims`` does not bind, in input order."""
    model, _ = normalize(path, read_model(path))
    found: list[str] = []
    for vi in real_inputs(model.graph):
        if not vi.type.HasField("tensor_type"):
            continue
        for d in vi.type.tensor_type.shape.dim:
            if not d.HasField("dim_value") and d.dim_param and d.dim_param not in dims \
                    and d.dim_param not in found:
                found.append(d.dim_param)
    return found


class _Counter:
    """The model counted at bindings of its free symbols, each binding once."""

    def __init__(self, path: str | os.PathLike[str], names: list[str], dims: Mapping[str, int],
                 kwargs: Mapping[str, object], depth: int) -> None:
        self.path, self.names, self.dims = path, names, dict(dims)
        self.kwargs, self.depth = kwargs, depth
        self.done: dict[Binding, Summary] = {}

    def __call__(self, binding: Binding) -> Summary:
        if binding not in self.done:
            dims = {**self.dims, **dict(zip(self.names, binding, strict=True))}
            self.done[binding] = count(load(self.path, dims, **self.kwargs), self.depth)  # type: ignore
        return self.done[binding]

    def metric(self, binding: Binding, name: str) -> int | None:
        """The metric at ``binding``; None where it is not counted, or where the model does
        not load (a size no run could have: the formula is not checked there)."""
        try:
            return getattr(self(binding).totals, name)
        except ModelError:
            return None


def _moduli(summary: Summary, path: str | os.PathLike[str], names: list[str]) -> list[int]:
    """Each symbol's first modulus: the stride of the output units on its axis of the first
    spatial input (the receptive fields' stride, lcm over the layers), else 1."""
    model, _ = normalize(path, read_model(path))
    inputs = [vi for vi in real_inputs(model.graph) if vi.type.HasField("tensor_type")]
    spatial = next((vi for vi in inputs if len(vi.type.tensor_type.shape.dim) >= 3), None)
    out = []
    for name in names:
        m = 1
        dims = spatial.type.tensor_type.shape.dim if spatial is not None else []
        axes = [k for k, d in enumerate(dims) if d.dim_param == name and k >= 2]
        for layer in summary.layers:
            field = layer.receptive_field
            for k in axes:
                if field is not None and k - 2 < len(field["stride"]):
                    m = lcm(m, field["stride"][k - 2])
        out.append(m)
    return out


def _fits(counter: _Counter, free: list[_Free]) -> bool:
    """Whether every window fits the input at the symbols' first values."""
    try:
        counter(tuple(f.value(0) for f in free))
    except WindowError:
        return False
    return True


def _smallest(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest n in (low, high] that fits, ``high`` fitting and ``low`` not (a window
    that fits an input fits a larger one): bisected."""
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def _first_fit(counter: _Counter, free: list[_Free]) -> list[_Free]:
    """The smallest multiple of each modulus at which every window fits the input: all
    symbols stepped together, doubled until one fits (an audio model's first window may be
    hundreds of samples), then bisected; then each symbol lowered on its own, the others where
    they fit (a batch dim that no window reads goes back to 1)."""

    def together(first: int) -> bool:
        return _fits(counter, [replace(f, first=first) for f in free])

    low, high = 0, 1  # low: known not to fit (0: none tried)
    while not together(high):
        low, high = high, 2 * high
        if high > MAX_SIDE_STEPS:
            raise WindowError(counter.path, "no binding of the free symbols up to "
                              f"{MAX_SIDE_STEPS:,} times their strides fits the model's "
                              "windows")
    free = [replace(f, first=_smallest(together, low, high)) for f in free]
    for i in range(len(free)):
        def alone(first: int, i: int = i) -> bool:
            return _fits(counter, [replace(g, first=first) if j == i else g
                                   for j, g in enumerate(free)])

        free[i] = replace(free[i], first=_smallest(alone, 0, free[i].first))
    return free


def _differences(values: list[int]) -> int | None:
    """The degree of the sequence (its finite differences of the next two orders vanish),
    or None when the points do not show one."""
    table = [list(values)]
    while len(table[-1]) > 1:
        row = table[-1]
        table.append([b - a for a, b in zip(row, row[1:])])
    for degree, row in enumerate(table):
        rest = table[degree + 1:degree + 3]
        if len(rest) == 2 and all(not any(r) for r in rest):
            return degree
    return None


def _degrees(counter: _Counter, free: list[_Free], metric: str) -> list[int] | None:
    """The degree of ``metric`` in each symbol, the others at their first value."""
    degrees = []
    for i in range(len(free)):
        values: list[int] = []
        for step in range(MAX_DEGREE + 3):
            binding = tuple(f.value(step if j == i else 0) for j, f in enumerate(free))
            v = counter.metric(binding, metric)
            if v is None:
                return None
            values.append(v)
            if step >= 3 and (d := _differences(values)) is not None:
                degrees.append(d)
                break
        else:
            return None
    return degrees


def _solve(rows: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gaussian elimination over the rationals (exact; numpy's solvers are floating point)."""
    n = len(rows)
    a = [row[:] + [b] for row, b in zip(rows, rhs, strict=True)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def _interpolate(counter: _Counter, free: list[_Free], degrees: list[int],
                 metric: str) -> Poly | None:
    """The polynomial of degree ``degrees`` through the grid of bindings; None when the metric
    is not counted at one of them."""
    monomials = list(product(*(range(d + 1) for d in degrees)))
    rows, rhs = [], []
    for steps in monomials:  # as many grid points as monomials: the grid (0..d) per symbol
        binding = tuple(f.value(s) for f, s in zip(free, steps, strict=True))
        v = counter.metric(binding, metric)
        if v is None:
            return None
        rows.append([Fraction(_power(binding, e)) for e in monomials])
        rhs.append(Fraction(v))
    coefficients = _solve(rows, rhs)
    return {e: c for e, c in zip(monomials, coefficients, strict=True) if c}


def _power(binding: Binding, exponents: tuple[int, ...]) -> int:
    out = 1
    for x, e in zip(binding, exponents, strict=True):
        out *= x ** e
    return out


def _holds(poly: Poly, counter: _Counter, free: list[_Free], degrees: list[int],
           metric: str) -> bool:
    """The polynomial checked at bindings off the interpolation grid: two beside it, two at
    twice and four times its scale, and two 61 and 257 steps on (a stride the moduli missed,
    such as audio framed by a Conv after a Reshape, makes a staircase that is flat for many
    steps near the grid)."""
    for extra, scale in ((1, 0), (2, 0), (1, 2), (3, 4), (61, 0), (257, 0)):
        binding = tuple(f.value(d + extra + i + scale * (f.first + d)) for i, (f, d) in
                        enumerate(zip(free, degrees, strict=True)))
        actual = counter.metric(binding, metric)
        if actual is None or actual != sum(c * _power(binding, e) for e, c in poly.items()):
            return False
    return True


def _terms(poly: Poly, names: list[str]) -> tuple[Term, ...]:
    """The polynomial's terms, highest degree first, coefficients exact (int when whole)."""
    order = sorted(poly, key=lambda e: (-sum(e), [-x for x in e]))
    return tuple(Term(int(poly[e]) if poly[e].denominator == 1 else poly[e],
                      tuple((n, p) for n, p in zip(names, e, strict=True) if p))
                 for e in order)


def _derive(counter: _Counter, free: list[_Free], metric: str) -> Poly | None:
    degrees = _degrees(counter, free, metric)
    if degrees is None:
        return None
    poly = _interpolate(counter, free, degrees, metric)
    if poly is None or not _holds(poly, counter, free, degrees, metric):
        return None
    return poly


def _conditions(free: list[_Free]) -> tuple[str, ...]:
    """``H and W multiples of 32``, ``H >= 64``: where the formulas hold."""
    out: list[str] = []
    by_modulus: dict[int, list[str]] = {}
    for f in free:
        if f.modulus > 1:
            by_modulus.setdefault(f.modulus, []).append(f.name)
    for m, names in sorted(by_modulus.items()):
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
        out.append(f"{who} {'a multiple' if len(names) == 1 else 'multiples'} of {m}")
    out += [f"{f.name} >= {f.value(0)}" for f in free if f.value(0) > f.modulus]
    return tuple(out)


def symbolic(path: str | os.PathLike[str], dims: Mapping[str, int] | None = None,
             depth: int = 1, flags: Spelling = PYTHON, attempts: int = 3,
             finish: Callable[[LoadedModel, Summary], Summary] | None = None,
             **kwargs: object) -> Summary:
    """The summary at the first binding of the free symbols, with ``formulas`` (and
    ``formula_conditions``) in them; ``dims`` binds the symbols that are not to be free.
    ``finish``: what to add to the summary at that binding (the conventions' figures)."""
    dims = dict(dims or {})
    names = free_symbols(path, dims)
    kwargs = {"flags": flags, **kwargs}
    counter = _Counter(path, names, dims, kwargs, depth)
    if not names:
        base = _finish(counter, (), finish)
        return _with(base, {m: _constant(base, m) for m in METRICS}, (), {})
    free = _first_fit(counter, [_Free(n, 1) for n in names])
    moduli = _moduli(counter(tuple(f.value(0) for f in free)), path, names)
    formulas: dict[str, tuple[Term, ...] | None] = {}
    used = None  # the bindings of the last attempt that found a formula: they hold there
    for attempt in range(attempts):  # a modulus too small for some metric: twice as large
        free = _first_fit(counter, [_Free(n, m) for n, m in zip(names, moduli, strict=True)])
        used = free if attempt == 0 else used
        for metric in METRICS:
            if formulas.get(metric) is None:
                poly = _derive(counter, free, metric)
                formulas[metric] = None if poly is None else _terms(poly, names)
                used = free if poly is not None else used
        if all(formulas.values()):
            break
        moduli = [2 * m for m in moduli]
    free = used
    base = _finish(counter, tuple(f.value(0) for f in free), finish)
    return _with(base, formulas, _conditions(free), {f.name: f.value(0) for f in free})


def _finish(counter: _Counter, binding: Binding,
            finish: Callable[[LoadedModel, Summary], Summary] | None) -> Summary:
    """The summary at ``binding``, with what ``finish`` adds (it reads the loaded model)."""
    if finish is None:
        return counter(binding)
    dims = {**counter.dims, **dict(zip(counter.names, binding, strict=True))}
    loaded = load(counter.path, dims, **counter.kwargs)  # type: ignore[arg-type]
    return finish(loaded, count(loaded, counter.depth))


def _constant(summary: Summary, metric: str) -> tuple[Term, ...] | None:
    value = getattr(summary.totals, metric)
    return None if value is None else ((Term(value, ()),) if value else ())


def _with(base: Summary, formulas: Mapping[str, tuple[Term, ...] | None],
          conditions: tuple[str, ...], reference: dict[str, int]) -> Summary:
    """``base`` with the formulas, their conditions, and notes on what had none."""
    found = tuple(Formula(m, terms) for m, terms in formulas.items() if terms is not None)
    missing = [METRICS[m] for m, terms in formulas.items() if terms is None]
    notes = base.notes
    if reference:
        at = ", ".join(f"{k}={v}" for k, v in reference.items())
        notes += (f"note: the table is at {at}; the formulas hold for "
                  + ("; ".join(conditions) if conditions else "every binding"),)
    if missing:
        notes += (f"note: no polynomial formula for {', '.join(missing)} (not a polynomial of "
                  "the free symbols where they were counted, or not counted)",)
    return replace(base, formulas=found, formula_conditions=conditions, notes=notes)

