"""bn-forward: batch normalization forward and backward, running statistics, eval mode.

Two conventions (``--convention``), on an m × C batch (rows are examples, columns features):

* ``torch`` (the default) is exactly ``torch.nn.BatchNorm1d``: μ_B = (1/m) Σ x_i and the biased
  σ²_B = (1/m) Σ (x_i − μ_B)² normalize, x̂_i = (x_i − μ_B)/√(σ²_B + ε), y_i = γ x̂_i + β; the
  buffers are updated with r ← (1 − momentum)·r + momentum·s, the variance with the unbiased
  s² = m/(m − 1)·σ²_B; ε = 1e-5 and momentum = 0.1 by default;
* ``keras`` is ``keras.layers.BatchNormalization``: the same normalization; the moving statistics
  are updated with moving ← momentum·moving + (1 − momentum)·s, the variance with the batch's
  biased σ²_B; ε = 1e-3 and momentum = 0.99 by default.

In both, eval mode normalizes with the running (moving) statistics, which stay unchanged, and
the backward pass is Ioffe & Szegedy's (2015): ∂L/∂β = Σ g_i, ∂L/∂γ = Σ g_i x̂_i and, in
training, ∂L/∂x_i = γ/(m√(σ²_B + ε))·(m g_i − Σ_j g_j − x̂_i Σ_j g_j x̂_j), with g_i = ∂L/∂y_i.

One code path works every batch.  :func:`_work` does the arithmetic of one feature, with exact
SymPy values (:class:`_Exact`: batches of at most :data:`EXACT_MAX` entries and every symbolic
input) or with integer sums and doubles (:class:`_Numeric`, bigger batches: means, variances,
running statistics and ∂L/∂β exact; x̂, y, ∂L/∂x, ∂L/∂γ doubles from exact sums with one
correctly rounded division each, a few ulps).  One board (:class:`_Board`) writes the working
from the formulas written once below: every feature and row of a small batch, the first
feature's first rows of a big one.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import sympy
from sympy import Add, Mul, Pow, Rational, Symbol
from sympy.printing.precedence import PRECEDENCE

from dlcalc.board import Named, OAdd, OMul, Sigma, eq, ordered_product, step, steps_of, written
from dlcalc.core import Math, Mistake, Solution, Step, xreplace_unevaluated
from dlcalc.core import fraction_of as _frac, is_symbolic as _is_symbolic, sympy_number as _sym
from dlcalc.errors import InputError
from dlcalc.registry import ARGUMENTS, FLAG, Command, Option

COMMAND = Command(
    name="bn-forward",
    summary="Batch-norm forward (and backward with --grad-out), running statistics, eval mode.",
    description="Exactly torch.nn.BatchNorm1d: biased variance to normalize, unbiased in the running update; "
                "or keras.layers.BatchNormalization with --convention keras.",
    example="dlcalc bn-forward 1 2 3 4",
    dash_values=True,
    conditional_keys={k: "needs --grad-out (the backward pass)" for k in ("grad_x", "grad_gamma", "grad_beta")},
    options=(
        Option("VALUES", "The batch of one feature (1 2 3 4; negative values work: -1.5), or @FILE / - "
                         "to read it; any value may be a symbol. For several features use --x.",
               kind=ARGUMENTS),
        Option("--x", "The batch as an m×C matrix, rows are examples, columns features "
                      "(\"[[1, 2], [3, 4]]\", \"1 2; 3 4\", @FILE.csv or - for standard input)."),
        Option("--gamma", "γ (weight): a scalar or one per feature.", default="1"),
        Option("--beta", "β (bias): a scalar or one per feature.", default="0"),
        Option("--eps", "ε inside the square root (may be 0 or a symbol); default 1e-5 (torch), "
                        "1e-3 (--convention keras).", show_default=False),
        Option("--momentum", "Momentum in [0, 1]. torch: r ← (1 − momentum)·r + momentum·s, default 0.1; "
                             "keras: r ← momentum·r + (1 − momentum)·s, default 0.99.", show_default=False),
        Option("--running-mean", "Running mean before this batch (Keras: moving_mean): a scalar or one "
                                 "per feature.", default="0"),
        Option("--running-var", "Running variance before this batch (Keras: moving_variance): a scalar or "
                                "one per feature.", default="1"),
        Option("--convention", "torch (torch.nn.BatchNorm1d) or keras (keras.layers.BatchNormalization: "
                               "Keras's momentum, the biased variance in the moving-variance update, "
                               "defaults ε = 1e-3 and momentum = 0.99).", default="torch"),
        Option("--eval", "Eval mode: normalize with the running statistics (left unchanged).",
               kind=FLAG, default=False),
        Option("--grad-out", "∂L/∂y in the batch's shape: adds the backward pass (∂L/∂x, ∂L/∂γ, ∂L/∂β)."),
    ),
)

EXACT_MAX = 64        # batch entries (m·C) worked exactly with SymPy, step by step
SHOW_ROWS = 3         # rows of x̂, y, ∂L/∂x worked in the working of a big batch
SUM_TERMS = 8         # terms of a sum written out before it is elided with …
CONVENTIONS = ("torch", "keras")
#: ε and momentum when they are not given, per convention
DEFAULTS = {"torch": (Fraction(1, 100000), Fraction(1, 10)), "keras": (Fraction(1, 1000), Fraction(99, 100))}

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# --------------------------------------------------------------------------- the formulas


class elided_sum(sympy.Function):
    """t₁ + t₂ + … + tₘ with only its first terms and its last written: the next-to-last
    argument is the sum of the terms not written, printed as "…", so the line evaluates
    (``doit``) to the whole sum."""

    precedence = PRECEDENCE["Add"]

    def doit(self, **hints: Any) -> Any:
        return Add(*[a.doit(**hints) for a in self.args])

    def _eval_evalf(self, prec: int) -> Any:
        return self.doit()._eval_evalf(prec)

    def _joined(self, printer: Any, dots: str) -> str:
        parts = [printer._print(a) for a in self.args[:-2]] + [dots, printer._print(self.args[-1])]
        return " + ".join(parts)

    def _sympystr(self, printer: Any) -> str:
        return self._joined(printer, "…")

    def _latex(self, printer: Any) -> str:
        return self._joined(printer, r"\dots")


def _minus(a: Any, b: Any) -> Any:
    return Add(a, -b if isinstance(b, int) else Mul(-1, b, evaluate=False), evaluate=False)


def _mul(*factors: Any) -> Any:
    return Mul(*factors, evaluate=False)


def _plus(*terms: Any) -> Any:
    return Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _inv(a: Any) -> Any:
    return Pow(a, -1, evaluate=False)


def _rsqrt_of(a: Any) -> Any:
    return Pow(a, Rational(-1, 2), evaluate=False)


def _root(a: Any) -> Any:
    return Pow(a, Rational(1, 2), evaluate=False)


def _sub(i: int) -> str:
    return str(i).translate(_SUBSCRIPTS)


@functools.lru_cache(maxsize=512)
def _row(i: int | str) -> tuple[Symbol, ...]:
    """The symbols of row i: xᵢ, x̂ᵢ, yᵢ, ∂L/∂yᵢ, ∂L/∂x̂ᵢ, ∂L/∂xᵢ."""
    s = _sub(i) if isinstance(i, int) else {"i": "ᵢ", "j": "ⱼ"}[i]
    return (Symbol(f"x_{i}"), Symbol(f"xhat_{i}"), Symbol(f"y_{i}"),
            Named(f"dLdy_{i}", f"∂L/∂y{s}", rf"\frac{{\partial L}}{{\partial y_{{{i}}}}}"),
            Named(f"dLdxhat_{i}", f"∂L/∂x̂{s}", rf"\frac{{\partial L}}{{\partial \hat{{x}}_{{{i}}}}}"),
            Named(f"dLdx_{i}", f"∂L/∂x{s}", rf"\frac{{\partial L}}{{\partial x_{{{i}}}}}"))


def _at_row(template: Any, i: int) -> Any:
    """A formula written for row i (xᵢ, ∂L/∂yᵢ, …) for row 1, 2, …"""
    return xreplace_unevaluated(template, dict(zip(_row("i"), _row(i))))


M, EPS, GAMMA, BETA = Symbol("m"), Symbol("epsilon"), Symbol("gamma"), Symbol("beta")
MOM = Named("momentum", "momentum", r"\mathrm{momentum}")
MU_B = Named("mu_B", "μ_B", r"\mu_B")
VAR_B = Named("var_B", "σ²_B", r"\sigma^2_B")
VAR_N = Named("var_N", "σ²_N", r"\sigma^2_N")  # the mistake: normalized with the unbiased variance
S2_B = Named("s2_B", "s²_B", r"s^2_B")
R_MU, R_VAR = Named("r_mu", "r_μ", r"r_\mu"), Named("r_var", "r_σ²", r"r_{\sigma^2}")
R_MU_NEW, R_VAR_NEW = Named("r_mu_new", "r_μ′", r"r_\mu'"), Named("r_var_new", "r_σ²′", r"r_{\sigma^2}'")
DBETA = Named("dLdbeta", "∂L/∂β", r"\frac{\partial L}{\partial \beta}")
DGAMMA = Named("dLdgamma", "∂L/∂γ", r"\frac{\partial L}{\partial \gamma}")
DMU = Named("dLdmu_B", "∂L/∂μ_B", r"\frac{\partial L}{\partial \mu_B}")
DVAR_B = Named("dLdvar_B", "∂L/∂σ²_B", r"\frac{\partial L}{\partial \sigma^2_B}")
DVAR_N = Named("dLdvar_N", "∂L/∂σ²_N", r"\frac{\partial L}{\partial \sigma^2_N}")
X_I, XH_I, Y_I, G_I, D_I, DX_I = _row("i")
#: placeholders: the variance's divisor (m; m − 1 under the mistake), sums over the rows written
#: out per batch (… for the remainder REST_k), and the three symbols of a running update
N_DIV, SUM_1, REST_1, REST_2 = sympy.symbols("n_div Sigma_1 rest_1 rest_2")
NEW, OLD, STAT = sympy.symbols("new old stat")

MEAN = eq(MU_B, _mul(SUM_1, _inv(M)))                                 # Σ₁ = x₁ + … + xₘ
VARIANCE = eq(VAR_B, _mul(SUM_1, _inv(N_DIV)))                        # Σ₁ = (x₁ − μ_B)² + …
XHAT = eq(XH_I, _mul(_minus(X_I, MU_B), _rsqrt_of(_plus(VAR_B, EPS))))
Y = eq(Y_I, _plus(_mul(GAMMA, XH_I), BETA))
Y_SHIFTED = eq(Y_I, _mul(GAMMA, _plus(XH_I, BETA)))                   # the mistake y = γ·(x̂ + β)
UNBIASED = eq(S2_B, _mul(VAR_B, M, _inv(_minus(M, 1))))
TORCH_UPDATE = eq(NEW, _plus(_mul(OLD, _minus(1, MOM)), _mul(MOM, STAT)))
KERAS_UPDATE = eq(NEW, _plus(_mul(OLD, MOM), _mul(STAT, _minus(1, MOM))))
DBETA_SUM = eq(DBETA, SUM_1)                                          # Σ₁ = ∂L/∂y₁ + …
DBETA_SHIFTED = eq(DBETA, _mul(GAMMA, SUM_1))
DGAMMA_SUM = eq(DGAMMA, SUM_1)                                        # Σ₁ = ∂L/∂y₁·x̂₁ + …
DXHAT = eq(D_I, _mul(G_I, GAMMA))
DVAR = eq(DVAR_B, _mul(-1, SUM_1, _inv(_mul(2, _plus(VAR_B, EPS), _root(_plus(VAR_B, EPS))))))
DMEAN = eq(DMU, _mul(-1, SUM_1, _rsqrt_of(_plus(VAR_B, EPS))))     # + ∂L/∂σ²·(−2/m)·Σ (xᵢ − μ_B), which is 0
DX = eq(DX_I, _plus(_mul(D_I, _rsqrt_of(_plus(VAR_B, EPS))), _mul(DVAR_B, 2, _minus(X_I, MU_B), _inv(N_DIV)),
                    _mul(DMU, _inv(M))))
DX_EVAL = eq(DX_I, _mul(GAMMA, G_I, _rsqrt_of(_plus(VAR_B, EPS))))
#: the terms of the sums, for row i
CENTERED = _minus(X_I, MU_B)
SQUARE = Pow(CENTERED, 2, evaluate=False)
G_XHAT = _mul(G_I, XH_I)
G_XHAT_SHIFTED = _mul(G_I, _plus(XH_I, BETA))                         # under the mistake y = γ·(x̂ + β)
D_CENTERED = _mul(D_I, CENTERED)


# --------------------------------------------------------------------------- CLI inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of bn-forward.

    Attributes:
        x: the batch as m rows of C values (Fractions, SymPy numbers or expressions).
        single: the batch is one feature given as a list (results are flat lists).
        gamma, beta, running_mean, running_var: a scalar or one per feature.
        eps, momentum: ε inside the square root and the momentum of the running update, in
            the convention's sense; None: the convention's default (:data:`DEFAULTS`).
        eval_mode: normalize with the running statistics (``--eval``).
        grad_out: ∂L/∂y in the batch's shape, or None (no backward pass).
        x_option: the option that gave the batch, for error messages.
        convention: "torch" (torch.nn.BatchNorm1d) or "keras" (keras.layers.BatchNormalization).
    """

    x: Any
    single: bool = False
    gamma: Any = 1
    beta: Any = 0
    eps: Any = None
    momentum: Any = None
    running_mean: Any = 0
    running_var: Any = 1
    eval_mode: bool = False
    grad_out: Any = None
    x_option: str = "--x"
    convention: str = "torch"


def parse(*, values: Sequence[str] | None, x: str | None, gamma: str | None, beta: str | None, eps: str | None,
          momentum: str | None, running_mean: str | None, running_var: str | None, convention: str | None,
          eval: bool, grad_out: str | None) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option); ε and
    the momentum not given are the convention's defaults."""
    from dlcalc.parse import parse_value_fast

    def value(text: str | None, default: Any, option: str, kinds: tuple[str, ...] = ("scalar", "vector")) -> Any:
        return default if text is None else parse_value_fast(text, option, kinds=kinds)

    conv = ("torch" if convention is None else convention).strip().lower()
    conv = "torch" if conv == "pytorch" else conv
    if conv not in CONVENTIONS:
        raise InputError("--convention", f"must be torch or keras; got {convention.strip()[:30]!r}")
    batch, single, option = parse_batch(values or [], x)
    default_eps, default_momentum = DEFAULTS[conv]
    return Inputs(batch, single=single, x_option=option, convention=conv,
                  gamma=value(gamma, Fraction(1), "--gamma"), beta=value(beta, Fraction(0), "--beta"),
                  eps=value(eps, default_eps, "--eps", ("scalar",)),
                  momentum=value(momentum, default_momentum, "--momentum", ("scalar",)),
                  running_mean=value(running_mean, Fraction(0), "--running-mean"),
                  running_var=value(running_var, Fraction(1), "--running-var"), eval_mode=eval,
                  grad_out=value(grad_out, None, "--grad-out", ("scalar", "vector", "matrix")))


def parse_batch(values: Sequence[str], x: str | None) -> tuple[list[list[Any]], bool, str]:
    """The batch as m × C rows, whether it is one feature given as a list, and its option name."""
    from dlcalc.parse import parse_value_fast

    if x is not None:
        value = parse_value_fast(x, "--x", kinds=("vector", "matrix"))
        if values:
            raise InputError("--x", "cannot be combined with batch values given as arguments; use one of them")
        if value and isinstance(value[0], list):
            return value, False, "--x"
        return [[v] for v in value], True, "--x"
    if not values:
        raise InputError("VALUES", "are missing: give the batch (dlcalc bn-forward 1 2 3 4) or --x MATRIX")
    if len(values) == 1 and (values[0] == "-" or values[0].startswith("@")):
        value = parse_value_fast(values[0], "VALUES", kinds=("vector",))
    else:
        from dlcalc.parse import MAX_ELEMENTS

        if len(values) > MAX_ELEMENTS:
            raise InputError("VALUES", f"has more than {MAX_ELEMENTS:,} entries")
        value = [parse_value_fast(t, "VALUES", kinds=("scalar",)) for t in values]
    return [[v] for v in value], True, "VALUES"


# --------------------------------------------------------------------------- helpers


def _add(values: Sequence[Any]) -> Any:
    """A sum built pairwise: sums of numbers never reach sympy.Add's flatten (a slow first import)."""
    return functools.reduce(operator.add, values, sympy.Integer(0))


@functools.lru_cache(maxsize=4096, typed=True)
def _put(v: Any) -> Any:
    """A value as it is put into a substituted line: itself when short; an irrational or long
    number as its decimal (30 digits kept, so the line still evaluates to the step's value)."""
    if isinstance(v, float):
        return sympy.Float(v)
    v = _sym(v)
    if v.is_Float or not v.is_number:
        return v
    if v.is_Rational:
        digits = len(str(abs(v.p))) + (len(str(v.q)) + 1 if v.q != 1 else 0)
        if digits <= 12:
            return v
    return sympy.Float(sympy.N(v, 30), 30)


def _per_feature(value: Any, C: int, option: str) -> list[Any]:
    """A scalar or a list of C values -> a list of C values."""
    if isinstance(value, list):
        if any(isinstance(v, list) for v in value):
            raise InputError(option, "must be a scalar or one value per feature, not a matrix")
        if len(value) != C:
            raise InputError(option, f"has {len(value)} value{'s' if len(value) != 1 else ''}, but the "
                                     f"batch has {C} feature{'s' if C != 1 else ''}; give one value "
                                     "or one per feature")
        return list(value)
    return [value] * C


def _grad_rows(grad: Any, m: int, C: int, single: bool) -> list[list[Any]]:
    """--grad-out in the batch's shape (m × C rows)."""
    shape = f"{m} values" if single else f"{m}×{C}"
    if not isinstance(grad, list):
        if m * C == 1:
            return [[grad]]
        raise InputError("--grad-out", f"must have the batch's shape ({shape}), got a scalar")
    if grad and isinstance(grad[0], list):
        rows, cols = len(grad), len(grad[0])
        if (rows, cols) == (m, C):
            return [list(r) for r in grad]
        if single and rows == 1 and cols == m:
            return [[v] for v in grad[0]]
        raise InputError("--grad-out", f"must have the batch's shape ({shape}), got {rows}×{cols}")
    if C == 1 and len(grad) == m:
        return [[v] for v in grad]
    if m == 1 and len(grad) == C:
        return [list(grad)]
    raise InputError("--grad-out", f"must have the batch's shape ({shape}), got {len(grad)} values")


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Batch:
    """The validated batch: m × C rows, ∂L/∂y in the same shape (or None), and γ, β and the
    running statistics one per feature."""

    x: list[list[Any]]
    grad: list[list[Any]] | None
    gamma: list[Any]
    beta: list[Any]
    running_mean: list[Any]
    running_var: list[Any]
    single: bool
    symbolic: bool

    @property
    def m(self) -> int:
        return len(self.x)

    @property
    def C(self) -> int:
        return len(self.x[0])

    def feature(self, j: int) -> tuple[list[Any], list[Any] | None, tuple[Any, Any, Any, Any]]:
        """Feature j: its column, its ∂L/∂y (or None) and (γ, β, running mean, running variance)."""
        g = None if self.grad is None else [r[j] for r in self.grad]
        return ([r[j] for r in self.x], g,
                (self.gamma[j], self.beta[j], self.running_mean[j], self.running_var[j]))


def _batch(inp: Inputs, eps: Any, momentum: Any) -> Batch:
    """The inputs checked and put in shape (every problem an InputError naming its option)."""
    x, option = inp.x, inp.x_option
    if not x or not x[0]:
        raise InputError(option, "is empty")
    m, C = len(x), len(x[0])
    if any(len(r) != C for r in x):
        raise InputError(option, "is a ragged matrix: rows have different lengths")
    params = {name: _per_feature(getattr(inp, name), C, "--" + name.replace("_", "-"))
              for name in ("gamma", "beta", "running_mean", "running_var")}
    _validate(m, option, eps, momentum, params["running_var"], inp.eval_mode)
    grad = None if inp.grad_out is None else _grad_rows(inp.grad_out, m, C, inp.single)
    named = ((option, [v for r in x for v in r]), ("--gamma", params["gamma"]), ("--beta", params["beta"]),
             ("--eps", [eps]), ("--momentum", [momentum]), ("--running-mean", params["running_mean"]),
             ("--running-var", params["running_var"]), ("--grad-out", [v for r in grad or [] for v in r]))
    symbolic = next((name for name, vals in named if any(_is_symbolic(v) for v in vals)), None)
    if symbolic and m * C > EXACT_MAX:
        raise InputError(symbolic, f"is symbolic, which is supported for batches of up to {EXACT_MAX} "
                                   f"values; this batch has {m}×{C} = {m * C}")
    return Batch(x, grad, single=inp.single, symbolic=symbolic is not None, **params)


def _validate(m: int, option: str, eps: Any, momentum: Any, running_var: list[Any], eval_mode: bool) -> None:
    if m < 2 and not eval_mode:
        raise InputError(option, "has one example; training mode needs at least 2 (PyTorch refuses a "
                                 "batch of one: the unbiased variance of the running update divides "
                                 "by m − 1 = 0). Use --eval to normalize with the running statistics")
    for name, v in (("--eps", eps), ("--momentum", momentum)):
        if isinstance(v, list):
            raise InputError(name, "must be a single value")
    e = _sym(eps)
    if e.is_number and e.is_negative:
        raise InputError("--eps", f"must be ≥ 0, got {e}")
    mo = _sym(momentum)
    if mo.is_number and (mo.is_negative or (mo - 1).is_positive):
        raise InputError("--momentum", f"must be between 0 and 1, got {mo}")
    for j, rv in enumerate(running_var):
        r = _sym(rv)
        if r.is_number and r.is_negative:
            raise InputError("--running-var", f"must be ≥ 0 (a variance), got {r}"
                                              + (f" for feature {j + 1}" if len(running_var) > 1 else ""))


def _zero_variance(j: int, C: int, eval_mode: bool) -> InputError:
    feature = f"feature {j + 1}" if C > 1 else "the batch"
    if eval_mode:
        of = f" of feature {j + 1}" if C > 1 else ""
        return InputError("--eps", f"is 0 and the running variance{of} is 0: x̂ = (x − r_μ)/√(0 + 0) "
                                   "is undefined; give --eps > 0")
    return InputError("--eps", f"is 0 and {feature} has zero variance (all its values are equal): "
                               "x̂ = 0/√(0 + 0) is undefined; give --eps > 0")


# --------------------------------------------------------------------------- the arithmetic


def _same(v: Any) -> Any:
    return v


class _Exact:
    """Exact SymPy arithmetic: a column is a list of SymPy values; symbolic values are expanded."""

    def __init__(self, symbolic: bool) -> None:
        self.tidy = sympy.expand if symbolic else _same

    number = staticmethod(_sym)
    exact = staticmethod(_same)
    approx = staticmethod(_same)
    value = staticmethod(_same)

    @staticmethod
    def column(values: Sequence[Any]) -> list[Any]:
        return [_sym(v) for v in values]

    @staticmethod
    def entry(col: list[Any], i: int) -> Any:
        return col[i]

    size = staticmethod(len)

    @staticmethod
    def total(col: list[Any]) -> Any:
        return _add(col)

    @staticmethod
    def shifted(col: list[Any], c: Any) -> list[Any]:
        """col − c."""
        return [v - c for v in col]

    def squares(self, col: list[Any]) -> Any:
        return _add([self.tidy(v ** 2) for v in col])

    def dot(self, a: list[Any], b: list[Any]) -> Any:
        return self.tidy(_add([u * v for u, v in zip(a, b)]))

    def combine(self, a: list[Any], ka: Any, b: list[Any], kb: Any, k0: Any) -> list[Any]:
        """ka·a + kb·b + k0, entry by entry."""
        return [self.tidy(ka * u + kb * v + k0) for u, v in zip(a, b)]

    def scaled(self, col: list[Any], r: Any, k: Any = 1) -> list[Any]:
        """k·col·r, with r = 1/√V."""
        return [self.tidy(k * v) * r for v in col]

    @staticmethod
    def rsqrt(V: Any) -> Any:
        return 1 / sympy.sqrt(V)


@dataclass(frozen=True)
class _Col:
    """A column of exact numbers as integers over one common denominator: nums[i]/den."""

    nums: list[int]
    den: int


class _Numeric:
    """Exact sums of integers over a common denominator (:class:`_Col`) and Fractions for the
    statistics; doubles for x̂, y and the gradients, each from an exact value by one correctly
    rounded division."""

    tidy = staticmethod(_same)
    number = staticmethod(_frac)
    approx = staticmethod(float)

    @staticmethod
    def exact(v: Fraction) -> sympy.Rational:
        return Rational(v.numerator, v.denominator)

    @staticmethod
    def value(v: float) -> sympy.Float:
        return sympy.Float(v)

    @staticmethod
    def column(values: Sequence[Any]) -> _Col:
        fs = [_frac(v) for v in values]
        den = math.lcm(*{f.denominator for f in fs})
        return _Col([f.numerator * (den // f.denominator) for f in fs], den)

    @staticmethod
    def entry(col: _Col, i: int) -> sympy.Rational:
        return Rational(col.nums[i], col.den)

    @staticmethod
    def size(col: _Col) -> int:
        return len(col.nums)

    @staticmethod
    def total(col: _Col) -> Fraction:
        return Fraction(sum(col.nums), col.den)

    @staticmethod
    def shifted(col: _Col, c: Fraction) -> _Col:
        p, q = c.numerator * col.den, c.denominator
        return _Col([n * q - p for n in col.nums], col.den * q)

    @staticmethod
    def squares(col: _Col) -> Fraction:
        return Fraction(sum(n * n for n in col.nums), col.den * col.den)

    @staticmethod
    def dot(a: _Col, b: _Col) -> Fraction:
        return Fraction(sum(u * v for u, v in zip(a.nums, b.nums)), a.den * b.den)

    @staticmethod
    def combine(a: _Col, ka: Fraction, b: _Col, kb: Fraction, k0: Fraction) -> _Col:
        den = ka.denominator * a.den * kb.denominator * b.den * k0.denominator
        fa = ka.numerator * (den // (ka.denominator * a.den))
        fb = kb.numerator * (den // (kb.denominator * b.den))
        f0 = k0.numerator * (den // k0.denominator)
        return _Col([fa * u + fb * v + f0 for u, v in zip(a.nums, b.nums)], den)

    @staticmethod
    def scaled(col: _Col, r: float, k: Fraction = Fraction(1)) -> list[float]:
        p, q = k.numerator, k.denominator * col.den
        return [(p * n / q) * r for n in col.nums]  # int/int: correctly rounded

    @staticmethod
    def rsqrt(V: Fraction) -> float:
        """1/√V as a double, for any positive V (also beyond the range of doubles)."""
        try:
            f = float(V)
        except OverflowError:
            f = math.inf
        if 1e-300 < f < 1e300:
            return 1.0 / math.sqrt(f)
        import mpmath

        with mpmath.workprec(80):
            return float(mpmath.sqrt(mpmath.mpf(V.denominator) / mpmath.mpf(V.numerator)))


@dataclass(frozen=True)
class Rules:
    """How the batch is worked: the convention, the mode, and the mistakes of --check."""

    eps: Any
    momentum: Any
    eval_mode: bool = False
    keras: bool = False
    unbiased_norm: bool = False       # the mistake: normalize with 1/(m − 1)
    shift_first: bool = False         # the mistake y = γ·(x̂ + β)
    unbiased_running: bool = True     # s² = m/(m − 1)·σ²_B in the running update (PyTorch)


@dataclass(frozen=True)
class Backward:
    """The backward pass of one feature (display values: exact SymPy, or doubles)."""

    grad_beta: Any
    grad_gamma: Any
    sum_g: Any            # Σ ∂L/∂yᵢ (∂L/∂β but under the mistake y = γ·(x̂ + β))
    dot_gd: Any           # Σ ∂L/∂yᵢ·(xᵢ − μ)
    dvar: Any             # ∂L/∂σ² (None in eval mode)
    dmu: Any              # ∂L/∂μ (None in eval mode)
    grad_x: list[Any]


@dataclass(frozen=True)
class Worked:
    """One feature worked out.  Statistics are exact SymPy values; x̂, y and the gradients
    are exact too, or doubles on the numeric path.  ``x`` and ``g`` are the feature's columns
    in the arithmetic of ``ops`` (for the rows the board writes out)."""

    ops: Any
    x: Any
    g: Any
    m: int
    gamma: Any
    beta: Any
    eps: Any
    momentum: Any
    mean: Any             # the statistics that normalize: the batch's (the running ones in eval mode)
    var: Any
    var_b: Any            # the batch's biased variance (None in eval mode)
    s2: Any               # the variance of the running update (None in eval mode)
    rm0: Any
    rv0: Any
    running_mean: Any
    running_var: Any
    xhat: list[Any]
    y: list[Any]
    back: Backward | None

    def row(self, i: int) -> dict[Symbol, Any]:
        """Row i's exact values (x̂ᵢ approximate on the numeric path) by its symbols."""
        x, xh, _, g, d, _ = _row(i)
        out = {x: self.ops.entry(self.x, i - 1), xh: self.ops.value(self.xhat[i - 1])}
        if self.g is not None:
            gi = self.ops.entry(self.g, i - 1)
            out[g], out[d] = gi, self.ops.tidy(self.gamma * gi)
        return out


def _work(ops: Any, rules: Rules, j: int, C: int, feature: tuple[Any, Any, Any]) -> Worked:
    """Feature j of C, in the arithmetic of ``ops`` (the one code path of both)."""
    column, grad, params = feature
    gamma, beta, rm0, rv0 = (ops.number(v) for v in params)
    eps, m = ops.number(rules.eps), len(column)
    x = ops.column(column)
    if rules.eval_mode:
        mean, var, var_b = rm0, rv0, None
    else:
        mean = ops.tidy(ops.total(x) / m)
        ss = ops.squares(ops.shifted(x, mean))
        var_b = ops.tidy(ss / m)
        var = ops.tidy(ss / (m - 1)) if rules.unbiased_norm else var_b
    V = var + eps
    if V == 0:
        raise _zero_variance(j, C, rules.eval_mode)
    d, rstd = ops.shifted(x, mean), ops.rsqrt(V)
    xhat = ops.scaled(d, rstd)
    ga, ba = ops.approx(gamma), ops.approx(beta)
    y = [ga * (v + ba) for v in xhat] if rules.shift_first else [ga * v + ba for v in xhat]
    rm, rv, s2 = _running(ops, rules, m, (mean, var_b), (rm0, rv0))
    g = None if grad is None else ops.column(grad)
    back = None if g is None else _backward(ops, rules, g, d, (gamma, beta), V, rstd)
    e = ops.exact
    return Worked(ops, x, g, m, e(gamma), e(beta), e(eps), e(ops.number(rules.momentum)), e(mean), e(var),
                  None if var_b is None else e(var_b), None if s2 is None else e(s2), e(rm0), e(rv0),
                  e(rm), e(rv), xhat, y, back)


def _running(ops: Any, rules: Rules, m: int, batch: tuple[Any, Any], old: tuple[Any, Any]) -> tuple[Any, ...]:
    """The running mean and variance after the batch, and the variance that updates them."""
    (mean, var_b), (rm0, rv0) = batch, old
    if rules.eval_mode:
        return rm0, rv0, None
    mom = ops.number(rules.momentum)
    s2 = ops.tidy(var_b * m / (m - 1)) if rules.unbiased_running else var_b
    if rules.keras:
        return ops.tidy(mom * rm0 + (1 - mom) * mean), ops.tidy(mom * rv0 + (1 - mom) * s2), s2
    return ops.tidy((1 - mom) * rm0 + mom * mean), ops.tidy((1 - mom) * rv0 + mom * s2), s2


def _backward(ops: Any, rules: Rules, g: Any, d: Any, affine: tuple[Any, Any], V: Any, rstd: Any) -> Backward:
    """∂L/∂β, ∂L/∂γ and ∂L/∂x of one feature; ``d`` is x − μ (in eval mode x − r_μ)."""
    gamma, beta = affine
    sum_g, P = ops.tidy(ops.total(g)), ops.dot(g, d)
    grad_gamma, grad_beta = ops.approx(P) * rstd, sum_g
    if rules.shift_first:  # the mistake y = γ·(x̂ + β): ∂L/∂β = γ·Σ g, ∂L/∂γ = Σ g·(x̂ + β)
        grad_gamma, grad_beta = grad_gamma + ops.approx(beta * sum_g), gamma * sum_g
    e = ops.exact
    if rules.eval_mode:
        return Backward(e(grad_beta), grad_gamma, e(sum_g), e(P), None, None, ops.scaled(g, rstd, gamma))
    m = ops.size(d)
    n = m - 1 if rules.unbiased_norm else m
    dvar = ops.approx(ops.tidy(-gamma * P / 2)) * rstd ** 3
    dmu = ops.approx(ops.tidy(-gamma * sum_g)) * rstd
    # ∂L/∂xᵢ = γ·rstd·(gᵢ − Σg/m − (xᵢ − μ)·P/(n·V)), the bracket exact
    bracket = ops.combine(g, gamma, d, -gamma * P / (n * V), -gamma * sum_g / m)
    return Backward(e(grad_beta), grad_gamma, e(sum_g), e(P), dvar, dmu, ops.scaled(bracket, rstd))


# --------------------------------------------------------------------------- the working


def _val(v: Any) -> Any:
    """A step's value: a double as a SymPy Float, anything else as it is."""
    return sympy.Float(v) if isinstance(v, float) else v


def _shown(values: dict[Any, Any], formula: Any) -> dict[Any, Any]:
    """The values of the symbols ``formula`` uses, as they are put in."""
    used = formula.free_symbols
    return {k: _put(v) for k, v in values.items() if k in used}


@dataclass(frozen=True)
class _Board:
    """Writes one feature's working from the templates: ``rows`` are worked one by one,
    ``sums`` are the rows a sum writes out (… for the others), under ``section``."""

    w: Worked
    rules: Rules
    rows: tuple[int, ...]
    sums: tuple[int, ...]
    section: str

    @property
    def variant(self) -> dict[Symbol, Any]:
        """The symbols of the normalizing formulas under the rules (eval mode, the unbiased mistake)."""
        if self.rules.eval_mode:
            return {MU_B: R_MU, VAR_B: R_VAR}
        if self.rules.unbiased_norm:
            return {VAR_B: VAR_N, DVAR_B: DVAR_N, N_DIV: _minus(M, 1)}
        return {N_DIV: M}

    def _norm(self, template: Any) -> Any:
        return xreplace_unevaluated(template, self.variant)

    def _keys(self, scalars: dict[Symbol, Any]) -> dict[Symbol, Any]:
        variant = self.variant
        return {variant.get(k, k): v for k, v in scalars.items()}

    def plain(self, title: str, template: Any, scalars: dict[Symbol, Any], value: Any) -> Step:
        """A step of a formula that does not normalize (the running statistics)."""
        return step(title, template, _shown(scalars, template), value=_val(value), section=self.section)

    def row_step(self, title: str, template: Any, i: int, scalars: dict[Symbol, Any], value: Any) -> Step:
        """A formula of row i (xᵢ, ∂L/∂yᵢ, …) with row i's numbers put in."""
        values = {**self._keys(scalars), **self.w.row(i)}
        formula = _at_row(self._norm(template), i)
        return step(title, formula, _shown(values, formula), value=_val(value), section=self.section)

    def sum_step(self, title: str, template: Any, sums: dict[Symbol, tuple[Any, Any]], scalars: dict[Symbol, Any],
                 value: Any, note: str = "") -> Step:
        """A formula with sums over the rows: each placeholder of ``sums`` -> (its term for row i,
        the sum's exact total), written out over :attr:`sums` (the others as … holding their sum)."""
        exact = self._keys(scalars)
        for i in self.sums:
            exact.update(self.w.row(i))
        fill = {}
        for (placeholder, (term, total)), rest in zip(sums.items(), (REST_1, REST_2)):
            written = [_at_row(self._norm(term), i) for i in self.sums]
            if len(self.sums) == self.w.m:
                fill[placeholder] = _plus(*written)
                continue
            exact[rest] = self.w.ops.tidy(total - _add([t.xreplace(exact) for t in written]))
            fill[placeholder] = elided_sum(*written[:-1], rest, written[-1])
        formula = xreplace_unevaluated(self._norm(template), fill)
        return step(title, formula, _shown(exact, formula), value=_val(value), note=note, section=self.section)


def _sum_rows(m: int) -> tuple[int, ...]:
    """The rows a sum writes out: all of them, or the first few and the last."""
    return tuple(range(1, m + 1)) if m <= SUM_TERMS else (*range(1, SUM_TERMS - 1), m)


def _steps(works: list[Worked], rules: Rules, exact: bool) -> list[Step]:
    """The working: every feature and row of a small batch; of a big one the first feature's
    first rows, then the per-feature values."""
    C, m = len(works), works[0].m
    if exact:
        out: list[Step] = []
        for j, w in enumerate(works):
            out += _feature_steps(_Board(w, rules, tuple(range(1, m + 1)), _sum_rows(m),
                                         f"feature {j + 1}" if C > 1 else ""))
        return out
    shown = min(SHOW_ROWS, m)
    rows = f"rows 1–{shown} of {m}" if shown > 1 else f"row 1 of {m}"
    board = _Board(works[0], rules, tuple(range(1, shown + 1)), _sum_rows(m),
                   f"feature 1 of {C}, {rows}" if C > 1 else rows)
    return _feature_steps(board) + (_every_feature(works, rules) if C > 1 else [])


def _feature_steps(b: _Board) -> list[Step]:
    steps = _statistics_steps(b) + _normalized_steps(b) + _running_steps(b)
    if b.w.back is not None:
        steps += _param_grad_steps(b)
        steps += _eval_grad_steps(b) if b.rules.eval_mode else _train_grad_steps(b)
    return steps


def _statistics_steps(b: _Board) -> list[Step]:
    w = b.w
    if b.rules.eval_mode:
        return [Step(title="eval mode: normalize with the running statistics", section=b.section,
                     formula=Math("μ = r_μ, σ² = r_σ² (the batch statistics are not used)",
                                  r"\mu = r_\mu,\ \sigma^2 = r_{\sigma^2}"), value=[w.mean, w.var])]
    title = ("batch variance (unbiased, 1/(m − 1)), used to normalize" if b.rules.unbiased_norm
             else "batch variance (biased, 1/m)")
    return [b.sum_step("batch mean", MEAN, {SUM_1: (X_I, w.mean * w.m)}, {M: w.m}, w.mean),
            b.sum_step(title, VARIANCE, {SUM_1: (SQUARE, w.var_b * w.m)}, {M: w.m, MU_B: w.mean}, w.var)]


def _normalized_steps(b: _Board) -> list[Step]:
    w = b.w
    scalars = {MU_B: w.mean, VAR_B: w.var, EPS: w.eps}
    steps = [b.row_step(f"normalized x̂{_sub(i)}", XHAT, i, scalars, w.xhat[i - 1]) for i in b.rows]
    template = Y_SHIFTED if b.rules.shift_first else Y
    if w.gamma == 1 and w.beta == 0:
        return steps + [steps_of("output y = x̂ (γ = 1, β = 0)", template, [], [_val(w.y[i - 1]) for i in b.rows],
                                 section=b.section, show=False)]
    return steps + [b.row_step(f"output y{_sub(i)}", template, i, {GAMMA: w.gamma, BETA: w.beta}, w.y[i - 1])
                    for i in b.rows]


def _running_steps(b: _Board) -> list[Step]:
    w, r = b.w, b.rules
    if r.eval_mode:
        return [Step(title="running statistics (buffers)", section=b.section, value=[w.rm0, w.rv0],
                     formula=Math("eval mode: r_μ and r_σ² are not updated",
                                  r"\text{eval mode: } r_\mu, r_{\sigma^2} \text{ unchanged}"))]
    if r.keras:
        update, mean_t, var_t = KERAS_UPDATE, "moving mean (moving_mean)", "moving variance (moving_variance)"
    else:
        update, mean_t, var_t = TORCH_UPDATE, "running mean (buffer)", "running variance (buffer)"
    stat = S2_B if r.unbiased_running else VAR_B
    steps = [b.plain(mean_t, xreplace_unevaluated(update, {NEW: R_MU_NEW, OLD: R_MU, STAT: MU_B}),
                     {R_MU: w.rm0, MOM: w.momentum, MU_B: w.mean}, w.running_mean)]
    if r.unbiased_running:
        steps.append(b.plain("unbiased batch variance (1/(m − 1)), for the " + ("moving" if r.keras else "running")
                             + " update", UNBIASED, {VAR_B: w.var_b, M: w.m}, w.s2))
    elif not r.keras:  # the mistake: PyTorch's running variance with the biased σ²_B
        var_t += ", with the biased σ²_B"
    steps.append(b.plain(var_t, xreplace_unevaluated(update, {NEW: R_VAR_NEW, OLD: R_VAR, STAT: stat}),
                         {R_VAR: w.rv0, MOM: w.momentum, stat: w.s2}, w.running_var))
    return steps


def _param_grad_steps(b: _Board) -> list[Step]:
    w, k = b.w, b.w.back
    if b.rules.shift_first:  # the mistake y = γ·(x̂ + β)
        return [b.sum_step("backward: ∂L/∂β under y = γ·(x̂ + β)", DBETA_SHIFTED, {SUM_1: (G_I, k.sum_g)},
                           {GAMMA: w.gamma}, k.grad_beta),
                b.sum_step("backward: ∂L/∂γ under y = γ·(x̂ + β)", DGAMMA_SUM,
                           {SUM_1: (G_XHAT_SHIFTED, k.grad_gamma)}, {BETA: w.beta}, k.grad_gamma)]
    return [b.sum_step("backward: ∂L/∂β", DBETA_SUM, {SUM_1: (G_I, k.sum_g)}, {}, k.grad_beta),
            b.sum_step("backward: ∂L/∂γ", DGAMMA_SUM, {SUM_1: (G_XHAT, k.grad_gamma)}, {}, k.grad_gamma)]


def _eval_grad_steps(b: _Board) -> list[Step]:
    w = b.w
    scalars = {GAMMA: w.gamma, VAR_B: w.var, EPS: w.eps}
    return [b.row_step(f"backward: ∂L/∂x{_sub(i)}", DX_EVAL, i, scalars, w.back.grad_x[i - 1]) for i in b.rows]


def _train_grad_steps(b: _Board) -> list[Step]:
    """The chain of Ioffe & Szegedy: through x̂, then σ² and μ, then x."""
    w, k = b.w, b.w.back
    rows = [w.row(i) for i in b.rows]
    dxhat = steps_of("backward: ∂L/∂x̂ᵢ (chain rule through x̂, then σ² and μ)", DXHAT,
                     [_shown({G_I: r[_row(i)[3]], GAMMA: w.gamma}, DXHAT) for i, r in zip(b.rows, rows)],
                     [r[_row(i)[4]] for i, r in zip(b.rows, rows)], section=b.section)
    scalars = {VAR_B: w.var, EPS: w.eps, MU_B: w.mean}
    var = "σ²_N" if b.rules.unbiased_norm else "σ²_B"
    dvar = b.sum_step(f"backward: ∂L/∂{var}", DVAR, {SUM_1: (D_CENTERED, w.ops.tidy(w.gamma * k.dot_gd))},
                      scalars, k.dvar)
    dmu = b.sum_step("backward: ∂L/∂μ_B", DMEAN, {SUM_1: (D_I, w.ops.tidy(w.gamma * k.sum_g))}, scalars, k.dmu,
                     note=f"the term ∂L/∂{var}·(−2/{'(m − 1)' if b.rules.unbiased_norm else 'm'})·Σᵢ (xᵢ − μ_B) "
                          "is 0, because Σᵢ (xᵢ − μ_B) = 0")
    scalars = {**scalars, DVAR_B: k.dvar, DMU: k.dmu, M: w.m}
    return [dxhat, dvar, dmu, _general_backward(b)] + [
        b.row_step(f"backward: ∂L/∂x{_sub(i)}", DX, i, scalars, k.grad_x[i - 1]) for i in b.rows]


def _general_backward_formula(unbiased: bool) -> Any:
    """∂L/∂xᵢ = γ·(m·∂L/∂yᵢ − Σⱼ ∂L/∂yⱼ − k·x̂ᵢ·Σⱼ ∂L/∂yⱼ·x̂ⱼ)/(m·√(σ² + ε)), k = m/(m − 1)
    under the unbiased-variance mistake."""
    _, xh_j, _, dy_j, _, _ = _row("j")
    k = [OMul(M, Pow(OAdd(M, -1, evaluate=False), -1, evaluate=False), evaluate=False)] if unbiased else []
    bracket = OAdd(OMul(M, G_I, evaluate=False), -Sigma(dy_j, "j"),
                   ordered_product(-1, *k, XH_I, Sigma(OMul(dy_j, xh_j, evaluate=False), "j")), evaluate=False)
    root = Pow(OAdd(VAR_N if unbiased else VAR_B, EPS, evaluate=False), sympy.S.Half, evaluate=False)
    return eq(DX_I, ordered_product(GAMMA, bracket, Pow(ordered_product(M, root), -1, evaluate=False)))


def _general_backward(b: _Board) -> Step:
    return Step(
        title="backward: ∂L/∂xᵢ, simplified (general form)", section=b.section,
        formula=written(_general_backward_formula(b.rules.unbiased_norm)),
        note="the same values as the chain rule: γ/(m√(σ² + ε))·(m·gᵢ − Σⱼ gⱼ − x̂ᵢ·Σⱼ gⱼx̂ⱼ), gᵢ = ∂L/∂yᵢ")


def _every_feature(works: list[Worked], rules: Rules) -> list[Step]:
    """Of a big batch, the per-feature values (the first feature's working stands for all)."""
    keys = [] if rules.eval_mode else [("batch mean μ_B", "mean"), ("batch variance", "var"),
                                        ("running mean after the batch", "running_mean"),
                                        ("running variance after the batch", "running_var")]
    steps = [Step(title=f"{what}, every feature", value=[getattr(w, key) for w in works], section="every feature")
             for what, key in keys]
    if works[0].back is not None:
        steps += [Step(title=f"backward: {what}, every feature", value=[_val(getattr(w.back, key)) for w in works],
                       section="every feature") for what, key in (("∂L/∂β", "grad_beta"), ("∂L/∂γ", "grad_gamma"))]
    return steps


def _params_step(C: int, keras: bool) -> Step:
    if keras:
        return Step(title="trainable and non-trainable weights", formula=Math(
            f"γ, β: 2C = {2 * C} trainable weights; moving_mean and moving_variance: 2C = {2 * C} "
            "non-trainable weights (updated in training, not learned)",
            rf"\gamma, \beta: 2C = {2 * C} \text{{ trainable weights; }} r_\mu, r_{{\sigma^2}}: "
            rf"2C = {2 * C} \text{{ non-trainable weights (not learned)}}"))
    return Step(title="learnable parameters and buffers", formula=Math(
        f"γ, β: 2C = {2 * C} learnable parameters; running mean and running variance: "
        f"2C = {2 * C} buffers (updated in training mode, not learned)",
        rf"\gamma, \beta: 2C = {2 * C} \text{{ learnable parameters; }} r_\mu, r_{{\sigma^2}}: "
        rf"2C = {2 * C} \text{{ buffers (not learned)}}"))


# --------------------------------------------------------------------------- solve


def _resolved(kw: Any) -> tuple[Any, Any]:
    """ε and the momentum in force: as given, or the convention's defaults."""
    get = kw.get if isinstance(kw, dict) else lambda k, d=None: getattr(kw, k, d)
    default_eps, default_momentum = DEFAULTS.get(get("convention", "torch"), DEFAULTS["torch"])
    eps, momentum = get("eps"), get("momentum")
    return (default_eps if eps is None else eps), (default_momentum if momentum is None else momentum)


def solve(inp: Inputs, *, unbiased_norm: bool = False, shift_first: bool = False,
          biased_running: bool = False, unbiased_running: bool = False) -> Solution:
    """Batch norm of the m × C batch (rows are examples) in the convention of ``inp``.

    The flags are the mistakes of :data:`MISTAKES`: ``unbiased_norm`` normalizes with the
    unbiased variance, ``shift_first`` computes y = γ·(x̂ + β), ``biased_running`` (torch) and
    ``unbiased_running`` (keras) update the running variance with the other convention's variance.
    """
    if inp.convention not in CONVENTIONS:
        raise InputError("--convention", f"must be torch or keras; got {inp.convention!r}")
    keras = inp.convention == "keras"
    eps, momentum = _resolved(inp)
    batch = _batch(inp, eps, momentum)
    rules = Rules(eps, momentum, inp.eval_mode, keras, unbiased_norm, shift_first,
                  unbiased_running=unbiased_running if keras else not biased_running)
    exact = batch.m * batch.C <= EXACT_MAX
    ops = _Exact(batch.symbolic) if exact else _Numeric
    works = [_work(ops, rules, j, batch.C, batch.feature(j)) for j in range(batch.C)]
    return Solution(command="bn-forward", inputs=_inputs(batch, rules, exact),
                    conventions=_conventions(rules, batch.m, batch.C, batch.grad is not None),
                    steps=(_params_step(batch.C, keras), *_steps(works, rules, exact)),
                    result=_result(works, batch), notes=_notes(batch, exact, rules))


def _result(works: list[Worked], batch: Batch) -> dict[str, Any]:
    """The answers, flat for one feature given as a list, else per feature / m × C."""
    def per_feature(values: list[Any]) -> Any:
        return values[0] if batch.single else values

    def entries(column_of: Any) -> list[Any]:
        cols = [column_of(w) for w in works]
        return list(cols[0]) if batch.single else [[c[i] for c in cols] for i in range(batch.m)]

    result: dict[str, Any] = {
        "mean": per_feature([w.mean for w in works]), "var": per_feature([w.var for w in works]),
        "x_hat": entries(lambda w: w.xhat), "y": entries(lambda w: w.y),
        "running_mean": per_feature([w.running_mean for w in works]),
        "running_var": per_feature([w.running_var for w in works]),
    }
    if batch.grad is not None:
        result.update({"grad_x": entries(lambda w: w.back.grad_x),
                       "grad_gamma": per_feature([w.back.grad_gamma for w in works]),
                       "grad_beta": per_feature([w.back.grad_beta for w in works])})
    return result


def _notes(batch: Batch, exact: bool, rules: Rules) -> tuple[str, ...]:
    if exact:
        return () if batch.symbolic else ("exact arithmetic (SymPy)",)
    m, C, grads = batch.m, batch.C, batch.grad is not None
    notes = [f"numeric path for a batch of {m}×{C} = {m * C} values (> {EXACT_MAX}): mean, var, "
             "running_mean, running_var" + (" and grad_beta" if grads else "")
             + " are exact; x_hat, y" + (", grad_x and grad_gamma" if grads else "")
             + " are double-precision values from exact integer sums (error of a few ulps)"]
    given = [v for r in batch.x for v in r] + batch.gamma + batch.beta + batch.running_mean + batch.running_var \
        + [rules.eps, rules.momentum] + [v for r in batch.grad or [] for v in r]
    if any(not isinstance(v, (Fraction, int)) and not v.is_Rational for v in given):
        notes.append("irrational inputs were rounded to the nearest double before the sums")
    return tuple(notes)


def _inputs(batch: Batch, rules: Rules, exact: bool) -> dict[str, Any]:
    m, C = batch.m, batch.C

    def one(vs: list[Any]) -> Any:
        return _sym(vs[0]) if all(v == vs[0] for v in vs) else [_sym(v) for v in vs]

    def rows(x: list[list[Any]]) -> Any:
        return [_sym(r[0]) for r in x] if batch.single else [[_sym(v) for v in r] for r in x]

    out: dict[str, Any] = {"x": rows(batch.x) if exact else f"{m}×{C} batch"}
    out.update({"gamma": one(batch.gamma), "beta": one(batch.beta), "eps": _sym(rules.eps),
                "momentum": _sym(rules.momentum), "running_mean": one(batch.running_mean),
                "running_var": one(batch.running_var), "eval": rules.eval_mode,
                "convention": "keras" if rules.keras else "torch"})
    if batch.grad is not None:
        out["grad_out"] = rows(batch.grad) if exact else f"{m}×{C} matrix"
    return out


def _conventions(rules: Rules, m: int, C: int, backward: bool) -> dict[str, str]:
    keras = rules.keras
    conv = {
        "layout": f"rows are examples, columns features: m = {m} examples, C = {C} feature"
                  + ("s" if C != 1 else "") + (" (keras.layers.BatchNormalization, axis −1)" if keras
                                               else " (torch.nn.BatchNorm1d)"),
        "parameters": ("γ (gamma) and β (beta) are the 2C trainable weights; moving_mean and moving_variance "
                       "are 2C non-trainable weights, updated by the forward pass in training, never learned"
                       if keras else
                       "γ (weight) and β (bias) are the 2C learnable parameters; running_mean and "
                       "running_var are 2C buffers, updated by the forward pass in training, never learned"),
        "variance": _variance_convention(rules),
        "epsilon": "inside the square root: x̂ = (x − μ)/√(σ² + ε)" + (
            "" if rules.eps != DEFAULTS["keras" if keras else "torch"][0] else
            ("; Keras's default ε = 1e-3" if keras else "; PyTorch's default ε = 1e-5")),
        "running statistics": (
            "r ← momentum·r + (1 − momentum)·(batch statistic), Keras's momentum (default 0.99; PyTorch's "
            "momentum is 1 minus it), for moving_mean and moving_variance" if keras else
            "r ← (1 − momentum)·r + momentum·(batch statistic), PyTorch's momentum (default 0.1). Keras "
            "writes r ← momentum·r + (1 − momentum)·(batch statistic) with momentum 0.99 and updates the "
            "variance with the biased batch variance: --momentum 0.01 gives Keras's moving mean, not its "
            "moving variance; --convention keras gives both"),
        "mode": ("eval: normalize with the running statistics, which stay unchanged; mean and var "
                 "report the statistics used (the running ones)" + (" (Keras's training=False)" if keras else ""))
        if rules.eval_mode else
        "training: normalize with the batch statistics, then update the running statistics",
    }
    if backward:
        conv["backward"] = ("eval mode: the running statistics are constants, so ∂L/∂x_i = γ·∂L/∂y_i/√(r_σ² + ε)"
                            if rules.eval_mode else
                            "Ioffe & Szegedy (2015): the gradient flows through x̂, σ²_B and μ_B")
    return conv


def _variance_convention(rules: Rules) -> str:
    norm = ("unbiased (1/(m − 1)) batch variance to normalize (not the convention)" if rules.unbiased_norm
            else "biased (1/m) batch variance to normalize")
    own = not rules.unbiased_running if rules.keras else rules.unbiased_running
    running = "unbiased (1/(m − 1))" if rules.unbiased_running else "biased (1/m)"
    where = "moving-variance" if rules.keras else "running-variance"
    why = (" too (PyTorch uses the unbiased one there)" if rules.keras else "") if own else " (not the convention)"
    return f"{norm}; {running} batch variance in the {where} update{why}"


# --------------------------------------------------------------------------- --check


def _forgot_eps(kw: dict[str, Any]) -> dict[str, Any] | None:
    return None if _sym(_resolved(kw)[0]) == 0 else {"eps": sympy.Integer(0)}


def _swapped_affine(kw: dict[str, Any]) -> dict[str, Any] | None:
    gamma, beta = kw.get("gamma", 1), kw.get("beta", 0)
    return None if gamma == beta else {"gamma": beta, "beta": gamma}


def _biased_running(kw: dict[str, Any]) -> dict[str, Any] | None:
    return None if kw.get("convention") == "keras" or kw.get("eval_mode") else {"biased_running": True}


def _unbiased_running(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"unbiased_running": True} if kw.get("convention") == "keras" and not kw.get("eval_mode") else None


def _other_momentum(convention: str) -> Any:
    """The mistake of the other convention's momentum: 1 − momentum in this one's formula."""
    def change(kw: dict[str, Any]) -> dict[str, Any] | None:
        if kw.get("convention", "torch") != convention or kw.get("eval_mode"):
            return None
        mo = _sym(_resolved(kw)[1])
        return None if mo == Rational(1, 2) else {"momentum": 1 - mo}
    return change


#: common mistakes, for ``--check`` (each a variant of :func:`solve`)
MISTAKES = (
    Mistake("normalized with the unbiased variance (1/(m − 1)) instead of the biased one (1/m)",
            {"unbiased_norm": True}),
    Mistake("forgot ε (divided by √σ² instead of √(σ² + ε))", _forgot_eps),
    Mistake("applied γ and β in the wrong order: y = γ·(x̂ + β) instead of γ·x̂ + β", {"shift_first": True}),
    Mistake("swapped γ and β", _swapped_affine),
    Mistake("updated the running variance with the biased variance (1/m) instead of the unbiased one",
            _biased_running),
    Mistake("used Keras's momentum: r ← momentum·r + (1 − momentum)·s", _other_momentum("torch")),
    Mistake("used PyTorch's unbiased variance (1/(m − 1)) in the moving-variance update", _unbiased_running),
    Mistake("used PyTorch's momentum: r ← (1 − momentum)·r + momentum·s", _other_momentum("keras")),
)
