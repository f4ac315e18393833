"""sigmoid-step: gradient-descent steps of one sigmoid neuron, squared error (or BCE) + L2.

The model (printed as the conventions of every answer)::

    z_i = w·x_i + b,   y_i = σ(z_i) = 1/(1 + e^(−z_i)),   i = 1…T
    mse:  L = (c/T) Σ_i (y_i − t_i)² + (c·λ/T)·‖w‖²
    bce:  L = −(1/T) Σ_i [t_i log y_i + (1 − t_i) log(1 − y_i)] + (c·λ/T)·‖w‖²
    c = ½ (``half=True``) or 1; with ``reg_bias`` the penalty is ‖w‖² + b².
    w ← w − α ∂L/∂w,  b ← b − α ∂L/∂b, ``steps`` times (gradients at the weights
    before each update).

How it is built:

* The formulas are SymPy templates (:func:`_formulas`, one set per batch shape and loss),
  kept in a teacher's order by the display nodes below; :func:`dlcalc.board.step` puts the
  numbers in, and ``tests/test_steps.py`` evaluates every substituted line.
* One step of the arithmetic is :func:`_advance`, the same code for every path: exact SymPy
  (σ stays a :class:`dlcalc.board.sigmoid` node; 1 − σ(z) is written so for a symbol and as
  σ(−z) for a number, and y − t for z > 0 as (1 − t) − σ(−z), so nothing cancels when y is
  near 0 or 1), mpmath with 30 significant digits, or IEEE double (stable formulas,
  ``fsum``) for runs too long for mpmath.
* Exact while the forms stay short: symbolic inputs always (bounded in steps and size
  instead), numbers for the first step and later ones while their exact forms stay under
  EXACT_MAX_NODES; a batch too large for exact work, or |z| > Z_EXACT_MAX, runs numerically.
  Every switch is stated in the solution's notes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import sympy

from dlcalc.board import Named, OAdd, OMul, assign, eq, ordered_product, sigmoid, step
from dlcalc.core import Math, Mistake, Solution, Step, progress
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, parse_value, symbol
from dlcalc.registry import FLAG, SWITCH, Command, Option

COMMAND = Command(
    name="sigmoid-step",
    summary="Gradient-descent step(s) of one sigmoid neuron, squared error (or BCE) + L2.",
    example="dlcalc sigmoid-step --x 1 --t 0",
    plot=True,
    options=(
        Option("--x", "Input: a scalar, a vector (one example), or a matrix whose rows are examples "
                      "(\"1 2; 0.5 -1\"). Left out: the symbol x."),
        Option("--t", "Target: a scalar, or one per example. Left out: the symbol t."),
        Option("--w", "Initial weight: a scalar or a vector.", default="1"),
        Option("--b", "Initial bias.", default="1"),
        Option("--lam", "L2 strength λ.", default="0.1", aliases=("--lambda",)),
        Option("--lr", "Learning rate α.", default="0.1", aliases=("--alpha",)),
        Option("--loss", "mse (squared error) or bce (cross-entropy).", default="mse"),
        Option("--half", "c = ½ in the loss and penalty (--no-half: c = 1).", kind=SWITCH,
               off="--no-half", default=True),
        Option("--reg-bias", "Regularize the bias too (‖w‖² + b²).", kind=FLAG, default=False),
        Option("--steps", "Number of gradient-descent steps (1-10,000).", default="1"),
    ),
)

MAX_STEPS = 10_000
#: steps · examples · features a run may cost at all (IEEE double beyond MPMATH_WORK)
MAX_WORK = 2_000_000
#: steps · examples · features run with mpmath (30 digits); more runs in IEEE double
MPMATH_WORK = 2_000
MP_DPS = 30
#: numeric results smaller than this in magnitude are reported as 0
TINY = "1e-1000"
#: numeric inputs: exact arithmetic only while examples · features stay this small ...
EXACT_MAX_ENTRIES = 64
#: ... and while every new exact w and b has at most this many nodes
EXACT_MAX_NODES = 30
#: ... and while |z| ≤ this (SymPy's evalf cannot resolve e^(−|z|) against 1 beyond about 1e-100)
Z_EXACT_MAX = 200
#: symbolic inputs: at most this many steps, entries, and nodes in any value
SYMBOLIC_MAX_STEPS = 25
SYMBOLIC_MAX_ENTRIES = 64
SYMBOLIC_MAX_NODES = 4_000
#: the board writes the numbers into a formula only while examples · features stay small
BOARD_MAX_ENTRIES = 24
#: steps worked in full on the board; later steps (but the last) are summarized
BOARD_FULL_STEPS = 4
#: a symbolic value with more nodes than this is written into a later formula by its name
NAME_NODES = 24

LOSSES = ("mse", "bce")


# --------------------------------------------------------------------------- display nodes
# What SymPy would reorder or evaluate: sums and products in the order they are written
# (board.OAdd, board.OMul),
# symbols printed as given (x₁₂, σ'(z), ∂L/∂w), values written shorter, and w ← ….


def _add(*terms: Any) -> Any:
    return terms[0] if len(terms) == 1 else OAdd(*terms, evaluate=False)


_mul = ordered_product


def _pow(base: Any, e: Any) -> Any:
    return sympy.Pow(base, e, evaluate=False)


def _minus(x: Any) -> Any:
    return _mul(-1, x)


def _Name(text: str, tex: str | None = None) -> Named:  # noqa: N802 - a constructor in use
    """A symbol of the formulas, printed as given in text and LaTeX (x₁₂, σ'(z), ∂L/∂w)."""
    return Named(text, text, tex or text)


class _Written(sympy.Function):
    """A value written shorter in a formula: an exact number as its decimal (σ(2) as
    0.880797), a long symbolic value by its name (z); ``doit`` gives the value back."""

    nargs = 2

    @classmethod
    def eval(cls, value: Any, shown: Any) -> Any:
        return None

    def doit(self, **hints: Any) -> Any:
        return self.args[0]

    def _eval_evalf(self, prec: int) -> Any:
        return self.args[0]._eval_evalf(prec)

    def _eval_is_negative(self) -> Any:  # from the decimal (cheap); a name has no sign
        return self.args[1].is_negative if isinstance(self.args[1], sympy.Float) else None

    def _sympystr(self, p: Any) -> str:
        return p._print(self.args[1])

    def _latex(self, p: Any, **kwargs: Any) -> str:
        return p._print(self.args[1])


_SUB = str.maketrans("0123456789ij", "₀₁₂₃₄₅₆₇₈₉ᵢⱼ")


@functools.lru_cache(maxsize=4096)
def _sym(base: str, tex: str, *index: Any) -> _Name:
    """``base`` with subscripts: x₁₂, xᵢⱼ, x₁,₁₀ (a comma where an index has two digits)."""
    if not index:
        return _Name(base, tex)
    parts = [str(i) for i in index]
    sub = ("," if len(parts) > 1 and any(len(q) > 1 for q in parts) else "").join(parts)
    return _Name(base + sub.translate(_SUB), f"{tex}_{{{sub}}}")


def _of(head: str, tex_head: str, x: _Name) -> _Name:
    """``head`` applied to a symbol: σ'(zᵢ), ∂L/∂wⱼ."""
    return _Name(head.format(x.name), tex_head.replace("@", x._tex))


L, TN, LAM, ALPHA, B = _Name("L"), _Name("T"), _Name("λ", r"\lambda"), _Name("α", r"\alpha"), _Name("b")
DOTS = _Name("…", r"\cdots")
DLDB = _Name("∂L/∂b", r"\frac{\partial L}{\partial b}")


# --------------------------------------------------------------------------- the formulas
# (the internal records are NamedTuples: immutable like frozen dataclasses, and five times
# cheaper to create at import, which every run pays)


class _Shape(NamedTuple):
    """The batch: T examples of d features; ``vector``: w is a vector (indexed wⱼ)."""

    T: int
    d: int
    vector: bool

    @property
    def written(self) -> bool:
        """Whether the numbers fit into the formulas (else only the values are shown)."""
        return self.T * self.d <= BOARD_MAX_ENTRIES

    def ex(self, base: str, i: Any) -> _Name:
        """A per-example symbol: y (one example), yᵢ, y₂."""
        return _sym(base, base) if self.T == 1 else _sym(base, base, i)

    def w(self, j: Any) -> _Name:
        return _sym("w", "w", j) if self.vector else _sym("w", "w")

    def x(self, i: Any, j: Any) -> _Name:
        return _sym("x", "x", *(() if self.T == 1 else (i,)), *((j,) if self.vector else ()))

    def dsig(self, i: Any) -> _Name:
        return _of("σ'({})", r"\sigma'(@)", self.ex("z", i))

    def dldw(self, j: Any) -> _Name:
        return _of("∂L/∂{}", r"\frac{\partial L}{\partial @}", self.w(j))

    def examples(self) -> list[int | None]:
        return _indices(self.T, self.written)

    def features(self) -> list[int | None]:
        return _indices(self.d, self.written)


def _indices(n: int, written: bool) -> list[int | None]:
    """1…n, or 1, 2, …, n (None for the ellipsis) when the terms are not written out."""
    return list(range(1, n + 1)) if written or n <= 4 else [1, 2, None, n]


class _Rule(NamedTuple):
    """The loss and its conventions, and the two mistakes no convention flag expresses."""

    loss: str
    half: bool
    reg_bias: bool
    sigma_as_derivative: bool = False   # σ'(z) taken as σ(z)
    ascent: bool = False                # w + α·∂L/∂w

    @property
    def c(self) -> sympy.Rational:
        return sympy.Rational(1, 2) if self.half else sympy.Integer(1)


class _Formulas(NamedTuple):
    """The templates of one step: per example (index i), per feature (index j), or summed."""

    z: Any
    y: Any
    dsig: Any      # σ'(zᵢ); None for cross-entropy, whose gradient needs only y − t
    loss: Any
    dldw: Any
    dldb: Any
    update_w: Any
    update_b: Any


def _scaled(expr: Any, k: sympy.Rational, T: int) -> Any:
    """k·expr/T as a teacher writes it: expr/2, 2·expr/T, expr/(2·T), −expr/T."""
    return _mul(*([sympy.Integer(k.p)] if k.p != 1 else []), expr,
                *([_pow(sympy.Integer(k.q), -1)] if k.q != 1 else []), *([_pow(TN, -1)] if T > 1 else []))


def _sum(indices: list[int | None], term: Callable[[int], Any]) -> Any:
    return _add(*[DOTS if m is None else term(m) for m in indices])


def _error(sh: _Shape, rule: _Rule, m: Any) -> Any:
    """∂L/∂zₘ without its factor 2c/T (or 1/T): (y − t)·σ'(z), or for cross-entropy y − t."""
    return _error_of(sh.ex("y", m), sh.ex("t", m), sh.dsig(m), rule)


def _error_of(y: Any, t: Any, dsig: Any, rule: _Rule) -> Any:
    if rule.loss == "mse":
        return _mul(_add(y, _minus(t)), dsig)
    if rule.sigma_as_derivative:
        return _mul(_add(y, _minus(t)), _pow(_add(1, _minus(y)), -1))
    return _add(y, _minus(t))


@functools.lru_cache(maxsize=64)
def _formulas(sh: _Shape, rule: _Rule) -> _Formulas:
    T, c, i, j = sh.T, rule.c, "i", "j"
    y = sh.ex("y", i)
    penalty = _add(*[DOTS if k is None else _pow(sh.w(k), 2) for k in sh.features()],
                   *([_pow(B, 2)] if rule.reg_bias else []))
    if rule.loss == "mse":
        data = _scaled(_sum(sh.examples(), lambda m: _pow(_add(sh.ex("y", m), _minus(sh.ex("t", m))), 2)), c, T)
    else:
        def cross_entropy(m: int) -> Any:
            ym, tm = sh.ex("y", m), sh.ex("t", m)
            return _add(_mul(tm, sympy.log(ym, evaluate=False)),
                        _mul(_add(1, _minus(tm)), sympy.log(_add(1, _minus(ym)), evaluate=False)))

        data = _scaled(_sum(sh.examples(), cross_entropy), sympy.Integer(-1), T)
    k = 2 * c if rule.loss == "mse" else sympy.Integer(1)
    step_sign = 1 if rule.ascent else -1
    return _Formulas(
        z=eq(sh.ex("z", i), _add(*[DOTS if f is None else _mul(sh.w(f), sh.x(i, f)) for f in sh.features()], B)),
        y=eq(y, sigmoid(sh.ex("z", i))),
        dsig=None if rule.loss == "bce" else eq(sh.dsig(i), y if rule.sigma_as_derivative
                                                else _mul(y, _add(1, _minus(y)))),
        loss=eq(L, _add(data, _scaled(_mul(LAM, penalty), c, T))),
        dldw=eq(sh.dldw(j), _add(_scaled(_sum(sh.examples(), lambda m: _mul(_error(sh, rule, m), sh.x(m, j))), k, T),
                                 _scaled(_mul(LAM, sh.w(j)), 2 * c, T))),
        dldb=eq(DLDB, _add(_scaled(_sum(sh.examples(), lambda m: _error(sh, rule, m)), k, T),
                           *([_scaled(_mul(LAM, B), 2 * c, T)] if rule.reg_bias else []))),
        update_w=assign(sh.w(j), _add(sh.w(j), _mul(step_sign, ALPHA, sh.dldw(j))), evaluate=False),
        update_b=assign(B, _add(B, _mul(step_sign, ALPHA, DLDB)), evaluate=False),
    )


@functools.lru_cache(maxsize=1)
def _sigma_derivation() -> Step:
    """σ'(z) by the chain rule, as a teacher writes it, and checked to equal σ(z)(1 − σ(z));
    no input changes it, so it is worked once per process (``dlcalc batch``).  The line is
    built rather than asked of ``sympy.diff`` (which costs ~10 ms of a run); a test checks
    that it is what ``diff`` gives."""
    z = _Name("z")
    e = sympy.exp(-z)
    derived = e / (1 + e) ** 2  # −(1 + e^(−z))^(−2) · (−e^(−z))
    # with u = e^(−z) both sides are u/(1 + u)²: rational functions whose numerators have
    # degree ≤ 2 over the same denominator, so agreeing at three points proves them equal
    u = sympy.Symbol("u")
    lhs, rhs = derived.xreplace({e: u}), (1 / (1 + u)) * (1 - 1 / (1 + u))
    if any(lhs.xreplace({u: k}) != rhs.xreplace({u: k}) for k in map(sympy.Integer, (1, 2, 3, 5))):  # pragma: no cover
        raise AssertionError("σ' does not equal σ(1 − σ)")
    s = sigmoid(z)
    return Step(title="σ'(z), by the chain rule",
                formula=Math("σ'(z) = d/dz [1/(1 + e^(−z))]", r"\sigma'(z) = \frac{d}{dz} \frac{1}{1 + e^{-z}}"),
                substituted=derived, value=_mul(s, _add(1, _minus(s))),
                note="d/dz (1 + e^(−z))^(−1) = −(1 + e^(−z))^(−2)·(−e^(−z)); "
                     "e^(−z)/(1 + e^(−z))² = 1/(1 + e^(−z)) · e^(−z)/(1 + e^(−z)) = σ(z)·(1 − σ(z))")


@functools.lru_cache(maxsize=2)
def _cross_entropy_derivation(sigma_as_derivative: bool) -> Step:
    """∂L/∂z = ∂L/∂y·σ'(z) for one example's cross-entropy: y − t (the σ' cancels).  The y
    written here stands for σ(z), so that the line evaluates without a pole at y = 1."""
    t = _Name("t")
    y = _Written(sigmoid(_Name("z")), _Name("y"))
    dldy = _add(_mul(-1, t, _pow(y, -1)), _mul(_add(1, _minus(t)), _pow(_add(1, _minus(y)), -1)))
    dsig = y if sigma_as_derivative else _mul(y, _add(1, _minus(y)))
    value = _error_of(y, t, None, _Rule("bce", True, False, sigma_as_derivative))
    return Step(title="∂L/∂z for cross-entropy",
                formula=eq(_Name("∂L/∂z", r"\frac{\partial L}{\partial z}"),
                           _mul(_Name("∂L/∂y", r"\frac{\partial L}{\partial y}"), _Name("σ'(z)", r"\sigma'(z)"))),
                substituted=_mul(dldy, dsig), value=value,
                note="" if sigma_as_derivative else "σ'(z) = y(1 − y) cancels the denominators of ∂L/∂y")


# --------------------------------------------------------------------------- the arithmetic


class _Ops(NamedTuple):
    """The arithmetic of one path: exact SymPy, mpmath, or IEEE double."""

    kind: str
    sigma: Callable[[Any], Any]
    sigma_c: Callable[[Any], Any]                  # 1 − σ(z), without cancellation
    log_sigma: Callable[[Any, Any], Any]           # log σ(z), given z and y = σ(z)
    log_sigma_c: Callable[[Any, Any], Any]         # log(1 − σ(z)), given z and 1 − σ(z)
    exp: Callable[[Any], Any]
    total: Callable[[list[Any]], Any]
    positive: Callable[[Any], bool]
    num: Callable[[Any], Any]                      # a SymPy input in this arithmetic
    out: Callable[[Any], Any]                      # a result as a SymPy value
    finite: Callable[[Any], bool]

    @property
    def exact(self) -> bool:
        return self.kind == "exact"


def _exact_sigma_c(z: Any) -> Any:
    return sigmoid(-z) if z.is_number else 1 - sigmoid(z)


def _same(v: Any) -> Any:
    return v


_EXACT = _Ops("exact", sigmoid, _exact_sigma_c, lambda z, y: sympy.log(y), lambda z, yc: sympy.log(yc),
              sympy.exp, lambda xs: sympy.Add(*xs), lambda z: bool(z.is_number and z.is_positive),
              _same, _same, lambda v: True)


@functools.lru_cache(maxsize=2)
def _numeric_ops(kind: str) -> _Ops:
    """mpmath (MP_DPS digits) or IEEE double, with σ and log σ in their stable forms."""
    if kind == "mpmath":
        import mpmath

        ctx = mpmath.MPContext()
        ctx.dps = MP_DPS
        tiny, zero = ctx.mpf(TINY), ctx.mpf(0)
        exp, log1p, fsum = ctx.exp, ctx.log1p, ctx.fsum

        def num(v: Any) -> Any:
            return ctx.mpf(sympy.Float(v.evalf(MP_DPS + 10), MP_DPS + 10))

        def out(v: Any) -> Any:  # below 1e-1000 (slow for a consumer to parse back): 0
            return sympy.Float(v if abs(v) >= tiny else zero, MP_DPS)

        def finite(v: Any) -> bool:
            return bool(ctx.isfinite(v)) and abs(v) < 1.7e308
    else:
        exp, log1p, fsum, out, finite = math.exp, math.log1p, math.fsum, sympy.Float, math.isfinite

        def num(v: Any) -> Any:
            try:
                return float(v)
            except OverflowError:
                return math.copysign(math.inf, 1 if v.is_positive else -1)

    def sigma(z: Any) -> Any:
        if z >= 0:
            return 1 / (1 + exp(-z))
        e = exp(z)
        return e / (1 + e)

    def softplus(u: Any) -> Any:  # log(1 + e^u) without overflow
        return u + log1p(exp(-u)) if u > 0 else log1p(exp(u))

    return _Ops(kind, sigma, lambda z: sigma(-z), lambda z, y: -softplus(-z), lambda z, yc: -softplus(z),
                exp, fsum, lambda z: z > 0, num, out, finite)


class _State(NamedTuple):
    """The weights a step starts from."""

    w: tuple[Any, ...]
    b: Any

    def map(self, f: Callable[[Any], Any]) -> "_State":
        return _State(tuple(f(v) for v in self.w), f(self.b))


class _Arith(NamedTuple):
    """An arithmetic and the problem's numbers in it."""

    ops: _Ops
    X: tuple[tuple[Any, ...], ...]
    t: tuple[Any, ...]
    c: Any
    lam: Any
    lr: Any
    T: int


class _StepData(NamedTuple):
    """Everything one step computes; ``z``, ``y``, ``s`` (σ'(z)) are per example."""

    before: _State
    z: tuple[Any, ...]
    y: tuple[Any, ...]
    s: tuple[Any, ...]
    loss: Any
    grad_w: tuple[Any, ...]
    grad_b: Any
    after: _State

    def map(self, f: Callable[[Any], Any]) -> "_StepData":
        return _StepData(self.before.map(f), *(tuple(map(f, v)) for v in (self.z, self.y, self.s)), f(self.loss),
                         tuple(map(f, self.grad_w)), f(self.grad_b), self.after.map(f))


def _z(a: _Arith, st: _State) -> list[Any]:
    return [a.ops.total([wj * xj for wj, xj in zip(st.w, row)]) + st.b for row in a.X]


def _advance(a: _Arith, st: _State, rule: _Rule, z: list[Any]) -> _StepData:
    """One gradient step: the same code for SymPy values and for mpmath or double numbers."""
    ops, T = a.ops, a.T
    y = [ops.sigma(zi) for zi in z]
    yc = [ops.sigma_c(zi) for zi in z]
    s = list(y) if rule.sigma_as_derivative else [yi * yci for yi, yci in zip(y, yc)]
    # y − t; for z > 0 as (1 − t) − σ(−z), which does not cancel when y ≈ t = 1
    r = [(1 - ti) - yci if ops.positive(zi) else yi - ti for yi, yci, ti, zi in zip(y, yc, a.t, z)]
    penalty = ops.total([wj * wj for wj in st.w]) + (st.b * st.b if rule.reg_bias else 0)
    if rule.loss == "mse":
        data = a.c / T * ops.total([ri * ri for ri in r])
        delta = [2 * a.c / T * ri * si for ri, si in zip(r, s)]
    else:
        data = -ops.total([ti * ops.log_sigma(zi, yi) + (1 - ti) * ops.log_sigma_c(zi, yci)
                           for zi, yi, yci, ti in zip(z, y, yc, a.t)]) / T
        delta = [ri / T for ri in r]
        if rule.sigma_as_derivative:  # ∂L/∂y·σ(z) = −t + (1 − t)·σ(z)/σ(−z) = −t + (1 − t)·e^z
            delta = [(-ti + (1 - ti) * ops.exp(zi)) / T for ti, zi in zip(a.t, z)]
    reg = a.c * a.lam / T
    grad_w = [ops.total([di * row[j] for di, row in zip(delta, a.X)]) + 2 * reg * wj for j, wj in enumerate(st.w)]
    grad_b = ops.total(delta) + (2 * reg * st.b if rule.reg_bias else 0)
    lr = -a.lr if rule.ascent else a.lr
    after = _State(tuple(wj - lr * gj for wj, gj in zip(st.w, grad_w)), st.b - lr * grad_b)
    return _StepData(st, tuple(z), tuple(y), tuple(s), data + reg * penalty, tuple(grad_w), grad_b, after)


def _nodes(values: Any, cap: int) -> int:
    """Tree size of SymPy values (shared subtrees counted each time), stopping past cap."""
    stack = list(values)
    n = 0
    while stack:
        e = stack.pop()
        n += 1
        if n > cap:
            break
        stack.extend(e.args)
    return n


# --------------------------------------------------------------------------- the board


def _tidy(e: Any) -> Any:
    """A symbolic value in a teacher's order: a positive constant of a long sum first, then
    −, the coefficient, symbols, powers and brackets: 0.99 − u·σ(u + 1)²·(1 − σ(u + 1))/10,
    but u + 1 and σ(z) − 1."""
    if not isinstance(e, sympy.Basic) or not e.args or e.is_number:
        return e
    if isinstance(e, sympy.Add):
        terms = [_tidy(a) for a in e.as_ordered_terms()]
        if all(a.is_number or a.is_Symbol for a in terms):
            return OAdd(*terms, evaluate=False)
        return OAdd(*sorted(terms, key=lambda a: not (a.is_number and a.is_positive)), evaluate=False)
    if isinstance(e, sympy.Mul):
        factors = sorted((_tidy(a) for a in e.as_ordered_factors()), key=_factor_rank)
        if not (factors[0].is_number and factors[0].is_negative):
            return OMul(*factors, evaluate=False)
        # −k·…: the minus in front of the product (the printers keep an inner product's order)
        rest = factors[1:] if factors[0] == -1 else [-factors[0], *factors[1:]]
        return OMul(-1, rest[0] if len(rest) == 1 else OMul(*rest, evaluate=False), evaluate=False)
    return e.func(*[_tidy(a) for a in e.args])


def _factor_rank(a: Any) -> int:
    base = a.base if a.is_Pow else a
    return 0 if a.is_number else 1 if a.is_Symbol else 3 if isinstance(base, sympy.Add) else 2



def _put(v: Any, approx: Any = None, name: Any = None) -> Any:
    """A value as it is written into a formula: rationals and decimals as they are, other
    numbers as their decimal ``approx`` (else evaluated), symbolic values as they are (by
    ``name`` when long)."""
    if isinstance(v, (sympy.Rational, sympy.Float)):
        return v
    if v.is_number:
        return _Written(v, approx if approx is not None else sympy.Float(v.evalf(20), 20))
    if name is not None and _nodes([v], NAME_NODES) > NAME_NODES:
        return _Written(v, name)
    return v


def _written(D: _StepData, A: _StepData | None, sh: _Shape) -> _StepData:
    """The values of a step as they are written into the formulas; ``A``: their decimals."""
    def each(vals: tuple, approx: tuple | None, name: Callable[[int], Any]) -> tuple:
        return tuple(_put(v, None if approx is None else approx[n], name(n + 1)) for n, v in enumerate(vals))

    a = A if A is not None else _StepData(_State(None, None), *[None] * 7)
    return _StepData(_State(each(D.before.w, a.before.w, sh.w), _put(D.before.b, a.before.b, B)),
                     each(D.z, a.z, lambda m: sh.ex("z", m)), each(D.y, a.y, lambda m: sh.ex("y", m)),
                     each(D.s, a.s, sh.dsig), D.loss, each(D.grad_w, a.grad_w, sh.dldw),
                     _put(D.grad_b, a.grad_b, DLDB), D.after)


@functools.lru_cache(maxsize=256)
def _symbols_of(formula: Any) -> Any:
    return formula.free_symbols


def _sub(formula: Any, values: dict[Any, Any]) -> Any:
    """The formula's right-hand side with the numbers put in (only its own symbols)."""
    used = _symbols_of(formula)
    return step("", formula, {k: v for k, v in values.items() if k in used}, value=None).substituted


class _Numbers(NamedTuple):
    """One step's values as they are put into the formulas, by the templates' symbols."""

    sh: _Shape
    W: _StepData                # the step's values as written (see _written)
    X: tuple[tuple[Any, ...], ...]
    common: dict[Any, Any]      # what the summed formulas need: every y, t, σ'(z); w, b, λ, α, T

    @classmethod
    def of(cls, W: _StepData, pb: "_Problem") -> "_Numbers":
        sh = pb.shape
        common: dict[Any, Any] = {TN: sympy.Integer(sh.T), LAM: pb.lam, ALPHA: pb.lr, B: W.before.b}
        for m in range(sh.T):
            common.update({sh.ex("y", m + 1): W.y[m], sh.ex("t", m + 1): pb.t[m], sh.dsig(m + 1): W.s[m]})
        common.update({sh.w(j + 1): wj for j, wj in enumerate(W.before.w)})
        return cls(sh, W, pb.X, common)

    def example(self, m: int) -> dict[Any, Any]:
        """For a formula of example i (z, y, σ'): example m's values."""
        sh, W = self.sh, self.W
        out = {**{sh.w(j + 1): W.before.w[j] for j in range(sh.d)}, B: W.before.b, sh.ex("z", "i"): W.z[m],
               sh.ex("y", "i"): W.y[m], sh.ex("t", "i"): self.common[sh.ex("t", m + 1)]}
        out.update({sh.x("i", j + 1): self.X[m][j] for j in range(sh.d)})
        return out

    def feature(self, j: int) -> dict[Any, Any]:
        """For a formula of feature j (∂L/∂wⱼ, its update): feature j's values."""
        sh = self.sh
        out = {**self.common, sh.w("j"): self.W.before.w[j], sh.dldw("j"): self.W.grad_w[j]}
        out.update({sh.x(m + 1, "j"): self.X[m][j] for m in range(sh.T)})
        return out


def _each(title: str, formula: Any, values: Callable[[int], dict] | None, n: int, many: bool,
          value: Any, sec: str, note: str = "") -> Step:
    """A step worked for each example (or feature): one formula, one substituted line each."""
    subs = None if values is None else [_sub(formula, values(m)) for m in range(n)]
    shown = subs if subs is None or many else subs[0]
    return Step(title, formula, shown, list(value) if many else value[0], note, sec)


def _working(k: int, D: _StepData, pb: "_Problem", A: _StepData | None = None) -> list[Step]:
    """The working of step ``k`` from its computed values (all SymPy; ``A``: their decimals)."""
    sh, rule, sec = pb.shape, pb.rule, f"step {k}"
    f = _formulas(sh, rule)
    W = _written(D, A, sh)
    nb = _Numbers.of(W, pb) if sh.written else None
    one, i = sh.T == 1, "" if sh.T == 1 else "ᵢ"
    note = "" if sh.written else "the batch is too large to write out; every value is in --json"
    ex = nb.example if nb else None
    out = [_each(f"z{i} = w·x{i} + b", f.z, ex, sh.T, not one, D.z, sec, note),
           _each(f"y{i} = σ(z{i})", f.y, ex, sh.T, not one, D.y, sec),
           Step("loss L", f.loss, _sub(f.loss, nb.common) if nb else None, D.loss, note, sec)]
    if k == 1:
        out.append(_section(_sigma_derivation(), sec))
        if rule.loss == "bce":
            out.append(_section(_cross_entropy_derivation(rule.sigma_as_derivative), sec))
    if f.dsig is not None:
        out.append(_each(f"σ'(z{i}) at this step", f.dsig, ex, sh.T, not one, D.s, sec))
    chain = (f"chain rule: ∂L/∂w = {'' if one else 'Σᵢ '}∂L/∂y{i}·σ'(z{i})·∂z{i}/∂w + ∂R/∂w, with "
             f"∂z{i}/∂w = x{i} and R the penalty" if k == 1 else note)
    update = (lambda j: {sh.w("j"): W.before.w[j], ALPHA: pb.lr, sh.dldw("j"): W.grad_w[j]}) \
        if sh.d <= BOARD_MAX_ENTRIES else None
    out += [_each("∂L/∂w", f.dldw, nb.feature if nb else None, sh.d, sh.vector, D.grad_w, sec, chain),
            Step("∂L/∂b", f.dldb, _sub(f.dldb, nb.common) if nb else None, D.grad_b, "", sec),
            _each("update w", f.update_w, update, sh.d, sh.vector, D.after.w, sec),
            Step("update b", f.update_b, _sub(f.update_b, {B: W.before.b, ALPHA: pb.lr, DLDB: W.grad_b}),
                 D.after.b, "", sec)]
    return out


def _section(s: Step, sec: str) -> Step:
    return Step(s.title, s.formula, s.substituted, s.value, s.note, sec)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of sigmoid-step.

    Attributes:
        x: the input: a scalar, a vector, a matrix (rows are examples), or None (symbol x).
        t: the target: a scalar, a vector (one per example), or None (symbol t).
        w: the initial weight, a scalar or a vector.
        b, lam, lr: initial bias, L2 strength λ, learning rate α (scalars, may be symbols).
        loss: "mse" or "bce".
        half: c = ½ in the loss and penalty (False: c = 1).
        reg_bias: whether the bias is regularized too.
        steps: gradient-descent steps.
    """

    x: Any
    t: Any
    w: Any
    b: Any
    lam: Any
    lr: Any
    loss: str = "mse"
    half: bool = True
    reg_bias: bool = False
    steps: int = 1


def parse(*, x: str | None, t: str | None, w: str, b: str, lam: str, lr: str, loss: str,
          half: bool, reg_bias: bool, steps: str) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    return Inputs(
        x=None if x is None else parse_value(x, "--x", kinds=("scalar", "vector", "matrix")),
        t=None if t is None else parse_value(t, "--t", kinds=("scalar", "vector")),
        w=parse_value(w, "--w", kinds=("scalar", "vector")),
        b=parse_scalar(b, "--b"), lam=parse_scalar(lam, "--lam"), lr=parse_scalar(lr, "--lr"),
        loss=loss, half=True if half is None else half, reg_bias=reg_bias,
        steps=parse_int(steps, "--steps", lo=1, hi=MAX_STEPS))


class _Problem(NamedTuple):
    """The validated exercise: T examples (rows of X) of d features, as SymPy values."""

    inp: Inputs
    X: tuple[tuple[Any, ...], ...]
    t: tuple[Any, ...]
    w0: tuple[Any, ...]
    shape: _Shape
    rule: _Rule
    symbols: tuple[str, ...]      # the free symbols of the inputs (none: numbers only)

    @property
    def lam(self) -> Any:
        return self.inp.lam

    @property
    def lr(self) -> Any:
        return self.inp.lr

    @property
    def steps(self) -> int:
        return self.inp.steps

    @property
    def symbolic(self) -> bool:
        return bool(self.symbols)

    @property
    def shown(self) -> set[int]:
        """The steps worked in full on the board."""
        if self.steps <= BOARD_FULL_STEPS + 1:
            return set(range(1, self.steps + 1))
        return set(range(1, BOARD_FULL_STEPS + 1)) | {self.steps}

    def largest(self) -> str:
        """The option holding the input of largest magnitude (to name in an overflow error)."""
        groups = {"--x": [v for r in self.X for v in r], "--t": self.t, "--w": self.w0, "--b": [self.inp.b],
                  "--lam": [self.lam], "--lr": [self.lr]}
        best, best_mag = "--x", -1.0
        for opt, vals in groups.items():
            for v in vals:
                try:
                    mag = abs(float(v))
                except (TypeError, ValueError, OverflowError):
                    continue
                if mag > best_mag:
                    best, best_mag = opt, mag
        return best


def _problem(inp: Inputs, rule_flags: dict[str, bool]) -> _Problem:
    """Validate the inputs (each error names its option) and bound the work before any of it."""
    loss = str(inp.loss).strip().lower()
    if loss not in LOSSES:
        raise InputError("--loss", f"must be mse or bce, got {loss[:20]!r}")
    steps = inp.steps
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InputError("--steps", f"must be between 1 and {MAX_STEPS:,}, got {steps}")
    for v, opt in ((inp.b, "--b"), (inp.lam, "--lam"), (inp.lr, "--lr")):
        if isinstance(v, list):
            raise InputError(opt, "must be a single value, not a list")
    if isinstance(inp.w, list) and any(isinstance(e, list) for e in inp.w):
        raise InputError("--w", "must be a scalar or a vector, not a matrix")
    X, tl, wl, vector = _shapes(inp.x, inp.t, inp.w)
    T, d = len(X), len(wl)
    if inp.lam.is_number and inp.lam.is_negative:
        raise InputError("--lam", f"must be ≥ 0 (an L2 penalty), got {inp.lam}")
    if loss == "bce":
        for i, ti in enumerate(tl):
            if ti.is_number and (ti.is_negative or (ti - 1).is_positive):
                where = "" if T == 1 else f" (example {i + 1})"
                raise InputError("--t", f"must be in [0, 1] for --loss bce, got {ti}{where}")
    if steps * T * d > MAX_WORK:
        raise InputError("--steps", f"{steps:,} steps on {T:,} example{'s' * (T != 1)} of {d:,} "
                                    f"feature{'s' * (d != 1)} is too much work (steps · examples · "
                                    f"features at most {MAX_WORK:,})")
    values = [v for row in X for v in row] + tl + wl + [inp.b, inp.lam, inp.lr]
    names = tuple(sorted({str(s) for v in values for s in getattr(v, "free_symbols", ())}))
    if names and steps > SYMBOLIC_MAX_STEPS:
        raise InputError("--steps", f"with symbolic inputs can be at most {SYMBOLIC_MAX_STEPS} "
                                    "(the expressions grow with every step); give numbers for a long run")
    if names and T * d > SYMBOLIC_MAX_ENTRIES:
        raise InputError("--x", f"with symbolic inputs can have at most {SYMBOLIC_MAX_ENTRIES} "
                                "entries; give numbers for a large batch")
    return _Problem(inp, tuple(map(tuple, X)), tuple(tl), tuple(wl), _Shape(T, d, vector),
                    _Rule(loss, bool(inp.half), bool(inp.reg_bias), **rule_flags), names)


def _shapes(x: Any, t: Any, w: Any) -> tuple[list[list[Any]], list[Any], list[Any], bool]:
    """(X as T rows of d features, t as T targets, w as d weights, w given as a vector)."""
    vector = isinstance(w, list)
    wl = list(w) if vector else [w]
    d = len(wl)
    tl = list(t) if isinstance(t, list) else None
    if isinstance(t, list) and any(isinstance(e, list) for e in t):
        raise InputError("--t", "must be a scalar or one target per example, not a matrix")
    if x is None:
        T = len(tl) if tl is not None else 1
        if T == 1:
            X = [[symbol("x")]] if d == 1 else [[symbol(f"x_{j + 1}") for j in range(d)]]
        elif d == 1:
            X = [[symbol(f"x_{i + 1}")] for i in range(T)]
        else:
            X = [[symbol(f"x_{i + 1}_{j + 1}") for j in range(d)] for i in range(T)]
    elif not isinstance(x, list):
        if d != 1:
            raise InputError("--x", f"is one number but --w has {d} weights; give --x as a vector "
                                    f"of {d} features (or --w as one number)")
        X = [[x]]
    elif not any(isinstance(e, list) for e in x):  # a vector
        n = len(x)
        if n == d:
            X = [list(x)]
        elif d == 1 and tl is not None and len(tl) == n:
            X = [[e] for e in x]  # n examples of one feature, one target each
        else:
            hint = (f"give --w as a vector of {n} weights, or, for {n} examples of one feature, "
                    "one target each in --t (or --x as rows: 1; 2)") if d == 1 else \
                f"give --w as a vector of {n} weights"
            raise InputError("--x", f"has {n} features but --w has {d} weight{'s' * (d != 1)}; {hint}")
    else:
        X = [list(r) for r in x]
        if len(X[0]) != d:
            raise InputError("--x", f"has rows of {len(X[0])} features but --w has {d} "
                                    f"weight{'s' * (d != 1)}")
    T = len(X)
    if t is None:
        tl = [symbol("t")] if T == 1 else [symbol(f"t_{i + 1}") for i in range(T)]
    elif tl is None:
        tl = [t]
    if len(tl) != T:
        raise InputError("--t", f"has {len(tl)} target{'s' * (len(tl) != 1)} but --x has {T} "
                                f"example{'s' * (T != 1)}")
    return X, tl, wl, vector


# --------------------------------------------------------------------------- the run


def _arith(pb: _Problem, kind: str) -> _Arith:
    ops = _EXACT if kind == "exact" else _numeric_ops(kind)
    n = ops.num
    return _Arith(ops, tuple(tuple(map(n, row)) for row in pb.X), tuple(map(n, pb.t)), n(pb.rule.c),
                  n(pb.lam), n(pb.lr), pb.shape.T)


class _Run:
    """What the steps leave: the history, the working, notes, and the first and last step."""

    def __init__(self, pb: _Problem) -> None:
        self.pb = pb
        self.history: list[dict[str, Any]] = []
        self.board: list[Step] = []
        self.notes: list[str] = []
        self.first: _StepData | None = None     # the first step (SymPy values)
        self.last: _StepData | None = None
        self.approx: dict[int, _StepData] = {}  # decimals of exact steps (of the shadow run)

    def record(self, k: int, D: _StepData, ops: _Ops, S: _StepData | None = None) -> None:
        """Keep step ``k`` (``S``: the same step in mpmath, beside an exact one)."""
        pb = self.pb
        keep = k in pb.shown or k in (1, pb.steps)
        shown = (D.map(_tidy) if pb.symbolic else D) if ops.exact else (D.map(ops.out) if keep else None)
        if S is not None and keep:
            self.approx[k] = S.map(_numeric_ops("mpmath").out)
        if k == 1:
            self.first = shown
        if k == pb.steps:
            self.last = shown
        # the history of a numeric run holds machine numbers: cheap to keep and print
        self.history.append(_record(k, shown if ops.exact else D, _same if ops.exact else float,
                                    pb.shape.vector))
        if k in pb.shown:
            self.board.extend(_working(k, shown, pb, self.approx.get(k)))
        elif k == BOARD_FULL_STEPS + 1:
            self.board.append(Step(f"steps {k}–{pb.steps - 1}", section=f"steps {k}–{pb.steps - 1}",
                                   note="worked the same way; every step is in the history (and in --json)"))


def _record(k: int, D: _StepData, f: Callable[[Any], Any], vector: bool) -> dict[str, Any]:
    return {"step": k, "loss": f(D.loss), "grad_w": _lst([f(g) for g in D.grad_w], vector),
            "grad_b": f(D.grad_b), "w": _lst([f(v) for v in D.after.w], vector), "b": f(D.after.b)}


def _lst(values: Any, vector: bool) -> Any:
    return list(values) if vector else values[0]


def _run(pb: _Problem) -> _Run:
    """Every step: exact while that stays cheap and reliable, then numerically."""
    run, (T, d), steps = _Run(pb), (pb.shape.T, pb.shape.d), pb.steps
    a = _arith(pb, "exact") if pb.symbolic or T * d <= EXACT_MAX_ENTRIES else None
    # beside exact numbers, a shadow run in mpmath: the decimals of the working, cheaply
    shadow = _arith(pb, "mpmath") if a is not None and not pb.symbolic else None
    why, st = "batch", _State(pb.w0, pb.inp.b)
    sst = st.map(shadow.ops.num) if shadow is not None else None
    for k in progress(range(1, steps + 1), steps, "gradient steps"):
        S = _advance(shadow, sst, pb.rule, _z(shadow, sst)) if shadow is not None else None
        if S is not None and any(abs(zi) > Z_EXACT_MAX for zi in S.z):
            a = shadow = S = None  # e^(−|z|) is too small for exact forms to evaluate reliably
            why = "big z"
        if a is None:
            a = _arith(pb, "mpmath" if (steps - k + 1) * T * d <= MPMATH_WORK else "float")
            st = st.map(a.ops.num)
            run.notes.append(_numeric_note(a.ops.kind, k, pb, why))
        D = _exact_step(a, st, pb, k, _z(a, st)) if a.ops.exact else _numeric_step(a, st, pb, k)
        run.record(k, D, a.ops, S)
        st, sst = D.after, (S.after if S is not None else None)
        if a.ops.exact and not pb.symbolic and k < steps and _nodes(st.w + (st.b,), EXACT_MAX_NODES) > EXACT_MAX_NODES:
            a, shadow, why = None, None, "grow"  # the exact forms have grown long: go on numerically
    return run


def _exact_step(a: _Arith, st: _State, pb: _Problem, k: int, z: list[Any]) -> _StepData:
    D = _advance(a, st, pb.rule, z)
    if pb.symbolic and _nodes(D.after.w + (D.after.b, D.loss, D.grad_b) + D.grad_w,
                              SYMBOLIC_MAX_NODES) > SYMBOLIC_MAX_NODES:
        most = f"at most {k - 1}" if k > 1 else "fewer features or examples"
        raise InputError("--steps", f"with symbolic inputs: the expressions of step {k} have more than "
                                    f"{SYMBOLIC_MAX_NODES:,} terms (they grow with every step); ask for "
                                    f"{most}, or give numbers")
    return D


def _numeric_step(a: _Arith, st: _State, pb: _Problem, k: int) -> _StepData:
    try:
        D = _advance(a, st, pb.rule, _z(a, st))
        finite = all(a.ops.finite(v) for v in D.after.w + D.grad_w + (D.after.b, D.grad_b, D.loss))
    except (OverflowError, ZeroDivisionError):
        finite = False
    if not finite:
        raise InputError(pb.largest(), f"makes the numbers overflow at step {k} (beyond ±1.7e308)")
    return D


def _numeric_note(kind: str, k: int, pb: _Problem, why: str) -> str:
    steps, T, d = pb.steps, pb.shape.T, pb.shape.d
    how = ("mpmath, 30 significant digits" if kind == "mpmath"
           else "IEEE double with stable formulas and compensated sums")
    which = f"steps {k}–{steps}" if k < steps else f"step {k}"
    if k == 1:
        which = "every step" if steps > 1 else "the step"
    reason = {"big z": f"|z| exceeds {Z_EXACT_MAX}, where e^(−|z|) is too small for exact forms to evaluate "
                       "reliably",
              "batch": f"a batch of {T}×{d} values is too large for exact forms",
              "grow": "the exact forms grow with every step"}[why]
    done = "" if k == 1 else (f"; steps 1–{k - 1} exact" if k > 2 else "; step 1 exact")
    tail = ". The history of numeric steps holds double-precision numbers" if steps > 1 else ""
    return f"{which} computed numerically ({how}){done}: {reason}{tail}"


def _check_finite(vals: list[Any], pb: _Problem) -> None:
    """Every numeric answer must be a finite double (JSON numbers are doubles)."""
    for v in vals:
        try:
            f = float(v)
            ok = math.isfinite(f) and abs(f) <= 1.7e308
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InputError(pb.largest(), "makes the numbers overflow double precision (beyond ±1.7e308)")


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, sigma_as_derivative: bool = False, ascent: bool = False) -> Solution:
    """Gradient-descent ``steps`` of one sigmoid neuron (see the module docstring).

    ``x``: a scalar, a vector (one example, or with a scalar ``w`` and one target per entry
    of ``t``, that many one-feature examples), a matrix (rows are examples), or ``None``
    (the symbol x).  Any value may be symbolic.  ``sigma_as_derivative`` and ``ascent`` are
    the two mistakes of :data:`MISTAKES` that no convention flag expresses.
    """
    pb = _problem(inp, {"sigma_as_derivative": sigma_as_derivative, "ascent": ascent})
    run = _run(pb)
    first, last, vector = run.first, run.last, pb.shape.vector
    assert first is not None and last is not None
    if not pb.symbolic:  # (exact values by their decimals: evaluating them again costs)
        f, g = run.approx.get(1, first), run.approx.get(pb.steps, last)
        _check_finite([f.loss, f.grad_b, g.after.b, *f.grad_w, *g.after.w], pb)
    notes = run.notes + (["symbolic: the answer is an expression in " + ", ".join(pb.symbols)]
                         if pb.symbolic else [])
    result = {"w": _lst(last.after.w, vector), "b": last.after.b, "loss": first.loss,
              "grad_w": _lst(first.grad_w, vector), "grad_b": first.grad_b, "history": run.history}
    n = pb.steps
    labels = {} if n == 1 else {"w": f"after step {n}", "b": f"after step {n}",
                                **{k: "at step 1, before its update" for k in ("loss", "grad_w", "grad_b")}}
    return Solution(command="sigmoid-step", inputs=_inputs(pb), conventions=_conventions(pb), steps=tuple(run.board),
                    result=result, notes=tuple(notes), labels=labels)


def _inputs(pb: _Problem) -> dict[str, Any]:
    inp, X, T, d = pb.inp, pb.X, pb.shape.T, pb.shape.d
    x = inp.x if inp.x is not None else (X[0][0] if T * d == 1 else [r[0] for r in X] if d == 1 and T > 1
                                         else list(X[0]) if T == 1 else [list(r) for r in X])
    return {"x": x, "t": inp.t if inp.t is not None else (pb.t[0] if T == 1 else list(pb.t)),
            "w": inp.w, "b": inp.b, "lam": inp.lam, "lr": inp.lr, "loss": pb.rule.loss, "steps": inp.steps}


def _conventions(pb: _Problem) -> dict[str, str]:
    T, rule, steps = pb.shape.T, pb.rule, pb.steps
    return {
        "model": "z = w·x + b, y = σ(z) = 1/(1 + e^(−z))" + (f", T = {T} examples" if T > 1 else ", one example"),
        "loss": ("squared error, L = (c/T) Σᵢ (yᵢ − tᵢ)² + (c·λ/T)·‖w‖²" if rule.loss == "mse" else
                 "cross-entropy, L = −(1/T) Σᵢ [tᵢ log yᵢ + (1 − tᵢ) log(1 − yᵢ)] + (c·λ/T)·‖w‖²"),
        "c": "½ (--half; --no-half for c = 1)" if rule.half else "1 (--no-half; the default --half is c = ½)",
        "penalty": "‖w‖² + b²: the bias is regularized (--reg-bias)" if rule.reg_bias else
                   "‖w‖² only: the bias is not regularized (--reg-bias to include b²)",
        "update": "w ← w − α·∂L/∂w, b ← b − α·∂L/∂b" + (f", {steps} steps, each from the weights the "
                                                        "previous step left" if steps > 1 else ""),
    }


# --------------------------------------------------------------------------- --check


def _flip_half(on: bool) -> Callable[[Any], Any]:
    return lambda kw: {"half": not on} if kw.get("half", True) == on else None


#: common mistakes, as variants of the exercise (see dlcalc.check)
MISTAKES = (
    Mistake("forgot the ½ in the loss (c = 1 instead of ½)", _flip_half(True)),
    Mistake("added a ½ the loss does not have (c = ½ instead of 1)", _flip_half(False)),
    Mistake("regularized the bias too (‖w‖² + b²)",
            lambda kw: None if kw.get("reg_bias") else {"reg_bias": True}),
    Mistake("left the bias out of the regularizer",
            lambda kw: {"reg_bias": False} if kw.get("reg_bias") else None),
    Mistake("forgot the regularizer (λ = 0)",
            lambda kw: None if kw["lam"] == 0 else {"lam": sympy.Integer(0)}),
    Mistake("used σ(z) instead of σ(z)(1 − σ(z)) as the derivative σ'(z)",
            {"sigma_as_derivative": True}),
    Mistake("used the wrong sign in the update (w + α·∂L/∂w)", {"ascent": True}),
)


# --------------------------------------------------------------------------- --plot


def plot(solution: Solution, fig: Any) -> None:
    """The loss (before each update) against the step."""
    def fl(x: Any) -> float:
        try:
            f = float(x)
        except (TypeError, ValueError):
            raise InputError("--plot", "needs numbers, but the loss is symbolic") from None
        if not math.isfinite(f):
            raise InputError("--plot", f"needs finite numbers, but the loss is {f}")
        return f

    history = solution.result["history"]
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([h["step"] for h in history], [fl(h["loss"]) for h in history], "o-")
    ax.set_xlabel("step")
    ax.set_ylabel("loss before the update")
    ax.set_title("sigmoid neuron: loss against step")
