"""Shared test helpers: run the CLI in-process through Typer's CliRunner."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dlcalc.cli import app

#: text output is laid out for the terminal's width: tests see the width of a plain 80-column pipe
os.environ["COLUMNS"] = "80"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout must be exactly one JSON object."""
        return json.loads(self.stdout)


def run_cli(*args: str, input: str | None = None) -> Run:
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def run_json(command: str, *args: str) -> Any:
    """Run ``command`` with ``--json``; it must answer (exit 0) with one JSON object."""
    r = run_cli(command, *args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def close(a: Any, b: Any, rtol: float = 1e-12, atol: float = 1e-15) -> bool:
    """Whether numbers (or equally long nested lists of them) agree within rtol/atol
    (the one comparison of the suite: :func:`golden_compare.close`)."""
    from golden_compare import close as differences

    return not differences(a, b, rtol, atol=atol)


def command_names() -> list[str]:
    """Every command of the app, exercises (from the registry) and batch."""
    return typer.main.get_command(app).list_commands(None)


def click_command(name: str):
    """The click command ``name`` as the app builds it."""
    return typer.main.get_command(app).get_command(None, name)


@pytest.fixture
def cli():
    return run_cli


def solution_of(argv: list[str]):
    """The Solution a command line works out (argv without the shared output options),
    parsed by the real click command and solved through the registry."""
    from dlcalc import registry
    from dlcalc.core import Task

    name, rest = argv[0], list(argv[1:])
    ctx = click_command(name).make_context(name, rest)
    mod = registry.module(name)
    own = {o.param: ctx.params[o.param] for o in mod.COMMAND.options}
    return Task(mod.solve, mod.parse(**own)).run()


def readme_examples() -> list[list[str]]:
    """Every README example command line, as argv without the leading ``dlcalc``."""
    import shlex
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    import readme

    return [shlex.split(c)[1:] for c in readme.examples((root / "README.md").read_text())]


def plain_latex_and_rich_agree(args: list[str], monkeypatch: Any) -> None:
    """A command line clears no SymPy cache, its --latex is one align* block, and the text
    written for a pipe is the bytes Rich would write."""
    import sys

    import sympy.core.cache

    import dlcalc.cli

    cleared, original = [], sympy.core.cache.clear_cache
    for name, module in list(sys.modules.items()):
        if name.startswith("sympy") and getattr(module, "clear_cache", None) == original:
            monkeypatch.setattr(module, "clear_cache", lambda: cleared.append(1))
    plain = run_cli(*args)
    assert cleared == []
    tex = run_cli(*args, "--latex").stdout.strip()
    assert tex.startswith("\\begin{align*}") and tex.endswith("\\end{align*}")
    monkeypatch.setattr(dlcalc.cli, "_plain_stdout", lambda: False)
    through_rich = run_cli(*args)
    assert plain.code == through_rich.code == 0
    assert plain.stdout == through_rich.stdout  # piped text is the bytes Rich would write
