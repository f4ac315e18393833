"""ln-forward: layer normalization (and RMSNorm) forward and backward.

The semantics are exactly those of ``torch.nn.LayerNorm(N)`` and ``torch.nn.RMSNorm(N)`` on
an m × N input (rows are examples, each normalized over its N features):

* layer norm: μ = (1/N) Σⱼ xⱼ, σ² = (1/N) Σⱼ (xⱼ − μ)² (biased), x̂ⱼ = (xⱼ − μ)/√(σ² + ε),
  yⱼ = γⱼ·x̂ⱼ + βⱼ, γ and β per feature (``elementwise_affine``), ε = 1e-5 by default;
* RMSNorm: rms = √((1/N) Σⱼ xⱼ² + ε) (the divisor, ε inside), yⱼ = γⱼ·xⱼ/rms, no mean and no
  β.  ``torch.nn.RMSNorm``'s default ``eps=None`` means ``torch.finfo(dtype).eps``; here the
  default is that of PyTorch's default dtype float32, 2⁻²³ ≈ 1.19e-7;
* backward, with gⱼ = ∂L/∂yⱼ and ∂L/∂x̂ⱼ = gⱼ·γⱼ:
  layer norm ∂L/∂xⱼ = 1/(N·√(σ² + ε))·(N·∂L/∂x̂ⱼ − Σₖ ∂L/∂x̂ₖ − x̂ⱼ·Σₖ ∂L/∂x̂ₖ·x̂ₖ);
  RMSNorm ∂L/∂xⱼ = (∂L/∂x̂ⱼ − x̂ⱼ·(1/N)·Σₖ ∂L/∂x̂ₖ·x̂ₖ)/rms with x̂ = x/rms;
  ∂L/∂γⱼ = Σᵢ gᵢⱼ·x̂ᵢⱼ and ∂L/∂βⱼ = Σᵢ gᵢⱼ over the rows.

Unlike batch norm, the statistics are per example over its features: nothing is averaged
over the batch, there are no running statistics, and training and evaluation are the same.

Small inputs (at most :data:`EXACT_MAX` entries) and every symbolic input are worked exactly
with SymPy.  Bigger numeric ones take a numeric path: mean, var and ∂L/∂β stay exact
(Fractions); the rest are doubles from exact sums with one square root per row.
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, NamedTuple, Sequence

import sympy
from sympy import Add, Mul, Pow, Rational, Symbol

from dlcalc.board import Sigma, eq, ordered_product
from dlcalc.core import Mistake, Solution, Step, xreplace_unevaluated
from dlcalc.core import fraction_of as _frac, is_symbolic as _symbolic, sympy_number as _sym
from dlcalc.board import Named, step as wstep, steps_of as wlist
from dlcalc.errors import InputError
from dlcalc.registry import ARGUMENTS, FLAG, Command, Option

COMMAND = Command(
    name="ln-forward",
    summary="Layer-norm (or RMSNorm with --rms) forward, and backward with --grad-out.",
    description="Exactly torch.nn.LayerNorm / torch.nn.RMSNorm: each example normalized over its "
                "features, biased variance, no running statistics.",
    example="dlcalc ln-forward 1 2 3 4",
    dash_values=True,
    options=(
        Option("VALUES", "One example's features (1 2 3 4; negative values work: -1.5), or @FILE / - "
                         "to read them; any value may be a symbol. For several examples use --x.",
               kind=ARGUMENTS),
        Option("--x", "Examples as an m×N matrix, each row normalized over its N features "
                      "(\"[[1, 2, 3], [4, 5, 7]]\", \"1 2 3; 4 5 7\", @FILE.csv or -)."),
        Option("--gamma", "γ (weight): a scalar or one per feature.", default="1"),
        Option("--beta", "β (bias): a scalar or one per feature (layer norm only; default 0)."),
        Option("--eps", "ε inside the square root (default 1e-5; with --rms 2⁻²³ ≈ 1.19e-7, "
                        "torch.finfo(torch.float32).eps, RMSNorm's eps=None).", show_default=False),
        Option("--grad-out", "∂L/∂y in the input's shape: adds the backward pass (∂L/∂x, ∂L/∂γ, ∂L/∂β)."),
        Option("--rms", "RMSNorm: divide by √(mean(x²) + ε); no mean subtracted, no β.",
               kind=FLAG, default=False),
    ),
)

EXACT_MAX = 64        # entries worked exactly with SymPy, step by step
SHOW_TERMS = 8        # features written out term by term in the working
SHOW_ROWS = 3         # rows worked in the numeric path's steps
LN_EPS = Rational(1, 100000)
RMS_EPS = Rational(1, 2**23)  # torch.finfo(torch.float32).eps

MU, VAR, EPS, N_SYM, RMS, MS = (Symbol("mu"), Symbol("sigma^2"), Symbol("epsilon"), Symbol("N"),
                                Symbol("rms"), Symbol("ms"))


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of ln-forward.

    Attributes:
        x: m rows of N features (Fractions or SymPy values).
        single: one example given as a list (results are flat).
        gamma, beta: a scalar or one per feature (beta None with --rms).
        eps: ε (already the default of the mode when not given).
        grad_out: ∂L/∂y in x's shape, or None.
        rms: RMSNorm instead of layer norm.
        x_option: the option that gave x, for error messages.
    """

    x: Any
    single: bool = False
    gamma: Any = 1
    beta: Any = 0
    eps: Any = LN_EPS
    grad_out: Any = None
    rms: bool = False
    x_option: str = "--x"


def parse(*, values: Sequence[str] | None, x: str | None, gamma: str, beta: str | None,
          eps: str | None, grad_out: str | None, rms: bool) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import MAX_ELEMENTS, parse_value_fast

    if x is not None:
        value = parse_value_fast(x, "--x", kinds=("vector", "matrix"))
        if values:
            raise InputError("--x", "cannot be combined with values given as arguments; use one of them")
        rows, single, option = (value, False, "--x") if isinstance(value[0], list) else ([value], True, "--x")
    else:
        if not values:
            raise InputError("VALUES", "are missing: give one example's features (dlcalc ln-forward 1 2 3 4) "
                                       "or --x MATRIX")
        if len(values) == 1 and (values[0] == "-" or values[0].startswith("@")):
            row = parse_value_fast(values[0], "VALUES", kinds=("vector",))
        else:
            if len(values) > MAX_ELEMENTS:
                raise InputError("VALUES", f"has more than {MAX_ELEMENTS:,} entries")
            row = [parse_value_fast(t, "VALUES", kinds=("scalar",)) for t in values]
        rows, single, option = [row], True, "VALUES"
    if rms and beta is not None:
        raise InputError("--beta", "has no place in RMSNorm (--rms): it has no bias β")
    per_feature = ("scalar", "vector")
    e = parse_value_fast(eps, "--eps", kinds=("scalar",)) if eps is not None else (RMS_EPS if rms else LN_EPS)
    return Inputs(rows, single=single, x_option=option,
                  gamma=parse_value_fast(gamma or "1", "--gamma", kinds=per_feature),
                  beta=parse_value_fast(beta, "--beta", kinds=per_feature) if beta is not None else 0,
                  eps=e, rms=rms,
                  grad_out=None if grad_out is None else parse_value_fast(
                      grad_out, "--grad-out", kinds=("scalar", "vector", "matrix")))


# --------------------------------------------------------------------------- helpers


def _add(values: Sequence[Any]) -> Any:
    return functools.reduce(operator.add, values, sympy.Integer(0))


def _per_feature(value: Any, N: int, option: str) -> list[Any]:
    if isinstance(value, list):
        if len(value) != N:
            raise InputError(option, f"has {len(value)} value{'s' if len(value) != 1 else ''}, but an example "
                                     f"has {N} feature{'s' if N != 1 else ''}; give one value or one per feature")
        return list(value)
    return [value] * N


def _grad_rows(grad: Any, m: int, N: int, single: bool) -> list[list[Any]]:
    shape = f"{N} values" if single else f"{m}×{N}"
    if not isinstance(grad, list):
        if m * N == 1:
            return [[grad]]
        raise InputError("--grad-out", f"must have the input's shape ({shape}), got a scalar")
    if isinstance(grad[0], list):
        if (len(grad), len(grad[0])) == (m, N):
            return [list(r) for r in grad]
        raise InputError("--grad-out", f"must have the input's shape ({shape}), got {len(grad)}×{len(grad[0])}")
    if m == 1 and len(grad) == N:
        return [list(grad)]
    if N == 1 and len(grad) == m:
        return [[g] for g in grad]
    raise InputError("--grad-out", f"must have the input's shape ({shape}), got {len(grad)} values")


def _zero_error(rms: bool, where: str) -> InputError:
    if rms:
        return InputError("--eps", f"is 0 and {where} is all zeros: x/√(0 + 0) is undefined; give --eps > 0")
    return InputError("--eps", f"is 0 and {where} has zero variance (all its features are equal): "
                               "x̂ = 0/√(0 + 0) is undefined; give --eps > 0")


def _xs(N: int, name: str = "x") -> list[Symbol]:
    return [Symbol(f"{name}_{j + 1}") for j in range(N)]


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, over_batch: bool = False, unbiased: bool = False) -> Solution:
    """The worked solution; the flags are the common mistakes of :data:`MISTAKES`.

    ``over_batch``: normalize each feature over the examples (columns, as batch norm does)
    instead of each example over its features.  ``unbiased``: divide the variance by N − 1.
    """
    c = _checked(inp)
    groups = _groups(c, over_batch, inp.x_option)
    steps: list[Step] = []
    stats: list[dict[str, Any]] = []
    for k, (row, gam, bet, g) in enumerate(groups):
        where = (f"column {k + 1}" if over_batch else f"row {k + 1}") if len(groups) > 1 else "the example"
        section = ((f"feature {k + 1} (over the batch)" if over_batch else f"row {k + 1}")
                   if len(groups) > 1 else "")
        if c.exact:
            st, rs = _row_exact(row, gam, bet, c.e, g, inp.rms, unbiased, section, where, c.symbolic)
        else:
            st, rs = _row_numeric(row, gam, bet, c.e, g, inp.rms, unbiased, section, where, k < SHOW_ROWS)
        steps.extend(st)
        stats.append(rs)
    result = _results(inp, c, stats, over_batch, steps)
    m, N = c.m, c.N
    notes: list[str] = []
    if c.exact and not c.symbolic:
        notes.append("exact arithmetic (SymPy)")
    elif not c.exact:
        notes.append(f"numeric path for {m}×{N} = {m * N} values (> {EXACT_MAX}): "
                     + ("" if inp.rms else "mean and var are exact; ")
                     + "the rest are double-precision values from exact sums (error of a few ulps)")
    return Solution(command="ln-forward", inputs=_inputs(inp, m, N, c.gamma, c.beta, c.e, c.grad, c.exact),
                    conventions=_conventions(inp, m, N, c.e, over_batch, unbiased, c.grad is not None),
                    steps=tuple(steps), result=result, notes=tuple(notes))


class _Checked(NamedTuple):
    """The inputs checked and laid out: m rows of N features, γ and β per feature."""

    x: list[list[Any]]
    m: int
    N: int
    gamma: list[Any]
    beta: list[Any]
    e: Any
    grad: list[list[Any]] | None
    symbolic: bool
    exact: bool


def _checked(inp: Inputs) -> _Checked:
    x, option = inp.x, inp.x_option
    if not x or not x[0]:
        raise InputError(option, "is empty")
    m, N = len(x), len(x[0])
    if any(len(r) != N for r in x):
        raise InputError(option, "is a ragged matrix: rows have different lengths")
    gamma = _per_feature(inp.gamma, N, "--gamma")
    beta = _per_feature(inp.beta, N, "--beta")
    if isinstance(inp.eps, list):
        raise InputError("--eps", "must be a single value")
    e = _sym(inp.eps)
    if e.is_number and e.is_negative:
        raise InputError("--eps", f"must be ≥ 0, got {e}")
    grad = None if inp.grad_out is None else _grad_rows(inp.grad_out, m, N, inp.single)
    everything = [v for r in x for v in r] + gamma + beta + [inp.eps] + [v for r in grad or [] for v in r]
    symbolic = any(_symbolic(v) for v in everything)
    if m * N > EXACT_MAX and symbolic:
        raise InputError(option, f"is symbolic somewhere, which is supported for inputs of up to {EXACT_MAX} "
                                 f"values; this one has {m}×{N} = {m * N}")
    return _Checked(x, m, N, gamma, beta, e, grad, symbolic, m * N <= EXACT_MAX)


def _groups(c: _Checked, over_batch: bool, option: str) -> list[tuple[Any, Any, Any, Any]]:
    """What is normalized together: each row (layer norm), or each column (the mistake)."""
    x, grad, m, N = c.x, c.grad, c.m, c.N
    if not over_batch:
        return [(x[i], c.gamma, c.beta, None if grad is None else grad[i]) for i in range(m)]
    if m < 2:
        raise InputError(option, "has one example: over the batch there is nothing to normalize")
    # each column is a "row" of m values; γⱼ, βⱼ are constant along it
    cols = [[x[i][j] for i in range(m)] for j in range(N)]
    gcols = None if grad is None else [[grad[i][j] for i in range(m)] for j in range(N)]
    return [(cols[j], [c.gamma[j]] * m, [c.beta[j]] * m, None if gcols is None else gcols[j]) for j in range(N)]


def _results(inp: Inputs, c: _Checked, stats: list[dict[str, Any]], over_batch: bool,
             steps: list[Step]) -> dict[str, Any]:
    """The result keys in the input's layout; with --grad-out also ∂L/∂γ and ∂L/∂β (their
    steps are appended to ``steps``)."""
    m, N, grad, flat = c.m, c.N, c.grad, inp.single

    def layout(key: str) -> list[list[Any]]:
        if over_batch:
            return [[stats[j][key][i] for j in range(N)] for i in range(m)]
        return [s[key] for s in stats]

    def per_row(key: str) -> Any:
        vals = [s[key] for s in stats]
        return vals[0] if flat and not over_batch else vals

    xhat, y = layout("x_hat"), layout("y")
    result: dict[str, Any] = {}
    if inp.rms:
        result["rms"] = per_row("rms")
    else:
        result["mean"] = per_row("mean")
        result["var"] = per_row("var")
        result["x_hat"] = xhat[0] if flat else xhat
    result["y"] = y[0] if flat else y
    if grad is not None:
        gx = layout("grad_x")
        result["grad_x"] = gx[0] if flat else gx
        ggam, gbet = _param_grads(grad, xhat, m, N, c.exact, c.symbolic)
        steps.extend(_param_grad_steps(grad, xhat, ggam, gbet, m, N, inp.rms, c.exact))
        result["grad_gamma"] = ggam
        if not inp.rms:
            result["grad_beta"] = gbet
    return result


def _param_grads(grad: list[list[Any]], xhat: list[list[Any]], m: int, N: int, exact: bool,
                 symbolic: bool) -> tuple[list[Any], list[Any]]:
    """∂L/∂γⱼ = Σᵢ gᵢⱼ·x̂ᵢⱼ and ∂L/∂βⱼ = Σᵢ gᵢⱼ, exactly or from exact sums in doubles."""
    if exact:
        ggam = [_tidy(_add([_sym(grad[i][j]) * xhat[i][j] for i in range(m)]), symbolic) for j in range(N)]
        gbet = [_tidy(_add([_sym(grad[i][j]) for i in range(m)]), symbolic) for j in range(N)]
        return ggam, gbet
    G = [[_frac(v) for v in r] for r in grad]
    ggam = [sympy.Float(math.fsum(float(G[i][j]) * float(xhat[i][j]) for i in range(m))) for j in range(N)]
    gbet = [_rat(sum(G[i][j] for i in range(m))) for j in range(N)]
    return ggam, gbet


def _tidy(v: Any, symbolic: bool) -> Any:
    return sympy.expand(v) if symbolic else v


def _rat(f: Fraction) -> sympy.Rational:
    return Rational(f.numerator, f.denominator)


def _conventions(inp: Inputs, m: int, N: int, e: Any, over_batch: bool, unbiased: bool,
                 backward: bool) -> dict[str, str]:
    conv = {
        "layout": (f"rows are examples, each normalized over its N = {N} feature{'s' if N != 1 else ''}"
                   + (f" ({m} examples)" if m > 1 else " (one example)")
                   + (" — here, by mistake, over the batch (columns)" if over_batch else "")),
        "axis": "unlike batch norm (per feature over the batch), the statistics are per example over its "
                "features: no running statistics, the same in training and evaluation",
        "module": ("torch.nn.RMSNorm(N): y = γ·x/√(mean(x²) + ε), no mean, no β; rms is the divisor "
                   "√(mean(x²) + ε)" if inp.rms else
                   "torch.nn.LayerNorm(N): y = γ·(x − μ)/√(σ² + ε) + β, γ and β per feature"),
        "epsilon": f"ε = {e} inside the square root" + (
            (" (default: 2^(−23) = torch.finfo(torch.float32).eps, what RMSNorm's eps=None means in PyTorch's "
             "default dtype)" if e == RMS_EPS else "") if inp.rms else
            (" (LayerNorm's default 1e-5)" if e == LN_EPS else "")),
    }
    if not inp.rms:
        conv["variance"] = ("unbiased (1/(N − 1)), not PyTorch's convention" if unbiased
                            else "biased (1/N), as LayerNorm")
    if backward:
        conv["backward"] = ("grad_x through x̂ and the row's statistics; grad_gamma"
                            + ("" if inp.rms else " and grad_beta") + " summed over the rows")
    return conv


def _inputs(inp: Inputs, m: int, N: int, gamma: list[Any], beta: list[Any], e: Any, grad: Any,
            exact: bool) -> dict[str, Any]:
    def one(vs: list[Any]) -> Any:
        return _sym(vs[0]) if all(v == vs[0] for v in vs) else [_sym(v) for v in vs]

    out: dict[str, Any] = {}
    if exact:
        rows = [[_sym(v) for v in r] for r in inp.x]
        out["x"] = rows[0] if inp.single else rows
    else:
        out["x"] = f"{m}×{N} input"
    out["gamma"] = one(gamma)
    if not inp.rms:
        out["beta"] = one(beta)
    out["eps"] = e
    out["rms"] = inp.rms
    if grad is not None:
        if exact:
            g = [[_sym(v) for v in r] for r in grad]
            out["grad_out"] = g[0] if inp.single else g
        else:
            out["grad_out"] = f"{m}×{N} matrix"
    return out


# --------------------------------------------------------------------------- the exact path


X_J, XH_J, G_J, GAM_J, BET_J, D_J, Y_J = (Symbol("x_j"), Symbol("xhat_j"), Symbol("g_j"), Symbol("gamma_j"),
                                           Symbol("beta_j"), Symbol("delta_j"), Symbol("y_j"))
S_1, S_2 = Symbol("S_1"), Symbol("S_2")
DX_J = Named("dLdx_j", "∂L/∂xⱼ", r"\frac{\partial L}{\partial x_j}")

# the formulas, written once (templates; the sums over the features are built per row)
RMS_OF = eq(RMS, Pow(Add(MS, EPS, evaluate=False), Rational(1, 2), evaluate=False))
XHAT = {True: eq(XH_J, Mul(X_J, Pow(RMS, -1, evaluate=False), evaluate=False)),
        False: eq(XH_J, Mul(Add(X_J, Mul(-1, MU, evaluate=False), evaluate=False),
                            Pow(Add(VAR, EPS, evaluate=False), Rational(-1, 2), evaluate=False), evaluate=False))}
OUTPUT = {True: eq(Y_J, Mul(GAM_J, XH_J, evaluate=False)),
          False: eq(Y_J, Add(Mul(GAM_J, XH_J, evaluate=False), BET_J, evaluate=False))}
DELTA = eq(D_J, Mul(G_J, GAM_J, evaluate=False))
GRAD_X_RMS = eq(DX_J, Mul(Add(D_J, Mul(-1, XH_J, S_2, Pow(N_SYM, -1, evaluate=False), evaluate=False), evaluate=False),
                          Pow(RMS, -1, evaluate=False), evaluate=False))
XH_K, D_K = Symbol("xhat_k"), Symbol("delta_k")


def _minus(a: Any) -> Any:
    """−a, kept as written (a − b prints in the order written)."""
    return Mul(-1, a, evaluate=False)


def _mean_of(total: Any, n: Any) -> Any:
    """total/n, kept as written (a row's sum over 4, or Σⱼ over N)."""
    return Mul(total, Pow(n, -1, evaluate=False), evaluate=False)


# the sums over the features, as a long row (and the numeric path) writes them: Σⱼ, not term by term
MEAN = eq(MU, _mean_of(Sigma(X_J, "j"), N_SYM))
MEAN_SQUARES = eq(MS, _mean_of(Sigma(Pow(X_J, 2, evaluate=False), "j"), N_SYM))
#: σ², biased (1/N) or unbiased (the mistake)
VARIANCE = {u: eq(VAR, _mean_of(Sigma(Pow(Add(X_J, _minus(MU), evaluate=False), 2, evaluate=False), "j"),
                                Add(N_SYM, -1, evaluate=False) if u else N_SYM)) for u in (False, True)}
VARIANCE_TITLE = {False: "variance over the features (biased, 1/N)",
                  True: "variance over the features (unbiased, 1/(N − 1))"}
S1_SUM = eq(S_1, Sigma(D_K, "k"))
S2_SUM = eq(S_2, Sigma(Mul(D_K, XH_K, evaluate=False), "k"))
DG_J = Named("dLdgamma_j", "∂L/∂γⱼ", r"\frac{\partial L}{\partial \gamma_j}")
DB_J = Named("dLdbeta_j", "∂L/∂βⱼ", r"\frac{\partial L}{\partial \beta_j}")
DY_IJ = Named("dLdy_ij", "∂L/∂yᵢⱼ", r"\frac{\partial L}{\partial y_{ij}}")
GRAD_GAMMA = eq(DG_J, Sigma(Mul(DY_IJ, Symbol("xhat_ij"), evaluate=False), "i"))
GRAD_BETA = eq(DB_J, Sigma(DY_IJ, "i"))


def _grad_x_ln(coef: Any) -> sympy.Equality:
    """Layer norm's ∂L/∂xⱼ = (N·δⱼ − S₁ − c·x̂ⱼ·S₂)/(N·√(σ² + ε)); c = N/(N − 1) with the unbiased σ²."""
    last = _minus(Mul(XH_J, S_2, evaluate=False)) if coef == 1 else ordered_product(-coef, XH_J, S_2)
    inner = Add(Mul(N_SYM, D_J, evaluate=False), _minus(S_1), last, evaluate=False)
    return eq(DX_J, Mul(inner, Pow(N_SYM, -1, evaluate=False),
                        Pow(Add(VAR, EPS, evaluate=False), Rational(-1, 2), evaluate=False), evaluate=False))


# The numeric path shows no δ, S₁, S₂ steps: its ∂L/∂xⱼ is the same formula with them written
# as what they stand for (δⱼ = ∂L/∂x̂ⱼ and the sums over the row).
DXH_J = Named("dLdxhat_j", "∂L/∂x̂ⱼ", r"\frac{\partial L}{\partial \hat{x}_j}")
DXH_K = Named("dLdxhat_k", "∂L/∂x̂ₖ", r"\frac{\partial L}{\partial \hat{x}_k}")
_SPELLED_OUT = {D_J: DXH_J, S_1: Sigma(DXH_K, "k"), S_2: Sigma(Mul(DXH_K, XH_K, evaluate=False), "k")}
GRAD_X_SHOWN = {True: xreplace_unevaluated(GRAD_X_RMS, _SPELLED_OUT),
                False: xreplace_unevaluated(_grad_x_ln(1), _SPELLED_OUT)}


# --------------------------------------------------------------------------- one arithmetic for x̂, y, ∂L/∂x


class _Arith(NamedTuple):
    """The arithmetic of x̂, y and the backward pass: exact SymPy, or (the numeric path)
    doubles from the exact statistics."""

    work: Callable[[Any], Any]          # an exact value (SymPy, Fraction) as a working value
    total: Callable[[list[Any]], Any]
    tidy: Callable[[Any], Any]          # expand a symbolic value (exact path)
    ratio: Callable[[int, int], Any]


def _same(v: Any) -> Any:
    return v


def _exact(symbolic: bool) -> _Arith:
    return _Arith(_same, _add, sympy.expand if symbolic else _same, Rational)


_DOUBLE = _Arith(float, math.fsum, _same, operator.truediv)


def _normalized(ar: _Arith, X: list[Any], mu: Any, rstd: Any, rms: bool) -> list[Any]:
    """x̂ⱼ = xⱼ/rms (RMSNorm) or (xⱼ − μ)/√(σ² + ε), with rstd = 1/rms or 1/√(σ² + ε)."""
    if rms:
        return [ar.tidy(ar.work(v) * rstd) for v in X]
    return [ar.work(ar.tidy(v - mu)) * rstd for v in X]


def _outputs(gamma: list[Any], beta: list[Any], xhat: list[Any], rms: bool) -> list[Any]:
    """yⱼ = γⱼ·x̂ⱼ (+ βⱼ)."""
    return [gamma[j] * xhat[j] + (0 if rms else beta[j]) for j in range(len(xhat))]


class _Back(NamedTuple):
    """Within a row: δⱼ = gⱼ·γⱼ, S₁ = Σ δ (layer norm; None for RMSNorm), S₂ = Σ δ·x̂, ∂L/∂x."""

    delta: list[Any]
    S1: Any
    S2: Any
    grad_x: list[Any]
    coef: Any


def _backward(ar: _Arith, G: list[Any], gamma: list[Any], xhat: list[Any], rstd: Any, rms: bool,
              unbiased: bool) -> _Back:
    """∂L/∂x through x̂ (and σ², μ, or the rms); with 1/(N − 1) in σ², the x̂ term carries N/(N − 1)."""
    N = len(xhat)
    dxh = [ar.tidy(G[j] * gamma[j]) for j in range(N)]
    S2 = ar.tidy(ar.total([dxh[j] * xhat[j] for j in range(N)]))
    if rms:
        return _Back(dxh, None, S2, [ar.tidy(dxh[j] - xhat[j] * S2 / N) * rstd for j in range(N)], 1)
    S1 = ar.tidy(ar.total(dxh))
    coef = ar.ratio(N, N - 1 if unbiased else N)
    return _Back(dxh, S1, S2, [ar.tidy(N * dxh[j] - S1 - coef * xhat[j] * S2) * rstd / N for j in range(N)], coef)


# --------------------------------------------------------------------------- the exact path


def _sum_template(syms: list[Symbol], power: int = 1, minus: Any = None) -> Any:
    """Σ terms as an unevaluated sum of the symbols (or of (xⱼ − μ)², xⱼ²)."""
    terms = []
    for s in syms:
        t = s if minus is None else Add(s, _minus(minus), evaluate=False)
        terms.append(Pow(t, power, evaluate=False) if power != 1 else t)
    return Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _lst(title: str, formula: Any, rows: list[dict[Any, Any]], values: list[Any], *, section: str,
         show: bool, note: str = "") -> list[Step]:
    """The step of a per-feature list; a long list also gets the first entry worked out."""
    steps = [wlist(title, formula, rows, values, section=section, show=show, note=note)]
    if not show and len(rows) > SHOW_TERMS:
        steps.append(wstep(title + ", for j = 1", formula, rows[0], value=values[0], section=section))
    return steps


class _Row(NamedTuple):
    """One row's exact work: its values, γ, β, ε and how it is shown."""

    X: list[Any]
    Gm: list[Any]
    Bt: list[Any]
    e: Any
    N: int
    small: bool
    xs: list[Any]
    section: str
    where: str
    ar: _Arith

    def tidy(self, v: Any) -> Any:
        return self.ar.tidy(v)


def _row_exact(row: list[Any], gam: list[Any], bet: list[Any], e: Any, g: list[Any] | None, rms: bool,
               unbiased: bool, section: str, where: str, symbolic: bool) -> tuple[list[Step], dict[str, Any]]:
    X = [_sym(v) for v in row]
    N = len(X)
    r = _Row(X, [_sym(v) for v in gam], [_sym(v) for v in bet], e, N, N <= SHOW_TERMS, _xs(N), section,
             where, _exact(symbolic))
    steps: list[Step] = []
    out: dict[str, Any] = {}
    mu, rstd = _rms_exact(r, steps, out) if rms else _normalize_exact(r, unbiased, steps, out)
    xhat = _normalized(r.ar, X, mu, rstd, rms)
    steps.extend(_lst("normalized x̂ⱼ = xⱼ/rms" if rms else "normalized x̂ⱼ", XHAT[rms],
                       [{X_J: v, RMS: out["rms"]} if rms else {X_J: v, MU: mu, VAR: out["var"], EPS: e} for v in X],
                       xhat, section=section, show=r.small))
    out["x_hat"] = xhat
    Gm, Bt = r.Gm, r.Bt
    ys = _outputs(Gm, Bt, xhat, rms)
    identity = all(v == 1 for v in Gm) and (rms or all(v == 0 for v in Bt))
    steps.extend(_lst("output yⱼ" + (" = x̂ⱼ (γ = 1" + ("" if rms else ", β = 0") + ")" if identity else ""),
                       OUTPUT[rms], [{GAM_J: Gm[j], XH_J: xhat[j], **({} if rms else {BET_J: Bt[j]})}
                                     for j in range(N)], ys, section=section, show=r.small and not identity))
    out["y"] = ys
    if g is not None:
        back = _backward(r.ar, [_sym(v) for v in g], Gm, xhat, rstd, rms, unbiased)
        steps.extend(_backward_exact(r, [_sym(v) for v in g], xhat, back, rms, out))
        out["grad_x"] = back.grad_x
    return steps, out


def _rms_exact(r: _Row, steps: list[Step], out: dict[str, Any]) -> tuple[None, Any]:
    """RMSNorm's statistics: the mean of the squares and the rms (into ``out``); no mean, and 1/rms."""
    X, N, section = r.X, r.N, r.section
    title = "mean of the squares over the features"
    if r.small:
        st = wstep(title, eq(MS, _mean_of(_sum_template(r.xs, 2), N)), dict(zip(r.xs, X)), section=section)
        ms = r.tidy(st.value)
    else:
        ms = r.tidy(_add([v ** 2 for v in X]) / N)
        st = wstep(title, MEAN_SQUARES, value=ms, section=section)
    steps.append(st)
    if (ms + r.e).is_number and ms + r.e == 0:
        raise _zero_error(True, r.where)
    st = wstep("rms, the divisor (ε inside the root)", RMS_OF, {MS: ms, EPS: r.e}, section=section)
    steps.append(st)
    out["rms"] = st.value
    return None, 1 / st.value


def _normalize_exact(r: _Row, unbiased: bool, steps: list[Step], out: dict[str, Any]) -> tuple[Any, Any]:
    """Layer norm's statistics: μ and σ² (biased, or the unbiased mistake; into ``out``), μ and 1/√(σ² + ε)."""
    X, N, section, e = r.X, r.N, r.section, r.e
    if unbiased and N < 2:
        raise InputError("--x", "has one feature: the unbiased variance divides by N − 1 = 0")
    n_div = N - 1 if unbiased else N
    vals = dict(zip(r.xs, X))
    title = "mean over the features"
    if r.small:
        st = wstep(title, eq(MU, _mean_of(_sum_template(r.xs), N)), vals, section=section)
        mu = r.tidy(st.value)
    else:
        mu = r.tidy(_add(X) / N)
        st = wstep(title, MEAN, value=mu, section=section)
    steps.append(st)
    title = VARIANCE_TITLE[unbiased]
    if r.small:
        st = wstep(title, eq(VAR, _mean_of(_sum_template(r.xs, 2, MU), n_div)), {**vals, MU: mu},
                   section=section)
        var = r.tidy(st.value)
    else:
        var = r.tidy(_add([(v - mu) ** 2 for v in X]) / n_div)
        st = wstep(title, VARIANCE[unbiased], value=var, section=section)
    steps.append(st)
    V = var + e
    if V.is_number and V == 0:
        raise _zero_error(False, r.where)
    out["mean"], out["var"] = mu, var
    return mu, 1 / sympy.sqrt(V)


def _backward_exact(r: _Row, Gr: list[Any], xhat: list[Any], b: _Back, rms: bool,
                    out: dict[str, Any]) -> list[Step]:
    """The backward steps within the row: δ, S₁ (layer norm), S₂ and ∂L/∂x."""
    N, section, small = r.N, r.section, r.small
    steps = _lst("backward: δⱼ = ∂L/∂x̂ⱼ = gⱼ·γⱼ (gⱼ = ∂L/∂yⱼ)", DELTA, [{G_J: Gr[j], GAM_J: r.Gm[j]} for j in range(N)],
                 b.delta, section=section, show=small)
    ds, hs = _xs(N, "delta"), _xs(N, "xhat")
    if small:
        t2 = Add(*[Mul(d, h, evaluate=False) for d, h in zip(ds, hs)], evaluate=False) if N > 1 else \
            Mul(ds[0], hs[0], evaluate=False)
        s2_st = wstep("backward: S₂ = Σₖ δₖ·x̂ₖ", eq(S_2, t2), {**dict(zip(ds, b.delta)), **dict(zip(hs, xhat))},
                      value=b.S2, section=section)
    else:
        s2_st = wstep("backward: S₂ = Σₖ δₖ·x̂ₖ", S2_SUM, value=b.S2, section=section)
    if rms:
        return steps + [s2_st] + _lst(
            "backward: ∂L/∂xⱼ", GRAD_X_RMS,
            [{D_J: b.delta[j], XH_J: xhat[j], S_2: b.S2, N_SYM: N, RMS: out["rms"]} for j in range(N)],
            b.grad_x, section=section, show=small, note="through x̂ and rms: ∂rms/∂xⱼ = xⱼ/(N·rms)")
    if small:
        steps.append(wstep("backward: S₁ = Σₖ δₖ", eq(S_1, _sum_template(ds)), dict(zip(ds, b.delta)), value=b.S1,
                           section=section))
    else:
        steps.append(wstep("backward: S₁ = Σₖ δₖ", S1_SUM, value=b.S1, section=section))
    steps.append(s2_st)
    return steps + _lst("backward: ∂L/∂xⱼ", _grad_x_ln(b.coef),
                        [{N_SYM: N, D_J: b.delta[j], S_1: b.S1, XH_J: xhat[j], S_2: b.S2, VAR: out["var"], EPS: r.e}
                         for j in range(N)], b.grad_x, section=section, show=small,
                        note="the chain through x̂, σ² and μ collected (Ioffe & Szegedy's form): "
                             "each row's ∂L/∂x sums to 0")


def _param_grad_steps(grad: list[list[Any]], xhat: list[list[Any]], ggam: list[Any], gbet: list[Any],
                      m: int, N: int, rms: bool, exact: bool) -> list[Step]:
    steps = [wstep("backward: ∂L/∂γ, per feature (summed over the rows)", GRAD_GAMMA, value=ggam,
                   section="parameters")]
    if not rms:
        steps.append(wstep("backward: ∂L/∂β, per feature (summed over the rows)", GRAD_BETA, value=gbet,
                           section="parameters"))
    return steps


# --------------------------------------------------------------------------- the numeric path


def _rsqrt(V: Fraction) -> float:
    try:
        f = float(V)
    except OverflowError:
        f = math.inf
    if 1e-300 < f < 1e300:
        return 1.0 / math.sqrt(f)
    import mpmath

    with mpmath.workprec(80):
        return float(mpmath.sqrt(mpmath.mpf(V.denominator) / mpmath.mpf(V.numerator)))


def _row_numeric(row: list[Any], gam: list[Any], bet: list[Any], e: Any, g: list[Any] | None, rms: bool,
                 unbiased: bool, section: str, where: str, show: bool) -> tuple[list[Step], dict[str, Any]]:
    """A row of a big input: the statistics exact (Fractions), one square root, then x̂, y and
    ∂L/∂x in doubles by the exact path's code (:data:`_DOUBLE`); the steps show values."""
    X = [_frac(v) for v in row]
    out, mu, ms, rstd = _stats_numeric(X, _frac(e), rms, unbiased, where)
    gm = [float(_frac(v)) for v in gam]
    xh = _normalized(_DOUBLE, X, mu, rstd, rms)
    out["x_hat"] = [sympy.Float(v) for v in xh]
    out["y"] = [sympy.Float(v) for v in _outputs(gm, [float(_frac(v)) for v in bet], xh, rms)]
    if g is not None:
        out["grad_x"] = [sympy.Float(v) for v in
                         _backward(_DOUBLE, [float(_frac(v)) for v in g], gm, xh, rstd, rms, unbiased).grad_x]
    return (_numeric_steps(out, ms, rms, unbiased, section) if show else []), out


def _stats_numeric(X: list[Fraction], E: Fraction, rms: bool, unbiased: bool,
                   where: str) -> tuple[dict[str, Any], Any, Any, float]:
    """The row's statistics, exact: (mean and var, or rms, as results), μ, ms and 1/√(σ² + ε) or 1/rms."""
    N = len(X)
    if rms:
        ms = sum(v * v for v in X) / N
        V = ms + E
        if V == 0:
            raise _zero_error(True, where)
        rstd = _rsqrt(V)
        return {"rms": sympy.Float(1.0 / rstd)}, None, ms, rstd
    mu = sum(X) / N
    var = sum((v - mu) ** 2 for v in X) / (N - 1 if unbiased else N)
    V = var + E
    if V == 0:
        raise _zero_error(False, where)
    return {"mean": _rat(mu), "var": _rat(var)}, mu, None, _rsqrt(V)


def _numeric_steps(out: dict[str, Any], ms: Any, rms: bool, unbiased: bool, section: str) -> list[Step]:
    """The working of one of the first rows of a big input: each formula and its values."""
    if rms:
        steps = [wstep("mean of the squares", MEAN_SQUARES, value=_rat(ms), section=section),
                 wstep("rms, the divisor (ε inside the root)", RMS_OF, value=out["rms"], section=section)]
    else:
        steps = [wstep("mean over the features", MEAN, value=out["mean"], section=section),
                 wstep(VARIANCE_TITLE[unbiased], VARIANCE[unbiased], value=out["var"], section=section)]
    steps.append(wstep("normalized x̂ⱼ", XHAT[rms], value=out["x_hat"], section=section))
    steps.append(wstep("output yⱼ", OUTPUT[rms], value=out["y"], section=section))
    if "grad_x" in out:
        steps.append(wstep("backward: ∂L/∂xⱼ", GRAD_X_SHOWN[rms], value=out["grad_x"], section=section))
    return steps


# --------------------------------------------------------------------------- --check


def _over_batch(kw: dict[str, Any]) -> dict[str, Any] | None:
    x = kw["x"]
    return {"over_batch": True} if len(x) >= 2 else None


def _forgot_eps(kw: dict[str, Any]) -> dict[str, Any] | None:
    return None if _sym(kw["eps"]) == 0 else {"eps": sympy.Integer(0)}


def _unbiased(kw: dict[str, Any]) -> dict[str, Any] | None:
    return None if kw["rms"] or len(kw["x"][0]) < 2 else {"unbiased": True}


def _centered(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"rms": False} if kw["rms"] else None


#: common mistakes, for ``--check`` (each a variant of :func:`solve`)
MISTAKES = (
    Mistake("normalized over the batch (each feature over the examples, as batch norm) instead of each "
            "example over its features", _over_batch),
    Mistake("used the unbiased variance (1/(N − 1)) instead of the biased one (1/N)", _unbiased),
    Mistake("forgot ε (divided by √σ² instead of √(σ² + ε))", _forgot_eps),
    Mistake("subtracted the mean (layer norm) where RMSNorm does not", _centered),
)
