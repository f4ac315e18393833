"""init: torch.nn.init's schemes and the variance through depth.

Expected values are written out here from torch.nn.init's documented formulas (with math),
independently of the solver; tests/golden/init.json (torch itself) is checked in test_golden.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli, run_json
from dlcalc.exercises import init_scheme as ex
from notes_steps import check_names, judge_any_run, solve, substituted_lines_are_true


def res(*args):
    return run_json("init", *args)


def err(*args):
    r = run_cli("init", *args, "--json")
    assert r.code == 2, r.stdout
    return r.json()["error"]


# --------------------------------------------------------------------------- the schemes


def test_he_normal_defaults_are_pytorchs_leaky_relu_with_a_0():
    out = res("--scheme", "he-normal", "--fan-in", "256")
    assert out["exact"]["std"] == "sqrt(2)/16"
    assert out["exact"]["variance"] == "1/128"
    assert out["exact"]["gain"] == "sqrt(2)"
    assert out["result"]["bound"] is None
    assert "leaky_relu" in out["conventions"]["gain"] and "a=0" in out["conventions"]["gain"]


def test_xavier_uniform_tanh():
    out = res("--scheme", "xavier-uniform", "--fan-in", "784", "--fan-out", "256", "--nonlinearity", "tanh")
    std = 5 / 3 * math.sqrt(2 / (784 + 256))
    assert out["result"]["std"] == pytest.approx(std, rel=1e-14)
    assert out["result"]["bound"] == pytest.approx(math.sqrt(3) * std, rel=1e-14)
    assert out["result"]["variance"] == pytest.approx(std ** 2, rel=1e-14)
    assert out["exact"]["gain"] == "5/3"


@pytest.mark.parametrize("nl,a,gain", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)),
    ("selu", None, 0.75), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", "0.2", math.sqrt(2 / 1.04)), ("conv2d", None, 1.0),
])
def test_gains_of_calculate_gain(nl, a, gain):
    args = ["--scheme", "xavier-normal", "--fan-in", "10", "--fan-out", "30", "--nonlinearity", nl]
    args += ["--a", a] if a else []
    out = res(*args)
    assert out["result"]["gain"] == pytest.approx(gain, rel=1e-14)
    assert out["result"]["std"] == pytest.approx(gain * math.sqrt(2 / 40), rel=1e-14)


def test_he_slope_default_is_0_but_calculate_gains_is_0_01():
    he = res("--scheme", "he-normal", "--fan-in", "100", "--nonlinearity", "leaky_relu")
    xa = res("--scheme", "xavier-normal", "--fan-in", "100", "--fan-out", "100", "--nonlinearity", "leaky_relu")
    assert he["result"]["gain"] == pytest.approx(math.sqrt(2), rel=1e-15)
    assert xa["result"]["gain"] == pytest.approx(math.sqrt(2 / 1.0001), rel=1e-15)


def test_nn_linears_default_kaiming_uniform_a_sqrt5_gives_bound_1_over_sqrt_fan_in():
    out = res("--scheme", "he-uniform", "--fan-in", "50", "--a", "sqrt(5)")
    assert out["result"]["bound"] == pytest.approx(1 / math.sqrt(50), rel=1e-14)


def test_conv_shape_fans_and_mode_fan_out():
    out = res("--scheme", "he-normal", "--shape", "64x3x3x3", "--mode", "fan_out", "--nonlinearity", "relu")
    assert out["result"]["std"] == pytest.approx(math.sqrt(2) / math.sqrt(64 * 9), rel=1e-14)
    out = res("--scheme", "xavier-normal", "--shape", "[64, 3, 3, 3]")
    assert out["result"]["std"] == pytest.approx(math.sqrt(2 / (27 + 576)), rel=1e-14)
    out = res("--scheme", "xavier-normal", "--shape", "10 × 20")  # a plain linear weight out × in
    assert out["result"]["std"] == pytest.approx(math.sqrt(2 / 30), rel=1e-14)


def test_lecun_and_plain_schemes():
    out = res("--scheme", "lecun-normal", "--fan-in", "400")
    assert out["exact"]["std"] == "1/20" and out["result"]["bound"] is None
    out = res("--scheme", "lecun-uniform", "--fan-in", "300")
    assert out["result"]["bound"] == pytest.approx(math.sqrt(3 / 300), rel=1e-14)
    out = res("--std", "0.02")  # the scheme is implied
    assert out["exact"]["variance"] == "1/2500" and out["result"]["gain"] is None
    out = res("--scheme", "uniform", "--bound", "0.3")
    assert out["result"]["std"] == pytest.approx(0.3 / math.sqrt(3), rel=1e-14)
    assert out["exact"]["variance"] == "3/100"
    out = res("--scheme", "uniform", "--std", "0.1")
    assert out["result"]["bound"] == pytest.approx(0.1 * math.sqrt(3), rel=1e-14)


def test_symbolic_std_stays_symbolic_through_depth():
    out = res("--scheme", "normal", "--std", "s", "--fan-in", "10", "--depth", "3")
    assert out["exact"]["variance"] == "s**2"
    assert out["exact"]["forward_var"] == "[10*s**2, 100*s**4, 1000*s**6]"


# --------------------------------------------------------------------------- through depth


def test_depth_small_std_vanishes_forward_and_backward():
    out = res("--scheme", "normal", "--std", "0.01", "--fan-in", "256", "--fan-out", "100", "--depth", "5")
    r = 256 * 1e-4
    rb = 100 * 1e-4
    assert out["result"]["forward_var"] == pytest.approx([r ** l for l in range(1, 6)], rel=1e-13)
    assert out["result"]["backward_var"] == pytest.approx([rb ** (5 - l + 1) for l in range(1, 6)], rel=1e-13)
    text = run_cli("init", "--scheme", "normal", "--std", "0.01", "--fan-in", "256", "--depth", "5").stdout
    assert "vanishes" in text and "saturation" in text and "initialization" in text


def test_depth_large_std_explodes_with_relu():
    out = res("--scheme", "normal", "--std", "0.1", "--fan-in", "256", "--depth", "4", "--activation", "relu",
              "--input-var", "2")
    v1 = 256 * 0.01 * 2
    k = 0.5 * 256 * 0.01
    assert out["result"]["forward_var"] == pytest.approx([v1 * k ** (l - 1) for l in range(1, 5)], rel=1e-13)
    text = run_cli("init", "--scheme", "normal", "--std", "0.1", "--fan-in", "256", "--depth", "4",
                   "--activation", "relu").stdout
    assert "explodes" in text


def test_he_keeps_relu_and_xavier_keeps_linear_variance():
    he = res("--scheme", "he-normal", "--fan-in", "300", "--depth", "8", "--activation", "relu")
    assert he["exact"]["forward_var"] == "[2, 2, 2, 2, 2, 2, 2, 2]"
    assert he["exact"]["backward_var"] == "[1, 1, 1, 1, 1, 1, 1, 1]"
    xa = res("--scheme", "xavier-uniform", "--fan-in", "300", "--fan-out", "300", "--depth", "3",
             "--activation", "tanh")
    assert xa["exact"]["forward_var"] == "[1, 1, 1]"


def test_depth_1000_is_fast_and_stays_exact_as_powers():
    import sympy

    out = res("--scheme", "normal", "--std", "0.01", "--fan-in", "256", "--depth", "1000")
    assert out["result"]["forward_var"][-1] == 0.0  # 0.0256^1000 underflows a double
    last = out["exact"]["forward_var"].rsplit(", ", 1)[1].rstrip("]")
    assert sympy.sympify(last) == sympy.Rational(16, 625) ** 1000
    assert len(out["exact"]["forward_var"]) < 40_000


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("args,option", [
    ([], "--scheme"),
    (["--scheme", "glorot"], "--scheme"),
    (["--scheme", "xavier-normal", "--fan-in", "10"], "--fan-out"),
    (["--scheme", "he-normal"], "--fan-in"),
    (["--scheme", "he-normal", "--fan-in", "3", "--mode", "fan_out"], "--fan-out"),
    (["--scheme", "xavier-normal", "--fan-in", "3", "--fan-out", "3", "--mode", "fan_in"], "--mode"),
    (["--scheme", "he-normal", "--fan-in", "3", "--nonlinearity", "tanh", "--a", "0.1"], "--a"),
    (["--scheme", "he-normal", "--fan-in", "3", "--nonlinearity", "softmax"], "--nonlinearity"),
    (["--scheme", "he-normal", "--fan-in", "3", "--gain", "2", "--nonlinearity", "relu"], "--gain"),
    (["--scheme", "he-normal", "--shape", "5"], "--shape"),
    (["--scheme", "he-normal", "--shape", "5x0"], "--shape"),
    (["--scheme", "he-normal", "--shape", "5x3", "--fan-in", "3"], "--shape"),
    (["--scheme", "he-normal", "--fan-in", "0"], "--fan-in"),
    (["--scheme", "he-normal", "--fan-in", "2.5"], "--fan-in"),
    (["--scheme", "he-normal", "--fan-in", "3", "--std", "1"], "--std"),
    (["--scheme", "normal", "--std", "-1"], "--std"),
    (["--scheme", "normal", "--bound", "1"], "--bound"),
    (["--scheme", "normal", "--gain", "2"], "--gain"),
    (["--scheme", "normal", "--depth", "3"], "--fan-in"),
    (["--scheme", "he-normal", "--fan-in", "3", "--depth", "0"], "--depth"),
    (["--scheme", "he-normal", "--fan-in", "3", "--depth", "1001"], "--depth"),
    (["--scheme", "he-normal", "--fan-in", "3", "--activation", "relu"], "--activation"),
    (["--scheme", "he-normal", "--fan-in", "3", "--depth", "2", "--activation", "gelu"], "--activation"),
    (["--scheme", "he-normal", "--fan-in", "3", "--depth", "2", "--input-var", "-1"], "--input-var"),
])
def test_bad_input_names_its_option(args, option):
    assert err(*args)["option"] == option


# --------------------------------------------------------------------------- --check


BASE = ["--scheme", "he-normal", "--fan-in", "256", "--fan-out", "128"]


def test_right_answer_passes_check():
    r = run_cli("init", *BASE, "--check", f"std={math.sqrt(2) / 16}")
    assert r.code == 0 and "✓" in r.stdout


def test_mistake_fan_in_plus_fan_out():
    v = check_names("init", BASE, "std", math.sqrt(2) / math.sqrt(256 + 128))
    assert not v["ok"] and "fan_in + fan_out" in v["mistake"]


def test_mistake_forgot_the_gain():
    v = check_names("init", BASE, "std", 1 / 16)
    assert not v["ok"] and "gain" in v["mistake"]
    v = check_names("init", ["--scheme", "xavier-normal", "--fan-in", "100", "--fan-out", "300",
                             "--nonlinearity", "tanh"], "variance", 2 / 400)
    assert "gain" in v["mistake"]


def test_mistake_variance_for_std_and_std_for_variance():
    v = check_names("init", BASE, "std", 2 / 256)
    assert not v["ok"] and "variance where the std" in v["mistake"]
    v = check_names("init", ["--scheme", "normal", "--std", "0.01"], "variance", 0.01)
    assert not v["ok"] and "forgot to square" in v["mistake"]


def test_mistake_uniform_bound_without_sqrt3():
    v = check_names("init", ["--scheme", "he-uniform", "--fan-in", "256"], "bound", math.sqrt(2) / 16)
    assert not v["ok"] and "√3" in v["mistake"]


def test_an_unexplained_wrong_answer_names_no_mistake():
    v = check_names("init", BASE, "std", 0.5)
    assert not v["ok"] and v["mistake"] is None


# --------------------------------------------------------------------------- the working


CASES = [
    dict(scheme="he-normal", fan_in="256", depth="10", activation="relu"),
    dict(scheme="xavier-uniform", fan_in="784", fan_out="256", nonlinearity="tanh"),
    dict(scheme="he-uniform", shape="64x3x3x3", a="sqrt(5)"),
    dict(scheme="xavier-normal", fan_in="30", fan_out="10", nonlinearity="leaky_relu", a="0.3", depth="4"),
    dict(scheme="normal", std="0.01", fan_in="256", depth="20"),
    dict(scheme="uniform", bound="0.5", fan_in="4", depth="2", input_var="3"),
    dict(scheme="lecun-normal", fan_in="100", gain="1.5"),
    dict(scheme="normal", std="s", fan_in="10", depth="3"),
]


@pytest.mark.parametrize("opts", CASES, ids=[str(i) for i in range(len(CASES))])
def test_every_substituted_line_is_true(opts):
    sol = solve(ex, **opts)
    assert substituted_lines_are_true(sol) >= 2


@pytest.mark.parametrize("opts", CASES[:4], ids=[str(i) for i in range(4)])
def test_latex_and_text_render(opts):
    args = [x for k, v in opts.items() for x in ("--" + k.replace("_", "-"), v)]
    assert run_cli("init", *args, "--latex").code == 0
    assert run_cli("init", *args).code == 0


_OPTIONS = ["--scheme", "--fan-in", "--fan-out", "--shape", "--nonlinearity", "--a", "--gain", "--mode",
            "--std", "--bound", "--depth", "--activation", "--input-var", "--check"]
_VALUES = st.one_of(
    st.sampled_from(ex.SCHEMES + ex.NONLINEARITIES + ex.ACTIVATIONS + ("fan_in", "fan_out", "x", "std=1")),
    st.text(max_size=12), st.integers(-5, 2000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.sampled_from(["3x4x2", "[2,3]", "sqrt(5)"]))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_OPTIONS), _VALUES), min_size=0, max_size=4))
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs):
    args = ["--scheme", "he-normal", "--fan-in", "64"]
    for opt, val in pairs:
        args += [opt, val]
    judge_any_run(run_cli("init", *args, "--json", "--timeout", "5", input=""))
