"""lr-schedule: the learning rate of PyTorch's schedulers, step by step.

Semantics are exactly ``torch.optim.lr_scheduler``'s: ``lrs[k]`` is the optimizer's
``lr`` after ``k`` calls of ``scheduler.step()`` (k = 0 is the rate the scheduler sets
when it is built), so step k of training runs with ``lrs[k]``.

PyTorch updates most schedules recursively from the previous rate (``group["lr"] *
gamma``, the cosine ratio (1 + cos(πk/T))/(1 + cos(π(k−1)/T)), LinearLR's and
PolynomialLR's ratios).  In exact arithmetic each recursion telescopes to the closed
form used here (``_get_closed_form_lr``), for every k, also past ``T_max`` (the cosine
keeps going back up, as PyTorch's does) and past ``total_iters`` (the rate stays):

* step         η₀·γ^⌊k/s⌋
* multistep    η₀·γ^n,  n = number of milestones m ≤ k (repeated milestones count twice)
* exponential  η₀·γ^k
* cosine       η_min + (η₀ − η_min)·(1 + cos(πk/T_max))/2
* linear       η₀·(s + (e − s)·min(k, T)/T)
* polynomial   η₀·(1 − min(k, T)/T)^p
* onecycle     phases ending at pct·N − 1 and N − 1 (three-phase: pct·N − 1, 2·pct·N − 2,
               N − 1); within a phase from a to b, fraction f = (k − a)/(b − a) and
               cos: end + (start − end)·(1 + cos(πf))/2,  linear: start + (end − start)·f;
               initial = max_lr/div_factor, min = initial/final_div_factor.
* noam         f·d^(−1/2)·min(k^(−1/2), k·w^(−3/2)), k = max(step, 1) (Vaswani et al. eq. 3,
               in PyTorch a LambdaLR on base rate f).

The rate at the asked step (``lr``) is exact (rationals, or cos/√ kept symbolic) unless its
exact form would be huge (γ^k for large k: then 30 significant digits).  The list ``lrs``
is exact for short runs and float64 closed-form values for long ones (the solution says
which); float64 is what PyTorch itself computes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import sympy

from dlcalc.board import eq, floor_of, step
from dlcalc.core import Math, Mistake, Solution, Step, said
from dlcalc.errors import InputError
from dlcalc.parse import parse_int, parse_scalar, parse_vector, symbol
from dlcalc.registry import FLAG, Command, Option

SCHEDULES = ("step", "multistep", "exponential", "cosine", "linear", "onecycle", "polynomial", "noam")

COMMAND = Command(
    name="lr-schedule",
    summary="Learning-rate schedules as torch.optim.lr_scheduler computes them (step, cosine, "
            "one-cycle, noam, …).",
    example="dlcalc lr-schedule --schedule cosine --lr 0.1 --t-max 10 --steps 11 --at 3",
    description="lrs[k] is the optimizer's lr after k calls of scheduler.step(), for k = 0 … N−1; "
                "lr is lrs[K] (--at K, the last step by default).",
    plot=True,
    options=(
        Option("--schedule", "step, multistep, exponential, cosine, linear, onecycle, polynomial or noam."),
        Option("--lr", "Base learning rate η₀ (the optimizer's lr; default 0.001, torch.optim.SGD's). "
                       "noam: the factor f (default 1). Not used by onecycle (its start is max_lr/div_factor)."),
        Option("--steps", "N: how many rates to list, for steps 0 … N−1 (1-100,000). onecycle: its "
                          "total_steps. Default: K + 1 with --at K."),
        Option("--at", "K: the step whose rate is worked out (0 … N−1; default the last, N−1)."),
        Option("--step-size", "step: decay every step_size steps (StepLR's step_size)."),
        Option("--gamma", "step, multistep: decay factor (default 0.1); exponential: required."),
        Option("--milestones", "multistep: the steps where the rate is multiplied by γ, e.g. \"30, 80\"."),
        Option("--t-max", "cosine: T_max, the steps of a half period."),
        Option("--eta-min", "cosine: the minimum rate η_min (default 0)."),
        Option("--start-factor", "linear: factor at step 0, in (0, 1] (default 1/3)."),
        Option("--end-factor", "linear: factor from total_iters on, in [0, 1] (default 1)."),
        Option("--total-iters", "linear, polynomial: steps of the ramp or decay (default 5)."),
        Option("--power", "polynomial: the power p ≥ 0 (default 1)."),
        Option("--max-lr", "onecycle: the peak rate (required)."),
        Option("--pct-start", "onecycle: fraction of the steps spent warming up, in [0, 1] (default 0.3)."),
        Option("--div-factor", "onecycle: initial rate = max_lr/div_factor (default 25)."),
        Option("--final-div-factor", "onecycle: final rate = initial/final_div_factor (default 1e4)."),
        Option("--anneal-strategy", "onecycle: cos (default) or linear."),
        Option("--three-phase", "onecycle: warm up, come back down to the initial rate, then anneal "
                                "(PyTorch's three_phase=True).", kind=FLAG, default=False),
        Option("--d-model", "noam: the model width d (default 512, the paper's base model)."),
        Option("--warmup", "noam: the warm-up steps w (default 4000, the paper's)."),
    ),
)

# --------------------------------------------------------------------------- limits

MAX_STEPS = 100_000           # N
MAX_INT = 10**9               # step_size, t_max, total_iters, milestones, d_model, warmup
MAX_MILESTONES = 1_000
MAX_POWER = 1_000
EXACT_RATIONAL_STEPS = 2_000  # lrs exact (rationals) up to this many steps ...
EXACT_SYMBOLIC_STEPS = 60     # ... or this many when the rates are irrational (cos, √)
EXACT_MAX_BITS = 4_000        # an exact rate larger than this is given to DIGITS digits
DIGITS = 30

DEFAULTS = {"lr": sympy.Rational(1, 1000), "gamma": sympy.Rational(1, 10), "eta_min": sympy.Integer(0),
            "start_factor": sympy.Rational(1, 3), "end_factor": sympy.Integer(1), "total_iters": 5,
            "power": sympy.Integer(1), "pct_start": sympy.Rational(3, 10), "div_factor": sympy.Integer(25),
            "final_div_factor": sympy.Integer(10**4), "anneal_strategy": "cos", "d_model": 512,
            "warmup": 4000, "noam_lr": sympy.Integer(1)}   # noam_lr: noam's --lr (the factor f)

#: which options each schedule takes (besides --schedule, --steps, --at)
USES = {
    "step": ("lr", "step_size", "gamma"),
    "multistep": ("lr", "milestones", "gamma"),
    "exponential": ("lr", "gamma"),
    "cosine": ("lr", "t_max", "eta_min"),
    "linear": ("lr", "start_factor", "end_factor", "total_iters"),
    "polynomial": ("lr", "total_iters", "power"),
    "onecycle": ("max_lr", "pct_start", "div_factor", "final_div_factor", "anneal_strategy", "three_phase"),
    "noam": ("lr", "d_model", "warmup"),
}


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of lr-schedule.

    Attributes:
        schedule: one of :data:`SCHEDULES`.
        lr: the base rate η₀ (noam: the factor f); None for onecycle.
        steps: N, the number of rates listed (steps 0 … N−1).
        at: K, the step worked out.
        step_size, gamma, milestones, t_max, eta_min, start_factor, end_factor, total_iters,
        power, max_lr, pct_start, div_factor, final_div_factor, anneal_strategy, three_phase,
        d_model, warmup: PyTorch's parameters (noam: d and w); None where not used.
    """

    schedule: str
    lr: Any
    steps: int
    at: int
    step_size: int | None = None
    gamma: Any = None
    milestones: tuple[int, ...] = ()
    t_max: int | None = None
    eta_min: Any = None
    start_factor: Any = None
    end_factor: Any = None
    total_iters: int | None = None
    power: Any = None
    max_lr: Any = None
    pct_start: Any = None
    div_factor: Any = None
    final_div_factor: Any = None
    anneal_strategy: str | None = None
    three_phase: bool = False
    d_model: int | None = None
    warmup: int | None = None


def _number(text: str, option: str, *, lo: Any = None, lo_open: bool = False, hi: Any = None,
            hi_open: bool = False, symbolic: bool = False) -> Any:
    """A real number (exact) in the given range, or (``symbolic``) an expression in symbols,
    taken to be in range."""
    v = parse_scalar(text, option)
    if not v.is_number:
        if symbolic:
            return v
        raise InputError(option, f"must be a number, got {text.strip()[:40]!r}")
    if v.is_real is False:
        raise InputError(option, f"must be a real number, got {text.strip()[:40]!r}")
    if lo is not None and (bool(v <= lo) if lo_open else bool(v < lo)):
        raise InputError(option, f"must be {'>' if lo_open else '≥'} {lo}, got {said(v, 40)}")
    if hi is not None and (bool(v >= hi) if hi_open else bool(v > hi)):
        raise InputError(option, f"must be {'<' if hi_open else '≤'} {hi}, got {said(v, 40)}")
    return v


def _rate(text: str, option: str) -> Any:
    return _number(text, option, lo=0, symbolic=True)


def _positive(text: str, option: str) -> Any:
    return _number(text, option, lo=0, lo_open=True, symbolic=True)


def _count(text: str, option: str) -> int:
    return parse_int(text, option, lo=1, hi=MAX_INT)


def _milestones(text: str, option: str) -> tuple[int, ...]:
    ms = parse_vector(text, option)
    if len(ms) > MAX_MILESTONES:
        raise InputError(option, f"has {len(ms):,} entries; at most {MAX_MILESTONES:,}")
    for m in ms:
        if not (m.is_number and m.is_Integer) or m < 0 or m > MAX_INT:
            raise InputError(option, f"must be whole numbers from 0 to {MAX_INT:,}, got {said(m, 40)}")
    return tuple(int(m) for m in ms)


def _pct_start(text: str, option: str) -> Any:
    v = _number(text, option, lo=0, hi=1)
    if not v.is_Rational:
        raise InputError(option, f"must be a rational number (a decimal such as 0.3), got {said(v, 40)}")
    return v


def _strategy(text: str, option: str) -> str:
    strategy = (text or "cos").strip().lower()
    if strategy not in ("cos", "linear"):
        raise InputError(option, f"must be cos or linear, got {text.strip()[:30]!r}")
    return strategy


#: how each parameter is read, in the order they are checked
PARAMETERS: dict[str, Callable[[str, str], Any]] = {
    "lr": _rate, "gamma": _positive, "step_size": _count, "milestones": _milestones, "t_max": _count,
    "eta_min": _rate,
    "start_factor": lambda text, option: _number(text, option, lo=0, lo_open=True, hi=1, symbolic=True),
    "end_factor": lambda text, option: _number(text, option, lo=0, hi=1, symbolic=True),
    "total_iters": _count, "power": lambda text, option: _number(text, option, lo=0, hi=MAX_POWER),
    "max_lr": _positive, "pct_start": _pct_start, "div_factor": _positive, "final_div_factor": _positive,
    "anneal_strategy": _strategy, "three_phase": lambda text, option: bool(text),
    "d_model": _count, "warmup": _count,
}
#: the parameters a schedule cannot do without: (schedule, parameter) -> why
REQUIRED = {
    ("onecycle", "max_lr"): "onecycle needs the peak rate max_lr",
    ("exponential", "gamma"): "exponential needs the decay factor γ (ExponentialLR's gamma)",
    ("step", "step_size"): "step needs StepLR's step_size",
    ("multistep", "milestones"): "multistep needs the milestones, e.g. \"30, 80\"",
    ("cosine", "t_max"): "cosine needs CosineAnnealingLR's T_max",
}


def parse(*, schedule: str | None, lr: str | None, steps: str | None, at: str | None,
          step_size: str | None, gamma: str | None, milestones: str | None, t_max: str | None,
          eta_min: str | None, start_factor: str | None, end_factor: str | None,
          total_iters: str | None, power: str | None, max_lr: str | None, pct_start: str | None,
          div_factor: str | None, final_div_factor: str | None, anneal_strategy: str | None,
          three_phase: bool = False, d_model: str | None = None, warmup: str | None = None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    if schedule is None:
        raise InputError("--schedule", "is missing: one of " + ", ".join(SCHEDULES))
    kind = schedule.strip().lower()
    if kind not in SCHEDULES:
        raise InputError("--schedule", f"must be one of {', '.join(SCHEDULES)}, got {schedule.strip()[:30]!r}")
    given = {"lr": lr, "step_size": step_size, "gamma": gamma, "milestones": milestones, "t_max": t_max,
             "eta_min": eta_min, "start_factor": start_factor, "end_factor": end_factor,
             "total_iters": total_iters, "power": power, "max_lr": max_lr, "pct_start": pct_start,
             "div_factor": div_factor, "final_div_factor": final_div_factor,
             "anneal_strategy": anneal_strategy, "three_phase": three_phase or None,
             "d_model": d_model, "warmup": warmup}
    _refuse_others(kind, given)
    n_steps, k_at = _steps_and_at(kind, steps, at)
    values = {name: _parameter(kind, name, given[name]) for name in PARAMETERS if name in USES[kind]}
    inp = Inputs(schedule=kind, steps=n_steps, at=k_at, **{"lr": None, **values})
    if kind == "onecycle":
        _onecycle_phases(inp, False)  # refuses a phase of length zero, where PyTorch divides by zero
    return inp


def _refuse_others(kind: str, given: dict[str, Any]) -> None:
    """An option given to a schedule that does not take it is an error naming who does."""
    for name, value in given.items():
        if value is not None and name not in USES[kind]:
            users = [s for s in SCHEDULES if name in USES[s]]
            why = (" (its initial rate is max_lr/div_factor: give --max-lr)" if name == "lr" else "")
            raise InputError("--" + name.replace("_", "-"),
                             f"is not a parameter of --schedule {kind}{why}; it applies to " + ", ".join(users))


def _steps_and_at(kind: str, steps: str | None, at: str | None) -> tuple[int, int]:
    """N and K: each defaults to the other (N = K + 1, K = N − 1)."""
    n_steps = parse_int(steps, "--steps", lo=1, hi=MAX_STEPS) if steps is not None else None
    k_at = (parse_int(at, "--at", lo=0, hi=(n_steps - 1) if n_steps is not None else MAX_STEPS - 1)
            if at is not None else None)
    if n_steps is None:
        if kind == "onecycle":
            raise InputError("--steps", "is missing: onecycle needs its total_steps (--steps N)")
        if k_at is None:
            raise InputError("--steps", "is missing: give --steps N (rates for steps 0 … N−1) and/or --at K")
        n_steps = k_at + 1
    return n_steps, n_steps - 1 if k_at is None else k_at


def _parameter(kind: str, name: str, text: Any) -> Any:
    """One parameter of the schedule: read, or its default (PyTorch's)."""
    option = "--" + name.replace("_", "-")
    if text is None:
        if (kind, name) in REQUIRED:
            raise InputError(option, "is missing: " + REQUIRED[kind, name])
        return DEFAULTS.get(f"{kind}_{name}", DEFAULTS.get(name, False))
    return PARAMETERS[name](text, option)


# --------------------------------------------------------------------------- exact helpers


def _bits(r: Any) -> int:
    return max(int(r.p).bit_length(), int(r.q).bit_length())


def _big_power(coef: Any, base: Any, n: int) -> Any:
    """coef·base^n exactly when its size is small, else to :data:`DIGITS` digits."""
    if base.is_Rational and coef.is_Rational and n * _bits(base) + _bits(coef) > EXACT_MAX_BITS:
        import mpmath

        with mpmath.workdps(DIGITS + 10):
            v = mpmath.mpf(int(coef.p)) / int(coef.q) * (mpmath.mpf(int(base.p)) / int(base.q)) ** n
            return sympy.Float(v, DIGITS)
    return coef * base**n


#: cos(π·r) for r in [0, 1] with a denominator 1, 2, 3, 4 or 6: the short exact values (as SymPy
#: writes them, without its trigonometric evaluation, a few ms each); other values stay cos(π·r)
_NICE_COS: dict[tuple[int, int], Callable[[], Any]] = {
    (0, 1): lambda: sympy.Integer(1), (1, 6): lambda: sympy.sqrt(3) / 2, (1, 4): lambda: sympy.sqrt(2) / 2,
    (1, 3): lambda: sympy.Rational(1, 2), (1, 2): lambda: sympy.Integer(0), (2, 3): lambda: sympy.Rational(-1, 2),
    (3, 4): lambda: -sympy.sqrt(2) / 2, (5, 6): lambda: -sympy.sqrt(3) / 2, (1, 1): lambda: sympy.Integer(-1),
}


def _cos_pi(r: Any) -> Any:
    """cos(π·r) for a rational r, exact: reduced to r in [0, 1]; a value SymPy writes with
    nested radicals (cos(3π/10) = √(5/8 − √5/8)) is kept as cos(3π/10), which is as exact,
    shorter, and far cheaper to build and print."""
    r = r % 2
    if r > 1:
        r = 2 - r
    nice = _NICE_COS.get((int(r.p), int(r.q)))
    return nice() if nice is not None else _cos(sympy.pi * r)


def _cos(x: Any) -> Any:
    """cos(x) as written (SymPy's evaluation would only spend time finding nothing to do)."""
    return sympy.cos(x, evaluate=False)


def _frac(x: Any) -> Fraction | None:
    return Fraction(int(x.p), int(x.q)) if x is not None and x.is_Rational else None


# --------------------------------------------------------------------------- the schedules


K, S_SIZE, GAMMA, ETA0 = symbol("k"), symbol("s"), symbol("gamma"), symbol("eta_0")
ETA_K, N_K = symbol("eta_k"), symbol("n")
T_MAX, ETA_MIN = symbol("T_max"), symbol("eta_min")
F_K, S_F, E_F, T_IT, POW = symbol("f_k"), symbol("s"), symbol("e"), symbol("T"), symbol("p")
ETA_MAX, DIV, FDIV, ETA_INIT = symbol("eta_max"), symbol("div"), symbol("div_final"), symbol("eta_initial")
PHASE_A, PHASE_B, FRAC = symbol("k_s"), symbol("k_e"), symbol("f")
ETA_START, ETA_END = symbol("eta_s"), symbol("eta_e")
STEP, D_MODEL, WARM, FACTOR = symbol("step"), symbol("d"), symbol("w"), symbol("f")

_FORMULAS: dict[str, Any] = {}


def formula(name: str) -> Any:
    """The general formula ``name``, built on first use (SymPy work kept off the import)."""
    f = _FORMULAS.get(name)
    if f is None:
        f = _FORMULAS[name] = _BUILD[name]()
    return f


_BUILD: dict[str, Callable[[], Any]] = {
    "step": lambda: eq(ETA_K, ETA0 * GAMMA**floor_of(K / S_SIZE)),
    "multistep": lambda: eq(ETA_K, ETA0 * GAMMA**N_K),
    "exponential": lambda: eq(ETA_K, ETA0 * GAMMA**K),
    "cosine": lambda: eq(ETA_K, ETA_MIN + (ETA0 - ETA_MIN) * (1 + _cos(sympy.pi * K / T_MAX)) / 2),
    "cosine0": lambda: eq(ETA_K, ETA0 * (1 + _cos(sympy.pi * K / T_MAX)) / 2),
    "linear_factor": lambda: eq(F_K, S_F + (E_F - S_F) * sympy.Min(K, T_IT) / T_IT),
    "linear": lambda: eq(ETA_K, ETA0 * F_K),
    "polynomial": lambda: eq(ETA_K, ETA0 * (1 - sympy.Min(K, T_IT) / T_IT)**POW),
    "initial": lambda: eq(ETA_INIT, ETA_MAX / DIV),
    "final": lambda: eq(ETA_MIN, ETA_INIT / FDIV),
    "fraction": lambda: eq(FRAC, (K - PHASE_A) / (PHASE_B - PHASE_A)),
    # PyTorch's end + (start − end)·(1 + cos(πf))/2, written from the start like the linear one
    "anneal_cos": lambda: eq(ETA_K, ETA_START + (ETA_END - ETA_START) * (1 - _cos(sympy.pi * FRAC)) / 2),
    "anneal_linear": lambda: eq(ETA_K, ETA_START + (ETA_END - ETA_START) * FRAC),
    "noam_k": lambda: eq(K, sympy.Max(STEP, 1)),
    "noam": lambda: eq(ETA_K, FACTOR * D_MODEL**sympy.Rational(-1, 2)
                       * sympy.Min(K**sympy.Rational(-1, 2), K * WARM**sympy.Rational(-3, 2))),
    "noam_no_d": lambda: eq(ETA_K, FACTOR * sympy.Min(K**sympy.Rational(-1, 2), K * WARM**sympy.Rational(-3, 2))),
}


@dataclass(frozen=True)
class Phase:
    """One phase of OneCycleLR: from step ``a`` (the end of the last one) to ``b``, exactly."""

    a: Fraction
    b: Fraction
    start: str   # initial | max | min
    end: str


def _onecycle_phases(inp: Inputs, peak_at_pct: bool) -> list[Phase]:
    """OneCycleLR's phases (end steps as PyTorch sets them: pct·N − 1, …, N − 1)."""
    p, n = _frac(inp.pct_start), inp.steps
    shift = 0 if peak_at_pct else 1
    if inp.three_phase:
        ends = [(p * n - shift, "initial", "max"), (2 * p * n - 2 * shift, "max", "initial"),
                (n - 1, "initial", "min")]
    else:
        ends = [(p * n - shift, "initial", "max"), (n - 1, "max", "min")]
    phases, a = [], Fraction(0)
    for b, s, e in ends:
        phases.append(Phase(a, Fraction(b), s, e))
        a = Fraction(b)
    # PyTorch divides by the phase's length; refuse a phase of length zero that a step reaches
    for j, ph in enumerate(phases):
        lo = math.floor(phases[j - 1].b) + 1 if j > 0 else 0        # steps k > the last phase's end ...
        hi = math.floor(ph.b) if j < len(phases) - 1 else n - 1     # ... and k <= this one's
        if ph.b == ph.a and max(lo, 0) <= min(hi, n - 1):
            raise InputError("--pct-start", f"makes a phase of length zero (pct_start·total_steps = "
                                            f"{said(_rat(p * n), 40)}): PyTorch's OneCycleLR divides by zero there")
    return phases


def _rat(f: Fraction) -> Any:
    return sympy.Rational(f.numerator, f.denominator)


def _phase_of(phases: list[Phase], k: int) -> Phase:
    for i, ph in enumerate(phases):
        if k <= ph.b or i == len(phases) - 1:
            return ph
    raise AssertionError  # pragma: no cover


class _TooBig(Exception):
    """An exact rate would outgrow :data:`EXACT_MAX_BITS`."""


class _Exact:
    """SymPy's exact arithmetic: cos and √ kept exact, a huge power given to :data:`DIGITS` digits."""

    floats = False

    def __init__(self, sched: "Schedule") -> None:
        self.sched = sched

    def value(self, name: str) -> Any:
        return getattr(self.sched.inp, name)

    def level(self, name: str) -> Any:
        return self.sched.levels[name]

    def number(self, f: Fraction) -> Any:
        return _rat(f)

    @staticmethod
    def power(coef: Any, base: Any, n: Any) -> Any:
        if isinstance(n, int) or (n.is_Integer and base != 0):
            return _big_power(coef, base, int(n))
        return coef * base**n

    @staticmethod
    def ratio(x: Any, m: int, t: int) -> Any:
        """x·m/t."""
        return x * sympy.Rational(m, t)

    @staticmethod
    def cos_pi(m: int, t: int) -> Any:
        """cos(π·m/t)."""
        return _cos_pi(sympy.Rational(m, t))


class _Fractions(_Exact):
    """Exact rational rates as Python Fractions: the whole list of a long run, fast."""

    def value(self, name: str) -> Any:
        return _frac(getattr(self.sched.inp, name))

    def level(self, name: str) -> Any:
        return _frac(self.sched.levels[name])

    def number(self, f: Fraction) -> Any:
        return f

    @staticmethod
    def power(coef: Any, base: Any, n: Any) -> Any:
        n = int(n)
        if n * max(base.numerator.bit_length(), base.denominator.bit_length()) > EXACT_MAX_BITS:
            raise _TooBig
        return coef * base**n

    @staticmethod
    def ratio(x: Any, m: int, t: int) -> Any:
        return x * Fraction(m, t)


class _Floats:
    """float64, as PyTorch computes (the closed form; its recursion agrees to rounding)."""

    floats = True

    def __init__(self, sched: "Schedule") -> None:
        self.sched = sched

    def value(self, name: str) -> float:
        return self.sched.floats[name]

    @staticmethod
    def power(coef: float, base: float, n: Any) -> float:
        return coef * base ** n

    @staticmethod
    def ratio(x: float, m: int, t: int) -> float:
        return x * m / t

    @staticmethod
    def cos_pi(m: int, t: int) -> float:
        return math.cos(math.pi * m / t)


class Schedule:
    """One schedule: exact rates, float rates, and the working at one step."""

    def __init__(self, inp: Inputs, *, shift: int = 0, every_step: bool = False,
                 clamp_cosine: bool = False, peak_at_pct: bool = False, no_d_model: bool = False) -> None:
        self.inp = inp
        self.kind = inp.schedule
        self.shift = shift
        self.clamp_cosine = clamp_cosine
        self.no_d_model = no_d_model
        self.step_size = 1 if every_step else inp.step_size
        params = [getattr(inp, name) for name in ("lr", "gamma", "eta_min", "start_factor", "end_factor",
                                                  "power", "max_lr", "div_factor", "final_div_factor")]
        #: whether every input is a number (else the rates are expressions in the symbols)
        self.numeric = all(x is None or x.is_number for x in params)
        if self.kind == "onecycle":
            self.phases = _onecycle_phases(inp, peak_at_pct)
            self.levels = {"max": inp.max_lr, "initial": inp.max_lr / inp.div_factor}
            self.levels["min"] = self.levels["initial"] / inp.final_div_factor
        if self.kind == "onecycle" and self.numeric:
            # as PyTorch's floats: initial_lr = max_lr/div_factor, min_lr = initial_lr/final_div_factor
            mx = float(inp.max_lr)
            ini = mx / float(inp.div_factor)
            self.float_levels = {"max": mx, "initial": ini, "min": ini / float(inp.final_div_factor)}
            p, n = float(inp.pct_start), inp.steps
            self.float_phases = [(float(ph.b), ph.start, ph.end) for ph in self.phases]
            if not peak_at_pct:  # float(pct_start * total_steps) - 1, and so on
                ends = [p * n - 1, 2 * p * n - 2, n - 1] if inp.three_phase else [p * n - 1, n - 1]
                self.float_phases = [(float(b), s, e) for b, (_, s, e) in zip(ends, self.float_phases)]
        self._cache: dict[Any, Any] = {}
        self.milestones = sorted(inp.milestones)
        self.floats = {name: float(getattr(inp, name)) for name in
                       ("lr", "gamma", "eta_min", "start_factor", "end_factor", "power")
                       if getattr(inp, name) is not None} if self.numeric else {}
        self.rational = self._is_rational()
        self._exact, self._floats = _Exact(self), _Floats(self)

    # ---------------------------------------------------------------- which arithmetic

    def _is_rational(self) -> bool:
        """Whether every rate is rational (then Fractions give the exact list fast)."""
        i = self.inp
        nums = [i.lr, i.gamma, i.eta_min, i.start_factor, i.end_factor, i.max_lr, i.pct_start,
                i.div_factor, i.final_div_factor]
        if not all(x is None or x.is_Rational for x in nums):
            return False
        if self.kind in ("step", "multistep", "exponential", "linear"):
            return True
        if self.kind == "polynomial":
            return i.power.is_Integer
        if self.kind == "onecycle":
            return i.anneal_strategy == "linear"
        return False

    def passed(self, k: int) -> int:
        """How many milestones are ≤ k (a repeated milestone counts each time)."""
        return bisect.bisect_right(self.milestones, k)

    def at(self, k: int) -> int:
        """The step whose rate is read: k, or k ± 1 under the off-by-one mistake."""
        return max(k + self.shift, 0)

    # ---------------------------------------------------------------- exact rates

    def exact(self, k: int) -> Any:
        """The rate at step k (after the mistake's shift), exact where its size allows."""
        k = self.at(k)
        key = self._key(k)
        v = self._cache.get(key)
        if v is None:
            v = self._cache[key] = self._closed(k, self._exact)
        return v

    def _key(self, k: int) -> Any:
        """Steps with the same rate share one cache entry (period 2T of the cosine, …)."""
        i = self.inp
        if self.kind == "step":
            return k // self.step_size
        if self.kind == "multistep":
            return self.passed(k)
        if self.kind == "cosine":
            return min(k, i.t_max) if self.clamp_cosine else k % (2 * i.t_max)
        if self.kind in ("linear", "polynomial"):
            return min(k, i.total_iters)
        if self.kind == "noam":
            return max(k, 1)
        return k

    def _closed(self, k: int, ops: Any) -> Any:
        """The rate at step k by its closed form, in the arithmetic ``ops`` (exact, Fractions or
        floats): one formula per schedule for every path."""
        i, v = self.inp, ops.value
        if self.kind == "step":
            return ops.power(v("lr"), v("gamma"), k // self.step_size)
        if self.kind == "multistep":
            return ops.power(v("lr"), v("gamma"), self.passed(k))
        if self.kind == "exponential":
            return ops.power(v("lr"), v("gamma"), k)
        if self.kind == "cosine":
            kk = min(k, i.t_max) if self.clamp_cosine else k
            return v("eta_min") + (v("lr") - v("eta_min")) * (1 + ops.cos_pi(kk, i.t_max)) / 2
        if self.kind == "linear":
            s, e = v("start_factor"), v("end_factor")
            return v("lr") * (s + ops.ratio(e - s, min(k, i.total_iters), i.total_iters))
        if self.kind == "polynomial":
            return ops.power(v("lr"), 1 - ops.ratio(1, min(k, i.total_iters), i.total_iters), v("power"))
        if self.kind == "onecycle":
            return self._onecycle(k, ops)
        return self._noam(k, ops.floats)

    def _onecycle(self, k: int, ops: Any) -> Any:
        if ops.floats:  # PyTorch's float arithmetic, phase ends included
            a = 0.0
            for j, (b, s, e) in enumerate(self.float_phases):
                if k <= b or j == len(self.float_phases) - 1:
                    break
                a = b
            start, end, f = self.float_levels[s], self.float_levels[e], (k - a) / (b - a)
            if self.inp.anneal_strategy == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * f) + 1)
            return (end - start) * f + start
        ph = _phase_of(self.phases, k)
        start, end, f = ops.level(ph.start), ops.level(ph.end), ops.number((k - ph.a) / (ph.b - ph.a))
        if self.inp.anneal_strategy == "cos":
            return end + (start - end) * (1 + _cos_pi(f)) / 2
        return start + (end - start) * f

    def _noam(self, k: int, floats: bool) -> Any:
        i = self.inp
        k = max(k, 1)
        if floats:
            d = 1.0 if self.no_d_model else i.d_model ** -0.5
            return self.floats["lr"] * d * min(k ** -0.5, k * i.warmup ** -1.5)
        d = 1 if self.no_d_model else 1 / sympy.sqrt(i.d_model)
        core = 1 / sympy.sqrt(k) if k >= i.warmup else k / (i.warmup * sympy.sqrt(i.warmup))
        return i.lr * d * core

    # ---------------------------------------------------------------- fast rates

    def fractions(self, n: int) -> list[Fraction] | None:
        """The exact rates of steps 0 … n−1 as Fractions, or None when they would be too big."""
        ops = _Fractions(self)
        out: list[Fraction] = []
        cache: dict[Any, Fraction] = {}
        try:
            for k0 in range(n):
                k = self.at(k0)
                key = self._key(k)
                if key not in cache:
                    cache[key] = self._closed(k, ops)
                out.append(cache[key])
        except _TooBig:
            return None
        return out

    def num(self, k: int) -> float:
        """The rate at step k in float64 (the closed form; PyTorch's recursion agrees to rounding)."""
        try:
            return self._closed(self.at(k), self._floats)
        except (OverflowError, ZeroDivisionError):
            raise InputError("--gamma" if self.kind in ("step", "multistep", "exponential") else "--lr",
                             f"makes the rate at step {self.at(k)} overflow float64") from None

    # ---------------------------------------------------------------- the working

    def steps(self, k_asked: int) -> list[Step]:
        """The working at step K: the schedule's formula with the numbers put in."""
        k = self.at(k_asked)
        return WORKING[self.kind](self, k, self.exact(k_asked))

    def _step_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        return [step(f"learning rate at step {k}", formula("step"),
                     {ETA0: i.lr, GAMMA: i.gamma, K: k, S_SIZE: self.step_size}, value=value,
                     note=f"StepLR multiplies the rate by γ at every step that is a positive multiple of "
                          f"step_size = {self.step_size}")]

    def _multistep_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        passed = sorted(m for m in i.milestones if m <= k)
        shown = ", ".join(str(m) for m in passed[:12]) + (", …" if len(passed) > 12 else "")
        return [
            Step("milestones passed", Math(f"n = #{{m ∈ milestones : m ≤ k}},  k = {k}",
                                           rf"n = \#\{{m \in \text{{milestones}} : m \le k\}},\ k = {k}"),
                 value=sympy.Integer(len(passed)),
                 note=(f"milestones ≤ {k}: {shown}" if passed else f"no milestone is ≤ {k}")
                 + "; a milestone listed twice decays twice (MultiStepLR counts them)"),
            step(f"learning rate at step {k}", formula("multistep"), {ETA0: i.lr, GAMMA: i.gamma, N_K: len(passed)},
                 value=value),
        ]

    def _exponential_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        return [step(f"learning rate at step {k}", formula("exponential"), {ETA0: i.lr, GAMMA: i.gamma, K: k},
                     value=value, note="ExponentialLR multiplies the rate by γ at every scheduler.step()")]

    def _cosine_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        kk = min(k, i.t_max) if self.clamp_cosine else k
        note = ("PyTorch computes it recursively, η_k = η_min + (η_{k−1} − η_min)·(1 + cos(πk/T_max))/"
                "(1 + cos(π(k−1)/T_max)); in exact arithmetic that is this closed form")
        if k > i.t_max and not self.clamp_cosine:
            note += "; past T_max the rate does not stay at η_min: the cosine goes back up (period 2·T_max)"
        if i.eta_min == 0:
            return [step(f"learning rate at step {k}", formula("cosine0"), {ETA0: i.lr, K: kk, T_MAX: i.t_max},
                         value=value, note="η_min = 0; " + note)]
        return [step(f"learning rate at step {k}", formula("cosine"),
                     {ETA0: i.lr, ETA_MIN: i.eta_min, K: kk, T_MAX: i.t_max}, value=value, note=note)]

    def _linear_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        fk = i.start_factor + (i.end_factor - i.start_factor) * sympy.Rational(min(k, i.total_iters), i.total_iters)
        return [
            step(f"factor at step {k}", formula("linear_factor"),
                 {E_F: i.end_factor, S_F: i.start_factor, K: k, T_IT: i.total_iters}, value=fk,
                 note="LinearLR moves the factor linearly from start_factor to end_factor over "
                      "total_iters steps, then keeps it"),
            step(f"learning rate at step {k}", formula("linear"), {ETA0: i.lr, F_K: fk}, value=value),
        ]

    def _polynomial_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        return [step(f"learning rate at step {k}", formula("polynomial"),
                     {ETA0: i.lr, K: k, T_IT: i.total_iters, POW: i.power}, value=value,
                     note="PolynomialLR decays to 0 at total_iters and stays there")]

    def _onecycle_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        init, low = self.levels["initial"], self.levels["min"]
        out = [
            step("initial rate", formula("initial"), {ETA_MAX: i.max_lr, DIV: i.div_factor}, value=init,
                 note="div = div_factor; OneCycleLR replaces the optimizer's lr by max_lr/div_factor"),
            step("final rate", formula("final"), {ETA_INIT: init, FDIV: i.final_div_factor}, value=low,
                 note="div_final = final_div_factor"),
        ]
        names = {"initial": "η_initial", "max": "η_max", "min": "η_min"}
        ph_text = "; ".join(f"phase {j + 1}: steps up to {said(_rat(ph.b), 40)}, {names[ph.start]} → {names[ph.end]}"
                            for j, ph in enumerate(self.phases))
        ends = [_rat(ph.b) for ph in self.phases]
        out.append(Step("phases", Math("end of warm-up = pct_start·N − 1" + (
            ",  end of phase 2 = 2·pct_start·N − 2" if i.three_phase else "") + ",  last = N − 1",
            r"\text{end of warm-up} = \text{pct\_start} \cdot N - 1" + (
                r",\ \text{end of phase 2} = 2 \cdot \text{pct\_start} \cdot N - 2" if i.three_phase else "")
            + r",\ \text{last} = N - 1"),
            value=ends, note=ph_text + f" (N = total_steps = {i.steps})"))
        ph = _phase_of(self.phases, k)
        j = self.phases.index(ph) + 1
        f = _rat((k - ph.a) / (ph.b - ph.a))
        out.append(step(f"fraction of phase {j} done at step {k}", formula("fraction"),
                        {PHASE_B: _rat(ph.b), K: k, PHASE_A: _rat(ph.a)}, value=f,
                        note=f"step {k} is in phase {j} ({names[ph.start]} → {names[ph.end]})"))
        anneal = formula("anneal_cos" if i.anneal_strategy == "cos" else "anneal_linear")
        out.append(step(f"learning rate at step {k}", anneal,
                        {ETA_END: self.levels[ph.end], ETA_START: self.levels[ph.start], FRAC: f}, value=value,
                        note=f"anneal_strategy = {i.anneal_strategy}: from ηₛ = {names[ph.start]} "
                             f"to ηₑ = {names[ph.end]}"))
        return out

    def _noam_steps(self, k: int, value: Any) -> list[Step]:
        i = self.inp
        kk = max(k, 1)
        rule = formula("noam_no_d" if self.no_d_model else "noam")
        vals = {FACTOR: i.lr, K: kk, WARM: i.warmup}
        if not self.no_d_model:
            vals[D_MODEL] = i.d_model
        return [
            step("k", formula("noam_k"), {STEP: k}, value=sympy.Integer(kk),
                 note="k = max(step, 1): the formula is undefined at step 0"),
            step(f"learning rate at step {k}", rule, vals, value=value,
                 note=("warm-up: k < w, the rate grows linearly in k" if kk < i.warmup else
                       "after warm-up: k ≥ w, the rate decays as 1/√k")
                 + f"; the peak is at k = w = {i.warmup}, f·(d·w)^(−1/2)"),
        ]

    def description(self) -> str:
        """The scheduler as PyTorch builds it."""
        return TORCH[self.kind](self.inp)


#: each schedule's working at step k: (schedule, k, the rate) -> steps
WORKING: dict[str, Callable[[Schedule, int, Any], list[Step]]] = {
    "step": Schedule._step_steps, "multistep": Schedule._multistep_steps,
    "exponential": Schedule._exponential_steps, "cosine": Schedule._cosine_steps,
    "linear": Schedule._linear_steps, "polynomial": Schedule._polynomial_steps,
    "onecycle": Schedule._onecycle_steps, "noam": Schedule._noam_steps,
}

#: each schedule as PyTorch builds it
TORCH: dict[str, Callable[[Inputs], str]] = {
    "step": lambda i: f"torch.optim.lr_scheduler.StepLR(step_size={i.step_size}, gamma={said(i.gamma, 40)})",
    "multistep": lambda i: f"torch.optim.lr_scheduler.MultiStepLR(milestones={list(i.milestones)}, "
                           f"gamma={said(i.gamma, 40)})",
    "exponential": lambda i: f"torch.optim.lr_scheduler.ExponentialLR(gamma={said(i.gamma, 40)})",
    "cosine": lambda i: f"torch.optim.lr_scheduler.CosineAnnealingLR(T_max={i.t_max}, eta_min={said(i.eta_min, 40)})",
    "linear": lambda i: (f"torch.optim.lr_scheduler.LinearLR(start_factor={said(i.start_factor, 40)}, "
                         f"end_factor={said(i.end_factor, 40)}, total_iters={i.total_iters})"),
    "polynomial": lambda i: (f"torch.optim.lr_scheduler.PolynomialLR(total_iters={i.total_iters}, "
                             f"power={said(i.power, 40)})"),
    "onecycle": lambda i: (f"torch.optim.lr_scheduler.OneCycleLR(max_lr={said(i.max_lr, 40)}, total_steps={i.steps}, "
                           f"pct_start={said(i.pct_start, 40)}, anneal_strategy='{i.anneal_strategy}', "
                           f"div_factor={said(i.div_factor, 40)}, final_div_factor={said(i.final_div_factor, 40)}, "
                           f"three_phase={i.three_phase})"),
    "noam": lambda i: (f"Transformer (Vaswani et al. 2017, eq. 3): η = f·d^(−1/2)·min(k^(−1/2), k·w^(−3/2)), "
                       f"k = max(step, 1), f = {said(i.lr, 40)}, d = {i.d_model}, w = {i.warmup}; in PyTorch a "
                       "LambdaLR with base lr f"),
}


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, shift: int = 0, every_step: bool = False, clamp_cosine: bool = False,
          peak_at_pct: bool = False, no_d_model: bool = False) -> Solution:
    """The rates of steps 0 … N−1 and the working at step K; the flags are mistakes."""
    sched = Schedule(inp, shift=shift, every_step=every_step, clamp_cosine=clamp_cosine,
                     peak_at_pct=peak_at_pct, no_d_model=no_d_model)
    n, k = inp.steps, inp.at
    if not sched.numeric and n > EXACT_SYMBOLIC_STEPS:
        raise InputError("--steps", f"is {n:,}, but with symbolic inputs ({_symbols(inp)}) at most "
                                    f"{EXACT_SYMBOLIC_STEPS} steps are worked exactly; give numbers for more")
    lr = sched.exact(k)
    lrs, arithmetic = _rates(sched, lr)
    if sched.numeric and not all(math.isfinite(float(v)) for v in (lrs[0], lrs[-1], lr)):
        option = ("--gamma" if inp.schedule in ("step", "multistep", "exponential") else
                  "--max-lr" if inp.schedule == "onecycle" else "--lr")
        raise InputError(option, "makes a rate beyond the range of floating point (above 1.8e308)")
    # the table shows irrational rates as decimals anyway; floats spare printing each exact form
    # once more (lrs and lr keep them)
    decimals = arithmetic == "exact" and not sched.rational
    history = [{"step": j, "lr": _decimal(v) if decimals else v} for j, v in enumerate(lrs)]
    notes = ((f"the exact rate at step {k} has more than {EXACT_MAX_BITS:,} bits; it is given to "
              f"{DIGITS} significant digits",) if isinstance(lr, sympy.Float) else ())
    inputs: dict[str, Any] = {"schedule": inp.schedule}
    for name in USES[inp.schedule]:
        v = getattr(inp, name)
        inputs[name] = list(v) if isinstance(v, tuple) else v
    inputs.update(steps=sympy.Integer(n), at=sympy.Integer(k))
    return Solution(command="lr-schedule", inputs=inputs, conventions=_conventions(sched, arithmetic, lr),
                    steps=tuple(sched.steps(k)), result={"lrs": lrs, "lr": lr, "history": history}, notes=notes)


def _rates(sched: Schedule, lr: Any) -> tuple[list[Any], str]:
    """lrs[0 … N−1], exact (rationals, or SymPy's exact forms for a short run) or float64, and which."""
    n, k = sched.inp.steps, sched.inp.at
    if sched.rational and n <= EXACT_RATIONAL_STEPS:
        fr = sched.fractions(n)
        if fr is not None:
            cache: dict[Fraction, Any] = {}
            for v in fr:
                if v not in cache:
                    cache[v] = sympy.Rational(v.numerator, v.denominator)
            return [cache[v] for v in fr], "exact"
    elif not sched.rational and n <= EXACT_SYMBOLIC_STEPS:
        lrs = [sched.exact(j) for j in range(n)]
        if not any(isinstance(v, sympy.Float) for v in lrs):
            return lrs, "exact"
    lrs = [sched.num(j) for j in range(n)]
    if lrs and not isinstance(lr, sympy.Float):
        lrs[k] = lr  # the asked one exact, so that lr = lrs[K] holds exactly
    return lrs, "float64"


def _decimal(v: Any) -> Any:
    """An irrational exact rate as a float for the table (rationals and symbolic rates as they are)."""
    if v.is_Rational or not v.is_number:
        return v
    f = float(v)
    return f if math.isfinite(f) else v


def _conventions(sched: Schedule, arithmetic: str, lr: Any) -> dict[str, str]:
    inp, n, k = sched.inp, sched.inp.steps, sched.inp.at
    conventions = {
        "schedule": sched.description(),
        "steps": f"lrs[k] is the optimizer's lr after k calls of scheduler.step(), k = 0 … {n - 1} "
                 "(step k of training uses lrs[k]); lr = lrs[K]",
    }
    if inp.schedule == "onecycle":
        conventions["onecycle"] = ("total_steps = --steps; the optimizer's own lr is replaced by "
                                   "max_lr/div_factor; momentum cycling (cycle_momentum) does not change lr")
    if arithmetic == "float64":
        why = (f"more than {EXACT_RATIONAL_STEPS:,} steps" if sched.rational and n > EXACT_RATIONAL_STEPS
               else f"more than {EXACT_SYMBOLIC_STEPS} irrational rates" if not sched.rational
               else "exact rates too large")
        conventions["arithmetic"] = (f"lrs in float64 from the closed form ({why}); lr (step {k}) "
                                     + ("exact" if not isinstance(lr, sympy.Float) else f"to {DIGITS} digits"))
    elif not sched.numeric:
        conventions["arithmetic"] = (f"exact, symbolic in {_symbols(inp)} (taken to be in range: "
                                     "rates ≥ 0, γ > 0, factors in (0, 1])")
    else:
        conventions["arithmetic"] = "exact" if not isinstance(lr, sympy.Float) else \
            f"exact, except lr to {DIGITS} significant digits (its exact form is too large)"
    return conventions


def _symbols(inp: Inputs) -> str:
    names = sorted({str(s) for name in ("lr", "gamma", "eta_min", "start_factor", "end_factor", "max_lr",
                                        "div_factor", "final_div_factor")
                    for s in getattr(getattr(inp, name), "free_symbols", ())})
    return ", ".join(names[:6])


# --------------------------------------------------------------------------- plot


def plot(solution: Solution, fig: Any) -> None:
    """The rate against the step, the asked step marked."""
    try:
        lrs = [float(v) for v in solution.result["lrs"]]
    except TypeError:
        raise InputError("--plot", "needs numbers, but the rates are symbolic") from None
    k = int(solution.inputs["at"])
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(range(len(lrs)), lrs, "o-" if len(lrs) <= 60 else "-", ms=3, color="tab:blue")
    ax.plot([k], [float(solution.result["lr"])], "o", color="tab:red", ms=7,
            label=f"step {k}: lr = {float(solution.result['lr']):.6g}")
    ax.set_xlabel("step k (calls of scheduler.step())")
    ax.set_ylabel("learning rate")
    ax.set_title(f"lr-schedule: {solution.inputs['schedule']}", fontsize=10)
    ax.legend(fontsize=8)


# --------------------------------------------------------------------------- mistakes


def _every_step(kw: Any) -> Any:
    return {"every_step": True} if kw["schedule"] == "step" and kw["step_size"] != 1 else None


def _no_eta_min(kw: Any) -> Any:
    return {"eta_min": sympy.Integer(0)} if kw["schedule"] == "cosine" and kw["eta_min"] != 0 else None


def _clamp(kw: Any) -> Any:
    return {"clamp_cosine": True} if kw["schedule"] == "cosine" and kw["steps"] - 1 > kw["t_max"] else None


def _peak(kw: Any) -> Any:
    return {"peak_at_pct": True} if kw["schedule"] == "onecycle" and not kw["three_phase"] else None


def _anneal(kw: Any) -> Any:
    if kw["schedule"] != "onecycle":
        return None
    return {"anneal_strategy": "linear" if kw["anneal_strategy"] == "cos" else "cos"}


MISTAKES = (
    Mistake("read the rate one scheduler.step() too late (step K + 1 instead of K: off by one)", {"shift": 1}),
    Mistake("read the rate one scheduler.step() too early (step K − 1 instead of K: off by one)",
            lambda kw: {"shift": -1} if kw["at"] >= 1 else None),
    Mistake("decayed by γ at every step instead of every step_size steps", _every_step),
    Mistake("left out η_min (annealed from η₀ down to 0)", _no_eta_min),
    Mistake("held the rate at η_min after T_max steps (PyTorch's cosine goes back up)", _clamp),
    Mistake("put the peak at step pct_start·total_steps instead of PyTorch's pct_start·total_steps − 1", _peak),
    Mistake("annealed with the other anneal_strategy (cos and linear swapped)", _anneal),
    Mistake("forgot the factor d_model^(−1/2)",
            lambda kw: {"no_d_model": True} if kw["schedule"] == "noam" and kw["d_model"] != 1 else None),
)
