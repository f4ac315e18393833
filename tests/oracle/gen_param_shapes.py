"""PyTorch oracle for param-count's shapes: output shapes, MACs, totals of whole networks.

Each model is a list of layer spec dicts. The same dict gives both the torch module (built
here) and the `--layer` text on the command line; the expected values are torch's:

- totals: `sum(p.numel() for p in module.parameters())` (trainable: those with
  requires_grad, after freezing the layers marked frozen), non_learnable: the numel of the
  batch-norm running_mean/running_var buffers;
- output shapes: the real output of each module for a zero input (batch of 1, stripped);
- MACs: torch.utils.flop_counter.FlopCounterMode's flops / 2 per module, except for the
  recurrent layers, whose fused CPU kernel FlopCounterMode does not see: there the oracle
  counts L × (numel of the weight matrices), every weight once per time step.

Every model also gets a `--from-torch` case: its `print(model)` text is stored in the
fixture's args, with the same expected totals (and per-layer values where the layers are
the leaves of the printed tree). Nothing of dlcalc is imported.

Called by gen_torch.py (the cases go into tests/golden/param-count.json after the older
ones); run alone, it rewrites only that file:
    /work/torchenv/bin/python tests/oracle/gen_param_shapes.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

RECURRENT = (nn.RNN, nn.LSTM, nn.GRU)

# ---------------------------------------------------------------- spec -> module


def _t(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def build(spec: dict) -> nn.Module:
    """One torch module from a spec dict (our key names; sizes always given)."""
    kind = spec["kind"]
    s = {k: v for k, v in spec.items() if k not in ("kind", "infer", "frozen", "alias")}
    bias = s.get("bias", True)
    dims = int(kind[-2]) if kind[-1] == "d" and kind[-2].isdigit() else 0
    if kind == "dense":
        return nn.Linear(s["in"], s["out"], bias=bias)
    if kind.startswith("conv"):
        cls = {"conv": (nn.Conv1d, nn.Conv2d, nn.Conv3d),
               "convtranspose": (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)}[kind[:-2]][dims - 1]
        kw = dict(stride=s.get("stride", 1), padding=s.get("padding", 0), dilation=s.get("dilation", 1),
                  groups=s.get("groups", 1), bias=bias)
        if "output_padding" in s:
            kw["output_padding"] = s["output_padding"]
        return cls(s["in"], s["out"], s["k"], **kw)
    if kind.startswith("maxpool"):
        return (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[dims - 1](
            s["k"], s.get("stride"), s.get("padding", 0), s.get("dilation", 1), ceil_mode=s.get("ceil_mode", False))
    if kind.startswith("avgpool"):
        return (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[dims - 1](
            s["k"], s.get("stride"), s.get("padding", 0), ceil_mode=s.get("ceil_mode", False))
    if kind.startswith("adaptiveavgpool"):
        return (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)[dims - 1](s["out"])
    if kind.startswith("batchnorm"):
        return (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[dims - 1](
            s["c"], affine=s.get("affine", True), bias=s.get("bias", True))
    simple = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
              "leakyrelu": nn.LeakyReLU, "dropout": nn.Dropout, "identity": nn.Identity}
    if kind in simple:
        return simple[kind]()
    if kind == "softmax":
        return nn.Softmax(dim=-1)
    if kind == "flatten":
        return nn.Flatten(s.get("start_dim", 1), s.get("end_dim", -1))
    if kind == "upsample":
        return nn.Upsample(scale_factor=s["scale"])
    if kind == "prelu":
        return nn.PReLU(s.get("c", 1))
    if kind == "groupnorm":
        return nn.GroupNorm(s["groups"], s["c"], affine=s.get("affine", True))
    if kind == "layernorm":
        return nn.LayerNorm(s["d"], elementwise_affine=s.get("elementwise_affine", True), bias=bias)
    if kind == "rmsnorm":
        return nn.RMSNorm(s["d"], elementwise_affine=s.get("elementwise_affine", True))
    if kind == "embedding":
        return nn.Embedding(s["n"], s["d"])
    if kind in ("rnn", "lstm", "gru"):
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        kw = {"proj_size": s["proj_size"]} if "proj_size" in s else {}
        return cls(s["in"], s["hidden"], num_layers=s.get("layers", 1), bias=bias,
                   bidirectional=s.get("bidirectional", False), batch_first=True, **kw)
    if kind == "attention":
        return nn.MultiheadAttention(s["d"], s.get("heads", 1), bias=bias, kdim=s.get("kdim"),
                                     vdim=s.get("vdim"), add_bias_kv=s.get("add_bias_kv", False),
                                     batch_first=True)
    raise ValueError(kind)


# PyTorch's own names, for the cases that spell the layers that way on the command line
TORCH_KIND = {"dense": "linear", "batchnorm2d": "batchnorm2d", "attention": "attention"}
TORCH_KEY = {"dense": {"in": "in_features", "out": "out_features"},
             "conv2d": {"in": "in_channels", "out": "out_channels", "k": "kernel_size"},
             "maxpool2d": {"k": "kernel_size"}, "batchnorm2d": {"c": "num_features"},
             "attention": {"d": "embed_dim", "heads": "num_heads"},
             "lstm": {"in": "input_size", "hidden": "hidden_size", "layers": "num_layers"}}


def fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "(" + ", ".join(str(x) for x in v) + ")" if len(v) == 2 else "x".join(str(x) for x in v)
    return str(v)


def layer_arg(spec: dict, repeat: int = 1) -> str:
    """The `--layer` text: every key except those the case leaves to be inferred."""
    kind = spec["kind"]
    alias = spec.get("alias", False)
    words = [TORCH_KIND.get(kind, kind) if alias else kind]
    for k, v in spec.items():
        if k in ("kind", "infer", "alias") or k in spec.get("infer", ()):
            continue
        words.append(f"{TORCH_KEY.get(kind, {}).get(k, k) if alias else k}={fmt(v)}")
    if repeat > 1:
        words.append(f"repeat={repeat}")
    return " ".join(words)


# ---------------------------------------------------------------- running a model


class Chain(nn.Module):
    """The layers in order; recurrent layers pass on their output, attention attends to itself
    (or to zero keys/values of kdim/vdim features)."""

    def __init__(self, mods):
        super().__init__()
        self.layers = nn.ModuleList(mods)

    def forward(self, x):
        for m in self.layers:
            if isinstance(m, RECURRENT):
                x = m(x)[0]
            elif isinstance(m, nn.MultiheadAttention):
                k = torch.zeros(x.shape[0], x.shape[1], m.kdim)
                v = torch.zeros(x.shape[0], x.shape[1], m.vdim)
                x = m(x, k, v)[0]
            else:
                x = m(x)
        return x


def leaves(model: nn.Module):
    """(name, module) of the modules print(model) shows as leaves (MultiheadAttention is one)."""
    out = []

    def walk(m, name):
        if isinstance(m, nn.MultiheadAttention) or not list(m.children()):
            out.append((name, m))
            return
        for child_name, child in m.named_children():
            walk(child, f"{name}.{child_name}" if name else child_name)
    walk(model, "")
    return out


def measure(model: nn.Module, shape, index_input: bool = False) -> dict:
    """Torch's totals, output shapes and MACs for one sample of `shape` (a zero input)."""
    model.eval()
    parts = leaves(model)
    shapes = {}

    def hook(name):
        def record(mod, inputs, output):  # returns None: the output is left as it is
            shapes.setdefault(name, list((output[0] if isinstance(output, tuple) else output).shape[1:]))
        return record
    hooks = [m.register_forward_hook(hook(name)) for name, m in parts]
    x = torch.zeros(1, *shape, dtype=torch.long if index_input else torch.float64)
    with FlopCounterMode(display=False) as counter:
        with torch.no_grad():
            y = model(x)
    for h in hooks:
        h.remove()
    counts = counter.get_flop_counts()
    root = type(model).__name__
    layers = []
    for name, m in parts:
        flops = sum(counts.get(f"{root}.{name}", {}).values())
        macs = flops // 2
        if isinstance(m, RECURRENT):
            seq = shape[0]
            formula = seq * sum(p.numel() for n, p in m.named_parameters() if not n.startswith("bias"))
            assert macs in (0, formula), (name, macs, formula)
            macs = formula
        layers.append({"total": sum(p.numel() for p in m.parameters()), "output_shape": shapes[name],
                       "macs": macs})
    buffers = sum(b.numel() for n, b in model.named_buffers()
                  if n.split(".")[-1] in ("running_mean", "running_var"))
    total = sum(p.numel() for p in model.parameters())
    return {"total": total, "non_learnable": buffers,
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "output_shape": list(y.shape[1:]), "macs": sum(l["macs"] for l in layers), "layers": layers}


# ---------------------------------------------------------------- the models

def lenet5():
    return [{"kind": "conv2d", "in": 1, "out": 6, "k": 5, "infer": ["in"]}, {"kind": "relu"},
            {"kind": "maxpool2d", "k": 2}, {"kind": "conv2d", "in": 6, "out": 16, "k": 5, "infer": ["in"]},
            {"kind": "relu"}, {"kind": "maxpool2d", "k": 2}, {"kind": "flatten"},
            {"kind": "dense", "in": 400, "out": 120, "infer": ["in"]}, {"kind": "relu"},
            {"kind": "dense", "in": 120, "out": 84, "infer": ["in"]}, {"kind": "relu"},
            {"kind": "dense", "in": 84, "out": 10, "infer": ["in"]}]


class AlexNet(nn.Module):
    """torchvision.models.AlexNet as written there: forward flattens with torch.flatten, so
    print(model) shows no Flatten module."""

    def __init__(self):
        super().__init__()
        c = lambda i, o, k, s=1, p=0: nn.Conv2d(i, o, k, s, p)  # noqa: E731
        self.features = nn.Sequential(
            c(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2), c(64, 192, 5, 1, 2),
            nn.ReLU(inplace=True), nn.MaxPool2d(3, 2), c(192, 384, 3, 1, 1), nn.ReLU(inplace=True),
            c(384, 256, 3, 1, 1), nn.ReLU(inplace=True), c(256, 256, 3, 1, 1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet_spec():
    conv = lambda i, o, k, s, p: {"kind": "conv2d", "in": i, "out": o, "k": k, "stride": s, "padding": p}  # noqa
    pool = {"kind": "maxpool2d", "k": 3, "stride": 2}
    return [conv(3, 64, 11, 4, 2), {"kind": "relu"}, pool, conv(64, 192, 5, 1, 2), {"kind": "relu"}, pool,
            conv(192, 384, 3, 1, 1), {"kind": "relu"}, conv(384, 256, 3, 1, 1), {"kind": "relu"},
            conv(256, 256, 3, 1, 1), {"kind": "relu"}, pool, {"kind": "adaptiveavgpool2d", "out": (6, 6)},
            {"kind": "flatten"}, {"kind": "dropout"}, {"kind": "dense", "in": 9216, "out": 4096},
            {"kind": "relu"}, {"kind": "dropout"}, {"kind": "dense", "in": 4096, "out": 4096},
            {"kind": "relu"}, {"kind": "dense", "in": 4096, "out": 1000}]


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_modules():
    """torchvision's vgg16 (no batch norm): features, avgpool 7x7, classifier."""
    feats, c = [], 3
    for v in VGG16:
        if v == "M":
            feats.append(nn.MaxPool2d(2, 2))
        else:
            feats += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(True)]
            c = v
    return nn.Sequential(nn.Sequential(*feats), nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
                         nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(True), nn.Dropout(),
                                       nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                                       nn.Linear(4096, 1000)))


def vgg16_args() -> list[str]:
    """VGG-16 as --layer flags with repeat= (ReLU and dropout left out: no parameters, no
    change of shape), the input channels inferred."""
    args, i = [], 0
    while i < len(VGG16):
        v = VGG16[i]
        if v == "M":
            args += ["--layer", "maxpool2d k=2"]
            i += 1
            continue
        n = 1
        while i + n < len(VGG16) and VGG16[i + n] == v:
            n += 1
        args += ["--layer", f"conv2d out={v} k=3 padding=1" + (f" repeat={n}" if n > 1 else "")]
        i += n
    return args + ["--layer", "adaptiveavgpool2d out=7x7", "--layer", "flatten",
                   "--layer", "linear out_features=4096", "--layer", "linear out_features=4096",
                   "--layer", "linear out_features=1000"]


def resnet_stem_block():
    conv = lambda i, o, k, s, p: {"kind": "conv2d", "in": i, "out": o, "k": k, "stride": s, "padding": p,  # noqa
                                  "bias": False, "infer": ["in"]}
    bn = {"kind": "batchnorm2d", "c": 64, "infer": ["c"]}
    return [conv(3, 64, 7, 2, 3), bn, {"kind": "relu"}, {"kind": "maxpool2d", "k": 3, "stride": 2, "padding": 1},
            conv(64, 64, 3, 1, 1), bn, {"kind": "relu"}, conv(64, 64, 3, 1, 1), bn, {"kind": "relu"}]


class BasicBlock(nn.Module):
    """torchvision's BasicBlock (names and registration order as there)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (expansion 4)."""

    def __init__(self, cin, width, stride=1):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, layers, widths=(64, 128, 256, 512), classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        expansion = 4 if block is Bottleneck else 1
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(block(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w * expansion
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Stem(nn.Module):
    """A ResNet stem and two basic blocks (one with a downsampling shortcut)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 128, 2))

    def forward(self, x):
        return self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))


def resnet152_args() -> list[str]:
    """ResNet-152's 311 layers with parameters (155 conv, 155 batch norm, fc) as --layer flags,
    with every size written out (no --input)."""
    args, cin = ["--layer", "conv2d in=3 out=64 k=7 stride=2 padding=3 bias=false", "--layer", "bn c=64"], 64
    for i, (n, w) in enumerate(zip((3, 8, 36, 3), (64, 128, 256, 512))):
        for j in range(n):
            s = 2 if (j == 0 and i > 0) else 1
            args += ["--layer", f"conv2d in={cin} out={w} k=1 bias=false", "--layer", f"bn c={w}",
                     "--layer", f"conv2d in={w} out={w} k=3 stride={s} padding=1 bias=false", "--layer", f"bn c={w}",
                     "--layer", f"conv2d in={w} out={4 * w} k=1 bias=false", "--layer", f"bn c={4 * w}"]
            if j == 0:
                args += ["--layer", f"conv2d in={cin} out={4 * w} k=1 stride={s} bias=false",
                         "--layer", f"bn c={4 * w}"]
            cin = 4 * w
    return args + ["--layer", "dense in=2048 out=1000"]


def unet_decoder():
    return [{"kind": "convtranspose2d", "in": 64, "out": 32, "k": 2, "stride": 2, "infer": ["in"]},
            {"kind": "conv2d", "in": 32, "out": 32, "k": 3, "padding": 1, "infer": ["in"]},
            {"kind": "batchnorm2d", "c": 32, "infer": ["c"]}, {"kind": "relu"},
            {"kind": "convtranspose2d", "in": 32, "out": 16, "k": 3, "stride": 2, "padding": 1,
             "output_padding": 1, "infer": ["in"]},
            {"kind": "conv2d", "in": 16, "out": 16, "k": 3, "padding": "same", "bias": False},
            {"kind": "upsample", "scale": 2}, {"kind": "conv2d", "in": 16, "out": 1, "k": 1}]


def conv3d_net():
    return [{"kind": "conv3d", "in": 2, "out": 4, "k": 3, "padding": 1, "infer": ["in"]},
            {"kind": "batchnorm3d", "c": 4, "infer": ["c"]}, {"kind": "relu"}, {"kind": "maxpool3d", "k": 2},
            {"kind": "conv3d", "in": 4, "out": 8, "k": (3, 3, 1), "stride": (1, 2, 1)},
            {"kind": "flatten"}, {"kind": "dense", "in": 8 * 2 * 1 * 4, "out": 10, "infer": ["in"]}]


def one_d_net():
    return [{"kind": "conv1d", "in": 16, "out": 32, "k": 5, "padding": "same", "dilation": 2, "infer": ["in"]},
            {"kind": "prelu", "c": 32}, {"kind": "groupnorm", "groups": 4, "c": 32, "infer": ["c"]},
            {"kind": "maxpool1d", "k": 3, "stride": 2, "padding": 1, "ceil_mode": True},
            {"kind": "conv1d", "in": 32, "out": 32, "k": 3, "groups": 4, "bias": False, "stride": 2},
            {"kind": "avgpool1d", "k": 3, "stride": 2, "ceil_mode": True},
            {"kind": "batchnorm1d", "c": 32, "affine": False, "infer": ["c"]},
            {"kind": "adaptiveavgpool1d", "out": 4}, {"kind": "flatten"}, {"kind": "dropout"},
            {"kind": "dense", "in": 128, "out": 10, "bias": False, "infer": ["in"]}]


def sequence_net():
    return [{"kind": "embedding", "n": 100, "d": 32},
            {"kind": "attention", "d": 32, "heads": 4, "infer": ["d"], "alias": True},
            {"kind": "layernorm", "d": 32, "bias": False, "infer": ["d"]},
            {"kind": "lstm", "in": 32, "hidden": 16, "layers": 2, "bidirectional": True, "proj_size": 8,
             "infer": ["in"]},
            {"kind": "rmsnorm", "d": 16, "infer": ["d"]}, {"kind": "gru", "in": 16, "hidden": 8, "infer": ["in"]},
            {"kind": "dense", "in": 8, "out": 5, "alias": True, "frozen": True},
            {"kind": "attention", "d": 5, "heads": 1, "kdim": 3, "vdim": 7, "add_bias_kv": True}]


def frozen_of(spec_list, modules):
    for s, m in zip(spec_list, modules):
        if s.get("frozen"):
            for p in m.parameters():
                p.requires_grad_(False)


SPEC_MODELS = [
    # id, input shape, spec, input is indices
    ("lenet5", (1, 32, 32), lenet5(), False),
    ("alexnet", (3, 224, 224), alexnet_spec(), False),
    ("alexnet-conv1-224", (3, 224, 224), [{"kind": "conv2d", "in": 3, "out": 96, "k": 11, "stride": 4,
                                           "alias": True}], False),
    ("resnet-stem-block", (3, 224, 224), resnet_stem_block(), False),
    ("unet-decoder", (64, 8, 8), unet_decoder(), False),
    ("conv3d", (2, 8, 8, 8), conv3d_net(), False),
    ("conv1d-pools-norms", (16, 100), one_d_net(), False),
    ("sequence", (20,), sequence_net(), True),
]


def _case(cid, args, expected):
    return {"id": cid, "args": args, "expected": expected, "rtol": 0}


def _spec_cases() -> list[dict]:
    out = []
    for cid, shape, spec, indices in SPEC_MODELS:
        torch.manual_seed(0)
        mods = [build(s) for s in spec]
        frozen_of(spec, mods)
        chain = Chain(mods)
        got = measure(chain, shape, indices)
        args = ["--input", "x".join(map(str, shape))]
        for s in spec:
            args += ["--layer", layer_arg(s)]
        out.append(_case(f"shapes-{cid}", args, got))
    return out


def _torch_cases() -> list[dict]:
    models = [
        ("lenet5", (1, 32, 32), nn.Sequential(*[build(s) for s in lenet5()]), True),
        ("alexnet", (3, 224, 224), AlexNet(), True),
        ("vgg16", (3, 224, 224), vgg16_modules(), True),
        ("resnet-stem-blocks", (3, 224, 224), Stem(), True),
        ("unet-decoder", (64, 8, 8), nn.Sequential(*[build(s) for s in unet_decoder()]), True),
        ("conv3d", (2, 8, 8, 8), nn.Sequential(*[build(s) for s in conv3d_net()]), True),
        ("conv1d-pools-norms", (16, 100), nn.Sequential(*[build(s) for s in one_d_net()]), True),
        ("resnet18", (3, 224, 224), ResNet(BasicBlock, (2, 2, 2, 2)), False),
        ("resnet152", (3, 224, 224), ResNet(Bottleneck, (3, 8, 36, 3)), False),
    ]
    out = []
    for cid, shape, model, per_layer in models:
        got = measure(model, shape)
        if not per_layer:
            del got["layers"]
        out.append(_case(f"torch-{cid}", ["--from-torch", str(model), "--input", "x".join(map(str, shape))], got))
    return out


def _extra_cases() -> list[dict]:
    vgg = measure(vgg16_modules(), (3, 224, 224))
    del vgg["layers"]
    r152 = ResNet(Bottleneck, (3, 8, 36, 3))
    params = [m for _, m in leaves(r152) if list(m.parameters())]
    assert len(params) == 311
    r152_exp = {"total": sum(p.numel() for p in r152.parameters()),
                "non_learnable": sum(b.numel() for n, b in r152.named_buffers()
                                     if n.split(".")[-1] in ("running_mean", "running_var")),
                "layers": [{"total": sum(p.numel() for p in m.parameters())} for m in params]}
    return [_case("shapes-vgg16-repeat", ["--input", "3x224x224", *vgg16_args()], vgg),
            _case("resnet152-311-layers", resnet152_args(), r152_exp)]


def _window_specs(n_cases: int = 40) -> list[tuple[tuple[int, ...], dict]]:
    """Single convolution / pooling layers with drawn kernel, stride, padding, dilation and
    ceil_mode (fixed seed), on inputs of drawn sizes; only those torch accepts are kept."""
    import random

    rng = random.Random(18)
    out = []
    while len(out) < n_cases:
        kind = rng.choice(["conv2d", "maxpool2d", "avgpool2d", "convtranspose2d", "maxpool1d", "conv1d"])
        dims = int(kind[-2])
        k = tuple(rng.randint(1, 5) for _ in range(dims))
        spec = {"kind": kind, "k": k if dims > 1 else k[0], "stride": rng.randint(1, 3)}
        if rng.random() < 0.6:
            spec["padding"] = min(rng.randint(0, 2), min(k) // 2)
        if kind.startswith("conv"):
            spec.update({"in": 2, "out": 3})
            if rng.random() < 0.3:
                spec["dilation"] = 2
            if kind.startswith("convtranspose") and rng.random() < 0.5:
                spec["output_padding"] = rng.randint(0, spec["stride"] - 1)
        elif kind.startswith("maxpool") and rng.random() < 0.3:
            spec["dilation"] = 2
        if "pool" in kind and rng.random() < 0.5:
            spec["ceil_mode"] = True
        shape = (2,) + tuple(rng.randint(3, 12) for _ in range(dims))
        try:
            m = build(spec)
            with torch.no_grad():
                if min(m(torch.zeros(1, *shape)).shape) < 1:
                    continue
        except RuntimeError:
            continue
        out.append((shape, spec))
    return out


def _window_cases() -> list[dict]:
    out = []
    for i, (shape, spec) in enumerate(_window_specs()):
        got = measure(nn.Sequential(build(spec)), shape)
        args = ["--input", "x".join(map(str, shape)), "--layer", layer_arg(spec)]
        out.append(_case(f"window-{i:02d}-{spec['kind']}", args,
                         {k: got[k] for k in ("total", "output_shape", "macs")}))
    return out


def cases() -> list[dict]:
    torch.set_default_dtype(torch.float64)
    return _spec_cases() + _extra_cases() + _torch_cases() + _window_cases()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gen_torch

    gen_torch.write("param-count", gen_torch.gen_param_count())
