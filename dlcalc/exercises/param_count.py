"""param-count: learnable parameters of a network, layer by layer, with the formula.

Counts follow PyTorch's modules (``sum(p.numel() for p in m.parameters())``):

=========== ====================================================================
dense       in·out weights, out biases                       (nn.Linear)
conv1d/2d   out·(in/groups)·k₁·k₂ weights, out biases        (nn.Conv1d/Conv2d)
bn          c weights (γ), c biases (β); 2c running stats are buffers (nn.BatchNorm1d)
layernorm   d weights, d biases                              (nn.LayerNorm)
embedding   n·d weights                                      (nn.Embedding)
rnn/lstm/gru  per layer and direction G·h·(in_l + h) weights, biases·G·h biases,
            G = 1, 4, 3; in_l = in for the first layer, h·directions after it
attention   4d² weights (Q, K, V, output projections), 4d biases (nn.MultiheadAttention)
=========== ====================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sympy

from dlcalc.core import Math, Mistake, Shown, Solution, Step, substitute
from dlcalc.errors import InputError
from dlcalc.parse import parse_bool, parse_expr_text, symbol
from dlcalc.registry import ARGUMENTS, FLAG, LIST, Command, Option

COMMAND = Command(
    name="param-count",
    summary="Learnable parameters of a network, layer by layer, with the formula.",
    example="dlcalc param-count 784 256 10",
    options=(
        Option("SIZES", "Layer sizes of an MLP, input first (784 256 10); any may be a symbol.",
               kind=ARGUMENTS),
        Option("--layer", 'A typed layer, repeatable: "conv2d in=3 out=16 k=3", "bn c=16", '
                          '"lstm in=10 hidden=20 layers=2", "attention d=64 heads=8", ...', kind=LIST),
        Option("--no-bias", "MLP layers without biases.", kind=FLAG, default=False),
    ),
)

MAX_LAYERS = 1_000
GATES = {"rnn": 1, "lstm": 4, "gru": 3}

#: kind -> (required keys, optional keys with defaults as text)
KINDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "dense": (("in", "out"), {"bias": "true"}),
    "conv1d": (("in", "out", "k"), {"groups": "1", "bias": "true"}),
    "conv2d": (("in", "out", "k"), {"groups": "1", "bias": "true"}),
    "bn": (("c",), {}),
    "layernorm": (("d",), {}),
    "embedding": (("n", "d"), {}),
    "rnn": (("in", "hidden"), {"layers": "1", "bidirectional": "false", "bias": "true", "biases": "2"}),
    "lstm": (("in", "hidden"), {"layers": "1", "bidirectional": "false", "bias": "true", "biases": "2"}),
    "gru": (("in", "hidden"), {"layers": "1", "bidirectional": "false", "bias": "true", "biases": "2"}),
    "attention": (("d",), {"heads": "1", "bias": "true"}),
}
_BOOL_KEYS = {"bias", "bidirectional"}


@dataclass(frozen=True)
class Layer:
    """One typed layer: ``kind`` and its parsed keys (sizes as SymPy values, flags as bools)."""

    kind: str
    keys: dict[str, Any]
    spec: str


def _size(value: Any, option: str, what: str) -> Any:
    """A layer size: a positive whole number, or a symbol (then taken as one)."""
    if value.is_number:
        if not value.is_Integer or value < 1:
            raise InputError(option, f"{what} must be a positive whole number, got {value}")
        if value > 10**12:
            raise InputError(option, f"{what} is larger than 10^12")
    elif isinstance(value, sympy.Symbol):
        return symbol(value.name)
    else:
        raise InputError(option, f"{what} must be a number or a single symbol, got {value}")
    return value


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of param-count.

    Attributes:
        sizes: the MLP's layer sizes, input first (positive integers or symbols); may be empty.
        layers: the typed layers after the MLP, in order.
        bias: whether the MLP layers have biases (``--no-bias``: False).
    """

    sizes: tuple[Any, ...]
    layers: tuple[Layer, ...]
    bias: bool = True


def parse(*, sizes: list[str] | None, layer: list[str] | None, no_bias: bool) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    return Inputs(tuple(parse_sizes(sizes or [])), tuple(parse_layer(s) for s in layer or []),
                  bias=not no_bias)


def parse_sizes(texts: list[str]) -> list[Any]:
    """Positional MLP sizes: at least two, each a positive whole number or a symbol."""
    if len(texts) == 1:
        raise InputError("SIZES", "needs at least two layer sizes (input and output), got one")
    if len(texts) > MAX_LAYERS:
        raise InputError("SIZES", f"has more than {MAX_LAYERS} layers")
    return [_size(parse_expr_text(t, "SIZES"), "SIZES", f"size {i + 1} ({t.strip()[:20]})")
            for i, t in enumerate(texts)]


def parse_layer(spec: str) -> Layer:
    """``"conv2d in=3 out=16 k=3x5 groups=1"`` -> Layer; every mistake names ``--layer``."""
    opt = "--layer"
    words = spec.split()
    if not words:
        raise InputError(opt, "is empty; write e.g. \"dense in=10 out=5\"")
    kind = words[0].lower()
    if kind not in KINDS:
        raise InputError(opt, f"has the unknown kind {words[0][:30]!r}; known kinds: {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    given: dict[str, str] = {}
    for w in words[1:]:
        key, eq, val = w.partition("=")
        if not eq or not key or not val:
            raise InputError(opt, f"{kind}: expected key=value, got {w[:30]!r}")
        if key not in required and key not in optional:
            raise InputError(opt, f"{kind}: unknown key {key[:30]!r}; keys: "
                                  f"{', '.join(required + tuple(optional))}")
        if key in given:
            raise InputError(opt, f"{kind}: key {key!r} given twice")
        given[key] = val
    missing = [k for k in required if k not in given]
    if missing:
        raise InputError(opt, f"{kind}: missing {', '.join(k + '=' for k in missing)}")
    keys: dict[str, Any] = {}
    for key, val in {**optional, **given}.items():
        what = f"{kind}: {key}"
        if key in _BOOL_KEYS:
            keys[key] = parse_bool(val, f"{opt} {kind}: {key}")
        elif key == "k":
            parts = re.split(r"[xX*]", val)
            dims = 1 if kind == "conv1d" else 2
            if len(parts) == 1:
                parts = parts * dims
            if len(parts) != dims:
                raise InputError(opt, f"{kind}: k must be {'one size' if dims == 1 else 'k or k1xk2'}, got {val!r}")
            keys[key] = [_size(parse_expr_text(p, opt), opt, what) for p in parts]
        elif key == "biases":
            if val not in ("1", "2"):
                raise InputError(opt, f"{kind}: biases must be 2 (PyTorch) or 1 (Keras), got {val!r}")
            keys[key] = int(val)
        else:
            keys[key] = _size(parse_expr_text(val, opt), opt, what)
    _check_divisibility(kind, keys, opt)
    return Layer(kind, keys, " ".join(words))


def _divides(a: Any, b: Any) -> bool | None:
    if a.is_number and b.is_number:
        return int(b) % int(a) == 0
    return None


def _check_divisibility(kind: str, keys: dict[str, Any], opt: str) -> None:
    if kind.startswith("conv"):
        g = keys["groups"]
        for side in ("in", "out"):
            if _divides(g, keys[side]) is False:
                raise InputError(opt, f"{kind}: groups={g} does not divide {side}={keys[side]}")
    if kind == "attention" and _divides(keys["heads"], keys["d"]) is False:
        raise InputError(opt, f"attention: heads={keys['heads']} does not divide d={keys['d']}")


# --------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class Count:
    name: str
    weights: Any
    biases: Any
    buffers: Any
    formula: Math
    substituted: Any  # weights + biases with the sizes put in, unevaluated


def _count(layer: Layer) -> Count:
    k, K = layer.kind, layer.keys
    sym = sympy.Symbol  # program-made names only
    if k == "dense":
        i, o = sym("n_in"), sym("n_out")
        w, b = i * o, (o if K["bias"] else sympy.Integer(0))
        vals = {i: K["in"], o: K["out"]}
        f = Math("in·out + out" if K["bias"] else "in·out",
                 r"n_{in} n_{out} + n_{out}" if K["bias"] else r"n_{in} n_{out}")
        name = f"dense {K['in']}→{K['out']}"
    elif k in ("conv1d", "conv2d"):
        i, o, g = sym("c_in"), sym("c_out"), sym("g")
        ks = [sym(f"k_{j + 1}") for j in range(len(K["k"]))]
        w = o * (i / g) * sympy.Mul(*ks)
        b = o if K["bias"] else sympy.Integer(0)
        vals = {i: K["in"], o: K["out"], g: K["groups"], **dict(zip(ks, K["k"]))}
        kk = "·".join(f"k{j + 1}" for j in range(len(ks)))
        f = Math(f"out·(in/groups)·{kk}" + (" + out" if K["bias"] else ""),
                 r"c_{out} \frac{c_{in}}{g} " + " ".join(f"k_{j + 1}" for j in range(len(ks)))
                 + (r" + c_{out}" if K["bias"] else ""))
        name = f"{k} {K['in']}→{K['out']} k={'x'.join(str(x) for x in K['k'])}" + (
            f" groups={K['groups']}" if K["groups"] != 1 else "")
    elif k == "bn":
        c = sym("c")
        w, b = c, c
        vals = {c: K["c"]}
        f = Math("c (γ) + c (β)", r"c\,(\gamma) + c\,(\beta)")
        name = f"batchnorm c={K['c']}"
    elif k == "layernorm":
        d = sym("d")
        w, b = d, d
        vals = {d: K["d"]}
        f = Math("d (γ) + d (β)", r"d\,(\gamma) + d\,(\beta)")
        name = f"layernorm d={K['d']}"
    elif k == "embedding":
        n, d = sym("n"), sym("d")
        w, b = n * d, sympy.Integer(0)
        vals = {n: K["n"], d: K["d"]}
        f = Math("n·d", r"n\,d")
        name = f"embedding {K['n']}x{K['d']}"
    elif k in GATES:
        return _count_rnn(layer)
    else:  # attention
        d = sym("d")
        w = 4 * d**2
        b = 4 * d if K["bias"] else sympy.Integer(0)
        vals = {d: K["d"]}
        f = Math("3d·d (Q, K, V) + d·d (output)" + (" + 3d + d biases" if K["bias"] else ""),
                 r"3d \cdot d + d \cdot d" + (r" + 3d + d" if K["bias"] else ""))
        name = f"attention d={K['d']} heads={K['heads']}"
    buffers = 2 * K["c"] if k == "bn" else sympy.Integer(0)
    return Count(name, w.xreplace(vals), b.xreplace(vals), buffers, f, substitute(w + b, vals))


def _count_rnn(layer: Layer) -> Count:
    k, K = layer.kind, layer.keys
    G = GATES[k]
    dirs = 2 if K["bidirectional"] else 1
    h, n_in, L = K["hidden"], K["in"], K["layers"]
    nb = K["biases"] if K["bias"] else 0
    if not L.is_number:
        raise InputError("--layer", f"{k}: layers must be a number")
    L = int(L)
    if L > MAX_LAYERS:
        raise InputError("--layer", f"{k}: layers must be at most {MAX_LAYERS}")
    D, Gs, hs, xs, B = sympy.symbols("D G h x_l B")
    per_layer = D * Gs * hs * (xs + hs) + D * B * Gs * hs
    parts, w = [], sympy.Integer(0)
    for layer_i in range(L):
        inp = n_in if layer_i == 0 else h * dirs
        w += dirs * G * h * (inp + h)
        parts.append(substitute(per_layer, {D: dirs, Gs: G, hs: h, xs: inp, B: nb}))
    b = dirs * L * nb * G * h
    f = Math("Σ over layers of directions·G·h·(in_l + h) + directions·biases·G·h, "
             f"G = {G} gate{'s' if G > 1 else ''}, in_l = in (first layer) or h·directions",
             r"\sum_{l} D\,G\,h\,(x_l + h) + D\,B\,G\,h")
    name = f"{k} {n_in}→{h}" + (f" x{L}" if L > 1 else "") + (" bidirectional" if dirs == 2 else "")
    substituted = parts[0] if len(parts) == 1 else sympy.Add(*parts, evaluate=False)
    return Count(name, sympy.expand(w), sympy.expand(b), sympy.Integer(0), f, substituted)


def _mlp_layers(sizes: list[Any], bias: bool) -> list[Layer]:
    return [Layer("dense", {"in": a, "out": b, "bias": bias}, f"dense in={a} out={b}")
            for a, b in zip(sizes, sizes[1:])]


def _plain(x: Any) -> Any:
    x = sympy.expand(x)
    return int(x) if x.is_Integer else x


def solve(inp: Inputs, *, count_buffers: bool = False) -> Solution:
    """Count the learnable parameters of an MLP (``sizes``) followed by typed ``layers``.

    ``count_buffers`` adds batch-norm running statistics to the total: a mistake, kept as a
    flag so that ``--check`` can recognise it.
    """
    sizes, layers, bias = list(inp.sizes), list(inp.layers), inp.bias
    if not sizes and not layers:
        raise InputError("SIZES", "are missing: give layer sizes (784 256 10) or --layer specs")
    all_layers = _mlp_layers(sizes, bias) + list(layers)
    if len(all_layers) > MAX_LAYERS:
        raise InputError("--layer", f"more than {MAX_LAYERS} layers in all")
    steps: list[Step] = []
    counts = [_count(layer) for layer in all_layers]
    records = []
    for i, c in enumerate(counts, 1):
        total = c.weights + c.biases
        steps.append(Step(title=f"layer {i}: {c.name}", formula=c.formula,
                          substituted=c.substituted, value=sympy.expand(total),
                          note="running mean and variance (2c values) are buffers, not learned"
                          if c.buffers != 0 else ""))
        records.append({"name": c.name, "weights": _plain(c.weights), "biases": _plain(c.biases),
                        "total": _plain(total)})
    total = sympy.expand(sum((c.weights + c.biases for c in counts), sympy.Integer(0)))
    buffers = sympy.expand(sum((c.buffers for c in counts), sympy.Integer(0)))
    if count_buffers:
        total += buffers
    if len(sizes) >= 2:
        n = [sympy.Symbol(f"n_{j}") for j in range(len(sizes))]
        general = sum(((n[j - 1] + (1 if bias else 0)) * n[j] for j in range(1, len(n))), sympy.Integer(0))
        mlp_total = sympy.expand(general.xreplace(dict(zip(n, sizes))))
        steps.append(Step(
            title="MLP total",
            formula=Math("N = Σ_l (n_{l-1} + 1)·n_l" if bias else "N = Σ_l n_{l-1}·n_l",
                         r"N = \sum_{l=1}^{L} (n_{l-1} + 1)\, n_l" if bias else r"N = \sum_{l=1}^{L} n_{l-1} n_l"),
            substituted=substitute(general, dict(zip(n, sizes))), value=mlp_total))
    if layers or len(sizes) < 2:
        steps.append(Step(title="total", formula=Math("N = Σ layer totals", r"N = \sum \text{layer totals}"),
                          substituted=sympy.Add(*[Shown(sympy.expand(c.weights + c.biases))
                                                  for c in counts], evaluate=False)
                          if len(counts) > 1 else None, value=total))
    conventions = {
        "counted": "learnable parameters (weights and biases), as PyTorch's parameters()",
        "biases": "one bias per output unit" + ("" if bias else " (none: --no-bias)")
                  + "; recurrent layers keep biases=2 vectors per gate by default (PyTorch), biases=1 as Keras",
        "buffers": "batch-norm running mean and variance are buffers, not learnable; reported as non_learnable",
    }
    inputs: dict[str, Any] = {}
    if sizes:
        inputs["sizes"] = list(sizes)
    if layers:
        inputs["layers"] = [layer.spec for layer in layers]
    return Solution(command="param-count", inputs=inputs, conventions=conventions, steps=tuple(steps),
                    result={"total": _plain(total), "non_learnable": _plain(buffers), "layers": records})


def _with_keys(layers: list[Layer], kinds: Any, **keys: Any) -> list[Layer] | None:
    """``layers`` with ``keys`` set on those of ``kinds``; None if no layer is of them."""
    if not any(layer.kind in kinds for layer in layers):
        return None
    return [Layer(layer.kind, {**layer.keys, **keys}, layer.spec) if layer.kind in kinds else layer
            for layer in layers]


def _forgot_biases(kw: Any) -> Any:
    layers = _with_keys(kw["layers"], {k for k, (_, opt) in KINDS.items() if "bias" in opt}, bias=False)
    return {"bias": False, "layers": layers if layers is not None else kw["layers"]}


def _one_rnn_bias(kw: Any) -> Any:
    layers = _with_keys(kw["layers"], GATES, biases=1)
    return None if layers is None else {"layers": layers}


MISTAKES = (
    Mistake("forgot the biases", _forgot_biases),
    Mistake("kept one bias vector per gate instead of two (Keras vs PyTorch RNNs)", _one_rnn_bias),
    Mistake("counted the batch-norm running statistics (buffers) as parameters", {"count_buffers": True}),
)
