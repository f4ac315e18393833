"""The board: formulas written once, as SymPy templates, and the one step builder that puts
the numbers in.

A teacher writes each step of the working as *general formula → numbers substituted →
value*.  Here the general formula is a SymPy template (usually ``eq(lhs, rhs)``), and
:func:`step` derives the other two from it::

    M_T, BETA1, G = sympy.symbols("m_t beta_1 g_t")
    FIRST_MOMENT = eq(M_T, BETA1 * sympy.Symbol("m_{t-1}") + (1 - BETA1) * G)
    step("first moment", FIRST_MOMENT, {BETA1: 0.9, ...})

so text, LaTeX and ``--digits`` all come from :mod:`dlcalc.printing`, and the substituted
line is true as written (``tests/test_steps.py`` evaluates it for every command).

Display nodes keep what SymPy would otherwise rewrite: :class:`sigmoid` stays σ(z) in a
symbolic answer (1 − σ(z), not σ(−z)), :class:`ceiling_of` keeps ⌈x⌉ around a ratio.
Hats and subscripts come from symbol names (``mhat_t`` prints m̂ₜ and ``\\hat{m}_{t}``).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Iterator, Mapping

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence

from dlcalc.core import Math, Shown, Step, as_sympy, xreplace_unevaluated

_AUTO = object()
_LEAN = [False]


@contextlib.contextmanager
def lean() -> Iterator[None]:
    """Within, steps are built without their substituted lines: for ``dlcalc batch`` and
    ``--brief``, which print no working.  Values and results are the same (a test
    compares them for every README example)."""
    before, _LEAN[0] = _LEAN[0], True
    try:
        yield
    finally:
        _LEAN[0] = before


def showing() -> bool:
    """Whether the substituted lines of the working are wanted (not inside :func:`lean`)."""
    return not _LEAN[0]


def eq(lhs: Any, rhs: Any, *more: Any) -> Any:
    """``lhs = rhs`` as a formula, never evaluated to True/False; with more sides, the
    derivation ``lhs = rhs = …`` on one line (a :class:`Chain`)."""
    if more:
        return Chain(lhs, rhs, *more)
    return sympy.Eq(as_sympy(lhs), as_sympy(rhs), evaluate=False)


class Chain(sympy.Expr):
    """``a = b = c``, a derivation on one line as a teacher writes it (M = ∇²f = 2·sym(H));
    its :attr:`rhs` is the last side, the one a step puts numbers into."""

    is_commutative = True

    def __new__(cls, *sides: Any) -> "Chain":
        return super().__new__(cls, *[as_sympy(s) for s in sides])

    @property
    def lhs(self) -> Any:
        return self.args[0]

    @property
    def rhs(self) -> Any:
        return self.args[-1]

    def _sympystr(self, printer: Any) -> str:
        return " = ".join(printer._print(a) for a in self.args)

    def _latex(self, printer: Any) -> str:
        return " = ".join(printer._print(a) for a in self.args)


def step(title: str, formula: Any, values: Mapping[Any, Any] | None = None, *, value: Any = _AUTO,
         note: str = "", section: str = "", finish: Any = None) -> Step:
    """One line of the working from a formula written once.

    Args:
        title: what the step computes.
        formula: the template: ``eq(lhs, rhs)`` or an expression (a Matrix works too).
            Built with ``evaluate=False`` where the written order matters: the formula
            and the substituted line print as written (``x_j − μ``, not ``−μ + x_j``).
        values: symbol -> value to put in.  Without values the step has no substituted line.
        value: the value, when it is computed elsewhere (a faster or exact path); by default
            the right-hand side evaluated at ``values``.
        finish: applied to the evaluated value (``sympy.simplify``, ``sympy.factor``, …).
        note, section: as :class:`~dlcalc.core.Step`.
    """
    rhs = formula.rhs if isinstance(formula, (sympy.Equality, Chain)) else formula
    values = dict(values or {})
    substituted = put_in(rhs, values) if values and not _LEAN[0] else None
    if value is _AUTO:
        value = as_sympy(rhs).xreplace({k: as_sympy(v) for k, v in values.items()}) if values else rhs
        if finish is not None:
            value = finish(value)
    return Step(title=title, formula=written(formula), substituted=substituted, value=value, note=note,
                section=section)


def steps_of(title: str, formula: Any, rows: list[Mapping[Any, Any]], value: list[Any], *, note: str = "",
             section: str = "", show: bool = True) -> Step:
    """One step for a list of values of the same formula (one per feature, per row): the
    substituted line is the list of substitutions (``show=False`` leaves it out)."""
    rhs = formula.rhs if isinstance(formula, (sympy.Equality, Chain)) else formula
    return Step(title=title, formula=written(formula), substituted=[put_in(rhs, r) for r in rows] if show and not _LEAN[0] else None,
                value=value, note=note, section=section)


def written(formula: Any) -> Math:
    """The template as text and LaTeX, its terms and factors in the order written."""
    if isinstance(formula, (Math, str)) or formula is None:
        return formula
    try:
        return _written(formula)
    except TypeError:  # an unhashable formula (a mutable Matrix): print it every time
        return _written.__wrapped__(formula)


@functools.lru_cache(maxsize=1024)
def _written(formula: Any) -> Math:
    """:func:`written` of a hashable template, once per process (templates are constants)."""
    return _Written(formula)


class _Written(Math):
    """A template's :class:`Math`, printed when first read: a text run never asks for the
    LaTeX, nor ``--json`` for either (a few ms of a run)."""

    def __init__(self, formula: Any) -> None:  # noqa: D107 - the dataclass fields are properties here
        object.__setattr__(self, "_formula", formula)

    @functools.cached_property
    def _order(self) -> Any:
        return "none" if _built_unevaluated(self._formula) else None  # as written, or the printers' order

    @functools.cached_property
    def text(self) -> str:  # type: ignore[override]
        from dlcalc.printing import TextPrinter

        return TextPrinter({"order": self._order}).doprint(self._formula)

    @functools.cached_property
    def latex(self) -> str:  # type: ignore[override]
        from dlcalc.printing import TexPrinter

        return TexPrinter({"order": self._order}).doprint(self._formula)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Math) and (self.text, self.latex) == (other.text, other.latex)

    def __hash__(self) -> int:
        return hash((self.text, self.latex))

    def __repr__(self) -> str:
        return f"Math(text={self.text!r}, latex={self.latex!r})"

    def map_text(self, text: Any, latex: Any) -> Math:
        """As :meth:`Math.map_text`, each applied when first read: cleaning a solution's
        strings must not print the LaTeX of a text run."""
        return _Mapped(self, text, latex)


class _Mapped(_Written):
    """A :class:`_Written` with functions applied to its text and LaTeX when first read."""

    def __init__(self, source: _Written, text: Any, latex: Any) -> None:  # noqa: D107
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_maps", (text, latex))

    @functools.cached_property
    def text(self) -> str:  # type: ignore[override]
        return self._maps[0](self._source.text)

    @functools.cached_property
    def latex(self) -> str:  # type: ignore[override]
        return self._maps[1](self._source.latex)


def _built_unevaluated(expr: Any) -> bool:
    """Whether a sum or product in ``expr`` keeps an order of its own (built with
    evaluate=False): then print as written; an evaluated template reads better in the
    printers' order ((κ − 1)/(κ + 1), not (−1 + κ)/(1 + κ))."""
    if not isinstance(expr, sympy.Basic):
        return False
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Add, sympy.Mul)) and node.func(*node.args).args != node.args:
            return True
    return False


def put_in(expr: Any, values: Mapping[Any, Any]) -> Any:
    """``expr`` with each occurrence of a key of ``values`` replaced by a new shown number,
    unevaluated.  The numbers are made in the order their symbols are written (printers
    order sums and products of shown numbers by creation), so ``x₂ − μ`` reads ``2 − 2.5``."""
    if isinstance(expr, (list, tuple)):
        return [put_in(e, values) for e in expr]
    return xreplace_unevaluated(as_sympy(expr), _Fresh(values))


class _Fresh(dict):
    """A mapping that hands out a new shown number each time a key is looked up."""

    def __getitem__(self, key: Any) -> Shown:
        return Shown(super().__getitem__(key))


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


def unshow(expr: Any) -> Any:
    """A substituted line evaluated: every shown number replaced by its value (and evaluated).

    What the step-consistency test compares with the step's value."""
    if isinstance(expr, (list, tuple)):
        return [unshow(e) for e in expr]
    expr = as_sympy(expr)
    shown = {s: s.shown_value for s in expr.atoms(Shown)}
    return expr.xreplace(shown).doit() if shown else expr.doit()


class sigmoid(sympy.Function):
    """σ(z) = 1/(1 + e^(−z)), kept as σ in formulas and symbolic answers.

    A number in gives the exact value (σ(0) = 1/2, σ(2) = 1/(1 + e^(−2))); a symbolic
    argument stays σ(·), and SymPy differentiates it as σ(z)(1 − σ(z)).
    """

    @classmethod
    def eval(cls, z: Any) -> Any:
        if z.is_zero:
            return sympy.Rational(1, 2)
        if z.is_number:
            return 1 / (1 + sympy.exp(-z))
        return None

    def fdiff(self, argindex: int = 1) -> Any:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, z: Any, **kwargs: Any) -> Any:
        return 1 / (1 + sympy.exp(-z))

    def _eval_is_real(self) -> Any:
        return self.args[0].is_real

    def _eval_is_positive(self) -> Any:
        return True if self.args[0].is_real else None


class ceiling_of(sympy.Function):
    """⌈x⌉ shown around an unevaluated ratio: ``ceiling_of(log(tol)/log(rho))`` prints the
    ratio inside the brackets and evaluates (doit) to the whole number."""

    def doit(self, **hints: Any) -> Any:
        return sympy.ceiling(self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0])


class floor_of(sympy.Function):
    """⌊x⌋ shown around an unevaluated ratio (the partner of :class:`ceiling_of`):
    ``floor_of((224 - 11)/4) + 1`` prints the quotient 53.25 inside and evaluates to 54."""

    def doit(self, **hints: Any) -> Any:
        return sympy.floor(self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0])


class spelled(sympy.Expr):
    """A value with a spelling of its own on the board: ``spelled(-sympy.oo, "−∞", r"-\\infty")``
    prints −∞ in the text and ``-\\infty`` in LaTeX, and as its value in SymPy's own string
    (``-oo`` in the exact JSON, which a consumer reads back); ``doit()`` and ``evalf()`` give
    the value.  Not a number to the printers, so the board shows it as written, never "≈ …".

    The text printer is told apart from SymPy's (both print through ``_sympystr``) here, in
    one place, so that no exercise has to know the printers."""

    is_number = False
    is_commutative = True

    def __new__(cls, value: Any, text: str, latex: str) -> "spelled":
        from sympy.core.symbol import Str

        return super().__new__(cls, as_sympy(value), Str(text), Str(latex))

    def doit(self, **hints: Any) -> Any:
        return self.args[0]

    def _eval_evalf(self, prec: int) -> Any:
        return self.args[0].evalf(prec)

    def _sympystr(self, printer: Any) -> str:
        from dlcalc.printing import TextPrinter

        return self.args[1].name if isinstance(printer, TextPrinter) else printer._print(self.args[0])

    def _latex(self, printer: Any) -> str:
        return self.args[2].name


def _str(x: Any) -> Any:
    """An index written under Σ or max, as a SymPy Str (kept as it is when rebuilt)."""
    from sympy.core.symbol import Str

    return x if isinstance(x, Str) else Str(x)


def _below(index: str) -> str:
    """The index under Σ or max in the text: ₖ, ᵢⱼ, or _{j≠y} where Unicode has no subscript."""
    from dlcalc.printing import subscript

    return (subscript(index) or f"_{{{index}}}") if index else ""


class Sigma(sympy.Expr):
    """Σ of a term over an index, as written: ``Sigma(x_j, "j")`` prints Σⱼ xⱼ and
    ``\\sum_{j} x_{j}``; ``Sigma(t, "i=1", "t")`` prints Σ_{i=1}^{t} and ``Sigma(l_j, "j≠y")``
    Σ_{j≠y}.  With ``limits=(i, 1, t)`` it evaluates (``doit``) to the sum, as a substituted
    line must.  A display node of a template (formulas are printed, not evaluated); an exercise
    that writes the sum out term by term replaces the node itself (dropout-expectation)."""

    is_commutative = True
    #: binds tighter than a product (2·Σⱼ xⱼ, no brackets; write what is summed inside the
    #: body), looser than a power ((Σⱼ xⱼ)²)
    precedence = PRECEDENCE["Mul"] + 1

    def __new__(cls, body: Any, below: Any, above: Any = "", limits: Any = (), **_: Any) -> "Sigma":
        return super().__new__(cls, as_sympy(body), _str(below), _str(above), sympy.Tuple(*limits))

    @property
    def body(self) -> Any:
        return self.args[0]

    def doit(self, **hints: Any) -> Any:
        """The sum, when the node was given its ``limits`` (j, 0, t − 1); else itself."""
        limits = self.args[3]
        return sympy.summation(self.body.doit(**hints), tuple(limits)) if limits else self

    def _sympystr(self, printer: Any) -> str:
        below, above = self.args[1].name, self.args[2].name
        head = "Σ" + _below(below)
        head += f"^{{{above}}}" if above else ""
        body = printer._print(self.body)
        return f"{head} ({body})" if isinstance(self.body, sympy.Add) else f"{head} {body}"

    def _latex(self, printer: Any, exp: Any = None) -> str:
        below = self.args[1].name.replace("≠", r" \ne ").replace("≤", r" \le ")
        above = self.args[2].name
        head = (rf"\sum_{{{below}}}" if below else r"\sum") + (rf"^{{{above}}}" if above else "")
        body = printer._print(self.body)
        return f"{head} \\left({body}\\right)" if isinstance(self.body, sympy.Add) else f"{head} {body}"


class Several(sympy.Expr):
    """Formulas on one line, separated by commas, as a teacher writes companions side by side
    (m₁₀ = Σ x, m₀₁ = Σ y); ``\\ `` spaced in LaTeX."""

    is_commutative = True

    def __new__(cls, *formulas: Any) -> "Several":
        return super().__new__(cls, *[as_sympy(f) for f in formulas])

    def _sympystr(self, printer: Any) -> str:
        return ", ".join(printer._print(f) for f in self.args)

    def _latex(self, printer: Any) -> str:
        return r",\ ".join(printer._print(f) for f in self.args)


class OAdd(sympy.Add):
    """A sum printed in the order its terms were written (θ₀ − η·g₁ and w·x + b, not
    −η·g₁ + θ₀ and b + w·x).  Build it with ``evaluate=False``."""

    def as_ordered_terms(self, order: Any = None, data: bool = False) -> Any:
        return (list(self.args), []) if data else list(self.args)


class OMul(sympy.Mul):
    """A product printed in the order its factors were written ((1 − α)·g², (y − t)·σ'(z)·x);
    a negative power or a fraction among them goes below the bar in LaTeX.  Build it with
    ``evaluate=False``."""

    def as_ordered_factors(self, order: Any = None) -> list[Any]:
        return list(self.args)

    def could_extract_minus_sign(self) -> bool:
        """A leading negative number, as written: what Mul answers, without building −self
        to compare (the printers ask it of every product, for its brackets)."""
        c = self.args[0]
        return bool(c.is_Number and c < 0)

    def _sympystr(self, printer: Any) -> str:
        """What StrPrinter's ``_print_Mul`` writes for a product as written (an optional
        leading −1, factors, divisors as x^(−1)), without its general machinery (about a
        third of a formula's printing time); any other product is left to it."""
        from sympy.printing.precedence import precedence

        args = self.args
        sign, factors = ("-", args[1:]) if args[0] is sympy.S.NegativeOne else ("", args)
        num, den = [], []
        for f in factors:
            if f.is_Number or (f.is_Pow and f.exp.is_Number and (f.exp.is_negative and f.exp is not sympy.S.NegativeOne
                                                                   or f.base.is_Integer and f.exp.is_Integer)):
                return printer._print_Mul(self)
            if f.is_Pow and f.exp is sympy.S.NegativeOne:
                if isinstance(f.base, sympy.Pow) or (isinstance(f.base, sympy.Mul) and not isinstance(f.base, OMul)):
                    return printer._print_Mul(self)
                den.append(f.base)
            else:
                num.append(f)
        if not num or len(den) > 1 or (sign and len(factors) == 1 and factors[0].is_Mul):
            return printer._print_Mul(self)
        prec = precedence(self)
        text = sign + "*".join(printer.parenthesize(x, prec, strict=False) for x in num)
        return text + "/" + printer.parenthesize(den[0], prec, strict=False) if den else text

    def __neg__(self) -> Any:  # −(−α·g) = α·g, still in order (LaTeX prints a − b as a − (b))
        first, rest = self.args[0], self.args[1:]
        return ordered_product(-first, *rest) if first.is_Number else ordered_product(-1, *self.args)

    def _latex(self, p: Any, **kwargs: Any) -> str:
        sign, num, den = "", [], []
        for a in (g for f in self.args for g in (f.args if isinstance(f, OMul) else (f,))):
            if a == -1 and not num:
                sign = "-"
            elif a.is_Pow and a.exp.is_Number and a.exp.is_negative:
                den.append(a.base if a.exp == -1 else sympy.Pow(a.base, -a.exp, evaluate=False))
            elif a.is_Rational and a.q != 1:  # as the text printer: u·σ(z)/10
                num += [sympy.Integer(a.p)] if a.p != 1 else []
                den.append(sympy.Integer(a.q))
            else:
                num.append(a)

        def join(fs: list[Any], bare: bool) -> str:
            if bare and len(fs) == 1:
                return p._print(fs[0])
            out = ""
            for i, f in enumerate(fs):  # β₁ m₀ as in print, but 0.5 \cdot 0 between numbers
                if i:
                    out += r" \cdot " if _a_number(fs[i - 1]) or _a_number(f) else " "
                out += p.parenthesize(f, PRECEDENCE["Mul"])
            return out or "1"

        body = join(num, bool(den))
        return sign + (rf"\frac{{{body}}}{{{join(den, True)}}}" if den else body)


def _a_number(x: Any) -> bool:
    """A factor printed as a number (a shown value, a power of one): a product of it takes
    a visible \\cdot in LaTeX, where symbols stand side by side."""
    while x.is_Pow:
        x = x.base
    return bool(x.is_Number or isinstance(x, Shown))


def ordered_product(*factors: Any) -> Any:
    """The factors as one :class:`OMul`, in order: inner ordered products flattened, ones
    dropped; a single factor is itself."""
    flat = [g for f in factors for g in (f.args if isinstance(f, OMul) else (as_sympy(f),))
            if g is not sympy.S.One]
    if not flat:
        return sympy.Integer(1)
    return flat[0] if len(flat) == 1 else OMul(*flat, evaluate=False)


# --------------------------------------------------------------------------- written arithmetic for substituted lines
# A substituted line is numbers in the order a teacher writes them (0.15·0.05 + 0.2·0.1 + 0.35).
# These nodes print their operands in order, joined by an operator, and evaluate to the plain
# SymPy value with doit() and evalf(), as unshow needs.  They are not SymPy sums and
# products (not OAdd/OMul): SymPy's Add and Mul printers sort and inspect their terms, the
# largest cost of printing a working, and bracket by their own rules.  These bracket by the
# rules below, spelled out once.
#
# Where exercises write a rule differently, the rule is an option of the node, a class
# attribute (a node rebuilt by xreplace or put_in keeps its class, so its rule), set by a small
# subclass of the exercise:
#
# - ``strict_right``: whether a later operand binding exactly as tightly as the node is
#   bracketed.  Always for a difference and a quotient (a − (b − c), a/(b·c)); a sum and a
#   product leave it off (a + b + c, softmax and attention), backprop's own subclasses turn it
#   on (a + (b + c), a + (−b), a·(b·c)).
# - a quotient: :class:`WrittenQuotient` is ``a / b`` in LaTeX, :class:`WrittenFraction`
#   ``\frac{a}{b}``.


class Written(sympy.Expr):
    """Operands in order, joined by an operator: the base of the written nodes below.

    A :class:`~dlcalc.core.Shown` operand prints its own parentheses; any other is bracketed,
    ``(…)`` in text and ``\\left(…\\right)`` in LaTeX, when :meth:`bracketed` says so.
    ``doit()`` and ``evalf()`` give :meth:`_combine` of the evaluated operands.  A subclass
    sets ``op_text``/``op_latex`` (the joiner), ``precedence`` and ``_combine``; a display
    that prints otherwise (an activation σ(z)) overrides the printing and keeps the rest."""

    is_commutative = True
    op_text = op_latex = ""
    #: see the section's comment: a later operand of the node's own precedence is bracketed
    strict_right = False

    def __new__(cls, *args: Any, **_: Any) -> Any:  # evaluate=False, from a rebuild, is ignored
        for a in args:  # a Python number (2, 1 − t) as SymPy; SymPy operands, the usual case, as they are
            if not isinstance(a, sympy.Basic):
                return sympy.Basic.__new__(cls, *map(as_sympy, args))
        return sympy.Basic.__new__(cls, *args)

    def _combine(self, args: list[Any]) -> Any:
        """The plain SymPy value of the node with these (evaluated) operands."""
        raise NotImplementedError

    def doit(self, **hints: Any) -> Any:
        return self._combine([a.doit(**hints) if isinstance(a, sympy.Basic) else a for a in self.args])

    def _eval_evalf(self, prec: int) -> Any:
        return self.doit()._eval_evalf(prec)

    def bracketed(self, i: int, a: Any, s: str) -> bool:
        """Whether operand ``i`` (``a``, printed ``s``) takes parentheses: when it binds more
        loosely than the node (a sum in a product), or as tightly after the first with
        ``strict_right``."""
        prec = _binding(a, s)
        return prec < self.precedence or (i > 0 and self.strict_right and prec == self.precedence)

    def _operands(self, printer: Any, left: str, right: str) -> list[str]:
        out = []
        for i, a in enumerate(self.args):
            s = printer._print(a)
            if not isinstance(a, Shown) and self.bracketed(i, a, s):
                s = left + s + right
            out.append(s)
        return out

    def _sympystr(self, printer: Any) -> str:
        return self.op_text.join(self._operands(printer, "(", ")"))

    def _latex(self, printer: Any) -> str:
        return self.op_latex.join(self._operands(printer, r"\left(", r"\right)"))


def _binding(a: Any, s: str) -> int:
    """How tightly the operand ``a``, printed ``s``, binds (SymPy's precedence); a positive
    rational printed without a fraction bar (0.5) is an atom, as 1/2 is not."""
    if isinstance(a, sympy.Rational) and a.is_positive and "/" not in s and "frac" not in s:
        return PRECEDENCE["Atom"]
    return precedence(a)


class WrittenSum(Written):
    """a + b + c, as written."""

    op_text = op_latex = " + "
    precedence = PRECEDENCE["Add"]

    def _combine(self, args: list[Any]) -> Any:
        return sympy.Add(*args)


class WrittenProduct(Written):
    """a·b·c, as written, ``a \\cdot b \\cdot c`` in LaTeX (the text printer turns * into ·)."""

    op_text, op_latex = "*", r" \cdot "
    precedence = PRECEDENCE["Mul"]

    def _combine(self, args: list[Any]) -> Any:
        return sympy.Mul(*args)


class WrittenDifference(Written):
    """a − b, as written; a − (b − c)."""

    op_text = op_latex = " - "
    precedence = PRECEDENCE["Add"]
    strict_right = True

    def _combine(self, args: list[Any]) -> Any:
        return args[0] - args[1]


class WrittenQuotient(Written):
    """a/b, as written, ``a / b`` in LaTeX; a/(b·c)."""

    op_text, op_latex = "/", " / "
    precedence = PRECEDENCE["Mul"]
    strict_right = True

    def _combine(self, args: list[Any]) -> Any:
        return args[0] / args[1]


class WrittenFraction(WrittenQuotient):
    """a/b, as written, ``\\frac{a}{b}`` in LaTeX (where the bar brackets both: no parentheses)."""

    def _latex(self, printer: Any) -> str:
        a, b = self.args
        return r"\frac{" + printer._print(a) + "}{" + printer._print(b) + "}"


class WrittenNegation(Written):
    """−a, as written: a sum or a negation operand is bracketed (−(a − b), −(−a)), a product not (−a·b)."""

    precedence = PRECEDENCE["Add"]

    def _combine(self, args: list[Any]) -> Any:
        return -args[0]

    def bracketed(self, i: int, a: Any, s: str) -> bool:
        return _binding(a, s) < PRECEDENCE["Mul"]

    def _sympystr(self, printer: Any) -> str:
        return "-" + self._operands(printer, "(", ")")[0]

    def _latex(self, printer: Any) -> str:
        return "-" + self._operands(printer, r"\left(", r"\right)")[0]


class WrittenSquare(Written):
    """a², as written: anything but an atom is bracketed ((a − b)², (a²)²), and in LaTeX the
    base is braced, ``{\\left(a - b\\right)}^{2}``."""

    precedence = PRECEDENCE["Pow"]

    def _combine(self, args: list[Any]) -> Any:
        return args[0] ** 2

    def bracketed(self, i: int, a: Any, s: str) -> bool:
        return _binding(a, s) <= PRECEDENCE["Pow"]

    def _sympystr(self, printer: Any) -> str:
        return self._operands(printer, "(", ")")[0] + "**2"

    def _latex(self, printer: Any) -> str:
        return "{" + self._operands(printer, r"\left(", r"\right)")[0] + "}^{2}"


# --------------------------------------------------------------------------- vectors and updates
# Display nodes for the formulas of whole layers (backprop): a vector transposed, the
# elementwise product, and an update written with ←.  They only print: a step that uses
# them has its values computed elsewhere (``step(..., value=...)``).


class transposed(sympy.Expr):
    """xᵀ: ``transposed(a)`` prints aᵀ and ``{a}^\\top`` (a vector or matrix symbol; SymPy's
    own Transpose of a scalar symbol is the symbol itself)."""

    is_commutative = True  # only printed, inside products kept in order (OMul)
    precedence = PRECEDENCE["Pow"]

    def __new__(cls, arg: Any) -> "transposed":
        return super().__new__(cls, as_sympy(arg))

    def _sympystr(self, printer: Any) -> str:
        return printer.parenthesize(self.args[0], PRECEDENCE["Pow"]) + "ᵀ"

    def _latex(self, printer: Any, exp: Any = None) -> str:
        body = f"{{{printer._print(self.args[0])}}}^\\top"
        return f"\\left({body}\\right)^{{{exp}}}" if exp else body


class hadamard(sympy.Expr):
    """a ⊙ b, the elementwise product, its factors in the order written
    (``hadamard(dLda, fprime)`` prints ∂L/∂a ⊙ f′(z) and ``... \\odot ...``)."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"]

    def __new__(cls, *factors: Any) -> "hadamard":
        return super().__new__(cls, *[as_sympy(f) for f in factors])

    def _sympystr(self, printer: Any) -> str:
        return " ⊙ ".join(printer.parenthesize(f, PRECEDENCE["Mul"]) for f in self.args)

    def _latex(self, printer: Any, exp: Any = None) -> str:
        body = r" \odot ".join(printer.parenthesize(f, PRECEDENCE["Mul"]) for f in self.args)
        return f"\\left({body}\\right)^{{{exp}}}" if exp else body


class assign(sympy.Equality):
    """``lhs ← rhs``, an update (W ← W − η·∂L/∂W): a formula like :func:`eq`, whose right
    side :func:`step` fills in, printed with ← and ``\\leftarrow``."""

    def __new__(cls, lhs: Any, rhs: Any, **_: Any) -> "assign":
        return super().__new__(cls, as_sympy(lhs), as_sympy(rhs), evaluate=False)

    def _sympystr(self, printer: Any) -> str:
        return f"{printer._print(self.lhs)} ← {printer._print(self.rhs)}"

    def _latex(self, printer: Any) -> str:
        return rf"{printer._print(self.lhs)} \leftarrow {printer._print(self.rhs)}"


class bracketed(sympy.Expr):
    """[x]: a sum in square brackets, as a teacher groups the summand of Σ
    (Σₖ [tₖ·ln(aₖ) + (1 − tₖ)·ln(1 − aₖ)]); prints ``\\left[x\\right]``."""

    is_commutative = True
    precedence = PRECEDENCE["Atom"]

    def __new__(cls, arg: Any) -> "bracketed":
        return super().__new__(cls, as_sympy(arg))

    def _sympystr(self, printer: Any) -> str:
        return f"[{printer._print(self.args[0])}]"

    def _latex(self, printer: Any, exp: Any = None) -> str:
        body = rf"\left[{printer._print(self.args[0])}\right]"
        return f"{body}^{{{exp}}}" if exp else body


# --------------------------------------------------------------------------- display nodes of
# softmax and attention: max/argmax over an index and the Iverson bracket, as written


class max_over(sympy.Expr):
    """The largest term over an index, as written: ``max_over(z_k, "k")`` prints maxₖ zₖ and
    ``\\max_{k} z_{k}``; ``max_over(p_k, "k", arg=True)`` prints argmaxₖ pₖ and
    ``\\arg\\max_{k} p_{k}``.  A display node of a template (SymPy's Max takes its terms,
    not an index); the exercise computes the value itself."""

    is_commutative = True
    precedence = PRECEDENCE["Mul"] + 1  # as Sigma: 2·maxₖ zₖ, (maxₖ zₖ)²

    def __new__(cls, body: Any, below: Any, arg: Any = False, **_: Any) -> "max_over":
        return super().__new__(cls, as_sympy(body), _str(below), sympy.true if arg else sympy.false)

    def _sympystr(self, printer: Any) -> str:
        head = ("argmax" if self.args[2] else "max") + _below(self.args[1].name)
        return f"{head} {printer._print(self.args[0])}"

    def _latex(self, printer: Any, exp: Any = None) -> str:
        head = (r"\arg\max" if self.args[2] else r"\max") + f"_{{{self.args[1].name}}}"
        return f"{head} {printer._print(self.args[0])}"


#: the Iverson bracket of a relation, 1 where it holds and 0 elsewhere, as written:
#: ``iverson(sympy.Eq(k, y, evaluate=False))`` prints [k = y] (LaTeX too), and
#: ``iverson(sympy.Le(j, i, evaluate=False))`` [j ≤ i]; the same display as a bracketed sum
iverson = bracketed


# --------------------------------------------------------------------------- expectation


class _Applied(sympy.Function):
    """An operator applied to one argument, kept as written: ``_text``/``_tex`` hold the
    two spellings with ``{}`` where the argument goes."""

    nargs = 1
    _text = _tex = "{}"

    def _sympystr(self, printer: Any) -> str:
        return self._text.format(printer._print(self.args[0]))

    def _latex(self, printer: Any, exp: Any = None) -> str:
        s = self._tex.format(printer._print(self.args[0]))
        return rf"{s}^{{{exp}}}" if exp else s


class Ex(_Applied):
    """E[·], the expectation, kept as written: ``Ex(v_t)`` prints E[vₜ] and
    ``\\mathbb{E}[v_{t}]`` (SymPy's own E would be Euler's number, a plain Function E(·))."""

    _text, _tex = "E[{}]", r"\mathbb{{E}}[{}]"


class Var(_Applied):
    """Var(·), the variance, kept as written: ``Var(X_k)`` prints Var(Xₖ) and
    ``\\mathrm{Var}(X_{k})``."""

    _text, _tex = "Var({})", r"\mathrm{{Var}}({})"
