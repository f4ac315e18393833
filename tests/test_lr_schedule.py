"""lr-schedule: PyTorch's learning-rate schedulers, and noam.

Oracles (never the program's own output):
* tests/golden/lr-schedule.json: torch.optim.lr_scheduler itself (float64, on an SGD
  optimizer), written by tests/oracle/gen_sched.py and checked case by case in
  tests/test_golden.py; spot-checked below;
* ``recursive``: a plain-float transcription of PyTorch's get_lr() recursions (the
  program uses the closed forms, so this is a different computation), compared on
  random parameters with Hypothesis;
* values worked by hand (fractions, cos(π/3) = 1/2, …).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from fractions import Fraction as Fr
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from sched_helpers import assert_steps_consistent, check_mistake, cli_error, cli_json, solution

GOLDEN = {c["id"]: c for c in json.loads(
    (Path(__file__).parent / "golden" / "lr-schedule.json").read_text())["cases"]}


def lrs_of(*args):
    return cli_json("lr-schedule", *args)["result"]["lrs"]


def exact(out, key):
    return sympy.sympify(out["exact"][key])  # our own JSON: trusted, as a consumer would


# --------------------------------------------------------------------------- PyTorch's recursions


def recursive(kind, n, lr=0.001, step_size=None, gamma=0.1, milestones=(), t_max=None, eta_min=0.0,
              start_factor=1 / 3, end_factor=1.0, total_iters=5, power=1.0, max_lr=None, pct_start=0.3,
              div_factor=25.0, final_div_factor=1e4, anneal="cos", three_phase=False, d_model=512, warmup=4000):
    """lrs[0 … n−1] as PyTorch's get_lr() updates group["lr"] (floats)."""
    out = []
    if kind == "onecycle":
        init = max_lr / div_factor
        low = init / final_div_factor
        if three_phase:
            phases = [(pct_start * n - 1, init, max_lr), (2 * pct_start * n - 2, max_lr, init), (n - 1, init, low)]
        else:
            phases = [(pct_start * n - 1, init, max_lr), (n - 1, max_lr, low)]
        for k in range(n):
            a = 0.0
            for i, (b, s, e) in enumerate(phases):
                if k <= b or i == len(phases) - 1:
                    f = (k - a) / (b - a)
                    out.append(e + (s - e) / 2 * (math.cos(math.pi * f) + 1) if anneal == "cos" else (e - s) * f + s)
                    break
                a = b
        return out
    if kind == "noam":
        return [lr * d_model ** -0.5 * min(max(k, 1) ** -0.5, max(k, 1) * warmup ** -1.5) for k in range(n)]
    count = Counter(milestones)
    cur = lr
    for k in range(n):
        if kind == "step" and k > 0 and k % step_size == 0:
            cur *= gamma
        elif kind == "multistep" and k in count:
            cur *= gamma ** count[k]
        elif kind == "exponential" and k > 0:
            cur *= gamma
        elif kind == "cosine" and k > 0:
            if (k - 1 - t_max) % (2 * t_max) == 0:
                cur += (lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
            else:
                cur = (1 + math.cos(math.pi * k / t_max)) / (1 + math.cos(math.pi * (k - 1) / t_max)) \
                    * (cur - eta_min) + eta_min
        elif kind == "linear":
            if k == 0:
                cur = lr * start_factor
            elif k <= total_iters:
                cur *= 1 + (end_factor - start_factor) / (
                    total_iters * start_factor + (k - 1) * (end_factor - start_factor))
        elif kind == "polynomial" and 0 < k <= total_iters:
            cur *= ((1 - k / total_iters) / (1 - (k - 1) / total_iters)) ** power
        out.append(cur)
    return out


def close_lists(got, want, rel=1e-9, scale=1.0):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert math.isclose(g, w, rel_tol=rel, abs_tol=1e-13 * scale), (k, g, w)


# --------------------------------------------------------------------------- exact values by hand


def test_step_decay_is_exact_and_the_working_shows_the_floor():
    out = cli_json("lr-schedule", "--schedule", "step", "--lr", "0.1", "--step-size", "3", "--gamma", "0.5",
                   "--steps", "10", "--at", "7")
    assert out["result"]["lrs"] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]
    assert exact(out, "lr") == sympy.Rational(1, 40)  # 0.1·0.5^⌊7/3⌋
    step = out["steps"][0]
    assert r"\lfloor" in step["formula"] and r"\lfloor \frac{7}{3}" in step["substituted"]


def test_cosine_exact_values_and_half_way():
    out = cli_json("lr-schedule", "--schedule", "cosine", "--lr", "0.1", "--t-max", "6", "--eta-min", "0.01",
                   "--steps", "13", "--at", "2")
    lrs = [exact(out, "lrs")[k] for k in range(13)]
    # η_k = η_min + (η₀ − η_min)(1 + cos(πk/6))/2: cos(π/3) = 1/2 gives a rational rate
    assert lrs[2] == sympy.Rational(1, 100) + sympy.Rational(9, 100) * sympy.Rational(3, 4)
    assert lrs[3] == sympy.Rational(11, 200)      # half way: (η₀ + η_min)/2
    assert lrs[6] == sympy.Rational(1, 100)       # T_max: η_min
    assert lrs[12] == sympy.Rational(1, 10)       # 2·T_max: back at η₀ (PyTorch's cosine keeps going)
    assert lrs[1] == lrs[11] and lrs[4] == lrs[8]  # symmetric about T_max
    assert math.isclose(float(lrs[1]), 0.01 + 0.09 * (1 + math.cos(math.pi / 6)) / 2, rel_tol=1e-15)
    assert out["result"]["lr"] == pytest.approx(0.0775, rel=1e-15)


def test_cosine_irrational_rates_stay_exact_symbolic():
    out = cli_json("lr-schedule", "--schedule", "cosine", "--lr", "0.1", "--t-max", "10", "--steps", "11",
                   "--at", "3")
    assert "cos(3*pi/10)" in out["exact"]["lr"]  # kept as cos(3π/10), not nested radicals
    lr = exact(out, "lr")
    assert not lr.is_Rational
    assert sympy.N(lr - (sympy.Rational(1, 20) + sympy.cos(3 * sympy.pi / 10) / 20), 50) == 0
    assert out["conventions"]["arithmetic"] == "exact"


def test_linear_and_polynomial_by_hand():
    out = cli_json("lr-schedule", "--schedule", "linear", "--lr", "0.05", "--start-factor", "0.25",
                   "--total-iters", "4", "--steps", "7", "--at", "2")
    # factor 1/4 + (1 − 1/4)·min(k, 4)/4
    want = [Fr(1, 20) * (Fr(1, 4) + Fr(3, 4) * Fr(min(k, 4), 4)) for k in range(7)]
    assert [sympy.Rational(x) for x in exact(out, "lrs")] == [sympy.Rational(w.numerator, w.denominator) for w in want]
    out = cli_json("lr-schedule", "--schedule", "polynomial", "--lr", "0.1", "--power", "0.5",
                   "--total-iters", "4", "--steps", "6", "--at", "1")
    assert exact(out, "lr") == sympy.sqrt(3) / 20           # 0.1·(1 − 1/4)^(1/2)
    assert exact(out, "lrs")[4] == 0 and exact(out, "lrs")[5] == 0


def test_multistep_counts_repeated_milestones_and_milestone_zero():
    lrs = lrs_of("--schedule", "multistep", "--lr", "0.2", "--milestones", "[3, 0, 3]", "--gamma", "0.5",
                 "--steps", "5")
    assert lrs == [0.1, 0.1, 0.1, 0.025, 0.025]  # 0 decays at once; 3 listed twice decays twice


def test_onecycle_by_hand():
    out = cli_json("lr-schedule", "--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--at", "1")
    r = exact(out, "lrs")
    # initial 1/25, peak at step 0.3·10 − 1 = 2, final 1/25/10^4
    assert r[0] == sympy.Rational(1, 25) and r[2] == 1 and r[9] == sympy.Rational(1, 250000)
    assert r[1] == sympy.Rational(1, 25) + (1 - sympy.Rational(1, 25)) / 2  # f = 1/2, cos: (1 − cos(π/2))/2
    out = cli_json("lr-schedule", "--schedule", "onecycle", "--max-lr", "0.1", "--steps", "100",
                   "--pct-start", "0.25", "--anneal-strategy", "linear", "--at", "30")
    # phase 2 from step 24 to 99: f = 6/75, linear from 0.1 to 0.1/25/10^4
    low = Fr(1, 10) / 25 / 10**4
    assert sympy.Rational(exact(out, "lr")) == sympy.Rational(*(lambda v: (v.numerator, v.denominator))(
        Fr(1, 10) + (low - Fr(1, 10)) * Fr(6, 75)))


def test_noam_peak_and_warmup():
    out = cli_json("lr-schedule", "--schedule", "noam", "--d-model", "512", "--warmup", "4000", "--steps", "4001")
    peak = exact(out, "lr")
    assert peak == 1 / sympy.sqrt(512 * 4000)  # k = w: f·(d·w)^(−1/2)
    lrs = out["result"]["lrs"]
    assert lrs[0] == lrs[1]  # k = max(step, 1)
    assert lrs[2] == pytest.approx(2 * lrs[1], rel=1e-12)  # linear warm-up
    assert max(lrs) == pytest.approx(float(peak), rel=1e-15)


def test_lr_is_lrs_at_k_and_at_defaults_to_the_last():
    out = cli_json("lr-schedule", "--schedule", "exponential", "--lr", "0.1", "--gamma", "0.9", "--steps", "6")
    assert out["result"]["lr"] == out["result"]["lrs"][-1]
    assert exact(out, "lr") == sympy.Rational(1, 10) * sympy.Rational(9, 10) ** 5
    out = cli_json("lr-schedule", "--schedule", "exponential", "--lr", "0.1", "--gamma", "0.9", "--at", "3")
    assert len(out["result"]["lrs"]) == 4  # --steps defaults to K + 1
    assert out["exact"]["lr"] == "0.0729" or exact(out, "lr") == sympy.Rational(729, 10000)


def test_default_lr_is_sgds():
    out = cli_json("lr-schedule", "--schedule", "exponential", "--gamma", "0.5", "--steps", "2")
    assert out["result"]["lrs"] == [0.001, 0.0005]
    out = cli_json("lr-schedule", "--schedule", "noam", "--d-model", "4", "--warmup", "1", "--steps", "2")
    assert out["result"]["lrs"] == [0.5, 0.5]  # f = 1: 4^(−1/2)·min(1, 1)


def test_history_table_has_every_step():
    out = cli_json("lr-schedule", "--schedule", "step", "--lr", "1", "--step-size", "2", "--steps", "5")
    assert [h["step"] for h in out["result"]["history"]] == [0, 1, 2, 3, 4]
    assert [h["lr"] for h in out["result"]["history"]] == out["result"]["lrs"]
    text = run_cli("lr-schedule", "--schedule", "step", "--lr", "1", "--step-size", "2", "--steps", "5").stdout
    assert "history" in text and "step" in text


# --------------------------------------------------------------------------- golden spot checks


@pytest.mark.parametrize("cid", ["cosine-past-tmax", "onecycle-three-phase", "noam-small", "linear-to-zero",
                                 "polynomial-square", "multistep-zero", "cosine-long-float"])
def test_golden_spot_checks(cid):
    case = GOLDEN[cid]
    out = cli_json("lr-schedule", *case["args"])
    close_lists(out["result"]["lrs"], case["expected"]["lrs"])
    assert math.isclose(out["result"]["lr"], case["expected"]["lr"], rel_tol=1e-9, abs_tol=1e-15)


def test_long_runs_switch_to_float64_and_keep_lr_exact():
    out = cli_json("lr-schedule", "--schedule", "cosine", "--lr", "0.1", "--t-max", "100", "--steps", "300",
                   "--at", "150")
    assert "float64" in out["conventions"]["arithmetic"]
    assert exact(out, "lr") == sympy.Rational(1, 20)  # cos(3π/2) = 0
    close_lists(out["result"]["lrs"], recursive("cosine", 300, lr=0.1, t_max=100))


def test_huge_exact_rate_is_given_to_30_digits():
    out = cli_json("lr-schedule", "--schedule", "exponential", "--lr", "0.1", "--gamma", "0.9", "--steps", "100000")
    lr = sympy.Float(out["exact"]["lr"], 30)
    with sympy.evaluate(True):
        want = sympy.N(sympy.Rational(1, 10) * sympy.Rational(9, 10) ** 99999, 40)
    assert abs(lr / want - 1) < 1e-28
    assert out["result"]["lrs"][1] == pytest.approx(0.09, rel=1e-15)
    assert any("30 significant digits" in n for n in out["notes"])


# --------------------------------------------------------------------------- against the recursions

_DEC = st.sampled_from(["0.1", "0.5", "0.9", "0.95", "0.99", "1", "1.1", "0.3", "0.25"])


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(["step", "multistep", "exponential", "cosine", "linear", "polynomial",
                                 "onecycle", "noam"]))
    n = draw(st.integers(1, 120))
    args, kw = ["--schedule", kind, "--steps", str(n)], {}
    if kind not in ("onecycle",):
        lr = draw(st.sampled_from(["0.1", "1", "0.003", "2"]))
        args += ["--lr", lr]
        kw["lr"] = float(lr)
    if kind == "step":
        s = draw(st.integers(1, 12))
        g = draw(_DEC)
        args += ["--step-size", str(s), "--gamma", g]
        kw.update(step_size=s, gamma=float(g))
    elif kind == "multistep":
        ms = draw(st.lists(st.integers(0, 130), min_size=1, max_size=5))
        g = draw(_DEC)
        args += ["--milestones", str(ms), "--gamma", g]
        kw.update(milestones=tuple(ms), gamma=float(g))
    elif kind == "exponential":
        g = draw(_DEC)
        args += ["--gamma", g]
        kw["gamma"] = float(g)
    elif kind == "cosine":
        t = draw(st.integers(1, 40))
        em = draw(st.sampled_from(["0", "0.001", "0.05"]))
        args += ["--t-max", str(t), "--eta-min", em]
        kw.update(t_max=t, eta_min=float(em))
    elif kind == "linear":
        s = draw(st.sampled_from(["0.1", "0.25", "1", "0.5"]))
        e = draw(st.sampled_from(["0", "1", "0.5", "0.75"]))
        t = draw(st.integers(1, 30))
        args += ["--start-factor", s, "--end-factor", e, "--total-iters", str(t)]
        kw.update(start_factor=float(s), end_factor=float(e), total_iters=t)
    elif kind == "polynomial":
        p = draw(st.sampled_from(["0", "0.5", "1", "2", "3.5"]))
        t = draw(st.integers(1, 30))
        args += ["--power", p, "--total-iters", str(t)]
        kw.update(power=float(p), total_iters=t)
    elif kind == "onecycle":
        m = draw(st.sampled_from(["1", "0.1", "0.004"]))
        p = draw(st.sampled_from(["0", "0.3", "0.25", "0.5", "0.9", "1"]))
        a = draw(st.sampled_from(["cos", "linear"]))
        three = draw(st.booleans())
        args += ["--max-lr", m, "--pct-start", p, "--anneal-strategy", a] + (["--three-phase"] if three else [])
        kw.update(max_lr=float(m), pct_start=float(p), anneal=a, three_phase=three)
    else:
        d = draw(st.integers(1, 600))
        w = draw(st.integers(1, 50))
        args += ["--d-model", str(d), "--warmup", str(w)]
        kw.update(d_model=d, warmup=w)
    return kind, n, args, kw


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(schedules())
def test_closed_form_matches_pytorchs_recursion(case):
    kind, n, args, kw = case
    r = run_cli("lr-schedule", *args, "--json")
    if r.code == 2:  # only a zero-length OneCycleLR phase, where PyTorch divides by zero, is refused
        assert kind == "onecycle", r.stdout
        return
    assert r.code == 0, r.stdout
    got = r.json()["result"]["lrs"]
    want = recursive(kind, n, **kw)
    scale = max(abs(x) for x in want) or 1.0
    close_lists(got, want, rel=1e-9, scale=scale)


# --------------------------------------------------------------------------- mistakes


BASE_STEP = ["--schedule", "step", "--lr", "0.1", "--step-size", "3", "--gamma", "0.5", "--steps", "12"]


def test_mistake_off_by_one_late_and_early():
    # lr(k) = 0.1·0.5^⌊k/3⌋: at K = 8 the right rate is 0.025; one step late, lr(9) = 0.0125
    assert "too late" in check_mistake("lr-schedule", BASE_STEP + ["--at", "8"], "lr", str(0.1 * 0.5 ** 3))
    # at K = 6 (0.025), one step early, lr(5) = 0.05
    assert "too early" in check_mistake("lr-schedule", BASE_STEP + ["--at", "6"], "lr", str(0.1 * 0.5 ** 1))
    # the whole list shifted one step late
    late = [0.1 * 0.5 ** ((k + 1) // 3) for k in range(12)]
    assert "too late" in check_mistake("lr-schedule", BASE_STEP, "lrs", json.dumps(late))


def test_mistake_decay_at_every_step():
    assert "every step" in check_mistake("lr-schedule", BASE_STEP + ["--at", "7"], "lr", str(0.1 * 0.5 ** 7))


def test_mistake_cosine_without_eta_min_and_clamped():
    args = ["--schedule", "cosine", "--lr", "0.1", "--eta-min", "0.01", "--t-max", "4", "--steps", "8"]
    wrong = 0.1 * (1 + math.cos(math.pi / 4)) / 2  # η₀(1 + cos(πk/T))/2 at k = 1, η_min forgotten
    assert "η_min" in check_mistake("lr-schedule", args + ["--at", "1"], "lr", repr(wrong))
    # at k = 6 > T_max PyTorch's rate is back up at 0.055; holding η_min gives 0.01
    assert "held the rate" in check_mistake("lr-schedule", args + ["--at", "6"], "lr", "0.01")


def test_mistake_onecycle_peak_and_anneal():
    args = ["--schedule", "onecycle", "--max-lr", "1", "--steps", "10"]
    # peak at 0.3·10 = 3 instead of 2: at step 2, f = 2/3 of a cos warm-up from 0.04 to 1
    wrong = 0.04 + (1 - 0.04) * (1 - math.cos(2 * math.pi / 3)) / 2
    assert "pct_start·total_steps" in check_mistake("lr-schedule", args + ["--at", "2"], "lr", repr(wrong))
    # linear instead of cos at step 5: phase 2 from 2 to 9, f = 3/7
    wrong = 1 + (4e-6 - 1) * 3 / 7
    assert "anneal_strategy" in check_mistake("lr-schedule", args + ["--at", "5"], "lr", repr(wrong))


def test_mistake_noam_without_d_model():
    args = ["--schedule", "noam", "--d-model", "512", "--warmup", "10", "--steps", "30", "--at", "20"]
    assert "d_model" in check_mistake("lr-schedule", args, "lr", repr(20 ** -0.5))


def test_right_answer_passes_check():
    r = run_cli("lr-schedule", *BASE_STEP, "--at", "7", "--check", "lr=0.025")
    assert r.code == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    ([], "--schedule"),
    (["--schedule", "warmup", "--steps", "3"], "--schedule"),
    (["--schedule", "step", "--steps", "3"], "--step-size"),
    (["--schedule", "step", "--step-size", "0", "--steps", "3"], "--step-size"),
    (["--schedule", "step", "--step-size", "2"], "--steps"),
    (["--schedule", "exponential", "--steps", "3"], "--gamma"),
    (["--schedule", "exponential", "--gamma", "0", "--steps", "3"], "--gamma"),
    (["--schedule", "exponential", "--gamma", "0.5", "--steps", "3", "--t-max", "4"], "--t-max"),
    (["--schedule", "exponential", "--gamma", "0.5", "--steps", "3", "--at", "3"], "--at"),
    (["--schedule", "exponential", "--gamma", "0.5", "--steps", "100001"], "--steps"),
    (["--schedule", "exponential", "--gamma", "[0.5, 0.9]", "--steps", "3"], "--gamma"),
    (["--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--pct-start", "p"], "--pct-start"),
    (["--schedule", "polynomial", "--power", "p", "--steps", "3"], "--power"),
    (["--schedule", "exponential", "--gamma", "0.5", "--lr", "-1", "--steps", "3"], "--lr"),
    (["--schedule", "exponential", "--gamma", "1e300", "--steps", "100"], "--gamma"),
    (["--schedule", "multistep", "--milestones", "[1.5]", "--steps", "3"], "--milestones"),
    (["--schedule", "multistep", "--steps", "3"], "--milestones"),
    (["--schedule", "cosine", "--steps", "3"], "--t-max"),
    (["--schedule", "cosine", "--t-max", "3", "--eta-min", "-0.1", "--steps", "3"], "--eta-min"),
    (["--schedule", "linear", "--start-factor", "0", "--steps", "3"], "--start-factor"),
    (["--schedule", "linear", "--end-factor", "1.5", "--steps", "3"], "--end-factor"),
    (["--schedule", "polynomial", "--power", "-1", "--steps", "3"], "--power"),
    (["--schedule", "onecycle", "--max-lr", "1"], "--steps"),
    (["--schedule", "onecycle", "--steps", "10"], "--max-lr"),
    (["--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--lr", "0.1"], "--lr"),
    (["--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--pct-start", "0.1"], "--pct-start"),
    (["--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--pct-start", "1.5"], "--pct-start"),
    (["--schedule", "onecycle", "--max-lr", "1", "--steps", "10", "--anneal-strategy", "exp"], "--anneal-strategy"),
    (["--schedule", "noam", "--steps", "3", "--d-model", "0"], "--d-model"),
    (["--schedule", "noam", "--steps", "3", "--three-phase"], "--three-phase"),
])
def test_bad_input_is_one_line_naming_the_option(args, option):
    assert cli_error("lr-schedule", *args)["option"] == option


def test_check_unknown_key_is_refused():
    r = run_cli("lr-schedule", *BASE_STEP, "--check", "history=1", "--json")
    assert r.code == 2


_VALUE = st.one_of(st.sampled_from(["0", "1", "-1", "0.5", "3", "1e9", "100001", "[1, 2]", "x", "", "nan",
                                    "cos", "linear", "1/3", "2**70", "sqrt(2)"]),
                   st.integers(-5, 200).map(str), st.text(max_size=8))
_OPTS = ["--lr", "--steps", "--at", "--step-size", "--gamma", "--milestones", "--t-max", "--eta-min",
         "--start-factor", "--end-factor", "--total-iters", "--power", "--max-lr", "--pct-start",
         "--div-factor", "--final-div-factor", "--anneal-strategy", "--d-model", "--warmup"]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.sampled_from(["step", "multistep", "exponential", "cosine", "linear", "onecycle", "polynomial",
                        "noam", "bogus"]),
       st.lists(st.tuples(st.sampled_from(_OPTS), _VALUE), max_size=5), st.booleans(), st.booleans())
def test_any_options_exit_0_1_or_2_with_one_json_object(kind, pairs, three, check):
    args = ["--schedule", kind]
    for opt, val in pairs:
        args += [opt, val]
    if three:
        args.append("--three-phase")
    if check:
        args += ["--check", "lr=0.01"]
    r = run_cli("lr-schedule", *args, "--json", "--timeout", "5")
    assert r.code in (0, 1, 2), (r.code, r.stdout[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


# --------------------------------------------------------------------------- the working


@pytest.mark.parametrize("given", [
    dict(schedule="step", lr="0.1", step_size="3", gamma="0.5", steps="10", at="7"),
    dict(schedule="multistep", lr="0.1", milestones="2, 5, 5", steps="8"),
    dict(schedule="exponential", lr="0.1", gamma="0.9", steps="5"),
    dict(schedule="exponential", lr="0.1", gamma="0.9", steps="3000"),
    dict(schedule="cosine", lr="0.1", t_max="10", steps="11", at="3"),
    dict(schedule="cosine", lr="0.1", eta_min="0.01", t_max="4", steps="8", at="6"),
    dict(schedule="linear", lr="0.05", start_factor="0.25", total_iters="4", steps="7", at="2"),
    dict(schedule="polynomial", lr="0.1", power="0.5", total_iters="4", steps="6", at="1"),
    dict(schedule="onecycle", max_lr="1", steps="10", at="5"),
    dict(schedule="onecycle", max_lr="1", steps="10", at="1", anneal_strategy="linear"),
    dict(schedule="onecycle", max_lr="0.5", steps="50", at="20", three_phase=True),
    dict(schedule="noam", steps="8000", at="4000"),
    dict(schedule="noam", steps="10", at="3", d_model="16", warmup="4"),
])
def test_every_substituted_line_evaluates_to_its_value(given):
    sol = solution("lr-schedule", **given)
    assert assert_steps_consistent(sol) >= 1


def test_the_working_states_pytorchs_class_and_the_recursion():
    out = cli_json("lr-schedule", "--schedule", "cosine", "--lr", "0.1", "--t-max", "4", "--steps", "8", "--at", "6")
    assert "CosineAnnealingLR(T_max=4" in out["conventions"]["schedule"]
    notes = " ".join(s.get("note", "") for s in out["steps"])
    assert "recursively" in notes and "goes back up" in notes


def test_plot_draws_the_curve(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dlcalc.exercises import lr_schedule

    sol = solution("lr-schedule", schedule="cosine", lr="0.1", t_max="10", steps="30", at="5")
    fig = plt.figure()
    try:
        lr_schedule.plot(sol, fig)
        ax = fig.axes[0]
        xs, ys = ax.lines[0].get_data()
        assert len(xs) == 30 and ys[0] == pytest.approx(0.1)
        assert ax.lines[1].get_data()[0][0] == 5
        fig.savefig(tmp_path / "lr.png")
    finally:
        plt.close(fig)
    assert (tmp_path / "lr.png").stat().st_size > 1000


# --------------------------------------------------------------------------- symbols


def test_symbolic_base_rate_and_gamma_stay_symbolic():
    out = cli_json("lr-schedule", "--schedule", "step", "--lr", "eta", "--gamma", "g", "--step-size", "2",
                   "--steps", "5")
    eta, g = sympy.symbols("eta g")
    assert exact(out, "lrs") == [eta, eta, eta * g, eta * g, eta * g**2]
    assert exact(out, "lr") == eta * g**2
    assert "symbolic" in out["conventions"]["arithmetic"]
    out = cli_json("lr-schedule", "--schedule", "cosine", "--lr", "eta", "--t-max", "3", "--steps", "4", "--at", "1")
    assert sympy.simplify(exact(out, "lr") - eta * sympy.Rational(3, 4)) == 0  # (1 + cos(π/3))/2 = 3/4


def test_symbolic_inputs_are_bounded_and_not_plotted():
    err = cli_error("lr-schedule", "--schedule", "exponential", "--lr", "eta", "--gamma", "0.5", "--steps", "61")
    assert err["option"] == "--steps"
    from dlcalc.errors import InputError
    from dlcalc.exercises import lr_schedule

    sol = solution("lr-schedule", schedule="exponential", lr="eta", gamma="0.5", steps="3")
    with pytest.raises(InputError):
        lr_schedule.plot(sol, None)


def test_symbolic_check_recognizes_the_off_by_one():
    args = ["--schedule", "exponential", "--lr", "eta", "--gamma", "0.5", "--steps", "4", "--at", "2"]
    assert "too late" in check_mistake("lr-schedule", args, "lr", "eta/8")  # η·0.5³ instead of η·0.5²
