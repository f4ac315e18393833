"""Issue 23: the cases found as an attacker and as a careless user, one test each.

Lost output (closed or full streams, COLUMNS=0), raw control characters, a parser that
backtracks, and internal errors that reached the user without naming the option.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy

from conftest import run_cli
from dlcalc import registry
from test_hostile import BASE, COMMANDS, RAW, _options

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from dlcalc.cli import main; sys.argv[0] = 'dlcalc'; main()"


def _env(**extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    return env


def dlcalc(*args, entry=True, **kw):
    """The installed entry point (console script) or ``python -m dlcalc`` in a real process."""
    cmd = [sys.executable, "-c", ENTRY] if entry else [sys.executable, "-m", "dlcalc"]
    kw.setdefault("env", _env())
    kw.setdefault("timeout", 120)
    return subprocess.run([*cmd, *args], **kw)


def _one_error_line(err: bytes | str) -> str:
    text = err.decode() if isinstance(err, bytes) else err
    assert "Traceback" not in text and "Exception ignored" not in text, text[-800:]
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    return lines[0]


# --------------------------------------------------------------------------- no lost results


@pytest.mark.parametrize("entry", [True, False])
def test_closed_stderr_still_prints_the_answer(entry):
    """`dlcalc param-count 3 4 2>&-` printed nothing and exited 1."""
    r = dlcalc("param-count", "3", "4", entry=entry, stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert r.returncode == 0 and b"total = 16" in r.stdout
    r = dlcalc("param-count", "3", "3.5", entry=entry, stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert r.returncode == 2 and r.stdout == b""


@pytest.mark.parametrize("args", [["param-count", "3", "4"], ["param-count", "3", "4", "--json"],
                                  ["param-count", "3", "4", "--latex"], ["--version"], ["param-count", "--help"],
                                  ["param-count", "3", "x4x", "--json"], []])
@pytest.mark.parametrize("entry", [True, False])
def test_a_full_disk_is_one_line_and_exit_1(args, entry):
    with open("/dev/full", "w") as full:
        r = dlcalc(*args, entry=entry, stdout=full, stderr=subprocess.PIPE)
    assert r.returncode in (1, 2)
    assert "No space left on device" in _one_error_line(r.stderr)


def test_a_full_disk_in_a_batch_is_one_line():
    with open("/dev/full", "w") as full:
        r = dlcalc("batch", "-", stdout=full, stderr=subprocess.PIPE,
                   input=b'{"command": "param-count", "args": ["3", "4"]}\n')
    assert r.returncode == 1
    _one_error_line(r.stderr)


@pytest.mark.parametrize("args", [["param-count", "3", "4", "--json"], ["param-count", "3", "4"], ["--version"]])
@pytest.mark.parametrize("entry", [True, False])
def test_a_closed_stdout_is_one_line_and_exit_1(args, entry):
    r = dlcalc(*args, entry=entry, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert r.returncode == 1
    assert "cannot write the output" in _one_error_line(r.stderr)


def test_a_closed_pipe_ends_quietly():
    p = subprocess.Popen([sys.executable, "-c", ENTRY, "param-count", "784", "256", "10"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=_env())
    p.stdout.close()  # the reader is gone (`| head -0`)
    err = p.stderr.read()
    p.stderr.close()
    assert p.wait(timeout=120) == 1
    assert b"Traceback" not in err and b"Exception ignored" not in err


def _on_a_terminal(args, **env):
    """Run in a pseudo-terminal; (exit code, everything printed)."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "dlcalc", *args], stdin=slave, stdout=slave, stderr=slave,
                         env=_env(TERM="xterm", **env), close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_columns_0_on_a_terminal_prints_the_answer():
    """On a terminal with COLUMNS=0 nothing was printed and the exit code was 0."""
    code, text = _on_a_terminal(["param-count", "3", "4"], COLUMNS="0")
    assert code == 0 and "16" in text and "Answer" in text


# --------------------------------------------------------------------------- nothing raw


def test_a_hash_comment_in_a_layer_spec_is_refused_and_nothing_raw_is_printed():
    spec = "dense in=3#\x1b]8;;http://evil.example/\x1b\\CLICK\x1b]8;;\x1b\\ out=4"
    for fmt in ([], ["--json"], ["--latex"]):
        r = run_cli("param-count", "--layer", spec, *fmt)
        assert r.code == 2 and not RAW.search(r.stdout + r.stderr)
        assert "'#'" in r.stdout + r.stderr
    code, text = _on_a_terminal(["param-count", "--layer", spec])
    assert code == 2 and "\x1b]8" not in text and "CLICK" not in text


@pytest.mark.parametrize("args", [
    ["param-count", "2.5\x1b[2J", "10"], ["param-count", "2\u202e", "10"],
    ["param-count", "3", "4", "--x\x1b[2J\u202e"], ["bn-forward", "1", "2", "-q\x1b[2J\u202e"],
    ["adam-step", "--theta", "1", "--grad", "0.5", "--lr", "\x1b]0;title\x07"],
    ["no-such-command\x1b[2J"], ["param-count", "3", "4", "--check", "total\x1b[2J=16"],
])
def test_error_messages_show_controls_and_bidi_as_escapes(args):
    for fmt in ([], ["--json"]):
        r = run_cli(*args, *fmt)
        assert r.code == 2
        assert not RAW.search(r.stdout + r.stderr), r.stdout + r.stderr
        assert "\\x1b" in r.stdout + r.stderr or "\\u202e" in r.stdout + r.stderr or "\\x07" in r.stdout + r.stderr


def _nasty_solution(inp, **flags):
    from dlcalc.core import Math, Solution, Step

    bad = "\x1b]8;;http://evil.example/\x1b\\CLICK\x1b]8;;\x1b\\\u202e\x07\x9b31m\r"
    return Solution(
        command="param-count", inputs={"layers": "dense" + bad},
        conventions={"note" + bad: "convention" + bad},
        steps=(Step(title="title" + bad, formula=Math("f" + bad, r"f" + bad), substituted=None,
                    value=sympy.Integer(16), note="note" + bad, section="section" + bad),),
        result={"total": sympy.Integer(16), "layers": [{"name": "dense" + bad, "total": 16}]},
        notes=("remark" + bad,))


@pytest.mark.parametrize("mode", ["plain", "rich", "json", "latex"])
def test_user_text_in_the_working_and_tables_is_shown_as_escapes(mode, monkeypatch):
    """Whatever an exercise puts in its solution, every renderer shows it escaped."""
    import dlcalc.cli

    mod = registry.module("param-count")
    monkeypatch.setattr(mod, "solve", _nasty_solution)
    if mode == "rich":
        monkeypatch.setattr(dlcalc.cli, "_plain_stdout", lambda: False)
    fmt = {"json": ["--json"], "latex": ["--latex"]}.get(mode, [])
    r = run_cli("param-count", "3", "4", *fmt)
    assert r.code == 0, r.stdout + r.stderr
    assert not RAW.search(r.stdout), repr(r.stdout[:500])
    if mode == "json":
        out = r.json()
        assert out["inputs"]["layers"].startswith("dense\\x1b]8")
        assert "\\u202e" in out["result"]["layers"][0]["name"]
    elif mode == "latex":
        assert r"\textbackslash{}x1b" in r.stdout
    else:
        assert "\\x1b]8;;http://evil.example/" in r.stdout and "\\u202e" in r.stdout
        assert "\\x0d" in r.stdout  # a carriage return would overwrite the line


def test_visible_keeps_ordinary_text():
    from dlcalc.cli import visible

    s = "β₁ = 0.9 → m̂ₜ ≈ 0.5\tok\nnext"
    assert visible(s) is s
    assert visible("a\x1bb\u202ec\x7f\x85") == "a\\x1bb\\u202ec\\x7f\\x85"


# --------------------------------------------------------------------------- linear parsing


@pytest.mark.parametrize("text", [
    "[" + ", ".join(str(100 + i) for i in range(18)) + ", 1/3]",  # the issue's 19 values: 8 s
    "1" * 20_000 + "x",                                          # 19 s to refuse
    "1" * 200_000 + "x", "[" + "1" * 200_000 + "x", "[1" + " " * 200_000 + "x",
    "[[1, 2]" + " " * 200_000 + "x", "[1, 2" + " ," * 100_000 + "x", "1," * 100_000 + "1/3",
    "[" + "0" * 200_000 + "1x", "[1e" + "1" * 200_000 + "x", "[[1" + ", 1" * 40_000 + "], [1/3]]",
])
def test_the_fast_number_parser_is_linear(text):
    from dlcalc.errors import InputError
    from dlcalc.parse import _PLAIN_MATRIX_RE, _PLAIN_NUM_RE, _PLAIN_VECTOR_RE, parse_value_fast

    t0 = time.process_time()
    for rx in (_PLAIN_NUM_RE, _PLAIN_VECTOR_RE, _PLAIN_MATRIX_RE):
        rx.match(text)
    assert time.process_time() - t0 < 1.0
    t0 = time.process_time()
    try:
        parse_value_fast(text, "--x")
    except InputError:
        pass
    assert time.process_time() - t0 < 15  # the ordinary ast walk of up to 100,000 entries


def test_bn_forward_parses_the_issues_inputs_at_once():
    t0 = time.monotonic()
    r = run_cli("bn-forward", "--x", "[" + ", ".join(str(100 + i) for i in range(18)) + ", 1/3]", "--json")
    assert r.code == 0 and time.monotonic() - t0 < 6
    t0 = time.monotonic()
    r = run_cli("bn-forward", "--x", "1" * 20_000 + "x", "--json")
    assert r.code == 2 and time.monotonic() - t0 < 3


# --------------------------------------------------------------------------- clear errors


def test_quadratic_gd_numbers_past_4300_digits_name_the_option():
    args = ["quadratic-gd", "--H", "[[2,1e300],[x,1]]", "--w0", "[1,1e300]", "--lr", "1e-300", "--steps", "6"]
    for fmt in ([], ["--json"], ["--latex"]):
        r = run_cli(*args, *fmt)
        # an error naming --steps, or (quadratic-gd's closed form since) an answer to 20 digits
        assert r.code in (0, 2) and "Traceback" not in r.stdout + r.stderr
        assert r.code == 0 or ("--steps" in r.stdout + r.stderr and "digits" in r.stdout + r.stderr)
    assert run_cli(*args[:-1], "3", "--json").code == 0


def _double_superscripts(tex: str) -> list[int]:
    """Where TeX would stop with "Double superscript": a second ^ on one atom, counting
    {\\hat{x}^{2}}^{2} (a group of one accented atom) as the same atom."""
    found = []
    tokens = re.findall(r"\\[A-Za-z]+|\\.|[{}^_]|\s+|.", tex)
    stack = [{"sup": False, "single": None}]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        top = stack[-1]
        if tok.isspace():
            pass
        elif tok == "{":
            stack.append({"sup": False, "single": None, "atoms": 0})
        elif tok == "}":
            inner = stack.pop() if len(stack) > 1 else {"sup": False, "atoms": 2}
            # a group holding one accented atom with a superscript keeps that superscript
            stack[-1]["sup"] = inner.get("sup") and inner.get("atoms", 0) == 1 and inner.get("accent", False)
        elif tok == "^":
            if top["sup"]:
                found.append(i)
            top["sup"] = True
            i += 1
            while i < len(tokens) and tokens[i].isspace():
                i += 1
            if i < len(tokens) and tokens[i] == "{":
                depth = 0
                while i < len(tokens):
                    depth += tokens[i] == "{"
                    depth -= tokens[i] == "}"
                    if depth == 0:
                        break
                    i += 1
        elif tok == "_":
            i += 1
            while i < len(tokens) and tokens[i].isspace():
                i += 1
            if i < len(tokens) and tokens[i] == "{":
                depth = 0
                while i < len(tokens):
                    depth += tokens[i] == "{"
                    depth -= tokens[i] == "}"
                    if depth == 0:
                        break
                    i += 1
        else:
            top["sup"] = False
            top["atoms"] = top.get("atoms", 0) + 1
            top["accent"] = tok in (r"\hat", r"\bar", r"\tilde", r"\vec", r"\dot")
            if top["accent"]:  # the accent and its argument are one atom
                i += 1
                while i < len(tokens) and tokens[i].isspace():
                    i += 1
                if i < len(tokens) and tokens[i] == "{":
                    depth = 0
                    while i < len(tokens):
                        depth += tokens[i] == "{"
                        depth -= tokens[i] == "}"
                        if depth == 0:
                            break
                        i += 1
        i += 1
    return found


def test_the_double_superscript_detector_can_fail():
    assert _double_superscripts(r"a^{b}^{2}") and _double_superscripts(r"{\hat{x}^{2}}^{2}")
    assert _double_superscripts(r"x_{1}^{2}^{3}")
    assert not _double_superscripts(r"\left(a^{b}\right)^{2} + {a^{b}}^{2} + x_{1}^{2} + \hat{x}^{2}")


ADAM_SUPERSCRIPTS = [
    ["--theta", "1", "--grad", "a__b", "--grad", "0.3"],
    ["--theta", "1", "--grad", "0.5", "--beta1", "q_b__c"],
    ["--theta", "1", "--grad", "xhat__2", "--amsgrad"],
    ["--theta", "1", "--grad", "0.5", "--grad", "0.1", "--beta2", "q__c", "--beta1", "xhat__t"],
]


@pytest.mark.parametrize("args", ADAM_SUPERSCRIPTS)
def test_adam_step_brackets_bases_that_carry_a_superscript(args):
    r = run_cli("adam-step", *args, "--latex")
    assert r.code == 0, r.stdout + r.stderr
    assert _double_superscripts(r.stdout) == [], r.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_writes_a_double_superscript_for_a_superscripted_symbol(command):
    for option in _options(command):
        for value in ("a__b", "xhat__2"):
            args = [value] if option is None else [*BASE[command], option, value]
            r = run_cli(command, *args, "--latex")
            if r.code == 0:
                assert _double_superscripts(r.stdout) == [], (command, option, value)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_adam_step_documents_with_superscripted_symbols_compile(tmp_path):
    for k, args in enumerate(ADAM_SUPERSCRIPTS):
        doc = run_cli("adam-step", *args, "--latex-document").stdout
        (tmp_path / f"d{k}.tex").write_text(doc)
        r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"d{k}.tex"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, [line for line in r.stdout.splitlines() if line.startswith("!")]


def test_sigmoid_step_scalar_x_and_vector_w_names_the_option():
    r = run_cli("sigmoid-step", "--x", "1", "--w", "[1, 2]", "--t", "0", "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--x"
    assert "2 weights" in r.json()["error"]["message"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sign_before_a_vector_names_the_option(command):
    """`-[1,1]` for any vector option was "could not compute this input (TypeError ...)"."""
    for option in _options(command):
        args = ["-[1, 1]"] if option is None else [*BASE[command], option, "-[1, 1]"]
        r = run_cli(command, *args, "--json")
        assert r.code in (0, 2)
        if r.code == 2:
            err = r.json()["error"]
            assert "could not compute" not in err["message"], (command, option, err)


def test_the_parser_refuses_a_signed_vector():
    from dlcalc.errors import InputError
    from dlcalc.parse import parse_value

    with pytest.raises(InputError, match="--w puts a sign before a vector"):
        parse_value("-[1, 1]", "--w")
    assert parse_value("+[1, 2]", "--w") == [1, 2]


def test_quadratic_gd_newton_on_a_numerically_singular_hessian_names_newton():
    r = run_cli("quadratic-gd", "--H", "[[pi/4,sqrt(2)],[1/sqrt(2),1e300]]", "--w0", "[0,pi/4]", "--lr", "2",
                "--steps", "1000000", "--newton", "--json")
    # an error naming --newton, or an answer (quadratic-gd now solves it in mpmath)
    assert r.code == 0 or (r.code == 2 and r.json()["error"]["option"] == "--newton")


def _adam_reference(beta2, grads, *, lr=0.001, beta1=0.9, eps=1e-8, theta=1.0):
    """Adam by hand at 400 digits (PyTorch's update), β₂ given as an mpmath number."""
    import mpmath

    with mpmath.workdps(400):
        th, m, v = mpmath.mpf(theta), mpmath.mpf(0), mpmath.mpf(0)
        b1, b2 = mpmath.mpf(beta1), mpmath.mpf(beta2)
        out = []
        for t, g in enumerate(grads, 1):
            g = mpmath.mpf(g)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
            th = th - mpmath.mpf(lr) * mh / (mpmath.sqrt(vh) + mpmath.mpf(eps))
            out.append((float(v), float(vh), float(th)))
    return out


@pytest.mark.parametrize("beta2,value", [
    ("sqrt(1-1e-300)", lambda mp: mp.sqrt(1 - mp.mpf(10) ** -300)),
    ("1-sqrt(2)*1e-300", lambda mp: 1 - mp.sqrt(2) * mp.mpf(10) ** -300),
    ("1-3e-40", lambda mp: 1 - 3 * mp.mpf(10) ** -40), ("sqrt(2)/2", lambda mp: mp.sqrt(2) / 2),
    ("1-1e-300", lambda mp: 1 - mp.mpf(10) ** -300),
], ids=["sqrt(1-1e-300)", "1-sqrt(2)e-300", "1-3e-40", "sqrt(2)/2", "1-1e-300"])
def test_adam_step_with_beta2_near_1_is_right_or_refused(beta2, value):
    """An irrational β₂ within 1e-300 of 1 gave v = 5.9e-126 for 1.25e-301 (noise from
    evalf) and θ off in the sixth digit."""
    import mpmath

    grads = ["0.5", "sqrt(2)", "0.3"]
    r = run_cli("adam-step", "--theta", "1", "--beta2", beta2, *[a for g in grads for a in ("--grad", g)], "--json")
    assert r.code == 0, r.stdout
    with mpmath.workdps(400):
        b2 = value(mpmath)
        ref = _adam_reference(b2, [0.5, mpmath.sqrt(2), 0.3])
    for h, (v, vh, th) in zip(r.json()["result"]["history"], ref):
        assert h["v"] == pytest.approx(v, rel=1e-12)
        assert h["v_hat"] == pytest.approx(vh, rel=1e-12)
        assert h["theta"] == pytest.approx(th, rel=1e-14)


def test_adam_step_refuses_an_undecidable_symbolic_beta_near_1():
    r = run_cli("adam-step", "--theta", "x", "--beta2", "sqrt(1-1e-300)", "--grad", "0.5", "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--beta2"


def test_bn_forward_with_irrational_gamma_and_tiny_momentum_answers():
    """Irrational γ and momentum 1e-300, exact (4 values) and numeric (70 values) paths."""
    for xs in ([1, 2, 3, 4], list(range(70))):
        args = [str(x) for x in xs] if len(xs) < 10 else ["--x", json.dumps(xs)]
        r = run_cli("bn-forward", *args, "--gamma", "sqrt(2)", "--momentum", "1e-300", "--json")
        assert r.code == 0, r.stdout[:300]
        out = r.json()["result"]
        m = len(xs)
        mean = sum(xs) / m
        var = sum((x - mean) ** 2 for x in xs) / m
        y = [math.sqrt(2) * (x - mean) / math.sqrt(var + 1e-5) for x in xs]
        assert out["y"] == pytest.approx(y, rel=1e-12)
        assert out["running_var"] == pytest.approx(1.0, rel=1e-15)  # (1 − 1e-300)·1 + 1e-300·s²
        assert out["running_mean"] == pytest.approx(1e-300 * mean, rel=1e-12)


def test_param_count_1inf_prints_one_line_without_a_syntax_warning():
    r = dlcalc("param-count", "1inf", "3", capture_output=True, text=True)
    assert r.returncode == 2
    assert "SyntaxWarning" not in _one_error_line(r.stderr)


@pytest.mark.parametrize("env", [
    {"_DLCALC_COMPLETE": "complete_bash", "COMP_WORDS": "dlcalc par", "COMP_CWORD": "x"},
    {"_DLCALC_COMPLETE": "complete_bash", "COMP_CWORD": "1"},
    {"_DLCALC_COMPLETE": "complete_bash", "COMP_WORDS": "dlcalc par"},
    {"_DLCALC_COMPLETE": "complete_bash", "COMP_WORDS": "dlcalc par", "COMP_CWORD": "1.5"},
])
def test_shell_completion_with_bad_variables_is_one_line(env):
    base = {k: v for k, v in _env().items() if not k.startswith("COMP_")}
    r = dlcalc(capture_output=True, text=True, env={**base, **env})
    assert r.returncode == 2
    assert "COMP_CWORD" in _one_error_line(r.stderr)


def test_shell_completion_still_completes():
    r = dlcalc(capture_output=True, text=True,
               env=_env(_DLCALC_COMPLETE="complete_bash", COMP_WORDS="dlcalc par", COMP_CWORD="1"))
    assert r.returncode == 0 and "param-count" in r.stdout


@pytest.mark.parametrize("name", [".png", "sub/.png", "x.PNG.txt", "x"])
def test_plot_needs_a_named_png_file(name, tmp_path, monkeypatch):
    """`--plot .png` wrote `.png.png`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    r = run_cli("quadratic-gd", *BASE["quadratic-gd"], "--plot", name, "--json")
    assert r.code == 2 and r.json()["error"]["option"] == "--plot"
    assert [p.name for p in tmp_path.rglob("*")] == ["sub"]


def test_plot_writes_exactly_the_named_file(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    r = run_cli("quadratic-gd", *BASE["quadratic-gd"], "--plot", "run.png", "--json")
    assert r.code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.png"]


@pytest.mark.parametrize("k", ["x", "3x", "x5"])
def test_a_kernel_size_left_out_names_the_key_not_an_empty_layer(k):
    """Issue 23: `conv2d k=x` said "--layer is empty"."""
    r = run_cli("param-count", "--layer", f"conv2d in=3 out=4 k={k}")
    assert r.code == 2 and "is empty" not in r.stderr
    assert r.stderr.startswith("error: --layer conv2d: k must be sizes such as 3, 3x5")
