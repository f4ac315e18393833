"""sigmoid-step: gradient-descent steps of one sigmoid neuron, squared error (or BCE) + L2.

The model (printed as the conventions of every answer)::

    z_i = w·x_i + b,   y_i = σ(z_i) = 1/(1 + e^(−z_i)),   i = 1…T
    mse:  L = (c/T) Σ_i (y_i − t_i)² + (c·λ/T)·‖w‖²
    bce:  L = −(1/T) Σ_i [t_i log y_i + (1 − t_i) log(1 − y_i)] + (c·λ/T)·‖w‖²
    c = ½ (``half=True``) or 1; with ``reg_bias`` the penalty is ‖w‖² + b².
    w ← w − α ∂L/∂w,  b ← b − α ∂L/∂b, ``steps`` times (gradients at the weights
    before each update).

Arithmetic: exact SymPy while the forms stay short: symbolic inputs always (bounded in
steps and size instead), numbers for the first step (and later ones while their exact forms
stay under EXACT_MAX_NODES).  1 − y is written σ(−z) and y − t, for z > 0, (1 − t) − σ(−z),
so nothing cancels when y is close to 0 or 1.  The remaining steps, a batch too large for
exact work, or |z| > Z_EXACT_MAX run numerically through :class:`_Backend`, the same
formulas: mpmath with 30 significant digits, or IEEE double (stable formulas, ``fsum``) for
runs too long for mpmath.  Every switch is stated in the solution's notes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence

from dlcalc.core import Math, Mistake, Solution, Step, as_kwargs, as_sympy, progress
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

LOSSES = ("mse", "bce")


# --------------------------------------------------------------------------- display nodes
# Numbers written into a formula must stay as written and in the order a teacher writes
# them; SymPy's Add and Mul would evaluate and reorder them.  These nodes only print.


def _paren(p: Any, a: Any, level: int) -> str:
    """``a`` printed, in parentheses when its precedence is at most ``level``; a positive
    fraction the printers write as a plain decimal (0.5) counts as an atom."""
    s = p._print(a)
    prec = precedence(a)
    if isinstance(a, sympy.Rational) and a.is_positive and "/" not in s and "frac" not in s:
        prec = PRECEDENCE["Atom"]
    if prec <= level:
        return p._add_parens(s) if hasattr(p, "_add_parens") else f"({s})"
    return s


class _Board(sympy.Expr):
    """A display node; :meth:`plain` is the ordinary SymPy value it stands for, so that it
    evaluates (``N``, ``evalf``) like that value."""

    is_commutative = True

    def __new__(cls, *args: Any) -> Any:
        return super().__new__(cls, *[as_sympy(a) for a in args])

    def plain(self) -> Any:
        raise NotImplementedError

    def _eval_evalf(self, prec: int) -> Any:
        return self.plain()._eval_evalf(prec)

    def _eval_subs(self, old: Any, new: Any) -> Any:
        return self.plain().subs(old, new)

    def _parts(self, printer: Any, level: int) -> list[str]:
        return [_paren(printer, a, level) for a in self.args]


class _Sum(_Board):
    """a + b + c, in this order."""

    def plain(self) -> Any:
        return sympy.Add(*[_plain(a) for a in self.args])

    precedence = PRECEDENCE["Add"]

    def _terms(self, p: Any) -> list[str]:
        """Groups (a sum or difference per example) in parentheses, other terms as needed."""
        out = []
        for i, a in enumerate(self.args):
            if isinstance(a, (_Sum, _Diff)) and len(self.args) > 1:
                out.append(_paren(p, a, PRECEDENCE["Atom"]))
            else:
                out.append(_paren(p, a, PRECEDENCE["Add"] - (1 if i == 0 else 0)))
        return out

    def _sympystr(self, p: Any) -> str:
        return " + ".join(self._terms(p))

    def _latex(self, p: Any) -> str:
        return " + ".join(self._terms(p))


class _Diff(_Board):
    """a − b."""

    def plain(self) -> Any:
        return _plain(self.args[0]) - _plain(self.args[1])

    precedence = PRECEDENCE["Add"]

    def _sympystr(self, p: Any) -> str:
        a, b = self.args
        return f"{_paren(p, a, PRECEDENCE['Add'] - 1)} - {_paren(p, b, PRECEDENCE['Add'])}"

    def _latex(self, p: Any) -> str:
        a, b = self.args
        return f"{_paren(p, a, PRECEDENCE['Add'] - 1)} - {_paren(p, b, PRECEDENCE['Add'])}"


class _Neg(_Board):
    """−a."""

    def plain(self) -> Any:
        return -_plain(self.args[0])

    precedence = PRECEDENCE["Add"]

    def _sympystr(self, p: Any) -> str:
        return "-" + _paren(p, self.args[0], PRECEDENCE["Mul"] - 1)

    def _latex(self, p: Any) -> str:
        return "-" + _paren(p, self.args[0], PRECEDENCE["Mul"] - 1)


class _Prod(_Board):
    """a·b·c, in this order (the text printer turns * into ·)."""

    def plain(self) -> Any:
        return sympy.Mul(*[_plain(a) for a in self.args])

    precedence = PRECEDENCE["Mul"]

    def _sympystr(self, p: Any) -> str:
        return "*".join(self._parts(p, PRECEDENCE["Mul"]))

    def _latex(self, p: Any) -> str:
        return r" \cdot ".join(self._parts(p, PRECEDENCE["Mul"]))


class _Square(_Board):
    """a²."""

    def plain(self) -> Any:
        return _plain(self.args[0]) ** 2

    precedence = PRECEDENCE["Pow"]

    def _sympystr(self, p: Any) -> str:
        return _paren(p, self.args[0], PRECEDENCE["Pow"]) + "**2"

    def _latex(self, p: Any) -> str:
        base = _paren(p, self.args[0], PRECEDENCE["Pow"])
        if "^" in base and not base.startswith(r"\left("):  # x__2 or x̂²: {\hat{x}^{2}}^{2} stops TeX
            return rf"\left({base}\right)^{{2}}"
        return "{" + base + "}^{2}"


class _Call(_Board):
    """name(a) for a display-only function (σ, log)."""

    def plain(self) -> Any:
        raise NotImplementedError

    precedence = PRECEDENCE["Atom"]
    text_name = ""
    latex_name = ""

    def _sympystr(self, p: Any) -> str:
        return f"{self.text_name}({p._print(self.args[0])})"

    def _latex(self, p: Any) -> str:
        return self.latex_name + r"\left(" + p._print(self.args[0]) + r"\right)"


class _Sig(_Call):
    text_name, latex_name = "σ", r"\sigma"

    def plain(self) -> Any:
        return _sigma(_plain(self.args[0]))


class _Log(_Call):
    text_name, latex_name = "log", r"\log"

    def plain(self) -> Any:
        return sympy.log(_plain(self.args[0]))


def _plain(a: Any) -> Any:
    return a.plain() if isinstance(a, _Board) else a


def _sigma(z: Any) -> Any:
    """σ(z) as an exact SymPy value."""
    return 1 / (1 + sympy.exp(-z))


def _shown(v: Any) -> Any:
    """A value as it is written into a formula: rationals and symbols as they are,
    other numbers as decimals, σ(u) written as σ(u) inside symbolic expressions."""
    if v.is_Rational or isinstance(v, sympy.Float):
        return v
    if v.is_number:
        return sympy.Float(v.evalf(20), 20)
    return _sigma_display(v)


def _sigma_display(e: Any) -> Any:
    """(1 + exp(−u))^(−n) → σ(u)^n, for display only."""
    def is_sig(a: Any) -> bool:
        return (a.is_Pow and a.exp.is_Integer and a.exp < 0 and a.base.is_Add
                and len(a.base.args) == 2 and sympy.S.One in a.base.args
                and any(isinstance(t, sympy.exp) for t in a.base.args))

    def to_sig(a: Any) -> Any:
        ex = next(t for t in a.base.args if isinstance(t, sympy.exp))
        sig = _Sig(_sigma_display(-ex.args[0]))
        return sig if a.exp == -1 else sig ** (-a.exp)

    return e.replace(is_sig, to_sig)


def _prod(*factors: Any) -> Any:
    """An ordered product of the factors, as written."""
    return factors[0] if len(factors) == 1 else _Prod(*factors)


def _coef(k: Any, *factors: Any) -> Any:
    """The product k·factors, leaving out a coefficient k that is exactly 1."""
    return _prod(*factors) if k == 1 else _prod(k, *factors)


def _sum(*terms: Any) -> Any:
    return terms[0] if len(terms) == 1 else _Sum(*terms)


# --------------------------------------------------------------------------- numerics


class _Backend:
    """The arithmetic of the numeric path: mpmath (30 digits) or IEEE double."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "mpmath":
            import mpmath

            self.ctx = mpmath.MPContext()
            self.ctx.dps = MP_DPS
            self.tiny = self.ctx.mpf(TINY)
            self.exp, self.log1p, self.fsum = self.ctx.exp, self.ctx.log1p, self.ctx.fsum
            self.zero = self.ctx.mpf(0)
        else:
            self.exp, self.log1p, self.fsum = math.exp, math.log1p, math.fsum
            self.zero = 0.0

    def num(self, v: Any) -> Any:
        if self.kind == "mpmath":
            return self.ctx.mpf(sympy.Float(v.evalf(MP_DPS + 10), MP_DPS + 10))
        try:
            return float(v)
        except OverflowError:
            return math.copysign(math.inf, 1 if v.is_positive else -1)

    def out(self, v: Any) -> Any:
        """A SymPy Float; magnitudes below 1e-1000 (far under double precision, and slow for
        a consumer to parse back) are reported as 0."""
        if self.kind == "mpmath":
            return sympy.Float(v if abs(v) >= self.tiny else self.zero, MP_DPS)
        return sympy.Float(v)

    def finite(self, v: Any) -> bool:
        if self.kind == "mpmath":
            return bool(self.ctx.isfinite(v)) and abs(v) < 1.7e308
        return math.isfinite(v)

    def sigmoid(self, z: Any) -> Any:
        if z >= 0:
            return 1 / (1 + self.exp(-z))
        e = self.exp(z)
        return e / (1 + e)

    def softplus(self, u: Any) -> Any:
        """log(1 + e^u), without overflow."""
        if u > 0:
            return u + self.log1p(self.exp(-u))
        return self.log1p(self.exp(u))


# --------------------------------------------------------------------------- one step


@dataclass
class _Params:
    T: int
    d: int
    c: Any
    lam: Any
    lr: Any
    loss: str
    reg_bias: bool
    sigma_as_derivative: bool = False   # the --check mistake: σ'(z) taken as σ(z)
    ascent: bool = False                # the --check mistake: w + α·∂L/∂w


@dataclass
class _StepData:
    """Everything one step computes (SymPy values for the exact path, backend numbers
    for the numeric path).  ``z``, ``y``, ``s`` (σ'(z)) and ``delta`` are per example."""

    w: list[Any]          # before the update
    b: Any
    z: list[Any]
    y: list[Any]
    s: list[Any]
    loss: Any
    grad_w: list[Any]
    grad_b: Any
    new_w: list[Any]
    new_b: Any


def _exact_z(X: list[list[Any]], w: list[Any], b: Any) -> list[Any]:
    return [sympy.Add(*[wj * xj for wj, xj in zip(w, row)]) + b for row in X]


def _too_large_for_exact(z: list[Any]) -> bool:
    """|z| so large that e^(−|z|) is beyond what SymPy's evalf resolves reliably."""
    for zi in z:
        if zi.is_number:
            try:
                if abs(float(zi)) > Z_EXACT_MAX:
                    return True
            except (OverflowError, TypeError, ValueError):
                return True
    return False


def _residual(yi: Any, yci: Any, ti: Any, zi: Any) -> Any:
    """y − t; for z > 0 written as (1 − t) − σ(−z), which does not cancel when y ≈ t = 1."""
    if zi.is_number and zi.is_positive:
        return (1 - ti) - yci
    return yi - ti


def _exact_step(X: list[list[Any]], t: list[Any], w: list[Any], b: Any, P: _Params,
                z: list[Any] | None = None) -> _StepData:
    T, Add = P.T, sympy.Add
    z = _exact_z(X, w, b) if z is None else z
    y = [_sigma(zi) for zi in z]
    yc = [_sigma(-zi) for zi in z]  # 1 − y = σ(−z), written without cancellation
    s = list(y) if P.sigma_as_derivative else [yi * yci for yi, yci in zip(y, yc)]
    r = [_residual(yi, yci, ti, zi) for yi, yci, ti, zi in zip(y, yc, t, z)]
    penalty = Add(*[wj**2 for wj in w]) + (b**2 if P.reg_bias else 0)
    reg = P.c * P.lam / T
    if P.loss == "mse":
        data = P.c / T * Add(*[ri**2 for ri in r])
        delta = [2 * P.c / T * ri * si for ri, si in zip(r, s)]
    else:
        data = -Add(*[ti * sympy.log(yi) + (1 - ti) * sympy.log(yci) for yi, yci, ti in zip(y, yc, t)]) / T
        delta = [ri / T for ri in r]
        if P.sigma_as_derivative:  # ∂L/∂y·σ(z) = −t + (1 − t)·σ(z)/σ(−z) = −t + (1 − t)·e^z
            delta = [(-ti + (1 - ti) * sympy.exp(zi)) / T for ti, zi in zip(t, z)]
    loss = data + reg * penalty
    grad_w = [Add(*[di * row[j] for di, row in zip(delta, X)]) + 2 * reg * w[j] for j in range(P.d)]
    grad_b = Add(*delta) + (2 * reg * b if P.reg_bias else 0)
    step = -P.lr if P.ascent else P.lr
    new_w = [wj - step * gj for wj, gj in zip(w, grad_w)]
    new_b = b - step * grad_b
    return _StepData(w, b, z, y, s, loss, grad_w, grad_b, new_w, new_b)


def _numeric_step(X: list[list[Any]], t: list[Any], w: list[Any], b: Any, P: _Params,
                  B: _Backend) -> _StepData:
    T, fsum = P.T, B.fsum
    z = [fsum([wj * xj for wj, xj in zip(w, row)]) + b for row in X]
    y = [B.sigmoid(zi) for zi in z]
    s = list(y) if P.sigma_as_derivative else \
        [yi * B.sigmoid(-zi) for yi, zi in zip(y, z)]  # y(1 − y), with 1 − y = σ(−z)
    penalty = fsum([wj * wj for wj in w]) + (b * b if P.reg_bias else B.zero)
    reg = P.c * P.lam / T
    # y − t; for z > 0 as (1 − t) − σ(−z), which does not cancel when y ≈ t = 1
    r = [((1 - ti) - B.sigmoid(-zi)) if zi > 0 else (yi - ti) for yi, ti, zi in zip(y, t, z)]
    if P.loss == "mse":
        data = P.c / T * fsum([ri * ri for ri in r])
        delta = [2 * P.c / T * ri * si for ri, si in zip(r, s)]
    else:  # −[t log σ(z) + (1 − t) log σ(−z)] = t·softplus(−z) + (1 − t)·softplus(z)
        data = fsum([ti * B.softplus(-zi) + (1 - ti) * B.softplus(zi) for zi, ti in zip(z, t)]) / T
        delta = [ri / T for ri in r]
        if P.sigma_as_derivative:
            delta = [(-ti + (1 - ti) * B.exp(zi)) / T for ti, zi in zip(t, z)]
    loss = data + reg * penalty
    grad_w = [fsum([di * row[j] for di, row in zip(delta, X)]) + 2 * reg * w[j] for j in range(P.d)]
    grad_b = fsum(delta) + (2 * reg * b if P.reg_bias else B.zero)
    step = -P.lr if P.ascent else P.lr
    new_w = [wj - step * gj for wj, gj in zip(w, grad_w)]
    new_b = b - step * grad_b
    return _StepData(w, b, z, y, s, loss, grad_w, grad_b, new_w, new_b)


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


# --------------------------------------------------------------------------- shapes


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


def _check_scalar(v: Any, option: str) -> Any:
    if isinstance(v, list):
        raise InputError(option, "must be a single value, not a list")
    return v


# --------------------------------------------------------------------------- the board


class _Text:
    """The general formulas, written for this T, c, loss and penalty."""

    def __init__(self, T: int, vector: bool, half: bool, loss: str, reg_bias: bool) -> None:
        self.T, self.vector, self.half, self.loss, self.reg_bias = T, vector, half, loss, reg_bias
        one = T == 1
        self.i = "" if one else "ᵢ"
        self.li = "" if one else "_i"
        # coefficients c/T, cλ/T, 2c/T, 2cλ/T
        if half:
            self.c_t = ("½", r"\frac{1}{2}") if one else ("1/(2T)", r"\frac{1}{2T}")
            self.cl_t = ("½λ", r"\frac{\lambda}{2}") if one else ("λ/(2T)", r"\frac{\lambda}{2T}")
            self.g_t = ("", "") if one else ("(1/T)", r"\frac{1}{T}")
            self.gl_t = ("λ", r"\lambda") if one else ("(λ/T)", r"\frac{\lambda}{T}")
        else:
            self.c_t = ("", "") if one else ("(1/T)", r"\frac{1}{T}")
            self.cl_t = ("λ", r"\lambda") if one else ("(λ/T)", r"\frac{\lambda}{T}")
            self.g_t = ("2", "2") if one else ("(2/T)", r"\frac{2}{T}")
            self.gl_t = ("2λ", r"2\lambda") if one else ("(2λ/T)", r"\frac{2\lambda}{T}")
        self.sum = "" if one else "Σᵢ "
        self.lsum = "" if one else r"\sum_{i=1}^{T} "
        self.pen = ("‖w‖²" if vector else "w²") + (" + b²" if reg_bias else "")
        self.lpen = (r"\lVert \mathbf{w} \rVert^2" if vector else "w^2") + (" + b^2" if reg_bias else "")
        if reg_bias:
            self.pen, self.lpen = f"({self.pen})", rf"\left({self.lpen}\right)"

    def z(self) -> Math:
        i, li = self.i, self.li
        if self.vector:
            xj = "x_j" if self.T == 1 else "x_{ij}"
            return Math(f"z{i} = w·x{i} + b = Σⱼ wⱼ·x{i}ⱼ + b",
                        rf"z{li} = \mathbf{{w}}^\top \mathbf{{x}}{li} + b = \sum_j w_j {xj} + b")
        return Math(f"z{i} = w·x{i} + b", rf"z{li} = w x{li} + b")

    def y(self) -> Math:
        i, li = self.i, self.li
        return Math(f"y{i} = σ(z{i}) = 1/(1 + e^(−z{i}))",
                    rf"y{li} = \sigma(z{li}) = \frac{{1}}{{1 + e^{{-z{li}}}}}")

    def loss_formula(self) -> Math:
        i, li, s, ls = self.i, self.li, self.sum, self.lsum
        ct, clt = self.c_t, self.cl_t
        if self.loss == "mse":
            data = f"{ct[0]}{s}(y{i} − t{i})²"
            ldata = rf"{ct[1]}{ls}(y{li} - t{li})^2"
        else:
            pre, lpre = ("−", "-") if self.T == 1 else ("−(1/T) ", r"-\frac{1}{T}")
            data = f"{pre}{s}[t{i}·log y{i} + (1 − t{i})·log(1 − y{i})]"
            ldata = rf"{lpre}{ls}\left[t{li} \log y{li} + (1 - t{li}) \log(1 - y{li})\right]"
        return Math(f"L = {data} + {clt[0]}·{self.pen}", rf"L = {ldata} + {clt[1]} {self.lpen}")

    def dsigma(self) -> Math:
        i, li = self.i, self.li
        return Math(f"σ'(z{i}) = σ(z{i})·(1 − σ(z{i})) = y{i}·(1 − y{i})",
                    rf"\sigma'(z{li}) = \sigma(z{li})\,(1 - \sigma(z{li})) = y{li}\,(1 - y{li})")

    def grad(self, of: str) -> Math:
        """∂L/∂w or ∂L/∂b: chain rule, then the general form."""
        i, li, s, ls = self.i, self.li, self.sum, self.lsum
        dz = f"x{i}" if of == "w" else "1"
        ldz = rf"\mathbf{{x}}{li}" if of == "w" and self.vector else (f"x{li}" if of == "w" else "1")
        regterm = of == "w" or self.reg_bias
        reg = f" + {self.gl_t[0]}·{of}" if regterm else ""
        lreg = rf" + {self.gl_t[1]} {of}" if regterm else ""
        chain = f"∂L/∂{of} = {s}∂L/∂y{i}·σ'(z{i})·∂z{i}/∂{of}" + (f" + ∂R/∂{of}" if regterm else "")
        lchain = (rf"\frac{{\partial L}}{{\partial {of}}} = {ls}\frac{{\partial L}}{{\partial y{li}}}"
                  rf"\,\sigma'(z{li})\,\frac{{\partial z{li}}}{{\partial {of}}}"
                  + (rf" + \frac{{\partial R}}{{\partial {of}}}" if regterm else ""))
        tail = "" if dz == "1" else f"·{dz}"
        ltail = "" if ldz == "1" else rf"\, {ldz}"
        if self.loss == "mse":
            g = self.g_t
            body = f"{g[0]}{s}(y{i} − t{i})·y{i}(1 − y{i}){tail}{reg}"
            lbody = rf"{g[1]}{ls}(y{li} - t{li})\, y{li}(1 - y{li}){ltail}{lreg}"
            return Math(f"{chain} = {body}", rf"{lchain} = {lbody}")
        one = self.T == 1
        pre, lpre = ("", "") if one else ("(1/T)", r"\frac{1}{T}")
        mid = f"{pre}{s}(−t{i}/y{i} + (1 − t{i})/(1 − y{i}))·y{i}(1 − y{i}){tail}{reg}"
        lmid = (rf"{lpre}{ls}\left(-\frac{{t{li}}}{{y{li}}} + \frac{{1 - t{li}}}{{1 - y{li}}}\right)"
                rf" y{li}(1 - y{li}){ltail}{lreg}")
        body = f"{pre}{s}(y{i} − t{i}){tail}{reg}"
        lbody = rf"{lpre}{ls}(y{li} - t{li}){ltail}{lreg}"
        return Math(f"{chain} = {mid} = {body}", rf"{lchain} = {lmid} = {lbody}")


@functools.lru_cache(maxsize=1)
def _derivation() -> Step:
    """σ'(z) derived by SymPy, and checked to equal σ(z)(1 − σ(z)); no input changes it, so it
    is worked once per process (``dlcalc batch``)."""
    z = sympy.Symbol("z")
    e = sympy.exp(-z)
    derived = sympy.diff(1 / (1 + e), z)
    # with u = e^(−z) both sides are u/(1 + u)²: rational functions whose numerators have
    # degree ≤ 2 over the same denominator, so agreeing at three points proves them equal
    u = sympy.Symbol("u")
    lhs, rhs = derived.xreplace({e: u}), (1 / (1 + u)) * (1 - 1 / (1 + u))
    if any(lhs.xreplace({u: k}) != rhs.xreplace({u: k}) for k in map(sympy.Integer, (1, 2, 3, 5))):  # pragma: no cover
        raise AssertionError("σ' does not equal σ(1 − σ)")
    sz = _Sig(z)
    return Step(
        title="σ'(z), derived (SymPy diff)",
        formula=Math("σ'(z) = d/dz [1/(1 + e^(−z))]",
                     r"\sigma'(z) = \frac{d}{dz} \frac{1}{1 + e^{-z}}"),
        substituted=derived,
        value=_Prod(sz, _Diff(1, sz)),
        note="e^(−z)/(1 + e^(−z))² = 1/(1 + e^(−z)) · e^(−z)/(1 + e^(−z)) = σ(z)·(1 − σ(z))")


def _lst(values: list[Any], vector: bool) -> Any:
    return list(values) if vector else values[0]


def _board(k: int, D: _StepData, X: list[list[Any]], t: list[Any], P: _Params, F: _Text,
           vector: bool, first: bool) -> list[Step]:
    """The working of step ``k`` from its computed values (all SymPy)."""
    sec = f"step {k}"
    T, d = P.T, P.d
    write = T * d <= BOARD_MAX_ENTRIES
    sh = _shown
    one = T == 1
    many = "" if one else "ᵢ"
    w, b = [sh(v) for v in D.w], sh(D.b)
    Xs = [[sh(v) for v in row] for row in X] if write else []
    ts = [sh(v) for v in t] if write else []
    ys = [sh(v) for v in D.y] if write else []
    zs = [sh(v) for v in D.z] if write else []
    ss = [sh(v) if v.is_number else _Prod(ys[i], _Diff(1, ys[i])) for i, v in enumerate(D.s)] if write else []
    lam, lr, c = sh(P.lam), sh(P.lr), P.c
    note = "" if write else "the batch is too large to write out; every value is in --json"
    steps: list[Step] = []

    def per_example(f: Callable[[int], Any]) -> Any:
        if not write:
            return None
        vals = [f(i) for i in range(T)]
        return vals[0] if one else vals

    def pack(vals: list[Any]) -> Any:
        return vals[0] if one else list(vals)

    # z = w·x + b
    steps.append(Step(f"z{many} = w·x{many} + b", F.z(),
                      per_example(lambda i: _sum(*[_prod(w[j], Xs[i][j]) for j in range(d)], b)),
                      pack(D.z), note, sec))
    # y = σ(z)
    steps.append(Step(f"y{many} = σ(z{many})", F.y(), per_example(lambda i: _Sig(zs[i])),
                      pack(D.y), "", sec))
    # loss
    coef = c / T
    if P.loss == "mse":
        data = _coef(coef, _sum(*[_Square(_Diff(ys[i], ts[i])) for i in range(T)])) if write else None
    else:
        terms = [_sum(_prod(ts[i], _Log(ys[i])), _prod(_Diff(1, ts[i]), _Log(_Diff(1, ys[i]))))
                 for i in range(T)] if write else []
        data = _Neg(_coef(sympy.Integer(1) / T, _sum(*terms) if not one else terms[0])) if write else None
    pen_terms = [_Square(wj) for wj in w] + ([_Square(b)] if P.reg_bias else [])
    if data is not None:
        loss_sub = _sum(data, _coef(coef, lam, _sum(*pen_terms) if len(pen_terms) > 1 else pen_terms[0]))
    else:
        loss_sub = None
    steps.append(Step("loss L", F.loss_formula(), loss_sub, D.loss, note, sec))
    # σ'(z)
    if first:
        steps.append(dataclasses.replace(_derivation(), section=sec))
    steps.append(Step(f"σ'(z{many}) at this step", F.dsigma(), per_example(lambda i: _prod(ys[i], _Diff(1, ys[i]))),
                      pack(D.s), "", sec))

    # gradients
    g2 = 2 * c / T

    def grad_sub(feature: Callable[[int], Any | None], regval: Any | None) -> Any:
        def factors(i: int) -> list[Any]:
            fs = [_Diff(ys[i], ts[i])] + ([ss[i]] if P.loss == "mse" else []) + [feature(i)]
            return [f for f in fs if f is not None]

        k = g2 if P.loss == "mse" else sympy.Integer(1) / T
        if one:
            data_part = _coef(k, *factors(0))
        else:
            data_part = _coef(k, _sum(*[_prod(*factors(i)) for i in range(T)]))
        if regval is None:
            return data_part
        return _sum(data_part, _coef(g2, lam, regval))

    gw_sub = ([grad_sub(lambda i, j=j: Xs[i][j], w[j]) for j in range(d)] if write else None)
    steps.append(Step("∂L/∂w", F.grad("w"), (_lst(gw_sub, vector) if gw_sub is not None else None),
                      _lst(D.grad_w, vector), note, sec))
    gb_sub = grad_sub(lambda i: None, b if P.reg_bias else None) if write else None
    steps.append(Step("∂L/∂b", F.grad("b"), gb_sub, D.grad_b, "", sec))
    # updates
    gws = [sh(v) for v in D.grad_w]
    steps.append(Step("update w", Math("w ← w − α·∂L/∂w", r"w \leftarrow w - \alpha \frac{\partial L}{\partial w}"),
                      _lst([_Diff(w[j], _prod(lr, gws[j])) for j in range(d)], vector) if d <= BOARD_MAX_ENTRIES
                      else None,
                      _lst(D.new_w, vector), "", sec))
    steps.append(Step("update b", Math("b ← b − α·∂L/∂b", r"b \leftarrow b - \alpha \frac{\partial L}{\partial b}"),
                      _Diff(b, _prod(lr, sh(D.grad_b))), D.new_b, "", sec))
    return steps


# --------------------------------------------------------------------------- solve


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


def solve(inp: Inputs, *, sigma_as_derivative: bool = False, ascent: bool = False) -> Solution:
    """The worked solution (see :func:`work`); the flags are mistakes for ``--check``."""
    return work(**as_kwargs(inp), sigma_as_derivative=sigma_as_derivative, ascent=ascent)


def work(x: Any, t: Any, w: Any, b: Any, lam: Any, lr: Any, *, loss: str = "mse",
          half: bool = True, reg_bias: bool = False, steps: int = 1,
          sigma_as_derivative: bool = False, ascent: bool = False) -> Solution:
    """Gradient-descent ``steps`` of one sigmoid neuron (see the module docstring).

    ``x``: a scalar, a vector (one example, or with a scalar ``w`` and one target per entry
    of ``t``, that many one-feature examples), a matrix (rows are examples), or ``None``
    (the symbol x).  ``t``: a scalar, a vector (one target per example), or ``None``
    (the symbol t).  ``w``: a scalar or a vector.  ``b``, ``lam``, ``lr``: scalars.
    Any value may be symbolic.  ``sigma_as_derivative`` and ``ascent`` are the two
    mistakes of :data:`MISTAKES` that no convention flag expresses (used by ``--check``).
    """
    loss = str(loss).strip().lower()
    if loss not in LOSSES:
        raise InputError("--loss", f"must be mse or bce, got {loss[:20]!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InputError("--steps", f"must be between 1 and {MAX_STEPS:,}, got {steps}")
    for v, opt in ((b, "--b"), (lam, "--lam"), (lr, "--lr")):
        _check_scalar(v, opt)
    if isinstance(w, list) and any(isinstance(e, list) for e in w):
        raise InputError("--w", "must be a scalar or a vector, not a matrix")
    X, tl, wl, vector = _shapes(x, t, w)
    T, d = len(X), len(wl)
    if lam.is_number and lam.is_negative:
        raise InputError("--lam", f"must be ≥ 0 (an L2 penalty), got {lam}")
    if loss == "bce":
        for i, ti in enumerate(tl):
            if ti.is_number and (ti.is_negative or (ti - 1).is_positive):
                where = "" if T == 1 else f" (example {i + 1})"
                raise InputError("--t", f"must be in [0, 1] for --loss bce, got {ti}{where}")
    work = steps * T * d
    if work > MAX_WORK:
        raise InputError("--steps", f"{steps:,} steps on {T:,} example{'s' * (T != 1)} of {d:,} "
                                    f"feature{'s' * (d != 1)} is too much work (steps · examples · "
                                    f"features at most {MAX_WORK:,})")
    values = [v for row in X for v in row] + tl + wl + [b, lam, lr]
    symbolic = any(not v.is_number for v in values)
    if symbolic:
        if steps > SYMBOLIC_MAX_STEPS:
            raise InputError("--steps", f"with symbolic inputs can be at most {SYMBOLIC_MAX_STEPS} "
                                        "(the expressions grow with every step); give numbers for a long run")
        if T * d > SYMBOLIC_MAX_ENTRIES:
            raise InputError("--x", f"with symbolic inputs can have at most {SYMBOLIC_MAX_ENTRIES} "
                                    "entries; give numbers for a large batch")

    c = sympy.Rational(1, 2) if half else sympy.Integer(1)
    P = _Params(T=T, d=d, c=c, lam=lam, lr=lr, loss=loss, reg_bias=reg_bias,
                sigma_as_derivative=sigma_as_derivative, ascent=ascent)
    F = _Text(T, vector, half, loss, reg_bias)

    shown = set(range(1, min(steps, BOARD_FULL_STEPS) + 1)) | {steps}
    if steps <= BOARD_FULL_STEPS + 1:
        shown = set(range(1, steps + 1))

    board: list[Step] = []
    history: list[dict[str, Any]] = []
    notes: list[str] = []
    first: tuple[Any, list[Any], Any] | None = None   # loss, grad_w, grad_b of step 1
    final: tuple[list[Any], Any] | None = None        # w, b after the last step
    exact = symbolic or T * d <= EXACT_MAX_ENTRIES
    B: _Backend | None = None
    Pn: _Params | None = None
    Xn: list[list[Any]] = []
    tn: list[Any] = []
    cur_w, cur_b = list(wl), b
    big_z = False
    for k in progress(range(1, steps + 1), steps, "gradient steps"):
        z_exact = _exact_z(X, cur_w, cur_b) if exact else None
        if exact and not symbolic and _too_large_for_exact(z_exact):
            exact = False  # e^(−|z|) is too small for exact forms to evaluate reliably
            big_z = True
        if exact:
            D = _exact_step(X, tl, cur_w, cur_b, P, z_exact)
            if symbolic:
                _check_symbolic_size(D, k)
            elif k < steps and _nodes(D.new_w + [D.new_b], EXACT_MAX_NODES) > EXACT_MAX_NODES:
                exact = False  # the exact forms have grown long: go on numerically
            Ds: _StepData | None = D
            rec = (D.loss, D.grad_w, D.grad_b, D.new_w, D.new_b)
            hist = rec
        else:
            if B is None:
                B = _Backend("mpmath" if (steps - k + 1) * T * d <= MPMATH_WORK else "float")
                Xn = [[B.num(v) for v in row] for row in X]
                tn = [B.num(v) for v in tl]
                cur_w, cur_b = [B.num(v) for v in cur_w], B.num(cur_b)
                Pn = _Params(T=T, d=d, c=B.num(c), lam=B.num(lam), lr=B.num(lr), loss=loss,
                             reg_bias=reg_bias, sigma_as_derivative=sigma_as_derivative, ascent=ascent)
                notes.append(_numeric_note(B, k, steps, T, d, big_z))
            assert Pn is not None
            try:
                D = _numeric_step(Xn, tn, cur_w, cur_b, Pn, B)
                finite = all(B.finite(v) for v in D.new_w + D.grad_w + [D.new_b, D.grad_b, D.loss])
            except (OverflowError, ZeroDivisionError):
                finite = False
            if not finite:
                raise InputError(_largest(X, tl, wl, b, lam, lr),
                                 f"makes the numbers overflow at step {k} (beyond ±1.7e308)")
            out = B.out
            Ds = None
            if k in shown:
                Ds = _StepData(*[[out(v) for v in f] if isinstance(f, list) else out(f)
                                 for f in dataclasses.astuple(D)])
            rec = (out(D.loss), [out(g) for g in D.grad_w], out(D.grad_b),
                   [out(v) for v in D.new_w], out(D.new_b)) if k in (1, steps) else None
            # the history of a numeric run holds machine numbers: cheap to keep and print
            hist = (float(D.loss), [float(g) for g in D.grad_w], float(D.grad_b),
                    [float(v) for v in D.new_w], float(D.new_b))
        if k == 1:
            assert rec is not None
            first = (rec[0], rec[1], rec[2])
        if k == steps:
            assert rec is not None
            final = (rec[3], rec[4])
        history.append({"loss": hist[0], "grad_w": _lst(hist[1], vector), "grad_b": hist[2],
                        "w": _lst(hist[3], vector), "b": hist[4]})
        if k in shown:
            assert Ds is not None
            board.extend(_board(k, Ds, X, tl, P, F, vector, first=k == 1))
        elif k == BOARD_FULL_STEPS + 1:
            board.append(Step(f"steps {k}–{steps - 1}",
                              note="worked the same way; every step is in the history (and in --json)",
                              section=f"steps {k}–{steps - 1}"))
        cur_w, cur_b = D.new_w, D.new_b
    assert first is not None and final is not None
    if not symbolic:
        _check_finite([first[0], first[2], final[1]] + first[1] + final[0], X, tl, wl, b, lam, lr)

    conventions = {
        "model": "z = w·x + b, y = σ(z) = 1/(1 + e^(−z))" + (f", T = {T} examples" if T > 1 else ", one example"),
        "loss": ("squared error, L = (c/T) Σᵢ (yᵢ − tᵢ)² + (c·λ/T)·‖w‖²" if loss == "mse" else
                 "cross-entropy, L = −(1/T) Σᵢ [tᵢ log yᵢ + (1 − tᵢ) log(1 − yᵢ)] + (c·λ/T)·‖w‖²"),
        "c": "½ (--half; --no-half for c = 1)" if half else "1 (--no-half; the default --half is c = ½)",
        "penalty": "‖w‖² + b²: the bias is regularized (--reg-bias)" if reg_bias else
                   "‖w‖² only: the bias is not regularized (--reg-bias to include b²)",
        "update": "w ← w − α·∂L/∂w, b ← b − α·∂L/∂b" + (f", {steps} steps, each from the weights the "
                                                        "previous step left" if steps > 1 else ""),
    }
    inputs: dict[str, Any] = {
        "x": x if x is not None else (X[0][0] if T * d == 1 else [r[0] for r in X] if d == 1 and T > 1
                                       else X[0] if T == 1 else X),
        "t": t if t is not None else (tl[0] if T == 1 else tl),
        "w": w, "b": b, "lam": lam, "lr": lr, "loss": loss, "steps": steps,
    }
    if symbolic:
        notes.append("symbolic: the answer is an expression in "
                     + ", ".join(sorted({str(s) for v in values for s in getattr(v, "free_symbols", ())})))
    result = {
        "w": _lst(final[0], vector), "b": final[1],
        "loss": first[0], "grad_w": _lst(first[1], vector), "grad_b": first[2],
        "history": history,
    }
    return Solution(command="sigmoid-step", inputs=inputs, conventions=conventions, steps=tuple(board),
                    result=result, notes=tuple(notes))


def _check_symbolic_size(D: _StepData, k: int) -> None:
    """Symbolic answers grow about fivefold with every step: refuse before they explode."""
    if _nodes(D.new_w + [D.new_b, D.loss, D.grad_b] + D.grad_w, SYMBOLIC_MAX_NODES) > SYMBOLIC_MAX_NODES:
        most = f"at most {k - 1}" if k > 1 else "fewer features or examples"
        raise InputError("--steps", f"with symbolic inputs: the expressions of step {k} have more than "
                                    f"{SYMBOLIC_MAX_NODES:,} terms (they grow with every step); ask for "
                                    f"{most}, or give numbers")


def _numeric_note(B: _Backend, k: int, steps: int, T: int, d: int, big_z: bool) -> str:
    how = ("mpmath, 30 significant digits" if B.kind == "mpmath"
           else "IEEE double with stable formulas and compensated sums")
    which = f"steps {k}–{steps}" if k < steps else f"step {k}"
    if k == 1:
        which = "every step" if steps > 1 else "the step"
    why = (f"|z| exceeds {Z_EXACT_MAX}, where e^(−|z|) is too small for exact forms to evaluate reliably"
           if big_z else f"a batch of {T}×{d} values is too large for exact forms" if k == 1
           else "the exact forms grow with every step")
    done = "" if k == 1 else (f"; steps 1–{k - 1} exact" if k > 2 else "; step 1 exact")
    tail = ". The history of numeric steps holds double-precision numbers" if steps > 1 else ""
    return f"{which} computed numerically ({how}){done}: {why}{tail}"


def _largest(X: list[list[Any]], t: list[Any], w: list[Any], b: Any, lam: Any, lr: Any) -> str:
    """The option holding the input of largest magnitude (to name in an overflow error)."""
    groups = {"--x": [v for r in X for v in r], "--t": t, "--w": w, "--b": [b], "--lam": [lam], "--lr": [lr]}
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


def _check_finite(vals: list[Any], X: Any, t: Any, w: Any, b: Any, lam: Any, lr: Any) -> None:
    """Every numeric answer must be a finite double (JSON numbers are doubles)."""
    from dlcalc.printing import json_value  # the same conversion the JSON output makes

    for v in vals:
        try:
            f = json_value(v)
            ok = isinstance(f, (int, float)) and math.isfinite(f) and abs(f) <= 1.7e308
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InputError(_largest(X, t, w, b, lam, lr),
                             "makes the numbers overflow double precision (beyond ±1.7e308)")


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
    Mistake("wrong sign in the update (w + α·∂L/∂w)", {"ascent": True}),
)
