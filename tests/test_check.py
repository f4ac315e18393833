"""--check: right answers pass (exit 0), wrong ones fail (exit 1) and name the mistake,
bad checks are refused (exit 2, one line naming --check).

Right and mistaken values are computed here by hand from the definitions (closed forms,
a short Adam loop in floats, exact Fractions), never taken from the program's output.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli


def check(*args):
    r = run_cli(*args, "--json")
    assert r.code in (0, 1), r.stdout + r.stderr
    return r.code, r.json()["check"]


def refused(*args):
    """The run is refused: exit 2, one line on stderr naming --check; returns that line."""
    r = run_cli(*args)
    assert r.code == 2, r.stdout + r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("error: --check "), r.stderr
    j = run_cli(*args, "--json")
    assert j.code == 2 and j.json()["error"]["option"] == "--check"
    return r.stderr


# --------------------------------------------------------------------------- param-count


@pytest.mark.parametrize("args,key,value,mistake", [
    (["784", "256", "10"], "total", 784 * 256 + 256 * 10, "forgot the biases"),
    (["--layer", "lstm in=10 hidden=20"], "total", 4 * (10 * 20 + 20 * 20) + 4 * 20,
     "kept one bias vector per gate instead of two (Keras vs PyTorch RNNs)"),
    (["10", "5", "--layer", "bn c=5"], "total", 10 * 5 + 5 + 2 * 5 + 2 * 5,
     "counted the batch-norm running statistics (buffers) as parameters"),
])
def test_param_count_mistakes_are_named(args, key, value, mistake):
    code, verdict = check("param-count", *args, "--check", f"{key}={value}")
    assert code == 1
    assert verdict[key]["ok"] is False
    assert verdict[key]["mistake"] == mistake
    assert verdict[key]["departs_at"]


def test_right_answer_passes_and_a_random_one_names_nothing():
    code, verdict = check("param-count", "784", "256", "10", "--check", f"total={785 * 256 + 257 * 10}")
    assert code == 0 and verdict["total"]["ok"] is True and verdict["total"]["mistake"] is None
    assert verdict["total"]["judged"] == "exactly"
    code, verdict = check("param-count", "784", "256", "10", "--check", "total=12345")
    assert code == 1 and verdict["total"] == {"ok": False, "expected": 203530, "given": 12345,
                                              "judged": "exactly", "mistake": None, "departs_at": None}


def test_a_whole_number_is_exact_and_a_tolerance_applies_when_given():
    total = 785 * 256 + 257 * 10                                     # 203530
    assert check("param-count", "784", "256", "10", "--check", "total=203500")[0] == 1  # exact
    # rounded, written so: 2.035e5 is 4 significant figures (unit 100), 2.0353e5 five
    code, v = check("param-count", "784", "256", "10", "--check", "total=2.035e5")
    assert code == 0 and v["total"]["judged"] == "to 4 significant figures"
    assert check("param-count", "784", "256", "10", "--check", "total=2.0352e5")[0] == 0
    assert check("param-count", "784", "256", "10", "--check", "total=2.0351e5")[0] == 1
    # an explicit tolerance replaces the rule as written (|g − e| ≤ atol + rtol·|e|)
    assert abs(203500 - total) / total < 1e-3
    code, v = check("param-count", "784", "256", "10", "--check", "total=203500", "--rtol", "1e-3")
    assert code == 0 and v["total"]["judged"] == "within rtol 0.001, atol 0"
    assert check("param-count", "784", "256", "10", "--check", "total=203500", "--rtol", "1e-6")[0] == 1
    assert check("param-count", "784", "256", "10", "--check", "total=203500", "--atol", "30")[0] == 0
    assert check("param-count", "784", "256", "10", "--check", "total=203500", "--atol", "29")[0] == 1


def test_text_output_shows_tick_cross_and_the_mistake():
    r = run_cli("param-count", "784", "256", "10", "--check", "total=203264")
    assert r.code == 1
    assert "✗ total: expected 203530, given 203264" in r.stdout
    assert "forgot the biases" in r.stdout


@pytest.mark.parametrize("value,fragment", [
    ("nokey=3", "unknown key 'nokey'; this command's keys: total, non_learnable, trainable, output_shape, macs, layers"),
    ("total", "must be KEY=VALUE"), ("total=__import__('os')", "--check"),
    ("layers=3", "a table of records; check one entry, such as layers.0.weights"),
    ("layers.0=3", "a record; check one of its fields: layers.0.name, layers.0.weights"),
    ("layers.0.name=3", "is the text"),
    ("layers.3.total=3", "layers has 1 entries (layers.0 to layers.0)"),
    ("layers.x.total=3", "layers is a list"),
    ("total.0=3", "total is a single value"),
    ("total..0=3", "empty part"),
])
def test_bad_check_is_exit_2(value, fragment):
    assert fragment in refused("param-count", "2", "3", "--check", value)


# --------------------------------------------------------------------------- rounding as written


def _bn(xs, eps=1e-5, unbiased=False):
    """x̂ of batch norm on one feature, from the definition (biased variance, ε inside √)."""
    m = len(xs)
    mu = sum(xs) / m
    var = sum((x - mu) ** 2 for x in xs) / (m - 1 if unbiased else m)
    return [(x - mu) / math.sqrt(var + eps) for x in xs]


def test_a_rounded_answer_is_right_to_the_figures_it_is_written_with():
    right = _bn([1, 2, 3, 4])
    assert [round(v, 3) for v in right] == [-1.342, -0.447, 0.447, 1.342]
    code, v = check("bn-forward", "1", "2", "3", "4", "--check", "x_hat=[-1.34,-0.447,0.447,1.34]")
    assert code == 0 and v["x_hat"]["ok"] is True
    assert v["x_hat"]["judged"] == "to 3 significant figures"
    r = run_cli("bn-forward", "1", "2", "3", "4", "--check", "x_hat=[-1.34,-0.447,0.447,1.34]")
    assert r.code == 0 and "(right to 3 significant figures)" in r.stdout


@pytest.mark.parametrize("given,ok", [
    ("-0.447", True), ("-0.448", True),                       # within one unit of the last digit
    ("-0.449", False), ("-0.446", False), ("-0.445", False),  # more than one unit off
    ("-0.45", True), ("-0.44", True), ("-0.43", False),
    ("-4.47e-1", True), ("-4.4e-1", True), ("-4.3e-1", False),  # the mantissa's digits count
    ("-0.4472118", True), ("-0.4472128", False),
])
def test_within_one_unit_of_the_last_written_digit(given, ok):
    right = _bn([1, 2, 3, 4])[1]                               # −0.4472118…
    code, v = check("bn-forward", "1", "2", "3", "4", "--check", f"x_hat.1={given}")
    assert v["x_hat.1"]["ok"] is ok, (given, right)


def test_the_issue_examples():
    # sigmoid-step --x 1 --t 0: w = 1 − 0.1·(y·y(1 − y) + 0.1) with y = σ(2), c = ½, λ = 0.1
    y = 1 / (1 + math.exp(-2))
    w = 1 - 0.1 * (y * y * (1 - y) + 0.1)
    assert abs(w - 0.980752) < 5e-7
    code, v = check("sigmoid-step", "--x", "1", "--t", "0", "--check", "w=0.98")
    assert code == 0 and v["w"]["judged"] == "to 2 significant figures"
    assert check("sigmoid-step", "--x", "1", "--t", "0", "--check", "w=0.981")[0] == 0    # 0.25 units off
    assert check("sigmoid-step", "--x", "1", "--t", "0", "--check", "w=0.982")[0] == 1    # 1.25 units off
    assert check("sigmoid-step", "--x", "1", "--t", "0", "--check", "w=0.9807")[0] == 0   # 0.52 units off
    assert check("sigmoid-step", "--x", "1", "--t", "0", "--check", "w=0.9806")[0] == 1   # 1.52 units off
    assert check("bn-forward", "1", "2", "3", "4", "--check", "x_hat.0=-1.34")[0] == 0


def test_more_than_twelve_figures_are_judged_to_twelve():
    right = _bn([1, 2, 3, 4])[2]
    noisy = right * (1 + 4e-15)                                 # float64 noise in the last digits
    code, v = check("bn-forward", "1", "2", "3", "4", "--check", f"x_hat.2={noisy!r}")
    assert code == 0 and v["x_hat.2"]["judged"] == "to 12 significant figures"
    off = right * (1 + 3e-11)
    assert check("bn-forward", "1", "2", "3", "4", "--check", f"x_hat.2={off!r}")[0] == 1


def test_an_expression_given_is_exact():
    # bn-forward 1 2 3 4 --eps 0: x̂ = (x − 2.5)/√1.25, so x̂₃ = 0.5/√(5/4) = 1/√5 = √5/5
    assert check("bn-forward", "1", "2", "3", "4", "--eps", "0", "--check", "x_hat.2=sqrt(5)/5")[0] == 0
    assert check("bn-forward", "1", "2", "3", "4", "--eps", "0", "--check", "x_hat.2=1/sqrt(5)")[0] == 0
    code, v = check("bn-forward", "1", "2", "3", "4", "--eps", "0", "--check", "x_hat.2=4472136/10000000")
    assert code == 1 and v["x_hat.2"]["judged"] == "exactly"


def test_the_mistake_search_uses_the_same_rule():
    wrong = _bn([1, 2, 3, 4], unbiased=True)                   # the unbiased variance 5/3
    text = "[" + ", ".join(f"{x:.3g}" for x in wrong) + "]"
    assert text == "[-1.16, -0.387, 0.387, 1.16]"
    code, v = check("bn-forward", "1", "2", "3", "4", "--check", f"x_hat={text}")
    assert code == 1
    assert v["x_hat"]["mistake"] == "normalized with the unbiased variance (1/(m − 1)) instead of the biased one (1/m)"
    assert v["x_hat"]["departs_at"] == "batch variance (biased, 1/m)"
    assert v["x_hat"]["mistaken_value"] == pytest.approx(5 / 3) and v["x_hat"]["right_value"] == 1.25


# --------------------------------------------------------------------------- paths


ADAM = ["adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1"]


def adam(theta, grads, lr, b1=0.9, b2=0.999, eps=1e-8, correct_m=True, correct_v=True, carry=False):
    """Adam by hand, in floats; returns θ after each step."""
    m = v = 0.0
    out = []
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh = m / (1 - b1 ** t) if correct_m else m
        vh = v / (1 - b2 ** t) if correct_v else v
        theta = theta - lr * mh / (math.sqrt(vh) + eps)
        if carry:
            m, v = mh, vh
        out.append(theta)
    return out


def test_paths_into_vectors_matrices_and_records():
    thetas = adam(1.0, [0.5, 0.3], 0.1)
    code, v = check(*ADAM, "--check", "history.0.theta=0.9", "--check", f"history.1.theta={thetas[1]:.6g}",
                    "--check", "history.1.m=0.075")
    assert code == 0 and all(x["ok"] for x in v.values()), v
    assert check(*ADAM, "--check", "history.0.theta=0.8")[0] == 1
    # a matrix result: rows are examples (x̂ of the column [1, 3, 5] is [−1.22, 0, 1.22])
    col = _bn([1, 3, 5])
    code, v = check("bn-forward", "--x", "[[1,2],[3,4],[5,7]]", "--check", "x_hat.1.0=0",
                    "--check", f"x_hat.2.0={col[2]:.4g}", "--check", f"x_hat.0=[{col[0]:.3g}, -1.14]")
    assert code == 0, v
    assert check("param-count", "784", "256", "10", "--check", "layers.1.total=2570")[0] == 0
    assert check("param-count", "784", "256", "10", "--check", "layers.1.total=2560")[0] == 1
    assert check("quadratic-gd", "--H", "[[2,0],[0,1]]", "--w0", "[1,1]", "--lr", "0.1",
                 "--check", "w.1=0.8", "--check", "hessian_eigenvalues.1=4")[0] == 0


def test_a_path_into_a_mistaken_working_names_the_mistake():
    wrong = adam(1.0, [0.5, 0.3], 0.1, correct_v=False)
    code, v = check(*ADAM, "--check", f"history.0.theta={wrong[0]:.5g}")
    assert code == 1 and v["history.0.theta"]["mistake"] == "bias-corrected only the first moment (used v_t for v̂_t)"


# --------------------------------------------------------------------------- refusals


def test_a_key_that_needs_a_flag_names_it():
    assert "newton_w needs --newton" in refused("quadratic-gd", "--H", "[[2,0],[0,1]]", "--w0", "[1,1]",
                                                "--lr", "0.1", "--check", "newton_w=[0,0]")
    # Newton on a quadratic lands on the minimum w* = 0
    assert check("quadratic-gd", "--H", "[[2,0],[0,1]]", "--w0", "[1,1]", "--lr", "0.1", "--newton",
                 "--check", "newton_w=[0,0]")[0] == 0
    assert "grad_x needs --grad-out" in refused("bn-forward", "1", "2", "--check", "grad_x=[0,0]")
    assert "monte_carlo needs --samples" in refused("dropout-expectation", "--n", "2", "--check", "monte_carlo=1")
    assert "lr_max exists only when sym(H) is positive definite" in refused(
        "quadratic-gd", "--H", "[[1,0],[0,-1]]", "--w0", "[1,1]", "--lr", "0.1", "--check", "lr_max=1")


@pytest.mark.parametrize("args,value,fragment", [
    (["bn-forward", "1", "2", "3", "4"], "x_hat=1", "x_hat has 4 values, got 1"),
    (["bn-forward", "1", "2", "3", "4"], "x_hat=[1,2]", "x_hat has 4 values, got 2"),
    (["bn-forward", "1", "2", "3", "4"], "mean=[1,2]", "mean has a single value, got 2"),
    (["bn-forward", "--x", "[[1,2],[3,4],[5,7]]"], "x_hat=[1,2,3,4,5,6]",
     "x_hat has 3×2 values (3 rows of 2), got 6"),
    (["bn-forward", "1", "2", "3", "4"], "x_hat=true", "x_hat is 4 values, not true or false"),
    (["quadratic-gd", "--H", "[[2,0],[0,1]]", "--w0", "[1,1]", "--lr", "0.1"], "converges=1",
     "converges is true or false, got 1"),
])
def test_a_value_of_the_wrong_shape_is_refused(args, value, fragment):
    assert fragment in refused(*args, "--check", value)


def test_a_single_entry_vector_takes_a_scalar():
    # bn-forward --x "[[1],[3]]": x̂ = ±1/√(1 + 1e-5) is a 2×1 column; [a, b] is accepted for it
    assert check("bn-forward", "--x", "[[1],[3]]", "--check", "x_hat=[-1.0, 1.0]")[0] == 0
    assert check("bn-forward", "--x", "[[1],[3]]", "--check", "x_hat=[[-1.0], [1.0]]")[0] == 0
    assert check("bn-forward", "--x", "[[1],[3]]", "--check", "x_hat=[-1, 1]")[0] == 1  # exact: not ±1
    assert check("bn-forward", "1", "2", "--check", "mean=[1.5]")[0] == 0   # a scalar as [scalar]


# --------------------------------------------------------------------------- the four new mistakes


@pytest.mark.parametrize("flags,given,mistake,departs,right_v,wrong_v", [
    ({"carry": True}, "0.8774", "carried the bias-corrected moments forward as the state (m ← m̂, v ← v̂)",
     "t = 2: first moment m₂", 0.9 * 0.05 + 0.1 * 0.3, 0.9 * 0.5 + 0.1 * 0.3),
    ({"correct_v": False}, "-4.3038", "bias-corrected only the first moment (used v_t for v̂_t)",
     "t = 1: bias-corrected second moment v̂₁", 0.25, 0.00025),
    ({"correct_m": False}, "0.97181", "bias-corrected only the second moment (used m_t for m̂_t)",
     "t = 1: bias-corrected first moment m̂₁", 0.5, 0.05),
])
def test_adam_mistakes_from_published_solutions(flags, given, mistake, departs, right_v, wrong_v):
    theta = adam(1.0, [0.5, 0.3], 0.1, **flags)[-1]
    assert abs(theta - float(given)) <= 10 ** -(len(given.split(".")[1])), theta  # the issue's value
    code, v = check(*ADAM, "--check", f"theta={given}")
    assert code == 1 and v["theta"]["ok"] is False
    assert v["theta"]["mistake"] == mistake
    assert v["theta"]["departs_at"] == departs
    assert v["theta"]["right_value"] == pytest.approx(right_v, rel=1e-12)
    assert v["theta"]["mistaken_value"] == pytest.approx(wrong_v, rel=1e-12)
    # the same mistake found from a value computed here to 6 figures
    code, v = check(*ADAM, "--check", f"theta={theta:.6g}")
    assert code == 1 and v["theta"]["mistake"] == mistake


def test_the_right_adam_answer_is_not_a_mistake():
    theta = adam(1.0, [0.5, 0.3], 0.1)[-1]
    code, v = check(*ADAM, "--check", f"theta={theta:.5g}")
    assert code == 0 and v["theta"]["mistake"] is None


def test_gradient_ascent_in_quadratic_gd():
    # f = wᵀHw, ∇f = 2Hw; ascent: w₁ = w₀ + ε·2Hw₀ = [1 + 0.1·4, 1 + 0.1·2]
    H, w0, lr = [[2, 0], [0, 1]], [F(1), F(1)], F(1, 10)
    w1 = [w0[i] + lr * 2 * sum(H[i][j] * w0[j] for j in range(2)) for i in range(2)]
    assert w1 == [F(7, 5), F(6, 5)]
    args = ["quadratic-gd", "--H", "[[2,0],[0,1]]", "--w0", "[1,1]", "--lr", "0.1", "--steps", "1"]
    code, v = check(*args, "--check", f"w=[{float(w1[0])}, {float(w1[1])}]")
    assert code == 1 and v["w"]["mistake"] == "used the wrong sign in the update (w + ε∇f: gradient ascent)"
    assert v["w"]["departs_at"] == "gradient descent: gradient-descent step"
    assert v["w"]["mistaken_value"] == [[1.4, 0], [0, 1.2]] and v["w"]["right_value"] == [[0.6, 0], [0, 0.8]]


# --------------------------------------------------------------------------- the mistaken working


def test_text_shows_the_right_line_beside_the_mistaken_one():
    r = run_cli(*ADAM, "--check", "theta=0.8774")
    assert r.code == 1
    import re

    lines = re.sub(r"\n {10,}", " ", r.stdout).splitlines()  # lines wrapped at 80 columns, joined
    at = next(i for i, line in enumerate(lines) if "this is what you get if you carried" in line)
    assert lines[at].endswith("the working first departs at “t = 2: first moment m₂”:")
    assert lines[at + 1].strip().startswith("right:") and lines[at + 1].rstrip().endswith("= 0.075")
    assert "m₂ = β₁·m₁ + (1 - β₁)·g₂" in lines[at + 1]
    assert lines[at + 2].strip().startswith("mistaken:") and lines[at + 2].rstrip().endswith("= 0.48")
    assert "m₂ = β₁·m̂₁ + (1 - β₁)·g₂" in lines[at + 2]


def test_latex_names_the_mistake_and_where_it_departs():
    r = run_cli(*ADAM, "--check", "theta=0.8774", "--latex")
    assert r.code == 1 and "you carried the bias-corrected moments" in r.stdout and "departs at" in r.stdout


# --------------------------------------------------------------------------- symbolic answers


EPS_E = ["adam-step", "--theta", "1", "--grad", "0.5", "--eps", "e"]


@pytest.mark.parametrize("value,code", [
    ("1", 1),                                      # θ never updated
    # θ₁ = 1 − η·m̂₁/(√v̂₁ + ε) = 1 − 0.001·0.5/(0.5 + e) = 1 − 0.001/(1 + 2e)
    ("1 - 0.001/(1+2*e)", 0),
    ("1 - 0.0005/(0.5+e)", 0),
    ("1 - 1/(2000*e + 1000)", 0),
    ("1 - 0.001/(1+2.0001*e)", 1),                 # close at every point, not equal
    ("1 - 0.0005/(0.5+e) + 1e-12", 1),             # within any rounding tolerance, not equal
    ("0.9995", 1),
])
def test_a_symbolic_answer_is_right_only_when_equal_as_an_expression(value, code):
    got, v = check(*EPS_E, "--check", f"theta={value}")
    assert got == code, v
    assert v["theta"]["judged"] == "as an expression"


def test_symbolic_inputs_end_in_a_verdict_or_a_clear_refusal():
    # symbolic β₁, β₂: θ does not equal 1 (exit 1), never a TypeError
    assert check("adam-step", "--theta", "1", "--grad", "0.5", "--beta1", "b", "--check", "theta=1")[0] == 1
    assert check("adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--beta2", "b",
                 "--check", "theta=1")[0] == 1
    # dropout, w = [0, 1], u = [1, 2]: penalty = α·Σ w_k²u_k² = α·(0 + 4) = 4α
    drop = ["dropout-expectation", "--y", "1", "--u", "[1,2]", "--w", "[0,1]"]
    assert check(*drop, "--check", "penalty=1")[0] == 1
    assert check(*drop, "--check", "penalty=4*alpha")[0] == 0
    # bn-forward 1 2 x 4: μ = (7 + x)/4
    assert check("bn-forward", "1", "2", "x", "4", "--check", "x_hat.0=1")[0] == 1
    assert check("bn-forward", "1", "2", "x", "4", "--check", "mean=(7 + x)/4")[0] == 0
    assert check("bn-forward", "1", "2", "x", "4", "--check", "mean=1.75 + x/4.01")[0] == 1
    # converges with a symbolic step or H entry is a condition, not true or false
    for args in (["--H", "[[2,0],[0,1]]", "--lr", "eps"], ["--H", "[[a,0],[0,1]]", "--lr", "0.1"]):
        line = refused("quadratic-gd", *args, "--w0", "[1,1]", "--check", "converges=true")
        assert "cannot decide" in line and "condition" in line


def test_same_expression_cannot_decide_what_it_cannot_evaluate():
    from dlcalc.check import same_expression

    x = sympy.Symbol("x", real=True)
    f = sympy.Function("f")
    assert same_expression(f(x), x) is None
    assert same_expression((x + 1) ** 2, x ** 2 + 2 * x + 1) is True
    assert same_expression(sympy.sqrt(x ** 2 + 1), x + 1) is False
    assert same_expression(1 / (x - 1), 1 / (x - 1) + sympy.Rational(1, 10**30)) is False


# --------------------------------------------------------------------------- written precision


@pytest.mark.parametrize("text,units", [
    ("0.447", [(F(1, 1000), 3, 3)]), ("-1.34", [(F(1, 100), 3, 2)]), ("0.98", [(F(1, 100), 2, 2)]),
    ("4.47e-1", [(F(1, 1000), 3, 3)]), ("2e3", [(F(1000), 1, -3)]), ("2.0e3", [(F(100), 2, -2)]),
    ("203530", [None]), ("1/3", [None]), ("sqrt(5)/5", [None]), ("0.00", [(F(1, 100), 0, 2)]),
    ("[0.5, 2, -0.25]", [(F(1, 10), 1, 1), None, (F(1, 100), 2, 2)]),
    ("1.5 2; 3 4.25", [(F(1, 10), 2, 1), None, None, (F(1, 100), 3, 2)]),
    ("0.12345678901234567", [(F(1, 10**12), 12, 12)]),
])
def test_written_units(text, units):
    from dlcalc.check import written_units

    got = written_units(text, len(units))
    assert [None if u is None else (F(int(u[0].p), int(u[0].q)), u[1], u[2]) for u in got] == units


# --------------------------------------------------------------------------- other exercises


DROP = ["dropout-expectation", "--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]"]


@pytest.mark.parametrize("args,key,value,mistake", [
    (["--alpha", "0.1"], "expected_loss", (1 + 1) ** 2, "forgot the penalty (the variance term of E[X_k²])"),
    (["--alpha", "0.1"], "penalty", 0.1 * (0.5 * 1 + -0.25 * 4 + 1 * 1),
     "took the noise variance as α·w_k instead of α·w_k²"),
    (["--noise", "bernoulli", "--p", "0.8"], "expected_loss", (1 + 0.8) ** 2 + 0.8 * 0.2 * 1.5,
     "mixed up inverted (1/p) and classic dropout scaling"),
    (["--noise", "bernoulli", "--p", "0.8", "--no-inverted"], "expected_loss", 2 ** 2 + 0.2 / 0.8 * 1.5,
     "mixed up inverted (1/p) and classic dropout scaling"),
])
def test_dropout_mistakes_are_named(args, key, value, mistake):
    code, verdict = check(*DROP, *args, "--check", f"{key}={value}")
    assert code == 1 and verdict[key]["mistake"] == mistake


def test_dropout_right_and_random_values():
    assert check(*DROP, "--alpha", "0.1", "--check", f"expected_loss={4 + 0.1 * 1.5}")[0] == 0
    code, verdict = check(*DROP, "--alpha", "0.1", "--check", "expected_loss=7.77")
    assert code == 1 and verdict["expected_loss"]["mistake"] is None


# quadratic-gd: H = [[2,1],[0,3]] (not symmetric), w0 = [1,-1], ε = 0.05, 3 steps
QUAD = ["quadratic-gd", "--H", "[[2,1],[0,3]]", "--w0", "[1,-1]", "--lr", "0.05", "--steps", "3"]


def _gd(M, w, lr, steps):
    w = [F(x) for x in w]
    for _ in range(steps):
        w = [w[i] - F(lr) * sum(F(M[i][j]) * w[j] for j in range(2)) for i in range(2)]
    return [float(x) for x in w]


SYM2 = [[4, 1], [1, 6]]                 # H + Hᵀ: the right Hessian for f = wᵀHw


@pytest.mark.parametrize("w,mistake", [
    (_gd([[2, 0.5], [0.5, 3]], [1, -1], "0.05", 3), "used f = ½wᵀHw instead of wᵀHw (or the other way round)"),
    (_gd([[4, 2], [0, 6]], [1, -1], "0.05", 3), "forgot to symmetrize H (used ∇f = 2Hw for a non-symmetric H)"),
    (_gd(SYM2, [1, -1], "0.05", 4), "took one step too many"),
    (_gd(SYM2, [1, -1], "0.05", 2), "took one step too few"),
    (_gd(SYM2, [1, -1], "-0.05", 3), "used the wrong sign in the update (w + ε∇f: gradient ascent)"),
])
def test_quadratic_mistakes_are_named(w, mistake):
    code, verdict = check(*QUAD, "--check", f"w=[{w[0]!r}, {w[1]!r}]")
    assert code == 1 and verdict["w"]["mistake"] == mistake
    code, verdict = check(*QUAD, "--check", f"w=[{w[0]:.4g}, {w[1]:.4g}]")  # rounded: the same rule
    assert code == 1 and verdict["w"]["mistake"] == mistake


def test_quadratic_right_answer():
    w = _gd(SYM2, [1, -1], "0.05", 3)
    assert check(*QUAD, "--check", f"w=[{w[0]}, {w[1]}]", "--check", "converges=true")[0] == 0
    assert check(*QUAD, "--check", f"w=[{w[0]:.3g}, {w[1]:.3g}]")[0] == 0


def test_every_mistake_reads_as_a_sentence():
    from dlcalc import registry

    irregular = {"forgot", "put", "took", "kept", "left", "mixed", "gave", "made", "did", "wrote", "set",
                 "swapped", "used", "split", "sent", "read", "ran", "got", "gone", "went", "held", "built",
                 "thought", "brought", "taught", "dealt", "meant", "lost", "found", "had", "hit", "cut"}
    names = [m.name for c in registry.names() for m in registry.module(c).MISTAKES]
    assert len(names) >= 30
    for name in names:
        first = name.split()[0]
        assert first in irregular or first.endswith("ed"), name   # "if you <past tense> …"
        assert name[0].islower() and not name.endswith("."), name


# --------------------------------------------------------------------------- batch


def test_batch_carries_the_same_verdicts():
    lines = [
        {"command": "bn-forward", "args": ["1", "2", "3", "4", "--check", "x_hat=[-1.34,-0.447,0.447,1.34]"]},
        {"command": "adam-step", "args": ADAM[1:] + ["--check", "theta=0.8774"]},
        {"command": "quadratic-gd", "args": ["--H", "[[2,0],[0,1]]", "--w0", "[1,1]", "--lr", "0.1",
                                             "--check", "newton_w=[0,0]"]},
        {"command": "adam-step", "args": EPS_E[1:] + ["--check", "theta=1"]},
    ]
    r = run_cli("batch", "-", input="".join(json.dumps(x) + "\n" for x in lines))
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["exit_code"] for o in out] == [0, 1, 2, 1]
    assert out[0]["check"]["x_hat"]["ok"] is True and out[0]["check"]["x_hat"]["judged"] == "to 3 significant figures"
    assert out[1]["check"]["theta"]["mistake"].startswith("carried the bias-corrected moments")
    assert out[1]["check"]["theta"]["mistaken_value"] == pytest.approx(0.48)
    assert "newton_w needs --newton" in out[2]["error"]["message"]
    assert out[3]["check"]["theta"]["ok"] is False
    for path in ("x_hat", "theta"):  # the same verdict as the command run alone
        alone = check(*(["bn-forward", "1", "2", "3", "4", "--check", "x_hat=[-1.34,-0.447,0.447,1.34]"]
                        if path == "x_hat" else ADAM + ["--check", "theta=0.8774"]))[1]
        assert alone[path] == (out[0] if path == "x_hat" else out[1])["check"][path]


# --------------------------------------------------------------------------- property


_VALUES = st.one_of(
    st.floats(-10, 10, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.lists(st.floats(-3, 3, allow_nan=False).map(lambda x: f"{x:.3g}"), min_size=1, max_size=5).map(
        lambda xs: "[" + ",".join(xs) + "]"),
    st.sampled_from(["true", "false", "x", "1/0", "sqrt(2)", "e", "[[1,2],[3,4]]", "-", "@x", "1e400",
                     "2*x + 1", "0x1f", "1_0", "[]", "[1,[2]]"]),
    st.text(max_size=12),
)
_PATHS = st.one_of(st.sampled_from(["x_hat", "x_hat.0", "x_hat.9", "mean", "var.0", "y.1", "history.0.theta",
                                    "theta", "m", "history.0", "history.7.m", "nokey", "x_hat.-1", "", "."]),
                   st.text(max_size=8))
_RUNS = [["bn-forward", "1", "2", "3", "4"], ["bn-forward", "1", "2", "x", "4"],
         ["adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3"],
         ["adam-step", "--theta", "1", "--grad", "0.5", "--eps", "e"]]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.sampled_from(_RUNS), st.lists(st.tuples(_PATHS, _VALUES), min_size=1, max_size=2),
       st.sampled_from([[], ["--rtol", "1e-3"], ["--atol", "0.01"]]))
def test_any_check_exits_0_1_or_2_with_one_json_object(run, checks, tol):
    args = list(run) + [a for k, v in checks for a in ("--check", f"{k}={v}")] + tol
    r = run_cli(*args, "--json", "--timeout", "5", input="")
    assert r.code in (0, 1, 2), (args, r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert "Traceback" not in r.stdout + r.stderr
    if r.code == 2:
        assert set(out) == {"error"}
        assert "could not compute" not in out["error"]["message"], (args, out)
    else:
        assert (r.code == 1) == any(not v["ok"] for v in out["check"].values())


LONG = [0.5, 0.3, -0.2, 0.1, 0.4, -0.3, 0.2, 0.25, -0.1, 0.05, 0.3, -0.2, 0.15]   # 13 steps: numeric


@pytest.mark.parametrize("flags,mistake", [
    ({"carry": True}, "carried the bias-corrected moments forward as the state (m ← m̂, v ← v̂)"),
    ({"correct_v": False}, "bias-corrected only the first moment (used v_t for v̂_t)"),
    ({"correct_m": False}, "bias-corrected only the second moment (used m_t for m̂_t)"),
])
def test_adam_mistakes_past_the_exact_steps(flags, mistake):
    args = ["adam-step", "--theta", "1", "--lr", "0.1"] + [a for g in LONG for a in ("--grad", str(g))]
    right, wrong = adam(1.0, LONG, 0.1)[-1], adam(1.0, LONG, 0.1, **flags)[-1]
    assert check(*args, "--check", f"theta={right:.8g}")[0] == 0
    code, v = check(*args, "--check", f"theta={wrong:.8g}")
    assert code == 1 and v["theta"]["mistake"] == mistake
    code, v = check(*args, "--check", f"history.12.theta={wrong:.8g}")
    assert code == 1 and v["history.12.theta"]["mistake"] == mistake


def test_an_answer_below_its_written_precision_is_not_right():
    """0.01 is within one unit of the hundredths of 0.0001, but a hundred times too big."""
    r = run_cli("init", "--scheme", "normal", "--std", "0.01", "--check", "variance=0.01", "--json")
    assert r.code == 1 and r.json()["check"]["variance"]["ok"] is False
    r = run_cli("init", "--scheme", "normal", "--std", "0.01", "--check", "variance=0.0001", "--json")
    assert r.code == 0
    # 1.0 for 0.96 is still right to one decimal place
    r = run_cli("bn-forward", "1", "2", "3", "4", "--check", "var=1.3", "--json")
    assert r.code == 0, r.stdout
