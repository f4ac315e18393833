"""attention: scaled dot-product attention, causal or masked.

Oracles (never the program's own output):
* tests/golden/attention.json, written by tests/oracle/gen_softmax.py with torch float64
  (F.scaled_dot_product_attention with is_causal / a boolean attn_mask / scale), at 1e-9;
* the same formulas written out here with Python's math module, for the mistakes
  (no 1/√d_k, the softmax down the columns) and for random inputs.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import plain_latex_and_rich_agree, run_cli
from golden_compare import close

CMD = "attention"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "attention.json").read_text())


def run_json(*args):
    r = run_cli(CMD, *args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def mat(rows) -> str:
    return "[" + ", ".join("[" + ", ".join(repr(v) if isinstance(v, float) else str(v) for v in r) + "]"
                           for r in rows) + "]"


def attention(Q, K, V, *, scale=None, keep=None, axis="rows"):
    """Scaled dot-product attention by hand: scores, weights, output."""
    n, m, dk = len(Q), len(K), len(Q[0])
    s = 1 / math.sqrt(dk) if scale is None else scale
    A = [[s * math.fsum(q * k for q, k in zip(Q[i], K[j])) for j in range(m)] for i in range(n)]
    keep = keep or [[True] * m for _ in range(n)]
    W = [[0.0] * m for _ in range(n)]
    lines = ([[(i, j) for j in range(m)] for i in range(n)] if axis == "rows" else
             [[(i, j) for i in range(n)] for j in range(m)])
    for line in lines:
        top = max(A[i][j] for i, j in line if keep[i][j])
        e = {(i, j): math.exp(A[i][j] - top) for i, j in line if keep[i][j]}
        tot = math.fsum(e.values())
        for (i, j), v in e.items():
            W[i][j] = v / tot
    O = [[math.fsum(W[i][j] * V[j][c] for j in range(m)) for c in range(len(V[0]))] for i in range(n)]
    return A, W, O


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["id"] for c in GOLDEN["cases"]])
def test_matches_torch_sdpa_at_1e_9(case):
    out = run_json(*case["args"])
    diffs = close(out["result"], case["expected"], 1e-9)
    assert not diffs, "\n".join(diffs[:10])
    assert set(out["result"]) == {"scores", "weights", "output"}


def test_golden_covers_causal_masked_scaled_and_numeric():
    args = [" ".join(c["args"]) for c in GOLDEN["cases"]]
    assert any("--causal" in a and "--mask" not in a for a in args)
    assert any("--mask" in a for a in args) and any("--scale" in a for a in args)
    nulls = [c for c in GOLDEN["cases"] if any(v is None for r in c["expected"]["scores"] for v in r)]
    assert len(nulls) >= 5  # masked entries are null in the oracle and must be null here
    numeric = run_json(*next(c for c in GOLDEN["cases"] if c["id"] == "numeric-8x8-causal")["args"])
    assert any("mpmath" in n for n in numeric["notes"])
    double = run_json(*next(c for c in GOLDEN["cases"] if c["id"] == "double-30x30-causal")["args"])
    assert any("IEEE double" in n for n in double["notes"])


@pytest.mark.parametrize("case", GOLDEN["cases"][::3], ids=[c["id"] for c in GOLDEN["cases"][::3]])
def test_exact_strings_parse_back(case):
    out = run_json(*case["args"])
    for key, value in out["result"].items():
        back = sympy.sympify(out["exact"][key])
        for rv, rb in zip(value, back):
            for v, b in zip(rv, rb):
                assert (v is None and b is None) or math.isclose(v, float(b), rel_tol=1e-12, abs_tol=1e-15)


# --------------------------------------------------------------------------- closed forms


def test_exact_values_of_a_small_case():
    out = run_json("--Q", "[[1, 0], [0, 1]]", "--K", "[[1, 0], [1, 1]]", "--V", "[[1, 2], [3, 4]]")
    assert out["exact"]["scores"] == "[[sqrt(2)/2, sqrt(2)/2], [0, sqrt(2)/2]]"
    assert out["exact"]["weights"].startswith("[[1/2, 1/2], [exp(-sqrt(2)/2)/")
    assert out["exact"]["output"].startswith("[[2, 3]")
    w = 1 / (1 + math.exp(math.sqrt(2) / 2))
    assert out["result"]["weights"][1] == pytest.approx([w, 1 - w], rel=1e-14)


def test_causal_masks_the_future_and_rows_sum_to_one():
    Q = [[1, 0], [0, 1], [1, 1], [0.5, -1]]
    out = run_json("--Q", mat(Q), "--K", mat(Q), "--V", mat([[1], [2], [3], [4]]), "--causal")
    for i, (srow, wrow) in enumerate(zip(out["result"]["scores"], out["result"]["weights"])):
        assert all((v is None) == (j > i) for j, v in enumerate(srow))
        assert all(w == 0 for w in wrow[i + 1:])
        assert math.fsum(wrow) == pytest.approx(1, rel=1e-14)
    assert out["result"]["output"][0] == [1]  # the first query sees only the first value


def test_a_mask_row_applies_to_every_query():
    args = ["--Q", "[[1, 2], [3, 4]]", "--K", "[[1, 0], [0, 1], [1, 1]]", "--V", "[[1], [2], [3]]"]
    a = run_json(*args, "--mask", "[1, 0, 1]")
    b = run_json(*args, "--mask", "[[1, 0, 1], [1, 0, 1]]")
    assert a["result"] == b["result"] and a["result"]["scores"][0][1] is None


def test_causal_and_mask_combine():
    args = ["--Q", "[[1, 0], [0, 1], [1, 1]]", "--K", "[[1, 0], [1, 1], [0, 2]]", "--V", "[[1], [2], [3]]"]
    out = run_json(*args, "--causal", "--mask", "[[1, 1, 1], [0, 1, 1], [1, 0, 1]]")
    keep = [[True, False, False], [False, True, False], [True, False, True]]
    _, W, O = attention([[1, 0], [0, 1], [1, 1]], [[1, 0], [1, 1], [0, 2]], [[1], [2], [3]], keep=keep)
    assert [[v is not None for v in r] for r in out["result"]["scores"]] == keep
    assert out["result"]["weights"] == [pytest.approx(r, rel=1e-14) for r in W]
    assert "PyTorch refuses the two together" in out["conventions"]["mask"]


def test_symbolic_inputs_give_expressions():
    out = run_json("--Q", "[[q, 1]]", "--K", "[[1, 0], [0, 1]]", "--V", "[[v1], [v2]]")
    q, v1, v2 = sympy.symbols("q v1 v2", real=True)
    o = sympy.sympify(out["exact"]["output"], locals={"q": q, "v1": v1, "v2": v2})[0][0]
    a, b = q / sympy.sqrt(2), 1 / sympy.sqrt(2)
    expected = (sympy.exp(a) * v1 + sympy.exp(b) * v2) / (sympy.exp(a) + sympy.exp(b))
    for pt in ({q: 0, v1: 1, v2: 2}, {q: 3, v1: -1, v2: 5}):
        assert sympy.N((o - expected).subs(pt), 30) == pytest.approx(0, abs=1e-25)


def test_scale_option():
    Q, K, V = [[1, 2]], [[1, 0], [0, 1]], [[1], [0]]
    out = run_json("--Q", mat(Q), "--K", mat(K), "--V", mat(V), "--scale", "1")
    A, W, O = attention(Q, K, V, scale=1)
    assert out["result"]["scores"] == [A[0]] and out["result"]["output"][0] == pytest.approx(O[0], rel=1e-14)


def test_text_output_shows_each_stage():
    r = run_cli(CMD, "--Q", "[[1, 0], [0, 1]]", "--K", "[[1, 0], [1, 1]]", "--V", "[[1, 2], [3, 4]]",
                "--causal")
    assert r.code == 0
    working = r.stdout[r.stdout.index("Working"):]
    order = ["raw scores", "scale factor", "scaled scores", "which pairs take part", "masked scores",
             "largest score of each row", "exponentials", "normalizer", "attention weights", "output ="]
    pos = [working.index(t) for t in order]
    assert pos == sorted(pos)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    (["--K", "[[1]]", "--V", "[[1]]"], "--Q"),
    (["--Q", "[[1]]", "--V", "[[1]]"], "--K"),
    (["--Q", "[[1]]", "--K", "[[1]]"], "--V"),
    (["--Q", "[[1, 2]]", "--K", "[[1]]", "--V", "[[1]]"], "--K"),
    (["--Q", "[[1]]", "--K", "[[1], [2]]", "--V", "[[1]]"], "--V"),
    (["--Q", "[[1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[[1, 1], [1, 1]]"], "--mask"),
    (["--Q", "[[1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[1, 2]"], "--mask"),
    (["--Q", "[[1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[a, 1]"], "--mask"),
    (["--Q", "[[1], [1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[[1, 0], [0, 0]]"], "--mask"),
    (["--Q", "[[1], [1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[[0, 1], [1, 1]]",
      "--causal"], "--mask"),
    (["--Q", "[[1]]", "--K", "[[1]]", "--V", "[[1]]", "--scale", "[1, 2]"], "--scale"),
    (["--Q", mat([[1]] * 101), "--K", mat([[1]] * 101), "--V", mat([[1]] * 101)], "--K"),
    (["--Q", mat([[1, 1]] * 50), "--K", mat([[1, 1]] * 50), "--V", mat([[1] * 80] * 50)], "--V"),
    (["--Q", "[[a, b], [c, d], [e, f], [g, h]]", "--K", mat([[1, 1]] * 5), "--V", mat([[1]] * 5)], "--Q"),
    (["--Q", "[[a, b, c, d, f]]", "--K", mat([[1] * 5] * 2), "--V", mat([[1]] * 2)], "--Q"),
])
def test_bad_input_exits_2_naming_the_option(args, option):
    r = run_cli(CMD, *args, "--json")
    assert r.code == 2, r.stdout[:300]
    err = r.json()["error"]
    assert err["option"] == option, err
    assert "\n" not in err["message"]


def test_fully_masked_row_is_an_error_that_says_why():
    r = run_cli(CMD, "--Q", "[[1], [1]]", "--K", "[[1], [2]]", "--V", "[[1], [2]]", "--mask", "[[1, 1], [0, 0]]")
    assert r.code == 2
    assert "--mask masks out every entry of row 1" in r.stderr and "PyTorch" in r.stderr


# --------------------------------------------------------------------------- --check


ARGS = ["--Q", "[[1, 0, 2], [0, 1, -1]]", "--K", "[[1, 1, 0], [0.5, -1, 1], [2, 0, 0]]",
        "--V", "[[1, 2], [3, -1], [0, 4]]"]
Q, K, V = [[1, 0, 2], [0, 1, -1]], [[1, 1, 0], [0.5, -1, 1], [2, 0, 0]], [[1, 2], [3, -1], [0, 4]]


def check(args, key, rows):
    r = run_cli(CMD, *args, "--check", f"{key}={mat([[round(v, 6) for v in r] for r in rows])}", "--json")
    assert r.code == 1, r.stdout
    return r.json()["check"][key]


def test_mistake_no_scaling():
    _, W, O = attention(Q, K, V, scale=1.0)
    assert check(ARGS, "output", O)["mistake"] == "forgot the scaling by 1/√d_k"
    assert check(ARGS, "weights", W)["mistake"] == "forgot the scaling by 1/√d_k"
    A, _, _ = attention(Q, K, V, scale=1.0)
    assert check(ARGS, "scores", A)["mistake"] == "forgot the scaling by 1/√d_k"


def test_mistake_softmax_over_the_columns():
    _, W, O = attention(Q, K, V, axis="columns")
    v = check(ARGS, "weights", W)
    assert v["mistake"].startswith("took the softmax over the wrong axis")
    assert v["departs_at"].endswith("largest score of each row")  # the first step that differs
    assert check(ARGS, "output", O)["mistake"].startswith("took the softmax over the wrong axis")


def test_right_answer_passes():
    _, _, O = attention(Q, K, V)
    r = run_cli(CMD, *ARGS, "--check", f"output={mat([[round(v, 8) for v in r] for r in O])}")
    assert r.code == 0 and "✓ output" in r.stdout


# --------------------------------------------------------------------------- steps


def _solve(**options):
    from dlcalc import registry

    mod = registry.module(CMD)
    kw = {o.param: o.default for o in mod.COMMAND.options}
    kw.update(options)
    return mod.solve(mod.parse(**kw))


def _same(a, b, rng):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, rng)
        return
    a, b = sympy.sympify(a), sympy.sympify(b)
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    for _ in range(3 if free else 1):
        point = {s: sympy.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for s in free}
        x, y = sympy.N(a.xreplace(point), 30), sympy.N(b.xreplace(point), 30)
        if x.is_infinite or y.is_infinite:
            assert x == y
        else:
            assert abs(x - y) <= 1e-15 * max(1, abs(y)), (a, b)


STEP_CASES = [
    dict(Q="[[1, 0], [0, 1]]", K="[[1, 0], [1, 1]]", V="[[1, 2], [3, 4]]"),
    dict(Q="[[1, 0], [0, 1], [1, 1]]", K="[[1, 0], [1, 1], [0, 2]]", V="[[1], [2], [3]]", causal=True),
    dict(Q="[[0.5, -1, 2], [1, 1, 0]]", K="[[1, 0, 0], [0, 1, 0], [0.5, 0.5, 1]]", V="[[1], [-2], [0.5]]",
         mask="[[1, 0, 1], [0, 1, 1]]", scale="1/3"),
    dict(Q="[[q, 1]]", K="[[1, 0], [0, 1]]", V="[[v1], [v2]]"),
]


@pytest.mark.parametrize("options", STEP_CASES, ids=[str(i) for i in range(len(STEP_CASES))])
def test_every_substituted_line_evaluates_to_its_value(options):
    from dlcalc.board import unshow

    rng = random.Random(0)
    sol = _solve(**options)
    checked = 0
    for s in sol.steps:
        if s.substituted is not None and s.value is not None:
            _same(unshow(s.substituted), s.value, rng)
            checked += 1
    assert checked >= 5


# --------------------------------------------------------------------------- hostile and random input

_OPTS = ["--Q", "--K", "--V", "--mask", "--scale", "--causal"]
_VALUE = st.one_of(
    st.text(max_size=12),
    st.integers(-3, 3).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.lists(st.lists(st.integers(-2, 2), min_size=1, max_size=3), min_size=1, max_size=3).map(str),
    st.lists(st.integers(0, 1), min_size=1, max_size=3).map(str),
    st.sampled_from(["[[a, 1]]", "[[1, 0], [0, 0]]", "1e300", "sqrt(2)", "0", "[[1e300, 1]]"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_OPTS), _VALUE), min_size=0, max_size=4), st.booleans())
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs, base):
    args = ["--Q", "[[1, 0], [0, 1]]", "--K", "[[1, 0], [1, 1]]", "--V", "[[1, 2], [3, 4]]"] if base else []
    for opt, val in pairs:
        args += [opt] if opt == "--causal" else [opt, val]
    r = run_cli(CMD, *args, "--json", "--timeout", "5", "--check", "output=[[1, 2], [3, 4]]")
    assert r.code in (0, 1, 2), (args, r.code)
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


_small = st.floats(-4, 4, allow_nan=False).map(lambda v: round(v, 2))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.booleans(), st.data())
def test_random_inputs_match_the_formula(n, m, dk, dv, causal, data):
    Q = [[data.draw(_small) for _ in range(dk)] for _ in range(n)]
    K = [[data.draw(_small) for _ in range(dk)] for _ in range(m)]
    V = [[data.draw(_small) for _ in range(dv)] for _ in range(m)]
    args = ["--Q", mat(Q), "--K", mat(K), "--V", mat(V)] + (["--causal"] if causal else [])
    out = run_json(*args)
    keep = [[not causal or j <= i for j in range(m)] for i in range(n)]
    A, W, O = attention(Q, K, V, keep=keep)
    for i in range(n):
        assert out["result"]["weights"][i] == pytest.approx(W[i], rel=1e-10, abs=1e-14)
        assert out["result"]["output"][i] == pytest.approx(O[i], rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- README examples

_NOTES = Path(__file__).parents[1] / "notes" / "attention.md"
_README_EXAMPLES = [
    *__import__("re").findall(r"<!-- example: dlcalc (attention .+?) -->", _NOTES.read_text() if _NOTES.exists() else ""),
    'attention --Q "[[1, 0], [0, 1]]" --K "[[1, 0], [1, 1]]" --V "[[1], [2]]" --mask "[[1, 0], [1, 1]]" --scale 1',
]


@pytest.mark.parametrize("example", _README_EXAMPLES)
def test_readme_examples_plain_text_latex_and_no_cache_clearing(example, monkeypatch):
    import shlex

    plain_latex_and_rich_agree(shlex.split(example), monkeypatch)


def test_a_masked_score_is_minus_infinity_on_the_board_and_null_in_the_result():
    """The masked score is written −∞ (text), -\\infty (LaTeX), -oo in the steps' JSON (SymPy reads
    it back as −∞), and is null in the scores result; the other entries are the unmasked scores."""
    args = ("--Q", "[[1, 0], [0, 1]]", "--K", "[[1, 0], [1, 1]]", "--V", "[[1, 2], [3, 4]]", "--causal")
    text = run_cli(CMD, *args).stdout
    assert "−∞" in text and "-oo" not in text
    assert r"-\infty" in run_cli(CMD, *args, "--latex").stdout
    out = run_json(*args)
    assert out["result"]["scores"][0][1] is None
    got = out["result"]["scores"][1]
    assert got[0] == 0 and math.isclose(got[1], 1 / math.sqrt(2), rel_tol=1e-12)
    masked = next(s for s in out["steps"] if s["title"] == "masked scores")
    assert sympy.sympify(masked["value"])[0][1] == -sympy.oo


def test_the_masked_score_evaluates_to_minus_infinity():
    from dlcalc.board import unshow
    from dlcalc.exercises.attention import MASKED

    assert MASKED.doit() == -sympy.oo and unshow(MASKED) == -sympy.oo
    assert sympy.sstr(MASKED) == "-oo"
