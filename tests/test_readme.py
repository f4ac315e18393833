"""The README's examples are the program's real output, and every command has one."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from conftest import command_names
from dlcalc.cli import app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import readme as gen  # noqa: E402

TEXT = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_setup_commands():
    head = TEXT[:600]
    assert "pip install . && dlcalc param-count 784 256 10" in head
    assert "pip install -e '.[test]' && pytest" in head


def test_every_command_has_a_readme_example():
    commands = set(command_names()) - {"batch"}
    examples = {e.split()[1] for e in gen.examples(TEXT)}
    missing = commands - examples
    assert not missing, f"commands without a README example: {sorted(missing)}"
    assert "dlcalc batch" in TEXT


def test_readme_examples_match_the_program():
    fresh = gen.regenerate(TEXT)
    if fresh != TEXT:
        import difflib

        diff = "".join(list(difflib.unified_diff(TEXT.splitlines(True), fresh.splitlines(True), n=1))[:60])
        raise AssertionError("README.md is out of date; run `python tools/readme.py`:\n" + diff)
