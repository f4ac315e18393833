"""What the optimizer exercises (adam-step, optim-step) share: their gradients' parsing, the
size of an exact value, the decimal arithmetic of their numeric path, and the written-order
display nodes of their formulas.

Numeric path: past a size limit a run goes on in Python's ``decimal`` with :data:`DPS`
significant digits (mpmath for sin, cos, tanh and the like).  A gradient from ``--loss`` is
differentiated once by SymPy and compiled into a small closure (:func:`_compile`), so a
thousand steps cost a fraction of a second.
"""

from __future__ import annotations

import decimal
from typing import Any, Callable, Mapping, Sequence

import mpmath
import sympy
from sympy.core.operations import AssocOp

from dlcalc.board import OAdd, OMul
from dlcalc.core import Shown, as_sympy, said
from dlcalc.errors import InputError
from dlcalc.parse import parse_value, read_source, symbol

MAX_STEPS = 100_000          # --steps
MAX_GRADS = 10_000           # number of --grad values
MAX_GRAD_CHARS = 2_000_000   # characters of all --grad values together
MAX_COMPONENTS = 10_000      # entries of θ
MAX_LOSS_COMPONENTS = 100    # entries of θ with --loss (one SymPy derivative each)
MAX_WORK = 100_000           # steps × components (numeric work and history size)
EXACT_MAX_BITS = 2_000       # an exact rational with more bits than this is "too long"
DPS = 40                     # significant digits of the numeric path (at least 30 asked)
HUGE = decimal.Decimal("1e300")  # a value beyond this is refused (outside float64)

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def _sub(t: int) -> str:
    """``t`` as subscript digits (θ₁₂), for titles built from plain data."""
    return str(t).translate(_SUB)


# --------------------------------------------------------------------------- inputs


def parse_gradients(grad: Sequence[str] | None, loss: str | None) -> list[Any]:
    """``--grad`` given once per step (bounded in count and total size), or none with
    ``--loss``; exactly one of the two."""
    grads = list(grad or [])
    if grads and loss is not None:
        raise InputError("--loss", "cannot be combined with --grad: give the gradients (--grad, "
                                   "once per step) or a loss to differentiate (--loss), not both")
    if not grads and loss is None:
        raise InputError("--grad", "is missing: give --grad once per step, or --loss EXPR with --steps N")
    if len(grads) > MAX_GRADS:
        raise InputError("--grad", f"is given {len(grads):,} times; at most {MAX_GRADS:,} steps of given "
                                   "gradients (use --loss with --steps for long runs)")
    parsed, total = [], 0
    for g in grads:
        text = read_source(g, "--grad")
        total += len(text)
        if total > MAX_GRAD_CHARS:
            raise InputError("--grad", f"values are longer than {MAX_GRAD_CHARS:,} characters together")
        if text.strip() == "-" or text.lstrip().startswith("@"):
            raise InputError("--grad", "read from a file or standard input must hold numbers, not another @PATH or -")
        parsed.append(parse_value(text, "--grad", kinds=("scalar", "vector")))
    return parsed


def gradient_source(grads: Any, loss: Any, steps: int | None, n: int,
                    vector: bool) -> tuple[list[list[Any]], list[Any] | None, int]:
    """Where the gradients come from, checked: the given ones as components like θ, or the
    loss's gradient derived by SymPy; and the step count."""
    if (grads is None) == (loss is None):
        raise InputError("--grad" if grads is None else "--loss",
                         "is missing: give --grad once per step, or --loss EXPR with --steps N"
                         if grads is None else "cannot be combined with --grad")
    if grads is not None:
        if not grads:
            raise InputError("--grad", "is missing: give --grad once per step")
        if len(grads) > MAX_GRADS:
            raise InputError("--grad", f"is given {len(grads):,} times; at most {MAX_GRADS:,}")
        if steps is not None and steps != len(grads):
            raise InputError("--steps", f"is {steps}, but --grad is given {len(grads)} "
                                        f"time{'s' if len(grads) != 1 else ''} "
                                        "(with --grad the number of steps is the number of gradients)")
        given = [_as_components(g, n, "--grad", f"value {k + 1}") for k, g in enumerate(grads)]
        return given, None, len(given)
    variables = loss_variables(n, vector)
    loss = as_sympy(loss)
    if not isinstance(loss, sympy.Expr):
        raise InputError("--loss", "must be a single expression")
    stray = sorted(str(s) for s in loss.free_symbols - set(variables))
    if stray:
        names = ", ".join(str(v) for v in variables) if n <= 4 else f"theta1 … theta{n}"
        shape = "a scalar" if not vector else f"a vector of {n}"
        raise InputError("--loss", f"uses {', '.join(stray[:5])}, which {'is' if len(stray) == 1 else 'are'} "
                                   f"not a component of θ; θ is {shape}, so the variables are {names}")
    if n > MAX_LOSS_COMPONENTS:
        raise InputError("--theta", f"has {n:,} components; --loss works with at most {MAX_LOSS_COMPONENTS} "
                                    "(give the gradients with --grad for larger θ)")
    T = 1 if steps is None else steps
    if not (1 <= T <= MAX_STEPS):
        raise InputError("--steps", f"must be between 1 and {MAX_STEPS:,}, got {T}")
    return [], [sympy.diff(loss, v) for v in variables], T


def loss_variables(n: int, vector: bool) -> list[sympy.Symbol]:
    """The loss variables: ``theta`` for a scalar θ, ``theta1 … thetaN`` for a vector."""
    return [symbol(f"theta{i + 1}") for i in range(n)] if vector else [symbol("theta")]


def _as_components(value: Any, n: int | None, option: str, what: str) -> list[Any]:
    """A scalar or a list as a list of components, matching θ's shape when ``n`` is given."""
    comps = list(value) if isinstance(value, (list, tuple)) else [value]
    for c in comps:
        if isinstance(c, (list, tuple)):
            raise InputError(option, f"{what} must be a scalar or a vector, not a matrix")
    if n is not None and len(comps) != n:
        got = "is a scalar" if not isinstance(value, (list, tuple)) else f"has {len(comps)} components"
        shape = "is a scalar" if n == 1 else f"has {n} components"
        raise InputError(option, f"{what} {got}, but θ {shape}")
    out = []
    for c in comps:
        c = as_sympy(c)
        if c.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or (c.is_number and c.is_real is False):
            raise InputError(option, f"{what} must be finite real numbers, got {said(c)}")
        out.append(c)
    return out


def _below(value: Any, bound: Any) -> bool:
    """value < bound for real numbers, decided also when they differ only far beyond 15
    digits (β₂ = sqrt(1 − 1e-300)), where SymPy's ``<`` cannot tell."""
    try:
        return bool(value < bound)
    except TypeError:
        diff = sympy.N(value - bound, 15, maxn=4000)
        if diff.is_comparable and diff != 0:
            return bool(diff < 0)
        return False  # equal to all the digits SymPy can resolve: treated as the bound itself


def _approx(theta: list[Any]) -> str:
    """θ as a short decimal for an error message."""
    parts = []
    for x in theta[:4]:
        if isinstance(x, decimal.Decimal):
            parts.append(format(x, ".8g"))
        else:
            parts.append(sympy.sstr(sympy.N(x, 8)) if x.is_number else sympy.sstr(x)[:30])
    text = ", ".join(parts) + (", …" if len(theta) > 4 else "")
    return f"({text})" if len(theta) > 1 else text


# --------------------------------------------------------------------------- sizes


def _nodes(x: Any, cap: int) -> int:
    """Tree size of an exact value (counting each rational's size), stopping past ``cap``."""
    count, stack = 0, [x]
    while stack:
        e = stack.pop()
        count += 1
        if e.is_Rational:
            if max(int(e.p).bit_length(), int(e.q).bit_length()) > EXACT_MAX_BITS:
                return cap + 1
        elif e.args:
            stack.extend(e.args)
        if count > cap:
            break
    return count


def _compact(x: Any) -> Any:
    """A number as it is put into a formula: its exact form when short, else a decimal
    carrying :data:`DPS` digits (the printer shows ``--digits`` of them)."""
    if not isinstance(x, sympy.Expr) or isinstance(x, sympy.Float) or not x.is_number:
        return x
    if x.is_Rational:
        q = int(x.q)
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if len(str(abs(x.p))) + len(str(x.q)) <= (24 if q == 1 else 10):
            return x
    elif _nodes(x, 6) <= 6:
        return x
    return sympy.Float(x.evalf(DPS), DPS)


# --------------------------------------------------------------------------- decimal arithmetic


def _context(extra: int = 0) -> decimal.Context:
    """The numeric path's arithmetic: DPS (+ ``extra``) significant digits; invalid operations raise."""
    return decimal.Context(prec=DPS + extra, Emax=10**6, Emin=-10**6,
                           traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def _to_dec(x: Any) -> decimal.Decimal:
    """An exact SymPy number as a Decimal, correctly rounded to the current context."""
    if x.is_Rational:
        return decimal.Decimal(int(x.p)) / decimal.Decimal(int(x.q))
    v = x.evalf(decimal.getcontext().prec + 10)
    if not v.is_Float:
        raise InputError(None, f"{sympy.sstr(x)[:40]} is not a finite real number")
    return +decimal.Decimal(str(v))


def _dec_to_float(d: decimal.Decimal) -> sympy.Float:
    """A Decimal as a SymPy Float carrying all its digits."""
    return sympy.Float(str(d), DPS)


class HighFloat(float):
    """A float64 that keeps the 40-digit decimal it was rounded from.

    JSON encodes it as the plain float (``result``); ``repr`` gives every digit, so the
    ``exact`` string of a numeric history entry keeps the full precision; ``str`` is a
    short decimal for the text table, in the style of the other decimals.
    """

    __slots__ = ("dec",)

    def __new__(cls, d: decimal.Decimal) -> "HighFloat":
        obj = float.__new__(cls, d)
        obj.dec = d
        return obj

    def __repr__(self) -> str:
        return str(self.dec).replace("E", "e")

    def __str__(self) -> str:
        return "≈ " + format(self.dec, ".6g").replace("E", "e")


def _via_mpmath(fn: Callable[[Any], Any]) -> Callable[[decimal.Decimal], decimal.Decimal]:
    """A Decimal function computed by mpmath (for the functions ``decimal`` lacks)."""
    def f(d: decimal.Decimal) -> decimal.Decimal:
        with mpmath.workdps(DPS + 10):
            r = fn(mpmath.mpf(str(d)))
            if not isinstance(r, mpmath.mpf):
                raise decimal.InvalidOperation("not real")
            return +decimal.Decimal(mpmath.nstr(r, DPS + 10, strip_zeros=False))
    return f


def _sign(d: decimal.Decimal) -> decimal.Decimal:
    return decimal.Decimal((d > 0) - (d < 0))


_DEC_FUNCS: dict[Any, Callable[[Any], Any]] = {
    sympy.exp: decimal.Decimal.exp, sympy.log: decimal.Decimal.ln, sympy.Abs: abs, sympy.sign: _sign,
    sympy.sin: _via_mpmath(mpmath.sin), sympy.cos: _via_mpmath(mpmath.cos), sympy.tan: _via_mpmath(mpmath.tan),
    sympy.tanh: _via_mpmath(mpmath.tanh), sympy.sinh: _via_mpmath(mpmath.sinh),
    sympy.cosh: _via_mpmath(mpmath.cosh),
}


def _compile(expr: Any, variables: list[Any]) -> Callable[[Sequence[Any]], Any]:
    """A plain Python closure computing ``expr`` from the values of ``variables`` (Decimals)."""
    return compile_closure(expr, {v: k for k, v in enumerate(variables)})


def compile_closure(expr: Any, keys: Mapping[Any, Any]) -> Callable[[Any], Any]:
    """A plain Python closure computing ``expr`` from ``x``, where the symbol ``s`` is read as
    ``x[keys[s]]`` (a list of Decimals, or a dict of them by symbol).

    Built once from the SymPy tree (no string, no eval); each call costs a few
    microseconds, against milliseconds for a SymPy substitution.
    """
    def build(e: Any) -> Callable[[Any], Any]:
        if e in keys:
            k = keys[e]
            return lambda x: x[k]
        if e.is_number:
            c = _to_dec(e)
            return lambda x: c
        if e.is_Add or e.is_Mul:
            return _fold([build(a) for a in e.args], e.is_Add)
        if e.is_Pow:
            return _power(build(e.base), e.exp, build)
        if isinstance(e, sympy.Max):
            fs = [build(a) for a in e.args]
            return lambda x: max(f(x) for f in fs)
        fn = _DEC_FUNCS.get(e.func)
        if fn is not None and len(e.args) == 1:
            fa = build(e.args[0])
            return lambda x: fn(fa(x))
        raise InputError("--loss", f"has a gradient with {e.func.__name__}, which cannot be evaluated numerically")

    return build(expr)


def _fold(fs: list[Callable], add: bool) -> Callable:
    """The sum (or product) of the closures ``fs``, left to right."""
    if len(fs) == 2:
        f0, f1 = fs
        return (lambda x: f0(x) + f1(x)) if add else (lambda x: f0(x) * f1(x))

    def many(x: Sequence[Any]) -> Any:
        acc = fs[0](x)
        for f in fs[1:]:
            acc = acc + f(x) if add else acc * f(x)
        return acc
    return many


def _power(fb: Callable, ex: Any, build: Callable) -> Callable:
    """The closure of ``base**ex`` (squares, reciprocals and roots without a general power)."""
    if ex.is_Integer:
        n = int(ex)
        if n == 2:
            return lambda x: fb(x) * fb(x)
        if n == -1:
            return lambda x: 1 / fb(x)
        return lambda x: fb(x) ** n
    if ex == sympy.S.Half:
        return lambda x: fb(x).sqrt()
    if ex == -sympy.S.Half:
        return lambda x: 1 / fb(x).sqrt()
    fe = build(ex)
    return lambda x: fb(x) ** fe(x)


def _numeric_gradient(closures: list[Callable], theta: list[Any], t: int) -> list[Any]:
    """The compiled loss gradient at θ_{t−1}; an InputError where it is not finite."""
    out = []
    for f in closures:
        try:
            g = f(theta)
        except (decimal.DecimalException, ZeroDivisionError, ValueError, OverflowError):
            g = None
        if not isinstance(g, decimal.Decimal) or not g.is_finite() or abs(g) > HUGE:
            raise InputError("--loss", f"has no finite real gradient at θ{_sub(t - 1)} = {_approx(theta)} "
                                       f"(step {t})")
        out.append(g)
    return out


# --------------------------------------------------------------------------- written order


# the ordered sums and products are the board's (written order, fast text)
WAdd, WMul = OAdd, OMul


def w_add(*terms: Any) -> Any:
    return WAdd(*map(as_sympy, terms), evaluate=False)


def w_mul(*factors: Any) -> Any:
    return WMul(*map(as_sympy, factors), evaluate=False)


def w_neg(x: Any) -> Any:
    """−x as written (a product keeps its factors)."""
    return w_mul(-1, *(x.args if isinstance(x, WMul) else (x,)))


def w_pow(base: Any, exp: Any) -> Any:
    return sympy.Pow(as_sympy(base), as_sympy(exp), evaluate=False)


def w_over(num: Any, den: Any) -> Any:
    """num/den as written: the factors of num, then den^(−1)."""
    return w_mul(*(num.args if isinstance(num, WMul) else (num,)), w_pow(den, -1))


def w_one_minus(x: Any) -> Any:
    return w_add(1, w_neg(x))


def w_sqrt(x: Any) -> Any:
    return w_pow(x, sympy.S.Half)


def put_numbers(expr: Any, values: Mapping[Any, Any]) -> Any:
    """A template with each occurrence of a key of ``values`` replaced by a new shown number,
    unevaluated: :func:`dlcalc.board.put_in` for templates of the nodes above, about twice as
    fast (sums and products are rebuilt from their arguments directly, past SymPy's cache of
    constructors, which every new shown number would miss)."""
    v = values.get(expr)
    if v is not None:
        return Shown(v)
    if not expr.args:
        return expr
    args = tuple(put_numbers(a, values) for a in expr.args)
    if isinstance(expr, AssocOp):
        return expr.func._from_args(args)
    return expr.func(*args, evaluate=False)


class maximum(sympy.Function):
    """max(a, b) as written (SymPy's Max sorts its arguments); numbers in give Max."""

    nargs = 2

    @classmethod
    def eval(cls, a: Any, b: Any) -> Any:
        return sympy.Max(a, b) if a.is_number and b.is_number else None

    def _sympystr(self, printer: Any) -> str:
        return "max(" + ", ".join(printer._print(a) for a in self.args) + ")"

    def _latex(self, printer: Any) -> str:
        return r"\max\left(" + ", ".join(printer._print(a) for a in self.args) + r"\right)"
