"""The Typer layer: parse options, call the exercise, pick the renderer.  Nothing else.

Every command is declared with :func:`command`, which adds the options all commands
share (``--json``, ``--latex``, ``--digits``, ``--timeout``) and the one error path:
bad input -> exit 2 with one line naming the option (or one JSON object with ``--json``),
never a traceback.  SymPy and the exercises are imported inside the commands, so
``dlcalc --help`` and ``dlcalc --version`` never import them.
"""

import functools
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
    """The app's click group: every usage error becomes one line (or one JSON object)."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
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
    inspect.Parameter("digits", inspect.Parameter.KEYWORD_ONLY, default="6", annotation=Annotated[
        str, typer.Option("--digits", help="Significant digits of decimals in text output (1-50).")]),
    inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=str(DEFAULT_TIMEOUT), annotation=Annotated[
        str, typer.Option("--timeout", help="Give up after this many seconds (0.1-3600).")]),
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


def _print_rich(renderables: List[Any]) -> None:
    from rich.console import Console

    console = Console(highlight=False, emoji=False, markup=False)
    for r in renderables:
        console.print(r, soft_wrap=True) if hasattr(r, "plain") else console.print(r)


def run(compute: Callable[[], Any], *, json_out: bool, latex_out: bool, digits: str,
        timeout: str) -> None:
    """Compute a solution and print it; every failure becomes exit 2 with one line."""
    try:
        if json_out and latex_out:
            raise _Failure("--latex cannot be combined with --json", "--latex")
        ndigits = int(_number_option(digits, "--digits", 1, 50))
        limit = _number_option(timeout, "--timeout", 0.1, 3600)
        output: Any
        with _deadline(limit):
            solution = _call(compute, limit)
            if json_out:
                from dlcalc.render import to_json

                output = json.dumps(to_json(solution, ndigits), ensure_ascii=False)
            elif latex_out:
                from dlcalc.render import to_latex

                output = to_latex(solution, ndigits)
            else:
                from dlcalc.render import to_rich

                output = to_rich(solution, ndigits)
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


def _call(compute: Callable[[], Any], limit: float) -> Any:
    """Run the exercise; translate every exception into a :class:`_Failure`."""
    from dlcalc.errors import InputError

    try:
        return compute()
    except InputError as exc:
        raise _Failure(exc.message, exc.option) from None
    except (RecursionError, MemoryError):
        raise _Failure("the input is too large or too deeply nested to work with", None) from None
    except _Timeout:
        raise
    except Exception as exc:  # the last guard: never a traceback for a user
        if os.environ.get("DLCALC_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        raise _Failure(f"could not compute this input ({type(exc).__name__}: {detail})", None) from None


def command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` (exercise options -> Solution) as a command with the shared options."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()]

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> None:
            common = {k: kwargs.pop(k) for k in _COMMON_NAMES}
            run(lambda: fn(**kwargs), **common)

        wrapper.__signature__ = sig.replace(parameters=params + _COMMON)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params + _COMMON}
        app.command(name)(wrapper)
        return fn

    return deco


def main() -> None:
    """Console-script entry point."""
    app()


# --------------------------------------------------------------------------- commands


@command("param-count")
def param_count(
    sizes: Annotated[Optional[List[str]], typer.Argument(
        help="Layer sizes of an MLP, input first (784 256 10); any may be a symbol.",
        show_default=False)] = None,
    layer: Annotated[Optional[List[str]], typer.Option(
        "--layer", help='A typed layer, repeatable: "conv2d in=3 out=16 k=3", "bn c=16", '
                        '"lstm in=10 hidden=20 layers=2", "attention d=64 heads=8", ...',
        show_default=False)] = None,
    no_bias: Annotated[bool, typer.Option("--no-bias", help="MLP layers without biases.")] = False,
) -> Any:
    """Learnable parameters of a network, layer by layer, with the formula.

    Example: dlcalc param-count 784 256 10
    """
    from dlcalc.exercises import param_count as ex

    return ex.solve(ex.parse_sizes(sizes or []), [ex.parse_layer(s) for s in layer or []],
                    bias=not no_bias)


# --- commands added by exercise modules go below, one block each, in this order:
# --- sigmoid-step, adam-step, bn-forward, quadratic-gd, dropout-expectation
