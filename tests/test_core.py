"""The core value types and the SymPy start-up workaround (issue 15)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_importing_dlcalc_leaves_sympy_tensor_working():
    """After dlcalc's start-up saving, sympy.tensor's own code still sees the real classes."""
    code = textwrap.dedent("""
        import dlcalc.core, sympy
        x = sympy.Symbol("x")
        assert x + 1 + x == 2*x + 1          # Add.flatten through the stand-in
        from sympy.tensor.tensor import TensorIndexType, tensor_indices, TensorHead, TensExpr
        from sympy.tensor.toperators import PartialDerivative
        L = TensorIndexType("L"); i, j = tensor_indices("i j", L); A = TensorHead("A", [L])
        print(PartialDerivative(A(i), A(j))._perform_derivative())
        assert isinstance(A(i), TensExpr)
        assert (A(i) + A(i)).__class__.__name__ in ("TensMul", "TensAdd")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "KD(i, -j)"


def test_the_stand_in_saves_the_combinatorics_import():
    code = ("import sys, dlcalc.core, sympy; x = sympy.Symbol('x'); x + 1 + x; "
            "print('sympy.combinatorics' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_module_imported_before_dlcalc_is_left_alone():
    code = ("import sympy.tensor.tensor as real, sys, dlcalc.core; "
            "print(sys.modules['sympy.tensor.tensor'] is real)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
