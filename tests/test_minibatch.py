"""minibatch: steps per epoch, total steps, and the rate scaled with the batch size.

Oracles (never the program's own output):
* tests/golden/minibatch.json: len(torch.utils.data.DataLoader(...)) for both drop_last
  settings and the scaling rules in floats (tests/oracle/gen_sched.py), run by
  tests/test_golden.py;
* a plain-Python count of the batches a sequential sampler makes (below), on random sizes.
"""

from __future__ import annotations

import json
import math

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from sched_helpers import assert_steps_consistent, check_mistake, cli_error, cli_json, solution


def mb(*args):
    return cli_json("minibatch", *args)


def batches(n, b, drop_last):
    """The batch sizes of one epoch, counted as a sequential sampler fills them."""
    out, cur = [], 0
    for _ in range(n):
        cur += 1
        if cur == b:
            out.append(cur)
            cur = 0
    if cur and not drop_last:
        out.append(cur)
    return out


def test_by_hand():
    out = mb("--n", "1000", "--batch-size", "32", "--epochs", "10")
    assert out["result"] == {"steps_per_epoch": 32, "total_steps": 320}
    last = [s for s in out["steps"] if s["title"] == "size of the last batch"][0]
    assert last["value"] == "8"  # 1000 − 31·32
    out = mb("--n", "1000", "--batch-size", "32", "--epochs", "10", "--drop-last")
    assert out["result"] == {"steps_per_epoch": 31, "total_steps": 310}


def test_smaller_than_one_batch():
    assert mb("--n", "10", "--batch-size", "64")["result"]["steps_per_epoch"] == 1
    out = mb("--n", "10", "--batch-size", "64", "--drop-last", "--epochs", "3")
    assert out["result"] == {"steps_per_epoch": 0, "total_steps": 0}
    assert "no step at all" in out["steps"][0]["note"]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.integers(1, 3000), st.integers(1, 400), st.integers(1, 5), st.booleans())
def test_against_counting_the_batches(n, b, epochs, drop):
    out = mb("--n", str(n), "--batch-size", str(b), "--epochs", str(epochs), *(["--drop-last"] if drop else []))
    per = len(batches(n, b, drop))
    assert out["result"]["steps_per_epoch"] == per
    assert out["result"]["total_steps"] == per * epochs


def test_linear_and_sqrt_scaling_exact():
    out = mb("--n", "1000", "--batch-size", "32", "--base-batch-size", "256", "--base-lr", "0.1")
    assert sympy.sympify(out["exact"]["lr"]) == sympy.Rational(1, 80)  # 0.1·32/256
    out = mb("--n", "1000", "--batch-size", "32", "--base-batch-size", "256", "--base-lr", "0.1", "--scaling", "sqrt")
    assert sympy.sympify(out["exact"]["lr"]) == sympy.sqrt(2) / 40  # 0.1·√(1/8)
    assert out["result"]["lr"] == pytest.approx(0.1 * math.sqrt(32 / 256), rel=1e-15)
    out = mb("--n", "1281167", "--batch-size", "8192", "--base-batch-size", "256", "--base-lr", "0.1")
    assert sympy.sympify(out["exact"]["lr"]) == sympy.Rational(16, 5)  # Goyal et al.: 0.1·32 = 3.2


def test_symbolic_base_lr():
    out = mb("--n", "100", "--batch-size", "64", "--base-batch-size", "16", "--base-lr", "eta")
    assert sympy.sympify(out["exact"]["lr"]) == 4 * sympy.Symbol("eta")


def test_no_lr_key_without_a_base():
    assert "lr" not in mb("--n", "100", "--batch-size", "10")["result"]


def test_shallue_note_is_in_the_working():
    out = mb("--n", "100", "--batch-size", "10")
    step = out["steps"][-1]
    assert "Shallue" in step["title"] and "stop falling" in step["note"]


# --------------------------------------------------------------------------- mistakes

BASE = ["--n", "1000", "--batch-size", "32", "--epochs", "10"]


def test_mistake_floor_instead_of_ceil():
    assert "dropped the last partial batch" in check_mistake("minibatch", BASE, "steps_per_epoch", str(1000 // 32))
    assert "dropped the last partial batch" in check_mistake("minibatch", BASE, "total_steps", str(10 * (1000 // 32)))


def test_mistake_ceil_although_drop_last():
    assert "counted the last partial batch" in check_mistake(
        "minibatch", BASE + ["--drop-last"], "steps_per_epoch", str(math.ceil(1000 / 32)))


def test_mistake_forgot_the_epochs():
    assert "epochs" in check_mistake("minibatch", BASE, "total_steps", str(math.ceil(1000 / 32)))


def test_mistake_linear_instead_of_sqrt_and_back():
    args = BASE + ["--base-batch-size", "256", "--base-lr", "0.1"]
    assert "square-root scaling instead of linear" in check_mistake(
        "minibatch", args, "lr", repr(0.1 * math.sqrt(32 / 256)))
    assert "linear scaling instead of square-root" in check_mistake(
        "minibatch", args + ["--scaling", "sqrt"], "lr", repr(0.1 * 32 / 256))
    assert "wrong way round" in check_mistake("minibatch", args, "lr", repr(0.1 * 256 / 32))


def test_right_answer_passes():
    assert run_cli("minibatch", *BASE, "--check", "total_steps=320").code == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    (["--batch-size", "3"], "--n"),
    (["--n", "3"], "--batch-size"),
    (["--n", "0", "--batch-size", "3"], "--n"),
    (["--n", "3", "--batch-size", "0"], "--batch-size"),
    (["--n", "3", "--batch-size", "2.5"], "--batch-size"),
    (["--n", "3", "--batch-size", "2", "--epochs", "0"], "--epochs"),
    (["--n", "1e16", "--batch-size", "2"], "--n"),
    (["--n", "3", "--batch-size", "2", "--base-lr", "0.1"], "--base-batch-size"),
    (["--n", "3", "--batch-size", "2", "--base-batch-size", "4"], "--base-lr"),
    (["--n", "3", "--batch-size", "2", "--scaling", "sqrt"], "--scaling"),
    (["--n", "3", "--batch-size", "2", "--base-batch-size", "4", "--base-lr", "0.1", "--scaling", "log"],
     "--scaling"),
    (["--n", "3", "--batch-size", "2", "--base-batch-size", "4", "--base-lr", "-0.1"], "--base-lr"),
])
def test_bad_input_is_one_line_naming_the_option(args, option):
    assert cli_error("minibatch", *args)["option"] == option


_VALUE = st.one_of(st.sampled_from(["0", "1", "-1", "32", "1e15", "1e16", "2.5", "x", "", "sqrt", "linear",
                                    "[1, 2]", "nan", "10**20"]),
                   st.integers(-3, 10**6).map(str), st.text(max_size=8))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["--n", "--batch-size", "--epochs", "--base-batch-size", "--base-lr",
                                           "--scaling"]), _VALUE), max_size=5), st.booleans(), st.booleans())
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs, drop, check):
    args = ["--n", "100", "--batch-size", "7"]
    for opt, val in pairs:
        args += [opt, val]
    if drop:
        args.append("--drop-last")
    if check:
        args += ["--check", "total_steps=15"]
    r = run_cli("minibatch", *args, "--json", "--timeout", "5")
    assert r.code in (0, 1, 2), (r.code, r.stdout[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, dict) and (("error" in out) == (r.code == 2))


@pytest.mark.parametrize("given", [
    dict(n="1000", batch_size="32", epochs="10", base_batch_size="256", base_lr="0.1"),
    dict(n="1000", batch_size="32", drop_last=True, base_batch_size="256", base_lr="0.1", scaling="sqrt"),
    dict(n="10", batch_size="64", drop_last=True),
    dict(n="960", batch_size="32"),
])
def test_every_substituted_line_evaluates_to_its_value(given):
    assert assert_steps_consistent(solution("minibatch", **given)) >= 2
