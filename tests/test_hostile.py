"""Issue 8: no input, however hostile, runs code, hangs, crashes or prints a traceback.

Every payload of the corpus goes into every option (and positional argument) of every
command, on top of a valid base exercise, through the real CLI with --json.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import typer
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import click_command, command_names, run_cli
from dlcalc.cli import app

CANARY = "CANARY"

#: a valid exercise per command, so that the payload under test is what gets judged
BASE = {
    "param-count": ["784", "256", "10"],
    "sigmoid-step": ["--x", "1", "--t", "0"],
    "adam-step": ["--theta", "1", "--grad", "0.5"],
    "bn-forward": ["1", "2", "3", "4"],
    "quadratic-gd": ["--H", "[[2,1],[1,3]]", "--w0", "[1,1]", "--lr", "0.1"],
    "dropout-expectation": ["--y", "1", "--u", "[1,2]", "--w", "[0.5,1]"],
}

PAYLOADS = [
    # code execution
    f"__import__('os').system('touch {CANARY}')",
    f"open('{CANARY}', 'w')",
    f"exec(\"open('{CANARY}','w')\")",
    f"eval(\"open('{CANARY}','w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__", "__builtins__", "lambda: 1", "[c for c in ()]", "{k: 1 for k in ()}",
    "globals()", "locals()", "getattr(x, 'y')", "'{0.__class__}'.format(1)", "f'{1+1}'",
    "%s%s%s", "import os", "x; y", "x if y else z", "(yield)", "await x", "x := 1",
    # hangs and blow-ups
    "9**9**9", "((9**9)**9999)**9999", "2**10**8", "factorial(10**9)", "10**10**10",
    "(" * 5000 + "1" + ")" * 5000, "-" * 50_000 + "1", "1+" * 30_000 + "1",
    "[" + ",".join(["1"] * 120_000) + "]", "x" * 100_000, "1e100000", "1" * 5000,
    "exp(exp(exp(100)))", "sqrt(sqrt(sqrt(2)))**100000",
    # non-finite and odd
    "nan", "inf", "-inf", "1e309", "zoo", "oo", "sqrt(-1)", "log(0)", "log(-1)", "1/0", "0**-1",
    "", " ", "[]", "[[]]", "[[1, 2], [3]]", "[[1], 2]", "x\x00y", "\u0661\u0662", "１２",
    "[red]x[/red]", "\x1b[31mred", "1\n2", ";;", "1e6", "-1", "0", "10**6", "True", "None",
    "@/nonexistent/file", "@", "-", "j", "1j", "0x", "1__0", "...", "π",
]


def _options(command):
    """The value-taking options and positional arguments of a command."""
    cmd = click_command(command)
    out = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            out.append(None)
        elif not getattr(p, "is_flag", False) and not p.hidden and "--help" not in p.opts \
                and p.name not in ("timeout",):
            out.append(max(p.opts, key=len))
    return out


def _judge(r, elapsed):
    assert r.code in (0, 2), (r.code, r.stdout[-300:], r.stderr[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)  # exactly one JSON object
    assert isinstance(out, dict)
    assert ("error" in out) == (r.code == 2)
    if r.code == 2:
        assert "\n" not in out["error"]["message"]
    assert "\x1b[" not in r.stdout
    assert elapsed < 10


COMMANDS = [c for c in BASE if c in command_names()]
GRID = [(c, o) for c in COMMANDS for o in _options(c)]


@pytest.mark.parametrize("command,option", GRID, ids=[f"{c}:{o or 'ARGS'}" for c, o in GRID])
def test_every_payload_in_every_option(command, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for payload in PAYLOADS:
        extra = [payload] if option is None else [option, payload]
        args = BASE[command] + extra if option is not None else extra
        t0 = time.monotonic()
        r = run_cli(command, *args, "--json", "--timeout", "3", input="")
        try:
            _judge(r, time.monotonic() - t0)
        except AssertionError as exc:
            raise AssertionError(f"{command} {option} {payload[:60]!r}: {exc}") from None
    assert not os.path.exists(tmp_path / CANARY)


@pytest.mark.parametrize("command", COMMANDS)
def test_markup_is_printed_literally_in_text_mode(command):
    opt = [o for o in _options(command) if o is not None][0]
    r = run_cli(command, *BASE[command], opt, "[red]x[/red]")
    assert r.code in (0, 2)
    assert "[red]x[/red]" in r.stdout + r.stderr
    assert "\x1b[" not in r.stdout + r.stderr


def _strategy_for(command):
    opts = [o for o in _options(command) if o is not None]
    value = st.one_of(st.text(max_size=20),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr),
                      st.integers(min_value=-10**30, max_value=10**30).map(str),
                      st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=4).map(str))
    return st.lists(st.tuples(st.sampled_from(opts), value), min_size=1, max_size=3)


@pytest.mark.parametrize("command", COMMANDS)
def test_arbitrary_values_exit_0_or_2_and_round_trip(command):
    import sympy

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)
    @given(_strategy_for(command))
    def prop(pairs):
        args = list(BASE[command])
        for opt, val in pairs:
            args += [opt, val]
        t0 = time.monotonic()
        r = run_cli(command, *args, "--json", "--timeout", "3", input="")
        _judge(r, time.monotonic() - t0)
        out = json.loads(r.stdout)
        if r.code == 0:
            for key, value in out["result"].items():
                exact = out["exact"][key]
                if isinstance(value, bool):
                    assert exact is value
                elif isinstance(value, (int, float)):
                    back = float(sympy.sympify(exact))
                    assert back == pytest.approx(value, rel=1e-9, abs=1e-300)

    prop()


HEAVY = [
    ["param-count", "((9**9)**9999)**9999", "2"],
    ["adam-step", "--theta", "[1, 2]", "--loss", "theta1**2 + theta2**2", "--steps", "100000"],
    ["quadratic-gd", "--H", "[[4,1,0],[1,3,1],[0,1,2]]", "--w0", "[1,-1,2]", "--lr", "0.05", "--steps", "1e9"],
    ["dropout-expectation", "--y", "1", "--u", "[1, 2, 3]", "--w", "[0.5, 1, 2]", "--alpha", "0.1",
     "--samples", "1000000"],
    ["sigmoid-step", "--x", "[[1, 2], [3, 4]]", "--t", "[0, 1]", "--w", "[1, 1]", "--steps", "10000"],
    ["dropout-expectation", "--n", "50"],
]


@pytest.mark.parametrize("args", HEAVY, ids=[a[0] for a in HEAVY])
def test_heavy_requests_end_within_10_s_and_1_gib(args, tmp_path):
    """In a real process limited to 1 GiB of address space: an answer or a clear error, in time."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "dlcalc", *args, "--json"], preexec_fn=limit,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    elapsed = time.monotonic() - t0
    assert r.returncode in (0, 2), r.stderr[-500:]
    assert "Traceback" not in r.stderr
    assert elapsed < 10, elapsed
    out = json.loads(r.stdout)
    assert ("error" in out) == (r.returncode == 2)
