"""adam-step: Adam, AdamW and AMSGrad step by step, with the bias-correction derivation.

Oracles used here (never the program's own output):
* the golden fixture tests/golden/adam-step.json (torch.optim.Adam/AdamW, float64),
  checked case by case in tests/test_golden.py and spot-checked below;
* closed forms worked by hand in the tests: after one step m̂₁ = g and v̂₁ = g², so
  θ₁ = θ₀ − η·g/(|g| + ε) is rational and written out as a fraction;
* ``reference`` below: a plain-Python float transcription of the issue's formulas;
* central finite differences of the loss for gradients coming from ``--loss``.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction as Fr
from pathlib import Path

import pytest
import sympy

from conftest import close, run_cli, run_json

GOLDEN = {c["id"]: c for c in json.loads(
    (Path(__file__).parent / "golden" / "adam-step.json").read_text())["cases"]}
KEYS = {"theta", "m", "v", "m_hat", "v_hat", "history"}
RECORD_KEYS = {"t", "g", "m", "v", "m_hat", "v_hat", "theta"}


def adam_json(*args):
    return run_json("adam-step", *args)


def adam(*args):
    return run_cli("adam-step", *args)


def reference(theta, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False,
              amsgrad=False, maximize=False):
    """The issue's formulas for a scalar θ, in floats; one dict per step."""
    m = v = vmax = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        if callable(g):
            g = g(theta)
        if maximize:
            g = -g
        if wd and not decoupled:
            g = g + wd * theta
        if wd and decoupled:
            theta = theta * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = max(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append({"t": t, "g": g, "m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat, "theta": theta})
    return out


def exact(s):
    return sympy.sympify(s)  # our own JSON output: trusted, as a consumer would


# --------------------------------------------------------------------------- exact values by hand


def test_one_step_is_exact_and_matches_the_hand_computation():
    out = adam_json("--theta", "1", "--grad", "0.5", "--lr", "0.1")
    # m1 = 0.1*0.5, v1 = 0.001*0.25, m̂1 = 0.5, v̂1 = 0.25, θ1 = 1 - 0.1*0.5/(0.5 + 1e-8)
    theta1 = 1 - Fr(1, 10) * Fr(1, 2) / (Fr(1, 2) + Fr(1, 10**8))
    assert theta1 == Fr(45000001, 50000001)
    assert exact(out["exact"]["theta"]) == sympy.Rational(45000001, 50000001)
    assert exact(out["exact"]["m"]) == sympy.Rational(1, 20)
    assert exact(out["exact"]["v"]) == sympy.Rational(1, 4000)
    assert exact(out["exact"]["m_hat"]) == sympy.Rational(1, 2)
    assert exact(out["exact"]["v_hat"]) == sympy.Rational(1, 4)
    assert out["result"]["theta"] == pytest.approx(45000001 / 50000001, rel=1e-15)
    assert out["conventions"]["arithmetic"] == "exact"


@pytest.mark.parametrize("g", ["0.5", "-2", "3/7", "1e-3"])
def test_first_step_moves_by_lr_times_sign_of_g(g):
    """m̂₁ = g and v̂₁ = g², so θ₁ = θ₀ − η·g/(|g| + ε) for any g."""
    gv = sympy.Rational(Fr(g))
    out = adam_json("--theta", "2", "--grad", g, "--lr", "0.01")
    expected = 2 - sympy.Rational(1, 100) * gv / (abs(gv) + sympy.Rational(1, 10**8))
    assert exact(out["exact"]["theta"]) == expected
    assert exact(out["exact"]["m_hat"]) == gv and exact(out["exact"]["v_hat"]) == gv ** 2


def test_adamw_one_step_closed_form():
    out = adam_json("--theta", "2", "--grad", "0.5", "--lr", "0.1", "--weight-decay", "0.1", "--decoupled")
    R = sympy.Rational
    expected = 2 * (1 - R(1, 10) * R(1, 10)) - R(1, 10) * R(1, 2) / (R(1, 2) + R(1, 10**8))
    assert exact(out["exact"]["theta"]) == expected
    # decoupled decay never enters the moments
    assert exact(out["exact"]["m"]) == R(1, 20)
    assert out["result"]["history"][0]["g"] == 0.5


def test_adam_l2_one_step_closed_form():
    out = adam_json("--theta", "2", "--grad", "0.5", "--lr", "0.1", "--weight-decay", "0.1")
    R = sympy.Rational
    g = R(1, 2) + R(1, 10) * 2  # the L2 term enters the gradient, and so the moments
    assert exact(out["exact"]["m"]) == g / 10
    assert exact(out["exact"]["theta"]) == 2 - R(1, 10) * g / (g + R(1, 10**8))
    assert out["result"]["history"][0]["g"] == pytest.approx(0.7)


def test_maximize_negates_the_gradient():
    out = adam_json("--theta", "1", "--grad", "0.5", "--lr", "0.1", "--maximize")
    R = sympy.Rational
    assert exact(out["exact"]["theta"]) == 1 + R(1, 10) * R(1, 2) / (R(1, 2) + R(1, 10**8))
    assert out["result"]["history"][0]["g"] == -0.5


def test_symbolic_inputs_give_an_expression():
    out = adam_json("--theta", "x", "--grad", "g", "--lr", "0.1")
    x, g = sympy.symbols("x g", real=True)
    theta = exact(out["exact"]["theta"]).subs({sympy.Symbol("x"): x, sympy.Symbol("g"): g})
    expected = x - sympy.Rational(1, 10) * g / (sympy.Abs(g) + sympy.Rational(1, 10**8))
    assert sympy.simplify(theta - expected) == 0
    assert isinstance(out["result"]["theta"], str)
    assert exact(out["exact"]["m_hat"]) == sympy.Symbol("g")


def test_symbolic_learning_rate_two_steps():
    out = adam_json("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "eta")
    theta = exact(out["exact"]["theta"])
    assert theta.free_symbols == {sympy.Symbol("eta")}
    ref = reference(1.0, [0.5, 0.3], lr=0.1)
    assert float(theta.subs(sympy.Symbol("eta"), sympy.Rational(1, 10))) == pytest.approx(ref[-1]["theta"], rel=1e-13)


# --------------------------------------------------------------------------- against references


def test_three_given_gradients_match_the_reference_and_golden():
    out = adam_json("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1")
    ref = reference(1.0, [0.5, 0.3, -0.2], lr=0.1)
    for got, want in zip(out["result"]["history"], ref):
        for k in RECORD_KEYS:
            assert close(got[k], want[k], 1e-13), (k, got[k], want[k])
    gold = GOLDEN["scalar-3-grads"]["expected"]
    assert close(out["result"]["theta"], gold["theta"])
    assert out["conventions"]["arithmetic"] == "exact"


def test_amsgrad_uses_the_running_max_of_raw_v():
    out = adam_json("--theta", "1", "--grad", "1", "--grad", "0.1", "--grad", "0.01", "--lr", "0.1",
                    "--beta2", "0.5", "--amsgrad")
    h = out["result"]["history"]
    R = sympy.Rational
    v1 = R(1, 2)
    v2 = R(1, 2) * v1 + R(1, 2) * R(1, 100)
    assert v2 < v1
    assert exact(out["exact"]["history"][1]["v"]) == v2      # the raw v is reported
    assert exact(out["exact"]["history"][1]["v_hat"]) == v1 / (1 - R(1, 2) ** 2)  # max(v1, v2) is used
    ref = reference(1.0, [1, 0.1, 0.01], lr=0.1, b2=0.5, amsgrad=True)
    assert close([r["theta"] for r in h], [r["theta"] for r in ref], 1e-13)
    plain = reference(1.0, [1, 0.1, 0.01], lr=0.1, b2=0.5)
    assert not close(h[-1]["theta"], plain[-1]["theta"], 1e-6)


@pytest.mark.parametrize("flags,kw", [
    (["--weight-decay", "0.2", "--maximize"], {"wd": 0.2, "maximize": True}),
    (["--weight-decay", "0.2", "--decoupled", "--amsgrad"], {"wd": 0.2, "decoupled": True, "amsgrad": True}),
    (["--beta1", "0.5", "--beta2", "0.75", "--eps", "0.1"], {"b1": 0.5, "b2": 0.75, "eps": 0.1}),
    (["--beta1", "0", "--beta2", "0"], {"b1": 0.0, "b2": 0.0}),
])
def test_conventions_against_the_reference(flags, kw):
    grads = [0.5, -1, 2, 0.25]
    args = ["--theta", "1", "--lr", "0.05"] + [a for g in grads for a in ("--grad", str(g))] + flags
    out = adam_json(*args)
    ref = reference(1.0, grads, lr=0.05, **kw)
    for got, want in zip(out["result"]["history"], ref):
        for k in RECORD_KEYS:
            assert close(got[k], want[k], 1e-12), (k, got[k], want[k])


def test_loss_gradient_matches_finite_differences():
    out = adam_json("--theta", "[0.5, -0.5]", "--loss", "exp(theta1) + theta1*theta2 + sin(theta2)",
                    "--steps", "3", "--lr", "0.05")

    def L(a, b):
        return math.exp(a) + a * b + math.sin(b)

    h = 1e-6
    hist = out["result"]["history"]
    prev = [0.5, -0.5]
    for rec in hist:
        a, b = prev
        fd = [(L(a + h, b) - L(a - h, b)) / (2 * h), (L(a, b + h) - L(a, b - h)) / (2 * h)]
        assert close(rec["g"], fd, 1e-8, 1e-8)
        prev = rec["theta"]
    assert close(out["result"]["theta"], GOLDEN["loss-with-functions"]["expected"]["theta"])


def test_scalar_loss_switches_to_numerics_and_says_so():
    out = adam_json("--theta", "1", "--loss", "theta**2 + 3*theta", "--steps", "5", "--lr", "0.1")
    ref = reference(1.0, [lambda th: 2 * th + 3] * 5, lr=0.1)
    assert close([r["theta"] for r in out["result"]["history"]], [r["theta"] for r in ref], 1e-12)
    assert "exact for steps 1 to 2" in out["conventions"]["arithmetic"]
    assert any("40 significant digits" in n for n in out["notes"])
    # the first steps are exact rationals, the later ones decimals with at least 30 digits
    first = exact(out["exact"]["history"][0]["theta"])
    assert first.is_Rational and not first.is_Integer
    last = out["exact"]["history"][-1]["theta"]
    digits = len(last.replace("-", "").replace(".", "").split("e")[0].lstrip("0"))
    assert digits >= 30
    assert float(sympy.sympify(last)) == pytest.approx(out["result"]["history"][-1]["theta"], rel=1e-15)
    assert exact(out["exact"]["theta"]) == pytest.approx(ref[-1]["theta"], rel=1e-12)


def test_high_precision_is_kept_in_the_numeric_path():
    """30+ digits: θ₃ of a quadratic loss computed here with Python's Fraction + decimal."""
    import decimal

    out = adam_json("--theta", "1", "--loss", "theta**2", "--steps", "3", "--lr", "0.1")
    ctx = decimal.Context(prec=60)
    D = ctx.create_decimal
    th, m, v = D(1), D(0), D(0)
    b1, b2, lr, eps = D("0.9"), D("0.999"), D("0.1"), D("1e-8")
    for t in range(1, 4):
        g = ctx.multiply(2, th)
        m = ctx.add(ctx.multiply(b1, m), ctx.multiply(1 - b1, g))
        v = ctx.add(ctx.multiply(b2, v), ctx.multiply(1 - b2, ctx.multiply(g, g)))
        mh = ctx.divide(m, 1 - b1 ** t)
        vh = ctx.divide(v, 1 - b2 ** t)
        th = ctx.subtract(th, ctx.divide(ctx.multiply(lr, mh), ctx.add(ctx.sqrt(vh), eps)))
    got = sympy.Float(out["exact"]["theta"], 50)
    assert abs(got - sympy.Float(str(th), 50)) < sympy.Float("1e-31") * abs(got)


def test_long_run_shows_first_and_last_steps_and_keeps_full_history():
    r = adam("--theta", "[-2, 2]", "--loss", "(theta1-1)**2 + (theta2+2)**2", "--steps", "1000")
    assert r.code == 0
    for t in (1, 2, 3, 999, 1000):
        assert f"t = {t} " in r.stdout or f"t = {t}\n" in r.stdout
    assert "t = 4 " not in r.stdout and "t = 500 " not in r.stdout
    assert "steps 4 to 998" in r.stdout
    out = adam_json("--theta", "[-2, 2]", "--loss", "(theta1-1)**2 + (theta2+2)**2", "--steps", "1000")
    hist = out["result"]["history"]
    assert [h["t"] for h in hist] == list(range(1, 1001))
    gold = GOLDEN["loss-2d-1000-steps"]["expected"]
    for k in ("theta", "m", "v", "m_hat", "v_hat"):
        assert close(out["result"][k], gold[k], 1e-9), k
        assert close(hist[-1][k], gold[k], 1e-9), k
    assert len(out["steps"]) < 60  # the working is elided; the history is not


def test_long_given_gradient_runs_switch_to_numerics():
    grads = [0.5, -0.25, 1, 0.1] * 4
    out = adam_json("--theta", "1", "--lr", "0.1", *[a for g in grads for a in ("--grad", str(g))])
    ref = reference(1.0, grads, lr=0.1)
    assert close([h["theta"] for h in out["result"]["history"]], [r["theta"] for r in ref], 1e-12)
    assert "exact for steps 1 to 10" in out["conventions"]["arithmetic"]


# --------------------------------------------------------------------------- output shapes


def test_json_has_the_issue_keys_and_vectors_give_lists():
    out = adam_json("--theta", "[1, -2]", "--grad", "[0.5, -1]", "--grad", "[0.25, 2]", "--lr", "0.01")
    assert set(out["result"]) == KEYS and set(out["exact"]) == KEYS
    assert out["command"] == "adam-step"
    for k in KEYS - {"history"}:
        assert isinstance(out["result"][k], list) and len(out["result"][k]) == 2
    for rec in out["result"]["history"]:
        assert set(rec) == RECORD_KEYS
    gold = GOLDEN["vector-2-grads"]["expected"]
    assert close(out["result"]["theta"], gold["theta"])
    assert out["inputs"]["lr"] == "1/100"
    assert out["inputs"]["decoupled"] is False


def test_scalar_theta_gives_scalars():
    out = adam_json("--theta", "1", "--grad", "0.5")
    assert all(isinstance(out["result"][k], float) for k in KEYS - {"history"})


def test_text_shows_the_working_like_a_board():
    r = adam("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1")
    assert r.code == 0
    out = r.stdout
    for piece in ("why bias correction", "1 - β₁^t", "1 - 0.9^1", "E(v_t) = E(g²)·(1 − β₂ᵗ)",
                  "t = 1", "first moment m₁", "m₁ = β₁·m₀ + (1 - β₁)·g₁", "0.9·0 + (1 - 0.9)·0.5", "0.05",
                  "second moment v₁", "v₁ = β₂·v₀ + (1 - β₂)·g₁^2", "0.999·0 + (1 - 0.999)·0.5^2",
                  "v̂₁ = v₁/(1 - β₂^1)", "θ₁ = θ₀ - η·m̂₁/(√v̂₁ + ε)",
                  "1 - 0.1·0.5/(√0.25 + 1e-8)", "45000001/50000001", "t = 2", "m̂₂ = m₂/(1 - β₁^2)",
                  "0.075/(1 - 0.9^2)", "0.9 - 0.1·(15/38)/(√(1359/7996) + 1e-8)", "Answer", "history"):
        assert piece in out, piece


def test_text_shows_amsgrad_decay_and_loss_steps():
    r = adam("--theta", "[0.5, -1]", "--loss", "theta1*theta2 - theta1**2", "--steps", "2", "--lr", "0.1",
             "--weight-decay", "0.01", "--decoupled", "--amsgrad", "--maximize")
    assert r.code == 0
    for piece in ("gradient of L", "∂L/∂θ₁", "g₁ = -∇L(θ₀)", "vmax₁ = max(vmax₀, v₁)",
                  "θ̃₀ = θ₀·(1 - η·λ)", "θ₁ = θ̃₀ - η·m̂₁/(√v̂₁ + ε)", "--maximize"):
        assert piece in r.stdout, piece


def test_bias_correction_derivation_is_computed_for_the_given_beta():
    out = adam_json("--theta", "1", "--grad", "1", "--beta1", "0.5", "--beta2", "0.75")
    steps = [s for s in out["steps"] if s.get("section", "").startswith("why bias correction")]
    values = [s["value"] for s in steps if s["value"]]
    assert values[0] == "1 - beta_1**t"                       # the geometric sum, closed by SymPy
    assert [exact(v) for v in values[1:]] == [sympy.Rational(1, 2), sympy.Rational(1, 4)]  # 1 − β at t = 1
    assert [s["formula"] for s in steps if s["value"]][1:] == ["1 - \\beta_{1}^{t}", "1 - \\beta_{2}^{t}"]


def test_the_geometric_sum_of_the_derivation_is_summed_right():
    # the working telescopes the sum (cheap); SymPy's summation of each line shown gives the same
    b, t = sympy.Symbol("beta_1", nonnegative=True), sympy.Symbol("t", integer=True, positive=True)
    i, j = sympy.symbols("i j", integer=True)
    shown = adam_json("--theta", "1", "--grad", "1")["steps"][1]
    assert shown["value"] == "1 - beta_1**t"
    for line in (sympy.Sum((1 - b) * b ** (t - i), (i, 1, t)), sympy.Sum(b ** j - b ** (j + 1), (j, 0, t - 1))):
        summed = sympy.piecewise_fold(line.doit())
        if isinstance(summed, sympy.Piecewise):  # the branch β₁ = 1 (the sum is t·0 = 0 there, and 1 − 1ᵗ = 0)
            summed = next(e for e, cond in summed.args if cond == sympy.true)
        assert sympy.simplify(summed - (1 - b ** t)) == 0
        for beta, steps in ((sympy.Rational(9, 10), 7), (sympy.Integer(1), 3)):
            assert line.subs({b: beta, t: steps}).doit() == 1 - beta ** steps


def test_latex_is_an_align_block():
    r = adam("--theta", "1", "--grad", "0.5", "--lr", "0.1", "--latex")
    assert r.code == 0
    assert r.stdout.startswith("\\begin{align*}") and r.stdout.rstrip().endswith("\\end{align*}")
    assert r"\hat{m}_{1}" in r.stdout and r"\sum_{i=1}^{t}" in r.stdout


def test_digits_option_changes_decimals():
    r = adam("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1", "--digits", "3")
    assert r.code == 0 and "≈ 0.804" in r.stdout and "0.804251" not in r.stdout


def test_exact_strings_of_numeric_history_round_trip():
    out = adam_json("--theta", "[1, 2]", "--loss", "theta1**2 + theta2**2", "--steps", "8", "--lr", "0.1")
    for rec, exact_rec in zip(out["result"]["history"], out["exact"]["history"]):
        for k in RECORD_KEYS - {"t"}:
            back = sympy.sympify(exact_rec[k])
            assert close([float(x) for x in back], rec[k], 1e-15)


def test_variant_flags_of_the_pure_solver():
    """For --check: the same exercise under common mistakes (forgot bias correction, ε inside √)."""
    from dlcalc.exercises import adam_step as ex

    R = sympy.Rational
    sol = ex.solve(ex.Inputs(R(1), [R(1, 2)], lr=R(1, 10)), bias_correction=False)
    m, v = R(1, 20), R(1, 4000)
    assert sol.result["theta"] == 1 - R(1, 10) * m / (sympy.sqrt(v) + R(1, 10**8))
    sol = ex.solve(ex.Inputs(R(1), [R(1, 2)], lr=R(1, 10)), eps_inside_sqrt=True)
    assert sol.result["theta"] == 1 - R(1, 10) * R(1, 2) / sympy.sqrt(R(1, 4) + R(1, 10**8))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["--theta", "1", "--grad", "1", "--beta1", "1"], "--beta1", "[0, 1)"),
    (["--theta", "1", "--grad", "1", "--beta1", "-0.1"], "--beta1", "[0, 1)"),
    (["--theta", "1", "--grad", "1", "--beta2", "1.5"], "--beta2", "[0, 1)"),
    (["--theta", "[1, 2]", "--grad", "[1, 2, 3]"], "--grad", "3 components"),
    (["--theta", "[1, 2]", "--grad", "[1, 2]", "--grad", "1"], "--grad", "value 2 is a scalar"),
    (["--theta", "1", "--grad", "[1, 2]"], "--grad", "θ is a scalar"),
    (["--theta", "1"], "--grad", "missing"),
    (["--theta", "1", "--grad", "1", "--loss", "theta**2"], "--loss", "not both"),
    (["--theta", "1", "--loss", "theta**2", "--steps", "0"], "--steps", "between 1 and 100,000"),
    (["--theta", "1", "--loss", "theta**2", "--steps", "100001"], "--steps", "between 1 and 100,000"),
    (["--theta", "1", "--loss", "theta**2", "--steps", "2.5"], "--steps", "whole number"),
    (["--theta", "1", "--grad", "1", "--steps", "2"], "--steps", "--grad is given 1 time"),
    (["--theta", "1", "--loss", "x**2 + theta"], "--loss", "uses x"),
    (["--theta", "[1, 2]", "--loss", "theta**2"], "--loss", "theta1, theta2"),
    (["--theta", "1", "--loss", "theta1**2"], "--loss", "θ is a scalar"),
    (["--theta", "1", "--loss", "lr*theta"], "--loss", "uses lr"),
    (["--theta", "1", "--grad", "1", "--lr", "-0.1"], "--lr", "at least 0"),
    (["--theta", "1", "--grad", "1", "--eps", "-1e-8"], "--eps", "at least 0"),
    (["--theta", "1", "--grad", "1", "--weight-decay", "-1"], "--weight-decay", "at least 0"),
    (["--theta", "1", "--grad", "0", "--eps", "0"], "--eps", "divides 0 by 0"),
    (["--theta", "[[1, 2], [3, 4]]", "--grad", "1"], "--theta", "scalar or a vector"),
    (["--theta", "1", "--grad", "nan"], "--grad", "finite"),
    (["--theta", "0", "--loss", "1/theta"], "--loss", "no finite real gradient"),
    (["--theta", "1", "--loss", "sqrt(theta)", "--steps", "3", "--lr", "2"], "--loss", "no finite real gradient"),
    (["--theta", "x", "--loss", "theta**2", "--steps", "50"], "--steps", "symbolic"),
    (["--theta", "1", "--loss", "__import__('os').system('true')"], "--loss", "not a plain function"),
    (["--theta", "[" + ", ".join(["1"] * 101) + "]", "--loss", "theta1**2"], "--theta", "at most 100"),
])
def test_bad_input_exits_2_naming_the_option(args, option, words):
    r = adam(*args)
    assert r.code == 2, r.stdout
    assert r.stderr.startswith(f"error: {option} "), r.stderr
    assert words in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    j = adam(*args, "--json")
    assert j.code == 2
    assert j.json()["error"]["option"] == option


def test_numeric_run_with_a_bad_gradient_later_is_refused():
    # log'(θ) = 1/θ is fine; sqrt'(θ) is not real once θ < 0 (after the first big step)
    r = adam("--theta", "[1, 1]", "--loss", "sqrt(theta1) + theta2", "--steps", "20", "--lr", "2", "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--loss"


def test_counts_are_bounded_before_work(monkeypatch):
    from dlcalc.exercises import _stepping
    from dlcalc.exercises import adam_step as ex

    monkeypatch.setattr(_stepping, "MAX_GRADS", 3)  # the limit adam-step shares with optim-step
    r = adam("--theta", "1", *["--grad", "1"] * 4)
    assert r.code == 2 and "--grad" in r.stderr and "at most 3" in r.stderr
    monkeypatch.setattr(ex, "MAX_WORK", 100)
    r = adam("--theta", "[1, 2]", "--loss", "theta1**2 + theta2**2", "--steps", "51")
    assert r.code == 2 and r.stderr.startswith("error: --steps") and "at most 100" in r.stderr


def test_huge_gradients_are_refused_not_overflowed():
    r = adam("--theta", "1", "--loss", "exp(exp(theta))*theta**400", "--steps", "200", "--lr", "1", "--json")
    assert r.code in (0, 2)
    if r.code == 2:
        assert r.json()["error"]["option"] == "--loss"


# --------------------------------------------------------------------------- --check


@pytest.mark.parametrize("args,flags,name", [
    ([], {"bias_correction": False}, "forgot the bias correction"),
    (["--eps", "0.1"], {"eps_inside_sqrt": True}, "put ε inside the square root"),
    (["--grad", "-0.1"], {"square_grad": False}, "used g_t instead of g_t²"),
    (["--weight-decay", "0.5"], {"decoupled": True}, "mixed up L2 weight decay"),
    (["--weight-decay", "0.5", "--decoupled"], {"weight_decay": 0}, "forgot the weight decay"),
    (["--maximize"], {"maximize": False}, "forgot to negate the gradient"),
])
def test_check_names_the_mistake(args, flags, name):
    from dlcalc.exercises import adam_step as ex

    base = ["--theta", "2", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1"]
    kw = {"lr": sympy.Rational(1, 10)}
    for opt, key in (("--eps", "eps"), ("--weight-decay", "weight_decay")):
        if opt in args:
            kw[key] = sympy.Rational(Fr(args[args.index(opt) + 1]))
    grads = [sympy.Rational(1, 2), sympy.Rational(3, 10)] + ([sympy.Rational(-1, 10)] if "--grad" in args else [])
    kw.update(decoupled="--decoupled" in args, maximize="--maximize" in args)
    from dlcalc.core import Task

    wrong = Task(ex.solve, ex.Inputs(sympy.Integer(2), grads, **kw)).run(**flags).result["theta"]
    r = adam(*base, *args, "--check", f"theta={sympy.N(wrong, 12)}", "--rtol", "1e-8", "--json")
    assert r.code == 1, r.stdout
    verdict = r.json()["check"]["theta"]
    assert verdict["ok"] is False and name in verdict["mistake"]
    right = adam(*base, *args, "--json").json()["result"]["theta"]
    ok = adam(*base, *args, "--check", f"theta={right}", "--rtol", "1e-8", "--json")
    assert ok.code == 0 and ok.json()["check"]["theta"]["mistake"] is None
    off = adam(*base, *args, "--check", "theta=123.456", "--json")
    assert off.code == 1 and off.json()["check"]["theta"]["mistake"] is None


# --------------------------------------------------------------------------- the board (issues 15, 23)


def test_digits_reach_every_number_put_into_a_formula():
    """Issue 15: `--digits 12` printed √0.2901-style 6-digit numbers beside 12-digit ones (a 6
    was hard-coded in a formula); the numbers put into a formula follow --digits."""
    ref = reference(1.0, [0.5, 0.3, -0.2], lr=0.1)
    out = adam("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1",
               "--digits", "12").stdout
    th1, th2, vh3 = (f"{x:.12g}" for x in (ref[0]["theta"], ref[1]["theta"], ref[2]["v_hat"]))
    assert (th1, th2, vh3) == ("0.900000002", "0.804250986709", "0.126596637772")
    assert f"= {th1} - 0.1·(15/38)/(√(1359/7996) + 1e-8)" in out
    assert f"= {th2} - 0.1·(95/542)/(√{vh3} + 1e-8)" in out
    assert "0.804251 -" not in out and "√0.126597" not in out
    short = adam("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1",
                 "--digits", "3").stdout
    assert f"= {ref[1]['theta']:.3g} - 0.1·(95/542)/(√{ref[2]['v_hat']:.3g} + 1e-8)" in short


def test_digits_reach_the_numeric_steps_too():
    ref = reference(1.0, [lambda th: 2 * th + 3] * 5, lr=0.1)
    for d in (12, 4):
        out = adam("--theta", "1", "--loss", "theta**2 + 3*theta", "--steps", "5", "--lr", "0.1",
                   "--digits", str(d)).stdout
        assert "t = 5 (numeric, 40 digits)" in out
        th4, g5 = f"{ref[3]['theta']:.{d}g}", f"{ref[4]['g']:.{d}g}"
        assert f"= 2·{th4} + 3\n      ≈ {g5}" in out, out[-2500:]
        assert f"= {th4} - 0.1·" in out


@pytest.mark.parametrize("args", [
    ["--grad", "a__b", "--grad", "0.3"],
    ["--grad", "0.5", "--grad", "0.3", "--beta1", "q_b__c"],
    ["--grad", "xhat__2", "--grad", "0.3", "--amsgrad"],
    ["--grad", "a__b", "--beta2", "q_b__c", "--weight-decay", "0.1", "--maximize", "--amsgrad"],
])
def test_a_symbol_with_a_superscript_gets_no_second_one(args, tmp_path):
    """Issue 23: a__b, q_b__c, x̂² raised to a power printed a^{b}^{2}, which pdflatex and
    KaTeX refuse ("Double superscript"); such a base is bracketed."""
    from test_latex_document import _tools, compile_document, problems

    block = adam("--theta", "1", *args, "--latex")
    assert block.code == 0, block.stderr
    assert not re.search(r"\^(\{[^{}]*\}|\w)\s*\^", block.stdout), block.stdout
    _tools()
    r = adam("--theta", "1", *args, "--latex-document")
    log, text = compile_document(r.stdout, tmp_path)
    assert not problems(log, text), problems(log, text)[:3]


def test_the_working_of_each_step_is_written_from_formulas():
    """Every line of a step t is a SymPy formula with its numbers put in (none typed by
    hand), so tests/test_steps.py evaluates every one of them."""
    from dlcalc.core import Math
    from test_steps import inconsistent_steps
    from conftest import solution_of

    sol = solution_of(["adam-step", "--theta", "[1, -2]", "--grad", "[0.5, -1]", "--grad", "[0.25, 2]",
                       "--lr", "0.1", "--weight-decay", "0.1", "--decoupled", "--amsgrad", "--maximize"])
    worked = [s for s in sol.steps if s.section.startswith("t = ")]
    assert len(worked) == 2 * 8  # g (negated), m, v, vmax, m̂, v̂, θ̃ (AdamW), θ
    assert all(type(s.formula) is not Math for s in worked)  # none typed by hand
    with_numbers = [s for s in worked if s.substituted is not None]
    assert len(with_numbers) == len(worked)
    assert not any(isinstance(x, Math) for s in with_numbers for x in s.substituted)
    assert not inconsistent_steps(sol)


MISTAKE_CASES = [
    ["--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1", "--weight-decay", "0.1",
     "--maximize"],
    ["--theta", "[1, -2]", "--grad", "[0.5, -1]", "--grad", "[0.25, 2]", "--lr", "0.1", "--weight-decay", "0.2",
     "--decoupled"],
    ["--theta", "1", "--lr", "0.1"] + [a for g in [0.5, 0.3, -0.2, 0.1] * 3 for a in ("--grad", str(g))],
    ["--theta", "[0.5, -1]", "--loss", "theta1*theta2 - theta1**2", "--steps", "3", "--lr", "0.1", "--amsgrad"],
]


@pytest.mark.parametrize("argv", MISTAKE_CASES, ids=[" ".join(a)[:50] for a in MISTAKE_CASES])
def test_every_mistaken_working_is_true_as_written(argv):
    """A mistake is the same solver with a flag changed: its working (shown to explain a wrong
    answer) must be as true as the right one's."""
    from conftest import click_command
    from dlcalc.core import Task
    from dlcalc.errors import InputError
    from dlcalc.exercises import adam_step as ex
    from test_steps import inconsistent_steps

    params = click_command("adam-step").make_context("adam-step", list(argv)).params
    task = Task(ex.solve, ex.parse(**{o.param: params[o.param] for o in ex.COMMAND.options}))
    assert not inconsistent_steps(task.run())
    tried = []
    for m in ex.MISTAKES:
        change = m.overrides(task.kwargs)
        if change is None:
            continue
        try:
            wrong = task.run(**change)
        except InputError:  # g_t for g_t² with a negative g: v < 0 has no real root
            continue
        assert not inconsistent_steps(wrong), m.name
        tried.append(m.name)
    assert len(tried) >= 5, tried


def test_forgetting_the_bias_correction_departs_at_the_first_corrected_moment():
    """Without bias correction m̂₁ = m₁ = (1 − 0.9)·0.5 = 0.05 where PyTorch has m̂₁ = 0.5."""
    m = v = 0.0
    theta = 1.0
    for g in (0.5, 0.3):
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        theta -= 0.1 * m / (math.sqrt(v) + 1e-8)
    r = adam("--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1", "--check", f"theta={theta:.8g}",
             "--json")
    assert r.code == 1
    verdict = r.json()["check"]["theta"]
    assert verdict["mistake"].startswith("forgot the bias correction")
    assert verdict["departs_at"] == "t = 1: bias-corrected first moment m̂₁"
    assert verdict["right_value"] == 0.5 and verdict["mistaken_value"] == pytest.approx(0.05, rel=1e-15)
