"""One targeted start-up saving in SymPy, documented here because it is a workaround.

``sympy.core.add.Add.flatten`` runs ``from sympy.tensor.tensor import TensExpr, TensAdd``
on every call, only for an ``isinstance`` check.  The first call imports
``sympy.tensor.tensor`` and with it all of ``sympy.combinatorics``, which builds the
polyhedra of its ``polyhedron`` module at import time: 25-50 ms, a quarter of what a
homework case may cost above SymPy's own import.

So, until something else asks for it, ``sys.modules["sympy.tensor.tensor"]`` is a stand-in.
It has no attributes of its own; its module ``__getattr__`` answers by who asks:

* ``Add.flatten`` (recognised by its code object) gets placeholder classes that nothing is
  an instance of.  That is true, not a guess: a tensor expression can only exist once the
  real module has been imported, and then the stand-in is gone from ``sys.modules``.
* Anyone else gets the real module's attribute: the real module is imported on the spot
  and replaces the stand-in in ``sys.modules``, so ``from sympy.tensor.tensor import
  TensExpr`` anywhere else binds the real class (a test runs sympy.tensor's own
  ``PartialDerivative`` after importing dlcalc).

Importing dlcalc therefore changes nothing that other code in the same process can see.
"""

from __future__ import annotations

import importlib
import sys
import types

_NAME = "sympy.tensor.tensor"


class _Placeholder:
    """Stand-in for TensExpr/TensAdd inside Add.flatten: no object is an instance of it."""


class _StandIn(types.ModuleType):
    _flatten_code: types.CodeType | None = None
    _real: types.ModuleType | None = None

    def __getattr__(self, name: str):  # only called for names the stand-in lacks: all of them
        if name in ("TensExpr", "TensAdd") and self._real is None:
            caller = sys._getframe(1).f_code
            if caller is self._flatten_code:
                return _Placeholder
        if name.startswith("__") and self._real is None:
            raise AttributeError(name)
        return getattr(self._load(), name)

    def _load(self) -> types.ModuleType:
        if self._real is None:
            if sys.modules.get(_NAME) is self:
                del sys.modules[_NAME]
            real = importlib.import_module(_NAME)
            object.__setattr__(self, "_real", real)
        return self._real


def install() -> None:
    """Put the stand-in in place, unless the real module is already loaded."""
    if _NAME in sys.modules:
        return
    from sympy.core.add import Add

    stand_in = _StandIn(_NAME, __doc__)
    stand_in._flatten_code = Add.flatten.__func__.__code__
    stand_in.__file__ = __file__
    sys.modules[_NAME] = stand_in
