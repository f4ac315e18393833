"""Independent PyTorch (float64) oracle for `dlcalc backprop`: writes tests/golden/backprop.json.

Every case is a plain dict of inputs; the CLI argument list and the torch computation are both
derived from it, and every expected value comes from torch autograd: the loss, every δ (the
gradient of each layer's z, kept with ``retain_grad``), every weight and bias gradient, the
weights after the last update and the loss of every step.  Nothing of dlcalc is imported.

    /work/torchenv/bin/python tests/oracle/gen_backprop.py      (torch 2.13.0, CPU)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
DT = torch.float64
OUT = Path(__file__).resolve().parent.parent / "golden" / "backprop.json"
RTOL = 1e-9


def fmt(v) -> str:
    """A value as a user types it on the command line."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(e) for e in v) + "]"
    return str(v)


def act_fn(name: str, z: torch.Tensor, slope: float) -> torch.Tensor:
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky-relu":
        return F.leaky_relu(z, negative_slope=slope)
    if name == "softmax":
        return torch.softmax(z, dim=-1)
    return z


def run(c: dict) -> dict:
    x = torch.tensor(c["x"], dtype=DT)
    single = x.dim() == 1
    N = 1 if single else x.shape[0]
    Ws = [torch.tensor(W, dtype=DT, requires_grad=True) for W in c["W"]]
    bs = [torch.tensor(b, dtype=DT, requires_grad=True) for b in c["b"]]
    acts = c["act"] if len(c["act"]) == len(Ws) else c["act"] * len(Ws)
    loss_kind, lr, slope = c.get("loss", "mse"), c["lr"], c.get("slope", 0.01)
    half = c.get("half", True)
    history, first = [], None
    for _ in range(c.get("steps", 1)):
        a, zs = x, []
        for W, b, name in zip(Ws, bs, acts):
            z = (W @ a if single else a @ W.T) + b
            z.retain_grad()
            zs.append(z)
            a = act_fn(name, z, slope)
        t = torch.tensor(c["t"], dtype=DT).reshape(a.shape)
        if loss_kind == "mse":
            loss = (0.5 if half else 1.0) * ((t - a) ** 2).sum() / N
        elif loss_kind == "bce":
            if acts[-1] == "sigmoid":  # log σ(z) and log σ(−z), accurate in float64
                loss = -(t * F.logsigmoid(zs[-1]) + (1 - t) * F.logsigmoid(-zs[-1])).sum() / N
            else:
                loss = -(t * torch.log(a) + (1 - t) * torch.log(1 - a)).sum() / N
        else:
            loss = -(t * F.log_softmax(zs[-1], dim=-1)).sum() / N
        loss.backward()
        if first is None:
            first = {
                "output": a.detach().tolist(),
                "loss": loss.item(),
                "delta": [z.grad.tolist() for z in zs],
                "grad_W": [W.grad.tolist() for W in Ws],
                "grad_b": [b.grad.tolist() for b in bs],
            }
        history.append({"loss": loss.item()})
        with torch.no_grad():
            for p in Ws + bs:
                p -= lr * p.grad
                p.grad = None
    expected = dict(first, W=[W.detach().tolist() for W in Ws], b=[b.detach().tolist() for b in bs])
    if c.get("history", True):
        expected["history"] = history
    return expected


def args_of(c: dict) -> list[str]:
    args = ["--x", fmt(c["x"]), "--t", fmt(c["t"])]
    for W, b in zip(c["W"], c["b"]):
        args += ["--W", fmt(W), "--b", fmt(b)]
    for a in c["act"]:
        args += ["--act", a]
    if c.get("loss", "mse") != "mse":
        args += ["--loss", c["loss"]]
    if not c.get("half", True):
        args += ["--no-half"]
    args += ["--lr", fmt(c["lr"])]
    if c.get("steps", 1) != 1:
        args += ["--steps", str(c["steps"])]
    if "slope" in c:
        args += ["--slope", fmt(c["slope"])]
    return args


MAZUR = dict(x=[0.05, 0.10], t=[0.01, 0.99], W=[[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
             b=[0.35, 0.60], act=["sigmoid"], lr=0.5)

CASES = [
    dict(MAZUR, id="mazur-2-2-2"),
    dict(MAZUR, id="mazur-3-steps", steps=3),
    dict(MAZUR, id="mazur-no-half", half=False),
    dict(MAZUR, id="mazur-per-unit-biases", b=[[0.35, -0.1], [0.6, 0.2]], steps=2),
    dict(MAZUR, id="mazur-200-steps-mpmath", steps=200, history=False),
    dict(MAZUR, id="mazur-10000-steps-double", steps=10000, history=False),
    dict(id="tanh-batch-linear-output", x=[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 0.75, 0.0]],
         t=[[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]],
         W=[[[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9], [0.2, 0.1, -0.3]],
            [[0.3, -0.1, 0.2, 0.5], [-0.4, 0.6, 0.1, -0.2]]],
         b=[[0.1, -0.1, 0.05, 0.0], [0.2, -0.3]], act=["tanh", "linear"], lr=0.1, steps=2),
    dict(id="relu-hidden-sigmoid-bce-batch", x=[[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [2.0, 1.0]],
         t=[[1.0], [0.0], [0.0], [1.0]],
         W=[[[0.5, -0.25], [1.0, 0.75], [-0.5, 0.4]], [[1.0, -1.0, 0.5]]],
         b=[[0.1, -0.2, 0.3], 0.05], act=["relu", "sigmoid"], loss="bce", lr=0.2, steps=2),
    dict(id="relu-linear-exact", x=[[1.0, 2.0], [-1.0, 0.5]], t=[[1.0], [0.0]],
         W=[[[0.5, -0.25], [1.0, 0.75]], [[1.0, -1.0]]], b=[[0.1, -0.2], 0.0], act=["relu", "linear"],
         lr=0.1, steps=5),
    dict(id="sigmoid-softmax-ce-batch-shared-bias", x=[[0.2, -0.4, 0.6], [1.0, 0.5, -0.5]],
         t=[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
         W=[[[0.1, 0.2, -0.3], [-0.2, 0.4, 0.1], [0.3, -0.1, 0.2], [0.05, 0.15, -0.25]],
            [[0.5, -0.5, 0.2, 0.1], [-0.3, 0.4, 0.6, -0.2], [0.2, 0.1, -0.4, 0.3]]],
         b=[0.1, [0.0, 0.1, -0.1]], act=["sigmoid", "softmax"], loss="ce", lr=0.5, steps=2),
    dict(id="softmax-ce-one-example-probabilities", x=[1.0, -2.0], t=[0.2, 0.5, 0.3],
         W=[[[0.3, -0.2], [0.1, 0.4], [-0.5, 0.25]]], b=[[0.0, 0.1, -0.1]], act=["softmax"], loss="ce", lr=1.0),
    dict(id="softmax-mse-jacobian", x=[0.5, 1.5], t=[0.0, 1.0, 0.0],
         W=[[[0.2, -0.1], [0.4, 0.3]], [[0.3, -0.6], [0.5, 0.2], [-0.1, 0.4]]], b=[0.1, [0.0, 0.2, -0.2]],
         act=["tanh", "softmax"], loss="mse", lr=0.3),
    dict(id="softmax-bce", x=[[0.5, 1.5], [-1.0, 0.25]], t=[[0.0, 1.0], [1.0, 0.0]],
         W=[[[0.2, -0.1], [0.4, 0.3]]], b=[[0.1, -0.1]], act=["softmax"], loss="bce", lr=0.3),
    dict(id="leaky-tanh-linear-3-layers", x=[[1.0, -2.0], [0.5, 0.5]], t=[[0.5, -1.0], [1.0, 0.25]],
         W=[[[0.4, 0.3], [-0.6, 0.2], [0.1, -0.9]], [[0.5, -0.4, 0.3], [0.2, 0.2, -0.1], [-0.3, 0.6, 0.4]],
            [[0.7, -0.2, 0.1], [0.3, 0.5, -0.6]]],
         b=[[0.0, 0.1, -0.2], 0.05, [0.1, 0.0]], act=["leaky-relu", "tanh", "linear"], lr=0.05, steps=3,
         slope=0.1),
    dict(id="linear-neuron-one-step", x=[1.0, 2.0, -1.0], t=[0.5], W=[[[0.2, -0.3, 0.1]]], b=[0.4],
         act=["linear"], lr=0.1),
    dict(id="deep-sigmoid-shared-biases", x=[[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]],
         t=[[0.0], [1.0], [1.0]],
         W=[[[0.3, -0.2], [0.7, 0.1], [-0.4, 0.5]], [[0.2, -0.3, 0.6], [0.5, 0.4, -0.1]],
            [[0.9, -0.8], [0.3, 0.2]], [[1.1, -0.7]]],
         b=[0.1, -0.2, 0.3, 0.0], act=["sigmoid"], lr=1.0, steps=2),
    dict(id="sigmoid-bce-single-output-vector", x=[2.0, -1.0], t=[1.0], W=[[[0.5, 0.25], [-0.5, 1.0]], [[1.5, -2.0]]],
         b=[[0.0, 0.0], 0.5], act=["sigmoid"], loss="bce", lr=0.5, steps=2),
]


def main() -> None:
    cases = []
    for c in CASES:
        cases.append({"id": c["id"], "args": args_of(c), "expected": run(c), "rtol": RTOL})
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids))
    doc = {"command": "backprop", "oracle": f"torch {torch.__version__.split('+')[0]}, float64",
           "generator": "tests/oracle/gen_backprop.py", "cases": cases}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
