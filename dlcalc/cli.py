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
    """The app's click group: every usage error becomes one line (or one JSON object)."""

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
    inspect.Parameter("digits", inspect.Parameter.KEYWORD_ONLY, default="6", annotation=Annotated[
        str, typer.Option("--digits", help="Significant digits of decimals in text output (1-50).")]),
    inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=str(DEFAULT_TIMEOUT), annotation=Annotated[
        str, typer.Option("--timeout", help="Give up after this many seconds (0.1-3600).")]),
    inspect.Parameter("check", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
        Optional[List[str]], typer.Option(
            "--check", help="Check your answer KEY=VALUE (a JSON result key), repeatable: ✓ or ✗, "
                            "and the common mistake that gives a wrong value. Exit 1 if any is wrong.",
            show_default=False)]),
    inspect.Parameter("rtol", inspect.Parameter.KEYWORD_ONLY, default="1e-3", annotation=Annotated[
        str, typer.Option("--rtol", help="Relative tolerance of --check (answers are rounded).")]),
    inspect.Parameter("atol", inspect.Parameter.KEYWORD_ONLY, default="1e-9", annotation=Annotated[
        str, typer.Option("--atol", help="Absolute tolerance of --check.")]),
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


def _solve(compute: Callable[[], Any], check: Optional[List[str]], rtol: float, atol: float) -> Any:
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
        timeout: str, check: Optional[List[str]] = None, rtol: str = "1e-3", atol: str = "1e-9",
        latex_document: bool = False, plot: Optional[str] = None) -> None:
    """Compute a solution and print it; every failure becomes exit 2 with one line.

    With ``--check``, exit 1 when any checked answer is wrong (like ``cmp``).
    """
    try:
        if json_out and (latex_out or latex_document):
            raise _Failure("--latex cannot be combined with --json", "--latex")
        latex_out = latex_out or latex_document
        ndigits = int(_number_option(digits, "--digits", 1, 50))
        limit = _number_option(timeout, "--timeout", 0.1, 3600)
        rel = _number_option(rtol, "--rtol", 0, 1)
        abs_ = _number_option(atol, "--atol", 0, 1e300)
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

                output = json.dumps(to_json(solution, ndigits, steps=not _LEAN[0]),
                                    ensure_ascii=not _utf8(sys.stdout))
            elif latex_out:
                from dlcalc.render import to_latex

                output = to_latex(solution, ndigits, document=latex_document)
            else:
                from dlcalc.render import to_plain, to_rich

                width = _rich_width() if _utf8(sys.stdout) else None  # else Rich draws ASCII boxes
                output = ((to_plain(solution, ndigits, width) if _plain_stdout() else None)
                          or to_rich(solution, ndigits))
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
    except _Timeout:
        raise
    except Exception as exc:  # the last guard: never a traceback for a user
        if os.environ.get("DLCALC_DEBUG"):
            raise
        detail = " ".join(str(exc).split())[:200]
        raise _Failure(f"could not compute this input ({type(exc).__name__}: {detail})", None) from None


_PLOT = inspect.Parameter("plot", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
    Optional[str], typer.Option("--plot", help="Also draw the run into this PNG file (needs matplotlib: "
                                               "pip install 'dlcalc-worked[plot]').", show_default=False)])


def command(name: str, *, plot: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` (exercise options -> Task or Solution) as a command with the shared
    options; ``plot`` adds ``--plot FILE.png``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()]
        params += [_PLOT] if plot else []

        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> None:
            common = {k: kwargs.pop(k) for k in _COMMON_NAMES + (["plot"] if plot else [])}
            run(lambda: fn(**kwargs), **common)

        wrapper.__signature__ = sig.replace(parameters=params + _COMMON)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params + _COMMON}
        app.command(name)(wrapper)
        return fn

    return deco


def main() -> None:
    """Console-script entry point."""
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 console gets '?' for β, never a traceback
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
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
    from dlcalc.core import Task
    from dlcalc.exercises import param_count as ex

    return Task(ex.solve, ex.parse_sizes(sizes or []), layers=[ex.parse_layer(s) for s in layer or []],
                bias=not no_bias)


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

    group = typer.main.get_command(app)
    names = set(getattr(group, "commands", {})) - {"batch"}
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


# --- commands added by exercise modules go below, one block each, in this order:
# --- sigmoid-step, adam-step, bn-forward, quadratic-gd, dropout-expectation


@command("sigmoid-step", plot=True)
def sigmoid_step(
    x: Annotated[Optional[str], typer.Option(
        "--x", help="Input: a scalar, a vector (one example), or a matrix whose rows are examples "
                    "(\"1 2; 0.5 -1\"). Left out: the symbol x.", show_default=False)] = None,
    t: Annotated[Optional[str], typer.Option(
        "--t", help="Target: a scalar, or one per example. Left out: the symbol t.",
        show_default=False)] = None,
    w: Annotated[str, typer.Option("--w", help="Initial weight: a scalar or a vector.")] = "1",
    b: Annotated[str, typer.Option("--b", help="Initial bias.")] = "1",
    lam: Annotated[str, typer.Option("--lam", "--lambda", help="L2 strength λ.")] = "0.1",
    lr: Annotated[str, typer.Option("--lr", "--alpha", help="Learning rate α.")] = "0.1",
    loss: Annotated[str, typer.Option("--loss", help="mse (squared error) or bce (cross-entropy).")] = "mse",
    half: Annotated[bool, typer.Option("--half/--no-half", help="c = ½ in the loss and penalty (--no-half: c = 1).")] = True,
    reg_bias: Annotated[bool, typer.Option("--reg-bias", help="Regularize the bias too (‖w‖² + b²).")] = False,
    steps: Annotated[str, typer.Option("--steps", help="Number of gradient-descent steps (1-10,000).")] = "1",
) -> Any:
    """Gradient-descent step(s) of one sigmoid neuron, squared error (or BCE) + L2.

    Example: dlcalc sigmoid-step --x 1 --t 0
    """
    from dlcalc.core import Task
    from dlcalc.exercises import sigmoid_step as ex
    from dlcalc.parse import parse_int, parse_scalar, parse_value

    return Task(
        ex.solve,
        x=None if x is None else parse_value(x, "--x", kinds=("scalar", "vector", "matrix")),
        t=None if t is None else parse_value(t, "--t", kinds=("scalar", "vector")),
        w=parse_value(w, "--w", kinds=("scalar", "vector")),
        b=parse_scalar(b, "--b"), lam=parse_scalar(lam, "--lam"), lr=parse_scalar(lr, "--lr"),
        loss=loss, half=half, reg_bias=reg_bias,
        steps=parse_int(steps, "--steps", lo=1, hi=ex.MAX_STEPS))


@command("adam-step", plot=True)
def adam_step(
    theta: Annotated[str, typer.Option(
        "--theta", help="Initial θ: a scalar or a vector ([1, -2]); may be a symbol.")] = "1",
    grad: Annotated[Optional[List[str]], typer.Option(
        "--grad", help="The gradient of one step (scalar or vector like θ); repeat once per step.",
        show_default=False)] = None,
    loss: Annotated[Optional[str], typer.Option(
        "--loss", help="A loss to differentiate instead: in theta (scalar θ) or theta1..thetaN "
                       "(vector θ), e.g. \"theta1**2 + 10*theta2**2\".", show_default=False)] = None,
    steps: Annotated[Optional[str], typer.Option(
        "--steps", help="Steps with --loss (1-100,000; default 1).", show_default=False)] = None,
    lr: Annotated[str, typer.Option("--lr", help="Learning rate η.")] = "0.001",
    beta1: Annotated[str, typer.Option("--beta1", help="β₁ in [0, 1).")] = "0.9",
    beta2: Annotated[str, typer.Option("--beta2", help="β₂ in [0, 1).")] = "0.999",
    eps: Annotated[str, typer.Option("--eps", help="ε, added outside the square root.")] = "1e-8",
    weight_decay: Annotated[str, typer.Option(
        "--weight-decay", help="λ: L2 added to the gradient (Adam), or decoupled with --decoupled.")] = "0",
    decoupled: Annotated[bool, typer.Option(
        "--decoupled", help="AdamW: decay θ ← θ(1 − ηλ) outside the moments.")] = False,
    amsgrad: Annotated[bool, typer.Option(
        "--amsgrad", help="AMSGrad: use the running maximum of v_t.")] = False,
    maximize: Annotated[bool, typer.Option(
        "--maximize", help="Gradient ascent: negate the gradient (PyTorch maximize=True).")] = False,
) -> Any:
    """Adam / AdamW / AMSGrad step by step: moments, bias correction, update.

    Example: dlcalc adam-step --theta 1 --grad 0.5 --grad 0.3 --grad -0.2 --lr 0.1
    """
    from dlcalc.core import Task
    from dlcalc.exercises import adam_step as ex

    args = ex.parse_args(theta=theta, grad=grad, loss=loss, steps=steps, lr=lr, beta1=beta1,
                         beta2=beta2, eps=eps, weight_decay=weight_decay)
    return Task(ex.solve, args.pop("theta"), args.pop("grads"), **args, decoupled=decoupled,
                amsgrad=amsgrad, maximize=maximize)


@command("bn-forward")
def bn_forward(
    values: Annotated[Optional[List[str]], typer.Argument(
        help="The batch of one feature (1 2 3 4; negative values work: -1.5), or @FILE / - "
             "to read it; any value may be a symbol. For several features use --x.",
        show_default=False)] = None,
    x: Annotated[Optional[str], typer.Option(
        "--x", help="The batch as an m×C matrix, rows are examples, columns features "
                    "(\"[[1, 2], [3, 4]]\", \"1 2; 3 4\", @FILE.csv or - for standard input).",
        show_default=False)] = None,
    gamma: Annotated[str, typer.Option("--gamma", help="γ (weight): a scalar or one per feature.")] = "1",
    beta: Annotated[str, typer.Option("--beta", help="β (bias): a scalar or one per feature.")] = "0",
    eps: Annotated[str, typer.Option("--eps", help="ε inside the square root (may be 0 or a symbol).")] = "1e-5",
    momentum: Annotated[str, typer.Option(
        "--momentum", help="PyTorch momentum in [0, 1]: r ← (1 − momentum)·r + momentum·s.")] = "0.1",
    running_mean: Annotated[str, typer.Option(
        "--running-mean", help="Running mean before this batch: a scalar or one per feature.")] = "0",
    running_var: Annotated[str, typer.Option(
        "--running-var", help="Running variance before this batch: a scalar or one per feature.")] = "1",
    eval_mode: Annotated[bool, typer.Option(
        "--eval", help="Eval mode: normalize with the running statistics (left unchanged).")] = False,
    grad_out: Annotated[Optional[str], typer.Option(
        "--grad-out", help="∂L/∂y in the batch's shape: adds the backward pass (∂L/∂x, ∂L/∂γ, ∂L/∂β).",
        show_default=False)] = None,
) -> Any:
    """Batch-norm forward (and backward with --grad-out), running statistics, eval mode.

    Exactly torch.nn.BatchNorm1d: biased variance to normalize, unbiased in the running update.

    Example: dlcalc bn-forward 1 2 3 4
    """
    from dlcalc.core import Task
    from dlcalc.exercises import bn_forward as ex
    from dlcalc.parse import parse_value_fast

    batch, single, option = ex.parse_batch(values or [], x)
    per_feature = ("scalar", "vector")
    return Task(
        ex.solve, batch, single=single, x_option=option,
        gamma=parse_value_fast(gamma, "--gamma", kinds=per_feature),
        beta=parse_value_fast(beta, "--beta", kinds=per_feature),
        eps=parse_value_fast(eps, "--eps", kinds=("scalar",)),
        momentum=parse_value_fast(momentum, "--momentum", kinds=("scalar",)),
        running_mean=parse_value_fast(running_mean, "--running-mean", kinds=per_feature),
        running_var=parse_value_fast(running_var, "--running-var", kinds=per_feature),
        eval_mode=eval_mode,
        grad_out=None if grad_out is None else parse_value_fast(
            grad_out, "--grad-out", kinds=("scalar", "vector", "matrix")))


# negative batch values ("-1") must reach VALUES: unknown options are passed on to them, and
# bn_forward.check_values turns a real unknown option (--jsn) into a clear exit-2 error
for _info in app.registered_commands:
    if _info.name == "bn-forward":
        _info.context_settings = {**(_info.context_settings or {}), "ignore_unknown_options": True}


@command("quadratic-gd", plot=True)
def quadratic_gd(
    H: Annotated[str, typer.Option(
        "--H", help="Square matrix H of f(w) = wᵀHw: [[2,1],[1,3]] or \"2 1; 1 3\"; entries may be "
                    "symbols; up to 50x50. A non-symmetric H is replaced by (H + Hᵀ)/2.",
        show_default=False)],
    w0: Annotated[str, typer.Option("--w0", help="Starting point w₀, a vector of length n.",
                                    show_default=False)],
    lr: Annotated[str, typer.Option("--lr", help="Step size ε (a number or a symbol such as eps).",
                                    show_default=False)],
    steps: Annotated[str, typer.Option(
        "--steps", help="Gradient-descent steps, 0 to 1,000,000,000 (closed form, no loop), "
                        "or a symbol such as t.")] = "1",
    newton: Annotated[bool, typer.Option("--newton", help="Also take one Newton step w₀ − M⁻¹∇f(w₀).")] = False,
    tol: Annotated[str, typer.Option(
        "--tol", help="Error reduction for \"steps needed\" (0 < tol < 1).")] = "1e-6",
    half: Annotated[bool, typer.Option("--half", help="f(w) = ½wᵀHw instead of wᵀHw.")] = False,
) -> Any:
    """Gradient descent and Newton on f(w) = wᵀHw via H = QΛQᵀ, with convergence analysis.

    Example: dlcalc quadratic-gd --H "[[2, 1], [1, 3]]" --w0 "[1, 1]" --lr 0.1 --steps 10
    """
    from dlcalc.core import Task
    from dlcalc.exercises import quadratic_gd as ex
    from dlcalc.parse import parse_matrix, parse_scalar, parse_vector

    return Task(ex.solve, parse_matrix(H, "--H"), parse_vector(w0, "--w0"), parse_scalar(lr, "--lr"),
                steps=ex.parse_steps(steps), newton=newton, tol=parse_scalar(tol, "--tol"), half=half)


@command("dropout-expectation")
def dropout_expectation(
    y: Annotated[Optional[str], typer.Option(
        "--y", help="Target y. Left out: the symbol y.", show_default=False)] = None,
    u: Annotated[Optional[str], typer.Option(
        "--u", help="Inputs u_k, a vector (\"[1, 2, -0.5]\"). Left out: symbols u1…uN.",
        show_default=False)] = None,
    w: Annotated[Optional[str], typer.Option(
        "--w", help="Weights w_k, a vector of the same length. Left out: symbols w1…wN.",
        show_default=False)] = None,
    n: Annotated[Optional[str], typer.Option(
        "--n", help="Number of weights (1-50) when --u/--w are left symbolic.", show_default=False)] = None,
    noise: Annotated[str, typer.Option(
        "--noise", help="gaussian (δ_k ~ N(0, α·w_k²)) or bernoulli (dropout with keep probability p).")] = "gaussian",
    alpha: Annotated[Optional[str], typer.Option(
        "--alpha", help="Gaussian noise: variance factor α ≥ 0. Left out: the symbol alpha.",
        show_default=False)] = None,
    p: Annotated[Optional[str], typer.Option(
        "--p", help="Bernoulli noise: keep probability p in (0, 1]. Left out: the symbol p.",
        show_default=False)] = None,
    inverted: Annotated[Optional[bool], typer.Option(
        "--inverted/--no-inverted", help="Bernoulli: scale kept weights by 1/p as PyTorch does "
                                         "(default), or not (classic dropout).", show_default=False)] = None,
    half: Annotated[bool, typer.Option("--half", help="J = ½(y − Σ X_k u_k)² (c = ½) instead of c = 1.")] = False,
    samples: Annotated[Optional[str], typer.Option(
        "--samples", help="Also estimate E[J] by Monte Carlo with this many samples (2-1,000,000).",
        show_default=False)] = None,
    seed: Annotated[Optional[str], typer.Option(
        "--seed", help="Seed of the Monte Carlo run (default 0).", show_default=False)] = None,
) -> Any:
    """Expected loss under multiplicative weight noise or dropout = loss + an L2-like penalty.

    Example: dlcalc dropout-expectation --y 1 --u "[1, 2, -1]" --w "[0.5, -0.25, 1]" --alpha 0.1
    """
    from dlcalc.core import Task
    from dlcalc.exercises import dropout_expectation as ex

    return Task(ex.solve, inp=ex.parse_args(y=y, u=u, w=w, n=n, noise=noise, alpha=alpha, p=p,
                                            inverted=inverted, half=half, samples=samples, seed=seed))
