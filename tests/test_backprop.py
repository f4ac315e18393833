"""backprop: a small network forward and backward by the chain rule, and the update.

Oracles used here (never the program's own output):
* the golden fixture tests/golden/backprop.json (torch autograd, float64);
* the published numbers of the 2-2-2 worked example (Matt Mazur, "A Step by Step
  Backpropagation Example");
* ``reference`` below: a plain-Python transcription of the issue's formulas, with each
  common mistake as a switch, itself checked against finite differences of its own loss
  and against the golden fixture;
* values worked by hand in the test.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from golden_compare import close

GOLDEN = json.loads((Path(__file__).parent / "golden" / "backprop.json").read_text())["cases"]
KEYS = {"output", "loss", "delta", "grad_W", "grad_b", "W", "b", "history"}

MAZUR = ["--x", "0.05,0.10", "--t", "0.01,0.99", "--W", "[[0.15,0.20],[0.25,0.30]]", "--b", "0.35",
         "--W", "[[0.40,0.45],[0.50,0.55]]", "--b", "0.60", "--lr", "0.5"]
MAZUR_PY = dict(x=[[0.05, 0.10]], t=[[0.01, 0.99]], Ws=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                bs=[0.35, 0.60], acts=["sigmoid", "sigmoid"], lr=0.5)
BATCH = ["--x", "[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 0.75, 0.0]]",
         "--t", "[[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]]",
         "--W", "[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [0.2, 0.1, -0.3]]", "--b", "[0.1, -0.1, 0.05, 0.0]",
         "--W", "[[0.3, -0.1, 0.2, 0.5], [-0.4, 0.6, 0.1, -0.2]]", "--b", "[0.2, -0.3]",
         "--act", "tanh", "--act", "linear", "--lr", "0.1"]
BATCH_PY = dict(x=[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 0.75, 0.0]], t=[[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]],
                Ws=[[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [0.2, 0.1, -0.3]],
                    [[0.3, -0.1, 0.2, 0.5], [-0.4, 0.6, 0.1, -0.2]]],
                bs=[[0.1, -0.1, 0.05, 0.0], [0.2, -0.3]], acts=["tanh", "linear"], lr=0.1)


def bp(*args):
    r = run_cli("backprop", *args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def flat(v):
    if isinstance(v, list):
        return [e for x in v for e in flat(x)]
    return [v]


# --------------------------------------------------------------------------- the test's own oracle


def _act(name, z, slope):
    if name == "sigmoid":
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
    if name == "tanh":
        return math.tanh(z)
    if name == "relu":
        return z if z > 0 else 0.0
    if name == "leaky-relu":
        return z if z > 0 else slope * z
    return z


def _der(name, z, slope):
    if name == "sigmoid":
        s = _act("sigmoid", z, slope)
        return s * (1 - s)
    if name == "tanh":
        return 1 - math.tanh(z) ** 2
    if name == "relu":
        return 1.0 if z > 0 else 0.0
    if name == "leaky-relu":
        return 1.0 if z > 0 else slope
    return 1.0


def forward(X, Ws, bs, acts, slope=0.01):
    A, Z = [X], []
    for W, b, act in zip(Ws, bs, acts):
        z = [[sum(w * a for w, a in zip(Wr, row)) + (b if not isinstance(b, list) else b[j])
              for j, Wr in enumerate(W)] for row in A[-1]]
        Z.append(z)
        if act == "softmax":
            out = []
            for r in z:
                m = max(r)
                e = [math.exp(v - m) for v in r]
                out.append([v / sum(e) for v in e])
            A.append(out)
        else:
            A.append([[_act(act, v, slope) for v in r] for r in z])
    return Z, A


def loss_of(X, T, Ws, bs, acts, loss="mse", c=0.5, slope=0.01, average=True):
    _, A = forward(X, Ws, bs, acts, slope)
    n = len(X) if average else 1
    if loss == "mse":
        return c * sum((t - a) ** 2 for ar, tr in zip(A[-1], T) for a, t in zip(ar, tr)) / n
    if loss == "bce":
        return -sum(t * math.log(a) + (1 - t) * math.log(1 - a) for ar, tr in zip(A[-1], T)
                    for a, t in zip(ar, tr)) / n
    return -sum(t * math.log(a) for ar, tr in zip(A[-1], T) for a, t in zip(ar, tr)) / n


def reference(x, t, Ws, bs, acts, loss="mse", c=0.5, lr=0.1, slope=0.01, average=True,
              forgot_fprime=False, fprime_at_a=False, no_transpose=False, updated=False):
    """One step of the issue's formulas in floats (each mistake a switch): a dict of results."""
    X, T = [list(r) for r in x], [list(r) for r in t]
    N, L = len(X), len(Ws)
    n = N if average else 1
    Z, A = forward(X, Ws, bs, acts, slope)
    out = A[-1]
    D, gW, gb, newW, newb = [None] * L, [None] * L, [None] * L, [None] * L, [None] * L
    for l in reversed(range(L)):
        act = acts[l]
        if l == L - 1:
            if loss == "mse":
                g = [[2 * c / n * (a - tt) for a, tt in zip(ar, tr)] for ar, tr in zip(out, T)]
            elif loss == "bce":
                g = [[(-tt / a + (1 - tt) / (1 - a)) / n for a, tt in zip(ar, tr)] for ar, tr in zip(out, T)]
            else:
                g = [[-tt / a / n for a, tt in zip(ar, tr)] for ar, tr in zip(out, T)]
        else:
            Wn = newW[l + 1] if updated else Ws[l + 1]
            K, J = len(Wn), len(Wn[0])
            if no_transpose and K == J:
                g = [[sum(Wn[j][k] * dr[k] for k in range(K)) for j in range(J)] for dr in D[l + 1]]
            else:
                g = [[sum(Wn[k][j] * dr[k] for k in range(K)) for j in range(J)] for dr in D[l + 1]]
        if act == "softmax":  # the Jacobian diag(a) − a aᵀ
            D[l] = [list(gr) if forgot_fprime else
                    [a_j * (g_j - sum(a_k * g_k for a_k, g_k in zip(ar, gr))) for a_j, g_j in zip(ar, gr)]
                    for ar, gr in zip(A[l + 1], g)]
        else:
            def fp(z, a):
                if forgot_fprime:
                    return 1.0
                return _der(act, a if fprime_at_a else z, slope)
            D[l] = [[gj * fp(zj, aj) for gj, zj, aj in zip(gr, zr, ar)] for gr, zr, ar in zip(g, Z[l], A[l + 1])]
        gW[l] = [[sum(D[l][m][j] * A[l][m][i] for m in range(N)) for i in range(len(Ws[l][0]))]
                 for j in range(len(Ws[l]))]
        if isinstance(bs[l], list):
            gb[l] = [sum(D[l][m][j] for m in range(N)) for j in range(len(Ws[l]))]
            newb[l] = [b - lr * gj for b, gj in zip(bs[l], gb[l])]
        else:
            gb[l] = sum(v for r in D[l] for v in r)
            newb[l] = bs[l] - lr * gb[l]
        newW[l] = [[w - lr * gw for w, gw in zip(wr, gr)] for wr, gr in zip(Ws[l], gW[l])]
    return {"output": out, "loss": loss_of(X, T, Ws, bs, acts, loss, c, slope, average), "delta": D,
            "grad_W": gW, "grad_b": gb, "W": newW, "b": newb}


def test_reference_gradients_match_finite_differences():
    """The test's own oracle is right: its gradients are the slopes of its loss."""
    cases = [
        (MAZUR_PY, "mse", 0.5),
        (BATCH_PY, "mse", 1.0),
        (dict(x=[[0.2, -0.4], [1.0, 0.5]], t=[[0, 1, 0], [0.25, 0.25, 0.5]], Ws=[[[0.1, 0.2], [-0.3, 0.4]],
              [[0.5, -0.5], [0.2, 0.1], [-0.4, 0.3]]], bs=[0.1, [0.0, 0.1, -0.1]], acts=["sigmoid", "softmax"]),
         "ce", 1.0),
        (dict(x=[[0.5, 1.5]], t=[[0.0, 1.0, 0.0]], Ws=[[[0.3, -0.6], [0.5, 0.2], [-0.1, 0.4]]],
              bs=[[0.0, 0.2, -0.2]], acts=["softmax"]), "mse", 0.5),
        (dict(x=[[1.0, 2.0], [-1.0, 0.5]], t=[[1.0], [0.0]], Ws=[[[0.5, -0.25], [1.0, 0.75]], [[1.0, -1.0]]],
              bs=[[0.1, -0.2], 0.3], acts=["leaky-relu", "sigmoid"]), "bce", 1.0),
    ]
    eps = 1e-6
    for p, loss, c in cases:
        h = reference(p["x"], p["t"], p["Ws"], p["bs"], p["acts"], loss=loss, c=c)
        for l, W in enumerate(p["Ws"]):
            for j in range(len(W)):
                for i in range(len(W[0])):
                    def at(d):
                        Ws = json.loads(json.dumps(p["Ws"]))
                        Ws[l][j][i] += d
                        return loss_of(p["x"], p["t"], Ws, p["bs"], p["acts"], loss, c)
                    fd = (at(eps) - at(-eps)) / (2 * eps)
                    assert math.isclose(h["grad_W"][l][j][i], fd, rel_tol=1e-6, abs_tol=1e-9), (l, j, i)
            b = p["bs"][l]

            def at_b(d, k):
                bs = json.loads(json.dumps(p["bs"]))
                if isinstance(b, list):
                    bs[l][k] += d
                else:
                    bs[l] += d
                return loss_of(p["x"], p["t"], p["Ws"], bs, p["acts"], loss, c)
            for k in range(len(b) if isinstance(b, list) else 1):
                fd = (at_b(eps, k) - at_b(-eps, k)) / (2 * eps)
                got = h["grad_b"][l][k] if isinstance(b, list) else h["grad_b"][l]
                assert math.isclose(got, fd, rel_tol=1e-6, abs_tol=1e-9)


def test_reference_agrees_with_the_golden_fixture():
    case = next(c for c in GOLDEN if c["id"] == "tanh-batch-linear-output")
    h = reference(BATCH_PY["x"], BATCH_PY["t"], BATCH_PY["Ws"], BATCH_PY["bs"], BATCH_PY["acts"], lr=0.1)
    for key in ("loss", "delta", "grad_W", "grad_b"):
        assert not close(h[key], case["expected"][key], 1e-12), key


# --------------------------------------------------------------------------- the worked 2-2-2 example


def test_the_worked_2_2_2_example():
    """Matt Mazur's numbers: E_total, out_h1, out_o1, ∂E/∂w5 and every weight after one step."""
    res = bp(*MAZUR)["result"]
    assert set(res) == KEYS
    assert res["loss"] == pytest.approx(0.298371109, abs=5e-10)
    assert res["output"] == pytest.approx([0.75136507, 0.772928465], abs=5e-9)
    assert res["grad_W"][1][0][0] == pytest.approx(0.082167041, abs=5e-10)   # ∂E/∂w5
    assert res["grad_W"][0][0][0] == pytest.approx(0.000438568, abs=5e-10)   # ∂E/∂w1
    # w1..w4 and w5..w8 after the step, as published
    assert flat(res["W"][0]) == pytest.approx([0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=5e-9)
    assert flat(res["W"][1]) == pytest.approx([0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=5e-9)
    assert res["history"] == [{"loss": res["loss"]}]


def test_the_worked_example_shows_the_chain_of_each_weight():
    r = run_cli("backprop", *MAZUR)
    assert r.code == 0
    out = r.stdout
    assert "∂L/∂W⁽²⁾₁₁ = ∂L/∂a⁽²⁾₁·∂a⁽²⁾₁/∂z⁽²⁾₁·∂z⁽²⁾₁/∂W⁽²⁾₁₁" in out
    assert "= 0.741365·0.186816·0.59327" in out      # ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5
    assert "∂L/∂a⁽¹⁾₁ = W⁽²⁾₁₁·δ⁽²⁾₁ + W⁽²⁾₂₁·δ⁽²⁾₂" in out   # Wᵀδ
    assert "= 0.15·0.05 + 0.2·0.1 + 0.35" in out
    assert "σ′(z⁽²⁾₁) = a⁽²⁾₁·(1 - a⁽²⁾₁)" in out
    # the order of the board: forward, loss, backward from the output layer, update
    order = [out.index(s) for s in ("forward, layer 1", "forward, layer 2", "\n  loss\n", "backward, layer 2",
                                    "backward, layer 1", "\n  update\n", "Answer")]
    assert order == sorted(order)


def test_a_shared_scalar_bias_gets_the_sum_over_its_units():
    res = bp(*MAZUR)["result"]
    d = res["delta"]
    assert res["grad_b"][0] == pytest.approx(sum(d[0]), rel=1e-14)
    assert res["grad_b"][1] == pytest.approx(sum(d[1]), rel=1e-14)
    assert res["b"][1] == pytest.approx(0.6 - 0.5 * sum(d[1]), rel=1e-14)
    per_unit = bp(*[a if a not in ("0.35", "0.60") else f"[{a}, {a}]" for a in MAZUR])["result"]
    assert per_unit["grad_b"][1] == pytest.approx(d[1], rel=1e-14)
    assert per_unit["loss"] == pytest.approx(res["loss"], rel=1e-14)


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("case", GOLDEN, ids=[c["id"] for c in GOLDEN])
def test_matches_torch_autograd(case):
    out = bp(*case["args"])
    assert set(out["result"]) == KEYS
    diffs = close(out["result"], case["expected"], 1e-9)
    assert not diffs, "\n".join(diffs[:10])


def test_the_golden_fixture_covers_the_issue():
    args = [" ".join(c["args"]) for c in GOLDEN]
    for act in ("sigmoid", "tanh", "relu", "softmax", "leaky-relu", "linear"):
        assert any(f"--act {act}" in a for a in args), act
    assert any("--loss ce" in a for a in args) and any("--loss bce" in a for a in args)
    assert any(len(json.loads(c["args"][1])) > 1 and isinstance(json.loads(c["args"][1])[0], list) for c in GOLDEN)
    assert any(not c["args"][c["args"].index("--b") + 1].startswith("[") for c in GOLDEN)  # a shared scalar bias


# --------------------------------------------------------------------------- exactness and shapes


def test_piecewise_linear_layers_are_exact():
    """x = (1, 2), (−1, 0.5); ReLU then linear; worked by hand."""
    out = bp("--x", "1 2; -1 0.5", "--t", "1; 0", "--W", "[[0.5,-0.25],[1,0.75]]", "--b", "[0.1,-0.2]",
             "--W", "[[1,-1]]", "--b", "0", "--act", "relu", "--act", "linear", "--lr", "0.1")
    ex = out["exact"]
    # example 1: z¹ = (0.1, 2.3), a² = 0.1 − 2.3 = −2.2; example 2: z¹ < 0, a² = 0
    assert ex["output"] == "[[-11/5], [0]]"
    assert sympy.Rational(ex["loss"]) == sympy.Rational(1, 2) * sympy.Rational(16, 5) ** 2 / 2   # ½·(1 + 2.2)²/2
    # δ² = (a − t)/N = (−3.2/2, 0); ∂L/∂W² = δ²ᵀ·a¹ = (−1.6·0.1, −1.6·2.3)
    assert ex["delta"].endswith("[[-8/5], [0]]]")
    assert ex["grad_W"].endswith("[[-4/25, -92/25]]]")
    assert ex["grad_b"] == "[[-8/5, 8/5], -8/5]"
    assert "notes" not in out


def test_vectors_stay_vectors_and_rows_stay_rows():
    """One example as a vector gives vectors (as torch with x of shape (d,)); as a row, rows."""
    one = bp("--x", "[1, 2]", "--t", "0.25", "--W", "[[0.1, 0.2]]", "--b", "0", "--act", "linear")["result"]
    # z = 0.5, δ = z − t = 0.25
    assert one["output"] == [0.5] and one["delta"] == [[0.25]] and one["grad_W"] == [[[0.25, 0.5]]]
    assert one["grad_b"] == [0.25]  # the shape of the given b: one shared scalar
    rows = bp("--x", "[[1, 2]]", "--t", "[[0.25]]", "--W", "[[0.1, 0.2]]", "--b", "[0]", "--act", "linear")["result"]
    assert rows["output"] == [[0.5]] and rows["delta"] == [[[0.25]]] and rows["grad_b"] == [[0.25]]


def test_the_plainest_exercise_one_linear_neuron():
    """One gradient step of a linear neuron: z = w·x + b, L = ½(t − z)²."""
    out = bp("--x", "[1, 2, -1]", "--t", "0.5", "--W", "[0.2, -0.3, 0.1]", "--b", "0.4", "--act", "linear",
             "--lr", "0.1")
    z = 0.2 - 0.6 - 0.1 + 0.4
    res = out["result"]
    assert res["loss"] == pytest.approx(0.5 * (0.5 - z) ** 2, rel=1e-15)
    assert flat(res["grad_W"]) == pytest.approx([(z - 0.5) * xi for xi in (1, 2, -1)], rel=1e-15)
    assert res["b"] == [pytest.approx(0.4 - 0.1 * (z - 0.5), rel=1e-15)]
    assert out["exact"]["W"] == "[[[13/50, -9/50, 1/25]]]"  # 0.1 − 0.1·0.6


def test_symbolic_weights_give_expressions():
    out = bp("--x", "[1, 2]", "--t", "1", "--W", "[[w1, w2]]", "--b", "b1", "--act", "linear")
    w1, w2, b1 = sympy.symbols("w1 w2 b1")
    z = w1 + 2 * w2 + b1
    assert sympy.expand(sympy.sympify(out["exact"]["loss"]) - (1 - z) ** 2 / 2) == 0
    grad = sympy.sympify(out["exact"]["grad_W"])
    assert sympy.expand(grad[0][0][0] - (z - 1)) == 0 and sympy.expand(grad[0][0][1] - 2 * (z - 1)) == 0
    assert out["notes"][-1].startswith("symbolic")


def test_symbolic_sigmoid_keeps_sigma_and_agrees_with_numbers():
    out = bp("--x", "[x1, 0.5]", "--t", "1", "--W", "[[0.3, -0.2], [0.1, 0.4]]", "--b", "0.1",
             "--W", "[[w, 0.5]]", "--b", "0", "--lr", "0.5")
    # `exact` spells σ as its definition, so that SymPy parses it (README); the text keeps σ
    assert "sigmoid(" not in out["exact"]["loss"] and "exp(" in out["exact"]["loss"]
    assert "σ(" in run_cli("backprop", "--x", "[x1, 0.5]", "--t", "1", "--W", "[[0.3, -0.2], [0.1, 0.4]]",
                           "--b", "0.1", "--W", "[[w, 0.5]]", "--b", "0", "--lr", "0.5", "--brief").stdout
    x1, w = sympy.symbols("x1 w")
    expr = sympy.sympify(out["exact"]["W"])
    num = bp("--x", "[0.7, 0.5]", "--t", "1", "--W", "[[0.3, -0.2], [0.1, 0.4]]", "--b", "0.1",
             "--W", "[[-1.5, 0.5]]", "--b", "0", "--lr", "0.5")["result"]["W"]
    got = [float(e.subs({x1: sympy.Rational(7, 10), w: sympy.Rational(-3, 2)})) for e in flat(expr)]
    assert got == pytest.approx(flat(num), rel=1e-12)


def test_long_runs_switch_arithmetic_and_say_so():
    case = next(c for c in GOLDEN if c["id"] == "mazur-200-steps-mpmath")
    assert any("mpmath" in n for n in bp(*case["args"])["notes"])
    case = next(c for c in GOLDEN if c["id"] == "mazur-10000-steps-double")
    assert any("IEEE double" in n for n in bp(*case["args"])["notes"])
    out = bp("--x", "1 2; -1 0.5", "--t", "1; 0", "--W", "[[0.5,-0.25],[1,0.75]]", "--b", "[0.1,-0.2]",
             "--W", "[[1,-1]]", "--b", "0", "--act", "relu", "--act", "linear", "--lr", "0.1", "--steps", "12")
    assert out["notes"] == ["steps 6–12 computed with 30 significant digits (sympy.Float): the exact numbers grew "
                            "long; steps 1–5 exact"]
    assert len(out["result"]["history"]) == 12
    assert "/" in out["exact"]["history"][4]["loss"] and "/" not in out["exact"]["history"][6]["loss"]
    # the same run in the test's floats
    Ws, bs = [[[0.5, -0.25], [1, 0.75]], [[1, -1]]], [[0.1, -0.2], 0.0]
    for _ in range(12):
        h = reference([[1, 2], [-1, 0.5]], [[1], [0]], Ws, bs, ["relu", "linear"], lr=0.1)
        Ws, bs = h["W"], h["b"]
    assert flat(out["result"]["W"]) == pytest.approx(flat(Ws), rel=1e-10)


def test_steps_each_start_from_the_last_update():
    two = bp(*MAZUR, "--steps", "2")["result"]
    one = bp(*MAZUR)["result"]
    W1 = one["W"]
    again = bp("--x", "0.05,0.10", "--t", "0.01,0.99", "--W", json.dumps(W1[0]), "--b", repr(one["b"][0]),
               "--W", json.dumps(W1[1]), "--b", repr(one["b"][1]), "--lr", "0.5")["result"]
    assert two["history"][1]["loss"] == pytest.approx(again["loss"], rel=1e-12)
    assert flat(two["W"]) == pytest.approx(flat(again["W"]), rel=1e-12)
    assert two["loss"] == one["loss"] and two["grad_W"] == one["grad_W"]


# --------------------------------------------------------------------------- the board


def _solution(args):
    from dlcalc.core import Task
    from dlcalc.exercises import backprop as ex

    kw = dict(x=None, t=None, W=[], b=[], act=[], loss=None, half=None, lr="0.1", steps="1", slope=None)
    it = iter(args)
    for opt in it:
        name = opt.lstrip("-")
        if name == "no-half":
            kw["half"] = False
            continue
        val = next(it)
        if name in ("W", "b", "act"):
            kw[name].append(val)
        else:
            kw[name] = val
    kw = {k: (v if v != [] else None) for k, v in kw.items()}
    return Task(ex.solve, ex.parse(**kw)).run()


BOARD_CASES = [MAZUR, BATCH, [c["args"] for c in GOLDEN if c["id"] == "sigmoid-softmax-ce-batch-shared-bias"][0]] + [
    c["args"] for c in GOLDEN if c["id"] in ("softmax-ce-one-example-probabilities", "softmax-mse-jacobian",
                                             "softmax-bce", "leaky-tanh-linear-3-layers", "linear-neuron-one-step",
                                             "relu-hidden-sigmoid-bce-batch", "sigmoid-bce-single-output-vector",
                                             "mazur-3-steps")] + [
    ["--x", "[x1, 0.5]", "--t", "1", "--W", "[[0.3, -0.2], [w, 0.4]]", "--b", "0.1", "--W", "[[0.5, -1]]",
     "--b", "b2", "--act", "tanh", "--act", "sigmoid", "--loss", "bce"],
    ["--x", "[1, -2]", "--t", "[0, 1]", "--W", "[[0.5, 1], [1, 0.5]]", "--b", "0", "--act", "leaky-relu",
     "--slope", "0.2", "--no-half"],
]


@pytest.mark.parametrize("args", BOARD_CASES, ids=range(len(BOARD_CASES)))
def test_every_substituted_line_evaluates_to_its_value(args):
    from dlcalc.board import unshow

    sol = _solution(args)
    checked = 0
    for s in sol.steps:
        if s.substituted is None:
            continue
        got, want = flat(unshow(s.substituted)), flat(s.value if isinstance(s.value, list) else [s.value])
        assert len(got) == len(want), s.title
        for g, w in zip(got, want):
            diff = sympy.sympify(g) - sympy.sympify(w)
            free = sorted(sympy.sympify(g).free_symbols | sympy.sympify(w).free_symbols, key=str)
            point = {v: sympy.Rational(random.Random(k).randint(2, 9), 7) for k, v in enumerate(free)}
            d = abs(sympy.N(diff.xreplace(point), 40))
            assert d <= 1e-25 * max(1, abs(sympy.N(sympy.sympify(w).xreplace(point), 20))), (s.title, g, w)
            checked += 1
    assert checked > 5


def test_sigmoid_with_bce_and_softmax_with_ce_derive_a_minus_t():
    from dlcalc.exercises import backprop as ex

    sol = _solution([c["args"] for c in GOLDEN if c["id"] == "sigmoid-bce-single-output-vector"][0])
    der = [s for s in sol.steps if "derived" in s.title]
    a, t = sympy.Symbol("a"), sympy.Symbol("t")
    assert len(der) == 1 and sympy.expand(der[0].value - (a - t)) == 0
    sol = _solution([c["args"] for c in GOLDEN if c["id"] == "softmax-ce-one-example-probabilities"][0])
    der = [s for s in sol.steps if "derived" in s.title]
    assert len(der) == 1 and str(der[0].value) == "a_j - t_j"
    assert ex  # the module is importable without the CLI


@pytest.mark.parametrize("args", [MAZUR, BATCH] + [c["args"] for c in GOLDEN[6:12]])
def test_latex_is_an_align_block(args):
    import re

    r = run_cli("backprop", *args, "--latex")
    assert r.code == 0
    tex = r.stdout.strip()
    assert tex.startswith("\\begin{align*}") and tex.endswith("\\end{align*}")
    assert tex.count("{") == tex.count("}") and "∂" not in tex and "⁽" not in tex and "?" not in tex
    assert not re.search(r"\^\{\(\d+\)\}(_[a-z0-9]|_\{[^{}]*\})?\^", tex)  # a double superscript
    if args is MAZUR:
        assert "\\frac{\\partial L}{\\partial W^{(2)}_{11}}" in tex


# --------------------------------------------------------------------------- --check


def _wrong(flag, key, p=MAZUR_PY, **kw):
    right = reference(p["x"], p["t"], p["Ws"], p["bs"], p["acts"], lr=p["lr"], **kw)[key]
    wrong = reference(p["x"], p["t"], p["Ws"], p["bs"], p["acts"], lr=p["lr"], **{**kw, **flag})[key]
    assert close(wrong, right, 1e-6), "the mistake must change the value"
    return wrong


def _names(args, key, value):
    text = json.dumps(value)
    r = run_cli("backprop", *args, "--check", f"{key}={text}", "--rtol", "1e-6", "--json")
    assert r.code == 1, r.stdout
    return r.json()["check"][key]["mistake"]


@pytest.mark.parametrize("flag,key,words", [
    ({"forgot_fprime": True}, "W", "forgot f′"),
    ({"fprime_at_a": True}, "grad_W", "f′ at a"),
    ({"no_transpose": True}, "grad_W", "W instead of Wᵀ"),
    ({"updated": True}, "W", "already-updated"),
])
def test_check_names_each_backprop_mistake(flag, key, words):
    wrong = _wrong(flag, key)
    assert words in _names(MAZUR, key, wrong)  # a list of per-layer matrices, as the JSON has it
    right = bp(*MAZUR)["result"][key]
    ok = run_cli("backprop", *MAZUR, "--check", f"{key}={json.dumps(right)}", "--json")
    assert ok.code == 0 and ok.json()["check"][key]["ok"] is True


def test_check_names_forgetting_to_average():
    p = BATCH_PY
    wrong = _wrong({"average": False}, "grad_W", p, c=0.5)
    assert "average" in _names(BATCH, "grad_W", wrong)
    loss = reference(p["x"], p["t"], p["Ws"], p["bs"], p["acts"], average=False)["loss"]
    assert "average" in _names(BATCH, "loss", loss)


def test_check_names_the_half():
    loss = reference(**{k: MAZUR_PY[k] for k in ("x", "t", "Ws", "bs", "acts")}, c=1.0)["loss"]
    assert "forgot the ½" in _names(MAZUR, "loss", loss)
    loss = reference(**{k: MAZUR_PY[k] for k in ("x", "t", "Ws", "bs", "acts")}, c=0.5)["loss"]
    assert "added a ½" in _names([*MAZUR, "--no-half"], "loss", loss)


def test_a_wrong_value_no_mistake_explains():
    r = run_cli("backprop", *MAZUR, "--check", "loss=0.123", "--json")
    assert r.code == 1 and r.json()["check"]["loss"]["mistake"] is None


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["--x", "1,2", "--t", "0"], "--W", ""),
    (["--x", "1,2,3", "--t", "0", "--W", "[[1,2]]"], "--x", "3 features"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2],[3,4]]", "--W", "[[1,2,3]]"], "--W", "out × in"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--b", "[1,2]"], "--b", "2 entries"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--W", "[[1]]", "--b", "0"], "--b", "one --b per layer"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--act", "swish"], "--act", "must be one of"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--W", "[[1]]", "--act", "softmax"], "--act", "output layer"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--act", "relu", "--loss", "bce"], "--loss", "sigmoid"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--loss", "ce"], "--loss", "softmax"),
    (["--x", "1,2", "--t", "[0.5, 0.7]", "--W", "[[1,2],[1,1]]", "--act", "softmax", "--loss", "ce"], "--t", "sum to 1"),
    (["--x", "1,2", "--t", "2", "--W", "[[1,2]]", "--loss", "bce"], "--t", "[0, 1]"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--loss", "bce", "--no-half"], "--no-half", "mse only"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--slope", "0.2"], "--slope", "leaky-relu only"),
    (["--x", "1,2", "--t", "[0, 1, 2]", "--W", "[[1,2]]"], "--t", "3 entries"),
    (["--x", "1,2", "--t", "0", "--W", "[[w,2]]", "--act", "relu"], "--act", "sign of z"),
    (["--x", "1,2", "--t", "0", "--W", "[[w,2]]", "--steps", "4"], "--steps", "symbolic"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--steps", "10001"], "--steps", "10,000"),
    (["--x", "[" + ",".join(["1"] * 1000) + "]", "--t", "0", "--W", "[[" + ",".join(["1"] * 1000) + "]]",
      "--steps", "5000"], "--steps", "too much work"),
    (["--x", "1,2", "--t", "0", "--W", "[[1,2]]", "--lr", "1e30", "--act", "linear", "--steps", "100"], "--lr",
     "overflow"),
    (["--x", "1,2", "--t", "0", "--W", "[[x1,2]]", "--W", "[[1]]", "--W", "[[1]]", "--W", "[[1]]", "--steps", "3"],
     None, ""),
])
def test_bad_input_exits_2_naming_the_option(args, option, words):
    r = run_cli("backprop", *args, "--json")
    if option is None:  # a symbolic deep run: an answer or a clear refusal, never a crash
        assert r.code in (0, 2)
        return
    assert r.code == 2, r.stdout
    err = r.json()["error"]
    assert err["option"] == option and words in err["message"], err
    assert "\n" not in err["message"]


def _strategy():
    opts = ["--x", "--t", "--W", "--b", "--act", "--loss", "--lr", "--steps", "--slope"]
    value = st.one_of(st.text(max_size=20),
                      st.sampled_from(["sigmoid", "tanh", "relu", "leaky-relu", "linear", "softmax", "mse",
                                       "bce", "ce", "w", "[[1, 2], [3, 4]]", "[0.5, 0.5]", "0", "1e308",
                                       "[[w, 1]]", "nan"]),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.integers(min_value=-10**6, max_value=10**6).map(str),
                      st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=4).map(str))
    return st.lists(st.tuples(st.sampled_from(opts), value), min_size=1, max_size=3)


def test_arbitrary_values_exit_0_1_or_2_with_one_json_object():
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_strategy(), st.booleans())
    def prop(pairs, check):
        args = ["--x", "0.05,0.10", "--t", "0.01,0.99", "--W", "[[0.15,0.20],[0.25,0.30]]", "--b", "0.35"]
        for opt, val in pairs:
            args += [opt, val]
        if check:
            args += ["--check", "loss=0.3"]
        r = run_cli("backprop", *args, "--json", "--timeout", "5")
        assert r.code in (0, 1, 2), (args, r.code)
        assert "Traceback" not in r.stdout + r.stderr
        out = json.loads(r.stdout)
        assert isinstance(out, dict) and ("error" in out) == (r.code == 2)
        if r.code != 2:
            assert set(out["result"]) == KEYS

    prop()
