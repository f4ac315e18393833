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

from dlcalc.board import eq, step
from dlcalc.core import Math, Mistake, Solution, Step
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

    sch = _choice(scheme, "--scheme", SCHEMES)
    if sch is None:
        if std is not None and bound is None:
            sch = "normal"
        elif bound is not None and std is None:
            sch = "uniform"
        else:
            raise InputError("--scheme", "is missing: give one of " + ", ".join(SCHEMES))
    plain = sch in ("normal", "uniform")
    he = sch.startswith("he-")
    if shape is not None and (fan_in is not None or fan_out is not None):
        raise InputError("--shape", "gives the fans; do not combine it with --fan-in/--fan-out")
    dims = _parse_shape(shape) if shape is not None else None
    if dims is not None:
        rf = 1
        for k in dims[2:]:
            rf *= k
        fi, fo = dims[1] * rf, dims[0] * rf
        if max(fi, fo) > MAX_FAN:
            raise InputError("--shape", f"gives fans beyond {MAX_FAN:,}")
    else:
        fi = parse_int(fan_in, "--fan-in", lo=1, hi=MAX_FAN) if fan_in is not None else None
        fo = parse_int(fan_out, "--fan-out", lo=1, hi=MAX_FAN) if fan_out is not None else None

    nl = _choice(nonlinearity, "--nonlinearity", NONLINEARITIES)
    if plain:
        for name, given in (("--nonlinearity", nonlinearity), ("--gain", gain), ("--a", a)):
            if given is not None:
                raise InputError(name, f"has no effect on the plain {sch} scheme (it takes "
                                       + ("--std" if sch == "normal" else "--bound") + ")")
    if gain is not None and nl is not None:
        raise InputError("--gain", "and --nonlinearity both set the gain; give one of them")
    if a is not None:
        if gain is not None:
            raise InputError("--a", "is leaky_relu's slope; with --gain it has no effect")
        if nl not in ("leaky_relu", None) or (nl is None and not he):
            raise InputError("--a", "is the negative slope of leaky_relu; give --nonlinearity leaky_relu"
                             + (f" (not {nl})" if nl else ""))
    md = _choice(mode, "--mode", ("fan_in", "fan_out"))
    if md is not None and not he:
        raise InputError("--mode", "applies to the he-* schemes (kaiming_*); "
                                   + ("LeCun's fan is fan_in" if sch.startswith("lecun") else
                                      "Xavier uses both fans" if sch.startswith("xavier") else
                                      "the plain schemes have no fan"))
    if std is not None and sch != "normal" and not (sch == "uniform" and bound is None):
        raise InputError("--std", "is the std of the plain normal scheme (or uniform's, instead of "
                                  f"--bound); {sch} computes its own")
    if bound is not None and sch != "uniform":
        raise InputError("--bound", f"is the half-width of the plain uniform scheme; {sch} computes its own")

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


def solve(inp: Inputs, *, fan_sum: bool = False, no_gain: bool = False, var_as_std: bool = False,
          std_as_var: bool = False, bound_as_std: bool = False) -> Solution:
    """The worked initialization; the flags are the common mistakes of :data:`MISTAKES`."""
    s = inp.scheme
    family = s.split("-")[0]
    uniform = s.endswith("uniform")
    steps: list[Step] = _fan_steps(inp)
    conventions: dict[str, str] = {}
    gain: Any = None
    if family in ("xavier", "he", "lecun"):
        gain, gstep, why = _gain_step(inp, no_gain)
        steps.append(gstep)
        conventions["gain"] = why
    fi = sympy.Integer(inp.fan_in) if inp.fan_in is not None else None
    fo = sympy.Integer(inp.fan_out) if inp.fan_out is not None else None
    sec = s
    std_step, conventions["scheme"] = _std_step(inp, family, uniform, gain, fi, fo, fan_sum, steps)
    std = std_step.value
    variance = sympy.expand(std ** 2) if std.free_symbols else std ** 2
    bound = None
    if uniform:
        if s == "uniform" and inp.std is None:
            bound = inp.bound if inp.bound is not None else sympy.Integer(1)
        else:
            bstep = step("bound of U(−b, b) with this std: b = √3·σ", eq(B, Mul(Pow(3, Rational(1, 2), evaluate=False), SIGMA,
                                                                               evaluate=False)),
                         {SIGMA: std}, section=sec)
            bound = bstep.value
            if bound_as_std:  # the mistake: the bound taken equal to the std (√3 forgotten)
                bstep = Step(title="bound taken equal to the std (√3 forgotten)", formula=eq(B, SIGMA),
                             value=std, section=sec)
                bound = std
    if var_as_std:  # the mistake: the variance reported as the std
        std_step = Step(title=std_step.title + ", reported as the variance σ²", formula=std_step.formula,
                        value=variance, section=sec)
    steps.append(std_step)
    var_step = step("variance of the weights", eq(Var(W), Pow(SIGMA, 2, evaluate=False)), {SIGMA: std},
                    value=variance, section=sec)
    if std_as_var:  # the mistake: σ given as the variance (not squared)
        var_step = Step(title="variance taken equal to the std (not squared)", formula=eq(Var(W), SIGMA),
                        value=std, section=sec)
    steps.append(var_step)
    if uniform and not (s == "uniform" and inp.std is None):
        steps.append(bstep)
    if fi is not None:
        prod = step("fan_in·Var(w): 1 keeps a linear layer's variance, 2 a ReLU layer's",
                    Mul(N_IN, Var(W), evaluate=False),
                    {N_IN: fi, Var(W): variance}, section=sec,
                    note=("Xavier: fan_in·Var(w) = gain²·2·fan_in/(fan_in + fan_out), gain² when fan_in = fan_out"
                          if family == "xavier" else
                          "He: fan_in·Var(w) = gain² = 2 for ReLU (mode fan_in)" if family == "he" else ""))
        steps.append(prod)

    result: dict[str, Any] = {"std": variance if var_as_std else std,
                              "variance": std if std_as_var else variance,
                              "gain": gain, "bound": bound}
    notes: list[str] = []
    if inp.depth is not None:
        fwd, bwd, dsteps, dconv = _depth(inp, variance)
        steps.extend(dsteps)
        conventions.update(dconv)
        result["forward_var"] = fwd
        result["backward_var"] = bwd
    if inp.shape is not None:
        conventions["fans"] = ("from the shape out × in × k₁ × …: fan_in = in·k₁·…, fan_out = out·k₁·… "
                               "(torch.nn.init._calculate_fan_in_and_fan_out)")
    conventions["bound"] = "b of U(−b, b); null for the normal schemes"
    inputs = _inputs(inp, family)
    return Solution(command="init", inputs=inputs, conventions=conventions, steps=tuple(steps),
                    result=result, notes=tuple(notes))


def _std_step(inp: Inputs, family: str, uniform: bool, gain: Any, fi: Any, fo: Any, fan_sum: bool,
              steps: list[Step]) -> tuple[Step, str]:
    """The step that gives σ for the scheme, and the scheme's convention (a given bound's
    step is appended to ``steps``)."""
    s = inp.scheme
    sec = s
    if family == "xavier":
        std_step = step("std (Glorot & Bengio; torch.nn.init.xavier_*)",
                        eq(SIGMA, Mul(G, Pow(Mul(2, Pow(Add(N_IN, N_OUT, evaluate=False), -1, evaluate=False),
                                                 evaluate=False), Rational(1, 2), evaluate=False), evaluate=False)),
                        {G: gain, N_IN: fi, N_OUT: fo}, section=sec)
        scheme = ("torch.nn.init.xavier_uniform_: U(−b, b), b = √3·σ" if uniform else
                                 "torch.nn.init.xavier_normal_: N(0, σ²)") + \
            ", σ = gain·√(2/(fan_in + fan_out))"
    elif family in ("he", "lecun"):
        fan_name = "fan_in" if family == "lecun" else inp.mode
        n = fi if fan_name == "fan_in" else fo
        fan_sym = N_IN if fan_name == "fan_in" else N_OUT
        if fan_sum:  # the mistake: fan_in + fan_out where fan_in is meant
            n = fi + fo
            std_step = step(f"std with fan_in + fan_out in place of {fan_name}",
                            eq(SIGMA, Mul(G, Pow(Add(N_IN, N_OUT, evaluate=False), Rational(-1, 2), evaluate=False),
                                          evaluate=False)), {G: gain, N_IN: fi, N_OUT: fo}, section=sec)
        else:
            std_step = step(("std (He et al.; torch.nn.init.kaiming_*)" if family == "he" else
                             "std (LeCun: Var(w) = gain²/fan_in)"),
                            eq(SIGMA, Mul(G, Pow(fan_sym, Rational(-1, 2), evaluate=False), evaluate=False)),
                            {G: gain, fan_sym: n}, section=sec)
        scheme = (
            (f"torch.nn.init.kaiming_{'uniform' if uniform else 'normal'}_ with mode={inp.mode!r}: "
             f"σ = gain/√{inp.mode}") if family == "he" else
            ("LeCun (1998): σ = gain/√fan_in, gain 1 by default (Var(w) = 1/fan_in); a plain normal, "
             "not the truncated normal of Keras's lecun_normal") if not uniform else
            "LeCun (1998): U(−b, b), b = √3·σ = gain·√(3/fan_in), gain 1 by default")
        if family == "he" and uniform:
            scheme += "; U(−b, b), b = √3·σ = gain·√(3/fan)"
    elif s == "normal":
        std = inp.std if inp.std is not None else sympy.Integer(1)
        std_step = step("std (given)", eq(SIGMA, std), section=sec)
        scheme = "N(0, σ²) with the given σ (torch.nn.init.normal_, default std 1)"
    else:
        if inp.std is not None:
            std_step = step("std (given)", eq(SIGMA, inp.std), section=sec)
        else:
            bnd = inp.bound if inp.bound is not None else sympy.Integer(1)
            steps.append(step("bound (given)", eq(B, bnd), section=sec))
            std_step = step("std of U(−b, b): Var = b²/3", eq(SIGMA, Mul(B, Pow(3, Rational(-1, 2), evaluate=False),
                                                                         evaluate=False)), {B: bnd}, section=sec)
        scheme = ("U(−b, b), symmetric (torch.nn.init.uniform_(w, -b, b)); its std is b/√3; "
                                 "default b = 1")
    return std_step, scheme


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


def _depth(inp: Inputs, variance: Any) -> tuple[list[Any], list[Any], list[Step], dict[str, str]]:
    L = inp.depth
    assert L is not None and inp.fan_in is not None
    fi = sympy.Integer(inp.fan_in)
    fo = sympy.Integer(inp.fan_out if inp.fan_out is not None else inp.fan_in)
    relu = inp.activation == "relu"
    V = inp.input_var
    sec = "forward"
    steps: list[Step] = []
    VW = Var(W)
    z = [Symbol(f"z_{i}") for i in range(0, 4)]
    steps.append(step("layer 1: z₁ = W₁·x (zero biases, independent zero-mean weights)",
                      eq(Var(z[1]), Mul(N_IN, VW, V_IN, evaluate=False)), {N_IN: fi, VW: variance, V_IN: V},
                      section=sec))
    v1 = steps[-1].value
    if relu:
        steps.append(Step(title="ReLU keeps half of the second moment of a symmetric zero-mean z",
                          formula=Math("E[a²] = E[max(0, z)²] = ½·Var(z)",
                                       r"\mathbb{E}[a^2] = \mathbb{E}[\max(0, z)^2] = \tfrac{1}{2}\mathrm{Var}(z)"),
                          section=sec, note="He et al. (2015)"))
        rt = Mul(Rational(1, 2), N_IN, VW, evaluate=False)
    else:
        steps.append(Step(title=("tanh in its linear regime: tanh(z) ≈ z" if inp.activation == "tanh"
                                 else "linear units: a = z"),
                          formula=Math("E[a²] = Var(z)", r"\mathbb{E}[a^2] = \mathrm{Var}(z)"), section=sec,
                          note="Glorot & Bengio (2010)" if inp.activation == "tanh" else ""))
        rt = Mul(N_IN, VW, evaluate=False)
    rstep = step("factor per layer: Var(z_l) = r·Var(z_(l−1))", eq(R_F, rt), {N_IN: fi, VW: variance},
                 section=sec)
    r = rstep.value
    steps.append(rstep)
    fwd = _power_list(v1, r, L)
    for layer in range(2, min(L, SHOWN_LAYERS) + 1):
        prev = Symbol(f"z_{layer - 1}")
        ea = Mul(Rational(1, 2), Var(prev), evaluate=False) if relu else Var(prev)
        steps.append(step(f"layer {layer}", eq(Var(Symbol(f"z_{layer}")), Mul(N_IN, VW, ea, evaluate=False)),
                          {N_IN: fi, VW: variance, Var(prev): fwd[layer - 2]}, value=fwd[layer - 1], section=sec))
    if L > SHOWN_LAYERS:
        steps.append(step(f"layer L = {L}", eq(Var(Symbol("z_L")), Mul(Var(z[1]), Pow(R_F, Symbol("L") - 1), evaluate=False)),
                          {Var(z[1]): v1, R_F: r, Symbol("L"): L}, value=fwd[-1], section=sec))
    steps.append(Step(title=f"forward_var: Var(z_l) for l = 1…{L}",
                      formula=Math("Var(z_l) = Var(z₁)·r^(l−1)", r"\mathrm{Var}(z_l) = \mathrm{Var}(z_1)\, r^{l-1}"),
                      value=fwd, section=sec))
    # backward
    sec = "backward"
    if relu:
        steps.append(Step(title="ReLU's derivative is 1 on half of a symmetric z, 0 on the other half",
                          formula=Math("E[f′(z)²] = ½", r"\mathbb{E}[f'(z)^2] = \tfrac{1}{2}"), section=sec))
        bt = Mul(Rational(1, 2), N_OUT, VW, evaluate=False)
    else:
        steps.append(Step(title="linear regime: f′(z) = 1",
                          formula=Math("E[f′(z)²] = 1", r"\mathbb{E}[f'(z)^2] = 1"), section=sec))
        bt = Mul(N_OUT, VW, evaluate=False)
    bstep = step("factor per layer backward: Var(∂L/∂a_(l−1)) = r_b·Var(∂L/∂a_l)", eq(R_B, bt),
                 {N_OUT: fo, VW: variance}, section=sec,
                 note="∂L/∂a_{l−1} = W_lᵀ(f′(z_l)⊙∂L/∂a_l): a sum over fan_out terms"
                      + ("" if inp.fan_out is not None else "; fan_out not given: taken equal to fan_in"))
    rb = bstep.value
    steps.append(bstep)
    # the gradient reaching layer l's input, l = L … 1, with Var(∂L/∂a_L) = 1
    back_from_top = _power_list(rb, rb, L)   # r_b¹ … r_b^L
    bwd = list(reversed(back_from_top))      # listed by layer 1…L
    steps.append(step(f"at the network's input (through all L = {L} layers)",
                      eq(Var(Symbol("g_0")), Pow(R_B, Symbol("L"))), {R_B: rb, Symbol("L"): L},
                      value=bwd[0], section=sec,
                      note="g_l = ∂L/∂a_l, with Var(g_L) = 1 at the output"))
    steps.append(Step(title=f"backward_var: Var(∂L/∂a_(l−1)), the gradient at layer l's input, l = 1…{L}",
                      formula=Math("Var(∂L/∂a_{l−1}) = r_b^(L−l+1)", r"\mathrm{Var}(\partial L/\partial a_{l-1}) = r_b^{L-l+1}"),
                      value=bwd, section=sec))
    # the reading
    sec = "why"
    crit = "2" if relu else "1"
    steps.append(Step(
        title="keeping the variance from layer to layer",
        formula=Math(f"r = 1 ⟺ fan_in·Var(w) = {crit};  backward: fan_out·Var(w) = {crit}",
                     rf"r = 1 \iff \mathrm{{fan\_in}}\,\mathrm{{Var}}(w) = {crit};\quad \mathrm{{fan\_out}}\,\mathrm{{Var}}(w) = {crit}"),
        value=[r, rb], section=sec,
        note=("ReLU halves E[a²], so He et al. take Var(w) = 2/fan_in (n·Var(w) = 2)" if relu else
              "Xavier's compromise Var(w) = 2/(fan_in + fan_out) gives n·Var(w) = 1 for both when fan_in = fan_out")))
    verdict = _verdict(r, L)
    steps.append(Step(title="vanishing or exploding", formula=Math(
        "r < 1: Var(z_L) = Var(z₁)·r^(L−1) → 0 (vanishes);  r > 1: it grows without bound (explodes)",
        r"r < 1:\ \mathrm{Var}(z_L) = \mathrm{Var}(z_1) r^{L-1} \to 0;\quad r > 1:\ \text{it explodes}"),
        section=sec, note=verdict))
    steps.append(Step(title="causes of vanishing and exploding gradients", section=sec, formula=Math(
        "(1) saturation: σ′ and tanh′ ≈ 0 for large |z|; (2) extreme gradients: a product of L "
        "Jacobians shrinks or grows geometrically; (3) initialization: n·Var(w) away from 1 (linear, tanh) "
        "or 2 (ReLU), e.g. N(0, 0.01²)",
        r"\text{(1) saturation: } \sigma', \tanh' \approx 0 \text{ for large } |z|;\ "
        r"\text{(2) extreme gradients: a product of } L \text{ Jacobians};\ "
        r"\text{(3) initialization: } n\,\mathrm{Var}(w) \ne 1 \text{ (linear, tanh) or } 2 \text{ (ReLU)}")))
    conv = {
        "depth": f"L = {L} layers of this weight's shape, z_l = W_l·a_(l−1), a_l = f(z_l), zero biases, "
                 "independent zero-mean weights and inputs; forward_var[l−1] = Var(z_l)",
        "activation": {"relu": "ReLU: E[a²] = ½·Var(z), E[f′(z)²] = ½ (He et al. 2015)",
                       "tanh": "tanh in its linear regime: E[a²] = Var(z), f′ ≈ 1 (Glorot & Bengio 2010)",
                       "linear": "linear: a = z"}[inp.activation],
        "backward": "backward_var[l−1] = Var(∂L/∂a_(l−1)), the gradient reaching layer l's input, "
                    "with Var(∂L/∂a_L) = 1 at the output; per layer ×c·fan_out·Var(w)"
                    + ("" if inp.fan_out is not None else "; fan_out taken equal to fan_in (not given)"),
    }
    return fwd, bwd, steps, conv


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
