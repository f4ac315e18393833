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


def test_no_exercise_imports_a_printer_or_the_cli():
    """An exercise is a pure function: printing is the renderers' (issue 15).  Every module
    in dlcalc/exercises/ is read for its imports, lazy ones inside functions too."""
    import ast
    from pathlib import Path

    import dlcalc.exercises as pkg

    banned = ("dlcalc.printing", "dlcalc.render", "dlcalc.cli", "rich", "typer")
    bad = []
    for path in sorted(Path(pkg.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            names += [f"dlcalc.{a.name}" for a in getattr(node, "names", ())
                      if isinstance(node, ast.ImportFrom) and node.module == "dlcalc"]
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("rich", "typer") or n in banned]
    assert len(list(Path(pkg.__file__).parent.glob("*.py"))) > 15
    assert not bad, bad
