"""ema: the exponential moving average of a sequence, unrolled, and its bias correction.

    v_t = β·v_{t−1} + (1 − β)·x_t,  t = 1 … T,  v₀ = 0 (or --v0)
        = (1 − β)·Σ_{i=1}^{t} β^(t−i)·x_i + β^t·v₀           (unrolled)
    v̂_t = v_t/(1 − β^t)                                       (bias-corrected)

The weights (1 − β)β^(t−i) of x_1 … x_t sum to 1 − β^t (a geometric series), so with
v₀ = 0 and a common mean, E[v_t] = (1 − β^t)·E[x]: the average starts low.  Dividing by
the sum of the weights makes them sum to 1, and E[v̂_t] = E[x].  This is the first
moment of Adam (g_t in the place of x_t) and the "exponentially weighted average" of
Andrew Ng's course; PyTorch has no function for a sequence of numbers, so the oracle is
this recursion (tests/oracle/gen_sched.py, NumPy).

Arithmetic is exact (rationals) while the exact values stay small, SymPy for symbolic or
irrational values (short sequences), else 40-digit decimals reported as floats.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import sympy

from dlcalc.board import Ex, OAdd, Sigma, eq, ordered_product, step, written
from dlcalc.core import Math, Mistake, Solution, Step, said
from dlcalc.errors import InputError
from dlcalc.parse import parse_scalar, parse_value_fast, symbol
from dlcalc.registry import Command, Option

COMMAND = Command(
    name="ema",
    summary="Exponential moving average v_t = βv_{t−1} + (1 − β)x_t, its unrolled sum and the bias correction.",
    example='dlcalc ema --beta 0.9 --values "[1, 2, 3]"',
    options=(
        Option("--beta", "The decay β in [0, 1) (default 0.9); may be a symbol.", default="0.9"),
        Option("--values", "The sequence x_1 … x_T, e.g. \"[1, 2, 3]\" or 1,2,3 (numbers or symbols)."),
        Option("--v0", "The starting value v₀ (default 0; the bias correction assumes 0).", default="0"),
    ),
)

MAX_VALUES = 100_000
EXACT_MAX_STEPS = 1_000     # exact rationals for at most this many values ...
EXACT_MAX_BITS = 2_000      # ... while no value has more bits than this
SYMBOLIC_MAX_STEPS = 30     # symbols or irrational numbers: SymPy arithmetic, this many values
SHOW_ALL = 6                # sequences this long show every t; longer: the first 3 and the last 2
SHOW_HEAD, SHOW_TAIL = 3, 2
SHOW_TERMS = 6              # the unrolled sum is written term by term up to this many terms
DPS = 40                    # digits of the numeric path
SHOW_INPUTS = 50            # inputs echo the values up to this many (else "1,000 values")
SHORT = 24                  # an exact number longer than this is put into a formula as a decimal


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of ema.

    Attributes:
        beta: β, a number in [0, 1).
        values: x_1 … x_T (Fractions, or SymPy numbers/expressions).
        v0: the starting value v₀.
    """

    beta: Any
    values: tuple[Any, ...]
    v0: Any = sympy.Integer(0)


class Rules(NamedTuple):
    """How the recursion is worked: PyTorch's and Adam's by default; each flag is a mistake."""

    no_correction: bool = False    # v̂_t = v_t
    one_minus_beta: bool = False   # v̂_t = v_t/(1 − β)
    swapped: bool = False          # v_t = (1 − β)·v_{t−1} + β·x_t
    start_at_x1: bool = False      # v₁ = x₁


def parse(*, beta: str, values: str | None, v0: str) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    b = parse_scalar(beta if beta is not None else "0.9", "--beta")
    if b.is_number:  # a symbol (or an expression in symbols) is taken to be in [0, 1)
        if b.is_real is False:
            raise InputError("--beta", f"must be a number in [0, 1), got {str(beta).strip()[:40]!r}")
        if bool(b < 0) or bool(b >= 1):
            raise InputError("--beta", f"must be in [0, 1), got {said(b, 40)}")
    if values is None:
        raise InputError("--values", "is missing: give the sequence x_1 … x_T, e.g. --values \"[1, 2, 3]\"")
    xs = parse_value_fast(values, "--values", kinds=("scalar", "vector"))
    xs = list(xs) if isinstance(xs, list) else [xs]
    if len(xs) > MAX_VALUES:
        raise InputError("--values", f"has {len(xs):,} entries; at most {MAX_VALUES:,}")
    start = parse_scalar(v0 if v0 is not None else "0", "--v0")
    return Inputs(b, tuple(xs), start)


# --------------------------------------------------------------------------- arithmetic


def _fraction(x: Any) -> Fraction | None:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, sympy.Rational):
        return Fraction(int(x.p), int(x.q))
    return None


def _sym(x: Any) -> Any:
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    return x


def _run_fractions(beta: Fraction, xs: list[Fraction], v0: Fraction, rules: Rules) -> \
        tuple[list[Fraction], list[Fraction]] | None:
    """The exact run, or None when a value outgrows :data:`EXACT_MAX_BITS`."""
    keep, new = (1 - beta, beta) if rules.swapped else (beta, 1 - beta)
    v, vs, hats, power = v0, [], [], Fraction(1)
    for t, x in enumerate(xs, 1):
        v = x if (t == 1 and rules.start_at_x1) else keep * v + new * x
        power *= beta
        if max(v.numerator.bit_length(), v.denominator.bit_length()) > EXACT_MAX_BITS:
            return None
        vs.append(v)
        hats.append(_correct(v, beta, power, rules))
    return vs, hats


def _correct(v: Any, beta: Any, power: Any, rules: Rules) -> Any:
    """v̂_t: v_t/(1 − β^t), or a mistaken version of it."""
    if rules.no_correction:
        return v
    if rules.one_minus_beta:
        return v / (1 - beta)
    return v / (1 - power)


def _run_sympy(beta: Any, xs: list[Any], v0: Any, rules: Rules) -> tuple[list[Any], list[Any]]:
    keep, new = (1 - beta, beta) if rules.swapped else (beta, 1 - beta)
    v, vs, hats = v0, [], []
    for t, x in enumerate(xs, 1):
        if beta.free_symbols:  # the unrolled form, (1 − β)·(β²x₁ + βx₂ + x₃), not its expansion
            if rules.start_at_x1:
                v = keep**(t - 1) * xs[0] + new * sympy.Add(*[keep**(t - i) * xs[i - 1] for i in range(2, t + 1)])
            else:
                v = new * sympy.Add(*[keep**(t - i) * xs[i - 1] for i in range(1, t + 1)]) + keep**t * v0
            hats.append(_correct(v, beta, beta**t, rules))
        else:
            v = x if (t == 1 and rules.start_at_x1) else sympy.expand(keep * v + new * x)
            hats.append(sympy.expand(_correct(v, beta, beta**t, rules)))
        vs.append(v)
    return vs, hats


def _dec(x: Any) -> decimal.Decimal:
    if isinstance(x, Fraction):
        return decimal.Decimal(x.numerator) / decimal.Decimal(x.denominator)
    if x.is_Rational:
        return decimal.Decimal(int(x.p)) / decimal.Decimal(int(x.q))
    return +decimal.Decimal(str(sympy.N(x, DPS + 10)))


def _run_decimal(beta: Any, xs: list[Any], v0: Any, rules: Rules) -> tuple[list[float], list[float]]:
    with decimal.localcontext() as ctx:
        gap = 1 - _sym(beta)  # β = 1 − 1e-300 needs 300 more digits, else 1 − β rounds to 0
        extra = max(0, len(str(gap.q)) - len(str(gap.p)) + 2) if gap.is_Rational and gap > 0 else 0
        ctx.prec = DPS + min(extra, 2000)
        b = _dec(beta)
        keep, new = (1 - b, b) if rules.swapped else (b, 1 - b)
        v, power, vs, hats = _dec(v0), decimal.Decimal(1), [], []
        for t, x in enumerate(xs, 1):
            x = _dec(x)
            v = x if (t == 1 and rules.start_at_x1) else keep * v + new * x
            power *= b
            vs.append(float(v))
            hats.append(float(_correct(v, b, power, rules)))
    return vs, hats


def _put(x: Any) -> Any:
    """A number as it is put into a formula: exact when short, else 30 digits."""
    if isinstance(x, float):
        return sympy.Float(x)
    x = _sym(x)
    if x.is_Rational and len(str(x.p)) + len(str(x.q)) > SHORT:
        return sympy.Float(x.evalf(30), 30)
    return x


# --------------------------------------------------------------------------- solve


BETA, V0, EX = symbol("beta"), symbol("v_0"), sympy.Symbol("E[x]")
T_SYM, I_SYM, X_I, X, V_T, VHAT_T = (symbol(n) for n in ("t", "i", "x_i", "x", "v_t", "vhat_t"))

# The derivation's formulas, written once, in t (its steps put in the numbers at t = T)
_GAP, _BETA_T = OAdd(1, -BETA, evaluate=False), sympy.Pow(BETA, T_SYM, evaluate=False)  # 1 − β, β^t
_WEIGHT = sympy.Pow(BETA, OAdd(T_SYM, -I_SYM, evaluate=False), evaluate=False)           # β^(t−i)
_SUM_WEIGHTS = OAdd(1, -_BETA_T, evaluate=False)                                         # 1 − β^t
_OVER_WEIGHTS = sympy.Pow(_SUM_WEIGHTS, -1, evaluate=False)                              # 1/(1 − β^t)


def _with_v0(expr: Any, has_v0: bool) -> Any:
    """``expr`` + β^t·v₀, the weight of a start v₀ ≠ 0."""
    return OAdd(expr, ordered_product(_BETA_T, V0), evaluate=False) if has_v0 else expr


def _weighted(term: Any) -> Any:
    """(1 − β)·Σ_{i=1}^{t} β^(t−i)·term."""
    return ordered_product(_GAP, Sigma(ordered_product(_WEIGHT, term), "i=1", "t"))


UNROLLED = {h: eq(V_T, _with_v0(_weighted(X_I), h)) for h in (False, True)}
WEIGHTS = eq(ordered_product(_GAP, Sigma(_WEIGHT, "i=1", "t")), _SUM_WEIGHTS)
EXPECTED = {h: eq(Ex(V_T), eq(_with_v0(_weighted(Ex(X)), h), _with_v0(ordered_product(_SUM_WEIGHTS, Ex(X)), h)))
            for h in (False, True)}
CORRECTED = {h: eq(Ex(VHAT_T), eq(ordered_product(Ex(V_T), _OVER_WEIGHTS),
                                  OAdd(Ex(X), ordered_product(_BETA_T, V0, _OVER_WEIGHTS), evaluate=False) if h
                                  else Ex(X)))
             for h in (False, True)}


def _v(t: int) -> sympy.Symbol:
    return symbol(f"v_{t}")


def _shown_ts(n: int) -> list[int]:
    if n <= SHOW_ALL:
        return list(range(1, n + 1))
    return list(range(1, SHOW_HEAD + 1)) + list(range(n - SHOW_TAIL + 1, n + 1))


def solve(inp: Inputs, *, no_correction: bool = False, one_minus_beta: bool = False, swapped: bool = False,
          start_at_x1: bool = False) -> Solution:
    """The moving average and its bias correction; the flags are mistakes (see MISTAKES)."""
    rules = Rules(no_correction, one_minus_beta, swapped, start_at_x1)
    vs, hats, mode = _run(inp, rules)
    steps = _recursion_steps(inp, vs, hats, rules) + _derivation(inp, vs, rules)
    n, v0 = len(inp.values), inp.v0
    conventions = {
        "recursion": "v_t = β·v_{t−1} + (1 − β)·x_t for t = 1 … T, from v₀ "
                     + ("= 0" if v0 == 0 else f"= {said(v0, 40)} (--v0)")
                     + "; Adam's first moment and Andrew Ng's exponentially weighted average "
                       "(PyTorch has no EMA of a sequence of numbers)",
        "bias correction": "ema_hat[t] = v_t/(1 − β^t), Adam's m̂_t",
        "arithmetic": {"exact": "exact", "symbolic": "exact, symbolic",
                       "numeric": f"{DPS}-digit decimals, reported as float64 (exact values would be too large)"}[mode],
    }
    inputs = {"beta": inp.beta, "values": [_sym(x) for x in inp.values] if n <= SHOW_INPUTS else f"{n:,} values",
              "v0": v0}
    return Solution(command="ema", inputs=inputs, conventions=conventions, steps=tuple(steps),
                    result={"ema": vs, "ema_hat": hats})


def _run(inp: Inputs, rules: Rules) -> tuple[list[Any], list[Any], str]:
    """v_1 … v_T and v̂_1 … v̂_T, and how they were computed: "exact" (Fractions, or SymPy for
    irrational numbers), "symbolic" (SymPy) or "numeric" (decimals)."""
    beta, xs, v0 = inp.beta, list(inp.values), inp.v0
    n = len(xs)
    fr = [_fraction(x) for x in xs]
    fb, fv0 = _fraction(beta), _fraction(v0)
    if fb is not None and fv0 is not None and all(f is not None for f in fr) and n <= EXACT_MAX_STEPS:
        run = _run_fractions(fb, fr, fv0, rules)
        if run is not None:
            cache: dict[Fraction, Any] = {}

            def conv(f: Fraction) -> Any:
                r = cache.get(f)
                if r is None:
                    r = cache[f] = sympy.Rational(f.numerator, f.denominator)
                return r
            return [conv(f) for f in run[0]], [conv(f) for f in run[1]], "exact"
    rational = fb is not None and all(f is not None for f in fr)
    others = [] if rational else [_sym(x) for x, f in zip(xs, fr) if f is None]
    free = sorted({str(s) for x in others + [_sym(v0), beta] for s in x.free_symbols})
    if not free and (n > SYMBOLIC_MAX_STEPS or rational):
        return (*_run_decimal(beta, xs, v0, rules), "numeric")
    if n > SYMBOLIC_MAX_STEPS:
        where = ("--values" if any(x.free_symbols for x in others) else
                 "--beta" if beta.free_symbols else "--v0")
        raise InputError(where, f"has symbols ({', '.join(free[:4])}); symbolic sequences may have at "
                                f"most {SYMBOLIC_MAX_STEPS} values, got {n:,}")
    return (*_run_sympy(beta, [_sym(x) for x in xs], _sym(v0), rules), "symbolic" if free else "exact")


def _recursion_steps(inp: Inputs, vs: list[Any], hats: list[Any], rules: Rules) -> list[Step]:
    """v_t and v̂_t for the shown t (all of them, or the first and the last few)."""
    n = len(inp.values)
    shown = _shown_ts(n)
    steps: list[Step] = []
    for t in shown:
        steps += [_average_step(inp, vs, t, rules), _correction_step(inp.beta, vs[t - 1], hats[t - 1], t, rules)]
    if n > len(shown):
        skipped = f"t = {SHOW_HEAD + 1} … {n - SHOW_TAIL}"
        steps.insert(2 * SHOW_HEAD, Step(skipped, Math("the same two steps for each t",
                                                       r"\text{the same two steps for each } t"),
                                         note="every v_t and v̂_t is in the answer (ema, ema_hat)"))
    return steps


def _average_step(inp: Inputs, vs: list[Any], t: int, rules: Rules) -> Step:
    """v_t = β·v_{t−1} + (1 − β)·x_t (or the mistaken start v₁ = x₁)."""
    sec = f"t = {t}"
    if t == 1 and rules.start_at_x1:
        return Step("start", eq(_v(1), symbol("x_1")), substituted=None, value=vs[0], section=sec,
                    note="the average starts at the first value")
    keep, new = ((1 - BETA), BETA) if rules.swapped else (BETA, (1 - BETA))
    x_t = symbol(f"x_{t}")
    v_prev = inp.v0 if t == 1 else vs[t - 2]
    return step(f"moving average v{_sub(t)}", eq(_v(t), keep * _v(t - 1) + new * x_t),
                {BETA: inp.beta, _v(t - 1): _put(v_prev), x_t: _put(inp.values[t - 1])}, value=vs[t - 1], section=sec)


def _correction_step(beta: Any, v: Any, vhat_value: Any, t: int, rules: Rules) -> Step:
    """v̂_t = v_t/(1 − β^t) (or a mistaken version of it)."""
    sec, vhat = f"t = {t}", symbol(f"vhat_{t}")
    if rules.no_correction:
        return Step(f"bias correction of v{_sub(t)}", eq(vhat, _v(t)), value=vhat_value, section=sec, note="left out")
    denom = (1 - BETA) if rules.one_minus_beta else (1 - BETA**t)
    return step(f"bias-corrected v̂{_sub(t)}", eq(vhat, _v(t) / denom), {_v(t): _put(v), BETA: beta},
                value=vhat_value, section=sec)


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(t: int) -> str:
    return str(t).translate(_SUB)


def _derivation(inp: Inputs, vs: list[Any], rules: Rules) -> list[Step]:
    """The unrolled sum at t = T, the sum of the weights, E[v_T] and why v̂ is unbiased."""
    if rules.swapped or rules.start_at_x1:
        return []  # the derivation is of the right recursion only
    beta, xs, v0 = inp.beta, list(inp.values), inp.v0
    n = len(xs)
    T = n
    sec = f"why divide: at t = T = {T}"
    out: list[Step] = []
    has_v0 = v0 != 0
    unrolled = written(UNROLLED[has_v0])
    if T <= SHOW_TERMS:
        xsym = [symbol(f"x_{i}") for i in range(1, T + 1)]
        template = (1 - BETA) * sympy.Add(*[BETA**(T - i) * xsym[i - 1] for i in range(1, T + 1)])
        if has_v0:
            template += BETA**T * V0
        vals = {BETA: beta, **{xsym[i]: _put(xs[i]) for i in range(T)}}
        if has_v0:
            vals[V0] = _put(v0)
        s = step("the recursion unrolled", template, vals, value=vs[-1], section=sec)
        out.append(Step(s.title, unrolled, s.substituted, s.value, section=sec,
                        note="substitute v_{t−1} into v_t again and again: x_i keeps the weight (1 − β)·β^(t−i)"))
    else:
        out.append(Step("the recursion unrolled", unrolled, value=vs[-1], section=sec,
                        note=f"a sum of {T:,} terms; x_i keeps the weight (1 − β)·β^(t−i), so old values fade "
                             "geometrically"))
    power = _power(beta, T)
    weights = step("sum of the weights", 1 - BETA**T, {BETA: beta}, value=1 - power, section=sec)
    out.append(Step(weights.title, written(WEIGHTS), weights.substituted, weights.value, section=sec,
                    note="a geometric series: the weights of x_1 … x_t add up to 1 − β^t, not 1"
                         + ("; the remaining β^t is the weight of v₀" if has_v0 else
                            "; the missing β^t is the weight of v₀ = 0")))
    w = weights.value
    exp_tmpl = (1 - BETA**T) * EX + (BETA**T * V0 if has_v0 else 0)
    ev = step("expected value", exp_tmpl, {BETA: beta, **({V0: _put(v0)} if has_v0 else {})},
              value=w * EX + (power * _sym(v0) if has_v0 else 0), section=sec)
    out.append(Step(ev.title, written(EXPECTED[has_v0]), ev.substituted, ev.value, section=sec,
                    note="for x_i with a common mean E[x] (linearity of E): v_t is biased towards v₀"
                         + ("" if has_v0 else " = 0, too small by the factor 1 − β^t")))
    corrected_value = EX + (power * _sym(v0) / w if has_v0 else 0)
    out.append(Step("the bias correction removes the bias", written(CORRECTED[has_v0]),
                    value=corrected_value if has_v0 else None, section=sec,
                    note=("dividing by the sum of the weights makes them sum to 1: v̂_t is a weighted average of "
                          "the x_i, so E[v̂_t] = E[x]; as t grows β^t → 0 and the correction fades"
                          + f" (here 1 − β^t {_eq(w)})" if not has_v0 else
                          "the correction assumes v₀ = 0: it divides by the weights of x_1 … x_t, 1 − β^t, but "
                          f"v₀'s weight β^t is not 0 here, so a bias β^t·v₀/(1 − β^t) is left (here 1 − β^t "
                          f"{_eq(w)})")))
    return out


def _eq(v: Any) -> str:
    """"= 0.271" or "≈ 0.999" for a note."""
    shown = said(v, 40)
    return shown if shown.startswith("≈") else "= " + shown


def _power(beta: Any, t: int) -> Any:
    """β^t, exact while small, else to 30 digits (0.9^100000 has 330,000 bits)."""
    if beta.is_Rational and t * max(int(beta.p).bit_length(), int(beta.q).bit_length()) > EXACT_MAX_BITS:
        import mpmath

        with mpmath.workdps(40):
            return sympy.Float((mpmath.mpf(int(beta.p)) / int(beta.q)) ** t, 30)
    return beta**t


# --------------------------------------------------------------------------- mistakes


def _if_beta(change: dict[str, Any], need_t2: bool = False) -> Any:
    def f(kw: Any) -> Any:
        if kw["beta"] == 0 or (need_t2 and len(kw["values"]) < 2):
            return None
        return change
    return f


MISTAKES = (
    Mistake("forgot the bias correction (took v̂_t = v_t)", _if_beta({"no_correction": True})),
    Mistake("divided by (1 − β) instead of (1 − β^t)", _if_beta({"one_minus_beta": True}, need_t2=True)),
    Mistake("swapped β and 1 − β (v_t = (1 − β)·v_{t−1} + β·x_t)",
            lambda kw: {"swapped": True} if 2 * kw["beta"] != 1 else None),
    Mistake("started the average at v₁ = x₁ instead of from v₀", {"start_at_x1": True}),
)
