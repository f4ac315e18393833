"""``--check KEY=VALUE``: is a student's answer right, and if not, which common mistake
produces it?

Each exercise module declares ``MISTAKES``, a tuple of :class:`~dlcalc.core.Mistake`:
small variants of the same exercise (a convention flag flipped, an input changed).  On a
wrong answer the exercise is solved again under each mistake; the first whose value of
that key matches the given one (within the tolerance) is named, with the first step of
the working where it departs from the right one.  Nothing here prints.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any, Sequence

import sympy

from dlcalc.core import Mistake, Solution, Task
from dlcalc.errors import InputError
from dlcalc.parse import parse_value


@dataclass(frozen=True)
class Verdict:
    """The check of one result key.

    Attributes:
        key: the JSON result key checked ("w").
        ok: whether the given value matches the right one within the tolerance.
        expected: the right value (SymPy / list / bool).
        given: the student's value, parsed exactly.
        mistake: the name of the common mistake that reproduces the given value, or None.
        departs_at: the title of the first step where that mistake departs from the right
            working, or None.
    """

    key: str
    ok: bool
    expected: Any
    given: Any
    mistake: str | None = None
    departs_at: str | None = None


def parse_checks(texts: Sequence[str], solution: Solution) -> list[tuple[str, Any]]:
    """``["w=0.98", "b=[1, 2]"]`` -> [(key, parsed value)], keys checked against the result."""
    checkable = [k for k, v in solution.result.items()
                 if not (isinstance(v, (list, tuple)) and v and isinstance(v[0], dict))]
    out = []
    for text in texts:
        key, eq, value = text.partition("=")
        key = key.strip()
        if not eq or not key or not value.strip():
            raise InputError("--check", f"must be KEY=VALUE, got {text[:40]!r}")
        if key not in checkable:
            raise InputError("--check", f"has the unknown key {key[:30]!r}; this command's keys: "
                                        f"{', '.join(checkable)}")
        if value.strip().lower() in ("true", "false"):
            out.append((key, value.strip().lower() == "true"))
        else:
            out.append((key, parse_value(value, "--check")))
    return out


def _flat(x: Any) -> list[Any] | None:
    if isinstance(x, sympy.MatrixBase):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        out: list[Any] = []
        for e in x:
            f = _flat(e)
            if f is None:
                return None
            out.extend(f)
        return out
    return [x]


def _number(x: Any) -> Any:
    if isinstance(x, bool):
        return x
    if isinstance(x, (int, float)):
        return sympy.Float(x) if isinstance(x, float) else sympy.Integer(x)
    return x


def matches(given: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Whether ``given`` equals ``expected`` elementwise within |g − e| ≤ atol + rtol·|e|.

    A symbolic expected value matches a symbolic answer equal to it at random points.
    """
    if isinstance(expected, bool) or isinstance(given, bool):
        return given is expected or (isinstance(expected, sympy.logic.boolalg.BooleanAtom)
                                     and bool(expected) is given)
    g, e = _flat(given), _flat(expected)
    if g is None or e is None or len(g) != len(e):
        return False
    rng = random.Random(0)
    for gi, ei in zip(g, e):
        gi, ei = _number(gi), _number(ei)
        if not isinstance(gi, sympy.Basic) or not isinstance(ei, sympy.Basic):
            return False
        if gi == ei:
            continue
        free = sorted(gi.free_symbols | ei.free_symbols, key=str)
        points = [{s: sympy.Rational(rng.randint(1, 9), rng.randint(1, 7)) for s in free}
                  for _ in range(3)] if free else [{}]
        for point in points:
            a = sympy.N(gi.xreplace(point), 30)
            b = sympy.N(ei.xreplace(point), 30)
            if not (a.is_number and b.is_number) or a.has(sympy.nan, sympy.zoo, sympy.oo):
                return False
            if not bool(sympy.Abs(a - b) <= atol + rtol * sympy.Abs(b)):
                return False
    return True


def _distance(given: Any, value: Any) -> float:
    """The largest relative difference between two numeric values of the same shape."""
    worst = 0.0
    for gi, vi in zip(_flat(given) or [], _flat(value) or []):
        try:
            g, v = float(_number(gi)), float(_number(vi))
        except (TypeError, ValueError):
            return float("inf")
        worst = max(worst, abs(g - v) / max(abs(v), 1e-300))
    return worst


def _departure(right: Solution, wrong: Solution) -> str | None:
    """The first step where the mistaken working differs from the right one."""
    for a, b in zip(right.steps, wrong.steps):
        label = f"{a.section}: {a.title}" if a.section else a.title
        if a.title != b.title:
            return label
        if a.value is None and b.value is None:
            continue
        try:
            same = matches(b.value, a.value, 1e-12, 1e-300)
        except Exception:  # a step value that cannot be compared counts as a difference
            same = False
        if not same:
            return label
    return None


def check(task: Task, solution: Solution, given: Sequence[tuple[str, Any]], *,
          rtol: float, atol: float) -> tuple[Verdict, ...]:
    """Verdicts for each (key, value) given, naming the mistake behind a wrong value."""
    mistakes: Sequence[Mistake] = getattr(sys.modules.get(task.solve.__module__), "MISTAKES", ())
    variants: dict[str, Solution | None] = {}

    def variant(m: Mistake) -> Solution | None:
        if m.name not in variants:
            changes = m.overrides(task.kwargs)
            try:
                variants[m.name] = None if changes is None else task.run(**changes)
            except InputError:
                variants[m.name] = None
        return variants[m.name]

    verdicts = []
    for key, value in given:
        expected = solution.result[key]
        if matches(value, expected, rtol, atol):
            verdicts.append(Verdict(key, True, expected, value))
            continue
        candidates = []
        for m in mistakes:
            wrong = variant(m)
            if wrong is not None and key in wrong.result and \
                    not matches(wrong.result[key], expected, rtol, atol) and \
                    matches(value, wrong.result[key], rtol, atol):
                candidates.append((_distance(value, wrong.result[key]), m, wrong))
        if candidates:  # several mistakes within the tolerance: the closest one explains it best
            _, m, wrong = min(candidates, key=lambda c: c[0])
            verdicts.append(Verdict(key, False, expected, value, m.name, _departure(solution, wrong)))
        else:
            verdicts.append(Verdict(key, False, expected, value))
    return tuple(verdicts)
