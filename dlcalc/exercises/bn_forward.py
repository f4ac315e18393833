"""bn-forward: batch normalization forward and backward, running statistics, eval mode.

The semantics are exactly those of ``torch.nn.BatchNorm1d`` on an m × C batch (rows are
examples, columns features):

* training: μ_B = (1/m) Σ x_i, σ²_B = (1/m) Σ (x_i − μ_B)² (biased) normalize,
  x̂_i = (x_i − μ_B)/√(σ²_B + ε), y_i = γ x̂_i + β; the buffers are updated with
  r ← (1 − momentum)·r + momentum·s, where the variance uses the unbiased s² = m/(m − 1)·σ²_B;
* eval: x̂_i = (x_i − r_μ)/√(r_σ² + ε) with the running statistics, which stay unchanged;
* backward (Ioffe & Szegedy 2015): ∂L/∂β = Σ g_i, ∂L/∂γ = Σ g_i x̂_i and, in training,
  ∂L/∂x_i = γ/(m√(σ²_B + ε))·(m g_i − Σ_j g_j − x̂_i Σ_j g_j x̂_j), with g_i = ∂L/∂y_i.

Small batches (at most :data:`EXACT_MAX` entries) and every symbolic input are worked
exactly with SymPy.  Bigger numeric batches take a numeric path: means, variances, running
statistics and ∂L/∂β stay exact (integer sums), and x̂, y, ∂L/∂x, ∂L/∂γ are doubles computed
from exact sums with one correctly rounded division each (a few ulps, no cancellation).
"""

from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import sympy

from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_kwargs
from dlcalc.errors import InputError
from dlcalc.registry import ARGUMENTS, FLAG, Command, Option

COMMAND = Command(
    name="bn-forward",
    summary="Batch-norm forward (and backward with --grad-out), running statistics, eval mode.",
    description="Exactly torch.nn.BatchNorm1d: biased variance to normalize, unbiased in the running update.",
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
        Option("--eps", "ε inside the square root (may be 0 or a symbol).", default="1e-5"),
        Option("--momentum", "PyTorch momentum in [0, 1]: r ← (1 − momentum)·r + momentum·s.", default="0.1"),
        Option("--running-mean", "Running mean before this batch: a scalar or one per feature.", default="0"),
        Option("--running-var", "Running variance before this batch: a scalar or one per feature.",
               default="1"),
        Option("--eval", "Eval mode: normalize with the running statistics (left unchanged).",
               kind=FLAG, default=False),
        Option("--grad-out", "∂L/∂y in the batch's shape: adds the backward pass (∂L/∂x, ∂L/∂γ, ∂L/∂β)."),
    ),
)

EXACT_MAX = 64        # batch entries (m·C) worked exactly with SymPy, step by step
SHOW_ROWS = 3         # rows of x̂, y, ∂L/∂x shown in the working of a big batch
SUM_TERMS = 8         # terms of a sum written out before it is elided with …

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# --------------------------------------------------------------------------- CLI inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of bn-forward.

    Attributes:
        x: the batch as m rows of C values (Fractions, SymPy numbers or expressions).
        single: the batch is one feature given as a list (results are flat lists).
        gamma, beta, running_mean, running_var: a scalar or one per feature.
        eps, momentum: ε inside the square root and PyTorch's momentum.
        eval_mode: normalize with the running statistics (``--eval``).
        grad_out: ∂L/∂y in the batch's shape, or None (no backward pass).
        x_option: the option that gave the batch, for error messages.
    """

    x: Any
    single: bool = False
    gamma: Any = 1
    beta: Any = 0
    eps: Any = Fraction(1, 100000)
    momentum: Any = Fraction(1, 10)
    running_mean: Any = 0
    running_var: Any = 1
    eval_mode: bool = False
    grad_out: Any = None
    x_option: str = "--x"


def parse(*, values: Sequence[str] | None, x: str | None, gamma: str, beta: str, eps: str,
          momentum: str, running_mean: str, running_var: str, eval: bool,
          grad_out: str | None) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_value_fast

    batch, single, option = parse_batch(values or [], x)
    per_feature = ("scalar", "vector")
    return Inputs(
        batch, single=single, x_option=option,
        gamma=parse_value_fast(gamma, "--gamma", kinds=per_feature),
        beta=parse_value_fast(beta, "--beta", kinds=per_feature),
        eps=parse_value_fast(eps, "--eps", kinds=("scalar",)),
        momentum=parse_value_fast(momentum, "--momentum", kinds=("scalar",)),
        running_mean=parse_value_fast(running_mean, "--running-mean", kinds=per_feature),
        running_var=parse_value_fast(running_var, "--running-var", kinds=per_feature),
        eval_mode=eval,
        grad_out=None if grad_out is None else parse_value_fast(
            grad_out, "--grad-out", kinds=("scalar", "vector", "matrix")))


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


def _sym(v: Any) -> Any:
    """A parsed number (Fraction or SymPy) as SymPy."""
    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, int):
        return sympy.Integer(v)
    return v


def _frac(v: Any) -> Fraction:
    """A parsed number as an exact Fraction (an irrational one: its nearest double)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, int):
        return Fraction(v)
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    return Fraction(float(sympy.N(v, 30)))


def _is_symbolic(v: Any) -> bool:
    return isinstance(v, sympy.Basic) and bool(v.free_symbols)


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


def _sub(i: int) -> str:
    return str(i).translate(_SUBSCRIPTS)


def _num(v: Any, digits: int = 6) -> tuple[str, str]:
    """A number as it stands in a substituted formula: (text, LaTeX), parenthesized if needed."""
    from dlcalc import printing as P

    v = _sym(v)
    if isinstance(v, float):
        v = sympy.Float(v)
    if v.is_Rational and not v.is_Integer and len(P.short_decimal(v) or str(v)) > 12:
        v = sympy.Float(v, digits + 3)  # a long exact number is written as its rounded decimal
    if v.is_number and not v.is_Rational:
        t = P.decimal_str(v, digits)
        neg = t.startswith("-")
        tex = P.latex(sympy.Float(t) if "e" not in t else v, digits)
        return (f"({t})" if neg else t), (rf"\left({tex}\right)" if neg else tex)
    s = Shown(v)
    return P.text(s), P.latex(s)


def _sum(parts: list[tuple[str, str]], sep: str = " + ") -> tuple[str, str]:
    """Terms joined by +, elided in the middle when there are many."""
    if len(parts) > SUM_TERMS:
        parts = parts[:SUM_TERMS - 2] + [("…", r"\dots")] + parts[-1:]
    return sep.join(p[0] for p in parts), sep.join(p[1] for p in parts)


def _shape_like(rows: list[list[Any]], single: bool) -> list[Any]:
    return [r[0] for r in rows] if single else rows


def _scalar_or_list(values: list[Any], single: bool) -> Any:
    return values[0] if single else values


# --------------------------------------------------------------------------- validation


def _validate(x: list[list[Any]], option: str, *, gamma: list[Any], beta: list[Any], eps: Any,
              momentum: Any, running_mean: list[Any], running_var: list[Any], eval_mode: bool) -> None:
    m = len(x)
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


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, unbiased_norm: bool = False, shift_first: bool = False,
          biased_running: bool = False) -> Solution:
    """The worked solution (see :func:`work`); the flags are mistakes for ``--check``."""
    return work(**as_kwargs(inp), unbiased_norm=unbiased_norm, shift_first=shift_first,
                biased_running=biased_running)


def work(x: list[list[Any]], *, single: bool = False, gamma: Any = 1, beta: Any = 0,
          eps: Any = Fraction(1, 100000), momentum: Any = Fraction(1, 10), running_mean: Any = 0,
          running_var: Any = 1, eval_mode: bool = False, grad_out: Any = None,
          unbiased_norm: bool = False, shift_first: bool = False, biased_running: bool = False,
          x_option: str = "--x") -> Solution:
    """Batch norm of the m × C batch ``x`` (rows are examples), as torch.nn.BatchNorm1d.

    ``single``: the batch is one feature given as a list (results x̂, y, ∂L/∂x are flat lists
    and per-feature results are scalars).  Values may be Fractions, SymPy numbers or
    expressions.  ``gamma``, ``beta``, ``running_mean``, ``running_var``: a scalar or one per
    feature.  ``grad_out``: ∂L/∂y in the batch's shape, or None for no backward pass.
    ``unbiased_norm``: normalize with the unbiased variance (a convention flag for checking a
    common mistake; PyTorch normalizes with the biased one).  ``shift_first``: the mistake
    y = γ·(x̂ + β).  ``biased_running``: the mistake of updating the running variance with the
    biased variance.  ``x_option`` names the batch in error messages.
    """
    if not x or not x[0]:
        raise InputError(x_option, "is empty")
    m, C = len(x), len(x[0])
    if any(len(r) != C for r in x):
        raise InputError(x_option, "is a ragged matrix: rows have different lengths")
    params = {
        "gamma": _per_feature(gamma, C, "--gamma"),
        "beta": _per_feature(beta, C, "--beta"),
        "running_mean": _per_feature(running_mean, C, "--running-mean"),
        "running_var": _per_feature(running_var, C, "--running-var"),
    }
    _validate(x, x_option, eps=eps, momentum=momentum, eval_mode=eval_mode, **params)
    grad = None if grad_out is None else _grad_rows(grad_out, m, C, single)

    everything = [v for r in x for v in r] + [v for vs in params.values() for v in vs] + [eps, momentum]
    if grad is not None:
        everything += [v for r in grad for v in r]
    symbolic = any(_is_symbolic(v) for v in everything)
    if m * C > EXACT_MAX:
        if symbolic:
            where = next(name for name, vals in (
                (x_option, [v for r in x for v in r]), ("--gamma", params["gamma"]),
                ("--beta", params["beta"]), ("--eps", [eps]), ("--momentum", [momentum]),
                ("--running-mean", params["running_mean"]), ("--running-var", params["running_var"]),
                ("--grad-out", [v for r in grad or [] for v in r])) if any(_is_symbolic(v) for v in vals))
            raise InputError(where, f"is symbolic, which is supported for batches of up to {EXACT_MAX} "
                                    f"values; this batch has {m}×{C} = {m * C}")
        return _solve_numeric(x, single=single, eps=eps, momentum=momentum, eval_mode=eval_mode,
                              grad=grad, unbiased_norm=unbiased_norm, shift_first=shift_first,
                              biased_running=biased_running, **params)
    return _solve_exact(x, single=single, eps=eps, momentum=momentum, eval_mode=eval_mode,
                        grad=grad, unbiased_norm=unbiased_norm, shift_first=shift_first,
                        biased_running=biased_running, x_option=x_option, **params)


def _conventions(eval_mode: bool, backward: bool, unbiased_norm: bool, m: int, C: int) -> dict[str, str]:
    conv = {
        "layout": f"rows are examples, columns features: m = {m} examples, C = {C} feature"
                  + ("s" if C != 1 else "") + " (torch.nn.BatchNorm1d)",
        "parameters": "γ (weight) and β (bias) are the 2C learnable parameters; running_mean and "
                      "running_var are 2C buffers, updated by the forward pass in training, never learned",
        "variance": ("unbiased (1/(m − 1)) batch variance to normalize (not PyTorch's convention)"
                     if unbiased_norm else "biased (1/m) batch variance to normalize")
                    + "; unbiased (1/(m − 1)) batch variance in the running-variance update",
        "epsilon": "inside the square root: x̂ = (x − μ)/√(σ² + ε)",
        "running statistics": "r ← (1 − momentum)·r + momentum·(batch statistic), PyTorch's momentum "
                              "(Keras's momentum is 1 minus this)",
        "mode": ("eval: normalize with the running statistics, which stay unchanged; mean and var "
                 "report the statistics used (the running ones)") if eval_mode else
                ("training: normalize with the batch statistics, then update the running statistics"),
    }
    if backward:
        conv["backward"] = ("eval mode: the running statistics are constants, so ∂L/∂x_i = γ·∂L/∂y_i/√(r_σ² + ε)"
                            if eval_mode else
                            "Ioffe & Szegedy (2015): the gradient flows through x̂, σ²_B and μ_B")
    return conv


def _inputs(x: list[list[Any]], single: bool, params: dict[str, list[Any]], eps: Any, momentum: Any,
            eval_mode: bool, grad: Any, small: bool) -> dict[str, Any]:
    m, C = len(x), len(x[0])

    def one(vs: list[Any]) -> Any:
        return _sym(vs[0]) if all(v == vs[0] for v in vs) else [_sym(v) for v in vs]

    out: dict[str, Any] = {}
    if small:
        out["x"] = [_sym(r[0]) for r in x] if single else [[_sym(v) for v in r] for r in x]
    else:
        out["x"] = f"{m}×{C} batch"
    out.update({"gamma": one(params["gamma"]), "beta": one(params["beta"]), "eps": _sym(eps),
                "momentum": _sym(momentum), "running_mean": one(params["running_mean"]),
                "running_var": one(params["running_var"]), "eval": eval_mode})
    if grad is not None:
        if small:
            out["grad_out"] = [_sym(r[0]) for r in grad] if single else [[_sym(v) for v in r] for r in grad]
        else:
            out["grad_out"] = f"{m}×{C} matrix"
    return out


def _params_step(C: int) -> Step:
    return Step(
        title="learnable parameters and buffers",
        formula=Math(f"γ, β: 2C = {2 * C} learnable parameters; running mean and running variance: "
                     f"2C = {2 * C} buffers (updated in training mode, not learned)",
                     rf"\gamma, \beta: 2C = {2 * C} \text{{ learnable parameters; }} r_\mu, r_{{\sigma^2}}: "
                     rf"2C = {2 * C} \text{{ buffers (not learned)}}"),
    )


# --------------------------------------------------------------------------- exact path


def _solve_exact(x: list[list[Any]], *, single: bool, gamma: list[Any], beta: list[Any], eps: Any,
                 momentum: Any, running_mean: list[Any], running_var: list[Any], eval_mode: bool,
                 grad: list[list[Any]] | None, unbiased_norm: bool, shift_first: bool,
                 biased_running: bool, x_option: str) -> Solution:
    m, C = len(x), len(x[0])
    X = [[_sym(v) for v in r] for r in x]
    G = None if grad is None else [[_sym(v) for v in r] for r in grad]
    eps_s, mom = _sym(eps), _sym(momentum)
    gam, bet = [_sym(v) for v in gamma], [_sym(v) for v in beta]
    rm0, rv0 = [_sym(v) for v in running_mean], [_sym(v) for v in running_var]
    symbolic = any(_is_symbolic(v) for v in [v for r in X for v in r] + gam + bet + rm0 + rv0 + [eps_s, mom]
                   + ([v for r in G for v in r] if G else []))
    tidy = sympy.expand if symbolic else (lambda e: e)
    M = sympy.Integer(m)

    steps: list[Step] = [_params_step(C)]
    means, variances, rms, rvs = [], [], [], []
    xhat = [[None] * C for _ in range(m)]
    ys = [[None] * C for _ in range(m)]
    gx = [[None] * C for _ in range(m)]
    ggam, gbet = [], []
    et, el = _num(eps_s)
    for j in range(C):
        sec = f"feature {j + 1}" if C > 1 else ""
        col = [X[i][j] for i in range(m)]
        cols_t = [_num(v) for v in col]
        if eval_mode:
            mu, var = rm0[j], rv0[j]
            mu_n, var_n, mu_l, var_n_l = "r_μ", "r_σ²", r"r_\mu", r"r_{\sigma^2}"
            steps.append(Step(title="eval mode: normalize with the running statistics",
                              formula=Math("μ = r_μ, σ² = r_σ² (the batch statistics are not used)",
                                           r"\mu = r_\mu,\ \sigma^2 = r_{\sigma^2}"),
                              value=[mu, var], section=sec))
        else:
            mu = tidy(_add(col) / M)
            st, sl = _sum(cols_t)
            steps.append(Step(title="batch mean", section=sec,
                              formula=Math("μ_B = (1/m)·Σᵢ xᵢ", r"\mu_B = \frac{1}{m}\sum_{i=1}^{m} x_i"),
                              substituted=Math(f"({st})/{m}", rf"\frac{{{sl}}}{{{m}}}"), value=mu))
            sq = [tidy((v - mu) ** 2) for v in col]
            var_b = tidy(_add(sq) / M)
            mt, ml = _num(mu)
            st, sl = _sum([(f"({t} − {mt})²", rf"\left({l} - {ml}\right)^{{2}}") for t, l in cols_t])
            if unbiased_norm:  # the mistake: normalize with the unbiased variance
                var = tidy(_add(sq) / (M - 1))
                steps.append(Step(title="batch variance (unbiased, 1/(m − 1)), used to normalize", section=sec,
                                  formula=Math("σ²_N = (1/(m − 1))·Σᵢ (xᵢ − μ_B)²",
                                               r"\sigma^2_N = \frac{1}{m-1}\sum_{i=1}^{m} (x_i - \mu_B)^2"),
                                  substituted=Math(f"({st})/{m - 1}", rf"\frac{{{sl}}}{{{m - 1}}}"), value=var))
            else:
                var = var_b
                steps.append(Step(title="batch variance (biased, 1/m)", section=sec,
                                  formula=Math("σ²_B = (1/m)·Σᵢ (xᵢ − μ_B)²",
                                               r"\sigma^2_B = \frac{1}{m}\sum_{i=1}^{m} (x_i - \mu_B)^2"),
                                  substituted=Math(f"({st})/{m}", rf"\frac{{{sl}}}{{{m}}}"), value=var_b))
            mu_n, var_n, mu_l, var_n_l = "μ_B", "σ²_N" if unbiased_norm else "σ²_B", r"\mu_B", \
                (r"\sigma^2_N" if unbiased_norm else r"\sigma^2_B")
        V = var + eps_s
        if V.is_number and V == 0:
            raise _zero_variance(j, C, eval_mode)
        rstd = 1 / sympy.sqrt(V)
        means.append(mu)
        variances.append(var)
        mt, ml = _num(mu)
        vt, vl = _num(var)
        for i in range(m):
            xh = tidy(col[i] - mu) * rstd
            xhat[i][j] = xh
            n = _sub(i + 1)
            steps.append(Step(
                title=f"normalized x̂{n}", section=sec,
                formula=Math(f"x̂{n} = (x{n} − {mu_n})/√({var_n} + ε)",
                             rf"\hat{{x}}_{{{i + 1}}} = \frac{{x_{{{i + 1}}} - {mu_l}}}{{\sqrt{{{var_n_l} + \epsilon}}}}"),
                substituted=Math(f"({cols_t[i][0]} − {mt})/√({vt} + {et})",
                                 rf"\frac{{{cols_t[i][1]} - {ml}}}{{\sqrt{{{vl} + {el}}}}}"),
                value=xh))
        gt, gl = _num(gam[j])
        bt, bl = _num(bet[j])
        identity = gam[j] == 1 and bet[j] == 0
        if identity:
            for i in range(m):
                ys[i][j] = xhat[i][j]
            steps.append(Step(
                title="output y", section=sec,
                formula=Math("yᵢ = γ·x̂ᵢ + β = x̂ᵢ, since γ = 1 and β = 0",
                             r"y_i = \gamma \hat{x}_i + \beta = \hat{x}_i \quad (\gamma = 1,\ \beta = 0)"),
                value=[ys[i][j] for i in range(m)]))
        for i in range(m if not identity else 0):
            n = _sub(i + 1)
            xt, xl = _num(xhat[i][j])
            if shift_first:  # the mistake y = γ·(x̂ + β)
                y = gam[j] * (xhat[i][j] + bet[j])
                formula = Math(f"y{n} = γ·(x̂{n} + β)", rf"y_{{{i + 1}}} = \gamma (\hat{{x}}_{{{i + 1}}} + \beta)")
                sub = Math(f"{gt}·({xt} + {bt})", rf"{gl} \cdot ({xl} + {bl})")
            else:
                y = gam[j] * xhat[i][j] + bet[j]
                formula = Math(f"y{n} = γ·x̂{n} + β", rf"y_{{{i + 1}}} = \gamma \hat{{x}}_{{{i + 1}}} + \beta")
                sub = Math(f"{gt}·{xt} + {bt}", rf"{gl} \cdot {xl} + {bl}")
            ys[i][j] = y
            steps.append(Step(title=f"output y{n}", section=sec, formula=formula, substituted=sub, value=y))
        # running statistics
        if eval_mode:
            rms.append(rm0[j])
            rvs.append(rv0[j])
            steps.append(Step(title="running statistics (buffers)", section=sec,
                              formula=Math("eval mode: r_μ and r_σ² are not updated",
                                           r"\text{eval mode: } r_\mu, r_{\sigma^2} \text{ unchanged}"),
                              value=[rm0[j], rv0[j]]))
        else:
            mo_t, mo_l = _num(mom)
            one_minus = f"(1 − {mo_t})"
            rm = tidy((1 - mom) * rm0[j] + mom * mu)
            rmt, rml = _num(rm0[j])
            steps.append(Step(
                title="running mean (buffer)", section=sec,
                formula=Math("r_μ ← (1 − momentum)·r_μ + momentum·μ_B",
                             r"r_\mu \leftarrow (1 - \text{momentum})\, r_\mu + \text{momentum}\, \mu_B"),
                substituted=Math(f"{one_minus}·{rmt} + {mo_t}·{_num(mu)[0]}",
                                 rf"(1 - {mo_l}) \cdot {rml} + {mo_l} \cdot {_num(mu)[1]}"),
                value=rm))
            vbt, vbl = _num(var_b)
            if biased_running:  # the mistake: the biased variance in the running update
                s2 = var_b
                steps.append(Step(title="biased batch variance (1/m), for the running update", section=sec,
                                  formula=Math("s²_B = σ²_B", r"s^2_B = \sigma^2_B"), value=s2))
            else:
                s2 = tidy(var_b * M / (M - 1))
                steps.append(Step(
                    title="unbiased batch variance (1/(m − 1)), for the running update", section=sec,
                    formula=Math("s²_B = m/(m − 1)·σ²_B = (1/(m − 1))·Σᵢ (xᵢ − μ_B)²",
                                 r"s^2_B = \frac{m}{m-1}\sigma^2_B"),
                    substituted=Math(f"{m}/{m - 1}·{vbt}", rf"\frac{{{m}}}{{{m - 1}}} \cdot {vbl}"), value=s2))
            rv = tidy((1 - mom) * rv0[j] + mom * s2)
            rvt, rvl = _num(rv0[j])
            steps.append(Step(
                title="running variance (buffer)", section=sec,
                formula=Math("r_σ² ← (1 − momentum)·r_σ² + momentum·s²_B",
                             r"r_{\sigma^2} \leftarrow (1 - \text{momentum})\, r_{\sigma^2} + \text{momentum}\, s^2_B"),
                substituted=Math(f"{one_minus}·{rvt} + {mo_t}·{_num(s2)[0]}",
                                 rf"(1 - {mo_l}) \cdot {rvl} + {mo_l} \cdot {_num(s2)[1]}"),
                value=rv))
            rms.append(rm)
            rvs.append(rv)
        if G is not None:
            steps.extend(_backward_exact(G, j, col, mu, var, V, rstd, xhat, gam[j], m, eval_mode,
                                         unbiased_norm, tidy, sec, (mu_n, var_n, mu_l, var_n_l), gx,
                                         ggam, gbet, bet[j] if shift_first else None))

    result: dict[str, Any] = {
        "mean": _scalar_or_list(means, single), "var": _scalar_or_list(variances, single),
        "x_hat": _shape_like(xhat, single), "y": _shape_like(ys, single),
        "running_mean": _scalar_or_list(rms, single), "running_var": _scalar_or_list(rvs, single),
    }
    if G is not None:
        result.update({"grad_x": _shape_like(gx, single), "grad_gamma": _scalar_or_list(ggam, single),
                       "grad_beta": _scalar_or_list(gbet, single)})
    params = {"gamma": gamma, "beta": beta, "running_mean": running_mean, "running_var": running_var}
    return Solution(command="bn-forward",
                    inputs=_inputs(x, single, params, eps, momentum, eval_mode, grad, small=True),
                    conventions=_conventions(eval_mode, G is not None, unbiased_norm, m, C),
                    steps=tuple(steps), result=result,
                    notes=("exact arithmetic (SymPy)",) if not symbolic else ())


def _backward_exact(G: list[list[Any]], j: int, col: list[Any], mu: Any, var: Any, V: Any, rstd: Any,
                    xhat: list[list[Any]], gam: Any, m: int, eval_mode: bool, unbiased_norm: bool,
                    tidy: Any, sec: str, names: tuple[str, str, str, str], gx: list[list[Any]],
                    ggam: list[Any], gbet: list[Any], shift: Any = None) -> list[Step]:
    """The backward pass of feature j; ``shift`` is β under the mistake y = γ·(x̂ + β)."""
    mu_n, var_n, mu_l, var_l = names
    steps: list[Step] = []
    g = [G[i][j] for i in range(m)]
    g_t = [_num(v) for v in g]
    gb = tidy(_add(g))
    st, sl = _sum(g_t)
    steps.append(Step(title="backward: ∂L/∂β", section=sec,
                      formula=Math("∂L/∂β = Σᵢ ∂L/∂yᵢ", r"\frac{\partial L}{\partial \beta} = \sum_i \frac{\partial L}{\partial y_i}"),
                      substituted=Math(st, sl), value=gb))
    P = tidy(_add([g[i] * (col[i] - mu) for i in range(m)]))  # Σ g_i (x_i − μ)
    gg = P * rstd
    st, sl = _sum([(f"{g_t[i][0]}·{_num(xhat[i][j])[0]}", rf"{g_t[i][1]} \cdot {_num(xhat[i][j])[1]}")
                   for i in range(m)])
    steps.append(Step(title="backward: ∂L/∂γ", section=sec,
                      formula=Math("∂L/∂γ = Σᵢ ∂L/∂yᵢ·x̂ᵢ",
                                   r"\frac{\partial L}{\partial \gamma} = \sum_i \frac{\partial L}{\partial y_i} \hat{x}_i"),
                      substituted=Math(st, sl), value=gg))
    if shift is not None:  # the mistake y = γ·(x̂ + β): ∂L/∂β = γ·Σ g, ∂L/∂γ = Σ g·(x̂ + β)
        gg = gg + shift * gb
        gb = gam * gb
        steps.append(Step(title="backward under y = γ·(x̂ + β)", section=sec,
                          formula=Math("∂L/∂β = γ·Σᵢ ∂L/∂yᵢ, ∂L/∂γ = Σᵢ ∂L/∂yᵢ·(x̂ᵢ + β)",
                                       r"\frac{\partial L}{\partial \beta} = \gamma \sum_i \frac{\partial L}{\partial y_i}"),
                          value=[gb, gg]))
    gbet.append(gb)
    ggam.append(gg)
    gt, gl = _num(gam)
    vt, vl = _num(var)
    et, el = _num(V - var)
    if eval_mode:
        for i in range(m):
            n = _sub(i + 1)
            d = tidy(gam * g[i]) * rstd
            gx[i][j] = d
            steps.append(Step(
                title=f"backward: ∂L/∂x{n}", section=sec,
                formula=Math(f"∂L/∂x{n} = γ·∂L/∂y{n}/√(r_σ² + ε)",
                             rf"\frac{{\partial L}}{{\partial x_{{{i + 1}}}}} = \frac{{\gamma\, \partial L/\partial y_{{{i + 1}}}}}{{\sqrt{{r_{{\sigma^2}} + \epsilon}}}}"),
                substituted=Math(f"{gt}·{g_t[i][0]}/√({vt} + {et})",
                                 rf"\frac{{{gl} \cdot {g_t[i][1]}}}{{\sqrt{{{vl} + {el}}}}}"),
                value=d))
        return steps
    n_var = m - 1 if unbiased_norm else m
    nv = "(m − 1)" if unbiased_norm else "m"
    nvl = "(m-1)" if unbiased_norm else "m"
    # the chain of Ioffe & Szegedy: through x̂, then σ² and μ, then x
    dxh = [tidy(g[i] * gam) for i in range(m)]
    st, sl = _sum([(f"{g_t[i][0]}·{gt}", rf"{g_t[i][1]} \cdot {gl}") for i in range(m)], sep=", ")
    steps.append(Step(
        title="backward: ∂L/∂x̂ᵢ (chain rule through x̂, then σ² and μ)", section=sec,
        formula=Math("∂L/∂x̂ᵢ = ∂L/∂yᵢ·γ",
                     r"\frac{\partial L}{\partial \hat{x}_i} = \frac{\partial L}{\partial y_i}\gamma"),
        substituted=Math(f"[{st}]", rf"\left[{sl}\right]"), value=list(dxh)))
    dvar = tidy(-gam * P / 2) * V ** sympy.Rational(-3, 2)
    dmu = tidy(-gam * gb) * rstd
    mt, ml = _num(mu)
    st, sl = _sum([(f"{_num(dxh[i])[0]}·({_num(col[i])[0]} − {mt})", rf"{_num(dxh[i])[1]} \left({_num(col[i])[1]} - {ml}\right)")
                   for i in range(m)])
    steps.append(Step(title=f"backward: ∂L/∂{var_n}", section=sec,
                      formula=Math(f"∂L/∂{var_n} = −½·({var_n} + ε)^(−3/2)·Σᵢ ∂L/∂x̂ᵢ·(xᵢ − μ_B)",
                                   rf"\frac{{\partial L}}{{\partial {var_l}}} = -\frac{{1}}{{2}}({var_l} + \epsilon)^{{-3/2}}\sum_i \frac{{\partial L}}{{\partial \hat{{x}}_i}} (x_i - \mu_B)"),
                      substituted=Math(f"−½·({vt} + {et})^(−3/2)·({st})",
                                       rf"-\frac{{1}}{{2}}({vl} + {el})^{{-3/2}}\left({sl}\right)"),
                      value=dvar))
    st, sl = _sum([_num(v) for v in dxh])
    steps.append(Step(title="backward: ∂L/∂μ_B", section=sec,
                      formula=Math(f"∂L/∂μ_B = −Σᵢ ∂L/∂x̂ᵢ/√({var_n} + ε) + ∂L/∂{var_n}·(−2/{nv})·Σᵢ (xᵢ − μ_B)",
                                   rf"\frac{{\partial L}}{{\partial \mu_B}} = -\frac{{\sum_i \partial L/\partial \hat{{x}}_i}}{{\sqrt{{{var_l} + \epsilon}}}}"
                                   rf" + \frac{{\partial L}}{{\partial {var_l}}} \frac{{-2}}{{{nvl}}}\sum_i (x_i - \mu_B)"),
                      note="the second term is 0, because Σᵢ (xᵢ − μ_B) = 0",
                      substituted=Math(f"−({st})/√({vt} + {et})", rf"-\frac{{{sl}}}{{\sqrt{{{vl} + {el}}}}}"),
                      value=dmu))
    steps.append(Step(
        title="backward: ∂L/∂xᵢ, simplified (general form)", section=sec,
        formula=Math(f"∂L/∂xᵢ = γ/(m·√({var_n} + ε))·(m·∂L/∂yᵢ − Σⱼ ∂L/∂yⱼ − "
                     + ("" if not unbiased_norm else "m/(m − 1)·") + "x̂ᵢ·Σⱼ ∂L/∂yⱼ·x̂ⱼ)",
                     rf"\frac{{\partial L}}{{\partial x_i}} = \frac{{\gamma}}{{m\sqrt{{{var_l} + \epsilon}}}}"
                     rf"\left(m \frac{{\partial L}}{{\partial y_i}} - \sum_j \frac{{\partial L}}{{\partial y_j}} - "
                     + ("" if not unbiased_norm else r"\frac{m}{m-1}") +
                     r"\hat{x}_i \sum_j \frac{\partial L}{\partial y_j}\hat{x}_j\right)"),
        note="the same values as the chain above: γ/(m√(σ² + ε))·(m·gᵢ − ∂L/∂β − x̂ᵢ·∂L/∂γ)"))
    dvt, dvl = _num(dvar)
    dmt, dml = _num(dmu)
    for i in range(m):
        n = _sub(i + 1)
        # = ∂L/∂x̂ᵢ·rstd + ∂L/∂σ²·2(xᵢ − μ)/n + ∂L/∂μ/m, collected over the factor 1/√(σ² + ε)
        d = (tidy(gam * (g[i] - gb / m)) - tidy(gam * (col[i] - mu) * P) / (n_var * V)) * rstd
        gx[i][j] = d
        steps.append(Step(
            title=f"backward: ∂L/∂x{n}", section=sec,
            formula=Math(f"∂L/∂x{n} = ∂L/∂y{n}·γ/√({var_n} + ε) + ∂L/∂{var_n}·2(x{n} − μ_B)/{nv} + ∂L/∂μ_B/m",
                         rf"\frac{{\partial L}}{{\partial x_{{{i + 1}}}}} = \frac{{\partial L / \partial y_{{{i + 1}}}\, \gamma}}{{\sqrt{{{var_l} + \epsilon}}}}"
                         rf" + \frac{{\partial L}}{{\partial {var_l}}}\frac{{2(x_{{{i + 1}}} - \mu_B)}}{{{nvl}}} + \frac{{1}}{{m}}\frac{{\partial L}}{{\partial \mu_B}}"),
            substituted=Math(f"{g_t[i][0]}·{gt}/√({vt} + {et}) + {dvt}·2·({_num(col[i])[0]} − {mt})/{n_var} + {dmt}/{m}",
                             rf"\frac{{{g_t[i][1]} \cdot {gl}}}{{\sqrt{{{vl} + {el}}}}} + {dvl} \cdot \frac{{2\left({_num(col[i])[1]} - {ml}\right)}}{{{n_var}}} + \frac{{{dml}}}{{{m}}}"),
            value=d))
    return steps


# --------------------------------------------------------------------------- numeric path


def _rsqrt(V: Fraction) -> float:
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


def _scaled(col: list[Fraction]) -> tuple[list[int], int]:
    """Fractions as integers over one common denominator: (numerators, denominator)."""
    den = math.lcm(*{f.denominator for f in col})
    return [f.numerator * (den // f.denominator) for f in col], den


def _solve_numeric(x: list[list[Any]], *, single: bool, gamma: list[Any], beta: list[Any], eps: Any,
                   momentum: Any, running_mean: list[Any], running_var: list[Any], eval_mode: bool,
                   grad: list[list[Any]] | None, unbiased_norm: bool, shift_first: bool,
                   biased_running: bool) -> Solution:
    from dlcalc import printing as P

    m, C = len(x), len(x[0])
    irrational = any(not isinstance(v, Fraction) and not _sym(v).is_Rational
                     for v in [v for r in x for v in r] + gamma + beta + running_mean + running_var
                     + [eps, momentum] + ([v for r in grad for v in r] if grad else []))
    X = [[_frac(v) for v in r] for r in x]
    Gm = None if grad is None else [[_frac(v) for v in r] for r in grad]
    e, mo = _frac(eps), _frac(momentum)
    n_var = m - 1 if unbiased_norm else m
    means, variances, rms, rvs, ggam, gbet = [], [], [], [], [], []
    xhat = [[0.0] * C for _ in range(m)]
    ys = [[0.0] * C for _ in range(m)]
    gx = [[0.0] * C for _ in range(m)] if Gm is not None else None
    for j in range(C):
        a, D = _scaled([X[i][j] for i in range(m)])
        Sa = sum(a)
        if eval_mode:
            mu, var = _frac(running_mean[j]), _frac(running_var[j])
            # x_i − μ = c_i/K exactly
            c = [ai * mu.denominator - mu.numerator * D for ai in a]
            K = D * mu.denominator
        else:
            mu = Fraction(Sa, m * D)
            c = [m * ai - Sa for ai in a]
            K = m * D
            ss = sum(ci * ci for ci in c)  # Σ (x_i − μ)² = ss/K²
            var = Fraction(ss, K * K * n_var)
        V = var + e
        if V == 0:
            raise _zero_variance(j, C, eval_mode)
        rstd = _rsqrt(V)
        g_f, b_f = float(_frac(gamma[j])), float(_frac(beta[j]))
        for i in range(m):
            xh = (c[i] / K) * rstd
            xhat[i][j] = xh
            ys[i][j] = g_f * (xh + b_f) if shift_first else g_f * xh + b_f
        means.append(mu)
        variances.append(var)
        if eval_mode:
            rms.append(_frac(running_mean[j]))
            rvs.append(_frac(running_var[j]))
        else:
            rms.append((1 - mo) * _frac(running_mean[j]) + mo * mu)
            rvs.append((1 - mo) * _frac(running_var[j]) + mo * Fraction(ss, K * K * (m if biased_running else m - 1)))
        if Gm is not None:
            b, E = _scaled([Gm[i][j] for i in range(m)])
            Sb = sum(b)
            P_ = sum(bi * ci for bi, ci in zip(b, c))  # Σ g_i (x_i − μ) = P_/(E·K)
            if shift_first:  # the mistake y = γ·(x̂ + β)
                gbet.append(Fraction(Sb, E) * _frac(gamma[j]))
                ggam.append((P_ / (E * K)) * rstd + b_f * (Sb / E))
            else:
                gbet.append(Fraction(Sb, E))
                ggam.append((P_ / (E * K)) * rstd)
            gam = _frac(gamma[j])
            if eval_mode:
                scale = float(gam) * rstd
                for i in range(m):
                    gx[i][j] = (b[i] / E) * scale
            else:
                # ∂L/∂x_i = γ·rstd/m · (m g_i − Σg − (m/n) x̂_i Σ g x̂), the bracket exact over one denominator
                Vn, Vd = V.numerator, V.denominator
                KK = K * K
                t1 = m * n_var * KK * Vn
                t2 = Sb * n_var * KK * Vn
                t3 = P_ * Vd * m
                den = n_var * E * KK * Vn
                scale = float(gam) * rstd / m
                for i in range(m):
                    gx[i][j] = ((b[i] * t1 - t2 - c[i] * t3) / den) * scale

    # the working: formulas, per-feature vectors, and the first rows
    R = sympy.Rational
    vec = lambda fs: [R(f.numerator, f.denominator) for f in fs]  # noqa: E731
    steps: list[Step] = [_params_step(C)]
    shown = min(SHOW_ROWS, m)
    head = f"rows 1–{shown} of {m}" if shown > 1 else f"row 1 of {m}"
    x1 = [_num(X[i][0]) for i in range(m)]
    if eval_mode:
        steps.append(Step(title="eval mode: normalize with the running mean, per feature j",
                          formula=Math("μⱼ = r_μ,ⱼ (the batch statistics are not used)", r"\mu_j = r_{\mu,j}"),
                          value=vec(means)))
        steps.append(Step(title="eval mode: and with the running variance",
                          formula=Math("σ²ⱼ = r_σ²,ⱼ", r"\sigma^2_j = r_{\sigma^2,j}"), value=vec(variances)))
        mu_n, var_n = "r_μ,ⱼ", "r_σ²,ⱼ"
    else:
        st, sl = _sum(x1)
        steps.append(Step(title="batch mean, per feature j",
                          formula=Math("μⱼ = (1/m)·Σᵢ xᵢⱼ", r"\mu_j = \frac{1}{m}\sum_{i=1}^{m} x_{ij}"),
                          substituted=Math(f"j = 1: ({st})/{m}", rf"j = 1:\ \frac{{{sl}}}{{{m}}}"),
                          value=vec(means)))
        mt, ml = _num(means[0])
        st, sl = _sum([(f"({t} − {mt})²", rf"\left({l} - {ml}\right)^2") for t, l in x1])
        steps.append(Step(title="batch variance (biased, 1/m), per feature j"
                          + ("; normalized with the unbiased one (1/(m − 1))" if unbiased_norm else ""),
                          formula=Math("σ²ⱼ = (1/m)·Σᵢ (xᵢⱼ − μⱼ)²", r"\sigma^2_j = \frac{1}{m}\sum_{i=1}^{m} (x_{ij} - \mu_j)^2"),
                          substituted=Math(f"j = 1: ({st})/{m}", rf"j = 1:\ \frac{{{sl}}}{{{m}}}"),
                          value=vec(variances)))
        mu_n, var_n = "μⱼ", "σ²ⱼ"
    mt, ml = _num(means[0])
    vt, vl = _num(variances[0])
    et, el = _num(e)
    for i in range(shown):
        n = _sub(i + 1)
        steps.append(Step(
            title=f"normalized x̂, {head}: row {i + 1}",
            formula=Math(f"x̂{n}ⱼ = (x{n}ⱼ − {mu_n})/√({var_n} + ε)",
                         rf"\hat{{x}}_{{{i + 1}j}} = \frac{{x_{{{i + 1}j}} - \mu_j}}{{\sqrt{{\sigma^2_j + \epsilon}}}}"),
            substituted=Math(f"j = 1: ({x1[i][0]} − {mt})/√({vt} + {et})",
                             rf"j = 1:\ \frac{{{x1[i][1]} - {ml}}}{{\sqrt{{{vl} + {el}}}}}"),
            value=[sympy.Float(v) for v in xhat[i]]))
    for i in range(shown):
        n = _sub(i + 1)
        gt, gl = _num(gamma[0])
        bt, bl = _num(beta[0])
        xt = P.decimal_str(sympy.Float(xhat[i][0]), 6)
        steps.append(Step(
            title=f"output y, {head}: row {i + 1}",
            formula=Math(f"y{n}ⱼ = γⱼ·(x̂{n}ⱼ + βⱼ)", rf"y_{{{i + 1}j}} = \gamma_j (\hat{{x}}_{{{i + 1}j}} + \beta_j)")
            if shift_first else
            Math(f"y{n}ⱼ = γⱼ·x̂{n}ⱼ + βⱼ", rf"y_{{{i + 1}j}} = \gamma_j \hat{{x}}_{{{i + 1}j}} + \beta_j"),
            substituted=Math(f"j = 1: {gt}·(({xt}) + {bt})", rf"j = 1:\ {gl} \cdot (({xt}) + {bl})")
            if shift_first else Math(f"j = 1: {gt}·({xt}) + {bt}", rf"j = 1:\ {gl} \cdot ({xt}) + {bl}"),
            value=[sympy.Float(v) for v in ys[i]]))
    if eval_mode:
        steps.append(Step(title="running statistics (buffers)",
                          formula=Math("eval mode: r_μ and r_σ² are not updated",
                                       r"\text{eval mode: } r_\mu, r_{\sigma^2} \text{ unchanged}")))
    else:
        steps.append(Step(title="running mean (buffer), per feature",
                          formula=Math("r_μ ← (1 − momentum)·r_μ + momentum·μ_B",
                                       r"r_\mu \leftarrow (1 - \text{momentum})\, r_\mu + \text{momentum}\, \mu_B"),
                          value=vec(rms)))
        if biased_running:  # the mistake: the biased variance in the running update
            steps.append(Step(title="running variance (buffer), per feature, with the biased variance",
                              formula=Math("r_σ² ← (1 − momentum)·r_σ² + momentum·σ²_B",
                                           r"r_{\sigma^2} \leftarrow (1 - \text{momentum})\, r_{\sigma^2} + \text{momentum}\,\sigma^2_B"),
                              value=vec(rvs)))
        else:
            steps.append(Step(title="running variance (buffer), per feature, with the unbiased variance",
                              formula=Math("r_σ² ← (1 − momentum)·r_σ² + momentum·m/(m − 1)·σ²_B",
                                           r"r_{\sigma^2} \leftarrow (1 - \text{momentum})\, r_{\sigma^2} + \text{momentum}\,\frac{m}{m-1}\sigma^2_B"),
                              value=vec(rvs)))
    if Gm is not None:
        steps.append(Step(title="backward: ∂L/∂β, per feature",
                          formula=Math("∂L/∂βⱼ = Σᵢ ∂L/∂yᵢⱼ", r"\frac{\partial L}{\partial \beta_j} = \sum_i \frac{\partial L}{\partial y_{ij}}"),
                          value=vec(gbet)))
        steps.append(Step(title="backward: ∂L/∂γ, per feature",
                          formula=Math("∂L/∂γⱼ = Σᵢ ∂L/∂yᵢⱼ·x̂ᵢⱼ", r"\frac{\partial L}{\partial \gamma_j} = \sum_i \frac{\partial L}{\partial y_{ij}}\hat{x}_{ij}"),
                          value=[sympy.Float(v) for v in ggam]))
        if eval_mode:
            gen = Math("∂L/∂xᵢⱼ = γⱼ·∂L/∂yᵢⱼ/√(r_σ²,ⱼ + ε)",
                       r"\frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j\, \partial L/\partial y_{ij}}{\sqrt{r_{\sigma^2,j} + \epsilon}}")
        else:
            gen = Math("∂L/∂xᵢⱼ = γⱼ/(m·√(σ²ⱼ + ε))·(m·∂L/∂yᵢⱼ − Σₖ ∂L/∂yₖⱼ − "
                       + ("m/(m − 1)·" if unbiased_norm else "") + "x̂ᵢⱼ·Σₖ ∂L/∂yₖⱼ·x̂ₖⱼ)",
                       r"\frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j}{m\sqrt{\sigma^2_j + \epsilon}}"
                       r"\left(m \frac{\partial L}{\partial y_{ij}} - \sum_k \frac{\partial L}{\partial y_{kj}} - "
                       + (r"\frac{m}{m-1}" if unbiased_norm else "")
                       + r"\hat{x}_{ij} \sum_k \frac{\partial L}{\partial y_{kj}}\hat{x}_{kj}\right)")
        for i in range(shown):
            steps.append(Step(title=f"backward: ∂L/∂x, {head}: row {i + 1}",
                              formula=gen if i == 0 else None,
                              value=[sympy.Float(v) for v in gx[i]],
                              note="Ioffe & Szegedy's chain through x̂, σ² and μ, simplified" if i == 0 and not eval_mode else ""))

    result: dict[str, Any] = {
        "mean": _scalar_or_list(vec(means), single), "var": _scalar_or_list(vec(variances), single),
        "x_hat": _shape_like(xhat, single), "y": _shape_like(ys, single),
        "running_mean": _scalar_or_list(vec(rms), single), "running_var": _scalar_or_list(vec(rvs), single),
    }
    if Gm is not None:
        result.update({"grad_x": _shape_like(gx, single), "grad_gamma": _scalar_or_list(ggam, single),
                       "grad_beta": _scalar_or_list(vec(gbet), single)})
    notes = [f"numeric path for a batch of {m}×{C} = {m * C} values (> {EXACT_MAX}): mean, var, "
             "running_mean, running_var" + (" and grad_beta" if Gm is not None else "")
             + " are exact; x_hat, y" + (", grad_x and grad_gamma" if Gm is not None else "")
             + " are double-precision values from exact integer sums (error of a few ulps)"]
    if irrational:
        notes.append("irrational inputs were rounded to the nearest double before the sums")
    params = {"gamma": gamma, "beta": beta, "running_mean": running_mean, "running_var": running_var}
    return Solution(command="bn-forward",
                    inputs=_inputs(x, single, params, eps, momentum, eval_mode, grad, small=False),
                    conventions=_conventions(eval_mode, Gm is not None, unbiased_norm, m, C),
                    steps=tuple(steps), result=result, notes=tuple(notes))


# --------------------------------------------------------------------------- --check


def _forgot_eps(kw: dict[str, Any]) -> dict[str, Any] | None:
    eps = _sym(kw.get("eps", Fraction(1, 100000)))
    return None if eps == 0 else {"eps": sympy.Integer(0)}


def _swapped_affine(kw: dict[str, Any]) -> dict[str, Any] | None:
    gamma, beta = kw.get("gamma", 1), kw.get("beta", 0)
    return None if gamma == beta else {"gamma": beta, "beta": gamma}


def _keras_momentum(kw: dict[str, Any]) -> dict[str, Any] | None:
    mo = _sym(kw.get("momentum", Fraction(1, 10)))
    return None if kw.get("eval_mode") or mo == sympy.Rational(1, 2) else {"momentum": 1 - mo}


#: common mistakes, for ``--check`` (each a variant of :func:`solve`)
MISTAKES = (
    Mistake("normalized with the unbiased variance (1/(m − 1)) instead of the biased one (1/m)",
            {"unbiased_norm": True}),
    Mistake("forgot ε (divided by √σ² instead of √(σ² + ε))", _forgot_eps),
    Mistake("applied γ and β in the wrong order: y = γ·(x̂ + β) instead of γ·x̂ + β", {"shift_first": True}),
    Mistake("swapped γ and β", _swapped_affine),
    Mistake("updated the running variance with the biased variance (1/m) instead of the unbiased one",
            {"biased_running": True}),
    Mistake("used Keras's momentum: r ← momentum·r + (1 − momentum)·s", _keras_momentum),
)
