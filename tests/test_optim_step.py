"""optim-step: torch.optim's SGD, RMSprop, Adagrad, Adadelta and the Adam family by hand.

Oracles used here (never the program's own output):
* tests/golden/optim-step.json, written by tests/oracle/gen_optim.py: the real torch.optim
  classes in float64 (``foreach=False``, the single-tensor code), states read from
  ``optimizer.state`` by PyTorch's names; plain-float textbook code (Andrew Ng's EMA
  momentum, d2l.ai's ``rmsprop_2d`` / ``adagrad_2d``) for the variants torch lacks, and the
  d2l.ai chapter's printed "epoch 20, x1: …, x2: …" lines;
* ``ref`` below: a plain-float transcription of each method, for the --check mistakes
  (the mistaken answer is computed here, by the formula the student used);
* closed forms worked by hand in exact fractions;
* adam-step (an older command with its own golden tests) for the Adam family.
"""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction as Fr
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli, run_json
from dlcalc.board import unshow

CASES = json.loads((Path(__file__).parent / "golden" / "optim-step.json").read_text())["cases"]
STATES = {"sgd": ["momentum_buffer"], "rmsprop": ["square_avg", "grad_avg", "momentum_buffer"],
          "adagrad": ["sum"], "adadelta": ["square_avg", "acc_delta"],
          "adam": ["exp_avg", "exp_avg_sq"], "adamw": ["exp_avg", "exp_avg_sq"],
          "amsgrad": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]}
RTOL = 1e-9


def optim(*args, **kw):
    return run_cli("optim-step", *args, **kw)


def optim_json(*args):
    r = optim(*args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def close(a, e, rtol=RTOL, atol=1e-15, path=""):
    """Differences between a JSON value and an expected one (empty when they agree)."""
    if isinstance(e, dict):
        assert isinstance(a, dict), path
        out = []
        for k in e:
            out += [f"{path}.{k}: missing"] if k not in a else close(a[k], e[k], rtol, atol, f"{path}.{k}")
        return out
    if isinstance(e, list):
        if not isinstance(a, list) or len(a) != len(e):
            return [f"{path}: {a!r} != {e!r}"[:200]]
        return [d for i, (x, y) in enumerate(zip(a, e)) for d in close(x, y, rtol, atol, f"{path}[{i}]")]
    return [] if math.isclose(a, e, rel_tol=rtol, abs_tol=atol) else [f"{path}: {a!r} != {e!r}"]


# --------------------------------------------------------------------------- golden: torch.optim


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_theta_and_every_state_match_the_oracle(case):
    out = optim_json(*case["args"])
    result = out["result"]
    assert set(result) == {"theta", "history"}
    diffs = close(result, case["expected"])
    if "last" in case:
        assert len(result["history"]) == case["last"]["t"]
        diffs += close(result["history"][-1], case["last"], path="last")
    assert not diffs, "\n".join(diffs[:10])
    # the records carry exactly PyTorch's state names (those the oracle read from optimizer.state)
    record = case["last"] if "last" in case else case["expected"]["history"][-1]
    assert set(result["history"][-1]) == set(record)
    method = case["args"][case["args"].index("--method") + 1]
    assert set(record) - {"t", "g", "theta"} <= set(STATES[method])


D2L = [c for c in CASES if "d2l_printed" in c]


@pytest.mark.parametrize("case", D2L, ids=[c["id"] for c in D2L])
def test_d2l_printed_results_are_reproduced(case):
    x1, x2 = optim_json(*case["args"])["result"]["theta"]
    assert f"epoch 20, x1: {x1:f}, x2: {x2:f}" == case["d2l_printed"]


def test_the_golden_file_covers_every_method_and_the_main_flags():
    args = [" ".join(c["args"]) for c in CASES]
    for method in STATES:
        assert any(f"--method {method} " in a for a in args), method
    for flag in ("--nesterov", "--dampening", "--weight-decay", "--maximize", "--centered", "--momentum",
                 "--lr-decay", "--initial-accumulator-value", "--rho", "--beta1", "--eps-inside",
                 "--momentum-form ema", "--loss", "--steps 1000"):
        assert any(flag in a for a in args), flag


# --------------------------------------------------------------------------- closed forms by hand


def exact(s):
    return sympy.sympify(s)  # our own JSON output: trusted, as a consumer would


def test_sgd_momentum_first_step_copies_the_gradient_then_dampens():
    out = optim_json("--method", "sgd", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2",
                     "--lr", "0.1", "--momentum", "0.9", "--dampening", "0.5")
    b1 = Fr(1, 2)                          # b₁ = g₁, no dampening
    b2 = Fr(9, 10) * b1 + Fr(1, 2) * Fr(3, 10)
    b3 = Fr(9, 10) * b2 + Fr(1, 2) * Fr(-1, 5)
    theta = 1 - Fr(1, 10) * (b1 + b2 + b3)
    hist = out["exact"]["history"]
    assert [exact(h["momentum_buffer"]) for h in hist] == [b1, b2, b3]
    assert exact(out["exact"]["theta"]) == theta


def test_ema_momentum_form_starts_from_zero():
    out = optim_json("--method", "sgd", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1",
                     "--momentum", "0.9", "--momentum-form", "ema")
    b1 = Fr(1, 10) * Fr(1, 2)
    b2 = Fr(9, 10) * b1 + Fr(1, 10) * Fr(3, 10)
    assert exact(out["exact"]["theta"]) == 1 - Fr(1, 10) * (b1 + b2)
    assert "EMA form" in out["conventions"]["momentum"]


def test_nesterov_steps_along_g_plus_mu_b():
    out = optim_json("--method", "sgd", "--theta", "2", "--grad", "1", "--grad", "-1", "--lr", "0.5",
                     "--momentum", "0.5", "--nesterov")
    b1, b2 = Fr(1), Fr(1, 2) * 1 - 1
    th1 = 2 - Fr(1, 2) * (1 + Fr(1, 2) * b1)
    th2 = th1 - Fr(1, 2) * (-1 + Fr(1, 2) * b2)
    assert exact(out["exact"]["theta"]) == th2


def test_sgd_weight_decay_and_maximize_enter_the_gradient():
    out = optim_json("--method", "sgd", "--theta", "2", "--grad", "1", "--lr", "0.1", "--weight-decay", "0.5",
                     "--maximize")
    g = -1 + Fr(1, 2) * 2   # −∇L + λθ
    assert exact(out["exact"]["history"][0]["g"]) == g == 0
    assert exact(out["exact"]["theta"]) == 2


def test_rmsprop_first_step_is_rational():
    # v₁ = 0.01·g², √v₁ = 0.1·|g|: θ₁ = θ₀ − η·g/(0.1·|g| + ε)
    out = optim_json("--method", "rmsprop", "--theta", "1", "--grad", "-0.5")
    assert exact(out["exact"]["theta"]) == 1 - Fr(1, 100) * Fr(-1, 2) / (Fr(1, 20) + Fr(1, 10**8))
    assert out["conventions"]["arithmetic"] == "exact"


def test_adagrad_lr_decay_and_initial_accumulator():
    out = optim_json("--method", "adagrad", "--theta", "0", "--grad", "1", "--grad", "1", "--lr", "0.5",
                     "--lr-decay", "1", "--initial-accumulator-value", "3", "--eps", "0")
    # s₁ = 3 + 1 = 4, θ₁ = −0.5·1/2; clr₂ = 0.5/(1 + 1) = 1/4, s₂ = 5, θ₂ = θ₁ − (1/4)/√5
    assert exact(out["exact"]["history"][1]["sum"]) == 5
    assert sympy.simplify(exact(out["exact"]["theta"]) - (Fr(-1, 4) - sympy.Rational(1, 4) / sympy.sqrt(5))) == 0


def test_adadelta_acc_delta_stays_rational():
    out = optim_json("--method", "adadelta", "--theta", "1", "--grad", "0.5", "--rho", "0.5", "--eps", "0.25")
    v1 = Fr(1, 2) * Fr(1, 4)
    delta_sq = Fr(1, 4) / (v1 + Fr(1, 4)) * Fr(1, 4)      # Δ² = (u₀ + ε)/(v₁ + ε)·g²
    assert exact(out["exact"]["history"][0]["acc_delta"]) == Fr(1, 2) * delta_sq
    assert math.isclose(out["result"]["theta"], 1 - math.sqrt(float(delta_sq)), rel_tol=1e-15)


def test_symbolic_learning_rate_and_momentum():
    out = optim_json("--method", "sgd", "--theta", "w", "--grad", "g", "--grad", "1", "--lr", "eta",
                     "--momentum", "mu")
    w, g, eta, mu = sympy.symbols("w g eta mu")
    assert sympy.expand(exact(out["exact"]["theta"]) - (w - eta * g - eta * (mu * g + 1))) == 0


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("method,lr,eps", [("sgd", Fr(1, 1000), None), ("rmsprop", Fr(1, 100), Fr(1, 10**8)),
                                           ("adagrad", Fr(1, 100), Fr(1, 10**10)), ("adadelta", Fr(1), Fr(1, 10**6)),
                                           ("adam", Fr(1, 1000), Fr(1, 10**8)), ("adamw", Fr(1, 1000), Fr(1, 10**8)),
                                           ("amsgrad", Fr(1, 1000), Fr(1, 10**8))])
def test_defaults_are_pytorchs(method, lr, eps):
    out = optim_json("--method", method, "--theta", "1", "--grad", "0.5")
    assert exact(out["inputs"]["lr"]) == lr
    if eps is not None:
        assert exact(out["inputs"]["eps"]) == eps
    assert exact(out["inputs"]["weight_decay"]) == (Fr(1, 100) if method == "adamw" else 0)


def test_pytorch_defaults_alpha_rho_betas():
    assert exact(optim_json("--method", "rmsprop", "--theta", "1", "--grad", "1")["inputs"]["alpha"]) == Fr(99, 100)
    assert exact(optim_json("--method", "adadelta", "--theta", "1", "--grad", "1")["inputs"]["rho"]) == Fr(9, 10)
    inp = optim_json("--method", "adam", "--theta", "1", "--grad", "1")["inputs"]
    assert (exact(inp["beta1"]), exact(inp["beta2"])) == (Fr(9, 10), Fr(999, 1000))


# --------------------------------------------------------------------------- the Adam family = adam-step


@pytest.mark.parametrize("args,adam_flags", [
    (["--theta", "[1, -2]", "--grad", "[0.5, 0.1]", "--grad", "[0.3, -0.2]", "--lr", "0.1"], []),
    (["--theta", "2", "--grad", "0.5", "--grad", "0.3", "--lr", "0.1", "--weight-decay", "0.1", "--maximize"], []),
    (["--theta", "2", "--grad", "0.5", "--grad", "-1", "--lr", "0.1", "--weight-decay", "0.1"], ["--decoupled"]),
    (["--theta", "1", "--grad", "1", "--grad", "0.1", "--grad", "0.01", "--lr", "0.1"], ["--amsgrad"]),
    (["--theta", "[-2, 2]", "--loss", "(theta1-1)**2 + (theta2+2)**2", "--steps", "300", "--lr", "0.01"], []),
    (["--theta", "0.5", "--loss", "exp(theta) + theta**2", "--steps", "12", "--lr", "0.05", "--beta1", "0.8",
      "--eps", "0.001"], []),
])
def test_the_adam_family_gives_adam_steps_numbers(args, adam_flags):
    method = "amsgrad" if "--amsgrad" in adam_flags else "adamw" if "--decoupled" in adam_flags else "adam"
    ours = optim_json("--method", method, *args)
    theirs = run_cli("adam-step", *args, *adam_flags, "--json").json()
    assert not close(ours["result"]["theta"], theirs["result"]["theta"], rtol=1e-14)
    for a, b in zip(ours["result"]["history"], theirs["result"]["history"]):
        assert not close([a["g"], a["exp_avg"], a["exp_avg_sq"], a["theta"]],
                         [b["g"], b["m"], b["v"], b["theta"]], rtol=1e-14)
    if ours["conventions"]["arithmetic"] == "exact":
        assert ours["exact"]["theta"] == theirs["exact"]["theta"]


# --------------------------------------------------------------------------- the working


def test_working_names_pytorch_states_in_sections():
    out = optim_json("--method", "rmsprop", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--centered",
                     "--momentum", "0.5")
    sections = [s.get("section") for s in out["steps"]]
    assert sections[0] == "t = 1" and "t = 2" in sections
    titles = " | ".join(s["title"] for s in out["steps"])
    for name in ("gradient g₁", "square_avg v₁", "grad_avg", "momentum_buffer b₂", "update θ₂"):
        assert name in titles, name
    text = optim("--method", "rmsprop", "--theta", "1", "--grad", "0.5", "--centered").stdout
    assert "v₁ = α·v₀ + (1 - α)·g₁^2" in text and "= 0.99·0 + (1 - 0.99)·0.5^2" in text


def test_long_runs_show_the_first_and_last_steps_and_keep_the_history():
    out = optim_json("--method", "sgd", "--theta", "[-5, -2]", "--loss", "0.1*theta1**2 + 2*theta2**2",
                     "--steps", "1000", "--lr", "0.4", "--momentum", "0.5")
    sections = list(dict.fromkeys(s.get("section") for s in out["steps"]))
    assert sections == ["the loss", "t = 1", "t = 2", "t = 3", "…", *[
        s for s in sections if s.startswith("t = 999") or s.startswith("t = 1000")]]
    assert any(s.startswith("t = 1000") for s in sections)
    assert len(out["result"]["history"]) == 1000
    assert "numeric" in out["conventions"]["arithmetic"] and any("steps 1 to 10 are exact" in n for n in out["notes"])


def test_exact_switches_to_numeric_on_irrational_gradients_and_says_so():
    out = optim_json("--method", "rmsprop", "--theta", "[-5, -2]", "--loss", "0.1*theta1**2 + 2*theta2**2",
                     "--steps", "3", "--lr", "0.4", "--alpha", "0.9")
    assert out["conventions"]["arithmetic"].startswith("exact for steps 1 to 1")
    assert any("step 1 is exact" in n for n in out["notes"])
    assert len(out["exact"]["history"][-1]["theta"]) > 40  # a 40-digit decimal


def _steps_of(args):
    from dlcalc.core import Task
    from dlcalc.exercises import optim_step as ex

    opts = {o.param: o.default for o in ex.COMMAND.options}
    i = 0
    grads = []
    while i < len(args):
        key = args[i].lstrip("-").replace("-", "_")
        if key in ("nesterov", "maximize", "centered", "eps_inside"):
            opts[key] = True
            i += 1
            continue
        if key == "grad":
            grads.append(args[i + 1])
        else:
            opts[key] = args[i + 1]
        i += 2
    opts["grad"] = grads or None
    return Task(ex.solve, ex.parse(**opts)).run().steps


@pytest.mark.parametrize("args", [
    ["--method", "sgd", "--theta", "[1, -2]", "--grad", "[0.5, 0.1]", "--grad", "[0.3, -0.2]", "--lr", "0.1",
     "--momentum", "0.9", "--nesterov", "--weight-decay", "0.1", "--maximize"],
    ["--method", "sgd", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--momentum", "0.9", "--dampening", "0.3"],
    ["--method", "sgd", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--momentum", "0.9",
     "--momentum-form", "ema"],
    ["--method", "rmsprop", "--theta", "[1, -2]", "--grad", "[0.5, 0.1]", "--grad", "[0.3, -0.2]", "--centered",
     "--momentum", "0.5", "--weight-decay", "0.1"],
    ["--method", "rmsprop", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--eps-inside"],
    ["--method", "adagrad", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--lr-decay", "0.1",
     "--initial-accumulator-value", "0.1"],
    ["--method", "adadelta", "--theta", "[1, -2]", "--grad", "[0.5, 0.1]", "--grad", "[0.3, -0.2]"],
    ["--method", "amsgrad", "--theta", "1", "--grad", "1", "--grad", "0.1", "--lr", "0.1"],
    ["--method", "adamw", "--theta", "[1, -2]", "--grad", "[0.5, 0.1]", "--grad", "[0.3, -0.2]", "--lr", "0.1"],
    ["--method", "adam", "--theta", "[-5, -2]", "--loss", "0.1*theta1**2 + 2*theta2**2", "--steps", "8",
     "--lr", "0.4", "--weight-decay", "0.1", "--maximize"],
    ["--method", "adadelta", "--theta", "0.5", "--loss", "exp(theta) + sin(theta)", "--steps", "9"],
    ["--method", "sgd", "--theta", "w", "--grad", "g", "--grad", "1", "--lr", "eta", "--momentum", "mu"],
])
def test_every_substituted_line_evaluates_to_its_value(args):
    checked = 0
    for s in _steps_of(args):
        if s.substituted is None or s.value is None:
            continue
        subs = s.substituted if isinstance(s.substituted, list) else [s.substituted]
        vals = s.value if isinstance(s.value, list) else [s.value]
        for sub, val in zip(subs, vals):
            got = unshow(sub)
            if val.is_number and isinstance(val, sympy.Float) or (val.is_number and got.has(sympy.Float)):
                a, b = sympy.N(got, 40), sympy.N(val, 40)
                assert abs(a - b) <= sympy.Float("1e-25") * max(abs(b), 1), (s.title, got, val)
            else:
                assert sympy.simplify(got - val) == 0, (s.section, s.title, got, val)
            checked += 1
    assert checked >= 3


def test_latex_and_text_render():
    r = optim("--method", "adamw", "--theta", "[1, 2]", "--grad", "[0.1, 0.2]", "--latex")
    assert r.code == 0 and r.stdout.startswith("\\begin{align*}") and r.stdout.count("\\begin{align*}") == 1
    r = optim("--method", "amsgrad", "--theta", "1", "--grad", "0.1")
    assert r.code == 0 and "max(vmax₀, v₁)" in r.stdout


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,option,words", [
    (["--theta", "1", "--grad", "1"], "--method", "missing"),
    (["--method", "lion", "--theta", "1", "--grad", "1"], "--method", "must be one of"),
    (["--method", "sgd", "--grad", "1"], "--theta", "missing"),
    (["--method", "sgd", "--theta", "1"], "--grad", "missing"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--alpha", "0.9"], "--alpha", "rmsprop"),
    (["--method", "adam", "--theta", "1", "--grad", "1", "--momentum", "0.9"], "--momentum", "sgd, rmsprop"),
    (["--method", "rmsprop", "--theta", "1", "--grad", "1", "--nesterov"], "--nesterov", "does not apply"),
    (["--method", "adam", "--theta", "1", "--grad", "1", "--centered"], "--centered", "does not apply"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--eps-inside"], "--eps-inside", "does not apply"),
    (["--method", "adadelta", "--theta", "1", "--grad", "1", "--eps-inside"], "--eps-inside", "already"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--nesterov"], "--nesterov", "needs a momentum"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--nesterov", "--momentum", "0.9", "--dampening", "0.1"],
     "--nesterov", "zero dampening"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--momentum-form", "ema"], "--momentum-form", "needs a momentum"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--momentum-form", "nag"], "--momentum-form", "torch or ema"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--momentum", "0.9", "--momentum-form", "ema",
      "--dampening", "0.5"], "--dampening", "ema"),
    (["--method", "rmsprop", "--theta", "1", "--grad", "1", "--alpha", "1.5"], "--alpha", "[0, 1]"),
    (["--method", "adadelta", "--theta", "1", "--grad", "1", "--rho", "-0.1"], "--rho", "[0, 1]"),
    (["--method", "adam", "--theta", "1", "--grad", "1", "--beta1", "1"], "--beta1", "[0, 1)"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--lr", "-0.1"], "--lr", "at least 0"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--momentum", "-0.5"], "--momentum", "at least 0"),
    (["--method", "adagrad", "--theta", "1", "--grad", "1", "--lr-decay", "-1"], "--lr-decay", "at least 0"),
    (["--method", "adagrad", "--theta", "1", "--grad", "1", "--initial-accumulator-value", "-1"],
     "--initial-accumulator-value", "at least 0"),
    (["--method", "rmsprop", "--theta", "1", "--grad", "0", "--eps", "0"], "--eps", "divides by zero"),
    (["--method", "adagrad", "--theta", "1", "--grad", "0", "--eps", "0"], "--eps", "divides by zero"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--loss", "theta**2"], "--loss", "not both"),
    (["--method", "sgd", "--theta", "[1, 2]", "--grad", "[1, 2, 3]"], "--grad", "3 components"),
    (["--method", "sgd", "--theta", "1", "--grad", "1", "--steps", "2"], "--steps", "--grad is given 1 time"),
    (["--method", "sgd", "--theta", "1", "--loss", "theta**2", "--steps", "100001"], "--steps", "between 1 and"),
    (["--method", "sgd", "--theta", "[1, 2]", "--loss", "theta**2"], "--loss", "theta1, theta2"),
    (["--method", "sgd", "--theta", "0", "--loss", "1/theta"], "--loss", "no finite real gradient"),
    (["--method", "sgd", "--theta", "x", "--loss", "theta**2", "--steps", "50"], "--steps", "symbolic"),
    (["--method", "sgd", "--theta", "1", "--grad", "nan"], "--grad", "finite"),
])
def test_bad_input_exits_2_naming_the_option(args, option, words):
    r = optim(*args)
    assert r.code == 2, r.stdout
    assert r.stderr.startswith(f"error: {option} "), r.stderr
    assert words in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr and r.stderr.count("\n") == 1
    j = optim(*args, "--json")
    assert j.code == 2 and j.json()["error"]["option"] == option


def test_a_diverging_run_is_refused_not_overflowed():
    r = optim("--method", "sgd", "--theta", "1", "--loss", "theta**4", "--steps", "60", "--lr", "1", "--json")
    assert r.code == 2 and "the run diverges: θ passes 1e300 at step" in r.json()["error"]["message"]
    r = optim("--method", "adagrad", "--theta", "1", "--loss", "-exp(theta**2)", "--steps", "40", "--lr", "3",
              "--json")
    assert r.code == 2 and "Traceback" not in r.stdout


def test_counts_are_bounded_before_work(monkeypatch):
    from dlcalc.exercises import optim_step as ex

    monkeypatch.setattr(ex, "MAX_WORK", 100)
    t0 = time.monotonic()
    r = optim("--method", "sgd", "--theta", "[1, 2]", "--loss", "theta1**2 + theta2**2", "--steps", "51")
    assert r.code == 2 and r.stderr.startswith("error: --steps") and "at most 100" in r.stderr
    assert time.monotonic() - t0 < 5


# --------------------------------------------------------------------------- --check


def ref(method, theta, grads, lr, *, momentum=0.0, dampening=0.0, nesterov=False, wd=0.0, maximize=False,
        form="torch", first_copy=True, alpha=0.99, eps=1e-8, inside=False, centered=False, lr_decay=0.0,
        init=0.0, rho=0.9, b1=0.9, b2=0.999, bias=True):
    """The formulas, in floats, for a scalar θ (an independent transcription)."""
    b = v = ga = s = u = m = vmax = 0.0
    s = init
    for t, g in enumerate(grads, 1):
        if maximize:
            g = -g
        if wd and method != "adamw":
            g += wd * theta
        root = (lambda x: math.sqrt(x + eps)) if inside else (lambda x: math.sqrt(x) + eps)
        if method == "sgd":
            if momentum:
                if form == "ema":
                    b = momentum * b + (1 - momentum) * g
                elif t == 1 and first_copy:
                    b = g
                else:
                    b = momentum * b + (1 - dampening) * g
                d = g + momentum * b if nesterov else b
            else:
                d = g
            theta -= lr * d
        elif method == "rmsprop":
            v = alpha * v + (1 - alpha) * g * g
            ga = alpha * ga + (1 - alpha) * g
            den = root(v - ga * ga if centered else v)
            if momentum:
                b = momentum * b + g / den
                theta -= lr * b
            else:
                theta -= lr * g / den
        elif method == "adagrad":
            s += g * g
            theta -= lr / (1 + (t - 1) * lr_decay) * g / root(s)
        elif method == "adadelta":
            v = rho * v + (1 - rho) * g * g
            root = (lambda x: math.sqrt(x + eps)) if inside else (lambda x: math.sqrt(x) + eps)
            delta = root(u) / root(v) * g
            u = rho * u + (1 - rho) * delta * delta
            theta -= lr * delta
        else:
            if method == "adamw" and wd:
                theta *= 1 - lr * wd
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vmax = max(vmax, v)
            vv = vmax if method == "amsgrad" else v
            mh, vh = (m / (1 - b1 ** t), vv / (1 - b2 ** t)) if bias else (m, vv)
            theta -= lr * mh / root(vh)
    return theta


G = [0.5, 0.3, -0.2]
GARGS = ["--grad", "0.5", "--grad", "0.3", "--grad", "-0.2"]


@pytest.mark.parametrize("args,right,wrong,name", [
    (["--method", "sgd", "--lr", "0.1", "--momentum", "0.9", "--nesterov"],
     dict(method="sgd", lr=0.1, momentum=0.9, nesterov=True), dict(method="sgd", lr=0.1, momentum=0.9),
     "used heavy-ball momentum instead of Nesterov"),
    (["--method", "sgd", "--lr", "0.1", "--momentum", "0.9"],
     dict(method="sgd", lr=0.1, momentum=0.9), dict(method="sgd", lr=0.1, momentum=0.9, nesterov=True),
     "used Nesterov momentum instead of heavy-ball"),
    (["--method", "sgd", "--lr", "0.1", "--momentum", "0.9"],
     dict(method="sgd", lr=0.1, momentum=0.9), dict(method="sgd", lr=0.1, momentum=0.9, form="ema"),
     "used the EMA momentum form"),
    (["--method", "sgd", "--lr", "0.1", "--momentum", "0.9", "--momentum-form", "ema"],
     dict(method="sgd", lr=0.1, momentum=0.9, form="ema"), dict(method="sgd", lr=0.1, momentum=0.9),
     "used PyTorch's momentum form"),
    (["--method", "rmsprop", "--lr", "0.1", "--eps", "0.01"],
     dict(method="rmsprop", lr=0.1, eps=0.01), dict(method="rmsprop", lr=0.1, eps=0.01, inside=True),
     "put ε inside the square root"),
    (["--method", "adagrad", "--lr", "0.1", "--eps", "0.01", "--eps-inside"],
     dict(method="adagrad", lr=0.1, eps=0.01, inside=True), dict(method="adagrad", lr=0.1, eps=0.01),
     "put ε outside the square root"),
    (["--method", "adadelta", "--eps", "0.01"],
     dict(method="adadelta", lr=1.0, eps=0.01, inside=True), dict(method="adadelta", lr=1.0, eps=0.01),
     "put ε outside the square root"),
    (["--method", "adam", "--lr", "0.1", "--eps", "0.01"],
     dict(method="adam", lr=0.1, eps=0.01), dict(method="adam", lr=0.1, eps=0.01, inside=True),
     "put ε inside the square root"),
    (["--method", "sgd", "--lr", "0.1", "--weight-decay", "0.5"],
     dict(method="sgd", lr=0.1, wd=0.5), dict(method="sgd", lr=0.1), "forgot the weight decay"),
    (["--method", "adamw", "--lr", "0.1"],
     dict(method="adamw", lr=0.1, wd=0.01), dict(method="adamw", lr=0.1), "forgot the weight decay"),
    (["--method", "rmsprop", "--lr", "0.1", "--weight-decay", "0.5", "--momentum", "0.5"],
     dict(method="rmsprop", lr=0.1, wd=0.5, momentum=0.5), dict(method="rmsprop", lr=0.1, momentum=0.5),
     "forgot the weight decay"),
    (["--method", "sgd", "--lr", "0.1", "--momentum", "0.9", "--dampening", "0.5"],
     dict(method="sgd", lr=0.1, momentum=0.9, dampening=0.5),
     dict(method="sgd", lr=0.1, momentum=0.9, dampening=0.5, first_copy=False), "applied the dampening"),
    (["--method", "adam", "--lr", "0.1"],
     dict(method="adam", lr=0.1), dict(method="adam", lr=0.1, bias=False), "forgot Adam's bias correction"),
    (["--method", "adagrad", "--lr", "0.1", "--maximize"],
     dict(method="adagrad", lr=0.1, maximize=True, eps=1e-10), dict(method="adagrad", lr=0.1, eps=1e-10),
     "forgot to negate the gradient"),
])
def test_check_names_the_mistake(args, right, wrong, name):
    base = ["--theta", "2", *GARGS, *args]
    expected = ref(theta=2.0, grads=G, **right)
    got = optim_json(*base)["result"]["theta"]
    assert math.isclose(got, expected, rel_tol=1e-12)  # the reference is the right one
    mistaken = ref(theta=2.0, grads=G, **wrong)
    assert not math.isclose(mistaken, expected, rel_tol=1e-6)
    r = optim(*base, "--check", f"theta={mistaken!r}", "--rtol", "1e-9", "--json")
    assert r.code == 1, r.stdout
    verdict = r.json()["check"]["theta"]
    assert verdict["ok"] is False and verdict["mistake"] and verdict["mistake"].startswith(name), verdict
    ok = optim(*base, "--check", f"theta={got!r}", "--rtol", "1e-9", "--json")
    assert ok.code == 0 and ok.json()["check"]["theta"]["ok"] is True
    off = optim(*base, "--check", "theta=123.456", "--json")
    assert off.code == 1 and off.json()["check"]["theta"]["mistake"] is None


def test_mistake_names_read_after_this_is_what_you_get_if_you():
    from dlcalc.exercises import optim_step as ex

    for m in ex.MISTAKES:
        assert m.name[0].islower() and m.name.split()[0] in ("used", "put", "forgot", "applied"), m.name


# --------------------------------------------------------------------------- property: never a traceback


METHOD_OPTS = {
    "sgd": ["--momentum", "--dampening", "--weight-decay", "--nesterov", "--maximize", "--momentum-form"],
    "rmsprop": ["--alpha", "--eps", "--centered", "--momentum", "--weight-decay", "--eps-inside", "--maximize"],
    "adagrad": ["--lr-decay", "--initial-accumulator-value", "--eps", "--eps-inside", "--weight-decay"],
    "adadelta": ["--rho", "--eps", "--weight-decay", "--maximize"],
    "adam": ["--beta1", "--beta2", "--eps", "--weight-decay", "--eps-inside"],
    "adamw": ["--beta1", "--beta2", "--weight-decay", "--maximize"],
    "amsgrad": ["--beta1", "--beta2", "--eps"],
}
FLAGS = {"--nesterov", "--maximize", "--centered", "--eps-inside"}
NUMBERS = st.sampled_from(["0", "0.5", "0.9", "1", "-1", "2", "1e-8", "0.999", "x", "1e300", "[1, 2]", "nan", "abc"])


@st.composite
def invocations(draw):
    method = draw(st.sampled_from(list(METHOD_OPTS) + ["sgd", "bogus"]))
    args = ["--method", method, "--theta", draw(st.sampled_from(["1", "[1, -2]", "0", "w", "[0.5, 0.5, 1]"]))]
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            args += ["--grad", draw(st.sampled_from(["0.5", "-1", "0", "[1, 2]", "g", "1e200"]))]
    else:
        args += ["--loss", draw(st.sampled_from(["theta**2", "theta1**2 + 2*theta2**2", "exp(theta)", "1/theta",
                                                 "theta1*theta2*theta3", "sqrt(theta)"])),
                 "--steps", draw(st.sampled_from(["1", "3", "40", "0"]))]
    pool = METHOD_OPTS.get(method, []) + ["--lr", "--alpha", "--nesterov", "--momentum"]
    for opt in draw(st.lists(st.sampled_from(pool), max_size=4, unique=True)):
        if opt in FLAGS:
            args.append(opt)
        elif opt == "--momentum-form":
            args += [opt, draw(st.sampled_from(["torch", "ema", "x"]))]
        else:
            args += [opt, draw(NUMBERS)]
    if draw(st.booleans()):
        args += ["--check", draw(st.sampled_from(["theta=1", "theta=[1, 2]", "history=1", "theta"]))]
    return args


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invocations())
def test_any_invocation_exits_0_1_or_2_with_one_json_object(args):
    r = optim(*args, "--json", "--timeout", "10")
    assert r.code in (0, 1, 2), (args, r.code, r.stdout[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


def test_hostile_payloads_in_every_option(tmp_path, monkeypatch):
    from test_hostile import CANARY, PAYLOADS, _judge

    monkeypatch.chdir(tmp_path)
    base = ["--method", "rmsprop", "--theta", "1", "--grad", "0.5"]
    for option in ("--method", "--theta", "--grad", "--lr", "--alpha", "--eps", "--momentum", "--loss"):
        for payload in PAYLOADS[::3]:
            args = [a for a in base]
            if option in args:
                args[args.index(option) + 1] = payload
            elif option == "--loss":
                args = ["--method", "sgd", "--theta", "1", "--loss", payload, "--steps", "2"]
            else:
                args += [option, payload]
            t0 = time.monotonic()
            r = optim(*args, "--json", "--timeout", "3", input="")
            _judge(r, time.monotonic() - t0)
    assert not (tmp_path / CANARY).exists()


# --------------------------------------------------------------------------- --plot


def test_plot_draws_the_trajectory_over_contours_and_the_curve_for_one_parameter():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from dlcalc.core import Task
    from dlcalc.exercises import optim_step as ex

    two = Task(ex.solve, ex.parse(method="sgd", theta="[-5, -2]", grad=None, loss="0.1*theta1**2 + 2*theta2**2",
                                  steps="20", lr="0.4", momentum="0.5")).run()
    fig = plt.figure()
    ex.plot(two, fig)
    ax = fig.axes[0]
    assert ax.collections, "no contour lines"
    xs, ys = ax.lines[0].get_data()
    assert len(xs) == 21 and (xs[0], ys[0]) == (-5.0, -2.0)
    assert math.isclose(xs[-1], two.result["theta"][0], rel_tol=1e-12)
    plt.close(fig)
    one = Task(ex.solve, ex.parse(method="adagrad", theta="1", grad=["0.5", "0.3"], loss=None, steps=None)).run()
    fig = plt.figure()
    ex.plot(one, fig)
    assert len(fig.axes[0].lines[0].get_xdata()) == 3
    plt.close(fig)


def test_latex_products_keep_the_written_order_inside_a_fraction():
    # the formula reads η·m̂₁ over the root; the numbers go in as written (the LaTeX printer of
    # a plain product reordered them to m̂₁·η, 0.5·0.1, while the text read 0.1·0.5)
    out = run_json("optim-step", "--method", "adam", "--theta", "1", "--grad", "0.5", "--lr", "0.1")
    update = next(s for s in out["steps"] if s["title"].startswith("update"))
    assert r"\frac{\eta \hat{m}_{1}}" in update["formula"]  # symbols side by side, numbers with a dot
    assert r"\frac{0.1 \cdot 0.5}" in update["substituted"]
