"""Formulas printed in the order they are written, for init, ln-forward and deslant.

:func:`dlcalc.board.step` prints a template in SymPy's canonical order (``-μ + x_j`` for
``x_j − μ``) and creates the shown numbers in the order of its ``values`` mapping, so a
substituted product can read ``0.1·4`` for ``N·d_j``.  :func:`wstep` is the same step
builder with the template printed as written (SymPy's ``order="none"``) and the shown
numbers created in the order the symbols occur in the template, so the substituted line
follows the formula term by term.  Templates are built with ``evaluate=False`` so that
their arguments keep the written order.
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy

from dlcalc.core import Math, Shown, Step, as_sympy

_AUTO = object()


def written(formula: Any) -> Math:
    """The template as text and LaTeX, its terms and factors in the written order."""
    from dlcalc.printing import TexPrinter, TextPrinter

    return Math(TextPrinter({"order": "none"}).doprint(formula), TexPrinter({"order": "none"}).doprint(formula))


def _rebuild(expr: Any, values: Mapping[Any, Any]) -> Any:
    if expr in values:
        return Shown(values[expr])
    if not expr.args:
        return expr
    args = tuple(_rebuild(a, values) for a in expr.args)
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:  # a class without the keyword builds its args as given anyway
        return expr.func(*args)


def subst(expr: Any, values: Mapping[Any, Any]) -> Any:
    """``expr`` with each occurrence of a key of ``values`` replaced by a new shown number,
    unevaluated, created in the order the occurrences are written (printers order sums and
    products of shown numbers by creation), so ``x₂ − μ`` reads ``2 − 2.5``."""
    return _rebuild(as_sympy(expr), values)


def wstep(title: str, formula: Any, values: Mapping[Any, Any] | None = None, *, value: Any = _AUTO,
          note: str = "", section: str = "") -> Step:
    """:func:`dlcalc.board.step` with the formula and the substituted line in written order."""
    rhs = formula.rhs if isinstance(formula, sympy.Equality) else formula
    values = dict(values or {})
    substituted = subst(rhs, values) if values else None
    if value is _AUTO:
        value = as_sympy(rhs).xreplace({k: as_sympy(v) for k, v in values.items()}) if values else rhs
    return Step(title=title, formula=written(formula), substituted=substituted, value=value, note=note,
                section=section)


def wlist(title: str, formula: Any, rows: list[Mapping[Any, Any]], value: list[Any], *, note: str = "",
          section: str = "", show: bool = True) -> Step:
    """One step for a list of values of the same formula: the substituted line is the list of
    substitutions (``show=False`` leaves it out, for long rows)."""
    rhs = formula.rhs if isinstance(formula, sympy.Equality) else formula
    return Step(title=title, formula=written(formula), substituted=[subst(rhs, r) for r in rows] if show else None,
                value=value, note=note, section=section)


class Named(sympy.Symbol):
    """A symbol with its own text and LaTeX (∂L/∂xⱼ), for the left side of a formula."""

    def __new__(cls, name: str, text: str, latex: str) -> "Named":
        obj = super().__new__(cls, name)
        obj._text, obj._tex = text, latex
        return obj

    def __getnewargs_ex__(self):  # pragma: no cover - pickling is not used
        return ((self.name, self._text, self._tex), {})

    def _sympystr(self, printer: Any) -> str:
        return self._text

    def _latex(self, printer: Any) -> str:
        return self._tex
