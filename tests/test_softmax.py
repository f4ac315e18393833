"""softmax: softmax with cross-entropy or CS231n's multiclass hinge, the gradient, the two-class sigmoid.

Oracles (never the program's own output):
* tests/golden/softmax.json, written by tests/oracle/gen_softmax.py with torch float64
  (F.cross_entropy, autograd, the hinge with torch ops), compared at rtol 1e-9;
* closed forms written out here with Python's math module: softmax, −log p_y, p − y,
  CS231n's worked hinge examples (2.9, 0, 12.9), σ(z₀ − z₁);
* for each --check mistake, the mistaken value computed here by hand.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import plain_latex_and_rich_agree, run_cli, run_json, solution_of
from golden_compare import close

CMD = "softmax"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "softmax.json").read_text())


def softmax(z, T=1.0):
    s = [v / T for v in z]
    m = max(s)
    e = [math.exp(v - m) for v in s]
    tot = math.fsum(e)
    return [v / tot for v in e]


def vec(xs) -> str:
    return "[" + ", ".join(repr(x) if isinstance(x, float) else str(x) for x in xs) + "]"


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_matches_torch_at_1e_9(case):
    out = run_json(CMD, *case["args"])
    diffs = close(out["result"], case["expected"], 1e-9)
    assert not diffs, "\n".join(diffs[:10])
    # every result key is checked by the oracle (but grad_W of the largest cases, = grad_b·xᵀ)
    assert set(out["result"]) == set(case["expected"]) | set(case.get("omitted", []))
    if "omitted" in case:
        x = json.loads(case["args"][case["args"].index("--x") + 1])
        assert out["result"]["grad_W"] == [[g * xi for xi in x] for g in out["result"]["grad_b"]]


@pytest.mark.parametrize("case", GOLDEN["cases"][::4], ids=[c["id"] for c in GOLDEN["cases"][::4]])
def test_exact_strings_parse_back_to_the_results(case):
    out = run_json(CMD, *case["args"])
    for key, value in out["result"].items():
        back = sympy.sympify(out["exact"][key])
        flat = lambda x: [float(e) for e in (sympy.flatten(x) if isinstance(x, list) else [x])]  # noqa: E731
        assert not close(flat(value), flat(back), 1e-12), key


def test_golden_covers_both_losses_linear_two_classes_and_the_numeric_path():
    ids = {c["id"] for c in GOLDEN["cases"]}
    assert {"ce-linear", "ce-probabilities", "ce-two-classes-linear", "hinge-cs231n-cat",
            "ce-numeric-20-classes", "ce-numeric-linear-10x10", "hinge-numeric-15-classes"} <= ids
    numeric = run_json(CMD, *next(c for c in GOLDEN["cases"] if c["id"] == "ce-numeric-20-classes")["args"])
    assert any("mpmath" in n for n in numeric["notes"])
    double = run_json(CMD, *next(c for c in GOLDEN["cases"] if c["id"] == "ce-double-linear-10x600")["args"])
    assert any("IEEE double" in n for n in double["notes"])


# --------------------------------------------------------------------------- closed forms


def test_cross_entropy_closed_form_and_exact_values():
    out = run_json(CMD, "--z", "[0, 0]", "--target", "1")
    assert out["exact"]["p"] == "[1/2, 1/2]"
    assert sympy.sympify(out["exact"]["loss"]) == sympy.log(2)
    assert out["exact"]["grad_z"] == "[1/2, -1/2]"
    z = [2, 1, 0.1]
    out = run_json(CMD, "--z", "[2, 1, 0.1]", "--target", "0")
    p = softmax(z)
    assert out["result"]["p"] == pytest.approx(p, rel=1e-14)
    assert out["result"]["loss"] == pytest.approx(-math.log(p[0]), rel=1e-14)
    assert out["result"]["grad_z"] == pytest.approx([p[0] - 1, p[1], p[2]], rel=1e-13)
    # e^(1/2) stays exact: the exact forms hold exp of the rational scores
    assert "exp(-1)" in out["exact"]["p"] and "exp(-19/10)" in out["exact"]["p"]


def test_cs231n_hinge_examples():
    # CS231n, "Linear classification": the cat, car and frog scores, losses 2.9, 0 and 12.9
    for scores, y, loss in (([3.2, 5.1, -1.7], 0, 2.9), ([1.3, 4.9, 2.0], 1, 0), ([2.2, 2.5, -3.1], 2, 12.9)):
        out = run_json(CMD, "--z", vec(scores), "--target", str(y), "--loss", "hinge")
        assert sympy.sympify(out["exact"]["loss"]) == sympy.nsimplify(loss)
    out = run_json(CMD, "--z", "[3.2, 5.1, -1.7]", "--target", "0", "--loss", "hinge")
    assert out["result"]["grad_z"] == [-1, 1, 0]  # only the car margin (5.1 − 3.2 + 1) is positive
    assert "multi_margin_loss divides" in out["conventions"]["loss"]


def test_hinge_margin_of_exactly_zero_counts_zero():
    out = run_json(CMD, "--z", "[1, 2, 1]", "--target", "1", "--loss", "hinge")
    assert out["result"]["loss"] == 0 and out["result"]["grad_z"] == [0, 0, 0]


def test_temperature_divides_the_scores_and_the_gradient():
    z, T, y = [1.0, -0.5, 2.0], 4.0, 1
    out = run_json(CMD, "--z", vec(z), "--target", str(y), "--temperature", "4")
    p = softmax(z, T)
    assert out["result"]["p"] == pytest.approx(p, rel=1e-13)
    assert out["result"]["loss"] == pytest.approx(-math.log(p[y]), rel=1e-13)
    assert out["result"]["grad_z"] == pytest.approx([(pk - (k == y)) / T for k, pk in enumerate(p)], rel=1e-12)


def test_linear_classifier_gradients_are_outer_products():
    W, b, x, y = [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]], [0, 0.1, -0.1], [1.0, 2.0], 1
    out = run_json(CMD, "--W", "[[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]]", "--b", "[0, 0.1, -0.1]",
                   "--x", "[1, 2]", "--target", "1")
    z = [sum(w * xi for w, xi in zip(row, x)) + bk for row, bk in zip(W, b)]
    p = softmax(z)
    g = [pk - (k == y) for k, pk in enumerate(p)]
    assert out["result"]["grad_b"] == pytest.approx(g, rel=1e-12)
    assert out["result"]["grad_W"] == [pytest.approx([gk * xi for xi in x], rel=1e-12) for gk in g]
    assert list(out["result"]) == ["p", "loss", "grad_z", "prediction", "grad_W", "grad_b"]


def test_two_classes_are_a_sigmoid_of_the_difference():
    out = run_json(CMD, "--W", "[[0.2, -0.5, 1], [1.5, 1.3, -0.4]]", "--b", "[0.1, -0.2]", "--x", "[1, 2, -1]",
                   "--target", "0")
    wd = [0.2 - 1.5, -0.5 - 1.3, 1 + 0.4]
    a = sum(w * xi for w, xi in zip(wd, [1, 2, -1])) + (0.1 + 0.2)
    sig = 1 / (1 + math.exp(-a))
    assert out["result"]["p"][0] == pytest.approx(sig, rel=1e-13)
    steps = {s["title"]: s for s in out["steps"]}
    assert steps["p₀ as a sigmoid"]["section"] == "two classes: a sigmoid"
    assert float(sympy.sympify(steps["p₀ as a sigmoid"]["value"])) == pytest.approx(sig, rel=1e-13)
    assert "\\sigma" in steps["p₀ as a sigmoid"]["formula"]
    rule = steps["decision rule: predict class 0 when p₀ ≥ ½"]["value"]
    assert (rule == "True") == (sig >= 0.5) and out["result"]["prediction"] == (0 if sig >= 0.5 else 1)
    # three classes: no sigmoid section
    assert not any(s.get("section", "").startswith("two classes")
                   for s in run_json(CMD, "--z", "[1, 2, 3]", "--target", "0")["steps"])


def test_probability_targets_and_the_one_hot_case_agree():
    a = run_json(CMD, "--z", "[0.5, -0.2, 1.1]", "--t", "[0, 1, 0]")
    b = run_json(CMD, "--z", "[0.5, -0.2, 1.1]", "--target", "1")
    assert not close(a["result"], b["result"], 1e-14)


def test_symbolic_scores_give_expressions():
    out = run_json(CMD, "--z", "[a, b]", "--target", "0")
    a, b = sympy.symbols("a b", real=True)
    loss = sympy.sympify(out["exact"]["loss"], locals={"a": a, "b": b})
    expected = sympy.log(1 + sympy.exp(b - a))
    for pa, pb in ((0, 0), (1, -2), (sympy.Rational(3, 2), 4)):
        assert sympy.N((loss - expected).subs({a: pa, b: pb}), 30) == pytest.approx(0, abs=1e-25)
    assert out["result"]["prediction"] is None
    sym = run_json(CMD, "--W", "[[w1, w2], [0, 1]]", "--x", "[x1, 2]", "--target", "1")
    assert isinstance(sym["result"]["grad_W"][0][0], str) and "x1" in sym["result"]["grad_W"][0][0]


def test_numeric_path_matches_the_closed_form():
    z = [math.sin(k) * 3 for k in range(40)]
    zs = [round(v, 6) for v in z]
    out = run_json(CMD, "--z", vec(zs), "--target", "5")
    p = softmax(zs)
    assert out["result"]["p"] == pytest.approx(p, rel=1e-12)
    assert out["result"]["loss"] == pytest.approx(-math.log(p[5]), rel=1e-12)
    assert out["result"]["prediction"] == max(range(40), key=lambda k: (zs[k], -k))


def test_text_output_shows_the_working_in_order():
    r = run_cli(CMD, "--z", "[2, 1, 0.1]", "--target", "0")
    assert r.code == 0
    order = ["largest score", "shifted scores", "exponentials", "normalizer", "probabilities",
             "cross-entropy loss", "∂L/∂s derived", "gradient of the scores", "prediction"]
    working = r.stdout[r.stdout.index("Working"):]
    pos = [working.index(t) for t in order]
    assert pos == sorted(pos)
    assert "0.659001" in r.stdout


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    (["--z", "[1, 2]"], "--target"),
    (["--z", "[1, 2]", "--target", "2"], "--target"),
    (["--z", "[1, 2]", "--target", "-1"], "--target"),
    (["--z", "[1, 2]", "--target", "0.5"], "--target"),
    (["--z", "[1, 2]", "--target", "0", "--t", "[0, 1]"], "--t"),
    (["--z", "[1, 2]", "--t", "[0.5, 0.6]"], "--t"),
    (["--z", "[1, 2]", "--t", "[-0.5, 1.5]"], "--t"),
    (["--z", "[1, 2]", "--t", "[1]"], "--t"),
    (["--z", "[1, 2]", "--t", "[0.5, 0.5]", "--loss", "hinge"], "--t"),
    (["--z", "[1, 2]", "--target", "0", "--margin", "2"], "--margin"),
    (["--z", "[1, 2]", "--target", "0", "--loss", "svm"], "--loss"),
    (["--z", "[1, 2]", "--target", "0", "--temperature", "0"], "--temperature"),
    (["--z", "[1, 2]", "--target", "0", "--temperature", "-1"], "--temperature"),
    (["--z", "[1]", "--target", "0"], "--z"),
    (["--z", "[[1, 2], [3, 4]]", "--target", "0"], "--z"),
    (["--z", "[1, 2]", "--W", "[[1]]", "--target", "0"], "--W"),
    (["--W", "[[1, 2], [3, 4]]", "--target", "0"], "--x"),
    (["--x", "[1, 2]", "--target", "0"], "--W"),
    (["--target", "0"], "--z"),
    (["--W", "[[1, 2], [3, 4]]", "--x", "[1, 2, 3]", "--target", "0"], "--x"),
    (["--W", "[[1, 2], [3, 4]]", "--x", "[1, 2]", "--b", "[1]", "--target", "0"], "--b"),
    (["--z", "[1e300, -1e300]", "--target", "0", "--temperature", "1e-5"], "--z"),
    (["--z", "[" + ", ".join(["1"] * 1001) + "]", "--target", "0"], "--z"),
    (["--z", "[" + ", ".join(f"a{k}" for k in range(9)) + "]", "--target", "0"], "--z"),
    (["--W", "[" + ", ".join("[" + ", ".join(f"w{i}_{j}" for j in range(5)) + "]" for i in range(7)) + "]",
      "--x", "[1, 2, 3, 4, 5]", "--target", "0"], "--W"),
])
def test_bad_input_exits_2_naming_the_option(args, option):
    r = run_cli(CMD, *args, "--json")
    assert r.code == 2, r.stdout
    err = r.json()["error"]
    assert err["option"] == option, err
    assert "\n" not in err["message"]


def test_target_error_explains_zero_based_indexing():
    r = run_cli(CMD, "--z", "[1, 2, 3]", "--target", "3")
    assert r.code == 2 and "0 to 2" in r.stderr and "0-based" in r.stderr


# --------------------------------------------------------------------------- --check


def check(args, key, value):
    r = run_cli(CMD, *args, "--check", f"{key}={value}", "--json")
    assert r.code == 1, r.stdout
    return r.json()["check"][key]


def test_mistake_log_of_the_score():
    z = [2.0, 1.0, 0.1]
    wrong = -math.log(z[0])  # −log z_y, no softmax
    v = check(["--z", "[2, 1, 0.1]", "--target", "0"], "loss", f"{wrong:.6g}")
    assert v["mistake"].startswith("took the log of the score")


def test_mistake_one_based_class_index():
    z = [0.5, 2.0, -1.0, 0.25]
    p = softmax(z)
    wrong = -math.log(p[1])  # the student read --target 2 as the second class
    v = check(["--z", "[0.5, 2, -1, 0.25]", "--target", "2"], "loss", f"{wrong:.6g}")
    assert v["mistake"].startswith("used a 1-based class index")
    wrong_grad = [pk - (k == 1) for k, pk in enumerate(p)]
    v = check(["--z", "[0.5, 2, -1, 0.25]", "--target", "2"], "grad_z", vec([round(g, 6) for g in wrong_grad]))
    assert v["mistake"].startswith("used a 1-based class index")
    v = check(["--z", "[0.5, 2, -1, 0.25]", "--target", "2"], "prediction", "2")  # argmax 1, counted from 1
    assert v["mistake"].startswith("used a 1-based class index")


def test_mistake_hinge_over_the_correct_class_too():
    z, y, delta = [3.2, 5.1, -1.7], 0, 1.0
    wrong = sum(max(0.0, zj - z[y] + delta) for zj in z)  # j = y included: + Δ
    assert wrong == pytest.approx(3.9)
    v = check(["--z", "[3.2, 5.1, -1.7]", "--target", "0", "--loss", "hinge"], "loss", f"{wrong:.6g}")
    assert v["mistake"].startswith("summed the hinge over the correct class")


def test_mistake_p_as_the_gradient():
    p = softmax([1.0, -1.0, 0.5])
    v = check(["--z", "[1, -1, 0.5]", "--target", "2"], "grad_z", vec([round(x, 6) for x in p]))
    assert v["mistake"] == "took p as the gradient instead of p − y"
    W, x = [[0.1, 0.2], [0.3, -0.4]], [1.0, 3.0]
    z = [sum(w * xi for w, xi in zip(r, x)) for r in W]
    p = softmax(z)
    gw = "[" + ", ".join(vec([round(pk * xi, 6) for xi in x]) for pk in p) + "]"
    v = check(["--W", "[[0.1, 0.2], [0.3, -0.4]]", "--x", "[1, 3]", "--target", "0"], "grad_W", gw)
    assert v["mistake"] == "took p as the gradient instead of p − y"


def test_right_answers_pass_the_check():
    p = softmax([2.0, 1.0, 0.1])
    r = run_cli(CMD, "--z", "[2, 1, 0.1]", "--target", "0", "--check", f"loss={-math.log(p[0]):.6g}",
                "--check", "prediction=0")
    assert r.code == 0 and "✓ loss" in r.stdout


# --------------------------------------------------------------------------- steps


def _same(a, b, rng):
    from sympy.logic.boolalg import BooleanAtom

    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rng)
        return
    if isinstance(a, (bool, BooleanAtom)) or isinstance(b, (bool, BooleanAtom)):
        assert bool(a) == bool(b)
        return
    a, b = sympy.sympify(a), sympy.sympify(b)
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    for _ in range(3 if free else 1):
        point = {s: sympy.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for s in free}
        x, y = sympy.N(a.xreplace(point), 30), sympy.N(b.xreplace(point), 30)
        if y.is_infinite or x.is_infinite:
            assert x == y
        else:
            assert abs(x - y) <= 1e-15 * max(1, abs(y)), (a, b)


STEP_CASES = [
    dict(z="[2, 1, 0.1]", target="0"),
    dict(z="[2, 1, 0.1]", t="[0.2, 0.5, 0.3]", temperature="0.5"),
    dict(z="[sqrt(2), 1/3]", target="1"),
    dict(z="[a, b, 0]", target="2"),
    dict(z="[3.2, 5.1, -1.7]", target="0", loss="hinge", margin="0.5"),
    dict(z="[1, 2, 3]", target="1", loss="hinge", temperature="2"),
    dict(W="[[0.2, -0.5], [1.5, 1.3]]", b="[0.1, -0.2]", x="[1, 2]", target="1", temperature="2"),
    dict(W="[[0.2, -0.5, 1], [1.5, 1.3, -0.4], [0, 1, 1]]", b="[0.1, -0.2, 0]", x="[1, 2, -1]", target="2"),
    dict(W="[[w1, 1], [0, w2]]", x="[x1, 1]", target="0"),
]


@pytest.mark.parametrize("options", STEP_CASES, ids=[str(i) for i in range(len(STEP_CASES))])
def test_every_substituted_line_evaluates_to_its_value(options):
    from dlcalc.board import unshow

    rng = random.Random(0)
    sol = solution_of([CMD] + [t for k, v in options.items() for t in (f"--{k}", v)])
    checked = 0
    for s in sol.steps:
        if s.substituted is not None and s.value is not None:
            _same(unshow(s.substituted), s.value, rng)
            checked += 1
    assert checked >= 4


# --------------------------------------------------------------------------- hostile input

_OPTS = ["--z", "--W", "--b", "--x", "--target", "--t", "--loss", "--margin", "--temperature"]
_VALUE = st.one_of(
    st.text(max_size=12),
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=5).map(str),
    st.lists(st.lists(st.integers(-3, 3), min_size=1, max_size=3), min_size=1, max_size=3).map(str),
    st.sampled_from(["ce", "hinge", "a", "[a, b]", "sqrt(2)", "1e300", "0", "[0.5, 0.5]", "[1, 0, 0]"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_OPTS), _VALUE), min_size=0, max_size=4),
       st.booleans())
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs, base):
    args = ["--z", "[1, 2, 0.5]", "--target", "1"] if base else []
    for opt, val in pairs:
        args += [opt, val]
    r = run_cli(CMD, *args, "--json", "--timeout", "5", "--check", "loss=0.5")
    assert r.code in (0, 1, 2), (args, r.code)
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.floats(-30, 30, allow_nan=False).map(lambda v: round(v, 3)), min_size=2, max_size=14),
       st.data())
def test_random_scores_match_the_closed_form(z, data):
    y = data.draw(st.integers(0, len(z) - 1))
    out = run_json(CMD, "--z", vec(z), "--target", str(y))
    p = softmax(z)
    assert out["result"]["p"] == pytest.approx(p, rel=1e-11, abs=1e-300)
    assert out["result"]["loss"] == pytest.approx(-math.log(p[y]), rel=1e-9, abs=1e-15)


# --------------------------------------------------------------------------- README examples

_NOTES = Path(__file__).parents[1] / "notes" / "softmax.md"
_README_EXAMPLES = [
    *__import__("re").findall(r"<!-- example: dlcalc (softmax .+?) -->", _NOTES.read_text() if _NOTES.exists() else ""),
    'softmax --z "[3.2, 5.1, -1.7]" --target 0 --loss hinge',
]


@pytest.mark.parametrize("example", _README_EXAMPLES)
def test_readme_examples_plain_text_latex_and_no_cache_clearing(example, monkeypatch):
    import shlex

    plain_latex_and_rich_agree(shlex.split(example), monkeypatch)
