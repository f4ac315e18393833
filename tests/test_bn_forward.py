"""bn-forward: batch normalization forward/backward, running statistics, eval mode.

Expected numbers come from oracles independent of dlcalc's solver: closed forms written
out here and evaluated with mpmath at 50 digits, central finite differences of that
forward pass for the gradients, and tests/golden/bn-forward.json (torch, in test_golden).
"""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import mpmath
import pytest
import sympy

from golden_compare import close as golden_close
from conftest import run_cli
from dlcalc.errors import InputError
from dlcalc.exercises import bn_forward as ex
from dlcalc.parse import parse_value, parse_value_fast

mp = mpmath.mp
mp.dps = 50

RESULT_KEYS = {"mean", "var", "x_hat", "y", "running_mean", "running_var"}
GRAD_KEYS = {"grad_x", "grad_gamma", "grad_beta"}


# --------------------------------------------------------------------------- the oracle


def ref_forward(X, gamma, beta, eps, train=True, rm=None, rv=None, momentum=0.1, keras=False):
    """Closed-form batch norm in mpmath (rows are examples). Returns dict of columns.

    ``keras``: the moving statistics as keras.layers.BatchNormalization updates them,
    moving = momentum·moving + (1 − momentum)·batch statistic, with the biased variance."""
    m, C = len(X), len(X[0])
    gamma = gamma if isinstance(gamma, list) else [gamma] * C
    beta = beta if isinstance(beta, list) else [beta] * C
    rm = rm if isinstance(rm, list) else [0 if rm is None else rm] * C
    rv = rv if isinstance(rv, list) else [1 if rv is None else rv] * C
    out = {"mean": [], "var": [], "x_hat": [[None] * C for _ in range(m)],
           "y": [[None] * C for _ in range(m)], "running_mean": [], "running_var": []}
    for j in range(C):
        col = [mpmath.mpf(X[i][j]) if not isinstance(X[i][j], str) else mpmath.mpf(X[i][j])
               for i in range(m)]
        if train:
            mu = mpmath.fsum(col) / m
            var = mpmath.fsum((c - mu) ** 2 for c in col) / m
            mo = mpmath.mpf(momentum)
            if keras:
                out["running_mean"].append(mo * rm[j] + (1 - mo) * mu)
                out["running_var"].append(mo * rv[j] + (1 - mo) * var)
            else:
                out["running_mean"].append((1 - mo) * rm[j] + mo * mu)
                out["running_var"].append((1 - mo) * rv[j] + mo * var * m / (m - 1))
        else:
            mu, var = mpmath.mpf(rm[j]), mpmath.mpf(rv[j])
            out["running_mean"].append(mu)
            out["running_var"].append(var)
        out["mean"].append(mu)
        out["var"].append(var)
        for i in range(m):
            xh = (col[i] - mu) / mpmath.sqrt(var + mpmath.mpf(eps))
            out["x_hat"][i][j] = xh
            out["y"][i][j] = mpmath.mpf(gamma[j]) * xh + mpmath.mpf(beta[j])
    return out


def ref_grads(X, G, gamma, beta, eps, train=True, rm=None, rv=None):
    """Gradients of L = Σ G∘y by central differences of ref_forward (h = 1e-20, 50 digits)."""
    m, C = len(X), len(X[0])
    h = mpmath.mpf("1e-20")

    def loss(Xp, gp, bp):
        y = ref_forward(Xp, gp, bp, eps, train, rm, rv)["y"]
        return mpmath.fsum(mpmath.mpf(G[i][j]) * y[i][j] for i in range(m) for j in range(C))

    Xm = [[mpmath.mpf(v) for v in r] for r in X]
    gam = gamma if isinstance(gamma, list) else [gamma] * C
    bet = beta if isinstance(beta, list) else [beta] * C
    gam = [mpmath.mpf(v) for v in gam]
    bet = [mpmath.mpf(v) for v in bet]
    gx = [[None] * C for _ in range(m)]
    for i in range(m):
        for j in range(C):
            up = [r[:] for r in Xm]
            dn = [r[:] for r in Xm]
            up[i][j] += h
            dn[i][j] -= h
            gx[i][j] = (loss(up, gam, bet) - loss(dn, gam, bet)) / (2 * h)
    gg, gb = [], []
    for j in range(C):
        up, dn = gam[:], gam[:]
        up[j] += h
        dn[j] -= h
        gg.append((loss(Xm, up, bet) - loss(Xm, dn, bet)) / (2 * h))
        up, dn = bet[:], bet[:]
        up[j] += h
        dn[j] -= h
        gb.append((loss(Xm, gam, up) - loss(Xm, gam, dn)) / (2 * h))
    return {"grad_x": gx, "grad_gamma": gg, "grad_beta": gb}


def assert_close(actual, expected, rtol=1e-12, atol=1e-14, path=""):
    diffs = golden_close(actual, expected, rtol, path, atol=atol)
    assert not diffs, diffs[:5]


def col(values):
    return [[v] for v in values]


def flat(rows):
    return [r[0] for r in rows]


def mat_text(M):
    return "[" + ", ".join("[" + ", ".join(str(v) for v in r) + "]" for r in M) + "]"


# --------------------------------------------------------------------------- basics


def test_readme_example_exact_values():
    r = run_cli("bn-forward", "1", "2", "3", "4", "--json")
    assert r.code == 0, r.stderr
    out = r.json()
    assert out["command"] == "bn-forward"
    assert set(out["result"]) == RESULT_KEYS
    assert set(out["exact"]) == RESULT_KEYS
    # by hand: μ = 10/4, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4, r_μ = 0.1·2.5,
    # r_σ² = 0.9·1 + 0.1·(4/3)·1.25
    assert sympy.sympify(out["exact"]["mean"]) == sympy.Rational(5, 2)
    assert sympy.sympify(out["exact"]["var"]) == sympy.Rational(5, 4)
    assert sympy.sympify(out["exact"]["running_mean"]) == sympy.Rational(1, 4)
    assert sympy.sympify(out["exact"]["running_var"]) == sympy.Rational(16, 15)
    expected = [(x - 2.5) / math.sqrt(1.25 + 1e-5) for x in (1, 2, 3, 4)]
    assert_close(out["result"]["x_hat"], expected)
    assert_close(out["result"]["y"], expected)
    x_hat0 = sympy.sympify(out["exact"]["x_hat"])[0]
    assert sympy.simplify(x_hat0 - sympy.Rational(-3, 2) / sympy.sqrt(sympy.Rational(125001, 100000))) == 0


def test_text_output_shows_the_working():
    r = run_cli("bn-forward", "1", "2", "3", "4")
    assert r.code == 0, r.stderr
    out = r.stdout
    for piece in ("μ_B = (x₁ + x₂ + x₃ + x₄)/m", "(1 + 2 + 3 + 4)/4", "σ²_B = ((x₁ - μ_B)^2 + (x₂ - μ_B)^2",
                  "((1 - 2.5)^2 + (2 - 2.5)^2", "x̂₁ = (x₁ - μ_B)/√(σ²_B + ε)", "(1 - 2.5)/√(1.25 + 0.00001)",
                  "≈ -1.34164", "biased (1/m)", "unbiased (1/(m − 1))", "2C learnable parameters", "buffers",
                  "r_μ′ = r_μ·(1 - momentum) + momentum·μ_B", "0·(1 - 0.1) + 0.1·2.5",
                  "s²_B = σ²_B·m/(m - 1)", "1.25·4/(4 - 1)", "r_σ²′ = r_σ²·(1 - momentum) + momentum·s²_B",
                  "Answer", "running_var = 16/15"):
        assert piece in out, piece
    assert "Traceback" not in out + r.stderr


def test_latex_is_one_align_block():
    r = run_cli("bn-forward", "1", "2", "3", "4", "--grad-out", "[1, 0, 0, 0]", "--latex")
    assert r.code == 0, r.stderr
    text = r.stdout.strip()
    assert text.startswith(r"\begin{align*}") and text.endswith(r"\end{align*}")
    assert text.count(r"\begin{align*}") == 1
    assert r"\sqrt{1.25 + 0.00001}" in text
    assert r"\frac{\partial L}{\partial \gamma}" in text


def test_negative_positional_values():
    r = run_cli("bn-forward", "-1", "2", "-3.5", ".5", "-.25", "--json")
    assert r.code == 0, r.stdout + r.stderr
    xs = [-1, 2, -3.5, 0.5, -0.25]
    ref = ref_forward(col(xs), 1, 0, 1e-5)
    out = r.json()["result"]
    assert_close(out["mean"], ref["mean"])
    assert_close(out["x_hat"], flat(ref["x_hat"]))
    assert_close(out["running_var"], ref["running_var"])


def test_negative_values_mixed_with_options_and_option_values():
    r = run_cli("bn-forward", "--gamma", "-2", "-1", "--beta", "-0.5", "3", "-4", "--json")
    assert r.code == 0, r.stdout + r.stderr
    ref = ref_forward(col([-1, 3, -4]), -2, -0.5, 1e-5)
    assert_close(r.json()["result"]["y"], flat(ref["y"]))


@pytest.mark.parametrize("bad,shown", [("--jsn", "--json"), ("--gama", "--gamma"),
                                       ("--running-men", "--running-mean"), ("--epsilon=0.1", "--eps")])
def test_unknown_option_is_a_clear_error(bad, shown):
    r = run_cli("bn-forward", "1", "2", bad)
    assert r.code == 2
    assert f"error: {bad.split('=')[0]} is not an option of bn-forward" in r.stderr
    assert f"did you mean {shown}?" in r.stderr
    r = run_cli("bn-forward", "1", "2", bad, "--json")
    assert r.code == 2
    err = r.json()["error"]
    assert err["option"] == bad.split("=")[0]


def test_single_dash_word_is_not_a_value():
    r = run_cli("bn-forward", "1", "-x", "--json")
    assert r.code == 2
    assert r.json()["error"]["option"] == "-x"
    assert "(-x)" in r.json()["error"]["message"]
    # written with parentheses, a negative symbol is a value
    r = run_cli("bn-forward", "1", "(-x)", "--json")
    assert r.code == 0, r.stdout
    assert sympy.sympify(r.json()["exact"]["mean"]) == (1 - sympy.Symbol("x")) / 2


# --------------------------------------------------------------------------- several features


def test_matrix_per_feature_gamma_beta_and_running_stats():
    X = [[1, 2, -1], [3, 0.5, 0], [-2, 1, 4], [0, 3, 2.5], [1.5, -1, 0.25]]
    r = run_cli("bn-forward", "--x", mat_text(X), "--gamma", "[1, 2, 0.5]", "--beta", "[0, -1, 0.5]",
                "--eps", "0.01", "--momentum", "0.3", "--running-mean", "[0.1, 0.2, 0.3]",
                "--running-var", "[2, 1, 0.5]", "--json")
    assert r.code == 0, r.stdout + r.stderr
    ref = ref_forward(X, [1, 2, 0.5], [0, -1, 0.5], 0.01, rm=[0.1, 0.2, 0.3], rv=[2, 1, 0.5], momentum=0.3)
    out = r.json()["result"]
    for key in RESULT_KEYS:
        assert_close(out[key], ref[key], path=key)
    assert len(out["mean"]) == 3 and len(out["x_hat"]) == 5 and len(out["x_hat"][0]) == 3


def test_matrix_text_forms_and_column_vector():
    a = run_cli("bn-forward", "--x", "1 2; 3 5; -1 0", "--json").json()["result"]
    b = run_cli("bn-forward", "--x", "[[1, 2], [3, 5], [-1, 0]]", "--json").json()["result"]
    assert a == b
    # a plain vector given to --x is one feature, like positional values: flat results
    v = run_cli("bn-forward", "--x", "[1, 3, -1]", "--json").json()["result"]
    p = run_cli("bn-forward", "1", "3", "-1", "--json").json()["result"]
    assert v == p
    assert isinstance(v["x_hat"][1], float) and len(v["x_hat"]) == 3


def test_batch_from_file_and_stdin(tmp_path):
    f = tmp_path / "batch.txt"
    f.write_text("1, 2, 3, 4\n")
    a = run_cli("bn-forward", f"@{f}", "--json").json()["result"]
    b = run_cli("bn-forward", "-", "--json", input="[1, 2, 3, 4]").json()["result"]
    c = run_cli("bn-forward", "1", "2", "3", "4", "--json").json()["result"]
    assert a == b == c
    csv = tmp_path / "x.csv"
    csv.write_text("1,2\n3,5\n-1,0\n")
    d = run_cli("bn-forward", "--x", f"@{csv}", "--json").json()["result"]
    assert d == run_cli("bn-forward", "--x", "1 2; 3 5; -1 0", "--json").json()["result"]


# --------------------------------------------------------------------------- eval mode


def test_eval_mode_uses_running_statistics_and_keeps_them():
    X = [[1, 2], [3, -1], [0.5, 4]]
    r = run_cli("bn-forward", "--x", mat_text(X), "--eval", "--running-mean", "[0.5, 1]",
                "--running-var", "[2, 0.25]", "--gamma", "[1, 3]", "--beta", "[0.5, 0]", "--eps", "0.001",
                "--json")
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    ref = ref_forward(X, [1, 3], [0.5, 0], 0.001, train=False, rm=[0.5, 1], rv=[2, 0.25])
    for key in RESULT_KEYS:
        assert_close(out["result"][key], ref[key], path=key)
    assert out["exact"]["running_mean"] == "[1/2, 1]"
    assert out["exact"]["running_var"] == "[2, 1/4]"
    assert "eval" in out["conventions"]["mode"]


def test_eval_mode_accepts_a_batch_of_one():
    r = run_cli("bn-forward", "3", "--eval", "--running-mean", "1", "--running-var", "4", "--eps", "0", "--json")
    assert r.code == 0, r.stdout + r.stderr
    assert r.json()["result"]["x_hat"] == [1.0]


# --------------------------------------------------------------------------- backward


@pytest.mark.parametrize("case", [
    dict(X=col([1, 2, 3, 4]), G=col([0.1, -0.2, 0.3, 0.5]), gamma=1, beta=0, eps=1e-5),
    dict(X=col([2, -1, 0.5]), G=col([1, 2, -3]), gamma=-1.5, beta=2, eps=0.25),
    dict(X=[[1, 2], [3, -1], [0.5, 4], [2, 0]], G=[[0.1, 1], [-0.2, 0.5], [0.3, -1], [1, 2]],
         gamma=[1.5, -0.5], beta=[0, 1], eps=1e-5),
    dict(X=[[1, 2], [3, -1], [0.5, 4]], G=[[1, 0], [0, 1], [2, -1]], gamma=[2, 0.5], beta=[1, 1],
         eps=0.1, train=False, rm=[1, 0.5], rv=[0.5, 2]),
])
def test_backward_matches_finite_differences(case):
    X, G = case["X"], case["G"]
    single = len(X[0]) == 1
    args = ["bn-forward"]
    args += [str(v) for v in flat(X)] if single else ["--x", mat_text(X)]
    args += ["--grad-out", str(flat(G)) if single else mat_text(G), "--gamma", str(case["gamma"]),
             "--beta", str(case["beta"]), "--eps", str(case["eps"]), "--json"]
    if not case.get("train", True):
        args += ["--eval", "--running-mean", str(case["rm"]), "--running-var", str(case["rv"])]
    r = run_cli(*args)
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    assert GRAD_KEYS <= set(out["result"])
    ref = ref_grads(X, G, case["gamma"], case["beta"], case["eps"], case.get("train", True),
                    case.get("rm"), case.get("rv"))
    gx = out["result"]["grad_x"]
    assert_close(gx, flat(ref["grad_x"]) if single else ref["grad_x"], rtol=1e-10, atol=1e-12)
    assert_close(out["result"]["grad_gamma"], ref["grad_gamma"], rtol=1e-10, atol=1e-12)
    assert_close(out["result"]["grad_beta"], ref["grad_beta"], rtol=1e-10, atol=1e-12)


def test_backward_working_is_shown_in_general_form_then_numbers():
    r = run_cli("bn-forward", "1", "2", "3", "4", "--grad-out", "[0.1, -0.2, 0.3, 0.5]")
    assert r.code == 0, r.stderr
    for piece in ("∂L/∂β = ∂L/∂y₁ + ∂L/∂y₂ + ∂L/∂y₃ + ∂L/∂y₄", "0.1 + (-0.2) + 0.3 + 0.5",
                  "∂L/∂γ = ∂L/∂y₁·x̂₁ + ∂L/∂y₂·x̂₂", "0.1·(-1.34164) + (-0.2)·(-0.447212)",
                  "∂L/∂x̂ᵢ = ∂L/∂yᵢ·γ", "∂L/∂σ²_B = -(∂L/∂x̂₁·(x₁ - μ_B) + ", "(2·(σ²_B + ε)·√(σ²_B + ε))",
                  "∂L/∂μ_B = -(∂L/∂x̂₁ + ∂L/∂x̂₂ + ∂L/∂x̂₃ + ∂L/∂x̂₄)/√(σ²_B + ε)",
                  "∂L/∂xᵢ = γ·(m·∂L/∂yᵢ - Σⱼ ∂L/∂yⱼ - x̂ᵢ·Σⱼ ∂L/∂yⱼ·x̂ⱼ)/(m·√(σ²_B + ε))",
                  "∂L/∂x₁ = ∂L/∂x̂₁/√(σ²_B + ε) + ∂L/∂σ²_B·2·(x₁ - μ_B)/m + ∂L/∂μ_B/m",
                  "0.1/√(1.25 + 0.00001) + (-0.304102)·2·(1 - 2.5)/4 + (-0.626097)/4", "grad_beta = 0.7"):
        assert piece in r.stdout, piece


def test_unbiased_normalization_flag_is_consistent():
    """The convention flag for --check: normalize with 1/(m − 1); its gradient by finite differences."""
    xs = [Fraction(1), Fraction(2), Fraction(4)]
    gs = [Fraction(1), Fraction(-1, 2), Fraction(2)]
    sol = ex.solve(ex.Inputs(col(xs), single=True, grad_out=gs), unbiased_norm=True)
    m = 3
    mu = sum(xs) / m
    s2 = sum((x - mu) ** 2 for x in xs) / (m - 1)
    expected = [(mpmath.mpf(x.numerator) / x.denominator - mpmath.mpf(mu.numerator) / mu.denominator)
                / mpmath.sqrt(mpmath.mpf(s2.numerator) / s2.denominator + mpmath.mpf("1e-5")) for x in xs]
    assert_close([float(v) for v in sol.result["x_hat"]], expected)
    assert sol.result["var"] == sympy.Rational(7, 3)

    def loss(xv):
        mu_ = mpmath.fsum(xv) / m
        s2_ = mpmath.fsum((x - mu_) ** 2 for x in xv) / (m - 1)
        return mpmath.fsum(mpmath.mpf(g.numerator) / g.denominator * (x - mu_) / mpmath.sqrt(s2_ + mpmath.mpf("1e-5"))
                           for g, x in zip(gs, xv))

    h = mpmath.mpf("1e-20")
    base = [mpmath.mpf(x.numerator) / x.denominator for x in xs]
    fd = []
    for i in range(m):
        up, dn = base[:], base[:]
        up[i] += h
        dn[i] -= h
        fd.append((loss(up) - loss(dn)) / (2 * h))
    assert_close([float(v) for v in sol.result["grad_x"]], fd, rtol=1e-10)


# --------------------------------------------------------------------------- symbols


def test_symbolic_inputs_stay_symbolic():
    r = run_cli("bn-forward", "a", "b", "3", "--eps", "epsilon", "--gamma", "g", "--json")
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    a, b, e, g = sympy.symbols("a b epsilon g", real=True)
    assert sympy.expand(sympy.sympify(out["exact"]["mean"], locals={"a": a, "b": b}) - (a + b + 3) / 3) == 0
    assert isinstance(out["result"]["y"][0], str)
    # put numbers in the symbolic answer: it must equal the closed form at those numbers
    vals = {"a": 1, "b": -2, "epsilon": sympy.Rational(1, 100), "g": sympy.Rational(3, 2)}
    y = sympy.sympify(out["exact"]["y"])
    ref = ref_forward(col([1, -2, 3]), 1.5, 0, 0.01)
    assert_close([float(v.subs(vals)) for v in y], flat(ref["y"]))
    rv = sympy.sympify(out["exact"]["running_var"])
    assert_close(float(rv.subs(vals)), ref["running_var"][0])


def test_symbolic_backward():
    r = run_cli("bn-forward", "1", "2", "4", "--grad-out", "[u, 0, 1]", "--json")
    assert r.code == 0, r.stdout + r.stderr
    gx = sympy.sympify(r.json()["exact"]["grad_x"])
    ref = ref_grads(col([1, 2, 4]), col([0.5, 0, 1]), 1, 0, 1e-5)
    assert_close([float(v.subs({"u": sympy.Rational(1, 2)})) for v in gx], flat(ref["grad_x"]), rtol=1e-10)


# --------------------------------------------------------------------------- big batches


def _random_batch(m, C, seed):
    rnd = random.Random(seed)
    X = [[round(rnd.gauss(rnd.choice([0, 3]), 2), 3) for _ in range(C)] for _ in range(m)]
    G = [[round(rnd.gauss(0, 1), 2) for _ in range(C)] for _ in range(m)]
    return X, G


@pytest.mark.parametrize("train", [True, False])
def test_big_batch_numeric_path_agrees_with_50_digit_closed_form(tmp_path, train):
    X, G = _random_batch(70, 3, seed=7)
    (tmp_path / "x.txt").write_text(mat_text(X))
    (tmp_path / "g.txt").write_text(mat_text(G))
    args = ["bn-forward", "--x", f"@{tmp_path / 'x.txt'}", "--grad-out", f"@{tmp_path / 'g.txt'}",
            "--gamma", "[1.5, -0.5, 2]", "--beta", "[0.1, 0, -1]", "--eps", "0.001", "--momentum", "0.2",
            "--running-mean", "[0.5, -0.5, 1]", "--running-var", "[1.5, 2, 0.75]", "--json"]
    if not train:
        args.append("--eval")
    r = run_cli(*args)
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    assert any("numeric path" in n for n in out["notes"])
    ref = ref_forward(X, [1.5, -0.5, 2], [0.1, 0, -1], 0.001, train, [0.5, -0.5, 1], [1.5, 2, 0.75], 0.2)
    for key in RESULT_KEYS:
        assert_close(out["result"][key], ref[key], rtol=1e-13, atol=1e-15, path=key)
    # exact per-feature statistics: the sums are exact rationals
    mean0 = sum(Fraction(str(r_[0])) for r_ in X) / 70
    if train:
        assert sympy.sympify(out["exact"]["mean"])[0] == sympy.Rational(mean0.numerator, mean0.denominator)
    # gradients, in closed form: γ/(m√(σ²+ε))·(m g − Σg − x̂ Σ g x̂) (eval: γ g/√(r_σ²+ε))
    gamma = [1.5, -0.5, 2]
    for j in range(3):
        xh = [ref["x_hat"][i][j] for i in range(70)]
        g = [mpmath.mpf(G[i][j]) for i in range(70)]
        sg = mpmath.fsum(g)
        sgx = mpmath.fsum(a * b for a, b in zip(g, xh))
        denom = mpmath.sqrt(ref["var"][j] + mpmath.mpf("0.001"))
        for i in range(70):
            e = (gamma[j] / (70 * denom) * (70 * g[i] - sg - xh[i] * sgx) if train
                 else gamma[j] * g[i] / denom)
            assert_close(out["result"]["grad_x"][i][j], e, rtol=1e-13, atol=1e-15)
        assert_close(out["result"]["grad_gamma"][j], sgx, rtol=1e-13, atol=1e-15)
        assert_close(out["result"]["grad_beta"][j], sg, rtol=1e-13, atol=1e-15)


def test_exact_and_numeric_paths_agree_at_the_threshold():
    X, G = _random_batch(ex.EXACT_MAX + 1, 1, seed=11)
    small = run_cli("bn-forward", *[str(r_[0]) for r_ in X[:-1]], "--grad-out",
                    str([r_[0] for r_ in G[:-1]]), "--json").json()
    big = run_cli("bn-forward", *[str(r_[0]) for r_ in X], "--grad-out", str([r_[0] for r_ in G]), "--json").json()
    assert "numeric path" in " ".join(big.get("notes", []))
    assert "numeric path" not in " ".join(small.get("notes", []))
    for out, rows in ((small, X[:-1]), (big, X)):
        ref = ref_forward(rows, 1, 0, 1e-5)
        assert_close(out["result"]["x_hat"], flat(ref["x_hat"]), rtol=1e-13)


def test_256_by_64_inline_batch():
    X, G = _random_batch(256, 64, seed=1)
    text = mat_text(X)
    assert len(text) > 100_000
    r = run_cli("bn-forward", "--x", text, "--json")
    assert r.code == 0, r.stdout[:500] + r.stderr
    out = r.json()
    assert len(out["result"]["x_hat"]) == 256 and len(out["result"]["x_hat"][0]) == 64
    assert out["inputs"]["x"] == "256×64 batch"
    ref = ref_forward([row[:2] for row in X], 1, 0, 1e-5)  # two features checked in full
    for i in range(256):
        assert_close(out["result"]["y"][i][:2], ref["y"][i], rtol=1e-13)
    # the text output is a board, not 16,384 numbers: a few rows, the rest elided
    t = run_cli("bn-forward", "--x", text)
    assert t.code == 0
    assert "rows 1–3 of 256" in t.stdout and "every entry is in --json" in t.stdout
    assert len(t.stdout) < 60_000


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["5"], "VALUES", "at least 2"),
    (["--x", "[[1, 2, 3]]"], "--x", "at least 2"),
    (["1", "1", "1", "--eps", "0"], "--eps", "zero variance"),
    (["--x", "[[1, 2], [1, 3]]", "--eps", "0"], "--eps", "feature 1 has zero variance"),
    (["1", "2", "--eval", "--running-var", "0", "--eps", "0"], "--eps", "running variance"),
    (["--x", "[[1, 2], [3, 4]]", "--gamma", "[1, 2, 3]"], "--gamma", "has 3 values, but the batch has 2 features"),
    (["--x", "[[1, 2], [3, 4]]", "--beta", "[1]"], "--beta", "has 1 value, but the batch has 2 features"),
    (["--x", "[[1, 2], [3, 4]]", "--running-mean", "[1, 2, 3]"], "--running-mean", "has 3 values"),
    (["--x", "[[1, 2], [3, 4]]", "--running-var", "[1, 2, 3]"], "--running-var", "has 3 values"),
    (["1", "2", "--gamma", "[[1, 2], [3, 4]]"], "--gamma", "must be a scalar or a vector"),
    (["--x", "[[1, 2], [3]]"], "--x", "ragged"),
    (["--x", "1 2; 3"], "--x", "ragged"),
    (["1", "2", "3", "--grad-out", "[1, 2]"], "--grad-out", "batch's shape (3 values), got 2 values"),
    (["--x", "[[1, 2], [3, 4]]", "--grad-out", "[[1, 2, 3], [4, 5, 6]]"], "--grad-out", "(2×2), got 2×3"),
    (["--x", "[[1, 2], [3, 4]]", "--grad-out", "[1, 2, 3, 4]"], "--grad-out", "batch's shape (2×2)"),
    (["1", "2", "--grad-out", "7"], "--grad-out", "got a scalar"),
    (["1", "2", "--eps", "-0.1"], "--eps", "≥ 0"),
    (["1", "2", "--eps", "[1, 2]"], "--eps", "must be a scalar"),
    (["1", "2", "--momentum", "1.5"], "--momentum", "between 0 and 1"),
    (["1", "2", "--running-var", "-1"], "--running-var", "≥ 0"),
    ([], "VALUES", "missing"),
    (["1", "2", "--x", "[[1], [2]]"], "--x", "cannot be combined"),
    (["1", "nan"], "VALUES", "not a finite"),
    (["1", "__import__('os').system('true')"], "VALUES", "calls something that is not a plain function"),
    (["1", "2", "--gamma", "1e999"], "--gamma", "outside"),
    (["--x", "[[1, 2], [3, 4]]", "--eps", "[0.1]"], "--eps", "must be a scalar"),
])
def test_bad_input_exit_2_names_the_option(args, option, words):
    r = run_cli("bn-forward", *args)
    assert r.code == 2, (r.code, r.stdout, r.stderr)
    assert r.stderr.startswith(f"error: {option} ") and words in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    j = run_cli("bn-forward", *args, "--json")
    assert j.code == 2
    err = j.json()["error"]
    assert err["option"] == option and words in err["message"]


def test_symbolic_big_batch_is_refused_clearly():
    X, _ = _random_batch(40, 2, seed=3)
    r = run_cli("bn-forward", "--x", mat_text(X), "--gamma", "[g, 1]")
    assert r.code == 2
    assert r.stderr.startswith("error: --gamma is symbolic") and "64" in r.stderr


def test_zero_variance_with_positive_eps_is_fine():
    r = run_cli("bn-forward", "2", "2", "2", "--json")
    assert r.code == 0
    assert r.json()["result"]["x_hat"] == [0, 0, 0]
    assert r.json()["result"]["var"] == 0


# --------------------------------------------------------------------------- parse fast path


@pytest.mark.parametrize("text", [
    "1", "-1.5", "+2", "1e-3", "1E5", ".5", "5.", "007", "0e999", "1e301", "1e-301", "1e300",
    "[1, 2, 3]", "[1, 2, 3,]", "1,2,3", "[[1, 2], [3, 4]]", "[[1, 2], [3]]", "1 2; 3 4",
    "1,2\n3,4\n", "[1, 2]; [3, 4]", "[]", "x", "[1, x]", "1 2; 3 x", "[-.5, +.5]", "2/3",
    " ; ", "-", "1_000", "[1e400, 2]", "0x10", "[[1,[2]]]",
])
def test_parse_value_fast_matches_parse_value(text):
    def run(fn):
        try:
            v = fn(text, "--x")
        except InputError as exc:
            return ("error", exc.message)
        return ("ok", _as_sympy(v))

    assert run(parse_value_fast) == run(parse_value)


def test_parse_value_fast_gives_exact_fractions():
    v = parse_value_fast("[[0.1, -2e-3], [3, 1.25]]", "--x")
    assert v == [[Fraction(1, 10), Fraction(-2, 1000)], [Fraction(3), Fraction(5, 4)]]
    assert all(isinstance(e, Fraction) for r in v for e in r)


def test_parse_value_fast_random_texts_match():
    rnd = random.Random(5)
    alphabet = "0123456789.eE+-,; []\n"
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 10)))

        def run(fn):
            try:
                return ("ok", _as_sympy(fn(text, "--x")))
            except InputError as exc:
                return ("error", exc.message)

        assert run(parse_value_fast) == run(parse_value), text


def _as_sympy(v):
    if isinstance(v, list):
        return [_as_sympy(x) for x in v]
    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    return v


def test_json_output_is_one_object_and_exact_round_trips():
    r = run_cli("bn-forward", "--x", "[[1, 2], [3, -1], [0.5, 4]]", "--grad-out", "[[1, 0], [0, 1], [2, -1]]",
                "--json")
    out = json.loads(r.stdout)
    assert set(out) >= {"command", "inputs", "conventions", "steps", "result", "exact"}
    assert set(out["result"]) == RESULT_KEYS | GRAD_KEYS
    for key, value in out["result"].items():
        parsed = sympy.sympify(out["exact"][key])
        floats = [[float(e) for e in row] for row in parsed] if isinstance(parsed[0], (list, tuple)) \
            else [float(e) for e in parsed]
        assert_close(value, floats, rtol=1e-14)
    for k in ("parameters", "variance", "epsilon", "running statistics", "mode", "backward"):
        assert k in out["conventions"]


# --------------------------------------------------------------------------- --check


def _mistaken(**changes):
    """The result of 1 2 3 4 (γ = 2, β = 0.5, ε = 0.5, ∂L/∂y = [1, 0, 0, 0]) under a mistake,
    from the closed forms of this file's oracle, not from dlcalc."""
    xs = [1, 2, 3, 4]
    g, b, eps, mom = changes.get("gamma", 2), changes.get("beta", 0.5), changes.get("eps", 0.5), changes.get("momentum", 0.1)
    mu = sum(xs) / 4
    var_b = sum((x - mu) ** 2 for x in xs) / 4
    var_n = var_b * 4 / 3 if changes.get("unbiased_norm") else var_b
    xh = [(x - mu) / math.sqrt(var_n + eps) for x in xs]
    y = [g * (v + b) for v in xh] if changes.get("shift_first") else [g * v + b for v in xh]
    s2 = var_b if changes.get("biased_running") else var_b * 4 / 3
    return {"var": var_n, "x_hat": xh, "y": y, "running_var": (1 - mom) * 1 + mom * s2,
            "grad_beta": g * 1 if changes.get("shift_first") else 1}


@pytest.mark.parametrize("key,changes,mistake", [
    ("var", {"unbiased_norm": True}, "unbiased variance"),
    ("x_hat", {"unbiased_norm": True}, "unbiased variance"),
    ("x_hat", {"eps": 0}, "forgot ε"),
    ("y", {"shift_first": True}, "wrong order"),
    ("y", {"gamma": 0.5, "beta": 2}, "swapped γ and β"),
    ("grad_beta", {"shift_first": True}, "wrong order"),
    ("running_var", {"biased_running": True}, "biased variance"),
    ("running_var", {"momentum": 0.9}, "Keras"),
])
def test_check_names_the_mistake(key, changes, mistake):
    given = _mistaken(**changes)[key]
    text = f"{key}=[{', '.join(f'{v:.6g}' for v in given)}]" if isinstance(given, list) else f"{key}={given:.6g}"
    r = run_cli("bn-forward", "1", "2", "3", "4", "--gamma", "2", "--beta", "0.5", "--eps", "0.5",
                "--grad-out", "[1, 0, 0, 0]", "--check", text, "--json")
    assert r.code == 1, r.stdout + r.stderr
    verdict = r.json()["check"][key]
    assert verdict["ok"] is False
    assert verdict["mistake"] is not None and mistake in verdict["mistake"], verdict


def test_check_right_answer_and_unknown_wrong_answer():
    right = _mistaken()
    text = "y=[" + ", ".join(f"{v:.6g}" for v in right["y"]) + "]"
    r = run_cli("bn-forward", "1", "2", "3", "4", "--gamma", "2", "--beta", "0.5", "--eps", "0.5",
                "--check", text, "--json")
    assert r.code == 0, r.stdout
    assert r.json()["check"]["y"]["ok"] is True
    r = run_cli("bn-forward", "1", "2", "3", "4", "--check", "running_mean=0.37", "--json")
    assert r.code == 1
    assert r.json()["check"]["running_mean"]["mistake"] is None


# --------------------------------------------------------------------------- --convention keras


def test_keras_moving_statistics_of_a_fresh_layer():
    """Keras: moving = 0.99·moving + 0.01·batch statistic, the variance biased, ε = 1e-3:
    for 1 2 3 4 from moving_mean 0, moving_variance 1: 0.01·2.5 and 0.99 + 0.01·1.25."""
    out = run_cli("bn-forward", "1", "2", "3", "4", "--convention", "keras", "--json").json()
    assert sympy.sympify(out["exact"]["running_mean"]) == sympy.Rational(1, 40)
    assert sympy.sympify(out["exact"]["running_var"]) == sympy.Rational(401, 400)  # 1.0025
    assert out["result"]["running_var"] == 1.0025
    assert out["inputs"]["eps"] == "1/1000" and out["inputs"]["momentum"] == "99/100"
    assert out["inputs"]["convention"] == "keras"
    expected = [(x - 2.5) / math.sqrt(1.25 + 1e-3) for x in (1, 2, 3, 4)]
    assert_close(out["result"]["x_hat"], expected)
    conv = out["conventions"]
    assert "keras.layers.BatchNormalization" in conv["layout"]
    assert "biased (1/m) batch variance in the moving-variance update" in conv["variance"]
    assert "0.99" in conv["running statistics"] and "1e-3" in conv["epsilon"]


def test_torch_momentum_0_01_reproduces_keras_for_the_mean_not_the_variance():
    torch = run_cli("bn-forward", "1", "2", "3", "4", "--momentum", "0.01", "--eps", "1e-3", "--json").json()
    keras = run_cli("bn-forward", "1", "2", "3", "4", "--convention", "keras", "--json").json()
    assert torch["result"]["running_mean"] == keras["result"]["running_mean"] == 0.025
    # PyTorch: 0.99 + 0.01·(4/3)·1.25 (the unbiased variance); Keras: 0.99 + 0.01·1.25
    assert sympy.sympify(torch["exact"]["running_var"]) == sympy.Rational(99, 100) + sympy.Rational(1, 60)
    assert keras["result"]["running_var"] == 1.0025
    text = torch["conventions"]["running statistics"]
    assert "--momentum 0.01 gives Keras's moving mean, not its moving variance" in text


def test_keras_given_eps_and_momentum_override_its_defaults():
    X = [[1, 2], [3, -1], [0.5, 4], [2, 0]]
    r = run_cli("bn-forward", "--x", mat_text(X), "--convention", "keras", "--eps", "1e-5", "--momentum", "0.9",
                "--running-mean", "[0.5, -1]", "--running-var", "[2, 0.5]", "--gamma", "[2, 1]", "--beta", "[0, 1]",
                "--json")
    assert r.code == 0, r.stdout + r.stderr
    ref = ref_forward(X, [2, 1], [0, 1], 1e-5, rm=[0.5, -1], rv=[2, 0.5], momentum=0.9, keras=True)
    for key in RESULT_KEYS:
        assert_close(r.json()["result"][key], ref[key], path=key)


def test_keras_eval_mode_uses_its_eps_and_keeps_the_moving_statistics():
    r = run_cli("bn-forward", "1", "2", "3", "--eval", "--convention", "keras", "--running-mean", "1",
                "--running-var", "4", "--json")
    assert r.code == 0, r.stdout + r.stderr
    ref = ref_forward(col([1, 2, 3]), 1, 0, 1e-3, train=False, rm=1, rv=4)
    out = r.json()
    assert_close(out["result"]["x_hat"], flat(ref["x_hat"]))
    assert out["exact"]["running_mean"] == "1" and out["exact"]["running_var"] == "4"


def test_keras_big_batch_numeric_path():
    X, G = _random_batch(40, 3, seed=5)  # 120 entries: the numeric path
    r = run_cli("bn-forward", "--x", mat_text(X), "--grad-out", mat_text(G), "--convention", "keras",
                "--running-var", "[1, 2, 3]", "--json")
    assert r.code == 0, r.stdout + r.stderr
    out = r.json()
    assert any("numeric path" in n for n in out["notes"])
    ref = ref_forward(X, 1, 0, 1e-3, rv=[1, 2, 3], momentum=0.99, keras=True)
    for key in RESULT_KEYS:
        assert_close(out["result"][key], ref[key], rtol=1e-13, atol=1e-15, path=key)
    grads = ref_grads(X[:5], G[:5], 1, 0, 1e-3)  # the gradients do not depend on the convention:
    small = run_cli("bn-forward", "--x", mat_text(X[:5]), "--grad-out", mat_text(G[:5]), "--convention", "keras",
                    "--json").json()["result"]
    assert_close(small["grad_x"], grads["grad_x"], rtol=1e-10, atol=1e-12)


def test_keras_help_states_the_defaults():
    r = run_cli("bn-forward", "--help")
    assert r.code == 0
    text = " ".join(r.stdout.split())
    for piece in ("default 1e-5 (torch), 1e-3 (--convention keras)", "default 0.1", "default 0.99",
                  "torch (torch.nn.BatchNorm1d) or keras"):
        assert piece in text, piece


@pytest.mark.parametrize("value", ["tf", "", "Keras3", "torch keras"])
def test_unknown_convention_is_exit_2(value):
    r = run_cli("bn-forward", "1", "2", "--convention", value, "--json")
    assert r.code == 2
    assert r.json()["error"]["option"] == "--convention"


def test_convention_is_case_insensitive():
    a = run_cli("bn-forward", "1", "2", "--convention", "KERAS", "--json").json()["result"]
    b = run_cli("bn-forward", "1", "2", "--convention", "keras", "--json").json()["result"]
    assert a == b


@pytest.mark.parametrize("key,given,mistake", [
    # PyTorch's unbiased variance in Keras's update: 0.99·1 + 0.01·(4/3)·1.25
    ("running_var", 0.99 + 0.01 * 5 / 3, "unbiased variance (1/(m − 1)) in the moving-variance update"),
    # PyTorch's momentum formula with Keras's 0.99: 0.01·0 + 0.99·2.5
    ("running_mean", 0.99 * 2.5, "PyTorch's momentum"),
    ("running_var", 0.01 * 1 + 0.99 * 1.25, "PyTorch's momentum"),
    ("x_hat", [(x - 2.5) / math.sqrt(1.25) for x in (1, 2, 3, 4)], "forgot ε"),
])
def test_keras_check_names_its_mistakes(key, given, mistake):
    text = f"{key}=[{', '.join(f'{v:.6g}' for v in given)}]" if isinstance(given, list) else f"{key}={given:.6g}"
    r = run_cli("bn-forward", "1", "2", "3", "4", "--convention", "keras", "--check", text, "--json")
    assert r.code == 1, r.stdout + r.stderr
    verdict = r.json()["check"][key]
    assert verdict["mistake"] is not None and mistake in verdict["mistake"], verdict


def test_each_convention_calls_the_other_ones_moving_variance_a_mistake():
    # Keras's right answer (0.99·1 + 0.01·1.25) is right under keras ...
    r = run_cli("bn-forward", "1", "2", "3", "4", "--convention", "keras", "--check", "running_var=1.0025", "--json")
    assert r.code == 0, r.stdout
    # ... and under torch with --momentum 0.01 it is the biased variance in the running update
    r = run_cli("bn-forward", "1", "2", "3", "4", "--momentum", "0.01", "--eps", "1e-3", "--check",
                "running_var=1.0025", "--json")
    assert r.code == 1
    assert "biased variance (1/m) instead of the unbiased one" in r.json()["check"]["running_var"]["mistake"]
    # PyTorch's right answer (0.99 + 0.01·(4/3)·1.25) is right under torch, a mistake under keras
    pytorch = 0.99 + 0.01 * 5 / 3
    r = run_cli("bn-forward", "1", "2", "3", "4", "--momentum", "0.01", "--check", f"running_var={pytorch:.10g}")
    assert r.code == 0
    r = run_cli("bn-forward", "1", "2", "3", "4", "--convention", "keras", "--check",
                f"running_var={pytorch:.10g}", "--json")
    assert "PyTorch's unbiased variance" in r.json()["check"]["running_var"]["mistake"]


# --------------------------------------------------------------------------- one code path


def _solution(*args):
    from conftest import solution_of

    return solution_of(["bn-forward", *args])


@pytest.mark.parametrize("args", [
    ["1", "2", "3", "4"],
    ["1", "2", "3", "4", "--convention", "keras", "--gamma", "2", "--beta", "0.5", "--grad-out", "[1, 0, 0, 0]"],
    ["2", "-1", "0.5", "--grad-out", "[1, 2, -3]", "--gamma", "-1.5", "--beta", "2", "--eps", "0.25"],
    ["--x", "[[1, 2], [3, -1], [0.5, 4]]", "--eval", "--running-mean", "[0.5, 1]", "--running-var", "[2, 0.25]",
     "--grad-out", "[[1, 0], [0, 1], [2, -1]]", "--gamma", "[1, 3]"],
    [str(v) for v in (1, 4, 2, 8, 5, 7, 3, 6, 9, 0.5, 1.5, 2.5)] + ["--grad-out", str([1, -1] * 6)],  # sums elided
    ["a", "b", "3", "--eps", "epsilon", "--gamma", "g", "--grad-out", "[1, u, 0]"],
    ["sqrt(2)", "1", "3", "--grad-out", "[1, 2, 3]", "--gamma", "sqrt(3)"],
])
def test_every_substituted_line_of_the_working_is_true(args):
    from test_steps import inconsistent_steps

    sol = _solution(*args)
    assert not inconsistent_steps(sol)
    checked = [s for s in sol.steps if s.substituted is not None and s.value is not None]
    assert len(checked) >= 0.7 * len(sol.steps), (len(checked), len(sol.steps))


def test_the_numeric_path_working_is_true_and_short():
    from test_steps import inconsistent_steps

    X, G = _random_batch(70, 3, seed=7)
    for flags in ([], ["--eval"], ["--convention", "keras"]):
        sol = _solution("--x", mat_text(X), "--grad-out", mat_text(G), "--gamma", "[1.5, -0.5, 2]", *flags)
        assert not inconsistent_steps(sol)
        assert len(sol.steps) < 40
        assert any(s.section == "feature 1 of 3, rows 1–3 of 70" for s in sol.steps)
        assert any(s.section == "every feature" for s in sol.steps)


@pytest.mark.parametrize("flags", [{}, {"unbiased_norm": True}, {"shift_first": True}, {"biased_running": True}])
def test_exact_and_numeric_paths_are_the_same_arithmetic(flags):
    """The same batch worked by both arithmetics (the numeric one forced) agrees."""
    X, G = _random_batch(6, 2, seed=9)
    inp = ex.Inputs([[Fraction(str(v)) for v in r] for r in X], grad_out=[[Fraction(str(v)) for v in r] for r in G],
                    gamma=[Fraction(3, 2), Fraction(-1, 2)], beta=Fraction(1, 4), running_var=Fraction(2))
    exact = ex.solve(inp, **flags).result
    saved = ex.EXACT_MAX
    ex.EXACT_MAX = 0
    try:
        numeric = ex.solve(inp, **flags).result
    finally:
        ex.EXACT_MAX = saved
    def floats(v):
        return [floats(e) for e in v] if isinstance(v, list) else float(v)

    for key in exact:
        assert_close(floats(numeric[key]), floats(exact[key]), rtol=1e-14, path=key)
    assert numeric["mean"] == exact["mean"] and numeric["running_var"] == exact["running_var"]


def test_shift_first_mistake_leaves_grad_x_as_it_is():
    """Under y = γ·(x̂ + β) the gradient through x̂ is still γ·g: only ∂L/∂β and ∂L/∂γ change."""
    inp = ex.Inputs(col([Fraction(1), Fraction(2), Fraction(4)]), single=True, gamma=2, beta=Fraction(1, 2),
                    grad_out=[Fraction(1), Fraction(-1, 2), Fraction(2)])
    right, wrong = ex.solve(inp).result, ex.solve(inp, shift_first=True).result
    assert wrong["grad_x"] == right["grad_x"]
    assert wrong["grad_beta"] == 2 * right["grad_beta"]


# --------------------------------------------------------------------------- any input


def test_any_option_values_end_in_0_1_or_2():
    from hypothesis import HealthCheck, given, settings, strategies as st

    values = st.sampled_from(["1", "-2", "0.5", "x", "1e-3", "0", "[1, 2]", "", "nan", "2/3", "1e400", "keras"])

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batch=st.lists(values, min_size=0, max_size=4), conv=st.sampled_from(["torch", "keras", "Keras", "tf"]),
           eps=st.none() | values, momentum=st.none() | values, eval_=st.booleans(), grad=st.none() | values)
    def run(batch, conv, eps, momentum, eval_, grad):
        args = [*batch, "--convention", conv]
        for opt, v in (("--eps", eps), ("--momentum", momentum), ("--grad-out", grad)):
            if v is not None:
                args += [opt, v]
        r = run_cli("bn-forward", *args, *(["--eval"] if eval_ else []), "--json")
        assert r.code in (0, 1, 2), (args, r.stdout[-300:])
        assert "Traceback" not in r.stdout + r.stderr
        out = json.loads(r.stdout)
        assert ("error" in out) == (r.code == 2)

    run()
