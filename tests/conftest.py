"""Shared test helpers: run the CLI in-process through Typer's CliRunner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from dlcalc.cli import app


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


def command_names() -> list[str]:
    """Every command of the app, exercises (from the registry) and batch."""
    return typer.main.get_command(app).list_commands(None)


def click_command(name: str):
    """The click command ``name`` as the app builds it."""
    return typer.main.get_command(app).get_command(None, name)


@pytest.fixture
def cli():
    return run_cli
