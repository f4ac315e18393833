"""The one safe parser: user text -> SymPy objects, by walking Python's ``ast``.

User text never reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr`` (they run
arbitrary Python).  The text is parsed with :func:`ast.parse` and only the node types an
arithmetic expression needs are turned into SymPy objects, one by one.  Sizes are checked
before any work: input length, nesting depth, number and exponent size, element count.

Forms accepted (see ../shared/interface.md):
    numbers, read exactly      0.1 -> 1/10, 1e-8 -> 1/10**8, 2/3
    names -> real symbols      x, lam, theta1
    expressions                theta**2 + 3*theta, sqrt(2)/2, exp(-1)
    vectors                    [1, 2, 3]  or  1,2,3
    matrices                   [[2,1],[1,3]]  or  2 1; 1 3  (rows by ';' or new lines)
    @PATH, -                   the value is read from a file or from standard input

An error message never echoes text that was read from a file or standard input (see
:func:`_echo`): ``--x @/etc/shadow`` says the file is not a valid expression, not what it
holds.  Inside ``dlcalc batch`` reading is off, or limited to one folder (:func:`reading`).
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import stat
import sys
import warnings
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Callable, Iterator

import sympy

from dlcalc.errors import InputError

# -- limits (generous for real work: a 256 x 64 batch inline is about 110,000 characters)
MAX_CHARS = 1_000_000        # characters in one input
MAX_ELEMENTS = 100_000       # entries in one vector or matrix
MAX_BRACKET_DEPTH = 40       # nesting of ( [ {
MAX_NODE_DEPTH = 120         # nesting of operations in one expression
MAX_NAME = 32                # characters in a symbol name
MAX_NUMBER_BITS = 4_000      # size of any exact number built (about 1200 decimal digits)
MAX_SYMBOLIC_EXPONENT = 1_000
MAX_LITERAL_EXP10 = 300      # |log10| of a literal: 1e300 is accepted, 1e309 is not

#: functions a user may call; each takes one argument
FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sqrt": sympy.sqrt,
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tanh": sympy.tanh,
    "sigmoid": lambda z: 1 / (1 + sympy.exp(-z)),
    "abs": sympy.Abs,
}
#: names that stand for a constant
CONSTANTS = {"pi": sympy.pi}

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SYMBOLS: dict[str, sympy.Symbol] = {}


def symbol(name: str) -> sympy.Symbol:
    """The real symbol ``name`` (every dlcalc quantity is real)."""
    s = _SYMBOLS.get(name)
    if s is None:
        s = _SYMBOLS[name] = sympy.Symbol(name, real=True)
    return s


# --------------------------------------------------------------------------- reading text

#: the texts read through ``@PATH`` or ``-`` since :func:`forget_reads` (the CLI calls it
#: before each command): error messages never quote from them
_READ_LOG: list[str] = []
#: who may read: ``[None]`` anyone (the command line); ``[""]`` nobody; ``[folder]`` only
#: regular files whose resolved path lies under that folder (``dlcalc batch --files-from``)
_READING: list[str | None] = [None]
HIDDEN = "(text read from the file or standard input, not shown)"


def forget_reads() -> None:
    """Start a new command: forget the texts read so far (see :func:`_echo`)."""
    _READ_LOG.clear()


@contextmanager
def reading(folder: str | None) -> Iterator[None]:
    """Within this block ``@PATH`` reads only regular files under ``folder`` (its resolved
    path; a path that leaves it through ``..`` or a symbolic link is refused), and ``-``
    (standard input) is refused.  ``folder=None`` refuses every ``@PATH`` too.
    Used by ``dlcalc batch``: a batch line must not read what the batch's owner did not allow."""
    before = _READING[0]
    _READING[0] = "" if folder is None else os.path.realpath(folder)
    try:
        yield
    finally:
        _READING[0] = before


def _echo(fragment: Any, quote: bool = True) -> str:
    """A piece of the user's text for an error message (``repr`` when ``quote``), or a
    placeholder when it comes from a file or standard input read in this command."""
    fragment = str(fragment)
    if fragment and any(fragment in src for src in _READ_LOG):
        return HIDDEN
    return repr(fragment) if quote else fragment


def _restricted_path(path: str, option: str, folder: str) -> str:
    """``path`` (relative to ``folder``) resolved, if it lies under ``folder``; else an error."""
    if not folder:
        raise InputError(option, "cannot read files inside dlcalc batch; start the batch with "
                                 "--files-from DIR to allow reading the files under DIR")
    if "\x00" in path:
        raise InputError(option, f"cannot read file {path[:60]!r}: the path contains a NUL byte")
    real = os.path.realpath(os.path.join(folder, path))
    if os.path.commonpath([real, folder]) != folder:
        raise InputError(option, f"cannot read file {path[:60]!r}: it is outside the --files-from "
                                 "folder (after following .. and symbolic links)")
    return real


def _read_file(path: str, option: str) -> bytes:
    folder = _READING[0]
    target = path if folder is None else _restricted_path(path, option, folder)
    try:
        if folder is None:
            with open(target, "rb") as fh:
                return fh.read(MAX_CHARS + 1)
        # no waiting on a FIFO, no following a link swapped in after the check
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(option, f"cannot read file {path[:60]!r}: not a regular file")
            return fh.read(MAX_CHARS + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(option, f"cannot read file {path[:60]!r}: {why}") from None


def read_source(text: str, option: str, *, stdin: Any = None) -> str:
    """The text of an option's value, following ``@PATH`` and ``-`` (standard input)."""
    if text is None:
        raise InputError(option, "needs a value")
    if text == "-":
        if _READING[0] is not None:
            raise InputError(option, "cannot read standard input inside dlcalc batch (standard "
                                     "input is the batch itself); put the value in the line")
        stream = stdin if stdin is not None else sys.stdin
        try:
            data = stream.read(MAX_CHARS + 1)
        except (OSError, ValueError, UnicodeDecodeError, AttributeError) as exc:
            raise InputError(option, f"could not read standard input: {exc}") from None
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        _READ_LOG.append(text)
        if len(text) > MAX_CHARS:
            raise InputError(option, f"is longer than {MAX_CHARS:,} characters")
    elif text.startswith("@"):
        path = text[1:]
        raw = _read_file(path, option)
        if len(raw) > MAX_CHARS:
            raise InputError(option, f"file {path[:60]!r} is longer than {MAX_CHARS:,} characters")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(option, f"file {path[:60]!r} is not UTF-8 text") from None
        _READ_LOG.append(text)
    return text


def _check_text(text: str, option: str) -> str:
    if len(text) > MAX_CHARS:
        raise InputError(option, f"is longer than {MAX_CHARS:,} characters")
    if "\x00" in text:
        raise InputError(option, "contains a NUL byte")
    if "#" in text:  # Python would read the rest as a comment: "3#<anything>" would be 3
        raise InputError(option, f"contains '#' at position {text.index('#') + 1}; a value is a number "
                                 "or an expression, and # starts no comment here")
    if text.count(",") + text.count(";") + text.count("\n") >= MAX_ELEMENTS:
        raise InputError(option, f"has more than {MAX_ELEMENTS:,} entries")  # before any parsing
    for i, ch in enumerate(text if not text.isascii() else ""):  # skipped when all ASCII (fast)
        if ord(ch) > 127:
            if ch == "\u2212":  # a typographic minus from a PDF or a web page
                continue
            shown = _echo(ch)
            raise InputError(option, f"contains the non-ASCII character {shown}"
                                     f"{'' if shown == HIDDEN else f' at position {i + 1}'}; "
                                     "use ASCII digits, names and operators")
    text = text.replace("\u2212", "-").strip()
    if not text:
        raise InputError(option, "is empty")
    depth = deepest = 0
    for ch in re.findall(r"[][(){}]", text):  # only the brackets: fast on a big matrix
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_BRACKET_DEPTH:
                raise InputError(option, f"is nested more than {MAX_BRACKET_DEPTH} brackets deep")
        elif ch in ")]}":
            depth -= 1
    return text


# --------------------------------------------------------------------------- the ast walk


class _Builder:
    """Turns one ast node tree into a SymPy object; only arithmetic is allowed."""

    def __init__(self, source: str, option: str) -> None:
        self.source = source
        self.option = option
        self.lines = source.splitlines(keepends=True) or [source]
        self.ascii = source.isascii()

    def fail(self, detail: str) -> InputError:
        return InputError(self.option, detail)

    def segment(self, node: ast.AST) -> str:
        # One-line nodes are cut from the precomputed line: ast.get_source_segment splits
        # the whole source on every call, which is quadratic for a 100,000-character matrix.
        # Offsets are in UTF-8 bytes, equal to characters here (_check_text allows ASCII only).
        lineno, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
        if lineno is not None and lineno == end and self.ascii and lineno <= len(self.lines):
            return self.lines[lineno - 1][node.col_offset:node.end_col_offset]
        seg = ast.get_source_segment(self.source, node)
        return seg if seg is not None else ""

    def build(self, node: ast.AST, depth: int = 0) -> Any:
        if depth > MAX_NODE_DEPTH:
            raise self.fail(f"is nested more than {MAX_NODE_DEPTH} operations deep")
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.fail(f"uses {_describe(node)}, which is not allowed "
                            "(only numbers, names, + - * / ** ( ) and "
                            f"{', '.join(sorted(set(FUNCTIONS)))})")
        value = method(node, depth + 1)
        return self.checked(value)

    def checked(self, value: Any) -> Any:
        if isinstance(value, sympy.Basic):
            if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
                raise self.fail("is not finite (division by zero, log(0) or similar)")
            if value.is_number:
                if value.is_real is False:
                    raise self.fail("is not a real number")
                if value.is_Rational and (value.p.bit_length() > MAX_NUMBER_BITS
                                          or value.q.bit_length() > MAX_NUMBER_BITS):
                    raise self.fail("builds a number too large to work with")
                if value.is_Rational:
                    big = abs(value.p) > 10**MAX_LITERAL_EXP10 * value.q
                else:  # sqrt, exp, pi...: judged by a 15-digit value
                    approx = abs(sympy.N(value, 15))
                    big = not approx.is_finite or approx > sympy.Float(10) ** MAX_LITERAL_EXP10
                if big:
                    raise self.fail(f"builds a number beyond 1e{MAX_LITERAL_EXP10}, too large for the answer "
                                    "to be a finite float")
        return value

    # leaves
    def _Constant(self, node: ast.Constant, depth: int) -> Any:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(f"contains {type(v).__name__} literal {_echo(self.segment(node)[:20])}; "
                            "only real numbers are allowed")
        text = self.segment(node).replace("_", "")
        return number_from_literal(text, self.option)

    def _Name(self, node: ast.Name, depth: int) -> Any:
        return name_to_sympy(node.id, self.option)

    # operators
    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> Any:
        operand = self.build(node.operand, depth)
        if isinstance(operand, list) and not isinstance(node.op, ast.UAdd):
            raise self.fail("puts a sign before a vector or matrix; write the signs inside the "
                            "brackets ([-1, -2])")
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(f"uses the operator {type(node.op).__name__}, which is not allowed")

    def _BinOp(self, node: ast.BinOp, depth: int) -> Any:
        op = type(node.op)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            raise self.fail(f"uses the operator {_OPS.get(op, op.__name__)!s}, which is not "
                            "allowed (use + - * / **)")
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        if op is ast.Pow:
            return self.power(left, right)
        if isinstance(left, list) or isinstance(right, list):
            raise self.fail("does arithmetic on a vector; write the numbers out")
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if right == 0:
            raise self.fail("divides by zero")
        return left / right

    def power(self, base: Any, exp: Any) -> Any:
        if isinstance(base, list) or isinstance(exp, list):
            raise self.fail("raises a vector to a power")
        if exp.is_number:
            if not exp.is_Rational:
                raise self.fail("has an irrational exponent; only rational exponents are allowed")
            p, q = int(exp.p), int(exp.q)
            if q > 64:
                raise self.fail(f"has the exponent {exp}, whose denominator is too large")
            if base.is_number:
                if base == 0 and p < 0:
                    raise self.fail("divides by zero (0 to a negative power)")
                if base.is_Rational:
                    bits = max(int(base.p).bit_length(), int(base.q).bit_length(), 1)
                    if abs(p) * bits > MAX_NUMBER_BITS * q and base not in (0, 1, -1):
                        raise self.fail("builds a number too large to work with "
                                        f"(a power with about {abs(p) * bits // q // 3:,} digits)")
                elif abs(p) > MAX_SYMBOLIC_EXPONENT:
                    raise self.fail(f"has an exponent beyond ±{MAX_SYMBOLIC_EXPONENT}")
            elif abs(p) > MAX_SYMBOLIC_EXPONENT:
                raise self.fail(f"has an exponent beyond ±{MAX_SYMBOLIC_EXPONENT}")
        elif base.is_number and base.is_Rational and base not in (0, 1, -1):
            pass  # 2**x stays symbolic
        return base ** exp

    def _Call(self, node: ast.Call, depth: int) -> Any:
        if not isinstance(node.func, ast.Name):
            raise self.fail("calls something that is not a plain function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.fail(f"calls {name!r}, which is not an allowed function "
                            f"(allowed: {', '.join(sorted(FUNCTIONS))})")
        if node.keywords or len(node.args) != 1:
            raise self.fail(f"calls {name} with {len(node.args) + len(node.keywords)} arguments; it takes one")
        arg = self.build(node.args[0], depth)
        if isinstance(arg, list):
            raise self.fail(f"calls {name} on a vector")
        if name in ("log", "ln") and arg.is_number and not arg.is_positive:
            raise self.fail(f"takes the logarithm of {arg}, which is not positive")
        if name == "sqrt" and arg.is_number and arg.is_negative:
            raise self.fail(f"takes the square root of {arg}, which is negative")
        if name == "exp" and arg.is_number and arg > 700:
            raise self.fail("takes exp of a number above 700, which overflows")
        return FUNCTIONS[name](arg)

    # containers
    def _List(self, node: ast.List, depth: int) -> Any:
        return [self.build(e, depth) for e in node.elts]

    _Tuple = _List

    def _Expression(self, node: ast.Expression, depth: int) -> Any:
        return self.build(node.body, depth)


_OPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^ (for powers write **)", ast.LShift: "<<", ast.RShift: ">>"}


def _describe(node: ast.AST) -> str:
    names = {"Attribute": "attribute access (a.b)", "Lambda": "lambda", "Subscript": "indexing (a[i])",
             "ListComp": "a comprehension", "GeneratorExp": "a comprehension",
             "DictComp": "a comprehension", "SetComp": "a comprehension", "Dict": "a dict",
             "Set": "a set", "JoinedStr": "a string", "Compare": "a comparison",
             "BoolOp": "and/or", "IfExp": "if/else", "NamedExpr": ":=", "Starred": "*",
             "Await": "await", "Yield": "yield", "Slice": "a slice"}
    return names.get(type(node).__name__, f"a {type(node).__name__} expression")


def number_from_literal(text: str, option: str) -> sympy.Rational:
    """A numeric literal read exactly: '0.1' -> 1/10, '1e-8' -> 1/10**8, '0x1f' -> 31."""
    low = text.lower()
    try:
        if low.startswith(("0x", "0o", "0b")):
            value = Fraction(int(low, 0))
        else:
            mant, _, exp10 = low.partition("e")
            if exp10 and abs(int(exp10)) > MAX_LITERAL_EXP10 + 30:
                raise InputError(option, f"has the number {_echo(text[:30], False)}, outside "
                                         f"±1e{MAX_LITERAL_EXP10}")
            value = Fraction(low)
    except (ValueError, ZeroDivisionError):
        raise InputError(option, f"has the number {_echo(text[:30])}, which cannot be read") from None
    if value != 0 and not (Fraction(1, 10**MAX_LITERAL_EXP10) <= abs(value) <= 10**MAX_LITERAL_EXP10):
        raise InputError(option, f"has the number {_echo(text[:30], False)}, outside the range 1e-{MAX_LITERAL_EXP10} "
                                 f"to 1e{MAX_LITERAL_EXP10}")
    return sympy.Rational(value.numerator, value.denominator)


def name_to_sympy(name: str, option: str) -> Any:
    """A bare name: a constant, or a real symbol; reserved names are refused with a reason."""
    if name in CONSTANTS:
        return CONSTANTS[name]
    low = name.lower()
    if low in ("nan", "inf", "infinity", "oo", "zoo"):
        raise InputError(option, f"is {_echo(name)}, which is not a finite real number")
    if name in FUNCTIONS:
        raise InputError(option, f"uses the function {name} without an argument; write {name}(...)")
    if not _NAME_RE.match(name) or keyword.iskeyword(name):
        raise InputError(option, f"uses the name {_echo(name[:40])}; names are letters, digits and _, "
                                 "starting with a letter")
    if len(name) > MAX_NAME:
        raise InputError(option, f"uses a name longer than {MAX_NAME} characters")
    if hasattr(sympy, name) or name in ("E", "I", "N", "O", "Q", "S"):
        shown = _echo(name)
        raise InputError(option, f"uses the name {shown}, which SymPy reserves for a function or constant; "
                                 "pick another symbol name" + ("" if shown == HIDDEN else
                                                              f" (such as {name}_ or {name[0]}1)"))
    return symbol(name)


def _parse_ast(text: str, option: str) -> Any:
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" (1inf) is for Python code
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at position {exc.offset}" if exc.offset else ""
        raise InputError(option, f"is not a valid expression{where}: {_echo(text[:40])}") from None
    except (RecursionError, MemoryError, ValueError):
        raise InputError(option, "is too deeply nested or too long to read") from None
    try:
        return _Builder(text, option).build(tree)
    except RecursionError:
        raise InputError(option, "is too deeply nested") from None


# --------------------------------------------------------------------------- public API


def parse_expr_text(text: str, option: str) -> Any:
    """One scalar expression (a number, a name, or arithmetic on them)."""
    text = _check_text(text, option)
    value = _parse_ast(text, option)
    if isinstance(value, list):
        raise InputError(option, "must be a single value, not a list")
    return value


def _row_form(text: str) -> bool:
    """Rows by ';' or by lines ("2 1; 1 3", CSV); a bracketed value may span lines (JSON)."""
    return ";" in text or ("\n" in text.strip() and not text.lstrip().startswith("["))


def _rows_text(text: str, option: str) -> list[list[Any]]:
    """'2 1; 1 3' or CSV lines -> rows of scalars."""
    rows = []
    for raw in re.split(r"[;\n]", text):
        raw = raw.strip().strip("[]").strip()
        if not raw:
            continue
        cells = [c for c in re.split(r"\s*,\s*|\s+", raw) if c] if "," in raw else raw.split()
        rows.append([parse_expr_text(c, option) for c in cells])
    if not rows:
        raise InputError(option, "is empty")
    return rows


def parse_value(text: str, option: str, *, kinds: tuple[str, ...] = ("scalar", "vector", "matrix"),
                stdin: Any = None) -> Any:
    """Parse an option's value as a scalar, a vector (list) or a matrix (list of rows).

    ``kinds`` lists which shapes the option accepts; another shape is an error naming it.
    """
    text = read_source(text, option, stdin=stdin)
    text = _check_text(text, option)
    if _row_form(text):
        value: Any = _rows_text(text, option)
    else:
        value = _parse_ast(text, option)
    return _shape(value, option, kinds)


# Each pattern matches a text in one way only (no two quantifiers compete for the same
# characters: "12" is not both 1|2 and 12|, a blank run is not split between two \s*), so a
# failed match backtracks a constant number of steps per character: linear time, not the
# exponential time of "\d+\.?\d*" on "[100, 101, ..., 117, 1/3]".
_PLAIN_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN_NUM_RE = re.compile(_PLAIN_NUM + r"\Z")
_PLAIN_ROW = rf"\[\s*{_PLAIN_NUM}(?:\s*,\s*{_PLAIN_NUM})*\s*(?:,\s*)?\]"
_PLAIN_MATRIX_RE = re.compile(rf"\[\s*{_PLAIN_ROW}(?:\s*,\s*{_PLAIN_ROW})*\s*(?:,\s*)?\]\Z")
_PLAIN_VECTOR_RE = re.compile(rf"{_PLAIN_ROW}\Z|{_PLAIN_NUM}(?:\s*,\s*{_PLAIN_NUM})+\s*,?\Z")
_PLAIN_FLOAT_RANGE = (10.0 ** -(MAX_LITERAL_EXP10 - 1), 10.0 ** (MAX_LITERAL_EXP10 - 1))
# an integer literal with a leading zero ("007"), refused by Python's grammar and the ast walk
_LEADING_ZERO_RE = re.compile(r"(?:(?<=[^0-9.eE+-])|^)[+-]?0+[1-9][0-9]*(?![0-9.eE])")


def _plain_fractions(tokens: list[str]) -> list[Fraction] | None:
    """Plain decimal literals as exact Fractions, or None when the ast walk must decide
    (a literal near or beyond the range limits, or a long one: the ast walk words the error)."""
    from decimal import Decimal

    if not tokens or max(map(len, tokens)) > 40:
        return None
    lo, hi = _PLAIN_FLOAT_RANGE
    for tok, f in zip(tokens, map(float, tokens)):  # a cheap range screen; exact check near the edges
        if f == 0.0:
            mant, _, exp10 = tok.lstrip("+-").lower().partition("e")
            if mant.strip("0.") != "" or (exp10 and abs(int(exp10)) > MAX_LITERAL_EXP10 + 30):
                return None  # a nonzero literal that underflows, or 0e999
        elif not lo <= abs(f) <= hi:
            return None
    return [Fraction(*Decimal(t).as_integer_ratio()) for t in tokens]


def parse_value_fast(text: str, option: str, *, kinds: tuple[str, ...] = ("scalar", "vector", "matrix"),
                     stdin: Any = None) -> Any:
    """:func:`parse_value` with a fast path for big batches of plain numbers.

    When the text is nothing but plain decimal literals (``-1.5``, ``2e-3``) in one of the
    vector or matrix forms, each element comes back as a :class:`fractions.Fraction` read
    exactly from its text (no ast walk, no SymPy object per element).  Any other text
    (names, expressions, other forms) goes through :func:`parse_value` and comes back as
    SymPy objects, so callers must accept both element types.  Values, shapes, limits and
    errors are those of :func:`parse_value`.
    """
    text = read_source(text, option, stdin=stdin)
    text = _check_text(text, option)
    rows: Any = None
    if _row_form(text):
        rows = []
        for raw in re.split(r"[;\n]", text):
            raw = raw.strip().strip("[]").strip()
            if raw:
                rows.append([c for c in re.split(r"\s*,\s*|\s+", raw) if c] if "," in raw else raw.split())
        if not all(_PLAIN_NUM_RE.match(c) for r in rows for c in r):
            rows = None
    elif _PLAIN_NUM_RE.match(text):
        rows = text
    elif _PLAIN_VECTOR_RE.match(text):
        rows = re.findall(_PLAIN_NUM, text)
    elif _PLAIN_MATRIX_RE.match(text):
        rows = [re.findall(_PLAIN_NUM, r) for r in re.findall(r"\[([^\[\]]*)\]", text)]
    if rows and not _LEADING_ZERO_RE.search(text):
        if isinstance(rows, str):
            flat = [rows]
        elif isinstance(rows[0], list):
            flat = [c for r in rows for c in r]
        else:
            flat = rows
        if len(flat) > MAX_ELEMENTS:
            raise InputError(option, f"has more than {MAX_ELEMENTS:,} entries")
        numbers = _plain_fractions(flat)
        if numbers is not None:
            if isinstance(rows, str):
                value: Any = numbers[0]
            elif isinstance(rows[0], list):
                it = iter(numbers)
                value = [[next(it) for _ in r] for r in rows]
            else:
                value = numbers
            return _shape(value, option, kinds)
    # the ordinary path, on the text already read (never read @PATH or - a second time)
    value = _rows_text(text, option) if _row_form(text) else _parse_ast(text, option)
    return _shape(value, option, kinds)


def _nested(value: Any, option: str, depth: int = 0) -> int:
    """Entries of a nested list (a list of matrices of any shapes, as a per-layer result),
    refusing empty lists and nesting deeper than 4."""
    if not isinstance(value, list):
        return 1
    if not value:
        raise InputError(option, "has an empty list")
    if depth >= 4:
        raise InputError(option, "is nested too deeply: at most a list of matrices")
    return sum(_nested(v, option, depth + 1) for v in value)


def _shape(value: Any, option: str, kinds: tuple[str, ...]) -> Any:
    if "nested" in kinds and isinstance(value, list) and any(
            isinstance(c, list) for r in value if isinstance(r, list) for c in r):
        if _nested(value, option) > MAX_ELEMENTS:
            raise InputError(option, f"has more than {MAX_ELEMENTS:,} entries")
        return value
    if not isinstance(value, list):
        kind = "scalar"
    elif not value:
        raise InputError(option, "is an empty list")
    elif all(isinstance(v, list) for v in value):
        widths = {len(r) for r in value}
        if 0 in widths:
            raise InputError(option, "has an empty row")
        if len(widths) > 1:
            raise InputError(option, "is a ragged matrix: rows have "
                                     f"{', '.join(str(len(r)) for r in value[:6])} entries")
        if any(isinstance(c, list) for r in value for c in r):
            raise InputError(option, "is nested too deeply: at most a matrix (list of rows)")
        kind = "matrix"
        if len(value) * len(value[0]) > MAX_ELEMENTS:
            raise InputError(option, f"has more than {MAX_ELEMENTS:,} entries")
        if len(value) == 1 and "vector" in kinds and "matrix" not in kinds:
            value, kind = value[0], "vector"
    elif any(isinstance(v, list) for v in value):
        raise InputError(option, "mixes numbers and lists")
    else:
        kind = "vector"
        if len(value) > MAX_ELEMENTS:
            raise InputError(option, f"has more than {MAX_ELEMENTS:,} entries")
    if kind not in kinds:
        if kind == "vector" and "matrix" in kinds and "scalar" not in kinds:
            return [value]  # one row
        if kind == "scalar" and "vector" in kinds:
            return [value]
        raise InputError(option, f"must be {' or '.join('a ' + k for k in kinds)}, got a {kind}")
    return value


def parse_scalar(text: str, option: str) -> Any:
    return parse_value(text, option, kinds=("scalar",))


def parse_vector(text: str, option: str) -> list[Any]:
    """A vector; a single value is a vector of length one."""
    return parse_value(text, option, kinds=("vector",))


def parse_matrix(text: str, option: str) -> list[list[Any]]:
    """A matrix as a list of rows; one row ``[1, 2]`` is a 1 x 2 matrix."""
    return parse_value(text, option, kinds=("matrix",))


def parse_int(text: str, option: str, *, lo: int, hi: int) -> int:
    """A whole number in [lo, hi], given as any exact expression (``1e6`` is fine)."""
    value = parse_scalar(text, option)
    if not value.is_number:
        raise InputError(option, f"must be a whole number, got {_echo(text.strip()[:40])}")
    if not value.is_Integer:
        raise InputError(option, f"must be a whole number, got {value}")
    n = int(value)
    if n < lo or n > hi:
        raise InputError(option, f"must be between {lo:,} and {hi:,}, got {n:,}")
    return n


def parse_bool(text: str, option: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", "1", "on"):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise InputError(option, f"must be true or false, got {_echo(text.strip()[:40])}")
