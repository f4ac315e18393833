"""ln-forward: layer norm and RMSNorm forward and backward.

Expected numbers come from closed forms written out here in mpmath (50 digits) and central
finite differences of that forward pass for the gradients, independently of the solver;
tests/golden/ln-forward.json (torch.nn.LayerNorm / RMSNorm) is checked in test_golden.
"""

from __future__ import annotations

import json
import random

import mpmath
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import close as agree, run_cli, run_json
from dlcalc.exercises import ln_forward as ex
from notes_steps import check_names, judge_any_run, solve, substituted_lines_are_true

mp = mpmath.mp
mp.dps = 50


def ref(X, gamma=1, beta=0, eps=1e-5, rms=False, over_batch=False, unbiased=False):
    """Layer norm / RMSNorm of the rows of X in mpmath; over_batch: of its columns."""
    X = [[mpmath.mpf(str(v)) for v in r] for r in X]
    if over_batch:
        X = [list(c) for c in zip(*X)]
    eps = mpmath.mpf(str(eps))
    out = {"mean": [], "var": [], "rms": [], "x_hat": [], "y": []}
    for i, r in enumerate(X):
        N = len(r)
        g = [mpmath.mpf(str(gamma[i if over_batch else j] if isinstance(gamma, list) else gamma)) for j in range(N)]
        b = [mpmath.mpf(str(beta[i if over_batch else j] if isinstance(beta, list) else beta)) for j in range(N)]
        if rms:
            d = mpmath.sqrt(mpmath.fsum(v * v for v in r) / N + eps)
            xh = [v / d for v in r]
            out["rms"].append(d)
            out["y"].append([g[j] * xh[j] for j in range(N)])
        else:
            mu = mpmath.fsum(r) / N
            var = mpmath.fsum((v - mu) ** 2 for v in r) / (N - 1 if unbiased else N)
            xh = [(v - mu) / mpmath.sqrt(var + eps) for v in r]
            out["mean"].append(mu)
            out["var"].append(var)
            out["y"].append([g[j] * xh[j] + b[j] for j in range(N)])
        out["x_hat"].append(xh)
    if over_batch:
        out["x_hat"] = [list(c) for c in zip(*out["x_hat"])]
        out["y"] = [list(c) for c in zip(*out["y"])]
    return out


def loss(X, G, **kw):
    y = ref(X, **kw)["y"]
    return mpmath.fsum(G[i][j] * y[i][j] for i in range(len(X)) for j in range(len(X[0])))


def fd_grad_x(X, G, **kw):
    h = mpmath.mpf("1e-20")
    out = []
    for i in range(len(X)):
        row = []
        for j in range(len(X[0])):
            Xp = [[mpmath.mpf(str(v)) for v in r] for r in X]
            Xm = [[mpmath.mpf(str(v)) for v in r] for r in X]
            Xp[i][j] += h
            Xm[i][j] -= h
            row.append((loss(Xp, G, **kw) - loss(Xm, G, **kw)) / (2 * h))
        out.append(row)
    return out


def fd_grad_gamma(X, G, gamma, **kw):
    N = len(X[0])
    gam = gamma if isinstance(gamma, list) else [gamma] * N
    h = mpmath.mpf("1e-20")
    out = []
    for j in range(N):
        gp = [mpmath.mpf(str(v)) for v in gam]
        gm = list(gp)
        gp[j] += h
        gm[j] -= h
        out.append((loss(X, G, gamma=gp, **kw) - loss(X, G, gamma=gm, **kw)) / (2 * h))
    return out


def close(got, want, rel=1e-12):
    """``got`` agrees with ``want`` to ``rel`` (absolutely below 1), by the suite's one comparison."""
    assert agree(got, want, rel, atol=rel), (got, want)


# --------------------------------------------------------------------------- forward


def test_one_example_forward():
    out = run_json("ln-forward", "1", "2", "3", "4")
    assert out["exact"]["mean"] == "5/2" and out["exact"]["var"] == "5/4"
    want = ref([[1, 2, 3, 4]])
    close(out["result"]["x_hat"], want["x_hat"][0])
    close(out["result"]["y"], want["y"][0])
    assert "running" not in json.dumps(out["result"])
    assert "no running statistics" in out["conventions"]["axis"]


def test_negative_values_and_per_feature_affine():
    out = run_json("ln-forward", "-1.5", "2", "0.25", "-3", "--gamma", "[2, 1, 0.5, -1]", "--beta", "[0, 1, 2, 3]", "--eps", "0.001")
    want = ref([[-1.5, 2, 0.25, -3]], gamma=[2, 1, 0.5, -1], beta=[0, 1, 2, 3], eps=0.001)
    close(out["result"]["y"], want["y"][0])
    close(out["result"]["mean"], want["mean"][0])


def test_matrix_rows_are_normalized_over_their_features():
    X = [[1, 2, 3], [4, 5, 7]]
    out = run_json("ln-forward", "--x", json.dumps(X))
    want = ref(X)
    close(out["result"]["mean"], want["mean"])
    close(out["result"]["var"], want["var"])
    close(out["result"]["x_hat"], want["x_hat"])


def test_rms_default_eps_is_float32s():
    out = run_json("ln-forward", "1", "2", "3", "4", "--rms")
    import sympy

    assert sympy.sympify(out["exact"]["rms"]) == sympy.sqrt(sympy.Rational(30, 4) + sympy.Rational(1, 2 ** 23))
    assert set(out["result"]) == {"rms", "y"}
    close(out["result"]["y"], ref([[1, 2, 3, 4]], rms=True, eps=2 ** -23)["y"][0])


def test_rms_refuses_beta():
    r = run_cli("ln-forward", "1", "2", "--rms", "--beta", "1", "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--beta"


def test_symbolic_input():
    out = run_json("ln-forward", "a", "b")
    assert out["exact"]["mean"] == "a/2 + b/2"


# --------------------------------------------------------------------------- backward


@pytest.mark.parametrize("rms", [False, True])
def test_backward_against_finite_differences(rms):
    X = [[1, 2, -1, 0.5], [3, 0.5, 0, 2]]
    G = [[0.1, -0.2, 0.3, 1], [1, 0.5, -1, 2]]
    gamma = [1, 2, 0.5, 1.5]
    args = ["--x", json.dumps(X), "--grad-out", json.dumps(G), "--gamma", json.dumps(gamma), "--eps", "0.01"]
    if rms:
        args.append("--rms")
    else:
        args += ["--beta", "[0, -1, 0.5, 2]"]
    out = run_json("ln-forward", *args)
    Gm = [[mpmath.mpf(str(v)) for v in r] for r in G]
    kw = {"eps": 0.01, "rms": rms}
    close(out["result"]["grad_x"], fd_grad_x(X, Gm, gamma=gamma, **kw), 1e-12)
    close(out["result"]["grad_gamma"], fd_grad_gamma(X, Gm, gamma, **kw), 1e-12)
    if not rms:
        close(out["result"]["grad_beta"], [sum(c) for c in zip(*G)])
        close([sum(r) for r in out["result"]["grad_x"]], [0, 0])  # each row's gradient sums to 0


def test_big_input_takes_the_numeric_path_and_agrees():
    rng = random.Random(3)
    X = [[round(rng.gauss(0, 2), 2) for _ in range(10)] for _ in range(10)]
    G = [[round(rng.gauss(0, 1), 2) for _ in range(10)] for _ in range(10)]
    out = run_json("ln-forward", "--x", json.dumps(X), "--grad-out", json.dumps(G))
    assert "numeric path" in out["notes"][0]
    want = ref(X)
    close(out["result"]["y"], want["y"], 1e-13)
    close(out["result"]["var"], want["var"], 1e-15)
    Gm = [[mpmath.mpf(str(v)) for v in r] for r in G]
    close(out["result"]["grad_x"][:2], fd_grad_x(X, Gm)[:2], 1e-12)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    ([], "VALUES"),
    (["1", "2", "--x", "[[1, 2]]"], "--x"),
    (["1", "2", "--gamma", "[1, 2, 3]"], "--gamma"),
    (["1", "2", "--eps", "-1"], "--eps"),
    (["1", "1", "--eps", "0"], "--eps"),
    (["0", "0", "--eps", "0", "--rms"], "--eps"),
    (["1", "2", "--grad-out", "[1, 2, 3]"], "--grad-out"),
    (["--x", "[[1, 2], [3]]"], "--x"),
    (["1", "2", "--beta", "[1, 2, 3]"], "--beta"),
    (["1", "--nope"], "--nope"),
])
def test_bad_input_names_its_option(args, option):
    r = run_cli("ln-forward", *args, "--json")
    assert r.code == 2, r.stdout
    assert r.json()["error"]["option"] == option


# --------------------------------------------------------------------------- --check


X2 = [[1, 2, 3], [4, 5, 7], [0, 1, 5], [2, 2, 1]]


def test_mistake_normalized_over_the_batch():
    wrong = ref(X2, over_batch=True)
    v = check_names("ln-forward", ["--x", json.dumps(X2)], "x_hat", [[float(a) for a in r] for r in wrong["x_hat"]])
    assert not v["ok"] and "over the batch" in v["mistake"]
    v = check_names("ln-forward", ["--x", json.dumps(X2)], "mean", [7 / 4, 10 / 4, 16 / 4])  # the column means
    assert not v["ok"] and "over the batch" in v["mistake"]


def test_mistake_unbiased_variance_and_forgotten_eps():
    v = check_names("ln-forward", ["1", "2", "3", "4"], "var", 5 / 3)
    assert not v["ok"] and "unbiased" in v["mistake"]
    wrong = ref([[1, 2, 3, 4]], eps=0.5, rms=False)  # with a big ε the ε-free answer is far off
    right_args = ["1", "2", "3", "4", "--eps", "0.5"]
    no_eps = [float(v) for v in ref([[1, 2, 3, 4]], eps=0)["x_hat"][0]]
    assert abs(no_eps[0] - float(wrong["x_hat"][0][0])) > 0.01
    v = check_names("ln-forward", right_args, "x_hat", no_eps)
    assert not v["ok"] and "forgot ε" in v["mistake"]


def test_mistake_centered_rms():
    ln = [float(v) for v in ref([[1, 2, 3, 4]], eps=2 ** -23)["y"][0]]
    v = check_names("ln-forward", ["1", "2", "3", "4", "--rms"], "y", ln)
    assert not v["ok"] and "subtracted the mean" in v["mistake"]


def test_right_answer_passes():
    r = run_cli("ln-forward", "1", "2", "3", "4", "--check", "var=1.25")
    assert r.code == 0


# --------------------------------------------------------------------------- the working


CASES = [
    dict(values=["1", "2", "3", "4"]),
    dict(values=["1", "2", "3", "4"], grad_out="[0.1, -0.2, 0.3, 0.5]", gamma="[1, 2, 0.5, 1]", beta="0.1"),
    dict(x="[[1, 2, 3], [4, 5, 7]]", rms=True, grad_out="[[1, 0, 0], [0, 1, -1]]", gamma="[1, 2, 3]"),
    dict(values=["a", "b", "1"], grad_out="[1, g, 0]"),
    dict(values=["0.5", "-1.5", "2", "1"], rms=True, eps="0.01", grad_out="[0.2, -0.1, 0.4, 1]"),
    dict(values=[str(i) for i in range(12)], grad_out=str(list(range(12)))),
]


@pytest.mark.parametrize("opts", CASES, ids=[str(i) for i in range(len(CASES))])
def test_every_substituted_line_is_true(opts):
    sol = solve(ex, **opts)
    assert substituted_lines_are_true(sol) >= 2


def test_over_batch_working_is_true_too():
    sol = ex.solve(ex.parse(values=None, x=json.dumps(X2), gamma="1", beta=None, eps=None, grad_out=None,
                            rms=False), over_batch=True)
    assert substituted_lines_are_true(sol) >= 2


def test_latex_renders():
    assert run_cli("ln-forward", "1", "2", "3", "4", "--grad-out", "[1, 0, 0, 0]", "--latex").code == 0
    assert run_cli("ln-forward", "1", "2", "3", "--rms", "--grad-out", "[1, 0, 0]", "--latex").code == 0


_OPTIONS = ["--x", "--gamma", "--beta", "--eps", "--grad-out", "--rms", "--check"]
_VALUES = st.one_of(st.text(max_size=12), st.integers(-5, 50).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=5).map(str),
                    st.sampled_from(["[[1,2],[3,4]]", "x_hat=[0,0]", "0", "1e-300", "var=1"]))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(repr), min_size=0, max_size=5),
       st.lists(st.tuples(st.sampled_from(_OPTIONS), _VALUES), min_size=0, max_size=3))
def test_any_options_exit_0_1_or_2_with_one_json_object(values, pairs):
    args = list(values)
    for opt, val in pairs:
        args += [opt] if opt == "--rms" else [opt, val]
    judge_any_run(run_cli("ln-forward", *args, "--json", "--timeout", "5", input=""))
