"""The worked example of CONTRIBUTING.md is a real exercise: registered, it works end to end."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def steps_exercise(monkeypatch):
    from dlcalc import registry

    code = re.findall(r"```python\n(.*?)```", (ROOT / "CONTRIBUTING.md").read_text(), re.S)[0]
    mod = types.ModuleType("dlcalc.exercises.steps")
    monkeypatch.setitem(sys.modules, "dlcalc.exercises.steps", mod)
    exec(compile(code, "CONTRIBUTING.md", "exec"), mod.__dict__)
    monkeypatch.setitem(registry.EXERCISES, "steps", ("dlcalc.exercises.steps", "Minibatch steps per epoch."))
    return mod


def test_the_contributing_example_is_a_working_command(steps_exercise):
    r = run_cli("steps", "--n", "50000", "--batch-size", "128", "--json")
    assert r.code == 0 and r.json()["result"] == {"steps_per_epoch": 391}  # ⌈50000/128⌉ = 391
    text = run_cli("steps", "--n", "50000", "--batch-size", "128").stdout
    assert "⌈50000/128⌉" in text
    wrong = run_cli("steps", "--n", "50000", "--batch-size", "128", "--check", "steps_per_epoch=390")
    assert wrong.code == 1 and "dropped the last partial batch" in wrong.stdout
    import dlcalc

    assert dlcalc.solve("steps", n=50000, batch_size=128, drop_last=True).result["steps_per_epoch"] == 390
