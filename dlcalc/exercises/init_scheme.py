"""init: weight initialization as ``torch.nn.init``, and the variance of a signal through depth.

The schemes (std σ of the weights, bound b of U(−b, b); the gain g of
``torch.nn.init.calculate_gain``):

* xavier-normal / xavier-uniform (``xavier_normal_`` / ``xavier_uniform_``):
  σ = g·√(2/(fan_in + fan_out)), b = √3·σ; the gain defaults to 1 (``gain=1.0``);
* he-normal / he-uniform (``kaiming_normal_`` / ``kaiming_uniform_``): σ = g/√fan with
  fan = fan_in (``mode="fan_in"``, the default) or fan_out, b = √3·σ; PyTorch's default
  nonlinearity is ``"leaky_relu"`` with ``a=0``, whose gain √(2/(1 + 0²)) = √2 is ReLU's;
* lecun-normal / lecun-uniform (LeCun et al. 1998, "Efficient BackProp"; not in
  ``torch.nn.init`` by name): σ = g/√fan_in with g = 1 by default, i.e. Var(w) = 1/fan_in, a
  plain (untruncated) normal, and b = √3·σ;
* normal / uniform: N(0, σ²) with ``--std`` (1 by default, as ``normal_``), U(−b, b) with
  ``--bound`` (1 by default; ``uniform_``'s own default U(0, 1) is not zero-mean).

Fans are those of ``torch.nn.init._calculate_fan_in_and_fan_out``: for a weight of shape
out × in × k₁ × …, fan_in = in·k₁·…, fan_out = out·k₁·….

Through depth (``depth``), for L layers of this weight's shape with zero biases and
independent zero-mean weights: Var(z₁) = fan_in·Var(w)·V and Var(z_l) = fan_in·Var(w)·E[a²_{l−1}],
with E[a²] = Var(z) for a linear or tanh unit (tanh in its linear regime, as Glorot & Bengio
2010) and ½·Var(z) for ReLU (He et al. 2015); so every layer multiplies the variance by
r = c·fan_in·Var(w) (c = 1 or ½).  Backward, the gradient's variance is multiplied by
c·fan_out·Var(w) per layer.  Everything is exact (SymPy) and cheap: a few closed forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Add, Function, Mul, Pow, Rational, Symbol

from dlcalc.board import Ex, Named, OAdd, eq, ordered_product, spelled, step
from dlcalc.core import Math, Mistake, Solution, Step, xreplace_unevaluated
from dlcalc.errors import InputError
from dlcalc.registry import Command, Option

COMMAND = Command(
    name="init",
    summary="Weight initialization as torch.nn.init (Xavier, He, LeCun) and the variance through depth.",
    description="std, variance, gain and bound of torch.nn.init's schemes; with --depth the variance "
                "of the signal forward and of the gradient backward, layer by layer.",
    example="dlcalc init --scheme he-normal --fan-in 256 --depth 10 --activation relu",
    options=(
        Option("--scheme", "xavier-normal, xavier-uniform, he-normal, he-uniform, lecun-normal, "
                           "lecun-uniform, normal (N(0, std²)) or uniform (U(−bound, bound))."),
        Option("--fan-in", "Inputs of one unit (a whole number ≥ 1)."),
        Option("--fan-out", "Outputs of one input (a whole number ≥ 1)."),
        Option("--shape", "The weight's shape instead of the fans: out × in × kernel… "
                          "(\"256x128x3x3\" or \"[256, 128, 3, 3]\"), fans as torch.nn.init computes them."),
        Option("--nonlinearity", "A name of torch.nn.init.calculate_gain: linear, sigmoid, tanh, relu, "
                                 "leaky_relu, selu (He's default: leaky_relu with a = 0; otherwise linear)."),
        Option("--a", "Negative slope of leaky_relu (He's default 0, as kaiming_*; "
                      "calculate_gain's default 0.01 for the other schemes)."),
        Option("--gain", "The gain itself, instead of --nonlinearity."),
        Option("--mode", "He: fan_in (default, as PyTorch) or fan_out."),
        Option("--std", "normal: the standard deviation (default 1)."),
        Option("--bound", "uniform: the half-width b of U(−b, b) (default 1)."),
        Option("--depth", "Also follow the variance through L layers of this shape (1-1000)."),
        Option("--activation", "With --depth: linear (default), relu or tanh (its linear regime)."),
        Option("--input-var", "With --depth: Var of the inputs, V (default 1)."),
    ),
)

SCHEMES = ("xavier-normal", "xavier-uniform", "he-normal", "he-uniform", "lecun-normal",
           "lecun-uniform", "normal", "uniform")
NONLINEARITIES = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
# calculate_gain also accepts these; all have gain 1
LINEAR_ALIASES = ("identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d")
ACTIVATIONS = ("linear", "relu", "tanh")
MAX_FAN = 10**9
MAX_DIMS = 8
MAX_DEPTH = 1000
EXACT_BITS = 600      # a layer's variance with a longer exact fraction stays an unevaluated power
SHOWN_LAYERS = 3      # layers worked one by one before the closed form

# symbols of the board
G, A_SLOPE = Symbol("g"), Symbol("a")
N_IN, N_OUT, N_FAN = Symbol("fan_in"), Symbol("fan_out"), Symbol("n")
C_IN, C_OUT = Symbol("c_in"), Symbol("c_out")
SIGMA, B = Symbol("sigma"), Symbol("b")
V_IN, R_F, R_B = Symbol("V"), Symbol("r"), Symbol("r_b")
Var, E = Function("Var"), Function("E")
W = Symbol("w")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of init.

    Attributes:
        scheme: one of :data:`SCHEMES`.
        fan_in, fan_out: the fans (ints) or None when not given.
        shape: the weight's shape when given by --shape (fans computed from it), else None.
        nonlinearity: a name of calculate_gain, or None (the scheme's default).
        a: leaky_relu's negative slope, or None (the scheme's default).
        gain: a given gain, or None.
        mode: "fan_in" or "fan_out" (He).
        std, bound: for the plain normal / uniform schemes (None: the default 1).
        depth: L, or None (no propagation).
        activation: for the propagation: linear, relu or tanh.
        input_var: V, the variance of the inputs.
    """

    scheme: str
    fan_in: int | None = None
    fan_out: int | None = None
    shape: tuple[int, ...] | None = None
    nonlinearity: str | None = None
    a: Any = None
    gain: Any = None
    mode: str = "fan_in"
    std: Any = None
    bound: Any = None
    depth: int | None = None
    activation: str = "linear"
    input_var: Any = sympy.Integer(1)


def _choice(text: str | None, option: str, choices: tuple[str, ...]) -> str | None:
    if text is None:
        return None
    t = text.strip().lower().replace("_", "-") if option == "--scheme" else text.strip().lower()
    if option == "--nonlinearity" and t in LINEAR_ALIASES:
        return "linear"
    if option == "--mode":
        t = t.replace("-", "_")
    if t not in choices:
        raise InputError(option, f"must be one of {', '.join(choices)}; got {text.strip()[:30]!r}")
    return t


def _parse_shape(text: str) -> tuple[int, ...]:
    from dlcalc.parse import parse_int

    if len(text) > 200:
        raise InputError("--shape", "is longer than 200 characters")
    body = text.strip().strip("[]()").strip()
    parts = [p for p in re.split(r"\s*[x×*,]\s*|\s+", body) if p]
    if not parts:
        raise InputError("--shape", "is empty; give out × in × kernel… (\"256x128x3x3\")")
    if len(parts) < 2:
        raise InputError("--shape", "has one dimension; fans need at least 2 (out × in), as in torch.nn.init")
    if len(parts) > MAX_DIMS:
        raise InputError("--shape", f"has {len(parts)} dimensions; at most {MAX_DIMS}")
    return tuple(parse_int(p, "--shape", lo=1, hi=MAX_FAN) for p in parts)


def _scalar(text: str | None, option: str) -> Any:
    from dlcalc.parse import parse_scalar

    return None if text is None else parse_scalar(text, option)


def parse(*, scheme: str | None, fan_in: str | None, fan_out: str | None, shape: str | None,
          nonlinearity: str | None, a: str | None, gain: str | None, mode: str | None,
          std: str | None, bound: str | None, depth: str | None, activation: str | None,
          input_var: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_int

    sch = _scheme(scheme, std, bound)
    dims, fi, fo = _fans(shape, fan_in, fan_out)
    nl = _choice(nonlinearity, "--nonlinearity", NONLINEARITIES)
    _check_gain_options(sch, nonlinearity, nl, gain, a)
    md = _choice(mode, "--mode", ("fan_in", "fan_out"))
    _check_scheme_options(sch, md, std, bound)
    L = parse_int(depth, "--depth", lo=1, hi=MAX_DEPTH) if depth is not None else None
    act = _choice(activation, "--activation", ACTIVATIONS)
    if L is None:
        for name, given in (("--activation", activation), ("--input-var", input_var)):
            if given is not None:
                raise InputError(name, "applies with --depth L (the variance through L layers)")
    inp = Inputs(scheme=sch, fan_in=fi, fan_out=fo, shape=dims, nonlinearity=nl,
                 a=_scalar(a, "--a"), gain=_scalar(gain, "--gain"), mode=md or "fan_in",
                 std=_scalar(std, "--std"), bound=_scalar(bound, "--bound"), depth=L,
                 activation=act or "linear",
                 input_var=_scalar(input_var, "--input-var") if input_var is not None else sympy.Integer(1))
    _validate(inp)
    return inp


def _scheme(scheme: str | None, std: str | None, bound: str | None) -> str:
    """--scheme, or the plain normal (uniform) when only --std (--bound) is given."""
    sch = _choice(scheme, "--scheme", SCHEMES)
    if sch is not None:
        return sch
    if std is not None and bound is None:
        return "normal"
    if bound is not None and std is None:
        return "uniform"
    raise InputError("--scheme", "is missing: give one of " + ", ".join(SCHEMES))


def _fans(shape: str | None, fan_in: str | None, fan_out: str | None) -> tuple[Any, int | None, int | None]:
    """The weight's shape (or None) and the fans: from the shape, or as given."""
    from dlcalc.parse import parse_int

    if shape is not None and (fan_in is not None or fan_out is not None):
        raise InputError("--shape", "gives the fans; do not combine it with --fan-in/--fan-out")
    if shape is None:
        return (None, parse_int(fan_in, "--fan-in", lo=1, hi=MAX_FAN) if fan_in is not None else None,
                parse_int(fan_out, "--fan-out", lo=1, hi=MAX_FAN) if fan_out is not None else None)
    dims = _parse_shape(shape)
    rf = 1
    for k in dims[2:]:
        rf *= k
    fi, fo = dims[1] * rf, dims[0] * rf
    if max(fi, fo) > MAX_FAN:
        raise InputError("--shape", f"gives fans beyond {MAX_FAN:,}")
    return dims, fi, fo


def _check_gain_options(sch: str, nonlinearity: str | None, nl: str | None, gain: str | None,
                        a: str | None) -> None:
    """--nonlinearity, --gain and --a: one way to give the gain, and none for the plain schemes."""
    if sch in ("normal", "uniform"):
        for name, given in (("--nonlinearity", nonlinearity), ("--gain", gain), ("--a", a)):
            if given is not None:
                raise InputError(name, f"has no effect on the plain {sch} scheme (it takes "
                                       + ("--std" if sch == "normal" else "--bound") + ")")
    if gain is not None and nl is not None:
        raise InputError("--gain", "and --nonlinearity both set the gain; give one of them")
    if a is not None:
        if gain is not None:
            raise InputError("--a", "is leaky_relu's slope; with --gain it has no effect")
        if nl not in ("leaky_relu", None) or (nl is None and not sch.startswith("he-")):
            raise InputError("--a", "is the negative slope of leaky_relu; give --nonlinearity leaky_relu"
                             + (f" (not {nl})" if nl else ""))


def _check_scheme_options(sch: str, md: str | None, std: str | None, bound: str | None) -> None:
    """--mode (He only), --std and --bound (the plain schemes only)."""
    if md is not None and not sch.startswith("he-"):
        raise InputError("--mode", "applies to the he-* schemes (kaiming_*); "
                                   + ("LeCun's fan is fan_in" if sch.startswith("lecun") else
                                      "Xavier uses both fans" if sch.startswith("xavier") else
                                      "the plain schemes have no fan"))
    if std is not None and sch != "normal" and not (sch == "uniform" and bound is None):
        raise InputError("--std", "is the std of the plain normal scheme (or uniform's, instead of "
                                  f"--bound); {sch} computes its own")
    if bound is not None and sch != "uniform":
        raise InputError("--bound", f"is the half-width of the plain uniform scheme; {sch} computes its own")


def _negative(v: Any) -> bool:
    return v is not None and v.is_number and bool(v.is_negative)


def _validate(inp: Inputs) -> None:
    s = inp.scheme
    if s.startswith("xavier"):
        for name, f in (("--fan-in", inp.fan_in), ("--fan-out", inp.fan_out)):
            if f is None:
                raise InputError(name, f"is missing: {s} uses fan_in + fan_out (or give --shape)")
    if s.startswith("he") and inp.mode == "fan_out" and inp.fan_out is None:
        raise InputError("--fan-out", "is missing: --mode fan_out uses fan_out (or give --shape)")
    if (s.startswith("lecun") or (s.startswith("he") and inp.mode == "fan_in")) and inp.fan_in is None:
        raise InputError("--fan-in", f"is missing: {s} uses fan_in (or give --shape)")
    if inp.depth is not None and inp.fan_in is None:
        raise InputError("--fan-in", "is missing: --depth needs fan_in (Var(z) = fan_in·Var(w)·E[a²])")
    for name, v in (("--std", inp.std), ("--bound", inp.bound), ("--gain", inp.gain)):
        if _negative(v):
            raise InputError(name, f"must be ≥ 0, got {v}")
    if inp.input_var is not None and _negative(inp.input_var):
        raise InputError("--input-var", f"must be ≥ 0 (a variance), got {inp.input_var}")


# --------------------------------------------------------------------------- the gain


def _gain_step(inp: Inputs, no_gain: bool) -> tuple[Any, Step, str]:
    """The gain, its step, and a sentence for the conventions."""
    he = inp.scheme.startswith("he-")
    if inp.gain is not None:
        g = inp.gain
        st = step("gain (given)", eq(G, g))
        why = f"given: g = {g}"
    else:
        nl = inp.nonlinearity or ("leaky_relu" if he else "linear")
        a = inp.a if inp.a is not None else (sympy.Integer(0) if he else Rational(1, 100))
        if nl in ("linear", "sigmoid"):
            g = sympy.Integer(1)
            st = step(f"gain of {nl} (torch.nn.init.calculate_gain)", eq(G, g))
        elif nl == "tanh":
            g = Rational(5, 3)
            st = step("gain of tanh (torch.nn.init.calculate_gain)", eq(G, g))
        elif nl == "relu":
            g = sympy.sqrt(2)
            st = step("gain of relu (torch.nn.init.calculate_gain)", eq(G, g))
        elif nl == "selu":
            g = Rational(3, 4)
            st = step("gain of selu (torch.nn.init.calculate_gain)", eq(G, g),
                      note="PyTorch's empirical value; for self-normalizing networks use linear (gain 1)")
        else:
            st = step("gain of leaky_relu (torch.nn.init.calculate_gain)",
                      eq(G, Pow(Mul(2, Pow(Add(1, Pow(A_SLOPE, 2), evaluate=False), -1,
                                                 evaluate=False), evaluate=False), Rational(1, 2), evaluate=False)),
                      {A_SLOPE: a},
                      note="negative slope a = " + str(a) + (
                          " (kaiming_*'s default a = 0: the gain of relu)" if he and inp.a is None else
                          " (calculate_gain's default)" if inp.a is None else ""))
            g = st.value
        why = f"torch.nn.init.calculate_gain({nl!r}" + (f", {a}" if nl == "leaky_relu" else "") + ")"
        if inp.nonlinearity is None:
            why += (" — kaiming_*'s default nonlinearity='leaky_relu' with a=0, which equals relu's gain √2"
                    if he else " — the default gain 1")
    if no_gain:  # the mistake: the gain left out
        g = sympy.Integer(1)
        st = Step(title="gain left out", formula=eq(G, 1), value=g)
    from dataclasses import replace

    return g, replace(st, section=inp.scheme), why


# --------------------------------------------------------------------------- solve


def _fan_steps(inp: Inputs) -> list[Step]:
    dims = inp.shape
    if dims is None:
        return []
    out_c, in_c, ks = dims[0], dims[1], dims[2:]
    steps: list[Step] = []
    if ks:
        k_syms = [Symbol(f"k_{i + 1}") for i in range(len(ks))]
        rf_sym = Symbol("k")
        rf = step("receptive field (the kernel's size)", eq(rf_sym, Mul(*k_syms, evaluate=False))
                  if len(ks) > 1 else eq(rf_sym, k_syms[0]), dict(zip(k_syms, ks)), section="fans")
        steps.append(rf)
        steps.append(step("fan_in = in·k (torch.nn.init._calculate_fan_in_and_fan_out)",
                          eq(N_IN, Mul(C_IN, rf_sym, evaluate=False)), {C_IN: in_c, rf_sym: rf.value},
                          section="fans"))
        steps.append(step("fan_out = out·k", eq(N_OUT, Mul(C_OUT, rf_sym, evaluate=False)),
                          {C_OUT: out_c, rf_sym: rf.value}, section="fans"))
    else:
        steps.append(Step(title="fans of an out × in weight", section="fans",
                          formula=Math("fan_in = in, fan_out = out", r"\mathrm{fan\_in} = \mathrm{in},\ \mathrm{fan\_out} = \mathrm{out}"),
                          value=[sympy.Integer(in_c), sympy.Integer(out_c)]))
    return steps


def _uf(*args: Any) -> Any:
    """The product of ``args`` as written (unevaluated)."""
    return Mul(*args, evaluate=False)


# the formulas of the schemes, written once
XAVIER_STD = eq(SIGMA, _uf(G, Pow(_uf(2, Pow(Add(N_IN, N_OUT, evaluate=False), -1, evaluate=False)),
                                  Rational(1, 2), evaluate=False)))
FAN_SUM_STD = eq(SIGMA, _uf(G, Pow(Add(N_IN, N_OUT, evaluate=False), Rational(-1, 2), evaluate=False)))
#: σ = g/√fan for He (fan_in or fan_out) and LeCun (fan_in)
FAN_STD = {fan: eq(SIGMA, _uf(G, Pow(fan, Rational(-1, 2), evaluate=False))) for fan in (N_IN, N_OUT)}
UNIFORM_STD = eq(SIGMA, _uf(B, Pow(3, Rational(-1, 2), evaluate=False)))
BOUND = eq(B, _uf(Pow(3, Rational(1, 2), evaluate=False), SIGMA))
VARIANCE = eq(Var(W), Pow(SIGMA, 2, evaluate=False))
FAN_IN_VAR = _uf(N_IN, Var(W))


@dataclass(frozen=True)
class _Spread:
    """The weights' spread and its steps: σ, Var(w) = σ², the bound of a uniform (None for a
    normal) and the step that gives it (None when the bound is given)."""

    std: Any
    variance: Any
    bound: Any
    std_step: Step
    bound_step: Step | None


def solve(inp: Inputs, *, fan_sum: bool = False, no_gain: bool = False, var_as_std: bool = False,
          std_as_var: bool = False, bound_as_std: bool = False) -> Solution:
    """The worked initialization; the flags are the common mistakes of :data:`MISTAKES`."""
    family = inp.scheme.split("-")[0]
    steps: list[Step] = _fan_steps(inp)
    conventions: dict[str, str] = {}
    gain: Any = None
    if family in ("xavier", "he", "lecun"):
        gain, gstep, conventions["gain"] = _gain_step(inp, no_gain)
        steps.append(gstep)
    std_step, conventions["scheme"] = _std_step(inp, family, gain, fan_sum, steps)
    sp = _spread(inp, std_step, bound_as_std)
    steps += _spread_steps(inp, sp, family, var_as_std, std_as_var)
    result: dict[str, Any] = {"std": sp.variance if var_as_std else sp.std,
                              "variance": sp.std if std_as_var else sp.variance,
                              "gain": gain, "bound": sp.bound}
    if inp.depth is not None:
        fwd, bwd, dsteps, dconv = _depth(inp, sp.variance)
        steps.extend(dsteps)
        conventions.update(dconv)
        result["forward_var"] = fwd
        result["backward_var"] = bwd
    if inp.shape is not None:
        conventions["fans"] = ("from the shape out × in × k₁ × …: fan_in = in·k₁·…, fan_out = out·k₁·… "
                               "(torch.nn.init._calculate_fan_in_and_fan_out)")
    conventions["bound"] = "b of U(−b, b); null for the normal schemes"
    return Solution(command="init", inputs=_inputs(inp, family), conventions=conventions, steps=tuple(steps),
                    result=result, notes=())


def _spread(inp: Inputs, std_step: Step, bound_as_std: bool) -> _Spread:
    """Var(w) = σ² and the bound b = √3·σ of a uniform (or the mistake b = σ)."""
    std = std_step.value
    variance = sympy.expand(std ** 2) if std.free_symbols else std ** 2
    if not inp.scheme.endswith("uniform"):
        return _Spread(std, variance, None, std_step, None)
    if inp.scheme == "uniform" and inp.std is None:  # the bound is given (its step came before σ)
        return _Spread(std, variance, inp.bound if inp.bound is not None else sympy.Integer(1), std_step, None)
    if bound_as_std:  # the mistake: the bound taken equal to the std (√3 forgotten)
        bstep = Step(title="bound taken equal to the std (√3 forgotten)", formula=eq(B, SIGMA), value=std,
                     section=inp.scheme)
    else:
        bstep = step("bound of U(−b, b) with this std: b = √3·σ", BOUND, {SIGMA: std}, section=inp.scheme)
    return _Spread(std, variance, bstep.value, std_step, bstep)


def _spread_steps(inp: Inputs, sp: _Spread, family: str, var_as_std: bool, std_as_var: bool) -> list[Step]:
    """σ, Var(w) and the bound on the board (each as the mistake, when it is one), then fan_in·Var(w)."""
    sec = inp.scheme
    std_step = sp.std_step
    if var_as_std:  # the mistake: the variance reported as the std
        std_step = Step(title=std_step.title + ", reported as the variance σ²", formula=std_step.formula,
                        value=sp.variance, section=sec)
    if std_as_var:  # the mistake: σ given as the variance (not squared)
        var_step = Step(title="variance taken equal to the std (not squared)", formula=eq(Var(W), SIGMA),
                        value=sp.std, section=sec)
    else:
        var_step = step("variance of the weights", VARIANCE, {SIGMA: sp.std}, value=sp.variance, section=sec)
    steps = [std_step, var_step] + ([sp.bound_step] if sp.bound_step is not None else [])
    if inp.fan_in is not None:
        steps.append(step("fan_in·Var(w): 1 keeps a linear layer's variance, 2 a ReLU layer's", FAN_IN_VAR,
                          {N_IN: sympy.Integer(inp.fan_in), Var(W): sp.variance}, section=sec,
                          note=("Xavier: fan_in·Var(w) = gain²·2·fan_in/(fan_in + fan_out), gain² when "
                                "fan_in = fan_out" if family == "xavier" else
                                "He: fan_in·Var(w) = gain² = 2 for ReLU (mode fan_in)" if family == "he" else "")))
    return steps


def _std_step(inp: Inputs, family: str, gain: Any, fan_sum: bool, steps: list[Step]) -> tuple[Step, str]:
    """The step that gives σ for the scheme, and the scheme's convention (a given bound's
    step is appended to ``steps``)."""
    s, uniform = inp.scheme, inp.scheme.endswith("uniform")
    fi = sympy.Integer(inp.fan_in) if inp.fan_in is not None else None
    fo = sympy.Integer(inp.fan_out) if inp.fan_out is not None else None
    if family == "xavier":
        std_step = step("std (Glorot & Bengio; torch.nn.init.xavier_*)", XAVIER_STD, {G: gain, N_IN: fi, N_OUT: fo},
                        section=s)
        return std_step, ("torch.nn.init.xavier_uniform_: U(−b, b), b = √3·σ" if uniform else
                          "torch.nn.init.xavier_normal_: N(0, σ²)") + ", σ = gain·√(2/(fan_in + fan_out))"
    if family in ("he", "lecun"):
        return _fan_std_step(inp, family, gain, fi, fo, fan_sum), _fan_scheme(inp, family)
    if s == "normal":
        std = inp.std if inp.std is not None else sympy.Integer(1)
        return (step("std (given)", eq(SIGMA, std), section=s),
                "N(0, σ²) with the given σ (torch.nn.init.normal_, default std 1)")
    if inp.std is not None:
        std_step = step("std (given)", eq(SIGMA, inp.std), section=s)
    else:
        bnd = inp.bound if inp.bound is not None else sympy.Integer(1)
        steps.append(step("bound (given)", eq(B, bnd), section=s))
        std_step = step("std of U(−b, b): Var = b²/3", UNIFORM_STD, {B: bnd}, section=s)
    return std_step, "U(−b, b), symmetric (torch.nn.init.uniform_(w, -b, b)); its std is b/√3; default b = 1"


def _fan_std_step(inp: Inputs, family: str, gain: Any, fi: Any, fo: Any, fan_sum: bool) -> Step:
    """σ = g/√fan of He (fan_in or fan_out) and LeCun (fan_in), or the fan_in + fan_out mistake."""
    fan_name = "fan_in" if family == "lecun" else inp.mode
    if fan_sum:  # the mistake: fan_in + fan_out where fan_in is meant
        return step(f"std with fan_in + fan_out in place of {fan_name}", FAN_SUM_STD, {G: gain, N_IN: fi, N_OUT: fo},
                    section=inp.scheme)
    fan_sym = N_IN if fan_name == "fan_in" else N_OUT
    return step("std (He et al.; torch.nn.init.kaiming_*)" if family == "he" else
                "std (LeCun: Var(w) = gain²/fan_in)", FAN_STD[fan_sym],
                {G: gain, fan_sym: fi if fan_name == "fan_in" else fo}, section=inp.scheme)


def _fan_scheme(inp: Inputs, family: str) -> str:
    """The convention of He's and LeCun's schemes."""
    uniform = inp.scheme.endswith("uniform")
    if family == "he":
        return (f"torch.nn.init.kaiming_{'uniform' if uniform else 'normal'}_ with mode={inp.mode!r}: "
                f"σ = gain/√{inp.mode}" + ("; U(−b, b), b = √3·σ = gain·√(3/fan)" if uniform else ""))
    if uniform:
        return "LeCun (1998): U(−b, b), b = √3·σ = gain·√(3/fan_in), gain 1 by default"
    return ("LeCun (1998): σ = gain/√fan_in, gain 1 by default (Var(w) = 1/fan_in); a plain normal, "
            "not the truncated normal of Keras's lecun_normal")


def _inputs(inp: Inputs, family: str) -> dict[str, Any]:
    s = inp.scheme
    inputs: dict[str, Any] = {"scheme": s}
    for k in ("fan_in", "fan_out"):
        if getattr(inp, k) is not None:
            inputs[k] = sympy.Integer(getattr(inp, k))
    if inp.shape is not None:
        inputs["shape"] = [sympy.Integer(d) for d in inp.shape]
    for k in ("nonlinearity", "a", "gain", "std", "bound"):
        if getattr(inp, k) is not None:
            inputs[k] = getattr(inp, k)
    if family == "he":
        inputs["mode"] = inp.mode
    if inp.depth is not None:
        inputs.update({"depth": sympy.Integer(inp.depth), "activation": inp.activation,
                       "input_var": inp.input_var})
    return inputs


# --------------------------------------------------------------------------- through depth


def _long(v: Any) -> bool:
    return isinstance(v, sympy.Rational) and max(int(v.p).bit_length(), int(v.q).bit_length()) > EXACT_BITS


def _power_list(first: Any, r: Any, L: int) -> list[Any]:
    """[first·r⁰, first·r¹, …, first·r^(L−1)], exact; an entry whose fraction would be too long
    to read stays the unevaluated power first·r^k (exact, short, and its decimal is printed)."""
    out: list[Any] = []
    cur = first
    for k in range(L):
        if _long(cur):
            out.append(Mul(first, Pow(r, k, evaluate=False), evaluate=False) if first != 1 else
                       Pow(r, k, evaluate=False))
            continue
        out.append(cur)
        cur = cur * r
        if cur.free_symbols:
            cur = sympy.expand(cur)
    return out


Z_1, Z_L, L_SYM, G_0 = Symbol("z_1"), Symbol("z_L"), Symbol("L"), Symbol("g_0")
L_LAYER, Z_LAYER, A_OUT, Z = Symbol("l"), Symbol("z_l"), Symbol("a"), Symbol("z")
#: names SymPy cannot spell: max(0, z) as a teacher writes it (Max prints "Max"), f′(z), ∂L/∂a_{l−1}
RELU_Z = Named("relu_z", "max(0, z)", r"\max(0, z)")
F_PRIME = Named("fprime_z", "f′(z)", "f'(z)")
DL_DA = Named("dLda_prev", "∂L/∂aₗ₋₁", r"\partial L/\partial a_{l-1}")
HALF = spelled(Rational(1, 2), "½", r"\tfrac{1}{2}")
# the formulas of the propagation, written once (c = ½ for ReLU)
FIRST_LAYER = eq(Var(Z_1), _uf(N_IN, Var(W), V_IN))
FACTOR = {relu: eq(R_F, _uf(*([Rational(1, 2)] if relu else []), N_IN, Var(W))) for relu in (False, True)}
FACTOR_BACK = {relu: eq(R_B, _uf(*([Rational(1, 2)] if relu else []), N_OUT, Var(W))) for relu in (False, True)}
#: Var(z_l) = Var(z₁)·r^(l−1); at l = L the last layer's step
FORWARD_VAR = eq(Var(Z_LAYER), ordered_product(Var(Z_1), Pow(R_F, OAdd(L_LAYER, -1, evaluate=False), evaluate=False)))
LAST_LAYER = xreplace_unevaluated(FORWARD_VAR, {L_LAYER: L_SYM, Z_LAYER: Z_L})
AT_THE_INPUT = eq(Var(G_0), Pow(R_B, L_SYM))
BACKWARD_VAR = eq(Var(DL_DA), Pow(R_B, OAdd(L_SYM, -L_LAYER, 1, evaluate=False), evaluate=False))
SECOND_MOMENT = {True: eq(Ex(Pow(A_OUT, 2, evaluate=False)), eq(Ex(Pow(RELU_Z, 2, evaluate=False)),
                                                                 _uf(Rational(1, 2), Var(Z)))),
                 False: eq(Ex(Pow(A_OUT, 2, evaluate=False)), Var(Z))}
DERIVATIVE_MOMENT = {relu: eq(Ex(Pow(F_PRIME, 2, evaluate=False)), HALF if relu else sympy.Integer(1))
                     for relu in (True, False)}
# prose: conditions and readings in words
VANISHING = Math("r < 1: Var(z_L) = Var(z₁)·r^(L−1) → 0 (vanishes);  r > 1: it grows without bound (explodes)",
                 r"r < 1:\ \mathrm{Var}(z_L) = \mathrm{Var}(z_1) r^{L-1} \to 0;\quad r > 1:\ \text{it explodes}")
CAUSES = Math(
    "(1) saturation: σ′ and tanh′ ≈ 0 for large |z|; (2) extreme gradients: a product of L "
    "Jacobians shrinks or grows geometrically; (3) initialization: n·Var(w) away from 1 (linear, tanh) "
    "or 2 (ReLU), e.g. N(0, 0.01²)",
    r"\text{(1) saturation: } \sigma', \tanh' \approx 0 \text{ for large } |z|;\ "
    r"\text{(2) extreme gradients: a product of } L \text{ Jacobians};\ "
    r"\text{(3) initialization: } n\,\mathrm{Var}(w) \ne 1 \text{ (linear, tanh) or } 2 \text{ (ReLU)}")


def _keeping(crit: str) -> Math:
    """r = 1 ⟺ n·Var(w) = 1 (2 for ReLU), forward and backward."""
    return Math(f"r = 1 ⟺ fan_in·Var(w) = {crit};  backward: fan_out·Var(w) = {crit}",
                rf"r = 1 \iff \mathrm{{fan\_in}}\,\mathrm{{Var}}(w) = {crit};\quad \mathrm{{fan\_out}}\,\mathrm{{Var}}(w) = {crit}")


def _layer(layer: int, relu: bool) -> sympy.Equality:
    """Var(z_l) = c·fan_in·Var(w)·Var(z_(l−1)) for layer l ≥ 2."""
    prev = Var(Symbol(f"z_{layer - 1}"))
    return eq(Var(Symbol(f"z_{layer}")), _uf(N_IN, Var(W), _uf(Rational(1, 2), prev) if relu else prev))


def _depth(inp: Inputs, variance: Any) -> tuple[list[Any], list[Any], list[Step], dict[str, str]]:
    """The variance forward through L layers, the gradient's backward, and why it matters."""
    assert inp.depth is not None and inp.fan_in is not None
    fwd, r, steps = _forward(inp, variance)
    bwd, rb, back = _backward(inp, variance)
    steps += back + _why(inp, r, rb)
    conv = {
        "depth": f"L = {inp.depth} layers of this weight's shape, z_l = W_l·a_(l−1), a_l = f(z_l), zero biases, "
                 "independent zero-mean weights and inputs; forward_var[l−1] = Var(z_l)",
        "activation": {"relu": "ReLU: E[a²] = ½·Var(z), E[f′(z)²] = ½ (He et al. 2015)",
                       "tanh": "tanh in its linear regime: E[a²] = Var(z), f′ ≈ 1 (Glorot & Bengio 2010)",
                       "linear": "linear: a = z"}[inp.activation],
        "backward": "backward_var[l−1] = Var(∂L/∂a_(l−1)), the gradient reaching layer l's input, "
                    "with Var(∂L/∂a_L) = 1 at the output; per layer ×c·fan_out·Var(w)"
                    + ("" if inp.fan_out is not None else "; fan_out taken equal to fan_in (not given)"),
    }
    return fwd, bwd, steps, conv


def _forward(inp: Inputs, variance: Any) -> tuple[list[Any], Any, list[Step]]:
    """Var(z_l) for l = 1…L: layer 1, the factor r per layer, a few layers, then the closed form."""
    L, fi, relu, sec = inp.depth, sympy.Integer(inp.fan_in), inp.activation == "relu", "forward"
    first = step("layer 1: z₁ = W₁·x (zero biases, independent zero-mean weights)", FIRST_LAYER,
                 {N_IN: fi, Var(W): variance, V_IN: inp.input_var}, section=sec)
    v1 = first.value
    if relu:
        moment = Step(title="ReLU keeps half of the second moment of a symmetric zero-mean z",
                      formula=SECOND_MOMENT[True], section=sec, note="He et al. (2015)")
    else:
        moment = Step(title="tanh in its linear regime: tanh(z) ≈ z" if inp.activation == "tanh" else
                      "linear units: a = z", formula=SECOND_MOMENT[False], section=sec,
                      note="Glorot & Bengio (2010)" if inp.activation == "tanh" else "")
    rstep = step("factor per layer: Var(z_l) = r·Var(z_(l−1))", FACTOR[relu], {N_IN: fi, Var(W): variance},
                 section=sec)
    r = rstep.value
    steps = [first, moment, rstep]
    fwd = _power_list(v1, r, L)
    for layer in range(2, min(L, SHOWN_LAYERS) + 1):
        steps.append(step(f"layer {layer}", _layer(layer, relu),
                          {N_IN: fi, Var(W): variance, Var(Symbol(f"z_{layer - 1}")): fwd[layer - 2]},
                          value=fwd[layer - 1], section=sec))
    if L > SHOWN_LAYERS:
        steps.append(step(f"layer L = {L}", LAST_LAYER, {Var(Z_1): v1, R_F: r, L_SYM: L}, value=fwd[-1],
                          section=sec))
    steps.append(Step(title=f"forward_var: Var(z_l) for l = 1…{L}", formula=FORWARD_VAR, value=fwd, section=sec))
    return fwd, r, steps


def _backward(inp: Inputs, variance: Any) -> tuple[list[Any], Any, list[Step]]:
    """Var(∂L/∂a) at each layer's input, with Var(∂L/∂a_L) = 1 at the output."""
    L, relu, sec = inp.depth, inp.activation == "relu", "backward"
    fo = sympy.Integer(inp.fan_out if inp.fan_out is not None else inp.fan_in)
    steps = [Step(title="ReLU's derivative is 1 on half of a symmetric z, 0 on the other half",
                  formula=DERIVATIVE_MOMENT[True], section=sec) if relu else
             Step(title="linear regime: f′(z) = 1", formula=DERIVATIVE_MOMENT[False], section=sec)]
    bstep = step("factor per layer backward: Var(∂L/∂a_(l−1)) = r_b·Var(∂L/∂a_l)", FACTOR_BACK[relu],
                 {N_OUT: fo, Var(W): variance}, section=sec,
                 note="∂L/∂a_{l−1} = W_lᵀ(f′(z_l)⊙∂L/∂a_l): a sum over fan_out terms"
                      + ("" if inp.fan_out is not None else "; fan_out not given: taken equal to fan_in"))
    rb = bstep.value
    steps.append(bstep)
    bwd = list(reversed(_power_list(rb, rb, L)))   # r_b¹ … r_b^L, listed by layer 1…L
    steps.append(step(f"at the network's input (through all L = {L} layers)", AT_THE_INPUT, {R_B: rb, L_SYM: L},
                      value=bwd[0], section=sec, note="g_l = ∂L/∂a_l, with Var(g_L) = 1 at the output"))
    steps.append(Step(title=f"backward_var: Var(∂L/∂a_(l−1)), the gradient at layer l's input, l = 1…{L}",
                      formula=BACKWARD_VAR, value=bwd, section=sec))
    return bwd, rb, steps


def _why(inp: Inputs, r: Any, rb: Any) -> list[Step]:
    """The reading: the variance is kept when r = 1; it vanishes or explodes otherwise."""
    relu, sec = inp.activation == "relu", "why"
    return [
        Step(title="keeping the variance from layer to layer", formula=_keeping("2" if relu else "1"),
             value=[r, rb], section=sec,
             note=("ReLU halves E[a²], so He et al. take Var(w) = 2/fan_in (n·Var(w) = 2)" if relu else
                   "Xavier's compromise Var(w) = 2/(fan_in + fan_out) gives n·Var(w) = 1 for both when "
                   "fan_in = fan_out")),
        Step(title="vanishing or exploding", formula=VANISHING, section=sec, note=_verdict(r, inp.depth)),
        Step(title="causes of vanishing and exploding gradients", section=sec, formula=CAUSES),
    ]


def _verdict(r: Any, L: int) -> str:
    if not r.is_number:
        return "r is symbolic: the variance is kept when r = 1"
    if r == 1:
        return "r = 1: the variance is the same in every layer"
    f = float(r)
    if f < 1:
        return f"r ≈ {f:.4g} < 1: the signal vanishes, shrinking by {f:.4g} per layer"
    return f"r ≈ {f:.4g} > 1: the signal explodes, growing by {f:.4g} per layer"


# --------------------------------------------------------------------------- --check


def _fan_sum(kw: dict[str, Any]) -> dict[str, Any] | None:
    s = kw["scheme"]
    uses_fan_in = s.startswith("lecun") or (s.startswith("he") and kw["mode"] == "fan_in")
    if not uses_fan_in or kw["fan_out"] is None:
        return None
    return {"fan_sum": True}


def _no_gain(kw: dict[str, Any]) -> dict[str, Any] | None:
    s = kw["scheme"]
    if s in ("normal", "uniform"):
        return None
    return {"no_gain": True}


def _uniform_bound(kw: dict[str, Any]) -> dict[str, Any] | None:
    s = kw["scheme"]
    if not s.endswith("uniform") or (s == "uniform" and kw["std"] is None):
        return None
    return {"bound_as_std": True}


#: common mistakes, for ``--check`` (each a variant of :func:`solve`)
MISTAKES = (
    Mistake("used fan_in + fan_out where fan_in is meant", _fan_sum),
    Mistake("forgot the gain (took g = 1)", _no_gain),
    Mistake("gave the variance where the std is asked (σ² for σ)", {"var_as_std": True}),
    Mistake("took the std as the variance (forgot to square σ)", {"std_as_var": True}),
    Mistake("forgot the √3 of a uniform: took the bound equal to the std", _uniform_bound),
)
