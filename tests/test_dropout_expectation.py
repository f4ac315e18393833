"""dropout-expectation: expected loss under noise = data term + L2-like penalty.

Oracles (never the program's own output):
* the closed forms of issues 7 and 21, written out here by hand:
    gaussian            E[J] = c (y - Σ w u)^2   + c α Σ w² u²    (or c Σ α_k w_k² u_k²)
    bernoulli inverted  E[J] = c (y - Σ w u)^2   + c (1 - p)/p Σ w² u²
    bernoulli classic   E[J] = c (y - p Σ w u)^2 + c p (1 - p) Σ w² u²
    additive (inputs)   E[J] = c (y - Σ w u)^2   + c σ² Σ w²      (Tikhonov, Bishop 1995)
  in exact Fractions for numbers and in SymPy for the symbolic n = 1, 2, 3 cases;
* central finite differences of that closed form for the gradient (E[J] is quadratic in
  each w_k, so an exact-arithmetic central difference equals the derivative exactly);
* the Monte Carlo estimate against the exact value, within 4 standard errors;
* sympy.stats' own integration (E of a Normal / Bernoulli expression) for the
  one-weight (one-input) moments the working shows.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest
import sympy

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli, run_json, solution_of
from dlcalc.board import unshow
from dlcalc.core import Math

CMD = "dropout-expectation"
KEYS = {"expected_loss", "data_term", "penalty", "grad_w"}


# --------------------------------------------------------------------------- oracles


def closed_form(y, u, w, noise, level, inverted=True, c=1):
    """(data term, penalty) of the issue's closed forms; works for Fractions and SymPy."""
    swu = sum(wi * ui for wi, ui in zip(w, u))
    sw2u2 = sum(wi**2 * ui**2 for wi, ui in zip(w, u))
    if noise == "additive":
        return c * (y - swu) ** 2, c * level * sum(wi**2 for wi in w)
    if noise == "gaussian" and isinstance(level, (list, tuple)):
        return c * (y - swu) ** 2, c * sum(a * wi**2 * ui**2 for a, wi, ui in zip(level, w, u))
    if noise == "gaussian":
        return c * (y - swu) ** 2, c * level * sw2u2
    p = level
    if inverted:
        return c * (y - swu) ** 2, c * (1 - p) / p * sw2u2
    return c * (y - p * swu) ** 2, c * p * (1 - p) * sw2u2


def fd_grad(y, u, w, noise, level, inverted=True, c=1, h=Fraction(1, 1000)):
    """Central differences of the closed-form E[J] (exact: E[J] is quadratic in each w_k)."""
    out = []
    for k in range(len(w)):
        up = list(w)
        dn = list(w)
        up[k] += h
        dn[k] -= h
        f_up = sum(closed_form(y, u, up, noise, level, inverted, c))
        f_dn = sum(closed_form(y, u, dn, noise, level, inverted, c))
        out.append((f_up - f_dn) / (2 * h))
    return out


def fr(text: str) -> Fraction:
    return Fraction(text)


def vec(xs) -> str:
    return "[" + ", ".join(str(x) for x in xs) + "]"


def args_for(y, u, w, noise, level, inverted=True, half=False):
    a = ["--y", str(y), "--u", vec(u), "--w", vec(w), "--noise", noise]
    option = {"gaussian": "--alpha", "bernoulli": "--p", "additive": "--sigma2"}[noise]
    a += [option, vec(level) if isinstance(level, (list, tuple)) else str(level)]
    if noise == "bernoulli" and not inverted:
        a.append("--no-inverted")
    if half:
        a.append("--half")
    return a


def dropout_json(*args):
    return run_json(CMD, *args)


MODELS = [("gaussian", True), ("bernoulli", True), ("bernoulli", False), ("additive", True)]


def _random_case(rng: random.Random, n: int, noise: str):
    y = Fraction(rng.randint(-300, 300), 100)
    u = [Fraction(rng.randint(-300, 300), 100) for _ in range(n)]
    w = [Fraction(rng.randint(-300, 300), 100) for _ in range(n)]
    level = Fraction(rng.randint(1, 100), 100) if noise == "bernoulli" else Fraction(rng.randint(0, 200), 100)
    return y, u, w, level


# --------------------------------------------------------------------------- numbers


def test_worked_example_by_hand():
    # y = 1, u = [1, 2, -1], w = [0.5, -0.25, 1], alpha = 0.1:
    # Σ w u = 0.5 - 0.5 - 1 = -1, residual 2, data 4; penalty 0.1 (0.25 + 0.25 + 1) = 0.15
    # grad_k = -2 u_k r + 2 α u_k² w_k = [-4 + 0.1, -8 - 0.2, 4 + 0.2]
    out = dropout_json("--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "0.1")
    assert set(out["result"]) == KEYS
    assert out["exact"] == {"expected_loss": "83/20", "data_term": "4", "penalty": "3/20",
                            "grad_w": "[-39/10, -41/5, 21/5]"}
    assert out["result"]["expected_loss"] == pytest.approx(4.15, rel=1e-15)
    assert out["result"]["grad_w"] == pytest.approx([-3.9, -8.2, 4.2], rel=1e-15)


@pytest.mark.parametrize("noise,inverted", MODELS)
@pytest.mark.parametrize("half", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_numeric_matches_closed_form(noise, inverted, half, n):
    rng = random.Random(1000 * n + 10 * half + inverted + (noise == "gaussian") + 3 * (noise == "additive"))
    y, u, w, level = _random_case(rng, n, noise)
    c = Fraction(1, 2) if half else 1
    data, pen = closed_form(y, u, w, noise, level, inverted, c)
    out = dropout_json(*args_for(y, u, w, noise, level, inverted, half))
    res, exact = out["result"], out["exact"]
    # exact agreement (the program works in rationals) ...
    assert fr(exact["data_term"]) == data
    assert fr(exact["penalty"]) == pen
    assert fr(exact["expected_loss"]) == data + pen
    # ... and the JSON numbers to 1e-12
    for key, want in (("data_term", data), ("penalty", pen), ("expected_loss", data + pen)):
        assert res[key] == pytest.approx(float(want), rel=1e-12, abs=1e-12), key


@pytest.mark.parametrize("noise,inverted", MODELS)
@pytest.mark.parametrize("half", [False, True])
def test_gradient_matches_finite_differences(noise, inverted, half):
    rng = random.Random(7 + half + 2 * inverted)
    y, u, w, level = _random_case(rng, 4, noise)
    c = Fraction(1, 2) if half else 1
    want = fd_grad(y, u, w, noise, level, inverted, c)
    out = dropout_json(*args_for(y, u, w, noise, level, inverted, half))
    got_exact = [fr(s) for s in out["exact"]["grad_w"].strip("[]").split(",")]
    assert got_exact == want
    assert out["result"]["grad_w"] == pytest.approx([float(g) for g in want], rel=1e-12, abs=1e-12)
    # and a plain float central difference, step 1e-6, as a second opinion
    f = lambda ws: float(sum(closed_form(y, u, ws, noise, level, inverted, c)))  # noqa: E731
    h = 1e-6
    for k in range(len(w)):
        up = [float(x) for x in w]
        dn = list(up)
        up[k] += h
        dn[k] -= h
        fd = (f([Fraction(x) for x in up]) - f([Fraction(x) for x in dn])) / (2 * h)
        assert out["result"]["grad_w"][k] == pytest.approx(fd, rel=1e-6, abs=1e-6)


def test_half_halves_everything():
    base = args_for(2, [1, 3], [Fraction(1, 2), -1], "bernoulli", Fraction(4, 5))
    one = dropout_json(*base)["result"]
    half = dropout_json(*base, "--half")["result"]
    for key in ("expected_loss", "data_term", "penalty"):
        assert half[key] == pytest.approx(one[key] / 2, rel=1e-15)
    assert half["grad_w"] == pytest.approx([g / 2 for g in one["grad_w"]], rel=1e-15)


def test_inverted_is_default_and_differs_from_classic():
    base = ["--y", "2", "--u", "[1, 3]", "--w", "[0.5, -1]", "--noise", "bernoulli", "--p", "0.8"]
    default = dropout_json(*base)["exact"]
    inverted = dropout_json(*base, "--inverted")["exact"]
    classic = dropout_json(*base, "--no-inverted")["exact"]
    assert default == inverted
    # inverted: r = 2 - (0.5 - 3) = 4.5, penalty 0.25 · (0.25 + 9); classic: r = 2 + 0.8·2.5 = 4
    assert inverted["data_term"] == "81/4" and inverted["penalty"] == "37/16"
    assert classic["data_term"] == "16" and fr(classic["penalty"]) == Fraction(4, 5) * Fraction(1, 5) * Fraction(37, 4)


def test_edge_levels():
    # alpha = 0: no noise, no penalty; p = 1: dropout keeps everything
    out = dropout_json("--y", "1", "--u", "[2]", "--w", "[3]", "--alpha", "0")
    assert out["exact"]["penalty"] == "0" and out["exact"]["expected_loss"] == "25"
    out = dropout_json("--y", "1", "--u", "[2]", "--w", "[3]", "--noise", "bernoulli", "--p", "1", "--no-inverted")
    assert out["exact"]["penalty"] == "0" and out["exact"]["expected_loss"] == "25"


def test_input_noise_by_hand():
    # y = 1, u = [1, 2, -1], w = [0.5, -0.25, 1], σ² = 0.25: residual 2, data 4;
    # penalty σ²·Σ w² = 0.25·(0.25 + 0.0625 + 1) = 21/64; grad_k = -2 u_k r + 2 σ² w_k
    out = dropout_json("--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--noise", "additive",
                       "--sigma2", "0.25")
    assert set(out["result"]) == KEYS
    assert out["exact"] == {"expected_loss": "277/64", "data_term": "4", "penalty": "21/64",
                            "grad_w": "[-15/4, -65/8, 9/2]"}
    assert out["inputs"]["sigma2"] == "1/4"
    assert "N(0, σ²)" in out["conventions"]["noise"]


def test_one_alpha_per_weight_by_hand():
    # δ_k ~ N(0, α_k w_k²), α = [0.1, 0.2, 0.3]: penalty Σ α_k w_k² u_k² = 0.025 + 0.05 + 0.3 = 3/8;
    # grad_k = -2 u_k r + 2 α_k u_k² w_k = [-4 + 0.1, -8 - 0.4, 4 + 0.6]
    out = dropout_json("--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "[0.1, 0.2, 0.3]")
    assert out["exact"] == {"expected_loss": "35/8", "data_term": "4", "penalty": "3/8",
                            "grad_w": "[-39/10, -42/5, 23/5]"}
    assert out["inputs"]["alpha"] == "[1/10, 1/5, 3/10]"
    assert "α_k" in out["conventions"]["noise"]


def test_equal_alphas_are_one_alpha():
    base = ["--y", "0.5", "--u", "[1, -2, 3]", "--w", "[0.25, 1, -0.5]"]
    one = dropout_json(*base, "--alpha", "0.3")
    each = dropout_json(*base, "--alpha", "[0.3, 0.3, 0.3]")
    assert [fr(x) for x in (one["exact"]["expected_loss"], one["exact"]["penalty"])] == \
        [fr(x) for x in (each["exact"]["expected_loss"], each["exact"]["penalty"])]
    assert one["result"]["grad_w"] == each["result"]["grad_w"]


@pytest.mark.parametrize("half", [False, True])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_alpha_per_weight_matches_closed_form(half, n):
    rng = random.Random(500 + 10 * n + half)
    y, u, w, _ = _random_case(rng, n, "gaussian")
    alphas = [Fraction(rng.randint(0, 200), 100) for _ in range(n)]
    c = Fraction(1, 2) if half else 1
    data, pen = closed_form(y, u, w, "gaussian", alphas, c=c)
    out = dropout_json(*args_for(y, u, w, "gaussian", alphas, half=half))
    assert fr(out["exact"]["data_term"]) == data and fr(out["exact"]["penalty"]) == pen
    assert [fr(g) for g in out["exact"]["grad_w"].strip("[]").split(",")] == \
        fd_grad(y, u, w, "gaussian", alphas, c=c)


# --------------------------------------------------------------------------- symbols


def _symbols(n, level_name):
    names = ["y", level_name] + [f"u{k}" for k in range(1, n + 1)] + [f"w{k}" for k in range(1, n + 1)]
    return {name: sympy.Symbol(name, real=True) for name in names}


def _parse(text, syms):
    # the consumer trusts dlcalc's `exact` strings (interface.md); this is our own output
    return sympy.sympify(text, locals=syms)


@pytest.mark.parametrize("noise,inverted", MODELS)
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("half", [False, True])
def test_symbolic_equals_closed_form(noise, inverted, n, half):
    level_name = {"gaussian": "alpha", "bernoulli": "p", "additive": "sigma2"}[noise]
    syms = _symbols(n, level_name)
    y, a = syms["y"], syms[level_name]
    u = [syms[f"u{k}"] for k in range(1, n + 1)]
    w = [syms[f"w{k}"] for k in range(1, n + 1)]
    c = sympy.Rational(1, 2) if half else 1
    args = ["--n", str(n), "--noise", noise]
    if noise == "bernoulli" and not inverted:
        args.append("--no-inverted")
    if half:
        args.append("--half")
    out = dropout_json(*args)
    data, pen = closed_form(y, u, w, noise, a, inverted, c)
    ex = out["exact"]
    assert sympy.simplify(_parse(ex["data_term"], syms) - data) == 0
    assert sympy.simplify(_parse(ex["penalty"], syms) - pen) == 0
    assert sympy.simplify(_parse(ex["expected_loss"], syms) - (data + pen)) == 0
    grads = _parse(ex["grad_w"], syms)
    assert len(grads) == n
    for k in range(n):
        assert sympy.simplify(grads[k] - sympy.diff(data + pen, w[k])) == 0
    # symbolic results are strings in `result`
    assert isinstance(out["result"]["expected_loss"], str)


def test_symbolic_vector_entries_and_level():
    out = dropout_json("--y", "t", "--u", "[a, 2]", "--w", "[1, b]", "--alpha", "lam")
    syms = {s: sympy.Symbol(s, real=True) for s in ("t", "a", "b", "lam")}
    t, a, b, lam = syms["t"], syms["a"], syms["b"], syms["lam"]
    want = (t - a - 2 * b) ** 2 + lam * (a**2 + 4 * b**2)
    assert sympy.expand(_parse(out["exact"]["expected_loss"], syms) - want) == 0
    grads = _parse(out["exact"]["grad_w"], syms)
    assert sympy.expand(grads[1] - sympy.diff(want, b)) == 0


def test_n_mixes_with_numbers():
    out = dropout_json("--n", "2", "--y", "1", "--alpha", "0.5")
    syms = _symbols(2, "alpha")
    u1, u2, w1, w2 = (syms[k] for k in ("u1", "u2", "w1", "w2"))
    want = (1 - w1 * u1 - w2 * u2) ** 2 + sympy.Rational(1, 2) * (w1**2 * u1**2 + w2**2 * u2**2)
    assert sympy.expand(_parse(out["exact"]["expected_loss"], syms) - want) == 0


def test_symbolic_alpha_per_weight():
    out = dropout_json("--n", "2", "--alpha", "[a, b]")
    syms = {name: sympy.Symbol(name, real=True) for name in ("y", "a", "b", "u1", "u2", "w1", "w2")}
    y, a, b, u1, u2, w1, w2 = (syms[k] for k in ("y", "a", "b", "u1", "u2", "w1", "w2"))
    want = (y - w1 * u1 - w2 * u2) ** 2 + a * w1**2 * u1**2 + b * w2**2 * u2**2
    assert sympy.expand(_parse(out["exact"]["expected_loss"], syms) - want) == 0
    grads = _parse(out["exact"]["grad_w"], syms)
    assert all(sympy.expand(grads[k] - sympy.diff(want, (w1, w2)[k])) == 0 for k in range(2))
    assert out["conventions"]["symbols"] == "α is taken as ≥ 0"


def test_the_written_mgf_and_mask_moments_are_sympy_stats_own():
    """The working writes the Normal's MGF and the Bernoulli's moments out (sympy.stats is
    slow to import): they must be what sympy.stats gives."""
    from sympy.stats import E, Bernoulli, Normal, moment_generating_function

    from dlcalc.exercises.dropout_expectation import T, bernoulli_moment, normal_mgf, normal_mgf_derivatives

    sd, p = sympy.Symbol("s", positive=True), sympy.Symbol("p", positive=True)
    assert sympy.simplify(normal_mgf(sd) - moment_generating_function(Normal("z", 0, sd))(T)) == 0
    d1, d2 = normal_mgf_derivatives(sd)  # written by the chain rule: what SymPy differentiates
    assert sympy.simplify(d1 - sympy.diff(normal_mgf(sd), T)) == 0
    assert sympy.simplify(d2 - sympy.diff(normal_mgf(sd), T, 2)) == 0
    r = Bernoulli("r", p)
    assert [bernoulli_moment(p, j) for j in (1, 2, 3)] == [E(r), E(r**2), E(r**3)]


def test_moments_agree_with_sympy_stats_integration():
    """The working's one-weight moments, against sympy.stats.E computed here."""
    from sympy.stats import E, Bernoulli, Normal

    w, u = sympy.Symbol("w_k", real=True), sympy.Symbol("u_k", real=True)
    alpha, p = sympy.Symbol("alpha", positive=True), sympy.Symbol("p", positive=True)
    s2 = sympy.Symbol("sigma2", positive=True)
    delta = Normal("d", 0, sympy.sqrt(alpha) * sympy.Abs(w))
    eps = Normal("e", 0, sympy.sqrt(s2))
    r = Bernoulli("r", p)
    want = {
        ("gaussian", True): (E(w + delta), E((w + delta) ** 2)),
        ("bernoulli", True): (E(r * w / p), E((r * w / p) ** 2)),
        ("bernoulli", False): (E(r * w), E((r * w) ** 2)),
        ("additive", True): (E(u + eps), E((u + eps) ** 2)),
    }
    # the working derives with a symbol of its own for σ² (sigma__2, printed σ²)
    locs = {"w_k": w, "u_k": u, "alpha": alpha, "p": p, "sigma__2": s2}
    for (noise, inverted), (m1, m2) in want.items():
        args = ["--n", "1", "--noise", noise] + ([] if inverted else ["--no-inverted"])
        what = "input" if noise == "additive" else "weight"
        steps = {s["title"]: s for s in dropout_json(*args)["steps"]}
        value = lambda title: _parse(steps[title]["value"], locs)  # noqa: E731
        got1, got2 = value(f"first moment of a noisy {what}"), value(f"second moment of a noisy {what}")
        assert sympy.simplify(got1 - m1) == 0, noise
        assert sympy.simplify(got2 - m2) == 0, noise
        var = value(f"variance of a noisy {what}")
        assert sympy.simplify(var - (m2 - m1**2)) == 0


# --------------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("noise,inverted", MODELS)
def test_monte_carlo_within_four_standard_errors(noise, inverted):
    y, u, w = Fraction(1, 2), [Fraction(1), Fraction(-2), Fraction(3, 2)], [Fraction(3, 4), Fraction(1, 2), Fraction(-1)]
    level = Fraction(7, 10) if noise == "bernoulli" else Fraction(3, 10)
    exact = float(sum(closed_form(y, u, w, noise, level, inverted)))
    out = dropout_json(*args_for(y, u, w, noise, level, inverted), "--samples", "20000", "--seed", "12345")
    res = out["result"]
    assert set(res) == KEYS | {"monte_carlo", "monte_carlo_se"}
    assert res["expected_loss"] == pytest.approx(exact, rel=1e-12)
    se = res["monte_carlo_se"]
    assert 0 < se < 0.05 * exact  # a real spread, and 20,000 samples pin it down
    assert abs(res["monte_carlo"] - exact) <= 4 * se
    # fixed seed: the same numbers again
    again = dropout_json(*args_for(y, u, w, noise, level, inverted), "--samples", "20000", "--seed", "12345")
    assert again["result"]["monte_carlo"] == res["monte_carlo"]
    other = dropout_json(*args_for(y, u, w, noise, level, inverted), "--samples", "20000", "--seed", "1")
    assert other["result"]["monte_carlo"] != res["monte_carlo"]


def test_monte_carlo_one_alpha_per_weight():
    y, u, w, alphas = Fraction(1), [Fraction(2), Fraction(-1)], [Fraction(1), Fraction(3, 2)], [Fraction(1, 10), Fraction(1)]
    exact = float(sum(closed_form(y, u, w, "gaussian", alphas)))
    res = dropout_json(*args_for(y, u, w, "gaussian", alphas), "--samples", "20000", "--seed", "7")["result"]
    assert res["expected_loss"] == pytest.approx(exact, rel=1e-12)
    assert 0 < res["monte_carlo_se"] and abs(res["monte_carlo"] - exact) <= 4 * res["monte_carlo_se"]


def test_monte_carlo_without_noise_has_zero_spread():
    out = dropout_json("--y", "1", "--u", "[2]", "--w", "[3]", "--alpha", "0", "--samples", "10")
    assert out["result"]["monte_carlo"] == 25.0 and out["result"]["monte_carlo_se"] == 0.0


def test_monte_carlo_shown_in_text():
    r = run_cli(CMD, "--y", "1", "--u", "[1, 2]", "--w", "[1, 1]", "--alpha", "0.5", "--samples", "1000")
    assert r.code == 0, r.stderr
    assert "Monte Carlo check (1,000 samples, seed 0)" in r.stdout
    assert "standard errors" in r.stdout and "monte_carlo_se" in r.stdout


# --------------------------------------------------------------------------- output forms


def test_text_shows_the_working():
    r = run_cli(CMD, "--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "0.1")
    assert r.code == 0, r.stderr
    out = r.stdout
    for piece in ("noise on one weight (Gaussian)", "M(t) = E[e^(t·δₖ)]", "E[δₖ^2] = M″(0)", "E[Xₖ] = E[wₖ + δₖ] = wₖ + E[δₖ]",
                  "E[Xₖ^2] = E[(wₖ + δₖ)^2] = wₖ^2 + 2·wₖ·E[δₖ] + E[δₖ^2]", "wₖ^2·(α + 1)",
                  "Var(Xₖ) = E[Xₖ^2] - E[Xₖ]^2", "cross terms (j ≠ k): independence", "E[Xⱼ·Xₖ] = E[Xⱼ]·E[Xₖ]",
                  "(y - Σₖ uₖ·E[Xₖ])^2 + Σₖ uₖ^2·Var(Xₖ)", "r = y - Σₖ wₖ·uₖ", "data term = r^2",
                  "penalty = α·Σₖ wₖ^2·uₖ^2", "0.1·(0.5^2·1^2 + (-0.25)^2·2^2 + 1^2·(-1)^2)", "λₖ = α·uₖ^2",
                  "∂E[J]/∂wₖ = 2·r·∂r/∂wₖ", "1 - (0.5·1 + (-0.25)·2 + 1·(-1))", "expected_loss = 4.15",
                  "grad_w = [-3.9, -8.2, 4.2]"):
        assert piece in out, piece


def test_text_bernoulli_readings():
    r = run_cli(CMD, "--n", "2", "--noise", "bernoulli", "--no-inverted")
    assert r.code == 0, r.stderr
    assert "mask on one weight (Bernoulli)" in r.stdout
    assert "E[rₖ] = 1·p + 0·(1 - p)" in r.stdout and "E[Xₖ] = E[rₖ·wₖ] = wₖ·E[rₖ]" in r.stdout
    assert "λₖ = p·(1 - p)·uₖ^2" in r.stdout and "r = y - p·Σₖ wₖ·uₖ" in r.stdout
    r = run_cli(CMD, "--n", "2", "--noise", "bernoulli", "--half")
    assert "λₖ = ½·((1 - p)/p)·uₖ^2" in r.stdout and "E[Xₖ] = E[rₖ·wₖ/p] = wₖ·E[rₖ]/p" in r.stdout


def test_text_input_noise_reads_as_ridge():
    r = run_cli(CMD, "--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--noise", "additive",
                "--sigma2", "0.25")
    assert r.code == 0, r.stderr
    out = r.stdout
    for piece in ("noise on one input (Gaussian)", "M(t) = E[e^(t·εₖ)]", "E[x̃ₖ] = E[uₖ + εₖ] = uₖ + E[εₖ]",
                  "Var(x̃ₖ) = E[x̃ₖ^2] - E[x̃ₖ]^2", "(y - Σₖ wₖ·E[x̃ₖ])^2 + Σₖ wₖ^2·Var(x̃ₖ)", "penalty = σ²·Σₖ wₖ^2",
                  "0.25·(0.5^2 + (-0.25)^2 + 1^2)", "λₖ = σ²", "ridge regression (Tikhonov", "Bishop 1995",
                  "sigma2 = 0.25", "expected_loss = 4.328125"):
        assert piece in out, piece


def test_json_shape():
    out = dropout_json("--y", "1", "--u", "[1, 2]", "--w", "[1, 1]", "--alpha", "0.5")
    assert out["command"] == CMD
    assert set(out["result"]) == set(out["exact"]) == KEYS
    assert isinstance(out["result"]["grad_w"], list) and len(out["result"]["grad_w"]) == 2
    assert {"loss", "noise", "split", "gradient"} <= set(out["conventions"])
    assert out["inputs"]["alpha"] == "1/2"
    assert all({"title", "formula", "substituted", "value"} <= set(s) for s in out["steps"])


def test_latex_is_an_align_block():
    r = run_cli(CMD, "--y", "1", "--u", "[1, 2]", "--w", "[1, 1]", "--alpha", "0.5", "--latex")
    assert r.code == 0, r.stderr
    text = r.stdout.strip()
    assert text.startswith(r"\begin{align*}") and text.endswith(r"\end{align*}")
    assert r"\mathbb{E}[\delta_{k}^{2}] = M''(0)" in text
    assert r"\frac{\partial \mathbb{E}[J]}{\partial w_{k}}" in text and r"\sum_{j \ne k}" in text


# --------------------------------------------------------------------------- bad input


BAD = [
    (["--u", "[1, 2]", "--w", "[1, 2, 3]"], "--w", "one length"),
    (["--u", "[1]", "--w", "[1]", "--alpha", "-1"], "--alpha", ">= 0"),
    (["--u", "[1]", "--w", "[1]", "--alpha", "1 - sqrt(2)"], "--alpha", ">= 0"),
    (["--u", "[1]", "--w", "[1]", "--noise", "bernoulli", "--p", "0"], "--p", "(0, 1]"),
    (["--u", "[1]", "--w", "[1]", "--noise", "bernoulli", "--p", "1.5"], "--p", "(0, 1]"),
    (["--u", "[1]", "--w", "[1]", "--noise", "bernoulli", "--p", "-0.2"], "--p", "(0, 1]"),
    (["--n", "51"], "--n", "between 1 and 50"),
    (["--n", "0"], "--n", "between 1 and 50"),
    (["--n", "2", "--samples", "10"], "--samples", "symbolic"),
    (["--y", "1", "--u", "[1]", "--w", "[a]", "--alpha", "1", "--samples", "10"], "--samples", "symbolic: a"),
    (["--y", "1", "--u", "[1]", "--w", "[1]", "--alpha", "1", "--samples", "1000001"], "--samples", "1,000,000"),
    (["--y", "1", "--u", "[1, 2, 3, 4]", "--w", "[1, 2, 3, 4]", "--alpha", "1", "--samples", "1000000"],
     "--samples", "3,000,000"),
    (["--y", "1", "--u", "[1]", "--w", "[1]", "--alpha", "1", "--samples", "1"], "--samples", "between 2"),
    (["--n", "1", "--seed", "3"], "--seed", "--samples"),
    (["--noise", "uniform", "--n", "1"], "--noise", "gaussian, bernoulli or additive"),
    (["--n", "1", "--sigma2", "0.5"], "--sigma2", "--noise additive"),
    (["--n", "1", "--noise", "additive", "--alpha", "0.5"], "--alpha", "takes --sigma2"),
    (["--n", "1", "--noise", "additive", "--p", "0.5"], "--p", "takes --sigma2"),
    (["--n", "1", "--noise", "bernoulli", "--sigma2", "0.5"], "--sigma2", "takes --p"),
    (["--n", "1", "--noise", "additive", "--no-inverted"], "--no-inverted", "bernoulli"),
    (["--u", "[1]", "--w", "[1]", "--noise", "additive", "--sigma2", "-0.1"], "--sigma2", ">= 0"),
    (["--u", "[1]", "--w", "[1]", "--noise", "additive", "--sigma2", "[1, 2]"], "--sigma2", "scalar"),
    (["--u", "[1, 2]", "--w", "[1, 2]", "--alpha", "[0.1, 0.2, 0.3]"], "--alpha", "one per weight"),
    (["--u", "[1, 2]", "--w", "[1, 2]", "--alpha", "[0.1, -0.2]"], "--alpha", ">= 0"),
    (["--n", "2", "--alpha", "[[1, 2], [3, 4]]"], "--alpha", "matrix"),
    (["--n", "1", "--noise", "Bernoulli", "--p", "2"], "--p", "(0, 1]"),
    (["--n", "1", "--p", "0.5"], "--p", "bernoulli"),
    (["--n", "1", "--noise", "bernoulli", "--alpha", "1"], "--alpha", "gaussian"),
    (["--n", "1", "--no-inverted"], "--no-inverted", "bernoulli"),
    (["--y", "[1, 2]", "--n", "1"], "--y", "scalar"),
    (["--u", "[]", "--w", "[1]"], "--u", "empty"),
    (["--n", "2", "--w", "[1, 2, 3]"], "--w", "--n is 2"),
    (["--alpha", "nan", "--n", "1"], "--alpha", "finite"),
    ([], "--w", "missing"),
    (["--n", "x"], "--n", "whole number"),
    (["--u", "[" + ", ".join(["a"] * 51) + "]"], "--w", "at most 50"),
]


@pytest.mark.parametrize("args,option,words", BAD, ids=[" ".join(a)[:40] for a, _, _ in BAD])
def test_bad_input_exit_2(args, option, words):
    r = run_cli(CMD, *args)
    assert r.code == 2, (r.stdout, r.stderr)
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: {option}"), line
    assert words in line, line
    rj = run_cli(CMD, *args, "--json")
    assert rj.code == 2
    err = json.loads(rj.stdout)["error"]
    assert err["option"] == option and words in err["message"]


# --------------------------------------------------------------------------- mistakes (--check)


def _verdict(*args):
    r = run_cli(CMD, *args, "--json")
    assert r.code in (0, 1), r.stdout + r.stderr
    return r.code, r.json()["check"]


ADD = ["--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--noise", "additive", "--sigma2", "0.25"]
Y1, U1, W1 = Fraction(1), [Fraction(1), Fraction(2), Fraction(-1)], [Fraction(1, 2), Fraction(-1, 4), Fraction(1)]
S2 = Fraction(1, 4)
DATA1 = (Y1 - sum(a * b for a, b in zip(W1, U1))) ** 2  # 4


@pytest.mark.parametrize("key,value,mistake", [
    # σ = √σ² = 1/2 where σ² belongs: penalty ½·Σ w²
    ("penalty", Fraction(1, 2) * sum(x * x for x in W1), "took the noise variance as σ instead of σ²"),
    # the penalty of weight noise, σ²·Σ w² u²
    ("expected_loss", DATA1 + S2 * sum(x * x * v * v for x, v in zip(W1, U1)), "mixed up noise on the inputs"),
    ("expected_loss", DATA1, "forgot the penalty"),
    # the σ-for-σ² gradient: 2σ·w_k in place of 2σ²·w_k, k = 3
    ("grad_w.2", -2 * U1[2] * 2 + 2 * Fraction(1, 2) * W1[2], "took the noise variance as σ instead of σ²"),
])
def test_input_noise_mistakes_are_named(key, value, mistake):
    code, verdict = _verdict(*ADD, "--check", f"{key}={value}")
    assert code == 1
    assert verdict[key]["mistake"].startswith(mistake), verdict[key]


def test_weight_noise_taken_for_input_noise_is_named():
    # --alpha 0.25 on the weights, answered with the input-noise penalty α·Σ w²
    args = ["--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "0.25"]
    code, verdict = _verdict(*args, "--check", f"penalty={S2 * sum(x * x for x in W1)}")
    assert code == 1 and verdict["penalty"]["mistake"].startswith("mixed up noise on the inputs")


def test_alpha_per_weight_linear_variance_is_named():
    # Var(δ_k) = α_k·w_k instead of α_k·w_k²: penalty Σ α_k w_k u_k²
    alphas = [Fraction(1, 10), Fraction(1, 5), Fraction(3, 10)]
    wrong = sum(a * x * v * v for a, x, v in zip(alphas, W1, U1))
    code, verdict = _verdict("--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "[0.1, 0.2, 0.3]",
                             "--check", f"penalty={wrong}")
    assert code == 1 and verdict["penalty"]["mistake"] == "took the noise variance as α·w_k instead of α·w_k²"


def test_right_input_noise_answer_passes():
    assert _verdict(*ADD, "--check", "expected_loss=277/64", "--check", "grad_w=[-3.75, -8.125, 4.5]")[0] == 0


# --------------------------------------------------------------------------- the working is true as written


STEP_CASES = [
    ["--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "0.1", "--half"],
    ["--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "[0.1, 0.2, 0.3]"],
    ["--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--noise", "additive", "--sigma2", "1/3", "--half"],
    ["--y", "2", "--u", "[1, 3]", "--w", "[0.5, -1]", "--noise", "bernoulli", "--p", "0.8", "--no-inverted"],
    ["--y", "2", "--u", "[1, 3]", "--w", "[0.5, -1]", "--noise", "bernoulli", "--p", "0.8", "--half"],
    ["--n", "2", "--y", "1", "--alpha", "0.5"],
    ["--n", "3", "--noise", "additive"],
    ["--n", "2", "--alpha", "[a, b]", "--half"],
    ["--y", "1", "--u", "[1, 2]", "--w", "[1, 1]", "--alpha", "0.5", "--samples", "100"],
]


@pytest.mark.parametrize("args", STEP_CASES, ids=[" ".join(a)[:50] for a in STEP_CASES])
def test_every_substituted_line_evaluates_to_its_value(args):
    solution = solution_of([CMD, *args])
    checked = 0
    for s in solution.steps:
        if s.substituted is None or s.value is None or isinstance(s.substituted, Math):
            continue
        lhs, rhs = unshow(s.substituted), s.value
        lhs, rhs = (lhs, rhs) if isinstance(rhs, list) else ([lhs], [rhs])
        assert len(lhs) == len(rhs), s.title
        for a, b in zip(lhs, rhs):
            assert sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0, (s.title, a, b)
        checked += 1
    assert checked >= 3  # the moments at least; the sums and the gradient where numbers are put in


# --------------------------------------------------------------------------- any input ends cleanly


_VALUES = st.sampled_from(["0", "1", "0.5", "-1", "2/3", "x", "1e400", "nan", "[1, 2]", "[0.1, 0.2, 0.3]", "[]",
                           "[[1]]", "a +", "", "1,2,3", "sqrt(2)"])
_OPTIONAL = st.one_of(st.none(), _VALUES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.sampled_from(["gaussian", "bernoulli", "additive", "Additive", "uniform"]),
       y=_OPTIONAL, u=_OPTIONAL, w=_OPTIONAL, n=st.sampled_from([None, "1", "3", "0", "x"]),
       alpha=_OPTIONAL, p=_OPTIONAL, sigma2=_OPTIONAL, half=st.booleans(),
       inverted=st.sampled_from([None, "--inverted", "--no-inverted"]),
       samples=st.sampled_from([None, "2", "50", "1"]), seed=st.sampled_from([None, "0", "-1"]))
def test_any_options_end_in_an_answer_or_one_clear_error(noise, y, u, w, n, alpha, p, sigma2, half, inverted,
                                                         samples, seed):
    args = ["--noise", noise]
    for option, value in (("--y", y), ("--u", u), ("--w", w), ("--n", n), ("--alpha", alpha), ("--p", p),
                          ("--sigma2", sigma2), ("--samples", samples), ("--seed", seed)):
        if value is not None:
            args += [option, value]
    args += (["--half"] if half else []) + ([inverted] if inverted else [])
    r = run_cli(CMD, *args, "--json")
    assert r.code in (0, 1, 2), (args, r.stdout, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr
    out = r.json()  # exactly one JSON object
    if r.code == 2:
        assert set(out) == {"error"} and out["error"]["option"].startswith("--")
    else:
        assert set(out["result"]) >= KEYS


def _golden_mistakes():
    from pathlib import Path

    doc = json.loads((Path(__file__).parent / "golden" / "dropout-expectation.json").read_text())
    return [(case["args"], name, values) for case in doc["cases"] for name, values in case.get("mistakes", {}).items()]


@pytest.mark.parametrize("args,mistake,values", _golden_mistakes(), ids=lambda x: x if isinstance(x, str) else None)
def test_oracle_mistakes_are_named(args, mistake, values):
    """The mistaken values the oracle (tests/oracle/gen_dropout.py) worked out are named by --check."""
    for key in ("expected_loss", "penalty"):
        code, verdict = _verdict(*args, "--check", f"{key}={values[key]!r}")
        assert code == 1 and verdict[key]["mistake"] == mistake, (key, verdict)
