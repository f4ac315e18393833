"""sigmoid-step: one sigmoid neuron, squared error or BCE + L2, gradient-descent steps.

Oracles used here (never the program's own output):
* the golden fixture tests/golden/sigmoid-step.json (PyTorch float64);
* closed forms worked by hand in the test (z = 0 makes every value rational);
* ``reference`` below: a plain-Python transcription of the issue's formulas, itself
  checked against central finite differences of its own loss.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import sympy

from conftest import close, run_cli, run_json

GOLDEN = {c["id"]: c for c in json.loads(
    (Path(__file__).parent / "golden" / "sigmoid-step.json").read_text())["cases"]}
KEYS = {"w", "b", "loss", "grad_w", "grad_b", "history"}
VALUE_KEYS = ("loss", "grad_w", "grad_b", "w", "b")
RECORD_KEYS = ["step", *VALUE_KEYS]   # in this order: the step first


def sig(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def loss_of(X, t, w, b, lam, loss="mse", c=0.5, reg_bias=False):
    T = len(X)
    z = [sum(wj * xj for wj, xj in zip(w, row)) + b for row in X]
    y = [sig(zi) for zi in z]
    if loss == "mse":
        data = c / T * sum((yi - ti) ** 2 for yi, ti in zip(y, t))
    else:
        data = -sum(ti * math.log(yi) + (1 - ti) * math.log(1 - yi) for yi, ti in zip(y, t)) / T
    return data + c * lam / T * (sum(wj * wj for wj in w) + (b * b if reg_bias else 0))


def reference(X, t, w, b, lam=0.1, lr=0.1, loss="mse", c=0.5, reg_bias=False, steps=1):
    """The issue's formulas, in floats; returns the history (one dict per step)."""
    T, w = len(X), list(w)
    history = []
    for _ in range(steps):
        z = [sum(wj * xj for wj, xj in zip(w, row)) + b for row in X]
        y = [sig(zi) for zi in z]
        if loss == "mse":
            dz = [2 * c / T * (yi - ti) * yi * (1 - yi) for yi, ti in zip(y, t)]
        else:
            dz = [(yi - ti) / T for yi, ti in zip(y, t)]
        L = loss_of(X, t, w, b, lam, loss, c, reg_bias)
        gw = [sum(di * row[j] for di, row in zip(dz, X)) + 2 * c * lam / T * w[j] for j in range(len(w))]
        gb = sum(dz) + (2 * c * lam / T * b if reg_bias else 0)
        w = [wj - lr * g for wj, g in zip(w, gw)]
        b = b - lr * gb
        history.append({"loss": L, "grad_w": gw, "grad_b": gb, "w": list(w), "b": b})
    return history


def cli_json(*args):
    return run_json("sigmoid-step", *args)


# --------------------------------------------------------------------------- the oracle itself


def test_reference_gradient_matches_finite_differences():
    """The test's own reference is right: its gradients are the slope of its loss."""
    X, t, w, b = [[1, -1], [-0.5, 2], [0.3, 0.7]], [1, 0, 0.25], [0.25, 0.75], -0.5
    for loss in ("mse", "bce"):
        for c in (0.5, 1):
            for reg_bias in (False, True):
                h = reference(X, t, w, b, lam=0.3, loss=loss, c=c, reg_bias=reg_bias)[0]
                eps = 1e-6
                for j in range(2):
                    wp, wm = list(w), list(w)
                    wp[j] += eps
                    wm[j] -= eps
                    fd = (loss_of(X, t, wp, b, 0.3, loss, c, reg_bias)
                          - loss_of(X, t, wm, b, 0.3, loss, c, reg_bias)) / (2 * eps)
                    assert math.isclose(h["grad_w"][j], fd, rel_tol=1e-7, abs_tol=1e-9)
                fd = (loss_of(X, t, w, b + eps, 0.3, loss, c, reg_bias)
                      - loss_of(X, t, w, b - eps, 0.3, loss, c, reg_bias)) / (2 * eps)
                assert math.isclose(h["grad_b"], fd, rel_tol=1e-7, abs_tol=1e-9)


# --------------------------------------------------------------------------- values


def test_classic_exercise_by_hand():
    """x = 1, t = 0, w = b = 1, λ = α = 0.1: the textbook numbers."""
    out = cli_json("--x", "1", "--t", "0")
    assert set(out["result"]) == KEYS
    y = 1 / (1 + math.exp(-2))
    s = y * (1 - y)
    res = out["result"]
    assert close(res["loss"], 0.5 * y**2 + 0.05)
    assert close(res["grad_w"], y * s + 0.1)
    assert close(res["grad_b"], y * s)
    assert close(res["w"], 1 - 0.1 * (y * s + 0.1))
    assert close(res["b"], 1 - 0.1 * y * s)
    assert out["command"] == "sigmoid-step"


def test_rational_case_is_exact():
    """z = 0 makes y = 1/2: every answer is a short exact rational."""
    out = cli_json("--x", "0", "--t", "1", "--w", "1", "--b", "0")
    # L = ½(½ − 1)² + ½·0.1·1² = 1/8 + 1/20; ∂L/∂w = 0 + 0.1; ∂L/∂b = (−½)(¼)
    assert out["exact"]["loss"] == "7/40"
    assert out["exact"]["grad_w"] == "1/10"
    assert out["exact"]["grad_b"] == "-1/8"
    assert out["exact"]["w"] == "99/100"
    assert out["exact"]["b"] == "1/80"
    assert out["result"]["b"] == 0.0125


def test_rational_case_bce_no_half_reg_bias():
    out = cli_json("--x", "0", "--t", "1", "--w", "2", "--b", "0", "--loss", "bce", "--no-half",
                   "--reg-bias", "--lam", "0.5", "--lr", "1")
    # L = −log ½ + λ(w² + b²) = log 2 + 2; ∂L/∂w = (½ − 1)·0 + 2λw = 2; ∂L/∂b = −½ + 0
    assert sympy.sympify(out["exact"]["loss"]) == sympy.log(2) + 2
    assert out["exact"]["grad_w"] == "2"
    assert out["exact"]["grad_b"] == "-1/2"
    assert out["exact"]["w"] == "0"
    assert out["exact"]["b"] == "1/2"


@pytest.mark.parametrize("cid", ["classic-steps-3", "batch-3-steps-4", "bce-no-half-reg-bias-steps-5"])
def test_history_matches_golden_step_by_step(cid):
    case = GOLDEN[cid]
    out = cli_json(*case["args"])
    hist, want = out["result"]["history"], case["expected"]["history"]
    assert len(hist) == len(want)
    for n, (got, exp) in enumerate(zip(hist, want), start=1):
        assert list(got) == RECORD_KEYS and got["step"] == n
        for k in VALUE_KEYS:
            assert close(got[k], exp[k]), (k, got[k], exp[k])


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("half", [True, False])
@pytest.mark.parametrize("reg_bias", [True, False])
def test_batch_against_reference(loss, half, reg_bias):
    X, t, w, b = [[1, -1, 0.5], [-0.5, 2, 1], [0.25, 0.75, -2], [1.5, 0, 0]], [1, 0, 0.5, 1], \
        [0.25, -0.75, 0.5], -0.5
    args = ["--x", json.dumps(X), "--t", json.dumps(t), "--w", json.dumps(w), "--b", str(b),
            "--lam", "0.3", "--lr", "0.7", "--loss", loss, "--steps", "3",
            "--half" if half else "--no-half"] + (["--reg-bias"] if reg_bias else [])
    res = cli_json(*args)["result"]
    want = reference(X, t, w, b, lam=0.3, lr=0.7, loss=loss, c=0.5 if half else 1,
                     reg_bias=reg_bias, steps=3)
    for got, exp in zip(res["history"], want):
        for k in VALUE_KEYS:
            assert close(got[k], exp[k], 1e-12, 1e-14), (k, got[k], exp[k])
    assert close(res["w"], want[-1]["w"], 1e-12, 1e-14)
    assert close(res["grad_w"], want[0]["grad_w"], 1e-12, 1e-14)


def test_scalar_examples_from_vector_x_with_one_target_each():
    """Scalar w, --x 1,2,3 and three targets: three one-feature examples (as PyTorch reshape)."""
    a = cli_json("--x", "[1, 2, 3]", "--t", "[0, 1, 1]", "--w", "0.5", "--b", "0")["result"]
    b = cli_json("--x", "1; 2; 3", "--t", "[0, 1, 1]", "--w", "0.5", "--b", "0")["result"]
    want = reference([[1], [2], [3]], [0, 1, 1], [0.5], 0.0)[0]
    assert close(a["grad_w"], want["grad_w"][0]) and close(a["w"], want["w"][0])
    assert close(b["w"], a["w"]) and close(b["b"], a["b"])
    assert not isinstance(a["w"], list)


def test_vector_w_gives_lists_scalar_w_gives_numbers():
    v = cli_json("--x", "[1, 2]", "--t", "1", "--w", "[0.5, -0.5]")["result"]
    assert isinstance(v["w"], list) and isinstance(v["grad_w"], list) and len(v["w"]) == 2
    assert isinstance(v["history"][0]["w"], list)
    s = cli_json("--x", "1", "--t", "1")["result"]
    assert isinstance(s["w"], float) and isinstance(s["grad_w"], float)


def test_aliases_lambda_and_alpha():
    a = cli_json("--x", "1.5", "--t", "0", "--lam", "0.3", "--lr", "0.2")
    b = cli_json("--x", "1.5", "--t", "0", "--lambda", "0.3", "--alpha", "0.2")
    assert a["exact"] == b["exact"]
    assert a["inputs"]["lam"] == "3/10" and a["inputs"]["lr"] == "1/5"


def test_numbers_are_read_exactly_and_expressions_work():
    out = cli_json("--x", "sqrt(2)", "--t", "1/3", "--w", "2/3", "--b", "-0.25")
    want = reference([[math.sqrt(2)]], [1 / 3], [2 / 3], -0.25)[0]
    assert close(out["result"]["grad_w"], want["grad_w"][0])
    assert out["inputs"]["t"] == "1/3"


def test_large_z_is_stable_and_not_rounded_to_zero():
    """z = 301, t = 1: y − t = −σ(−301) ≈ −1e-131, not 0 (no cancellation in 1 − y)."""
    res = cli_json("--x", "300", "--t", "1")["result"]
    e = 1 / (1 + math.exp(301))  # σ(−301)
    grad_b = -e * (1 - e) * e   # (y − t)·y(1 − y)
    assert close(res["grad_b"], grad_b, 1e-12, 0)
    assert close(res["loss"], 0.05 + 0.5 * e * e, 1e-15, 0)
    # the moderate case stays exact and is just as accurate
    res = cli_json("--x", "100", "--t", "1")["result"]
    e = 1 / (1 + math.exp(101))
    assert close(res["grad_b"], -e * (1 - e) * e, 1e-12, 0)


def test_bce_with_very_negative_z_is_finite():
    res = cli_json("--x", "-300", "--t", "1", "--loss", "bce")["result"]
    # −log σ(−299) = 299 + log(1 + e^−299) ≈ 299
    assert close(res["loss"], 299 + 0.05, 1e-12)
    assert close(res["grad_b"], -1.0, 1e-12)


def test_long_run_numeric_path_agrees_with_reference():
    X, t = [[1, 2], [0.5, -1], [2, 0]], [0, 1, 1]
    out = cli_json("--x", json.dumps(X), "--t", json.dumps(t), "--w", "[0.5, -1]", "--b", "0.5",
                   "--lr", "0.5", "--steps", "3000")
    want = reference(X, t, [0.5, -1], 0.5, lr=0.5, steps=3000)
    hist = out["result"]["history"]
    assert len(hist) == 3000
    for k in (0, 1, 999, 2999):
        assert hist[k]["step"] == k + 1
        for key in VALUE_KEYS:
            assert close(hist[k][key], want[k][key], 1e-10, 1e-13), (k, key)
    assert close(out["result"]["w"], want[-1]["w"], 1e-10)
    assert any("numerically" in n for n in out["notes"])


def test_large_batch_from_files(tmp_path):
    rng = random.Random(3)
    X = [[round(rng.uniform(-1, 1), 3) for _ in range(64)] for _ in range(256)]
    t = [rng.randint(0, 1) for _ in range(256)]
    w = [round(rng.uniform(-0.1, 0.1), 3) for _ in range(64)]
    (tmp_path / "X.csv").write_text("\n".join(",".join(str(v) for v in row) for row in X))
    (tmp_path / "t.txt").write_text(json.dumps(t))
    (tmp_path / "w.txt").write_text(json.dumps(w))
    out = cli_json("--x", f"@{tmp_path / 'X.csv'}", "--t", f"@{tmp_path / 't.txt'}",
                   "--w", f"@{tmp_path / 'w.txt'}", "--b", "0", "--loss", "bce", "--steps", "2")
    want = reference(X, t, w, 0.0, loss="bce", steps=2)
    assert close(out["result"]["loss"], want[0]["loss"], 1e-12)
    assert close(out["result"]["w"], want[-1]["w"], 1e-12, 1e-15)
    assert close(out["result"]["b"], want[-1]["b"], 1e-12, 1e-15)


def test_x_from_standard_input():
    r = run_cli("sigmoid-step", "--x", "-", "--t", "[0, 1]", "--w", "[1, 1]", "--json",
                input="1 2\n3 4\n")
    assert r.code == 0, r.stdout + r.stderr
    want = reference([[1, 2], [3, 4]], [0, 1], [1, 1], 1.0)[0]
    assert close(r.json()["result"]["grad_w"], want["grad_w"])


# --------------------------------------------------------------------------- symbolic path


def _subs(expr_text, **values):
    e = sympy.sympify(expr_text)  # the consumer trusts our exact strings
    return e.subs({s: values[s.name] for s in e.free_symbols})


def test_symbolic_x_then_substitute_gives_the_numeric_answer():
    out = cli_json("--t", "0")
    assert out["inputs"]["x"] == "x"
    assert isinstance(out["result"]["w"], str) and "x" in out["result"]["w"]
    want = GOLDEN["classic-x1-t0"]["expected"]
    for key in ("w", "b", "loss", "grad_w", "grad_b"):
        assert close(float(_subs(out["exact"][key], x=1)), want[key]), key


def test_symbolic_x_several_steps_then_substitute():
    out = cli_json("--t", "0", "--steps", "3")
    want = GOLDEN["classic-steps-3"]["expected"]
    assert close(float(_subs(out["exact"]["w"], x=1)), want["w"])
    assert close(float(_subs(out["exact"]["b"], x=1)), want["b"])


def test_symbolic_vector_x_bce_then_substitute():
    out = cli_json("--t", "1", "--w", "[0.5, -0.5]", "--b", "0")
    assert out["inputs"]["x"] == "[x_1, x_2]"
    want = GOLDEN["vector"]["expected"]
    w = sympy.sympify(out["exact"]["w"])
    got = [float(_subs(str(e), x_1=1, x_2=2)) for e in w]
    assert close(got, want["w"])
    out = cli_json("--t", "1", "--w", "0.5", "--b", "-1", "--loss", "bce")
    assert close(float(_subs(out["exact"]["w"], x=2)), GOLDEN["bce-scalar"]["expected"]["w"])


def test_symbolic_target_and_hyperparameters():
    out = cli_json("--x", "1", "--lam", "lam", "--lr", "alpha")
    w = _subs(out["exact"]["w"], t=0, lam=sympy.Rational(1, 10), alpha=sympy.Rational(1, 10))
    assert close(float(w), GOLDEN["classic-x1-t0"]["expected"]["w"])


def test_symbolic_text_shows_sigma():
    r = run_cli("sigmoid-step", "--t", "0")
    assert r.code == 0
    assert "σ(x + 1)" in r.stdout
    assert "symbolic" in r.stdout


# --------------------------------------------------------------------------- output forms


def test_json_shape():
    out = cli_json("--x", "1", "--t", "0", "--steps", "2")
    assert set(out) >= {"command", "inputs", "conventions", "steps", "result", "exact"}
    assert set(out["result"]) == KEYS == set(out["exact"])
    assert len(out["result"]["history"]) == 2
    assert [list(h) for h in out["result"]["history"]] == [RECORD_KEYS, RECORD_KEYS]
    assert [h["step"] for h in out["result"]["history"]] == [1, 2]
    assert {"loss", "c", "penalty"} <= set(out["conventions"])
    sections = {s.get("section") for s in out["steps"]}
    assert {"step 1", "step 2"} <= sections
    titles = [s["title"] for s in out["steps"]]
    assert any("chain rule" in t for t in titles)


def test_latex_is_an_align_block():
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0", "--latex")
    assert r.code == 0
    text = r.stdout.strip()
    assert text.startswith(r"\begin{align*}") and text.endswith(r"\end{align*}")
    assert r"\sigma" in text and r"\frac{\partial L}{\partial w}" in text


def test_text_shows_the_working():
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0")
    assert r.code == 0
    out = r.stdout
    for piece in ["step 1", "z = w·x + b", "1·1 + 1", "σ(2)", "0.880797", "σ'(z)", "chain rule",
                  "e^(-z)/(1 + e^(-z))^2", "σ(z)·(1 - σ(z))", "∂L/∂w", "∂L/∂b",
                  "(0.880797 - 0)·0.104994·1 + 0.1·1", "0.192478", "1 - 0.1·0.192478",
                  "0.980752", "0.990752", "Answer", "c: ½", "not regularized"]:
        assert piece in out, piece


def test_the_derivative_line_is_what_sympy_diff_gives():
    """σ'(z)'s working line is written out, not asked of ``sympy.diff`` (for speed): it
    must be the derivative all the same, and equal σ(z)(1 − σ(z))."""
    from dlcalc.api import solve

    step = next(s for s in solve("sigmoid-step", x="1", t="0").solution.steps
                if s.title.startswith("σ'(z), by the chain rule"))
    (z,) = step.substituted.free_symbols
    assert sympy.simplify(step.substituted - sympy.diff(1 / (1 + sympy.exp(-z)), z)) == 0
    s = 1 / (1 + sympy.exp(-z))
    assert sympy.simplify(step.substituted - s * (1 - s)) == 0


def test_text_of_several_steps_has_a_section_each_and_summarizes_long_runs():
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0", "--steps", "3")
    assert all(f"step {k}" in r.stdout for k in (1, 2, 3))
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0", "--steps", "50")
    assert r.code == 0
    assert "step 4" in r.stdout and "steps 5–49" in r.stdout and "step 50" in r.stdout
    assert "step 6\n" not in r.stdout


def test_bce_text_shows_the_simplified_chain_rule():
    r = run_cli("sigmoid-step", "--x", "2", "--t", "1", "--w", "0.5", "--b", "-1", "--loss", "bce")
    assert r.code == 0
    assert "∂L/∂z = ∂L/∂y·σ'(z)" in r.stdout
    assert "(-t/y + (1 - t)/(1 - y))·y·(1 - y)" in r.stdout and "= y - t" in r.stdout
    assert "cross-entropy" in r.stdout


def test_digits_option():
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0", "--digits", "12")
    assert "0.980752195677" in r.stdout


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["--x", "[1, 2]", "--t", "0"], "--x", "2 features"),
    (["--x", "[1, 2]", "--t", "0", "--w", "[1, 2, 3]"], "--x", "3 weights"),
    (["--x", "[[1, 2, 3], [4, 5, 6]]", "--t", "[0, 1]", "--w", "[1, 2]"], "--x", "3 features"),
    (["--x", "[[1, 2], [3, 4]]", "--t", "0", "--w", "[1, 2]"], "--t", "2 examples"),
    (["--x", "[[1, 2], [3, 4]]", "--t", "[0, 1, 1]", "--w", "[1, 2]"], "--t", "3 targets"),
    (["--x", "1", "--t", "2", "--loss", "bce"], "--t", "[0, 1]"),
    (["--x", "1", "--t", "-0.5", "--loss", "bce"], "--t", "[0, 1]"),
    (["--x", "[1, 2]", "--t", "[0, 1.5]", "--loss", "bce"], "--t", "example 2"),
    (["--x", "1", "--t", "0", "--steps", "0"], "--steps", "between 1"),
    (["--x", "1", "--t", "0", "--steps", "-3"], "--steps", "between 1"),
    (["--x", "1", "--t", "0", "--steps", "10001"], "--steps", "10,000"),
    (["--x", "1", "--t", "0", "--steps", "2.5"], "--steps", "whole number"),
    (["--x", "1", "--t", "0", "--loss", "hinge"], "--loss", "mse or bce"),
    (["--x", "1", "--t", "0", "--lam", "-0.1"], "--lam", "≥ 0"),
    (["--x", "1", "--t", "0", "--w", "[[1, 2], [3, 4]]"], "--w", "matrix"),
    (["--x", "1", "--t", "0", "--b", "[1, 2]"], "--b", "scalar"),
    (["--x", "1", "--t", "0", "--lr", "nan"], "--lr", "finite"),
    (["--x", "1", "--t", "0", "--w", "inf"], "--w", "finite"),
    (["--x", "sqrt(-1)", "--t", "0"], "--x", "square root"),
    (["--x", "1", "--t", "0", "--b", "1e309"], "--b", "1e309"),
    (["--t", "0", "--steps", "6"], "--steps", "symbolic"),
    (["--t", "0", "--steps", "100"], "--steps", "symbolic"),
    (["--x", "1e300", "--w", "1e300", "--t", "0", "--lr", "1e300"], None, "overflow"),
    (["--x", "0", "--w", "1e300", "--b", "0", "--t", "0", "--lr", "1e300"], "--w", "overflow"),
])
def test_bad_input_exit_2_naming_the_option(args, option, words):
    r = run_cli("sigmoid-step", *args)
    assert r.code == 2, r.stdout + r.stderr
    line = r.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in r.stderr
    if option:
        assert option in line
    assert words in line
    j = run_cli("sigmoid-step", *args, "--json")
    assert j.code == 2
    err = j.json()["error"]
    if option:
        assert err["option"] == option
    assert words in err["message"]


def test_too_much_work_is_refused_before_working():
    X = "; ".join(" ".join("1" for _ in range(64)) for _ in range(256))
    r = run_cli("sigmoid-step", "--x", X, "--t", ",".join("0" for _ in range(256)),
                "--w", ",".join("0" for _ in range(64)), "--steps", "1000")
    assert r.code == 2 and "--steps" in r.stderr and "too much work" in r.stderr


def test_hostile_input_runs_nothing(tmp_path):
    canary = tmp_path / "canary"
    for payload in [f"__import__('os').system('touch {canary}')", f"open('{canary}', 'w')",
                    "(lambda: 1)()", "[x for x in (1,)]", "x.__class__", "[red]x[/red]"]:
        for opt in ("--x", "--t", "--w", "--b", "--lam", "--lr", "--steps"):
            r = run_cli("sigmoid-step", opt, payload, *(["--t", "0"] if opt != "--t" else []))
            assert r.code in (0, 2) and "Traceback" not in r.stdout + r.stderr
    assert not canary.exists()
    r = run_cli("sigmoid-step", "--x", "[red]x[/red]", "--t", "0")
    assert r.code == 2 and "[red]" in r.stderr


def test_astronomical_z_answers_quickly():
    """z = 1e300 + 1: σ(z) = 1 to any precision; the run neither hangs nor overflows."""
    res = cli_json("--x", "1e300", "--t", "1")["result"]
    assert close(res["w"], 0.99) and close(res["b"], 1.0) and close(res["loss"], 0.05)
    assert abs(res["grad_b"]) < 1e-300


# --------------------------------------------------------------------------- --check


def _check(*args):
    r = run_cli("sigmoid-step", *args, "--rtol", "1e-9", "--json")
    assert r.code in (0, 1), r.stdout + r.stderr
    return r.code, r.json()["check"]


_Y = 1 / (1 + math.exp(-2))          # x = 1, t = 0, w = b = 1: z = 2
_S = _Y * (1 - _Y)


@pytest.mark.parametrize("flags,key,value,mistake", [
    ([], "w", 1 - 0.1 * (2 * _Y * _S + 0.2), "forgot the ½ in the loss (c = 1 instead of ½)"),
    (["--no-half"], "w", 1 - 0.1 * (_Y * _S + 0.1), "added a ½ the loss does not have (c = ½ instead of 1)"),
    ([], "w", 1 - 0.1 * _Y * _S, "forgot the regularizer (λ = 0)"),
    ([], "b", 1 - 0.1 * (_Y * _S + 0.1), "regularized the bias too (‖w‖² + b²)"),
    (["--reg-bias"], "b", 1 - 0.1 * _Y * _S, "left the bias out of the regularizer"),
    (["--reg-bias"], "loss", 0.5 * _Y**2 + 0.05, "left the bias out of the regularizer"),
    (["--reg-bias"], "loss", 0.5 * _Y**2, "forgot the regularizer (λ = 0)"),
    ([], "w", 1 - 0.1 * (_Y * _Y + 0.1), "used σ(z) instead of σ(z)(1 − σ(z)) as the derivative σ'(z)"),
    (["--loss", "bce"], "w", 1 - 0.1 * (math.exp(2) + 0.1),
     "used σ(z) instead of σ(z)(1 − σ(z)) as the derivative σ'(z)"),
    ([], "w", 1 + 0.1 * (_Y * _S + 0.1), "used the wrong sign in the update (w + α·∂L/∂w)"),
])
def test_check_names_each_mistake(flags, key, value, mistake):
    code, verdict = _check("--x", "1", "--t", "0", *flags, "--check", f"{key}={value!r}")
    assert code == 1
    assert verdict[key]["ok"] is False and verdict[key]["mistake"] == mistake
    assert verdict[key]["departs_at"].startswith("step 1: ")


def test_check_right_answer_and_unknown_mistake():
    right = 1 - 0.1 * (_Y * _S + 0.1)
    code, verdict = _check("--x", "1", "--t", "0", "--check", f"w={right!r}")
    assert code == 0 and verdict["w"]["ok"] is True
    code, verdict = _check("--x", "1", "--t", "0", "--check", "w=0.5")
    assert code == 1 and verdict["w"]["mistake"] is None
    code, verdict = _check("--x", "[1, 2]", "--t", "1", "--w", "[0.5, -0.5]", "--b", "0",
                           "--check", "w=[0.5096280253526958, -0.4657439492946085]")
    assert code == 0


def test_check_departure_points_at_the_step():
    _, verdict = _check("--x", "1", "--t", "0", "--check", f"w={1 - 0.1 * (_Y * _Y + 0.1)!r}")
    assert verdict["w"]["departs_at"] == "step 1: σ'(z) at this step"
    _, verdict = _check("--x", "1", "--t", "0", "--check", f"w={1 + 0.1 * (_Y * _S + 0.1)!r}")
    assert verdict["w"]["departs_at"] == "step 1: update w"


def test_exact_strings_of_vanishing_numeric_values_parse_back_quickly():
    """e^(−1e600) is reported as 0, not as a decimal with a 600-digit exponent."""
    import time

    out = cli_json("--x", "1e300", "--t", "1")
    t0 = time.monotonic()
    for key in ("w", "b", "loss", "grad_w", "grad_b"):
        assert float(sympy.sympify(out["exact"][key])) == pytest.approx(out["result"][key], abs=1e-300)
    assert time.monotonic() - t0 < 2


# --------------------------------------------------------------------------- σ form (issue 16)


def _answer(text, key):
    """The Answer's line of ``key`` (with its wrapped continuation lines)."""
    lines = text.split("\nAnswer\n", 1)[1].splitlines()
    for n, line in enumerate(lines):
        if line.startswith(f"  {key} "):
            more = [x for x in lines[n + 1:n + 8]]
            cont = []
            for x in more:
                if not x.startswith("      "):
                    break
                cont.append(x.strip())
            return " ".join([line.strip(), *cont])
    raise AssertionError(f"no Answer line for {key}")


def _sigma(z):
    """σ by its definition: the test's own oracle (no σ node of the program)."""
    return 1 / (1 + sympy.exp(-z))


def test_symbolic_answer_is_written_as_the_notes_write_it():
    """--x u --t 0: w = 0.99 − 0.1·u·σ(u + 1)²·(1 − σ(u + 1)), σ kept and no exponential."""
    r = run_cli("sigmoid-step", "--x", "u", "--t", "0")
    assert r.code == 0, r.stderr
    w = _answer(r.stdout, "w")
    assert w == "w = 0.99 - u·σ(u + 1)^2·(1 - σ(u + 1))/10"
    assert "exp" not in w and "e^" not in w
    answer = r.stdout.split("\nAnswer\n", 1)[1]
    assert "e^" not in answer
    # the working writes 1 − σ(u + 1) where it means that, never σ(−u − 1)
    assert "σ(-u - 1)" not in r.stdout and "σ(−u − 1)" not in r.stdout
    assert "σ(u + 1)·(1 - σ(u + 1))" in r.stdout.split("\nAnswer\n", 1)[0]
    latex = run_cli("sigmoid-step", "--x", "u", "--t", "0", "--latex").stdout
    row = next(x for x in latex.splitlines() if x.startswith(r"&\text{w} = "))
    assert r"\sigma\left(u + 1\right)" in row and "e^" not in row


def test_symbolic_exact_spells_sigma_as_its_definition_and_is_right():
    out = cli_json("--x", "u", "--t", "0")
    u = sympy.Symbol("u")
    s = _sigma(u + 1)
    hand = {"w": sympy.Rational(99, 100) - u * s**2 * (1 - s) / 10, "b": 1 - s**2 * (1 - s) / 10,
            "loss": s**2 / 2 + sympy.Rational(1, 20), "grad_w": u * s**2 * (1 - s) + sympy.Rational(1, 10),
            "grad_b": s**2 * (1 - s)}
    for key, want in hand.items():
        text = out["exact"][key]
        assert "sigmoid" not in text and "exp" in text, text
        got = sympy.sympify(text)  # the consumer trusts our exact strings
        for point in (-2, sympy.Rational(1, 2), 3):
            sub = {sym: point for sym in got.free_symbols}
            assert abs(sympy.N(got.xreplace(sub) - want.xreplace({u: point}), 30)) < 1e-25, key
    for record in out["exact"]["history"]:
        assert all("sigmoid" not in v for v in record.values() if isinstance(v, str))


def test_two_symbolic_steps_nest_sigma_not_exponentials():
    r = run_cli("sigmoid-step", "--x", "u", "--t", "0", "--steps", "2")
    assert r.code == 0, r.stderr
    answer = r.stdout.split("\nAnswer\n", 1)[1].split("\nhistory")[0]
    assert "e^" not in answer and "exp" not in answer
    w = _answer(r.stdout, "w")
    assert w.startswith("w (after step 2) = ")
    # the second step's z holds the first step's w: σ nested in σ
    assert "σ(1 + u·(0.99 - u·σ(u + 1)^2·(1 - σ(u + 1))/10)" in w
    # and the value is PyTorch's at u = 1 (the golden case x = 1, after its second step)
    out = cli_json("--x", "u", "--t", "0", "--steps", "2")
    want = GOLDEN["classic-steps-3"]["expected"]["history"][1]
    for key in ("w", "b"):
        assert close(float(_subs(out["exact"][key], u=1)), want[key]), key
    assert close(float(_subs(out["exact"]["history"][1]["loss"], u=1)), want["loss"])


def test_every_answer_value_says_which_step_it_belongs_to():
    r = run_cli("sigmoid-step", "--x", "2", "--t", "0", "--steps", "2")
    assert r.code == 0
    assert _answer(r.stdout, "w").startswith("w (after step 2) ")
    assert _answer(r.stdout, "b").startswith("b (after step 2) ")
    for key in ("loss", "grad_w", "grad_b"):
        assert _answer(r.stdout, key).startswith(f"{key} (at step 1, before its update) ")
    out = cli_json("--x", "2", "--t", "0", "--steps", "2")["result"]
    want = reference([[2]], [0], [1], 1, steps=2)
    assert close(out["w"], want[1]["w"][0]) and close(out["b"], want[1]["b"])
    assert close(out["loss"], want[0]["loss"]) and close(out["grad_w"], want[0]["grad_w"][0])
    assert close(out["history"][1]["loss"], want[1]["loss"])
    latex = run_cli("sigmoid-step", "--x", "2", "--t", "0", "--steps", "2", "--latex").stdout
    assert r"\text{w (after step 2)}" in latex
    # one step: nothing to tell apart, no labels
    one = run_cli("sigmoid-step", "--x", "2", "--t", "0").stdout
    assert _answer(one, "w").startswith("w ≈ ") and "before its update" not in one


def test_history_table_has_a_step_column():
    r = run_cli("sigmoid-step", "--x", "2", "--t", "0", "--steps", "3")
    table = r.stdout.split("\nhistory", 1)[1].splitlines()[1:]
    assert table[0].split()[0] == "step"
    assert [row.split()[0] for row in table[2:5]] == ["1", "2", "3"]


def _solution(*argv, **flags):
    """The Solution of a command line, through the exercise's public parse and solve."""
    from conftest import click_command
    from dlcalc import registry

    mod = registry.module("sigmoid-step")
    ctx = click_command("sigmoid-step").make_context("sigmoid-step", list(argv))
    return mod.solve(mod.parse(**{o.param: ctx.params[o.param] for o in mod.COMMAND.options}), **flags)


@pytest.mark.parametrize("argv,flags", [
    (["--x", "u", "--t", "0", "--steps", "2"], {}),
    (["--x", "u", "--t", "t", "--loss", "bce"], {}),
    (["--t", "1", "--w", "[0.5, -0.5]", "--b", "0", "--steps", "2"], {}),
    (["--x", "[1, 2, 3]", "--t", "[0, 1, 1]", "--w", "0.5", "--lam", "lam"], {}),
    (["--x", "1", "--t", "0"], {"sigma_as_derivative": True}),
    (["--x", "1", "--t", "0", "--loss", "bce"], {"sigma_as_derivative": True}),
    (["--x", "[[1, 2], [3, 4]]", "--t", "[0, 1]", "--w", "[1, 1]", "--loss", "bce"], {"sigma_as_derivative": True}),
    (["--x", "1", "--t", "0", "--reg-bias", "--no-half"], {"ascent": True}),
    (["--x", "u", "--t", "0"], {"sigma_as_derivative": True, "ascent": True}),
    (["--x", "1", "--t", "0", "--steps", "7"], {}),
    (["--x", "300", "--t", "1"], {}),
    (["--x", "-300", "--t", "1", "--loss", "bce"], {}),
    (["--x", "[[1, 2], [0.5, -1], [2, 0]]", "--t", "[0, 1, 1]", "--w", "[0.5, -1]", "--steps", "2500"], {}),
])
def test_every_substituted_line_of_more_runs_evaluates_to_its_value(argv, flags):
    """Symbolic runs, the mistakes' workings, numeric (mpmath and double) and large-z paths."""
    from test_steps import inconsistent_steps

    sol = _solution(*argv, **flags)
    checked = [s for s in sol.steps if s.substituted is not None and s.value is not None]
    assert len(checked) >= 8
    assert not inconsistent_steps(sol)


def test_hypothesis_every_input_answers_or_names_its_option():
    from hypothesis import HealthCheck, given, settings, strategies as st

    number = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["0.5", "-1.5", "1/3", "u", "t", "2*u"]))
    vector = st.lists(st.integers(-2, 2), min_size=1, max_size=3).map(lambda v: json.dumps(v))
    args = st.fixed_dictionaries({
        "--x": st.one_of(number, vector), "--t": st.one_of(number, vector), "--w": st.one_of(number, vector),
        "--b": number, "--steps": st.sampled_from(["1", "2", "3"]), "--loss": st.sampled_from(["mse", "bce"])})
    flags = st.lists(st.sampled_from(["--no-half", "--reg-bias"]), unique=True)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(args, flags)
    def prop(opts, extra):
        argv = [a for kv in opts.items() for a in kv] + extra
        r = run_cli("sigmoid-step", *argv, "--json")
        assert r.code in (0, 2), (argv, r.stdout[-300:], r.stderr[-300:])
        assert "Traceback" not in r.stdout + r.stderr
        out = r.json()
        if r.code == 0:
            assert set(out["result"]) == KEYS
            assert [h["step"] for h in out["result"]["history"]] == list(range(1, int(opts["--steps"]) + 1))
        else:
            assert out["error"]["option"] is None or out["error"]["option"].startswith("--")

    prop()
