"""``--plot FILE.png``: a picture of a worked solution, where a picture helps.

A renderer like the others (it reads a :class:`~dlcalc.core.Solution`), drawn with
matplotlib, an optional extra: ``pip install 'dlcalc-worked[plot]'``.

* quadratic-gd (drawn by :func:`dlcalc.exercises.quadratic_gd.plot`): for 2-D w, contour lines
  of f with the gradient-descent iterates and the Newton step; otherwise ‖w_t‖ and f(w_t)
  against t on a log scale, with each eigendirection's contraction factor |1 − εμᵢ|.
* adam-step (drawn by :func:`dlcalc.exercises.adam_step.plot`): θ against t, and the loss
  when ``--loss`` was given.
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
    """What draws a command's picture: its exercise module's ``plot(solution, fig)``."""
    from dlcalc import registry

    if command in registry.EXERCISES:
        own = getattr(registry.module(command), "plot", None)
        if callable(own):
            return own
    return None


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
