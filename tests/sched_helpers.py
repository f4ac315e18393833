"""Helpers shared by the tests of lr-schedule, ema and minibatch."""

from __future__ import annotations

import json
from typing import Any

import mpmath
import sympy

from conftest import run_cli
from dlcalc.board import unshow
from dlcalc.core import Math
from dlcalc.registry import FLAG, module


def solution(command: str, **given: Any):
    """The Solution of ``command`` solved in-process from option values (strings/bools)."""
    mod = module(command)
    kw = {o.param: (bool(o.default) if o.kind == FLAG else o.default) for o in mod.COMMAND.options}
    kw.update(given)
    return mod.solve(mod.parse(**kw))


def cli_json(command: str, *args: str) -> dict:
    r = run_cli(command, *args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def cli_error(command: str, *args: str) -> dict:
    """The one-line JSON error of a refused input (exit 2)."""
    r = run_cli(command, *args, "--json")
    assert r.code == 2, (r.code, r.stdout[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    assert "\n" not in err["message"]
    return err


def check_mistake(command: str, args: list[str], key: str, given: str) -> str | None:
    """The mistake --check names for ``key=given`` (None when none), exit 1 asserted."""
    r = run_cli(command, *args, "--check", f"{key}={given}", "--json")
    assert r.code == 1, (r.code, r.stdout[-400:])
    verdict = r.json()["check"][key]
    assert verdict["ok"] is False
    return verdict["mistake"]


def _close(a: Any, b: Any) -> bool:
    a, b = sympy.sympify(a), sympy.sympify(b)
    if a == b:
        return True
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    if free:
        if sympy.expand(a - b) == 0:
            return True
        points = [{x: sympy.Rational(3 * j + 1, 7 + j) for j, x in enumerate(free)},
                  {x: sympy.Rational(-2 * j - 5, 3) for j, x in enumerate(free)}]
        return all(_close(a.xreplace(p), b.xreplace(p)) for p in points)
    with mpmath.workdps(40):
        x, y = sympy.N(a, 35), sympy.N(b, 35)
        return bool(abs(x - y) <= sympy.Float("1e-25") * max(abs(y), sympy.Float("1e-300")) + sympy.Float("1e-300"))


def assert_steps_consistent(sol) -> int:
    """Every substituted line evaluates to its step's value; returns how many were checked."""
    checked = 0
    for s in sol.steps:
        if s.substituted is None or isinstance(s.substituted, Math) or s.value is None:
            continue
        got = unshow(s.substituted)
        value = s.value
        if isinstance(value, float):
            assert abs(float(got) - value) <= 1e-12 * max(abs(value), 1e-300), (s.title, got, value)
        else:
            assert _close(got, value), (s.title, got, value)
        checked += 1
    return checked
