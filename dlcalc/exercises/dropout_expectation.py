"""dropout-expectation: the expected loss under noise is the loss plus an L2-like penalty.

The exercise (one linear unit, squared error, c = 1 or 1/2 with ``half``)::

    J = c (y - sum_k X_k u_k)^2      noise on the weights, X_k = the k-th weight as the noise leaves it
    J = c (y - sum_k w_k x~_k)^2     noise on the inputs,  x~_k = the k-th input as the noise leaves it

    gaussian            X_k = w_k + delta_k,  delta_k ~ N(0, alpha_k w_k^2)  (Gaussian dropout;
                                                  one alpha for every weight, or one per weight)
    bernoulli inverted  X_k = r_k w_k / p,    r_k ~ Bernoulli(p)            (PyTorch's dropout)
    bernoulli classic   X_k = r_k w_k,        r_k ~ Bernoulli(p)
    additive            x~_k = u_k + eps_k,   eps_k ~ N(0, sigma^2)          (input noise)

with the noise independent across k.

How the answer is derived (as a teacher does it on the board):

1. One noisy quantity at a time: the moments E[delta_k], E[delta_k^2] (derivatives at 0 of
   the Normal's moment generating function exp(s²t²/2); the same for eps_k) or E[r_k],
   E[r_k^2] (a sum over the Bernoulli's two outcomes), then E[X_k] and E[X_k^2] by
   linearity (SymPy expands the model's polynomial in the noise).  Writing
   E[X_k] = mu w_k and Var(X_k) = kappa w_k^2 (noise on the weights) or E[x~_k] = u_k and
   Var(x~_k) = kappa (on the inputs) gives the numbers that decide everything:
   mu = 1, kappa = alpha (gaussian); mu = 1, kappa = (1 - p)/p (inverted);
   mu = p, kappa = p (1 - p) (classic); mu = 1, kappa = sigma^2 (additive).
2. Expanding the square, the cross terms factor by independence, so with T_k the k-th term
   of the sum (X_k u_k or w_k x~_k)
   E[J] = c (y - sum_k E[T_k])^2 + c sum_k Var(T_k)
        = c (y - mu sum w u)^2 + c kappa sum_k w_k^2 u_k^2     (weights)
        = c (y - sum w u)^2    + c sigma^2 sum_k w_k^2          (inputs: Tikhonov, Bishop 1995)
        =      data term       +  penalty (L2, strength lambda_k on weight k).
3. The gradient of E[J] with respect to w_k (sympy.diff, chain rule through the residual
   r = y - mu sum w u): -2 c mu u_k r + c dVar(T_k)/dw_k.  Noise on a weight has a variance
   that scales with w_k^2, so it is differentiated along with the weight.

The formulas of the working are SymPy templates put to numbers by :func:`dlcalc.board.step`;
the values come from the derivation, so ``tests/test_steps.py`` checks the two agree.  The
whole-vector expectation is never handed to sympy.stats: E() over many random variables
integrates jointly and is slow; linearity and independence assemble it exactly.  Monte Carlo
(``samples``) simulates the noise with Python's ``random`` in floats, as a check.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import sympy
from sympy import Symbol

from dlcalc.board import Ex, Named, Sigma, Var, eq, put_in, showing, step, steps_of
from dlcalc.core import Math, Mistake, Solution, Step, progress, xreplace_unevaluated
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, parse_value, parse_vector, symbol
from dlcalc.registry import FLAG, SWITCH, Command, Option

COMMAND = Command(
    name="dropout-expectation",
    summary="Expected loss under multiplicative weight noise or dropout = loss + an L2-like penalty.",
    description="Also noise added to the inputs (--noise additive): Tikhonov regularization.",
    example='dlcalc dropout-expectation --y 1 --u "[1, 2, -1]" --w "[0.5, -0.25, 1]" --alpha 0.1',
    conditional_keys={k: "needs --samples (the Monte Carlo estimate)" for k in ("monte_carlo", "monte_carlo_se")},
    options=(
        Option("--y", "Target y. Left out: the symbol y."),
        Option("--u", "Inputs u_k, a vector (\"[1, 2, -0.5]\"). Left out: symbols u1…uN."),
        Option("--w", "Weights w_k, a vector of the same length. Left out: symbols w1…wN."),
        Option("--n", "Number of weights (1-50) when --u/--w are left symbolic."),
        Option("--noise", "gaussian (δ_k ~ N(0, α·w_k²) on the weights), bernoulli (dropout with keep "
                          "probability p) or additive (ε_k ~ N(0, σ²) added to the inputs).",
               default="gaussian"),
        Option("--alpha", "Gaussian noise: variance factor α ≥ 0, or one per weight (a vector). "
                          "Left out: the symbol alpha."),
        Option("--p", "Bernoulli noise: keep probability p in (0, 1]. Left out: the symbol p."),
        Option("--sigma2", "Additive noise: the variance σ² ≥ 0 of the noise on each input. "
                           "Left out: the symbol sigma2."),
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

NOISES = ("gaussian", "bernoulli", "additive")
#: the option that sets the noise level of each kind, and what it is
LEVEL_OPTION = {"gaussian": "--alpha", "bernoulli": "--p", "additive": "--sigma2"}
LEVEL_IS = {"--alpha": "the variance factor of --noise gaussian",
            "--p": "the keep probability of --noise bernoulli",
            "--sigma2": "the input-noise variance of --noise additive"}
LEVEL_TAKES = {"gaussian": "Gaussian noise takes --alpha",
               "bernoulli": "Bernoulli dropout takes --p (the keep probability)",
               "additive": "additive input noise takes --sigma2 (the variance)"}


# --------------------------------------------------------------------------- the board

class Partial(sympy.Function):
    """∂f/∂x, as written (SymPy's Derivative prints as a call)."""

    nargs = 2

    def _sympystr(self, printer: Any) -> str:
        f, x = self.args
        body = printer._print(f)
        return f"∂{body if f.is_Atom or isinstance(f, Ex) else f'({body})'}/∂{printer._print(x)}"

    def _latex(self, printer: Any, exp: Any = None) -> str:
        f, x = self.args
        body = printer._print(f)
        body = body if f.is_Atom or isinstance(f, Ex) else rf"\left({body}\right)"
        return rf"\frac{{\partial {body}}}{{\partial {printer._print(x)}}}"


def Sigma_k(term: Any) -> Sigma:  # noqa: N802 - named as the Σₖ it prints
    """Σₖ of a term in the k-symbols, as written; :func:`_spread` writes it out term by term."""
    return Sigma(term, "k")


def Sigma_jk(term: Any) -> Sigma:  # noqa: N802
    """Σ over the pairs j ≠ k."""
    return Sigma(term, "j≠k")


def _add(*terms: Any) -> Any:
    return sympy.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _mul(*factors: Any) -> Any:
    factors = tuple(f for f in factors if f != 1)
    return sympy.Mul(*factors, evaluate=False) if len(factors) > 1 else (factors[0] if factors else sympy.S.One)


# symbols of the board
Y, J, R, T = symbol("y"), Symbol("J"), Symbol("r"), Symbol("t", real=True)
W_K, U_K, W_J, U_J = symbol("w_k"), symbol("u_k"), symbol("w_j"), symbol("u_j")
X_K, X_J, XT_K, XT_J = Symbol("X_k"), Symbol("X_j"), Symbol("xtilde_k"), Symbol("xtilde_j")
DELTA_K, EPS_K, R_K = Symbol("delta_k"), Symbol("epsilon_k"), Symbol("r_k")
SIGMA_K, SIGMA = Symbol("sigma_k", positive=True), Symbol("sigma", positive=True)
ALPHA, ALPHA_K, P = symbol("alpha"), symbol("alpha_k"), symbol("p")
S2 = Symbol("sigma__2")                                # σ², the variance of additive noise
HALF = Named("c_half", "½", r"\tfrac{1}{2}")           # c with --half
M_T, M1, M2 = sympy.Function("M")(T), Named("M'(0)", "M′(0)", "M'(0)"), Named("M''(0)", "M″(0)", "M''(0)")
DATA = Named("data_term", "data term", r"\text{data term}")
PENALTY = Named("penalty", "penalty", r"\text{penalty}")
LAMBDA_K = Symbol("lambda_k")
K_SYMBOLS = (W_K, U_K, ALPHA_K)                        # what changes from one term of Σ_k to the next

#: the noisy quantity as the noise leaves it, per model (the formula everything else follows from)
MODEL = {"gaussian": _add(W_K, DELTA_K), "inverted": _mul(R_K, W_K, 1 / P), "classic": _mul(R_K, W_K),
         "additive": _add(U_K, EPS_K)}


class Noisy(NamedTuple):
    """What the noise falls on: the weights (X_k, term X_k·u_k) or the inputs (x̃_k, term w_k·x̃_k)."""

    what: str       # "weight" or "input"
    z_text: str     # the noisy quantity's letter and the other factor's, for notes
    a_text: str
    z_k: Symbol     # the noisy quantity
    z_j: Symbol
    a_k: Symbol     # the other factor of the term
    a_j: Symbol
    base: Symbol    # the noise-free value of the noisy quantity

    @property
    def dep(self) -> Any:
        """Var(T_k)/κ as written: w_k²·u_k² (weights) or w_k² (inputs)."""
        return W_K**2 if self.what == "input" else _mul(W_K**2, U_K**2)


WEIGHTS = Noisy("weight", "X", "u", X_K, X_J, U_K, U_J, W_K)
INPUTS = Noisy("input", "x̃", "w", XT_K, XT_J, W_K, W_J, U_K)
NOISY = {"weight": WEIGHTS, "input": INPUTS}


# The formulas, written once.  Those of one model are built on first use (a run needs one).

@functools.lru_cache(maxsize=None)
def _square_formula(what: str, half: bool) -> Any:
    """E[J] with the square expanded, then completed (data term + penalty)."""
    on = NOISY[what]
    z_k, z_j, a_k, a_j = on.z_k, on.z_j, on.a_k, on.a_j
    expanded = _add(Y**2, _mul(-2, Y, Sigma_k(_mul(a_k, Ex(z_k)))), Sigma_k(_mul(a_k**2, Ex(z_k**2))),
                    Sigma_jk(_mul(a_j, a_k, Ex(z_j), Ex(z_k))))
    square = sympy.Pow(_add(Y, _mul(-1, Sigma_k(_mul(a_k, Ex(z_k))))), 2, evaluate=False)
    spread = Sigma_k(_mul(a_k**2, Var(z_k)))
    c = (HALF,) if half else ()
    return eq(Ex(J), _mul(*c, expanded), _add(_mul(*c, square), _mul(*c, spread)))


@functools.lru_cache(maxsize=None)
def _noisy_formulas(what: str) -> tuple[Any, Any]:
    """Var(Z_k) = E[Z_k²] − E[Z_k]² and E[Z_j·Z_k] = E[Z_j]·E[Z_k] (independence)."""
    on = NOISY[what]
    return (eq(Var(on.z_k), _add(Ex(on.z_k**2), -Ex(on.z_k)**2)),
            eq(Ex(_mul(on.z_j, on.z_k)), _mul(Ex(on.z_j), Ex(on.z_k))))


@functools.lru_cache(maxsize=None)
def _noise_formulas(z: Symbol) -> tuple[Any, Any, Any]:
    """M(t) = E[e^(t·z)], E[z] = M′(0), E[z²] = M″(0) for Gaussian noise z."""
    return eq(M_T, Ex(sympy.exp(_mul(T, z), evaluate=False))), eq(Ex(z), M1), eq(Ex(z**2), M2)


@functools.lru_cache(maxsize=None)
def _mask_formulas() -> tuple[Any, Any]:
    """E[r_k] = 1·p + 0·(1 − p) and E[r_k²] = 1²·p + 0²·(1 − p) for a mask r_k ~ Bernoulli(p)."""
    def average(one: Any, zero: Any) -> Any:
        return _add(sympy.Mul(one, P, evaluate=False), sympy.Mul(zero, 1 - P, evaluate=False))

    return (eq(Ex(R_K), average(1, 0)),
            eq(Ex(R_K**2), average(sympy.Pow(1, 2, evaluate=False), sympy.Pow(0, 2, evaluate=False))))


TOTAL = eq(Ex(J), _add(DATA, PENALTY))
MONTE_CARLO = Math("[Ĵ, SE] = [(1/N)·Σ_s J_s, s_J/√N],  J_s = J with the s-th draw of the noise",
                   r"[\hat J, \mathrm{SE}] = \Big[\frac{1}{N}\sum_s J_s, \frac{s_J}{\sqrt N}\Big]")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed, validated inputs of the exercise.

    Attributes:
        y: the target (a number or a symbol).
        u, w: the inputs and the weights, one length.
        noise: "gaussian", "bernoulli" or "additive".
        level: α (gaussian; a tuple for one per weight), p (bernoulli) or σ² (additive).
        inverted: Bernoulli: survivors scaled by 1/p (PyTorch) or not.
        half: c = ½ instead of 1.
        samples, seed: the Monte Carlo check (``samples`` None: none).
    """

    y: Any
    u: tuple[Any, ...]
    w: tuple[Any, ...]
    noise: str
    level: Any
    inverted: bool
    half: bool
    samples: int | None
    seed: int


def parse(*, y: str | None, u: str | None, w: str | None, n: str | None, noise: str,
          alpha: str | None, p: str | None, sigma2: str | None, inverted: bool | None, half: bool,
          samples: str | None, seed: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    kind = (noise or "gaussian").strip().lower()
    if kind not in NOISES:
        raise InputError("--noise", f"must be gaussian, bernoulli or additive, got {noise.strip()[:30]!r}")
    level = _parse_level(kind, {"--alpha": alpha, "--p": p, "--sigma2": sigma2}, inverted)
    u_vec, w_vec = _parse_vectors(u, w, n)
    y_val = parse_scalar(y, "--y") if y is not None else symbol("y")
    n_samples = parse_int(samples, "--samples", lo=2, hi=MAX_SAMPLES) if samples is not None else None
    if seed is not None and n_samples is None:
        raise InputError("--seed", "only applies with --samples")
    seed_val = parse_int(seed, "--seed", lo=0, hi=MAX_SEED) if seed is not None else 0
    return Inputs(y_val, u_vec, w_vec, kind, level, True if inverted is None else inverted,
                  half, n_samples, seed_val)


def _parse_level(kind: str, given: dict[str, str | None], inverted: bool | None) -> Any:
    own = LEVEL_OPTION[kind]
    for option, text in given.items():
        if text is not None and option != own:
            raise InputError(option, f"is {LEVEL_IS[option]}; {LEVEL_TAKES[kind]}")
    if inverted is not None and kind != "bernoulli":
        raise InputError("--inverted" if inverted else "--no-inverted", "applies to --noise bernoulli only")
    text = given[own]
    if text is None:
        return symbol(own[2:])
    if kind == "gaussian":
        value = parse_value(text, own, kinds=("scalar", "vector"))
        return tuple(value) if isinstance(value, list) else value
    return parse_scalar(text, own)


def _parse_vectors(u: str | None, w: str | None, n: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
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
    return tuple(u_vec), tuple(w_vec)


def _entries(k: int) -> str:
    return f"{k:,} entr{'y' if k == 1 else 'ies'}"


def _levels(inp: Inputs) -> tuple[Any, ...]:
    return inp.level if isinstance(inp.level, tuple) else (inp.level,)


def _check(inp: Inputs) -> None:
    values = [inp.y, *inp.u, *inp.w, *_levels(inp)]
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
    if isinstance(inp.level, tuple) and len(inp.level) != n:
        raise InputError("--alpha", f"has {_entries(len(inp.level))} but --w has {_entries(n)}; "
                                    "give one α, or one per weight")
    _check_level(inp)
    if inp.samples is not None:
        if not numeric:
            names = sorted({str(s) for v in values for s in v.free_symbols})
            raise InputError("--samples", "needs numbers for every input; symbolic: "
                                          + ", ".join(names[:6]) + ("…" if len(names) > 6 else ""))
        if inp.samples * n > MAX_DRAWS:
            raise InputError("--samples", f"× {n} weights = {inp.samples * n:,} random draws; "
                                          f"at most {MAX_DRAWS:,}: use fewer samples")


def _check_level(inp: Inputs) -> None:
    option = LEVEL_OPTION[inp.noise]
    for a in _levels(inp):
        if not a.is_number:
            continue
        if inp.noise == "bernoulli":
            if _sign(a, option) <= 0 or _sign(a - 1, option) > 0:
                raise InputError(option, f"must be in (0, 1] (the keep probability), got {a}")
        elif _sign(a, option) < 0:
            raise InputError(option, f"must be >= 0 (a variance{' factor' if option == '--alpha' else ''}), got {a}")


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


# --------------------------------------------------------------------------- one noisy quantity


@dataclass(frozen=True)
class Moments:
    """What the derivation of one coordinate gives.

    ``mu`` and ``kappa`` are expressions in the level symbol ``level`` (α, α_k, p or σ²)
    with E[T_k] = mu·w_k·u_k and Var(T_k) = kappa·``on.dep`` for the k-th term T_k.
    """

    level: Any
    mu: Any
    kappa: Any
    on: Noisy
    steps: tuple[Step, ...]


def _by_linearity(expr: Any, z: Symbol) -> Any:
    """E[expr] of a polynomial in the random variable ``z``: Σ_j coefficient·E[z^j], as written
    (lowest power first)."""
    by_power: dict[Any, Any] = {}
    for term in sympy.Add.make_args(sympy.expand(expr)):
        coeff, power = term.as_coeff_exponent(z)
        by_power[power] = by_power.get(power, 0) + coeff
    return _add(*[c if j == 0 else _mul(*sympy.Mul.make_args(c), Ex(z**j)) for j, c in sorted(by_power.items())])


@functools.lru_cache(maxsize=16)
def derive_moments(noise: str, inverted: bool, linear_variance: bool = False,
                   per_weight: bool = False) -> Moments:
    """E[·], E[·²], Var(·) of one noisy weight (or input), derived from the noise's moments.

    ``linear_variance`` takes the noise variance one power too low (α·w_k instead of α·w_k²;
    σ instead of σ²): a mistake, kept as a flag so that ``--check`` can recognise it.
    ``per_weight``: one variance factor α_k per weight.  Worked once per process (``batch``).
    """
    on = INPUTS if noise == "additive" else WEIGHTS
    if noise == "bernoulli":
        level, z, model = P, R_K, MODEL["inverted" if inverted else "classic"]
        steps, raw = _mask_moments()
    else:
        level = S2 if noise == "additive" else (ALPHA_K if per_weight else ALPHA)
        z, model = (EPS_K, MODEL["additive"]) if noise == "additive" else (DELTA_K, MODEL["gaussian"])
        steps, raw = _normal_moments(z, level, linear_variance)
    plain = noise == "bernoulli" and not inverted  # w_k·E[r_k]: the substitution is the value
    first, m1 = _moment_step(1, on, model, z, raw, plain)
    second, m2 = _moment_step(2, on, model, z, raw, plain)
    mu = m1 / on.base  # 1 or p: E[X_k] is proportional to w_k
    var = sympy.expand(m2 - m1**2)
    kappa = var if on is INPUTS else sympy.factor_terms(sympy.together(sympy.expand(var / W_K**2)))
    shown_var = kappa if on is INPUTS else kappa * W_K**2
    variance, cross = _noisy_formulas(on.what)
    steps += (first, second,
              step(f"variance of a noisy {on.what}", variance,
                   {Ex(on.z_k**2): sympy.factor_terms(m2), Ex(on.z_k): m1}, value=shown_var),
              step("cross terms (j ≠ k): independence", cross,
                   value=m1 * m1.xreplace({W_K: W_J, U_K: U_J}),
                   note=f"{on.z_text}_j and {on.z_text}_k are independent, so the expectation of the "
                        "product factors"))
    return Moments(level, mu, kappa, on, steps)


def _normal_moments(z: Symbol, level: Any, linear_variance: bool) -> tuple[tuple[Step, ...], dict[int, Any]]:
    """The moments of Gaussian noise z ~ N(0, s²) from its moment generating function
    M(t) = exp(s²t²/2), differentiated by SymPy: M′(0) and M″(0); s² = α·w_k² (on a weight)
    or σ² (on an input).  (The MGF is written out: importing sympy.stats for it costs ~40 ms
    of a run; the tests check it against sympy.stats' Normal.)"""
    on_input = z == EPS_K
    sd = SIGMA if on_input else SIGMA_K
    if on_input:
        variance, said = (sympy.sqrt(S2), "σ") if linear_variance else (S2, "σ²")
    else:
        variance = level * (W_K if linear_variance else W_K**2)
        said = ("α_k" if level == ALPHA_K else "α") + ("·w_k" if linear_variance else "·w_k²")
    mgf = normal_mgf(sd)
    raw = {j: sympy.expand(m.xreplace({T: 0}).xreplace({sd: sympy.sqrt(variance)}))
           for j, m in enumerate(normal_mgf_derivatives(sd), start=1)}
    name, s2 = ("ε_k", "σ²") if on_input else ("δ_k", "σ_k²")
    mgf_formula, mean, second = _noise_formulas(z)
    steps = (
        step(f"noise on one {'input' if on_input else 'weight'} (Gaussian)", mgf_formula, value=mgf,
             note=f"{name} ∼ N(0, {s2})" + ("" if on_input else f" with σ_k² = {said}")
                  + f": the moment generating function of a Normal(0, {s2[:-1]}); "
                    "its derivatives at t = 0 are the moments"),
        step("mean of the noise", mean, value=raw[1]),
        step("second moment of the noise", second, value=raw[2],
             note=f"M″(0) = {s2}" + ("" if said == s2 else f" = {said}")),
    )
    return steps, raw


def _mask_moments() -> tuple[tuple[Step, ...], dict[int, Any]]:
    """The moments of a dropout mask r_k ~ Bernoulli(p): E[r_k^j] = 1^j·p + 0^j·(1 − p)."""
    raw = {j: bernoulli_moment(P, j) for j in (1, 2)}
    mean, second = _mask_formulas()
    return (step("mask on one weight (Bernoulli): mean", mean, value=raw[1],
                 note="r_k ∼ Bernoulli(p); p is the keep probability"),
            step("second moment of the mask", second, value=raw[2], note="r_k² = r_k for a 0/1 variable")), raw


def normal_mgf(sd: Any) -> Any:
    """The moment generating function E[e^(t·z)] of z ~ N(0, sd²), at t: exp(sd²t²/2)."""
    return sympy.exp(sd**2 * T**2 / 2)


def normal_mgf_derivatives(sd: Any) -> tuple[Any, Any]:
    """M′(t) = sd²·t·M(t) and M″(t) = (sd² + sd⁴·t²)·M(t) of :func:`normal_mgf`, by the chain
    rule as a teacher writes them (SymPy's diff of the exponential costs ~20 ms of a first run;
    the tests check these against it)."""
    mgf = normal_mgf(sd)
    return sd**2 * T * mgf, (sd**2 + sd**4 * T**2) * mgf


def bernoulli_moment(p: Any, j: int) -> Any:
    """E[r^j] of r ~ Bernoulli(p), summed over its two outcomes."""
    return sympy.Integer(1) ** j * p + sympy.Integer(0) ** j * (1 - p)


def _moment_step(j: int, on: Noisy, model: Any, z: Symbol, raw: dict[int, Any], plain: bool) -> tuple[Step, Any]:
    """E[Z_k^j] by linearity from the noise's raw moments: the step and its value."""
    template = _by_linearity(model**j, z)
    moments = {Ex(z**d): m for d, m in raw.items()}
    value = sympy.expand(template.xreplace(moments))
    formula = eq(Ex(on.z_k**j), Ex(model**j), template)
    title = f"{'first' if j == 1 else 'second'} moment of a noisy {on.what}"
    s = step(title, formula, None if plain else moments, value=value if j == 1 else sympy.factor_terms(value))
    return s, value


@functools.lru_cache(maxsize=32)
def _gradient(mu: Any, kappa: Any, c: Any, on_inputs: bool) -> Any:
    """∂E[J]/∂w_k for one weight, by sympy.diff through the residual r.

    Depends only on the noise model and c, so it is worked once per process (``batch``).
    """
    dep = W_K**2 if on_inputs else W_K**2 * U_K**2
    r_of_w = Y - mu * (W_K * U_K + Symbol("s_rest"))  # the other terms of the sum do not depend on w_k
    return 2 * c * R * sympy.diff(r_of_w, W_K) + sympy.diff(c * kappa * dep, W_K)


# --------------------------------------------------------------------------- the whole sum


class Work(NamedTuple):
    """One exercise on the board: the inputs with the derived moments put in."""

    inp: Inputs
    mom: Moments
    c: Any
    levels: dict[Any, Any]          # the scalar level symbol -> its value (empty for one α per weight)
    rows: tuple[dict[Any, Any], ...]  # the k-th term's symbols -> values
    few: bool                       # write the sums out with the numbers in

    def at(self, expr: Any, k: int) -> Any:
        """``expr`` (in the k-symbols and the level) for the k-th weight."""
        return expr.xreplace({**self.levels, **self.rows[k]})

    @property
    def kappa_per_weight(self) -> bool:
        return self.mom.kappa.has(*K_SYMBOLS)


def _work(inp: Inputs, mom: Moments) -> Work:
    per_weight = isinstance(inp.level, tuple)
    rows = tuple({W_K: wk, U_K: uk, **({ALPHA_K: ak} if per_weight else {})}
                 for wk, uk, ak in zip(inp.w, inp.u, _levels(inp) * (1 if per_weight else len(inp.w))))
    levels = {} if per_weight else {mom.level: inp.level}
    few = len(inp.w) <= SHOW_TERMS and any(v.is_number for v in (inp.y, *_levels(inp), *inp.u, *inp.w))
    return Work(inp, mom, sympy.Rational(1, 2) if inp.half else sympy.Integer(1), levels, rows, few)


def _spread(expr: Any, rows: tuple[dict[Any, Any], ...]) -> tuple[Any, dict[Any, Any]]:
    """``expr`` with each Σ_k written out term by term over ``rows``, and the values of the
    terms' own symbols (fresh ones, so that :func:`put_in` makes the numbers in written order)."""
    values: dict[Any, Any] = {}

    def out(node: Any) -> Any:
        if isinstance(node, Sigma):
            terms = []
            for row in rows:
                fresh = {s: sympy.Dummy() for s in row}
                values.update({fresh[s]: v for s, v in row.items()})
                terms.append(xreplace_unevaluated(node.body, fresh))
            return _add(*terms)
        if not node.args:
            return node
        args = tuple(out(a) for a in node.args)
        return node if args == node.args else node.func(*args, evaluate=False)

    return out(expr), values


def _summed(title: str, formula: Any, values: dict[Any, Any] | None, rows: tuple[dict[Any, Any], ...],
            value: Any, note: str = "") -> Step:
    """:func:`dlcalc.board.step`, with each Σ_k of the formula written out over ``rows`` (one
    mapping of the k-symbols per term) in the substituted line; no values: no such line."""
    s = step(title, formula, value=value, note=note)
    if values is None or not showing():
        return s
    rhs, spread = _spread(formula.rhs, rows)
    return replace(s, substituted=put_in(rhs, {**values, **spread}))


def _factors(x: Any) -> tuple[Any, ...]:
    """The factors of a coefficient as written: p·(1 − p) as two, (1 − p)/p as one (a fraction)."""
    args = sympy.Mul.make_args(x)
    return (x,) if any(a.is_Pow and a.exp.is_negative for a in args) else args


def _c(half: bool, *factors: Any) -> Any:
    """c·factors as written: ½·… with --half, the factors alone for c = 1."""
    return _mul(HALF, *factors) if half else _mul(*factors)


def _residual(b: Work) -> tuple[Step, Any]:
    mu = b.mom.mu
    formula = eq(R, _add(Y, _mul(-1, mu, Sigma_k(_mul(W_K, U_K)))))
    r = b.inp.y - mu.xreplace(b.levels) * sympy.Add(*[wk * uk for wk, uk in zip(b.inp.w, b.inp.u)])
    note = f"the residual of the noise-free {b.mom.on.what}s" + ("" if mu == 1 else " scaled by p")
    return _summed("expected residual", formula, {Y: b.inp.y, **b.levels} if b.few else None, b.rows, r, note), r


def _data_term(b: Work, r: Any) -> tuple[Step, Any]:
    data = b.c * r**2
    return step("data term", eq(DATA, _c(b.inp.half, R**2)), {R: r, HALF: b.c} if b.few else None,
                value=data), data


def _penalty(b: Work) -> tuple[Step, Any]:
    kappa, dep = b.mom.kappa, b.mom.on.dep
    if b.kappa_per_weight:  # one α_k per weight, or the linear-variance mistake (κ = α/w_k)
        rhs = _c(b.inp.half, Sigma_k(_mul(*_factors(kappa), *sympy.Mul.make_args(dep))))
        pen = b.c * sympy.Add(*[b.at(kappa * dep, k) for k in range(len(b.rows))])
    else:
        rhs = _c(b.inp.half, *_factors(kappa), Sigma_k(dep))
        pen = b.c * (kappa.xreplace(b.levels) * sympy.Add(*[dep.xreplace(row) for row in b.rows]))
    on = b.mom.on
    note = (f"{'½·' if b.inp.half else ''}Σ_k {on.a_text}_k²·Var({on.z_text}_k): the variance the noise adds to "
            f"the prediction Σ_k {'X_k·u_k' if on is WEIGHTS else 'w_k·x̃_k'}")
    values = {**b.levels, HALF: b.c} if b.few else None
    return _summed("penalty", eq(PENALTY, rhs), values, b.rows, pen, note=note), pen


def _reading(b: Work) -> Step:
    weights = b.mom.on is WEIGHTS
    template = _c(b.inp.half, *_factors(b.mom.kappa), *([U_K**2] if weights else []))
    lam = [b.c * b.at(b.mom.kappa * (U_K**2 if weights else 1), k) for k in range(len(b.rows))]
    note = ("penalty = Σ_k λ_k·w_k²: in expectation, training with this noise is least squares plus a "
            "data-dependent weight decay" if weights else
            "penalty = λ·Σ_k w_k², the same λ for every weight: in expectation, training with noisy inputs "
            "is ridge regression (Tikhonov regularization, Bishop 1995)")
    rows = [{**b.levels, **row, HALF: b.c} for row in b.rows]
    return steps_of("reading: an L2 penalty on the weights", eq(LAMBDA_K, template), rows, lam, note=note,
                    show=b.few and template.has(*K_SYMBOLS))


def _gradient_step(b: Work, r: Any) -> tuple[Step, list[Any]]:
    g = _gradient(b.mom.mu, b.mom.kappa, b.c, b.mom.on is INPUTS)
    grad = [b.at(g, k).xreplace({R: r}) for k in range(len(b.rows))]
    lead = _mul(*(() if b.inp.half else (2,)), R, Partial(R, W_K))
    rule = _add(lead, Partial(_c(b.inp.half, *_factors(b.mom.kappa), *sympy.Mul.make_args(b.mom.on.dep)), W_K))
    formula = eq(Partial(Ex(J), W_K), rule, g)
    rows = [{R: r, **b.levels, **row} for row in b.rows]
    note = ("Var(X_k) grows with w_k², so the penalty is differentiated along with the data term"
            if b.mom.on is WEIGHTS else "the noise on the inputs does not depend on w: its variance is a constant")
    return steps_of("gradient of the expected loss", formula, rows, grad, note=note,
                    show=b.few and all(gk.is_number for gk in grad)), grad


def solve(inp: Inputs, *, penalty: bool = True, linear_variance: bool = False) -> Solution:
    """Expected loss, its split into data term and penalty, and its gradient.

    ``penalty=False`` and ``linear_variance=True`` are the common mistakes of :data:`MISTAKES`.
    """
    _check(inp)
    mom = derive_moments(inp.noise, inp.inverted, linear_variance, isinstance(inp.level, tuple))
    if not penalty:
        mom = replace(mom, kappa=sympy.Integer(0))
    b = _work(inp, mom)
    on = mom.on
    square = step("expand the square and take expectations", _square_formula(on.what, inp.half), value=None,
                  note=f"complete the square: add and subtract Σ_k {on.a_text}_k²·E[{on.z_text}_k]²; "
                       "the first part is the data term, the second the penalty")
    residual, r = _residual(b)
    data_step, data = _data_term(b, r)
    pen_step, pen = _penalty(b)
    expected = data + pen
    total = step("expected loss", TOTAL, {DATA: data, PENALTY: pen}, value=expected)
    grad_step, grad = _gradient_step(b, r)
    steps = [*mom.steps, square, residual, data_step, pen_step, _reading(b), total, grad_step]
    result: dict[str, Any] = {"expected_loss": expected, "data_term": data, "penalty": pen, "grad_w": grad}
    notes: tuple[str, ...] = ()
    if inp.samples is not None:
        steps.append(_monte_carlo_step(inp, b.c, expected, result))
        notes = ("the Monte Carlo estimate uses Python floats and the random module "
                 f"(seed {inp.seed}); the exact values do not depend on it",)
    return Solution(command="dropout-expectation", inputs=_shown_inputs(inp), conventions=_conventions(inp),
                    steps=tuple(steps), result=result, notes=notes)


def _monte_carlo_step(inp: Inputs, c: Any, expected: Any, result: dict[str, Any]) -> Step:
    exact_f = float(expected)
    mc, se = monte_carlo(inp, float(c), exact_f)
    z = (mc - exact_f) / se if se > 0 else 0.0
    result["monte_carlo"] = sympy.Float(mc)
    result["monte_carlo_se"] = sympy.Float(se)
    return Step(title=f"Monte Carlo check ({inp.samples:,} samples, seed {inp.seed})", formula=MONTE_CARLO,
                value=[sympy.Float(mc), sympy.Float(se)],
                note=f"exact E[J] = {exact_f:.10g}; the estimate is off by {z:+.2f} standard errors "
                     "(|z| above 4 would be suspicious)")


def _shown_inputs(inp: Inputs) -> dict[str, Any]:
    level = list(inp.level) if isinstance(inp.level, tuple) else inp.level
    inputs: dict[str, Any] = {"y": inp.y, "u": list(inp.u), "w": list(inp.w), LEVEL_OPTION[inp.noise][2:]: level}
    if inp.samples is not None:
        inputs["samples"] = sympy.Integer(inp.samples)
        inputs["seed"] = sympy.Integer(inp.seed)
    return inputs


NOISE_TEXT = {
    "gaussian": "X_k = w_k + δ_k, δ_k ∼ N(0, α·w_k²), independent across k (multiplicative Gaussian noise)",
    "per-weight": "X_k = w_k + δ_k, δ_k ∼ N(0, α_k·w_k²), independent across k, one variance factor α_k "
                  "per weight (multiplicative Gaussian noise)",
    "inverted": "X_k = r_k·w_k/p, r_k ∼ Bernoulli(p) independent, p = keep probability "
                "(inverted dropout: survivors scaled by 1/p, as PyTorch)",
    "classic": "X_k = r_k·w_k, r_k ∼ Bernoulli(p) independent, p = keep probability "
               "(classic dropout, no rescaling: --no-inverted)",
    "additive": "x̃_k = u_k + ε_k, ε_k ∼ N(0, σ²), independent across k (Gaussian noise added to the inputs)",
}


def _conventions(inp: Inputs) -> dict[str, str]:
    c_text = "½·" if inp.half else ""
    on_inputs = inp.noise == "additive"
    key = inp.noise if inp.noise != "bernoulli" else ("inverted" if inp.inverted else "classic")
    if isinstance(inp.level, tuple):
        key = "per-weight"
    term, noisy = (("w_k·x̃_k", "x̃_k the noisy k-th input") if on_inputs
                   else ("X_k·u_k", "X_k the noisy k-th weight"))
    out = {
        "loss": f"J = {c_text}(y − Σ_k {term})² with {noisy}; c = {'1/2 (--half)' if inp.half else '1'}",
        "noise": NOISE_TEXT[key],
        "split": "expected_loss = data_term + penalty, both including the factor c; penalty = c·Σ_k "
                 + ("w_k²·Var(x̃_k)" if on_inputs else "u_k²·Var(X_k)"),
        "gradient": "grad_w[k] = ∂E[J]/∂w_k" + ("; the noise on the inputs does not depend on w" if on_inputs
                                               else ", with the noise variance (∝ w_k²) differentiated too"),
    }
    symbolic = [a for a in _levels(inp) if not a.is_number]
    if symbolic:
        out["symbols"] = {"gaussian": "α is taken as ≥ 0", "bernoulli": "p is taken in (0, 1]",
                          "additive": "σ² is the symbol sigma2 (printed σ₂), taken as ≥ 0"}[inp.noise]
    return out


# --------------------------------------------------------------------------- Monte Carlo


def monte_carlo(inp: Inputs, c: float, shift: float = 0.0) -> tuple[float, float]:
    """Mean of J over ``inp.samples`` draws of the noise, and its standard error (floats).

    The sums run over J - ``shift`` (pass the exact E[J]) so that the sum of squares
    behind the standard error does not cancel catastrophically.
    """
    import random

    rng = random.Random(inp.seed)
    y, w, u = float(inp.y), [float(x) for x in inp.w], [float(x) for x in inp.u]
    n_samples = inp.samples or 0
    if inp.noise == "bernoulli":
        level = float(inp.level)
        coef = [wi * ui / (level if inp.inverted else 1.0) for wi, ui in zip(w, u)]
        total, total2 = _mc_dropout(rng, y, coef, level, c, shift, n_samples)
    else:
        if inp.noise == "additive":  # y − Σ w_k·(u_k + σ·z_k)
            scale = [math.sqrt(float(inp.level)) * wi for wi in w]
        else:  # y − Σ (w_k + √α_k·|w_k|·z_k)·u_k
            alphas = [float(a) for a in _levels(inp)] * (1 if isinstance(inp.level, tuple) else len(w))
            scale = [math.sqrt(a) * abs(wi) * ui for a, wi, ui in zip(alphas, w, u)]
        base = y - math.fsum(wi * ui for wi, ui in zip(w, u))
        total, total2 = _mc_gaussian(rng, base, [s for s in scale if s != 0.0], c, shift, n_samples)
    mean = total / n_samples
    var = max(total2 / n_samples - mean * mean, 0.0) * n_samples / (n_samples - 1)
    se = math.sqrt(var / n_samples)
    mean += shift
    if not (math.isfinite(mean) and math.isfinite(se)):
        raise InputError("--samples", "the simulated losses overflow floating point; "
                                      "use smaller numbers for the Monte Carlo check")
    return mean, se


def _mc_gaussian(rng: Any, base: float, scale: list[float], c: float, shift: float, n: int) -> tuple[float, float]:
    """Σ (J − shift) and Σ (J − shift)² over n draws of the residual base − Σ scale_k·z_k."""
    total = total2 = 0.0
    gauss = rng.gauss
    for _ in progress(range(n), n, "Monte Carlo"):
        res = base
        for s in scale:
            res -= s * gauss(0.0, 1.0)
        j = c * res * res - shift
        total += j
        total2 += j * j
    return total, total2


def _mc_dropout(rng: Any, y: float, coef: list[float], keep: float, c: float, shift: float,
                n: int) -> tuple[float, float]:
    """Σ (J − shift) and Σ (J − shift)² over n draws of the masks (term k kept with probability ``keep``)."""
    total = total2 = 0.0
    draw = rng.random
    for _ in progress(range(n), n, "Monte Carlo"):
        res = y
        for cf in coef:
            if draw() < keep:
                res -= cf
        j = c * res * res - shift
        total += j
        total2 += j * j
    return total, total2


# --------------------------------------------------------------------------- mistakes


def _flip_scaling(kw: Any) -> Any:
    return {"inverted": not kw["inverted"]} if kw["noise"] == "bernoulli" else None


def _swap_noisy(kw: Any) -> Any:
    """Input noise of variance s worked as weight noise of factor s, or the other way."""
    if kw["noise"] == "additive":
        return {"noise": "gaussian"}
    if kw["noise"] == "gaussian" and not isinstance(kw["level"], tuple):
        return {"noise": "additive"}
    return None


MISTAKES = (
    Mistake("forgot the penalty (the variance term of E[X_k²])", {"penalty": False}),
    Mistake("took the noise variance as α·w_k instead of α·w_k²",
            lambda kw: {"linear_variance": True} if kw["noise"] == "gaussian" else None),
    Mistake("took the noise variance as σ instead of σ² (the standard deviation for the variance)",
            lambda kw: {"linear_variance": True} if kw["noise"] == "additive" else None),
    Mistake("mixed up noise on the inputs (penalty σ²·Σ_k w_k²) and on the weights (α·Σ_k w_k²·u_k²)",
            _swap_noisy),
    Mistake("mixed up inverted (1/p) and classic dropout scaling", _flip_scaling),
)
