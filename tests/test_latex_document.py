"""Issue 16: --latex-document compiles in pdflatex (the engine Overleaf uses), for every
README example and the heavy cases students met: no error, no missing or wrong glyph, no
overfull box over 30 pt, and the working breaks across pages.

.ci/run installs TeX Live (texlive-latex-base, -recommended, -fonts-recommended) and
poppler-utils; without them this test is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import readme_examples, run_cli

HEAVY = [
    ["quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "1,1", "--lr", "eps", "--newton"],
    ["sigmoid-step", "--x", "u", "--t", "0", "--steps", "2"],
    ["bn-forward", "1", "2", "3", "4", "--grad-out", "1,0,0,0"],
    ["dropout-expectation", "--y", "1", "--u", "[1, 2, -1]", "--w", "[0.5, -0.25, 1]", "--alpha", "0.1"],
    ["adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3", "--grad", "-0.2", "--lr", "0.1"],

]
CASES = [a for a in readme_examples() if a and a[0] != "batch" and "--check" not in a] + HEAVY
#: what pdflatex's OT1 fonts print for < > | typed as text, and what a lost glyph becomes
WRONG_GLYPHS = ("¡", "¿", "\ufffd")


def _tools() -> None:
    if not (shutil.which("pdflatex") and shutil.which("pdftotext")):
        if os.environ.get("CI"):
            pytest.fail("pdflatex/pdftotext missing: .ci/run should have installed TeX Live and poppler-utils")
        pytest.skip("pdflatex or pdftotext not installed (apt-get install texlive-latex-recommended poppler-utils)")


def compile_document(tex: str, tmp_path) -> tuple[str, str]:
    """(pdflatex's log, the PDF's text) of a document."""
    (tmp_path / "w.tex").write_text(tex, encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "w.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "w.log").read_text(errors="replace")
    assert r.returncode == 0, log[-3000:]
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "w.pdf", "-"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout
    return log, text


def problems(log: str, text: str) -> list[str]:
    bad = [m.group(0) for m in re.finditer(r"Overfull \\[hv]box \(([\d.]+)pt too \w+\)", log)
           if float(m.group(1)) > 30]
    bad += [line for line in log.splitlines() if "Missing character" in line or line.startswith("!")]
    bad += [f"wrong glyph {g!r} in the PDF" for g in WRONG_GLYPHS if g in text]
    return bad


@pytest.mark.parametrize("argv", CASES, ids=[" ".join(a)[:70] for a in CASES])
def test_latex_document_compiles_cleanly(argv, tmp_path):
    _tools()
    r = run_cli(*argv, "--latex-document")
    assert r.code == 0, r.stdout + r.stderr
    log, text = compile_document(r.stdout, tmp_path)
    assert not problems(log, text), problems(log, text)[:5]
    assert "Answer" in text and "Conventions" in text
    for name in ("Working",):
        assert name in text


def test_conventions_keep_their_symbols(tmp_path):
    _tools()
    r = run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--lr", "0.1", "--latex-document")
    log, text = compile_document(r.stdout, tmp_path)
    flat = " ".join(text.split())
    assert "m̂" in flat or "m\u0302" in flat or "ˆ" in flat, flat[:400]  # the hat of m̂_t survives
    assert "β" in flat and "¡" not in flat


def test_a_bad_document_is_caught(tmp_path):
    """The checker itself can fail: an overfull line and a wrong glyph are found."""
    _tools()
    tex = ("\\documentclass{article}\\begin{document}" + "x" * 400 + "\n\nif a < b\\end{document}")
    log, text = compile_document(tex, tmp_path)
    found = problems(log, text)
    assert any("Overfull" in p for p in found) and any("¡" in p for p in found)
