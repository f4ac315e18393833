"""Independent oracles for the course-notes commands: init, ln-forward, deslant.

Writes tests/golden/{init,ln-forward,deslant}.json.  Every case is a plain dict of inputs;
both the CLI argument list and the expected values are derived from that dict, and the
expected values come from:

* init: ``torch.nn.init`` itself: ``calculate_gain``, ``_calculate_fan_in_and_fan_out`` on a
  tensor of the given shape and the formulas of its docstrings (rtol 1e-12), and the std of a
  large tensor that ``xavier_*_``, ``kaiming_*_``, ``normal_`` or ``uniform_`` filled (within
  1%; for the uniform schemes also the largest |w| as the bound); through depth, the closed
  forms, and a Monte Carlo network in torch (Var(z_l) and Var(∂L/∂a_(l−1)) within 10%);
* ln-forward: ``torch.nn.LayerNorm`` / ``torch.nn.RMSNorm`` in float64, forward and backward
  (autograd);
* deslant: NumPy (``np.average``, ``np.cov(..., bias=True)``, ``np.linalg.eigh``, ``np.interp``)
  and OpenCV's ``cv2.moments`` convention written out as sums over the pixel grid.

Nothing of dlcalc is imported or parsed.  Run from the repository root with a venv that has
torch==2.13.0 and numpy:
    /tmp/oracle-venv/bin/python tests/oracle/gen_notes.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

torch.set_default_dtype(torch.float64)
DT = torch.float64
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_notes.py"
ORACLE = f"torch {torch.__version__.split('+')[0]}, float64; numpy {np.__version__}"
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
    if isinstance(v, tuple):
        return "x".join(str(p) for p in v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    raise TypeError(f"cannot format {v!r}")


def num(v) -> float:
    """A case value (a float, or a string like "sqrt(5)") as a float."""
    if isinstance(v, str):
        assert v.startswith("sqrt(") and v.endswith(")"), v
        return math.sqrt(float(v[5:-1]))
    return float(v)


def py(t):
    if isinstance(t, torch.Tensor):
        return t.detach().tolist()
    if isinstance(t, np.ndarray):
        return t.tolist()
    if isinstance(t, (np.floating, np.integer)):
        return t.item()
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


# ---------------------------------------------------------------- init

# "shape" is the weight's shape (out, in, k...); without it fans are given as numbers and the
# tensor is (fan_out, fan_in).  Options written in a case are passed on the command line.
INIT_CASES = [
    {"id": "xavier-normal-784-256", "scheme": "xavier-normal", "fan_in": 784, "fan_out": 256},
    {"id": "xavier-uniform-784-256", "scheme": "xavier-uniform", "fan_in": 784, "fan_out": 256},
    {"id": "xavier-normal-tanh", "scheme": "xavier-normal", "fan_in": 500, "fan_out": 300, "nonlinearity": "tanh"},
    {"id": "xavier-uniform-relu", "scheme": "xavier-uniform", "fan_in": 400, "fan_out": 600, "nonlinearity": "relu"},
    {"id": "xavier-normal-sigmoid", "scheme": "xavier-normal", "fan_in": 300, "fan_out": 300, "nonlinearity": "sigmoid"},
    {"id": "xavier-normal-leaky-default", "scheme": "xavier-normal", "fan_in": 300, "fan_out": 700,
     "nonlinearity": "leaky_relu"},
    {"id": "xavier-uniform-leaky-0.2", "scheme": "xavier-uniform", "fan_in": 300, "fan_out": 700,
     "nonlinearity": "leaky_relu", "a": 0.2},
    {"id": "xavier-normal-selu", "scheme": "xavier-normal", "fan_in": 600, "fan_out": 600, "nonlinearity": "selu"},
    {"id": "xavier-normal-gain", "scheme": "xavier-normal", "fan_in": 600, "fan_out": 200, "gain": 1.5},
    {"id": "he-normal-default", "scheme": "he-normal", "fan_in": 1000, "fan_out": 500},
    {"id": "he-uniform-default", "scheme": "he-uniform", "fan_in": 1000, "fan_out": 500},
    {"id": "he-normal-relu-fan-out", "scheme": "he-normal", "fan_in": 300, "fan_out": 900,
     "nonlinearity": "relu", "mode": "fan_out"},
    {"id": "he-uniform-a-sqrt5", "scheme": "he-uniform", "fan_in": 800, "fan_out": 400, "a": "sqrt(5)"},
    {"id": "he-normal-leaky-0.1", "scheme": "he-normal", "fan_in": 800, "fan_out": 400,
     "nonlinearity": "leaky_relu", "a": 0.1},
    {"id": "he-normal-tanh", "scheme": "he-normal", "fan_in": 800, "fan_out": 400, "nonlinearity": "tanh"},
    {"id": "he-normal-conv-shape", "scheme": "he-normal", "shape": (256, 128, 3, 3)},
    {"id": "he-uniform-conv-shape-fan-out", "scheme": "he-uniform", "shape": (256, 128, 3, 3), "mode": "fan_out"},
    {"id": "xavier-uniform-conv1d-shape", "scheme": "xavier-uniform", "shape": (300, 200, 5)},
    {"id": "xavier-normal-conv3d-shape", "scheme": "xavier-normal", "shape": (64, 32, 3, 3, 3)},
    {"id": "xavier-normal-linear-shape", "scheme": "xavier-normal", "shape": (400, 1200)},
    {"id": "lecun-normal", "scheme": "lecun-normal", "fan_in": 900, "fan_out": 500},
    {"id": "lecun-uniform", "scheme": "lecun-uniform", "fan_in": 900, "fan_out": 500},
    {"id": "normal-0.01", "scheme": "normal", "std": 0.01},
    {"id": "uniform-0.05", "scheme": "uniform", "bound": 0.05},
]

DEPTH_CASES = [
    {"id": "depth-he-relu", "scheme": "he-normal", "fan_in": 512, "fan_out": 512, "depth": 6,
     "activation": "relu", "mc": True},
    {"id": "depth-xavier-linear", "scheme": "xavier-normal", "fan_in": 512, "fan_out": 512, "depth": 6,
     "mc": True},
    {"id": "depth-normal-0.01-vanishes", "scheme": "normal", "std": 0.01, "fan_in": 256, "fan_out": 256,
     "depth": 5, "mc": True},
    {"id": "depth-normal-0.1-explodes", "scheme": "normal", "std": 0.1, "fan_in": 256, "fan_out": 256,
     "depth": 5, "activation": "relu", "mc": True},
    {"id": "depth-xavier-tanh-rectangular", "scheme": "xavier-normal", "fan_in": 300, "fan_out": 100,
     "depth": 4, "activation": "tanh", "input_var": 2},
    {"id": "depth-he-relu-input-var", "scheme": "he-uniform", "fan_in": 128, "depth": 12, "activation": "relu",
     "input_var": 0.5},
]

OPTS = (("scheme", "--scheme"), ("fan_in", "--fan-in"), ("fan_out", "--fan-out"), ("shape", "--shape"),
        ("nonlinearity", "--nonlinearity"), ("a", "--a"), ("gain", "--gain"), ("mode", "--mode"),
        ("std", "--std"), ("bound", "--bound"), ("depth", "--depth"), ("activation", "--activation"),
        ("input_var", "--input-var"))


def init_args(c: dict) -> list[str]:
    args = []
    for key, opt in OPTS:
        if key in c:
            args += [opt, fmt(c[key])]
    return args


def init_closed(c: dict) -> dict:
    """std, variance, gain, bound from torch.nn.init's own helpers and documented formulas."""
    s = c["scheme"]
    shape = c.get("shape") or ((c["fan_out"], c["fan_in"]) if "fan_in" in c and "fan_out" in c else None)
    if shape is not None:
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    else:
        fan_in, fan_out = c.get("fan_in"), c.get("fan_out")
    family = s.split("-")[0]
    out: dict = {}
    if family == "xavier":
        gain = c["gain"] if "gain" in c else nn.init.calculate_gain(
            c.get("nonlinearity", "linear"), num(c["a"]) if "a" in c else None)
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    elif family == "he":
        # kaiming_*: gain = calculate_gain(nonlinearity, a), defaults leaky_relu and a = 0
        gain = nn.init.calculate_gain(c.get("nonlinearity", "leaky_relu"), num(c.get("a", 0)))
        fan = fan_in if c.get("mode", "fan_in") == "fan_in" else fan_out
        std = gain / math.sqrt(fan)
    elif family == "lecun":
        gain = 1.0
        std = gain / math.sqrt(fan_in)
    elif s == "normal":
        gain, std = None, c["std"]
    else:
        gain, std = None, c["bound"] / math.sqrt(3.0)
    out = {"std": std, "variance": std * std}
    if gain is not None:
        out["gain"] = float(gain)
    if s.endswith("uniform"):
        out["bound"] = math.sqrt(3.0) * std if s != "uniform" else c["bound"]
    return out


def init_sampled(c: dict, gen: torch.Generator) -> dict:
    """std (and bound) of a large tensor filled by torch.nn.init (within 1%)."""
    s = c["scheme"]
    shape = c.get("shape") or (max(c.get("fan_out", 1000), 1000), c.get("fan_in", 1000))
    if "shape" not in c and "fan_in" in c and "fan_out" in c:
        # the fans must be the case's; stack several tensors of the weight's shape for samples
        shape = (c["fan_out"], c["fan_in"])
    reps = max(1, math.ceil(1_000_000 / math.prod(shape)))
    samples = []
    for _ in range(reps):
        w = torch.empty(shape)
        a = num(c["a"]) if "a" in c else None
        if s == "xavier-normal":
            gain = c.get("gain", nn.init.calculate_gain(c.get("nonlinearity", "linear"), a))
            nn.init.xavier_normal_(w, gain=gain, generator=gen)
        elif s == "xavier-uniform":
            gain = c.get("gain", nn.init.calculate_gain(c.get("nonlinearity", "linear"), a))
            nn.init.xavier_uniform_(w, gain=gain, generator=gen)
        elif s in ("he-normal", "he-uniform"):
            kw = {"a": a if a is not None else 0, "mode": c.get("mode", "fan_in"),
                  "nonlinearity": c.get("nonlinearity", "leaky_relu"), "generator": gen}
            (nn.init.kaiming_normal_ if s == "he-normal" else nn.init.kaiming_uniform_)(w, **kw)
        elif s == "lecun-normal":  # kaiming with the linear gain is LeCun's N(0, 1/fan_in)
            nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="linear", generator=gen)
        elif s == "lecun-uniform":
            nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="linear", generator=gen)
        elif s == "normal":
            nn.init.normal_(w, 0.0, c["std"], generator=gen)
        else:
            nn.init.uniform_(w, -c["bound"], c["bound"], generator=gen)
        samples.append(w.flatten())
    w = torch.cat(samples)
    assert w.numel() >= 900_000, w.numel()
    out = {"std": w.std().item(), "variance": w.var().item()}
    if s.endswith("uniform"):
        out["bound"] = w.abs().max().item()
    return out


def depth_closed(c: dict, var_w: float) -> dict:
    fan_in = c["fan_in"]
    fan_out = c.get("fan_out", fan_in)
    L = c["depth"]
    k = 0.5 if c.get("activation") == "relu" else 1.0
    V = c.get("input_var", 1)
    fwd = [fan_in * var_w * V]
    for _ in range(L - 1):
        fwd.append(fan_in * var_w * k * fwd[-1])   # E[a²] = k·Var(z)
    rb = k * fan_out * var_w
    bwd = [rb ** (L - l + 1) for l in range(1, L + 1)]  # Var(∂L/∂a_(l−1)), with Var(∂L/∂a_L) = 1
    return {"forward_var": fwd, "backward_var": bwd}


def depth_monte_carlo(c: dict, gen: torch.Generator, nets: int = 16) -> dict:
    """Torch networks of L layers of the case's shape: the variances measured, averaged over
    ``nets`` independently initialized networks (one network's variance is off by about
    √(2/n) per layer)."""
    fan_in = c["fan_in"]
    fan_out = c.get("fan_out", fan_in)
    assert fan_in == fan_out, "Monte Carlo only for square layers"
    n, L, batch = fan_in, c["depth"], 1000
    V = c.get("input_var", 1)
    fwd, bwd = [0.0] * L, [0.0] * L
    for _ in range(nets):
        x = (torch.randn(batch, n, generator=gen) * math.sqrt(V)).requires_grad_(True)
        acts, zs = [x], []
        a = x
        for _ in range(L):
            W = torch.empty(n, n)
            if c["scheme"] == "he-normal":
                nn.init.kaiming_normal_(W, generator=gen)
            elif c["scheme"] == "xavier-normal":
                nn.init.xavier_normal_(W, generator=gen)
            else:
                nn.init.normal_(W, 0.0, c["std"], generator=gen)
            z = a @ W.T
            zs.append(z)
            a = torch.relu(z) if c.get("activation") == "relu" else z
            a.retain_grad()
            acts.append(a)
        G = torch.randn(batch, n, generator=gen)
        (a * G).sum().backward()  # ∂L/∂a_L = G, of variance 1
        for l in range(L):
            fwd[l] += zs[l].var().item() / nets
            bwd[l] += acts[l].grad.var().item() / nets  # Var(∂L/∂a_(l−1)), l = 1…L
    return {"forward_var": fwd, "backward_var": bwd}


def gen_init() -> list[dict]:
    gen = torch.Generator().manual_seed(0)
    out = []
    for c in INIT_CASES:
        args = init_args(c)
        closed = init_closed(c)
        out.append(case(c["id"], args, closed))
        sampled = init_sampled(c, gen)
        for k, v in sampled.items():  # the filled tensor agrees with the formulas
            assert math.isclose(v, closed[k], rel_tol=0.01), (c["id"], k, v, closed[k])
        out.append(case(c["id"] + ":sampled", args, sampled, rtol=0.01))
    for c in DEPTH_CASES:
        args = init_args(c)
        closed = init_closed(c)
        exp = {**closed, **depth_closed(c, closed["variance"])}
        out.append(case(c["id"], args, exp))
        if c.get("mc"):
            mc = depth_monte_carlo(c, gen)
            for k in ("forward_var", "backward_var"):
                for got, want in zip(mc[k], exp[k]):
                    assert math.isclose(got, want, rel_tol=0.1), (c["id"], k, got, want)
            out.append(case(c["id"] + ":monte-carlo", args, mc, rtol=0.1))
    return out


# ---------------------------------------------------------------- ln-forward

LN_CASES = [
    {"id": "single-1-2-3-4", "values": [1, 2, 3, 4]},
    {"id": "single-negative-gamma-beta", "values": [-1.5, 2, 0.25, 4, -3], "gamma": 2, "beta": -0.5},
    {"id": "single-per-feature-eps", "values": [0.5, 1, 2, 3.5], "gamma": [1, 2, 0.5, -1],
     "beta": [0, 0.1, 0.2, 0.3], "eps": 0.001},
    {"id": "matrix-2x3", "x": [[1, 2, 3], [4, 5, 7]]},
    {"id": "matrix-3x4-affine", "x": [[1, 2, -1, 0.5], [3, 0.5, 0, 2], [-2, 1, 4, 1]],
     "gamma": [1, 2, 0.5, 1.5], "beta": [0, -1, 0.5, 2]},
    {"id": "backward-single", "values": [1, 2, 3, 4], "grad_out": [0.1, -0.2, 0.3, 0.5]},
    {"id": "backward-single-affine-eps", "values": [1, 2, 3, 4], "gamma": [1, 2, 0.5, 1], "beta": 0.1,
     "eps": 0.25, "grad_out": [1, 0.5, -1, 2]},
    {"id": "backward-matrix", "x": [[1, 2, 3], [4, 5, 7], [-1, 0.5, 2]], "gamma": [1, 2, 3],
     "beta": [0.5, 0, -0.5], "grad_out": [[1, 0, 2], [-1, 3, 0.5], [0.5, 1, -2]]},
    {"id": "backward-matrix-big", "x": "big", "grad_out": "big"},
    {"id": "rms-single", "values": [1, 2, 3, 4], "rms": True},
    {"id": "rms-single-eps-gamma", "values": [-1, 0.5, 2], "rms": True, "eps": 1e-6, "gamma": [1, -2, 0.5]},
    {"id": "rms-matrix-backward", "x": [[1, 2, 3], [4, 5, 7]], "rms": True, "gamma": [1, 2, 3],
     "grad_out": [[1, 0, 0], [0, 1, -1]]},
    {"id": "rms-backward-single-eps", "values": [0.5, -1.5, 2, 1], "rms": True, "eps": 0.01,
     "grad_out": [0.2, -0.1, 0.4, 1]},
    {"id": "rms-matrix-big-backward", "x": "big", "rms": True, "grad_out": "big"},
]


def big(seed: int, m: int = 12, n: int = 10) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(0, 2, (m, n)), 3).tolist()


def ln_run(c: dict) -> dict:
    rms = c.get("rms", False)
    x = c["values"] if "values" in c else c["x"]
    single = "values" in c
    X = torch.tensor([x] if single else x, dtype=DT, requires_grad=True)
    N = X.shape[1]
    eps = c.get("eps", 2.0 ** -23 if rms else 1e-5)
    mod = nn.RMSNorm(N, eps=eps, dtype=DT) if rms else nn.LayerNorm(N, eps=eps, dtype=DT)
    with torch.no_grad():
        g = c.get("gamma", 1)
        mod.weight.copy_(torch.tensor(g if isinstance(g, list) else [g] * N, dtype=DT))
        if not rms:
            b = c.get("beta", 0)
            mod.bias.copy_(torch.tensor(b if isinstance(b, list) else [b] * N, dtype=DT))
    y = mod(X)
    out: dict = {}
    if rms:
        rmsv = torch.sqrt((X.detach() ** 2).mean(dim=1) + eps)
        out["rms"] = py(rmsv[0]) if single else py(rmsv)
    else:
        mean = X.detach().mean(dim=1)
        var = X.detach().var(dim=1, unbiased=False)
        xhat = torch.nn.functional.layer_norm(X.detach(), (N,), eps=eps)
        out["mean"] = py(mean[0]) if single else py(mean)
        out["var"] = py(var[0]) if single else py(var)
        out["x_hat"] = py(xhat[0]) if single else py(xhat)
    out["y"] = py(y[0]) if single else py(y)
    if "grad_out" in c:
        G = torch.tensor([c["grad_out"]] if single else c["grad_out"], dtype=DT)
        y.backward(G)
        out["grad_x"] = py(X.grad[0]) if single else py(X.grad)
        out["grad_gamma"] = py(mod.weight.grad)
        if not rms:
            out["grad_beta"] = py(mod.bias.grad)
    return out


def gen_ln() -> list[dict]:
    out = []
    for i, c in enumerate(LN_CASES):
        c = dict(c)
        if c.get("x") == "big":  # 12 × 10 = 120 values: the numeric path
            c["x"] = big(10 + i)
            c["grad_out"] = big(100 + i)
        args = [fmt(v) for v in c["values"]] if "values" in c else ["--x", fmt(c["x"])]
        for key, opt in (("gamma", "--gamma"), ("beta", "--beta"), ("eps", "--eps"), ("grad_out", "--grad-out")):
            if key in c:
                args += [opt, fmt(c[key])]
        if c.get("rms"):
            args.append("--rms")
        out.append(case(c["id"], args, ln_run(c), rtol=1e-12 if "big" not in c["id"] else 1e-9))
    return out


# ---------------------------------------------------------------- deslant

DESLANT_CASES = [
    {"id": "points-5", "points": [[0, 0], [1, 1], [2, 2], [1, 0], [2, 1]]},
    {"id": "points-slanted-line", "points": [[0, 0], [0.5, 1], [1, 2], [1.5, 3], [2.5, 3.5]]},
    {"id": "points-negative", "points": [[-1, 2], [0.5, -1], [3, 4], [2, 0.5], [-2, -3], [1, 1]]},
    {"id": "points-no-covariance", "points": [[0, 0], [2, 0], [0, 1], [2, 1]]},
    {"id": "points-vertical-major", "points": [[0, 0], [0.1, 1], [0, 2], [0.2, 3], [-0.1, 4]]},
    {"id": "image-3x4-slash", "image": [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]]},
    {"id": "image-5x5-slanted-stroke", "image": [[0, 0, 0, 9, 4], [0, 0, 8, 5, 0], [0, 2, 9, 1, 0],
                                                 [0, 7, 3, 0, 0], [6, 4, 0, 0, 0]]},
    {"id": "image-fractional", "image": [[0, 0.5, 1], [0.25, 1, 0], [1, 0.75, 0], [0.5, 0, 0]]},
    {"id": "image-backslash", "image": [[3, 1, 0, 0], [0, 2, 2, 0], [0, 0, 1, 3]]},
]


def cv2_moments(img: np.ndarray) -> dict:
    """cv2.moments' definitions written out: m_pq = Σ xᵖ y^q I(y, x), mu_pq about the centroid."""
    ys, xs = np.indices(img.shape)
    m = {f"m{p}{q}": float((xs ** p * ys ** q * img).sum()) for p in range(3) for q in range(3) if p + q <= 2}
    xb, yb = m["m10"] / m["m00"], m["m01"] / m["m00"]
    mu = {f"mu{p}{q}": float(((xs - xb) ** p * (ys - yb) ** q * img).sum()) for p, q in ((2, 0), (1, 1), (0, 2))}
    return {**m, **mu}


def eig_sorted(cov: np.ndarray) -> tuple[list, list]:
    vals, vecs = np.linalg.eigh(cov)  # ascending
    rows = []
    for k in range(2):
        v = vecs[:, k]
        first = v[0] if abs(v[0]) > 1e-12 else v[1]
        rows.append((v if first > 0 else -v).tolist())
    return vals.tolist(), rows


def resample(img: np.ndarray, skew: float, ybar: float) -> np.ndarray:
    """x′ = x − s·(y − ȳ): the output pixel x′ samples the row at x′ + s·(y − ȳ), linearly,
    zeros outside (np.interp on the row padded with a zero at each end)."""
    H, W = img.shape
    out = np.zeros_like(img, dtype=float)
    cols = np.arange(-1, W + 1)
    for r in range(H):
        row = np.concatenate([[0.0], img[r], [0.0]])
        u = np.arange(W) + skew * (r - ybar)
        out[r] = np.interp(u, cols, row, left=0.0, right=0.0)
    return out


def deslant_run(c: dict) -> dict:
    if "points" in c:
        P = np.array(c["points"], dtype=float)
        x, y, w = P[:, 0], P[:, 1], np.ones(len(P))
    else:
        img = np.array(c["image"], dtype=float)
        ys, xs = np.indices(img.shape)
        x, y, w = xs.ravel().astype(float), ys.ravel().astype(float), img.ravel()
    xb, yb = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.cov(np.vstack([x, y]), aweights=w, bias=True)  # population form
    vals, vecs = eig_sorted(cov)
    skew = cov[0, 1] / cov[1, 1]
    out = {"centroid": [xb, yb], "covariance": cov.tolist(), "eigenvalues": vals, "eigenvectors": vecs,
           "skew": skew}
    if "image" in c:
        mo = cv2_moments(img)  # OpenCV's convention agrees with the weighted NumPy statistics
        assert math.isclose(mo["m10"] / mo["m00"], xb, rel_tol=1e-12)
        assert math.isclose(mo["mu11"] / mo["mu02"], skew, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(mo["mu20"] / mo["m00"], cov[0, 0], rel_tol=1e-12)
        out["image"] = resample(img, skew, yb).tolist()
    else:
        sheared = np.column_stack([x - skew * (y - yb), y])
        out["points"] = sheared.tolist()
        c2 = np.cov(sheared.T, bias=True)
        assert abs(c2[0, 1]) < 1e-12, c2  # the shear removes the covariance
    return out


def gen_deslant() -> list[dict]:
    out = []
    for c in DESLANT_CASES:
        args = ["--points", fmt(c["points"])] if "points" in c else ["--image", fmt(c["image"])]
        out.append(case(c["id"], args, deslant_run(c), rtol=1e-11))
    return out


def main() -> None:
    assert torch.__version__.startswith("2.13.0"), torch.__version__
    write("init", gen_init())
    write("ln-forward", gen_ln())
    write("deslant", gen_deslant())


if __name__ == "__main__":
    main()
