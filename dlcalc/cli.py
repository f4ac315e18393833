"""The Typer layer: parse options, call the exercise, pick the renderer.  Nothing else.

Every command is declared with :func:`command`, which adds the options all commands
share (``--json``, ``--latex``, ``--digits``, ``--timeout``) and the one error path:
bad input -> exit 2 with one line naming the option (or one JSON object with ``--json``),
never a traceback.  SymPy and the exercises are imported inside the commands, so
``dlcalc --help`` and ``dlcalc --version`` never import them.
"""

import inspect
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Annotated, Any, Callable, Iterator, List, Optional

import typer
from typer.core import TyperGroup

from dlcalc import __version__

DEFAULT_TIMEOUT = 8.0
#: set by `dlcalc batch`: JSON without the worked steps (an autograder wants the results)
_LEAN = [False]


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


class _Failure(Exception):
    """An error already shaped for the user: message and option."""

    def __init__(self, message: str, option: Optional[str]) -> None:
        super().__init__(message)
        self.message = message
        self.option = option


def _emit_error(message: str, option: Optional[str], as_json: bool) -> None:
    message = " ".join(message.split())
    if len(message) > 300:  # a hostile 100,000-character token is not echoed back whole
        message = message[:200] + " … " + message[-60:]
    if option is not None and len(option) > 60:
        option = option[:60] + "…"
    if as_json:
        sys.stdout.write(json.dumps({"error": {"message": message, "option": option}}) + "\n")
    else:
        sys.stderr.write(f"error: {message}\n")


def _usage_error_parts(exc: Any) -> tuple:
    option = None
    param = getattr(exc, "param", None)
    if param is not None:
        opts = getattr(param, "opts", None) or []
        option = max(opts, key=len) if opts and param.param_type_name == "option" else param.name
    elif getattr(exc, "option_name", None):
        option = exc.option_name
    return exc.format_message(), option


class _Group(TyperGroup):
    """The app's click group: every usage error becomes one line (or one JSON object).

    The exercise commands come from :mod:`dlcalc.registry`, each built when it is first
    looked up, so a run imports only the exercise it asks for and ``dlcalc --help``
    imports none.
    """

    def list_commands(self, ctx: Any) -> List[str]:
        from dlcalc import registry

        return registry.names() + [n for n in super().list_commands(ctx) if n not in registry.EXERCISES]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        from dlcalc import registry

        if cmd_name not in self.commands and cmd_name in registry.EXERCISES:
            self.add_command(build_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        from dlcalc import registry

        rows = []
        for name in self.list_commands(ctx):
            if name in registry.EXERCISES and name not in self.commands:
                rows.append((name, registry.EXERCISES[name][1]))
            else:
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(formatter.width - 6 - max(map(len, self.commands)))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        for name in ("COLUMNS", "LINES"):  # Rich reads these with str.isdigit then int(): "²" would crash
            value = os.environ.get(name)
            if value is not None and value.isdigit() and not value.isascii():
                del os.environ[name]
        try:
            rv = super().main(args=argv, prog_name=prog_name or "dlcalc",
                              complete_var=complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except typer.Exit as exc:  # pragma: no cover - returned instead when not standalone
            code = exc.exit_code
        except KeyboardInterrupt:
            sys.stderr.write("error: interrupted\n")
            code = 130
        except Exception as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `dlcalc` or `dlcalc CMD`
                sys.stdout.write(exc.format_message() + "\n")
                code = 0
            elif hasattr(exc, "format_message"):  # a usage error found by the option parser
                message, option = _usage_error_parts(exc)
                _emit_error(message, option, "--json" in argv)
                code = 2
            elif type(exc).__name__ == "Abort":
                sys.stderr.write("error: aborted\n")
                code = 1
            else:
                raise
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=_Group,
    name="dlcalc",
    help="Worked deep-learning exercises, step by step: formula -> numbers -> value.\n\n"
         "Every number is read exactly (0.1 is 1/10); any input may be a symbol.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dlcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
) -> None:
    """Worked deep-learning exercises, step by step."""


# --------------------------------------------------------------------------- shared options

_COMMON = [
    inspect.Parameter("json_out", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--json", help="Print one JSON object (inputs, conventions, steps, result, exact).")]),
    inspect.Parameter("latex_out", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--latex", help="Print the working as a LaTeX align* block.")]),
    inspect.Parameter("latex_document", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--latex-document", help="Print a standalone LaTeX document of the working.")]),
    inspect.Parameter("brief", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
        bool, typer.Option("--brief", help="Only the Answer (and --check verdicts): no working.")]),
    inspect.Parameter("digits", inspect.Parameter.KEYWORD_ONLY, default="6", annotation=Annotated[
        str, typer.Option("--digits", help="Significant digits of decimals in text output (1-50).")]),
    inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=str(DEFAULT_TIMEOUT), annotation=Annotated[
        str, typer.Option("--timeout", help="Give up after this many seconds (0.1-3600).")]),
    inspect.Parameter("check", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[List[str]], typer.Option(
            "--check", help="Check your answer KEY=VALUE (a JSON result key), repeatable: ✓ or ✗, "
                            "and the common mistake that gives a wrong value. Exit 1 if any is wrong.",
            show_default=False)]),
    inspect.Parameter("rtol", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[str], typer.Option("--rtol", help="Relative tolerance of --check instead of judging each answer "
                                                   "as written (to its last written digit).", show_default=False)]),
    inspect.Parameter("atol", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[str], typer.Option("--atol", help="Absolute tolerance of --check (with or instead of --rtol).",
                                    show_default=False)]),
]
_COMMON_NAMES = [p.name for p in _COMMON]


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` after ``seconds`` of wall time (main thread, POSIX only)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _number_option(text: str, option: str, lo: float, hi: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Failure(f"{option} must be a number, got {text[:40]!r}", option) from None
    if not lo <= value <= hi:
        raise _Failure(f"{option} must be between {lo:g} and {hi:g}, got {text[:40]}", option)
    return value


def _plain_stdout() -> bool:
    """Whether Rich would write standard output without any styling (a file or a pipe), by
    the same rules as ``rich.console.Console.is_terminal``."""
    tty = os.environ.get("TTY_COMPATIBLE", "")
    if tty in ("0", "1"):
        return tty == "0"
    if os.environ.get("FORCE_COLOR") is not None:
        return os.environ["FORCE_COLOR"] == ""
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True


def _rich_width() -> int | None:
    """The width Rich's console would take for standard output, by its rules
    (``rich.console.Console.size``); None where they differ (Windows consoles)."""
    if sys.platform == "win32":
        return None
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


def _utf8(stream: Any) -> bool:
    """Whether ``stream`` takes any Unicode (else JSON escapes it, staying valid JSON)."""
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") in (
        "utf8", "utf16", "utf32")


def _install_progress() -> None:
    """Long loops in the exercises show a transient Rich progress bar on standard error."""
    from dlcalc import core

    def hook(iterable: Any, total: int, label: str) -> Any:
        from rich.console import Console
        from rich.progress import track

        return track(iterable, total=total, description=label, transient=True,
                     console=Console(stderr=True))

    core.progress_hook = hook


def _print_rich(renderables: List[Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False, emoji=False, markup=False)
    for r in renderables:
        console.print(r, soft_wrap=True) if hasattr(r, "plain") else console.print(r)


def _solve(compute: Callable[[], Any], check: Optional[List[str]], rtol: Optional[float],
           atol: Optional[float]) -> Any:
    """Run the CLI function; solve its Task; attach the verdicts of ``--check``."""
    from dataclasses import replace

    from dlcalc.core import Task

    task = compute()
    if not isinstance(task, Task):
        if check:
            raise _Failure("--check is not available for this command", "--check")
        return task
    solution = task.run()
    if check:
        from dlcalc import check as checking

        given = checking.parse_checks(check, solution)
        solution = replace(solution, checks=checking.check(task, solution, given, rtol=rtol, atol=atol))
    return solution


def run(compute: Callable[[], Any], *, json_out: bool, latex_out: bool, digits: str,
        timeout: str, check: Optional[List[str]] = None, rtol: Optional[str] = None, atol: Optional[str] = None,
        latex_document: bool = False, plot: Optional[str] = None, brief: bool = False) -> None:
    """Compute a solution and print it; every failure becomes exit 2 with one line.

    With ``--check``, exit 1 when any checked answer is wrong (like ``cmp``).
    """
    try:
        if json_out and (latex_out or latex_document):
            raise _Failure("--latex cannot be combined with --json", "--latex")
        latex_out = latex_out or latex_document
        ndigits = int(_number_option(digits, "--digits", 1, 50))
        limit = _number_option(timeout, "--timeout", 0.1, 3600)
        rel = None if rtol is None else _number_option(rtol, "--rtol", 0, 1)  # None: as written
        abs_ = None if atol is None else _number_option(atol, "--atol", 0, 1e300)
        output: Any
        if sys.stderr.isatty():
            _install_progress()
        with _deadline(limit):
            solution = _call(lambda: _solve(compute, check, rel, abs_), limit)
            if plot is not None:
                from dlcalc.plot import plot as draw

                _call(lambda: draw(solution, plot), limit)
            if json_out:
                from dlcalc.render import to_json

                output = json.dumps(to_json(solution, ndigits, steps=not (_LEAN[0] or brief)),
                                    ensure_ascii=not _utf8(sys.stdout))
            elif latex_out:
                from dlcalc.render import to_latex

                output = to_latex(solution, ndigits, document=latex_document, brief=brief)
            else:
                from dlcalc.render import to_plain, to_rich

                width = _rich_width() if _utf8(sys.stdout) else None  # else Rich draws ASCII boxes
                output = ((to_plain(solution, ndigits, width, brief=brief) if _plain_stdout() else None)
                          or to_rich(solution, ndigits, width or _rich_width(), brief=brief))
    except _Timeout:
        _emit_error(f"--timeout reached ({timeout} s) before the answer was found; "
                    "allow more time with a larger --timeout", "--timeout", json_out)
        raise typer.Exit(2) from None
    except _Failure as exc:
        _emit_error(exc.message, exc.option, json_out)
        raise typer.Exit(2) from None
    if isinstance(output, str):
        sys.stdout.write(output + "\n")
    else:
        _print_rich(output)
    if any(not v.ok for v in solution.checks):
        raise typer.Exit(1)


def _call(compute: Callable[[], Any], limit: float) -> Any:
    """Run the exercise; translate every exception into a :class:`_Failure`."""
    from dlcalc.errors import InputError

    try:
        return compute()
    except InputError as exc:
        raise _Failure(exc.message, exc.option) from None
    except (RecursionError, MemoryError):
        raise _Failure("the input is too large or too deeply nested to work with", None) from None
    except (_Timeout, _Failure):
        raise
    except Exception as exc:  # the last guard: never a traceback for a user
        if os.environ.get("DLCALC_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        raise _Failure(f"could not compute this input ({type(exc).__name__}: {detail})", None) from None


_PLOT = inspect.Parameter("plot", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
    Optional[str], typer.Option("--plot", help="Also draw the run into this PNG file (needs matplotlib: "
                                               "pip install 'dlcalc-worked[plot]').", show_default=False)])


def _parameter(opt: Any) -> inspect.Parameter:
    """The Typer parameter of one declared :class:`~dlcalc.registry.Option`."""
    from dlcalc import registry as R

    show = opt.show_default and opt.default is not None
    if opt.kind == R.ARGUMENTS:
        annotation: Any = Annotated[Optional[List[str]], typer.Argument(
            help=opt.help, metavar=opt.name, show_default=False)]
        default: Any = None
    elif opt.kind == R.LIST:
        annotation = Annotated[Optional[List[str]], typer.Option(
            opt.name, *opt.aliases, help=opt.help, show_default=False)]
        default = None
    elif opt.kind == R.FLAG:
        annotation = Annotated[bool, typer.Option(opt.name, *opt.aliases, help=opt.help)]
        default = bool(opt.default)
    elif opt.kind == R.SWITCH:
        annotation = Annotated[Optional[bool], typer.Option(
            f"{opt.name}/{opt.off}", help=opt.help, show_default=show)]
        default = opt.default
    else:
        annotation = Annotated[Optional[str], typer.Option(
            opt.name, *opt.aliases, help=opt.help, show_default=show)]
        default = opt.default
    if opt.required:
        default = inspect.Parameter.empty
        annotation = Annotated[(List[str] if opt.kind in (R.LIST, R.ARGUMENTS) else str),
                               annotation.__metadata__[0]]
    return inspect.Parameter(opt.param, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


def _refuse_dash_values(values: Optional[List[str]], spellings: List[str], command: str) -> None:
    """Positional values may be negative numbers (``-1``, ``-.5``); anything else that starts
    with ``-`` is an option that does not exist: refuse it, naming the nearest real one."""
    import difflib

    for t in values or []:
        if len(t) > 1 and t.startswith("-") and not (t[1].isdigit() or t[1] == "."):
            name = t.split("=", 1)[0]
            close = difflib.get_close_matches(name, spellings, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            if not name.startswith("--"):
                hint += f" (a negative symbol as a value is written (-{t[1:][:20]}))"
            raise _Failure(f"{name[:40]} is not an option of {command}{hint}", name[:40])


def build_command(name: str) -> Any:
    """The click command of exercise ``name``, built from its declaration in the registry."""
    from dlcalc import registry

    mod = registry.module(name)
    decl = mod.COMMAND
    params = [_parameter(o) for o in decl.options] + ([_PLOT] if decl.plot else []) + _COMMON
    own = [o.param for o in decl.options]
    spellings = [s for o in decl.options for s in o.spellings] + [
        "--json", "--latex", "--latex-document", "--digits", "--timeout", "--check", "--rtol",
        "--atol", "--help"] + (["--plot"] if decl.plot else [])
    positional = [o.param for o in decl.options if o.kind == registry.ARGUMENTS]

    def compute(kwargs: dict) -> Any:
        from dlcalc.core import Task

        if decl.dash_values:
            for p in positional:
                _refuse_dash_values(kwargs.get(p), spellings, name)
        return Task(mod.solve, mod.parse(**kwargs))

    def wrapper(**kwargs: Any) -> None:
        common = {k: kwargs.pop(k) for k in _COMMON_NAMES + (["plot"] if decl.plot else [])}
        run(lambda: compute({k: kwargs[k] for k in own}), **common)

    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper.__name__ = name.replace("-", "_")
    doc = decl.summary + (f"\n\n{decl.description}" if decl.description else "") + f"\n\nExample: {decl.example}"
    settings = {"ignore_unknown_options": True} if decl.dash_values else {}
    sub = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False,
                      context_settings={"help_option_names": ["-h", "--help"]})
    sub.command(name, help=doc, context_settings=settings)(wrapper)
    return typer.main.get_command(sub)


def main() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 console gets '?' for β, never a traceback
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    app()


# --------------------------------------------------------------------------- commands


@app.command("batch")
def batch(
    file: Annotated[str, typer.Argument(
        help="A file of JSON lines, one exercise each: "
             '{"command": "adam-step", "args": ["--theta", "1", "--grad", "0.5"]}; - reads standard input.',
        show_default=False)],
    full: Annotated[bool, typer.Option("--full", help="Include the worked steps in every output line.")] = False,
) -> None:
    """Many exercises in one process: one JSON result per input line (the import is paid once).

    Each output line is the command's --json object (without steps unless --full) plus
    "line" and "exit_code"; a bad line gives {"line", "exit_code": 2, "error"} and the rest go on.

    Example: dlcalc batch exercises.jsonl
    """
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from dlcalc import registry

    group = typer.main.get_command(app)
    names = set(registry.names())
    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8")
    except OSError as exc:
        _emit_error(f"FILE cannot read {file!r}: {exc.strerror or exc}", "FILE", False)
        raise typer.Exit(2) from None
    _LEAN[0] = not full
    try:
        with stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                record: dict[str, Any] = {"line": number}
                try:
                    job = json.loads(line)
                    command_name, args = job["command"], job.get("args", [])
                    if command_name not in names:
                        raise ValueError(f"unknown command {str(command_name)[:40]!r}")
                    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                        raise ValueError("args must be a list of strings")
                except (ValueError, KeyError, TypeError) as exc:
                    record.update(exit_code=2, error={"message": f"line {number}: {exc}"[:300], "option": None})
                    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                    continue
                out, err = io.StringIO(), io.StringIO()
                stdin, sys.stdin = sys.stdin, io.StringIO("")  # a job's "-" never eats the batch
                try:
                    with redirect_stdout(out), redirect_stderr(err):
                        code = group.main(args=[command_name, *args, "--json"], standalone_mode=False)
                finally:
                    sys.stdin = stdin
                try:
                    body = json.loads(out.getvalue())
                except ValueError:
                    body = {"error": {"message": (err.getvalue() or out.getvalue()).strip()[:300], "option": None}}
                record["exit_code"] = code
                record.update(body)
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        _LEAN[0] = False
