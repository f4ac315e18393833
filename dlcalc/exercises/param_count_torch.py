"""Reading PyTorch's ``print(model)`` text for param-count's ``--from-torch``.

A hand-written reader of the text ``torch.nn.Module.__repr__`` prints: nothing is passed to
eval, sympify or any other interpreter.  The grammar::

    module   := NAME "(" [args] {child} ")"
    child    := "(" KEY ")" ":" [COUNT "x"] module        # (conv1): ..., (0-2): 3 x Linear(...)
    args     := arg {"," arg}                             # 1, 8, kernel_size=(3, 3), bias=False

Children may share a line (``Sequential((0): ReLU() (1): Tanh())``) or not.  Each leaf module
(one whose class this reader knows) becomes one param-count layer spec, the ``--layer`` text
("conv2d in=1 out=8 k=3x3 stride=1x1"); a module with children and a class it does not know
is a container (``Sequential``, ``ModuleList``, ``ModuleDict``, ``BasicBlock``, any custom
``nn.Module``); a leaf it does not know is an error naming it.

A child named ``downsample`` or ``shortcut`` (torchvision's residual blocks) is the skip
branch of its block: its layers are marked with the block's path, so that shapes are worked
out for it from the block's input.  Nothing here imports SymPy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dlcalc.errors import InputError

OPTION = "--from-torch"
MAX_DEPTH = 40          # nesting of modules
MAX_LEAVES = 1_000      # layers after "N x" repeats are expanded
MAX_REPEAT = 1_000      # the N of one "(0-N): N x Module(...)"
SKIP_NAMES = ("downsample", "shortcut")

_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_CHILD = re.compile(r"\(\s*([A-Za-z0-9_.\-]+)\s*\)\s*:\s*(?:(\d+)\s*x\s+)?")
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Node:
    """One module of the printed tree: its class name, arguments and named children."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    children: tuple[tuple[str, int, "Node"], ...]  # (key, repeat count, module)


@dataclass(frozen=True)
class Leaf:
    """One layer found in the text: where it is, its ``--layer`` spec, its skip branch."""

    path: str
    spec: str
    skip_of: str = ""   # the block path when the layer is in a downsample/shortcut branch
    note: str = ""      # what print(model) does not show (MultiheadAttention's kdim/vdim)


class _Reader:
    """Recursive descent over the text, with a position; every failure names --from-torch."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, detail: str) -> InputError:
        line = self.text.count("\n", 0, self.pos) + 1
        near = self.text[self.pos:self.pos + 30].split("\n")[0]
        return InputError(OPTION, f"{detail} (line {line}, near {near!r})")

    def module(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(f"nests modules more than {MAX_DEPTH} deep")
        m = _NAME.match(self.text, self.pos)
        if not m:
            raise self.fail("expected a module such as Linear(...) or Sequential(...)")
        self.pos = m.end()
        args_text = self.args_text()
        children = []
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.text.startswith(")", self.pos):
                self.pos += 1
                break
            if self.pos >= len(self.text):
                raise self.fail(f"ends before the ')' closing {m.group(1)}")
            c = _CHILD.match(self.text, self.pos)
            if not c:
                raise self.fail(f"expected a child like (0): ... or the ')' closing {m.group(1)}")
            self.pos = c.end()
            count = int(c.group(2)) if c.group(2) else 1
            if not 1 <= count <= MAX_REPEAT:
                raise self.fail(f"repeats a module {count} times; at most {MAX_REPEAT}")
            children.append((c.group(1), count, self.module(depth + 1)))
        args, kwargs = _arguments(args_text, m.group(1), self)
        return Node(m.group(1), tuple(args), kwargs, tuple(children))

    def args_text(self) -> str:
        """The argument text after ``Name(``: up to its ``)`` or the first child, balanced."""
        depth, start, quote = 0, self.pos, ""
        text = self.text
        for i in range(self.pos, len(text)):
            ch = text[i]
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "'\"":
                quote = ch
            elif ch in "([{":
                if depth == 0 and ch == "(" and _CHILD.match(text, i):
                    self.pos = i
                    return text[start:i]
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    self.pos = i
                    return text[start:i]
                depth -= 1
        self.pos = len(text)
        raise self.fail("ends before the module's closing ')'")


def _split_top(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


_INT = re.compile(r"-?\d+\Z")
_NUMBER = re.compile(r"\d+(\.\d*)?([eE][-+]?\d+)?\Z")


def _literal(text: str, reader: _Reader) -> Any:
    """An argument value: an int, a tuple of ints, True/False/None, or other text as is."""
    t = text.strip()
    if _INT.match(t):
        return int(t)
    if t in ("True", "False"):
        return t == "True"
    if t == "None":
        return None
    if t[:1] in "([" and t[-1:] in ")]":
        items = _split_top(t[1:-1])
        if items and all(_INT.match(x) for x in items):
            return tuple(int(x) for x in items)
        if items and all(_NUMBER.match(x) for x in items):  # Upsample(scale_factor=(2.0, 2.0))
            return tuple(items)
        if items and all(_INT.match(x) or x == "None" for x in items):
            return tuple(None if x == "None" else int(x) for x in items)
        raise reader.fail(f"has a value {t[:30]!r} that is not a tuple of whole numbers")
    return t.strip("'\"")


def _arguments(text: str, module: str, reader: _Reader) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for part in _split_top(text):
        key, eq, value = part.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            kwargs[key.strip()] = _literal(value, reader)
        elif kwargs:
            raise reader.fail(f"{module}: a positional argument after keyword arguments")
        else:
            args.append(_literal(part, reader))
    return args, kwargs


# --------------------------------------------------------------------------- modules -> specs

#: PyTorch class -> (param-count kind, names of its positional arguments)
_LEAVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Linear": ("dense", ("in", "out")),
    "NonDynamicallyQuantizableLinear": ("dense", ("in", "out")),
    **{f"Conv{n}d": (f"conv{n}d", ("in", "out", "k")) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": (f"convtranspose{n}d", ("in", "out", "k")) for n in (1, 2, 3)},
    **{f"MaxPool{n}d": (f"maxpool{n}d", ("k",)) for n in (1, 2, 3)},
    **{f"AvgPool{n}d": (f"avgpool{n}d", ("k",)) for n in (1, 2, 3)},
    **{f"AdaptiveAvgPool{n}d": (f"adaptiveavgpool{n}d", ("out",)) for n in (1, 2, 3)},
    **{f"AdaptiveMaxPool{n}d": (f"adaptivemaxpool{n}d", ("out",)) for n in (1, 2, 3)},
    **{f"BatchNorm{n}d": (f"batchnorm{n}d", ("c",)) for n in (1, 2, 3)},
    **{f"InstanceNorm{n}d": (f"instancenorm{n}d", ("c",)) for n in (1, 2, 3)},
    "GroupNorm": ("groupnorm", ("groups", "c")),
    "LayerNorm": ("layernorm", ("d",)),
    "RMSNorm": ("rmsnorm", ("d",)),
    "Embedding": ("embedding", ("n", "d")),
    "RNN": ("rnn", ("in", "hidden")),
    "LSTM": ("lstm", ("in", "hidden")),
    "GRU": ("gru", ("in", "hidden")),
    "PReLU": ("prelu", ()),
    "Flatten": ("flatten", ("start_dim", "end_dim")),
    "Upsample": ("upsample", ("size", "scale")),
    "UpsamplingNearest2d": ("upsample", ("size", "scale")),
    "UpsamplingBilinear2d": ("upsample", ("size", "scale")),
}

#: modules without parameters that keep the shape: their spec is the lower-case class name
SAME_SHAPE = (
    "Identity", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmax2d", "Softmin", "Hardswish",
    "Hardsigmoid", "Hardtanh", "Hardshrink", "Softshrink", "Softplus", "Softsign", "Tanhshrink",
    "Threshold", "LogSigmoid", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
    "FeatureAlphaDropout", "LocalResponseNorm")

#: PyTorch keyword -> param-count key (None: does not change a count or a shape)
_KEYWORDS: dict[str, str | None] = {
    "in_features": "in", "out_features": "out", "in_channels": "in", "out_channels": "out",
    "kernel_size": "k", "stride": "stride", "padding": "padding", "dilation": "dilation",
    "groups": "groups", "bias": "bias", "output_padding": "output_padding", "ceil_mode": "ceil_mode",
    "output_size": "out", "affine": "affine", "track_running_stats": "track_running_stats",
    "elementwise_affine": "elementwise_affine", "num_layers": "layers", "bidirectional": "bidirectional",
    "proj_size": "proj_size", "num_parameters": "c", "start_dim": "start_dim", "end_dim": "end_dim",
    "scale_factor": "scale", "size": "size", "num_features": "c", "num_groups": "groups",
    "num_channels": "c", "normalized_shape": "d", "num_embeddings": "n", "embedding_dim": "d",
    "input_size": "in", "hidden_size": "hidden",
    **{k: None for k in ("eps", "momentum", "inplace", "p", "negative_slope", "dim", "approximate",
                         "alpha", "beta", "lambd", "threshold", "value", "min_val", "max_val", "init",
                         "padding_mode", "count_include_pad", "divisor_override", "return_indices",
                         "batch_first", "dropout", "nonlinearity", "padding_idx", "max_norm",
                         "norm_type", "scale_grad_by_freq", "sparse", "mode", "align_corners",
                         "recompute_scale_factor")},
}


def _value_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        if any(x is None for x in v):
            raise InputError(OPTION, f"has a size None in {v}; give the sizes as whole numbers")
        return "x".join(str(x) for x in v) if v else ""
    return str(v)


def leaf_spec(node: Node, path: str) -> str:
    """The ``--layer`` spec of one known leaf module."""
    if node.name in SAME_SHAPE:
        return node.name.lower()
    kind, positional = _LEAVES[node.name]
    if len(node.args) > len(positional):
        raise InputError(OPTION, f"{path or node.name}: {node.name} has {len(node.args)} positional "
                                 f"arguments; expected at most {len(positional)}")
    words = [kind]
    given = list(zip(positional, node.args))
    for key, value in node.kwargs.items():
        if key not in _KEYWORDS:
            raise InputError(OPTION, f"{path or node.name}: {node.name} has the argument {key!r}, "
                                     "which param-count does not know")
        if _KEYWORDS[key] is not None:
            given.append((_KEYWORDS[key], value))
    for key, value in given:
        if value is None:
            continue
        if key == "padding" and isinstance(value, str) and value not in ("same", "valid"):
            raise InputError(OPTION, f"{path}: padding={value!r}; expected a size, same or valid")
        text = _value_text(value)
        if text and " " not in text:
            words.append(f"{key}={text}")
    return " ".join(words)


def _attention(node: Node, path: str) -> Leaf:
    """MultiheadAttention prints only its out_proj; embed_dim and bias are read from it."""
    proj = [n for key, _, n in node.children if key == "out_proj"]
    if len(proj) != 1 or proj[0].name not in _LEAVES or _LEAVES[proj[0].name][0] != "dense":
        raise InputError(OPTION, f"{path or 'MultiheadAttention'}: expected its (out_proj) Linear child")
    p = proj[0]
    d = p.kwargs.get("in_features", p.args[0] if p.args else None)
    if not isinstance(d, int):
        raise InputError(OPTION, f"{path}: out_proj needs in_features")
    bias = p.kwargs.get("bias", True)
    return Leaf(path, f"attention d={d} bias={'true' if bias else 'false'}",
                note="print(model) does not show MultiheadAttention's num_heads, kdim, vdim or "
                     "add_bias_kv: taken as kdim = vdim = embed_dim, no bias_k/bias_v")


def walk(node: Node, path: str = "", skip_of: str = "", out: list[Leaf] | None = None) -> list[Leaf]:
    """The leaves of ``node`` in print order, as layer specs."""
    out = [] if out is None else out
    if node.name == "MultiheadAttention":
        out.append(_attention(node, path))
    elif (node.name in _LEAVES or node.name in SAME_SHAPE) and not node.children:
        out.append(Leaf(path, leaf_spec(node, path), skip_of))
    elif node.children:
        for key, count, child in node.children:
            first = int(key.split("-")[0]) if re.fullmatch(r"\d+(-\d+)?", key) else 0
            for i in range(count):
                name = str(first + i) if count > 1 else key
                child_path = f"{path}.{name}" if path else name
                branch = (path or "(model)") if key in SKIP_NAMES else skip_of
                walk(child, child_path, branch, out)
                if len(out) > MAX_LEAVES:
                    raise InputError(OPTION, f"has more than {MAX_LEAVES:,} layers")
    elif node.name in ("Sequential", "ModuleList", "ModuleDict"):
        pass
    else:
        where = f" at {path}" if path else ""
        raise InputError(OPTION, f"has the unknown module {node.name!r}{where}; param-count knows "
                                 "Linear, Conv*/ConvTranspose*, pooling, normalization, Embedding, "
                                 "RNN/LSTM/GRU, MultiheadAttention, activations, Dropout, Flatten, "
                                 "Upsample and containers")
    return out


def parse_print(text: str) -> list[Leaf]:
    """``print(model)`` text -> the layers in print order (InputError naming --from-torch)."""
    reader = _Reader(text)
    root = reader.module(0)
    rest = text[reader.pos:].strip()
    if rest:
        reader.pos = len(text) - len(text[reader.pos:].lstrip())
        raise reader.fail("has text after the model's closing ')'")
    return walk(root)
