"""Shared checks for the course-notes commands (init, ln-forward, deslant)."""

from __future__ import annotations

import json

import sympy

from conftest import run_cli
from dlcalc.board import unshow
from dlcalc.core import Math


def _leaves(x):
    if isinstance(x, sympy.MatrixBase):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        out = []
        for e in x:
            out.extend(_leaves(e))
        return out
    return [x]


def substituted_lines_are_true(solution) -> int:
    """Every substituted line evaluates to its step's value; returns how many were checked."""
    checked = 0
    for st in solution.steps:
        if st.substituted is None or isinstance(st.substituted, Math):
            continue
        got, want = _leaves(unshow(st.substituted)), _leaves(st.value)
        assert len(got) == len(want), st.title
        for g, w in zip(got, want):
            g, w = sympy.sympify(g), sympy.sympify(w)
            if g.free_symbols or w.free_symbols:
                assert sympy.simplify(g - w) == 0, (st.title, g, w)
                continue
            a, b = complex(sympy.N(g, 30)), complex(sympy.N(w, 30))
            assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (st.title, g, w)
        checked += 1
    return checked


def check_names(command: str, args: list[str], key: str, value) -> dict:
    """Run ``--check key=value`` with --json; the verdict of that key."""
    text = json.dumps(value) if isinstance(value, (list, tuple)) else repr(value)
    r = run_cli(command, *args, "--check", f"{key}={text}", "--json")
    assert r.code in (0, 1), r.stdout + r.stderr
    return r.json()["check"][key]


def judge_any_run(r) -> None:
    """Exit 0, 1 or 2; no traceback; exactly one JSON object (an error one for exit 2)."""
    assert r.code in (0, 1, 2), (r.code, r.stdout[-300:], r.stderr[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict)
    assert ("error" in out) == (r.code == 2)
    if r.code == 2:
        assert "\n" not in out["error"]["message"]


def solve(module, **given):
    """The module's Solution for options given by parameter name (others at their defaults)."""
    from dlcalc.registry import ARGUMENTS, FLAG, LIST

    kw = {}
    for o in module.COMMAND.options:
        kw[o.param] = bool(o.default) if o.kind == FLAG else (None if o.kind in (LIST, ARGUMENTS) else o.default)
    kw.update(given)
    return module.solve(module.parse(**kw))
