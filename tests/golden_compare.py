"""Comparing a command's JSON result with an oracle's expected values."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

ATOL = 1e-15


def close(actual: Any, expected: Any, rtol: float, path: str = "", atol: float = ATOL) -> list[str]:
    """Differences between ``actual`` and ``expected`` (empty when they agree).

    Lists of records compare only the keys the oracle gives; a one-element list and a
    scalar are the same value (one batch-norm feature may be reported either way).
    """
    actual = list(actual) if isinstance(actual, tuple) else actual
    expected = list(expected) if isinstance(expected, tuple) else expected
    if expected is None or actual is None:  # a masked attention score is null
        return [] if actual is expected else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(expected, bool) or isinstance(actual, bool):
        return [] if actual is expected else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        out = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            else:
                out.extend(close(actual[k], v, rtol, f"{path}.{k}", atol))
        return out
    if isinstance(expected, list) and not isinstance(actual, list) and len(expected) == 1:
        expected = expected[0]
    if isinstance(actual, list) and not isinstance(expected, list) and len(actual) == 1:
        actual = actual[0]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected a list of {len(expected)}, got {actual!r}"[:300]]
        out = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            out.extend(close(a, e, rtol, f"{path}[{i}]", atol))
        return out
    if isinstance(expected, str):  # an exact form (a Fraction as text) from the oracle
        expected = float(Fraction(expected))
    elif not isinstance(expected, (int, float)) and hasattr(expected, "__float__"):
        expected = float(expected)  # Fraction, mpmath or SymPy numbers of a hand-written oracle
    if not isinstance(actual, (int, float)):
        return [f"{path}: expected a number {expected!r}, got {actual!r}"[:300]]
    if isinstance(expected, (int, float)) and math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        return []
    return [f"{path}: {actual!r} != {expected!r} (rtol {rtol})"]
