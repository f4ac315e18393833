"""Issue 16: text output fits the terminal, --brief is short, and answers are labelled."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys

import pytest

from conftest import readme_examples, run_cli

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


def _under_pty(argv: list[str], columns: int = 80) -> str:
    """What a terminal of ``columns`` shows for ``dlcalc argv`` (a real pseudo-terminal)."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "dlcalc", *argv], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            proc.kill()
            raise AssertionError("no output within 30 s")
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


PTY_CASES = [a for a in readme_examples() if a and a[0] in ("adam-step", "quadratic-gd", "sigmoid-step")]


@pytest.mark.parametrize("argv", PTY_CASES, ids=[" ".join(a)[:60] for a in PTY_CASES])
def test_no_line_is_wider_than_an_80_column_terminal(argv):
    from rich.cells import cell_len

    shown = _under_pty(argv, 80)
    assert "Answer" in shown
    wide = [line for line in shown.splitlines() if cell_len(line) > 80]
    assert not wide, wide[:3]


def test_a_pipe_gets_the_width_of_columns():
    from rich.cells import cell_len

    r = run_cli("quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "1,1", "--lr", "0.1", "--steps", "10")
    assert r.code == 0
    assert max(cell_len(line) for line in r.stdout.splitlines()) <= 80  # CliRunner: no terminal, 80 columns


def test_long_formulas_break_at_operators_with_a_hanging_indent():
    from dlcalc.render import Line, _wrap

    text = "    = " + " + ".join(f"{k}·x_{k}" for k in range(30))
    lines = _wrap(Line(text, None, math=True), 40)
    assert len(lines) > 1
    rendered = [ln.text + "".join(p for p, _ in ln.more) for ln in lines]
    assert all(len(r) <= 40 for r in rendered)
    assert all(r.startswith(" " * 10 + "+ ") for r in rendered[1:])  # hanging indent, operator first
    assert "".join(r.strip() + " " for r in rendered).split() == text.split()  # nothing lost


def test_matrices_print_in_two_dimensions():
    r = run_cli("quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "1,1", "--lr", "0.1")
    assert "⎡4  2⎤" in r.stdout and "⎣2  6⎦" in r.stdout


@pytest.mark.parametrize("argv", [a for a in readme_examples() if a and a[0] != "batch"],
                         ids=lambda a: " ".join(a)[:60])
def test_brief_is_the_answer_alone_in_at_most_12_lines(argv):
    r = run_cli(*argv, "--brief")
    assert r.code in (0, 1), r.stdout + r.stderr
    lines = r.stdout.rstrip("\n").splitlines()
    assert len(lines) <= 12, lines
    assert lines[0] == "Answer" and "Working" not in r.stdout and "Conventions" not in r.stdout


def test_brief_json_has_no_steps_and_the_same_result():
    args = ["adam-step", "--theta", "1", "--grad", "0.5", "--lr", "0.1"]
    full, brief = run_cli(*args, "--json").json(), run_cli(*args, "--json", "--brief").json()
    assert "steps" not in brief and brief["result"] == full["result"]
