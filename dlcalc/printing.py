"""Turning SymPy values into the strings the renderers show: plain text, LaTeX, JSON.

Nothing here knows about exercises.  Conventions:

* a number the user typed as ``0.1`` is shown as ``0.1``: a rational whose decimal
  expansion terminates (denominator 2^a 5^b) and is short prints as that decimal;
* a value shows its exact form when it is short, and a decimal (``--digits``);
* ``exact_str`` is SymPy's own ``sstr``, so a consumer can ``sympify`` it back.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import mpmath
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from dlcalc.core import Math, Shown

EXACT_MAX_CHARS = 40  # an exact form longer than this is shown as a decimal only


def short_decimal(r: sympy.Rational, max_digits: int = 12) -> str | None:
    """``r`` as an exact decimal string if it terminates within ``max_digits`` digits."""
    q = int(r.q)
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    scaled = abs(int(r.p)) * (10**places) // int(r.q)
    digits = str(scaled).rjust(places + 1, "0")
    if len(digits.lstrip("0")) > max_digits:
        return None
    whole, frac = digits[: len(digits) - places], digits[len(digits) - places:]
    if whole == "0" and len(frac) - len(frac.lstrip("0")) >= 5:  # 1e-8 reads better than 0.00000001
        mant = frac.lstrip("0")
        exp = -(len(frac) - len(frac.lstrip("0")) + 1)
        text = mant[0] + ("." + mant[1:] if len(mant) > 1 else "") + f"e{exp}"
    else:
        text = whole + ("." + frac if frac else "")
    return ("-" if r.p < 0 else "") + text


def decimal_str(x: Any, digits: int = 6) -> str:
    """A decimal approximation of the number ``x`` to ``digits`` significant digits."""
    value = sympy.N(x, digits + 5) if not isinstance(x, sympy.Float) else x
    if isinstance(value, sympy.Float):
        return mpmath.nstr(value._to_mpmath(value._prec), digits, strip_zeros=True,
                           min_fixed=-4, max_fixed=digits + 1)
    if isinstance(value, sympy.Integer):
        return str(value)
    return sympy.sstr(value)


class _BareShownArguments:
    """A shown number that is the whole argument of a function needs no parentheses of its
    own: ln(0.5 + √5/10), not ln((0.5 + √5/10))."""

    _bare = False

    def _print_Function(self, expr: Any, *args: Any, **kwargs: Any) -> str:
        return self._bare_args(expr, super()._print_Function, *args, **kwargs)  # type: ignore[misc]

    def _print_log(self, expr: Any, *args: Any, **kwargs: Any) -> str:
        parent = getattr(super(), "_print_log", None) or super()._print_Function  # type: ignore[misc]
        return self._bare_args(expr, parent, *args, **kwargs)

    def _bare_args(self, expr: Any, print_function: Any, *args: Any, **kwargs: Any) -> str:
        old, self._bare = self._bare, all(isinstance(a, Shown) for a in expr.args)
        try:
            return print_function(expr, *args, **kwargs)
        finally:
            self._bare = old

    def _shown_bare(self) -> bool:
        """True (once per argument) when the Shown being printed is a whole function argument."""
        bare, self._bare = self._bare, False
        return bare


class TextPrinter(_BareShownArguments, StrPrinter):
    """One-line Unicode text: β₁, m̂ₜ, ·, ^; numbers as the user typed them."""

    _default_settings = {**StrPrinter._default_settings, "digits": 6}

    def _print_Symbol(self, expr: Any) -> str:
        return pretty_symbol(expr.name)

    _print_Dummy = _print_Symbol

    def _print_Shown(self, expr: Shown) -> str:
        bare = self._shown_bare()
        v = expr.shown_value
        s = self._print(v)
        self._bare = bare  # for the next argument of the same function
        if not bare and ((v.is_number and v.is_negative) or isinstance(v, (sympy.Add, sympy.Mul)) or (
                v.is_Rational and not v.is_Integer and "/" in s)):
            return f"({s})"
        return s

    def _print_Rational(self, expr: sympy.Rational) -> str:
        dec = short_decimal(expr)
        return dec if dec is not None else super()._print_Rational(expr)

    def _print_Float(self, expr: sympy.Float) -> str:
        return decimal_str(expr, self._settings["digits"])

    def _print_Relational(self, expr: Any) -> str:
        op = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_sigmoid(self, expr: Any) -> str:
        return f"σ({self._print(expr.args[0])})"

    def _print_ceiling_of(self, expr: Any) -> str:
        return f"⌈{self._print(expr.args[0])}⌉"

    _print_ceiling = _print_ceiling_of

    def _print_floor(self, expr: Any) -> str:
        return f"⌊{self._print(expr.args[0])}⌋"

    def doprint(self, expr: Any) -> str:
        return super().doprint(expr).replace("**", "^").replace("*", "·")


class TexPrinter(_BareShownArguments, LatexPrinter):
    """LaTeX with numbers as the user typed them (0.1 rather than 1/10)."""

    _default_settings = {**LatexPrinter._default_settings, "digits": 6}

    def _print_Shown(self, expr: Shown) -> str:
        bare = self._shown_bare()
        v = expr.shown_value
        s = self._print(v)
        self._bare = bare
        if not bare and ((v.is_number and v.is_negative) or isinstance(v, sympy.Add)):
            return rf"\left({s}\right)"
        return s

    def _print_sigmoid(self, expr: Any, exp: Any = None) -> str:
        body = rf"\sigma\left({self._print(expr.args[0])}\right)"
        return rf"{body}^{{{exp}}}" if exp else body

    def _print_ceiling_of(self, expr: Any, exp: Any = None) -> str:
        return rf"\left\lceil {self._print(expr.args[0])} \right\rceil"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        dec = short_decimal(expr)
        if dec is not None:
            if "e" in dec:
                mant, exp = dec.split("e")
                return rf"{mant} \cdot 10^{{{int(exp)}}}"
            return dec
        return super()._print_Rational(expr)

    def _print_Float(self, expr: sympy.Float) -> str:
        s = decimal_str(expr, self._settings["digits"])
        if "e" in s:
            mant, exp = s.split("e")
            return rf"{mant} \cdot 10^{{{int(exp)}}}"
        return s


def _seq(items: Any, fn: Any) -> str:
    return "[" + ", ".join(fn(i) for i in items) + "]"


def text(obj: Any, digits: int = 6) -> str:
    """Plain one-line text of a formula, an expression, a list or a :class:`Math`."""
    if obj is None:
        return ""
    if isinstance(obj, Math):
        return obj.text
    if isinstance(obj, str):
        return obj
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, (list, tuple)):
        return _seq(obj, lambda o: text(o, digits))
    if isinstance(obj, sympy.MatrixBase):
        return _seq(obj.tolist(), lambda o: text(o, digits)) if obj.cols > 1 else \
            _seq(list(obj), lambda o: text(o, digits))
    if isinstance(obj, (int, float)):
        return str(obj)
    return TextPrinter({"digits": digits}).doprint(obj)


_TEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
                 "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}


#: Unicode that our own text uses, as LaTeX math inside \text{} (KaTeX and LaTeX both take $...$)
_TEX_UNICODE = {
    "→": r"\to", "←": r"\leftarrow", "·": r"\cdot", "×": r"\times", "≈": r"\approx", "≤": r"\le",
    "≥": r"\ge", "≠": r"\ne", "−": "-", "±": r"\pm", "½": r"\tfrac{1}{2}", "²": "^2", "³": "^3",
    "ᵗ": "^t", "ᵀ": "^T", "‖": r"\|", "√": r"\surd", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum",
    "Σ": r"\Sigma", "Λ": r"\Lambda", "Δ": r"\Delta", "α": r"\alpha", "β": r"\beta", "γ": r"\gamma",
    "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda",
    "μ": r"\mu", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "ω": r"\omega",
    "∞": r"\infty", "∈": r"\in", "⇒": r"\Rightarrow", "…": r"\ldots", "✓": r"\checkmark", "✗": r"\times",
    "′": "'", "ℓ": r"\ell", "⊙": r"\odot", "∘": r"\circ", "∝": r"\propto", "̂": "",
}


def tex_escape(s: str) -> str:
    """Plain text made safe inside ``\\text{...}``: specials escaped, Unicode as math."""
    out: list[str] = []
    math: list[str] = []  # a run of math symbols, closed as one $...$ (never "$$")
    for ch in s:
        tex = _TEX_UNICODE.get(ch)
        if tex is not None and tex.startswith(("\\", "^")):
            math.append(tex)
            continue
        if math:
            out.append("$" + " ".join(math) + "$")
            math = []
        if ch in _TEX_SPECIALS:
            out.append(_TEX_SPECIALS[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif tex is not None:
            out.append(tex)
        else:
            import unicodedata

            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append("".join(_TEX_SPECIALS.get(c, c) for c in plain) or "?")
    if math:
        out.append("$" + " ".join(math) + "$")
    return "".join(out)


def latex(obj: Any, digits: int = 6) -> str:
    """LaTeX of a formula, an expression, a list or a :class:`Math`."""
    if obj is None:
        return ""
    if isinstance(obj, Math):
        return obj.latex
    if isinstance(obj, str):
        return r"\text{" + tex_escape(obj) + "}"
    if isinstance(obj, bool):
        return r"\text{" + ("true" if obj else "false") + "}"
    if isinstance(obj, (list, tuple)):
        return r"\left[" + ", ".join(latex(o, digits) for o in obj) + r"\right]"
    if isinstance(obj, (int, float)):
        return str(obj)
    return TexPrinter({"digits": digits}).doprint(obj)


def value_text(v: Any, digits: int = 6) -> str:
    """A value as the board shows it: exact when short, and a decimal.

    ``1/20`` -> ``0.05``; ``1/3`` -> ``1/3 ≈ 0.333333``; ``sqrt(2)/2`` -> ``√2/2 ≈ 0.707107``;
    a symbolic value -> its expression.
    """
    if isinstance(v, (list, tuple)):
        return _seq(v, lambda o: value_text(o, digits))
    if isinstance(v, sympy.MatrixBase):
        return value_text(v.tolist() if v.cols > 1 else list(v), digits)
    if isinstance(v, float) and math.isfinite(v):  # a machine number is an approximation
        return "≈ " + mpmath.nstr(mpmath.mpf(v), digits, strip_zeros=True, min_fixed=-4,
                                  max_fixed=digits + 1)
    if not isinstance(v, sympy.Basic) or isinstance(v, (bool, sympy.logic.boolalg.BooleanAtom)):
        return text(v, digits)
    return _basic_value_text(v, digits)


#: in a table cell an exact form is shown beside its decimal up to this many characters (15/38)
CELL_EXACT_MAX_CHARS = 8


def cell_text(v: Any, digits: int = 6) -> str:
    """A value in a table cell (history, layers), short enough that a row fits on a line:
    a short exact decimal, a short exact form and its decimal (15/38 ≈ 0.394737), or ``≈``
    and the decimal; every exact form is in the working, the answer and the JSON."""
    if isinstance(v, (list, tuple)):
        return _seq(v, lambda o: cell_text(o, digits))
    if isinstance(v, sympy.Basic) and v.is_number and not v.is_Integer and v.is_real:
        dec = short_decimal(v) if v.is_Rational else None
        if dec is not None:
            return dec
        exact = text(v, digits)
        approx = "≈ " + decimal_str(v, digits)
        return f"{exact} {approx}" if len(exact) <= CELL_EXACT_MAX_CHARS and not isinstance(v, sympy.Float) else approx
    return value_text(v, digits)


@functools.lru_cache(maxsize=4096)
def _basic_value_text(v: sympy.Basic, digits: int) -> str:
    """:func:`value_text` of one SymPy value, remembered: a working shows the same value
    as a step's result, in the answer and in a history table."""
    if v.is_Integer:
        return str(v)
    if v.is_Rational:
        dec = short_decimal(v)
        if dec is not None:
            return dec
        exact = f"{v.p}/{v.q}"
        approx = decimal_str(v, digits)
        return f"{exact} ≈ {approx}" if len(exact) <= EXACT_MAX_CHARS else f"≈ {approx}"
    if isinstance(v, sympy.Float):
        return "≈ " + decimal_str(v, digits)
    if v.is_number:
        exact = text(v, digits)
        approx = decimal_str(v, digits)
        return f"{exact} ≈ {approx}" if len(exact) <= EXACT_MAX_CHARS else f"≈ {approx}"
    return text(v, digits)


def exact_str(v: Any) -> Any:
    """SymPy-printable exact form (``sympify``-able by a consumer); bools stay bools."""
    if isinstance(v, bool):
        return v
    if isinstance(v, sympy.logic.boolalg.BooleanAtom):
        return bool(v)
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        return {k: exact_str(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)) and v and isinstance(v[0], dict):
        return [exact_str(x) for x in v]
    if isinstance(v, sympy.MatrixBase):
        v = v.tolist() if v.cols > 1 else list(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_exact_leaf(x) for x in v) + "]"
    return _exact_leaf(v)


def _exact_leaf(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_exact_leaf(e) for e in x) + "]"
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return repr(x)
    return _sstr(x) if isinstance(x, sympy.Basic) else sympy.sstr(x)


@functools.lru_cache(maxsize=4096)
def _sstr(x: sympy.Basic) -> str:
    """SymPy's own string of a value, remembered (a value recurs in steps, result, history)."""
    return sympy.sstr(x)


def json_value(v: Any) -> Any:
    """A value for the JSON ``result``: numbers as JSON numbers, symbolic as strings."""
    if isinstance(v, (bool, str)) or v is None:
        return v
    if isinstance(v, sympy.logic.boolalg.BooleanAtom):
        return bool(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, sympy.MatrixBase):
        v = v.tolist() if v.cols > 1 else list(v)
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, sympy.Basic):
        return _basic_json_value(v)
    return str(v)


@functools.lru_cache(maxsize=4096)
def _basic_json_value(v: sympy.Basic) -> Any:
    if v.is_Integer:
        return int(v)
    if v.is_number:
        try:
            f = float(v)
        except (TypeError, ValueError):
            return _sstr(v)
        return f if math.isfinite(f) else _sstr(v)
    return _sstr(v)
