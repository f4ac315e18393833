"""param-count: learnable parameters, output shapes, multiply-adds and receptive fields of a
network, layer by layer, with the formulas worked.

Counts follow PyTorch's modules (``sum(p.numel() for p in m.parameters())``); with
``--input`` each layer's output shape follows PyTorch's shape rules (channels first, no batch
dimension).  The layer kinds (``--layer "KIND key=value ..."``, keys as PyTorch names them or
short):

=================== =====================================================================
dense / linear      in·out weights, out biases; applied to the last dimension (nn.Linear)
conv1d/2d/3d        out·(in/groups)·k… weights, out biases
convtranspose1d/2d/3d in·(out/groups)·k… weights, out biases
maxpool, avgpool    no parameters; adaptiveavgpool/adaptivemaxpool ``out=HxW``
bn, batchnorm1d/2d/3d γ and β (c each, unless affine=false); 2c running statistics are buffers
instancenorm1d/2d/3d, groupnorm, layernorm, rmsnorm  their affine weights (and biases)
embedding           n·d weights;  prelu  c weights
rnn / lstm / gru    per layer and direction G·h·(in_l + h) weights (+ projection), biases·G·h
attention           Q, K, V and output projections (kdim/vdim as nn.MultiheadAttention)
flatten, upsample, dropout, activations: no parameters
=================== =====================================================================

The layer arithmetic is on plain Python ints; SymPy appears only in the templates of the
working and when a size is a symbol.  ``--from-torch`` reads ``print(model)`` text with the
hand-written parser of :mod:`dlcalc.exercises.param_count_torch`.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable

import sympy

from dlcalc.board import OAdd, OMul, Sigma, ceiling_of, eq, floor_of, put_in, step, written
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_sympy, substitute
from dlcalc.errors import InputError
from dlcalc.exercises import param_count_torch as torch_text
from dlcalc.parse import parse_bool, parse_expr_text, read_source, symbol
from dlcalc.registry import ARGUMENTS, FLAG, LIST, Command, Option

COMMAND = Command(
    name="param-count",
    summary="Learnable parameters of a network, layer by layer, with the formula.",
    example="dlcalc param-count 784 256 10",
    options=(
        Option("SIZES", "Layer sizes of an MLP, input first (784 256 10); any may be a symbol.",
               kind=ARGUMENTS),
        Option("--layer", 'A typed layer, repeatable: "conv2d out=16 k=3 padding=1", "maxpool2d k=2", '
                          '"flatten", "bn c=16", "lstm in=10 hidden=20 layers=2", "attention d=64 heads=8", '
                          '... (PyTorch\'s names work too; repeat=N, frozen=true on any layer).', kind=LIST),
        Option("--input", "Input shape, channels first, no batch dimension: 3x227x227, 16x100, "
                          "2x8x8x8, 784. Output shapes are worked out; in=/c=/d= may be left out."),
        Option("--from-torch", "PyTorch's print(model) text (or @FILE, or - for standard input)."),
        Option("--no-bias", "MLP and dense layers without biases.", kind=FLAG, default=False),
    ),
)

MAX_LAYERS = 1_000
MAX_SIZE = 10**12
MAX_DIMS = 5
SUM_TERMS = 20  # a total is written out as a sum up to this many nonzero layer terms
GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# --------------------------------------------------------------------------- layer kinds

REQ, INFER = "<required>", "<inferred>"
IGNORE = ("ignore", None)

_SPATIAL = {"stride": ("sizes", None), "padding": ("pads", "0"), "dilation": ("sizes", "1")}
_CONV = {"in": ("size", INFER), "out": ("size", REQ), "k": ("sizes", REQ), **_SPATIAL,
         "groups": ("size", "1"), "bias": ("bool", "true"), "padding_mode": IGNORE}
_RNN = {"in": ("size", INFER), "hidden": ("size", REQ), "layers": ("count", "1"),
        "bidirectional": ("bool", "false"), "bias": ("bool", "true"), "biases": ("biases", "2"),
        "batch_first": IGNORE, "dropout": IGNORE, "nonlinearity": IGNORE}
_NORM = {"c": ("size", INFER), "affine": ("bool", "true"), "bias": ("bool", "true"),
         "track_running_stats": ("bool", "true"), "eps": IGNORE, "momentum": IGNORE}
_SAME_KEYS = {k: IGNORE for k in ("p", "inplace", "dim", "negative_slope", "approximate", "alpha",
                                  "beta", "lambd", "threshold", "value", "min_val", "max_val", "size", "k")}

#: kind -> (family, spatial dimensions, keys: name -> (type, default))
KINDS: dict[str, tuple[str, int, dict[str, tuple[str, Any]]]] = {
    "dense": ("dense", 0, {"in": ("size", INFER), "out": ("size", REQ), "bias": ("bool", "true")}),
    **{f"conv{n}d": ("conv", n, _CONV) for n in (1, 2, 3)},
    **{f"convtranspose{n}d": ("convt", n, {**_CONV, "output_padding": ("pads", "0")}) for n in (1, 2, 3)},
    **{f"maxpool{n}d": ("maxpool", n, {"k": ("sizes", REQ), **_SPATIAL, "ceil_mode": ("bool", "false"),
                                       "return_indices": IGNORE}) for n in (1, 2, 3)},
    **{f"avgpool{n}d": ("avgpool", n, {"k": ("sizes", REQ), "stride": ("sizes", None),
                                       "padding": ("pads", "0"), "ceil_mode": ("bool", "false"),
                                       "count_include_pad": IGNORE, "divisor_override": IGNORE})
       for n in (1, 2, 3)},
    **{f"adaptive{op}pool{n}d": ("adaptive", n, {"out": ("sizes", REQ)})
       for op in ("avg", "max") for n in (1, 2, 3)},
    "upsample": ("upsample", 0, {"scale": ("scales", None), "size": ("sizes", None), "mode": IGNORE,
                                 "align_corners": IGNORE}),
    "flatten": ("flatten", 0, {"start_dim": ("int", "1"), "end_dim": ("int", "-1")}),
    **{name.lower(): ("same", 0, _SAME_KEYS) for name in torch_text.SAME_SHAPE},
    "prelu": ("prelu", 0, {"c": ("size", "1"), "init": IGNORE}),
    "bn": ("bn", 0, _NORM),
    **{f"batchnorm{n}d": ("bn", n, _NORM) for n in (1, 2, 3)},
    **{f"instancenorm{n}d": ("bn", n, {**_NORM, "affine": ("bool", "false"),
                                       "track_running_stats": ("bool", "false")}) for n in (1, 2, 3)},
    "groupnorm": ("groupnorm", 0, {"groups": ("size", REQ), "c": ("size", INFER),
                                   "affine": ("bool", "true"), "bias": ("bool", "true"), "eps": IGNORE}),
    "layernorm": ("layernorm", 0, {"d": ("sizes", INFER), "bias": ("bool", "true"),
                                   "elementwise_affine": ("bool", "true"), "eps": IGNORE}),
    "rmsnorm": ("rmsnorm", 0, {"d": ("sizes", INFER), "elementwise_affine": ("bool", "true"),
                               "eps": IGNORE}),
    "embedding": ("embedding", 0, {"n": ("size", REQ), "d": ("size", REQ), "padding_idx": IGNORE,
                                   "max_norm": IGNORE}),
    "rnn": ("rnn", 0, _RNN),
    "lstm": ("rnn", 0, {**_RNN, "proj_size": ("nonneg", "0")}),
    "gru": ("rnn", 0, {**_RNN, "reset_after": ("bool", None)}),
    "attention": ("attention", 0, {"d": ("size", INFER), "heads": ("size", "1"), "bias": ("bool", "true"),
                                   "kdim": ("size", None), "vdim": ("size", None),
                                   "add_bias_kv": ("bool", "false"), "dropout": IGNORE,
                                   "batch_first": IGNORE}),
}
KIND_ALIASES = {"linear": "dense", "multiheadattention": "attention", "batchnorm": "bn"}
#: PyTorch's argument names -> ours
KEY_ALIASES = {
    "in_channels": "in", "in_features": "in", "input_size": "in", "out_channels": "out",
    "out_features": "out", "kernel_size": "k", "num_features": "c", "num_channels": "c",
    "num_parameters": "c", "embed_dim": "d", "num_heads": "heads", "num_layers": "layers",
    "hidden_size": "hidden", "num_embeddings": "n", "embedding_dim": "d", "normalized_shape": "d",
    "num_groups": "groups", "output_size": "out", "scale_factor": "scale",
}
COMMON_KEYS = {"repeat": ("count", "1"), "frozen": ("bool", "false")}


@dataclass(frozen=True)
class Layer:
    """One typed layer.

    Attributes:
        kind: the kind as named in :data:`KINDS` ("conv2d", "batchnorm2d", "relu", ...).
        keys: parsed keys (sizes as ints or SymPy symbols, tuples for kernel/stride/padding,
            bools for flags); a key left to be inferred from the input shape is absent.
        spec: the layer as written.
        option: the option it came from (``--layer``, ``SIZES``, ``--from-torch``).
        path: its name in print(model) ("features.0"), or "".
        skip_of: the block whose shortcut (downsample) branch it is in, or "".
        note: what the source does not tell (print(model) of MultiheadAttention), or "".
    """

    kind: str
    keys: dict[str, Any]
    spec: str
    option: str = "--layer"
    path: str = ""
    skip_of: str = ""
    note: str = ""

    @property
    def family(self) -> str:
        return KINDS[self.kind][0]

    @property
    def dims(self) -> int:
        return KINDS[self.kind][1]


# --------------------------------------------------------------------------- reading values

_DIGITS = re.compile(r"\d{1,15}\Z")


def _size(value: Any, option: str, what: str, lo: int = 1) -> Any:
    """A size: a whole number ≥ ``lo`` (at most 10^12), or a single symbol."""
    if isinstance(value, int):
        value = sympy.Integer(value)
    if value.is_number:
        if not value.is_Integer or value < lo:
            kind = "positive" if lo == 1 else "non-negative"
            raise InputError(option, f"{what} must be a {kind} whole number, got {value}")
        if value > MAX_SIZE:
            raise InputError(option, f"{what} is larger than 10^12")
        return int(value)
    if isinstance(value, sympy.Symbol):
        return symbol(value.name)
    raise InputError(option, f"{what} must be a number or a single symbol, got {value}")


def _number(text: str, option: str, what: str, lo: int = 1) -> Any:
    text = text.strip()
    if _DIGITS.match(text):  # the common case without SymPy's parser
        value = int(text)
        if value < lo:
            kind = "positive" if lo == 1 else "non-negative"
            raise InputError(option, f"{what} must be a {kind} whole number, got {value}")
        return value
    return _size(parse_expr_text(text, option), option, what, lo)


def _parts(text: str) -> list[str]:
    """``3x5``, ``3*5``, ``(3, 5)``, ``[3,5]``, ``3,5`` -> ["3", "5"]."""
    t = text.strip()
    if t[:1] in "([" and t[-1:] in ")]":
        t = t[1:-1]
    if t.count("x") + t.count("X") + t.count(",") + t.count("*") + t.count("×") > MAX_DIMS:
        return [t] * (MAX_DIMS + 1)
    return [p for p in re.split(r"\s*[xX*,×]\s*", t.strip())]


def _sizes(text: str, dims: int, option: str, what: str, lo: int = 1) -> tuple[Any, ...]:
    parts = _parts(text)
    if any(not p.strip() for p in parts):  # k=x, k=3x: a size left out around the x
        raise InputError(option, f"{what} must be sizes such as 3, 3x5 or (3, 5), got {text.strip()[:30]!r}")
    if dims and len(parts) == 1:
        parts = parts * dims
    if dims and len(parts) != dims:
        want = "one size" if dims == 1 else f"1 or {dims} sizes ({'x'.join(['k'] * dims)})"
        raise InputError(option, f"{what} must be {want}, got {text.strip()[:30]!r}")
    if not dims and len(parts) > MAX_DIMS:
        raise InputError(option, f"{what} has more than {MAX_DIMS} sizes")
    return tuple(_number(p, option, what, lo) for p in parts)


def _convert(typ: str, val: str, dims: int, option: str, what: str) -> Any:
    if typ == "bool":
        return parse_bool(val, f"{option} {what}")
    if typ == "size":
        return _number(val, option, what)
    if typ == "nonneg":
        return _number(val, option, what, lo=0)
    if typ == "count":
        n = _number(val, option, what)
        if not isinstance(n, int) or n > MAX_LAYERS:
            raise InputError(option, f"{what} must be a whole number from 1 to {MAX_LAYERS}")
        return n
    if typ == "sizes":
        return _sizes(val, dims, option, what)
    if typ == "pads":
        if val.strip().strip("'\"").lower() in ("same", "valid"):
            return val.strip().strip("'\"").lower()
        return _sizes(val, dims, option, what, lo=0)
    if typ == "int":
        if not re.fullmatch(r"-?\d{1,3}", val.strip()):
            raise InputError(option, f"{what} must be a small whole number, got {val.strip()[:20]!r}")
        return int(val)
    if typ == "biases":
        if val not in ("1", "2"):
            raise InputError(option, f"{what.split(':')[0]}: biases must be 2 (PyTorch) or 1 (Keras), "
                                     f"got {val!r}")
        return int(val)
    return _scales(val, option, what)


def _scales(val: str, option: str, what: str) -> tuple[Any, ...]:
    """Upsampling factors: positive numbers (2, 2.0, 1.5), one or per dimension."""
    out = []
    for p in _parts(val):
        v = parse_expr_text(p, option)
        if not (v.is_Rational and 0 < v <= 1000):
            raise InputError(option, f"{what} must be a positive number up to 1000, got {p.strip()[:20]!r}")
        out.append(Fraction(int(v.p), int(v.q)))
    return tuple(out)


def _words(spec: str) -> list[str]:
    """``spec`` split at spaces outside brackets: ``k=(3, 5)`` stays one word."""
    if "(" not in spec and "[" not in spec:
        return spec.split()
    words, cur, depth = [], [], 0
    for ch in spec:
        depth += 1 if ch in "([" else (-1 if ch in ")]" else 0)
        if ch.isspace() and depth <= 0:
            if cur:
                words.append("".join(cur))
            cur, depth = [], 0
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "x".join(_fmt(x) for x in v) if len(set(v)) > 1 else _fmt(v[0])
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --------------------------------------------------------------------------- parsing layers


def parse_layer(spec: str, option: str = "--layer", **where: Any) -> list[Layer]:
    """``"conv2d out=16 k=3x5 groups=1 repeat=2"`` -> the layer (``repeat`` copies of it)."""
    opt = option
    words = _words(spec)
    if not words:
        raise InputError(opt, "is empty; write e.g. \"dense in=10 out=5\"")
    kind = KIND_ALIASES.get(words[0].lower(), words[0].lower())
    if kind not in KINDS:
        raise InputError(opt, f"has the unknown kind {words[0][:30]!r}; known kinds: "
                              f"{', '.join(k for k in KINDS if KINDS[k][0] != 'same')}, activations "
                              f"and dropout ({', '.join(sorted(KIND_ALIASES))} are aliases)")
    _, dims, table = KINDS[kind]
    table = {**table, **COMMON_KEYS}
    given = _given_keys(kind, words[1:], table, opt)
    keys: dict[str, Any] = {}
    for key, (typ, default) in table.items():
        val = given.get(key, default)
        if typ == "ignore" or val is None or val in (REQ, INFER):
            if val == REQ:
                raise InputError(opt, f"{kind}: missing {key}=")
            continue
        keys[key] = _convert(typ, val, dims, opt, f"{kind}: {key}")
    keys = _settle(kind, keys, given, opt)
    repeat = keys.pop("repeat")
    layer = Layer(kind, keys, " ".join(words), option, **where)
    return [layer] * repeat


def _given_keys(kind: str, words: list[str], table: dict[str, Any], opt: str) -> dict[str, str]:
    given: dict[str, str] = {}
    for w in words:
        key, eq_, val = w.partition("=")
        key = KEY_ALIASES.get(key.lower(), key.lower()) if eq_ else key
        if not eq_ or not key or not val:
            raise InputError(opt, f"{kind}: expected key=value, got {w[:30]!r}")
        if key not in table:
            shown = [k for k, (t, _) in table.items() if t != "ignore"]
            raise InputError(opt, f"{kind}: unknown key {w.partition('=')[0][:30]!r}; keys: {', '.join(shown)}")
        if key in given:
            raise InputError(opt, f"{kind}: key {key!r} given twice")
        given[key] = val
    return given


def _settle(kind: str, keys: dict[str, Any], given: dict[str, str], opt: str) -> dict[str, Any]:
    """Defaults that depend on other keys, and the checks between keys."""
    family = KINDS[kind][0]
    if family in ("maxpool", "avgpool") and "stride" not in keys:
        keys["stride"] = keys["k"]  # PyTorch: stride defaults to the kernel size
    if family in ("conv", "convt") and "stride" not in keys:
        keys["stride"] = (1,) * KINDS[kind][1]
    if kind == "gru" and "reset_after" in keys:
        if "biases" in given and keys["biases"] != (2 if keys["reset_after"] else 1):
            raise InputError(opt, "gru: reset_after and biases disagree (reset_after=true keeps 2 bias vectors)")
        keys["biases"] = 2 if keys.pop("reset_after") else 1
    if family == "upsample" and ("scale" in keys) == ("size" in keys):
        raise InputError(opt, "upsample: give exactly one of scale= and size=")
    if family == "attention":
        for k in ("kdim", "vdim"):
            keys.setdefault(k, keys.get("d"))
    for a, b in (("groups", "in"), ("groups", "out"), ("heads", "d"), ("groups", "c")):
        if a in keys and b in keys and _divides(keys[a], keys[b]) is False:
            raise InputError(opt, f"{kind}: {a}={keys[a]} does not divide {b}={keys[b]}")
    if keys.get("padding") == "same" and family == "conv" and any(s != 1 for s in keys["stride"]):
        raise InputError(opt, f"{kind}: padding='same' needs stride 1 (as PyTorch)")
    if isinstance(keys.get("padding"), str) and family != "conv":
        raise InputError(opt, f"{kind}: padding must be a size (same/valid are for convolutions)")
    return keys


def _divides(a: Any, b: Any) -> bool | None:
    if isinstance(a, int) and isinstance(b, int):
        return b % a == 0
    return None


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of param-count.

    Attributes:
        sizes: the MLP's layer sizes, input first (positive integers or symbols); may be empty.
        layers: the typed layers after the MLP, in order (``repeat=N`` already expanded).
        bias: whether the MLP layers have biases (``--no-bias``: False).
        input_shape: ``--input``: channels first, no batch dimension; None when not given.
        from_torch: whether the layers were read from print(model) text.
    """

    sizes: tuple[Any, ...]
    layers: tuple[Layer, ...]
    bias: bool = True
    input_shape: tuple[Any, ...] | None = None
    from_torch: bool = False


def parse(*, sizes: list[str] | None, layer: list[str] | None, input: str | None = None,
          from_torch: str | None = None, no_bias: bool = False) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    shape = parse_shape(input) if input is not None else None
    if from_torch is not None:
        if sizes or layer:
            raise InputError("--from-torch", "cannot be combined with SIZES or --layer")
        if no_bias:
            raise InputError("--no-bias", "does not apply to --from-torch: print(model) shows each bias")
        layers = _torch_layers(read_source(from_torch, "--from-torch"))
        return Inputs((), tuple(layers), True, shape, True)
    mlp = parse_sizes(sizes or [])
    layers = []
    for spec in layer or []:
        layers.extend(parse_layer(spec))
        if len(layers) > MAX_LAYERS:
            raise InputError("--layer", f"more than {MAX_LAYERS} layers in all (repeat= included)")
    if no_bias:
        layers = _no_bias(mlp, layers, layer or [])
    return Inputs(tuple(mlp), tuple(layers), bias=not no_bias, input_shape=shape)


def _no_bias(mlp: list[Any], layers: list[Layer], specs: list[str]) -> list[Layer]:
    """``--no-bias`` drops the bias of the MLP and of every dense layer (never silently ignored)."""
    dense = [i for i, l in enumerate(layers) if l.family == "dense"]
    if not mlp and not dense:
        raise InputError("--no-bias", "applies to the MLP sizes and dense layers; there are none here "
                                      "(write bias=false on a layer)")
    for i in dense:
        if re.search(r"\bbias=", layers[i].spec) and layers[i].keys["bias"]:
            raise InputError("--no-bias", f"conflicts with bias=true on the layer {layers[i].spec[:40]!r}")
    return [replace(l, keys={**l.keys, "bias": False}) if l.family == "dense" else l for l in layers]


def _torch_layers(text: str) -> list[Layer]:
    layers: list[Layer] = []
    for leaf in torch_text.parse_print(text):
        layers.extend(parse_layer(leaf.spec, "--from-torch", path=leaf.path, skip_of=leaf.skip_of,
                                  note=leaf.note))
    if not layers:
        raise InputError("--from-torch", "has no layers")
    return layers


def parse_shape(text: str) -> tuple[Any, ...]:
    """``--input``: ``3x227x227``, ``16x100``, ``784``, ``(3, 224, 224)``."""
    if not text.strip():
        raise InputError("--input", "is empty; write e.g. 3x224x224 (channels first, no batch)")
    parts = _parts(text)
    if len(parts) > MAX_DIMS:
        raise InputError("--input", f"has more than {MAX_DIMS} dimensions")
    return tuple(_number(p, "--input", f"size {i + 1}") for i, p in enumerate(parts))


def parse_sizes(texts: list[str]) -> list[Any]:
    """Positional MLP sizes: at least two, each a positive whole number or a symbol."""
    if len(texts) == 1:
        raise InputError("SIZES", "needs at least two layer sizes (input and output), got one")
    if len(texts) > MAX_LAYERS:
        raise InputError("SIZES", f"has more than {MAX_LAYERS} layers")
    return [_number(t, "SIZES", f"size {i + 1} ({t.strip()[:20]})") for i, t in enumerate(texts)]


# --------------------------------------------------------------------------- the board


def _step(title: str, lhs: Any, template: Any, values: dict[Any, Any], value: Any,
          note: str = "") -> Step:
    """One line of the working: ``lhs = template``, the numbers put in, the value."""
    s = step(title, eq(lhs, template), values, value=value, note=note)
    return Step(title, _shown_formula(lhs, template, tuple(values)), s.substituted, value, note)


@functools.lru_cache(maxsize=None)
def _shown_formula(lhs: Any, template: Any, symbols: tuple[Any, ...]) -> Any:
    """The template with each symbol shown as itself in the order the substituted line puts
    the numbers in (both print in that order, so the formula and the numbers line up)."""
    return eq(lhs, put_in(template, {s: s for s in symbols}))


def _decimal(q: Fraction) -> str:
    x = q
    while x.denominator % 2 == 0:
        x *= 2
    while x.denominator % 5 == 0:
        x *= 5
    if x.denominator == 1 and len(str(q.denominator)) <= 6:
        whole, rest = divmod(q.numerator, q.denominator)
        digits = str(rest * 10**6 // q.denominator).rjust(6, "0").rstrip("0")
        return f"{whole}.{digits}" if digits else str(whole)
    return f"≈ {float(q):.4f}".replace("≈ ", "≈")


Sym = sympy.Symbol  # program-made names only; user text goes through dlcalc.parse
N, MACS, N_IN, N_OUT, M_POS = Sym("N"), Sym("MACs"), Sym("n_in"), Sym("n_out"), Sym("m")
C_IN, C_OUT, G, C, D_F = Sym("c_in"), Sym("c_out"), Sym("g"), Sym("c"), Sym("d")
P_SYM, D_SYM, S_SYM, K_SYM, A_SYM = Sym("p"), Sym("d"), Sym("s"), Sym("k"), Sym("p_out")
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@functools.lru_cache(maxsize=None)
def _kernel_syms(dims: int) -> tuple[Any, ...]:
    return (Sym("k"),) if dims == 1 else tuple(Sym(f"k_{a.lower()}") for a in AXES[dims])


# --------------------------------------------------------------------------- integer arithmetic


def _known(*xs: Any) -> bool:
    return all(isinstance(x, int) for x in xs)


def _fdiv(a: Any, b: Any) -> Any:
    return a // b if _known(a, b) else sympy.floor(as_sympy(a) / as_sympy(b))


def _cdiv(a: Any, b: Any) -> Any:
    return -(-a // b) if _known(a, b) else sympy.ceiling(as_sympy(a) / as_sympy(b))


def _same(a: Any, b: Any) -> bool | None:
    if _known(a, b):
        return a == b
    diff = sympy.expand(as_sympy(a) - as_sympy(b))
    return True if diff == 0 else (False if diff.is_number else None)


def _plain(x: Any) -> Any:
    if isinstance(x, int):
        return x
    if x.has(sympy.floor, sympy.ceiling):
        return x  # an output size of a symbolic input: kept as ⌊…⌋ + 1, not multiplied out
    x = sympy.expand(x)
    return int(x) if x.is_Integer else x


def _shape_text(x: tuple[Any, ...]) -> str:
    return "×".join(str(v) for v in x)


# --------------------------------------------------------------------------- one layer


@dataclass(frozen=True)
class Flags:
    """The mistakes ``--check`` can recognise, as switches of the solver (all off: right)."""

    count_buffers: bool = False
    stride_kernel: bool = False
    wrong_flatten: bool = False
    pool_params: bool = False


@dataclass
class Out:
    """What one layer gives: its counts, its output shape and the working.

    ``window`` is (kernels, strides, dilations) per spatial dimension for a layer that looks
    at a window of its input (convolution, pooling); ``keeps_rf`` is true for a layer that
    leaves the receptive field as it is (activations, batch norm)."""

    name: str
    weights: Any = 0
    biases: Any = 0
    buffers: Any = 0
    macs: Any = 0
    shape: tuple[Any, ...] | None = None
    steps: list[Step] = field(default_factory=list)
    window: tuple[tuple[Any, ...], ...] | None = None
    keeps_rf: bool = False
    flattened: bool = False  # a dense layer that flattened its input first (forward's torch.flatten)


@dataclass
class _Ctx:
    """The layer being worked out, where it is, and the mistake switches."""

    layer: Layer
    index: int
    flags: Flags
    prior: tuple[Any, ...] | None  # the spatial size before the last layer that changed it

    @property
    def keys(self) -> dict[str, Any]:
        return self.layer.keys

    def fail(self, detail: str) -> InputError:
        where = self.layer.path or self.layer.spec[:40]
        return InputError(self.layer.option, f"layer {self.index} ({where}): {detail}")

    def infer(self, key: str, actual: Any, what: str) -> Any:
        """A size that may be left out with --input: taken from the input, or checked against it."""
        given = self.keys.get(key)
        if actual is None:
            if given is None:
                raise self.fail(f"missing {key}= (or give --input so that it is inferred)")
            return given
        if given is not None and _same(given, actual) is False:
            raise self.fail(f"{key}={_fmt(given)} but {what} is {_fmt(actual)}")
        return actual if given is None else given

    def need_dims(self, x: tuple[Any, ...] | None, ok: Callable[[int], bool], form: str) -> None:
        if x is not None and not ok(len(x)):
            raise self.fail(f"{self.layer.kind} needs a {form} input (no batch dimension), "
                            f"got {_shape_text(x)}")


def _spatial_form(dims: int) -> str:
    return "C×" + "×".join(AXES[dims])


DENSE = {True: N_IN * N_OUT + N_OUT, False: N_IN * N_OUT}


def _dense(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K, steps = ctx.keys, []
    if x is not None and len(x) > 1 and "in" in K and _same(K["in"], x[-1]) is False \
            and _same(K["in"], math.prod(x)) is True:
        x, steps = _flatten_shape(ctx, x, 1, -1, implicit=True)
    n_in = ctx.infer("in", x[-1] if x else None, "the input's last dimension")
    n_out, bias = K["out"], K["bias"]
    w, b = n_in * n_out, (n_out if bias else 0)
    flattened = bool(steps)
    m = math.prod(x[:-1]) if x is not None else None
    note = f"multiply-accumulates: n_in·n_out = {w}, each weight once" if m == 1 else ""
    steps.append(_step("parameters", N, DENSE[bias], {N_IN: n_in, N_OUT: n_out}, w + b, note=note))
    out = Out(f"dense {n_in}→{n_out}", w, b, steps=steps, flattened=flattened)
    if x is not None:
        out.shape, out.macs = x[:-1] + (n_out,), m * w
        if m != 1:
            steps.append(_step("multiply-accumulates", MACS, M_POS * N_IN * N_OUT,
                               {M_POS: m, N_IN: n_in, N_OUT: n_out}, m * w,
                               note="m = the positions it is applied at (all but the last dimension)"))
    return out


@functools.lru_cache(maxsize=None)
def _conv_templates(dims: int, grouped: bool, bias: bool, transposed: bool) -> tuple[Any, Any, tuple]:
    """(parameters, multiply-accumulates, the symbols in display order) of a convolution."""
    ks = _kernel_syms(dims)
    first, second = (C_IN, C_OUT) if transposed else (C_OUT, C_IN)
    per = first * second / G if grouped else first * second
    params = per * math.prod(ks) + (C_OUT if bias else 0)
    axes = [Sym(f"{a}_{'in' if transposed else 'out'}") for a in AXES[dims]]
    macs = per * math.prod(ks) * math.prod(axes)
    return params, macs, (first, second, *((G,) if grouped else ()), *ks, *axes)


def _conv(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K, dims, transposed = ctx.keys, ctx.layer.dims, ctx.layer.family == "convt"
    ctx.need_dims(x, lambda n: n == dims + 1, _spatial_form(dims))
    c_in = ctx.infer("in", x[0] if x else None, "the input's channel count")
    c_out, g, k = K["out"], K["groups"], K["k"]
    for side, v in (("in", c_in), ("out", c_out)):
        if _divides(g, v) is False:
            raise ctx.fail(f"groups={g} does not divide {side}={v}")
    per = (c_in * (c_out // g if _known(c_out, g) else c_out / g)) if transposed else \
        (c_out * (c_in // g if _known(c_in, g) else c_in / g))
    w, b = per * math.prod(k), (c_out if K["bias"] else 0)
    params, macs_t, order = _conv_templates(dims, g != 1, K["bias"], transposed)
    vals = dict(zip(order, ((c_in, c_out) if transposed else (c_out, c_in)) + ((g,) if g != 1 else ()) + k))
    out = Out(_conv_name(ctx.layer.kind, c_in, c_out, K), w, b)
    steps = [_step("parameters", N, params, vals, w + b)]
    if x is not None:
        sizes, size_steps = _window_sizes(ctx, x[1:])
        out.shape = (c_out,) + sizes
        positions = x[1:] if transposed else sizes
        out.macs = w * math.prod(positions)
        steps = size_steps + steps + [_step(
            "multiply-accumulates", MACS, macs_t, {**vals, **dict(zip(order[len(vals):], positions))},
            out.macs, note="each weight once per input position" if transposed else
            "each weight once per output position")]
        if not transposed:
            out.window = (k, K["stride"], K["dilation"])
    out.steps = steps
    return out


def _conv_name(kind: str, c_in: Any, c_out: Any, K: dict[str, Any]) -> str:
    extra = [f"k={_fmt(K['k'])}"]
    for key, short, default in (("stride", "s", 1), ("padding", "p", 0), ("dilation", "d", 1),
                                ("output_padding", "op", 0)):
        v = K.get(key, (default,))
        if v != (default,) * len(v) if isinstance(v, tuple) else v != "valid":
            extra.append(f"{short}={_fmt(v)}")
    if K["groups"] != 1:
        extra.append(f"groups={K['groups']}")
    return f"{kind} {c_in}→{c_out} " + " ".join(extra)


# --------------------------------------------------------------------------- output sizes

P2, DK = 2 * P_SYM, D_SYM * (K_SYM - 1)


@functools.lru_cache(maxsize=None)
def _size_template(axis: str, family: str, ceil: bool) -> tuple[Any, Any, tuple]:
    """(lhs, rhs, symbols in display order) of one output size."""
    n_in, lhs = Sym(f"{axis}_in"), Sym(f"{axis}_out")
    if family == "convt":
        rhs = (n_in - 1) * S_SYM - P2 + DK + A_SYM + 1
        return lhs, rhs, (n_in, S_SYM, P_SYM, D_SYM, K_SYM, A_SYM)
    if family == "avgpool":
        num, order = n_in + P2 - K_SYM, (n_in, P_SYM, K_SYM, S_SYM)
    else:
        num, order = n_in + P2 - DK - 1, (n_in, P_SYM, D_SYM, K_SYM, S_SYM)
    return lhs, (ceiling_of if ceil else floor_of)(num / S_SYM) + 1, order


def _window_sizes(ctx: _Ctx, n: tuple[Any, ...]) -> tuple[tuple[Any, ...], list[Step]]:
    """The output size along each spatial dimension, with its formula worked."""
    K, dims, family = ctx.keys, ctx.layer.dims, ctx.layer.family
    k, s = K["k"], K["stride"]
    d = K.get("dilation", (1,) * dims)
    p = K["padding"] if K["padding"] != "valid" else (0,) * dims
    if family in ("maxpool", "avgpool"):
        for pi, ki in zip(p, k):
            if _known(pi, ki) and pi > ki // 2:
                raise ctx.fail(f"padding={pi} is more than half the kernel {ki} (PyTorch refuses it)")
    per_axis = [(n[i], k[i], s[i], p if p == "same" else p[i], d[i]) for i in range(dims)]
    square = len(set(per_axis)) == 1
    sizes, steps = [], []
    for i, geo in enumerate(per_axis):
        if square and i:
            sizes.append(sizes[0])
            continue
        value, st = _axis_size(ctx, AXES[dims][i], _size_title(dims, i, square), *geo)
        sizes.append(value)
        steps.extend(st)
    return tuple(sizes), steps


def _size_title(dims: int, i: int, square: bool) -> str:
    names = {"L": "length", "D": "depth", "H": "height", "W": "width"}
    if dims == 1:
        return "output length"
    if square:
        words = [names[a] for a in AXES[dims]]
        return "output " + ", ".join(words[:-1]) + " and " + words[-1]
    return "output " + names[AXES[dims][i]]


def _axis_size(ctx: _Ctx, axis: str, title: str, n: Any, k: Any, s: Any, p: Any, d: Any) -> tuple[Any, list[Step]]:
    family, K, fl = ctx.layer.family, ctx.keys, ctx.flags
    if p == "same":
        lhs, n_in = Sym(f"{axis}_out"), Sym(f"{axis}_in")
        return n, [_step(title, lhs, n_in, {n_in: n}, n, note=f"padding='same' keeps the size "
                         f"(stride 1; PyTorch pads d(k − 1) = {d * (k - 1)} in all)")]
    ceil = bool(K.get("ceil_mode"))
    lhs, rhs, order = _size_template(axis, family, ceil)
    if family == "convt":
        op = K["output_padding"][AXES[ctx.layer.dims].index(axis)]
        if _known(op, s, d) and op >= max(s, d):
            raise ctx.fail(f"output_padding={op} must be smaller than the stride or the dilation")
        value = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        vals = dict(zip(order, (n, s, p, d, k, op)))
        return _checked(ctx, title, value, n), [_step(title, lhs, rhs, vals, value)]
    if fl.stride_kernel and _known(s) and s > 1:
        d = s  # the mistake: the kernel spread by the stride
    num = n + 2 * p - d * (k - 1) - 1 if family != "avgpool" else n + 2 * p - k
    value = (_cdiv(num, s) if ceil else _fdiv(num, s)) + 1
    vals = dict(zip(order, (n, p, k, s) if family == "avgpool" else (n, p, d, k, s)))
    steps = [_step(title, lhs, rhs, vals, value, note=_quotient_note(n, p, d, k, s, num, value, ceil))]
    if ceil:
        if not _known(value, n, p, s):
            raise ctx.fail("ceil_mode=true needs numeric sizes")
        if (value - 1) * s >= n + p:  # PyTorch: the last window may not start in the padding
            steps.append(_step("last window starts in the padding: dropped", lhs, lhs - 1, {lhs: value},
                               value - 1, note=f"(H_out − 1)·s = {(value - 1) * s} ≥ H_in + p = {n + p}"
                               .replace("H", axis)))
            value -= 1
    return _checked(ctx, title, value, n), steps


def _quotient_note(n: Any, p: Any, d: Any, k: Any, s: Any, num: Any, value: Any, ceil: bool) -> str:
    """``(224 − 11)/4 + 1 = 54.25 is not whole: floored to 54`` (the classic trap)."""
    if not _known(n, p, d, k, s) or num % s == 0:
        return ""
    pad = f" + {2 * p}" if p else ""
    q = _decimal(Fraction(num, s) + 1)
    how = "ceil_mode=true rounds it up" if ceil else "PyTorch floors it"
    return f"({n}{pad} − {d * (k - 1) + 1})/{s} + 1 = {q} is not whole: {how} to {value}"


def _checked(ctx: _Ctx, title: str, value: Any, n: Any) -> Any:
    if _known(value) and value < 1:
        raise ctx.fail(f"{title} comes out {value} (≤ 0): the input size {n} is too small for "
                       "this kernel, stride and padding")
    return value


# --------------------------------------------------------------------------- pooling, reshaping


def _pool(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    dims, K = ctx.layer.dims, ctx.keys
    ctx.need_dims(x, lambda n: n == dims + 1, _spatial_form(dims))
    out = Out(f"{ctx.layer.kind} k={_fmt(K['k'])}" + (f" s={_fmt(K['stride'])}" if K["stride"] != K["k"] else "")
              + (f" p={_fmt(K['padding'])}" if any(K["padding"]) else "")
              + (" ceil_mode" if K.get("ceil_mode") else ""))
    if x is not None:
        sizes, out.steps = _window_sizes(ctx, x[1:])
        out.shape = (x[0],) + sizes
        out.window = (K["k"], K["stride"], K.get("dilation", (1,) * dims))
    return _pool_params(ctx, out, x)


def _pool_params(ctx: _Ctx, out: Out, x: tuple[Any, ...] | None) -> Out:
    """The mistake of counting parameters in a pooling layer: LeNet-5's trainable subsampling,
    one coefficient and one bias per channel."""
    if ctx.flags.pool_params and x is not None:
        c = x[0]
        out.weights, out.biases = c, c
        out.steps.append(_step("parameters", N, 2 * C, {C: c}, 2 * c,
                               note="a coefficient and a bias per channel"))
    return out


def _adaptive(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    dims, o = ctx.layer.dims, ctx.keys["out"]
    ctx.need_dims(x, lambda n: n == dims + 1, _spatial_form(dims))
    out = Out(f"{ctx.layer.kind} out={_fmt(o)}")
    if x is not None:
        out.shape = (x[0],) + o
        out.steps = [Step("output size", value=list(o), note="adaptive pooling: the output size is given")]
        if _known(*x[1:], *o) and all(n % m == 0 for n, m in zip(x[1:], o)):
            k = tuple(n // m for n, m in zip(x[1:], o))  # then exactly a pool with k = s = n/out
            out.window = (k, k, (1,) * dims)
    return _pool_params(ctx, out, x)


def _upsample(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K = ctx.keys
    out = Out("upsample " + (f"scale={_fmt(tuple(str(f) for f in K['scale']))}" if "scale" in K
                             else f"size={_fmt(K['size'])}"))
    if x is None:
        return out
    ctx.need_dims(x, lambda n: 2 <= n <= 4, "C×L, C×H×W or C×D×H×W")
    dims = len(x) - 1
    given = K.get("scale") or K["size"]
    if len(given) not in (1, dims):
        raise ctx.fail(f"needs 1 or {dims} sizes for a {dims}-D input")
    given = given * dims if len(given) == 1 else given
    if "size" in K:
        out.shape = (x[0],) + given
        return out
    sizes = []
    for axis, n, f in zip(AXES[dims], x[1:], given):
        value = _fdiv(n * f.numerator, f.denominator)
        n_in, sig = Sym(f"{axis}_in"), Sym("sigma")
        out.steps.append(_step(f"output {axis}", Sym(f"{axis}_out"), floor_of(n_in * sig),
                               {n_in: n, sig: as_sympy(f)}, value, note="σ = scale_factor"))
        sizes.append(value)
    out.shape = (x[0],) + tuple(sizes)
    return out


def _flatten(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    out = Out("flatten")
    if x is not None:
        out.shape, out.steps = _flatten_shape(ctx, x, ctx.keys["start_dim"], ctx.keys["end_dim"])
    return out


def _flatten_shape(ctx: _Ctx, x: tuple[Any, ...], start: int, end: int,
                   implicit: bool = False) -> tuple[tuple[Any, ...], list[Step]]:
    """nn.Flatten(start_dim, end_dim) on a sample of shape ``x`` (dimensions count the batch)."""
    nd = len(x) + 1
    lo, hi = start + nd if start < 0 else start, end + nd if end < 0 else end
    if not 0 <= lo <= hi < nd:
        raise ctx.fail(f"start_dim={start}, end_dim={end} do not fit a {len(x)}-D input ({_shape_text(x)})")
    if lo == 0:
        raise ctx.fail("start_dim=0 would flatten the batch dimension too (shapes here have none)")
    src = x
    if ctx.flags.wrong_flatten and ctx.prior is not None and len(ctx.prior) == len(x) - 1:
        src = (x[0],) + ctx.prior  # the mistake: the spatial size from before the last change
    part = src[lo - 1:hi]
    n = math.prod(part)
    syms = _flat_syms(len(x), lo - 1, hi)
    note = ("nn.Linear takes the last dimension: the sizes only match flattened, so flattened "
            "first (as forward's torch.flatten(x, 1))") if implicit else ""
    st = _step("flattened size", Sym("n"), math.prod(syms), dict(zip(syms, part)), n, note=note)
    return x[:lo - 1] + (n,) + x[hi:], [st]


@functools.lru_cache(maxsize=None)
def _flat_syms(ndim: int, lo: int, hi: int) -> tuple[Any, ...]:
    if lo == 0 and hi == ndim and 2 <= ndim <= 4:
        return (Sym("C"),) + tuple(Sym(a) for a in AXES[ndim - 1])
    return tuple(Sym(f"n_{i + 1}") for i in range(lo, hi))


def _same_shape(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    return Out(ctx.layer.kind, shape=x, keeps_rf=True)


# --------------------------------------------------------------------------- normalization, embeddings


def _prelu(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    c = ctx.keys["c"]
    if x is not None and c != 1 and _same(c, x[0]) is False:
        raise ctx.fail(f"c={c} but the input has {x[0]} channels (c=1 shares one slope)")
    return Out(f"prelu c={c}", c, 0, shape=x, keeps_rf=True, steps=[_step("parameters", N, C, {C: c}, c)])


def _affine_step(c: Any, weights: bool, biases: bool, sym: Any = C) -> Step:
    if weights and biases:
        return _step("parameters", N, 2 * sym, {sym: c}, 2 * c)
    if weights:
        return _step("parameters", N, sym, {sym: c}, c, note="no bias (β)")
    return Step("parameters", formula=eq(N, 0), value=0, note="affine=false: no learnable γ or β")


def _bn(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K, kind, dims = ctx.keys, ctx.layer.kind, ctx.layer.dims
    inorm = kind.startswith("instance")
    if dims:
        ok = (lambda n: n == dims + 1) if inorm or dims > 1 else (lambda n: n in (1, 2))
        ctx.need_dims(x, ok, "C×L" if dims == 1 and inorm else ("C or C×L" if dims == 1 else _spatial_form(dims)))
    c = ctx.infer("c", x[0] if x else None, "the input's channel count")
    affine, bias, track = K["affine"], K["affine"] and K["bias"], K["track_running_stats"]
    out = Out(f"{'batchnorm' if kind == 'bn' else kind} c={c}", c if affine else 0, c if bias else 0,
              2 * c if track else 0, shape=x, keeps_rf=True)
    st = _affine_step(c, affine, bias)
    if track:
        st = replace(st, note="running mean and variance (2c values) are buffers, not learned")
    out.steps = [st]
    return out


def _groupnorm(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K = ctx.keys
    c = ctx.infer("c", x[0] if x else None, "the input's channel count")
    if _divides(K["groups"], c) is False:
        raise ctx.fail(f"groups={K['groups']} does not divide c={c}")
    affine, bias = K["affine"], K["affine"] and K["bias"]
    return Out(f"groupnorm groups={K['groups']} c={c}", c if affine else 0, c if bias else 0, shape=x,
               keeps_rf=True, steps=[_affine_step(c, affine, bias)])


def _layernorm(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K, kind = ctx.keys, ctx.layer.kind
    d = K.get("d")
    if x is not None:
        if d is None:
            d = (x[-1],)
        elif len(d) > len(x) or any(_same(a, b) is False for a, b in zip(d, x[len(x) - len(d):])):
            raise ctx.fail(f"d={_fmt(d)} but the input ends in {_shape_text(x[len(x) - len(d):] or x)}")
    elif d is None:
        raise ctx.fail("missing d= (or give --input so that it is inferred)")
    n = math.prod(d)
    affine = K["elementwise_affine"]
    bias = affine and kind == "layernorm" and K["bias"]
    st = _affine_step(n, affine, bias, D_F)
    if len(d) > 1:
        st = replace(st, note=f"d = {'·'.join(map(str, d))} (normalized_shape)")
    return Out(f"{kind} d={_fmt(d) if len(d) == 1 else 'x'.join(map(str, d))}", n if affine else 0,
               n if bias else 0, shape=x, steps=[st])


def _embedding(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    n, d = ctx.keys["n"], ctx.keys["d"]
    return Out(f"embedding {n}x{d}", n * d, 0, shape=None if x is None else x + (d,),
               steps=[_step("parameters", N, Sym("n") * D_F, {Sym("n"): n, D_F: d}, n * d)])


# --------------------------------------------------------------------------- recurrent, attention

RNN_D, RNN_G, RNN_H, RNN_X, RNN_B, RNN_R = sympy.symbols("D G h x_l B r")
RNN_LAYER = RNN_D * RNN_G * RNN_H * (RNN_X + RNN_H) + RNN_D * RNN_B * RNN_G * RNN_H
RNN_PROJ = RNN_D * (RNN_G * RNN_H * (RNN_X + RNN_R) + RNN_R * RNN_H) + RNN_D * RNN_B * RNN_G * RNN_H
_N_PREV, _N_L = sympy.Symbol("n_{l-1}"), sympy.Symbol("n_l")
#: an MLP's weights and biases, layer by layer (--bias or not)
MLP_TOTAL = {bias: eq(sympy.Symbol("N"), Sigma(OMul(OAdd(_N_PREV, 1, evaluate=False) if bias else _N_PREV, _N_L,
                                                    evaluate=False), "l=1", "L"))
             for bias in (True, False)}
RNN_FORMULA = Math("N = Σ_l [D·G·h·(x_l + h) + D·B·G·h],  D directions, G gates, B bias vectors, "
                   "x_l = in (first layer) or D·h",
                   r"N = \sum_{l} \left[D\,G\,h\,(x_l + h) + D\,B\,G\,h\right]")
RNN_PROJ_FORMULA = Math("N = Σ_l [D·(G·h·(x_l + r) + r·h) + D·B·G·h],  r = proj_size, x_l = in or D·r",
                        r"N = \sum_{l} \left[D\,(G\,h\,(x_l + r) + r\,h) + D\,B\,G\,h\right]")


def _rnn(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K, kind = ctx.keys, ctx.layer.kind
    ctx.need_dims(x, lambda n: n == 2, "L×features (sequence length × input size)")
    n_in = ctx.infer("in", x[-1] if x else None, "the input's feature size")
    G_, dirs, h, L = GATES[kind], 2 if K["bidirectional"] else 1, K["hidden"], K["layers"]
    r = K.get("proj_size", 0) or 0
    nb = K["biases"] if K["bias"] else 0
    template, formula = (RNN_PROJ, RNN_PROJ_FORMULA) if r else (RNN_LAYER, RNN_FORMULA)
    h_out = r or h
    w, parts = 0, []
    for i in range(L):
        x_l = n_in if i == 0 else h_out * dirs
        w += dirs * (G_ * h * (x_l + h_out) + (r * h if r else 0))
        vals = {RNN_D: dirs, RNN_G: G_, RNN_H: h, RNN_X: x_l, RNN_B: nb, **({RNN_R: r} if r else {})}
        parts.append(substitute(template, vals))
    b = dirs * L * nb * G_ * h
    substituted = parts[0] if len(parts) == 1 else sympy.Add(*parts, evaluate=False)
    steps = [Step("parameters", formula, substituted, _plain(w + b))]
    out = Out(f"{kind} {n_in}→{h}" + (f" x{L}" if L > 1 else "") + (" bidirectional" if dirs == 2 else "")
              + (f" proj={r}" if r else ""), w, b, steps=steps)
    if x is not None:
        out.shape, out.macs = (x[0], dirs * h_out), x[0] * w
        steps.append(_step("multiply-accumulates", MACS, Sym("L") * Sym("N_w"), {Sym("L"): x[0], Sym("N_w"): w},
                           out.macs, note="N_w = the weights (not the biases): each once per time step"))
    return out


Q_K, Q_V, S_LEN = Sym("k_dim"), Sym("v_dim"), Sym("S")
ATT_W = {True: 4 * D_F**2, False: 2 * D_F**2 + D_F * Q_K + D_F * Q_V}


def _attention(ctx: _Ctx, x: tuple[Any, ...] | None) -> Out:
    K = ctx.keys
    ctx.need_dims(x, lambda n: n == 2, "L×d (sequence length × embed_dim)")
    d = ctx.infer("d", x[-1] if x else None, "the input's last dimension")
    heads = K["heads"]
    if _divides(heads, d) is False:
        raise ctx.fail(f"heads={heads} does not divide d={d}")
    kd, vd = K.get("kdim") or d, K.get("vdim") or d
    same = _same(kd, d) is True and _same(vd, d) is True
    w = 2 * d * d + d * kd + d * vd
    b = (4 * d if K["bias"] else 0) + (2 * d if K["add_bias_kv"] else 0)
    vals = {D_F: d} if same else {D_F: d, Q_K: kd, Q_V: vd}
    biases = (4 * D_F if K["bias"] else 0) + (2 * D_F if K["add_bias_kv"] else 0)
    steps = [_step("parameters", N, ATT_W[same] + biases, vals, w + b,
                   note="Q, K, V and output projections" + (", their biases" if K["bias"] else "")
                   + (", bias_k and bias_v" if K["add_bias_kv"] else ""))]
    name = f"attention d={d} heads={heads}" + ("" if same else f" kdim={kd} vdim={vd}")
    out = Out(name, w, b, steps=steps)
    if x is not None:
        L = x[0]
        s_len = L + (1 if K["add_bias_kv"] else 0)
        out.shape, out.macs = x, L * w + 2 * L * s_len * d
        steps.append(_step("multiply-accumulates", MACS, Sym("L") * Sym("N_w") + 2 * Sym("L") * S_LEN * D_F,
                           {Sym("L"): L, Sym("N_w"): w, S_LEN: s_len, D_F: d}, out.macs,
                           note="projections once per position (keys and values as long as the queries), "
                                "then Q·Kᵀ and the weighted sum of V"))
    return out


FAMILIES: dict[str, Callable[[_Ctx, Any], Out]] = {
    "dense": _dense, "conv": _conv, "convt": _conv, "maxpool": _pool, "avgpool": _pool,
    "adaptive": _adaptive, "upsample": _upsample, "flatten": _flatten, "same": _same_shape,
    "prelu": _prelu, "bn": _bn, "groupnorm": _groupnorm, "layernorm": _layernorm,
    "rmsnorm": _layernorm, "embedding": _embedding, "rnn": _rnn, "attention": _attention,
}


# --------------------------------------------------------------------------- the network, in order

R_L, R_PREV, J_PREV = Sym("r_l"), Sym("r_l-1"), Sym("j_l-1")
RF_TEMPLATE = R_PREV + D_SYM * (K_SYM - 1) * J_PREV


class _Run:
    """Walks the layers in order, carrying the shape, the receptive field and the shortcut
    branches of residual blocks (a layer in a downsample branch starts from its block's input)."""

    def __init__(self, layers: list[Layer], shape: tuple[Any, ...] | None, flags: Flags) -> None:
        self.layers, self.shape, self.flags = layers, shape, flags
        self.rf: Any = None      # None: no window yet; False: no longer tracked; else [(r, j)] per dim
        self.prior: tuple[Any, ...] | None = None
        self.cache: dict[Any, Out] = {}
        self.starts: dict[int, list[str]] = {}
        for block in {l.skip_of for l in layers if l.skip_of}:
            first = next(i for i, l in enumerate(layers)
                         if block == "(model)" or l.path.startswith(block + "."))
            self.starts.setdefault(first, []).append(block)
        self.block_in: dict[str, Any] = {}
        self.branch, self.main = "", None

    def run(self) -> list[tuple[Out, Any]]:
        outs = []
        for i, layer in enumerate(self.layers, 1):
            for block in self.starts.get(i - 1, ()):
                self.block_in[block] = (self.shape, self.rf)
            if layer.skip_of != self.branch:
                self._switch(i, layer)
            outs.append(self.one(i, layer))
        if self.branch:
            self._switch(len(self.layers) + 1, None)
        return outs

    def _switch(self, i: int, layer: Layer | None) -> None:
        """Leave the current shortcut branch (its output must match the main path) and/or enter one."""
        if self.branch:
            main_shape, main_rf = self.main
            if self.shape is not None and main_shape is not None and self.shape != main_shape:
                raise InputError(self.layers[i - 2].option, f"layer {i - 1} ({self.layers[i - 2].path}): the "
                                 f"shortcut of {self.branch} gives {_shape_text(self.shape)} but its main "
                                 f"path gives {_shape_text(main_shape)}")
            self.shape, self.rf = main_shape, main_rf
        self.branch = layer.skip_of if layer is not None else ""
        if self.branch:
            self.main = (self.shape, self.rf)
            self.shape, self.rf = self.block_in[self.branch]

    def one(self, i: int, layer: Layer) -> tuple[Out, Any, list[Step]]:
        """The layer's result (shared by identical layers on identical inputs), its receptive
        field and the steps that depend on where it is (the receptive field)."""
        x = self.shape
        key = (layer.kind, tuple(layer.keys.items()), x, self.prior if self.flags.wrong_flatten else None)
        out = self.cache.get(key)
        if out is None:
            out = self.cache[key] = FAMILIES[layer.family](_Ctx(layer, i, self.flags, self.prior), x)
        rf, steps = self._receptive(out, i)
        if x is not None and out.shape is not None and len(x) == len(out.shape) > 1 and x[1:] != out.shape[1:]:
            self.prior = x[1:]
        self.shape = out.shape if x is not None else None
        return out, rf, steps

    def _receptive(self, out: Out, index: int) -> tuple[Any, list[Step]]:
        """The receptive field after a window layer (r_l = r_{l−1} + d(k − 1)·j_{l−1}, j_l = j_{l−1}·s)."""
        if self.shape is None or self.rf is False:
            return None, []
        if out.window is None:
            if not out.keeps_rf:
                self.rf = False
            return None, []
        ks, ss, ds = out.window
        rf = self.rf or [(1, 1)] * len(ks)
        self.rf = [(r + d * (k - 1) * j, j * s) for (r, j), k, s, d in zip(rf, ks, ss, ds)]
        square = len(set(zip(rf, ks, ss, ds))) == 1
        steps = []
        for i, ((r, j), k, s, d) in enumerate(zip(rf, ks, ss, ds)):
            if square and i:
                break
            axis = "" if square else f" ({AXES[len(ks)][i]})"
            steps.append(_step("receptive field" + axis, R_L, RF_TEMPLATE,
                               {R_PREV: r, D_SYM: d, K_SYM: k, J_PREV: j}, self.rf[i][0],
                               note=f"jump j_l = j_(l−1)·s = {j}·{s} = {j * s} input positions"))
        steps = _in_section(steps, _section(index, self.layers[index - 1], out))
        rs = [r for r, _ in self.rf]
        return (rs[0] if len(set(rs)) == 1 else rs), steps


# --------------------------------------------------------------------------- solve


def _mlp_layers(sizes: list[Any], bias: bool) -> list[Layer]:
    return [Layer("dense", {"in": a, "out": b, "bias": bias, "frozen": False}, f"dense in={a} out={b}",
                  option="SIZES") for a, b in zip(sizes, sizes[1:])]


def _start_shape(inp: Inputs) -> tuple[Any, ...] | None:
    shape, sizes = inp.input_shape, inp.sizes
    if shape is None:
        return (sizes[0],) if sizes else None
    if sizes and _same(shape[-1], sizes[0]) is False:
        raise InputError("--input", f"ends in {shape[-1]} but the first MLP size is {sizes[0]}")
    return shape


def solve(inp: Inputs, *, count_buffers: bool = False, stride_kernel: bool = False,
          wrong_flatten: bool = False, pool_params: bool = False) -> Solution:
    """Count the parameters of an MLP (``sizes``) followed by typed ``layers``; with an input
    shape, work out each layer's output shape, multiply-accumulates and receptive field.

    The keyword switches are common mistakes, kept so that ``--check`` can recognise them.
    """
    sizes, typed = list(inp.sizes), list(inp.layers)
    if not sizes and not typed:
        raise InputError("SIZES", "are missing: give layer sizes (784 256 10), --layer specs or --from-torch")
    layers = _mlp_layers(sizes, inp.bias) + typed
    if len(layers) > MAX_LAYERS:
        raise InputError("--layer", f"more than {MAX_LAYERS} layers in all")
    shape = _start_shape(inp)
    flags = Flags(count_buffers, stride_kernel, wrong_flatten, pool_params)
    results = _Run(layers, shape, flags).run()
    steps, records = [], []
    shapes = _flattened_early(layers, [r[0] for r in results])
    short = any(r[1] is not None for r in results)
    for i, (layer, (out, rf, rf_steps)) in enumerate(zip(layers, results), 1):
        name = f"{layer.path}: {out.name}" if layer.path else out.name
        steps.extend(_in_section(out.steps, _section(i, layer, out)) + rf_steps)
        if short:  # a convolutional network: the table names the kind, the working heading says it all
            name = f"{layer.path}: {layer.kind}" if layer.path else layer.kind
        records.append(_record(name, layer, out, shapes[i - 1], rf))
    result = _totals(layers, [r[0] for r in results], records, flags, shape)
    steps.extend(_total_steps(sizes, inp.bias, typed, result, records, shape is not None))
    notes = [l.note for l in layers if l.note]
    notes += [GRU_ONE_BIAS for l in layers if l.kind == "gru" and l.keys["biases"] == 1]
    return Solution(command="param-count", inputs=_shown_inputs(inp),
                    conventions=_conventions(inp, layers, results, shape), steps=tuple(steps), result=result,
                    notes=tuple(dict.fromkeys(notes)))


GRU_ONE_BIAS = ("biases=1 on a GRU is Keras's reset_after=False (TF1); Keras's GRU on TF2 (reset_after=True, "
                "its default) keeps two bias vectors per gate, as PyTorch")


def _section(i: int, layer: Layer, out: Out) -> str:
    return f"layer {i} ({layer.path}): {out.name}" if layer.path else f"layer {i}: {out.name}"


def _in_section(steps: list[Step], section: str) -> list[Step]:
    return [Step(s.title, s.formula, s.substituted, s.value, s.note, section) for s in steps]


def _flattened_early(layers: list[Layer], outs: list[Out]) -> list[Any]:
    """The output shapes, with a flatten that a dense layer needed (forward's torch.flatten,
    which print(model) does not show) moved back to just after the last layer that changed
    the shape: the dropout and activations between see the flattened tensor, as in forward."""
    shapes = [o.shape for o in outs]
    for i, o in enumerate(outs):
        if o.flattened and i:
            flat, j = (math.prod(shapes[i - 1]),), i - 1
            while j >= 0 and layers[j].family == "same":
                shapes[j] = flat
                j -= 1
    return shapes


def _record(name: str, layer: Layer, out: Out, shape: Any, rf: Any) -> dict[str, Any]:
    rec = {"name": name, "weights": _plain(out.weights), "biases": _plain(out.biases),
           "total": _plain(out.weights + out.biases)}
    if shape is not None:
        rec["output_shape"] = [_plain(v) for v in shape]
        rec["macs"] = _plain(out.macs)
    if rf is not None:
        rec["receptive_field"] = rf
    if layer.keys.get("frozen"):
        rec["frozen"] = True
    return rec


def _totals(layers: list[Layer], outs: list[Out], records: list[dict[str, Any]], flags: Flags,
            shape: tuple[Any, ...] | None) -> dict[str, Any]:
    params = sum((o.weights + o.biases for o in outs), 0)
    buffers = sum((o.buffers for o in outs), 0)
    frozen = sum((o.weights + o.biases for l, o in zip(layers, outs) if l.keys.get("frozen")), 0)
    result: dict[str, Any] = {"total": _plain(params + (buffers if flags.count_buffers else 0)),
                              "non_learnable": _plain(buffers), "trainable": _plain(params - frozen)}
    if shape is not None:
        result["output_shape"] = [_plain(v) for v in outs[-1].shape]
        result["macs"] = _plain(sum((o.macs for o in outs), 0))
    result["layers"] = records
    return result


def _sum_step(title: str, lhs: str, latex: str, terms: list[Any], value: Any, what: str) -> Step:
    terms = [t for t in terms if t != 0]
    formula = Math(f"{lhs} = Σ {what}", rf"{latex} = \sum \text{{{what}}}")
    if 1 < len(terms) <= SUM_TERMS:
        return Step(title, formula, sympy.Add(*[Shown(t) for t in terms], evaluate=False), value)
    note = f"the sum of the {len(terms)} nonzero layer values in the table" if len(terms) > 1 else ""
    return Step(title, formula, None, value, note=note)


def _total_steps(sizes: list[Any], bias: bool, typed: list[Layer], result: dict[str, Any],
                 records: list[dict[str, Any]], tracked: bool) -> list[Step]:
    steps = []
    if len(sizes) >= 2:
        n = [sympy.Symbol(f"n_{j}") for j in range(len(sizes))]
        general = sum(((n[j - 1] + (1 if bias else 0)) * n[j] for j in range(1, len(n))), sympy.Integer(0))
        steps.append(Step(
            title="MLP total",
            formula=written(MLP_TOTAL[bias]),
            substituted=substitute(general, dict(zip(n, sizes))),
            value=sympy.expand(general.xreplace({k: as_sympy(v) for k, v in zip(n, sizes)}))))
    if typed or len(sizes) < 2:
        steps.append(_sum_step("total", "N", "N", [r["total"] for r in records], result["total"],
                               "layer totals"))
    if tracked and sum(1 for r in records if r["macs"] != 0) > 1:
        steps.append(_sum_step("multiply-accumulates", "MACs", r"\mathrm{MACs}", [r["macs"] for r in records],
                               result["macs"], "layer MACs"))
    if result["trainable"] != result["total"] and any(r.get("frozen") for r in records):
        frozen = sum(r["total"] for r in records if r.get("frozen"))
        n_all, n_frozen = Sym("N"), Sym("N_frozen")
        steps.append(_step("trainable", Sym("N_trainable"), n_all - n_frozen,
                           {n_all: result["trainable"] + frozen, n_frozen: frozen}, result["trainable"],
                           note="layers marked frozen=true are not trained"))
    return steps


def _shown_inputs(inp: Inputs) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    if inp.sizes:
        shown["sizes"] = [as_sympy(s) for s in inp.sizes]
    if inp.input_shape is not None:
        shown["input"] = [as_sympy(s) for s in inp.input_shape]
    if inp.layers:
        specs = [l.spec for l in inp.layers]
        shown["layers"] = specs if len(specs) <= 12 else f"{len(specs)} layers" + (
            " from print(model)" if inp.from_torch else "")
    return shown


def _conventions(inp: Inputs, layers: list[Layer], results: list[Any],
                 shape: tuple[Any, ...] | None) -> dict[str, str]:
    conv = {
        "counted": "learnable parameters (weights and biases), as PyTorch's parameters()",
        "biases": "one bias per output unit" + ("" if inp.bias else " (none: --no-bias)")
                  + "; recurrent layers keep biases=2 vectors per gate by default (PyTorch, and Keras's GRU "
                    "on TF2, reset_after=True); biases=1 is Keras's LSTM and SimpleRNN (on a GRU: Keras's "
                    "reset_after=False)",
        "buffers": "batch-norm running mean and variance are buffers, not learnable; reported as "
                   "non_learnable (Keras's \"Total params\" counts them: it is total + non_learnable)",
    }
    if shape is not None:
        conv["shapes"] = ("channels first, no batch dimension, as PyTorch; sizes are floored as PyTorch "
                          "does (ceil_mode=true on a pooling layer rounds up)")
        conv["macs"] = ("multiply-accumulates of the weights for one sample: each weight once per position "
                        "it is applied at (attention adds Q·Kᵀ and the weighted sum of V); bias additions, "
                        "normalization, activations and pooling are not counted, as fvcore and "
                        "torch.utils.flop_counter (flops/2) count")
        if any(r[1] is not None for r in results):
            conv["receptive_field"] = ("on the input: r_l = r_{l−1} + d(k − 1)·j_{l−1}, j_l = j_{l−1}·s, "
                                       "padding ignored; not followed past a transposed convolution, "
                                       "upsampling, flatten or dense layer")
    if inp.from_torch:
        conv["print(model)"] = ("modules in print order, taken as the order of forward; a child named "
                                "downsample or shortcut is the skip branch of its block; parameters set "
                                "directly on a custom module are not in print(model)")
    return conv


# --------------------------------------------------------------------------- mistakes


def _with(layers: tuple[Layer, ...], pick: Callable[[Layer], bool], change: Callable[[Layer], dict]) -> Any:
    """``layers`` with ``change`` applied to the keys of those ``pick`` chooses; None if none."""
    if not any(pick(l) for l in layers):
        return None
    return tuple(replace(l, keys={**l.keys, **change(l)}) if pick(l) else l for l in layers)


def _forgot_biases(kw: Any) -> Any:
    layers = _with(kw["layers"], lambda l: bool(l.keys.get("bias")), lambda l: {"bias": False})
    return {"bias": False, "layers": layers if layers is not None else kw["layers"]}


def _one_bias(kinds: tuple[str, ...]) -> Callable[[Any], Any]:
    def change(kw: Any) -> Any:
        layers = _with(kw["layers"], lambda l: l.kind in kinds and l.keys["bias"] and l.keys["biases"] == 2,
                       lambda l: {"biases": 1})
        return None if layers is None else {"layers": layers}
    return change


def _shaped(kw: Any) -> bool:
    return kw["input_shape"] is not None or bool(kw["sizes"])


def _padded(l: Layer) -> bool:
    p = l.keys.get("padding")
    return l.family in ("conv", "convt", "maxpool", "avgpool") and p not in (None, "valid") and (
        p == "same" or any(v != 0 for v in p))


def _no_padding(kw: Any) -> Any:
    layers = _with(kw["layers"], _padded, lambda l: {"padding": (0,) * l.dims}) if _shaped(kw) else None
    return None if layers is None else {"layers": layers}


def _if(flag: str, pick: Callable[[Layer], bool]) -> Callable[[Any], Any]:
    return lambda kw: {flag: True} if _shaped(kw) and any(pick(l) for l in kw["layers"]) else None


def _strided(l: Layer) -> bool:
    return l.family in ("conv", "maxpool", "avgpool") and any(s != 1 for s in l.keys["stride"])


MISTAKES = (
    Mistake("forgot the biases", _forgot_biases),
    Mistake("kept one bias vector per gate instead of two (Keras vs PyTorch RNNs)", _one_bias(("rnn", "lstm"))),
    Mistake("kept one bias vector per gate in the GRU (Keras's reset_after=False; Keras on TF2 keeps two, "
            "as PyTorch)", _one_bias(("gru",))),
    Mistake("counted the batch-norm running statistics (buffers) as parameters", {"count_buffers": True}),
    Mistake("forgot the padding", _no_padding),
    Mistake("applied the stride to the kernel (spread it over s(k − 1) + 1 inputs, as a dilation)",
            _if("stride_kernel", _strided)),
    Mistake("flattened the spatial size from before the last pooling or strided layer",
            _if("wrong_flatten", lambda l: l.family in ("flatten", "dense"))),
    Mistake("counted parameters in the pooling layers (a weight and a bias per channel, as LeNet-5's "
            "subsampling)", _if("pool_params", lambda l: l.family in ("maxpool", "avgpool", "adaptive"))),
)
