"""How shown numbers are written into formulas (dlcalc.printing)."""

from __future__ import annotations

import sympy

from dlcalc import printing as P
from dlcalc.core import Shown


def test_a_shown_sum_is_parenthesized_inside_an_expression():
    rho = sympy.sqrt(5) / 10 + sympy.Rational(1, 2)
    assert P.text(2 * Shown(rho)) == "2·(√5/10 + 0.5)"
    assert P.text(Shown(sympy.Rational(-1, 4)) * sympy.Symbol("x")) == "(-0.25)·x"
    assert P.latex(2 * Shown(rho)) == r"2 \left(\frac{\sqrt{5}}{10} + 0.5\right)"


def test_a_shown_number_that_is_a_whole_function_argument_has_no_extra_parentheses():
    tol, rho = sympy.Rational(1, 10**6), sympy.sqrt(5) / 10 + sympy.Rational(1, 2)
    expr = sympy.Mul(sympy.log(Shown(tol)), sympy.Pow(sympy.log(Shown(rho)), -1, evaluate=False), evaluate=False)
    assert P.text(expr) == "ln(1e-6)/ln(√5/10 + 0.5)"
    assert P.latex(expr) == (r"\frac{\log{\left(1 \cdot 10^{-6} \right)}}"
                             r"{\log{\left(\frac{\sqrt{5}}{10} + 0.5 \right)}}")
    assert P.text(sympy.exp(Shown(sympy.Rational(-1, 2)), evaluate=False)) == "e^(-0.5)"


def test_inside_a_function_argument_a_shown_sum_keeps_its_parentheses():
    x = Shown(sympy.sqrt(2) + 1)
    assert P.text(sympy.log(2 * x, evaluate=False)) == "ln(2·(1 + √2))"
    assert P.text(sympy.log(x, evaluate=False) + 3 * Shown(sympy.sqrt(3) + 1)) == \
        "3·(1 + √3) + ln(1 + √2)"


def test_table_cells_are_short_decimals_or_approximations():
    R = sympy.Rational
    assert P.cell_text(R(1, 20)) == "0.05" and P.cell_text(sympy.Integer(200704)) == "200704"
    assert P.cell_text(R(45000001, 50000001)) == "≈ 0.9"  # the exact form is in the answer and JSON
    assert P.cell_text(R(15, 38)) == "15/38 ≈ 0.394737" and P.cell_text(R(15, 38), 3) == "15/38 ≈ 0.395"
    assert P.cell_text(R(1359, 7996)) == "≈ 0.16996"  # longer than 8 characters
    assert P.cell_text([R(1, 2), R(1, 3)]) == "[0.5, 1/3 ≈ 0.333333]"
    assert P.cell_text(sympy.Symbol("g") / 10) == "g/10"


def test_a_numeric_history_row_fits_on_one_line():
    from conftest import run_cli

    out = run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1").stdout
    table = out[out.index("\nhistory"):].splitlines()[4:]  # after the title, header and rule
    assert [line.split("│")[0].strip() for line in table] == ["1", "2", "3"]
    assert table[1].split("│")[-1].strip() == "≈ 0.804251"  # θ₂ = θ₁ − 0.1·m̂₂/(√v̂₂ + 1e-8), θ₁ ≈ 0.9, m̂₂ = 15/38, v̂₂ = 1359/7996


# --- tables written without Rich (a pipe) must be the bytes Rich writes

from hypothesis import given, settings, strategies as st  # noqa: E402

_CHARS = st.sampled_from(list("ab xyz019.-/_[],·≈θβ₁ᵗ→…√") + ["m̂", "宽", "é", "\u200b"])
_TEXT = st.lists(_CHARS, max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TEXT.filter(bool), min_size=1, max_size=6, unique=True), st.integers(0, 14),
       st.integers(20, 120), _TEXT.filter(bool), st.data())
def test_plain_table_is_what_rich_prints(cols, n_rows, width, title, data):
    import io

    from rich.console import Console

    from dlcalc.render import Records, _plain_table, _records_table

    records = [{c: data.draw(_TEXT) for c in cols} for _ in range(n_rows)]
    item = Records(title, records)
    plain = _plain_table(item, 6, width)
    buf = io.StringIO()
    Console(file=buf, width=width, highlight=False, emoji=False, markup=False).print(_records_table(item, 6))
    from hypothesis import event

    event("laid out without Rich" if plain is not None else "left to Rich")
    if plain is not None:
        assert "\n".join(plain) + "\n" == buf.getvalue()


def test_plain_table_takes_the_common_cases():
    from dlcalc.render import Records, _plain_table

    records = [{"t": 1, "g": sympy.Rational(1, 2), "theta": sympy.Rational(15, 38)}]
    assert _plain_table(Records("history", records), 6, 80) == [
        "history".ljust(26), "t ┃ g   ┃ theta           ", "━━╇━━━━━╇━━━━━━━━━━━━━━━━━",
        "1 │ 0.5 │ 15/38 ≈ 0.394737"]
    assert _plain_table(Records("history", records), 6, 25) is None  # too wide: Rich folds it
    assert _plain_table(Records("history", records), 6, None) is None  # not UTF-8: Rich draws ASCII


def test_prose_never_puts_a_second_superscript_on_a_superscripted_symbol():
    """x̂²^2 in a note means (x̂²)²; TeX refuses x^{2}^{2} ("Double superscript")."""
    assert P.tex_escape("1 - x̂²^2") == r"1 - $\left(\hat{x}^{2}\right)^{2}$"
    assert P.tex_escape("β₁^(t−i)") == r"$\beta _{1}^{t- i}$"  # a subscript then a superscript is fine
