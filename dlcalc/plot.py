"""``--plot FILE.png``: a picture of a worked solution, where a picture helps.

A renderer like the others (it reads a :class:`~dlcalc.core.Solution`), drawn with
matplotlib, an optional extra: ``pip install 'dlcalc-worked[plot]'``.

* quadratic-gd: for 2-D w, contour lines of f with the gradient-descent iterates and the
  Newton step; otherwise ‖w_t‖ and f(w_t) against t on a log scale, with each
  eigendirection's contraction factor |1 − εμᵢ| in the legend.
* adam-step: θ against t, and the loss when ``--loss`` was given.
"""

from __future__ import annotations

import math
from typing import Any

from dlcalc.core import Solution
from dlcalc.errors import InputError

SIZE_IN, DPI = (8.0, 5.0), 100  # 800 x 500 pixels
MAX_PLOTTED_STEPS = 400


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise InputError("--plot", "needs matplotlib, which is not installed: "
                                   "pip install 'dlcalc-worked[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _float(x: Any, what: str) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise InputError("--plot", f"needs numbers, but {what} is symbolic") from None
    if not math.isfinite(f):
        raise InputError("--plot", f"needs finite numbers, but {what} is {f}")
    return f


def _floats(xs: Any, what: str) -> list[float]:
    if hasattr(xs, "tolist"):
        xs = xs.tolist()
    if not isinstance(xs, (list, tuple)):
        return [_float(xs, what)]
    out: list[float] = []
    for x in xs:
        out.extend(_floats(x, what))
    return out


def _drawer(command: str) -> Any:
    """What draws a command's picture: its exercise module's ``plot(solution, fig)``, or
    one of the drawings kept here for the first exercises."""
    from dlcalc import registry

    if command in registry.EXERCISES:
        own = getattr(registry.module(command), "plot", None)
        if callable(own):
            return own
    return {"quadratic-gd": _quadratic, "adam-step": _adam}.get(command)


def plot(solution: Solution, path: str) -> None:
    """Draw ``solution`` into the PNG file ``path``."""
    draw = _drawer(solution.command)
    if draw is None:
        raise InputError("--plot", f"is not available for {solution.command}")
    if not path.lower().endswith(".png"):
        raise InputError("--plot", f"must name a .png file, got {path[:60]!r}")
    plt = _pyplot()
    fig = plt.figure(figsize=SIZE_IN, dpi=DPI)
    try:
        draw(solution, fig)
        fig.tight_layout()
        try:
            fig.savefig(path, dpi=DPI)
        except OSError as exc:
            raise InputError("--plot", f"cannot write {path[:60]!r}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def _quadratic(sol: Solution, fig: Any) -> None:
    H = sol.inputs["H"]
    rows = H.tolist() if hasattr(H, "tolist") else H
    n = len(rows)
    Hf = [[_float(v, "H") for v in row] for row in rows]
    S = [[(Hf[i][j] + Hf[j][i]) / 2 for j in range(n)] for i in range(n)]
    scale = 1.0 if sol.inputs.get("half") else 2.0
    M = [[scale * S[i][j] for j in range(n)] for i in range(n)]
    w = _floats(sol.inputs["w0"], "w0")
    lr = _float(sol.inputs["lr"], "the step size")
    steps = min(int(_float(sol.inputs["steps"], "--steps")), MAX_PLOTTED_STEPS)
    c = 0.5 if sol.inputs.get("half") else 1.0

    def f(v: list[float]) -> float:
        return c * sum(v[i] * Hf[i][j] * v[j] for i in range(n) for j in range(n))

    path = [w]
    for _ in range(steps):
        w = [w[i] - lr * sum(M[i][j] * w[j] for j in range(n)) for i in range(n)]
        if not all(math.isfinite(x) and abs(x) < 1e150 for x in w):
            break
        path.append(w)
    mus = _floats(sol.result["hessian_eigenvalues"], "an eigenvalue")
    factors = ", ".join(f"|1−εμ{i + 1}| = {abs(1 - lr * mu):.3g}" for i, mu in enumerate(mus))
    if n == 2:
        import numpy as np

        ax = fig.add_subplot(1, 1, 1)
        pts = path + ([_floats(sol.result["newton_w"], "newton_w")] if "newton_w" in sol.result else [])
        span = max(max(abs(p[0]) for p in pts), max(abs(p[1]) for p in pts), 1e-9) * 1.3
        xs = np.linspace(-span, span, 200)
        X, Y = np.meshgrid(xs, xs)
        Z = c * (Hf[0][0] * X * X + (Hf[0][1] + Hf[1][0]) * X * Y + Hf[1][1] * Y * Y)
        ax.contour(X, Y, Z, levels=20, cmap="viridis", linewidths=0.8)
        ax.plot([p[0] for p in path], [p[1] for p in path], "o-", color="tab:red", ms=3,
                label=f"gradient descent, ε = {lr:g}, {len(path) - 1} steps")
        if "newton_w" in sol.result:
            nw = pts[-1]
            ax.annotate("", xy=nw, xytext=path[0], arrowprops={"arrowstyle": "->", "color": "tab:blue"})
            ax.plot([nw[0]], [nw[1]], "s", color="tab:blue", label="Newton step (one step to the minimum)")
        ax.plot([0], [0], "k*", ms=10, label="minimum w* = 0" if min(mus) > 0 else "stationary point 0")
        ax.set_xlabel("w₁")
        ax.set_ylabel("w₂")
        ax.set_aspect("equal")
        ax.set_title("f(w) = " + ("½" if c == 0.5 else "") + "wᵀHw: " + factors, fontsize=9)
        ax.legend(fontsize=8, loc="upper right")
        return
    ts = list(range(len(path)))
    norms = [max(math.sqrt(sum(x * x for x in p)), 1e-300) for p in path]
    fs = [max(abs(f(p)), 1e-300) for p in path]
    ax = fig.add_subplot(1, 1, 1)
    ax.semilogy(ts, norms, label="‖w_t‖")
    ax.semilogy(ts, fs, label="|f(w_t)|")
    ax.set_xlabel("step t")
    ax.set_title(f"gradient descent on f(w) = wᵀHw, n = {n}, ε = {lr:g}\n{factors}", fontsize=9)
    ax.legend()


def _adam(sol: Solution, fig: Any) -> None:
    history = sol.result["history"][:MAX_PLOTTED_STEPS * 5]
    ts = [int(_float(h["t"], "t")) for h in history]
    thetas = [_floats(h["theta"], "θ") for h in history]
    loss = sol.inputs.get("loss")
    ax = fig.add_subplot(1, 2 if loss is not None else 1, 1)
    for i in range(len(thetas[0])):
        label = "θ" if len(thetas[0]) == 1 else f"θ{i + 1}"
        ax.plot([0] + ts, [_floats(sol.inputs["theta"], "θ")[i]] + [th[i] for th in thetas], label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel("θ_t")
    ax.set_title("Adam: θ against t")
    ax.legend()
    if loss is not None:
        import sympy

        from dlcalc.parse import symbol

        dim = len(thetas[0])
        names = ["theta"] if not isinstance(sol.inputs["theta"], (list, tuple)) and not hasattr(
            sol.inputs["theta"], "tolist") else [f"theta{i + 1}" for i in range(dim)]
        fn = sympy.lambdify([symbol(n) for n in names], loss, "math")
        values = [fn(*th) for th in thetas]
        ax2 = fig.add_subplot(1, 2, 2)
        ax2.plot(ts, values, color="tab:orange")
        ax2.set_xlabel("step t")
        ax2.set_title("loss at θ_t")
