"""Issue 23: `dlcalc batch` fed by untrusted sources.

A batch line may not write (--plot) nor read (@PATH, -) unless the batch is started with
--files-from DIR, and then only the regular files under DIR; no message shows a file's
text; one bad line (not UTF-8, too long, too deep, a BOM, a timeout) is one error line and
the batch goes on.  Every check that loops over commands takes them from the registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import click_command, run_cli
from dlcalc import registry
from test_hostile import BASE, COMMANDS, _options

ROOT = Path(__file__).resolve().parents[1]
SECRET = "root:$6$SECRETHASH0123456789:19000:0:99999:7:::"


def jobs(*lines) -> str:
    return "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines)


def batch(text: str, *extra: str):
    r = run_cli("batch", "-", *extra, input=text)
    return r, [json.loads(line) for line in r.stdout.splitlines()]


def job(command, *args):
    return {"command": command, "args": list(args)}


PARAM = job("param-count", "3", "4")  # 3·4 + 4 = 16


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}


def run_batch_process(text: str | bytes, *args: str, cwd=None, timeout=120, script=None):
    """`dlcalc batch` in a real process (standard input a pipe)."""
    data = text.encode() if isinstance(text, str) else text
    cmd = [sys.executable, "-c", script] if script else [sys.executable, "-m", "dlcalc"]
    return subprocess.run([*cmd, "batch", *args], input=data, capture_output=True, timeout=timeout,
                          cwd=cwd, env=_env())


# --------------------------------------------------------------------------- writing


def test_a_batch_line_cannot_plot(tmp_path, monkeypatch):
    """The issue's line: --plot ../../planted.png would write outside the working folder."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    line = job("quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "[1,1]", "--lr", "0.1", "--plot", "../../planted.png")
    r, out = batch(jobs(line, PARAM))
    assert out[0]["exit_code"] == 2 and out[0]["error"]["option"] == "--plot"
    assert "cannot write" in out[0]["error"]["message"]
    assert out[1]["result"]["total"] == 16
    assert not (tmp_path / "planted.png").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("command", [c for c in COMMANDS if registry.command(c).plot])
def test_no_plotting_command_writes_from_a_batch(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("x.png", str(tmp_path / "y.png"), ".png"):
        r, out = batch(jobs(job(command, *BASE[command], "--plot", name)))
        assert out[0]["exit_code"] == 2 and out[0]["error"]["option"] == "--plot"
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- reading


def test_a_batch_line_cannot_read_files_and_no_message_shows_their_text(tmp_path):
    secret = tmp_path / "shadow"
    secret.write_text(SECRET + "\n")
    lines = [job("sigmoid-step", "--x", f"@{secret}", "--t", "0"),
             job("adam-step", "--theta", "1", "--grad", f"@{secret}"),
             job("bn-forward", f"@{secret}"),
             job("adam-step", "--theta", "1", "--grad", "1", "--grad", "-"),
             PARAM]
    r, out = batch(jobs(*lines))
    assert [o["exit_code"] for o in out] == [2, 2, 2, 2, 0]
    for o in out[:3]:
        assert "cannot read files inside dlcalc batch" in o["error"]["message"]
        assert "--files-from" in o["error"]["message"]
    assert "standard input" in out[3]["error"]["message"]
    assert "SECRET" not in r.stdout and "root:" not in r.stdout


def test_no_option_of_any_command_reads_a_file_or_stdin_in_a_batch(tmp_path):
    """Every value-taking option of every registered command, given @FILE and -, in a real
    process watched by an audit hook: the file is never opened, nothing is written, the
    error shows none of its text, and every line is answered."""
    folder = tmp_path / "private"
    folder.mkdir()
    secret = folder / "secret.txt"
    secret.write_text(SECRET)
    lines = []
    for command in COMMANDS:
        for option in _options(command):
            for value in (f"@{secret}", "-"):
                args = [value] if option is None else [*BASE[command], option, value]
                lines.append(job(command, *args))
    lines.append(PARAM)
    hook = textwrap.dedent(f"""
        import os, sys
        WATCH = {str(folder)!r}
        def hook(event, args):
            if event == "open" and args and isinstance(args[0], (str, bytes)):
                path = os.fsdecode(args[0])
                mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
                flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
                writing = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR)
                if WATCH in path:
                    os.write(2, b"OPENED " + path.encode() + b"\\n")
                elif writing and path != os.devnull:
                    os.write(2, b"WROTE " + path.encode() + b"\\n")
        from dlcalc.cli import main
        sys.argv = ["dlcalc"] + sys.argv[1:]
        sys.addaudithook(hook)
        main()
    """)
    r = run_batch_process(jobs(*lines), "-", cwd=tmp_path, script=hook, timeout=600)
    err = r.stderr.decode()
    assert "OPENED" not in err and "WROTE" not in err, err[-2000:]
    assert r.returncode == 0, err[-500:]
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(out) == len(lines) and out[-1]["result"]["total"] == 16
    assert SECRET[:12] not in r.stdout.decode()
    for o in out[:-1]:
        assert o["exit_code"] == 2
        assert "could not compute" not in o["error"]["message"]


def test_a_job_reading_dev_stdin_does_not_swallow_the_batch():
    """1501 lines in: 1501 lines out (the issue had 170 out, exit 0)."""
    lines = [job("sigmoid-step", "--x", "@/dev/stdin", "--t", "0"),
             job("sigmoid-step", "--x", "@/proc/self/fd/0", "--t", "0")] + [PARAM] * 1499
    r = run_batch_process(jobs(*lines), "-")
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert r.returncode == 0 and len(out) == 1501
    assert [o["exit_code"] for o in out[:2]] == [2, 2]
    assert all(o["result"]["total"] == 16 for o in out[2:])


def test_files_from_allows_only_regular_files_under_the_folder(tmp_path):
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "x.txt").write_text("0.5")
    (allowed / "sub" / "h.csv").write_text("2,1\n1,3\n")
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET)
    (allowed / "link_out").symlink_to(outside)
    (allowed / "link_in").symlink_to(allowed / "x.txt")
    (allowed / "dir_out").symlink_to(tmp_path)
    os.mkfifo(allowed / "fifo")
    q = ["--w0", "[1, 1]", "--lr", "0.1"]
    lines = [
        job("sigmoid-step", "--x", "@x.txt", "--t", "0"),                        # 1 relative to DIR
        job("sigmoid-step", "--x", f"@{allowed / 'x.txt'}", "--t", "0"),         # 2 absolute, inside
        job("quadratic-gd", "--H", "@sub/h.csv", *q),                            # 3 a subfolder
        job("sigmoid-step", "--x", "@link_in", "--t", "0"),                      # 4 a link that stays inside
        job("sigmoid-step", "--x", "@../outside.txt", "--t", "0"),               # 5 ..
        job("sigmoid-step", "--x", f"@{outside}", "--t", "0"),                   # 6 absolute, outside
        job("sigmoid-step", "--x", "@link_out", "--t", "0"),                     # 7 a link that leaves
        job("sigmoid-step", "--x", "@dir_out/outside.txt", "--t", "0"),          # 8 through a linked folder
        job("sigmoid-step", "--x", "@sub/../../outside.txt", "--t", "0"),        # 9
        job("sigmoid-step", "--x", "@fifo", "--t", "0"),                         # 10 not a regular file
        job("sigmoid-step", "--x", "@/dev/stdin", "--t", "0"),                   # 11
        job("sigmoid-step", "--x", "-", "--t", "0"),                             # 12
        job("sigmoid-step", "--x", "@missing.txt", "--t", "0"),                  # 13
        job("sigmoid-step", "--x", "@sub", "--t", "0"),                          # 14 a folder
        PARAM,
    ]
    t0 = time.monotonic()
    r, out = batch(jobs(*lines), "--files-from", str(allowed))
    assert time.monotonic() - t0 < 60  # the FIFO is not waited on
    codes = [o["exit_code"] for o in out]
    assert codes == [0, 0, 0, 0] + [2] * 10 + [0], [o.get("error") for o in out]
    assert out[0]["inputs"]["x"] == "1/2" and out[1]["inputs"]["x"] == "1/2" and out[3]["inputs"]["x"] == "1/2"
    assert out[2]["inputs"]["H"] == "[[2, 1], [1, 3]]"
    for o in out[4:9]:
        assert "outside the --files-from folder" in o["error"]["message"], o
    assert "not a regular file" in out[9]["error"]["message"]
    assert "outside" in out[10]["error"]["message"]
    assert "standard input" in out[11]["error"]["message"]
    assert "SECRET" not in r.stdout


def test_files_from_must_be_a_folder(tmp_path):
    r = run_cli("batch", "-", "--files-from", str(tmp_path / "nope"), input=jobs(PARAM))
    assert r.code == 2 and "--files-from must name a folder" in r.stderr


@pytest.mark.parametrize("content,hidden", [
    (SECRET, "SECRETHASH"), ("[[1, 2], [3, x_y_zSECRET1]]", "SECRET1"), ("1e999SECRET", "SECRET"),
    ("κSECRETκ", "κ"), ("sqrt(SECRETNAME)", "SECRETNAME"), ("1/0SECRET", "SECRET"),
    ("beta", "beta"), ("nan", "nan"), ("'quoted SECRET'", "SECRET"),
])
def test_no_error_message_shows_a_files_text(content, hidden, tmp_path):
    """On the command line too (``--x @/etc/shadow``): the file is named, its text is not."""
    f = tmp_path / "f.txt"
    f.write_text(content)
    for args in (["sigmoid-step", "--x", f"@{f}", "--t", "0"], ["quadratic-gd", "--H", f"@{f}", "--w0", "[1, 1]",
                                                                 "--lr", "0.1"],
                 ["adam-step", "--theta", "1", "--grad", f"@{f}"], ["bn-forward", f"@{f}"],
                 ["adam-step", "--theta", "1", "--loss", f"@{f}", "--steps", "1"]):
        for fmt in ([], ["--json"]):
            r = run_cli(*args, *fmt)
            if r.code == 0:
                continue  # a valid value: the answer is the point
            assert r.code == 2
            assert hidden not in r.stdout + r.stderr, (args, r.stdout + r.stderr)
    r = run_cli("sigmoid-step", "--x", "-", "--t", "0", input=SECRET)
    assert r.code == 2 and "SECRET" not in r.stdout + r.stderr


# --------------------------------------------------------------------------- bad lines


def test_each_bad_line_is_one_error_line_and_the_batch_goes_on():
    data = (b"\xef\xbb\xbf" + jobs(PARAM).encode()          # 1 a UTF-8 BOM (Windows editors)
            + b"\xff\xfe not utf-8\n"                       # 2
            + ("[" * 100_000 + "]" * 100_000 + "\n").encode()  # 3 deep nesting
            + b'{"command": ' + b"[" * 50_000 + b"\n"       # 4 deep and broken
            + b"not json\n"                                 # 5
            + b"[1, 2]\n" + b"null\n"                       # 6, 7
            + b'{"args": []}\n'                             # 8
            + b'{"command": "nope\\u001b[2J\\u202e"}\n'     # 9
            + b'{"command": "param-count", "args": "3 4"}\n'  # 10
            + b"\n" + jobs(PARAM).encode()                  # 11 blank, 12
            + b"\x00" * 1000 + b"\n"                        # 13
            + jobs(job("bn-forward", "1", "-hx", "3")).encode()  # 14
            + jobs(job("bn-forward", "1", "2", "--help")).encode()  # 15
            + jobs(PARAM).encode().rstrip(b"\n"))           # 16 no final newline
    r = run_batch_process(data, "-")
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-500:]
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16]
    codes = {o["line"]: o["exit_code"] for o in out}
    assert codes == {1: 0, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 2, 10: 2, 12: 0, 13: 2, 14: 2, 15: 2, 16: 0}
    assert out[0]["result"]["total"] == 16 and out[-1]["result"]["total"] == 16
    for o in out:
        if o["exit_code"] == 2:
            assert o["error"]["message"] and "\n" not in o["error"]["message"]
    assert "UTF-8" in out[1]["error"]["message"] and "nested too deeply" in out[2]["error"]["message"]
    assert "\x1b" not in r.stdout.decode() and "\u202e" not in r.stdout.decode()
    assert "-hx" in out[12]["error"]["message"] and "--help" in out[13]["error"]["message"]


def test_a_line_over_the_limit_is_an_error_and_dev_zero_stops_the_batch():
    from dlcalc.cli import MAX_LINE_BYTES

    long_line = b'{"command": "param-count", "args": ["' + b"1" * (MAX_LINE_BYTES + 10) + b'"]}\n'
    r = run_batch_process(long_line + jobs(PARAM).encode(), "-")
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert r.returncode == 0 and [o["exit_code"] for o in out] == [2, 0]
    assert f"{MAX_LINE_BYTES:,} bytes" in out[0]["error"]["message"]
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "dlcalc", "batch", "/dev/zero"], capture_output=True, timeout=120,
                       env=_env())
    assert time.monotonic() - t0 < 60
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert r.returncode == 2 and len(out) == 1 and "stops" in out[0]["error"]["message"]
    assert b"Traceback" not in r.stderr and b"MemoryError" not in r.stderr


def test_random_bytes_give_error_lines_not_a_traceback():
    data = os.urandom(200_000) + b"\n" + jobs(PARAM).encode()
    r = run_batch_process(data, "-")
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert out[-1]["result"]["total"] == 16
    assert all(o["exit_code"] == 2 for o in out[:-1])


@pytest.mark.parametrize("command", [c for c in COMMANDS if registry.command(c).dash_values])
def test_a_short_option_group_is_an_error_not_the_help(command):
    """`bn-forward 1 -hx 3` printed the help (exit 0), in a batch exit_code 0 and an error."""
    args = [BASE[command][0], "-hx", BASE[command][-1]]
    r = run_cli(command, *args)
    assert r.code == 2 and r.stderr.count("\n") == 1 and "-hx" in r.stderr and "Usage" not in r.stdout
    for bad in ("-theta", "-xh", "-1h"):
        r = run_cli(command, BASE[command][0], bad, "--json")
        assert r.code == 2 and r.json()["error"]["option"] == bad
    r, out = batch(jobs(job(command, *args)))
    assert out[0]["exit_code"] == 2 and "-hx" in out[0]["error"]["message"]
    assert run_cli(command, "1", "-2", "-1.5e-3", "--json").code == 0  # negative values still work


def test_an_error_is_never_exit_code_0_in_a_batch():
    r, out = batch(jobs(job("param-count", "--help"), job("bn-forward", "-h"), PARAM))
    assert [o["exit_code"] for o in out] == [2, 2, 0]
    assert all("error" in o for o in out[:2])


# --------------------------------------------------------------------------- timeouts


def test_the_issues_timeout_reproduction_answers_every_later_line():
    """A --timeout that fires while SymPy imports left `module 'sympy' has no attribute
    'logic'` (a traceback) or 'polys' on every later line."""
    text = jobs(job("param-count", "3", "4", "--timeout", "0.1"), job("param-count", "3", "4"))
    r = run_batch_process(text, "-")
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-800:]
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(out) == 2 and out[0]["exit_code"] in (0, 2) and out[1]["result"]["total"] == 16


@pytest.mark.parametrize("first", COMMANDS)
def test_a_timeout_on_the_first_line_leaves_the_process_able_to_answer(first):
    lines = [job(first, *BASE[first], "--timeout", "0.1")] + [job(c, *BASE[c]) for c in COMMANDS]
    r = run_batch_process(jobs(*lines), "-")
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr[-800:]
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    assert out[0]["exit_code"] == 0 or "--timeout" in out[0]["error"]["message"]
    assert [o["exit_code"] for o in out[1:]] == [0] * len(COMMANDS), [o.get("error") for o in out[1:]]


def test_modules_imported_under_a_deadline_that_fired_are_imported_afresh(tmp_path, monkeypatch, capsys):
    """A package whose __init__ was cut by the alarm keeps its finished submodules but loses
    their attributes (sympy.logic): the modules imported under the deadline are dropped."""
    import typer

    from dlcalc import cli

    pkg = tmp_path / "slowpkg_dlcalc_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .part import value\nimport time\ntime.sleep(float(__import__('os')"
                                     ".environ.get('SLOWPKG_SLEEP', '0')))\n")
    (pkg / "part.py").write_text("value = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SLOWPKG_SLEEP", "2")

    def compute():
        import slowpkg_dlcalc_test

        return slowpkg_dlcalc_test.part.value  # an attribute set only by a finished import

    opts = dict(json_out=True, latex_out=False, digits="6")
    with pytest.raises(typer.Exit):
        cli.run(compute, timeout="0.2", **opts)
    assert "--timeout" in capsys.readouterr().out
    assert not any(m.startswith("slowpkg_dlcalc_test") for m in sys.modules)
    monkeypatch.setenv("SLOWPKG_SLEEP", "0")
    assert cli._call(compute, 5) == 42


# --------------------------------------------------------------------------- performance


def test_a_batch_line_costs_no_more_than_before(tmp_path):
    """The checks of this issue add no measurable work per line: 200 lines in a few seconds."""
    f = tmp_path / "jobs.jsonl"
    f.write_text(jobs(*[PARAM] * 200))
    t0 = time.process_time()
    r = run_cli("batch", str(f))
    assert r.code == 0 and len(r.stdout.splitlines()) == 200
    assert time.process_time() - t0 < 20
