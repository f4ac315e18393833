"""One targeted start-up saving in SymPy, documented here because it is a workaround.

``sympy.core.add.Add.flatten`` runs ``from sympy.tensor.tensor import TensExpr, TensAdd``
on every call, only for an ``isinstance`` check.  The first call imports
``sympy.tensor.tensor`` and with it all of ``sympy.combinatorics``, which builds the
polyhedra of its ``polyhedron`` module at import time: 25-50 ms, a quarter of what a
homework case may cost above SymPy's own import.  dlcalc never builds tensor expressions.

So, until something asks for more, ``sympy.tensor.tensor`` is a stand-in module whose
``TensExpr`` and ``TensAdd`` are classes nothing is an instance of (true of every dlcalc
expression).  Any other name looked up in it loads the real module, which then replaces
the stand-in in ``sys.modules`` (so ``Add.flatten`` uses the real classes from then on).
"""

from __future__ import annotations

import importlib
import sys
import types

_NAME = "sympy.tensor.tensor"


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str):  # only called for names the stand-in lacks
        if name.startswith("__"):
            raise AttributeError(name)
        del sys.modules[_NAME]
        real = importlib.import_module(_NAME)
        return getattr(real, name)


def install() -> None:
    """Put the stand-in in place, unless the real module is already loaded."""
    if _NAME in sys.modules:
        return
    stand_in = _StandIn(_NAME, __doc__)

    class TensExpr:  # noqa: D401 - placeholders for isinstance checks only
        """Stand-in: no dlcalc expression is a tensor expression."""

    class TensAdd(TensExpr):
        """Stand-in: no dlcalc expression is a tensor sum."""

    stand_in.TensExpr = TensExpr
    stand_in.TensAdd = TensAdd
    stand_in.__file__ = __file__
    sys.modules[_NAME] = stand_in
