"""optim-step: one optimizer of ``torch.optim`` stepped by hand, state by state.

Methods and their semantics are PyTorch's single-tensor implementations (torch 2.x):

* ``sgd`` (torch.optim.SGD): g ← g + λθ; momentum buffer b₁ = g₁ (a copy: no dampening on
  the first step), then b_t = μ·b_{t−1} + (1 − τ)·g_t; Nesterov d_t = g_t + μ·b_t, else
  d_t = b_t; θ_t = θ_{t−1} − η·d_t.  ``momentum_form="ema"`` is the textbook variant
  b₀ = 0, b_t = μ·b_{t−1} + (1 − μ)·g_t (Andrew Ng's course).
* ``rmsprop``: v_t = α·v_{t−1} + (1 − α)·g_t² (square_avg); centered: ḡ_t = α·ḡ_{t−1} +
  (1 − α)·g_t (grad_avg) and v_t − ḡ_t² under the root; momentum b_t = μ·b_{t−1} +
  g_t/(√· + ε) from b₀ = 0; θ_t = θ_{t−1} − η·b_t (or η·g_t/(√· + ε)).
* ``adagrad``: clr_t = η/(1 + (t − 1)·lr_decay); s_t = s_{t−1} + g_t² (sum, s₀ =
  initial_accumulator_value); θ_t = θ_{t−1} − clr_t·g_t/(√s_t + ε).
* ``adadelta``: v_t = ρ·v_{t−1} + (1 − ρ)·g_t² (square_avg); Δ_t = √(u_{t−1} + ε)/√(v_t + ε)·g_t;
  u_t = ρ·u_{t−1} + (1 − ρ)·Δ_t² (acc_delta); θ_t = θ_{t−1} − η·Δ_t.
* ``adam``/``adamw``/``amsgrad``: m (exp_avg), v (exp_avg_sq), max_exp_avg_sq, bias
  correction, θ_t = θ̃_{t−1} − η·m̂_t/(√v̂_t + ε); AdamW decays θ̃ = θ·(1 − ηλ) first.
  The numbers are adam-step's (tests/test_optim_step.py compares them).

``eps_inside`` puts ε under the root, √(s + ε), as d2l writes RMSProp and Adagrad.

Each update is written once as a SymPy template over generic symbols (:data:`_Q`).  The
same template gives the formula line, the substituted line (:class:`~dlcalc.core.Shown`
numbers) and the value: exactly (SymPy) while the exact forms stay short, then in decimal
arithmetic with :data:`DPS` digits through closures compiled from the same templates
(the machinery of :mod:`dlcalc.exercises.adam_step`), so 1000 steps cost little.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import sympy

from dlcalc.board import Named, OAdd, OMul, eq, put_in, written
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_sympy, progress, said, \
    xreplace_unevaluated
from dlcalc.errors import InputError
from dlcalc.exercises import _stepping  # the machinery shared with adam-step
from dlcalc.exercises._stepping import (DPS, HUGE, HighFloat, _as_components, _compact, _compile,
                                        _context, _dec_to_float, _nodes, _to_dec, loss_variables)
from dlcalc.parse import parse_expr_text, parse_int, parse_scalar, parse_value, read_source
from dlcalc.registry import FLAG, LIST, Command, Option

METHODS = ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "amsgrad")
ADAM_FAMILY = ("adam", "adamw", "amsgrad")
TORCH_CLASS = {"sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad", "adadelta": "Adadelta",
               "adam": "Adam", "adamw": "AdamW", "amsgrad": "Adam(amsgrad=True)"}

R = sympy.Rational
#: the hyperparameters each method takes, with PyTorch's defaults
PARAMS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": R(1, 1000), "momentum": 0, "dampening": 0, "weight_decay": 0},
    "rmsprop": {"lr": R(1, 100), "alpha": R(99, 100), "eps": R(1, 10**8), "weight_decay": 0, "momentum": 0},
    "adagrad": {"lr": R(1, 100), "lr_decay": 0, "weight_decay": 0, "initial_accumulator_value": 0,
                "eps": R(1, 10**10)},
    "adadelta": {"lr": 1, "rho": R(9, 10), "eps": R(1, 10**6), "weight_decay": 0},
    "adam": {"lr": R(1, 1000), "beta1": R(9, 10), "beta2": R(999, 1000), "eps": R(1, 10**8), "weight_decay": 0},
    "adamw": {"lr": R(1, 1000), "beta1": R(9, 10), "beta2": R(999, 1000), "eps": R(1, 10**8),
              "weight_decay": R(1, 100)},
    "amsgrad": {"lr": R(1, 1000), "beta1": R(9, 10), "beta2": R(999, 1000), "eps": R(1, 10**8),
                "weight_decay": 0},
}
HYPER = ("lr", "momentum", "dampening", "weight_decay", "alpha", "eps", "rho", "lr_decay",
         "initial_accumulator_value", "beta1", "beta2")
#: methods that take each switch
SWITCHES = {"nesterov": ("sgd",), "momentum_form": ("sgd",), "centered": ("rmsprop",),
            "eps_inside": ("rmsprop", "adagrad", *ADAM_FAMILY)}


def _option(key: str) -> str:
    return "--" + key.replace("_", "-")


def _methods_of(key: str) -> str:
    ms = [m for m in METHODS if key in PARAMS[m]] if key in HYPER else list(SWITCHES[key])
    return ", ".join(ms)


COMMAND = Command(
    name="optim-step",
    summary="SGD (momentum, Nesterov), RMSProp, Adagrad, Adadelta, Adam/AdamW/AMSGrad step by step, as torch.optim.",
    description="Every default and every update is torch.optim's; --momentum-form ema and --eps-inside "
                "are the textbook variants. Options that a method does not take are refused.",
    example="dlcalc optim-step --method sgd --theta 1 --grad 0.5 --grad 0.3 --lr 0.1 --momentum 0.9",
    plot=True,
    options=(
        Option("--method", "sgd, rmsprop, adagrad, adadelta, adam, adamw or amsgrad (Adam with amsgrad=True)."),
        Option("--theta", "Initial θ: a scalar or a vector ([1, -2]); may be a symbol."),
        Option("--grad", "The gradient of one step (scalar or vector like θ); repeat once per step.", kind=LIST),
        Option("--loss", "A loss to differentiate instead: in theta (scalar θ) or theta1..thetaN "
                         "(vector θ), e.g. \"0.1*theta1**2 + 2*theta2**2\"."),
        Option("--steps", "Steps with --loss (1-100,000; default 1)."),
        Option("--lr", "Learning rate η (PyTorch's default per method: sgd 1e-3, rmsprop 1e-2, adagrad 1e-2, "
                       "adadelta 1.0, adam/adamw/amsgrad 1e-3)."),
        Option("--momentum", "μ (sgd, rmsprop; default 0)."),
        Option("--dampening", "τ (sgd; default 0): b_t = μ·b_{t−1} + (1 − τ)·g_t from the second step on."),
        Option("--nesterov", "Nesterov momentum (sgd): step along g_t + μ·b_t.", kind=FLAG, default=False),
        Option("--weight-decay", "λ: L2 added to the gradient, g + λθ (adamw: decoupled, θ ← θ(1 − ηλ); "
                                 "default 0, adamw 1e-2)."),
        Option("--maximize", "Gradient ascent: negate the gradient (PyTorch maximize=True).", kind=FLAG,
               default=False),
        Option("--momentum-form", "sgd: torch (b ← μb + g, PyTorch) or ema (b ← μb + (1 − μ)g, b₀ = 0, "
                                  "Andrew Ng's course); default torch."),
        Option("--alpha", "rmsprop smoothing constant α (default 0.99)."),
        Option("--eps", "ε (rmsprop 1e-8, adagrad 1e-10, adadelta 1e-6, adam family 1e-8)."),
        Option("--centered", "rmsprop: divide by √(v − ḡ²), the centred second moment.", kind=FLAG, default=False),
        Option("--lr-decay", "adagrad: clr = lr/(1 + (t − 1)·lr_decay) (default 0)."),
        Option("--initial-accumulator-value", "adagrad: the sum's starting value s₀ (default 0)."),
        Option("--rho", "adadelta: ρ (default 0.9)."),
        Option("--beta1", "Adam family: β₁ in [0, 1) (default 0.9)."),
        Option("--beta2", "Adam family: β₂ in [0, 1) (default 0.999)."),
        Option("--eps-inside", "ε under the square root, √(s + ε), as d2l writes RMSProp and Adagrad "
                               "(rmsprop, adagrad, adam family; PyTorch adds it outside).", kind=FLAG,
               default=False),
    ),
)

# --------------------------------------------------------------------------- limits

MAX_STEPS = _stepping.MAX_STEPS          # --steps
MAX_GRADS = _stepping.MAX_GRADS          # number of --grad values
MAX_GRAD_CHARS = _stepping.MAX_GRAD_CHARS
MAX_COMPONENTS = _stepping.MAX_COMPONENTS
MAX_LOSS_COMPONENTS = _stepping.MAX_LOSS_COMPONENTS
MAX_WORK = _stepping.MAX_WORK            # steps × components
EXACT_MAX_STEPS = 10                 # exact arithmetic for at most this many steps ...
EXACT_MAX_NODES = 120                # ... while every exact value stays this short
EXACT_MAX_WORK = 60                  # ... and steps × components stays below this
SYMBOLIC_MAX_STEPS = 10
SYMBOLIC_MAX_NODES = 1_500
SHOW_ALL = 6                         # runs of at most this many steps show every step
SHOW_HEAD, SHOW_TAIL = 3, 2          # longer runs: the first and last few
SHOW_COMPONENTS = 4                  # vectors up to this size show the numbers put in

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def _sub(t: int) -> str:
    return str(t).translate(_SUB)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of optim-step.

    Attributes:
        method: one of :data:`METHODS`.
        theta: θ₀, a scalar or a tuple (vector); may be symbolic.
        grads: the gradient of each step (scalars or tuples like θ), or None with ``loss``.
        loss: a SymPy expression in theta / theta1…thetaN to differentiate, or None.
        steps: the number of steps with ``loss`` (None: 1).
        lr … beta2: the hyperparameters, None where not given (then PyTorch's default for
            the method); one that the method does not take must be None.
        nesterov, maximize, centered: PyTorch's flags.
        momentum_form: "torch" or "ema" (sgd), None for the default (torch).
        eps_inside: ε under the root (None: PyTorch's place, outside; inside for adadelta).
    """

    method: str
    theta: Any
    grads: Any = None
    loss: Any = None
    steps: int | None = None
    lr: Any = None
    momentum: Any = None
    dampening: Any = None
    weight_decay: Any = None
    alpha: Any = None
    eps: Any = None
    rho: Any = None
    lr_decay: Any = None
    initial_accumulator_value: Any = None
    beta1: Any = None
    beta2: Any = None
    nesterov: bool = False
    maximize: bool = False
    centered: bool = False
    momentum_form: str | None = None
    eps_inside: bool | None = None


def parse(*, method: str | None, theta: str | None, grad: Sequence[str] | None, loss: str | None,
          steps: str | None, lr: str | None = None, momentum: str | None = None, dampening: str | None = None,
          nesterov: bool = False, weight_decay: str | None = None, maximize: bool = False,
          momentum_form: str | None = None, alpha: str | None = None, eps: str | None = None,
          centered: bool = False, lr_decay: str | None = None, initial_accumulator_value: str | None = None,
          rho: str | None = None, beta1: str | None = None, beta2: str | None = None,
          eps_inside: bool = False) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    if method is None:
        raise InputError("--method", f"is missing: choose one of {', '.join(METHODS)}")
    m = method.strip().lower()
    if m not in METHODS:
        raise InputError("--method", f"must be one of {', '.join(METHODS)}, got {method.strip()[:30]!r}")
    raw = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
           "alpha": alpha, "eps": eps, "rho": rho, "lr_decay": lr_decay,
           "initial_accumulator_value": initial_accumulator_value, "beta1": beta1, "beta2": beta2}
    for key, text in raw.items():
        if text is not None and key not in PARAMS[m]:
            raise InputError(_option(key), f"does not apply to --method {m} (it is a parameter of "
                                           f"{_methods_of(key)})")
    for key, on in (("nesterov", nesterov), ("centered", centered), ("momentum_form", momentum_form is not None),
                    ("eps_inside", eps_inside)):
        if on and m not in SWITCHES[key]:
            extra = " (Adadelta already puts ε under both roots, as PyTorch)" if (
                key == "eps_inside" and m == "adadelta") else ""
            raise InputError(_option(key), f"does not apply to --method {m}; it is an option of "
                                           f"{_methods_of(key)}{extra}")
    form = None
    if momentum_form is not None:
        form = momentum_form.strip().lower()
        if form not in ("torch", "ema"):
            raise InputError("--momentum-form", f"must be torch or ema, got {momentum_form.strip()[:30]!r}")
    if theta is None:
        raise InputError("--theta", "is missing: give the starting point θ₀ (a scalar or a vector)")
    parsed = [tuple(v) if isinstance(v, list) else v for v in _stepping.parse_gradients(grad, loss)]
    th = parse_value(theta, "--theta", kinds=("scalar", "vector"))
    values = {k: parse_scalar(t, _option(k)) for k, t in raw.items() if t is not None}
    return Inputs(method=m, theta=tuple(th) if isinstance(th, list) else th, grads=tuple(parsed) or None,
                  loss=parse_expr_text(read_source(loss, "--loss"), "--loss") if loss is not None else None,
                  steps=parse_int(steps, "--steps", lo=1, hi=MAX_STEPS) if steps is not None else None,
                  nesterov=bool(nesterov), maximize=bool(maximize), centered=bool(centered),
                  momentum_form=form, eps_inside=True if eps_inside else None, **values)


# --------------------------------------------------------------------------- validation


def _number(value: Any, option: str) -> Any:
    if isinstance(value, (int, float)):
        value = as_sympy(value)
    if not isinstance(value, sympy.Expr):
        raise InputError(option, "must be a single number or symbol")
    if value.is_number and (value.is_real is False or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)):
        raise InputError(option, f"must be a finite real number, got {value}")
    return value


def _in(value: Any, option: str, lo: Any = 0, hi: Any = None, hi_open: bool = False) -> Any:
    """``value`` checked to lie in [lo, hi] (or [lo, hi)); symbols pass."""
    if value.is_number:
        bad = bool(value < lo) or (hi is not None and (bool(value >= hi) if hi_open else bool(value > hi)))
        if bad:
            rng = f"at least {lo}" if hi is None else f"in [{lo}, {hi}{')' if hi_open else ']'}"
            raise InputError(option, f"must be {rng}, got {said(value)}")
    return value


def _on(x: Any) -> bool:
    """Whether a hyperparameter is in use: non-zero, or a symbol (taken as non-zero)."""
    return not (x.is_number and x == 0)


@dataclass(frozen=True)
class _Config:
    """The inputs resolved: defaults filled in, everything checked, and the shape of the run."""

    method: str
    hp: dict            # hyperparameter -> SymPy value (only the method's)
    nesterov: bool
    maximize: bool
    centered: bool
    form: str           # sgd: "torch" or "ema"
    eps_inside: bool
    l2: bool            # λθ added to the gradient
    decoupled: bool     # AdamW's θ·(1 − ηλ)
    momentum: bool      # a momentum buffer exists
    first_copy: bool    # sgd torch form: b₁ = g₁
    bias_correction: bool


def _configure(inp: Inputs, *, first_step_copy: bool = True, bias_correction: bool = True) -> _Config:
    m = inp.method
    if m not in METHODS:
        raise InputError("--method", f"must be one of {', '.join(METHODS)}, got {str(m)[:30]!r}")
    for key in HYPER:
        if key not in PARAMS[m] and getattr(inp, key) is not None:
            raise InputError(_option(key), f"does not apply to --method {m} (it is a parameter of "
                                           f"{_methods_of(key)})")
    hp: dict[str, Any] = {}
    for key, default in PARAMS[m].items():  # in the order of torch.optim's signature
        v = getattr(inp, key)
        hp[key] = _number(default if v is None else v, _option(key))
    for key in ("lr", "momentum", "weight_decay", "eps", "lr_decay", "initial_accumulator_value"):
        if key in hp:
            _in(hp[key], _option(key))
    for key in ("alpha", "rho"):
        if key in hp:
            _in(hp[key], _option(key), 0, 1)
    for key in ("beta1", "beta2"):
        if key in hp:
            _in(hp[key], _option(key), 0, 1, hi_open=True)
    for key, on in (("nesterov", inp.nesterov), ("centered", inp.centered),
                    ("momentum_form", inp.momentum_form is not None)):
        if on and m not in SWITCHES[key]:
            raise InputError(_option(key), f"does not apply to --method {m}; it is an option of {_methods_of(key)}")
    if inp.eps_inside is not None and m not in (*SWITCHES["eps_inside"], "adadelta"):
        raise InputError("--eps-inside", f"does not apply to --method {m}; it is an option of "
                                         f"{_methods_of('eps_inside')}")
    form = inp.momentum_form or "torch"
    if form not in ("torch", "ema"):
        raise InputError("--momentum-form", f"must be torch or ema, got {str(form)[:30]!r}")
    mom = m in ("sgd", "rmsprop") and _on(hp["momentum"])
    if m == "sgd":
        if form == "ema" and not mom:
            raise InputError("--momentum-form", "ema needs a momentum: give --momentum μ > 0")
        if form == "ema" and inp.dampening is not None and _on(hp["dampening"]):
            raise InputError("--dampening", "does not apply to --momentum-form ema, whose (1 − μ) takes its place")
        if inp.nesterov:
            if not mom or (hp["momentum"].is_number and hp["momentum"] <= 0):
                raise InputError("--nesterov", "needs a momentum: give --momentum μ > 0 (PyTorch: Nesterov "
                                               "momentum requires a momentum and zero dampening)")
            if form == "torch" and _on(hp["dampening"]):
                raise InputError("--nesterov", "needs zero dampening (PyTorch: Nesterov momentum requires a "
                                               "momentum and zero dampening)")
    wd_on = _on(hp["weight_decay"])
    return _Config(method=m, hp=hp, nesterov=bool(inp.nesterov), maximize=bool(inp.maximize),
                   centered=bool(inp.centered), form=form,
                   eps_inside=(m == "adadelta") if inp.eps_inside is None else bool(inp.eps_inside),
                   l2=wd_on and m != "adamw", decoupled=wd_on and m == "adamw", momentum=mom,
                   first_copy=first_step_copy, bias_correction=bias_correction)


# --------------------------------------------------------------------------- the templates

#: generic symbols: name -> (display base, offset of the subscript from t); None = no subscript
_META: dict[sympy.Symbol, tuple[str, int | None]] = {}


def _q(base: str, offset: int | None = 0, name: str | None = None) -> sympy.Symbol:
    s = sympy.Symbol(name or f"{base}@{offset}")
    _META[s] = (base, offset)
    return s


TH_P, TH = _q("theta", -1), _q("theta", 0)
GRAW, G = _q("graw", 0), _q("g", 0)
B_P, B, D = _q("b", -1), _q("b", 0), _q("d", 0)
V_P, V = _q("v", -1), _q("v", 0)
GB_P, GB = _q("gbar", -1), _q("gbar", 0)
S_P, S = _q("s", -1), _q("s", 0)
U_P, U, DELTA = _q("u", -1), _q("u", 0), _q("Delta", 0)
M_P, M = _q("m", -1), _q("m", 0)
VM_P, VM = _q("vmax", -1), _q("vmax", 0)
MH, VH = _q("mhat", 0), _q("vhat", 0)
THD, CLR = _q("thetatilde", -1), _q("clr", 0)
# hyperparameters, shown as themselves
LR, MU, TAU, LAM = (_q(n, None, n) for n in ("eta", "mu", "tau", "lambda"))
ALPHA, EPS, RHO = (_q(n, None, n) for n in ("alpha", "epsilon", "rho"))
B1, B2, LRD, T = _q("beta_1", None, "beta_1"), _q("beta_2", None, "beta_2"), \
    _q("eta_decay", None, "eta_decay"), _q("t", None, "t")
HP_SYMBOL = {"lr": LR, "momentum": MU, "dampening": TAU, "weight_decay": LAM, "alpha": ALPHA, "eps": EPS,
             "rho": RHO, "lr_decay": LRD, "beta1": B1, "beta2": B2}

#: the state after a step -> its symbol before the next one
_ROLL = {TH: TH_P, B: B_P, V: V_P, GB: GB_P, S: S_P, U: U_P, M: M_P, VM: VM_P}


_DISPLAY: dict[tuple[sympy.Symbol, int], sympy.Symbol] = {}


def _display(sym: sympy.Symbol, t: int) -> sympy.Symbol:
    """The symbol as the board writes it at step t: b_{t−1} -> b₁ at t = 2."""
    base, off = _META[sym]
    if off is None:
        return sym
    key = (sym, t)
    out = _DISPLAY.get(key)
    if out is None:
        if len(_DISPLAY) > 10_000:
            _DISPLAY.clear()
        out = _DISPLAY[key] = sympy.Symbol(f"{base}_{t + off}")
    return out


def _add(*terms: Any) -> Any:
    return OAdd(*terms, evaluate=False)


def _mul(*factors: Any) -> Any:
    return OMul(*factors, evaluate=False)


def _neg(x: Any) -> Any:
    return _mul(-1, *(x.args if isinstance(x, OMul) else (x,)))


def _pow(base: Any, exp: Any) -> Any:
    return sympy.Pow(base, exp, evaluate=False)


def _div(num: Any, den: Any) -> Any:
    """num/den as written: the factors of num, then den^(−1) (a root: base^(−1/2))."""
    inv = _pow(den.base, -sympy.S.Half) if den.is_Pow and den.exp == sympy.S.Half else _pow(den, -1)
    return _mul(*(num.args if isinstance(num, OMul) else (num,)), inv)


maximum = _stepping.maximum  # max(a, b) as written, shared with adam-step's AMSGrad


def _one_minus(x: Any) -> Any:
    return _add(1, _neg(x))


def canonical(expr: Any) -> Any:
    """A display template as an ordinary SymPy expression (evaluated): what is computed."""
    if not expr.args:
        return expr
    args = [canonical(a) for a in expr.args]
    if isinstance(expr, OAdd):
        return sympy.Add(*args)
    if isinstance(expr, OMul):
        return sympy.Mul(*args)
    if isinstance(expr, maximum):
        return sympy.Max(*args)
    return expr.func(*args)


@dataclass(frozen=True)
class Op:
    """One line of the update: ``out = display``, a template of generic symbols written in
    the order a teacher writes it; :attr:`rhs` is what is computed from it."""

    out: sympy.Symbol
    display: Any
    title: str
    note: str = ""

    @property
    def rhs(self) -> Any:
        return _canonical(self.display)


_CANON: dict[Any, Any] = {}


def _canonical(display: Any) -> Any:
    e = _CANON.get(display)
    if e is None:
        e = _CANON[display] = canonical(display)
    return e


def _root_eps(x: Any, inside: bool) -> Any:
    """√x + ε (PyTorch), or √(x + ε) (inside)."""
    return sympy.sqrt(_add(x, EPS), evaluate=False) if inside else _add(sympy.sqrt(x, evaluate=False), EPS)


def _ema(decay: Any, prev: Any, new: Any) -> Any:
    """decay·prev + (1 − decay)·new."""
    return _add(_mul(decay, prev), _mul(_one_minus(decay), new))


def _ops(c: _Config, t: int) -> list[Op]:
    """The lines of step ``t`` after the gradient (which every method starts with)."""
    where = ("ε inside the root (d2l)" if c.eps_inside else "ε outside the root (PyTorch)") if t == 1 else ""
    return METHOD_OPS[c.method](c, t, where)


def _sgd_ops(c: _Config, t: int, where: str) -> list[Op]:
    if not c.momentum:
        return [Op(TH, _add(TH_P, _neg(_mul(LR, G))), "update {}")]
    if c.form == "ema":
        buffer = Op(B, _ema(MU, B_P, G), "momentum_buffer {} (EMA form)",
                    "b₀ = 0; the EMA form of Andrew Ng's course, not PyTorch's" if t == 1 else "")
    elif t == 1 and c.first_copy:
        buffer = Op(B, G, "momentum_buffer", "PyTorch's first step copies the gradient: b₁ = g₁, no dampening")
    elif _on(c.hp["dampening"]):
        buffer = Op(B, _add(_mul(MU, B_P), _mul(_one_minus(TAU), G)), "momentum_buffer",
                    "from b₀ = 0 (a variant: PyTorch copies b₁ = g₁)" if t == 1 else "")
    else:
        buffer = Op(B, _add(_mul(MU, B_P), G), "momentum_buffer")
    if c.nesterov:
        return [buffer, Op(D, _add(G, _mul(MU, B)), "Nesterov direction"),
                Op(TH, _add(TH_P, _neg(_mul(LR, D))), "update {} (Nesterov)")]
    return [buffer, Op(TH, _add(TH_P, _neg(_mul(LR, B))), "update {} (heavy-ball momentum)")]


def _rmsprop_ops(c: _Config, t: int, where: str) -> list[Op]:
    ops = [Op(V, _ema(ALPHA, V_P, _pow(G, 2)), "square_avg")]
    inner: Any = V
    if c.centered:
        ops.append(Op(GB, _ema(ALPHA, GB_P, G), "grad_avg {} (centered)"))
        inner = _add(V, _neg(_pow(GB, 2)))
    den = _root_eps(inner, c.eps_inside)
    if c.momentum:
        return ops + [Op(B, _add(_mul(MU, B_P), _div(G, den)), "momentum_buffer", where),
                      Op(TH, _add(TH_P, _neg(_mul(LR, B))), "update {}")]
    return ops + [Op(TH, _add(TH_P, _neg(_div(_mul(LR, G), den))), "update {}", where)]


def _adagrad_ops(c: _Config, t: int, where: str) -> list[Op]:
    ops, rate = [], LR
    if _on(c.hp["lr_decay"]):
        ops.append(Op(CLR, _div(LR, _add(1, _mul(_add(T, -1), LRD))), "decayed learning rate"))
        rate = CLR
    return ops + [Op(S, _add(S_P, _pow(G, 2)), "sum"),
                  Op(TH, _add(TH_P, _neg(_div(_mul(rate, G), _root_eps(S, c.eps_inside)))), "update {}", where)]


def _adadelta_ops(c: _Config, t: int, where: str) -> list[Op]:
    ins = c.eps_inside
    return [Op(V, _ema(RHO, V_P, _pow(G, 2)), "square_avg"),
            Op(DELTA, _div(_mul(_root_eps(U_P, ins), G), _root_eps(V, ins)), "delta",
               ("ε inside both roots (PyTorch)" if ins else "ε outside the roots (a variant)") if t == 1 else ""),
            Op(U, _ema(RHO, U_P, _pow(DELTA, 2)), "acc_delta"),
            Op(TH, _add(TH_P, _neg(_mul(LR, DELTA))), "update {}")]


def _adam_ops(c: _Config, t: int, where: str) -> list[Op]:
    """Adam, AdamW (decoupled decay first) and AMSGrad (the running max of v)."""
    ops, base, second = [], TH_P, V
    if c.decoupled:
        ops.append(Op(THD, _mul(TH_P, _one_minus(_mul(LR, LAM))), "decoupled weight decay (AdamW) {}",
                      "the decay acts on θ directly and never enters exp_avg or exp_avg_sq" if t == 1 else ""))
        base = THD
    ops += [Op(M, _ema(B1, M_P, G), "exp_avg"), Op(V, _ema(B2, V_P, _pow(G, 2)), "exp_avg_sq")]
    if c.method == "amsgrad":
        ops.append(Op(VM, maximum(VM_P, V), "max_exp_avg_sq {} (AMSGrad)"))
        second = VM
    if not c.bias_correction:
        return ops + [Op(TH, _add(base, _neg(_div(_mul(LR, M), _root_eps(second, c.eps_inside)))),
                         "update {} (no bias correction)", where)]
    return ops + [Op(MH, _div(M, _one_minus(_pow(B1, T))), "bias-corrected exp_avg"),
                  Op(VH, _div(second, _one_minus(_pow(B2, T))), "bias-corrected exp_avg_sq"),
                  Op(TH, _add(base, _neg(_div(_mul(LR, MH), _root_eps(VH, c.eps_inside)))), "update {}", where)]


#: each method's lines after the gradient: (config, t, the note on ε at t = 1) -> ops
METHOD_OPS: dict[str, Callable[[_Config, int, str], list[Op]]] = {
    "sgd": _sgd_ops, "rmsprop": _rmsprop_ops, "adagrad": _adagrad_ops, "adadelta": _adadelta_ops,
    "adam": _adam_ops, "adamw": _adam_ops, "amsgrad": _adam_ops,
}


def _gradient_display(c: _Config) -> Any:
    g: Any = _neg(GRAW) if c.maximize else GRAW
    return _add(g, _mul(LAM, TH_P)) if c.l2 else g


#: the states of each method under PyTorch's names: name -> (symbol, present?)
def _state_names(c: _Config) -> list[tuple[str, sympy.Symbol]]:
    m = c.method
    if m == "sgd":
        return [("momentum_buffer", B)] if c.momentum else []
    if m == "rmsprop":
        return [("square_avg", V)] + ([("grad_avg", GB)] if c.centered else []) + (
            [("momentum_buffer", B)] if c.momentum else [])
    if m == "adagrad":
        return [("sum", S)]
    if m == "adadelta":
        return [("square_avg", V), ("acc_delta", U)]
    return [("exp_avg", M), ("exp_avg_sq", V)] + ([("max_exp_avg_sq", VM)] if m == "amsgrad" else [])


def _initial(c: _Config, n: int) -> list[dict]:
    zero = sympy.Integer(0)
    env = {B_P: zero, V_P: zero, GB_P: zero, U_P: zero, M_P: zero, VM_P: zero,
           S_P: c.hp.get("initial_accumulator_value", zero)}
    return [dict(env) for _ in range(n)]


# --------------------------------------------------------------------------- numeric closures


def _compile_op(rhs: Any, consts: dict) -> Callable[[dict], Any]:
    """A closure computing ``rhs`` from an environment of Decimals (symbol -> value);
    hyperparameters are folded in as constants first."""
    expr = rhs.xreplace(consts)
    return _stepping.compile_closure(expr, {s: s for s in expr.free_symbols})


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, first_step_copy: bool = True, bias_correction: bool = True) -> Solution:
    """The worked solution.  The flags are variants that ``--check`` tries (PyTorch's are the
    defaults): ``first_step_copy=False`` applies the dampening from b₀ = 0 at the first step,
    ``bias_correction=False`` drops Adam's bias correction."""
    c = _configure(inp, first_step_copy=first_step_copy, bias_correction=bias_correction)
    theta, grads, loss = inp.theta, inp.grads, inp.loss
    vector = isinstance(theta, (list, tuple))
    if vector and len(theta) > MAX_COMPONENTS:
        raise InputError("--theta", f"has more than {MAX_COMPONENTS:,} components")
    th0 = _as_components(list(theta) if vector else theta, None, "--theta", "θ")
    n = len(th0)

    given, grad_exprs, T_ = _stepping.gradient_source(grads, loss, inp.steps, n, vector)
    variables = loss_variables(n, vector)
    if T_ * n > MAX_WORK:
        raise InputError("--steps" if grads is None else "--grad",
                         f"asks for {T_:,} steps of a θ with {n:,} components; at most {MAX_WORK:,} "
                         "steps × components")
    symbolic = any(not x.is_number for x in [*th0, *c.hp.values()]) or any(
        not x.is_number for g in given for x in g)
    if symbolic and T_ > SYMBOLIC_MAX_STEPS:
        raise InputError("--steps" if grads is None else "--grad",
                         f"asks for {T_} steps with symbolic inputs; symbolic runs are worked exactly and "
                         f"limited to {SYMBOLIC_MAX_STEPS} steps (give numbers for longer runs)")

    run = _Run(c, n, vector, given, grad_exprs, variables, T_, symbolic, loss)
    run.go(th0)

    result = {"theta": run.theta if vector else run.theta[0], "history": run.history}
    inputs: dict[str, Any] = {"method": c.method, "theta": list(th0) if vector else th0[0]}
    if grads is not None:
        inputs["grad"] = ([g if vector else g[0] for g in given] if len(given) <= 12
                          else f"{len(given)} gradients, one per step (see history)")
    else:
        inputs["loss"] = loss
        inputs["steps"] = T_
    inputs.update(c.hp)
    for key in ("nesterov", "centered"):
        if c.method in SWITCHES[key]:
            inputs[key] = getattr(c, key)
    if c.method == "sgd":
        inputs["momentum_form"] = c.form
    inputs["maximize"] = c.maximize
    if c.method != "sgd":
        inputs["eps_inside"] = c.eps_inside
    notes: list[str] = []
    if run.switched_at is not None:
        first = "" if run.switched_at == 1 else "step 1 is exact; " if run.switched_at == 2 else \
            f"steps 1 to {run.switched_at - 1} are exact; "
        notes.append(f"{first}from step {run.switched_at} on the values are numeric ({DPS} significant "
                     f"digits, at least 30 correct) because {run.why}; their JSON exact strings are decimals")
    if T_ > SHOW_ALL:
        notes.append(f"the working shows steps 1 to {SHOW_HEAD} and {T_ - SHOW_TAIL + 1} to {T_}; "
                     "the full history is in --json (result.history)")
    return Solution(command="optim-step", inputs=inputs, conventions=_conventions(c, grad_exprs is not None,
                                                                                 run.switched_at),
                    steps=tuple(run.work), result=result, notes=tuple(notes))


class _Run:
    """One run: the exact steps, then (if needed) the numeric ones, with the working."""

    def __init__(self, c: _Config, n: int, vector: bool, given: list[list[Any]], grad_exprs: list[Any] | None,
                 variables: list[Any], T: int, symbolic: bool, loss: Any = None) -> None:
        self.c, self.n, self.vector, self.given = c, n, vector, given
        self.grad_exprs, self.variables, self.T, self.symbolic = grad_exprs, variables, T, symbolic
        self.states = _state_names(c)
        self.history: list[dict[str, Any]] = []
        self.work: list[Step] = []
        self.switched_at: int | None = None
        self.why = ""
        self.shown = set(range(1, T + 1)) if T <= SHOW_ALL else \
            set(range(1, SHOW_HEAD + 1)) | set(range(T - SHOW_TAIL + 1, T + 1))
        self.hp_env = {HP_SYMBOL[k]: v for k, v in c.hp.items() if k in HP_SYMBOL}
        self.g_display = _gradient_display(c)
        self.g_rhs = canonical(self.g_display)
        self.theta: list[Any] = []
        self.loss = loss
        self._preamble()

    # ---------------------------------------------------------------- working helpers
    def _preamble(self) -> None:
        if self.grad_exprs is None:
            return
        vs = self.variables
        loss = P_text(self.loss)
        self.work.append(Step(
            f"gradient of L = {loss if len(loss) <= 60 else loss[:57] + '…'} (SymPy)",
            Math("∇L(θ) = (" + ", ".join(f"∂L/∂{P_text(v)}" for v in vs) + ")" if self.vector else "dL/dθ",
                 r"\nabla L(\theta)" if self.vector else r"\frac{dL}{d\theta}"),
            None, self.grad_exprs if self.vector else self.grad_exprs[0], section="the loss"))

    def _v(self, comps: list[Any]) -> Any:
        return list(comps) if self.vector else comps[0]

    def _step(self, op: Op, t: int, envs: list[dict], section: str, numeric: bool) -> Step:
        """The formula, the numbers put in, the value: all from the op's one template."""
        syms = op.display.free_symbols
        formula = sympy.Eq(_display(op.out, t), xreplace_unevaluated(op.display, {s: _display(s, t) for s in syms}),
                           evaluate=False)
        subst = None
        if self.n <= SHOW_COMPONENTS and not op.display.is_Symbol:  # b₁ = g₁ needs no line of numbers
            # put_in makes the shown numbers in written order (a set's order would vary by run)
            subst = self._v([put_in(op.display, {s: _shown(env[s], numeric) for s in syms}) for env in envs])
        value = self._v([env[op.out] for env in envs])
        vec = " (elementwise)" if self.vector and op.out is not CLR else ""
        name = P_text(_display(op.out, t))
        title = op.title.format(name) if "{}" in op.title else f"{op.title} {name}"
        return Step(title + vec, formula, subst, value, note=op.note, section=section)

    def _gradient_step(self, t: int, envs: list[dict], section: str, numeric: bool) -> Step:
        c = self.c
        s, q = _sub(t), _sub(t - 1)
        theta = sympy.Symbol(f"theta_{t - 1}")
        grad = Named(f"grad L(theta_{t - 1})", f"∇L(θ{q})", rf"\nabla L(\theta_{{{t - 1}}})")
        g = OMul(-1, grad, evaluate=False) if c.maximize else grad
        formula = written(eq(sympy.Symbol(f"g_{t}"), OAdd(g, OMul(LAM, theta, evaluate=False), evaluate=False)
                             if c.l2 else g))
        notes = []
        if c.maximize:
            notes.append("--maximize: the gradient is negated, so the step goes uphill")
        if c.l2:
            notes.append("L2 weight decay (PyTorch weight_decay): λ·θ is added to the gradient")
        subst = None
        if self.n <= SHOW_COMPONENTS:
            if self.grad_exprs is None:
                if c.maximize or c.l2:
                    syms = self.g_display.free_symbols
                    subst = self._v([put_in(self.g_display, {k: _shown(env[k], numeric) for k in syms})
                                     for env in envs])
            else:
                comps = []
                for i in range(self.n):
                    e = _mul(-1, self.grad_exprs[i]) if c.maximize else self.grad_exprs[i]
                    if c.l2:
                        e = _add(e, _mul(LAM, self.variables[i]))
                    vals = {v: Shown(_shown(envs[k][TH_P], numeric)) for k, v in enumerate(self.variables)}
                    vals[LAM] = Shown(_shown(self.hp_env.get(LAM, 0), numeric))
                    comps.append(xreplace_unevaluated(e, vals))
                subst = self._v(comps)
        title = f"gradient g{s}" + (" (given)" if self.grad_exprs is None and not (c.maximize or c.l2) else
                                    f" of the loss at θ{q}" if self.grad_exprs is not None else "")
        return Step(title, formula, subst, self._v([env[G] for env in envs]),
                    note="; ".join(notes), section=section)

    def _show(self, t: int, envs: list[dict], ops: list[Op], numeric: bool) -> None:
        T = self.T
        if T > SHOW_ALL and t == T - SHOW_TAIL + 1:
            self.work.append(Step(f"steps {SHOW_HEAD + 1} to {T - SHOW_TAIL}",
                                  Math(f"… {T - SHOW_HEAD - SHOW_TAIL} steps of the same form; every value "
                                       "is in the history (JSON: result.history)", r"\ldots"), section="…"))
        section = f"t = {t}" + (f" (numeric, {DPS} digits)" if numeric else "")
        self.work.append(self._gradient_step(t, envs, section, numeric))
        for op in ops:
            self.work.append(self._step(op, t, envs, section, numeric))

    def _record(self, t: int, envs: list[dict], numeric: bool) -> dict[str, Any]:
        conv = HighFloat if numeric else (lambda x: x)
        rec: dict[str, Any] = {"t": t, "g": self._v([conv(e[G]) for e in envs])}
        for name, sym in self.states:
            rec[name] = self._v([conv(e[sym]) for e in envs])
        rec["theta"] = self._v([conv(e[TH]) for e in envs])
        return rec

    # ---------------------------------------------------------------- the run
    def go(self, th0: list[Any]) -> None:
        c, n = self.c, self.n
        envs = _initial(c, n)
        for i, env in enumerate(envs):
            env.update(self.hp_env)
            env[TH_P] = th0[i]
        t = 0
        while t < self.T:
            t += 1
            why = self._needs_numeric(t, envs)
            if why:
                if self.symbolic:
                    raise InputError(None, f"symbolic inputs are worked exactly, and at step {t} {why}; "
                                           "give numbers, or fewer steps or components")
                self.switched_at, self.why = t, why
                break
            raw = self.given[t - 1] if self.grad_exprs is None else self._exact_gradient(envs, t)
            for env, r in zip(envs, raw):
                env[GRAW] = r
                env[T] = sympy.Integer(t)
                env[G] = self.g_rhs.xreplace({k: env[k] for k in self.g_rhs.free_symbols})
            if not self.symbolic and not all(env[G].is_Rational for env in envs):
                self.switched_at, self.why = t, ("the gradient entering the state is irrational, so exact forms "
                                                 "would nest square roots")
                break
            ops = _ops(c, t)
            for op in ops:
                for env in envs:
                    v = op.rhs.xreplace({k: env[k] for k in op.rhs.free_symbols})
                    if v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I) or (
                            v.is_number and v.is_real is False):
                        raise self._fail(t, op)
                    env[op.out] = v
            if not self.symbolic:
                for name, sym in [*self.states, ("θ", TH)]:
                    if any(abs(env[sym]) > _HUGE_EXACT for env in envs):
                        raise _diverges(name, t)
            self.history.append(self._record(t, envs, False))
            if t in self.shown:
                self._show(t, envs, ops, False)
            self._roll(envs)
        else:
            self.theta = [env[TH_P] for env in envs]
            return
        self._numeric(t, envs)

    def _fail(self, t: int, op: Op) -> InputError:
        if op.out in (TH, B, DELTA) and self.c.hp.get("eps", 1) == 0:
            return InputError("--eps", f"is 0 and the denominator of step {t} is 0 (a zero gradient), so the "
                                       "update divides by zero; give --eps > 0")
        return InputError(None, f"{op.title} at step {t} is not a finite real number")

    def _roll(self, envs: list[dict]) -> None:
        for env in envs:
            for cur, prev in _ROLL.items():
                if cur in env:
                    env[prev] = env.pop(cur)

    def _needs_numeric(self, t: int, envs: list[dict]) -> str | None:
        if t > (SYMBOLIC_MAX_STEPS if self.symbolic else EXACT_MAX_STEPS):
            return f"exact work is limited to {EXACT_MAX_STEPS} steps"
        if t * self.n > EXACT_MAX_WORK:
            return f"exact work is limited to {EXACT_MAX_WORK} steps × components"
        cap = SYMBOLIC_MAX_NODES if self.symbolic else EXACT_MAX_NODES
        for env in envs:
            for sym in (TH_P, *_ROLL.values()):
                if sym in env and _nodes(env[sym], cap) > cap:
                    return "the exact forms grew too long"
        return None

    def _exact_gradient(self, envs: list[dict], t: int) -> list[Any]:
        at = dict(zip(self.variables, [env[TH_P] for env in envs]))
        out = [e.xreplace(at) for e in self.grad_exprs]
        for g in out:
            if g.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
                raise InputError("--loss", f"has no finite real gradient at θ{_sub(t - 1)} = "
                                           f"{_stepping._approx(list(at.values()))} (step {t})")
        return out

    def _numeric(self, t0: int, envs: list[dict]) -> None:
        with decimal.localcontext(_context()):
            try:
                self._numeric_loop(t0, envs)
            except decimal.DecimalException as exc:
                raise InputError(None, f"the numeric run failed ({type(exc).__name__}): a value is not a "
                                       "finite real number (a division by zero or the root of a negative "
                                       "number)") from None

    def _numeric_loop(self, t0: int, envs: list[dict]) -> None:
        c = self.c
        consts = {k: v for k, v in self.hp_env.items()}
        denv = [{k: _to_dec(v) for k, v in env.items() if k not in consts and v is not None}
                for env in envs]
        closures = [_compile(e, self.variables) for e in self.grad_exprs] if self.grad_exprs is not None else None
        given = [[_to_dec(x) for x in g] for g in self.given[t0 - 1:]] if closures is None else []
        g_fn = _compile_op(self.g_rhs, consts)
        compiled: dict[bool, list[tuple[Op, Callable]]] = {}
        huge = HUGE
        states = [sym for _, sym in self.states] + [TH]
        roll = [(cur, prev) for cur, prev in _ROLL.items() if any(op.out is cur for op in _ops(c, 2))]
        for t in progress(range(t0, self.T + 1), self.T - t0 + 1, f"{TORCH_CLASS[c.method]} steps"):
            first = t == 1
            if first not in compiled:
                compiled[first] = [(op, _compile_op(op.rhs, consts)) for op in _ops(c, t)]
            if closures is None:
                raw = given[t - t0]
            else:
                raw = _stepping._numeric_gradient(closures, [e[TH_P] for e in denv], t)
            dt = decimal.Decimal(t)
            for env, r in zip(denv, raw):
                env[GRAW] = r
                env[T] = dt
                env[G] = g_fn(env)
                for op, fn in compiled[first]:
                    env[op.out] = fn(env)
                for sym in states:
                    v = env[sym]
                    if not v.is_finite() or abs(v) > huge:
                        raise _diverges("θ" if sym is TH else next(k for k, s in self.states if s is sym), t)
            self.history.append(self._record(t, denv, True))
            if t in self.shown:
                floats = [{k: (v if k in consts else _dec_to_float(v)) for k, v in env.items()} for env in denv]
                for fl in floats:
                    fl.update(self.hp_env)
                    fl[T] = sympy.Integer(t)
                self._show(t, floats, [op for op, _ in compiled[first]], True)
            for env in denv:
                for cur, prev in roll:
                    env[prev] = env[cur]
        self.theta = [_dec_to_float(env[TH_P]) for env in denv]


_HUGE_EXACT = sympy.Integer(10) ** 300


def _diverges(name: str, t: int) -> InputError:
    return InputError(None, f"the run diverges: {name} passes 1e300 at step {t}, beyond the range of float64 "
                            "(a smaller --lr may help)")


def P_text(x: Any) -> str:
    """An expression as the board prints it, for a title."""
    return written(x).text


def _shown(x: Any, numeric: bool) -> Any:
    """A value as it is put into a formula: exact when short, else a 40-digit decimal."""
    return x if numeric else _compact(as_sympy(x))


# --------------------------------------------------------------------------- conventions


def _conventions(c: _Config, from_loss: bool, switched_at: int | None) -> dict[str, str]:
    out = {"method": f"{_torch_call(c)} as its single-tensor code; every default is PyTorch's for this method"}
    out["gradient"] = ("∂L/∂θ by SymPy, taken at θ_{t−1}" if from_loss else "given per step (--grad)") + \
        ("; negated (--maximize: gradient ascent)" if c.maximize else "")
    out["weight decay"] = (
        "L2 as PyTorch's weight_decay: g_t = ∇L(θ_{t−1}) + λ·θ_{t−1}, before any state" if c.l2 else
        "decoupled as torch.optim.AdamW: θ̃ = θ_{t−1}·(1 − η·λ) before the update, not in exp_avg or exp_avg_sq"
        if c.decoupled else "none")
    out.update(_momentum_conventions(c) if c.method == "sgd" else _state_conventions(c))
    out["history"] = ("g is the gradient as it enters the state (after --maximize and L2 weight decay); "
                      "the states are optimizer.state's, after the step")
    out["arithmetic"] = (
        "exact" if switched_at is None else
        f"numeric: decimal arithmetic with {DPS} significant digits" if switched_at == 1 else
        f"exact for steps 1 to {switched_at - 1}, then numeric: decimal arithmetic with {DPS} significant digits")
    return out


#: the boolean arguments of each method's torch.optim class that the call shows
TORCH_FLAGS = {"sgd": ["nesterov"], "rmsprop": ["centered"], "adam": ["amsgrad"], "adamw": ["amsgrad"],
               "amsgrad": ["amsgrad"]}


def _torch_call(c: _Config) -> str:
    """torch.optim.Adam(lr=0.001, betas=(0.9, 0.999), …): the optimizer as PyTorch would be called."""
    m, hp = c.method, c.hp
    parts = []
    for k, v in hp.items():
        if k == "beta1":
            parts.append(f"betas=({said(v)}, {said(hp['beta2'])})")
        elif k != "beta2":
            parts.append(f"{k}={said(v)}")
    parts += [f"{f}={m == 'amsgrad' if f == 'amsgrad' else getattr(c, f)}" for f in TORCH_FLAGS.get(m, [])]
    parts.append(f"maximize={c.maximize}")
    return f"torch.optim.{'Adam' if m == 'amsgrad' else TORCH_CLASS[m]}({', '.join(parts)})"


def _momentum_conventions(c: _Config) -> dict[str, str]:
    """SGD's momentum: none, PyTorch's form (b₁ = g₁) or the EMA form; heavy-ball or Nesterov."""
    if not c.momentum:
        return {"momentum": "none: θ_t = θ_{t−1} − η·g_t"}
    if c.form == "ema":
        momentum = ("EMA form (--momentum-form ema, Andrew Ng's course): b₀ = 0, "
                    "b_t = μ·b_{t−1} + (1 − μ)·g_t — not PyTorch's")
    else:
        momentum = ("PyTorch's form: b₁ = g₁ (the first step copies the gradient, no dampening), "
                    "then b_t = μ·b_{t−1} + (1 − τ)·g_t" if c.first_copy else
                    "b₀ = 0, b_t = μ·b_{t−1} + (1 − τ)·g_t from the first step (a variant)")
    return {"momentum": momentum, "update": ("Nesterov: θ_t = θ_{t−1} − η·(g_t + μ·b_t)" if c.nesterov else
                                             "heavy-ball: θ_t = θ_{t−1} − η·b_t")}


def _state_conventions(c: _Config) -> dict[str, str]:
    """Where ε goes, the states and their starting values, Adam's bias correction."""
    m = c.method
    if m == "adadelta":
        out = {"ε": ("inside both roots, √(u + ε)/√(v + ε), as PyTorch" if c.eps_inside else
                     "outside the roots, (√u + ε)/(√v + ε) (a variant, not PyTorch's)"),
               "states": "square_avg v₀ = 0, acc_delta u₀ = 0"}
        return out
    out = {"ε": ("inside the square root, √(s + ε), as d2l writes RMSProp and Adagrad (--eps-inside); "
                 "PyTorch adds it outside" if c.eps_inside else "outside the square root, √s + ε, as PyTorch")}
    if m == "rmsprop":
        out["states"] = ("square_avg v₀ = 0" + (", grad_avg ḡ₀ = 0 (centered: √(v − ḡ²))" if c.centered else "")
                         + (", momentum_buffer b₀ = 0, b_t = μ·b_{t−1} + g_t/(√v_t + ε)" if c.momentum else ""))
    elif m == "adagrad":
        out["states"] = "sum s₀ = initial_accumulator_value; clr_t = η/(1 + (t − 1)·lr_decay)"
    else:
        out["states"] = "exp_avg m₀ = 0, exp_avg_sq v₀ = 0" + (
            ", max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq) on the raw v_t" if m == "amsgrad" else "")
        out["bias correction"] = ("m̂_t = m_t/(1 − β₁ᵗ), v̂_t = v_t/(1 − β₂ᵗ)" if c.bias_correction
                                  else "none (a variant)")
    return out


# --------------------------------------------------------------------------- --check


def _eps_side(kw: dict[str, Any], to_inside: bool) -> dict[str, Any] | None:
    m = kw.get("method")
    if m == "sgd":
        return None
    inside = (m == "adadelta") if kw.get("eps_inside") is None else bool(kw.get("eps_inside"))
    return {"eps_inside": to_inside} if inside != to_inside else None


def _momentum(kw: dict[str, Any]) -> bool:
    mom = kw.get("momentum")
    return kw.get("method") == "sgd" and mom is not None and _on(as_sympy(mom))


def _forgot_decay(kw: dict[str, Any]) -> dict[str, Any] | None:
    wd = kw.get("weight_decay")
    if wd is None:
        wd = PARAMS.get(kw.get("method"), {}).get("weight_decay", 0)
    return {"weight_decay": sympy.Integer(0)} if _on(as_sympy(wd)) else None


def _to_ema(kw: dict[str, Any]) -> dict[str, Any] | None:
    if not _momentum(kw) or (kw.get("momentum_form") or "torch") != "torch":
        return None
    return {"momentum_form": "ema", "dampening": None, "nesterov": kw.get("nesterov", False)}


def _to_torch(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"momentum_form": "torch"} if _momentum(kw) and kw.get("momentum_form") == "ema" else None


def _dampened_first(kw: dict[str, Any]) -> dict[str, Any] | None:
    d = kw.get("dampening")
    if not _momentum(kw) or (kw.get("momentum_form") or "torch") != "torch" or d is None or not _on(as_sympy(d)):
        return None
    return {"first_step_copy": False}


#: common mistakes, as variants of the same exercise (see :mod:`dlcalc.check`)
MISTAKES = (
    Mistake("used heavy-ball momentum instead of Nesterov (θ − η·b_t rather than θ − η·(g_t + μ·b_t))",
            lambda kw: {"nesterov": False} if kw.get("nesterov") else None),
    Mistake("used Nesterov momentum instead of heavy-ball (θ − η·(g_t + μ·b_t) rather than θ − η·b_t)",
            lambda kw: {"nesterov": True} if _momentum(kw) and not kw.get("nesterov") else None),
    Mistake("used the EMA momentum form b_t = μ·b_{t−1} + (1 − μ)·g_t instead of PyTorch's "
            "b_t = μ·b_{t−1} + g_t", _to_ema),
    Mistake("used PyTorch's momentum form b_t = μ·b_{t−1} + g_t instead of the EMA form "
            "b_t = μ·b_{t−1} + (1 − μ)·g_t", _to_torch),
    Mistake("put ε inside the square root, √(s + ε), instead of outside", lambda kw: _eps_side(kw, True)),
    Mistake("put ε outside the square root, √s + ε, instead of inside", lambda kw: _eps_side(kw, False)),
    Mistake("forgot the weight decay", _forgot_decay),
    Mistake("applied the dampening at the first step too (PyTorch copies b₁ = g₁)", _dampened_first),
    Mistake("forgot Adam's bias correction (used m_t and v_t for m̂_t and v̂_t)",
            lambda kw: {"bias_correction": False} if kw.get("method") in ADAM_FAMILY else None),
    Mistake("forgot to negate the gradient for --maximize",
            lambda kw: {"maximize": False} if kw.get("maximize") else None),
)


# --------------------------------------------------------------------------- --plot


def plot(solution: Solution, fig: Any) -> None:
    """θ over the loss's contour lines for two parameters with ``--loss``; else θ (and the
    loss) against t."""
    th0 = solution.inputs["theta"]
    vector = isinstance(th0, (list, tuple))
    path = [[_finite(x) for x in (th if vector else [th])]
            for th in [th0, *(h["theta"] for h in solution.result["history"][:2000])]]
    loss = solution.inputs.get("loss")
    method = solution.inputs.get("method", "")
    if loss is not None and len(path[0]) == 2:
        _plot_contours(fig, path, loss, method)
    else:
        _plot_against_t(fig, path, loss, vector, method)


def _finite(x: Any) -> float:
    import math

    try:
        f = float(x)
    except (TypeError, ValueError):
        raise InputError("--plot", "needs numbers, but the run is symbolic") from None
    if not math.isfinite(f):
        raise InputError("--plot", f"needs finite numbers, got {f}")
    return f


def _plot_contours(fig: Any, path: list[list[float]], loss: Any, method: str) -> None:
    """The path of (θ₁, θ₂) over the contour lines of the loss."""
    import numpy as np

    from dlcalc.parse import symbol

    fn = sympy.lambdify([symbol("theta1"), symbol("theta2")], loss, "numpy")
    xs, ys = [p[0] for p in path], [p[1] for p in path]
    pad_x = max(max(xs) - min(xs), 1e-3) * 0.2
    pad_y = max(max(ys) - min(ys), 1e-3) * 0.2
    X, Y = np.meshgrid(np.linspace(min(xs) - pad_x, max(xs) + pad_x, 200),
                       np.linspace(min(ys) - pad_y, max(ys) + pad_y, 200))
    with np.errstate(all="ignore"):
        Z = np.broadcast_to(np.asarray(fn(X, Y), dtype=float), X.shape)
    ax = fig.add_subplot(1, 1, 1)
    if np.isfinite(Z).any():
        ax.contour(X, Y, Z, levels=20, cmap="viridis", linewidths=0.8)
    ax.plot(xs, ys, "o-", color="tab:red", ms=3, label=f"{method}, {len(path) - 1} steps")
    ax.set_xlabel("θ₁")
    ax.set_ylabel("θ₂")
    ax.set_title(f"{method} on L = {P_text(loss)[:60]}", fontsize=9)
    ax.legend(fontsize=8)


def _plot_against_t(fig: Any, path: list[list[float]], loss: Any, vector: bool, method: str) -> None:
    """θ against t, and beside it the loss at θ_t when there is one."""
    n = len(path[0])
    ax = fig.add_subplot(1, 2 if loss is not None else 1, 1)
    ts = list(range(len(path)))
    for i in range(n):
        ax.plot(ts, [p[i] for p in path], label="θ" if n == 1 else f"θ{i + 1}")
    ax.set_xlabel("step t")
    ax.set_ylabel("θ_t")
    ax.set_title(f"{method}: θ against t")
    if n <= 10:
        ax.legend(fontsize=8)
    if loss is None:
        return
    from dlcalc.parse import symbol

    names = [symbol("theta")] if not vector else [symbol(f"theta{i + 1}") for i in range(n)]
    f = sympy.lambdify(names, loss, "math")
    values = []
    for p in path:
        try:
            values.append(float(f(*p)))
        except (ValueError, OverflowError, ZeroDivisionError):
            values.append(float("nan"))
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.plot(ts, values, color="tab:orange")
    ax2.set_xlabel("step t")
    ax2.set_title("loss at θ_t")
