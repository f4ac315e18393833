"""Independent oracle for dlcalc's dropout-expectation golden fixture: closed form in
exact fractions, itself checked by a NumPy Monte Carlo run (and the gradient by central
finite differences of the Monte Carlo-free closed form).

Writes tests/golden/dropout-expectation.json. Nothing of dlcalc is imported or parsed.

The closed form (one linear unit, squared error J = c·(y − Σ_k X_k u_k)², noise
independent across k): with E[X_k] = μ·w_k and Var(X_k) = κ·w_k²,

    E[J] = c·(y − μ·Σ w_k u_k)²  +  c·κ·Σ w_k² u_k²,
    ∂E[J]/∂w_k = −2c·μ·u_k·(y − μ·Σ w u) + 2c·κ·u_k²·w_k,

    gaussian (X_k = w_k + δ_k, δ_k ~ N(0, α·w_k²)):   μ = 1, κ = α
    inverted dropout (X_k = r_k·w_k/p):                 μ = 1, κ = (1 − p)/p
    classic dropout (X_k = r_k·w_k):                    μ = p, κ = p·(1 − p)

Run from the repository root (any venv with numpy):
    /tmp/oracle-venv/bin/python tests/oracle/gen_dropout.py
"""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_dropout.py"
SAMPLES = 400_000

CASES = [
    {"id": "gaussian-3", "y": "1", "u": ["1", "2", "-1"], "w": ["0.5", "-0.25", "1"], "noise": "gaussian", "level": "0.1"},
    {"id": "gaussian-half", "y": "2", "u": ["0.5", "1.5"], "w": ["1", "-2"], "noise": "gaussian", "level": "0.3", "half": True},
    {"id": "gaussian-zero-weight", "y": "1", "u": ["1", "2"], "w": ["0", "1"], "noise": "gaussian", "level": "0.5"},
    {"id": "inverted-dropout", "y": "1", "u": ["1", "2", "-1"], "w": ["0.5", "-0.25", "1"], "noise": "bernoulli", "level": "0.8"},
    {"id": "classic-dropout", "y": "1", "u": ["1", "2", "-1"], "w": ["0.5", "-0.25", "1"], "noise": "bernoulli", "level": "0.8", "inverted": False},
    {"id": "inverted-half-5", "y": "-1", "u": ["1", "0.5", "-2", "3", "1"], "w": ["0.2", "0.4", "-0.1", "0.3", "-0.5"], "noise": "bernoulli", "level": "0.5", "half": True},
    {"id": "classic-keep-all", "y": "3", "u": ["1", "1"], "w": ["1", "1"], "noise": "bernoulli", "level": "1", "inverted": False},
]


def closed_form(case: dict) -> dict:
    y, u, w, a = F(case["y"]), [F(x) for x in case["u"]], [F(x) for x in case["w"]], F(case["level"])
    c = F(1, 2) if case.get("half") else F(1)
    if case["noise"] == "gaussian":
        mu, kappa = F(1), a
    elif case.get("inverted", True):
        mu, kappa = F(1), (1 - a) / a
    else:
        mu, kappa = a, a * (1 - a)
    r = y - mu * sum(wi * ui for wi, ui in zip(w, u))
    data = c * r * r
    pen = c * kappa * sum(wi * wi * ui * ui for wi, ui in zip(w, u))
    grad = [-2 * c * mu * ui * r + 2 * c * kappa * ui * ui * wi for ui, wi in zip(u, w)]
    return {"expected_loss": data + pen, "data_term": data, "penalty": pen, "grad_w": grad}


def monte_carlo(case: dict, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    y, u, w, a = float(F(case["y"])), np.array([float(F(x)) for x in case["u"]]), \
        np.array([float(F(x)) for x in case["w"]]), float(F(case["level"]))
    c = 0.5 if case.get("half") else 1.0
    if case["noise"] == "gaussian":
        X = w + rng.standard_normal((SAMPLES, len(w))) * np.sqrt(a) * np.abs(w)
    else:
        r = rng.random((SAMPLES, len(w))) < a
        X = r * w / (a if case.get("inverted", True) else 1.0)
    J = c * (y - X @ u) ** 2
    return float(J.mean()), float(J.std(ddof=1) / np.sqrt(SAMPLES))


def finite_difference(case: dict, k: int, h: F = F(1, 10**6)) -> float:
    up, dn = dict(case), dict(case)
    up["w"] = [str(F(x) + (h if i == k else 0)) for i, x in enumerate(case["w"])]
    dn["w"] = [str(F(x) - (h if i == k else 0)) for i, x in enumerate(case["w"])]
    return float((closed_form(up)["expected_loss"] - closed_form(dn)["expected_loss"]) / (2 * h))


def args(case: dict) -> list[str]:
    out = ["--y", case["y"], "--u", "[" + ", ".join(case["u"]) + "]",
           "--w", "[" + ", ".join(case["w"]) + "]", "--noise", case["noise"]]
    out += ["--alpha" if case["noise"] == "gaussian" else "--p", case["level"]]
    if case.get("half"):
        out.append("--half")
    if case["noise"] == "bernoulli" and not case.get("inverted", True):
        out.append("--no-inverted")
    return out


def main() -> None:
    cases = []
    for case in CASES:
        exact = closed_form(case)
        mc, se = monte_carlo(case)
        assert abs(mc - float(exact["expected_loss"])) <= 5 * se + 1e-12, (case["id"], mc, se, exact)
        for k, g in enumerate(exact["grad_w"]):
            assert abs(finite_difference(case, k) - float(g)) <= 1e-9 * max(1.0, abs(float(g))), case["id"]
        expected = {k: ([float(x) for x in v] if isinstance(v, list) else float(v)) for k, v in exact.items()}
        cases.append({"id": case["id"], "args": args(case), "expected": expected, "rtol": 1e-12,
                      "monte_carlo": {"samples": SAMPLES, "mean": mc, "se": se}})
    doc = {"command": "dropout-expectation",
           "oracle": f"closed form in exact fractions, checked by NumPy {np.__version__} Monte Carlo "
                     f"({SAMPLES:,} samples, within 5 SE) and finite differences",
           "generator": GENERATOR, "cases": cases}
    (GOLDEN / "dropout-expectation.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
