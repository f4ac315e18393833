"""Independent PyTorch (float64) oracle for dlcalc's golden fixtures.

Writes tests/golden/{param-count,sigmoid-step,adam-step,bn-forward}.json (bn-forward's
--convention keras cases take Keras's moving-statistics update, written out by hand in
keras_moving: TensorFlow is not installed).
Every case is a plain dict of inputs; both the CLI argument list and the torch
computation are derived from that dict, and every expected value is computed
by torch. Nothing of dlcalc is imported or parsed.

Run from the repository root with a venv that has torch==2.13.0:
    /tmp/oracle-venv/bin/python tests/oracle/gen_torch.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)  # parameter values are overwritten or irrelevant; keep runs identical

DT = torch.float64
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_torch.py"
ORACLE = f"torch {torch.__version__.split('+')[0]}, float64"
RTOL = 1e-12


# ---------------------------------------------------------------- helpers

def fmt(v) -> str:
    """A value as a user types it on the command line."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, tuple):  # kernel size 3x5
        return "x".join(str(p) for p in v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    raise TypeError(f"cannot format {v!r}")


def tensor(v) -> torch.Tensor:
    return torch.tensor(v, dtype=DT)


def py(t):
    """Tensor -> float or nested list of floats."""
    if isinstance(t, torch.Tensor):
        return t.detach().tolist()
    return t


def dumps(obj, indent: int = 0) -> str:
    """JSON with indent 1, but lists of numbers/strings (and matrices) on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    flat = isinstance(obj, list) and all(
        not isinstance(x, (dict, list)) or
        (isinstance(x, list) and all(not isinstance(y, (dict, list)) for y in x)) for x in obj)
    if not isinstance(obj, (dict, list)) or flat or not obj:
        return json.dumps(obj)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps(x, indent + 1) for x in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def write(command: str, cases: list[dict]) -> None:
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), f"duplicate ids in {command}"
    doc = {"command": command, "oracle": ORACLE, "generator": GENERATOR, "cases": cases}
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / f"{command}.json"
    text = dumps(doc)
    assert json.loads(text) == doc
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


def case(cid: str, args: list[str], expected: dict, rtol: float = RTOL) -> dict:
    assert all(isinstance(a, str) for a in args)
    return {"id": cid, "args": args, "expected": expected, "rtol": rtol}


# ---------------------------------------------------------------- param-count
# MLP layer sizes are positional; each typed layer is a spec dict that becomes
# one `--layer "KIND key=value ..."`. Only the keys written in a spec are passed
# on the command line; defaults are those of the issue (= PyTorch's).

PARAM_CASES = [
    {"id": "mlp-784-256-10", "sizes": [784, 256, 10]},
    {"id": "mlp-10-10-10-10-1", "sizes": [10, 10, 10, 10, 1]},
    {"id": "mlp-no-bias", "sizes": [784, 256, 10], "no_bias": True},
    {"id": "dense", "layers": [{"kind": "dense", "in": 5, "out": 3}]},
    {"id": "dense-bias-false", "layers": [{"kind": "dense", "in": 5, "out": 3, "bias": False}]},
    {"id": "conv1d-k5", "layers": [{"kind": "conv1d", "in": 4, "out": 8, "k": 5}]},
    {"id": "conv1d-groups-4", "layers": [{"kind": "conv1d", "in": 8, "out": 12, "k": 3, "groups": 4}]},
    {"id": "conv2d-k3", "layers": [{"kind": "conv2d", "in": 3, "out": 16, "k": 3}]},
    {"id": "conv2d-3x5-groups2-nobias",
     "layers": [{"kind": "conv2d", "in": 4, "out": 8, "k": (3, 5), "groups": 2, "bias": False}]},
    {"id": "conv2d-depthwise",
     "layers": [{"kind": "conv2d", "in": 32, "out": 32, "k": 3, "groups": 32, "bias": True}]},
    {"id": "bn-c16", "layers": [{"kind": "bn", "c": 16}]},
    {"id": "layernorm-d64", "layers": [{"kind": "layernorm", "d": 64}]},
    {"id": "embedding-1000x32", "layers": [{"kind": "embedding", "n": 1000, "d": 32}]},
    {"id": "rnn-default", "layers": [{"kind": "rnn", "in": 10, "hidden": 20}]},
    {"id": "rnn-bias-false", "layers": [{"kind": "rnn", "in": 10, "hidden": 20, "bias": False}]},
    {"id": "rnn-3-layers", "layers": [{"kind": "rnn", "in": 6, "hidden": 4, "layers": 3}]},
    {"id": "lstm-default", "layers": [{"kind": "lstm", "in": 10, "hidden": 20}]},
    {"id": "lstm-2-layers-bidirectional",
     "layers": [{"kind": "lstm", "in": 10, "hidden": 20, "layers": 2, "bidirectional": True}]},
    {"id": "lstm-bias-false", "layers": [{"kind": "lstm", "in": 3, "hidden": 5, "bias": False}]},
    {"id": "gru-default", "layers": [{"kind": "gru", "in": 8, "hidden": 16}]},
    {"id": "gru-2-layers", "layers": [{"kind": "gru", "in": 8, "hidden": 16, "layers": 2}]},
    {"id": "gru-bidirectional-bias-false",
     "layers": [{"kind": "gru", "in": 8, "hidden": 16, "bidirectional": True, "bias": False}]},
    {"id": "rnn-3-layers-bidirectional",
     "layers": [{"kind": "rnn", "in": 7, "hidden": 5, "layers": 3, "bidirectional": True}]},
    {"id": "attention-d16-h4", "layers": [{"kind": "attention", "d": 16, "heads": 4}]},
    {"id": "attention-d16-h4-bias-false",
     "layers": [{"kind": "attention", "d": 16, "heads": 4, "bias": False}]},
    {"id": "attention-d32-default-heads", "layers": [{"kind": "attention", "d": 32}]},
    {"id": "mlp-plus-layers", "sizes": [784, 256],
     "layers": [{"kind": "bn", "c": 256}, {"kind": "dense", "in": 256, "out": 10}]},
    {"id": "cnn-stack",
     "layers": [{"kind": "conv2d", "in": 1, "out": 8, "k": 3},
                {"kind": "bn", "c": 8},
                {"kind": "conv2d", "in": 8, "out": 16, "k": (3, 5), "groups": 2},
                {"kind": "bn", "c": 16},
                {"kind": "layernorm", "d": 32},
                {"kind": "dense", "in": 32, "out": 10, "bias": False}]},
    {"id": "transformer-ish",
     "layers": [{"kind": "embedding", "n": 100, "d": 16},
                {"kind": "attention", "d": 16, "heads": 2},
                {"kind": "layernorm", "d": 16},
                {"kind": "dense", "in": 16, "out": 64},
                {"kind": "dense", "in": 64, "out": 16},
                {"kind": "lstm", "in": 16, "hidden": 8, "layers": 2, "bidirectional": True, "bias": False},
                {"kind": "gru", "in": 16, "hidden": 4}]},
]


def build_layer(spec: dict) -> nn.Module:
    kind = spec["kind"]
    bias = spec.get("bias", True)
    if kind == "dense":
        return nn.Linear(spec["in"], spec["out"], bias=bias)
    if kind in ("conv1d", "conv2d"):
        cls = nn.Conv1d if kind == "conv1d" else nn.Conv2d
        return cls(spec["in"], spec["out"], kernel_size=spec["k"],
                   groups=spec.get("groups", 1), bias=bias)
    if kind == "bn":
        return nn.BatchNorm1d(spec["c"])
    if kind == "layernorm":
        return nn.LayerNorm(spec["d"])
    if kind == "embedding":
        return nn.Embedding(spec["n"], spec["d"])
    if kind in ("rnn", "lstm", "gru"):
        cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        return cls(input_size=spec["in"], hidden_size=spec["hidden"],
                   num_layers=spec.get("layers", 1),
                   bidirectional=spec.get("bidirectional", False), bias=bias)
    if kind == "attention":
        return nn.MultiheadAttention(spec["d"], spec.get("heads", 1), bias=bias)
    raise ValueError(kind)


def count(module: nn.Module) -> tuple[dict, int]:
    weights = biases = 0
    for name, p in module.named_parameters():
        if "bias" in name:
            biases += p.numel()
        else:
            weights += p.numel()
    assert weights + biases == sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for name, b in module.named_buffers()
                  if name.split(".")[-1] in ("running_mean", "running_var"))
    return {"weights": weights, "biases": biases, "total": weights + biases}, buffers


def layer_arg(spec: dict) -> str:
    return " ".join([spec["kind"]] + [f"{k}={fmt(v)}" for k, v in spec.items() if k != "kind"])


def gen_param_count() -> list[dict]:
    out = []
    for c in PARAM_CASES:
        sizes = c.get("sizes", [])
        bias = not c.get("no_bias", False)
        modules = [nn.Linear(a, b, bias=bias) for a, b in zip(sizes, sizes[1:])]
        modules += [build_layer(s) for s in c.get("layers", [])]
        layers, non_learnable = [], 0
        for m in modules:
            row, buf = count(m)
            layers.append(row)
            non_learnable += buf
        total = sum(p.numel() for m in modules for p in m.parameters())
        args = [str(s) for s in sizes]
        if c.get("no_bias"):
            args.append("--no-bias")
        for s in c.get("layers", []):
            args += ["--layer", layer_arg(s)]
        out.append(case(c["id"], args, {"total": total, "non_learnable": non_learnable,
                                        "layers": layers}, rtol=0))
    import sys  # whole networks with --input and --from-torch: tests/oracle/gen_param_shapes.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import gen_param_shapes

    return out + gen_param_shapes.cases()


# ---------------------------------------------------------------- sigmoid-step
# Keys left out of a case dict are not passed (the CLI defaults apply:
# w=1, b=1, lam=0.1, lr=0.1, loss mse, c=1/2, steps 1).

SIGMOID_DEFAULTS = {"w": 1, "b": 1, "lam": 0.1, "lr": 0.1, "loss": "mse",
                    "no_half": False, "reg_bias": False, "steps": 1}

SIGMOID_CASES = [
    {"id": "classic-x1-t0", "x": 1, "t": 0},
    {"id": "classic-steps-3", "x": 1, "t": 0, "steps": 3},
    {"id": "no-half", "x": 1, "t": 0, "no_half": True},
    {"id": "reg-bias", "x": 1, "t": 0, "reg_bias": True},
    {"id": "lam-lr-nondefault", "x": -1.5, "t": 1, "w": 2, "b": -0.5, "lam": 0.5, "lr": 2},
    {"id": "lam-zero", "x": 2, "t": 1, "w": 0.5, "b": 0.25, "lam": 0},
    {"id": "vector", "x": [1, 2], "t": 1, "w": [0.5, -0.5], "b": 0},
    {"id": "vector-3-features", "x": [0.5, -1, 2], "t": 0, "w": [1, 0.25, -0.5], "b": 0.1,
     "lam": 0.2, "lr": 0.5},
    {"id": "batch-3", "x": [[1, 2], [0.5, -1], [2, 0]], "t": [0, 1, 1], "w": [0.5, -1], "b": 0.5},
    {"id": "batch-3-steps-4", "x": [[1, 2], [0.5, -1], [2, 0]], "t": [0, 1, 1], "w": [0.5, -1],
     "b": 0.5, "steps": 4, "lr": 0.5},
    {"id": "bce-scalar", "x": 2, "t": 1, "w": 0.5, "b": -1, "loss": "bce"},
    {"id": "bce-batch", "x": [[1, 2], [0.5, -1], [2, 0]], "t": [0, 1, 1], "w": [0.5, -1],
     "b": 0.5, "loss": "bce"},
    {"id": "bce-soft-target", "x": 1.5, "t": 0.25, "loss": "bce", "steps": 2},
    {"id": "bce-no-half-reg-bias-steps-5", "x": [[1, -1], [-0.5, 2]], "t": [1, 0],
     "w": [0.25, 0.75], "b": -0.5, "loss": "bce", "no_half": True, "reg_bias": True,
     "steps": 5, "lam": 0.01, "lr": 0.5},
    {"id": "mse-no-half-reg-bias-steps-3", "x": [1, 2], "t": 0, "w": [1, 1], "b": 1,
     "no_half": True, "reg_bias": True, "steps": 3, "lam": 0.2, "lr": 0.3},
]


def sigmoid_run(p: dict) -> dict:
    vector = isinstance(p["w"], list)
    X = tensor(p["x"])
    if vector and X.dim() == 1:
        X = X.unsqueeze(0)          # one example with d features
    if not vector:
        X = X.reshape(-1)           # T scalar examples
    T = X.shape[0]
    tt = tensor(p["t"]).reshape(T)
    w = tensor(p["w"]).requires_grad_(True)
    b = tensor(p["b"]).requires_grad_(True)
    c = 1.0 if p["no_half"] else 0.5
    lam, lr = float(p["lam"]), float(p["lr"])
    history = []
    for _ in range(p["steps"]):
        z = (X @ w if vector else X * w) + b
        y = torch.sigmoid(z)
        if p["loss"] == "mse":
            data = (c / T) * ((y - tt) ** 2).sum()
        else:  # log y = logsigmoid(z), log(1-y) = logsigmoid(-z), accurate in float64
            data = -(tt * F.logsigmoid(z) + (1 - tt) * F.logsigmoid(-z)).sum() / T
        penalty = (w * w).sum() + (b * b if p["reg_bias"] else 0.0)
        loss = data + (c * lam / T) * penalty
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
        history.append({"loss": py(loss), "grad_w": py(gw), "grad_b": py(gb),
                        "w": py(w), "b": py(b)})
    first = history[0]
    return {"w": py(w), "b": py(b), "loss": first["loss"], "grad_w": first["grad_w"],
            "grad_b": first["grad_b"], "history": history}


def gen_sigmoid_step() -> list[dict]:
    out = []
    for c in SIGMOID_CASES:
        p = {**SIGMOID_DEFAULTS, **c}
        args = ["--x", fmt(c["x"]), "--t", fmt(c["t"])]
        for key, opt in (("w", "--w"), ("b", "--b"), ("lam", "--lam"), ("lr", "--lr"),
                         ("loss", "--loss"), ("steps", "--steps")):
            if key in c:
                args += [opt, fmt(c[key])]
        if c.get("no_half"):
            args.append("--no-half")
        if c.get("reg_bias"):
            args.append("--reg-bias")
        out.append(case(c["id"], args, sigmoid_run(p)))
    return out


# ---------------------------------------------------------------- adam-step
# Gradients either given per step ("grads") or from a loss expression ("loss",
# "steps"), which this trusted generator evaluates on torch tensors.

ADAM_DEFAULTS = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                 "weight_decay": 0, "decoupled": False, "amsgrad": False, "maximize": False}

ADAM_CASES = [
    {"id": "one-step-grad-0.5", "theta": 1, "grads": [0.5], "lr": 0.1},
    {"id": "scalar-3-grads", "theta": 1, "grads": [0.5, 0.3, -0.2], "lr": 0.1},
    {"id": "scalar-default-lr", "theta": 0.5, "grads": [2, 1]},
    {"id": "vector-2-grads", "theta": [1, -2], "grads": [[0.5, -1], [0.25, 2]], "lr": 0.01},
    {"id": "vector-3-components", "theta": [0, 1, -1], "grads": [[1, -0.5, 0.25], [0.5, 0.5, -2],
                                                                 [-1, 0.1, 3]], "lr": 0.05},
    {"id": "loss-scalar-5-steps", "theta": 1, "loss": "theta**2 + 3*theta", "steps": 5, "lr": 0.1},
    {"id": "loss-2d-4-steps", "theta": [1, 1], "loss": "theta1**2 + 10*theta2**2", "steps": 4,
     "lr": 0.1},
    {"id": "loss-with-functions", "theta": [0.5, -0.5], "loss": "exp(theta1) + theta1*theta2 + sin(theta2)",
     "steps": 3, "lr": 0.05},
    {"id": "adam-l2-weight-decay", "theta": 2, "grads": [0.5, 0.5, 0.5], "lr": 0.1,
     "weight_decay": 0.1},
    {"id": "adamw-decoupled", "theta": 2, "grads": [0.5, 0.5, 0.5], "lr": 0.1,
     "weight_decay": 0.1, "decoupled": True},
    {"id": "adamw-vector-loss", "theta": [1, -1], "loss": "theta1**2 + theta1*theta2 + 2*theta2**2",
     "steps": 3, "lr": 0.1, "weight_decay": 0.5, "decoupled": True},
    {"id": "amsgrad-shrinking-grads", "theta": 1, "grads": [1, 0.1, 0.01, 0.5], "lr": 0.1,
     "amsgrad": True},
    {"id": "amsgrad-vector", "theta": [1, 2], "grads": [[2, 0.1], [0.1, 1], [0.5, 0.01]],
     "lr": 0.1, "amsgrad": True, "beta2": 0.9},
    {"id": "maximize", "theta": 1, "grads": [0.5, -0.25], "lr": 0.1, "maximize": True},
    {"id": "maximize-l2-weight-decay", "theta": 1, "grads": [0.5, -0.25, 1], "lr": 0.1,
     "maximize": True, "weight_decay": 0.2},
    {"id": "maximize-adamw-amsgrad-loss", "theta": [0.5, -1],
     "loss": "theta1*theta2 - theta1**2 - 2*theta2**2", "steps": 4, "lr": 0.1,
     "maximize": True, "amsgrad": True, "weight_decay": 0.01, "decoupled": True},
    {"id": "betas-eps-nondefault", "theta": 1, "grads": [0.5, -1, 2], "lr": 0.5,
     "beta1": 0.5, "beta2": 0.75, "eps": 0.1},
    {"id": "beta1-zero", "theta": -1, "grads": [2, 1], "lr": 0.1, "beta1": 0, "beta2": 0.5,
     "eps": 0.001},
    {"id": "loss-2d-1000-steps", "theta": [-2, 2], "loss": "(theta1-1)**2 + (theta2+2)**2",
     "steps": 1000, "rtol": 1e-9, "final_only": True},
]

LOSS_FUNCS = {"sqrt": torch.sqrt, "exp": torch.exp, "log": torch.log, "sin": torch.sin,
              "cos": torch.cos, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "abs": torch.abs}


def eval_loss(expr: str, theta: torch.Tensor) -> torch.Tensor:
    # Trusted, generator-authored expression strings only (never user input).
    names = dict(LOSS_FUNCS)
    if theta.dim() == 0:
        names["theta"] = theta
    else:
        for i in range(theta.shape[0]):
            names[f"theta{i + 1}"] = theta[i]
    return eval(expr, {"__builtins__": {}}, names)  # noqa: S307


def adam_run(p: dict) -> dict:
    theta = tensor(p["theta"]).requires_grad_(True)
    b1, b2 = float(p["beta1"]), float(p["beta2"])
    wd = float(p["weight_decay"])
    cls = torch.optim.AdamW if p["decoupled"] else torch.optim.Adam
    opt = cls([theta], lr=float(p["lr"]), betas=(b1, b2), eps=float(p["eps"]),
              weight_decay=wd, amsgrad=p["amsgrad"], maximize=p["maximize"], foreach=False)
    steps = len(p["grads"]) if "grads" in p else p["steps"]
    history = []
    for t in range(1, steps + 1):
        opt.zero_grad()
        if "grads" in p:
            theta.grad = tensor(p["grads"][t - 1])
        else:
            eval_loss(p["loss"], theta).backward()
        # g_t as it enters the moments: negated with maximize, plus L2 decay for plain Adam
        g = theta.grad.detach().clone()
        if p["maximize"]:
            g = -g
        if wd and not p["decoupled"]:
            g = g + wd * theta.detach()
        opt.step()
        st = opt.state[theta]
        assert int(st["step"]) == t
        m, v = st["exp_avg"], st["exp_avg_sq"]
        v_used = st["max_exp_avg_sq"] if p["amsgrad"] else v
        m_hat = m / (1 - b1 ** t)
        v_hat = v_used / (1 - b2 ** t)
        history.append({"t": t, "g": py(g), "m": py(m), "v": py(v), "m_hat": py(m_hat),
                        "v_hat": py(v_hat), "theta": py(theta)})
    last = history[-1]
    expected = {k: last[k] for k in ("theta", "m", "v", "m_hat", "v_hat")}
    if not p.get("final_only"):
        expected["history"] = history
    return expected


def gen_adam_step() -> list[dict]:
    out = []
    for c in ADAM_CASES:
        p = {**ADAM_DEFAULTS, **c}
        args = ["--theta", fmt(c["theta"])]
        if "grads" in c:
            for g in c["grads"]:
                args += ["--grad", fmt(g)]
        else:
            args += ["--loss", c["loss"], "--steps", str(c["steps"])]
        for key, opt in (("lr", "--lr"), ("beta1", "--beta1"), ("beta2", "--beta2"),
                         ("eps", "--eps"), ("weight_decay", "--weight-decay")):
            if key in c:
                args += [opt, fmt(c[key])]
        for key, flag in (("decoupled", "--decoupled"), ("amsgrad", "--amsgrad"),
                          ("maximize", "--maximize")):
            if c.get(key):
                args.append(flag)
        out.append(case(c["id"], args, adam_run(p), rtol=c.get("rtol", RTOL)))
    return out


# ---------------------------------------------------------------- bn-forward
# "values": one feature, given positionally; "x": an m x C matrix via --x.
# Positional values are kept non-negative: "-1" as a positional would be read as
# an option by the CLI parser (a user would need "--", which would swallow --json).
# eps = 0 is allowed by dlcalc but refused by torch in training mode, so not here.

BN_DEFAULTS = {"gamma": 1, "beta": 0, "eps": 1e-5, "momentum": 0.1,
               "running_mean": 0, "running_var": 1, "eval": False, "convention": "torch"}
#: --convention keras: keras.layers.BatchNormalization's defaults
KERAS_DEFAULTS = {**BN_DEFAULTS, "eps": 1e-3, "momentum": 0.99, "convention": "keras"}


def _grid(m: int, C: int) -> list[list[float]]:
    """A deterministic m x C batch of quarter-integers (exact in binary and in decimal)."""
    return [[((i * 7 + j * 3) % 11) / 4 - 1 for j in range(C)] for i in range(m)]

BN_CASES = [
    {"id": "single-1-2-3-4", "values": [1, 2, 3, 4]},
    {"id": "single-gamma-beta", "values": [2, 4, 4, 5, 7], "gamma": 2, "beta": -0.5},
    {"id": "single-eps-momentum-running",
     "values": [0.5, 1, 2, 3.5], "eps": 0.001, "momentum": 0.2,
     "running_mean": 0.5, "running_var": 2},
    {"id": "matrix-4x3-gamma-beta-per-feature",
     "x": [[1, 2, -1], [3, 0.5, 0], [-2, 1, 4], [0, 3, 2.5]],
     "gamma": [1, 2, 0.5], "beta": [0, -1, 0.5]},
    {"id": "matrix-4x3-scalar-gamma", "x": [[1, 2, -1], [3, 0.5, 0], [-2, 1, 4], [0, 3, 2.5]],
     "gamma": 1.5, "beta": 0.25},
    {"id": "matrix-eps-momentum-running",
     "x": [[0.5, 10], [1.5, 12], [-1, 9], [2, 14], [1, 11]],
     "eps": 0.01, "momentum": 0.25, "running_mean": [0.25, 10], "running_var": [0.5, 4],
     "gamma": [2, 0.5], "beta": [1, -2]},
    {"id": "eval-single", "values": [1, 2, 3, 4], "eval": True, "running_mean": 1.5,
     "running_var": 4, "gamma": 2, "beta": 1},
    {"id": "eval-matrix", "x": [[1, 2], [3, -1], [0.5, 4]], "eval": True,
     "running_mean": [0.5, 1], "running_var": [2, 0.25], "gamma": [1, 3], "beta": [0.5, 0],
     "eps": 0.001},
    {"id": "eval-defaults", "values": [0.5, 1.5, 2.25], "eval": True},
    {"id": "backward-single", "values": [1, 2, 3, 4], "grad_out": [0.1, -0.2, 0.3, 0.5]},
    {"id": "backward-single-gamma-eps", "values": [1, 2, 3, 4], "gamma": 2, "beta": 1, "eps": 0.25,
     "grad_out": [1, 0.5, -1, 2]},
    {"id": "backward-matrix",
     "x": [[1, 2], [3, -1], [0.5, 4], [2, 0]], "gamma": [1.5, -0.5], "beta": [0, 1],
     "grad_out": [[0.1, 1], [-0.2, 0.5], [0.3, -1], [1, 2]]},
    {"id": "backward-matrix-all-options",
     "x": [[1, 2, 3], [4, 5, 7], [-1, 0.5, 2]], "gamma": [1, 2, 3], "beta": [0.5, 0, -0.5],
     "eps": 0.1, "momentum": 0.5, "running_mean": [1, 2, 3], "running_var": [1, 2, 0.5],
     "grad_out": [[1, 0, 2], [-1, 3, 0.5], [0.5, 1, -2]]},
    {"id": "convention-torch-given", "values": [1, 2, 3, 4], "convention": "torch"},
    {"id": "numeric-20x4", "x": _grid(20, 4), "momentum": 0.3, "running_var": [1, 2, 0.5, 4],
     "gamma": [1, -2, 0.5, 3], "beta": 0.25},
    {"id": "numeric-20x4-backward-eval", "x": _grid(20, 4), "eval": True, "running_mean": [0.5, 0, -0.5, 1],
     "running_var": [1, 2, 0.5, 4], "grad_out": _grid(20, 4)[::-1]},
    # --convention keras: Keras's moving-statistics update, written out by hand (keras_moving)
    {"id": "keras-1-2-3-4", "values": [1, 2, 3, 4], "convention": "keras"},
    {"id": "keras-gamma-beta-running", "values": [2, 4, 4, 5, 7], "gamma": 2, "beta": -0.5, "momentum": 0.9,
     "running_mean": 0.5, "running_var": 2, "convention": "keras"},
    {"id": "keras-eps-momentum-given", "values": [0.5, 1, 2, 3.5], "eps": 1e-5, "momentum": 0.8,
     "convention": "keras"},
    {"id": "keras-matrix", "x": [[1, 2, -1], [3, 0.5, 0], [-2, 1, 4], [0, 3, 2.5]], "gamma": [1, 2, 0.5],
     "beta": [0, -1, 0.5], "eps": 0.01, "running_mean": [0.1, 0.2, 0.3], "running_var": [2, 1, 0.5],
     "convention": "keras"},
    {"id": "keras-eval", "values": [1, 2, 3, 4], "eval": True, "running_mean": 1.5, "running_var": 4, "gamma": 2,
     "beta": 1, "convention": "keras"},
    {"id": "keras-backward-matrix", "x": [[1, 2], [3, -1], [0.5, 4], [2, 0]], "gamma": [1.5, -0.5], "beta": [0, 1],
     "grad_out": [[0.1, 1], [-0.2, 0.5], [0.3, -1], [1, 2]], "convention": "keras"},
    {"id": "keras-numeric-20x4", "x": _grid(20, 4), "running_mean": [0.5, 0, -0.5, 1], "grad_out": _grid(20, 4)[::-1],
     "convention": "keras"},
]


def keras_moving(X: torch.Tensor, rm0: torch.Tensor, rv0: torch.Tensor, momentum: float):
    """Keras's update rule (keras.layers.BatchNormalization in training), written out here
    because TensorFlow is not installed: moving = momentum·moving + (1 − momentum)·batch
    statistic, where the batch variance is the biased one (keras.ops.moments)."""
    mean, var = X.mean(0), X.var(0, unbiased=False)
    return momentum * rm0 + (1 - momentum) * mean, momentum * rv0 + (1 - momentum) * var


def bn_run(p: dict) -> dict:
    single = "values" in p
    X = tensor(p["values"]).reshape(-1, 1) if single else tensor(p["x"])
    C = X.shape[1]

    def per_feature(v):
        t = tensor(v)
        return t.expand(C).clone() if t.dim() == 0 else t

    eps, momentum = float(p["eps"]), float(p["momentum"])
    bn = nn.BatchNorm1d(C, eps=eps, momentum=momentum, dtype=DT)
    with torch.no_grad():
        bn.weight.copy_(per_feature(p["gamma"]))
        bn.bias.copy_(per_feature(p["beta"]))
        bn.running_mean.copy_(per_feature(p["running_mean"]))
        bn.running_var.copy_(per_feature(p["running_var"]))
    rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
    if p["eval"]:
        bn.eval()
    else:
        bn.train()
    Xg = X.clone().requires_grad_(True)
    y = bn(Xg)

    shape = (lambda t: py(t.reshape(-1))) if single else py
    exp = {}
    if p["eval"]:
        x_hat = F.batch_norm(X, rm0, rv0, training=False, eps=eps)
    else:
        exp["mean"] = py(X.mean(0))
        exp["var"] = py(X.var(0, unbiased=False))
        x_hat = F.batch_norm(X, None, None, training=True, eps=eps)
    exp["x_hat"] = shape(x_hat)
    exp["y"] = shape(y)
    if p["convention"] == "keras" and not p["eval"]:
        # the forward pass and its gradients are the same; only the moving statistics differ
        rm, rv = keras_moving(X, rm0, rv0, momentum)
        exp["running_mean"], exp["running_var"] = py(rm), py(rv)
    else:
        exp["running_mean"] = py(bn.running_mean)
        exp["running_var"] = py(bn.running_var)
    if "grad_out" in p:
        G = tensor(p["grad_out"]).reshape(X.shape)
        y.backward(G)
        exp["grad_x"] = shape(Xg.grad)
        exp["grad_gamma"] = py(bn.weight.grad)
        exp["grad_beta"] = py(bn.bias.grad)
    return exp


def gen_bn_forward() -> list[dict]:
    out = []
    for c in BN_CASES:
        p = {**(KERAS_DEFAULTS if c.get("convention") == "keras" else BN_DEFAULTS), **c}
        args = [fmt(v) for v in c["values"]] if "values" in c else ["--x", fmt(c["x"])]
        for key, opt in (("gamma", "--gamma"), ("beta", "--beta"), ("eps", "--eps"),
                         ("momentum", "--momentum"), ("running_mean", "--running-mean"),
                         ("running_var", "--running-var"), ("grad_out", "--grad-out"),
                         ("convention", "--convention")):
            if key in c:
                args += [opt, fmt(c[key])]
        if c.get("eval"):
            args.append("--eval")
        out.append(case(c["id"], args, bn_run(p)))
    fresh = next(o for o in out if o["id"] == "keras-1-2-3-4")["expected"]
    # from a fresh layer: 0.99·1 + 0.01·1.25 and 0.01·2.5
    assert abs(fresh["running_var"][0] - 1.0025) < 1e-15 and abs(fresh["running_mean"][0] - 0.025) < 1e-15
    return out


# ---------------------------------------------------------------- main

def main() -> None:
    assert ORACLE == "torch 2.13.0, float64", f"expected torch 2.13.0, got {torch.__version__}"
    write("param-count", gen_param_count())
    write("sigmoid-step", gen_sigmoid_step())
    write("adam-step", gen_adam_step())
    write("bn-forward", gen_bn_forward())


if __name__ == "__main__":
    main()
