"""ema: exponential moving average, unrolled sum and bias correction.

Oracles (never the program's own output):
* tests/golden/ema.json (NumPy float64 recursion, cross-checked there against the
  unrolled sum), run by tests/test_golden.py;
* exact fractions worked here with Python's ``fractions`` (recursion and unrolled sum);
* the defining property of the bias correction: a constant sequence is recovered exactly.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as Fr

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from sched_helpers import assert_steps_consistent, check_mistake, cli_error, cli_json, solution


def ema(*args):
    return cli_json("ema", *args)


def exact_list(out, key):
    return [sympy.sympify(x) for x in sympy.sympify(out["exact"][key])]


def fr(x):
    return sympy.Rational(x.numerator, x.denominator)


def reference(beta, xs, v0=Fr(0)):
    v, out, hats = v0, [], []
    for t, x in enumerate(xs, 1):
        v = beta * v + (1 - beta) * x
        out.append(v)
        hats.append(v / (1 - beta ** t))
    return out, hats


def unrolled(beta, xs, v0=Fr(0)):
    t = len(xs)
    return (1 - beta) * sum(beta ** (t - i) * x for i, x in enumerate(xs, 1)) + beta ** t * v0


def test_three_values_by_hand():
    out = ema("--beta", "0.9", "--values", "[1, 2, 3]")
    assert exact_list(out, "ema") == [sympy.Rational(1, 10), sympy.Rational(29, 100), sympy.Rational(561, 1000)]
    assert exact_list(out, "ema_hat") == [1, sympy.Rational(29, 19), sympy.Rational(561, 271)]


def test_exact_against_fractions_and_the_unrolled_sum():
    beta = Fr(7, 10)
    xs = [Fr(3), Fr(-1, 2), Fr(5, 4), Fr(2), Fr(0), Fr(9, 10), Fr(-3)]
    v0 = Fr(1, 3)
    out = ema("--beta", "0.7", "--values", "[3, -1/2, 5/4, 2, 0, 0.9, -3]", "--v0", "1/3")
    vs, hats = reference(beta, xs, v0)
    assert exact_list(out, "ema") == [fr(v) for v in vs]
    assert exact_list(out, "ema_hat") == [fr(h) for h in hats]
    assert exact_list(out, "ema")[-1] == fr(unrolled(beta, xs, v0))


def test_bias_correction_recovers_a_constant_sequence():
    out = ema("--beta", "0.98", "--values", ",".join(["5"] * 40))
    assert exact_list(out, "ema_hat") == [5] * 40
    # the uncorrected average starts at (1 − β)·5 = 0.1
    assert exact_list(out, "ema")[0] == sympy.Rational(1, 10)


def test_symbolic_sequence_gives_the_weights():
    out = ema("--beta", "0.5", "--values", "x1, x2, x3")
    x1, x2, x3 = sympy.symbols("x1 x2 x3")
    v3, h3 = exact_list(out, "ema")[-1], exact_list(out, "ema_hat")[-1]
    assert sympy.expand(v3 - (x1 / 8 + x2 / 4 + x3 / 2)) == 0
    assert sympy.expand(h3 - (x1 + 2 * x2 + 4 * x3) / 7) == 0  # weights 1/8, 1/4, 1/2 over 1 − 1/8


def test_beta_zero_is_the_identity():
    out = ema("--beta", "0", "--values", "3, 1, 2")
    assert out["result"]["ema"] == [3, 1, 2] and out["result"]["ema_hat"] == [3, 1, 2]


def test_the_working_derives_the_bias():
    out = ema("--beta", "0.9", "--values", "[1, 2, 3]")
    titles = [s["title"] for s in out["steps"]]
    assert "the recursion unrolled" in titles and "sum of the weights" in titles
    weights = out["steps"][titles.index("sum of the weights")]
    assert sympy.sympify(weights["value"]) == 1 - sympy.Rational(9, 10) ** 3
    expected = out["steps"][titles.index("expected value")]
    assert expected["value"].replace(" ", "") == "271*E[x]/1000"  # (1 − 0.9³)·E[x]
    assert "why" in " ".join(s.get("section", "") for s in out["steps"])


def test_long_sequence_is_numeric_and_matches_floats():
    xs = [((i * 37) % 11) / 4 for i in range(5000)]
    out = ema("--beta", "0.99", "--values", ",".join(repr(x) for x in xs))
    assert "decimals" in out["conventions"]["arithmetic"]
    v, want, hats = 0.0, [], []
    for t, x in enumerate(xs, 1):
        v = 0.99 * v + 0.01 * x
        want.append(v)
        hats.append(v / -math.expm1(t * math.log(0.99)))
    for g, w in zip(out["result"]["ema"], want):
        assert math.isclose(g, w, rel_tol=1e-11, abs_tol=1e-14)
    for g, w in zip(out["result"]["ema_hat"], hats):
        assert math.isclose(g, w, rel_tol=1e-11, abs_tol=1e-14)
    assert out["inputs"]["values"] == "5,000 values"


# --------------------------------------------------------------------------- mistakes

ARGS = ["--beta", "0.9", "--values", "[1, 2, 3]"]


def _list(xs):
    return json.dumps([float(x) for x in xs])


def test_mistake_forgot_the_bias_correction():
    vs, _ = reference(Fr(9, 10), [Fr(1), Fr(2), Fr(3)])
    assert "forgot the bias correction" in check_mistake("ema", ARGS, "ema_hat", _list(vs))


def test_mistake_divided_by_one_minus_beta():
    vs, _ = reference(Fr(9, 10), [Fr(1), Fr(2), Fr(3)])
    assert "(1 − β) instead of (1 − β^t)" in check_mistake("ema", ARGS, "ema_hat", _list(v / Fr(1, 10) for v in vs))


def test_mistake_swapped_weights():
    v, vs = Fr(0), []
    for x in (1, 2, 3):
        v = Fr(1, 10) * v + Fr(9, 10) * x
        vs.append(v)
    assert "swapped" in check_mistake("ema", ARGS, "ema", _list(vs))


def test_mistake_started_at_the_first_value():
    v, vs = Fr(1), [Fr(1)]
    for x in (2, 3):
        v = Fr(9, 10) * v + Fr(1, 10) * x
        vs.append(v)
    assert "v₁ = x₁" in check_mistake("ema", ARGS, "ema", _list(vs))


def test_right_answer_passes():
    assert run_cli("ema", *ARGS, "--check", "ema=[0.1, 0.29, 0.561]").code == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    (["--beta", "0.9"], "--values"),
    (["--beta", "1", "--values", "1"], "--beta"),
    (["--beta", "-0.1", "--values", "1"], "--beta"),
    (["--beta", "[0.5, 0.9]", "--values", "1"], "--beta"),
    (["--beta", "b", "--values", ",".join(["1"] * 31)], "--beta"),
    (["--beta", "0.9", "--values", "[]"], "--values"),
    (["--beta", "0.9", "--values", "[[1, 2], [3, 4]]"], "--values"),
    (["--beta", "0.9", "--values", ",".join(f"x{i}" for i in range(31))], "--values"),
    (["--beta", "0.9", "--values", "1, 2", "--v0", "nan"], "--v0"),
])
def test_bad_input_is_one_line_naming_the_option(args, option):
    assert cli_error("ema", *args)["option"] == option


_VALUE = st.one_of(st.sampled_from(["0", "0.9", "1", "-1", "[1, 2, 3]", "x", "", "1e300", "[1e300, 1e300]",
                                    "sqrt(2)", "1/3", "[a, b]", "0.999999", "[1, nan]", "@/nonexistent"]),
                   st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=8).map(str),
                   st.text(max_size=10))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["--beta", "--values", "--v0"]), _VALUE), max_size=4), st.booleans())
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs, check):
    args = []
    for opt, val in pairs:
        args += [opt, val]
    if check:
        args += ["--check", "ema=[1]"]
    r = run_cli("ema", *args, "--json", "--timeout", "5")
    assert r.code in (0, 1, 2), (r.code, r.stdout[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


# --------------------------------------------------------------------------- the working


@pytest.mark.parametrize("given", [
    dict(beta="0.9", values="[1, 2, 3]"),
    dict(beta="0.9", values="[10, 11, 9.5, 10.5, 1, 2, 3, 4]", v0="10"),
    dict(beta="0.5", values="x1, x2, x3"),
    dict(beta="0.999", values=",".join(str(i % 5) for i in range(1200))),
    dict(beta="sqrt(2)/2", values="1, 2"),
    dict(beta="b", values="x1, x2, 3", v0="1"),
])
def test_every_substituted_line_evaluates_to_its_value(given):
    assert assert_steps_consistent(solution("ema", **given)) >= 2


def test_symbolic_beta_gives_the_unrolled_weights():
    out = ema("--beta", "b", "--values", "x1, x2, x3")
    b, x1, x2, x3 = sympy.symbols("b x1 x2 x3")
    v3, h3 = exact_list(out, "ema")[-1], exact_list(out, "ema_hat")[-1]
    assert sympy.expand(v3 - (1 - b) * (b**2 * x1 + b * x2 + x3)) == 0
    assert sympy.simplify(h3 - (1 - b) * (b**2 * x1 + b * x2 + x3) / (1 - b**3)) == 0
    # a constant sequence is recovered for every β
    out = ema("--beta", "b", "--values", "c, c, c, c")
    assert all(sympy.simplify(h - sympy.Symbol("c")) == 0 for h in exact_list(out, "ema_hat"))
