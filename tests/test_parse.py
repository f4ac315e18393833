"""The safe parser: exact numbers, symbols, shapes, bounds, and nothing ever executed."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from dlcalc.errors import InputError
from dlcalc.parse import (parse_expr_text, parse_int, parse_matrix, parse_scalar, parse_value,
                          parse_vector, symbol)

R = sympy.Rational


@pytest.mark.parametrize("text,expected", [
    ("0.1", R(1, 10)), ("1e-8", R(1, 10**8)), ("2/3", R(2, 3)), ("-1.5", R(-3, 2)),
    ("1_000", 1000), (".5", R(1, 2)), ("2**10", 1024), ("2**-2", R(1, 4)), ("0x10", 16),
    ("(1 + 2) * 3", 9), ("1E3", 1000), ("\u22121", -1),
])
def test_numbers_are_exact(text, expected):
    assert parse_scalar(text, "--x") == expected


def test_names_are_real_symbols_and_functions_build_sympy():
    x = parse_scalar("x", "--x")
    assert x == symbol("x") and x.is_real
    assert parse_scalar("theta**2 + 3*theta", "--loss") == symbol("theta") ** 2 + 3 * symbol("theta")
    assert parse_scalar("sqrt(2)/2", "--x") == sympy.sqrt(2) / 2
    assert parse_scalar("exp(-1)", "--x") == sympy.exp(-1)
    assert parse_scalar("sigmoid(0)", "--x") == R(1, 2)
    assert parse_scalar("abs(-3)", "--x") == 3
    assert parse_scalar("pi", "--x") == sympy.pi


def test_vectors_and_matrices_in_every_form():
    assert parse_vector("[1, 2, 3]", "--w") == [1, 2, 3]
    assert parse_vector("1,2,3", "--w") == [1, 2, 3]
    assert parse_vector("5", "--w") == [5]
    assert parse_matrix("[[2,1],[1,3]]", "--H") == [[2, 1], [1, 3]]
    assert parse_matrix("2 1; 1 3", "--H") == [[2, 1], [1, 3]]
    assert parse_matrix("2, 1; 1, 3;", "--H") == [[2, 1], [1, 3]]
    assert parse_value("[1, 2]", "--x") == [1, 2]
    assert parse_value("[[1], [2]]", "--x") == [[1], [2]]


def test_files_and_stdin(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("2,1\n1,3\n")
    assert parse_matrix(f"@{f}", "--H") == [[2, 1], [1, 3]]
    j = tmp_path / "h.json"
    j.write_text("[[0.5, 1], [1, 3]]")
    assert parse_matrix(f"@{j}", "--H") == [[R(1, 2), 1], [1, 3]]
    import io

    assert parse_value("-", "--w", stdin=io.StringIO("[1, 2]")) == [1, 2]
    with pytest.raises(InputError, match="--H cannot read file"):
        parse_matrix(f"@{tmp_path / 'missing'}", "--H")
    with pytest.raises(InputError, match="--H cannot read file"):  # found by Hypothesis
        parse_matrix("@\x00", "--H")


@pytest.mark.parametrize("text,fragment", [
    ("__import__('os').system('touch CANARY')", "not a plain function name"),
    ("open('x')", "not an allowed function"),
    ("exec('1')", "not an allowed function"),
    ("().__class__.__bases__", "attribute access"),
    ("lambda: 1", "lambda"),
    ("[x for x in (1,)]", "comprehension"),
    ("globals()", "not an allowed function"),
    ("f'{1}'", "string"),
    ("'abc'", "str literal"),
    ("9**9**9", "too large"),
    ("((9**9)**9999)**9999", "too large"),
    ("2**10**8", "too large"),
    ("x**(10**8)", "exponent beyond"),
    ("factorial(10**9)", "not an allowed function"),
    ("(" * 5000 + "1" + ")" * 5000, "nested"),
    ("nan", "not a finite"), ("inf", "not a finite"), ("oo", "not a finite"), ("zoo", "not a finite"),
    ("1e309", "outside"), ("1/0", "divides by zero"), ("log(0)", "not positive"),
    ("sqrt(-1)", "negative"), ("1j", "complex"), ("x\x00", "NUL"), ("\u0661\u0662", "non-ASCII"),
    ("", "empty"), ("[]", "empty list"), ("[[1, 2], [3]]", "ragged"), ("1 < 2", "comparison"),
    ("x // 2", "not allowed"), ("beta", "SymPy reserves"), ("_x", "uses the name"),
    ("a.b", "attribute access"), ("x[0]", "indexing"), ("{1: 2}", "dict"), ("True", "bool"),
    ("sqrt", "without an argument"), ("sqrt(1, 2)", "takes one"), ("exp(1000)", "overflows"),
])
def test_hostile_and_odd_inputs_are_refused_with_the_option_named(text, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as info:
        parse_value(text, "--x")
    assert fragment in info.value.message
    assert info.value.message.startswith("--x ")
    assert "\n" not in info.value.message
    assert not os.path.exists(tmp_path / "CANARY")


def test_long_unary_chain_and_long_input_are_refused_quickly():
    with pytest.raises(InputError):
        parse_value("-" * 100_000 + "1", "--x")
    with pytest.raises(InputError, match="longer than"):
        parse_value("1" * 1_000_001, "--x")


def test_a_256_by_64_batch_inline_is_accepted():
    rows = [[(i * 64 + j) % 17 / 8 - 1 for j in range(64)] for i in range(256)]
    text = "[" + ", ".join("[" + ", ".join(f"{v:.4f}" for v in r) + "]" for r in rows) + "]"
    assert len(text) > 100_000
    m = parse_matrix(text, "--x")
    assert len(m) == 256 and len(m[0]) == 64
    assert m[3][5] == R(Fraction(f"{rows[3][5]:.4f}"))


def test_parse_int_bounds():
    assert parse_int("1e6", "--steps", lo=0, hi=10**6) == 10**6
    with pytest.raises(InputError, match="--steps must be between 1 and 10"):
        parse_int("11", "--steps", lo=1, hi=10)
    with pytest.raises(InputError, match="whole number"):
        parse_int("2.5", "--steps", lo=1, hi=10)
    with pytest.raises(InputError, match="whole number"):
        parse_int("n", "--steps", lo=1, hi=10)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_value_or_an_input_error(text):
    try:
        value = parse_value(text, "--x")
    except InputError as exc:
        assert exc.message.startswith("--x ") and "\n" not in exc.message
    else:
        assert isinstance(value, (list, sympy.Basic))


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**6))
def test_fractions_read_back_exactly(q):
    assert parse_scalar(f"{q.numerator}/{q.denominator}", "--x") == R(q.numerator, q.denominator)


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=6))
def test_decimals_are_read_exactly_not_as_floats(d):
    assert parse_scalar(str(d), "--x") == R(Fraction(str(d)).numerator, Fraction(str(d)).denominator)


def test_expression_text_rejects_lists():
    with pytest.raises(InputError, match="single value"):
        parse_expr_text("[1, 2]", "--lr")


def test_pretty_printed_json_files_span_lines(tmp_path):
    f = tmp_path / "h.json"
    f.write_text("[[2, 1],\n [1, 3]]\n")
    assert parse_matrix(f"@{f}", "--H") == [[2, 1], [1, 3]]
    v = tmp_path / "w.json"
    v.write_text("[1,\n 0.5]")
    assert parse_vector(f"@{v}", "--w0") == [1, R(1, 2)]


@pytest.mark.parametrize("text", ["10**400", "exp(700)**1000", "exp(700)*exp(700)", "1e200*1e200"])
def test_values_beyond_1e300_are_refused(text):
    with pytest.raises(InputError, match="beyond 1e300"):
        parse_value(text, "--x")
