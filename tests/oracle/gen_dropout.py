"""Independent oracle for dlcalc's dropout-expectation golden fixture: closed form in
exact fractions, itself checked by a NumPy Monte Carlo run (and the gradient by central
finite differences of the Monte Carlo-free closed form).

Writes tests/golden/dropout-expectation.json. Nothing of dlcalc is imported or parsed.

The closed form (one linear unit, squared error J = c·(y − Σ_k X_k u_k)², noise
independent across k): with E[X_k] = μ·w_k and Var(X_k) = κ_k·w_k²,

    E[J] = c·(y − μ·Σ w_k u_k)²  +  c·Σ κ_k·w_k² u_k²,
    ∂E[J]/∂w_k = −2c·μ·u_k·(y − μ·Σ w u) + 2c·κ_k·u_k²·w_k,

    gaussian (X_k = w_k + δ_k, δ_k ~ N(0, α·w_k²)):   μ = 1, κ_k = α (or α_k, one per weight)
    inverted dropout (X_k = r_k·w_k/p):                 μ = 1, κ = (1 − p)/p
    classic dropout (X_k = r_k·w_k):                    μ = p, κ = p·(1 − p)

Noise on the inputs instead (J = c·(y − Σ_k w_k x̃_k)², x̃_k = u_k + ε_k, ε_k ~ N(0, σ²)):
E[x̃_k] = u_k, Var(x̃_k) = σ², so

    E[J] = c·(y − Σ w_k u_k)²  +  c·σ²·Σ w_k²,      ∂E[J]/∂w_k = −2c·u_k·(y − Σ w u) + 2c·σ²·w_k

(Bishop 1995: training with input noise is Tikhonov regularization).  For those cases the
fixture also holds what a student gets who takes the noise's standard deviation σ for its
variance (σ·Σ w_k² in the penalty), for the --check test.

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
    {"id": "gaussian-per-weight-3", "y": "1", "u": ["1", "2", "-1"], "w": ["0.5", "-0.25", "1"], "noise": "gaussian",
     "level": ["0.1", "0.2", "0.3"]},
    {"id": "gaussian-per-weight-half", "y": "-0.5", "u": ["2", "1", "-1.5"], "w": ["0", "1", "2"], "noise": "gaussian",
     "level": ["0.5", "0", "0.25"], "half": True},
    {"id": "additive-3", "y": "1", "u": ["1", "2", "-1"], "w": ["0.5", "-0.25", "1"], "noise": "additive", "level": "0.25"},
    {"id": "additive-half", "y": "2", "u": ["0.5", "1.5"], "w": ["1", "-2"], "noise": "additive", "level": "0.09",
     "half": True},
    {"id": "additive-5", "y": "-1", "u": ["1", "0.5", "-2", "3", "1"], "w": ["0.2", "0.4", "-0.1", "0.3", "-0.5"],
     "noise": "additive", "level": "0.64"},
]

#: σ for σ² (every additive case has a σ² whose square root is rational)
STD_FOR_VARIANCE = "took the noise variance as σ instead of σ² (the standard deviation for the variance)"


def _level(case: dict) -> F | list[F]:
    level = case["level"]
    return [F(x) for x in level] if isinstance(level, list) else F(level)


def _sqrt(x: F) -> F:
    """The square root of a fraction whose numerator and denominator are squares."""
    from math import isqrt

    n, d = isqrt(x.numerator), isqrt(x.denominator)
    assert n * n == x.numerator and d * d == x.denominator, x
    return F(n, d)


def closed_form(case: dict, std_for_variance: bool = False) -> dict:
    y, u, w, a = F(case["y"]), [F(x) for x in case["u"]], [F(x) for x in case["w"]], _level(case)
    n = len(w)
    c = F(1, 2) if case.get("half") else F(1)
    if case["noise"] == "additive":  # the noise is on the inputs: Var(w_k·x̃_k) = σ²·w_k²
        s2 = _sqrt(a) if std_for_variance else a
        r = y - sum(wi * ui for wi, ui in zip(w, u))
        pen = c * s2 * sum(wi * wi for wi in w)
        grad = [-2 * c * ui * r + 2 * c * s2 * wi for ui, wi in zip(u, w)]
        return {"expected_loss": c * r * r + pen, "data_term": c * r * r, "penalty": pen, "grad_w": grad}
    if case["noise"] == "gaussian":
        mu, kappa = F(1), a if isinstance(a, list) else [a] * n
    elif case.get("inverted", True):
        mu, kappa = F(1), [(1 - a) / a] * n
    else:
        mu, kappa = a, [a * (1 - a)] * n
    r = y - mu * sum(wi * ui for wi, ui in zip(w, u))
    data = c * r * r
    pen = c * sum(k * wi * wi * ui * ui for k, wi, ui in zip(kappa, w, u))
    grad = [-2 * c * mu * ui * r + 2 * c * k * ui * ui * wi for k, ui, wi in zip(kappa, u, w)]
    return {"expected_loss": data + pen, "data_term": data, "penalty": pen, "grad_w": grad}


def monte_carlo(case: dict, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    y, u, w = float(F(case["y"])), np.array([float(F(x)) for x in case["u"]]), np.array([float(F(x)) for x in case["w"]])
    a = np.array([float(x) for x in _level(case)]) if isinstance(case["level"], list) else float(F(case["level"]))
    c = 0.5 if case.get("half") else 1.0
    if case["noise"] == "additive":  # noisy inputs, the weights as given
        x = u + rng.standard_normal((SAMPLES, len(u))) * np.sqrt(a)
        J = c * (y - x @ w) ** 2
        return float(J.mean()), float(J.std(ddof=1) / np.sqrt(SAMPLES))
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
    level = "[" + ", ".join(case["level"]) + "]" if isinstance(case["level"], list) else case["level"]
    out += [{"gaussian": "--alpha", "bernoulli": "--p", "additive": "--sigma2"}[case["noise"]], level]
    if case.get("half"):
        out.append("--half")
    if case["noise"] == "bernoulli" and not case.get("inverted", True):
        out.append("--no-inverted")
    return out


def _floats(values: dict) -> dict:
    return {k: ([float(x) for x in v] if isinstance(v, list) else float(v)) for k, v in values.items()}


def main() -> None:
    cases = []
    for case in CASES:
        exact = closed_form(case)
        mc, se = monte_carlo(case)
        assert abs(mc - float(exact["expected_loss"])) <= 5 * se + 1e-12, (case["id"], mc, se, exact)
        for k, g in enumerate(exact["grad_w"]):
            assert abs(finite_difference(case, k) - float(g)) <= 1e-9 * max(1.0, abs(float(g))), case["id"]
        entry = {"id": case["id"], "args": args(case), "expected": _floats(exact), "rtol": 1e-12,
                 "monte_carlo": {"samples": SAMPLES, "mean": mc, "se": se}}
        if case["noise"] == "additive":
            wrong = closed_form(case, std_for_variance=True)
            assert wrong["expected_loss"] != exact["expected_loss"], case["id"]  # the mistake shows
            entry["mistakes"] = {STD_FOR_VARIANCE: _floats(wrong)}
        cases.append(entry)
    doc = {"command": "dropout-expectation",
           "oracle": f"closed form in exact fractions, checked by NumPy {np.__version__} Monte Carlo "
                     f"({SAMPLES:,} samples, within 5 SE) and finite differences",
           "generator": GENERATOR, "cases": cases}
    (GOLDEN / "dropout-expectation.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
