"""Issue 15: every displayed equation is true as written.

For each step that has both a substituted line and a value, evaluating the substituted
line (every shown number put back, then evaluated) gives the value: exactly on exact
paths, to the working precision on numeric ones.  Run over every README example and every
golden case of every command.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sympy

from conftest import readme_examples, solution_of
from dlcalc.board import unshow
from dlcalc.core import Math

GOLDEN = Path(__file__).parent / "golden"
_SHARED = {"--json", "--latex", "--latex-document", "--brief"}
_SHARED_VALUED = {"--check", "--digits", "--timeout", "--rtol", "--atol", "--plot"}


def _argv(argv: list[str]) -> list[str]:
    import readme  # tools/readme.py, on the path through conftest.readme_examples

    return readme.without(argv, _SHARED, _SHARED_VALUED)


CASES = [a for a in readme_examples() if a and a[0] != "batch"] + [
    [f.stem, *case["args"]] for f in sorted(GOLDEN.glob("*.json"))
    for case in json.loads(f.read_text())["cases"]]


def _flat(x):
    if isinstance(x, sympy.MatrixBase):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [e for item in x for e in _flat(item)]
    return [x]


def _agree(a, b, rng: random.Random) -> bool:
    a, b = sympy.sympify(a), sympy.sympify(b)
    if a == b:
        return True
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    points = [{s: sympy.Rational(rng.randint(1, 9), rng.randint(1, 7)) for s in free} for _ in range(2)] \
        if free else [{}]
    for point in points:
        x, y = sympy.N(a.xreplace(point), 30), sympy.N(b.xreplace(point), 30)
        if not (x.is_number and y.is_number):
            return False
        if x.is_infinite or y.is_infinite or x.has(sympy.nan) or y.has(sympy.nan):
            return x == y  # a masked score is −∞ on both sides
        if abs(x - y) > 1e-9 * max(abs(y), 1e-3):
            return False
    return True


def _typed(x) -> bool:
    return isinstance(x, Math) or (isinstance(x, (list, tuple)) and any(_typed(e) for e in x))


def inconsistent_steps(solution) -> list[str]:
    """Titles (with both sides) of the steps whose substituted line does not give the value."""
    rng = random.Random(0)
    bad = []
    for step in solution.steps:
        sub, value = step.substituted, step.value
        if sub is None or value is None or _typed(sub) or isinstance(value, (str, bool)):
            continue  # a hand-typed line (Math) is prose, not an equation to evaluate
        if isinstance(value, sympy.logic.boolalg.BooleanAtom):
            continue
        lhs, rhs = _flat(unshow(sub)), _flat(value)
        if len(lhs) != len(rhs) or not all(_agree(x, y, rng) for x, y in zip(lhs, rhs)):
            bad.append(f"{step.section}: {step.title}: {lhs[:4]} != {rhs[:4]}")
    return bad


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a)[:80] for a in CASES])
def test_every_substituted_line_evaluates_to_its_value(argv):
    bad = inconsistent_steps(solution_of(_argv(argv)))
    assert not bad, "\n".join(bad[:5])


def test_a_false_equation_fails_the_check():
    from dlcalc.board import eq, step
    from dlcalc.core import Solution

    x = sympy.Symbol("x")
    good = step("double", eq(sympy.Symbol("y"), 2 * x), {x: 3})
    wrong = good.__class__(title="double", formula=good.formula, substituted=good.substituted, value=7)
    assert inconsistent_steps(Solution("t", {}, {}, (good,), {})) == []
    assert inconsistent_steps(Solution("t", {}, {}, (wrong,), {}))


README_CASES = [a for a in readme_examples() if a and a[0] != "batch"]


@pytest.mark.parametrize("argv", README_CASES, ids=[" ".join(a)[:80] for a in README_CASES])
def test_lean_working_has_the_same_results_and_step_values(argv):
    """``dlcalc batch`` and ``--brief`` build the steps without their substituted lines
    (board.lean): the results, the exact forms and every step's value must be the same."""
    from dlcalc.board import lean
    from dlcalc.printing import exact_str
    from dlcalc.render import to_json

    full = solution_of(_argv(argv))
    with lean():
        short = solution_of(_argv(argv))
    assert to_json(short, 6, steps=False) == to_json(full, 6, steps=False)
    assert [(s.title, exact_str(s.value)) for s in short.steps] == \
        [(s.title, exact_str(s.value)) for s in full.steps]


def test_lean_leaves_out_the_substituted_lines():
    from dlcalc.board import lean
    from dlcalc.core import Shown

    def shown(step):
        lines = step.substituted if isinstance(step.substituted, list) else [step.substituted]
        return any(isinstance(x, sympy.Basic) and x.atoms(Shown) for x in _flat(lines))

    argv = ["quadratic-gd", "--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "2"]
    assert sum(map(shown, solution_of(argv).steps)) >= 4
    with lean():
        assert not any(map(shown, solution_of(argv).steps))
