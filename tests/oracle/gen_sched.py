"""Independent oracle for lr-schedule, ema and minibatch.

Writes tests/golden/{lr-schedule,ema,minibatch}.json.

* lr-schedule: PyTorch's own schedulers (torch.optim.lr_scheduler, float64) driving a
  torch.optim.SGD on one dummy parameter; lrs[k] is ``optimizer.param_groups[0]["lr"]``
  after k calls of ``scheduler.step()``.  noam is a LambdaLR with the Transformer's
  eq. 3 as its lambda (base lr f), as it is written in PyTorch code.
* ema: PyTorch has no EMA of a sequence of numbers; the oracle is the recursion in
  NumPy float64, cross-checked against the unrolled sum (1 − β)Σβ^(t−i)x_i + β^t v0.
* minibatch: len(torch.utils.data.DataLoader(...)) for steps per epoch (drop_last both
  ways) on a dataset that only has a length, and the scaling rules in math floats.

Every case is a plain dict of inputs; the CLI argument list and the expected values are
both derived from it.  Nothing of dlcalc is imported.

Run from the repository root with torch==2.13.0 and numpy:
    /work/torchenv/bin/python tests/oracle/gen_sched.py
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.optim import lr_scheduler as S

torch.set_default_dtype(torch.float64)
warnings.filterwarnings("ignore")  # scheduler.step() before optimizer.step(): irrelevant here

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_sched.py"
TORCH = f"torch {torch.__version__.split('+')[0]}, float64"
RTOL = 1e-9


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
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    raise TypeError(f"cannot format {v!r}")


def dumps(obj, indent: int = 0) -> str:
    """JSON with indent 1, but lists of numbers on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    flat = isinstance(obj, list) and all(not isinstance(x, (dict, list)) for x in obj)
    if not isinstance(obj, (dict, list)) or flat or not obj:
        return json.dumps(obj)
    if isinstance(obj, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + dumps(x, indent + 1) for x in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def write(command: str, oracle: str, cases: list[dict]) -> None:
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), f"duplicate ids in {command}"
    doc = {"command": command, "oracle": oracle, "generator": GENERATOR, "cases": cases}
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / f"{command}.json"
    text = dumps(doc)
    assert json.loads(text) == doc
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


def args_of(c: dict, skip: tuple[str, ...] = ("id",)) -> list[str]:
    """--key value for each input of a case (True flags as bare --key)."""
    out = []
    for k, v in c.items():
        if k in skip:
            continue
        opt = "--" + k.replace("_", "-")
        if v is True:
            out.append(opt)
        elif v is not False:
            out += [opt, fmt(v)]
    return out


# ---------------------------------------------------------------- lr-schedule

LR_CASES = [
    {"id": "step-3-half", "schedule": "step", "lr": 0.1, "step_size": 3, "gamma": 0.5, "steps": 12, "at": 7},
    {"id": "step-every-step", "schedule": "step", "lr": 1.0, "step_size": 1, "gamma": 0.9, "steps": 20},
    {"id": "step-default-gamma", "schedule": "step", "lr": 0.05, "step_size": 30, "steps": 100, "at": 30},
    {"id": "step-long-float", "schedule": "step", "lr": 0.1, "step_size": 7, "gamma": 0.999, "steps": 2100},
    {"id": "multistep-repeated", "schedule": "multistep", "lr": 0.1, "milestones": [2, 5, 5], "gamma": 0.5,
     "steps": 8},
    {"id": "multistep-zero", "schedule": "multistep", "lr": 0.2, "milestones": [0, 3], "steps": 6, "at": 0},
    {"id": "multistep-30-80", "schedule": "multistep", "lr": 0.1, "milestones": [80, 30], "gamma": 0.1,
     "steps": 120, "at": 80},
    {"id": "exponential-0.9", "schedule": "exponential", "lr": 0.1, "gamma": 0.9, "steps": 50, "at": 10},
    {"id": "exponential-half", "schedule": "exponential", "lr": 1.0, "gamma": 0.5, "steps": 10},
    {"id": "exponential-growing", "schedule": "exponential", "lr": 0.001, "gamma": 1.05, "steps": 30},
    {"id": "exponential-long", "schedule": "exponential", "lr": 0.1, "gamma": 0.99, "steps": 2100, "at": 2050},
    {"id": "cosine-10", "schedule": "cosine", "lr": 0.1, "t_max": 10, "steps": 11, "at": 3},
    {"id": "cosine-past-tmax", "schedule": "cosine", "lr": 0.1, "t_max": 4, "eta_min": 0.01, "steps": 14,
     "at": 6},
    {"id": "cosine-7", "schedule": "cosine", "lr": 0.5, "t_max": 7, "steps": 30},
    {"id": "cosine-long-float", "schedule": "cosine", "lr": 0.1, "t_max": 100, "eta_min": 0.001,
     "steps": 300, "at": 150},
    {"id": "linear-defaults", "schedule": "linear", "lr": 0.1, "steps": 8},
    {"id": "linear-to-zero", "schedule": "linear", "lr": 0.1, "start_factor": 0.25, "end_factor": 0.0,
     "total_iters": 4, "steps": 7, "at": 2},
    {"id": "linear-warmup", "schedule": "linear", "lr": 0.05, "start_factor": 0.1, "total_iters": 10,
     "steps": 15, "at": 5},
    {"id": "linear-decay", "schedule": "linear", "lr": 0.2, "start_factor": 1.0, "end_factor": 0.1,
     "total_iters": 6, "steps": 9, "at": 3},
    {"id": "cosine-tmax-1", "schedule": "cosine", "lr": 0.3, "t_max": 1, "eta_min": 0.1, "steps": 6},
    {"id": "polynomial-defaults", "schedule": "polynomial", "lr": 0.1, "steps": 8},
    {"id": "polynomial-power-0", "schedule": "polynomial", "lr": 0.1, "power": 0, "total_iters": 3, "steps": 5},
    {"id": "onecycle-all-warmup", "schedule": "onecycle", "max_lr": 0.5, "steps": 7, "pct_start": 1.0},
    {"id": "onecycle-three-half-linear", "schedule": "onecycle", "max_lr": 2.0, "steps": 13, "pct_start": 0.5,
     "three_phase": True, "anneal_strategy": "linear", "at": 6},
    {"id": "polynomial-square", "schedule": "polynomial", "lr": 0.1, "power": 2, "total_iters": 10,
     "steps": 12, "at": 4},
    {"id": "polynomial-sqrt", "schedule": "polynomial", "lr": 0.1, "power": 0.5, "total_iters": 4,
     "steps": 7, "at": 1},
    {"id": "onecycle-10", "schedule": "onecycle", "max_lr": 1.0, "steps": 10, "at": 5},
    {"id": "onecycle-linear", "schedule": "onecycle", "max_lr": 0.1, "steps": 100, "pct_start": 0.25,
     "anneal_strategy": "linear", "at": 30},
    {"id": "onecycle-short-warmup", "schedule": "onecycle", "max_lr": 1.0, "steps": 10, "pct_start": 0.05},
    {"id": "onecycle-three-phase", "schedule": "onecycle", "max_lr": 0.5, "steps": 50, "three_phase": True,
     "at": 20},
    {"id": "onecycle-factors", "schedule": "onecycle", "max_lr": 0.2, "steps": 20, "div_factor": 10.0,
     "final_div_factor": 100.0, "pct_start": 0.4, "at": 12},
    {"id": "onecycle-no-warmup", "schedule": "onecycle", "max_lr": 1.0, "steps": 8, "pct_start": 0.0},
    {"id": "onecycle-long-float", "schedule": "onecycle", "max_lr": 0.01, "steps": 1000, "at": 299},
    {"id": "onecycle-three-linear", "schedule": "onecycle", "max_lr": 0.3, "steps": 40, "three_phase": True,
     "anneal_strategy": "linear", "pct_start": 0.35},
    {"id": "noam-small", "schedule": "noam", "lr": 2.0, "d_model": 16, "warmup": 4, "steps": 12, "at": 4},
    {"id": "noam-paper", "schedule": "noam", "d_model": 512, "warmup": 4000, "steps": 4001},
    {"id": "noam-short", "schedule": "noam", "d_model": 512, "warmup": 10, "steps": 30},
]


def torch_lrs(c: dict) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    kind = c["schedule"]
    opt = torch.optim.SGD([p], lr=c.get("lr", 1.0 if kind == "noam" else 0.001))
    if kind == "step":
        s = S.StepLR(opt, step_size=c["step_size"], gamma=c.get("gamma", 0.1))
    elif kind == "multistep":
        s = S.MultiStepLR(opt, milestones=c["milestones"], gamma=c.get("gamma", 0.1))
    elif kind == "exponential":
        s = S.ExponentialLR(opt, gamma=c["gamma"])
    elif kind == "cosine":
        s = S.CosineAnnealingLR(opt, T_max=c["t_max"], eta_min=c.get("eta_min", 0.0))
    elif kind == "linear":
        s = S.LinearLR(opt, start_factor=c.get("start_factor", 1.0 / 3), end_factor=c.get("end_factor", 1.0),
                       total_iters=c.get("total_iters", 5))
    elif kind == "polynomial":
        s = S.PolynomialLR(opt, total_iters=c.get("total_iters", 5), power=float(c.get("power", 1.0)))
    elif kind == "onecycle":
        s = S.OneCycleLR(opt, max_lr=c["max_lr"], total_steps=c["steps"], pct_start=c.get("pct_start", 0.3),
                         anneal_strategy=c.get("anneal_strategy", "cos"), div_factor=c.get("div_factor", 25.0),
                         final_div_factor=c.get("final_div_factor", 1e4),
                         three_phase=c.get("three_phase", False))
    elif kind == "noam":
        d, w = c.get("d_model", 512), c.get("warmup", 4000)
        s = S.LambdaLR(opt, lambda step: d ** -0.5 * min(max(step, 1) ** -0.5, max(step, 1) * w ** -1.5))
    else:
        raise ValueError(kind)
    out = []
    for k in range(c["steps"]):
        out.append(float(opt.param_groups[0]["lr"]))
        if k < c["steps"] - 1:  # OneCycleLR refuses a step past total_steps
            opt.step()
            s.step()
    return out


def gen_lr_schedule() -> list[dict]:
    cases = []
    for c in LR_CASES:
        lrs = torch_lrs(c)
        at = c.get("at", c["steps"] - 1)
        cases.append({"id": c["id"], "args": args_of(c), "expected": {"lrs": lrs, "lr": lrs[at]}, "rtol": RTOL})
    return cases


# ---------------------------------------------------------------- ema

EMA_CASES = [
    {"id": "beta-0.9-three", "beta": 0.9, "values": [1.0, 2.0, 3.0]},
    {"id": "beta-0.5", "beta": 0.5, "values": [4.0, -2.0, 0.5, 8.0]},
    {"id": "beta-0-is-identity", "beta": 0.0, "values": [3.0, 1.0, 2.0]},
    {"id": "beta-0.98-twenty", "beta": 0.98, "seed": 1, "n": 20},
    {"id": "beta-0.9-v0", "beta": 0.9, "values": [10.0, 11.0, 9.5, 10.5], "v0": 10.0},
    {"id": "beta-0.999-long", "beta": 0.999, "seed": 2, "n": 1500},
    {"id": "beta-0.8-constant", "beta": 0.8, "values": [5.0] * 12},
]


def ema_numpy(beta: float, x: np.ndarray, v0: float) -> tuple[np.ndarray, np.ndarray]:
    v = np.empty_like(x)
    prev = v0
    for t, xt in enumerate(x):
        prev = beta * prev + (1 - beta) * xt
        v[t] = prev
    t = np.arange(1, len(x) + 1)
    # the unrolled sum, an independent check of the recursion
    for T in sorted({1, len(x) // 2 + 1, len(x)}):
        i = np.arange(1, T + 1)
        unrolled = (1 - beta) * np.sum(beta ** (T - i) * x[:T]) + beta ** T * v0
        assert math.isclose(unrolled, v[T - 1], rel_tol=1e-11, abs_tol=1e-12), (T, unrolled, v[T - 1])
    return v, v / (1 - beta ** t)


def gen_ema() -> list[dict]:
    cases = []
    for c in EMA_CASES:
        if "values" in c:
            x = np.array(c["values"], dtype=np.float64)
        else:
            x = np.round(np.random.default_rng(c["seed"]).normal(5.0, 2.0, c["n"]), 3)
        v0 = c.get("v0", 0.0)
        v, vhat = ema_numpy(c["beta"], x, v0)
        args = ["--beta", fmt(c["beta"]), "--values", fmt([float(e) for e in x])]
        if "v0" in c:
            args += ["--v0", fmt(v0)]
        cases.append({"id": c["id"], "args": args,
                      "expected": {"ema": v.tolist(), "ema_hat": vhat.tolist()}, "rtol": RTOL})
    return cases


# ---------------------------------------------------------------- minibatch


class _Sized(torch.utils.data.Dataset):
    """A dataset that is only a length (DataLoader's len() needs no items)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:  # pragma: no cover - never loaded
        return i


MB_CASES = [
    {"id": "1000-by-32", "n": 1000, "batch_size": 32},
    {"id": "1000-by-32-drop", "n": 1000, "batch_size": 32, "drop_last": True},
    {"id": "exact-multiple", "n": 960, "batch_size": 32, "epochs": 3},
    {"id": "exact-multiple-drop", "n": 960, "batch_size": 32, "epochs": 3, "drop_last": True},
    {"id": "smaller-than-batch", "n": 10, "batch_size": 64},
    {"id": "smaller-than-batch-drop", "n": 10, "batch_size": 64, "drop_last": True, "epochs": 5},
    {"id": "imagenet-goyal", "n": 1281167, "batch_size": 8192, "epochs": 90, "base_batch_size": 256,
     "base_lr": 0.1},
    {"id": "imagenet-goyal-drop", "n": 1281167, "batch_size": 8192, "epochs": 90, "drop_last": True,
     "base_batch_size": 256, "base_lr": 0.1},
    {"id": "sqrt-scaling", "n": 50000, "batch_size": 1024, "epochs": 10, "base_batch_size": 128,
     "base_lr": 0.001, "scaling": "sqrt"},
    {"id": "smaller-batch-linear", "n": 60000, "batch_size": 64, "base_batch_size": 256, "base_lr": 0.4},
    {"id": "sqrt-non-square", "n": 12345, "batch_size": 100, "epochs": 7, "base_batch_size": 30,
     "base_lr": 0.05, "scaling": "sqrt", "drop_last": True},
]


def gen_minibatch() -> list[dict]:
    cases = []
    for c in MB_CASES:
        drop = c.get("drop_last", False)
        per_epoch = len(torch.utils.data.DataLoader(_Sized(c["n"]), batch_size=c["batch_size"], drop_last=drop))
        assert per_epoch == (c["n"] // c["batch_size"] if drop else -(-c["n"] // c["batch_size"]))
        expected = {"steps_per_epoch": per_epoch, "total_steps": per_epoch * c.get("epochs", 1)}
        if "base_lr" in c:
            ratio = c["batch_size"] / c["base_batch_size"]
            expected["lr"] = c["base_lr"] * (math.sqrt(ratio) if c.get("scaling") == "sqrt" else ratio)
        cases.append({"id": c["id"], "args": args_of(c), "expected": expected, "rtol": RTOL})
    return cases


if __name__ == "__main__":
    write("lr-schedule", TORCH + " (torch.optim.lr_scheduler on torch.optim.SGD)", gen_lr_schedule())
    write("ema", "NumPy " + np.__version__ + " float64 (recursion, checked against the unrolled sum)", gen_ema())
    write("minibatch", TORCH + " (len of torch.utils.data.DataLoader) and math floats", gen_minibatch())
