"""Issues 8 and 23: no input, however hostile, runs code, hangs, crashes, prints a traceback,
writes a file or reaches the terminal raw.

Every payload of the corpus goes into every option (and positional argument) of every
registered command, on top of a valid base exercise, through the real CLI with --json.
The commands, their options and their base exercises come from the registry (each
command's declared ``example``), so a command added later is covered without editing
this file.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import click_command, run_cli
from dlcalc import registry

CANARY = "CANARY"


def base_args(command: str) -> list[str]:
    """The command's own example (``COMMAND.example``) as arguments after the command name."""
    words = shlex.split(registry.command(command).example)
    assert words[:2] == ["dlcalc", command], f"{command}: example must start 'dlcalc {command}'"
    return words[2:]


COMMANDS = registry.names()
BASE = {c: base_args(c) for c in COMMANDS}

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
    "1" * 20_000 + "x", "[" + ", ".join(str(100 + i) for i in range(18)) + ", 1/3]",
    "[1" + " " * 100_000 + "x", "exp(exp(exp(100)))", "sqrt(sqrt(sqrt(2)))**100000",
    # non-finite and odd
    "nan", "inf", "-inf", "1e309", "zoo", "oo", "sqrt(-1)", "log(0)", "log(-1)", "1/0", "0**-1",
    "", " ", "[]", "[[]]", "[[1, 2], [3]]", "[[1], 2]", "x\x00y", "\u0661\u0662", "１２",
    "[red]x[/red]", "\x1b[31mred", "1\n2", ";;", "1e6", "-1", "0", "10**6", "True", "None",
    "@/nonexistent/file", "@", "-", "j", "1j", "0x", "1__0", "...", "π", "1inf", "-[1, 1]",
    "-[[1, 2], [3, 4]]", "+[1, 2]", "3#\x1b]8;;http://evil.example/\x1b\\CLICK\x1b]8;;\x1b\\",
    "2\u202e1", "\x1b[2J", "a__b", "xhat__2", "1e-300", "1e300", "sqrt(2)", "1-1e-300",
    # layer-spec and module-text shapes (param-count --layer, --from-torch and the like)
    "dense in=3 out=4", "conv2d in=3 out=16 k=x", "conv2d in=3 out=16 k=3x", "dense in=3#x out=4",
    "nn.Linear(3, 4)", "nn.Conv2d(3, 16, kernel_size=3)", "Linear(in_features=3, out_features=4, bias=True)",
    "(fc): Linear(in_features=784, out_features=10, bias=True)", "k=" + "9" * 400,
]

#: characters that must never reach the output raw (controls, BiDi overrides)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _options(command):
    """The value-taking options and positional arguments of a command (None for positional)."""
    cmd = click_command(command)
    out = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            out.append(None)
        elif not getattr(p, "is_flag", False) and not p.hidden and "--help" not in p.opts \
                and p.name not in ("timeout", "plot"):
            out.append(max(p.opts, key=len))
    return out


def _flags(command):
    cmd = click_command(command)
    return [max(p.opts, key=len) for p in cmd.params
            if p.param_type_name == "option" and getattr(p, "is_flag", False) and not p.hidden
            and p.name not in ("help", "json_out", "latex_out", "latex_document")
            and "--install-completion" not in p.opts and "--show-completion" not in p.opts]


def _judge(r, elapsed, limit=10):
    assert r.code in (0, 1, 2), (r.code, r.stdout[-300:], r.stderr[-300:])
    assert "Traceback" not in r.stdout + r.stderr
    out = json.loads(r.stdout)  # exactly one JSON object
    assert isinstance(out, dict)
    assert ("error" in out) == (r.code == 2)
    if r.code == 2:
        message = out["error"]["message"]
        assert "\n" not in message
        assert "could not compute this input" not in message, message  # an internal error, no option named
    assert not RAW.search(r.stdout), "a control or BiDi character reached the output raw"
    assert "\x1b" not in r.stdout + r.stderr
    assert elapsed < limit


GRID = [(c, o) for c in COMMANDS for o in _options(c)]


def _with(command, option, value):
    if option is None:
        return [value]  # the positional values alone
    return BASE[command] + [option, value]


@pytest.mark.parametrize("command,option", GRID, ids=[f"{c}:{o or 'ARGS'}" for c, o in GRID])
def test_every_payload_in_every_option(command, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for payload in PAYLOADS:
        t0 = time.monotonic()
        r = run_cli(command, *_with(command, option, payload), "--json", "--timeout", "3", input="")
        try:
            _judge(r, time.monotonic() - t0)
        except AssertionError as exc:
            raise AssertionError(f"{command} {option} {payload[:60]!r}: {exc}") from None
    assert not os.path.exists(tmp_path / CANARY)
    assert os.listdir(tmp_path) == []  # nothing written, nothing at all


@pytest.mark.parametrize("command", COMMANDS)
def test_the_base_example_of_every_command_works(command):
    r = run_cli(command, *BASE[command], "--json")
    assert r.code == 0, r.stdout[-300:]
    assert "result" in r.json()


@pytest.mark.parametrize("command", COMMANDS)
def test_markup_is_printed_literally_in_text_mode(command):
    opt = [o for o in _options(command) if o is not None][0]
    r = run_cli(command, *BASE[command], opt, "[red]x[/red]")
    assert r.code in (0, 2)
    assert "[red]x[/red]" in r.stdout + r.stderr
    assert "\x1b[" not in r.stdout + r.stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fmt", [[], ["--latex"]])
def test_control_characters_in_any_option_are_shown_as_escapes(command, fmt):
    """Text and LaTeX output and their errors: ESC and U+202E come back as \\x1b and \\u202e."""
    for option in _options(command):
        for payload in ("2\x1b[2J", "\u202e2", "dense in=3\x1b]8;;http://e/\x1b\\ out=4"):
            r = run_cli(command, *_with(command, option, payload), *fmt)
            assert r.code in (0, 1, 2)
            assert not RAW.search(r.stdout + r.stderr), (command, option, payload, r.stdout + r.stderr)


def _value_strategy():
    """Values of every shape the commands take: numbers, vectors, matrices, layer specs and
    module text, and odd text."""
    number = st.one_of(st.integers(min_value=-10**6, max_value=10**6).map(str),
                       st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.sampled_from(["1/3", "sqrt(2)", "pi", "x", "-x", "1e-300", "1e300", "0", "a__b"]))
    vector = st.lists(number, min_size=1, max_size=4).map(lambda v: "[" + ", ".join(v) + "]")
    matrix = st.integers(1, 3).flatmap(
        lambda n: st.lists(st.lists(number, min_size=n, max_size=n), min_size=1, max_size=3)).map(
        lambda rows: "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]")
    words = st.sampled_from(["dense", "conv2d", "conv1d", "lstm", "bn", "in=3", "out=4", "k=3", "k=3x5",
                             "k=x", "groups=2", "bias=false", "heads=2", "d=8", "nn.Linear(3, 4)",
                             "Conv2d(3, 16, kernel_size=(3, 3))", "(", ")", "=", ",", "#", "\x1b", "\u202e"])
    spec = st.lists(st.one_of(words, number), min_size=1, max_size=6).map(" ".join)
    return st.one_of(st.text(max_size=20), number, vector, matrix, spec)


def _strategy_for(command):
    opts = _options(command)
    flags = _flags(command)
    pair = st.tuples(st.sampled_from(opts), _value_strategy())
    return st.tuples(st.lists(pair, min_size=1, max_size=3),
                     st.lists(st.sampled_from(flags), max_size=2) if flags else st.just([]))


@pytest.mark.parametrize("command", COMMANDS)
def test_arbitrary_values_exit_0_1_or_2_and_round_trip(command, tmp_path, monkeypatch):
    import sympy

    monkeypatch.chdir(tmp_path)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True)
    @given(_strategy_for(command))
    def prop(case):
        pairs, flags = case
        args = list(BASE[command])
        positional = [v for o, v in pairs if o is None]
        if positional:
            args = positional  # positional values replace the example's
        for opt, val in pairs:
            if opt is not None:
                args += [opt, val]
        t0 = time.monotonic()
        r = run_cli(command, *args, *flags, "--json", "--timeout", "3", input="")
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
    assert os.listdir(tmp_path) == []


HEAVY = [
    ["param-count", "((9**9)**9999)**9999", "2"],
    ["adam-step", "--theta", "[1, 2]", "--loss", "theta1**2 + theta2**2", "--steps", "100000"],
    ["quadratic-gd", "--H", "[[4,1,0],[1,3,1],[0,1,2]]", "--w0", "[1,-1,2]", "--lr", "0.05", "--steps", "1e9"],
    ["dropout-expectation", "--y", "1", "--u", "[1, 2, 3]", "--w", "[0.5, 1, 2]", "--alpha", "0.1",
     "--samples", "1000000"],
    ["sigmoid-step", "--x", "[[1, 2], [3, 4]]", "--t", "[0, 1]", "--w", "[1, 1]", "--steps", "10000"],
    ["dropout-expectation", "--n", "50"],
]


def _import_floor() -> float:
    """Seconds to start Python and import SymPy, Typer and Rich here and now (a loaded
    machine starts slower; the bounds below are on top of it)."""
    import subprocess
    import sys

    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", "import sympy, typer, rich"], check=True)
    return time.monotonic() - t0


@pytest.mark.parametrize("args", HEAVY, ids=[a[0] for a in HEAVY])
def test_heavy_requests_end_within_the_timeout_and_1_gib(args, tmp_path):
    """In a real process limited to 1 GiB of address space: an answer or a clear error,
    at most --timeout (5 s) after the imports."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    floor = _import_floor()
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "dlcalc", *args, "--json", "--timeout", "5"], preexec_fn=limit,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60, cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert r.returncode in (0, 2), r.stderr[-500:]
    assert "Traceback" not in r.stderr
    assert elapsed < 5 + 2 * floor + 1.5, (elapsed, floor)
    out = json.loads(r.stdout)
    assert ("error" in out) == (r.returncode == 2)
    assert os.listdir(tmp_path) == []
