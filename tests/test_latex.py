"""--latex output renders with a real TeX engine (KaTeX under Node.js), for every README example.

.ci/run installs KaTeX (npm package `katex`) into .ci/katex; without it this test is
skipped locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import readme as gen  # noqa: E402

KATEX = ROOT / ".ci" / "katex" / "node_modules" / "katex"
EXAMPLES = gen.examples((ROOT / "README.md").read_text())


def _katex_errors(blocks: list[str]) -> list:
    if not shutil.which("node") or not KATEX.exists():
        if os.environ.get("CI"):
            pytest.fail("KaTeX is not installed: .ci/run should have installed it")
        pytest.skip("node or KaTeX not installed (npm install --prefix .ci/katex katex)")
    r = subprocess.run(["node", str(ROOT / "tests" / "tools" / "katex_check.js")],
                       input=json.dumps(blocks), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_every_readme_example_renders_with_katex():
    blocks = []
    for example in EXAMPLES:
        r = run_cli(*shlex.split(example)[1:], "--latex")
        assert r.code in ((0, 1) if "--check" in example else (0,)), example
        tex = r.stdout.strip()
        assert tex.startswith("\\begin{align*}") and tex.endswith("\\end{align*}")
        blocks.append(tex)
    errors = _katex_errors(blocks)
    bad = [(e, err) for e, err in zip(EXAMPLES, errors) if err]
    assert not bad, bad


def test_a_broken_block_is_caught():
    """The renderer check itself can fail."""
    errors = _katex_errors(["\\begin{align*} \\frac{1}{ \\end{align*}", "x^2"])
    assert errors[0] and errors[1] is None


def test_inequality_chains_print_as_chains_in_latex_too():
    """A symbolic step's convergence condition reads 0 < ε < (5 − √5)/10 in --latex, as in
    the text, not SymPy's ``0 < eps \\wedge eps < …``; and it still renders."""
    r = run_cli("quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "1,1", "--lr", "eps", "--latex")
    assert r.code == 0
    assert r"\wedge" not in r.stdout
    assert r"0 < \mathrm{eps} < \frac{5 - \sqrt{5}}{10}" in r.stdout  # a name of letters is set upright
    assert _katex_errors([r.stdout.strip()]) == [None]


def test_other_conjunctions_print_with_words():
    import sympy

    from dlcalc.printing import TexPrinter

    x, y = sympy.symbols("x y")
    assert TexPrinter().doprint(sympy.And(x > 0, y > 1, evaluate=False)) in (
        r"x > 0 \text{ and } y > 1", r"y > 1 \text{ and } x > 0")
    assert TexPrinter().doprint(sympy.And(x > 0, x < 1)) == "0 < x < 1"
    assert TexPrinter().doprint(sympy.Or(x < 0, x > 1)) in (r"x < 0 \text{ or } x > 1", r"x > 1 \text{ or } x < 0")


def test_the_adam_example_shows_its_decimal_in_latex():
    """Issue 16: an answer that is not a short exact number shows ``\\approx`` its decimal in
    --latex too (θ after three Adam steps: 0.754989; the Adam recurrence in plain floats gives 0.75498885…)."""
    r = run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1",
                "--latex")
    assert r.code == 0
    assert r"\approx 0.754989" in r.stdout
