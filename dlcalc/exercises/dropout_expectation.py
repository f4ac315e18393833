"""dropout-expectation: the expected loss under weight noise is the loss plus an L2-like penalty.

The exercise (one linear unit, squared error)::

    J = c (y - sum_k X_k u_k)^2,      X_k = the k-th weight as the noise leaves it

    gaussian            X_k = w_k + delta_k,  delta_k ~ N(0, alpha w_k^2)   (Gaussian dropout)
    bernoulli inverted  X_k = r_k w_k / p,    r_k ~ Bernoulli(p)            (PyTorch's dropout)
    bernoulli classic   X_k = r_k w_k,        r_k ~ Bernoulli(p)

with the noise independent across k and c = 1 (or 1/2 with ``half``).

How the answer is derived (as a teacher does it on the board):

1. One noisy weight at a time, with ``sympy.stats``: the moments E[delta_k], E[delta_k^2]
   (derivatives at 0 of the moment generating function of the sympy.stats Normal) or
   E[r_k], E[r_k^2] (sympy.stats Bernoulli), then E[X_k] and E[X_k^2] by linearity.
   Writing E[X_k] = mu w_k and Var(X_k) = kappa w_k^2 gives the two numbers that decide
   everything: mu = 1, kappa = alpha (gaussian); mu = 1, kappa = (1 - p)/p (inverted);
   mu = p, kappa = p (1 - p) (classic).
2. Expanding the square, the cross terms factor by independence,
   E[X_j X_k] = E[X_j] E[X_k], so
   E[J] = c (y - sum_k u_k E[X_k])^2 + c sum_k u_k^2 Var(X_k)
        = c (y - mu sum w u)^2  +  c kappa sum_k w_k^2 u_k^2
        =        data term      +  penalty (L2, strength c kappa u_k^2 on weight k).
3. The gradient of E[J] with respect to w_k (sympy.diff, chain rule through the
   residual r = y - mu sum w u): -2 c mu u_k r + 2 c kappa u_k^2 w_k.  The noise variance
   scales with w_k^2, so it is differentiated along with the weight.

The whole-vector expectation is never handed to sympy.stats: E() over many random
variables integrates jointly and is slow; linearity and independence assemble it exactly.
Monte Carlo (``samples``) simulates the noise with Python's ``random`` in floats, as a check.
"""

from __future__ import annotations

import functools

import math
from dataclasses import dataclass
from typing import Any

import sympy

from dlcalc.core import Mistake, Math, Shown, Solution, Step, substitute, progress
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, parse_vector, symbol
from dlcalc.registry import FLAG, SWITCH, Command, Option

COMMAND = Command(
    name="dropout-expectation",
    summary="Expected loss under multiplicative weight noise or dropout = loss + an L2-like penalty.",
    example='dlcalc dropout-expectation --y 1 --u "[1, 2, -1]" --w "[0.5, -0.25, 1]" --alpha 0.1',
    conditional_keys={k: "needs --samples (the Monte Carlo estimate)" for k in ("monte_carlo", "monte_carlo_se")},
    options=(
        Option("--y", "Target y. Left out: the symbol y."),
        Option("--u", "Inputs u_k, a vector (\"[1, 2, -0.5]\"). Left out: symbols u1…uN."),
        Option("--w", "Weights w_k, a vector of the same length. Left out: symbols w1…wN."),
        Option("--n", "Number of weights (1-50) when --u/--w are left symbolic."),
        Option("--noise", "gaussian (δ_k ~ N(0, α·w_k²)) or bernoulli (dropout with keep probability p).",
               default="gaussian"),
        Option("--alpha", "Gaussian noise: variance factor α ≥ 0. Left out: the symbol alpha."),
        Option("--p", "Bernoulli noise: keep probability p in (0, 1]. Left out: the symbol p."),
        Option("--inverted", "Bernoulli: scale kept weights by 1/p as PyTorch does (default), "
                             "or not (classic dropout).", kind=SWITCH, off="--no-inverted", show_default=False),
        Option("--half", "J = ½(y − Σ X_k u_k)² (c = ½) instead of c = 1.", kind=FLAG, default=False),
        Option("--samples", "Also estimate E[J] by Monte Carlo with this many samples (2-1,000,000)."),
        Option("--seed", "Seed of the Monte Carlo run (default 0)."),
    ),
)

MAX_N = 50                 # --n, and vectors with any symbolic entry
MAX_LEN_NUMERIC = 10_000   # vectors of numbers only
MAX_SAMPLES = 1_000_000    # --samples
MAX_DRAWS = 3_000_000      # samples x n random numbers (about 2 s of pure Python)
MAX_SEED = 2**32 - 1
SHOW_TERMS = 6             # write sums out term by term up to this many terms

NOISES = ("gaussian", "bernoulli")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed, validated inputs of the exercise."""

    y: Any
    u: list[Any]
    w: list[Any]
    noise: str
    level: Any          # alpha (gaussian) or p (bernoulli)
    inverted: bool
    half: bool
    samples: int | None
    seed: int


def parse(*, y: str | None, u: str | None, w: str | None, n: str | None, noise: str,
               alpha: str | None, p: str | None, inverted: bool | None, half: bool,
               samples: str | None, seed: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    noise = noise or "gaussian"
    kind = noise.strip().lower()
    if kind not in NOISES:
        raise InputError("--noise", f"must be gaussian or bernoulli, got {noise.strip()[:30]!r}")
    if kind == "gaussian":
        if p is not None:
            raise InputError("--p", "is the keep probability of --noise bernoulli; "
                                    "Gaussian noise takes --alpha")
        if inverted is not None:
            raise InputError("--inverted" if inverted else "--no-inverted",
                             "applies to --noise bernoulli only")
        level = parse_scalar(alpha, "--alpha") if alpha is not None else symbol("alpha")
    else:
        if alpha is not None:
            raise InputError("--alpha", "is the variance factor of --noise gaussian; "
                                        "Bernoulli dropout takes --p (the keep probability)")
        level = parse_scalar(p, "--p") if p is not None else symbol("p")

    n_given = parse_int(n, "--n", lo=1, hi=MAX_N) if n is not None else None
    u_vec = parse_vector(u, "--u") if u is not None else None
    w_vec = parse_vector(w, "--w") if w is not None else None
    if n_given is None and u_vec is None and w_vec is None:
        raise InputError("--w", "is missing: give --u and --w (vectors of one length), "
                                "or --n N for a fully symbolic exercise")
    for name, vec in (("--u", u_vec), ("--w", w_vec)):
        if vec is not None and n_given is not None and len(vec) != n_given:
            raise InputError(name, f"has {_entries(len(vec))} but --n is {n_given}")
    if u_vec is not None and w_vec is not None and len(u_vec) != len(w_vec):
        raise InputError("--w", f"has {_entries(len(w_vec))} but --u has {_entries(len(u_vec))}; "
                                "they must have one length")
    size = n_given or len(u_vec or w_vec or [])
    if u_vec is None:
        u_vec = [symbol(f"u{k}") for k in range(1, size + 1)]
    if w_vec is None:
        w_vec = [symbol(f"w{k}") for k in range(1, size + 1)]
    y_val = parse_scalar(y, "--y") if y is not None else symbol("y")

    n_samples = parse_int(samples, "--samples", lo=2, hi=MAX_SAMPLES) if samples is not None else None
    if seed is not None and n_samples is None:
        raise InputError("--seed", "only applies with --samples")
    seed_val = parse_int(seed, "--seed", lo=0, hi=MAX_SEED) if seed is not None else 0
    return Inputs(y_val, u_vec, w_vec, kind, level, True if inverted is None else inverted,
                  half, n_samples, seed_val)


def _entries(k: int) -> str:
    return f"{k:,} entr{'y' if k == 1 else 'ies'}"


def _check(inp: Inputs) -> None:
    values = [inp.y, *inp.u, *inp.w, inp.level]
    numeric = all(v.is_number for v in values)
    n = len(inp.w)
    if len(inp.u) != n:
        raise InputError("--w", f"has {_entries(n)} but --u has {_entries(len(inp.u))}; they must have one length")
    if n == 0:
        raise InputError("--w", "is empty")
    limit = MAX_LEN_NUMERIC if numeric else MAX_N
    if n > limit:
        raise InputError("--w", f"has {n:,} entries; at most {limit:,}"
                         + ("" if numeric else f" when any input is symbolic (numbers only: "
                                               f"{MAX_LEN_NUMERIC:,})"))
    a = inp.level
    if a.is_number:
        if inp.noise == "gaussian" and _sign(a, "--alpha") < 0:
            raise InputError("--alpha", f"must be >= 0 (a variance factor), got {a}")
        if inp.noise == "bernoulli" and (_sign(a, "--p") <= 0 or _sign(a - 1, "--p") > 0):
            raise InputError("--p", f"must be in (0, 1] (the keep probability), got {a}")
    if inp.samples is not None:
        if not numeric:
            names = sorted({str(s) for v in values for s in v.free_symbols})
            raise InputError("--samples", "needs numbers for every input; symbolic: "
                                          + ", ".join(names[:6]) + ("…" if len(names) > 6 else ""))
        if inp.samples * n > MAX_DRAWS:
            raise InputError("--samples", f"× {n} weights = {inp.samples * n:,} random draws; "
                                          f"at most {MAX_DRAWS:,}: use fewer samples")


def _sign(x: Any, option: str) -> int:
    """-1, 0 or 1 for a real number (exact where SymPy can tell, else to 30 digits)."""
    if x.is_zero:
        return 0
    if x.is_positive:
        return 1
    if x.is_negative:
        return -1
    v = sympy.N(x, 30)
    if not v.is_real:
        raise InputError(option, f"must be a real number, got {x}")
    return (v > 0) - (v < 0)


# --------------------------------------------------------------------------- one noisy weight


@dataclass(frozen=True)
class Moments:
    """What the sympy.stats derivation of one coordinate gives.

    ``mu`` and ``kappa`` are expressions in the noise level symbol (alpha or p) with
    E[X_k] = mu w_k and Var(X_k) = kappa w_k^2.
    """

    level: sympy.Symbol
    mu: Any
    kappa: Any
    steps: tuple[Step, ...]


W_K, U_K, W_J = symbol("w_k"), symbol("u_k"), symbol("w_j")


def _expectation(expr: Any, z: sympy.Symbol, moments: dict[int, Any]) -> tuple[Any, Any]:
    """E[expr] for a polynomial in the random variable ``z`` with known raw moments.

    Returns (the expectation shown term by term with the moments put in, the value).
    """
    poly = sympy.Poly(sympy.expand(expr), z)
    shown, value = [], sympy.Integer(0)
    for (deg,), coeff in poly.terms():
        shown.append(coeff if deg == 0 else coeff * Shown(moments[deg]))
        value += coeff * moments[deg]
    return sympy.Add(*shown), sympy.expand(value)


@functools.lru_cache(maxsize=8)
def derive_moments(noise: str, inverted: bool, linear_variance: bool = False) -> Moments:
    """E[X_k], E[X_k^2], Var(X_k) of one noisy weight, derived with sympy.stats.

    ``linear_variance`` takes σ_k² = α·w_k instead of α·w_k²: a mistake, kept as a flag so
    that ``--check`` can recognise it.
    """
    import sympy.stats as st

    steps: list[Step] = []
    if noise == "gaussian":
        alpha, sigma = symbol("alpha"), sympy.Symbol("sigma_k", positive=True)
        t = sympy.Symbol("t", real=True)
        delta = st.Normal("delta_k", 0, sigma)
        mgf = st.moment_generating_function(delta)(t)
        d1 = mgf.diff(t)
        raw = {1: d1.xreplace({t: 0}), 2: d1.diff(t).xreplace({t: 0})}  # M'(0), M''(0)
        # sigma_k^2 = alpha w_k^2: the noise is multiplicative
        std = sympy.sqrt(alpha * W_K) if linear_variance else sympy.sqrt(alpha) * sympy.Abs(W_K)
        raw = {j: sympy.expand(m.xreplace({sigma: std})) for j, m in raw.items()}
        steps.append(Step(
            title="noise on one weight (sympy.stats Normal)",
            formula=Math("δ_k ~ N(0, σ_k²),  σ_k² = α·w_k²,  M(t) = E[exp(t·δ_k)]",
                         r"\delta_k \sim \mathcal{N}(0, \sigma_k^2),\ \sigma_k^2 = \alpha w_k^2,"
                         r"\ M(t) = \mathbb{E}[e^{t \delta_k}]"),
            value=mgf,
            note="the moment generating function of sympy.stats' Normal(0, σ_k); "
                 "its derivatives at t = 0 are the moments"))
        steps.append(Step(title="mean of the noise", formula=Math("E[δ_k] = M′(0)", r"\mathbb{E}[\delta_k] = M'(0)"),
                          value=raw[1]))
        steps.append(Step(title="second moment of the noise",
                          formula=Math("E[δ_k²] = M″(0) = σ_k²", r"\mathbb{E}[\delta_k^2] = M''(0) = \sigma_k^2"),
                          value=raw[2], note="with σ_k² = α·w_k²"))
        level, z = alpha, sympy.Symbol("delta")
        x_of_z = W_K + z
        first = Math("E[X_k] = E[w_k + δ_k] = w_k + E[δ_k]",
                     r"\mathbb{E}[X_k] = \mathbb{E}[w_k + \delta_k] = w_k + \mathbb{E}[\delta_k]")
        second = Math("E[X_k²] = E[(w_k + δ_k)²] = w_k² + 2·w_k·E[δ_k] + E[δ_k²]",
                      r"\mathbb{E}[X_k^2] = \mathbb{E}[(w_k + \delta_k)^2] = w_k^2 + 2 w_k \mathbb{E}[\delta_k]"
                      r" + \mathbb{E}[\delta_k^2]")
    else:
        p = symbol("p")
        r = st.Bernoulli("r_k", p)
        raw = {1: st.E(r), 2: st.E(r**2)}
        steps.append(Step(
            title="mask on one weight (sympy.stats Bernoulli): mean",
            formula=Math("r_k ~ Bernoulli(p):  E[r_k] = 1·p + 0·(1 − p)",
                         r"r_k \sim \mathrm{Bernoulli}(p):\ \mathbb{E}[r_k] = 1 \cdot p + 0 \cdot (1 - p)"),
            value=raw[1], note="p is the keep probability"))
        steps.append(Step(title="second moment of the mask", formula=Math("E[r_k²] = 1²·p + 0²·(1 − p)",
                                                        r"\mathbb{E}[r_k^2] = 1^2 p + 0^2 (1 - p)"),
                          value=raw[2], note="r_k² = r_k for a 0/1 variable"))
        level, z = p, sympy.Symbol("r")
        if inverted:
            x_of_z = z * W_K / p
            first = Math("E[X_k] = E[r_k·w_k/p] = (w_k/p)·E[r_k]",
                         r"\mathbb{E}[X_k] = \mathbb{E}[r_k w_k / p] = \frac{w_k}{p}\mathbb{E}[r_k]")
            second = Math("E[X_k²] = E[(r_k·w_k/p)²] = (w_k²/p²)·E[r_k²]",
                          r"\mathbb{E}[X_k^2] = \mathbb{E}[(r_k w_k / p)^2] = \frac{w_k^2}{p^2}\mathbb{E}[r_k^2]")
        else:
            x_of_z = z * W_K
            first = Math("E[X_k] = E[r_k·w_k] = w_k·E[r_k]",
                         r"\mathbb{E}[X_k] = \mathbb{E}[r_k w_k] = w_k \mathbb{E}[r_k]")
            second = Math("E[X_k²] = E[(r_k·w_k)²] = w_k²·E[r_k²]",
                          r"\mathbb{E}[X_k^2] = \mathbb{E}[(r_k w_k)^2] = w_k^2 \mathbb{E}[r_k^2]")
    moments = {0: sympy.Integer(1), **raw}
    shown1, m1 = _expectation(x_of_z, z, moments)
    shown2, m2 = _expectation(x_of_z**2, z, moments)
    plain = noise == "bernoulli" and not inverted  # w_k·p: the substitution is the value
    steps.append(Step(title="first moment of a noisy weight", formula=first,
                      substituted=None if plain else shown1, value=m1))
    steps.append(Step(title="second moment of a noisy weight", formula=second,
                      substituted=None if plain else shown2, value=sympy.factor_terms(m2)))
    var = sympy.expand(m2 - m1**2)
    mu = sympy.cancel(m1 / W_K)
    kappa = sympy.factor_terms(sympy.cancel(var / W_K**2))
    steps.append(Step(title="variance of a noisy weight",
                      formula=Math("Var(X_k) = E[X_k²] − E[X_k]²", r"\mathrm{Var}(X_k) = \mathbb{E}[X_k^2] - \mathbb{E}[X_k]^2"),
                      substituted=sympy.Add(Shown(sympy.factor_terms(m2)), -Shown(m1)**2, evaluate=False),
                      value=kappa * W_K**2))
    cross = m1 * m1.xreplace({W_K: W_J})
    steps.append(Step(title="cross terms (j ≠ k): independence",
                      formula=Math("E[X_j·X_k] = E[X_j]·E[X_k]", r"\mathbb{E}[X_j X_k] = \mathbb{E}[X_j]\,\mathbb{E}[X_k]"),
                      value=cross,
                      note="X_j and X_k are independent, so the expectation of the product factors"))
    return Moments(level, mu, kappa, tuple(steps))


@functools.lru_cache(maxsize=16)
def _gradient(mu: Any, kappa: Any, c: Any) -> tuple[Any, str, str]:
    """∂E[J]/∂w_k for one weight, by sympy.diff through the residual, and its text and LaTeX.

    Depends only on the noise model and c, so it is worked once per process (``batch``).
    """
    from dlcalc import printing as P

    rs, ss, qs = sympy.Symbol("r"), sympy.Symbol("s_rest"), sympy.Symbol("q_rest")
    r_of_w = sympy.Symbol("y") - mu * (W_K * U_K + ss)
    g = sympy.diff(c * rs**2, rs) * sympy.diff(r_of_w, W_K) + sympy.diff(c * kappa * (W_K**2 * U_K**2 + qs), W_K)
    return g, P.text(g), P.latex(g)


# --------------------------------------------------------------------------- the whole sum


def _sum_shown(terms: list[Any]) -> Any:
    return sympy.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def solve(inp: Inputs, *, penalty: bool = True, linear_variance: bool = False) -> Solution:
    """Expected loss, its split into data term and penalty, and its gradient.

    ``penalty=False`` and ``linear_variance=True`` are the common mistakes of :data:`MISTAKES`.
    """
    _check(inp)
    mom = derive_moments(inp.noise, inp.inverted, linear_variance)
    if not penalty:
        from dataclasses import replace

        mom = replace(mom, kappa=sympy.Integer(0))
    c = sympy.Rational(1, 2) if inp.half else sympy.Integer(1)
    y, u, w, a = inp.y, inp.u, inp.w, inp.level
    n = len(w)
    mu, kappa = mom.mu.xreplace({mom.level: a}), mom.kappa.xreplace({mom.level: a})
    ctext, ctex = ("½·", r"\tfrac{1}{2}") if inp.half else ("", "")
    gauss = inp.noise == "gaussian"
    steps = list(mom.steps)
    # write sums out with the numbers in when they are short and there are numbers to put in
    few = n <= SHOW_TERMS and any(v.is_number for v in (y, a, *u, *w))

    steps.append(Step(
        title="expand the square and take expectations",
        formula=Math(f"E[J] = {ctext}(y² − 2y·Σ_k u_k·E[X_k] + Σ_k u_k²·E[X_k²] + Σ_(j≠k) u_j·u_k·E[X_j]·E[X_k])",
                     rf"\mathbb{{E}}[J] = {ctex}\Big(y^2 - 2y \sum_k u_k \mathbb{{E}}[X_k] + \sum_k u_k^2 "
                     r"\mathbb{E}[X_k^2] + \sum_{j \ne k} u_j u_k \mathbb{E}[X_j]\mathbb{E}[X_k]\Big)"),
        substituted=Math(f"{ctext}(y − Σ_k u_k·E[X_k])² + {ctext}Σ_k u_k²·Var(X_k)",
                         rf"{ctex}\big(y - \sum_k u_k \mathbb{{E}}[X_k]\big)^2 + {ctex}\sum_k u_k^2 \mathrm{{Var}}(X_k)"),
        note="complete the square: add and subtract Σ_k u_k²·E[X_k]²; the first part is the "
             "data term, the second the penalty"))

    # residual and data term
    mu_txt = "" if mu == 1 else "p·"
    mu_tex = "" if mu == 1 else "p "
    wu = [wi * ui for wi, ui in zip(w, u)]
    s = sympy.Add(*wu)
    r = y - mu * s
    if few:
        sum_shown = _sum_shown([sympy.Mul(Shown(wi), Shown(ui), evaluate=False) for wi, ui in zip(w, u)])
        if mu != 1:
            sum_shown = sympy.Mul(Shown(mu), sum_shown, evaluate=False)
        r_sub = sympy.Add(Shown(y), sympy.Mul(-1, sum_shown, evaluate=False), evaluate=False)
    else:
        r_sub = None
    steps.append(Step(title="expected residual",
                      formula=Math(f"r = y − {mu_txt}Σ_k w_k·u_k", rf"r = y - {mu_tex}\sum_k w_k u_k"),
                      substituted=r_sub, value=r,
                      note="the residual of the noise-free weights" + ("" if mu == 1 else " scaled by p")))
    data = c * r**2
    steps.append(Step(title="data term", formula=Math(f"{ctext}r²", rf"{ctex}r^2"),
                      substituted=sympy.Mul(*([Shown(c)] if inp.half else []), Shown(r)**2, evaluate=False)
                      if few else None,
                      value=data))

    # penalty
    k_txt = {"gaussian": "α", "inv": "(1 − p)/p", "cls": "p·(1 − p)"}
    k_tex = {"gaussian": r"\alpha", "inv": r"\frac{1 - p}{p}", "cls": r"p (1 - p)"}
    key = "gaussian" if gauss else ("inv" if inp.inverted else "cls")
    w2u2 = [wi**2 * ui**2 for wi, ui in zip(w, u)]
    # κ depends on w_k only under the linear-variance mistake (κ = α/w_k)
    kap = [kappa.xreplace({W_K: wi}) for wi in w]
    pen = c * (kappa * sympy.Add(*w2u2) if not kappa.has(W_K) else
               sympy.Add(*[k * t for k, t in zip(kap, w2u2)]))
    if few:
        pen_sub = sympy.Mul(*([Shown(c)] if inp.half else []), Shown(kappa),
                            _sum_shown([sympy.Mul(Shown(wi)**2, Shown(ui)**2, evaluate=False)
                                        for wi, ui in zip(w, u)]), evaluate=False)
    else:
        pen_sub = None
    steps.append(Step(title="penalty",
                      formula=Math(f"{ctext}{k_txt[key]}·Σ_k w_k²·u_k²", rf"{ctex}{k_tex[key]} \sum_k w_k^2 u_k^2"),
                      substituted=pen_sub, value=pen,
                      note=f"{ctext}Σ_k u_k²·Var(X_k) with Var(X_k) = {k_txt[key]}·w_k²"))
    lam = [c * k * ui**2 for k, ui in zip(kap, u)]
    steps.append(Step(
        title="reading: an L2 penalty on the weights",
        formula=Math(f"penalty = Σ_k λ_k·w_k²,  λ_k = {ctext}{k_txt[key]}·u_k²",
                     rf"\text{{penalty}} = \sum_k \lambda_k w_k^2,\ \lambda_k = {ctex}{k_tex[key]} u_k^2"),
        value=lam,
        note=f"L2 penalty with strength {ctext}{k_txt[key]}·u_k² per weight: in expectation, training with "
             "this noise is least squares plus a data-dependent weight decay"))
    expected = data + pen
    steps.append(Step(title="expected loss",
                      formula=Math("E[J] = data term + penalty", r"\mathbb{E}[J] = \text{data term} + \text{penalty}"),
                      substituted=sympy.Add(Shown(data), Shown(pen), evaluate=False), value=expected))

    # gradient: chain rule through the residual, done by sympy.diff
    g, g_text, g_tex = _gradient(mom.mu, mom.kappa, c)
    rs, lvl = sympy.Symbol("r"), mom.level
    two = "" if inp.half else "2"
    grad = [g.xreplace({rs: r, U_K: ui, W_K: wi, lvl: a}) for ui, wi in zip(u, w)]
    numeric = all(_numeric(gk) for gk in grad)
    steps.append(Step(
        title="gradient of the expected loss",
        formula=Math(f"∂E[J]/∂w_k = {two}r·∂r/∂w_k + {ctext}{k_txt[key]}·∂(w_k²·u_k²)/∂w_k = {g_text}",
                     rf"\frac{{\partial \mathbb{{E}}[J]}}{{\partial w_k}} = {two} r \frac{{\partial r}}{{\partial w_k}}"
                     rf" + {ctex}{k_tex[key]} \frac{{\partial (w_k^2 u_k^2)}}{{\partial w_k}} = {g_tex}"),
        substituted=[substitute(g, {rs: r, U_K: ui, W_K: wi, lvl: a}) for ui, wi in zip(u, w)]
        if few and numeric else None,
        value=grad,
        note="Var(X_k) grows with w_k², so the penalty is differentiated along with the data term"))

    result: dict[str, Any] = {"expected_loss": expected, "data_term": data, "penalty": pen, "grad_w": grad}
    notes: list[str] = []
    if inp.samples is not None:
        mc, se = monte_carlo(inp, float(c), float(expected))
        exact_f = float(expected)
        z = (mc - exact_f) / se if se > 0 else 0.0
        steps.append(Step(
            title=f"Monte Carlo check ({inp.samples:,} samples, seed {inp.seed})",
            formula=Math("[Ĵ, SE] = [(1/N)·Σ_s J_s, s_J/√N],  J_s = J with the s-th draw of the noise",
                         r"[\hat J, \mathrm{SE}] = \Big[\frac{1}{N}\sum_s J_s, \frac{s_J}{\sqrt N}\Big]"),
            value=[sympy.Float(mc), sympy.Float(se)],
            note=f"exact E[J] = {exact_f:.10g}; the estimate is off by {z:+.2f} standard errors "
                 "(|z| above 4 would be suspicious)"))
        result["monte_carlo"] = sympy.Float(mc)
        result["monte_carlo_se"] = sympy.Float(se)
        notes.append("the Monte Carlo estimate uses Python floats and the random module "
                     f"(seed {inp.seed}); the exact values do not depend on it")

    conventions = {
        "loss": f"J = {ctext}(y − Σ_k X_k·u_k)² with X_k the noisy k-th weight; c = {'1/2 (--half)' if inp.half else '1'}",
        "noise": ("X_k = w_k + δ_k, δ_k ~ N(0, α·w_k²), independent across k (multiplicative Gaussian noise)"
                  if gauss else
                  "X_k = r_k·w_k/p, r_k ~ Bernoulli(p) independent, p = keep probability "
                  "(inverted dropout: survivors scaled by 1/p, as PyTorch)" if inp.inverted else
                  "X_k = r_k·w_k, r_k ~ Bernoulli(p) independent, p = keep probability "
                  "(classic dropout, no rescaling: --no-inverted)"),
        "split": "expected_loss = data_term + penalty, both including the factor c; "
                 "penalty = c·Σ_k u_k²·Var(X_k)",
        "gradient": "grad_w[k] = ∂E[J]/∂w_k, with the noise variance (∝ w_k²) differentiated too",
    }
    if not a.is_number:
        conventions["symbols"] = ("α is taken as ≥ 0" if gauss else "p is taken in (0, 1]")
    inputs: dict[str, Any] = {"y": y, "u": list(u), "w": list(w), ("alpha" if gauss else "p"): a}
    if inp.samples is not None:
        inputs["samples"] = sympy.Integer(inp.samples)
        inputs["seed"] = sympy.Integer(inp.seed)
    return Solution(command="dropout-expectation", inputs=inputs, conventions=conventions,
                    steps=tuple(steps), result=result, notes=tuple(notes))


def _numeric(*xs: Any) -> bool:
    return all(x.is_number for x in xs)


# --------------------------------------------------------------------------- Monte Carlo


def monte_carlo(inp: Inputs, c: float, shift: float = 0.0) -> tuple[float, float]:
    """Mean of J over ``inp.samples`` draws of the noise, and its standard error (floats).

    The sums run over J - ``shift`` (pass the exact E[J]) so that the sum of squares
    behind the standard error does not cancel catastrophically.
    """
    import random

    rng = random.Random(inp.seed)
    y = float(inp.y)
    w = [float(x) for x in inp.w]
    u = [float(x) for x in inp.u]
    level = float(inp.level)
    n_samples = inp.samples or 0
    total = total2 = 0.0
    if inp.noise == "gaussian":
        base = y - math.fsum(wi * ui for wi, ui in zip(w, u))
        scale = [math.sqrt(level) * abs(wi) * ui for wi, ui in zip(w, u) if wi * ui != 0.0]
        gauss = rng.gauss
        for _ in progress(range(n_samples), n_samples, "Monte Carlo"):
            res = base
            for s in scale:
                res -= s * gauss(0.0, 1.0)
            j = c * res * res - shift
            total += j
            total2 += j * j
    else:
        keep = rng.random
        coef = [wi * ui / (level if inp.inverted else 1.0) for wi, ui in zip(w, u)]
        for _ in progress(range(n_samples), n_samples, "Monte Carlo"):
            res = y
            for cf in coef:
                if keep() < level:
                    res -= cf
            j = c * res * res - shift
            total += j
            total2 += j * j
    mean = total / n_samples
    var = max(total2 / n_samples - mean * mean, 0.0) * n_samples / (n_samples - 1)
    se = math.sqrt(var / n_samples)
    mean += shift
    if not (math.isfinite(mean) and math.isfinite(se)):
        raise InputError("--samples", "the simulated losses overflow floating point; "
                                      "use smaller numbers for the Monte Carlo check")
    return mean, se


def _flip_scaling(kw: Any) -> Any:
    return {"inverted": not kw["inverted"]} if kw["noise"] == "bernoulli" else None


MISTAKES = (
    Mistake("forgot the penalty (the variance term of E[X_k²])", {"penalty": False}),
    Mistake("took the noise variance as α·w_k instead of α·w_k²",
            lambda kw: {"linear_variance": True} if kw["noise"] == "gaussian" else None),
    Mistake("mixed up inverted (1/p) and classic dropout scaling", _flip_scaling),
)
