"""Independent oracle for dlcalc optim-step: tests/golden/optim-step.json.

Every torch case runs the real ``torch.optim`` class (float64, ``foreach=False``: the
single-tensor code) and reads the states from ``optimizer.state`` by PyTorch's names.
Variants PyTorch does not have (``--momentum-form ema``, ``--eps-inside``) are computed by
plain-float transcriptions of the textbook code they come from (Andrew Ng's momentum;
d2l.ai's ``rmsprop_2d`` / ``adagrad_2d``), and the d2l.ai chapter's printed results
("epoch 20, x1: ..., x2: ...") are checked here against those runs before they are written.
Nothing of dlcalc is imported.

Run from the repository root with a venv that has torch==2.13.0:
    /work/torchenv/bin/python tests/oracle/gen_optim.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
DT = torch.float64
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_optim.py"
ORACLE = f"torch {torch.__version__.split('+')[0]}, float64 (torch.optim, foreach=False); " \
         "plain-float textbook code for ema / eps-inside"
RTOL = 1e-9
FULL_HISTORY_MAX = 60  # longer runs keep theta and the last record only


def fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    raise TypeError(f"cannot format {v!r}")


def tensor(v) -> torch.Tensor:
    return torch.tensor(v, dtype=DT)


def py(t):
    return t.detach().tolist() if isinstance(t, torch.Tensor) else t


def dumps(obj, indent: int = 0) -> str:
    """JSON with indent 1, lists of numbers on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    flat = isinstance(obj, list) and all(not isinstance(x, (dict, list)) for x in obj)
    if not isinstance(obj, (dict, list)) or flat or not obj:
        return json.dumps(obj)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps(x, indent + 1) for x in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


LOSS_FUNCS = {"sqrt": torch.sqrt, "exp": torch.exp, "log": torch.log, "sin": torch.sin,
              "cos": torch.cos, "tanh": torch.tanh}


def eval_loss(expr: str, theta: torch.Tensor) -> torch.Tensor:
    # Trusted, generator-authored expression strings only (never user input).
    names = dict(LOSS_FUNCS)
    if theta.dim() == 0:
        names["theta"] = theta
    else:
        for i in range(theta.shape[0]):
            names[f"theta{i + 1}"] = theta[i]
    return eval(expr, {"__builtins__": {}}, names)  # noqa: S307


# ---------------------------------------------------------------- the cases
# "method" and the torch keyword arguments by PyTorch's names; every key given is also
# passed on the command line (--momentum 0.9 ...), the others are left to the defaults.

G3 = [0.5, 0.3, -0.2]
GV = [[0.5, -1.0], [0.25, 2.0], [-0.75, 0.5]]
Q2 = "0.1*theta1**2 + 2*theta2**2"  # d2l.ai's f_2d of the momentum / Adagrad / RMSProp sections

CASES = [
    # sgd
    {"id": "sgd-plain-scalar", "method": "sgd", "theta": 1, "grads": G3, "lr": 0.1},
    {"id": "sgd-default-lr", "method": "sgd", "theta": 1, "grads": G3},
    {"id": "sgd-momentum-vector", "method": "sgd", "theta": [1, -2], "grads": GV, "lr": 0.1, "momentum": 0.9},
    {"id": "sgd-momentum-dampening", "method": "sgd", "theta": 1, "grads": G3 + [0.4], "lr": 0.1,
     "momentum": 0.9, "dampening": 0.5},
    {"id": "sgd-nesterov-weight-decay", "method": "sgd", "theta": [1, -2], "grads": GV, "lr": 0.1,
     "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"id": "sgd-maximize-momentum-wd", "method": "sgd", "theta": 2, "grads": G3, "lr": 0.05,
     "momentum": 0.5, "weight_decay": 0.01, "maximize": True},
    {"id": "sgd-nesterov-loss", "method": "sgd", "theta": [1, 1], "loss": "theta1**2 + 10*theta2**2 + theta1*theta2",
     "steps": 8, "lr": 0.02, "momentum": 0.8, "nesterov": True},
    {"id": "sgd-loss-functions", "method": "sgd", "theta": 0.5, "loss": "log(1 + exp(theta)) + theta**2/2",
     "steps": 12, "lr": 0.3, "momentum": 0.5, "dampening": 0.1},
    {"id": "d2l-momentum-eta0.6-beta0.5", "method": "sgd", "theta": [-5, -2], "loss": Q2, "steps": 20,
     "lr": 0.6, "momentum": 0.5, "d2l": "epoch 20, x1: 0.007188, x2: 0.002553"},
    {"id": "d2l-momentum-eta0.6-beta0.25", "method": "sgd", "theta": [-5, -2], "loss": Q2, "steps": 20,
     "lr": 0.6, "momentum": 0.25, "d2l": "epoch 20, x1: -0.126340, x2: -0.186632"},
    {"id": "d2l-gd-eta0.4", "method": "sgd", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 0.4,
     "d2l": "epoch 20, x1: -0.943467, x2: -0.000073"},
    {"id": "d2l-gd-f-x1sq-2x2sq", "method": "sgd", "theta": [-5, -2], "loss": "theta1**2 + 2*theta2**2",
     "steps": 20, "lr": 0.1, "d2l": "epoch 20, x1: -0.057646, x2: -0.000073"},
    {"id": "sgd-momentum-1000-steps", "method": "sgd", "theta": [-2, 2], "loss": "(theta1-1)**2 + 3*(theta2+2)**2",
     "steps": 1000, "lr": 0.0005, "momentum": 0.5},
    # rmsprop
    {"id": "rmsprop-default", "method": "rmsprop", "theta": [1, -2], "grads": GV},
    {"id": "rmsprop-lr-alpha", "method": "rmsprop", "theta": 1, "grads": G3, "lr": 0.1, "alpha": 0.9},
    {"id": "rmsprop-centered", "method": "rmsprop", "theta": [1, -2], "grads": GV, "lr": 0.1, "centered": True},
    {"id": "rmsprop-momentum-centered-wd", "method": "rmsprop", "theta": [1, -2], "grads": GV, "lr": 0.05,
     "momentum": 0.9, "centered": True, "weight_decay": 0.1},
    {"id": "rmsprop-maximize-eps", "method": "rmsprop", "theta": 1, "grads": G3, "lr": 0.1, "eps": 0.01,
     "maximize": True},
    {"id": "rmsprop-loss", "method": "rmsprop", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 0.4,
     "alpha": 0.9},
    {"id": "rmsprop-momentum-loss-200", "method": "rmsprop", "theta": [1, -1],
     "loss": "theta1**2 + theta1*theta2 + 2*theta2**2", "steps": 200, "lr": 0.01, "momentum": 0.5},
    # adagrad
    {"id": "adagrad-default", "method": "adagrad", "theta": [1, -2], "grads": GV},
    {"id": "adagrad-lr-decay-init-acc", "method": "adagrad", "theta": 1, "grads": G3 + [1.0], "lr": 0.5,
     "lr_decay": 0.1, "initial_accumulator_value": 0.1},
    {"id": "adagrad-wd-maximize-eps", "method": "adagrad", "theta": [1, -2], "grads": GV, "lr": 0.1,
     "weight_decay": 0.2, "maximize": True, "eps": 0.001},
    {"id": "adagrad-loss", "method": "adagrad", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 0.4},
    # adadelta
    {"id": "adadelta-default", "method": "adadelta", "theta": [1, -2], "grads": GV},
    {"id": "adadelta-rho-eps-lr", "method": "adadelta", "theta": 1, "grads": G3, "lr": 0.5, "rho": 0.95,
     "eps": 1e-5},
    {"id": "adadelta-wd-maximize", "method": "adadelta", "theta": [1, -2], "grads": GV, "weight_decay": 0.1,
     "maximize": True},
    {"id": "adadelta-loss-1000", "method": "adadelta", "theta": [1, -1], "loss": "theta1**2 + 3*theta2**2",
     "steps": 1000, "lr": 1.0, "rho": 0.9},
    # the Adam family (adam-step's cases and more)
    {"id": "adam-default", "method": "adam", "theta": [1, -2], "grads": GV},
    {"id": "adam-lr-wd", "method": "adam", "theta": 2, "grads": G3, "lr": 0.1, "weight_decay": 0.1},
    {"id": "adam-betas-eps", "method": "adam", "theta": 1, "grads": [0.5, -1, 2], "lr": 0.5, "betas": (0.5, 0.75),
     "eps": 0.1},
    {"id": "adamw-default-weight-decay", "method": "adamw", "theta": [1, -2], "grads": GV, "lr": 0.1},
    {"id": "adamw-wd-maximize", "method": "adamw", "theta": 2, "grads": G3, "lr": 0.1, "weight_decay": 0.1,
     "maximize": True},
    {"id": "amsgrad-shrinking", "method": "amsgrad", "theta": 1, "grads": [1, 0.1, 0.01, 0.5], "lr": 0.1},
    {"id": "amsgrad-vector-beta2", "method": "amsgrad", "theta": [1, 2], "grads": [[2, 0.1], [0.1, 1], [0.5, 0.01]],
     "lr": 0.1, "betas": (0.9, 0.9)},
    {"id": "adam-loss-1000", "method": "adam", "theta": [-2, 2], "loss": "(theta1-1)**2 + (theta2+2)**2",
     "steps": 1000, "lr": 0.01},
    {"id": "adamw-loss-functions", "method": "adamw", "theta": [0.5, -0.5],
     "loss": "exp(theta1) + theta1*theta2 + sin(theta2)", "steps": 5, "lr": 0.05},
]

#: plain-float textbook runs (no torch class has them): ema momentum and eps inside the root
FORMULA_CASES = [
    {"id": "ema-momentum-scalar", "method": "sgd", "theta": 1, "grads": G3 + [0.4], "lr": 0.1, "momentum": 0.9,
     "momentum_form": "ema"},
    {"id": "ema-momentum-loss", "method": "sgd", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 0.6,
     "momentum": 0.5, "momentum_form": "ema"},
    {"id": "ema-nesterov", "method": "sgd", "theta": [1, -2], "grads": GV, "lr": 0.1, "momentum": 0.9,
     "momentum_form": "ema", "nesterov": True},
    {"id": "d2l-rmsprop-eta0.4-gamma0.9", "method": "rmsprop", "theta": [-5, -2], "loss": Q2, "steps": 20,
     "lr": 0.4, "alpha": 0.9, "eps": 1e-6, "eps_inside": True, "d2l": "epoch 20, x1: -0.010599, x2: 0.000000"},
    {"id": "d2l-adagrad-eta0.4", "method": "adagrad", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 0.4,
     "eps": 1e-6, "eps_inside": True, "d2l": "epoch 20, x1: -2.382563, x2: -0.158591"},
    {"id": "d2l-adagrad-eta2", "method": "adagrad", "theta": [-5, -2], "loss": Q2, "steps": 20, "lr": 2,
     "eps": 1e-6, "eps_inside": True, "d2l": "epoch 20, x1: -0.002295, x2: -0.000000"},
    {"id": "eps-inside-rmsprop-grads", "method": "rmsprop", "theta": 1, "grads": G3, "lr": 0.1, "eps": 0.01,
     "eps_inside": True},
    {"id": "eps-inside-adam", "method": "adam", "theta": 1, "grads": G3, "lr": 0.1, "eps": 0.01,
     "eps_inside": True},
]

TORCH = {"sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
         "adadelta": torch.optim.Adadelta, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
         "amsgrad": torch.optim.Adam}
KWARGS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "alpha", "eps", "centered",
          "lr_decay", "initial_accumulator_value", "rho", "betas")
ADAMW_DEFAULT_WD = 1e-2


def states_of(method: str, c: dict) -> list[str]:
    if method == "sgd":
        return ["momentum_buffer"] if c.get("momentum", 0) else []
    if method == "rmsprop":
        return ["square_avg"] + (["grad_avg"] if c.get("centered") else []) + (
            ["momentum_buffer"] if c.get("momentum", 0) else [])
    if method == "adagrad":
        return ["sum"]
    if method == "adadelta":
        return ["square_avg", "acc_delta"]
    return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if method == "amsgrad" else [])


def args_of(c: dict) -> list[str]:
    args = ["--method", c["method"], "--theta", fmt(c["theta"])]
    if "grads" in c:
        for g in c["grads"]:
            args += ["--grad", fmt(g)]
    else:
        args += ["--loss", c["loss"], "--steps", str(c["steps"])]
    for key in KWARGS:
        if key not in c or isinstance(c[key], bool):
            continue
        if key == "betas":
            args += ["--beta1", fmt(c[key][0]), "--beta2", fmt(c[key][1])]
        else:
            args += ["--" + key.replace("_", "-"), fmt(c[key])]
    for flag in ("nesterov", "maximize", "centered", "eps_inside"):
        if c.get(flag):
            args.append("--" + flag.replace("_", "-"))
    if "momentum_form" in c:
        args += ["--momentum-form", c["momentum_form"]]
    return args


def torch_run(c: dict) -> list[dict]:
    method = c["method"]
    theta = tensor(c["theta"]).requires_grad_(True)
    kw = {k: c[k] for k in KWARGS if k in c}
    if method == "amsgrad":
        kw["amsgrad"] = True
    opt = TORCH[method]([theta], foreach=False, **kw)
    group = opt.param_groups[0]
    wd, maximize = group["weight_decay"], group["maximize"]
    if method == "adamw":
        assert wd == c.get("weight_decay", ADAMW_DEFAULT_WD)
    steps = len(c["grads"]) if "grads" in c else c["steps"]
    history = []
    for t in range(1, steps + 1):
        opt.zero_grad()
        if "grads" in c:
            theta.grad = tensor(c["grads"][t - 1])
        else:
            eval_loss(c["loss"], theta).backward()
        g = theta.grad.detach().clone()  # as it enters the state: maximize, then L2 (not AdamW's)
        if maximize:
            g = -g
        if wd and method != "adamw":
            g = g + wd * theta.detach()
        opt.step()
        st = opt.state[theta]
        rec = {"t": t, "g": py(g)}
        for name in states_of(method, c):
            rec[name] = py(st[name])
        rec["theta"] = py(theta)
        history.append(rec)
    return history


def _grad_fn(c: dict):
    def grad(theta: list[float], t: int) -> list[float]:
        if "grads" in c:
            g = c["grads"][t - 1]
            return [float(x) for x in (g if isinstance(g, list) else [g])]
        x = tensor(theta if isinstance(c["theta"], list) else theta[0]).requires_grad_(True)
        eval_loss(c["loss"], x).backward()
        return [float(v) for v in x.grad.reshape(-1).tolist()]
    return grad


def formula_run(c: dict) -> list[dict]:
    """Plain floats, as the textbooks write them (every case here: no weight decay, no maximize)."""
    grad = _grad_fn(c)
    theta = [float(x) for x in (c["theta"] if isinstance(c["theta"], list) else [c["theta"]])]
    n = len(theta)
    steps = len(c["grads"]) if "grads" in c else c["steps"]
    vec = isinstance(c["theta"], list)
    one = (lambda xs: list(xs)) if vec else (lambda xs: xs[0])
    history = []
    state = [0.0] * n
    m1 = [0.0] * n
    lr = float(c["lr"])
    for t in range(1, steps + 1):
        g = grad(theta if vec else theta[:1], t)
        rec = {"t": t, "g": one(g)}
        if c["method"] == "sgd":  # Andrew Ng: v = βv + (1 − β)g; θ −= ηv (Nesterov: along g + βv)
            mu = c["momentum"]
            state = [mu * v + (1 - mu) * gi for v, gi in zip(state, g)]
            step = [gi + mu * v for gi, v in zip(g, state)] if c.get("nesterov") else state
            theta = [x - lr * d for x, d in zip(theta, step)]
            rec["momentum_buffer"] = one(state)
        elif c["method"] == "rmsprop":  # d2l rmsprop_2d: s = γs + (1 − γ)g²; x −= η/√(s + ε)·g
            gamma, eps = c.get("alpha", 0.99), c["eps"]
            state = [gamma * s + (1 - gamma) * gi ** 2 for s, gi in zip(state, g)]
            theta = [x - lr / math.sqrt(s + eps) * gi for x, s, gi in zip(theta, state, g)]
            rec["square_avg"] = one(state)
        elif c["method"] == "adagrad":  # d2l adagrad_2d: s += g²; x −= η/√(s + ε)·g
            eps = c["eps"]
            state = [s + gi ** 2 for s, gi in zip(state, g)]
            theta = [x - lr / math.sqrt(s + eps) * gi for x, s, gi in zip(theta, state, g)]
            rec["sum"] = one(state)
        elif c["method"] == "adam":  # Adam with ε under the root
            b1, b2, eps = 0.9, 0.999, c["eps"]
            m1 = [b1 * m + (1 - b1) * gi for m, gi in zip(m1, g)]
            state = [b2 * v + (1 - b2) * gi ** 2 for v, gi in zip(state, g)]
            theta = [x - lr * (m / (1 - b1 ** t)) / math.sqrt(v / (1 - b2 ** t) + eps)
                     for x, m, v in zip(theta, m1, state)]
            rec["exp_avg"], rec["exp_avg_sq"] = one(m1), one(state)
        else:
            raise ValueError(c["method"])
        rec["theta"] = one(theta)
        history.append(rec)
    return history


def expected_of(history: list[dict]) -> dict:
    exp = {"theta": history[-1]["theta"]}
    if len(history) <= FULL_HISTORY_MAX:
        exp["history"] = history
    return exp


def d2l_line(theta: list[float]) -> str:
    return f"epoch 20, x1: {float(theta[0]):f}, x2: {float(theta[1]):f}"


def main() -> None:
    cases = []
    for c in CASES + FORMULA_CASES:
        history = torch_run(c) if c in CASES else formula_run(c)
        entry = {"id": c["id"], "args": args_of(c), "expected": expected_of(history), "rtol": RTOL,
                 "oracle": "torch.optim." + TORCH[c["method"]].__name__ if c in CASES else "textbook formula"}
        if len(history) > FULL_HISTORY_MAX:
            entry["last"] = history[-1]
        if "d2l" in c:
            got = d2l_line(history[-1]["theta"])
            assert got == c["d2l"], f"{c['id']}: the oracle gives {got!r}, d2l.ai prints {c['d2l']!r}"
            entry["d2l_printed"] = c["d2l"]
        cases.append(entry)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids))
    doc = {"command": "optim-step", "oracle": ORACLE, "generator": GENERATOR, "cases": cases}
    text = dumps(doc)
    assert json.loads(text) == doc
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / "optim-step.json"
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
