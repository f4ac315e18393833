"""The Python API: ``dlcalc.solve(command, **options)`` and the worked solution it returns.

Built from the registry alone, like the command line: options are named as the command's
options with dashes as underscores (``weight_decay=0.01``), positional arguments by their
name (``sizes=[784, 256, 10]``).  Every value is turned into the command line's text and
read by the same safe parser, so a value means here exactly what it means there: a float
is its shortest decimal (0.1 is 1/10), a string is command-line syntax, a list or NumPy
array is a vector or matrix, a SymPy object is written out and read back.

Nothing here is per command.
"""

from __future__ import annotations

import difflib
import json
from fractions import Fraction
from typing import Any, Iterator, Mapping, Sequence

from dlcalc import registry
from dlcalc.errors import InputError


# --------------------------------------------------------------------------- values -> text


def _sympy_text(x: Any) -> str:
    """A SymPy object in the command-line syntax (the parser's function names)."""
    import sympy
    from sympy.printing.str import StrPrinter

    class _Printer(StrPrinter):
        def _print_Abs(self, e: Any) -> str:
            return f"abs({self._print(e.args[0])})"

        def _print_Exp1(self, e: Any) -> str:
            return "exp(1)"

        def _print_sigmoid(self, e: Any) -> str:
            return f"sigmoid({self._print(e.args[0])})"

        def _print_Float(self, e: Any) -> str:
            return repr(float(e)) if e._prec <= 53 else sympy.sstr(e, full_prec=True)

    if isinstance(x, sympy.MatrixBase):
        return _text(x.tolist(), "value")
    return _Printer().doprint(x)


def _text(value: Any, option: str) -> str:
    """One value as the command line would have it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise InputError(option, f"takes a value, not {value}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # the shortest decimal that round-trips: 0.1 -> "0.1"
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if hasattr(value, "tolist") and not _is_sympy(value):  # NumPy arrays and scalars
        return _text(value.tolist(), option)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v, option) for v in value) + "]"
    if _is_sympy(value):
        return _sympy_text(value)
    raise InputError(option, f"cannot take a {type(value).__name__}")


def _is_sympy(value: Any) -> bool:
    mod = type(value).__module__ or ""
    return mod.startswith("sympy.") or mod.startswith("dlcalc.board")


def _raw(opt: registry.Option, value: Any) -> Any:
    """A Python value for ``opt`` as the CLI hands it to the exercise's parse."""
    if opt.kind in (registry.FLAG, registry.SWITCH):
        if value is None and opt.kind == registry.SWITCH:
            return None
        if not isinstance(value, bool):
            raise InputError(opt.name, f"is a flag: pass True or False, got {value!r:.40}")
        return value
    if opt.kind in (registry.LIST, registry.ARGUMENTS):
        if value is None:
            return None
        items = value.tolist() if hasattr(value, "tolist") and not _is_sympy(value) else value
        if isinstance(items, str) or not isinstance(items, (list, tuple)):
            items = [items]
        return [_text(v, opt.name) for v in items]
    return None if value is None else _text(value, opt.name)


def _raw_options(decl: registry.Command, options: Mapping[str, Any]) -> dict[str, Any]:
    by_param = {o.param: o for o in decl.options}
    unknown = [k for k in options if k not in by_param]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(by_param), n=1)
        hint = f"; did you mean {close[0]}?" if close else f"; its options: {', '.join(by_param)}"
        raise InputError(None, f"{decl.name} has no option {unknown[0]!r}{hint}")
    raw = {}
    for param, opt in by_param.items():
        if param in options:
            raw[param] = _raw(opt, options[param])
        elif opt.required:
            raise InputError(opt.name, f"is missing (pass {param}=...)")
        elif opt.kind == registry.FLAG:
            raw[param] = bool(opt.default)
        else:
            raw[param] = opt.default
    return raw


# --------------------------------------------------------------------------- solve


def solve(command: str, /, **options: Any) -> "Worked":
    """Work the exercise ``command`` with ``options``; bad input raises :class:`InputError`.

    >>> import dlcalc
    >>> dlcalc.solve("param-count", sizes=[784, 256, 10]).result["total"]
    203530
    """
    if command not in registry.EXERCISES:
        close = difflib.get_close_matches(str(command), registry.names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; commands: {', '.join(registry.names())}"
        raise InputError(None, f"unknown command {str(command)[:40]!r}{hint}")
    from dlcalc.core import Task

    mod = registry.module(command)
    raw = _raw_options(mod.COMMAND, options)
    task = _guard(lambda: Task(mod.solve, mod.parse(**raw)))
    return Worked(task, _guard(task.run))


def _guard(compute: Any) -> Any:
    """Run exercise code; every failure is an :class:`InputError`, as the CLI's exit 2."""
    try:
        return compute()
    except InputError:
        raise
    except (RecursionError, MemoryError):
        raise InputError(None, "the input is too large or too deeply nested to work with") from None
    except Exception as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(None, f"could not compute this input ({type(exc).__name__}: {detail})") from None


# --------------------------------------------------------------------------- the result


class Checks(tuple):
    """The verdicts of :meth:`Worked.check`, one per key; ``.ok`` when all are right."""

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self)

    def __repr__(self) -> str:
        return "Checks(" + ", ".join(f"{v.key}: {'✓' if v.ok else '✗'}" for v in self) + ")"


class Worked:
    """A worked solution, for Python and notebooks.

    Attributes:
        command: the command that produced it.
        result: the named answers as ``--json`` prints them (numbers, lists, strings for
            symbolic values).
        exact: the same answers as SymPy objects.
        steps: the working (:class:`dlcalc.core.Step`, in order).
        conventions: the conventions in force, name -> sentence.
        solution: the underlying :class:`dlcalc.core.Solution`.
    """

    def __init__(self, task: Any, solution: Any) -> None:
        self._task = task
        self.solution = solution

    command = property(lambda self: self.solution.command)
    steps = property(lambda self: self.solution.steps)
    conventions = property(lambda self: dict(self.solution.conventions))
    exact = property(lambda self: dict(self.solution.result))
    inputs = property(lambda self: dict(self.solution.inputs))

    @property
    def result(self) -> dict[str, Any]:
        from dlcalc.printing import json_value

        return {k: json_value(v) for k, v in self.solution.result.items()}

    def as_dict(self, digits: int = 6, *, steps: bool = True) -> dict[str, Any]:
        """The ``--json`` object as a dict."""
        from dlcalc.render import to_json

        return to_json(self.solution, digits, steps=steps)

    def to_json(self, digits: int = 6, *, steps: bool = True) -> str:
        """The ``--json`` output: one JSON object, as a string."""
        return json.dumps(self.as_dict(digits, steps=steps), ensure_ascii=False)

    def to_latex(self, digits: int = 6, *, document: bool = False) -> str:
        """The ``--latex`` block (or ``--latex-document``)."""
        from dlcalc.render import to_latex

        return to_latex(self.solution, digits, document=document)

    def to_text(self, digits: int = 6, width: int = 100) -> str:
        """The working as plain text, as the command line prints it to a file."""
        from dlcalc.render import to_plain

        out = to_plain(self.solution, digits, width)
        if out is None:  # a table wider than the width: Rich lays it out
            import io

            from rich.console import Console

            from dlcalc.render import to_rich

            buf = io.StringIO()
            console = Console(file=buf, width=width, highlight=False, emoji=False, markup=False,
                              color_system=None)
            for r in to_rich(self.solution, digits):
                console.print(r)
            out = buf.getvalue().rstrip("\n")
        return out

    def check(self, answers: Mapping[str, Any] | None = None, /, *, rtol: float | None = None,
              atol: float | None = None, **more: Any) -> Checks:
        """Check answers by result key: ``w.check(theta=0.755)`` or, for paths that are not
        Python names, ``w.check({"history.0.theta": 0.9})``.  Same rules as ``--check``."""
        from dlcalc import check as checking

        given = {**(answers or {}), **more}
        if not given:
            raise InputError("--check", "needs at least one answer (key=value)")
        texts = [f"{k}={_text(v, '--check') if not isinstance(v, bool) else str(v).lower()}"
                 for k, v in given.items()]
        pairs = checking.parse_checks(texts, self.solution)
        tol = {"rtol": 1e-3 if rtol is None else rtol, "atol": 1e-9 if atol is None else atol}
        return Checks(_guard(lambda: checking.check(self._task, self.solution, pairs, **tol)))

    # ---------------------------------------------------------------- display

    def _answer(self, digits: int = 6) -> Iterator[tuple[str, str]]:
        from dlcalc import printing as P

        for k, v in self.solution.result.items():
            if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
                continue
            yield k, P.value_text(v, digits)

    def __repr__(self) -> str:
        parts = [_eq(k, v) for k, v in self._answer()]
        body = "; ".join(parts)
        if len(body) > 160:
            body = body[:157] + "…"
        return f"<dlcalc {self.command}: {body}>"

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex() + "$$"

    def _repr_markdown_(self) -> str:
        lines = [f"**dlcalc {self.command}**", ""]
        lines += [f"- *{k}*: {_md(v)}" for k, v in self.solution.conventions.items()]
        lines += ["", "$$" + self.to_latex() + "$$", "", "**Answer**", ""]
        lines += [f"- `{k}` {_md(_eq('', v)).strip()}" for k, v in self._answer()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(v)}</td></tr>"
                       for k, v in self._answer())
        conv = "".join(f"<li><i>{html.escape(k)}</i>: {html.escape(v)}</li>"
                       for k, v in self.solution.conventions.items())
        return (f"<div><b>dlcalc {html.escape(self.command)}</b><ul>{conv}</ul>"
                f"<pre>{html.escape(self.to_text())}</pre>"
                f"<table><tr><th>key</th><th>answer</th></tr>{rows}</table></div>")


def _eq(key: str, value: str) -> str:
    """``key = value``, or ``key ≈ decimal`` when the value is only approximate."""
    return f"{key} {value}" if value.startswith("≈") else f"{key} = {value}"


def _md(s: str) -> str:
    """Text for Markdown: characters Markdown would read as markup escaped."""
    for ch in "\\`*_[]<>|$#":
        s = s.replace(ch, "\\" + ch)
    return s


def commands() -> Sequence[str]:
    """The commands :func:`solve` takes."""
    return registry.names()
