"""How shown numbers are written into formulas (dlcalc.printing)."""

from __future__ import annotations

import sympy

from dlcalc import printing as P
from dlcalc.core import Shown


def test_a_shown_sum_is_parenthesized_inside_an_expression():
    rho = sympy.sqrt(5) / 10 + sympy.Rational(1, 2)
    assert P.text(2 * Shown(rho)) == "2·(sqrt(5)/10 + 0.5)"
    assert P.text(Shown(sympy.Rational(-1, 4)) * sympy.Symbol("x")) == "(-0.25)·x"
    assert P.latex(2 * Shown(rho)) == r"2 \left(\frac{\sqrt{5}}{10} + 0.5\right)"


def test_a_shown_number_that_is_a_whole_function_argument_has_no_extra_parentheses():
    tol, rho = sympy.Rational(1, 10**6), sympy.sqrt(5) / 10 + sympy.Rational(1, 2)
    expr = sympy.Mul(sympy.log(Shown(tol)), sympy.Pow(sympy.log(Shown(rho)), -1, evaluate=False), evaluate=False)
    assert P.text(expr) == "log(1e-6)/log(sqrt(5)/10 + 0.5)"
    assert P.latex(expr) == (r"\frac{\log{\left(1 \cdot 10^{-6} \right)}}"
                             r"{\log{\left(\frac{\sqrt{5}}{10} + 0.5 \right)}}")
    assert P.text(sympy.exp(Shown(sympy.Rational(-1, 2)), evaluate=False)) == "exp(-0.5)"


def test_inside_a_function_argument_a_shown_sum_keeps_its_parentheses():
    x = Shown(sympy.sqrt(2) + 1)
    assert P.text(sympy.log(2 * x, evaluate=False)) == "log(2·(1 + sqrt(2)))"
    assert P.text(sympy.log(x, evaluate=False) + 3 * Shown(sympy.sqrt(3) + 1)) == \
        "3·(1 + sqrt(3)) + log(1 + sqrt(2))"
