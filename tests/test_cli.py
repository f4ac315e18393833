"""The CLI shell: version, help, errors, renderers, safety, and the README contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import command_names, run_cli
from dlcalc import __version__
from dlcalc.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_version_and_help():
    r = run_cli("--version")
    assert r.code == 0 and r.stdout.strip() == f"dlcalc {__version__}"
    r = run_cli("--help")
    assert r.code == 0 and "param-count" in r.stdout


def test_help_and_version_do_not_import_sympy():
    code = ("import sys; sys.argv=['dlcalc','--version'];\n"
            "from dlcalc.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'sympy' not in sys.modules, 'sympy imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_python_dash_m_works():
    r = subprocess.run([sys.executable, "-m", "dlcalc", "param-count", "2", "3", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["result"]["total"] == 9


def test_every_command_has_an_example_in_its_help():
    names = command_names()
    assert "param-count" in names
    for name in names:
        r = run_cli(name, "--help")
        assert r.code == 0
        assert re.search(rf"Example: dlcalc {name}\b", r.stdout), name


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in command_names():
        assert f"dlcalc {name}" in readme, f"{name} has no README example"


def test_unknown_option_is_one_line_and_json_when_asked():
    r = run_cli("param-count", "2", "3", "--nope")
    assert r.code == 2 and r.stderr.startswith("error: No such option: --nope") and r.stderr.count("\n") == 1
    r = run_cli("param-count", "2", "3", "--nope", "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--nope"


def test_json_and_latex_together_is_an_error():
    r = run_cli("param-count", "2", "3", "--json", "--latex")
    assert r.code == 2 and r.json()["error"]["option"] == "--latex"


def test_markup_in_user_text_is_printed_literally():
    r = run_cli("param-count", "--layer", "dense in=3 out=[red]4[/red]")
    assert r.code == 2 and "[red]4[/red]" in r.stderr


def test_hostile_text_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for payload in ["__import__('os').system('touch CANARY')", "open('CANARY','w')",
                    "exec(\"open('CANARY','w')\")", "().__class__.__base__.__subclasses__()",
                    "lambda: open('CANARY','w')", "9**9**9"]:
        r = run_cli("param-count", payload, "3")
        assert r.code == 2, payload
        r = run_cli("param-count", "--layer", f"dense in={payload} out=3")
        assert r.code == 2, payload
    assert not (tmp_path / "CANARY").exists()


def test_timeout_is_a_clear_error(monkeypatch):
    import dlcalc.exercises.param_count as pc

    def slow(*a, **k):
        import time

        time.sleep(5)

    monkeypatch.setattr(pc, "solve", slow)
    r = run_cli("param-count", "2", "3", "--timeout", "0.2")
    assert r.code == 2 and "--timeout" in r.stderr


def test_digits_changes_decimals_only_in_text():
    r = run_cli("param-count", "2", "3", "--digits", "0")
    assert r.code == 2 and "--digits" in r.stderr


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_param_count_any_arguments_exit_0_or_2_without_traceback(words):
    words = [w for w in words if w not in ("--help", "-h")]  # help is help, not JSON
    r = run_cli("param-count", *words, "--json")
    assert r.code in (0, 2)
    out = json.loads(r.stdout)
    assert ("error" in out) == (r.code == 2)


def test_ci_script_builds_a_fresh_venv_and_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "venv" in ci
    assert "pip install -e '.[test]' && pytest" in readme
    assert "pip install . && dlcalc param-count 784 256 10" in readme


def test_long_runs_report_progress_through_the_hook(monkeypatch):
    from dlcalc import core

    seen = []

    def hook(iterable, total, label):
        seen.append((total, label))
        return iterable

    monkeypatch.setattr(core, "progress_hook", hook)
    assert run_cli("adam-step", "--theta", "1", "--loss", "theta**2", "--steps", "3000", "--json").code == 0
    assert run_cli("sigmoid-step", "--x", "1", "--t", "0", "--steps", "3000", "--json").code == 0
    assert run_cli("dropout-expectation", "--y", "1", "--u", "[1, 2]", "--w", "[0.5, 1]", "--alpha", "0.1",
                   "--samples", "5000", "--json").code == 0
    labels = {label for _, label in seen}
    assert {"Adam steps", "gradient steps", "Monte Carlo"} <= labels
    assert all(total >= 2000 for total, _ in seen)
    seen.clear()
    assert run_cli("adam-step", "--theta", "1", "--grad", "0.5", "--json").code == 0
    assert seen == []  # short runs show no bar


def test_shell_completion_completes_command_names():
    import os
    import subprocess
    import sys

    script = run_cli("--show-completion", "bash")
    assert script.code == 0 and "_dlcalc_completion" in script.stdout
    env = {**os.environ, "_DLCALC_COMPLETE": "complete_bash", "COMP_WORDS": "dlcalc adam", "COMP_CWORD": "1"}
    r = subprocess.run([sys.executable, "-c", "from dlcalc.cli import main; main()"], env=env,
                       capture_output=True, text=True)
    assert "adam-step" in r.stdout


def test_batch_job_reading_stdin_does_not_swallow_the_batch():
    lines = "\n".join([
        json.dumps({"command": "adam-step", "args": ["--theta", "-", "--grad", "1"]}),
        json.dumps({"command": "param-count", "args": ["2", "3"]}),
        json.dumps({"command": "param-count", "args": ["4", "5"]}),
    ]) + "\n"
    r = run_cli("batch", "-", input=lines)
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3]
    assert out[0]["exit_code"] == 2 and out[1]["result"]["total"] == 9 and out[2]["result"]["total"] == 25


def test_batch_reports_each_line_on_its_own(tmp_path):
    f = tmp_path / "jobs.jsonl"
    f.write_text('{"command": "param-count", "args": ["784", "256", "10"]}\nnot json\n'
                 '{"command": "nope", "args": []}\n{"command": "param-count", "args": ["0", "1"]}\n')
    r = run_cli("batch", str(f))
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.code == 0 and [o["exit_code"] for o in out] == [0, 2, 2, 2]
    assert out[0]["result"]["total"] == 785 * 256 + 257 * 10 and "steps" not in out[0]
    assert out[3]["error"]["option"] == "SIZES"


def test_a_non_utf8_console_gets_no_traceback():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    for extra in ([], ["--json"]):
        r = subprocess.run([sys.executable, "-m", "dlcalc", "adam-step", "--theta", "1", "--grad", "0.5", *extra],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0 and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["result"]["theta"] == pytest.approx(1 - 0.001 * 0.5 / (0.5 + 1e-8), rel=1e-12)


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--latex"]])
def test_no_colour_codes_when_piped(fmt):
    r = subprocess.run([sys.executable, "-m", "dlcalc", "param-count", "784", "256", "10", *fmt],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "\x1b[" not in r.stdout


def test_no_colour_codes_with_no_color_even_when_forced():
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "1"}
    r = subprocess.run([sys.executable, "-m", "dlcalc", "param-count", "784", "256", "10"],
                       capture_output=True, text=True, env=env)
    colour = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-8]|9[0-7]|4[0-8])(?:;[0-9]+)*m")
    assert r.returncode == 0 and not colour.search(r.stdout)  # no colour (bold may remain)


def test_no_command_clears_sympys_cache(monkeypatch):
    """``sympy.evaluate(False)`` and friends clear SymPy's whole cache; in ``batch`` that made
    every later exercise redo its work (the 1,000-exercise batch ran 2.6× slower)."""
    import shlex

    import sympy.core.cache

    cleared, original = [], sympy.core.cache.clear_cache
    for name, module in list(sys.modules.items()):
        if name.startswith("sympy") and getattr(module, "clear_cache", None) == original:
            monkeypatch.setattr(module, "clear_cache", lambda: cleared.append(1))
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    examples = re.findall(r"<!-- example: dlcalc (.+?) -->", readme)
    assert len(examples) >= 6
    for example in examples:
        assert run_cli(*shlex.split(example), "--json").code in ((0, 1) if "--check" in example else (0,)), example
    assert cleared == []


_README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
_EXAMPLES = re.findall(r"<!-- example: dlcalc (.+?) -->", _README) + [
    'dropout-expectation --n 2 --noise bernoulli --half',
    'quadratic-gd --H "[[2, 0], [0, 8]]" --w0 "[1, 1]" --lr eps --steps 2',
    'adam-step --theta 1 --grad 0.5 --check theta=0.9 --check m=0.05',
]


@pytest.mark.parametrize("example", _EXAMPLES)
def test_text_without_rich_is_what_rich_prints_to_a_pipe(example, monkeypatch):
    """Piped text skips Rich's console (to_plain); it must be the same bytes Rich would write."""
    import shlex

    import dlcalc.cli

    args = shlex.split(example)
    plain = run_cli(*args)
    monkeypatch.setattr(dlcalc.cli, "_plain_stdout", lambda: False)
    through_rich = run_cli(*args)
    assert plain.code == through_rich.code and plain.code in (0, 1)
    assert plain.stdout == through_rich.stdout


@pytest.mark.parametrize("args,key", [(["dropout-expectation", "--n", "2"], "expected_loss"),
                                      (["adam-step", "--theta", "1", "--grad", "0.5"], "history")])
def test_piped_text_does_not_load_richs_console(args, key):
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "dlcalc", *args],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    assert r.returncode == 0 and key in r.stdout
    assert "rich.console" not in r.stderr


@pytest.mark.parametrize("env,plain", [
    ({}, True), ({"FORCE_COLOR": "1"}, False), ({"FORCE_COLOR": ""}, True),
    ({"TTY_COMPATIBLE": "1"}, False), ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, True),
])
def test_plain_text_follows_richs_terminal_rules(env, plain, monkeypatch):
    from rich.console import Console

    import dlcalc.cli

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdout", open(os.devnull, "w"))  # not a terminal
    try:
        assert dlcalc.cli._plain_stdout() is plain
        assert Console().is_terminal is (not plain)  # Rich agrees
    finally:
        sys.stdout.close()


def test_a_non_utf8_pipe_gets_richs_ascii_table_and_odd_columns_no_traceback():
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    r = subprocess.run([sys.executable, "-m", "dlcalc", "adam-step", "--theta", "1", "--grad", "0.5"],
                       capture_output=True, text=True, encoding="latin-1", env=env)
    assert r.returncode == 0 and "t | g   | m    |" in r.stdout and "--+-----+" in r.stdout
    r = subprocess.run([sys.executable, "-m", "dlcalc", "param-count", "2", "3"],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "²", "LINES": "٣"})
    assert r.returncode == 0 and "Traceback" not in r.stderr and "total = 9" in r.stdout


def test_every_command_is_in_the_benchmark(tmp_path):
    """benchmarks/run.py measures every registered command (its own case or its example)."""
    import importlib.util

    from dlcalc import registry

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    measured = {c[1][1] for c in bench.cases(tmp_path) if len(c[1]) > 1}
    assert set(registry.names()) <= measured


def test_the_benchmark_can_time_every_readme_example():
    """``benchmarks/run.py --readme`` times each README example (a homework case) against
    the import floor, at the 1.3× target."""
    import importlib.util
    import shlex

    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    timed = bench.readme_cases(["dlcalc"])
    sys.path.insert(0, str(ROOT / "tools"))
    import readme

    wanted = [shlex.split(c)[1:] for c in readme.examples((ROOT / "README.md").read_text())]
    wanted = [a for a in wanted if a and a[0] != "batch" and "--plot" not in a]
    assert [c[1][1:] for c in timed] == wanted and len(wanted) > 20
    assert {c[3] for c in timed} == {1.3}
