"""The worked solution: the one value type every exercise returns and every renderer reads.

An exercise is a pure function from parsed inputs to a :class:`Solution`.  It never prints;
the renderers in :mod:`dlcalc.render` turn any solution into Rich text, JSON or LaTeX and
know nothing about particular exercises.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Any, Callable, Mapping

import sympy

from dlcalc import _sympy_speed

_sympy_speed.install()


@dataclass(frozen=True)
class Math:
    """A formula written out by hand, in plain text and in LaTeX.

    Used where a general formula is clearer typed than built (sums with indices,
    prose-like definitions).  Anything computed is a SymPy object instead.
    """

    text: str
    latex: str

    def map_text(self, text: Callable[[str], str], latex: Callable[[str], str]) -> "Math":
        """This formula with ``text`` applied to its text and ``latex`` to its LaTeX (itself
        when neither changes anything)."""
        t, tex = text(self.text), latex(self.latex)
        return self if (t == self.text and tex == self.latex) else Math(t, tex)


@dataclass(frozen=True)
class Step:
    """One line of the working on the board.

    Attributes:
        title: what this step computes ("first moment", "z = w·x + b").
        formula: the general formula: a SymPy object (often ``Eq``), a :class:`Math`,
            or ``None``.
        substituted: the formula's right-hand side with the numbers put in, unevaluated
            (see :func:`substitute`), or ``None``.
        value: the value this step produces (SymPy object, list of them, bool, int),
            or ``None`` for a step that only states something.
        note: one sentence of explanation shown under the step, or "".
        section: a heading that groups consecutive steps ("t = 2"), or "".
    """

    title: str
    formula: Any = None
    substituted: Any = None
    value: Any = None
    note: str = ""
    section: str = ""


@dataclass(frozen=True)
class Solution:
    """A worked exercise.

    Attributes:
        command: the CLI command that produced it ("adam-step").
        inputs: the parsed inputs, by option name without dashes, as SymPy values.
        conventions: the conventions used, name -> one sentence ("variance": "biased, 1/m").
        steps: the working, in the order a teacher would write it.
        result: the named answers (keys fixed per command by its issue): SymPy values,
            lists of them, ints, bools, or lists of records (dicts) such as a history.
        notes: remarks about how the answer was computed ("numeric, 30 digits").
        checks: the verdicts of ``--check`` on a student's answers (see :mod:`dlcalc.check`).
        labels: result key -> which step or case the value belongs to ("after step 2"),
            shown beside the value in the Answer.
    """

    command: str
    inputs: Mapping[str, Any]
    conventions: Mapping[str, str]
    steps: tuple[Step, ...]
    result: Mapping[str, Any]
    notes: tuple[str, ...] = field(default=())
    checks: tuple[Any, ...] = field(default=())
    labels: Mapping[str, str] = field(default_factory=dict)


class Task:
    """An exercise ready to solve: the solver, its parsed inputs and any mistake flags.

    The CLI returns a Task rather than a Solution so that ``--check`` can solve the same
    exercise again under a common mistake (:class:`Mistake`) with some inputs changed.
    ``inputs`` is the exercise's frozen ``Inputs`` dataclass; ``solve(inputs, **flags)``.
    """

    __slots__ = ("solve", "inputs", "flags")

    def __init__(self, solve: Callable[..., Solution], inputs: Any, **flags: Any) -> None:
        self.solve = solve
        self.inputs = inputs
        self.flags = flags

    @property
    def kwargs(self) -> dict[str, Any]:
        """The inputs' fields and the flags, by name: what a :class:`Mistake` looks at."""
        return {**as_kwargs(self.inputs), **self.flags}

    def run(self, **changes: Any) -> Solution:
        """Solve, with input fields or flags replaced by ``changes``."""
        names = {f.name for f in fields(self.inputs)}
        inputs = replace(self.inputs, **{k: v for k, v in changes.items() if k in names})
        flags = {**self.flags, **{k: v for k, v in changes.items() if k not in names}}
        return self.solve(inputs, **flags)


def as_kwargs(inputs: Any) -> dict[str, Any]:
    """The fields of an ``Inputs`` dataclass by name (shallow: values are not copied)."""
    return {f.name: getattr(inputs, f.name) for f in fields(inputs)}


@dataclass(frozen=True)
class Mistake:
    """A common mistake, declared as a variant of the exercise: the same solver, some
    convention flags or inputs changed.

    Attributes:
        name: what the student did ("forgot the bias correction").
        change: input fields or solver flags to override, or a function of
            :attr:`Task.kwargs` that returns the overrides (``None`` when the mistake does
            not apply to this task).
    """

    name: str
    change: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any] | None]

    def overrides(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return self.change(kwargs) if callable(self.change) else self.change


def as_sympy(x: Any) -> Any:
    """A program-made value (never user text) as a SymPy object."""
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, bool):
        return sympy.true if x else sympy.false
    if isinstance(x, int):
        return sympy.Integer(x)
    if isinstance(x, float):
        return sympy.Float(x)
    if isinstance(x, (list, tuple)):
        return sympy.Matrix(x)
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    raise TypeError(f"cannot convert {type(x).__name__} to SymPy")


def sympy_number(v: Any) -> Any:
    """A parsed number (the Fractions of :func:`dlcalc.parse.parse_value_fast`, or an int)
    as SymPy; SymPy values pass through."""
    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, int):
        return sympy.Integer(v)
    return v


def fraction_of(v: Any) -> Fraction:
    """A parsed number as an exact Fraction (an irrational one: its nearest double)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, int):
        return Fraction(v)
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    return Fraction(float(sympy.N(v, 30)))


def is_symbolic(v: Any) -> bool:
    """Whether a value holds a symbol."""
    return isinstance(v, sympy.Basic) and bool(v.free_symbols)


class Shown(sympy.Symbol):
    """A number standing in a formula as itself, so that SymPy does not evaluate it away.

    ``substitute`` replaces each symbol of a formula by a ``Shown`` holding its value;
    the printers in :mod:`dlcalc.printing` print the held value (``0.9``, ``1/3``,
    ``(-0.5)``).  Each one is unique, so ``x - mu`` with x = mu = 2 stays ``2 - 2``.
    """

    _counter = 0

    def __new__(cls, value: Any) -> "Shown":
        Shown._counter += 1
        # zero-padded so that names sort in creation order (printers order sums by name)
        obj = super().__new__(cls, f"shown_{Shown._counter:09d}")
        obj.shown_value = as_sympy(value)
        return obj

    def __getnewargs_ex__(self):  # pragma: no cover - pickling is not used
        return ((self.shown_value,), {})


def substitute(expr: Any, values: Mapping[Any, Any]) -> Any:
    """``expr`` with each symbol in ``values`` replaced by its value, left unevaluated."""
    mapping = {sym: Shown(val) for sym, val in values.items()}
    if isinstance(expr, (list, tuple)):
        return [substitute(e, values) for e in expr]
    return xreplace_unevaluated(as_sympy(expr), mapping)


def xreplace_unevaluated(expr: Any, mapping: Mapping[Any, Any]) -> Any:
    """``expr.xreplace(mapping)``, rebuilt with ``evaluate=False`` at every node.

    Same tree as ``with sympy.evaluate(False): expr.xreplace(mapping)`` but without that
    context manager, which clears SymPy's whole cache on entry and on exit: in
    ``dlcalc batch`` that made every later exercise redo its work (3× slower).
    """
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    args = tuple(xreplace_unevaluated(a, mapping) for a in expr.args)
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:  # a class without the keyword builds its args as given anyway
        return expr.func(*args)


#: set by the CLI when standard error is a terminal: wraps a long loop in a progress bar
progress_hook: Callable[..., Any] | None = None


def progress(iterable: Any, total: int, label: str) -> Any:
    """``iterable``, shown as a progress bar on a terminal when the loop is long.

    Exercises stay pure: without a hook (tests, pipes, JSON) this returns ``iterable``.
    """
    if progress_hook is None or total < 2000:
        return iterable
    return progress_hook(iterable, total, label)


def said(value: Any, limit: int = 60) -> str:
    """A value as the board shows it (0.1, 15/38 ≈ 0.394737), for a sentence: an error
    message, a convention or a note.  Exercises write prose with this instead of calling
    the printer; the working itself is printed by the renderers."""
    from dlcalc.printing import value_text

    return value_text(value)[:limit]


def short_decimal(r: sympy.Rational, max_digits: int = 12) -> str | None:
    """``r`` as an exact decimal string if it terminates within ``max_digits`` digits."""
    q = int(r.q)
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    scaled = abs(int(r.p)) * (10**places) // int(r.q)
    digits = str(scaled).rjust(places + 1, "0")
    if len(digits.lstrip("0")) > max_digits:
        return None
    whole, frac = digits[: len(digits) - places], digits[len(digits) - places:]
    if whole == "0" and len(frac) - len(frac.lstrip("0")) >= 5:  # 1e-8 reads better than 0.00000001
        mant = frac.lstrip("0")
        exp = -(len(frac) - len(frac.lstrip("0")) + 1)
        text = mant[0] + ("." + mant[1:] if len(mant) > 1 else "") + f"e{exp}"
    else:
        text = whole + ("." + frac if frac else "")
    return ("-" if r.p < 0 else "") + text
