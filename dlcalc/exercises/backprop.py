"""backprop: a small fully connected network, forward and backward by the chain rule, and the update.

The model (PyTorch's ``nn.Linear`` layers; stated in the conventions of every answer)::

    a⁽⁰⁾ = x,   z⁽ˡ⁾ = W⁽ˡ⁾·a⁽ˡ⁻¹⁾ + b⁽ˡ⁾,   a⁽ˡ⁾ = f_l(z⁽ˡ⁾),   l = 1…L
    W⁽ˡ⁾ is out × in (``Linear.weight``); b⁽ˡ⁾ a vector, or one scalar shared by the layer's units
    mse:  L = (c/N) Σ_n Σ_k (t_nk − a_nk)²,  c = ½ (--half) or 1 (--no-half)
    bce:  L = −(1/N) Σ_n Σ_k [t_nk log a_nk + (1 − t_nk) log(1 − a_nk)]
    ce:   L = −(1/N) Σ_n Σ_k t_nk log a_nk          (softmax output)
    δ⁽ᴸ⁾ = ∂L/∂z⁽ᴸ⁾;  δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾)
    ∂L/∂W⁽ˡ⁾ = Σ_n δ⁽ˡ⁾_n a⁽ˡ⁻¹⁾_nᵀ,  ∂L/∂b⁽ˡ⁾ = Σ_n δ⁽ˡ⁾_n (and Σ over the units for a shared bias)
    W ← W − η ∂L/∂W,  b ← b − η ∂L/∂b   (every gradient from the weights before the update)

δ is PyTorch's ``z.grad`` for the mean loss (the 1/N is inside it).

Arithmetic (every choice is stated in the solution's notes):

* symbolic inputs: SymPy, σ kept as :class:`dlcalc.board.sigmoid`; bounded in size and steps;
* numbers through piecewise-linear layers (linear, ReLU, leaky ReLU) with mse: exact rationals
  while the numbers stay short;
* otherwise (σ, tanh, softmax, logs are irrational; long exact runs): mpmath with 30
  significant digits, or IEEE double for runs too long for mpmath.

One engine (:func:`_step`) computes a step on any of the three arithmetics; the board
(:class:`_Board`) writes the first step's working from its values.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from dlcalc.board import (OAdd, Sigma, Written, WrittenDifference, WrittenFraction, WrittenNegation, WrittenProduct,
                          WrittenSquare, WrittenSum, assign, bracketed, eq, hadamard, ordered_product, put_in, sigmoid,
                          step, transposed, written)
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_sympy, progress, said
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, parse_value_fast
from dlcalc.registry import LIST, SWITCH, Command, Option

COMMAND = Command(
    name="backprop",
    summary="A small network forward and backward by the chain rule (every δ and gradient), and the update.",
    example=("dlcalc backprop --x 0.05,0.10 --t 0.01,0.99 --W '[[0.15,0.20],[0.25,0.30]]' --b 0.35 "
             "--W '[[0.40,0.45],[0.50,0.55]]' --b 0.60 --lr 0.5"),
    description=("Layers in order: one --W (out × in, as PyTorch's Linear.weight) and one --b per layer. "
                 "δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾ (PyTorch's z.grad); result lists are indexed by layer, 0 first."),
    options=(
        Option("--x", "Input: a vector (one example) or a matrix whose rows are examples (\"1 2; 0.5 -1\").",
               required=True),
        Option("--t", "Targets: a scalar, a vector (one example's outputs, or one target per example for one "
                      "output), or one row per example.", required=True),
        Option("--W", "A layer's weights, out × in (z = W·a + b); repeat for each layer, in order. "
                      "A vector is one row (one unit).", kind=LIST, required=True),
        Option("--b", "A layer's bias: a vector, or a scalar shared by the layer's units; repeat once per "
                      "--W. Left out: all biases 0.", kind=LIST),
        Option("--act", "Activation, once for all layers or once per layer: sigmoid, tanh, relu, "
                        "leaky-relu, linear, softmax (output layer only). Default sigmoid.", kind=LIST),
        Option("--loss", "mse (squared error), bce (binary cross-entropy) or ce (cross-entropy, softmax output).",
               default="mse"),
        Option("--half", "mse: c = ½ in L = c·Σ_k (t_k − a_k)² (default); --no-half: c = 1.", kind=SWITCH,
               off="--no-half", show_default=False),
        Option("--lr", "Learning rate η.", default="0.1", aliases=("--eta",)),
        Option("--steps", "Gradient-descent steps (1-10,000).", default="1"),
        Option("--slope", "Negative slope of leaky-relu (PyTorch's default 0.01).", show_default=False),
    ),
)

ACTS = ("sigmoid", "tanh", "relu", "leaky-relu", "linear", "softmax")
_ACT_ALIASES = {"leaky_relu": "leaky-relu", "leakyrelu": "leaky-relu", "lrelu": "leaky-relu",
                "identity": "linear", "none": "linear", "logistic": "sigmoid"}
LOSSES = ("mse", "bce", "ce")
#: activations whose values stay rational on rational inputs
_PIECEWISE_LINEAR = ("linear", "relu", "leaky-relu")

MAX_LAYERS = 10
MAX_UNITS = 1_000            # units (or inputs) of one layer
MAX_WEIGHTS = 20_000         # weights of the whole network
MAX_EXAMPLES = 10_000
MAX_STEP_WORK = 200_000      # examples · weights of one step
MAX_WORK = 1_000_000         # steps · examples · weights of a run (IEEE double beyond MP_WORK)
MAX_STEPS = 10_000
MP_DPS = 30
HYBRID_WORK = 200            # steps · examples · weights run in SymPy numbers (exact, else 30 digits)
MP_WORK = 2_000              # ... with mpmath (30 digits); IEEE double beyond
EXACT_MAX_BITS = 256         # an exact run goes on numerically once a number outgrows this
SYM_MAX_WEIGHTS = 24         # symbolic inputs: weights, examples, steps, size of any answer
SYM_MAX_EXAMPLES = 4
SYM_MAX_STEPS = 3
SYM_MAX_NODES = 6_000
#: the chain of each weight (and per-unit working) is written for layers up to this many weights
CHAIN_MAX_WEIGHTS = 12
#: per-example values (z, a, f′, δ of a layer) are written on the board up to this many
BOARD_MAX_VALUES = 240
#: the numbers of the loss are written into its formula up to this many terms
LOSS_MAX_TERMS = 12
TINY = "1e-1000"


# --------------------------------------------------------------------------- display
# Formulas keep the order a teacher writes them in: SymPy's Add and Mul would reorder
# (−a + t, a·δ).  They are the board's written arithmetic (these nodes only print; doit()
# is the ordinary SymPy value), under short names; backprop brackets a later term or factor
# of a sum's or a product's own precedence (a + (−b), a·(b·c)), the board's strict_right.


class _Sum(WrittenSum):
    """a + b + c, in this order; a + (b + c), a + (−b)."""

    strict_right = True


class _Prod(WrittenProduct):
    """a·b·c, in this order (the text printer turns * into ·); a·(b·c)."""

    strict_right = True


_Diff, _Neg, _Frac, _Sq = WrittenDifference, WrittenNegation, WrittenFraction, WrittenSquare


def _call(p: Any, node: Any, text: str, tex: str) -> str:
    """name(arg): a number shown as the whole argument needs no parentheses of its own."""
    latex = isinstance(p, LatexPrinter)

    def body(e: Any) -> str:
        arg = p._print(e.args[0])
        return tex + r"\left(" + arg + r"\right)" if latex else f"{text}({arg})"

    bare = getattr(p, "_bare_args", None)
    return bare(node, body) if bare is not None else body(node)


class _Sig(Written):
    """σ(z) in a formula (the value is :class:`dlcalc.board.sigmoid`)."""

    precedence = PRECEDENCE["Atom"]

    def _combine(self, args: list[Any]) -> Any:
        return sigmoid(args[0])

    def _sympystr(self, p: Any) -> str:
        return _call(p, self, "σ", r"\sigma")

    def _latex(self, p: Any) -> str:
        return _call(p, self, "σ", r"\sigma")


class _ReLU(Written):
    precedence = PRECEDENCE["Atom"]

    def _combine(self, args: list[Any]) -> Any:
        return sympy.Max(0, args[0])

    def _sympystr(self, p: Any) -> str:
        return _call(p, self, "ReLU", r"\operatorname{ReLU}")

    def _latex(self, p: Any) -> str:
        return _call(p, self, "ReLU", r"\operatorname{ReLU}")


class _Leaky(Written):
    """LeakyReLU(z) with slope s: z for z > 0, else s·z."""

    precedence = PRECEDENCE["Atom"]

    def _combine(self, args: list[Any]) -> Any:
        z, s = args
        return sympy.Max(0, z) + s * sympy.Min(0, z)

    def _sympystr(self, p: Any) -> str:
        return _call(p, _Leaky1(self.args[0]), "LeakyReLU", r"\operatorname{LeakyReLU}")

    def _latex(self, p: Any) -> str:
        return _call(p, _Leaky1(self.args[0]), "LeakyReLU", r"\operatorname{LeakyReLU}")


class _Leaky1(Written):
    """LeakyReLU's printed argument alone (the slope is not shown)."""


class _Apply(Written):
    """f(z) of a layer's activation, by name (``_Apply(z, "tanh")``), in a formula that only prints."""

    precedence = PRECEDENCE["Atom"]

    def __new__(cls, z: Any, act: str) -> "_Apply":
        from sympy.core.symbol import Str

        return sympy.Expr.__new__(cls, as_sympy(z), Str(act))

    def _sympystr(self, p: Any) -> str:
        return _call(p, self, *_FNAME[self.args[1].name])

    _latex = _sympystr


class _Var(sympy.Symbol):
    """A symbol of a formula with its own text and LaTeX (∂L/∂a⁽²⁾₁, σ′(z⁽²⁾₁))."""

    def __new__(cls, text: str, tex: str) -> "_Var":
        obj = super().__new__(cls, text)
        obj._tex = tex
        return obj

    def __getnewargs_ex__(self):  # pragma: no cover - pickling is not used
        return ((self.name, self._tex), {})

    def _sympystr(self, p: Any) -> str:
        return self.name

    def _latex(self, p: Any) -> str:
        return self._tex


_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(*idx: int) -> tuple[str, str]:
    """Subscript text and LaTeX of indices (1-based): ₁₂ / {12}, or ₁,₁₂ / {1,12}."""
    parts = [str(i) for i in idx]
    sep = "," if any(i >= 10 for i in idx) else ""
    return sep.join(p.translate(_SUBS) for p in parts), sep.join(parts)


def _sup(layer: int) -> tuple[str, str]:
    return f"⁽{str(layer).translate(_SUP)}⁾", f"^{{({layer})}}"


def _v(base: str, tex_base: str, layer: int | None, *idx: int) -> _Var:
    s_t, s_l = _sup(layer) if layer is not None else ("", "")
    i_t, i_l = _sub(*idx) if idx else ("", "")
    return _Var(base + s_t + i_t, tex_base + s_l + (f"_{{{i_l}}}" if idx else ""))


def _a(layer: int, j: int) -> _Var:
    return _v("x", "x", None, j) if layer == 0 else _v("a", "a", layer, j)


def _z(layer: int, j: int) -> _Var:
    return _v("z", "z", layer, j)


def _w(layer: int, j: int, i: int) -> _Var:
    return _v("W", "W", layer, j, i)


def _b(layer: int, j: int | None) -> _Var:
    return _v("b", "b", layer) if j is None else _v("b", "b", layer, j)


def _t(k: int) -> _Var:
    return _v("t", "t", None, k)


def _delta(layer: int, j: int) -> _Var:
    return _v("δ", r"\delta", layer, j)


def _partial(num: _Var | str, den: _Var) -> _Var:
    """∂num/∂den as one symbol."""
    nt, nl = (num, num) if isinstance(num, str) else (num.name, num._tex)
    return _Var(f"∂{nt}/∂{den.name}", rf"\frac{{\partial {nl}}}{{\partial {den._tex}}}")


_FNAME = {"sigmoid": ("σ", r"\sigma"), "tanh": ("tanh", r"\tanh"), "relu": ("ReLU", r"\operatorname{ReLU}"),
          "leaky-relu": ("LeakyReLU", r"\operatorname{LeakyReLU}"), "linear": ("f", "f"),
          "softmax": ("softmax", r"\operatorname{softmax}")}


_INDEX = str.maketrans("njk", "ₙⱼₖ")


def _vec(base: str, tex_base: str, layer: int | None, index: str = "") -> _Var:
    """A layer's vector (or matrix) as one symbol, with letter indices: δ⁽²⁾ₙⱼ / ``\\delta^{(2)}_{nj}``."""
    v = _v(base, tex_base, layer)
    return _Var(v.name + index.translate(_INDEX), v._tex + (f"_{{{index}}}" if index else ""))


def _worded(formula: Any, text: str, latex: str = "") -> Math:
    """A template followed by words (", one row per example n"): the formula written once."""
    w = written(formula)
    return Math(w.text + text, w.latex + latex)


def _fprime(act: str, z: _Var) -> _Var:
    t, l = _FNAME[act]
    return _Var(f"{t}′({z.name})", rf"{l}'\left({z._tex}\right)")


def _loss_term(loss: str, t: Any, a: Any) -> Any:
    """One output's term of the loss, for any t and a (the symbols of a formula, or of a template)."""
    if loss == "mse":
        return _Sq(_Diff(t, a))
    if loss == "bce":
        return _Sum(_Prod(t, sympy.log(a)), _Prod(_Diff(1, t), sympy.log(_Diff(1, a))))
    return _Prod(t, sympy.log(a))


def _dl_da_formula(loss: str, k: Any, a: Any, t: Any) -> Any:
    """∂L/∂a of one output (a unit's, or a layer's vector): k·(a − t) for mse (k = 2c, or 2c/N
    for the mean), −t/a + (1 − t)/(1 − a) for bce, −t/a for ce."""
    if loss == "mse":
        return _coef(k, _Diff(a, t))
    if loss == "bce":
        return _Sum(_Neg(_Frac(t, a)), _Frac(_Diff(1, t), _Diff(1, a)))
    return _Neg(_Frac(t, a))


def _softmax_delta(a_j: Any, g_j: Any, total: Any) -> Any:
    """δⱼ through the softmax's Jacobian, aⱼ·(∂L/∂aⱼ − Σₖ aₖ·∂L/∂aₖ), with the sum written
    ``total`` (out term by term for a unit, as Σₖ for a layer)."""
    return _Prod(a_j, _Diff(g_j, total))


#: the symbols of the templates below (they never print: only their numbers do)
_T, _A = (_Var(n, n) for n in ("t", "a"))
_ETA = _Var("η", r"\eta")


def _update(p: _Var) -> Any:
    """One gradient-descent update of the parameter ``p`` (a layer's W or b), p ← p − η·∂L/∂p:
    the formula of the step, and (:func:`_updated`) of each of its numbers."""
    return assign(p, _Diff(p, _Prod(_ETA, _partial("L", p))))


def _updated(update: Any, v: Any, eta: Any, g: Any) -> Any:
    """The ``update`` of one weight or bias with its numbers put in (v − η·g)."""
    p = update.lhs
    return put_in(update.rhs, {p: v, _ETA: eta, _partial("L", p): g})


def _coef(k: Any, body: Any) -> Any:
    return body if k == 1 else _Prod(k, body)


def _sum(terms: list[Any]) -> Any:
    return terms[0] if len(terms) == 1 else _Sum(*terms)


# --------------------------------------------------------------------------- arithmetic


class _Unknown(Exception):
    """The sign of a symbolic z is needed (ReLU) but unknown."""

    def __init__(self, z: Any) -> None:
        super().__init__(str(z))
        self.z = z


class _SymOps:
    """SymPy: exact numbers and symbols; σ stays σ(·) in symbolic answers."""

    kind = "exact"

    def __init__(self) -> None:
        self.zero, self.one = sympy.Integer(0), sympy.Integer(1)

    def num(self, v: Any) -> Any:
        return v

    def out(self, v: Any) -> Any:
        return v

    def fsum(self, xs: list[Any]) -> Any:
        return sympy.Add(*xs)

    def exp(self, v: Any) -> Any:
        return sympy.exp(v)

    def log(self, v: Any) -> Any:
        return sympy.log(v)

    def sigmoid(self, z: Any) -> Any:
        return sigmoid(z)

    def tanh(self, z: Any) -> Any:
        return sympy.tanh(z)

    def sig_prime(self, z: Any, a: Any) -> Any:
        return a * (1 - a)

    def positive(self, z: Any) -> bool:
        if z.is_positive:
            return True
        if z.is_nonpositive:
            return False
        if z.is_number:
            return bool(sympy.N(z, 30) > 0)
        raise _Unknown(z)

    def residual(self, a: Any, t: Any, z: Any) -> Any:
        return a - t

    def softmax(self, row: list[Any]) -> tuple[list[Any], list[Any]]:
        e = [sympy.exp(v) for v in row]
        s = sympy.Add(*e)
        return [v / s for v in e], [1 - v / s for v in e]

    def bce_terms(self, a: Any, om: Any, t: Any, z: Any, act: str) -> Any:
        return -(t * sympy.log(a) + (1 - t) * sympy.log(om))

    def ce_term(self, a: Any, t: Any, zrow: list[Any], k: int) -> Any:
        return -t * sympy.log(a)


class _HybridOps(_SymOps):
    """SymPy values: exact rationals through + − · /, 30 significant digits (sympy.Float, by
    mpmath) from the first irrational function of a number on (σ, tanh, exp, log); a symbolic
    argument stays symbolic (σ(z) as :class:`dlcalc.board.sigmoid`)."""

    kind = "hybrid"

    def __init__(self) -> None:
        super().__init__()
        import mpmath

        self.ctx = mpmath.MPContext()
        self.ctx.dps = MP_DPS

    def num(self, v: Any) -> Any:
        return v if v.is_Rational or not v.is_number else sympy.Float(v.evalf(MP_DPS + 5), MP_DPS)

    def _mp(self, v: Any) -> Any:
        if isinstance(v, sympy.Rational):
            return self.ctx.mpf(int(v.p)) / int(v.q)
        return self.ctx.mpf(sympy.Float(v, MP_DPS)._mpf_)

    def _f(self, v: Any) -> Any:
        return sympy.Float(v, MP_DPS)

    def exp(self, v: Any) -> Any:
        if not v.is_number:
            return sympy.exp(v)
        return self._f(self.ctx.exp(self._mp(v))) if v != 0 else self.one

    def log(self, v: Any) -> Any:
        if not v.is_number:
            return sympy.log(v)
        return self._f(self.ctx.log(self._mp(v))) if v != 1 else self.zero

    def sigmoid(self, z: Any) -> Any:
        if not z.is_number:
            return sigmoid(z)
        if z == 0:
            return sympy.Rational(1, 2)
        m = self._mp(z)
        return self._f(1 / (1 + self.ctx.exp(-m)) if m >= 0 else self.ctx.exp(m) / (1 + self.ctx.exp(m)))

    def tanh(self, z: Any) -> Any:
        if not z.is_number:
            return sympy.tanh(z)
        return self._f(self.ctx.tanh(self._mp(z))) if z != 0 else self.zero

    def sig_prime(self, z: Any, a: Any) -> Any:
        if not z.is_number:
            return a * (1 - a)
        return a * self.sigmoid(-z)  # σ(z)·σ(−z) = σ(z)(1 − σ(z)), without cancellation

    def positive(self, z: Any) -> bool:
        if z.is_number:
            return bool(z > 0)
        return super().positive(z)

    def residual(self, a: Any, t: Any, z: Any) -> Any:
        if z.is_number and t.is_number and z > 0:
            return (1 - t) - self.sigmoid(-z)  # no cancellation when a ≈ t = 1
        return a - t

    def softmax(self, row: list[Any]) -> tuple[list[Any], list[Any]]:
        if not all(v.is_number for v in row):
            return super().softmax(row)
        m = max(row, key=lambda v: self._mp(v))
        e = [self.exp(v - m) for v in row]
        s = sympy.Add(*e)
        return [v / s for v in e], [sympy.Add(*(e[:k] + e[k + 1:])) / s for k in range(len(e))]

    def softplus(self, u: Any) -> Any:
        m = self._mp(u)
        return self._f(m + self.ctx.log1p(self.ctx.exp(-m)) if m > 0 else self.ctx.log1p(self.ctx.exp(m)))

    def bce_terms(self, a: Any, om: Any, t: Any, z: Any, act: str) -> Any:
        if act == "sigmoid" and z.is_number:  # −[t log σ(z) + (1 − t) log σ(−z)]
            return t * self.softplus(-z) + (1 - t) * self.softplus(z)
        return -(t * self.log(a) + (1 - t) * self.log(om))

    def ce_term(self, a: Any, t: Any, zrow: list[Any], k: int) -> Any:
        if not all(v.is_number for v in zrow):
            return -t * self.log(a)
        m = max(self._mp(v) for v in zrow)
        lse = m + self.ctx.log(self.ctx.fsum([self.ctx.exp(self._mp(v) - m) for v in zrow]))
        return -t * (zrow[k] - self._f(lse))

    def finite(self, v: Any) -> bool:
        return v.is_finite is not False and abs(float(v)) < 1.7e308 if v.is_number else True


class _NumOps:
    """mpmath with 30 significant digits, or IEEE double (stable formulas, compensated sums)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "mpmath":
            import mpmath

            self.ctx = mpmath.MPContext()
            self.ctx.dps = MP_DPS
            self.zero, self.one = self.ctx.mpf(0), self.ctx.mpf(1)
            self._exp, self._log, self._log1p, self.fsum = self.ctx.exp, self.ctx.log, self.ctx.log1p, self.ctx.fsum
            self._tanh = self.ctx.tanh
            self.tiny = self.ctx.mpf(TINY)
        else:
            self.zero, self.one = 0.0, 1.0
            self._exp, self._log, self._log1p, self.fsum = math.exp, math.log, math.log1p, math.fsum
            self._tanh = math.tanh

    def num(self, v: Any) -> Any:
        if self.kind == "mpmath":
            if isinstance(v, sympy.Rational):
                return self.ctx.mpf(int(v.p)) / int(v.q)
            return self.ctx.mpf(sympy.Float(v.evalf(MP_DPS + 10), MP_DPS + 10)._mpf_)
        if isinstance(v, (int, float)):
            return float(v)
        return float(v)

    def out(self, v: Any) -> Any:
        if self.kind == "mpmath":
            return sympy.Float(v if abs(v) >= self.tiny else self.zero, MP_DPS)
        return v  # a machine number stays one (cheap to keep, print and write as JSON)

    def exp(self, v: Any) -> Any:
        return self._exp(v)

    def log(self, v: Any) -> Any:
        return self._log(v)

    def sigmoid(self, z: Any) -> Any:
        if z >= 0:
            return 1 / (1 + self._exp(-z))
        e = self._exp(z)
        return e / (1 + e)

    def tanh(self, z: Any) -> Any:
        return self._tanh(z)

    def sig_prime(self, z: Any, a: Any) -> Any:
        return a * self.sigmoid(-z)  # σ(z)·σ(−z) = σ(z)(1 − σ(z)), without cancellation

    def positive(self, z: Any) -> bool:
        return z > 0

    def softplus(self, u: Any) -> Any:
        """log(1 + e^u) without overflow."""
        if u > 0:
            return u + self._log1p(self._exp(-u))
        return self._log1p(self._exp(u))

    def residual(self, a: Any, t: Any, z: Any) -> Any:
        """σ(z) − t; for z > 0 as (1 − t) − σ(−z), which does not cancel when a ≈ t = 1."""
        return ((1 - t) - self.sigmoid(-z)) if z > 0 else a - t

    def softmax(self, row: list[Any]) -> tuple[list[Any], list[Any]]:
        m = max(row)
        e = [self._exp(v - m) for v in row]
        s = self.fsum(e)
        rest = [self.fsum(e[:k] + e[k + 1:]) / s for k in range(len(e))]  # 1 − a_k, without cancellation
        return [v / s for v in e], rest

    def bce_terms(self, a: Any, om: Any, t: Any, z: Any, act: str) -> Any:
        if act == "sigmoid":  # −[t log σ(z) + (1 − t) log σ(−z)]
            return t * self.softplus(-z) + (1 - t) * self.softplus(z)
        return -(t * self._log(a) + (1 - t) * self._log(om))

    def ce_term(self, a: Any, t: Any, zrow: list[Any], k: int) -> Any:
        m = max(zrow)
        lse = m + self._log(self.fsum([self._exp(v - m) for v in zrow]))
        return -t * (zrow[k] - lse)

    def finite(self, v: Any) -> bool:
        if self.kind == "mpmath":
            return bool(self.ctx.isfinite(v)) and abs(v) < 1.7e308
        return math.isfinite(v)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of backprop.

    Attributes:
        x: the examples, one row each (N × d); ``x_vector`` when one example was given as a vector.
        t: the targets, one row per example (N × K).
        W: the layers' weights, each out × in (rows are units), layer 1 first.
        b: the layers' biases: a tuple (one per unit), or one value shared by the layer's units.
        shared: per layer, whether its bias is one shared scalar.
        act: per layer, the activation (one of :data:`ACTS`).
        loss: "mse", "bce" or "ce".
        half: mse: c = ½ (False: c = 1).
        lr: the learning rate η.
        steps: gradient-descent steps.
        slope: the negative slope of leaky-relu.
        given_b: whether biases were given (else all zero).
    """

    x: tuple[tuple[Any, ...], ...]
    t: tuple[tuple[Any, ...], ...]
    W: tuple[tuple[tuple[Any, ...], ...], ...]
    b: tuple[Any, ...]
    shared: tuple[bool, ...]
    act: tuple[str, ...]
    loss: str = "mse"
    half: bool = True
    lr: Any = sympy.Rational(1, 10)
    steps: int = 1
    slope: Any = sympy.Rational(1, 100)
    x_vector: bool = True
    t_shape: str = "vector"
    given_b: bool = True


def _read(text: str, option: str, kinds: tuple[str, ...] = ("scalar", "vector", "matrix")) -> Any:
    """parse_value, fast for big batches of plain numbers (read exactly, as SymPy rationals)."""
    from fractions import Fraction

    v = parse_value_fast(text, option, kinds=kinds)

    def conv(e: Any) -> Any:
        if isinstance(e, list):
            return [conv(x) for x in e]
        return sympy.Rational(e.numerator, e.denominator) if isinstance(e, Fraction) else e

    return conv(v)


def _nth(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _weights(text: str) -> tuple[tuple[Any, ...], ...]:
    v = _read(text, "--W")
    if not isinstance(v, list):
        v = [[v]]
    elif not any(isinstance(e, list) for e in v):
        v = [v]
    return tuple(tuple(r) for r in v)


def _which(k: int, many: bool) -> str:
    return f" (the {_nth(k + 1)})" if many else ""


def _act_name(text: str) -> str:
    name = text.strip().lower()
    name = _ACT_ALIASES.get(name, name)
    if name not in ACTS:
        raise InputError("--act", f"must be one of {', '.join(ACTS)}, got {text.strip()[:30]!r}")
    return name


def parse(*, x: str, t: str, W: list[str] | None, b: list[str] | None, act: list[str] | None,
          loss: str | None, half: bool | None, lr: str, steps: str, slope: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    Ws = _layers(W)
    X, x_vector = _examples(x, Ws)
    bs, shared = _biases(b, Ws)
    acts = _activations(act, len(Ws))
    loss_name = _loss_name(loss, acts, half)
    T, t_shape = _targets(_read(t, "--t"), len(X), len(Ws[-1]), x_vector)
    _check_targets(T, loss_name)
    slope_v = _slope(slope, acts)
    inp = Inputs(
        x=tuple(tuple(r) for r in X), t=tuple(tuple(r) for r in T), W=tuple(Ws), b=tuple(bs),
        shared=tuple(shared), act=tuple(acts), loss=loss_name, half=True if half is None else half,
        lr=parse_scalar(lr, "--lr"), steps=parse_int(steps, "--steps", lo=1, hi=MAX_STEPS),
        slope=slope_v, x_vector=x_vector, t_shape=t_shape, given_b=bool(b))
    _limits(inp)
    return inp


def _layers(W: list[str] | None) -> list[tuple[tuple[Any, ...], ...]]:
    """The --W matrices, each out × in, checked to chain (the columns of one are the rows of the last)."""
    if not W:
        raise InputError("--W", "is missing: give one --W per layer (out × in), in order")
    if len(W) > MAX_LAYERS:
        raise InputError("--W", f"is given {len(W)} times; at most {MAX_LAYERS} layers")
    many = len(W) > 1
    Ws = [_weights(text) for text in W]
    for k, Wl in enumerate(Ws):
        out, inn = len(Wl), len(Wl[0])
        if out > MAX_UNITS or inn > MAX_UNITS:
            raise InputError("--W", f"{_which(k, many)} is {out} × {inn}; at most {MAX_UNITS:,} units or inputs".strip())
        if k > 0 and inn != len(Ws[k - 1]):
            prev = len(Ws[k - 1])
            raise InputError("--W", f"of layer {k + 1} has {inn} column{'s' * (inn != 1)} but layer {k} has "
                                    f"{prev} unit{'s' * (prev != 1)} (rows): W is out × in, as PyTorch's "
                                    "Linear.weight")
    total = sum(len(Wl) * len(Wl[0]) for Wl in Ws)
    if total > MAX_WEIGHTS:
        raise InputError("--W", f"has {total:,} weights in all; at most {MAX_WEIGHTS:,}")
    return Ws


def _examples(x: str, Ws: list[Any]) -> tuple[list[list[Any]], bool]:
    """The rows of --x (one per example), and whether one example was given as a vector."""
    xv = _read(x, "--x")
    x_vector = not (isinstance(xv, list) and any(isinstance(e, list) for e in xv))
    X = [xv] if isinstance(xv, list) and x_vector else ([[xv]] if x_vector else xv)
    d = len(Ws[0][0])
    if len(X[0]) != d:
        hint = ""
        if x_vector and d == 1 and len(X[0]) > 1:
            hint = f"; for {len(X[0])} examples of one feature give one per row (--x '1; 2; 3')"
        raise InputError("--x", f"has {len(X[0])} feature{'s' * (len(X[0]) != 1)} per example but the first "
                                f"--W has {d} column{'s' * (d != 1)} (inputs){hint}")
    N = len(X)
    total = sum(len(Wl) * len(Wl[0]) for Wl in Ws)
    if N > MAX_EXAMPLES:
        raise InputError("--x", f"has {N:,} examples; at most {MAX_EXAMPLES:,}")
    if N * total > MAX_STEP_WORK:
        raise InputError("--x", f"{N:,} examples × {total:,} weights is too much work for one step "
                                f"(at most {MAX_STEP_WORK:,})")
    return X, x_vector


def _biases(b: list[str] | None, Ws: list[Any]) -> tuple[list[Any], list[bool]]:
    """Per layer, its bias (a tuple, or one shared value) and whether it is shared; all 0 without --b."""
    L = len(Ws)
    if not b:
        return [tuple(sympy.Integer(0) for _ in Wl) for Wl in Ws], [False] * L
    if len(b) != L:
        raise InputError("--b", f"is given {len(b)} time{'s' * (len(b) != 1)} but there "
                                f"{'are' if L != 1 else 'is'} {L} --W layer{'s' * (L != 1)}: one --b per layer")
    bs: list[Any] = []
    for k, text in enumerate(b):
        v = _read(text, "--b", kinds=("scalar", "vector"))
        out = len(Ws[k])
        if isinstance(v, list) and len(v) != out:
            raise InputError("--b", f"of layer {k + 1} has {len(v)} entries but its --W has {out} "
                                    f"unit{'s' * (out != 1)} (rows); give {out} values or one shared scalar")
        bs.append(tuple(v) if isinstance(v, list) else v)
    return bs, [not isinstance(v, tuple) for v in bs]


def _activations(act: list[str] | None, L: int) -> list[str]:
    """One activation per layer (softmax on the output layer only)."""
    if not act:
        acts = ["sigmoid"] * L
    elif len(act) == 1:
        acts = [_act_name(act[0])] * L
    elif len(act) == L:
        acts = [_act_name(a) for a in act]
    else:
        raise InputError("--act", f"is given {len(act)} times; give it once (all layers) or once per layer ({L})")
    for k, a in enumerate(acts[:-1]):
        if a == "softmax":
            raise InputError("--act", "softmax is for the output layer only" +
                             ("; give --act per layer, e.g. --act sigmoid --act softmax" if len(act or []) == 1 else
                              f" (layer {k + 1} is hidden)"))
    return acts


def _loss_name(loss: str | None, acts: list[str], half: bool | None) -> str:
    """The loss, checked against the output layer (and --half, which only mse has)."""
    loss_name = (loss or "mse").strip().lower()
    if loss_name not in LOSSES:
        raise InputError("--loss", f"must be mse, bce or ce, got {loss_name[:20]!r}")
    if loss_name == "bce" and acts[-1] not in ("sigmoid", "softmax"):
        raise InputError("--loss", f"bce needs outputs in (0, 1): a sigmoid (or softmax) output layer, "
                                   f"not {acts[-1]}; give --act ... --act sigmoid")
    if loss_name == "ce" and acts[-1] != "softmax":
        raise InputError("--loss", f"ce is the cross-entropy of a softmax output layer, not {acts[-1]}; "
                                   "give --act ... --act softmax (or --loss bce for sigmoid outputs)")
    if half is not None and loss_name != "mse":
        raise InputError("--half" if half else "--no-half", "applies to --loss mse only")
    return loss_name


def _check_targets(T: list[list[Any]], loss: str) -> None:
    """bce and ce: targets in [0, 1]; ce: each row sums to 1."""
    if loss not in ("bce", "ce"):
        return
    N = len(T)
    for n, row in enumerate(T):
        for v in row:
            if v.is_number and (v.is_negative or (v - 1).is_positive):
                raise InputError("--t", f"must be in [0, 1] for --loss {loss}, got {v}"
                                 + (f" (example {n + 1})" if N > 1 else ""))
        if loss == "ce" and all(v.is_number for v in row):
            s = sympy.Add(*row)
            if s != 1 and not (s.is_Float and abs(s - 1) < 1e-12):
                raise InputError("--t", "rows must sum to 1 for --loss ce (a probability or one-hot target), "
                                        f"got a sum of {s}" + (f" (example {n + 1})" if N > 1 else ""))


def _slope(slope: str | None, acts: list[str]) -> Any:
    """The negative slope of leaky-relu (PyTorch's 0.01 by default)."""
    if slope is None:
        return sympy.Rational(1, 100)
    if "leaky-relu" not in acts:
        raise InputError("--slope", "applies to --act leaky-relu only")
    return parse_scalar(slope, "--slope")


def _targets(tv: Any, N: int, K: int, x_vector: bool) -> tuple[list[list[Any]], str]:
    """The targets as N rows of K, and the shape they were given in."""
    where = f"the network has {K} output{'s' * (K != 1)} and --x has {N} example{'s' * (N != 1)}"
    if not isinstance(tv, list):
        if N == 1 and K == 1:
            return [[tv]], "scalar"
        raise InputError("--t", f"is one number but {where}; give one row of {K} per example")
    if not any(isinstance(e, list) for e in tv):
        if N == 1 and len(tv) == K:
            return [list(tv)], "vector"
        if K == 1 and len(tv) == N:
            return [[e] for e in tv], "column"
        raise InputError("--t", f"has {len(tv)} entries but {where}; give one row of {K} per example")
    if len(tv) != N or len(tv[0]) != K:
        if K == 1 and len(tv) == 1 and len(tv[0]) == N:
            return [[e] for e in tv[0]], "column"
        raise InputError("--t", f"is {len(tv)} × {len(tv[0])} but {where}: it must be {N} × {K}")
    return [list(r) for r in tv], "matrix"


def _limits(inp: Inputs) -> None:
    N = len(inp.x)
    total = sum(len(Wl) * len(Wl[0]) for Wl in inp.W)
    if inp.steps * N * total > MAX_WORK:
        raise InputError("--steps", f"{inp.steps:,} steps × {N:,} example{'s' * (N != 1)} × {total:,} weights is "
                                    f"too much work (at most {MAX_WORK:,})")
    if _symbolic(inp):
        if total > SYM_MAX_WEIGHTS:
            raise InputError("--W", f"with symbolic inputs can have at most {SYM_MAX_WEIGHTS} weights in all "
                                    f"(this network has {total}); give numbers for a larger network")
        if N > SYM_MAX_EXAMPLES:
            raise InputError("--x", f"with symbolic inputs can have at most {SYM_MAX_EXAMPLES} examples")
        if inp.steps > SYM_MAX_STEPS:
            raise InputError("--steps", f"with symbolic inputs can be at most {SYM_MAX_STEPS} (the expressions "
                                        "grow with every step); give numbers for a longer run")


def _values(inp: Inputs) -> list[Any]:
    vals = [v for r in inp.x for v in r] + [v for r in inp.t for v in r]
    for Wl, bl in zip(inp.W, inp.b):
        vals += [v for r in Wl for v in r] + (list(bl) if isinstance(bl, tuple) else [bl])
    return vals + [inp.lr] + ([inp.slope] if "leaky-relu" in inp.act else [])


def _symbolic(inp: Inputs) -> bool:
    return any(not v.is_number for v in _values(inp))


# --------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class _Flags:
    """The switches of :data:`MISTAKES` (all off: the right working)."""

    forgot_fprime: bool = False
    fprime_at_a: bool = False
    no_transpose: bool = False
    updated_weights: bool = False
    average: bool = True


@dataclass
class _Rec:
    """One step's values, by layer (0-based); per-example values are lists of rows."""

    Z: list[Any]
    A: list[Any]          # A[0] = X, A[l + 1] = the activations of layer l
    loss: Any
    G: list[Any]          # ∂L/∂a per layer (None where not computed)
    F: list[Any]          # f′ per layer (None for softmax or the simplified output)
    D: list[Any]          # δ = ∂L/∂z per layer
    gW: list[Any]
    gb: list[Any]
    W: list[Any]          # before the update
    b: list[Any]
    newW: list[Any]
    newb: list[Any]
    simplified: bool
    tsum: list[Any] = field(default_factory=list)


def _act(name: str, z: Any, ops: Any, slope: Any) -> Any:
    if name == "sigmoid":
        return ops.sigmoid(z)
    if name == "tanh":
        return ops.tanh(z)
    if name == "relu":
        return z if ops.positive(z) else ops.zero
    if name == "leaky-relu":
        return z if ops.positive(z) else slope * z
    return z


def _fp(name: str, z: Any, a: Any, ops: Any, slope: Any) -> Any:
    """f′(z), given a = f(z)."""
    if name == "sigmoid":
        return ops.sig_prime(z, a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return ops.one if ops.positive(z) else ops.zero
    if name == "leaky-relu":
        return ops.one if ops.positive(z) else slope
    return ops.one


@dataclass(frozen=True)
class _Net:
    """What a step needs besides the weights: the network's settings, numbers in the step's arithmetic."""

    shared: tuple[bool, ...]
    acts: tuple[str, ...]
    loss: str
    c: Any
    lr: Any
    slope: Any


def _step(X: list[list[Any]], T: list[list[Any]], W: list[Any], b: list[Any], net: _Net, ops: Any,
          fl: _Flags) -> _Rec:
    """One forward pass, the loss, the backward pass and the update, in ``ops``' arithmetic."""
    L, N = len(W), len(X)
    Nd = N if fl.average else 1
    Z, A, OM = _forward(X, W, b, net, ops)
    lossv = _loss_value(A[-1], OM, T, Z[-1], net, ops, Nd)
    simplified = (net.loss, net.acts[-1]) in (("bce", "sigmoid"), ("ce", "softmax"))
    tsum = [ops.fsum(list(tr)) for tr in T] if net.loss == "ce" else []
    G: list[Any] = [None] * L
    F: list[Any] = [None] * L
    D: list[Any] = [None] * L
    gW, gb, newW, newb = [None] * L, [None] * L, [None] * L, [None] * L
    for l in reversed(range(L)):
        if l == L - 1 and simplified and not fl.forgot_fprime:
            D[l] = _delta_simplified(A[-1], T, Z[-1], tsum, net.loss, ops, Nd)
        else:
            G[l] = _dl_da_out(A[-1], OM, T, net, Nd) if l == L - 1 else \
                _dl_da_hidden(newW[l + 1] if fl.updated_weights else W[l + 1], D[l + 1], ops, fl)
            F[l], D[l] = _through_activation(net.acts[l], G[l], Z[l], A[l + 1], net.slope, ops, fl)
        gW[l], gb[l] = _weight_gradients(D[l], A[l], len(W[l]), len(W[l][0]), net.shared[l], ops)
        newW[l] = [[w - net.lr * g for w, g in zip(wr, gr)] for wr, gr in zip(W[l], gW[l])]
        newb[l] = b[l] - net.lr * gb[l] if net.shared[l] else [bj - net.lr * gj for bj, gj in zip(b[l], gb[l])]
    return _Rec(Z, A, lossv, G, F, D, gW, gb, list(W), list(b), newW, newb, simplified, tsum)


def _forward(X: list[list[Any]], W: list[Any], b: list[Any], net: _Net, ops: Any) -> tuple[list[Any], ...]:
    """z and a of every layer (A[0] = X), and 1 − a of the output (of a softmax without cancellation)."""
    Z: list[Any] = []
    A: list[Any] = [X]
    OM = None
    for l, (Wl, bl) in enumerate(zip(W, b)):
        zl = [[ops.fsum([w * a for w, a in zip(Wrow, row)]) + (bl if net.shared[l] else bl[j])
               for j, Wrow in enumerate(Wl)] for row in A[-1]]
        Z.append(zl)
        if net.acts[l] == "softmax":
            pairs = [ops.softmax(r) for r in zl]
            A.append([p[0] for p in pairs])
            OM = [p[1] for p in pairs]
        else:
            A.append([[_act(net.acts[l], v, ops, net.slope) for v in r] for r in zl])
    if OM is None:
        OM = [[1 - a for a in r] for r in A[-1]]
    return Z, A, OM


def _loss_value(out: list[Any], OM: list[Any], T: list[Any], zL: list[Any], net: _Net, ops: Any, Nd: Any) -> Any:
    fsum = ops.fsum
    if net.loss == "mse":
        return net.c / Nd * fsum([(tk - ak) ** 2 for ar, tr in zip(out, T) for ak, tk in zip(ar, tr)])
    if net.loss == "bce":
        return fsum([ops.bce_terms(ak, om, tk, zk, net.acts[-1]) for ar, omr, tr, zr in zip(out, OM, T, zL)
                     for ak, om, tk, zk in zip(ar, omr, tr, zr)]) / Nd
    return fsum([ops.ce_term(ak, tk, zr, k) for ar, tr, zr in zip(out, T, zL)
                 for k, (ak, tk) in enumerate(zip(ar, tr))]) / Nd


def _delta_simplified(out: list[Any], T: list[Any], zL: list[Any], tsum: list[Any], loss: str, ops: Any,
                      Nd: Any) -> list[Any]:
    """δ of σ with BCE (a − t) or softmax with CE (a·Σt − t), per example."""
    if loss == "bce":
        return [[ops.residual(ak, tk, zk) / Nd for ak, tk, zk in zip(ar, tr, zr)] for ar, tr, zr in zip(out, T, zL)]
    return [[(ak * s - tk) / Nd for ak, tk in zip(ar, tr)] for ar, tr, s in zip(out, T, tsum)]


def _dl_da_out(out: list[Any], OM: list[Any], T: list[Any], net: _Net, Nd: Any) -> list[Any]:
    """∂L/∂a of the output layer."""
    if net.loss == "mse":
        k = 2 * net.c / Nd
        return [[k * (ak - tk) for ak, tk in zip(ar, tr)] for ar, tr in zip(out, T)]
    if net.loss == "bce":
        return [[(-tk / ak + (1 - tk) / om) / Nd for ak, om, tk in zip(ar, omr, tr)]
                for ar, omr, tr in zip(out, OM, T)]
    return [[-tk / ak / Nd for ak, tk in zip(ar, tr)] for ar, tr in zip(out, T)]


def _dl_da_hidden(Wn: list[Any], Dn: list[Any], ops: Any, fl: _Flags) -> list[Any]:
    """∂L/∂a of a hidden layer: Wᵀδ of the layer above (the mistake: W·δ)."""
    K, J = len(Wn), len(Wn[0])
    if fl.no_transpose and K == J:
        return [[ops.fsum([Wn[j][k] * dr[k] for k in range(K)]) for j in range(J)] for dr in Dn]
    return [[ops.fsum([Wn[k][j] * dr[k] for k in range(K)]) for j in range(J)] for dr in Dn]


def _through_activation(act: str, g: list[Any], Zl: list[Any], Al: list[Any], slope: Any, ops: Any,
                        fl: _Flags) -> tuple[Any, list[Any]]:
    """f′ (None through a softmax) and δ = ∂L/∂a ⊙ f′ (through a softmax: its Jacobian)."""
    if act == "softmax":
        if fl.forgot_fprime:
            return None, [list(r) for r in g]
        return None, [[ak * (gk - ops.fsum([am * gm for am, gm in zip(ar, gr)])) for ak, gk in zip(ar, gr)]
                      for ar, gr in zip(Al, g)]
    if fl.forgot_fprime:
        F = [[ops.one for _ in r] for r in Zl]
    elif fl.fprime_at_a:
        F = [[_fp(act, ak, _act(act, ak, ops, slope), ops, slope) for ak in ar] for ar in Al]
    else:
        F = [[_fp(act, zk, ak, ops, slope) for zk, ak in zip(zr, ar)] for zr, ar in zip(Zl, Al)]
    return F, [[gk * fk for gk, fk in zip(gr, fr)] for gr, fr in zip(g, F)]


def _weight_gradients(Dl: list[Any], Ain: list[Any], out_l: int, in_l: int, shared: bool,
                      ops: Any) -> tuple[Any, Any]:
    """∂L/∂W = Σₙ δₙ aₙᵀ and ∂L/∂b = Σₙ δₙ (summed over the units too for a shared bias)."""
    N, fsum = len(Dl), ops.fsum
    gW = [[fsum([Dl[n][j] * Ain[n][i] for n in range(N)]) for i in range(in_l)] for j in range(out_l)]
    gb = fsum([v for r in Dl for v in r]) if shared else [fsum([Dl[n][j] for n in range(N)]) for j in range(out_l)]
    return gW, gb


def _map(f: Callable[[Any], Any], v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [_map(f, e) for e in v]
    return f(v)


def _bits(vals: list[Any]) -> int:
    most = 0
    for v in vals:
        if isinstance(v, sympy.Rational):
            most = max(most, int(v.p).bit_length(), int(v.q).bit_length())
    return most


def _flat(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return [e for x in v for e in _flat(x)]
    return [v]


def _nodes(values: list[Any], cap: int) -> int:
    stack = list(values)
    n = 0
    while stack and n <= cap:
        e = stack.pop()
        n += 1
        stack.extend(e.args)
    return n


# --------------------------------------------------------------------------- the board


class _Board:
    """The working of the first step, written from its values (SymPy)."""

    def __init__(self, inp: Inputs, R: _Rec, c: Any, fl: _Flags, prefix: str) -> None:
        self.inp, self.R, self.c, self.fl, self.prefix = inp, R, c, fl, prefix
        self.N, self.L = len(inp.x), len(inp.W)
        self.steps: list[Step] = []

    # helpers
    def sec(self, name: str) -> str:
        return self.prefix + name

    def small(self, l: int) -> bool:
        """Whether layer l (0-based) is worked unit by unit."""
        W = self.inp.W[l]
        return self.N == 1 and len(W) * len(W[0]) <= CHAIN_MAX_WEIGHTS

    def rows(self, v: Any) -> Any:
        """A per-example value as the result shows it: a vector for one example given as a vector."""
        return v[0] if self.inp.x_vector else v

    def rows_or_none(self, v: Any) -> Any:
        """:meth:`rows`, or None for a batch too large to write out (the answer has δ and the output)."""
        return None if v is None or self.N * max(len(W) for W in self.inp.W) > BOARD_MAX_VALUES else self.rows(v)

    def add(self, *steps: Step) -> None:
        self.steps.extend(steps)

    # forward
    def forward(self, l: int) -> None:
        inp, R = self.inp, self.R
        lay, act = l + 1, inp.act[l]
        sec = self.sec(f"forward, layer {lay}")
        W, out, inn = R.W[l], len(R.W[l]), len(R.W[l][0])
        shared = inp.shared[l]
        if self.small(l):
            a_in, z = R.A[l][0], R.Z[l][0]
            for j in range(out):
                terms, vals = [], {}
                for i in range(inn):
                    ws, as_ = _w(lay, j + 1, i + 1), _a(l, i + 1)
                    terms.append(_Prod(ws, as_))
                    vals[ws], vals[as_] = W[j][i], a_in[i]
                bs = _b(lay, None if shared else j + 1)
                vals[bs] = R.b[l] if shared else R.b[l][j]
                zs = _z(lay, j + 1)
                self.add(_bstep(f"net input {zs.name}", eq(zs, _Sum(*terms, bs)), vals, value=z[j], section=sec))
            a = R.A[l + 1][0]
            for j in range(out):
                zs, as_ = _z(lay, j + 1), _a(lay, j + 1)
                if act == "softmax":
                    zz = [_z(lay, k + 1) for k in range(out)]
                    tmpl = _Frac(sympy.exp(zs), _Sum(*[sympy.exp(v) for v in zz]))
                    vals = {v: R.Z[l][0][k] for k, v in enumerate(zz)}
                else:
                    tmpl = {"sigmoid": _Sig(zs), "tanh": sympy.tanh(zs), "relu": _ReLU(zs),
                            "leaky-relu": _Leaky(zs, inp.slope), "linear": zs}[act]
                    vals = {zs: z[j]}
                self.add(_bstep(f"activation {as_.name}",
                              eq(as_, tmpl), vals, value=a[j], section=sec))
            return
        s_t = _sup(lay)[0]
        n = "" if self.N == 1 else "n"
        net = eq(_vec("z", "z", lay, n), OAdd(ordered_product(_vec("W", "W", lay), self._input(l, n)),
                                              _vec("b", "b", lay), evaluate=False))
        words = (" (one shared scalar)" if shared else "") + (", one row per example n" if n else "")
        self.add(Step(f"net input z{s_t}", _worded(net, words), value=self.rows_or_none(R.Z[l]), section=sec))
        self.add(step(f"activation a{s_t}", eq(_v("a", "a", lay), _Apply(_v("z", "z", lay), act)),
                      value=self.rows_or_none(R.A[l + 1]), section=sec))

    @staticmethod
    def _input(l: int, index: str = "") -> _Var:
        """The input of layer l + 1 (0-based l) as one vector: x, or the a of the layer before."""
        return _vec("x", "x", None, index) if l == 0 else _vec("a", "a", l, index)

    # loss
    def loss(self) -> None:
        inp, R, N = self.inp, self.R, self.N
        sec = self.sec("loss")
        K = len(inp.W[-1])
        c = self.c
        Nd = N if self.fl.average else 1
        lay = self.L
        out = R.A[-1]
        if N == 1 and K <= LOSS_MAX_TERMS:
            ts = [_t(k + 1) for k in range(K)]
            as_ = [_a(lay, k + 1) for k in range(K)]
            vals: dict[Any, Any] = {}
            for k in range(K):
                vals[ts[k]], vals[as_[k]] = inp.t[0][k], out[0][k]
            body = _sum([_loss_term(inp.loss, ts[k], as_[k]) for k in range(K)])
            tmpl = _coef(c, body) if inp.loss == "mse" else _Neg(body)
            self.add(_bstep("loss L", eq(sympy.Symbol("L"), tmpl), vals, value=R.loss, section=sec,
                          note=self._loss_note()))
            return
        formula = written(self._loss_math(N))
        sub = None
        if N * K <= LOSS_MAX_TERMS:
            term = _loss_term(inp.loss, _T, _A)
            body = _sum([put_in(term, {_T: inp.t[n][k], _A: out[n][k]}) for n in range(N) for k in range(K)])
            if inp.loss == "mse":
                sub = _coef(Shown(c / Nd) if c / Nd != 1 else 1, body)
            else:
                sub = _Neg(_coef(Shown(sympy.Integer(1) / Nd) if Nd != 1 else 1, body))
        self.add(Step("loss L", formula, sub, R.loss, self._loss_note(), sec))

    def _loss_note(self) -> str:
        return "" if self.N == 1 else f"the mean over the {self.N} examples"

    def _loss_math(self, N: int) -> Any:
        """The loss as a general formula, Σₖ over the outputs (and Σₙ over the examples) of the
        one-output term the worked lines use (:func:`_loss_term`)."""
        term = _loss_term(self.inp.loss, sympy.Symbol("t_k"), sympy.Symbol("a_k"))
        body = Sigma(bracketed(term) if self.inp.loss == "bce" else term, "k")
        big_n = sympy.Symbol("N")
        if N > 1:
            body = _coef(_Frac(1, ordered_product(2, big_n) if self.c != 1 else big_n), Sigma(body, "n"))
        elif self.inp.loss == "mse":
            body = _coef(self.c, body)
        return eq(sympy.Symbol("L"), body if self.inp.loss == "mse" else _Neg(body))

    # backward
    def backward(self, l: int) -> None:
        inp, R = self.inp, self.R
        sec = self.sec(f"backward, layer {l + 1}")
        simplified = l == self.L - 1 and R.simplified and R.G[l] is None
        if simplified:
            self.add(_replace(_derivation(inp.loss), section=sec))
        if not self.small(l):
            self._backward_layer(l, sec, simplified)
            return
        if simplified:
            self._delta_simplified(l, sec)
        else:
            for j in range(len(R.W[l])):
                self._dl_da(l, j, sec)
            if inp.act[l] == "softmax":
                self._delta_softmax(l, sec)
            else:
                self._fprime(l, sec)
                self._delta_chain(l, sec)
        self._gradients(l, sec, simplified)

    def _delta_simplified(self, l: int, sec: str) -> None:
        """δⱼ = aⱼ − tⱼ per unit (aⱼ·Σₖtₖ − tⱼ for a target row that does not sum to 1)."""
        inp, R, lay = self.inp, self.R, l + 1
        D, a = R.D[l][0], R.A[l + 1][0]
        tsum = _Var("Σₖtₖ", r"\sum_k t_k")
        for j in range(len(R.W[l])):
            ds, as_, ts = _delta(lay, j + 1), _a(lay, j + 1), _t(j + 1)
            if inp.loss == "ce" and R.tsum[0] != 1:
                tmpl, vals = _Diff(_Prod(as_, tsum), ts), {as_: a[j], tsum: R.tsum[0], ts: inp.t[0][j]}
            else:
                tmpl, vals = _Diff(as_, ts), {as_: a[j], ts: inp.t[0][j]}
            self.add(_bstep(f"{ds.name} = ∂L/∂{_z(lay, j + 1).name}", eq(ds, tmpl), vals, value=D[j], section=sec))

    def _dl_da(self, l: int, j: int, sec: str) -> None:
        """∂L/∂aⱼ: the loss differentiated (output layer), or (Wᵀδ)ⱼ of the layer above."""
        inp, R, lay = self.inp, self.R, l + 1
        as_ = _a(lay, j + 1)
        if l == self.L - 1:
            ts = _t(j + 1)
            vals = {as_: R.A[l + 1][0][j], ts: inp.t[0][j]}
            tmpl = _dl_da_formula(inp.loss, 2 * self.c / (self.N if self.fl.average else 1), as_, ts)
            note = "differentiating the loss" if j == 0 else ""
        else:
            Wn = R.newW[l + 1] if self.fl.updated_weights else R.W[l + 1]
            swap = self.fl.no_transpose and len(Wn) == len(Wn[0])
            terms, vals = [], {}
            for k in range(len(Wn)):
                ws, dk = (_w(lay + 1, j + 1, k + 1) if swap else _w(lay + 1, k + 1, j + 1)), _delta(lay + 1, k + 1)
                terms.append(_Prod(ws, dk))
                vals[ws], vals[dk] = (Wn[j][k] if swap else Wn[k][j]), R.D[l + 1][0][k]
            tmpl = _sum(terms)
            note = (f"a{_sup(lay)[0]}{_sub(j + 1)[0]} feeds every unit of layer {lay + 1}: "
                    f"(W{_sup(lay + 1)[0]}ᵀδ{_sup(lay + 1)[0]}){_sub(j + 1)[0]}") if j == 0 else ""
        gs = _partial("L", as_)
        self.add(_bstep(gs.name, eq(gs, tmpl), vals, value=R.G[l][0][j], section=sec, note=note))

    def _delta_softmax(self, l: int, sec: str) -> None:
        """δⱼ = aⱼ(∂L/∂aⱼ − Σₖ aₖ ∂L/∂aₖ): through the softmax's Jacobian."""
        R, lay, out = self.R, l + 1, len(self.R.W[l])
        a, G, D = R.A[l + 1][0], R.G[l][0], R.D[l][0]
        gsyms = [_partial("L", _a(lay, k + 1)) for k in range(out)]
        asyms = [_a(lay, k + 1) for k in range(out)]
        vals = {**dict(zip(asyms, a)), **dict(zip(gsyms, G))}
        for j in range(out):
            ds = _delta(lay, j + 1)
            tmpl = _softmax_delta(asyms[j], gsyms[j], _sum([_Prod(asyms[k], gsyms[k]) for k in range(out)]))
            self.add(_bstep(f"{ds.name} = ∂L/∂{_z(lay, j + 1).name}", eq(ds, tmpl), vals, value=D[j],
                            section=sec, note="through the softmax: ∂a_k/∂z_j = a_k(1[j = k] − a_j)"
                            if j == 0 else ""))

    def _fprime(self, l: int, sec: str) -> None:
        """f′(zⱼ) per unit, from aⱼ (σ, tanh) or the sign of zⱼ (ReLU, leaky ReLU); none for linear."""
        R, lay, act = self.R, l + 1, self.inp.act[l]
        a, F = R.A[l + 1][0], R.F[l][0]
        for j in range(len(R.W[l])):
            zs, as_ = _z(lay, j + 1), _a(lay, j + 1)
            fs = _fprime(act, zs)
            if act == "sigmoid":
                self.add(_bstep(fs.name, eq(fs, _Prod(as_, _Diff(1, as_))), {as_: a[j]}, value=F[j], section=sec,
                                note="σ′(z) = σ(z)(1 − σ(z))" if j == 0 else ""))
            elif act == "tanh":
                self.add(_bstep(fs.name, eq(fs, _Diff(1, _Sq(as_))), {as_: a[j]}, value=F[j], section=sec,
                                note="tanh′(z) = 1 − tanh²(z)" if j == 0 else ""))
            elif act in ("relu", "leaky-relu"):
                other_t, other_l = ("0", "0") if act == "relu" else ("the slope", r"\text{the slope}")
                self.add(Step(fs.name, Math(f"{fs.name} = 1 if {zs.name} > 0, else {other_t}",
                                            rf"{fs._tex} = 1 \text{{ if }} {zs._tex} > 0\text{{, else }} {other_l}"),
                              value=F[j], section=sec,
                              note=_is(zs.name, R.Z[l][0][j]) + (" > 0" if F[j] == 1 else " ≤ 0")))

    def _delta_chain(self, l: int, sec: str) -> None:
        """δⱼ = ∂L/∂aⱼ · f′(zⱼ) per unit."""
        R, lay, act = self.R, l + 1, self.inp.act[l]
        G, D = R.G[l][0], R.D[l][0]
        for j in range(len(R.W[l])):
            ds, zs = _delta(lay, j + 1), _z(lay, j + 1)
            gs = _partial("L", _a(lay, j + 1))
            if act == "linear":
                self.add(_bstep(f"{ds.name} = ∂L/∂{zs.name}", eq(ds, gs), {gs: G[j]}, value=D[j], section=sec,
                                note="a linear layer: f′ = 1" if j == 0 else ""))
            else:
                fs = _fprime(act, zs)
                self.add(_bstep(f"{ds.name} = ∂L/∂{zs.name}", eq(ds, _Prod(gs, fs)), {gs: G[j], fs: R.F[l][0][j]},
                                value=D[j], section=sec))

    def _gradients(self, l: int, sec: str, simplified: bool) -> None:
        """The chain of every weight (a small layer, one example), and the bias gradient."""
        inp, R = self.inp, self.R
        lay, act = l + 1, inp.act[l]
        out, inn = len(R.W[l]), len(R.W[l][0])
        a_in = R.A[l][0]
        by_delta = simplified or act == "softmax"
        for j in range(out):
            zs = _z(lay, j + 1)
            for i in range(inn):
                ws = _w(lay, j + 1, i + 1)
                gws = _partial("L", ws)
                dzdw = _partial(zs, ws)
                if by_delta:
                    dz = _partial("L", zs)
                    tmpl, vals = _Prod(dz, dzdw), {dz: R.D[l][0][j], dzdw: a_in[i]}
                else:
                    as_ = _a(lay, j + 1)
                    gs, dadz = _partial("L", as_), _partial(as_, zs)
                    tmpl = _Prod(gs, dadz, dzdw)
                    vals = {gs: R.G[l][0][j], dadz: R.F[l][0][j], dzdw: a_in[i]}
                note = ""
                if j == 0 and i == 0:
                    note = (f"the chain rule: ∂z/∂W{_sup(lay)[0]}ⱼᵢ = {_a(l, 1).name[0]}{_sup(l)[0] if l else ''}ᵢ"
                            + ("" if by_delta else ", ∂a/∂z = f′(z)"))
                self.add(_bstep(gws.name, eq(gws, tmpl), vals, value=R.gW[l][j][i], section=sec, note=note))
        self._bias(l, sec)

    def _bias(self, l: int, sec: str) -> None:
        inp, R = self.inp, self.R
        lay = l + 1
        s_t = _sup(lay)[0]
        out = len(R.W[l])
        if inp.shared[l]:
            bs = _b(lay, None)
            gbs = _partial("L", bs)
            if self.N == 1 and out <= CHAIN_MAX_WEIGHTS:
                ds = [_delta(lay, j + 1) for j in range(out)]
                self.add(_bstep(gbs.name, eq(gbs, _sum(ds)), {d: R.D[l][0][j] for j, d in enumerate(ds)},
                              value=R.gb[l], section=sec,
                              note=f"one bias shared by the {out} units: the sum of their δ" if out > 1 else ""))
            else:
                self.add(step(gbs.name, eq(gbs, Sigma(Sigma(_vec("δ", r"\delta", lay, "nj"), "j"), "n")),
                              value=R.gb[l], section=sec, note="one bias shared by the layer's units: the sum of "
                                                               "their δ over every example"))
            return
        if self.N == 1:
            self.add(step(f"∂L/∂b{s_t}", eq(_partial("L", _b(lay, None)), _v("δ", r"\delta", lay)),
                          value=list(R.gb[l]), section=sec, note="∂z/∂b = 1"))
        else:
            self.add(step(f"∂L/∂b{s_t}", eq(_partial("L", _b(lay, None)), Sigma(_vec("δ", r"\delta", lay, "n"), "n")),
                          value=list(R.gb[l]), section=sec, note="summed over the examples"))

    def _backward_layer(self, l: int, sec: str, simplified: bool) -> None:
        """A layer too large (or a batch) to write unit by unit: its vectors."""
        R, lay = self.R, l + 1
        s_t = _sup(lay)[0]
        n = "" if self.N == 1 else "n"
        delta = _vec("δ", r"\delta", lay, n)
        if simplified:
            a, t = _vec("a", "a", lay, n), _vec("t", "t", None, n)
            if self.inp.loss != "bce" and not all(v == 1 for v in R.tsum):
                a = ordered_product(a, Sigma(sympy.Symbol("t_k"), "k"))
            residual = _Diff(a, t)
            self.add(step(f"δ{s_t} = ∂L/∂z{s_t}",
                          eq(delta, _coef(_Frac(1, sympy.Symbol("N")), residual) if n and self.fl.average else residual),
                          value=self.rows_or_none(R.D[l]), section=sec))
        else:
            self.add(step(f"∂L/∂a{s_t}", self._dl_da_vector(l), value=self.rows_or_none(R.G[l]), section=sec))
            self._delta_vector(l, sec)
        outer = ordered_product(delta, transposed(self._input(l, n)))
        self.add(step(f"∂L/∂W{s_t}", eq(_partial("L", _vec("W", "W", lay)), Sigma(outer, "n") if n else outer),
                      value=R.gW[l], section=sec))
        self._bias(l, sec)

    def _dl_da_vector(self, l: int) -> Any:
        """∂L/∂a of a whole layer: the loss differentiated (output), or Wᵀδ of the layer above."""
        lay = l + 1
        n = "" if self.N == 1 else "n"
        a = _vec("a", "a", lay, n)
        lhs = _partial("L", a)
        if l < self.L - 1:
            return eq(lhs, ordered_product(transposed(_vec("W", "W", lay + 1)), _vec("δ", r"\delta", lay + 1, n)))
        c = sympy.Symbol("c")
        k = ordered_product(2, c) if not n else _Frac(ordered_product(2, c), sympy.Symbol("N"))
        formula = eq(lhs, _dl_da_formula(self.inp.loss, k, a, _vec("t", "t", None, n)))
        if self.inp.loss != "mse":
            return formula
        half = written(eq(c, self.c))
        return _worded(formula, ",  " + half.text, r",\quad " + half.latex)

    def _delta_vector(self, l: int, sec: str) -> None:
        """δ of a whole layer: through the softmax's Jacobian, or ∂L/∂a ⊙ f′(z)."""
        R, lay, act = self.R, l + 1, self.inp.act[l]
        s_t = _sup(lay)[0]
        if act == "softmax":
            a = [sympy.Symbol(f"a_{i}") for i in "jk"]
            g = [_partial("L", _Var(f"a{i.translate(_INDEX)}", f"a_{i}")) for i in "jk"]
            formula = eq(_vec("δ", r"\delta", lay, "j"), _softmax_delta(a[0], g[0], Sigma(_Prod(a[1], g[1]), "k")))
            self.add(step(f"δ{s_t} = ∂L/∂z{s_t}", formula, value=self.rows_or_none(R.D[l]), section=sec,
                          note="through the softmax Jacobian"))
            return
        z, a = _vec("z", "z", lay), _vec("a", "a", lay)
        fz = _fprime(act, z)
        if act in ("sigmoid", "tanh"):
            slope = hadamard(a, _Diff(1, a)) if act == "sigmoid" else _Diff(1, hadamard(a, a))
            self.add(step(fz.name, eq(fz, slope), value=self.rows_or_none(R.F[l]), section=sec))
        elif act != "linear":  # a case split, in words
            s_l, (fn_t, fn_l) = _sup(lay)[1], _FNAME[act]
            ftext = {"relu": f"1 where z{s_t} > 0, else 0", "leaky-relu": f"1 where z{s_t} > 0, else the slope"}[act]
            flatex = {"relu": rf"[z{s_l} > 0]", "leaky-relu": r"1 \text{ or the slope}"}[act]
            self.add(Step(fz.name, Math(f"{fn_t}′(z{s_t}) = {ftext}", rf"{fn_l}'(z{s_l}) = {flatex}"),
                          value=self.rows_or_none(R.F[l]), section=sec))
        self.add(step(f"δ{s_t} = ∂L/∂z{s_t}", eq(_vec("δ", r"\delta", lay), hadamard(_partial("L", a), fz)),
                      value=self.rows_or_none(R.D[l]), section=sec))

    # update
    def update(self) -> None:
        inp, R = self.inp, self.R
        sec = self.sec("update")
        eta = inp.lr
        for l in range(self.L):
            lay = l + 1
            s_t = _sup(lay)[0]
            W, g = R.W[l], R.gW[l]
            rule = _update(_vec("W", "W", lay))
            sub = None
            if len(W) * len(W[0]) <= CHAIN_MAX_WEIGHTS:
                sub = [[_updated(rule, w, eta, gw) for w, gw in zip(wr, gr)] for wr, gr in zip(W, g)]
            self.add(Step(f"W{s_t} ← W{s_t} − η·∂L/∂W{s_t}", written(rule), sub, R.newW[l], section=sec,
                          note="with the gradients of the weights before this update" if l == 0 and self.L > 1 else ""))
            rule = _update(_vec("b", "b", lay))
            if inp.shared[l]:
                sub_b = _updated(rule, R.b[l], eta, R.gb[l])
            else:
                sub_b = [_updated(rule, bj, eta, gj) for bj, gj in zip(R.b[l], R.gb[l])] \
                    if len(R.b[l]) <= CHAIN_MAX_WEIGHTS else None
            self.add(Step(f"b{s_t} ← b{s_t} − η·∂L/∂b{s_t}", written(rule), sub_b, R.newb[l], section=sec))

    def build(self) -> list[Step]:
        for l in range(self.L):
            self.forward(l)
        self.loss()
        for l in reversed(range(self.L)):
            self.backward(l)
        self.update()
        return self.steps


#: a symbolic value longer than this (tree nodes) is not written into a formula: the line
#: would repeat whole expressions; the formula and the value are shown
SHOW_MAX_NODES = 12


def _bstep(title: str, formula: Any, values: dict[Any, Any], *, value: Any, section: str, note: str = "") -> Step:
    """:func:`dlcalc.board.step`, leaving out the substituted line when a value is a long expression."""
    if any(isinstance(v, sympy.Basic) and not v.is_number and _nodes([v], SHOW_MAX_NODES) > SHOW_MAX_NODES
           for v in values.values()):
        return Step(title=title, formula=formula, value=value, note=note, section=section)
    return step(title, formula, values, value=value, section=section, note=note)


def _replace(s: Step, **kw: Any) -> Step:
    from dataclasses import replace

    return replace(s, **kw)


def _is(name: str, v: Any) -> str:
    """``name = v`` for a note (``name ≈ v`` for a decimal)."""
    shown = said(v)
    return f"{name} {shown}" if shown.startswith("≈") else f"{name} = {shown}"


@functools.lru_cache(maxsize=4)
def _derivation(loss: str) -> Step:
    """δ = a − t for σ with BCE, or softmax with cross-entropy, derived (and checked) with SymPy.

    Worked once per process; the checks evaluate at points instead of simplifying (fast)."""
    a, t = sympy.Symbol("a"), sympy.Symbol("t")
    if loss == "bce":
        chain = (-t / a + (1 - t) / (1 - a)) * a * (1 - a)
        # times a(1 − a) both sides are polynomials of degree ≤ 2 in a and 1 in t: agreeing on a
        # 3 × 2 grid proves them equal
        for av in (sympy.Rational(1, 3), sympy.Rational(1, 5), sympy.Rational(5, 7)):
            for tv in (sympy.Rational(1, 4), sympy.Rational(2, 3)):
                if chain.xreplace({a: av, t: tv}) != av - tv:  # pragma: no cover
                    raise AssertionError("σ + BCE does not simplify to a − t")
        return Step(
            title="δ of a sigmoid output with BCE, derived",
            formula=Math("∂L/∂z = ∂L/∂a·σ′(z) = (−t/a + (1 − t)/(1 − a))·a(1 − a)",
                         r"\frac{\partial L}{\partial z} = \frac{\partial L}{\partial a}\,\sigma'(z) = "
                         r"\left(-\frac{t}{a} + \frac{1 - t}{1 - a}\right) a (1 - a)"),
            substituted=None, value=a - t,
            note="σ′ = a(1 − a) cancels both denominators: δ = a − t per output (and 1/N for the mean)")
    # softmax + CE: L = −Σ_k t_k log a_k with log a_k = z_k − log Σ_m e^(z_m); three classes,
    # differentiated by SymPy and checked against a_1·Σ_k t_k − t_1 at a point (30 digits)
    z = sympy.symbols("z1:4")
    ts = sympy.symbols("t1:4")
    S = sympy.Add(*[sympy.exp(v) for v in z])
    d = sympy.diff(-sympy.Add(*[tk * (zk - sympy.log(S)) for tk, zk in zip(ts, z)]), z[0])
    point = dict(zip(z, (sympy.Rational(1, 2), sympy.Integer(-1), sympy.Rational(1, 3))))
    point.update(zip(ts, (sympy.Rational(1, 5), sympy.Rational(1, 2), sympy.Rational(1, 3))))
    claim = sympy.exp(z[0]) / S * sympy.Add(*ts) - ts[0]
    if abs(sympy.N((d - claim).xreplace(point), 30)) > 1e-25:  # pragma: no cover
        raise AssertionError("softmax + CE does not give a_j·Σt − t_j")
    return Step(
        title="δ of a softmax output with cross-entropy, derived",
        formula=Math("∂L/∂z_j = −Σ_k t_k·∂(z_k − log Σ_m e^(z_m))/∂z_j = −Σ_k t_k·(1[k = j] − a_j) = a_j·Σ_k t_k − t_j",
                     r"\frac{\partial L}{\partial z_j} = -\sum_k t_k \frac{\partial}{\partial z_j}"
                     r"\Big(z_k - \log \sum_m e^{z_m}\Big) = -\sum_k t_k (1_{k=j} - a_j) = a_j \sum_k t_k - t_j"),
        substituted=None, value=sympy.Symbol("a_j") - sympy.Symbol("t_j"),
        note="with Σ_k t_k = 1 (a probability target): δ = a − t (and 1/N for the mean)")


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, forgot_fprime: bool = False, fprime_at_a: bool = False, no_transpose: bool = False,
          updated_weights: bool = False, no_average: bool = False) -> Solution:
    """The worked solution; the flags are the mistakes of :data:`MISTAKES` (for ``--check``)."""
    fl = _Flags(forgot_fprime, fprime_at_a, no_transpose, updated_weights, not no_average)
    _limits(inp)
    try:
        return _solve(inp, fl)
    except _Unknown as exc:
        bad = [a for a in inp.act if a in ("relu", "leaky-relu")]
        raise InputError("--act", f"{bad[0] if bad else 'relu'} needs the sign of z, which is unknown for the "
                                  f"symbolic z = {str(exc.z)[:60]}; give numbers (or use sigmoid, tanh, linear)") from None
    except (ZeroDivisionError, OverflowError):
        raise InputError("--W", "makes the outputs saturate (a or 1 − a rounds to 0), so the gradient is not "
                                "finite; use smaller weights") from None


def _solve(inp: Inputs, fl: _Flags) -> Solution:
    symbolic = _symbolic(inp)
    c = (sympy.Rational(1, 2) if inp.half else sympy.Integer(1)) if inp.loss == "mse" else sympy.Integer(1)
    ops, notes = _arithmetic(inp, symbolic)
    first, history, W, b = _descend(inp, fl, c, ops, symbolic, notes)
    if ops.kind == "hybrid" and any(isinstance(v, sympy.Float) for v in _flat([first.A, first.loss, first.D])):
        notes.insert(0, "σ, tanh, exp and log have irrational values: from the first of them on, values are "
                        "computed with 30 significant digits (mpmath); the others are exact")
    finalW = [_map(ops.out, Wl) for Wl in W]
    finalb = [ops.out(bl) if sh else _map(ops.out, bl) for bl, sh in zip(b, inp.shared)]
    if not symbolic:
        _check_finite(_flat([first.loss, first.A[-1], first.D, first.gW, first.gb, finalW, finalb]))
    rows = (lambda v: v[0]) if inp.x_vector else (lambda v: v)
    result = {"output": rows(first.A[-1]), "loss": first.loss, "delta": [rows(d) for d in first.D],
              "grad_W": first.gW, "grad_b": first.gb, "W": finalW, "b": finalb, "history": history}
    if symbolic:
        names = sorted({str(s) for v in _values(inp) for s in getattr(v, "free_symbols", ())})
        notes.append("symbolic: the answers are expressions in " + ", ".join(names[:12])
                     + ("…" if len(names) > 12 else ""))
    return Solution(command="backprop", inputs=_inputs_shown(inp), conventions=_conventions(inp, c, fl),
                    steps=tuple(_working(inp, first, c, fl)), result=result, notes=tuple(notes))


def _arithmetic(inp: Inputs, symbolic: bool) -> tuple[Any, list[str]]:
    """SymPy numbers (exact, then 30 digits) for symbols and short runs; else mpmath or IEEE double."""
    work = inp.steps * len(inp.x) * sum(len(Wl) * len(Wl[0]) for Wl in inp.W)
    if symbolic or work <= HYBRID_WORK:
        return _HybridOps(), []
    ops = _NumOps("mpmath" if work <= MP_WORK else "float")
    return ops, [_numeric_note(ops.kind, 1, inp.steps, inp)]


def _descend(inp: Inputs, fl: _Flags, c: Any, ops: Any, symbolic: bool,
             notes: list[str]) -> tuple[_Rec, list[dict[str, Any]], list[Any], list[Any]]:
    """Every gradient step in ``ops``' arithmetic: the first step's record, the loss of each, the last W and b."""
    X = [[ops.num(v) for v in r] for r in inp.x]
    T = [[ops.num(v) for v in r] for r in inp.t]
    W = [[[ops.num(v) for v in r] for r in Wl] for Wl in inp.W]
    b = [ops.num(bl) if sh else [ops.num(v) for v in bl] for bl, sh in zip(inp.b, inp.shared)]
    net = _Net(inp.shared, inp.act, inp.loss, ops.num(c), ops.num(inp.lr), ops.num(inp.slope))
    history: list[dict[str, Any]] = []
    first: _Rec | None = None
    for k in progress(range(1, inp.steps + 1), inp.steps, "gradient steps"):
        R = _step(X, T, W, b, net, ops, fl)
        _check_step(R, k, ops, symbolic)
        if k == 1:
            first = _convert(R, ops)
        history.append({"loss": ops.out(R.loss)})
        W, b = R.newW, R.newb
        if ops.kind == "hybrid" and not symbolic and k < inp.steps and _bits(_flat([W, b])) > EXACT_MAX_BITS:
            W = _map(lambda v: sympy.Float(v, MP_DPS), W)
            b = _map(lambda v: sympy.Float(v, MP_DPS), b)
            notes.append(f"steps {k + 1}–{inp.steps} computed with 30 significant digits (sympy.Float): "
                         f"the exact numbers grew long; steps 1–{k} exact" if k + 1 < inp.steps else
                         f"step {k + 1} computed with 30 significant digits: the exact numbers grew long")
    assert first is not None
    return first, history, W, b


def _check_step(R: _Rec, k: int, ops: Any, symbolic: bool) -> None:
    """Step k's numbers are finite (numbers) or its expressions bounded (symbols)."""
    if not symbolic and not all(ops.finite(v) for v in _flat([R.loss, R.newW, R.newb])):
        raise InputError("--lr" if k > 1 else "--W", f"makes the numbers overflow at step {k} (beyond ±1.7e308)"
                         + ("; the run diverges: use a smaller learning rate" if k > 1 else ""))
    if symbolic and _nodes(_flat([R.loss, R.newW, R.newb]), SYM_MAX_NODES) > SYM_MAX_NODES:
        raise InputError("--steps" if k > 1 else "--W",
                         f"with symbolic inputs: the expressions of step {k} have more than {SYM_MAX_NODES:,} "
                         "terms; " + (f"ask for at most {k - 1} steps, " if k > 1 else "use fewer layers or units, ")
                         + "or give numbers")


def _working(inp: Inputs, first: _Rec, c: Any, fl: _Flags) -> list[Step]:
    """The board: the first step worked in full, and a line for the steps after it."""
    board = _Board(inp, first, c, fl, "" if inp.steps == 1 else "step 1 · ").build()
    if inp.steps > 1:
        later = f"steps 2 to {inp.steps}" if inp.steps > 2 else "step 2"
        board.append(Step(later, note="worked the same way, each from the weights the step before left; the loss "
                                      "of every step is in the history, the final W and b in the answer",
                          section=later))
    return board


def _convert(R: _Rec, ops: Any) -> _Rec:
    """A record in SymPy values, or machine numbers for a run in IEEE double (the board and the
    result read it)."""
    if ops.kind in ("exact", "hybrid", "float"):
        return R
    o = ops.out
    return _Rec(_map(o, R.Z), _map(o, R.A), o(R.loss), [_map(o, g) for g in R.G], [_map(o, f) for f in R.F],
                _map(o, R.D), _map(o, R.gW), [_map(o, g) for g in R.gb], _map(o, R.W), [_map(o, v) for v in R.b],
                _map(o, R.newW), [_map(o, v) for v in R.newb], R.simplified, _map(o, R.tsum))


def _numeric_note(kind: str, k: int, steps: int, inp: Inputs) -> str:
    how = "mpmath, 30 significant digits" if kind == "mpmath" else "IEEE double"
    which = ("every step" if steps > 1 else "the step") if k == 1 else (f"steps {k}–{steps}" if k < steps else f"step {k}")
    if k > 1:
        why = "the exact numbers grow long with every step"
    elif any(a in ("sigmoid", "tanh", "softmax") for a in inp.act) or inp.loss != "mse":
        why = "σ, tanh, softmax and log have irrational values"
    elif not all(v.is_Rational for v in _values(inp)):
        why = "irrational inputs"
    else:
        why = "the run is too long for exact arithmetic"
    if kind == "float" and k == 1:
        why += "; too much work for mpmath"
    done = "" if k == 1 else (f"; steps 1–{k - 1} exact" if k > 2 else "; step 1 exact")
    return f"{which} computed numerically ({how}){done}: {why}"


def _check_finite(vals: list[Any]) -> None:
    """Every number of the answer fits a double (the JSON writes it as one)."""
    for v in vals:
        try:
            ok = math.isfinite(float(v))
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InputError("--W", "makes the numbers overflow double precision (beyond ±1.7e308)")


def _inputs_shown(inp: Inputs) -> dict[str, Any]:
    x = list(inp.x[0]) if inp.x_vector else [list(r) for r in inp.x]
    if inp.t_shape == "scalar":
        t: Any = inp.t[0][0]
    elif inp.t_shape == "vector":
        t = list(inp.t[0])
    elif inp.t_shape == "column":
        t = [r[0] for r in inp.t]
    else:
        t = [list(r) for r in inp.t]
    out: dict[str, Any] = {
        "x": x, "t": t, "W": [[list(r) for r in Wl] for Wl in inp.W],
        "b": [bl if sh else list(bl) for bl, sh in zip(inp.b, inp.shared)],
        "act": ", ".join(inp.act), "loss": inp.loss, "lr": inp.lr, "steps": sympy.Integer(inp.steps),
    }
    if inp.loss == "mse":
        out["half"] = sympy.true if inp.half else sympy.false
    if "leaky-relu" in inp.act:
        out["slope"] = inp.slope
    return out


def _conventions(inp: Inputs, c: Any, fl: _Flags) -> dict[str, str]:
    N, L = len(inp.x), len(inp.W)
    sizes = "-".join([str(len(inp.W[0][0]))] + [str(len(Wl)) for Wl in inp.W])
    acts = inp.act[0] if len(set(inp.act)) == 1 else ", ".join(inp.act)
    conv = {
        "network": f"{sizes} (inputs-units per layer); layer l: z⁽ˡ⁾ = W⁽ˡ⁾·(the a of the layer before) + b⁽ˡ⁾, "
                   "a⁽ˡ⁾ = f(z⁽ˡ⁾), with a⁽⁰⁾ = x; "
                   f"W⁽ˡ⁾ is out × in as PyTorch's Linear.weight; activation {acts}"
                   + (f" (σ(z) = 1/(1 + e^(−z)))" if "sigmoid" in inp.act else ""),
        "examples": "one example" if N == 1 else f"{N} examples, one row each; every loss and gradient is the "
                                                 "mean over them",
    }
    shared = [str(l + 1) for l in range(L) if inp.shared[l]]
    if not inp.given_b:
        conv["bias"] = "no --b: every bias is 0 (and still learned)"
    elif shared:
        conv["bias"] = (f"layer{'s' * (len(shared) > 1)} {', '.join(shared)}: one scalar bias shared by the "
                        "layer's units; its gradient is the sum over the units")
    if inp.loss == "mse":
        half = "½ (--half; --no-half for c = 1)" if c != 1 else "1 (--no-half)"
        conv["loss"] = (f"mse: L = c·Σ_k (t_k − a_k)², summed over the outputs" + (", averaged over the examples"
                        if N > 1 else "") + f"; c = {half}")
    elif inp.loss == "bce":
        conv["loss"] = ("bce: L = −Σ_k [t_k log a_k + (1 − t_k) log(1 − a_k)], summed over the outputs"
                        + (", averaged over the examples" if N > 1 else ""))
    else:
        conv["loss"] = ("ce: L = −Σ_k t_k log a_k with a = softmax(z), t a probability (one-hot) row"
                        + (", averaged over the examples" if N > 1 else ""))
    conv["delta"] = "δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾ (PyTorch's z.grad), one row per example" + (", the 1/N of the mean inside"
                                                                                if N > 1 else "")
    if any(a in ("relu", "leaky-relu") for a in inp.act):
        conv["relu"] = "ReLU′(0) = 0 as PyTorch" + (f"; leaky-relu slope {said(inp.slope)}" if "leaky-relu" in inp.act else "")
    conv["update"] = (f"W ← W − η·∂L/∂W, b ← b − η·∂L/∂b with η = {said(inp.lr)}; every gradient from the "
                      "weights before the update (δ goes back through the old W⁽ˡ⁺¹⁾)"
                      + (f"; {inp.steps} steps" if inp.steps > 1 else ""))
    conv["results"] = ("lists by layer, 0 first (W[0] is W⁽¹⁾); output, loss, delta, grad_W, grad_b are the "
                       "first step's" + (", W and b after the last update" if inp.steps > 1 else
                                         ", W and b after the update"))
    return conv


# --------------------------------------------------------------------------- --check


def _flip_half(on: bool) -> Callable[[Any], Any]:
    return lambda kw: {"half": not on} if kw["loss"] == "mse" and kw["half"] == on else None


def _square_above(kw: Any) -> Any:
    return {"no_transpose": True} if any(len(Wl) == len(Wl[0]) for Wl in kw["W"][1:]) else None


def _curved(kw: Any) -> Any:
    return {"fprime_at_a": True} if any(a in ("sigmoid", "tanh") for a in kw["act"]) else None


MISTAKES = (
    Mistake("forgot f′ (the activation's derivative) in δ", {"forgot_fprime": True}),
    Mistake("took f′ at a instead of at z (σ′(a) for σ′(z))", _curved),
    Mistake("used W instead of Wᵀ to pass δ back a layer", _square_above),
    Mistake("updated the first layer with the already-updated second layer's weights (δ passed back through the "
            "new W)", lambda kw: {"updated_weights": True} if len(kw["W"]) > 1 else None),
    Mistake("forgot to average over the examples (a sum, not the mean)",
            lambda kw: {"no_average": True} if len(kw["x"]) > 1 else None),
    Mistake("forgot the ½ in the loss (c = 1 instead of ½)", _flip_half(True)),
    Mistake("added a ½ the loss does not have (c = ½ instead of 1)", _flip_half(False)),
)
