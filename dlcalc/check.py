"""``--check KEY=VALUE``: is a student's answer right, and if not, which common mistake
produces it?

How an answer is judged (the verdict says which rule was used):

* **As written** (the default).  A decimal is right when it is within one unit of its
  last written digit of the right value: ``0.447`` for 0.447214, ``-1.34`` for −1.34164,
  ``0.98`` for 0.980752 (``0.757`` for 0.754989 is wrong), and off by less than half of
  itself (``0.01`` for 0.0001 is wrong, though within one unit of its hundredths).
  Scientific notation counts the
  digits of its mantissa: ``4.47e-1`` is judged to 3 significant figures, ``2e3`` to 1,
  ``2.0e3`` to 2.  A value written with more than :data:`MAX_FIGURES` significant figures
  is judged to :data:`MAX_FIGURES` (a float64 pasted in full carries rounding noise in its
  last digits).  A whole number written without a point or exponent (``203530``) and an
  expression (``1/3``, ``sqrt(5)/5``) are exact: right only when equal to the right value
  (to the precision the program computed it, when that value is itself a decimal).
* **Within a tolerance**, when ``--rtol`` or ``--atol`` is given: ``|g − e| ≤ atol + rtol·|e|``
  (the one not given is 0).
* **As an expression**, whenever the given or the right value has symbols: right only when
  the difference is 0 after expansion, or is exactly 0 at several random rational points
  (no tolerance; to 40 digits where roots or exponentials make the value there irrational).
  Otherwise wrong, or "cannot decide" (an :class:`InputError`, exit 2), never ✓.

Paths reach inside a result: ``x_hat.0`` is element 0 (0-based, as in the JSON),
``history.0.theta`` a field of a record, ``x_hat.1.0`` an entry of a matrix.

Each exercise module declares ``MISTAKES``, a tuple of :class:`~dlcalc.core.Mistake`:
small variants of the same exercise (a convention flag flipped, an input changed).  On a
wrong answer the exercise is solved again under each mistake; the mistakes whose value at
that path matches the given one by the same rule are candidates, and the closest one is
named, with the first step of the working where it departs from the right one (both
steps are kept, so the output can show the right line beside the mistaken one).
Nothing here prints.
"""

from __future__ import annotations

import ast
import random
import re
import sys
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import sympy

from dlcalc.core import Mistake, Solution, Step, Task
from dlcalc.errors import InputError
from dlcalc.parse import parse_value, read_source

#: written precision beyond this many significant figures is not taken at its word
MAX_FIGURES = 12
#: random rational points at which two expressions must agree exactly
POINTS = 4
#: expressions larger than this (tree nodes) are not expanded symbolically
EXPAND_MAX_NODES = 2_000


@dataclass(frozen=True)
class Verdict:
    """The check of one result key (or path into it).

    Attributes:
        key: the path checked, as given ("w", "x_hat.0", "history.0.theta").
        ok: whether the given value is right by the rule in ``judged``.
        expected: the right value (SymPy / list / bool).
        given: the student's value, parsed exactly.
        mistake: the name of the common mistake that reproduces the given value, or None.
        departs_at: the label of the first step where that mistake departs from the right
            working, or None.
        judged: how the answer was judged: "to 3 significant figures", "exactly",
            "as an expression", "within rtol 1e-06, atol 0"; "" for true/false.
        right_step: the right working's step at ``departs_at`` (or None).
        mistaken_step: the mistaken working's step at ``departs_at`` (or None).
    """

    key: str
    ok: bool
    expected: Any
    given: Any
    mistake: str | None = None
    departs_at: str | None = None
    judged: str = ""
    right_step: Step | None = None
    mistaken_step: Step | None = None


@dataclass(frozen=True)
class Given:
    """One parsed ``--check PATH=VALUE``.

    Attributes:
        key: the path as typed ("x_hat.0").
        path: its parts (("x_hat", 0)).
        value: the value, parsed exactly (a bool for true/false).
        units: per element (flattened), the unit of the last written digit as a Rational
            and the significant figures written, or None for an exact element.
        text: the value as typed.
        shape_error: why the value's shape cannot be the answer's, or None: such a value is
            refused unless a common mistake gives an answer of that shape (the mean over
            the other axis).
    """

    key: str
    path: tuple[Any, ...]
    value: Any
    units: tuple[tuple[sympy.Rational, int, int] | None, ...]
    text: str
    shape_error: str | None = None


# --------------------------------------------------------------------------- reading --check


def _records(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and bool(v) and isinstance(v[0], dict)


def _as_plain(v: Any) -> Any:
    """A result value with matrices as lists of rows (columns as flat lists), as the JSON has it."""
    if isinstance(v, sympy.MatrixBase):
        return v.tolist() if v.cols > 1 else list(v)
    return v


def _split_path(key: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for part in key.split("."):
        part = part.strip()
        if not part:
            raise InputError("--check", f"has an empty part in the path {key[:40]!r} (write x_hat.0, "
                                        "history.0.theta)")
        parts.append(int(part) if part.isdigit() else part)
    return tuple(parts)


def _keys_hint(result: Mapping[str, Any]) -> str:
    keys = ", ".join(result)
    example = next((f"{k}.0" for k, v in result.items() if isinstance(_as_plain(v), (list, tuple))
                    and not _records(v)), None)
    rec = next((f"{k}.0.{next((f for f, x in v[0].items() if not isinstance(x, str)), next(iter(v[0])))}"
                for k, v in result.items() if _records(v)), None)
    paths = [p for p in (example, rec) if p]
    return keys + (f" (and paths into them, such as {' or '.join(paths)})" if paths else "")


def resolve(result: Mapping[str, Any], path: tuple[Any, ...], key: str,
            conditional: Mapping[str, str] | None = None) -> Any:
    """The value at ``path`` in a solution's result; InputError (naming --check) otherwise."""
    head = path[0]
    if not isinstance(head, str) or head not in result:
        if conditional and head in conditional:
            raise InputError("--check", f"{head} {conditional[head]}; it is not in this answer")
        raise InputError("--check", f"has the unknown key {str(head)[:30]!r}; this command's keys: "
                                    f"{_keys_hint(result)}")
    value: Any = _as_plain(result[head])
    where = head
    for part in path[1:]:
        if isinstance(value, dict):
            if part not in value:
                raise InputError("--check", f"has the path {key[:40]!r}, but {where} has the fields "
                                            f"{', '.join(map(str, value))}")
        elif isinstance(value, (list, tuple)):
            if not isinstance(part, int):
                raise InputError("--check", f"has the path {key[:40]!r}, but {where} is a list: "
                                            f"use a number from 0 to {len(value) - 1} after it")
            if part >= len(value):
                raise InputError("--check", f"has the path {key[:40]!r}, but {where} has {len(value)} "
                                            f"entries ({where}.0 to {where}.{len(value) - 1})")
        else:
            raise InputError("--check", f"has the path {key[:40]!r}, but {where} is a single value")
        value = _as_plain(value[part])
        where = f"{where}.{part}"
    if _records(value):
        first = next((f for f, x in value[0].items() if not isinstance(x, str)), next(iter(value[0])))
        raise InputError("--check", f"has the key {where!r}, a table of records; check one entry, "
                                    f"such as {where}.0.{first}")
    if isinstance(value, dict):
        raise InputError("--check", f"has the key {where!r}, a record; check one of its fields: "
                                    f"{', '.join(f'{where}.{f}' for f in value)}")
    return value


_LITERAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\Z")


def _literal_unit(lit: str) -> tuple[sympy.Rational, int, int] | None:
    """(unit of the last written digit, significant figures, decimal places) of a decimal
    literal, or None for an exact one (a whole number without point or exponent)."""
    lit = lit.replace("_", "")
    m = _LITERAL.match(lit)
    if m is None or (m.group(3) is None and m.group(4) is None):
        return None
    whole, frac, exp = m.group(2), m.group(3) or "", int(m.group(4) or 0)
    places = len(frac) - exp
    figures = len((whole + frac).lstrip("0"))
    if figures > MAX_FIGURES:
        places -= figures - MAX_FIGURES
        figures = MAX_FIGURES
    unit = sympy.Rational(1, 10 ** places) if places >= 0 else sympy.Integer(10) ** (-places)
    return unit, figures, places


def _element_nodes(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [n for e in node.elts for n in _element_nodes(e)]
    return [node]


def _node_unit(node: ast.AST, source: str) -> tuple[sympy.Rational, int, int] | None:
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        seg = ast.get_source_segment(source, node)
        return _literal_unit(seg) if seg else None
    return None


def written_units(text: str, count: int) -> tuple[tuple[sympy.Rational, int, int] | None, ...]:
    """Per element of an already-parsed value (flattened, ``count`` of them), the written
    precision of each plain decimal; None for whole numbers and expressions.

    ``text`` was accepted by :func:`dlcalc.parse.parse_value`, so it is plain arithmetic;
    it is only read here (``ast.parse`` evaluates nothing)."""
    text = text.replace("\u2212", "-").strip()
    from dlcalc.parse import _row_form

    units: list[Any] = []
    try:
        if _row_form(text):
            for raw in re.split(r"[;\n]", text):
                raw = raw.strip().strip("[]").strip()
                if raw:
                    cells = [c for c in re.split(r"\s*,\s*|\s+", raw) if c] if "," in raw else raw.split()
                    for c in cells:
                        units.append(_node_unit(ast.parse(c, mode="eval").body, c))
        else:
            tree = ast.parse(text, mode="eval")
            units = [_node_unit(n, text) for n in _element_nodes(tree.body)]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        units = []
    if len(units) != count:
        return (None,) * count
    return tuple(units)


def _shape(v: Any) -> tuple[int, ...]:
    v = _as_plain(v)
    if isinstance(v, (list, tuple)):
        inner = {_shape(e) for e in v}
        return (len(v),) + (inner.pop() if len(inner) == 1 else ())
    return ()


def _describe(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single value"
    if len(shape) == 1:
        return f"{shape[0]} value" + ("" if shape[0] == 1 else "s")
    return f"{shape[0]}×{shape[1]} values ({shape[0]} rows of {shape[1]})"


def _count(shape: tuple[int, ...]) -> str:
    if len(shape) <= 1:
        return str(shape[0] if shape else 1)
    return f"a {shape[0]}×{shape[1]} matrix"


def _squeeze(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(s for s in shape if s != 1)


def _is_bool(v: Any) -> bool:
    return isinstance(v, (bool, sympy.logic.boolalg.BooleanAtom))


def _is_condition(v: Any) -> bool:
    """A condition on symbols (``(0 < eps) & (eps < 1/2)``): true or false depending on them."""
    return (isinstance(v, sympy.logic.boolalg.Boolean) and not isinstance(v, sympy.Expr)
            and not _is_bool(v))


def _check_shape(key: str, given: Any, expected: Any) -> None:
    """Refuse a given value whose kind or shape cannot be the answer at ``key``."""
    if _is_bool(expected) or _is_condition(expected):
        if not isinstance(given, bool):
            raise InputError("--check", f"{key} is true or false, got {_short(given)}")
        return
    if isinstance(given, bool):
        raise InputError("--check", f"{key} is {'a number' if not _shape(expected) else _describe(_shape(expected))}, "
                                    "not true or false")
    if isinstance(expected, str):
        raise InputError("--check", f"{key} is the text {expected[:40]!r}; only numbers, "
                                    "expressions and true/false can be checked")
    if expected is None:
        raise InputError("--check", f"{key} has no value in this answer")
    es, gs = _shape(expected), _shape(given)
    if es != gs and _squeeze(es) != _squeeze(gs):
        raise InputError("--check", f"{key} has {_describe(es)}, got {_count(gs)}")


def parse_checks(texts: Sequence[str], solution: Solution) -> list[Given]:
    """``["w=0.98", "x_hat.0=-1.34"]`` -> the parsed checks, each path resolved in the result
    and each value's kind and shape checked against it (InputError, naming --check)."""
    conditional = _conditional_keys(solution.command)
    out = []
    for text in texts:
        key, eq, raw = text.partition("=")
        key = key.strip()
        if not eq or not key or not raw.strip():
            raise InputError("--check", f"must be KEY=VALUE, got {text[:40]!r}")
        path = _split_path(key)
        expected = resolve(solution.result, path, key, conditional)
        source = read_source(raw, "--check")
        if source.strip() == "-" or source.lstrip().startswith("@"):
            raise InputError("--check", "read from a file or standard input must hold the value, "
                                        "not another @PATH or -")
        if source.strip().lower() in ("true", "false"):
            value: Any = source.strip().lower() == "true"
            units: tuple[Any, ...] = (None,)
        else:
            value = parse_value(source, "--check", kinds=("scalar", "vector", "matrix", "nested"))
            units = written_units(source, len(_flat(value)))
        shape_error = None
        try:
            _check_shape(key, value, expected)
        except InputError as exc:
            if _is_bool(expected) or isinstance(value, bool) or not _shape(value) or \
                    isinstance(expected, str) or expected is None:
                raise
            shape_error = exc.detail
        out.append(Given(key, path, value, units, source.strip(), shape_error))
    return out


def _conditional_keys(command: str) -> Mapping[str, str]:
    """The command's keys that exist only with some option (``{"newton_w": "needs --newton"}``)."""
    from dlcalc import registry

    if command not in registry.EXERCISES:
        return {}
    try:
        return getattr(registry.command(command), "conditional_keys", None) or {}
    except Exception:  # pragma: no cover - a registry problem is not the student's
        return {}


# --------------------------------------------------------------------------- judging


def _flat(x: Any) -> list[Any]:
    x = _as_plain(x)
    if isinstance(x, (list, tuple)):
        out: list[Any] = []
        for e in x:
            out.extend(_flat(e))
        return out
    return [x]


def _number(x: Any) -> Any:
    """A result leaf as a SymPy object (a float keeps every digit it carries)."""
    if isinstance(x, (bool, sympy.logic.boolalg.Boolean)):
        return x
    if isinstance(x, float):
        text = repr(x)
        digits = len(re.sub(r"[^0-9]", "", text.split("e")[0].split("E")[0]).lstrip("0"))
        return sympy.Float(text, max(15, digits))
    if isinstance(x, int):
        return sympy.Integer(x)
    if isinstance(x, sympy.Basic):
        return x
    from fractions import Fraction

    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    return x


def _float_digits(e: Any) -> int | None:
    """The fewest decimal digits of any Float in ``e`` (None when it has no Float)."""
    floats = [f for f in e.atoms(sympy.Float)] if isinstance(e, sympy.Basic) else []
    if not floats:
        return None
    return max(15, min(int(f._prec * 0.30103) for f in floats))


def _symbolic(x: Any) -> bool:
    return isinstance(x, sympy.Basic) and bool(x.free_symbols)


def _size(e: Any, cap: int) -> int:
    n = 0
    for _ in sympy.preorder_traversal(e):
        n += 1
        if n > cap:
            break
    return n


def same_expression(g: Any, e: Any) -> bool | None:
    """Whether two expressions are equal: True, False, or None (cannot decide).

    True when the difference is 0 as built or after expansion, or when it is exactly 0 at
    :data:`POINTS` random rational points (to 40 digits where a point's value is
    irrational, or to the precision of the decimals in them); False as soon as it is not
    0 at one point; None when too few points could be evaluated."""
    try:
        d = g - e
    except (TypeError, ValueError):
        return None
    if d == 0:
        return True
    if not isinstance(d, sympy.Basic):
        return None
    if _size(d, EXPAND_MAX_NODES) <= EXPAND_MAX_NODES:
        try:
            if sympy.expand(d) == 0:
                return True
        except Exception:  # an expansion SymPy cannot do decides nothing
            pass
    free = sorted(d.free_symbols, key=str)
    digits = min(d for d in (_float_digits(g), _float_digits(e), 40) if d is not None)
    rng = random.Random(20240917)
    agree = 0
    for attempt in range(4 * POINTS):
        if agree >= POINTS:
            break
        point = {}
        for s in free:
            if s.is_integer or attempt % 2 == 1:
                point[s] = sympy.Integer(rng.randint(2, 9))
            else:
                point[s] = sympy.Rational(rng.randint(1, 97), rng.randint(2, 61))
        try:
            dv = d.xreplace(point)
            ev = e.xreplace(point) if isinstance(e, sympy.Basic) else sympy.sympify(e)
        except (ZeroDivisionError, ValueError, TypeError, ArithmeticError):
            continue
        if not isinstance(dv, sympy.Expr) or not dv.is_number or dv.has(sympy.nan, sympy.zoo, sympy.oo,
                                                                           -sympy.oo):
            continue
        if dv.is_Rational:
            if dv != 0:
                return False
            agree += 1
            continue
        try:
            mag = abs(complex(sympy.N(dv, 50)))
            scale = max(1.0, abs(complex(sympy.N(ev, 20))))
        except (TypeError, ValueError, OverflowError):
            continue
        if mag != mag or scale != scale:  # NaN: the point is outside the domain
            continue
        if mag > scale * 10.0 ** (3 - digits):
            return False
        agree += 1
    return True if agree >= POINTS else None


def _judge_leaf(g: Any, unit: tuple[Any, int, int] | None, e: Any,
                tol: tuple[float, float] | None) -> tuple[bool | None, str]:
    """(right?, how) for one element."""
    g, e = _number(g), _number(e)
    if not isinstance(g, sympy.Basic) or not isinstance(e, sympy.Basic):
        return False, "exactly"
    if _symbolic(g) or _symbolic(e):
        return same_expression(g, e), "as an expression"
    try:
        ev = sympy.N(e, 50)
        gv = sympy.N(g, 50)
    except (TypeError, ValueError):
        return same_expression(g, e), "exactly"
    if not (ev.is_real and gv.is_real and ev.is_finite and gv.is_finite):
        return same_expression(g, e), "exactly"
    diff = abs(gv - ev)
    if tol is not None:
        rtol, atol = tol
        return bool(diff <= sympy.Float(atol, 30) + sympy.Float(rtol, 30) * abs(ev)), \
            f"within rtol {rtol:g}, atol {atol:g}"
    if unit is not None:
        # within one unit of the last written digit; and a nonzero answer must not be off by
        # half of itself (0.01 for 0.0001 is one unit of the hundredths, but not right)
        ok = diff <= unit[0] and (unit[1] == 0 or diff <= abs(gv) / 2)
        return bool(ok), (f"to {unit[1]} significant figure" + ("" if unit[1] == 1 else "s")
                          if unit[1] else f"to {unit[2]} decimal places")
    digits = _float_digits(e)
    if digits is None:  # exact given, exact answer
        if g == e:
            return True, "exactly"
        if g.is_Rational and e.is_Rational:
            return False, "exactly"
        return bool(diff <= abs(ev) * sympy.Float(10, 50) ** -40 + sympy.Float(10, 50) ** -300), "exactly"
    return bool(diff <= abs(ev) * sympy.Float(10, 30) ** (3 - digits)), "exactly"


def judge(given: Given, expected: Any, tol: tuple[float, float] | None) -> tuple[bool | None, str]:
    """Whether ``given`` is right for ``expected``: (True / False / None = cannot decide, how)."""
    value = given.value
    if isinstance(value, bool):
        if _is_condition(expected):
            return None, ""
        return bool(expected) is value, ""
    gs, es = _flat(value), _flat(expected)
    if len(gs) != len(es):
        return False, "exactly"
    results, hows = [], []
    for g, unit, e in zip(gs, given.units, es):
        ok, how = _judge_leaf(g, unit, e, tol)
        results.append(ok)
        hows.append(how)
    ok: bool | None = False if False in results else (None if None in results else True)
    return ok, _combine(hows)


def _combine(hows: list[str]) -> str:
    """One description for a vector's elements ("to 3 significant figures", "to 2 to 3 ...")."""
    kinds = list(dict.fromkeys(hows))
    if len(kinds) == 1:
        return kinds[0]
    figures = sorted({int(h.split()[1]) for h in kinds if h.endswith(("figure", "figures"))})
    others = [h for h in kinds if not h.endswith(("figure", "figures"))]
    parts = []
    if figures:
        span = str(figures[0]) if len(figures) == 1 else f"{figures[0]} to {figures[-1]}"
        parts.append(f"to {span} significant figure" + ("" if span == "1" else "s"))
    parts.extend(others)
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _distance(given: Any, value: Any) -> float:
    """The largest relative difference between two numeric values of the same shape."""
    worst = 0.0
    for gi, vi in zip(_flat(given), _flat(value)):
        try:
            g, v = float(_number(gi)), float(_number(vi))
        except (TypeError, ValueError, OverflowError):
            return 0.0 if _symbolic(_number(gi)) or _symbolic(_number(vi)) else float("inf")
        worst = max(worst, abs(g - v) / max(abs(v), 1e-300))
    return worst


def same_value(a: Any, b: Any) -> bool:
    """Whether two step or result values are the same (for where the working departs):
    equal as built, numerically to 12 digits, or as expressions."""
    if a is None or b is None:
        return a is b
    if isinstance(a, dict) or isinstance(b, dict):
        return a == b
    fa, fb = _flat(a), _flat(b)
    if len(fa) != len(fb) or _shape(a) != _shape(b):
        return False
    for x, y in zip(fa, fb):
        x, y = _number(x), _number(y)
        if x is y:
            continue
        try:
            if x == y:
                continue
        except Exception:
            pass
        if not isinstance(x, sympy.Expr) or not isinstance(y, sympy.Expr):
            return False
        if x.is_number and y.is_number:
            try:
                if abs(complex(x) - complex(y)) <= 1e-12 * max(abs(complex(y)), 1e-300):
                    continue
            except (TypeError, ValueError, OverflowError):
                pass
            return False
        if same_expression(x, y) is not True:
            return False
    return True


def _departure(right: Solution, wrong: Solution) -> tuple[str | None, Step | None, Step | None]:
    """The first step where the mistaken working differs from the right one:
    (label, the right step, the mistaken step)."""
    for a, b in zip(right.steps, wrong.steps):
        label = f"{a.section}: {a.title}" if a.section else a.title
        if a.title != b.title:
            return label, a, b
        if a.value is None and b.value is None:
            continue
        try:
            same = same_value(a.value, b.value)
        except Exception:  # a step value that cannot be compared counts as a difference
            same = False
        if not same:
            return label, a, b
    if len(right.steps) != len(wrong.steps):
        longer = right.steps if len(right.steps) > len(wrong.steps) else wrong.steps
        s = longer[min(len(right.steps), len(wrong.steps))]
        label = f"{s.section}: {s.title}" if s.section else s.title
        return (label, s if longer is right.steps else None, s if longer is wrong.steps else None)
    return None, None, None


def _short(v: Any) -> str:
    from dlcalc.printing import value_text

    try:
        text = value_text(v)
    except Exception:  # pragma: no cover - a value the printer cannot show
        text = str(v)
    return text if len(text) <= 80 else text[:77] + "…"


def check(task: Task, solution: Solution, given: Sequence[Given], *,
          rtol: float | None = None, atol: float | None = None) -> tuple[Verdict, ...]:
    """Verdicts for each given value, naming the mistake behind a wrong one.

    ``rtol``/``atol``: an explicit tolerance (either one given; the other is 0) instead of
    judging each answer as written.  An answer that cannot be decided (a symbolic answer
    that neither simplifies nor can be evaluated) is an InputError naming --check."""
    tol = None if rtol is None and atol is None else (rtol or 0.0, atol or 0.0)
    mistakes: Sequence[Mistake] = getattr(sys.modules.get(task.solve.__module__), "MISTAKES", ())
    variant = _Variants(task)
    verdicts = []
    for g in given:
        expected = resolve(solution.result, g.path, g.key)
        if g.shape_error is not None:
            verdicts.append(_misshapen(g, expected, tol, mistakes, variant, solution))
            continue
        ok, how = judge(g, expected, tol)
        if ok is None:
            raise InputError("--check", _undecided(g, expected))
        if ok:
            verdicts.append(Verdict(g.key, True, expected, g.value, judged=how))
            continue
        found = _closest_mistake(g, expected, tol, mistakes, variant)
        if found is None:
            verdicts.append(Verdict(g.key, False, expected, g.value, judged=how))
            continue
        m, wrong = found
        label, right_step, wrong_step = _departure(solution, wrong)
        verdicts.append(Verdict(g.key, False, expected, g.value, m.name, label, how, right_step, wrong_step))
    return tuple(verdicts)


class _Variants:
    """The solution worked with each mistake, computed when first asked for (None: the
    mistake does not apply to this input, or cannot be worked on it)."""

    def __init__(self, task: Task) -> None:
        self.task, self.done = task, {}

    def __call__(self, m: Mistake) -> Solution | None:
        if m.name not in self.done:
            try:
                changes = m.overrides(self.task.kwargs)
                self.done[m.name] = None if changes is None else self.task.run(**changes)
            except Exception:  # a mistake that cannot be worked on this input does not apply
                self.done[m.name] = None
        return self.done[m.name]


def _undecided(g: Given, expected: Any) -> str:
    """Why the answer ``g`` can be neither accepted nor rejected (symbols in the way)."""
    if isinstance(g.value, bool):
        return (f"cannot decide whether {g.key} = {g.text[:10]} is right: here {g.key} is the condition "
                f"{_short(expected)} on the symbols, not true or false; give numbers for the symbols to check it")
    return (f"cannot decide whether {g.key} = {g.text[:40]} is right: the answer is {_short(expected)}, "
            "and the two neither simplify to the same expression nor can be compared at numbers; give "
            "numbers for the symbols to check it")


def _closest_mistake(g: Given, expected: Any, tol: Any, mistakes: Sequence[Mistake],
                     variant: _Variants) -> tuple[Mistake, Solution] | None:
    """The mistake whose answer matches the wrong one given (of the same shape, and not
    also the right answer); several match: the closest one explains it best."""
    candidates = []
    for m in mistakes:
        wrong = variant(m)
        if wrong is None:
            continue
        try:
            value = resolve(wrong.result, g.path, g.key)
            if _shape(value) != _shape(expected) or same_value(value, expected):
                continue
            hit, _ = judge(g, value, tol)
        except Exception:  # the mistaken answer has no such entry, or cannot be compared
            continue
        if hit:
            candidates.append((_distance(g.value, value), m, wrong))
    if not candidates:
        return None
    _, m, wrong = min(candidates, key=lambda c: c[0])
    return m, wrong


def _misshapen(g: Given, expected: Any, tol: Any, mistakes: Sequence[Mistake], variant: Any,
               solution: Solution) -> Verdict:
    """A value of another shape than the answer: wrong with the mistake that gives an answer
    of that shape and value (the mean over the batch instead of the features), else refused."""
    for m in mistakes:
        wrong = variant(m)
        try:
            value = resolve(wrong.result, g.path, g.key) if wrong is not None else None
            hit = value is not None and _shape(value) == _shape(g.value) and judge(g, value, tol)[0]
        except Exception:  # the mistaken answer has no such entry, or cannot be compared
            continue
        if hit:
            label, right_step, wrong_step = _departure(solution, wrong)
            return Verdict(g.key, False, expected, g.value, m.name, label, "", right_step, wrong_step)
    raise InputError("--check", g.shape_error)
