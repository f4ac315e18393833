"""param-count: the working, the JSON keys, symbols, Keras biases, and bad input.

Counts for every layer kind against PyTorch are in tests/golden/param-count.json.
"""

from __future__ import annotations

import pytest
import sympy

from conftest import run_cli


def test_text_shows_the_per_layer_working_and_the_general_formula():
    r = run_cli("param-count", "784", "256", "10")
    assert r.code == 0
    out = r.stdout
    assert "dense 784→256" in out and "dense 256→10" in out
    assert "N = Σ_l (n_{l-1} + 1)·n_l" in out
    assert "(784 + 1)" in out and "(256 + 1)" in out
    # (784 + 1)·256 + (256 + 1)·10, worked by hand
    assert f"total = {785 * 256 + 257 * 10}" in out


def test_json_has_the_contract_keys():
    out = run_cli("param-count", "10", "10", "10", "10", "1", "--json").json()
    assert out["command"] == "param-count"
    assert set(out) >= {"inputs", "conventions", "steps", "result", "exact"}
    assert out["result"]["total"] == 3 * 110 + 11
    assert out["result"]["non_learnable"] == 0
    assert [layer["total"] for layer in out["result"]["layers"]] == [110, 110, 110, 11]
    assert all({"name", "weights", "biases", "total"} <= set(layer) for layer in out["result"]["layers"])
    assert out["exact"]["total"] == "341"


def test_no_bias_drops_every_bias():
    out = run_cli("param-count", "784", "256", "10", "--no-bias", "--json").json()
    assert out["result"]["total"] == 784 * 256 + 256 * 10
    assert all(layer["biases"] == 0 for layer in out["result"]["layers"])


def test_a_symbolic_size_gives_an_expression():
    out = run_cli("param-count", "n", "10", "1", "--json").json()
    n = sympy.Symbol("n")
    assert sympy.sympify(out["result"]["total"]) - (10 * n + 21) == 0
    assert sympy.sympify(out["exact"]["total"]) == 10 * n + 21


def test_keras_lstm_keeps_one_bias_vector_per_gate():
    # Keras LSTM(units=h) on d inputs: 4·(d·h + h·h + h) parameters
    d, h = 10, 20
    out = run_cli("param-count", "--layer", f"lstm in={d} hidden={h} biases=1", "--json").json()
    assert out["result"]["total"] == 4 * (d * h + h * h + h)
    out2 = run_cli("param-count", "--layer", f"gru in={d} hidden={h} biases=1 layers=2", "--json").json()
    assert out2["result"]["total"] == 3 * (d * h + h * h + h) + 3 * (h * h + h * h + h)


def test_batch_norm_buffers_are_reported_not_counted():
    out = run_cli("param-count", "--layer", "bn c=16", "--json").json()
    assert out["result"]["total"] == 32 and out["result"]["non_learnable"] == 32
    text = run_cli("param-count", "--layer", "bn c=16").stdout
    assert "buffers" in text


def test_latex_is_an_align_block():
    r = run_cli("param-count", "784", "256", "10", "--latex")
    assert r.code == 0
    assert r.stdout.startswith("\\begin{align*}") and r.stdout.rstrip().endswith("\\end{align*}")
    assert "203530" in r.stdout


@pytest.mark.parametrize("args,fragment", [
    (["0", "3"], "SIZES size 1 (0) must be a positive whole number"),
    (["-3", "3"], "No such option"),
    (["2.5", "3"], "must be a positive whole number"),
    (["5"], "at least two"),
    ([], "missing"),
    (["--layer", "pool k=2"], "unknown kind 'pool'"),
    (["--layer", "dense in=3 out=4 colour=red"], "unknown key 'colour'"),
    (["--layer", "dense in=3"], "missing out="),
    (["--layer", "conv2d in=3 out=16 k=3 groups=2"], "groups=2 does not divide in=3"),
    (["--layer", "conv2d in=4 out=6 k=3 groups=4"], "groups=4 does not divide out=6"),
    (["--layer", "conv1d in=3 out=16 k=3x3"], "k must be one size"),
    (["--layer", "attention d=10 heads=3"], "heads=3 does not divide d=10"),
    (["--layer", "lstm in=3 hidden=4 biases=3"], "biases must be 2"),
    (["--layer", "dense in=3 out=4 bias=maybe"], "must be true or false"),
    (["--layer", "dense in=0 out=4"], "in must be a positive whole number"),
])
def test_bad_input_is_exit_2_naming_the_option(args, fragment):
    r = run_cli("param-count", *args)
    assert r.code == 2
    assert fragment in r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr + r.stdout
    j = run_cli("param-count", *args, "--json")
    assert j.code == 2 and fragment in j.json()["error"]["message"]
