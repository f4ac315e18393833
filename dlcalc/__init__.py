"""dlcalc: worked deep-learning exercises, step by step.

From Python (and Jupyter)::

    import dlcalc
    w = dlcalc.solve("adam-step", theta=1, grad=[0.5, 0.3], lr=0.1)
    w.result["theta"], w.check(theta=0.805)

Importing this package is cheap on purpose: SymPy is imported at the first
:func:`solve`, so ``dlcalc --help`` and ``dlcalc --version`` answer at Python's start-up
speed.
"""

from dlcalc.errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "solve", "commands", "__version__"]


def solve(command, /, **options):
    """Work the exercise ``command`` (a dlcalc command name, e.g. ``"adam-step"``).

    Options are named as the command's options with dashes as underscores
    (``weight_decay=0.01``) and positional arguments by their name (``sizes=[784, 256, 10]``).
    Values: Python numbers (a float is its shortest decimal: 0.1 is 1/10), strings in the
    command-line syntax, lists, NumPy arrays or SymPy objects; a repeatable option takes a
    list (``grad=[0.5, 0.3]``).  Returns a :class:`dlcalc.api.Worked`; bad input raises
    :class:`InputError` (with ``.option`` and ``.message``).
    """
    from dlcalc.api import solve as _solve

    return _solve(command, **options)


def commands():
    """The command names :func:`solve` takes."""
    from dlcalc.registry import names

    return names()
