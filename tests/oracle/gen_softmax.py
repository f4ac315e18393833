"""Independent PyTorch (float64) oracle for the softmax and attention golden fixtures.

Writes tests/golden/softmax.json and tests/golden/attention.json.  Every case is a plain
dict of inputs; the CLI arguments and the torch computation are both derived from it, and
every expected value is computed by torch (nothing of dlcalc is imported):

* softmax, ce: ``F.cross_entropy(z / T, target)`` (class index or class probabilities) on
  one example, gradients of z (or W and b, with z = W @ x + b) by autograd, p by
  ``F.softmax``, the prediction by ``torch.argmax``;
* softmax, hinge: CS231n's multiclass SVM loss written with torch ops,
  Σ_{j≠y} relu(s_j − s_y + Δ) with s = z / T (not ``F.multi_margin_loss``, which divides
  by the number of classes: checked below), gradients by autograd;
* attention: ``F.scaled_dot_product_attention`` with ``is_causal`` or a boolean
  ``attn_mask`` (True = take part) and ``scale``; the scores and weights with torch ops
  (``masked_fill`` and ``softmax``), checked against the SDPA output.

Run from the repository root with torch 2.13.0:
    /work/torchenv/bin/python tests/oracle/gen_softmax.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_torch import GOLDEN, ORACLE, case, dumps, fmt  # noqa: E402

DT = torch.float64
GENERATOR = "tests/oracle/gen_softmax.py"
RTOL = 1e-9  # the brief: golden comparisons at 1e-9


def write(command: str, cases: list[dict]) -> None:
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), f"duplicate ids in {command}"
    doc = {"command": command, "oracle": ORACLE, "generator": GENERATOR, "cases": cases}
    text = dumps(doc)
    assert json.loads(text) == doc
    path = GOLDEN / f"{command}.json"
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


def tensor(v, grad: bool = False) -> torch.Tensor:
    return torch.tensor(v, dtype=DT, requires_grad=grad)


def num(v) -> float:
    """A case value as a number: floats as they are, strings as Python expressions of math."""
    if isinstance(v, str):
        return float(eval(v, {"sqrt": math.sqrt, "exp": math.exp}))  # trusted case table, not user text
    return float(v)


def py(t) -> object:
    return t.detach().tolist()


# ---------------------------------------------------------------- softmax

SOFTMAX_CASES = [
    {"id": "ce-3-classes", "z": [2, 1, 0.1], "target": 0},
    {"id": "ce-4-classes-last", "z": [1, 2, 3, 4], "target": 3},
    {"id": "ce-wrong-class", "z": [3.2, 5.1, -1.7], "target": 2},
    {"id": "ce-temperature-2", "z": [-1.5, 0.3, 2.2], "target": 1, "temperature": 2},
    {"id": "ce-temperature-half", "z": [0.5, 1.5, -0.25, 1], "target": 0, "temperature": 0.5},
    {"id": "ce-large-gap", "z": [10, -10, 0], "target": 1},
    {"id": "ce-ties", "z": [1, 3, 3], "target": 2},
    {"id": "ce-irrational", "z": ["sqrt(2)", "1/3", "-sqrt(3)"], "target": 1},
    {"id": "ce-probabilities", "z": [0.5, -0.2, 1.1], "t": [0.1, 0.6, 0.3]},
    {"id": "ce-one-hot-probabilities", "z": [0.5, -0.2, 1.1], "t": [0, 1, 0]},
    {"id": "ce-probabilities-temperature", "z": [2, -1, 0.5, 0], "t": [0.25, 0.25, 0.5, 0], "temperature": 3},
    {"id": "ce-linear", "W": [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0, 0.25, 0.2, -0.3]],
     "b": [1.1, 3.2, -1.2], "x": [56, 231, 24, 2], "target": 2},
    {"id": "ce-linear-small", "W": [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]], "b": [0, 0.1, -0.1],
     "x": [1, 2], "target": 1},
    {"id": "ce-linear-no-bias", "W": [[1, -1, 0.5], [0.5, 0.5, -2]], "x": [0.3, -0.7, 1.2], "target": 0},
    {"id": "ce-linear-probabilities-temperature", "W": [[0.2, 0.4], [-0.6, 0.1], [0.3, -0.9]],
     "b": [0.05, 0, -0.05], "x": [1.5, -2], "t": [0.2, 0.3, 0.5], "temperature": 1.5},
    {"id": "ce-two-classes", "z": [0.3, -1.2], "target": 1},
    {"id": "ce-two-classes-linear", "W": [[0.2, -0.5, 1], [1.5, 1.3, -0.4]], "b": [0.1, -0.2],
     "x": [1, 2, -1], "target": 0},
    {"id": "ce-two-classes-linear-temperature", "W": [[0.2, -0.5], [1.5, 1.3]], "b": [0.1, -0.2],
     "x": [1, 2], "target": 1, "temperature": 2},
    {"id": "ce-numeric-20-classes", "z": [round(math.sin(3 * k) * 4, 3) for k in range(20)], "target": 7},
    {"id": "ce-numeric-linear-10x10",
     "W": [[round(math.cos(i * 10 + j) * 0.5, 4) for j in range(10)] for i in range(10)],
     "b": [round(0.1 * i - 0.4, 2) for i in range(10)], "x": [round(math.sin(j) * 2, 4) for j in range(10)],
     "target": 4},
    {"id": "ce-numeric-probabilities", "z": [round(math.sin(k) * 3, 3) for k in range(15)],
     "t": [0.5] + [0.0] * 13 + [0.5], "temperature": 0.75},
    {"id": "ce-double-linear-10x600",  # beyond 5,000 multiply-adds: IEEE double
     "W": [[round(math.sin(i * 7 + j * 0.3), 3) for j in range(600)] for i in range(10)],
     "b": [round(0.05 * i, 2) for i in range(10)], "x": [round(math.cos(j * 0.7) * 0.1, 4) for j in range(600)],
     "target": 6},
    {"id": "hinge-double-linear-12x500",
     "W": [[round(math.cos(i * 5 + j * 0.2), 3) for j in range(500)] for i in range(12)],
     "b": [0] * 12, "x": [round(math.sin(j) * 0.05, 4) for j in range(500)], "target": 2, "loss": "hinge"},
    # CS231n's three examples (loss 2.9, 0, 12.9)
    {"id": "hinge-cs231n-cat", "z": [3.2, 5.1, -1.7], "target": 0, "loss": "hinge"},
    {"id": "hinge-cs231n-car", "z": [1.3, 4.9, 2.0], "target": 1, "loss": "hinge"},
    {"id": "hinge-cs231n-frog", "z": [2.2, 2.5, -3.1], "target": 2, "loss": "hinge"},
    {"id": "hinge-margin-zero-exactly", "z": [1, 2, 1, 0.5], "target": 1, "loss": "hinge"},
    {"id": "hinge-margin-half", "z": [0.2, 0.5, 0.4, -0.1], "target": 3, "loss": "hinge", "margin": 0.5},
    {"id": "hinge-temperature", "z": [1, 2, 3], "target": 0, "loss": "hinge", "temperature": 2},
    {"id": "hinge-linear", "W": [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0, 0.25, 0.2, -0.3]],
     "b": [1.1, 3.2, -1.2], "x": [0.5, 0.2, 0.4, 0.1], "target": 0, "loss": "hinge"},
    {"id": "hinge-two-classes", "z": [0.3, -0.2], "target": 0, "loss": "hinge"},
    {"id": "hinge-numeric-15-classes", "z": [round(math.cos(2 * k) * 2, 3) for k in range(15)], "target": 3,
     "loss": "hinge", "margin": 1.5},
]


def softmax_run(c: dict) -> dict:
    T = c.get("temperature", 1)
    linear = "W" in c
    if linear:
        W = tensor([[num(v) for v in r] for r in c["W"]], True)
        n = W.shape[0]
        b = tensor([num(v) for v in c.get("b", [0] * n)], True)
        x = tensor([num(v) for v in c["x"]])
        z = W @ x + b
        z.retain_grad()
    else:
        z = tensor([num(v) for v in c["z"]], True)
    s = z / T
    if c.get("loss", "ce") == "ce":
        if "t" in c:
            loss = F.cross_entropy(s[None], tensor([num(v) for v in c["t"]])[None])
        else:
            loss = F.cross_entropy(s[None], torch.tensor([c["target"]]))
    else:
        y, delta = c["target"], num(c.get("margin", 1))
        margins = torch.relu(s - s[y] + delta)
        keep = torch.ones_like(s)
        keep[y] = 0
        loss = (margins * keep).sum()
        # CS231n's sum is multi_margin_loss times the number of classes
        mml = F.multi_margin_loss(s.detach()[None], torch.tensor([y]), margin=delta)
        assert math.isclose(mml.item() * len(s), loss.item(), rel_tol=1e-12, abs_tol=1e-15)
    loss.backward()
    out = {"p": py(F.softmax(s.detach(), dim=0)), "loss": loss.item(), "grad_z": py(z.grad),
           "prediction": int(torch.argmax(s.detach()))}
    if linear:
        out["grad_W"] = py(W.grad)
        out["grad_b"] = py(b.grad)
    return out


def softmax_args(c: dict) -> list[str]:
    args: list[str] = []
    for key in ("z", "W", "b", "x", "t"):
        if key in c:
            args += [f"--{key}", fmt(c[key])]
    if "target" in c:
        args += ["--target", str(c["target"])]
    for key, opt in (("loss", "--loss"), ("margin", "--margin"), ("temperature", "--temperature")):
        if key in c:
            args += [opt, fmt(c[key])]
    return args


def gen_softmax() -> list[dict]:
    out = []
    for c in SOFTMAX_CASES:
        expected = softmax_run(c)
        big = "W" in c and len(c["W"]) * len(c["W"][0]) > 1000
        if big:  # thousands of grad_W entries would bloat the fixture: grad_W = grad_b·xᵀ is tested elsewhere
            del expected["grad_W"]
        out.append(case(c["id"], softmax_args(c), expected, RTOL) | ({"omitted": ["grad_W"]} if big else {}))
    return out


# ---------------------------------------------------------------- attention

ATTENTION_CASES = [
    {"id": "2x2", "Q": [[1, 0], [0, 1]], "K": [[1, 0], [1, 1]], "V": [[1, 2], [3, 4]]},
    {"id": "3x3-causal", "Q": [[1, 0], [0, 1], [1, 1]], "K": [[1, 0], [1, 1], [0, 2]],
     "V": [[1, 2], [3, 4], [5, 6]], "causal": True},
    {"id": "2x3-mask", "Q": [[0.5, -1, 2], [1, 1, 0]], "K": [[1, 0, 0], [0, 1, 0], [0.5, 0.5, 1]],
     "V": [[1], [-2], [0.5]], "mask": [[1, 0, 1], [0, 1, 1]]},
    {"id": "3x4-mask-row", "Q": [[1, 2], [0, -1], [0.5, 0.5]], "K": [[1, 0], [0, 1], [1, 1], [-1, 2]],
     "V": [[1, 0, 2], [0, 1, -1], [2, 2, 0], [0.5, -0.5, 1]], "mask": [1, 1, 0, 1]},
    {"id": "2x4-causal-wide", "Q": [[1, 0], [0.3, 0.7]], "K": [[0.2, 0.1], [1, -1], [0.5, 0.5], [2, 0]],
     "V": [[1, 1], [2, 0], [0, 3], [-1, 1]], "causal": True},
    {"id": "4x2-causal-tall", "Q": [[1, 0], [0, 1], [1, 1], [-1, 0.5]], "K": [[1, 2], [0.5, -0.5]],
     "V": [[1, 0], [0, 1]], "causal": True},
    {"id": "scale-1", "Q": [[1, 2], [3, 4]], "K": [[0.1, 0.2], [0.3, -0.4]], "V": [[1, -1], [2, 5]], "scale": 1},
    {"id": "scale-third", "Q": [[2, 1, 0]], "K": [[1, 1, 1], [0, 2, -1], [1, 0, 3]], "V": [[1], [2], [3]],
     "scale": "1/3"},
    {"id": "dk3-dv1", "Q": [[0.1, 0.2, 0.3], [-1, 0, 1]], "K": [[1, 2, 3], [0, 0, 1], [2, -1, 0]],
     "V": [[10], [20], [30]]},
    {"id": "causal-and-mask", "Q": [[1, 0], [0, 1], [1, 1]], "K": [[1, 0], [1, 1], [0, 2]],
     "V": [[1, 2], [3, 4], [5, 6]], "causal": True, "mask": [[1, 1, 1], [0, 1, 1], [1, 0, 1]]},
    {"id": "numeric-8x8-causal",
     "Q": [[round(math.sin(i * 4 + c), 4) for c in range(4)] for i in range(8)],
     "K": [[round(math.cos(i * 3 + c), 4) for c in range(4)] for i in range(8)],
     "V": [[round(math.sin(i + 2 * c) * 2, 4) for c in range(3)] for i in range(8)], "causal": True},
    {"id": "numeric-10x6-mask",
     "Q": [[round(math.cos(i + c * 0.5) * 3, 3) for c in range(5)] for i in range(10)],
     "K": [[round(math.sin(i * 2 - c), 3) for c in range(5)] for i in range(6)],
     "V": [[round(math.cos(i * c + 1), 3) for c in range(2)] for i in range(6)],
     "mask": [[int((i + j) % 3 != 0) for j in range(6)] for i in range(10)]},
    {"id": "double-30x30-causal",  # beyond 5,000 multiply-adds: IEEE double
     "Q": [[round(math.sin(i * 1.3 + c), 3) for c in range(4)] for i in range(30)],
     "K": [[round(math.cos(i * 0.7 - c), 3) for c in range(4)] for i in range(30)],
     "V": [[round(math.sin(i * c + 0.5), 3) for c in range(4)] for i in range(30)], "causal": True},
]


def attention_run(c: dict) -> dict:
    Q = tensor([[num(v) for v in r] for r in c["Q"]])
    K = tensor([[num(v) for v in r] for r in c["K"]])
    V = tensor([[num(v) for v in r] for r in c["V"]])
    n, m = Q.shape[0], K.shape[0]
    scale = num(c["scale"]) if "scale" in c else None
    keep = torch.ones(n, m, dtype=torch.bool)
    if c.get("causal"):
        keep = keep & torch.ones(n, m, dtype=torch.bool).tril()
    if "mask" in c:
        mk = torch.tensor(c["mask"], dtype=torch.bool)
        keep = keep & (mk if mk.dim() == 2 else mk.expand(n, m))
    if c.get("causal") and "mask" not in c:
        out = F.scaled_dot_product_attention(Q, K, V, is_causal=True, scale=scale)
    elif "mask" in c:  # PyTorch refuses attn_mask with is_causal: the combined mask
        out = F.scaled_dot_product_attention(Q, K, V, attn_mask=keep, scale=scale)
    else:
        out = F.scaled_dot_product_attention(Q, K, V, scale=scale)
    s = scale if scale is not None else 1 / math.sqrt(Q.shape[1])
    scores = (Q @ K.T) * s
    weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
    assert torch.allclose(weights @ V, out, rtol=1e-13, atol=1e-14)
    shown = [[scores[i, j].item() if keep[i, j] else None for j in range(m)] for i in range(n)]
    return {"scores": shown, "weights": py(weights), "output": py(out)}


def attention_args(c: dict) -> list[str]:
    args = ["--Q", fmt(c["Q"]), "--K", fmt(c["K"]), "--V", fmt(c["V"])]
    if c.get("causal"):
        args.append("--causal")
    if "mask" in c:
        args += ["--mask", fmt(c["mask"])]
    if "scale" in c:
        args += ["--scale", fmt(c["scale"])]
    return args


def gen_attention() -> list[dict]:
    return [case(c["id"], attention_args(c), attention_run(c), RTOL) for c in ATTENTION_CASES]


def main() -> None:
    assert ORACLE == "torch 2.13.0, float64", f"expected torch 2.13.0, got {torch.__version__}"
    cases = gen_softmax()
    write("softmax", cases)
    write("attention", gen_attention())


if __name__ == "__main__":
    main()
