"""adam-step: Adam, AdamW and AMSGrad step by step, with the bias-correction derivation.

Semantics are exactly PyTorch's ``torch.optim.Adam`` / ``torch.optim.AdamW``:

* t starts at 1, m₀ = v₀ = 0; g_t is the gradient at θ_{t−1} (negated with ``maximize``).
* L2 weight decay (Adam): g_t ← g_t + λ·θ_{t−1}, so it enters the moments.
  Decoupled (AdamW): θ ← θ·(1 − η·λ) before the update, outside the moments.
* m_t = β₁ m_{t−1} + (1 − β₁) g_t,  v_t = β₂ v_{t−1} + (1 − β₂) g_t²  (elementwise);
  m̂_t = m_t/(1 − β₁ᵗ),  v̂_t = v_t/(1 − β₂ᵗ),  θ_t = θ_{t−1} − η·m̂_t/(√v̂_t + ε).
* AMSGrad: v_maxₜ = max(v_maxₜ₋₁, v_t) on the raw v_t, and v̂_t = v_maxₜ/(1 − β₂ᵗ).

Each line of the working is a formula written once below (``FIRST_MOMENT``, ``UPDATE`` …)
in placeholder symbols, relabelled for step t (m_{t−1} → m₁) and put to numbers by
:func:`dlcalc.board.step`.  One loop runs every step through :func:`_advance`: in exact
SymPy arithmetic while the exact forms stay short, then, past a size limit or
:data:`EXACT_MAX_STEPS` steps, in decimal arithmetic with :data:`DPS` significant digits
(:mod:`dlcalc.exercises._stepping`), and the solution says so.  Gradients from ``--loss``
are differentiated once by SymPy and evaluated through compiled closures, so 1000 steps
cost a fraction of a second.

:func:`solve` is a pure function of its inputs and convention flags; it never prints.
"""

from __future__ import annotations

import decimal
import functools
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import sympy

from dlcalc.board import Named, Sigma, eq, step, written
from dlcalc.core import (Math, Mistake, Solution, Step, as_sympy, progress, said, substitute,
                         xreplace_unevaluated)
from dlcalc.errors import InputError
from dlcalc.exercises import _stepping
from dlcalc.exercises._stepping import (DPS, HUGE, HighFloat, _approx, _as_components, _below,
                                        _compact, _compile, _context, _nodes, _numeric_gradient,
                                        _sub, _to_dec, gradient_source, loss_variables, maximum,
                                        parse_gradients, put_numbers, w_add, w_mul, w_neg, w_one_minus, w_over,
                                        w_pow, w_sqrt)
from dlcalc.parse import parse_expr_text, parse_int, parse_scalar, parse_value, read_source
from dlcalc.registry import FLAG, LIST, Command, Option

COMMAND = Command(
    name="adam-step",
    summary="Adam / AdamW / AMSGrad step by step: moments, bias correction, update.",
    example="dlcalc adam-step --theta 1 --grad 0.5 --grad 0.3 --grad -0.2 --lr 0.1",
    plot=True,
    options=(
        Option("--theta", "Initial θ: a scalar or a vector ([1, -2]); may be a symbol.", default="1"),
        Option("--grad", "The gradient of one step (scalar or vector like θ); repeat once per step.",
               kind=LIST),
        Option("--loss", "A loss to differentiate instead: in theta (scalar θ) or theta1..thetaN "
                         "(vector θ), e.g. \"theta1**2 + 10*theta2**2\"."),
        Option("--steps", "Steps with --loss (1-100,000; default 1)."),
        Option("--lr", "Learning rate η.", default="0.001"),
        Option("--beta1", "β₁ in [0, 1).", default="0.9"),
        Option("--beta2", "β₂ in [0, 1).", default="0.999"),
        Option("--eps", "ε, added outside the square root.", default="1e-8"),
        Option("--weight-decay", "λ: L2 added to the gradient (Adam), or decoupled with --decoupled.",
               default="0"),
        Option("--decoupled", "AdamW: decay θ ← θ(1 − ηλ) outside the moments.", kind=FLAG, default=False),
        Option("--amsgrad", "AMSGrad: use the running maximum of v_t.", kind=FLAG, default=False),
        Option("--maximize", "Gradient ascent: negate the gradient (PyTorch maximize=True).",
               kind=FLAG, default=False),
    ),
)

# --------------------------------------------------------------------------- limits

MAX_STEPS = _stepping.MAX_STEPS            # --steps
MAX_GRADS = _stepping.MAX_GRADS            # number of --grad values
MAX_GRAD_CHARS = _stepping.MAX_GRAD_CHARS  # characters of all --grad values together
MAX_COMPONENTS = _stepping.MAX_COMPONENTS  # entries of θ
MAX_LOSS_COMPONENTS = _stepping.MAX_LOSS_COMPONENTS  # entries of θ with --loss
MAX_WORK = _stepping.MAX_WORK              # steps × components (numeric work and history size)
EXACT_MAX_STEPS = 10         # exact arithmetic for at most this many steps ...
EXACT_MAX_NODES = 120        # ... while every exact value has at most this many nodes
SYMBOLIC_MAX_STEPS = 10      # symbolic inputs cannot fall back to numerics
SYMBOLIC_MAX_NODES = 1_500
EXACT_MAX_WORK = 60          # exact (and symbolic) runs: at most this many steps × components
SHOW_ALL = 6                 # runs of at most this many steps show every step
SHOW_HEAD, SHOW_TAIL = 3, 2  # longer runs: the first and last few
SHOW_COMPONENTS = 4          # vectors up to this size show the numbers put in, per component
#: a β closer to 1 than this (1 − β < 10^-MAX_LOST_DIGITS) is refused for a numeric run
MAX_LOST_DIGITS = 400
#: an irrational β this close to 1 is run numerically from the first step: SymPy's evalf of
#: its exact forms (1 − √(1 − 1e-300))/4 cannot resolve the cancellation and shows noise
IRRATIONAL_NEAR_ONE = sympy.Rational(1, 10**20)

DEFAULTS = {"lr": sympy.Rational(1, 1000), "beta1": sympy.Rational(9, 10),
            "beta2": sympy.Rational(999, 1000), "eps": sympy.Rational(1, 10**8),
            "weight_decay": sympy.Integer(0)}

# --------------------------------------------------------------------------- the formulas

#: the hyperparameters, shown as themselves
B1, B2 = sympy.Symbol("beta_1", nonnegative=True), sympy.Symbol("beta_2", nonnegative=True)
LR, EPS, LAM = sympy.symbols("eta epsilon lambda")
#: the step, and placeholders for the values of step t (relabelled by :func:`_labels`)
T = sympy.Symbol("t", integer=True, positive=True)
(G, GRAD, THETA, THETA_PREV, THETA_DEC, M, M_PREV, V, V_PREV, VMAX, VMAX_PREV, MHAT, VHAT) = sympy.symbols(
    "g@t grad@t theta@t theta@t-1 thetatilde@t-1 m@t m@t-1 v@t v@t-1 vmax@t vmax@t-1 mhat@t vhat@t")


def _gradient(maximize: bool, l2: bool) -> sympy.Equality:
    g = w_neg(GRAD) if maximize else GRAD
    return eq(G, w_add(g, w_mul(LAM, THETA_PREV)) if l2 else g)


def _update(decoupled: bool, inside: bool) -> sympy.Equality:
    den = w_sqrt(w_add(VHAT, EPS)) if inside else w_add(w_sqrt(VHAT), EPS)
    return eq(THETA, w_add(THETA_DEC if decoupled else THETA_PREV, w_neg(w_over(w_mul(LR, MHAT), den))))


#: g_t = ∇L(θ_{t−1}), negated with --maximize, + λ·θ_{t−1} with L2 decay: by (maximize, l2)
GRADIENT = MappingProxyType({(mx, l2): _gradient(mx, l2) for mx in (False, True) for l2 in (False, True)})
FIRST_MOMENT = eq(M, w_add(w_mul(B1, M_PREV), w_mul(w_one_minus(B1), G)))
#: by square_grad (False: the mistake of g_t for g_t²)
SECOND_MOMENT = MappingProxyType({sq: eq(V, w_add(w_mul(B2, V_PREV), w_mul(w_one_minus(B2), w_pow(G, 2) if sq else G)))
                                  for sq in (True, False)})
RUNNING_MAX = eq(VMAX, maximum(VMAX_PREV, V))
CORRECTED_M = eq(MHAT, w_over(M, w_one_minus(w_pow(B1, T))))
UNCORRECTED_M = eq(MHAT, M)
#: by amsgrad (v̂ from the running maximum)
CORRECTED_V = MappingProxyType({ams: eq(VHAT, w_over(VMAX if ams else V, w_one_minus(w_pow(B2, T))))
                                for ams in (False, True)})
UNCORRECTED_V = MappingProxyType({False: eq(VHAT, V), True: eq(VHAT, VMAX)})
DECAY = eq(THETA_DEC, w_mul(THETA_PREV, w_one_minus(w_mul(LR, LAM))))
#: θ_t = θ_{t−1} − η·m̂_t/(√v̂_t + ε): by (decoupled, ε inside the root)
UPDATE = MappingProxyType({(dec, ins): _update(dec, ins) for dec in (False, True) for ins in (False, True)})


@functools.lru_cache(maxsize=256)
def _labels(t: int, carried: bool) -> Mapping[Any, Any]:
    """The placeholders as the board writes them at step t (m_{t−1} → m₁ at t = 2; m̂₁ when
    the corrected moments are carried), and t itself."""
    k = t - 1
    prev = "hat" if carried else ""
    return MappingProxyType({
        T: sympy.Integer(t), G: sympy.Symbol(f"g_{t}"),
        GRAD: Named(f"nablaL_{k}", f"∇L(θ{_sub(k)})", rf"\nabla L(\theta_{{{k}}})"),
        THETA: sympy.Symbol(f"theta_{t}"), THETA_PREV: sympy.Symbol(f"theta_{k}"),
        THETA_DEC: sympy.Symbol(f"thetatilde_{k}"),
        M: sympy.Symbol(f"m_{t}"), M_PREV: sympy.Symbol(f"m{prev}_{k}"),
        V: sympy.Symbol(f"v_{t}"), V_PREV: sympy.Symbol(f"v{prev}_{k}"),
        VMAX: Named(f"vmax_{t}", f"vmax{_sub(t)}", rf"v^{{\max}}_{{{t}}}"),
        VMAX_PREV: Named(f"vmax_{k}", f"vmax{_sub(k)}", rf"v^{{\max}}_{{{k}}}"),
        MHAT: sympy.Symbol(f"mhat_{t}"), VHAT: sympy.Symbol(f"vhat_{t}"),
    })


@functools.lru_cache(maxsize=1024)
def _formula(template: sympy.Equality, t: int, carried: bool) -> sympy.Equality:
    """``template`` as the board writes it at step t (its sums and products keep the written
    order by themselves).  The step holds it as SymPy: the renderers print it, only in the
    output asked for, to ``--digits``."""
    return xreplace_unevaluated(template, _labels(t, carried))


@functools.lru_cache(maxsize=64)
def _placeholders(template: sympy.Equality) -> frozenset:
    """The symbols of a template's right side that take a number (all but t)."""
    return frozenset(template.rhs.free_symbols - {T})


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of adam-step.

    Attributes:
        theta: θ₀, a scalar or a list (vector); may be symbolic.
        grads: the gradient of each step (scalars or lists like θ), or None with ``loss``.
        loss: a SymPy expression in theta / theta1…thetaN to differentiate, or None.
        steps: the number of steps with ``loss`` (None: 1).
        lr, beta1, beta2, eps, weight_decay: η, β₁, β₂, ε, λ.
        decoupled: AdamW's decoupled weight decay; amsgrad: AMSGrad; maximize: ascent.
    """

    theta: Any
    grads: Any = None
    loss: Any = None
    steps: int | None = None
    lr: Any = DEFAULTS["lr"]
    beta1: Any = DEFAULTS["beta1"]
    beta2: Any = DEFAULTS["beta2"]
    eps: Any = DEFAULTS["eps"]
    weight_decay: Any = DEFAULTS["weight_decay"]
    decoupled: bool = False
    amsgrad: bool = False
    maximize: bool = False


def parse(*, theta: str, grad: Sequence[str] | None, loss: str | None, steps: str | None,
          lr: str, beta1: str, beta2: str, eps: str, weight_decay: str, decoupled: bool = False,
          amsgrad: bool = False, maximize: bool = False) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    grads = parse_gradients(grad, loss)
    hyper = {key: parse_scalar(text, "--" + key.replace("_", "-")) for key, text in (
        ("lr", lr), ("beta1", beta1), ("beta2", beta2), ("eps", eps), ("weight_decay", weight_decay))}
    return Inputs(theta=parse_value(theta, "--theta", kinds=("scalar", "vector")), grads=grads or None,
                  loss=parse_expr_text(read_source(loss, "--loss"), "--loss") if loss is not None else None,
                  steps=parse_int(steps, "--steps", lo=1, hi=MAX_STEPS) if steps is not None else None,
                  decoupled=decoupled, amsgrad=amsgrad, maximize=maximize, **hyper)


# --------------------------------------------------------------------------- the problem, checked
#
# The run's records are NamedTuples: as immutable as frozen dataclasses, and a tenth of the
# cost to define (about 1 ms each for a dataclass, paid at every start of the command).


class _Hyper(NamedTuple):
    """η, β₁, β₂, ε, λ as SymPy values (checked), or as Decimals on the numeric path."""

    lr: Any
    beta1: Any
    beta2: Any
    eps: Any
    weight_decay: Any


class _Rules(NamedTuple):
    """How a step is computed: PyTorch's Adam by default, or a variant that --check tries."""

    maximize: bool = False
    l2: bool = False            # λθ added to the gradient (torch.optim.Adam's weight_decay)
    decoupled: bool = False     # θ·(1 − ηλ) before the update (AdamW)
    amsgrad: bool = False
    square_grad: bool = True
    eps_inside: bool = False
    correct_m: bool = True
    correct_v: bool = True
    carry_corrected: bool = False


class _Problem(NamedTuple):
    """The inputs checked: what a run works on."""

    theta0: tuple
    vector: bool
    T: int
    hyper: _Hyper
    rules: _Rules
    given: tuple | None         # each step's gradient, as components (with --grad)
    grad_exprs: tuple | None    # ∂L/∂θᵢ by SymPy (with --loss)
    variables: tuple
    symbolic: bool
    near_one: str | None = None  # an irrational β within IRRATIONAL_NEAR_ONE of 1 (its option)

    @property
    def n(self) -> int:
        return len(self.theta0)


def _check_param(value: Any, option: str, *, lo: Any = 0, hi_open: Any = None) -> Any:
    if isinstance(value, (int, float)):
        value = as_sympy(value)
    if not isinstance(value, sympy.Expr):
        raise InputError(option, "must be a single number or symbol")
    if value.is_number:
        if value.is_real is False or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise InputError(option, f"must be a finite real number, got {value}")
        if _below(value, lo) or (hi_open is not None and not _below(value, hi_open)):
            rng = f"in [{lo}, {hi_open})" if hi_open is not None else f"at least {lo}"
            raise InputError(option, f"must be {rng}, got {said(value)}")
    return value


def _resolve(inp: Inputs, **variant: bool) -> _Problem:
    """Inputs checked and shaped for the run; ``variant`` holds the mistake flags of
    :class:`_Rules` (square_grad, eps_inside, correct_m, correct_v, carry_corrected)."""
    vector = isinstance(inp.theta, (list, tuple))
    if vector and len(inp.theta) > MAX_COMPONENTS:
        raise InputError("--theta", f"has more than {MAX_COMPONENTS:,} components")
    th0 = tuple(_as_components(inp.theta, None, "--theta", "θ"))
    h = _Hyper(lr=_check_param(inp.lr, "--lr"), beta1=_check_param(inp.beta1, "--beta1", hi_open=1),
               beta2=_check_param(inp.beta2, "--beta2", hi_open=1), eps=_check_param(inp.eps, "--eps"),
               weight_decay=_check_param(inp.weight_decay, "--weight-decay"))
    variables = tuple(loss_variables(len(th0), vector))
    given, grad_exprs, T = _gradients(inp, len(th0), vector)
    symbolic = any(not x.is_number for x in [*th0, h.lr, h.beta1, h.beta2, h.eps, h.weight_decay]) or any(
        not x.is_number for g in given or () for x in g)
    if symbolic and T > SYMBOLIC_MAX_STEPS:
        raise InputError("--steps" if inp.grads is None else "--grad",
                         f"asks for {T} steps with symbolic inputs; symbolic runs are worked exactly and "
                         f"limited to {SYMBOLIC_MAX_STEPS} steps (give numbers for longer runs)")
    near_one = next((opt for opt, b in (("--beta1", h.beta1), ("--beta2", h.beta2))
                     if b.is_number and not b.is_Rational and _below(1 - b, IRRATIONAL_NEAR_ONE)), None)
    if near_one and symbolic:
        raise InputError(near_one, "is irrational and within 1e-20 of 1; with symbolic inputs the exact "
                                   "forms cannot be evaluated reliably: give β as a fraction or decimal")
    decay = h.weight_decay != 0
    rules = _Rules(maximize=bool(inp.maximize), l2=decay and not inp.decoupled, decoupled=decay and bool(inp.decoupled),
                   amsgrad=bool(inp.amsgrad), **variant)
    return _Problem(th0, vector, T, h, rules, given, grad_exprs, variables, symbolic, near_one)


def _gradients(inp: Inputs, n: int, vector: bool) -> tuple[tuple | None, tuple | None, int]:
    """(the given gradients, or the loss's gradient by SymPy, and the number of steps),
    checked as optim-step checks them (:func:`~dlcalc.exercises._stepping.gradient_source`)."""
    given, grad_exprs, T = gradient_source(inp.grads, inp.loss, inp.steps, n, vector)
    _bound(T, n, "--steps" if inp.grads is None else "--grad")
    if grad_exprs is not None:
        return None, tuple(grad_exprs), T
    return tuple(tuple(g) for g in given), None, T


def _bound(T: int, n: int, option: str) -> None:
    if T * n > MAX_WORK:
        raise InputError(option, f"asks for {T:,} steps of a θ with {n:,} components; at most {MAX_WORK:,} "
                                 "steps × components")


# --------------------------------------------------------------------------- one step


class _Arithmetic(NamedTuple):
    """What a step computes in: exact SymPy values, or Decimals (the numeric path)."""

    numeric: bool
    one: Any
    sqrt: Callable[[Any], Any]
    max: Callable[[Any, Any], Any]
    k: Mapping[str, Any]     # the constants of the update (:func:`_constants`)


def _constants(h: _Hyper, one: Any) -> Mapping[str, Any]:
    """The per-run constants of the update, in the arithmetic of ``one`` (SymPy or Decimal)."""
    return MappingProxyType({"b1": h.beta1, "b2": h.beta2, "omb1": one - h.beta1, "omb2": one - h.beta2,
                             "lr": h.lr, "eps": h.eps, "wd": h.weight_decay, "decay": one - h.lr * h.weight_decay})


def _exact(h: _Hyper) -> _Arithmetic:
    return _Arithmetic(False, sympy.Integer(1), sympy.sqrt, sympy.Max, _constants(h, sympy.Integer(1)))


def _numeric(h: _Hyper) -> _Arithmetic:
    """The decimal arithmetic (call inside :func:`_context`)."""
    d = _Hyper(*(_to_dec(x) for x in (h.lr, h.beta1, h.beta2, h.eps, h.weight_decay)))
    return _Arithmetic(True, decimal.Decimal(1), decimal.Decimal.sqrt, lambda a, b: a if a >= b else b,
                       _constants(d, decimal.Decimal(1)))


def _advance(state: Mapping[str, list], raw: list[Any], bc1: Any, bc2: Any, a: _Arithmetic,
             r: _Rules) -> dict[str, list]:
    """State after one step: the same arithmetic for SymPy values and Decimals.

    ``state`` has theta, m, v, vmax (lists, one entry per component); ``raw`` is the
    gradient as given or computed (before maximize / L2); ``bc1``, ``bc2`` are this
    step's bias corrections 1 − βᵗ (1 when not corrected).  The order of the operations
    is PyTorch's single-tensor Adam.
    """
    k, sqrt = a.k, a.sqrt
    b1, b2, omb1, omb2, lr, eps, wd, decay = (k["b1"], k["b2"], k["omb1"], k["omb2"], k["lr"], k["eps"],
                                               k["wd"], k["decay"])
    gs, tds, ms, vs, vmaxs, mhs, vhs, ths = [], [], [], [], [], [], [], []
    for th, m, v, vmax, g in zip(state["theta"], state["m"], state["v"], state["vmax"], raw):
        if r.maximize:
            g = -g
        if r.l2:
            g = g + wd * th
        th_d = th * decay if r.decoupled else th
        m = b1 * m + omb1 * g
        v = b2 * v + omb2 * (g * g if r.square_grad else g)
        vmax = a.max(vmax, v) if r.amsgrad else v
        m_hat = m / bc1
        v_hat = vmax / bc2
        denom = sqrt(v_hat + eps) if r.eps_inside else sqrt(v_hat) + eps
        gs.append(g)
        tds.append(th_d)
        ms.append(m)
        vs.append(v)
        vmaxs.append(vmax)
        mhs.append(m_hat)
        vhs.append(v_hat)
        ths.append(None if denom == 0 else th_d - lr * m_hat / denom)
    return {"g": gs, "theta_d": tds, "m": ms, "v": vs, "vmax": vmaxs, "m_hat": mhs, "v_hat": vhs, "theta": ths}


def _carried(cur: Mapping[str, list], r: _Rules) -> dict[str, list]:
    """The state the next step starts from: θ, m, v, vmax (m̂ and v̂ with the mistake
    ``carry_corrected``)."""
    if r.carry_corrected:
        return {"theta": cur["theta"], "m": cur["m_hat"], "v": cur["v_hat"], "vmax": cur["v_hat"]}
    return {"theta": cur["theta"], "m": cur["m"], "v": cur["v"], "vmax": cur["vmax"]}


def _check_update(cur: Mapping[str, list], t: int, numeric: bool) -> None:
    for th in cur["theta"]:
        if th is None:
            raise InputError("--eps", f"is 0 and v̂{_sub(t)} = 0 (a zero gradient at step {t}), so the update "
                                      "divides 0 by 0; give --eps > 0")
        if not numeric:
            if th.is_number and th.has(sympy.zoo, sympy.nan, sympy.I, sympy.oo, -sympy.oo):
                raise InputError(None, f"the update at step {t} is not a finite real number")
        elif not th.is_finite() or abs(th) > HUGE:
            raise InputError(None, f"θ leaves the range of real numbers at step {t}")


_HISTORY_KEYS = ("g", "m", "v", "m_hat", "v_hat", "theta")


def _floats(values: Mapping[str, list]) -> dict[str, list]:
    return {k: [_float_of(x) for x in vals] for k, vals in values.items()}


@functools.lru_cache(maxsize=4096)
def _float_of(d: decimal.Decimal) -> sympy.Float:
    """A Decimal of the numeric path as the Float that the working shows (all its digits;
    the printers show --digits of them), one per value: a value recurs in a step's lines
    and in the next step's."""
    return _Decimal(str(d), DPS)


class _Decimal(sympy.Float):
    """A Float that tells its sign from its digits.  The printers ask the sign of every
    number they put in brackets, and SymPy answers a new Float's first question by
    deducing all its assumptions (~0.1 ms, most of a numeric line's printing time)."""

    @property
    def is_negative(self) -> bool:  # type: ignore[override]
        sign, mantissa = self._mpf_[0], self._mpf_[1]
        return bool(sign and mantissa)


# --------------------------------------------------------------------------- the run


class _Run:
    """Every step in one loop: exact while the forms stay short, then in decimals from the
    step where they would not (:attr:`switched_at`), through the same :func:`_advance`."""

    def __init__(self, pr: _Problem) -> None:
        self.pr, self.board = pr, _Board(pr)
        zero = sympy.Integer(0)
        self.state: dict[str, list] = {"theta": list(pr.theta0), "m": [zero] * pr.n, "v": [zero] * pr.n,
                                       "vmax": [zero] * pr.n}
        self.arith = _exact(pr.hyper)
        self.powers = (sympy.Integer(1), sympy.Integer(1))   # β₁^(t−1), β₂^(t−1)
        self.history: list[dict[str, Any]] = []
        self.work: list[Step] = []
        self.switched_at: int | None = None
        self.why = ""
        self.numeric_gradients: Callable[[int], list[Any]] | None = None
        self.last: dict[str, list] = {}

    def go(self) -> None:
        T = self.pr.T
        with decimal.localcontext(_context()):
            try:
                for t in progress(range(1, T + 1), T, "Adam steps"):
                    self.step(t)
            except decimal.DecimalException as exc:
                raise InputError(None, f"the numeric run failed ({type(exc).__name__}): a value is not a "
                                       "finite real number") from None

    def step(self, t: int) -> None:
        """Step t: its gradient, :func:`_advance`, the history entry, the working if shown."""
        r = self.pr.rules
        raw = None if self.arith.numeric else self._exact_raw(t)
        if raw is None:
            raw = self.numeric_gradients(t)
        a = self.arith
        p1, p2 = self.powers[0] * a.k["b1"], self.powers[1] * a.k["b2"]
        self.powers = (p1, p2)
        cur = _advance(self.state, raw, a.one - p1 if r.correct_m else a.one, a.one - p2 if r.correct_v else a.one,
                       a, r)
        _check_update(cur, t, a.numeric)
        self.history.append(self._record(t, cur))
        if self.board.shows(t):
            if a.numeric:
                self.work.extend(self.board.steps(t, _floats(self.state), _floats({"g": raw})["g"], _floats(cur),
                                                  True))
            else:
                self.work.extend(self.board.steps(t, self.state, raw, cur, False))
        self.state, self.last = _carried(cur, r), cur

    def _record(self, t: int, cur: Mapping[str, list]) -> dict[str, Any]:
        """Step t's history entry: exact values, or floats that keep their 40 digits."""
        if self.arith.numeric:
            values = {k: [HighFloat(x) for x in cur[k]] for k in _HISTORY_KEYS}
        else:
            values = {k: list(cur[k]) for k in _HISTORY_KEYS}
        return {"t": t, **(values if self.pr.vector else {k: v[0] for k, v in values.items()})}

    def _exact_raw(self, t: int) -> list[Any] | None:
        """Step t's exact gradient, or None after switching to decimals (and why)."""
        pr = self.pr
        why = _needs_numeric(t, pr.n, self.state, pr.symbolic) or (
            f"{pr.near_one} is irrational and within 1e-20 of 1, where exact forms cannot be evaluated "
            "reliably" if pr.near_one else None)
        if why:
            if pr.symbolic:
                raise InputError(None, f"symbolic inputs are worked exactly, and at step {t} {why}; "
                                       "give numbers, or fewer steps or components")
            return self._switch(t, why)
        raw = list(pr.given[t - 1]) if pr.given is not None else _exact_gradient(pr, self.state, t)
        if not pr.symbolic and not _rational_moments(raw, self.state["theta"], pr):
            return self._switch(t, "the gradient entering the moments is irrational, so exact forms would nest "
                                   "square roots")
        return raw

    def _switch(self, t: int, why: str) -> None:
        """From step t on, decimals: the state, the powers of β and the gradients converted."""
        pr = self.pr
        self.switched_at, self.why = t, why
        decimal.getcontext().prec = DPS + _lost_digits(pr.hyper)  # inside go()'s local context
        self.arith = a = _numeric(pr.hyper)
        self.state = {k: [_to_dec(x) for x in vals] for k, vals in self.state.items()}
        self.powers = (a.k["b1"] ** (t - 1), a.k["b2"] ** (t - 1))
        if pr.given is not None:
            given = [[_to_dec(x) for x in g] for g in pr.given[t - 1:]]
            self.numeric_gradients = lambda s: given[s - t]
        else:
            closures = [_compile(e, list(pr.variables)) for e in pr.grad_exprs]
            self.numeric_gradients = lambda s: _numeric_gradient(closures, self.state["theta"], s)
        return None

    def result(self) -> dict[str, Any]:
        last = _floats(self.last) if self.arith.numeric else self.last
        out = {k: last[k] if self.pr.vector else last[k][0] for k in ("theta", "m", "v", "m_hat", "v_hat")}
        out["history"] = self.history
        return out


def _lost_digits(h: _Hyper) -> int:
    """The digits that 1 − β and 1 − βᵗ lose to cancellation: the numeric run carries them on
    top of DPS, so that β₂ = 1 − 1e-30 keeps its 30 correct digits."""
    lost = 0
    for b, option in ((h.beta1, "--beta1"), (h.beta2, "--beta2")):
        d = sympy.N(1 - b, 5, maxn=4000)
        if d.is_comparable and 0 < d < 1:
            k = int(math.ceil(-math.log10(float(d)))) if float(d) > 0 else MAX_LOST_DIGITS + 1
            if k > MAX_LOST_DIGITS:
                raise InputError(option, f"is within 1e-{MAX_LOST_DIGITS} of 1, too close for the numeric run "
                                         "to resolve 1 − β; give β farther from 1")
            lost = max(lost, k)
    return lost


def _rational_moments(raw: list[Any], theta: list[Any], pr: _Problem) -> bool:
    """Whether the gradient entering the moments is rational (then m and v stay rational)."""
    for r, th in zip(raw, theta):
        if not r.is_Rational:
            return False
        if pr.rules.l2 and not (pr.hyper.weight_decay * th).is_Rational:
            return False
    return True


def _needs_numeric(t: int, n: int, state: Mapping[str, list], symbolic: bool) -> str | None:
    """Why step ``t`` cannot be exact (too many steps or components, values too long), or None."""
    if t > (SYMBOLIC_MAX_STEPS if symbolic else EXACT_MAX_STEPS):
        return f"exact work is limited to {EXACT_MAX_STEPS} steps"
    if t * n > EXACT_MAX_WORK:
        return f"exact work is limited to {EXACT_MAX_WORK} steps × components"
    cap = SYMBOLIC_MAX_NODES if symbolic else EXACT_MAX_NODES
    if any(_nodes(x, cap) > cap for vals in state.values() for x in vals):
        return "the exact forms grew too long"
    return None


def _exact_gradient(pr: _Problem, state: Mapping[str, list], t: int) -> list[Any]:
    at = dict(zip(pr.variables, state["theta"]))
    out = [e.xreplace(at) for e in pr.grad_exprs]
    for g in out:
        if g.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
            raise InputError("--loss", f"has no finite real gradient at θ{_sub(t - 1)} = "
                                       f"{_approx(state['theta'])} (step {t})")
    return out


# --------------------------------------------------------------------------- the working


class _At(NamedTuple):
    """One shown step: t, its section, and per component the values of the placeholders."""

    t: int
    section: str
    envs: tuple
    cur: Mapping[str, list]


class _Board:
    """The working of a shown step t: each line one of the formulas above, relabelled for
    t, with the numbers put in (one row per component, up to :data:`SHOW_COMPONENTS`)."""

    def __init__(self, pr: _Problem) -> None:
        self.pr, self.rules = pr, pr.rules
        self.show_numbers = pr.n <= SHOW_COMPONENTS
        h = pr.hyper
        self.constants = {B1: h.beta1, B2: h.beta2, LR: h.lr, EPS: h.eps, LAM: h.weight_decay}
        T_ = pr.T
        self.shown = set(range(1, T_ + 1)) if T_ <= SHOW_ALL else \
            set(range(1, SHOW_HEAD + 1)) | set(range(T_ - SHOW_TAIL + 1, T_ + 1))

    def shows(self, t: int) -> bool:
        return t in self.shown

    def steps(self, t: int, prev: Mapping[str, list], raw: list[Any], cur: Mapping[str, list],
              numeric: bool) -> list[Step]:
        r, s = self.rules, _sub(t)
        envs = tuple(self._env(prev, raw, cur, i) for i in range(self.pr.n)) if self.show_numbers else ()
        at = _At(t, f"t = {t}" + (f" (numeric, {DPS} digits)" if numeric else ""), envs, cur)
        vec = " (elementwise)" if self.pr.vector else ""
        out = self._elision(t) + [
            self._gradient(at),
            self._line(at, f"first moment m{s}{vec}", FIRST_MOMENT, "m"),
            self._line(at, f"second moment v{s}{vec}", SECOND_MOMENT[r.square_grad], "v")]
        if r.amsgrad:
            out.append(self._line(at, f"AMSGrad: running maximum of v{s}", RUNNING_MAX, "vmax"))
        out.append(self._line(at, f"bias-corrected first moment m̂{s}", CORRECTED_M, "m_hat") if r.correct_m else
                   self._line(at, f"m̂{s} left without bias correction", UNCORRECTED_M, "m_hat"))
        out.append(self._line(at, f"bias-corrected second moment v̂{s}", CORRECTED_V[r.amsgrad], "v_hat")
                   if r.correct_v else
                   self._line(at, f"v̂{s} left without bias correction", UNCORRECTED_V[r.amsgrad], "v_hat"))
        if r.decoupled:
            out.append(self._line(at, "decoupled weight decay (AdamW)", DECAY, "theta_d",
                                  note="the decay acts on θ directly and never enters m or v"))
        out.append(self._line(at, f"update θ{s}", UPDATE[(r.decoupled, r.eps_inside)], "theta"))
        return out

    def _env(self, prev: Mapping[str, list], raw: list[Any], cur: Mapping[str, list], i: int) -> dict:
        env = dict(self.constants)
        env.update({THETA_PREV: prev["theta"][i], M_PREV: prev["m"][i], V_PREV: prev["v"][i],
                    VMAX_PREV: prev["vmax"][i], GRAD: raw[i], G: cur["g"][i], M: cur["m"][i], V: cur["v"][i],
                    VMAX: cur["vmax"][i], MHAT: cur["m_hat"][i], VHAT: cur["v_hat"][i],
                    THETA_DEC: cur["theta_d"][i]})
        return env

    def _v(self, comps: list[Any]) -> Any:
        return list(comps) if self.pr.vector else comps[0]

    def _line(self, at: _At, title: str, template: sympy.Equality, key: str, note: str = "") -> Step:
        """``template`` at step t: the formula, the numbers put in, the value ``cur[key]``."""
        carried = self.rules.carry_corrected and at.t > 1
        formula = _formula(template, at.t, carried)
        rows = None
        if at.envs and not template.rhs.is_Symbol:  # m̂₁ = m₁ needs no line of numbers
            labels = _labels(at.t, carried)
            syms = _placeholders(template)
            rows = [put_numbers(formula.rhs, {labels.get(s, s): _compact(env[s]) for s in syms}) for env in at.envs]
        return Step(title, _formula(template, at.t, carried), self._v(rows) if rows else None,
                    self._v(at.cur[key]), note=note, section=at.section)

    def _gradient(self, at: _At) -> Step:
        r, t, pr = self.rules, at.t, self.pr
        notes = (["--maximize: the gradient is negated, so the step goes uphill"] if r.maximize else []) + (
            ["L2 weight decay (Adam): λ·θ is added to the gradient"] if r.l2 else [])
        template = GRADIENT[(r.maximize, r.l2)]
        if pr.grad_exprs is None:
            given = "" if (r.maximize or r.l2) else " (given)"
            return self._line(at, f"gradient g{_sub(t)}{given}", template, "g", note="; ".join(notes))
        at_theta = {**{v: _compact(e[THETA_PREV]) for v, e in zip(pr.variables, at.envs)},
                    LAM: _compact(pr.hyper.weight_decay)}
        # one shown number per component of θ, made in θ's order: 2·1 + (-1), as the loss is written
        shown = [substitute(self._loss_gradient(i), at_theta) for i in range(pr.n)] if at.envs else None
        return Step(f"gradient g{_sub(t)} of the loss at θ{_sub(t - 1)}", _formula(template, t, False),
                    self._v(shown) if shown else None, self._v(at.cur["g"]), note="; ".join(notes), section=at.section)

    def _loss_gradient(self, i: int) -> Any:
        """∂L/∂θᵢ as it enters the moments (negated with --maximize, + λθᵢ with L2)."""
        g = self.pr.grad_exprs[i]
        g = w_neg(g) if self.rules.maximize else g
        return w_add(g, w_mul(LAM, self.pr.variables[i])) if self.rules.l2 else g

    def _elision(self, t: int) -> list[Step]:
        T_ = self.pr.T
        if not (T_ > SHOW_ALL and t == T_ - SHOW_TAIL + 1):
            return []
        return [Step(f"steps {SHOW_HEAD + 1} to {T_ - SHOW_TAIL}",
                     Math(f"… {T_ - SHOW_HEAD - SHOW_TAIL} steps of the same form; every value is in the history "
                          "(JSON: result.history)", r"\ldots"), section="…")]


# --------------------------------------------------------------------------- why bias correction

_BIAS_SECTION = "why bias correction (once)"


def _bias_derivation(h: _Hyper) -> list[Step]:
    """Why bias correction: E[m_t] = E[g]·(1 − β₁ᵗ), the geometric sum evaluated by SymPy,
    and the factor at t = 1 for the given β₁ and β₂."""
    return [*_geometric_sum()[0], _factor_step("m", h.beta1), _factor_step("v", h.beta2)]


@functools.lru_cache(maxsize=64)
def _factor_step(what: str, value: Any) -> Step:
    """1 − βᵗ at t = 1 for the moment ``what`` (remembered: ``dlcalc batch`` and --check
    solve many exercises with the same β in one process)."""
    beta, g, i = (B1, "g", "₁") if what == "m" else (B2, "g²", "₂")
    factor = _geometric_sum()[1].xreplace({B1: beta})
    return step(f"so E({what}_t) = E({g})·(1 − β{i}ᵗ): {what}_t is biased towards {what}₀ = 0; the factor at "
                "t = 1", factor, {beta: value, T: 1} if value.is_number else None,
                value=factor.xreplace({beta: value, T: 1}),
                note=(f"dividing by this factor ({'m̂' if what == 'm' else 'v̂'}_t) removes the bias"
                      + ("; without it the first steps would have the wrong size" if what == "v" else "")),
                section=_BIAS_SECTION)


@functools.lru_cache(maxsize=1)
def _geometric_sum() -> tuple[tuple[Step, ...], Any]:
    """The part of the derivation that no input changes, worked once per process
    (``dlcalc batch`` runs many exercises in one): the unrolled sum and its closed form.

    Multiplied into the sum, 1 − β₁ makes it telescope, Σ_{j=0}^{t−1} (β₁^j − β₁^(j+1)):
    only the first term's β₁⁰ and the last term's −β₁ᵗ remain (SymPy's summation of the
    geometric sum gives the same, tests/test_adam_step.py, but costs a tenth of the run)."""
    j = sympy.Symbol("j", integer=True, nonnegative=True)
    closed = (B1 ** j).subs(j, 0) - (B1 ** (j + 1)).subs(j, T - 1)
    i, m_t, g_i = sympy.Symbol("i"), sympy.Symbol("m_t"), sympy.Symbol("g_i")
    weight = w_pow(B1, w_add(T, w_neg(i)))
    steps = (
        Step("unroll m_t = β₁·m_{t−1} + (1 − β₁)·g_t from m₀ = 0",
             written(eq(m_t, w_mul(w_one_minus(B1), Sigma(w_mul(weight, g_i), "i=1", "t")))),
             note="if every g_i has the same mean E(g), then E(m_t) = E(g)·(1 − β₁)·Σ β₁^(t−i)",
             section=_BIAS_SECTION),
        Step("the geometric sum (reindex j = t − i and multiply in 1 − β₁: the sum telescopes)",
             written(w_mul(w_one_minus(B1), Sigma(weight, "i=1", "t"))),
             Sigma(w_add(w_pow(B1, j), w_neg(w_pow(B1, w_add(j, 1)))), "j=0", "t - 1", limits=(j, 0, T - 1)),
             closed, note="every power of β₁ but β₁⁰ and β₁ᵗ cancels in pairs, for any β₁",
             section=_BIAS_SECTION),
    )
    return steps, closed


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, bias_correction: bool = True, eps_inside_sqrt: bool = False,
          square_grad: bool = True, correct_only: str | None = None,
          carry_corrected: bool = False) -> Solution:
    """Run Adam (``decoupled``: AdamW; ``amsgrad``) from θ₀ and show every step.

    The flags are variants that --check tries (PyTorch's are the defaults):
    ``bias_correction``, ``eps_inside_sqrt``, ``square_grad``; and mistakes only:
    ``correct_only`` "m" or "v" bias-corrects one moment, ``carry_corrected`` carries m̂, v̂
    forward as the state (m ← m̂, v ← v̂)."""
    pr = _resolve(inp, square_grad=square_grad, eps_inside=eps_inside_sqrt, carry_corrected=carry_corrected,
                  correct_m=bias_correction and correct_only != "v",
                  correct_v=bias_correction and correct_only != "m")
    run = _Run(pr)
    run.work.extend(_bias_derivation(pr.hyper))
    if pr.grad_exprs is not None:
        run.work.append(_loss_step(inp.loss, pr))
    run.go()
    notes: list[str] = []
    if run.switched_at is not None:
        first = "" if run.switched_at == 1 else f"steps 1 to {run.switched_at - 1} are exact; "
        notes.append(f"{first}from step {run.switched_at} on the values are numeric ({DPS} significant "
                     f"digits, at least 30 correct) because {run.why}; their JSON exact strings are decimals")
    if pr.T > SHOW_ALL:
        notes.append(f"the working shows steps 1 to {SHOW_HEAD} and {pr.T - SHOW_TAIL + 1} to {pr.T}; "
                     "the full history is in --json (result.history)")
    return Solution(command="adam-step", inputs=_inputs(inp, pr), steps=tuple(run.work), result=run.result(),
                    conventions=_conventions(pr, bias_correction, run.switched_at), notes=tuple(notes))


def _loss_step(loss: Any, pr: _Problem) -> Step:
    """∇L by SymPy, once (the loss in the title as a sentence shows it)."""
    s = said(loss, 61)
    parts = ", ".join(f"∂L/∂θ{_sub(i + 1)}" for i in range(pr.n))
    return Step("gradient of L = " + (s if len(s) <= 60 else s[:57] + "…") + " (SymPy)",
                Math(f"∇L(θ) = ({parts})", r"\nabla L(\theta)") if pr.vector else
                Math("dL/dθ", r"\frac{dL}{d\theta}"),
                None, list(pr.grad_exprs) if pr.vector else pr.grad_exprs[0], section="the loss")


def _inputs(inp: Inputs, pr: _Problem) -> dict[str, Any]:
    h = pr.hyper
    out: dict[str, Any] = {"theta": inp.theta if pr.vector else pr.theta0[0]}
    if pr.given is not None:
        out["grad"] = ([list(g) if pr.vector else g[0] for g in pr.given] if len(pr.given) <= 12
                       else f"{len(pr.given)} gradients, one per step (see history)")
    else:
        out["loss"] = as_sympy(inp.loss)
        out["steps"] = pr.T
    out.update({"lr": h.lr, "beta1": h.beta1, "beta2": h.beta2, "eps": h.eps, "weight_decay": h.weight_decay,
                "decoupled": bool(inp.decoupled), "amsgrad": bool(inp.amsgrad), "maximize": bool(inp.maximize)})
    return out


def _conventions(pr: _Problem, bias_correction: bool, switched_at: int | None) -> dict[str, str]:
    r = pr.rules
    if not bias_correction:
        bias = "none (a variant: m̂_t = m_t, v̂_t = v_t)"
    else:
        bias = ("m̂_t = m_t/(1 − β₁ᵗ), v̂_t = v_t/(1 − β₂ᵗ)" if r.correct_m and r.correct_v
                else "m̂_t = m_t/(1 − β₁ᵗ) but v̂_t = v_t (a variant)" if r.correct_m
                else "v̂_t = v_t/(1 − β₂ᵗ) but m̂_t = m_t (a variant)")
        bias += "; m̂, v̂ carried forward as the state m, v (a variant)" if r.carry_corrected else ""
    c = {
        "moments": "t starts at 1, m₀ = v₀ = 0; m_t = β₁·m_{t−1} + (1 − β₁)·g_t, "
                   "v_t = β₂·v_{t−1} + (1 − β₂)·g_t² (elementwise)"
                   + ("" if r.square_grad else " — here with g_t instead of g_t² (a variant)"),
        "bias correction": bias,
        "update": ("θ_t = θ_{t−1} − η·m̂_t/√(v̂_t + ε) (a variant: ε inside the square root); η = --lr"
                   if r.eps_inside else
                   "θ_t = θ_{t−1} − η·m̂_t/(√v̂_t + ε), ε outside the square root as PyTorch; η = --lr"),
        "gradient": ("∂L/∂θ by SymPy, taken at θ_{t−1}" if pr.grad_exprs is not None else
                     "given per step (--grad)")
                    + ("; negated (--maximize: gradient ascent)" if r.maximize else ""),
        "weight decay": ("L2 as torch.optim.Adam: g_t = ∇L(θ_{t−1}) + λ·θ_{t−1}, so it enters m and v"
                         if r.l2 else
                         "decoupled as torch.optim.AdamW: θ ← θ·(1 − η·λ) before the update, not in m or v"
                         if r.decoupled else "none"),
    }
    if r.amsgrad:
        c["amsgrad"] = "vmax_t = max(vmax_{t−1}, v_t) on the raw v_t; v̂_t = vmax_t/(1 − β₂ᵗ) (PyTorch)"
    c["history g"] = "the gradient as it enters the moments (after --maximize and L2 decay)"
    c["arithmetic"] = ("exact" if switched_at is None else
                       f"numeric: decimal arithmetic with {DPS} significant digits" if switched_at == 1 else
                       f"exact for steps 1 to {switched_at - 1}, then decimal arithmetic with {DPS} significant digits")
    return c


# --------------------------------------------------------------------------- --check


def _swap_decay(kw: dict[str, Any]) -> dict[str, Any] | None:
    wd = kw.get("weight_decay", 0)
    return {"decoupled": not kw.get("decoupled", False)} if wd != 0 else None


def _forgot_decay(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"weight_decay": sympy.Integer(0)} if kw.get("weight_decay", 0) != 0 else None


def _forgot_maximize(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"maximize": False} if kw.get("maximize") else None


def _carry(kw: dict[str, Any]) -> dict[str, Any] | None:
    return None if kw.get("amsgrad") else {"carry_corrected": True}


#: common mistakes, as variants of the same exercise (see :mod:`dlcalc.check`)
MISTAKES = (
    Mistake("forgot the bias correction (used m_t and v_t for m̂_t and v̂_t)", {"bias_correction": False}),
    Mistake("put ε inside the square root: √(v̂_t + ε)", {"eps_inside_sqrt": True}),
    Mistake("used g_t instead of g_t² in the second moment", {"square_grad": False}),
    Mistake("mixed up L2 weight decay (Adam) and decoupled weight decay (AdamW)", _swap_decay),
    Mistake("forgot the weight decay", _forgot_decay),
    Mistake("forgot to negate the gradient for --maximize", _forgot_maximize),
    Mistake("carried the bias-corrected moments forward as the state (m ← m̂, v ← v̂)", _carry),
    Mistake("bias-corrected only the first moment (used v_t for v̂_t)", {"correct_only": "m"}),
    Mistake("bias-corrected only the second moment (used m_t for m̂_t)", {"correct_only": "v"}),
)


# --------------------------------------------------------------------------- --plot


def plot(solution: Solution, fig: Any) -> None:
    """θ against t, and the loss at θ_t when it came from ``--loss``."""
    from dlcalc.parse import symbol
    from dlcalc.plot import MAX_PLOTTED_STEPS, _float, _floats

    history = solution.result["history"][:MAX_PLOTTED_STEPS * 5]
    ts = [int(_float(h["t"], "t")) for h in history]
    thetas = [_floats(h["theta"], "θ") for h in history]
    start = _floats(solution.inputs["theta"], "θ")
    loss = solution.inputs.get("loss")
    ax = fig.add_subplot(1, 2 if loss is not None else 1, 1)
    for i in range(len(thetas[0])):
        ax.plot([0] + ts, [start[i]] + [th[i] for th in thetas], label="θ" if len(thetas[0]) == 1 else f"θ{i + 1}")
    ax.set_xlabel("step t")
    ax.set_ylabel("θ_t")
    ax.set_title("Adam: θ against t")
    ax.legend()
    if loss is not None:
        vector = isinstance(solution.inputs["theta"], (list, tuple)) or hasattr(solution.inputs["theta"], "tolist")
        names = [f"theta{i + 1}" for i in range(len(thetas[0]))] if vector else ["theta"]
        fn = sympy.lambdify([symbol(n) for n in names], loss, "math")
        ax2 = fig.add_subplot(1, 2, 2)
        ax2.plot(ts, [fn(*th) for th in thetas], color="tab:orange")
        ax2.set_xlabel("step t")
        ax2.set_title("loss at θ_t")
