"""--check: right answers pass (exit 0), wrong ones fail (exit 1) and name the mistake.

Mistaken values are computed here by hand from the definition of each mistake, never
taken from the program's output.
"""

from __future__ import annotations

import pytest

from conftest import run_cli


def check(*args):
    r = run_cli(*args, "--json")
    assert r.code in (0, 1), r.stdout + r.stderr
    return r.code, r.json()["check"]


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
    code, verdict = check("param-count", "784", "256", "10", "--check", "total=12345")
    assert code == 1 and verdict["total"] == {"ok": False, "expected": 203530, "given": 12345,
                                              "mistake": None, "departs_at": None}


def test_tolerance_is_relative_by_default_and_adjustable():
    assert check("param-count", "784", "256", "10", "--check", "total=203500")[0] == 0  # 1.5e-4 off
    assert check("param-count", "784", "256", "10", "--check", "total=203500", "--rtol", "1e-6")[0] == 1


def test_text_output_shows_tick_cross_and_the_mistake():
    r = run_cli("param-count", "784", "256", "10", "--check", "total=203264")
    assert r.code == 1
    assert "✗ total: expected 203530, given 203264" in r.stdout
    assert "forgot the biases" in r.stdout


@pytest.mark.parametrize("value,fragment", [
    ("nokey=3", "unknown key 'nokey'"), ("total", "must be KEY=VALUE"), ("total=__import__('os')", "--check"),
    ("layers=3", "unknown key 'layers'"),
])
def test_bad_check_is_exit_2(value, fragment):
    r = run_cli("param-count", "2", "3", "--check", value)
    assert r.code == 2 and fragment in r.stderr


# dropout-expectation: y = 1, u = [1, 2, -1], w = [0.5, -0.25, 1]: Σ w·u = -1, Σ w²u² = 1.5
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
    from fractions import Fraction as F

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
])
def test_quadratic_mistakes_are_named(w, mistake):
    code, verdict = check(*QUAD, "--check", f"w=[{w[0]!r}, {w[1]!r}]")
    assert code == 1 and verdict["w"]["mistake"] == mistake


def test_quadratic_right_answer():
    w = _gd(SYM2, [1, -1], "0.05", 3)
    assert check(*QUAD, "--check", f"w=[{w[0]}, {w[1]}]", "--check", "converges=true")[0] == 0
