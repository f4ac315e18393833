"""The Typer layer: parse options, call the exercise, pick the renderer.  Nothing else.

Every command is declared with :func:`command`, which adds the options all commands
share (``--json``, ``--latex``, ``--digits``, ``--timeout``) and the one error path:
bad input -> exit 2 with one line naming the option (or one JSON object with ``--json``),
never a traceback.  SymPy and the exercises are imported inside the commands, so
``dlcalc --help`` and ``dlcalc --version`` never import them.
"""

import contextlib
import errno
import inspect
import json
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Annotated, Any, Callable, Iterator, List, Mapping, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from dlcalc import __version__

DEFAULT_TIMEOUT = 8.0
#: set by `dlcalc batch`: JSON without the worked steps (an autograder wants the results)
_LEAN = [False]
#: set by `dlcalc batch`: its lines may not write files (``--plot``)
_BATCH = [False]


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


class _Failure(Exception):
    """An error already shaped for the user: message and option."""

    def __init__(self, message: str, option: Optional[str]) -> None:
        super().__init__(message)
        self.message = message
        self.option = option


#: characters that must not reach a terminal raw: C0 and C1 controls (ESC starts colour,
#: hyperlink, title and clear-screen sequences), DEL, and the Unicode BiDi controls, which
#: reorder what is shown (U+202E makes "gpj.exe" read "exe.jpg"); tab and newline stay
_INVISIBLE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                           "\u202a-\u202e\u2066-\u2069]")


def _escape_char(m: "re.Match[str]") -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str) -> str:
    """``text`` with control characters and BiDi overrides as visible escapes (``\\x1b``,
    ``\\u202e``): what user text becomes before it is shown anywhere."""
    return _INVISIBLE_RE.sub(_escape_char, text) if _INVISIBLE_RE.search(text) else text


def _tex_escape_char(m: "re.Match[str]") -> str:
    return r"\text{\textbackslash{}" + _escape_char(m)[1:] + "}"


#: a JSON text holding a control or BiDi character (as json.dumps or _json_line escapes it)
#: (an escape is a backslash preceded by an even number of backslashes: "\\\\beta" is LaTeX)
_JSON_CONTROL_RE = re.compile(r"(?<!\\)(?:\\\\)*\\(?:u(?:00[01][0-9a-fA-F]|007[fF]|00[89][0-9a-fA-F]|061[cC]"
                              r"|200[eEfF]|202[89a-eA-E]|206[6-9])|[bfr])")


def _json_line(obj: Any) -> str:
    """One JSON line; characters a terminal would act on are JSON escapes (the same value)."""
    line = json.dumps(obj, ensure_ascii=not _utf8(sys.stdout))
    return _INVISIBLE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


#: how :func:`_clean` treats each type it meets (found once per type: a solution holds
#: thousands of SymPy numbers, and an ABC or dataclass test per number costs)
_CLEAN_KIND: dict[type, Any] = {str: "str", list: "seq", tuple: "seq", dict: "map"}


def _clean_kind(t: type) -> Any:
    kind = _CLEAN_KIND.get(t)
    if kind is None:
        from dataclasses import fields, is_dataclass

        from dlcalc.core import Math

        if issubclass(t, Math):
            kind = "math"
        elif is_dataclass(t):
            kind = tuple(f.name for f in fields(t))
        elif issubclass(t, Mapping):
            kind = "map"
        else:
            kind = "leaf"  # SymPy values, numbers, bools: no user text
        _CLEAN_KIND[t] = kind
    return kind


def _tex_visible(tex: str) -> str:
    return _INVISIBLE_RE.sub(_tex_escape_char, tex)


def _clean(obj: Any) -> Any:
    """A copy of a solution's parts with every string passed through :func:`visible`
    (and each hand-typed formula's LaTeX made safe the same way); values are unchanged."""
    kind = _clean_kind(type(obj))
    if kind == "leaf":
        return obj
    if kind == "str":
        return visible(obj)
    if kind == "seq":
        out = [_clean(x) for x in obj]
        return obj if all(a is b for a, b in zip(out, obj)) else type(obj)(out)
    if kind == "map":
        new = {_clean(k): _clean(v) for k, v in obj.items()}
        same = all(a is b for a, b in zip(new, obj)) and all(new[k] is obj[k] for k in obj)
        return obj if same else new
    if kind == "math":  # a template's text and LaTeX are cleaned when first printed
        return obj.map_text(visible, _tex_visible)
    changes = {}
    for name in kind:  # a dataclass (Solution, Step, Verdict): its fields
        v = getattr(obj, name)
        c = _clean(v)
        if c is not v:
            changes[name] = c
    if not changes:
        return obj
    from dataclasses import replace

    return replace(obj, **changes)


def _without_read_text(message: str) -> str:
    """``message`` with every stretch of 8 or more characters that also occurs in a file (or
    standard input) read by this command replaced by "…": an exercise's own message may quote
    its input, and no message may show what a file holds (``--x @/etc/shadow``)."""
    parse = sys.modules.get("dlcalc.parse")
    sources = getattr(parse, "_READ_LOG", None)
    if not sources:
        return message
    n, width = len(message), 8
    hidden = [False] * n
    for i in range(n - width + 1):
        window = message[i:i + width]
        if any(window in src for src in sources):
            hidden[i:i + width] = [True] * width
    if not any(hidden):
        return message
    out = []
    for i, ch in enumerate(message):
        if not hidden[i]:
            out.append(ch)
        elif i == 0 or not hidden[i - 1]:
            out.append("…")
    return "".join(out) + " (the file's text is not shown)"


def _emit_error(message: str, option: Optional[str], as_json: bool) -> None:
    message = " ".join(visible(_without_read_text(str(message))).split())
    if len(message) > 300:  # a hostile 100,000-character token is not echoed back whole
        message = message[:200] + " … " + message[-60:]
    if option is not None:
        option = visible(str(option))
        if len(option) > 60:
            option = option[:60] + "…"
    if as_json:
        sys.stdout.write(_json_line({"error": {"message": message, "option": option}}) + "\n")
    else:
        try:
            sys.stderr.write(f"error: {message}\n")
            sys.stderr.flush()
        except (OSError, ValueError, AttributeError):  # standard error closed or full: the exit code says it
            pass


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

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: Any = None) -> None:
        try:
            super()._main_shell_completion(ctx_args, prog_name, complete_var)
        except (KeyError, ValueError, IndexError, TypeError):  # COMP_CWORD=x, no COMP_WORDS
            raise _CompletionError() from None

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        for name in ("COLUMNS", "LINES"):
            value = os.environ.get(name)
            # Rich reads these with str.isdigit then int(): "²" would crash, and a width of
            # 0 (COLUMNS=0) prints nothing at all; the terminal's own size is used instead
            if value is not None and value.isdigit() and (not value.isascii() or int(value) == 0):
                del os.environ[name]
        try:
            code = self._main(argv, prog_name, complete_var, **extra)
            if standalone_mode:
                sys.stdout.flush()  # a full disk shows here: one line, not a traceback at exit
        except OSError as exc:  # writing the answer failed: /dev/full, a closed stdout
            code = _output_failed(exc)
        if standalone_mode:
            sys.exit(code)
        return code

    def _main(self, argv: List[str], prog_name: Any, complete_var: Any, **extra: Any) -> int:
        try:
            rv = super().main(args=argv, prog_name=prog_name or "dlcalc",
                              complete_var=complete_var, standalone_mode=False, **extra)
            return rv if isinstance(rv, int) else 0
        except typer.Exit as exc:  # pragma: no cover - returned instead when not standalone
            return exc.exit_code
        except KeyboardInterrupt:
            _say("error: interrupted")
            return 130
        except _CompletionError:
            _say("error: shell completion needs COMP_WORDS and a whole-number COMP_CWORD, "
                 "as set by the script of dlcalc --show-completion")
            return 2
        except OSError:
            raise
        except Exception as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `dlcalc` or `dlcalc CMD`
                sys.stdout.write(exc.format_message() + "\n")
                return 0
            if hasattr(exc, "format_message"):  # a usage error found by the option parser
                message, option = _usage_error_parts(exc)
                _emit_error(message, option, "--json" in argv)
                return 2
            if type(exc).__name__ == "Abort":
                _say("error: aborted")
                return 1
            raise


class _CompletionError(Exception):
    """The shell-completion variables are missing or malformed."""


def _say(line: str) -> None:
    """One line on standard error, if standard error can take it."""
    try:
        sys.stderr.write(visible(line) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _output_failed(exc: OSError) -> int:
    """Standard output could not be written: one line on standard error (none for a closed
    pipe, as `| head` does), exit 1; output still buffered goes to /dev/null, so the
    interpreter's own flush at exit does not print a traceback."""
    if exc.errno != errno.EPIPE:
        _say(f"error: cannot write the output: {exc.strerror or exc}")
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return 1


class _ClosedStdout:
    """Standard output when the process was started with it closed (``>&-``): every write
    fails as writing to a closed file descriptor does."""

    encoding = "utf-8"
    errors = "replace"

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


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


def _lean_if(on: bool) -> Any:
    """Steps without substituted lines when no working is printed (batch, --brief)."""
    if not on:
        return contextlib.nullcontext()
    from dlcalc.board import lean

    return lean()


def _plot_path(plot: str) -> None:
    """``--plot`` names a PNG file to write: ``run.png`` (``.png`` alone would become ``.png.png``)."""
    if _BATCH[0]:
        raise _Failure("--plot cannot write files inside dlcalc batch (a batch line must not "
                       "touch the file system); draw it with a separate dlcalc command", "--plot")
    stem, ext = os.path.splitext(os.path.basename(plot))
    if ext.lower() != ".png" or not stem:
        raise _Failure(f"--plot must name a .png file such as run.png, got {plot[:60]!r}", "--plot")


def _preload(json_out: bool, latex_out: bool, check: Optional[List[str]], plot: Optional[str]) -> None:
    """Import what this run needs before its deadline is armed: an alarm that fires inside an
    import leaves half-built modules behind (``module 'sympy' has no attribute 'logic'`` on
    every later line of a batch)."""
    import dlcalc.core  # noqa: F401
    import dlcalc.render  # noqa: F401

    if check:
        import dlcalc.check  # noqa: F401
    if plot is not None:
        from dlcalc.plot import _pyplot

        _call(_pyplot, 0)


def _modules_mark() -> tuple[int, Optional[str]]:
    """Where sys.modules ends now (it keeps insertion order): O(1), taken before every run."""
    return len(sys.modules), next(reversed(sys.modules), None)


def _forget_modules(mark: tuple[int, Optional[str]]) -> None:
    """After a timeout: drop every module imported under the deadline, finished or not, so
    that the next command imports them afresh (and SymPy's cache, which may hold their objects)."""
    names = list(sys.modules)
    count, last = mark
    if last is None:
        new = names
    elif count <= len(names) and names[count - 1] == last:
        new = names[count:]
    elif last in sys.modules:  # something was removed meanwhile: find the mark by name
        new = names[names.index(last) + 1:]
    else:
        return  # the mark itself is gone: better to keep modules than drop ones in use
    for name in new:
        sys.modules.pop(name, None)
    if new and "sympy" in sys.modules:
        try:
            from sympy.core.cache import clear_cache

            clear_cache()
        except Exception:  # pragma: no cover - only ever a best effort
            pass


def _render(solution: Any, *, json_out: bool, latex_out: bool, latex_document: bool,
            ndigits: int, brief: bool = False) -> Any:
    lean = _LEAN[0] or brief  # batch, --brief: no steps printed
    if json_out:
        from dlcalc.render import to_json

        line = _json_line(to_json(solution, ndigits, steps=not lean))
        if _JSON_CONTROL_RE.search(line):  # rare: only then walk the solution for user text
            line = _json_line(to_json(_clean(solution), ndigits, steps=not lean))
        return line
    solution = _clean(solution)  # user text (layer specs, names) as visible escapes
    if latex_out:
        from dlcalc.render import to_latex

        return _INVISIBLE_RE.sub(_tex_escape_char, to_latex(solution, ndigits, document=latex_document,
                                                            brief=brief))
    from dlcalc.render import to_plain, to_rich

    width = _rich_width() if _utf8(sys.stdout) else None  # else Rich draws ASCII boxes
    text = to_plain(solution, ndigits, width, brief=brief) if _plain_stdout() else None
    return visible(text) if text is not None else to_rich(solution, ndigits, width or _rich_width(), brief=brief)


def run(compute: Callable[[], Any], *, json_out: bool, latex_out: bool, digits: str,
        timeout: str, check: Optional[List[str]] = None, rtol: Optional[str] = None, atol: Optional[str] = None,
        latex_document: bool = False, plot: Optional[str] = None, brief: bool = False) -> None:
    """Compute a solution and print it; every failure becomes exit 2 with one line.

    With ``--check``, exit 1 when any checked answer is wrong (like ``cmp``).
    """
    from dlcalc import parse

    parse.forget_reads()
    before = _modules_mark()
    try:
        if json_out and (latex_out or latex_document):
            raise _Failure("--latex cannot be combined with --json", "--latex")
        latex_out = latex_out or latex_document
        ndigits = int(_number_option(digits, "--digits", 1, 50))
        limit = _number_option(timeout, "--timeout", 0.1, 3600)
        rel = None if rtol is None else _number_option(rtol, "--rtol", 0, 1)  # None: as written
        abs_ = None if atol is None else _number_option(atol, "--atol", 0, 1e300)
        if plot is not None:
            _plot_path(plot)
        _preload(json_out, latex_out, check, plot)
        before = _modules_mark()
        output: Any
        if sys.stderr.isatty():
            _install_progress()
        with _deadline(limit), _lean_if(_LEAN[0] or (brief and plot is None)):
            solution = _call(lambda: _solve(compute, check, rel, abs_), limit)
            if plot is not None:
                from dlcalc.plot import plot as draw

                _call(lambda: draw(solution, plot), limit)
            output = _call(lambda: _render(solution, json_out=json_out, latex_out=latex_out,
                                           latex_document=latex_document, ndigits=ndigits,
                                           brief=brief), limit)
    except _Timeout:
        _forget_modules(before)
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
        if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
            raise _Failure("the working holds a number of more than 4,300 digits, too long to "
                           "print; use smaller numbers or fewer steps", None) from None
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


class _DashValuesCommand(TyperCommand):
    """A command whose positional values may start with ``-`` (``bn-forward 1 -2 3``).

    Click then skips unknown options instead of refusing them, but it still reads a token
    such as ``-hx`` or ``-theta`` as a group of short options, so its ``h`` printed the help
    (exit 0, and in a batch an ``error`` with ``exit_code`` 0).  Such a token is refused
    before click sees it."""

    def parse_args(self, ctx: Any, args: List[str]) -> List[str]:
        import click

        shorts = {o[1] for p in self.get_params(ctx) for o in (*p.opts, *getattr(p, "secondary_opts", ()))
                  if len(o) == 2 and o[0] == "-" and o[1] != "-"}
        spellings = [o for p in self.get_params(ctx) for o in (*p.opts, *getattr(p, "secondary_opts", ()))]
        for tok in args:
            if tok == "--":
                break
            if len(tok) > 2 and tok[0] == "-" and tok[1] != "-" and any(c in shorts for c in tok[1:]):
                import difflib

                close = difflib.get_close_matches(tok, spellings, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                if tok[1].isalpha():
                    hint += f" (a negative symbol as a value is written (-{tok[1:][:20]}))"
                raise click.NoSuchOption(tok[:40], message=f"{tok[:40]} is not an option of "
                                                             f"{ctx.info_name}{hint}", ctx=ctx)
        return super().parse_args(ctx, args)


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
    sub.command(name, help=doc, context_settings=settings,
                cls=_DashValuesCommand if decl.dash_values else None)(wrapper)
    return typer.main.get_command(sub)


def main() -> None:
    """Console-script entry point."""
    if sys.stdout is None:  # started with standard output closed
        sys.stdout = _ClosedStdout()  # type: ignore[assignment]
    if sys.stderr is None:  # started with standard error closed: the answer still goes out
        sys.stderr = open(os.devnull, "w", encoding="utf-8")
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 console gets '?' for β, never a traceback
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    app()


# --------------------------------------------------------------------------- commands


#: the longest line `dlcalc batch` reads, in bytes (4 MiB: an inline value may have 1,000,000
#: characters); a longer line is an error line of its own
MAX_LINE_BYTES = 4 * 1024 * 1024
#: past a too-long line, at most this much more is read looking for its end; then the batch
#: stops (``dlcalc batch /dev/zero`` has no line break at all)
MAX_SKIP_BYTES = 64 * 1024 * 1024


def _batch_lines(stream: Any) -> Iterator[tuple[int, Optional[str], Optional[str]]]:
    """(line number, text, None) for each line of ``stream``, or (number, None, why) for a
    line that cannot be read (too long, not UTF-8); (number, None, "") when the batch must stop."""
    number = 0
    while True:
        try:
            raw = stream.readline(MAX_LINE_BYTES + 1)
        except UnicodeDecodeError:  # a text stream (no binary buffer): the rest is unreadable
            yield number + 1, None, ""
            return
        if not raw:
            return
        number += 1
        newline = b"\n" if isinstance(raw, bytes) else "\n"
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(newline):
            skipped = 0
            while True:
                chunk = stream.readline(1 << 20)
                if not chunk or chunk.endswith(newline):
                    break
                skipped += len(chunk)
                if skipped > MAX_SKIP_BYTES:
                    yield number, None, ""
                    return
            yield number, None, f"is longer than {MAX_LINE_BYTES:,} bytes, the limit of a batch line"
            continue
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, (f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at position "
                                     f"{exc.start + 1})")
                continue
        else:
            text = raw
        yield number, text[1:] if text.startswith("\ufeff") else text, None  # a BOM (Windows editors)


def _batch_job(text: str, names: set) -> tuple[str, List[str]]:
    """The command and arguments of one batch line; ValueError says what is wrong."""
    try:
        job = json.loads(text)
    except RecursionError:
        raise ValueError("is nested too deeply to be a job") from None
    except ValueError as exc:
        raise ValueError(f"is not JSON ({exc})") from None
    if not isinstance(job, dict):
        raise ValueError('must be a JSON object {"command": ..., "args": [...]}')
    if "command" not in job:
        raise ValueError('has no "command"')
    command_name, args = job["command"], job.get("args", [])
    if not isinstance(command_name, str) or command_name not in names:
        raise ValueError(f"has the unknown command {str(command_name)[:40]!r}")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError('"args" must be a list of strings')
    return command_name, args


def _batch_record(group: Any, names: set, number: int, line: str, why: Optional[str]) -> Optional[dict]:
    """The output record of one batch line (None for a blank line): the command's --json
    object plus "line" and "exit_code", or an error of its own."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    record: dict[str, Any] = {"line": number}
    try:
        if why is not None:
            raise ValueError(why)
        if not line.strip():
            return None
        command_name, args = _batch_job(line, names)
    except ValueError as exc:
        message = " ".join(visible(f"line {number} {exc}").split())[:300]
        return {**record, "exit_code": 2, "error": {"message": message, "option": None}}
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO("")  # a job's "-" never eats the batch
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = group.main(args=[command_name, *args, "--json"], standalone_mode=False)
    except Exception as exc:  # never lose the rest of the batch to one line
        code = 2
        err.write(f"internal error ({type(exc).__name__})")
    finally:
        sys.stdin = stdin
    try:
        body = json.loads(out.getvalue())
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        if code == 0 and any(a in ("--help", "-h") for a in args):
            message = "--help cannot be used in a batch line"
        else:
            message = (err.getvalue() or out.getvalue()).strip() or "printed no result"
        body = {"error": {"message": " ".join(visible(message).split())[:300], "option": None}}
    if "error" in body and code == 0:
        code = 2  # an error is never a success
    return {**record, "exit_code": code, **body}


@app.command("batch")
def batch(
    file: Annotated[str, typer.Argument(
        help="A file of JSON lines, one exercise each: "
             '{"command": "adam-step", "args": ["--theta", "1", "--grad", "0.5"]}; - reads standard input.',
        show_default=False)],
    full: Annotated[bool, typer.Option("--full", help="Include the worked steps in every output line.")] = False,
    files_from: Annotated[Optional[str], typer.Option(
        "--files-from", metavar="DIR",
        help="Let the lines read @PATH values from the files under DIR (paths relative to DIR; "
             "none that leaves it through .. or a symbolic link). Without it a line reads no file.",
        show_default=False)] = None,
) -> None:
    """Many exercises in one process: one JSON result per input line (the import is paid once).

    Each output line is the command's --json object (without steps unless --full) plus
    "line" and "exit_code"; a bad line gives {"line", "exit_code": 2, "error"} and the rest go on.
    A line may not write files (--plot) nor read them (@PATH, - ) unless --files-from DIR
    allows the files under DIR. A line is at most 4 MiB of UTF-8.

    Example: dlcalc batch exercises.jsonl
    """
    from dlcalc import parse, registry

    group = typer.main.get_command(app)
    names = set(registry.names())
    if files_from is not None and not os.path.isdir(files_from):
        _emit_error(f"--files-from must name a folder, got {files_from[:60]!r}", "--files-from", False)
        raise typer.Exit(2)
    try:
        stream = (getattr(sys.stdin, "buffer", None) or sys.stdin) if file == "-" else open(file, "rb")
    except OSError as exc:
        _emit_error(f"FILE cannot read {file[:60]!r}: {exc.strerror or exc}", "FILE", False)
        raise typer.Exit(2) from None

    def emit(record: dict) -> None:
        sys.stdout.write(_json_line(record) + "\n")
        sys.stdout.flush()  # an autograder reads each answer as it comes

    _LEAN[0], _BATCH[0] = not full, True
    try:
        with stream, parse.reading(files_from):
            for number, line, why in _batch_lines(stream):
                if why == "":
                    emit({"line": number, "exit_code": 2, "error": {
                        "message": f"line {number} is longer than {MAX_LINE_BYTES:,} bytes and has no line "
                                   "break within the next 64 MiB; the batch stops here", "option": None}})
                    raise typer.Exit(2)
                record = _batch_record(group, names, number, line, why)
                if record is not None:
                    emit(record)
    finally:
        _LEAN[0], _BATCH[0] = False, False
