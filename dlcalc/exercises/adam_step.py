"""adam-step: Adam, AdamW and AMSGrad step by step, with the bias-correction derivation.

Semantics are exactly PyTorch's ``torch.optim.Adam`` / ``torch.optim.AdamW``:

* t starts at 1, m₀ = v₀ = 0; g_t is the gradient at θ_{t−1} (negated with ``maximize``).
* L2 weight decay (Adam): g_t ← g_t + λ·θ_{t−1}, so it enters the moments.
  Decoupled (AdamW): θ ← θ·(1 − η·λ) before the update, outside the moments.
* m_t = β₁ m_{t−1} + (1 − β₁) g_t,  v_t = β₂ v_{t−1} + (1 − β₂) g_t²  (elementwise);
  m̂_t = m_t/(1 − β₁ᵗ),  v̂_t = v_t/(1 − β₂ᵗ),  θ_t = θ_{t−1} − η·m̂_t/(√v̂_t + ε).
* AMSGrad: v_maxₜ = max(v_maxₜ₋₁, v_t) on the raw v_t, and v̂_t = v_maxₜ/(1 − β₂ᵗ).

The arithmetic is exact (SymPy) while the exact forms stay short; past a size limit, or
past :data:`EXACT_MAX_STEPS` steps, the run continues in decimal arithmetic with :data:`DPS`
significant digits (Python's ``decimal``; mpmath for sin, cos, tanh and the like), and the
solution says so in its notes and conventions.  Gradients from ``--loss``
are differentiated once by SymPy and evaluated numerically through small closures (no
per-step SymPy substitution), so 1000 steps cost a fraction of a second.

:func:`solve` is a pure function of its inputs and convention flags; it never prints.
"""

from __future__ import annotations

import decimal
import functools
import math
from typing import Any, Callable, Sequence

import mpmath
import sympy

from dataclasses import dataclass

from dlcalc.core import (Math, Mistake, Shown, Solution, Step, as_kwargs, as_sympy, progress,
                         said, xreplace_unevaluated)
from dlcalc.errors import InputError
from dlcalc.parse import (parse_expr_text, parse_int, parse_scalar, parse_value, read_source,
                          symbol)
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

MAX_STEPS = 100_000          # --steps
MAX_GRADS = 10_000           # number of --grad values
MAX_GRAD_CHARS = 2_000_000   # characters of all --grad values together
MAX_COMPONENTS = 10_000      # entries of θ
MAX_LOSS_COMPONENTS = 100    # entries of θ with --loss (one SymPy derivative each)
MAX_WORK = 100_000           # steps × components (numeric work and history size)
EXACT_MAX_STEPS = 10         # exact arithmetic for at most this many steps ...
EXACT_MAX_NODES = 120        # ... while every exact value has at most this many nodes
EXACT_MAX_BITS = 2_000       # ... and no rational with more bits than this
SYMBOLIC_MAX_STEPS = 10      # symbolic inputs cannot fall back to numerics
SYMBOLIC_MAX_NODES = 1_500
EXACT_MAX_WORK = 60          # exact (and symbolic) runs: at most this many steps × components
SHOW_ALL = 6                 # runs of at most this many steps show every step
SHOW_HEAD, SHOW_TAIL = 3, 2  # longer runs: the first and last few
SHOW_COMPONENTS = 4          # vectors up to this size show the numbers put in, per component
DPS = 40                     # significant digits of the numeric path (at least 30 asked)
HUGE = decimal.Decimal("1e300")  # a value beyond this is refused (outside float64)

DEFAULTS = {"lr": sympy.Rational(1, 1000), "beta1": sympy.Rational(9, 10),
            "beta2": sympy.Rational(999, 1000), "eps": sympy.Rational(1, 10**8),
            "weight_decay": sympy.Integer(0)}

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sub(t: int) -> str:
    return str(t).translate(_SUB)


def _sup(t: int) -> str:
    return str(t).translate(_SUP)


def _compact(x: Any) -> Any:
    """A number as it is put into a formula: its exact form when short, else a decimal."""
    if not isinstance(x, sympy.Expr) or isinstance(x, sympy.Float) or not x.is_number:
        return x
    if x.is_Rational:
        q = int(x.q)
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if len(str(abs(x.p))) + len(str(x.q)) <= (24 if q == 1 else 10):
            return x
    elif _nodes(x, 6) <= 6:
        return x
    return sympy.Float(x.evalf(DPS), DPS)


def _put(expr: Any, values: dict) -> Any:
    """``expr`` with the numbers put in, left unevaluated (one shown number per symbol).

    The leaves are swapped with evaluation off: the template is already in SymPy's
    canonical form, and skipping the assumption queries makes this ~10× cheaper.
    """
    return xreplace_unevaluated(expr, {k: Shown(_compact(v)) for k, v in values.items()})


#: λ in the loss-gradient formula put to numbers (the other formulas are typed templates)
_LAM = sympy.Symbol("lambda")


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
    return Inputs(**parse_args(theta=theta, grad=grad, loss=loss, steps=steps, lr=lr, beta1=beta1,
                               beta2=beta2, eps=eps, weight_decay=weight_decay),
                  decoupled=decoupled, amsgrad=amsgrad, maximize=maximize)


def parse_args(*, theta: str, grad: Sequence[str] | None, loss: str | None, steps: str | None,
               lr: str, beta1: str, beta2: str, eps: str, weight_decay: str) -> dict[str, Any]:
    """The CLI strings, parsed with :mod:`dlcalc.parse`, as keyword arguments of :func:`work`."""
    parsed = parse_gradients(grad, loss)
    out: dict[str, Any] = {
        "theta": parse_value(theta, "--theta", kinds=("scalar", "vector")),
        "grads": parsed or None,
        "loss": parse_expr_text(read_source(loss, "--loss"), "--loss") if loss is not None else None,
        "steps": parse_int(steps, "--steps", lo=1, hi=MAX_STEPS) if steps is not None else None,
    }
    for key, text in (("lr", lr), ("beta1", beta1), ("beta2", beta2), ("eps", eps),
                      ("weight_decay", weight_decay)):
        out[key] = parse_scalar(text, "--" + key.replace("_", "-"))
    return out


def parse_gradients(grad: Sequence[str] | None, loss: str | None) -> list[Any]:
    """``--grad`` given once per step (bounded in count and total size), or none with
    ``--loss``; exactly one of the two (shared by adam-step and optim-step)."""
    grads = list(grad or [])
    if grads and loss is not None:
        raise InputError("--loss", "cannot be combined with --grad: give the gradients (--grad, "
                                   "once per step) or a loss to differentiate (--loss), not both")
    if not grads and loss is None:
        raise InputError("--grad", "is missing: give --grad once per step, or --loss EXPR with --steps N")
    if len(grads) > MAX_GRADS:
        raise InputError("--grad", f"is given {len(grads):,} times; at most {MAX_GRADS:,} steps of given "
                                   "gradients (use --loss with --steps for long runs)")
    parsed, total = [], 0
    for g in grads:
        text = read_source(g, "--grad")
        total += len(text)
        if total > MAX_GRAD_CHARS:
            raise InputError("--grad", f"values are longer than {MAX_GRAD_CHARS:,} characters together")
        if text.strip() == "-" or text.lstrip().startswith("@"):
            raise InputError("--grad", "read from a file or standard input must hold numbers, not another @PATH or -")
        parsed.append(parse_value(text, "--grad", kinds=("scalar", "vector")))
    return parsed


# --------------------------------------------------------------------------- validation


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


def _below(value: Any, bound: Any) -> bool:
    """value < bound for real numbers, decided also when they differ only far beyond 15
    digits (β₂ = sqrt(1 − 1e-300)), where SymPy's ``<`` cannot tell."""
    try:
        return bool(value < bound)
    except TypeError:
        diff = sympy.N(value - bound, 15, maxn=4000)
        if diff.is_comparable and diff != 0:
            return bool(diff < 0)
        return False  # equal to all the digits SymPy can resolve: treated as the bound itself


def _as_components(value: Any, n: int | None, option: str, what: str) -> list[Any]:
    """A scalar or a list as a list of components, matching θ's shape when ``n`` is given."""
    comps = list(value) if isinstance(value, (list, tuple)) else [value]
    for c in comps:
        if isinstance(c, (list, tuple)):
            raise InputError(option, f"{what} must be a scalar or a vector, not a matrix")
    if n is not None and len(comps) != n:
        got = "is a scalar" if not isinstance(value, (list, tuple)) else f"has {len(comps)} components"
        shape = "is a scalar" if n == 1 else f"has {n} components"
        raise InputError(option, f"{what} {got}, but θ {shape}")
    out = []
    for c in comps:
        c = as_sympy(c)
        if c.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo) or (c.is_number and c.is_real is False):
            raise InputError(option, f"{what} must be finite real numbers, got {said(c)}")
        out.append(c)
    return out


def loss_variables(n: int, vector: bool) -> list[sympy.Symbol]:
    """The loss variables: ``theta`` for a scalar θ, ``theta1 … thetaN`` for a vector."""
    return [symbol(f"theta{i + 1}") for i in range(n)] if vector else [symbol("theta")]


# --------------------------------------------------------------------------- sizes


def _nodes(x: Any, cap: int) -> int:
    """Tree size of an exact value (counting each rational's size), stopping past ``cap``."""
    count, stack = 0, [x]
    while stack:
        e = stack.pop()
        count += 1
        if e.is_Rational:
            if max(int(e.p).bit_length(), int(e.q).bit_length()) > EXACT_MAX_BITS:
                return cap + 1
        elif e.args:
            stack.extend(e.args)
        if count > cap:
            break
    return count


# --------------------------------------------------------------------------- numeric closures


def _context(extra: int = 0) -> decimal.Context:
    """The numeric path's arithmetic: DPS (+ ``extra``) significant digits; invalid operations raise."""
    return decimal.Context(prec=DPS + extra, Emax=10**6, Emin=-10**6,
                           traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


#: a β closer to 1 than this (1 − β < 10^-MAX_LOST_DIGITS) is refused for a numeric run
MAX_LOST_DIGITS = 400
#: an irrational β this close to 1 is run numerically from the first step: SymPy's evalf of
#: its exact forms (1 − √(1 − 1e-300))/4 cannot resolve the cancellation and shows noise
IRRATIONAL_NEAR_ONE = sympy.Rational(1, 10**20)


def _lost_digits(p: dict[str, Any]) -> int:
    """The digits that 1 − β and 1 − βᵗ lose to cancellation: the numeric run carries them on
    top of DPS, so that β₂ = 1 − 1e-30 keeps its 30 correct digits."""
    lost = 0
    for key, option in (("beta1", "--beta1"), ("beta2", "--beta2")):
        d = sympy.N(1 - p[key], 5, maxn=4000)
        if d.is_comparable and 0 < d < 1:
            k = int(math.ceil(-math.log10(float(d)))) if float(d) > 0 else MAX_LOST_DIGITS + 1
            if k > MAX_LOST_DIGITS:
                raise InputError(option, f"is within 1e-{MAX_LOST_DIGITS} of 1, too close for the numeric run "
                                         "to resolve 1 − β; give β farther from 1")
            lost = max(lost, k)
    return lost


def _to_dec(x: Any) -> decimal.Decimal:
    """An exact SymPy number as a Decimal, correctly rounded to the current context."""
    if x.is_Rational:
        return decimal.Decimal(int(x.p)) / decimal.Decimal(int(x.q))
    v = x.evalf(decimal.getcontext().prec + 10)
    if not v.is_Float:
        raise InputError(None, f"{sympy.sstr(x)[:40]} is not a finite real number")
    return +decimal.Decimal(str(v))


def _dec_to_float(d: decimal.Decimal) -> sympy.Float:
    """A Decimal as a SymPy Float carrying all its digits."""
    return sympy.Float(str(d), DPS)


class HighFloat(float):
    """A float64 that keeps the 40-digit decimal it was rounded from.

    JSON encodes it as the plain float (``result``); ``repr`` gives every digit, so the
    ``exact`` string of a numeric history entry keeps the full precision; ``str`` is a
    short decimal for the text table, in the style of the other decimals.
    """

    __slots__ = ("dec",)

    def __new__(cls, d: decimal.Decimal) -> "HighFloat":
        obj = float.__new__(cls, d)
        obj.dec = d
        return obj

    def __repr__(self) -> str:
        return str(self.dec).replace("E", "e")

    def __str__(self) -> str:
        return "≈ " + format(self.dec, ".6g").replace("E", "e")


def _via_mpmath(fn: Callable[[Any], Any]) -> Callable[[decimal.Decimal], decimal.Decimal]:
    """A Decimal function computed by mpmath (for the functions ``decimal`` lacks)."""
    def f(d: decimal.Decimal) -> decimal.Decimal:
        with mpmath.workdps(DPS + 10):
            r = fn(mpmath.mpf(str(d)))
            if not isinstance(r, mpmath.mpf):
                raise decimal.InvalidOperation("not real")
            return +decimal.Decimal(mpmath.nstr(r, DPS + 10, strip_zeros=False))
    return f


def _sign(d: decimal.Decimal) -> decimal.Decimal:
    return decimal.Decimal((d > 0) - (d < 0))


_DEC_FUNCS: dict[Any, Callable[[Any], Any]] = {
    sympy.exp: decimal.Decimal.exp, sympy.log: decimal.Decimal.ln, sympy.Abs: abs, sympy.sign: _sign,
    sympy.sin: _via_mpmath(mpmath.sin), sympy.cos: _via_mpmath(mpmath.cos), sympy.tan: _via_mpmath(mpmath.tan),
    sympy.tanh: _via_mpmath(mpmath.tanh), sympy.sinh: _via_mpmath(mpmath.sinh),
    sympy.cosh: _via_mpmath(mpmath.cosh),
}


def _compile(expr: Any, variables: list[Any]) -> Callable[[Sequence[Any]], Any]:
    """A plain Python closure computing ``expr`` from the values of ``variables`` (Decimals).

    Built once from the SymPy tree (no string, no eval); each call costs a few
    microseconds, against milliseconds for a SymPy substitution.
    """
    index = {v: k for k, v in enumerate(variables)}

    def build(e: Any) -> Callable[[Sequence[Any]], Any]:
        if e in index:
            k = index[e]
            return lambda x: x[k]
        if e.is_number:
            c = _to_dec(e)
            return lambda x: c
        if e.is_Add or e.is_Mul:
            fs = [build(a) for a in e.args]
            add = e.is_Add
            if len(fs) == 2:
                f0, f1 = fs
                return (lambda x: f0(x) + f1(x)) if add else (lambda x: f0(x) * f1(x))

            def many(x: Sequence[Any]) -> Any:
                acc = fs[0](x)
                for f in fs[1:]:
                    acc = acc + f(x) if add else acc * f(x)
                return acc
            return many
        if e.is_Pow:
            fb, ex = build(e.base), e.exp
            if ex.is_Integer:
                n = int(ex)
                if n == 2:
                    return lambda x: fb(x) * fb(x)
                if n == -1:
                    return lambda x: 1 / fb(x)
                return lambda x: fb(x) ** n
            if ex == sympy.S.Half:
                return lambda x: fb(x).sqrt()
            if ex == -sympy.S.Half:
                return lambda x: 1 / fb(x).sqrt()
            fe = build(ex)
            return lambda x: fb(x) ** fe(x)
        fn = _DEC_FUNCS.get(e.func)
        if fn is not None and len(e.args) == 1:
            fa = build(e.args[0])
            return lambda x: fn(fa(x))
        raise InputError("--loss", f"has a gradient with {e.func.__name__}, which cannot be evaluated numerically")

    return build(expr)


# --------------------------------------------------------------------------- one step


class _ExactOps:
    sqrt = staticmethod(sympy.sqrt)
    max = staticmethod(lambda a, b: sympy.Max(a, b))


class _NumOps:
    sqrt = staticmethod(decimal.Decimal.sqrt)
    max = staticmethod(lambda a, b: a if a >= b else b)


def _constants(p: dict[str, Any], one: Any) -> dict[str, Any]:
    """The per-run constants of the update, in the arithmetic of ``one`` (SymPy or Decimal)."""
    return {"b1": p["beta1"], "b2": p["beta2"], "omb1": one - p["beta1"], "omb2": one - p["beta2"],
            "lr": p["lr"], "eps": p["eps"], "wd": p["weight_decay"],
            "decay": one - p["lr"] * p["weight_decay"]}


def _advance(state: dict[str, list], raw: list[Any], bc1: Any, bc2: Any, k: dict[str, Any],
             p: dict[str, Any], ops: Any, rules: dict[str, bool]) -> dict[str, list]:
    """State after one step: the same arithmetic for SymPy values and Decimals.

    ``state`` has theta, m, v, vmax (lists, one entry per component); ``raw`` is the
    gradient as given or computed (before maximize / L2); ``bc1``, ``bc2`` are this
    step's bias corrections 1 − βᵗ; ``k`` holds :func:`_constants`.  The order of the
    operations is PyTorch's single-tensor Adam.
    """
    b1, b2, omb1, omb2, lr, eps, wd, decay = (k["b1"], k["b2"], k["omb1"], k["omb2"], k["lr"], k["eps"],
                                               k["wd"], k["decay"])
    maximize, l2, decoupled, amsgrad = p["maximize"], p["l2"], p["decoupled_on"], p["amsgrad"]
    square, inside = rules["square_grad"], rules["eps_inside_sqrt"]
    sqrt = ops.sqrt
    gs, tds, ms, vs, vmaxs, mhs, vhs, dens, ths = [], [], [], [], [], [], [], [], []
    for th, m, v, vmax, g in zip(state["theta"], state["m"], state["v"], state["vmax"], raw):
        if maximize:
            g = -g
        if l2:
            g = g + wd * th
        th_d = th * decay if decoupled else th
        m = b1 * m + omb1 * g
        v = b2 * v + omb2 * (g * g if square else g)
        vmax = ops.max(vmax, v) if amsgrad else v
        m_hat = m / bc1
        v_hat = vmax / bc2
        denom = sqrt(v_hat + eps) if inside else sqrt(v_hat) + eps
        gs.append(g)
        tds.append(th_d)
        ms.append(m)
        vs.append(v)
        vmaxs.append(vmax)
        mhs.append(m_hat)
        vhs.append(v_hat)
        dens.append(denom)
        ths.append(None if denom == 0 else th_d - lr * m_hat / denom)
    return {"g": gs, "theta_d": tds, "m": ms, "v": vs, "vmax": vmaxs, "m_hat": mhs, "v_hat": vhs,
            "denom": dens, "theta": ths}


# --------------------------------------------------------------------------- the working


def _atom(x: Any) -> tuple[str, str]:
    """A number as put into a formula, as (text, LaTeX): exact when short (0.9, 15/38, 1e-8),
    else 6 significant digits; bracketed where a product or a power needs it."""
    from dlcalc import printing as P

    x = _compact(x)
    if isinstance(x, sympy.Float):
        t = P.decimal_str(x, 6)
        neg, frac, compound = t.startswith("-"), False, False
    elif isinstance(x, sympy.Rational):
        d = P.short_decimal(x)
        t = d if d is not None else f"{x.p}/{x.q}"
        neg, frac, compound = x < 0, d is None, False
    else:
        t = P.text(x)
        neg, frac, compound = False, False, not (x.is_Symbol or x.is_Atom)
        tex = P.latex(x)
        return (f"({t})" if compound else t), (rf"\left({tex}\right)" if compound else tex)
    if frac:
        tex = ("-" if neg else "") + rf"\frac{{{abs(int(x.p))}}}{{{int(x.q)}}}"
    elif "e" in t:
        mant, exp = t.split("e")
        tex = rf"{mant} \cdot 10^{{{int(exp)}}}"
    else:
        tex = t
    if neg or frac:
        t = f"({t})"
    if neg or (frac and neg) or r"\cdot" in tex:
        tex = rf"\left({tex}\right)"
    return t, tex


def _base(x: Any) -> tuple[str, str]:
    """``_atom`` for the base of a power: a LaTeX fraction needs brackets there too, and so
    does a symbol with a superscript (a__b is a^{b}; a^{b}^{2} is a "Double superscript",
    and so is {\\hat{x}^{2}}^{2}), as SymPy brackets it in the value lines."""
    t, tex = _atom(x)
    if tex.startswith(r"\frac") or ("^" in tex and not tex.startswith(r"\left(")):
        return t, rf"\left({tex}\right)"
    return t, tex


class _Board:
    """Builds the steps of one shown t: typed general formula → numbers put in → value.

    The numbers are put into the same typed formula (one ``Math`` per component), in the
    order the formula is written; only the loss gradient, a user expression, goes through
    SymPy substitution.
    """

    def __init__(self, p: dict[str, Any], rules: dict[str, bool], n: int, vector: bool,
                 grad_exprs: list[Any] | None, variables: list[Any]) -> None:
        self.p, self.rules, self.n, self.vector = p, rules, n, vector
        self.grad_exprs, self.variables = grad_exprs, variables
        self.show_numbers = n <= SHOW_COMPONENTS
        self.b1, self.b2 = _atom(p["beta1"]), _atom(p["beta2"])
        self.lr, self.eps, self.wd = _atom(p["lr"]), _atom(p["eps"]), _atom(p["weight_decay"])

    def _v(self, comps: list[Any]) -> Any:
        return comps if self.vector else comps[0]

    def _fill(self, fill: Callable[[int], Math]) -> Any:
        if not self.show_numbers:
            return None
        return self._v([fill(i) for i in range(self.n)])

    def steps(self, t: int, prev: dict[str, list], raw: list[Any], cur: dict[str, list],
              section: str) -> list[Step]:
        p, r = self.p, self.rules
        s, q = _sub(t), _sub(t - 1)
        vec = " (elementwise)" if self.vector else ""
        b1, b2, lr, eps, wd = self.b1, self.b2, self.lr, self.eps, self.wd
        out: list[Step] = []

        # the gradient that enters the moments
        minus = p["maximize"]
        text = ("−" if minus else "") + f"∇L(θ{q})" + (f" + λ·θ{q}" if p["l2"] else "")
        tex = ("-" if minus else "") + rf"\nabla L(\theta_{{{t - 1}}})" + \
            (rf" + \lambda \theta_{{{t - 1}}}" if p["l2"] else "")
        if self.grad_exprs is None:
            title = "gradient g" + s + (" (given)" if not (minus or p["l2"]) else "")

            def fill_g(i: int) -> Math:
                g, th = _atom(raw[i]), _atom(prev["theta"][i])
                sg = "−" if minus else ""
                sgt = "-" if minus else ""
                if p["l2"]:
                    return Math(f"{sg}{g[0]} + {wd[0]}·{th[0]}", rf"{sgt}{g[1]} + {wd[1]} \cdot {th[1]}")
                return Math(f"{sg}{g[0]}", f"{sgt}{g[1]}")
            subst = self._fill(fill_g) if (minus or p["l2"]) else None
        else:
            title = "gradient g" + s + " of the loss at θ" + q
            subst = None
            if self.show_numbers:
                sign = -1 if minus else 1
                comps = []
                for i in range(self.n):
                    e = sign * self.grad_exprs[i] + (_LAM * self.variables[i] if p["l2"] else 0)
                    vals = {v: prev["theta"][k] for k, v in enumerate(self.variables)}
                    vals[_LAM] = p["weight_decay"]
                    comps.append(_put(e, vals))
                subst = self._v(comps)
        note = ""
        if minus:
            note = "--maximize: the gradient is negated, so the step goes uphill"
        if p["l2"]:
            note = (note + "; " if note else "") + "L2 weight decay (Adam): λ·θ is added to the gradient"
        out.append(Step(title, Math(f"g{s} = {text}", f"g_{{{t}}} = {tex}"),
                        subst, self._v(cur["g"]), note=note, section=section))

        # moments
        def fill_m(i: int) -> Math:
            m, g = _atom(prev["m"][i]), _atom(cur["g"][i])
            return Math(f"{b1[0]}·{m[0]} + (1 − {b1[0]})·{g[0]}",
                        rf"{b1[1]} \cdot {m[1]} + (1 - {b1[1]}) \cdot {g[1]}")
        hat, hat_tex = ("̂", r"\hat ") if r.get("carry_corrected") and t > 1 else ("", "")
        out.append(Step("first moment m" + s + vec,
                        Math(f"m{s} = β₁·m{hat}{q} + (1 − β₁)·g{s}",
                             rf"m_{{{t}}} = \beta_1 {hat_tex}m_{{{t - 1}}} + (1 - \beta_1)\, g_{{{t}}}"),
                        self._fill(fill_m), self._v(cur["m"]), section=section))

        square = r["square_grad"]

        def fill_v(i: int) -> Math:
            v, g = _atom(prev["v"][i]), _base(cur["g"][i])
            return Math(f"{b2[0]}·{v[0]} + (1 − {b2[0]})·{g[0]}" + ("²" if square else ""),
                        rf"{b2[1]} \cdot {v[1]} + (1 - {b2[1]}) \cdot {g[1]}" + ("^{2}" if square else ""))
        out.append(Step("second moment v" + s + vec,
                        Math(f"v{s} = β₂·v{hat}{q} + (1 − β₂)·g{s}" + ("²" if square else ""),
                             rf"v_{{{t}}} = \beta_2 {hat_tex}v_{{{t - 1}}} + (1 - \beta_2)\, g_{{{t}}}"
                             + ("^2" if square else "")),
                        self._fill(fill_v), self._v(cur["v"]), section=section))
        if p["amsgrad"]:
            def fill_vmax(i: int) -> Math:
                a, b = _atom(prev["vmax"][i]), _atom(cur["v"][i])
                return Math(f"max({a[0]}, {b[0]})", rf"\max({a[1]}, {b[1]})")
            out.append(Step("AMSGrad: running maximum of v" + s,
                            Math(f"vmax{s} = max(vmax{q}, v{s})",
                                 rf"v^{{\max}}_{{{t}}} = \max(v^{{\max}}_{{{t - 1}}}, v_{{{t}}})"),
                            self._fill(fill_vmax), self._v(cur["vmax"]), section=section))

        # bias correction
        vsrc, vsrc_tex = (f"vmax{s}", rf"v^{{\max}}_{{{t}}}") if p["amsgrad"] else (f"v{s}", rf"v_{{{t}}}")
        if r["bias_correction"]:
            def corrected(num: tuple[str, str], beta: tuple[str, str]) -> Math:
                if t == 1:
                    return Math(f"{num[0]}/(1 − {beta[0]})", rf"\frac{{{num[1]}}}{{1 - {beta[1]}}}")
                return Math(f"{num[0]}/(1 − {beta[0]}{_sup(t)})", rf"\frac{{{num[1]}}}{{1 - {beta[1]}^{{{t}}}}}")
            if r["correct_m"]:
                out.append(Step("bias-corrected first moment m̂" + s,
                                Math(f"m̂{s} = m{s}/(1 − β₁{_sup(t)})",
                                     rf"\hat m_{{{t}}} = \frac{{m_{{{t}}}}}{{1 - \beta_1^{{{t}}}}}"),
                                self._fill(lambda i: corrected(_atom(cur["m"][i]), _base(p["beta1"]))),
                                self._v(cur["m_hat"]), section=section))
            else:  # a mistake: only v̂ corrected
                out.append(Step("m̂" + s + " left without bias correction",
                                Math(f"m̂{s} = m{s}", rf"\hat m_{{{t}}} = m_{{{t}}}"), None,
                                self._v(cur["m_hat"]), section=section))
            if r["correct_v"]:
                out.append(Step("bias-corrected second moment v̂" + s,
                                Math(f"v̂{s} = {vsrc}/(1 − β₂{_sup(t)})",
                                     rf"\hat v_{{{t}}} = \frac{{{vsrc_tex}}}{{1 - \beta_2^{{{t}}}}}"),
                                self._fill(lambda i: corrected(_atom(cur["vmax"][i]), _base(p["beta2"]))),
                                self._v(cur["v_hat"]), section=section))
            else:  # a mistake: only m̂ corrected
                out.append(Step("v̂" + s + " left without bias correction",
                                Math(f"v̂{s} = {vsrc}", rf"\hat v_{{{t}}} = {vsrc_tex}"), None,
                                self._v(cur["v_hat"]), section=section))
        else:
            out.append(Step("no bias correction", Math(f"m̂{s} = m{s},  v̂{s} = {vsrc}",
                                                       rf"\hat m_{{{t}}} = m_{{{t}}},\ \hat v_{{{t}}} = {vsrc_tex}"),
                            None, None, section=section))

        # decoupled weight decay, then the update
        base, base_tex = f"θ{q}", rf"\theta_{{{t - 1}}}"
        if p["decoupled_on"]:
            def fill_decay(i: int) -> Math:
                th = _atom(prev["theta"][i])
                return Math(f"{th[0]}·(1 − {lr[0]}·{wd[0]})", rf"{th[1]} \cdot (1 - {lr[1]} \cdot {wd[1]})")
            out.append(Step("decoupled weight decay (AdamW)",
                            Math(f"θ̃{q} = θ{q}·(1 − η·λ)",
                                 rf"\tilde\theta_{{{t - 1}}} = \theta_{{{t - 1}}} (1 - \eta \lambda)"),
                            self._fill(fill_decay), self._v(cur["theta_d"]),
                            note="the decay acts on θ directly and never enters m or v", section=section))
            base, base_tex = f"θ̃{q}", rf"\tilde\theta_{{{t - 1}}}"
        inside = r["eps_inside_sqrt"]
        if inside:
            den, den_tex = f"√(v̂{s} + ε)", rf"\sqrt{{\hat v_{{{t}}} + \epsilon}}"
        else:
            den, den_tex = f"(√v̂{s} + ε)", rf"\sqrt{{\hat v_{{{t}}}}} + \epsilon"

        def fill_theta(i: int) -> Math:
            th, mh, vh = _atom(cur["theta_d"][i]), _atom(cur["m_hat"][i]), _atom(cur["v_hat"][i])
            if inside:
                d, d_tex = f"√({vh[0]} + {eps[0]})", rf"\sqrt{{{vh[1]} + {eps[1]}}}"
            else:
                d, d_tex = f"(√{vh[0]} + {eps[0]})", rf"\sqrt{{{vh[1]}}} + {eps[1]}"
            return Math(f"{th[0]} − {lr[0]}·{mh[0]}/{d}", rf"{th[1]} - {lr[1]} \cdot \frac{{{mh[1]}}}{{{d_tex}}}")
        out.append(Step("update θ" + s,
                        Math(f"θ{s} = {base} − η·m̂{s}/{den}",
                             rf"\theta_{{{t}}} = {base_tex} - \eta\, \frac{{\hat m_{{{t}}}}}{{{den_tex}}}"),
                        self._fill(fill_theta), self._v(cur["theta"]), section=section))
        return out


def _sum_text(expr: Any) -> str:
    """'(1 − β)·Σ_{i=1}^{t} β^(t − i)' from a SymPy product of a factor and a Sum."""
    from dlcalc import printing as P

    parts = []
    for f in sympy.Mul.make_args(expr):
        if isinstance(f, sympy.Sum):
            (var, lo, hi), = f.limits
            parts.append(f"Σ_{{{P.text(var)}={P.text(lo)}}}^{{{P.text(hi)}}} {P.text(f.function)}")
        else:
            parts.append(P.text(f) if not f.is_Add else f"({P.text(f)})")
    return "·".join(parts)


_BIAS_SECTION = "why bias correction (once)"


def _bias_derivation(p: dict[str, Any]) -> list[Step]:
    """Why bias correction: E[m_t] = E[g]·(1 − β₁ᵗ), the geometric sum evaluated by SymPy."""
    steps, closed, beta, t = _geometric_sum()
    steps = list(steps)
    b2 = sympy.Symbol("beta_2", nonnegative=True)
    for beta_, value, what in ((beta, p["beta1"], "m"), (b2, p["beta2"], "v")):
        factor = closed.xreplace({beta: beta_})
        g = "g" if what == "m" else "g²"
        steps.append(Step(
            f"so E({what}_t) = E({g})·(1 − β{'₁' if what == 'm' else '₂'}ᵗ): {what}_t is biased towards "
            f"{what}₀ = 0; the factor at t = 1",
            factor, _put(factor, {beta_: value, t: 1}) if value.is_number else None,
            factor.xreplace({beta_: value, t: 1}),
            note=(f"dividing by this factor ({'m̂' if what == 'm' else 'v̂'}_t) removes the bias"
                  + ("; without it the first steps would have the wrong size" if what == "v" else "")),
            section=_BIAS_SECTION))
    return steps


@functools.lru_cache(maxsize=1)
def _geometric_sum() -> tuple[tuple[Step, ...], Any, Any, Any]:
    """The part of the derivation that no input changes, worked once per process
    (``dlcalc batch`` runs many exercises in one): the unrolled sum and its closed form."""
    from dlcalc import printing as P

    sec = _BIAS_SECTION
    beta = sympy.Symbol("beta_1", nonnegative=True)
    t = sympy.Symbol("t", integer=True, positive=True)
    i = sympy.Symbol("i", integer=True, positive=True)
    j = sympy.Symbol("j", integer=True, nonnegative=True)
    lhs = sympy.Mul(1 - beta, sympy.Sum(beta ** (t - i), (i, 1, t)), evaluate=False)
    reindexed = sympy.Mul(1 - beta, sympy.Sum(beta ** (t - i), (i, 1, t)).change_index(i, t - i, j),
                          evaluate=False)
    summed = sympy.Sum(beta ** j, (j, 0, t - 1)).doit()
    if isinstance(summed, sympy.Piecewise):  # ((t, β = 1), ((1 − βᵗ)/(1 − β), otherwise))
        summed = next(e for e, cond in summed.args if cond == sympy.true)
    closed = sympy.cancel((1 - beta) * summed)
    if sympy.expand(closed - (1 - beta ** t)) != 0:  # pragma: no cover - a SymPy regression
        raise RuntimeError(f"geometric sum came out as {closed}")

    steps = [
        Step("unroll m_t = β₁·m_{t−1} + (1 − β₁)·g_t from m₀ = 0",
             Math("m_t = (1 − β₁)·Σ_{i=1}^{t} β₁^(t−i)·g_i",
                  r"m_t = (1 - \beta_1) \sum_{i=1}^{t} \beta_1^{t-i} g_i"),
             note="if every g_i has the same mean E(g), then E(m_t) = E(g)·(1 − β₁)·Σ β₁^(t−i)",
             section=sec),
        Step("the geometric sum, evaluated by SymPy (reindex j = t − i, then summation)",
             Math(_sum_text(lhs), P.latex(lhs)), Math(_sum_text(reindexed), P.latex(reindexed)), closed,
             note="β₁ < 1, so the branch β₁ = 1 of SymPy's result does not apply", section=sec),
    ]
    return tuple(steps), closed, beta, t


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, bias_correction: bool = True, eps_inside_sqrt: bool = False,
          square_grad: bool = True, correct_only: str | None = None,
          carry_corrected: bool = False) -> Solution:
    """The worked solution (see :func:`work`); the flags are conventions that --check varies.

    Mistakes only: ``correct_only`` "m" or "v" bias-corrects one moment; ``carry_corrected``
    carries m̂, v̂ forward as the state (m ← m̂, v ← v̂)."""
    return work(**as_kwargs(inp), bias_correction=bias_correction, eps_inside_sqrt=eps_inside_sqrt,
                square_grad=square_grad, correct_only=correct_only, carry_corrected=carry_corrected)


def gradient_source(grads: Any, loss: Any, steps: int | None, n: int,
                    vector: bool) -> tuple[list[list[Any]], list[Any] | None, int]:
    """Where the gradients come from, checked (shared by adam-step and optim-step): the given
    ones as components like θ, or the loss's gradient derived by SymPy; and the step count."""
    if (grads is None) == (loss is None):
        raise InputError("--grad" if grads is None else "--loss",
                         "is missing: give --grad once per step, or --loss EXPR with --steps N"
                         if grads is None else "cannot be combined with --grad")
    variables = loss_variables(n, vector)
    if grads is not None:
        if not grads:
            raise InputError("--grad", "is missing: give --grad once per step")
        if len(grads) > MAX_GRADS:
            raise InputError("--grad", f"is given {len(grads):,} times; at most {MAX_GRADS:,}")
        if steps is not None and steps != len(grads):
            raise InputError("--steps", f"is {steps}, but --grad is given {len(grads)} "
                                        f"time{'s' if len(grads) != 1 else ''} "
                                        "(with --grad the number of steps is the number of gradients)")
        given = [_as_components(g, n, "--grad", f"value {k + 1}") for k, g in enumerate(grads)]
        return given, None, len(given)
    loss = as_sympy(loss)
    if not isinstance(loss, sympy.Expr):
        raise InputError("--loss", "must be a single expression")
    stray = sorted(str(s) for s in loss.free_symbols - set(variables))
    if stray:
        names = ", ".join(str(v) for v in variables) if n <= 4 else f"theta1 … theta{n}"
        shape = "a scalar" if not vector else f"a vector of {n}"
        raise InputError("--loss", f"uses {', '.join(stray[:5])}, which {'is' if len(stray) == 1 else 'are'} "
                                   f"not a component of θ; θ is {shape}, so the variables are {names}")
    if n > MAX_LOSS_COMPONENTS:
        raise InputError("--theta", f"has {n:,} components; --loss works with at most {MAX_LOSS_COMPONENTS} "
                                    "(give the gradients with --grad for larger θ)")
    T = 1 if steps is None else steps
    if not (1 <= T <= MAX_STEPS):
        raise InputError("--steps", f"must be between 1 and {MAX_STEPS:,}, got {T}")
    return [], [sympy.diff(loss, v) for v in variables], T


def work(theta: Any, grads: list[Any] | None = None, *, loss: Any = None, steps: int | None = None,
          lr: Any = DEFAULTS["lr"], beta1: Any = DEFAULTS["beta1"], beta2: Any = DEFAULTS["beta2"],
          eps: Any = DEFAULTS["eps"], weight_decay: Any = DEFAULTS["weight_decay"],
          decoupled: bool = False, amsgrad: bool = False, maximize: bool = False,
          bias_correction: bool = True, eps_inside_sqrt: bool = False, square_grad: bool = True,
          correct_only: str | None = None, carry_corrected: bool = False) -> Solution:
    """Run Adam (``decoupled``: AdamW; ``amsgrad``) from ``theta`` and show every step.

    Gradients are ``grads`` (one scalar or vector per step) or the derivative of the
    SymPy expression ``loss`` in ``theta`` / ``theta1 … thetaN``, taken at each θ_{t−1}
    for ``steps`` steps.  ``bias_correction``, ``eps_inside_sqrt`` and ``square_grad``
    are convention flags (PyTorch's are the defaults); they exist so that common mistakes
    can be recomputed as variants of the same exercise.
    """
    rules = {"bias_correction": bias_correction, "eps_inside_sqrt": eps_inside_sqrt,
             "square_grad": square_grad, "carry_corrected": carry_corrected,
             "correct_m": bias_correction and correct_only != "v",
             "correct_v": bias_correction and correct_only != "m"}
    vector = isinstance(theta, (list, tuple))
    if vector and len(theta) > MAX_COMPONENTS:
        raise InputError("--theta", f"has more than {MAX_COMPONENTS:,} components")
    th0 = _as_components(theta, None, "--theta", "θ")
    n = len(th0)
    lr = _check_param(lr, "--lr")
    beta1 = _check_param(beta1, "--beta1", hi_open=1)
    beta2 = _check_param(beta2, "--beta2", hi_open=1)
    eps = _check_param(eps, "--eps")
    weight_decay = _check_param(weight_decay, "--weight-decay")

    given, grad_exprs, T = gradient_source(grads, loss, steps, n, vector)
    variables = loss_variables(n, vector)
    if T * n > MAX_WORK:
        raise InputError("--steps" if grads is None else "--grad",
                         f"asks for {T:,} steps of a θ with {n:,} components; at most {MAX_WORK:,} "
                         "steps × components")

    symbolic = any(not x.is_number for x in [*th0, lr, beta1, beta2, eps, weight_decay]) or any(
        not x.is_number for g in given for x in g)
    if symbolic and T > SYMBOLIC_MAX_STEPS:
        raise InputError("--steps" if grads is None else "--grad",
                         f"asks for {T} steps with symbolic inputs; symbolic runs are worked exactly and "
                         f"limited to {SYMBOLIC_MAX_STEPS} steps (give numbers for longer runs)")

    p: dict[str, Any] = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
                         "maximize": maximize, "amsgrad": amsgrad,
                         "l2": (weight_decay != 0) and not decoupled,
                         "decoupled_on": decoupled and weight_decay != 0}
    board = _Board(p, rules, n, vector, grad_exprs, variables)
    shown = set(range(1, T + 1)) if T <= SHOW_ALL else \
        set(range(1, SHOW_HEAD + 1)) | set(range(T - SHOW_TAIL + 1, T + 1))

    work: list[Step] = _bias_derivation(p)
    if grad_exprs is not None:
        work.append(Step("gradient of L = " + _short(loss) + " (SymPy)",
                         Math("∇L(θ) = (" + ", ".join(f"∂L/∂{_pretty(v)}" for v in variables) + ")"
                              if vector else "dL/dθ",
                              r"\nabla L(\theta)" if vector else r"\frac{dL}{d\theta}"),
                         None, grad_exprs if vector else grad_exprs[0], section="the loss"))

    zero = sympy.Integer(0)
    state: dict[str, list] = {"theta": th0, "m": [zero] * n, "v": [zero] * n, "vmax": [zero] * n}
    history: list[dict[str, Any]] = []
    switched_at: int | None = None
    k_exact = _constants(p, sympy.Integer(1))
    t = 0
    why: str | None = None
    near_one = [opt for key, opt in (("beta1", "--beta1"), ("beta2", "--beta2"))
                if p[key].is_number and not p[key].is_Rational and _below(1 - p[key], IRRATIONAL_NEAR_ONE)]
    if near_one and symbolic:
        raise InputError(near_one[0], "is irrational and within 1e-20 of 1; with symbolic inputs the exact "
                                      "forms cannot be evaluated reliably: give β as a fraction or decimal")
    # exact while the forms stay short
    while t < T:
        t += 1
        why = _needs_numeric(t, n, state, symbolic) or (
            f"{near_one[0]} is irrational and within 1e-20 of 1, where exact forms cannot be evaluated "
            "reliably" if near_one else None)
        if why:
            if symbolic:
                raise InputError(None, f"symbolic inputs are worked exactly, and at step {t} {why}; "
                                       "give numbers, or fewer steps or components")
            switched_at = t
            break
        raw = given[t - 1] if grad_exprs is None else _exact_gradient(grad_exprs, variables, state, t)
        if not symbolic and not _rational_moments(raw, state["theta"], p):
            why = ("the gradient entering the moments is irrational, so exact forms would nest square "
                   "roots")
            switched_at = t
            break
        bc1 = 1 - beta1 ** t if rules["correct_m"] else 1
        bc2 = 1 - beta2 ** t if rules["correct_v"] else 1
        cur = _advance(state, raw, bc1, bc2, k_exact, p, _ExactOps, rules)
        _check_update(cur, t, "exact")
        history.append(_record(t, cur, vector))
        if t in shown:
            _show(work, board, t, T, state, raw, cur, "exact")
        state = _carried(cur, rules)
        last = cur
    # then numerically, with DPS significant digits
    if switched_at is not None:
        with decimal.localcontext(_context(_lost_digits(p))):
            try:
                last = _run_numeric(switched_at, T, state, given, grad_exprs, variables, p, rules, board,
                                    shown, history, work, vector)
            except decimal.DecimalException as exc:
                raise InputError(None, f"the numeric run failed ({type(exc).__name__}): a value is not a "
                                       "finite real number") from None

    result = {k: last[k] if vector else last[k][0] for k in ("theta", "m", "v", "m_hat", "v_hat")}
    result["history"] = history

    conventions = _conventions(p, rules, grad_exprs is not None, switched_at, T)
    inputs: dict[str, Any] = {"theta": theta if vector else th0[0]}
    if grads is not None:
        inputs["grad"] = ([g if vector else g[0] for g in given] if len(given) <= 12
                          else f"{len(given)} gradients, one per step (see history)")
    else:
        inputs["loss"] = loss
        inputs["steps"] = T
    inputs.update({"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
                   "decoupled": bool(decoupled), "amsgrad": bool(amsgrad), "maximize": bool(maximize)})
    notes: list[str] = []
    if switched_at is not None:
        first = "" if switched_at == 1 else f"steps 1 to {switched_at - 1} are exact; "
        notes.append(f"{first}from step {switched_at} on the values are numeric ({DPS} significant "
                     f"digits, at least 30 correct) because {why}; their JSON exact strings are decimals")
    if T > SHOW_ALL:
        notes.append(f"the working shows steps 1 to {SHOW_HEAD} and {T - SHOW_TAIL + 1} to {T}; "
                     "the full history is in --json (result.history)")
    return Solution(command="adam-step", inputs=inputs, conventions=conventions, steps=tuple(work),
                    result=result, notes=tuple(notes))


def _pretty(v: Any) -> str:
    from dlcalc import printing as P

    return P.text(v)


def _short(expr: Any) -> str:
    from dlcalc import printing as P

    s = P.text(expr)
    return s if len(s) <= 60 else s[:57] + "…"


def _show(work: list[Step], board: "_Board", t: int, T: int, prev: dict[str, list], raw: list[Any],
          cur: dict[str, list], mode: str) -> None:
    """Append the working of step ``t`` (and the elision marker before the last steps)."""
    if T > SHOW_ALL and t == T - SHOW_TAIL + 1:
        work.append(Step(f"steps {SHOW_HEAD + 1} to {T - SHOW_TAIL}",
                         Math(f"… {T - SHOW_HEAD - SHOW_TAIL} steps of the same form; every value "
                              "is in the history (JSON: result.history)", r"\ldots"), section="…"))
    section = f"t = {t}" + (f" (numeric, {DPS} digits)" if mode == "numeric" else "")
    work.extend(board.steps(t, prev, raw, cur, section))


def _run_numeric(t0: int, T: int, state: dict[str, list], given: list[list[Any]], grad_exprs: list[Any] | None,
                 variables: list[Any], p: dict[str, Any], rules: dict[str, bool], board: "_Board",
                 shown: set[int], history: list[dict[str, Any]], work: list[Step],
                 vector: bool) -> dict[str, list]:
    """Steps ``t0`` … ``T`` in Decimal arithmetic (the current context); returns the last state
    as SymPy Floats.  History entries are :class:`HighFloat` (float64 + all digits)."""
    D = decimal.Decimal
    one = D(1)
    state = {k: [_to_dec(x) for x in vals] for k, vals in state.items()}
    k_num = _constants({k: _to_dec(p[k]) for k in ("lr", "beta1", "beta2", "eps", "weight_decay")}, one)
    pow1, pow2 = k_num["b1"] ** (t0 - 1), k_num["b2"] ** (t0 - 1)
    closures = [_compile(e, variables) for e in grad_exprs] if grad_exprs is not None else None
    given_num = [[_to_dec(x) for x in g] for g in given[t0 - 1:]] if grad_exprs is None else []
    cur: dict[str, list] = {}
    for t in progress(range(t0, T + 1), T - t0 + 1, "Adam steps"):
        raw = given_num[t - t0] if closures is None else _numeric_gradient(closures, state["theta"], t)
        pow1, pow2 = pow1 * k_num["b1"], pow2 * k_num["b2"]
        bc1 = one - pow1 if rules["correct_m"] else one
        bc2 = one - pow2 if rules["correct_v"] else one
        cur = _advance(state, raw, bc1, bc2, k_num, p, _NumOps, rules)
        _check_update(cur, t, "numeric")
        if vector:
            history.append({"t": t, **{k: [HighFloat(x) for x in cur[k]] for k in _HISTORY_KEYS}})
        else:
            history.append({"t": t, **{k: HighFloat(cur[k][0]) for k in _HISTORY_KEYS}})
        if t in shown:
            _show(work, board, t, T, _floats(state), _floats({"raw": raw})["raw"], _floats(cur), "numeric")
        state = _carried(cur, rules)
    return _floats(cur)


def _carried(cur: dict[str, list], rules: dict[str, bool]) -> dict[str, list]:
    """The state the next step starts from: θ, m, v, vmax (m̂ and v̂ with the mistake
    ``carry_corrected``)."""
    if rules.get("carry_corrected"):
        return {"theta": cur["theta"], "m": cur["m_hat"], "v": cur["v_hat"], "vmax": cur["v_hat"]}
    return {"theta": cur["theta"], "m": cur["m"], "v": cur["v"], "vmax": cur["vmax"]}


def _floats(values: dict[str, list]) -> dict[str, list]:
    return {k: [_dec_to_float(x) for x in vals] for k, vals in values.items()}


def _record(t: int, cur: dict[str, list], vector: bool) -> dict[str, Any]:
    def v(key: str) -> Any:
        return cur[key] if vector else cur[key][0]
    return {"t": t, "g": v("g"), "m": v("m"), "v": v("v"), "m_hat": v("m_hat"), "v_hat": v("v_hat"),
            "theta": v("theta")}


_HISTORY_KEYS = ("g", "m", "v", "m_hat", "v_hat", "theta")


def _rational_moments(raw: list[Any], theta: list[Any], p: dict[str, Any]) -> bool:
    """Whether the gradient entering the moments is rational (then m and v stay rational)."""
    for r, th in zip(raw, theta):
        if not r.is_Rational:
            return False
        if p["l2"] and not (p["weight_decay"] * th).is_Rational:
            return False
    return True


def _needs_numeric(t: int, n: int, state: dict[str, list], symbolic: bool) -> str | None:
    """Why step ``t`` cannot be exact (too many steps or components, values too long), or None."""
    if t > (SYMBOLIC_MAX_STEPS if symbolic else EXACT_MAX_STEPS):
        return f"exact work is limited to {EXACT_MAX_STEPS} steps"
    if t * n > EXACT_MAX_WORK:
        return f"exact work is limited to {EXACT_MAX_WORK} steps × components"
    cap = SYMBOLIC_MAX_NODES if symbolic else EXACT_MAX_NODES
    if any(_nodes(x, cap) > cap for vals in state.values() for x in vals):
        return "the exact forms grew too long"
    return None


def _exact_gradient(grad_exprs: list[Any], variables: list[Any], state: dict[str, list], t: int) -> list[Any]:
    at = dict(zip(variables, state["theta"]))
    out = [e.xreplace(at) for e in grad_exprs]
    for g in out:
        if g.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
            raise InputError("--loss", f"has no finite real gradient at θ{_sub(t - 1)} = "
                                       f"{_approx(state['theta'])} (step {t})")
    return out


def _numeric_gradient(closures: list[Callable], theta: list[Any], t: int) -> list[Any]:
    out = []
    for f in closures:
        try:
            g = f(theta)
        except (decimal.DecimalException, ZeroDivisionError, ValueError, OverflowError):
            g = None
        if not isinstance(g, decimal.Decimal) or not g.is_finite() or abs(g) > HUGE:
            raise InputError("--loss", f"has no finite real gradient at θ{_sub(t - 1)} = {_approx(theta)} "
                                       f"(step {t})")
        out.append(g)
    return out


def _approx(theta: list[Any]) -> str:
    """θ as a short decimal for an error message."""
    parts = []
    for x in theta[:4]:
        if isinstance(x, decimal.Decimal):
            parts.append(format(x, ".8g"))
        else:
            parts.append(sympy.sstr(sympy.N(x, 8)) if x.is_number else sympy.sstr(x)[:30])
    text = ", ".join(parts) + (", …" if len(theta) > 4 else "")
    return f"({text})" if len(theta) > 1 else text


def _check_update(cur: dict[str, list], t: int, mode: str) -> None:
    for th in cur["theta"]:
        if th is None:
            raise InputError("--eps", f"is 0 and v̂{_sub(t)} = 0 (a zero gradient at step {t}), so the update "
                                      "divides 0 by 0; give --eps > 0")
        if mode == "exact":
            if th.is_number and th.has(sympy.zoo, sympy.nan, sympy.I, sympy.oo, -sympy.oo):
                raise InputError(None, f"the update at step {t} is not a finite real number")
        elif not th.is_finite() or abs(th) > HUGE:
            raise InputError(None, f"θ leaves the range of real numbers at step {t}")


def _conventions(p: dict[str, Any], rules: dict[str, bool], from_loss: bool, switched_at: int | None,
                 T: int) -> dict[str, str]:
    c = {
        "moments": "t starts at 1, m₀ = v₀ = 0; m_t = β₁·m_{t−1} + (1 − β₁)·g_t, "
                   "v_t = β₂·v_{t−1} + (1 − β₂)·g_t² (elementwise)"
                   + ("" if rules["square_grad"] else " — here with g_t instead of g_t² (a variant)"),
        "bias correction": ("m̂_t = m_t/(1 − β₁ᵗ), v̂_t = v_t/(1 − β₂ᵗ)" if rules["correct_m"] and rules["correct_v"]
                            else "m̂_t = m_t/(1 − β₁ᵗ) but v̂_t = v_t (a variant)" if rules["correct_m"]
                            else "v̂_t = v_t/(1 − β₂ᵗ) but m̂_t = m_t (a variant)")
        + ("; m̂, v̂ carried forward as the state m, v (a variant)" if rules["carry_corrected"] else "")
        if rules["bias_correction"]
        else "none (a variant: m̂_t = m_t, v̂_t = v_t)",
        "update": ("θ_t = θ_{t−1} − η·m̂_t/(√v̂_t + ε), ε outside the square root as PyTorch; η = --lr"
                   if not rules["eps_inside_sqrt"] else
                   "θ_t = θ_{t−1} − η·m̂_t/√(v̂_t + ε) (a variant: ε inside the square root); η = --lr"),
        "gradient": ("∂L/∂θ by SymPy, taken at θ_{t−1}" if from_loss else "given per step (--grad)")
                    + ("; negated (--maximize: gradient ascent)" if p["maximize"] else ""),
    }
    if p["l2"]:
        c["weight decay"] = "L2 as torch.optim.Adam: g_t = ∇L(θ_{t−1}) + λ·θ_{t−1}, so it enters m and v"
    elif p["decoupled_on"]:
        c["weight decay"] = "decoupled as torch.optim.AdamW: θ ← θ·(1 − η·λ) before the update, not in m or v"
    else:
        c["weight decay"] = "none"
    if p["amsgrad"]:
        c["amsgrad"] = "vmax_t = max(vmax_{t−1}, v_t) on the raw v_t; v̂_t = vmax_t/(1 − β₂ᵗ) (PyTorch)"
    c["history g"] = "the gradient as it enters the moments (after --maximize and L2 decay)"
    if switched_at is None:
        c["arithmetic"] = "exact"
    elif switched_at == 1:
        c["arithmetic"] = f"numeric: decimal arithmetic with {DPS} significant digits"
    else:
        c["arithmetic"] = (f"exact for steps 1 to {switched_at - 1}, then decimal arithmetic with {DPS} significant "
                           "digits")
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
