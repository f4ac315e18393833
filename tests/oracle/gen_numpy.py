"""Independent NumPy (float64) oracle for dlcalc's quadratic-gd golden fixture.

Writes tests/golden/quadratic-gd.json. Each case is a plain dict of inputs; the
CLI argument list and the NumPy computation are both derived from it, and every
expected value is computed here: gradient descent is a real loop
w <- w - lr * M w, eigenvalues come from numpy.linalg.eigvalsh, Newton from
numpy.linalg.solve. Nothing of dlcalc is imported or parsed.

Run from the repository root (any venv with numpy, e.g. the oracle venv):
    /tmp/oracle-venv/bin/python tests/oracle/gen_numpy.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
GENERATOR = "tests/oracle/gen_numpy.py"
ORACLE = f"numpy {np.__version__}, float64"
RTOL = 1e-12

# f(w) = w^T H w (default) or 1/2 w^T H w ("half"). "steps" left out -> CLI default 1.
# lr_opt and rate are only expected where sym(H) is positive definite; lr_max only
# there too (for an indefinite H "2/mu_max" is not a convergence bound).
CASES = [
    {"id": "diagonal-default-steps", "H": [[1, 0], [0, 3]], "w0": [1, 1], "lr": 0.1},
    {"id": "diagonal-5-steps", "H": [[1, 0], [0, 3]], "w0": [1, 1], "lr": 0.1, "steps": 5},
    {"id": "coupled-2x2", "H": [[2, 1], [1, 3]], "w0": [1, 1], "lr": 0.1, "steps": 10},
    {"id": "coupled-2x2-steps-0", "H": [[2, 1], [1, 3]], "w0": [1, 2], "lr": 0.1, "steps": 0},
    {"id": "non-symmetric", "H": [[2, 1], [0, 3]], "w0": [1, -1], "lr": 0.05, "steps": 3},
    {"id": "half", "H": [[2, 1], [1, 3]], "w0": [1, 1], "lr": 0.2, "steps": 10, "half": True},
    {"id": "half-non-symmetric", "H": [[4, 2], [0, 1]], "w0": [-1, 2], "lr": 0.25, "steps": 6,
     "half": True},
    {"id": "divergent", "H": [[2, 1], [1, 3]], "w0": [1, 1], "lr": 0.5, "steps": 10},
    {"id": "divergent-half", "H": [[1, 0], [0, 4]], "w0": [0.5, 0.5], "lr": 0.75, "steps": 8,
     "half": True},
    {"id": "3x3", "H": [[4, 1, 0], [1, 3, 1], [0, 1, 2]], "w0": [1, -1, 2], "lr": 0.05,
     "steps": 20},
    {"id": "3x3-non-symmetric-newton", "H": [[3, 2, 0], [0, 2, 1], [1, 0, 4]], "w0": [2, 1, -1],
     "lr": 0.02, "steps": 7, "newton": True},
    {"id": "many-steps-1000", "H": [[2, 1], [1, 3]], "w0": [1, -2], "lr": 0.002, "steps": 1000},
    {"id": "newton-coupled", "H": [[2, 1], [1, 3]], "w0": [1, 2], "lr": 0.1, "newton": True},
    {"id": "newton-half", "H": [[2, 1], [1, 3]], "w0": [3, -1], "lr": 0.1, "half": True,
     "newton": True, "steps": 2},
    {"id": "indefinite", "H": [[1, 0], [0, -1]], "w0": [1, 1], "lr": 0.1, "steps": 5},
]


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


def fmt(v) -> str:
    if isinstance(v, bool):
        raise TypeError(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    raise TypeError(f"cannot format {v!r}")


def run(c: dict) -> dict:
    H = np.array(c["H"], dtype=np.float64)
    w0 = np.array(c["w0"], dtype=np.float64)
    lr = float(c["lr"])
    half = c.get("half", False)
    S = (H + H.T) / 2
    M = S if half else 2 * S                      # Hessian of f
    lam = np.linalg.eigvalsh(S)                    # ascending
    mu = np.linalg.eigvalsh(M)
    w = w0.copy()
    for _ in range(c.get("steps", 1)):
        w = w - lr * (M @ w)                       # gradient of f is M w
    f = (0.5 if half else 1.0) * float(w @ S @ w)
    exp = {
        "eigenvalues": lam.tolist(),
        "hessian_eigenvalues": mu.tolist(),
        "converges": bool(np.max(np.abs(1 - lr * mu)) < 1),
    }
    if mu.min() > 0:
        kappa = mu.max() / mu.min()
        exp["lr_max"] = float(2 / mu.max())
        exp["lr_opt"] = float(2 / (mu.min() + mu.max()))
        exp["rate"] = float((kappa - 1) / (kappa + 1))
    exp["w"] = w.tolist()
    exp["f"] = f
    if c.get("newton"):
        exp["newton_w"] = (w0 - np.linalg.solve(M, M @ w0)).tolist()
    return exp


def args_of(c: dict) -> list[str]:
    args = ["--H", fmt(c["H"]), "--w0", fmt(c["w0"]), "--lr", fmt(c["lr"])]
    if "steps" in c:
        args += ["--steps", str(c["steps"])]
    if c.get("half"):
        args.append("--half")
    if c.get("newton"):
        args.append("--newton")
    return args


def main() -> None:
    cases = [{"id": c["id"], "args": args_of(c), "expected": run(c), "rtol": RTOL} for c in CASES]
    assert len({c["id"] for c in cases}) == len(cases)
    doc = {"command": "quadratic-gd", "oracle": ORACLE, "generator": GENERATOR, "cases": cases}
    GOLDEN.mkdir(parents=True, exist_ok=True)
    path = GOLDEN / "quadratic-gd.json"
    text = dumps(doc)
    assert json.loads(text) == doc
    path.write_text(text + "\n")
    print(f"wrote {path} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
