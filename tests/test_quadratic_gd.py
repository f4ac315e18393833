"""quadratic-gd: gradient descent and Newton on f(w) = wᵀHw (issue 6).

Every expected number here comes from an oracle independent of the program: hand-derived
closed forms (diagonal H, 2x2 eigenvalues, the tridiagonal Toeplitz eigensystem), a plain
Fraction loop of w ← w − εMw, or the NumPy golden fixture (tests/golden/quadratic-gd.json,
checked by tests/test_golden.py; a few of its cases are re-used below).
"""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
import sympy

import functools

from conftest import close as _close, run_cli, run_json

GOLDEN = {c["id"]: c for c in json.loads(
    (Path(__file__).parent / "golden" / "quadratic-gd.json").read_text())["cases"]}
KEYS = ["eigenvalues", "hessian_eigenvalues", "converges", "lr_max", "lr_opt", "rate", "w", "f"]


def qgd(*args: str):
    return run_cli("quadratic-gd", *args)


#: closeness down to the tiniest iterates (1e-300), not just to 1e-15
close = functools.partial(_close, atol=1e-300)


def qjson(*args: str) -> dict:
    return run_json("quadratic-gd", *args)


def fraction_gd(H, w0, lr, steps, half=False):
    """The oracle loop: w ← w − ε·M·w with M = 2·sym(H) (or sym(H)), in exact fractions."""
    n = len(H)
    s = 1 if half else 2
    M = [[Fraction(s) * (Fraction(H[i][j]) + Fraction(H[j][i])) / 2 for j in range(n)] for i in range(n)]
    w = [Fraction(x) for x in w0]
    for _ in range(steps):
        g = [sum(M[i][j] * w[j] for j in range(n)) for i in range(n)]
        w = [w[i] - Fraction(lr) * g[i] for i in range(n)]
    c = Fraction(1, 2) if half else Fraction(1)
    f = c * sum(Fraction(H[i][j]) * w[i] * w[j] for i in range(n) for j in range(n))
    return w, f


# --------------------------------------------------------------------------- exact values


def test_diagonal_exact_values_and_keys():
    out = qjson("--H", "[[1, 0], [0, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "5")
    assert list(out["result"]) == KEYS
    w, f = fraction_gd([[1, 0], [0, 3]], [1, 1], Fraction(1, 10), 5)
    # by hand: (1 − 0.1·2)^5 = 0.8^5 = 1024/3125, (1 − 0.1·6)^5 = 0.4^5 = 32/3125
    assert w == [Fraction(1024, 3125), Fraction(32, 3125)]
    assert [sympy.Rational(x) for x in sympy.sympify(out["exact"]["w"])] == \
        [sympy.Rational(x.numerator, x.denominator) for x in w]
    assert sympy.sympify(out["exact"]["f"]) == sympy.Rational(f.numerator, f.denominator)
    assert out["exact"]["eigenvalues"] == "[1, 3]"
    assert out["exact"]["hessian_eigenvalues"] == "[2, 6]"
    assert out["result"]["converges"] is True
    assert out["exact"]["lr_max"] == "1/3"     # 2/μ_max = 2/6
    assert out["exact"]["lr_opt"] == "1/4"     # 2/(2 + 6)
    assert out["exact"]["rate"] == "1/2"       # (3 − 1)/(3 + 1)
    assert out["inputs"]["lr"] == "1/10"


def test_coupled_2x2_exact_eigenvalues_match_the_closed_form():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "10")
    # λ = (5 ∓ √5)/2 by hand
    lam = [sympy.sympify(x) for x in out["exact"]["eigenvalues"].strip("[]").split(",")]
    assert sympy.simplify(lam[0] - (5 - sympy.sqrt(5)) / 2) == 0
    assert sympy.simplify(lam[1] - (5 + sympy.sqrt(5)) / 2) == 0
    assert sympy.simplify(sympy.sympify(out["exact"]["lr_max"]) - 2 / (5 + sympy.sqrt(5))) == 0
    assert sympy.sympify(out["exact"]["lr_opt"]) == sympy.Rational(1, 5)
    assert sympy.simplify(sympy.sympify(out["exact"]["rate"]) - sympy.sqrt(5) / 5) == 0
    w, f = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), 10)
    assert sympy.sympify(out["exact"]["w"]) == [sympy.Rational(x.numerator, x.denominator) for x in w]
    assert sympy.sympify(out["exact"]["f"]) == sympy.Rational(f.numerator, f.denominator)


def test_three_by_three_exact_eigenvalues():
    # [[4,1,0],[1,3,1],[0,1,2]]: χ(λ) = (λ − 3)(λ² − 6λ + 6), λ = 3 − √3, 3, 3 + √3
    out = qjson("--H", "[[4, 1, 0], [1, 3, 1], [0, 1, 2]]", "--w0", "[1, -1, 2]", "--lr", "0.05",
                "--steps", "20")
    lam = sympy.sympify(out["exact"]["eigenvalues"])
    r3 = sympy.sqrt(3)
    assert [sympy.simplify(a - b) for a, b in zip(lam, [3 - r3, 3, 3 + r3])] == [0, 0, 0]
    assert sympy.simplify(sympy.sympify(out["exact"]["lr_max"]) - 2 / (2 * (3 + r3))) == 0
    w, _ = fraction_gd([[4, 1, 0], [1, 3, 1], [0, 1, 2]], [1, -1, 2], Fraction(1, 20), 20)
    assert all(close(a, float(b)) for a, b in zip(out["result"]["w"], w))


def test_half_convention():
    # f = ½wᵀHw: M = H = diag(1, 4); ε = 0.25: factors 0.75 and 0
    out = qjson("--H", "[[1, 0], [0, 4]]", "--w0", "[2, 3]", "--lr", "0.25", "--half")
    assert out["exact"]["w"] == "[3/2, 0]"
    assert sympy.sympify(out["exact"]["f"]) == sympy.Rational(9, 8)   # ½·1·1.5²
    assert out["exact"]["hessian_eigenvalues"] == "[1, 4]"
    assert out["exact"]["lr_max"] == "1/2"
    assert "½" in out["conventions"]["objective"]
    default = qjson("--H", "[[1, 0], [0, 4]]", "--w0", "[2, 3]", "--lr", "0.25")
    assert default["exact"]["hessian_eigenvalues"] == "[2, 8]"


def test_non_symmetric_h_is_symmetrized_and_said_so():
    args = ["--w0", "[1, -1]", "--lr", "0.05", "--steps", "3"]
    out = qjson("--H", "[[2, 2], [0, 2]]", *args)
    sym = qjson("--H", "[[2, 1], [1, 2]]", *args)
    assert out["result"] == sym["result"]
    w, _ = fraction_gd([[2, 2], [0, 2]], [1, -1], Fraction(1, 20), 3)
    assert sympy.sympify(out["exact"]["w"]) == [sympy.Rational(x.numerator, x.denominator) for x in w]
    titles = [s["title"] for s in out["steps"]]
    assert "symmetric part of H" in titles
    assert "symmetric part of H" not in [s["title"] for s in sym["steps"]]
    text = qgd("--H", "[[2, 2], [0, 2]]", *args).stdout
    assert "not symmetric" in text and "sym(H)" in text


def test_steps_zero_and_default():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1", "--steps", "0")
    assert out["exact"]["w"] == "[1, 2]"
    assert out["exact"]["f"] == "18"      # 2 + 2·2 + 3·4
    one = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1")
    assert one["inputs"]["steps"] == "1"
    w, _ = fraction_gd([[2, 1], [1, 3]], [1, 2], Fraction(1, 10), 1)
    assert sympy.sympify(one["exact"]["w"]) == [sympy.Rational(x.numerator, x.denominator) for x in w]


def test_divergent_step_size():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.5", "--steps", "10")
    assert out["result"]["converges"] is False
    w, _ = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 2), 10)
    assert out["exact"]["w"] == f"[{w[0]}, {w[1]}]"     # Fibonacci numbers 10946, 17711
    text = qgd("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.5").stdout
    assert "does not converge" in text


def test_steps_needed_for_tol():
    # diag(1, 3), ε = 0.1: factors 0.8, 0.4, ρ = 0.8: ⌈ln 1e-6 / ln 0.8⌉ = 62; with ε*: ρ = 1/2, 20
    out = qjson("--H", "[[1, 0], [0, 3]]", "--w0", "[1, 1]", "--lr", "0.1")
    needed = [s for s in out["steps"] if s["title"].startswith("steps to shrink")]
    assert [s["value"] for s in needed] == [str(math.ceil(math.log(1e-6) / math.log(0.8))),
                                            str(math.ceil(math.log(1e-6) / math.log(0.5)))]
    out = qjson("--H", "[[1, 0], [0, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--tol", "0.01")
    needed = [s for s in out["steps"] if s["title"].startswith("steps to shrink")]
    assert [s["value"] for s in needed] == [str(math.ceil(math.log(0.01) / math.log(0.8))), "7"]


# --------------------------------------------------------------------------- symbols


def test_symbolic_lr_gives_lr_max_by_solving_the_inequality():
    out = qjson("--H", "[[1, 0], [0, 3]]", "--w0", "[1, 1]", "--lr", "eps", "--steps", "2")
    assert out["exact"]["lr_max"] == "1/3"
    cond = sympy.sympify(out["exact"]["converges"])
    free = {s.name: s for s in cond.free_symbols}
    assert set(free) == {"eps"}
    e = free["eps"]
    assert cond.subs(e, sympy.Rational(3, 10)) is sympy.true
    assert cond.subs(e, sympy.Rational(34, 100)) is sympy.false
    assert cond.subs(e, sympy.Rational(-1, 100)) is sympy.false
    # w after 2 steps, by hand: (1 − 2ε)², (1 − 6ε)²
    w = sympy.sympify(out["exact"]["w"])
    e2 = [s for s in w[0].free_symbols][0]
    assert sympy.expand(w[0] - (1 - 2 * e2) ** 2) == 0
    assert sympy.expand(w[1] - (1 - 6 * e2) ** 2) == 0
    text = qgd("--H", "[[1, 0], [0, 3]]", "--w0", "[1, 1]", "--lr", "eps").stdout
    assert "reduce_inequalities" in text


def test_symbolic_lr_coupled_lr_max_matches_golden():
    golden = GOLDEN["coupled-2x2"]["expected"]
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "eps", "--steps", "3")
    assert close(out["result"]["lr_max"], golden["lr_max"])
    assert close(out["result"]["lr_opt"], golden["lr_opt"])
    assert close(out["result"]["rate"], golden["rate"])
    assert isinstance(out["result"]["converges"], str)
    # substituting ε = 0.1 in the symbolic w gives the numeric iteration
    w = sympy.sympify(out["exact"]["w"])
    e = list(set().union(*[x.free_symbols for x in w]))[0]
    ref, _ = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), 3)
    assert [x.subs(e, sympy.Rational(1, 10)) for x in w] == [sympy.Rational(str(v)) for v in ref]


def test_symbolic_steps_closed_form():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "t")
    w = sympy.sympify(out["exact"]["w"])
    f = sympy.sympify(out["exact"]["f"])
    t = list(set().union(*[x.free_symbols for x in w]))[0]
    ref, fref = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), 10)
    assert [float(x.subs(t, 10)) for x in w] == pytest.approx([float(v) for v in ref], rel=1e-12)
    assert float(f.subs(t, 10)) == pytest.approx(float(fref), rel=1e-12)


def test_symbolic_w0_is_linear():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[x, y]", "--lr", "0.1", "--steps", "3")
    w = sympy.sympify(out["exact"]["w"])
    x, y = sorted(set().union(*[e.free_symbols for e in w]), key=lambda s: s.name)
    for w0 in ([1, 0], [0, 1], [2, -3]):
        ref, _ = fraction_gd([[2, 1], [1, 3]], w0, Fraction(1, 10), 3)
        got = [e.subs({x: w0[0], y: w0[1]}) for e in w]
        assert got == [sympy.Rational(v.numerator, v.denominator) for v in ref]


def test_symbolic_w0_many_steps_is_numeric_and_linear():
    out = qjson("--H", "[[1, 0], [0, 3]]", "--w0", "[x, y]", "--lr", "0.1", "--steps", "2000")
    w = sympy.sympify(out["exact"]["w"])
    x, y = sorted(set().union(*[e.free_symbols for e in w]), key=lambda s: s.name)
    with mpmath.workdps(30):
        assert mpmath.mpf(w[0].coeff(x)) == pytest.approx(mpmath.mpf("0.8") ** 2000, rel=1e-15)
        assert mpmath.mpf(w[1].coeff(y)) == pytest.approx(mpmath.mpf("0.4") ** 2000, rel=1e-15)


def test_symbolic_h_2x2():
    out = qjson("--H", "[[a, b], [b, c]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton")
    lam = sympy.sympify(out["exact"]["eigenvalues"])
    syms = {s.name: s for s in set().union(*[e.free_symbols for e in lam])}
    vals = {syms["a"]: 2, syms["b"]: 1, syms["c"]: 3}
    golden = GOLDEN["coupled-2x2"]["expected"]
    assert [float(e.subs(vals)) for e in lam] == pytest.approx(golden["eigenvalues"], rel=1e-12)
    assert float(sympy.sympify(out["exact"]["lr_max"]).subs(vals)) == pytest.approx(golden["lr_max"], rel=1e-12)
    assert float(sympy.sympify(out["exact"]["rate"]).subs(vals)) == pytest.approx(golden["rate"], rel=1e-12)
    assert out["exact"]["newton_w"] == "[0, 0]"
    w = sympy.sympify(out["exact"]["w"])
    ref, _ = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), 1)
    assert [e.subs(vals) for e in w] == [sympy.Rational(v.numerator, v.denominator) for v in ref]


def test_symbolic_diagonal_many_steps_keeps_powers():
    out = qjson("--H", "[[a, 0], [0, b]]", "--w0", "[1, 1]", "--lr", "eps", "--steps", "1000")
    w = sympy.sympify(out["exact"]["w"])
    syms = {s.name: s for s in set().union(*[e.free_symbols for e in w])}
    a, e = syms["a"], syms["eps"]
    assert sympy.simplify(w[0] - (1 - 2 * a * e) ** 1000) == 0
    assert "lr_max" not in out["result"]   # the eigenvalue order of a and b is not known


def test_symbolic_h_3x3_not_diagonal_is_refused():
    r = qgd("--H", "[[a, 1, 0], [1, b, 0], [0, 0, c]]", "--w0", "[1, 1, 1]", "--lr", "0.1")
    assert r.code == 2 and "--H" in r.stderr and "symbols" in r.stderr


# --------------------------------------------------------------------------- not positive definite


def test_indefinite_names_the_saddle_and_leaves_out_lr_keys():
    out = qjson("--H", "[[1, 0], [0, -1]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "5")
    assert out["result"]["converges"] is False
    assert not {"lr_max", "lr_opt", "rate"} & set(out["result"])
    assert out["exact"]["w"] == "[1024/3125, 7776/3125]"   # 0.8^5, 1.2^5
    text = qgd("--H", "[[1, 0], [0, -1]]", "--w0", "[1, 1]", "--lr", "0.1").stdout
    assert "saddle" in text and "unbounded below" in text


def test_flat_direction():
    out = qjson("--H", "[[1, 1], [1, 1]]", "--w0", "[1, 2]", "--lr", "0.1", "--steps", "4")
    assert out["exact"]["eigenvalues"] == "[0, 2]"
    assert out["result"]["converges"] is False
    w, _ = fraction_gd([[1, 1], [1, 1]], [1, 2], Fraction(1, 10), 4)
    assert sympy.sympify(out["exact"]["w"]) == [sympy.Rational(v.numerator, v.denominator) for v in w]
    # the flat component (w₁ − w₂)/√2 is kept: w₁ − w₂ = −1 for ever
    assert w[0] - w[1] == -1
    text = qgd("--H", "[[1, 1], [1, 1]]", "--w0", "[1, 2]", "--lr", "0.1").stdout
    assert "flat" in text


def test_negative_definite_maximum():
    text = qgd("--H", "[[-1, 0], [0, -2]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton").stdout
    assert "maximum" in text and "not a minimum" in text


# --------------------------------------------------------------------------- Newton


def test_newton_goes_to_the_minimum_in_one_step():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1", "--newton")
    assert out["exact"]["newton_w"] == "[0, 0]"
    assert list(out["result"])[-1] == "newton_w"
    r = qgd("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1", "--newton")
    assert "Newton step" in r.stdout and "O(n³)" in r.stdout and "O(n²)" in r.stdout
    assert "newton_w" not in qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1")["result"]


def test_newton_numeric_path_is_zero():
    out = qjson("--H", "[[sqrt(2), 1, 0], [1, 3, 0], [0, 0, 1]]", "--w0", "[1, 1, 1]", "--lr", "0.1",
                "--newton")
    assert out["result"]["newton_w"] == [0, 0, 0]


@pytest.mark.parametrize("H", ["[[1, 1], [1, 1]]", "[[0, 0], [0, 0]]", "[[a, a], [a, a]]",
                               "[[1, 2, 3], [2, 4, 6], [3, 6, 9]]"])
def test_singular_hessian_with_newton_is_an_error(H):
    r = qgd("--H", H, "--w0", "[1, 1]" if "[[1, 2, 3]" not in H else "[1, 1, 1]", "--lr", "0.1", "--newton")
    assert r.code == 2
    assert r.stderr.startswith("error: --newton") and "singular" in r.stderr
    out = qgd("--H", H, "--w0", "[1, 1]" if "[[1, 2, 3]" not in H else "[1, 1, 1]", "--lr", "0.1",
              "--newton", "--json")
    assert out.code == 2 and out.json()["error"]["option"] == "--newton"


# --------------------------------------------------------------------------- scale


def test_million_steps_3x3_uses_the_closed_form():
    H, w0 = [[4, 1, 0], [1, 3, 1], [0, 1, 2]], [1, -1, 2]
    start = time.perf_counter()
    out = qjson("--H", str(H), "--w0", str(w0), "--lr", "0.05", "--steps", "1000000")
    elapsed = time.perf_counter() - start
    assert elapsed < 5, "a loop over the steps would take far longer"
    assert out["result"]["converges"] is True
    assert any("closed form" in n for n in out["notes"])
    # oracle: w_t ≈ v (vᵀw₀)/(vᵀv) r^t, the slowest direction, v = (1, −(1+√3), 2+√3) for
    # λ = 3 − √3 (derived by hand), r = 1 − 0.05·2λ; the other two are smaller by 1e-80000
    with mpmath.workdps(50):
        s3 = mpmath.sqrt(3)
        v = [mpmath.mpf(1), -(1 + s3), 2 + s3]
        coef = sum(a * b for a, b in zip(v, w0)) / sum(a * a for a in v)
        r = 1 - mpmath.mpf("0.1") * (3 - s3)
        expected = [a * coef * r ** 1000000 for a in v]
        got = [mpmath.mpf(x) for x in sympy.sympify(out["exact"]["w"])]
        for g, e in zip(got, expected):
            assert abs(g / e - 1) < 1e-15
    assert out["result"]["w"] == [0.0, 0.0, 0.0] or all(abs(x) < 1e-300 for x in out["result"]["w"])


def test_divergent_million_steps_is_finite_text():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.5", "--steps", "1000000")
    assert out["result"]["converges"] is False
    assert all(isinstance(x, str) and "e+" in x for x in out["result"]["w"])   # beyond float range


def _toeplitz_case(n: int, steps: int, as_mpf: bool = False, w0=None):
    """tridiag(1, 4, 1): λ_k = 4 + 2cos(kπ/(n+1)), q_k(j) = √(2/(n+1))·sin(jkπ/(n+1))."""
    H = [[4 if i == j else (1 if abs(i - j) == 1 else 0) for j in range(n)] for i in range(n)]
    w0 = w0 or [(i % 3) - 1 for i in range(n)]
    with mpmath.workdps(40 + len(str(steps))):
        lam = [4 + 2 * mpmath.cos(k * mpmath.pi / (n + 1)) for k in range(1, n + 1)]
        q = [[mpmath.sqrt(mpmath.mpf(2) / (n + 1)) * mpmath.sin(j * k * mpmath.pi / (n + 1))
              for j in range(1, n + 1)] for k in range(1, n + 1)]
        eps = mpmath.mpf(1) / 20
        w = [mpmath.mpf(0)] * n
        for k in range(n):
            y = mpmath.fsum(q[k][j] * w0[j] for j in range(n))
            z = y * (1 - eps * 2 * lam[k]) ** steps
            w = [w[j] + q[k][j] * z for j in range(n)]
    return H, w0, sorted(float(x) for x in lam), (w if as_mpf else [float(x) for x in w])


@pytest.mark.parametrize("n", [20, 50])
def test_large_numeric_h(n, tmp_path):
    H, w0, lam, w = _toeplitz_case(n, 1000)
    path = tmp_path / "H.txt"
    path.write_text("\n".join(" ".join(map(str, row)) for row in H))
    out = qjson("--H", f"@{path}", "--w0", ",".join(map(str, w0)), "--lr", "0.05", "--steps", "1000",
                "--newton")
    assert out["result"]["eigenvalues"] == pytest.approx(lam, rel=1e-13)
    assert out["result"]["w"] == pytest.approx(w, rel=1e-11, abs=1e-115)
    assert out["result"]["converges"] is True
    assert out["result"]["newton_w"] == [0] * n
    assert out["result"]["lr_max"] == pytest.approx(2 / (2 * lam[-1]), rel=1e-13)


def test_large_numeric_h_many_steps(tmp_path):
    """10⁶ steps amplify an eigenvalue error 10⁶-fold: float64 eigenvalues alone would miss 1e-11."""
    n, steps = 50, 1000000
    # a ramp w₀ has a component along the slowest direction (the period-3 w₀ has none)
    H, w0, _lam, w = _toeplitz_case(n, steps, as_mpf=True, w0=[i + 1 for i in range(n)])
    path = tmp_path / "H.txt"
    path.write_text("\n".join(" ".join(map(str, row)) for row in H))
    out = qjson("--H", f"@{path}", "--w0", ",".join(map(str, w0)), "--lr", "0.05", "--steps", str(steps))
    got = [mpmath.mpf(x) for x in sympy.sympify(out["exact"]["w"])]
    big = max(abs(x) for x in w)
    for g, e in zip(got, w):
        assert abs(g - e) <= 1e-11 * big


# --------------------------------------------------------------------------- output forms


def test_text_output_shows_the_working():
    r = qgd("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "2")
    assert r.code == 0
    for piece in ["∇f(w) = (H + Hᵀ)·w", "4·w₁ + 2·w₂", "Hessian", "eigenvalues of sym(H)",
                  "QΛQᵀ", "(I − εM)", "contraction factor", "[1 - 0.1·(5 - √5), 1 - 0.1·(√5 + 5)]",
                  "ρᵢ = |1 - ε·μᵢ|", "D = 4·b^2 + (a - c)^2", "(2 + 3 - √5)/2",
                  "0 < ε < ε_max", "εₘₐₓ = 2/μₘₐₓ", "εₒₚₜ = 2/(μₘₐₓ + μₘᵢₙ)", "(κ - 1)/(κ + 1)", "O(n³)",
                  "w₁ = w₀ − ε∇f(w₀)", "[1 - 0.1·(4·1 + 2·1), 1 - 0.1·(2·1 + 6·1)]", "Answer", "lr_max"]:
        assert piece in r.stdout, piece


def test_json_has_the_issue_keys_and_round_trips():
    out = qjson("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton")
    assert list(out["result"]) == KEYS + ["newton_w"]
    assert set(out["exact"]) == set(out["result"])
    for key, value in out["result"].items():
        if isinstance(value, bool):
            assert out["exact"][key] is value
            continue
        parsed = sympy.sympify(out["exact"][key])
        if isinstance(value, list):
            assert [float(x) for x in parsed] == pytest.approx(value, rel=1e-15)
        else:
            assert float(parsed) == pytest.approx(value, rel=1e-15)


def test_latex_is_an_align_block():
    r = qgd("--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--latex")
    assert r.code == 0
    text = r.stdout.strip()
    assert text.startswith("\\begin{align*}") and text.endswith("\\end{align*}")
    assert "\\nabla f(w)" in text and "\\epsilon" in text


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["--H", "[[2, 1, 3], [1, 3, 4]]", "--w0", "[1, 1]", "--lr", "0.1"], "--H", "must be square, got 2x3"),
    (["--H", "[1, 2]", "--w0", "[1, 1]", "--lr", "0.1"], "--H", "must be square, got 1x2"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1, 1]", "--lr", "0.1"], "--w0", "2 entries"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "-1"], "--steps", "between 0"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "2000000000"], "--steps",
     "1,000,000,000"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "2.5"], "--steps", "whole number"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "t + 1"], "--steps", "whole number"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--tol", "1"], "--tol", "between 0 and 1"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "[0.1, 0.2]"], "--lr", "scalar"),
    (["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "__import__('os')"], "--lr", "not an allowed function"),
    (["--H", "[[" + "], [".join([", ".join(["1"] * 51)] * 51) + "]]",
      "--w0", ",".join(["1"] * 51), "--lr", "0.1"], "--H", "at most 50x50"),
])
def test_bad_input_exits_2_naming_the_option(args, option, words):
    r = qgd(*args)
    assert r.code == 2, r.stdout
    assert r.stderr.startswith(f"error: {option}") and words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    j = qgd(*args, "--json")
    assert j.code == 2 and j.json()["error"]["option"] == option


# --------------------------------------------------------------------------- internals (pure functions)


@pytest.mark.parametrize("S", [[[2, 1], [1, 3]], [[4, 1, 0], [1, 3, 1], [0, 1, 2]],
                               [[2, 1, 1], [1, 2, 1], [1, 1, 2]], [[3, 0, 0], [0, 1, 0], [0, 0, 3]],
                               [[1, 2], [2, 1]]])
def test_exact_eigendecomposition_reconstructs_s(S):
    from dlcalc.exercises.quadratic_gd import _exact_eigen

    Sm = sympy.Matrix(S)
    eig = _exact_eigen(Sm)
    assert eig is not None and eig.exact and eig.Q is not None
    Q = eig.Q.evalf(40)  # exact, or (entries of a nested radical) to 30 digits
    L = sympy.diag(*[sympy.N(v, 40) for v in eig.values])
    assert (Q.T * Q - sympy.eye(len(S))).norm() < 1e-27
    assert (Q * L * Q.T - Sm).norm() < 1e-27
    assert [float(v) for v in eig.values] == sorted(float(v) for v in eig.values)


# --------------------------------------------------------------------------- property: against the Fraction loop


def test_random_exercises_match_the_fraction_loop():
    """Seeded random H (symmetric or not), w₀, ε, steps, conventions: w and f agree with the oracle loop."""
    import random

    rng = random.Random(6)
    vals = [-3, -2, -1, 0, 1, 2, 3, 4, Fraction(1, 2), Fraction(-3, 4), Fraction(5, 3)]
    for _ in range(30):
        n = rng.choice([1, 2, 3, 4])
        H = [[rng.choice(vals) for _ in range(n)] for _ in range(n)]
        w0 = [rng.choice(vals) for _ in range(n)]
        lr = rng.choice([Fraction(1, 10), Fraction(1, 20), Fraction(1, 3), Fraction(3, 100)])
        steps = rng.choice([0, 1, 2, 5, 17, 60, 200])
        half = rng.random() < 0.4
        args = ["--H", str([[str(x) for x in r] for r in H]).replace("'", ""),
                "--w0", ",".join(str(x) for x in w0), "--lr", str(lr), "--steps", str(steps)]
        out = qjson(*args, *(["--half"] if half else []))
        w, f = fraction_gd(H, w0, lr, steps, half)
        scale = max([abs(float(x)) for x in w] + [1e-300])
        got = [float(sympy.sympify(x)) if isinstance(x, str) else x for x in out["result"]["w"]]
        assert got == pytest.approx([float(x) for x in w], rel=1e-11, abs=1e-11 * scale), args
        fg = out["result"]["f"]
        fg = float(sympy.sympify(fg)) if isinstance(fg, str) else fg
        assert fg == pytest.approx(float(f), rel=1e-10, abs=1e-10 * scale * scale), args


# --- the exact comparison of quadratic surds u + v·√p (the fast path for 2x2 eigenvalues)

from hypothesis import given, settings, strategies as st  # noqa: E402

_q = st.fractions(min_value=-50, max_value=50, max_denominator=60)


@settings(max_examples=300, deadline=None)
@given(_q, _q, st.integers(min_value=2, max_value=60), _q, _q)
def test_surd_comparison_agrees_with_sympy(u, v, p, a, b):
    from dlcalc.exercises.quadratic_gd import _abs, _compare, _less, _sign

    x = sympy.Rational(u.numerator, u.denominator) + sympy.Rational(v.numerator, v.denominator) * sympy.sqrt(p)
    y = sympy.Rational(a.numerator, a.denominator) + sympy.Rational(b.numerator, b.denominator) * sympy.sqrt(p)
    d = sympy.nsimplify(x - y)
    truth = 0 if d == 0 else (1 if d.is_positive else -1)  # SymPy's own exact decision
    assert _compare(x, y) == truth
    assert _less(x, y) == (truth < 0)
    assert _sign(x) == (0 if x == 0 else 1 if x.is_positive else -1)
    assert _abs(x) == abs(x)


def test_surd_comparison_decides_values_closer_than_float():
    from dlcalc.exercises.quadratic_gd import _compare, _mpf

    root2 = sympy.sqrt(2)
    a, b = 1, 1
    for _ in range(60):  # convergents a/b of √2: a² − 2b² = ±1, so |a/b − √2| < 1/b²
        a, b = a + 2 * b, a + b
    side = a * a - 2 * b * b  # +1: a/b is above √2; −1: below
    x = sympy.Rational(a, b)
    assert abs(side) == 1 and b > 10**22  # closer to √2 than 1e-44: no float tells them apart
    assert _compare(x, root2) == side and _compare(root2, x) == -side
    assert _compare(x + side * sympy.Rational(1, 10**60), root2) == side
    with mpmath.workdps(40):  # the difference keeps its digits (a conjugate, not a cancellation)
        got = _mpf(sympy.expand(x - root2), mpmath.mp)
        exact = mpmath.mpf(side) / (b * b * (mpmath.mpf(a) / b + mpmath.sqrt(2)))  # (a/b − √2) = ±1/(b²(a/b + √2))
        assert abs(got / exact - 1) < mpmath.mpf(10) ** -35
    assert _compare(root2, sympy.sqrt(3)) is None  # different radicals: left to SymPy


def test_one_h_under_many_step_sizes_in_one_batch(tmp_path):
    """The per-process caches of the H-only work must not carry one job's answer into another."""
    H, lrs = [[2, 1], [1, 3]], ["0.05", "0.1", "0.3", "0.05", "1/7"]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"command": "quadratic-gd", "args": [
        "--H", json.dumps(H), "--w0", "[1, -2]", "--lr", lr, "--steps", "4"]}) + "\n" for lr in lrs)
        + json.dumps({"command": "quadratic-gd", "args": ["--H", "[[2, 1], [1, 4]]", "--w0", "[1, -2]",
                                                          "--lr", "0.1", "--steps", "4"]}) + "\n")
    out = [json.loads(line) for line in run_cli("batch", str(jobs)).stdout.splitlines()]
    assert [o["exit_code"] for o in out] == [0] * 6
    r5 = math.sqrt(5)  # sym(H) = [[2, 1], [1, 3]]: λ = (5 ∓ √5)/2, μ = 2λ = 5 ∓ √5
    for lr, o in zip(lrs, out):
        eps = Fraction(lr)
        w, f = fraction_gd(H, [1, -2], eps, 4)
        assert [sympy.Rational(x) for x in sympy.sympify(o["exact"]["w"])] == \
            [sympy.Rational(x.numerator, x.denominator) for x in w]
        assert o["result"]["converges"] is all(abs(1 - float(eps) * m) < 1 for m in (5 - r5, 5 + r5))
        assert close(o["result"]["lr_max"], 2 / (5 + r5)) and close(o["result"]["rate"], r5 / 5)
    # μ = 2·(3 ∓ √2) for the second H
    assert close(out[5]["result"]["lr_max"], 1 / (3 + math.sqrt(2)))
    assert close(out[5]["result"]["rate"], math.sqrt(2) / 3)


def test_two_forms_of_one_contraction_factor_are_a_tie_not_an_error():
    """sym(H) = diag(2, 3, π), ε = 1/(2 + π) = lr_opt: |1 − 4ε| = |1 − 2πε| = (π − 2)/(π + 2),
    which SymPy cannot order; ρ = 0.2220…, so ⌈ln(1e-6)/ln ρ⌉ = ⌈9.18⌉ = 10 (by hand)."""
    out = qjson("--H", "[[2, 0, 0], [0, 3, 0], [0, 0, pi]]", "--w0", "[1, 1, 1]", "--lr", "1/(2 + pi)")
    assert out["result"]["converges"] is True
    rho = (math.pi - 2) / (math.pi + 2)
    assert math.ceil(math.log(1e-6) / math.log(rho)) == 10
    assert [s["value"] for s in out["steps"] if s["title"].startswith("steps to shrink")] == ["10", "10"]


def test_the_cached_eigendecomposition_is_immutable():
    """Issue 15: the per-H cache is shared by every caller, so nothing in it can be changed."""
    import dataclasses

    from dlcalc.exercises.quadratic_gd import _exact_eigen

    S = sympy.Matrix([[2, 1], [1, 3]])
    first = _exact_eigen(S)
    with pytest.raises(AttributeError):
        first.values.append("spoiled")
    with pytest.raises(TypeError):
        first.Q[0, 0] = 99
    with pytest.raises(TypeError):
        first.groups[0][1][0, 0] = 99
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.values = []
    second = _exact_eigen(S)
    assert second is first and len(second.values) == 2
    assert second.values[0] == (5 - sympy.sqrt(5)) / 2


# --------------------------------------------------------------------------- the working as a teacher writes it (issue 16)

README_ARGS = ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "10", "--newton"]


def _solution(*args: str):
    from conftest import solution_of

    return solution_of(["quadratic-gd", *args])


def test_the_closed_form_step_is_w_t_and_its_numbers_give_w_t():
    """"w_t = Q(I − εΛ)ᵗQᵀw₀ = …" shows w_t (not the contraction factors), and the line with
    the numbers put in, evaluated, is w_t of the Fraction loop."""
    from dlcalc.board import unshow

    sol = _solution(*README_ARGS)
    closed = next(s for s in sol.steps if s.title == "w after t = 10 steps")
    w, _ = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), 10)
    exact = [sympy.Rational(x.numerator, x.denominator) for x in w]
    assert list(closed.value) == exact
    assert closed.substituted is not None
    assert all(abs(sympy.N(x - e, 50)) < 1e-45 for x, e in zip(unshow(closed.substituted), exact))
    text = qgd(*README_ARGS).stdout
    # by hand: r = 1 − 0.1·(5 ∓ √5) = (5 ± √5)/10, raised to the 10th power
    assert "((√5 + 5)/10)^10" in text and "((5 - √5)/10)^10" in text
    block = text[text.index("w after t = 10 steps"):text.index("f at that w")]
    assert block.rstrip().endswith("= [0.01088, -0.00672]")


def test_the_contraction_factors_have_their_own_step():
    sol = _solution(*README_ARGS)
    factors = next(s for s in sol.steps if s.title.startswith("contraction factors"))
    r5 = sympy.sqrt(5)
    assert [sympy.simplify(a - b) for a, b in zip(factors.value, [(5 + r5) / 10, (5 - r5) / 10])] == [0, 0]


def test_convergence_condition_is_a_chain_with_an_exact_bound():
    r = qgd("--H", "[[2, 1], [1, 3]]", "--w0", "1,1", "--lr", "eps")
    # 2/μ_max with μ_max = 2·(5 + √5)/2 = 5 + √5: 2/(5 + √5) = (5 − √5)/10 (by hand)
    assert "converges = 0 < eps < (5 - √5)/10" in r.stdout
    cond = sympy.sympify(qjson("--H", "[[2, 1], [1, 3]]", "--w0", "1,1", "--lr", "eps")["exact"]["converges"])
    eps = next(iter(cond.free_symbols))
    bound = (5 - math.sqrt(5)) / 10
    assert cond.subs(eps, sympy.Rational(str(round(bound - 1e-6, 8)))) is sympy.true
    assert cond.subs(eps, sympy.Rational(str(round(bound + 1e-6, 8)))) is sympy.false


def test_exact_numbers_in_the_working_are_fractions_and_surds():
    text = qgd(*README_ARGS).stdout
    start = text.index("rate with ε_opt")
    rate = text[start:text.index("‖w_t − w*‖", start)]
    assert "(√5 + 3)/2" in rate and "1.5" not in rate      # κ = (3 + √5)/2, not √5/2 + 1.5
    assert "ln((√5 + 5)/10)" in text and "0.5" not in text[text.index("steps to shrink"):]
    assert "(5 - √5)/10" in text                            # lr_max = (5 − √5)/10


def test_the_working_has_formulas_with_numbers_put_in():
    """The template-built steps the consistency test evaluates (a hand-typed line is skipped)."""
    from dlcalc.core import Math

    sol = _solution(*README_ARGS)
    checked = {s.title for s in sol.steps if s.substituted is not None and s.value is not None
               and not isinstance(s.substituted, Math)}
    for title in ["discriminant of sym(H) = [[a, b], [b, c]]", "eigenvalues of sym(H)", "gradient-descent step",
                  "contraction factors (the eigenvalues of I − εM)", "w after t = 10 steps", "f at that w",
                  "best fixed step", "condition number", "rate with ε_opt",
                  "steps to shrink the error by tol, with the given ε", "gradient at w₀", "Newton step"]:
        assert title in checked, title
    assert not any(isinstance(s.substituted, Math) for s in sol.steps)


STEP_CASES = [
    README_ARGS,
    ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 2]", "--lr", "0.1", "--steps", "3", "--newton"],
    ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "eps", "--steps", "2", "--newton"],
    ["--H", "[[2, 1], [1, 3]]", "--w0", "[x, y]", "--lr", "0.1", "--steps", "3"],
    ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "t"],
    ["--H", "[[a, b], [b, c]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton"],
    ["--H", "[[2, 2], [0, 2]]", "--w0", "[1, -1]", "--lr", "0.05", "--steps", "3", "--half"],
    ["--H", "[[4, 1, 0], [1, 3, 1], [0, 1, 2]]", "--w0", "[1, -1, 2]", "--lr", "0.05", "--steps", "2", "--newton"],
    ["--H", "[[3, 2, 0], [0, 2, 1], [1, 0, 4]]", "--w0", "[2, 1, -1]", "--lr", "0.02", "--steps", "7", "--newton"],
    ["--H", "[[sqrt(2), 1, 0], [1, 3, 0], [0, 0, 1]]", "--w0", "[1, 1, 1]", "--lr", "0.1", "--steps", "2", "--newton"],
    ["--H", "[[2, 1], [1, 3]]", "--w0", "[1, 1]", "--lr", "0.5", "--steps", "1000000"],
    ["--H", "[[1, 0], [0, -1]]", "--w0", "[1, 1]", "--lr", "0.1", "--steps", "2"],
    ["--H", "[[1, 1], [1, 1]]", "--w0", "[1, 2]", "--lr", "0.1", "--steps", "4"],
    ["--H", "[[3]]", "--w0", "[2]", "--lr", "0.1", "--steps", "3", "--newton"],
    ["--H", "[[2, 0, 0], [0, 3, 0], [0, 0, pi]]", "--w0", "[1, 1, 1]", "--lr", "1/(2 + pi)"],
]


@pytest.mark.parametrize("args", STEP_CASES, ids=[" ".join(a)[:70] for a in STEP_CASES])
def test_every_substituted_line_evaluates_to_its_value(args):
    from test_steps import inconsistent_steps

    assert inconsistent_steps(_solution(*args)) == []


def test_gradient_ascent_working_is_true_as_written():
    """The mistaken run (w + ε∇f) shows I + εM, and its lines still evaluate to their values."""
    from conftest import click_command
    from dlcalc import registry
    from dlcalc.core import Task
    from test_steps import inconsistent_steps

    mod = registry.module("quadratic-gd")
    ctx = click_command("quadratic-gd").make_context("quadratic-gd", list(README_ARGS[:6]) + ["--steps", "2"])
    inp = mod.parse(**{o.param: ctx.params[o.param] for o in mod.COMMAND.options})
    sol = Task(mod.solve, inp).run(ascent=True)
    assert inconsistent_steps(sol) == []
    step = next(s for s in sol.steps if s.title.startswith("gradient-ascent step"))
    # I + εM = [[1 + 0.4, 0.2], [0.2, 1 + 0.6]] by hand
    assert step.value.tolist() == [[sympy.Rational(7, 5), sympy.Rational(1, 5)], [sympy.Rational(1, 5), sympy.Rational(8, 5)]]
    w, _ = fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(-1, 10), 2)
    assert sol.result["w"] == [sympy.Rational(x.numerator, x.denominator) for x in w]


# --------------------------------------------------------------------------- hostile values (issue 20)


def test_huge_exact_symbolic_coefficients_are_an_answer_not_a_traceback():
    """w after 6 steps with 1e±300 numbers and a symbol: f's exact coefficients pass Python's
    4300-digit limit for printing an int; they are given to 20 digits instead."""
    args = ["--H", "[[2,1e300],[x,1]]", "--w0", "[1,1e300]", "--lr", "1e-300", "--steps", "6"]
    r = qgd(*args, "--json")
    assert r.code == 0, r.stderr
    out = r.json()
    assert any("significant digits" in n for n in out["notes"])
    w = sympy.sympify(out["exact"]["w"])
    f = sympy.sympify(out["exact"]["f"])
    x = next(iter(set().union(*[e.free_symbols for e in w])))
    H = [[2, 10**300], [0, 1]]   # at x = 0
    ref_w, ref_f = fraction_gd(H, [1, 10**300], Fraction(1, 10**300), 6)
    assert [e.subs(x, 0) for e in w] == [sympy.Rational(v.numerator, v.denominator) for v in ref_w]
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(f.subs(x, 0)) / mpmath.mpf(ref_f.numerator) * ref_f.denominator - 1) < 1e-15
    assert qgd(*args).code == 0 and qgd(*args, "--latex").code == 0


def test_newton_on_an_ill_conditioned_but_nonsingular_hessian():
    """diag(2π, 2e-300): an mpmath solve refuses the tiny pivot ("numerically singular"), but
    the eigenvalues are exact and nonzero, so w₁ = w₀ − M⁻¹(M·w₀) = 0."""
    out = qjson("--H", "[[pi, 0], [0, 1e-300]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton")
    assert out["result"]["newton_w"] == [0, 0]
    note = next(s["note"] for s in out["steps"] if s["title"] == "Newton step")
    assert "ill-conditioned" in note


def test_newton_numerically_singular_is_an_error_naming_the_option():
    r = qgd("--H", "[[pi, 1e-300], [1e-300, 1e-300]]", "--w0", "[1, 1]", "--lr", "0.1", "--newton")
    assert r.code == 2 and r.stderr.startswith("error: --newton") and "singular" in r.stderr
    assert "Traceback" not in r.stderr and "could not compute" not in r.stderr


from hypothesis import HealthCheck  # noqa: E402

_entry = st.sampled_from(["0", "1", "-1", "2", "1/3", "0.5", "sqrt(2)", "pi", "x", "1e-300", "1e300", "-2.5"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(st.lists(_entry, min_size=n, max_size=n), min_size=n, max_size=n),
    st.lists(_entry, min_size=n, max_size=n))),
    st.sampled_from(["0.1", "eps", "-0.1", "0", "1e-300", "sqrt(2)/10"]),
    st.sampled_from(["0", "1", "2", "7", "1000", "t", "1000000000"]), st.booleans(), st.booleans())
def test_any_input_answers_or_names_an_option(hw, lr, steps, newton, half):
    H, w0 = hw
    args = ["--H", "[" + ", ".join("[" + ", ".join(r) + "]" for r in H) + "]", "--w0", "[" + ", ".join(w0) + "]",
            "--lr", lr, "--steps", steps, *(["--newton"] if newton else []), *(["--half"] if half else [])]
    r = qgd(*args, "--json", "--timeout", "60")
    assert r.code in (0, 2), (args, r.stderr)
    assert "Traceback" not in r.stderr
    out = r.json()
    assert ("result" in out) == (r.code == 0)


# --------------------------------------------------------------------------- --plot


def test_the_plot_draws_the_solvers_iterates():
    """--plot lives with the exercise (plot.py keeps no quadratic-gd drawing) and draws the
    iterates of the solution's own closed form: here the Fraction loop's w₀ … w₁₀."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from dlcalc import plot as plotting
    from dlcalc.exercises import quadratic_gd

    assert not hasattr(plotting, "_quadratic")
    assert plotting._drawer("quadratic-gd") is quadratic_gd.plot
    fig = Figure()
    quadratic_gd.plot(_solution(*README_ARGS), fig)
    path = next(line for line in fig.axes[0].lines if line.get_label().startswith("gradient descent"))
    ref = [fraction_gd([[2, 1], [1, 3]], [1, 1], Fraction(1, 10), k)[0] for k in range(11)]
    assert list(path.get_xdata()) == pytest.approx([float(w[0]) for w in ref], rel=1e-12)
    assert list(path.get_ydata()) == pytest.approx([float(w[1]) for w in ref], rel=1e-12)
    fig3 = Figure()
    quadratic_gd.plot(_solution("--H", "[[4,1,0],[1,3,1],[0,1,2]]", "--w0", "[1,-1,2]", "--lr", "0.05",
                                "--steps", "50"), fig3)
    norms = fig3.axes[0].lines[0].get_ydata()
    ref50 = fraction_gd([[4, 1, 0], [1, 3, 1], [0, 1, 2]], [1, -1, 2], Fraction(1, 20), 50)[0]
    assert norms[-1] == pytest.approx(math.sqrt(sum(float(x) ** 2 for x in ref50)), rel=1e-12)


def _mp_gd(H, w0, lr, steps, half=False, dps=80):
    """An independent oracle for irrational entries: w ← w − ε·M·w in mpmath at ``dps`` digits."""
    with mpmath.workdps(dps):
        n = len(H)
        Hm = [[mpmath.mpmathify(x) for x in row] for row in H]
        s = 1 if half else 2
        M = [[s * (Hm[i][j] + Hm[j][i]) / 2 for j in range(n)] for i in range(n)]
        w = [mpmath.mpmathify(x) for x in w0]
        for _ in range(steps):
            w = [w[i] - lr * mpmath.fsum(M[i][j] * w[j] for j in range(n)) for i in range(n)]
        c = mpmath.mpf(1) / 2 if half else 1
        return w, c * mpmath.fsum(w[i] * Hm[i][j] * w[j] for i in range(n) for j in range(n))


@pytest.mark.parametrize("args,oracle", [
    # surds with a 600-digit radicand: once a float overflow
    (["--H", "[[3,1e10],[1e300,0.5]]", "--w0", "[-1,1e-300]", "--lr", "0.1", "--steps", "0", "--newton"],
     ([[3, 10**10], [10**300, "0.5"]], [-1, mpmath.mpf("1e-300")], mpmath.mpf("0.1"), 0, False)),
    (["--H", "[[1e-300,1e10],[-2.5,1e10]]", "--w0", "[-1,3]", "--lr", "0.1", "--steps", "7", "--newton"],
     ([["1e-300", 10**10], ["-2.5", 10**10]], [-1, 3], mpmath.mpf("0.1"), 7, False)),
])
def test_extreme_magnitudes_are_answered(args, oracle):
    out = qjson(*args)
    with mpmath.workdps(80):
        H, w0, lr, steps, half = oracle
        w, f = _mp_gd([[mpmath.mpf(x) if isinstance(x, str) else x for x in r] for r in H], w0,
                      mpmath.mpf(lr), steps, half)
        got = [mpmath.mpf(x) for x in sympy.sympify(out["exact"]["w"])]
        scale = max(abs(x) for x in w)
        assert all(abs(g - e) <= 1e-15 * scale for g, e in zip(got, w)), (got, w)
        assert abs(mpmath.mpf(sympy.sympify(out["exact"]["f"])) - f) <= 1e-12 * abs(f)
    if "--newton" in args:
        assert out["result"]["newton_w"] == [0, 0]


def test_an_eigenvector_entry_that_rounds_below_zero_is_not_complex():
    """``--H "[[1e300,0.5],[-sqrt(3),sqrt(2)]]" --lr 2 --steps 3 --half`` (about 40 s, so not run
    here) has a projector entry ~1e-600 that SymPy's evalf rounds to −2.7e-343: its square root
    was complex and the run ended in "cannot create mpf from mpc".  The same rounding, on a
    number that is exactly 0: the root stays exact instead."""
    from dlcalc.exercises.quadratic_gd import _decimal, _root_of

    zero = (1 + sympy.sqrt(2)) ** 2 - 3 - 2 * sympy.sqrt(2)   # 0, not simplified by SymPy
    root = _root_of(zero)
    assert not isinstance(root, sympy.Float) and sympy.simplify(root) == 0
    shown = _decimal(root)
    assert shown == root or (isinstance(shown, sympy.Float) and abs(shown) < 1e-40)
    assert _root_of(sympy.Rational(1, 4)) == sympy.Rational(1, 2)
    with mpmath.workdps(40):  # √(1/2 + √5/10), an entry of the 2x2 example's Q, to 30 digits
        exact = mpmath.sqrt(mpmath.mpf(1) / 2 + mpmath.sqrt(5) / 10)
        assert abs(mpmath.mpf(_root_of(sympy.Rational(1, 2) + sympy.sqrt(5) / 10)) - exact) < 1e-29
