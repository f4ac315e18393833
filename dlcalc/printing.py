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
import re
from typing import Any

import mpmath
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from dlcalc.core import Math, Shown, short_decimal  # noqa: F401 - short_decimal is also this module's

EXACT_MAX_CHARS = 40  # an exact form longer than this is shown as a decimal only


def decimal_str(x: Any, digits: int = 6) -> str:
    """A decimal approximation of the number ``x`` to ``digits`` significant digits."""
    if isinstance(x, sympy.Basic):
        return _basic_decimal_str(x, digits)
    return _decimal_str(x, digits)


@functools.lru_cache(maxsize=4096)
def _basic_decimal_str(x: sympy.Basic, digits: int) -> str:
    """:func:`decimal_str` of a SymPy number, remembered (a value recurs in a step, the
    answer and a table)."""
    return _decimal_str(x, digits)


def _decimal_str(x: Any, digits: int) -> str:
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


_SUBSCRIPT_OF = "0123456789aehijklmnoprstuvx+-−"
_TO_SUBSCRIPT = str.maketrans(_SUBSCRIPT_OF, "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ₊₋₋")


def subscript(s: str) -> str | None:
    """``s`` in Unicode subscripts (ij → ᵢⱼ), or None when a character of it has none."""
    return s.translate(_TO_SUBSCRIPT) if s and all(c in _SUBSCRIPT_OF for c in s) else None


@functools.lru_cache(maxsize=1024)
def _text_symbol(name: str) -> str:
    """A symbol's name in Unicode: SymPy's pretty form, whose table of subscripts lacks j
    (it leaves x_j, W_ij and n_{l-1} as they are): xⱼ, Wᵢⱼ, nₗ₋₁."""
    text = pretty_symbol(name)
    base, sep, sub = text.rpartition("_")
    low = subscript(sub[1:-1] if sub[:1] == "{" and sub[-1:] == "}" else sub) if sep and base else None
    return base + low if low else text


class TextPrinter(_BareShownArguments, StrPrinter):
    """One-line Unicode text: β₁, m̂ₜ, ·, ^; numbers as the user typed them."""

    _default_settings = {**StrPrinter._default_settings, "digits": 6, "fractions": False}

    def _print_Symbol(self, expr: Any) -> str:
        return _text_symbol(expr.name)

    def _root_arg(self, base: Any) -> str:
        s = self._print(base)
        return s if (base.is_Atom or isinstance(base, Shown)) and not s.startswith("-") else f"({s})"

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:
        if expr.exp is sympy.S.Half:
            return "√" + self._root_arg(expr.base)
        if expr.exp == -sympy.S.Half:
            return "1/√" + self._root_arg(expr.base)
        return super()._print_Pow(expr, rational)

    def _print_MatrixBase(self, expr: Any) -> str:
        """A matrix in a formula on one line, row by row: [[Var(x), Cov(x, y)], [Cov(x, y), Var(y)]]."""
        return "[" + ", ".join("[" + ", ".join(self._print(x) for x in expr.row(i)) + "]"
                               for i in range(expr.rows)) + "]"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_Abs(self, expr: Any) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_exp(self, expr: Any) -> str:
        arg = expr.args[0]
        s = self._print(arg)
        return "e^" + (s if (arg.is_Atom or isinstance(arg, Shown)) and not s.startswith("-") else f"({s})")

    def _print_log(self, expr: Any, *args: Any, **kwargs: Any) -> str:
        s = super()._print_log(expr, *args, **kwargs)
        return "ln" + s[3:] if s.startswith("log(") else s

    def _print_And(self, expr: Any) -> str:
        """0 < ε ∧ ε < 1/2 as the chain 0 < ε < 1/2; other conjunctions with "and"."""
        rels = list(expr.args)
        if len(rels) == 2 and all(isinstance(r, sympy.core.relational.Relational) for r in rels):
            a, b = (r.reversed if r.rel_op in (">", ">=") else r for r in rels)
            if a.rhs == b.lhs:
                return f"{self._print(a)} {self._rel_op(b)} {self._side(b.rhs)}"
            if b.rhs == a.lhs:
                return f"{self._print(b)} {self._rel_op(a)} {self._side(a.rhs)}"
        return " and ".join(self._print(r) for r in rels)

    def _print_Or(self, expr: Any) -> str:
        return " or ".join(self._print(r) for r in expr.args)

    @staticmethod
    def _rel_op(expr: Any) -> str:
        return {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(expr.rel_op, expr.rel_op)

    def _side(self, x: Any) -> str:
        """One side of a relation: a number as exact fractions and surds, ((5 − √5)/10)."""
        if isinstance(x, sympy.Expr) and x.is_number and not x.is_Rational and not isinstance(x, sympy.Float):
            old = self._settings["fractions"]
            self._settings["fractions"] = True
            try:
                return self._print(sympy.together(x) if isinstance(x, sympy.Add) else x)
            finally:
                self._settings["fractions"] = old
        return self._print(x)

    _print_Dummy = _print_Symbol

    def _print_Shown(self, expr: Shown) -> str:
        bare = self._shown_bare()
        v = expr.shown_value
        s = self._print(v)
        self._bare = bare  # for the next argument of the same function
        # a sign is read off the printed number: asking SymPy is_negative of a surd or a new
        # Float runs its assumption system (~0.1–0.3 ms a number, most of printing a line)
        if not bare and (isinstance(v, (sympy.Add, sympy.Mul)) or s.startswith("-") or (
                v.is_Rational and not v.is_Integer and "/" in s)):
            return f"({s})"
        return s

    def _print_Rational(self, expr: sympy.Rational) -> str:
        dec = None if self._settings["fractions"] else short_decimal(expr)
        return dec if dec is not None else super()._print_Rational(expr)

    def _print_Float(self, expr: sympy.Float) -> str:
        return decimal_str(expr, self._settings["digits"])

    def _print_Relational(self, expr: Any) -> str:
        return f"{self._side(expr.lhs)} {self._rel_op(expr)} {self._side(expr.rhs)}"

    def _print_sigmoid(self, expr: Any) -> str:
        return self._bare_args(expr, lambda e: f"σ({self._print(e.args[0])})")

    def _print_ceiling_of(self, expr: Any) -> str:
        return f"⌈{self._print(expr.args[0])}⌉"

    _print_ceiling = _print_ceiling_of

    def _print_floor(self, expr: Any) -> str:
        return f"⌊{self._print(expr.args[0])}⌋"

    _print_floor_of = _print_floor

    def doprint(self, expr: Any) -> str:
        return super().doprint(expr).replace("**", "^").replace("*", "·")


class TexPrinter(_BareShownArguments, LatexPrinter):
    """LaTeX with numbers as the user typed them (0.1 rather than 1/10)."""

    _default_settings = {**LatexPrinter._default_settings, "digits": 6}

    def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
        """A name of several letters is a word, set upright: \\mathrm{rms}, \\mathrm{fan}_{in}
        (SymPy would set r·m·s in italics, a product); Greek names, x̂ and x̄ are as SymPy writes
        them, and subscripts are indices (x_{ij}).  Function names (cos, exp) are SymPy's."""
        given = self._settings["symbol_names"].get(expr)
        if given is not None:
            return given
        name, supers, subs = self._split_super_sub(expr.name)
        if len(name) > 1 and name.isalpha():
            name = rf"\mathrm{{{name}}}"
        if style == "bold":
            name = rf"\mathbf{{{name}}}"
        return name + ("^{%s}" % " ".join(supers) if supers else "") + ("_{%s}" % " ".join(subs) if subs else "")

    def _print_Shown(self, expr: Shown) -> str:
        bare = self._shown_bare()
        v = expr.shown_value
        s = self._print(v)
        self._bare = bare
        if not bare and (isinstance(v, sympy.Add) or s.lstrip().startswith("-")):  # the sign as printed
            return rf"\left({s}\right)"
        return s

    def _print_And(self, expr: Any) -> str:
        """0 < ε ∧ ε < 1/2 as the chain 0 < \\epsilon < \\frac{1}{2}, as the text printer does;
        other conjunctions with "and"."""
        rels = list(expr.args)
        if len(rels) == 2 and all(isinstance(r, sympy.core.relational.Relational) for r in rels):
            a, b = (r.reversed if r.rel_op in (">", ">=") else r for r in rels)
            for first, second in ((a, b), (b, a)):
                if first.rhs == second.lhs:
                    return (f"{self._side(first.lhs)} {self._rel_tex(first)} {self._side(first.rhs)} "
                            f"{self._rel_tex(second)} {self._side(second.rhs)}")
        return r" \text{ and } ".join(self._print(r) for r in rels)

    def _print_Or(self, expr: Any) -> str:
        return r" \text{ or } ".join(self._print(r) for r in expr.args)

    @staticmethod
    def _rel_tex(expr: Any) -> str:
        return {"==": "=", "!=": r"\neq", "<=": r"\leq", ">=": r"\geq"}.get(expr.rel_op, expr.rel_op)

    def _side(self, x: Any) -> str:
        """One side of a relation: a number over one denominator, \\frac{5 - \\sqrt{5}}{10}."""
        if isinstance(x, sympy.Add) and x.is_number and not isinstance(x, sympy.Float):
            x = sympy.together(x)
        return self._print(x)

    def _print_sigmoid(self, expr: Any, exp: Any = None) -> str:
        body = self._bare_args(expr, lambda e: rf"\sigma\left({self._print(e.args[0])}\right)")
        return rf"{body}^{{{exp}}}" if exp else body

    def _print_ceiling_of(self, expr: Any, exp: Any = None) -> str:
        body = rf"\left\lceil {self._print(expr.args[0])} \right\rceil"
        return rf"{body}^{{{exp}}}" if exp else body

    def _print_floor_of(self, expr: Any, exp: Any = None) -> str:
        body = rf"\left\lfloor {self._print(expr.args[0])} \right\rfloor"
        return rf"{body}^{{{exp}}}" if exp else body

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

#: characters that pdflatex's default (OT1) text font prints wrong: set them in math
_TEX_MATH_ASCII = {"<": "<", ">": ">", "|": "|"}

#: Unicode that our own text uses, as LaTeX math (pdflatex and KaTeX both take $...$)
_TEX_UNICODE = {
    "→": r"\to", "←": r"\leftarrow", "·": r"\cdot", "×": r"\times", "≈": r"\approx", "≤": r"\le",
    "≥": r"\ge", "≠": r"\ne", "−": "-", "±": r"\pm", "∓": r"\mp", "½": r"\tfrac{1}{2}",
    "‖": r"\|", "√": r"\surd", "∂": r"\partial", "∇": r"\nabla", "∑": r"\sum",
    "Σ": r"\Sigma", "Λ": r"\Lambda", "Δ": r"\Delta", "Π": r"\Pi", "Ω": r"\Omega", "Φ": r"\Phi",
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ζ": r"\zeta",
    "η": r"\eta", "θ": r"\theta", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi",
    "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\phi", "χ": r"\chi", "ψ": r"\psi",
    "ω": r"\omega", "∞": r"\infty", "∈": r"\in", "⇒": r"\Rightarrow", "…": r"\ldots",
    "✓": r"\checkmark", "✗": r"\times", "′": r"{}'", "″": r"{}''", "ℓ": r"\ell", "⊙": r"\odot",
    "∘": r"\circ", "∝": r"\propto", "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor", "⌋": r"\rfloor",
    "⊤": r"\top", "∀": r"\forall", "∃": r"\exists", "↦": r"\mapsto", "⋯": r"\cdots", "∼": r"\sim",
    "〈": r"\langle", "〉": r"\rangle", "ℝ": r"\mathbb{R}", "𝔼": r"\mathbb{E}", "∩": r"\cap", "∪": r"\cup",
}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ᵗᵀⁿⁱᵏʲ", "0123456789+-tTnikj"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋ₜₙᵢₖⱼ", "0123456789+-tnikj"))
#: combining accents: a letter followed by one of these is \hat{x}, \bar{x}, …
_ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0303": r"\tilde", "\u0307": r"\dot"}
#: x_t, m_{t−1}, θ_{t−1}: an identifier with a subscript, in prose
_SUBSCRIPTED = re.compile(r"(?<![A-Za-z0-9\\])([A-Za-z\u0370-\u03ff][\u0302\u0304\u0303\u0307]?)"
                          r"_(\{[^{}\s]{1,24}\}|[A-Za-z0-9]{1,2}(?![A-Za-z0-9_]))")


def _math_of(ch: str) -> str | None:
    """A character of our prose that has to be set in math, as math (else None)."""
    if ch in _TEX_UNICODE:
        return _TEX_UNICODE[ch]
    if ch in _TEX_MATH_ASCII:
        return _TEX_MATH_ASCII[ch]
    return None


def tex_escape(s: str) -> str:
    """Our prose (Unicode, as the text output shows it) as LaTeX text that pdflatex and
    KaTeX (inside ``\\text{...}``) both print right: specials escaped; Greek letters,
    operators, < > |, hats (m̂), sub- and superscripts (β₁, ᵗ, m_t, v_{t−1}) in math."""
    out: list[str] = []
    math: list[str] = []  # a run of math, closed as one $...$ (never "$$")
    i, n = 0, len(s)
    while i < n:
        token = _math_token(s, i, bool(math))
        if token is not None:
            tex, i = token
            if tex.startswith("^") and math and "^" in math[-1]:
                _bracket_last_atom(math)  # x̂²^2 is (x̂²)²: never a double superscript
            math.append(tex)
            continue
        if s[i] in _ACCENTS:  # a stray combining accent
            i += 1
            continue
        if math:
            out.append("$" + "".join(math) + "$")
            math.clear()
        out.append(_text_char(s[i], s[i + 1] if i + 1 < n else ""))
        i += 1
    if math:
        out.append("$" + "".join(math) + "$")
    return "".join(out)


def _bracket_last_atom(math: list[str]) -> None:
    """Put the last base of a math run, with its scripts, in brackets."""
    k = len(math) - 1
    while k > 0 and math[k][:1] in "^_":
        k -= 1
    math[k:] = [r"\left(" + "".join(math[k:]) + r"\right)"]


def _math_token(s: str, i: int, in_math: bool) -> tuple[str, int] | None:
    """The math that the prose ``s`` holds at ``i`` (a subscripted name, a superscript,
    an accented letter, a Greek letter or operator) and where it ends, or None for text."""
    m = _SUBSCRIPTED.match(s, i)
    if m and (i == 0 or not s[i - 1].isalnum()):
        base, sub = m.group(1), m.group(2)
        sub = sub[1:-1] if sub.startswith("{") else sub
        head = rf"{_ACCENTS[base[1]]}{{{_math_word(base[0])}}}" if len(base) == 2 else _math_word(base)
        return head + "_{" + "".join(_math_word(c) for c in sub) + "}", m.end()
    ch, nxt = s[i], s[i + 1:i + 2]
    lead = "" if in_math else "{}"
    if ch == "^" and nxt:  # e^(−z), β₁^(t−i), 10^6: a superscript
        inner, j = _superscript(s, i)
        if inner and j - i <= 40:
            return lead + "^{" + "".join(_math_word(c) for c in inner) + "}", j
    if nxt in _ACCENTS and ch.isalpha():
        return rf"{_ACCENTS[nxt]}{{{_math_word(ch)}}}", i + 2
    if ch in _SUPERSCRIPTS or ch in _SUBSCRIPTS:
        table, mark = (_SUPERSCRIPTS, "^") if ch in _SUPERSCRIPTS else (_SUBSCRIPTS, "_")
        j = i
        while j < len(s) and s[j] in table:
            j += 1
        return lead + mark + "{" + "".join(table[c] for c in s[i:j]) + "}", j
    tex = _math_of(ch)
    if tex is not None:
        return tex + (" " if tex[-1:].isalpha() else ""), i + 1
    return None


def _superscript(s: str, i: int) -> tuple[str, int]:
    """After the ``^`` at ``i``: the bracketed group or the word it raises, and its end."""
    j, n = i + 1, len(s)
    if s[j] == "(":
        depth = 0
        while j < n:
            depth += (s[j] == "(") - (s[j] == ")")
            j += 1
            if depth == 0:
                break
        return (s[i + 2:j - 1] if depth == 0 else s[i + 1:j]), j
    while j < n and (s[j].isalnum() or s[j] in "−-" and j == i + 1):
        j += 1
    return s[i + 1:j], j


_TEXT_CHARS = {"“": "``", "”": "''", "‘": "`", "’": "'", "–": "--", "—": "---", "\u00a0": "~"}


def _text_char(ch: str, nxt: str) -> str:
    """One character of prose in LaTeX's text mode."""
    if ch in _TEX_SPECIALS:
        return _TEX_SPECIALS[ch]
    if ch == "-" and nxt == "-":
        return "-{}"  # --lr stays two hyphens, not an en dash
    if 32 <= ord(ch) < 127:
        return ch
    if ch in _TEXT_CHARS:
        return _TEXT_CHARS[ch]
    import unicodedata

    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return ("".join(_TEX_SPECIALS.get(c, c) for c in plain) or
            (rf"\texttt{{U+{ord(ch):04X}}}" if ch.isprintable() else ""))


def _math_word(ch: str) -> str:
    """One character inside math: Greek as its command, specials escaped."""
    tex = _TEX_UNICODE.get(ch)
    if tex is not None:
        return tex + " "
    if ch in _SUPERSCRIPTS:
        return "^{" + _SUPERSCRIPTS[ch] + "}"
    if ch in _SUBSCRIPTS:
        return "_{" + _SUBSCRIPTS[ch] + "}"
    if ch in _ACCENTS:
        return ""
    if ch in "{}$&#%_^~\\":
        return _TEX_SPECIALS.get(ch, "")
    if ch in _TEX_MATH_ASCII:
        return _TEX_MATH_ASCII[ch]
    return ch if ord(ch) < 128 else ""


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


def value_latex(v: Any, digits: int = 6) -> str:
    """A value as the LaTeX output shows it: short exact numbers as they are; any other
    number (or vector of them) as its exact form ``\approx`` its decimal, or as ``\approx``
    its decimal alone when the exact form is long.  Starts with ``\approx`` in that case."""
    if isinstance(v, (bool, str, int)) or v is None:
        return latex(v, digits)
    if isinstance(v, sympy.MatrixBase):
        v = v.tolist() if v.cols > 1 else list(v)
    if isinstance(v, (list, tuple)):
        leaves = _leaves(v)
        if not leaves or not all(isinstance(x, sympy.Basic) and x.is_number for x in leaves) or \
                all(_short_exact(x) for x in leaves):
            return latex(v, digits)
        approx = latex(_map(v, lambda x: x if _short_exact(x) else sympy.Float(sympy.N(x, digits + 2), digits + 2)),
                       digits)
        exact = latex(v, digits)
        return rf"\approx {approx}" if len(exact) > 4 * EXACT_MAX_CHARS else rf"{exact} \approx {approx}"
    if not isinstance(v, sympy.Basic) or not v.is_number or _short_exact(v):
        return latex(v, digits)
    approx = latex(sympy.Float(sympy.N(v, digits + 2), digits + 2), digits)
    if isinstance(v, sympy.Float) or len(text(v, digits)) > EXACT_MAX_CHARS:
        return rf"\approx {approx}"
    return rf"{latex(v, digits)} \approx {approx}"


def _short_exact(x: Any) -> bool:
    return isinstance(x, sympy.Integer) or (isinstance(x, sympy.Rational) and short_decimal(x) is not None)


def _leaves(v: Any) -> list[Any]:
    if isinstance(v, (list, tuple)):
        return [e for x in v for e in _leaves(x)]
    return [sympy.Integer(v) if isinstance(v, int) and not isinstance(v, bool) else v]


def _map(v: Any, fn: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_map(x, fn) for x in v]
    return fn(sympy.Integer(v) if isinstance(v, int) else v)


def value_text(v: Any, digits: int = 6) -> str:
    """A value as the board shows it: exact when short, and a decimal.

    ``1/20`` -> ``0.05``; ``1/3`` -> ``1/3 ≈ 0.333333``; ``sqrt(2)/2`` -> ``√2/2 ≈ 0.707107``;
    a symbolic value -> its expression.
    """
    if isinstance(v, (list, tuple)):
        items = [value_text(o, digits) for o in v]
        if items and all(t.startswith("≈ ") for t in items):
            return "≈ [" + ", ".join(t[2:] for t in items) + "]"
        full = "[" + ", ".join(items) + "]"
        if len(full) > 2 * EXACT_MAX_CHARS and "≈" in full:
            leaves = _leaves(v)
            if leaves and all(isinstance(x, sympy.Basic) and x.is_number for x in leaves):
                return "≈ " + _decimals(v, digits)  # exact forms in full are in the JSON `exact`
        return full
    if isinstance(v, sympy.MatrixBase):
        return value_text(v.tolist() if v.cols > 1 else list(v), digits)
    if isinstance(v, float) and math.isfinite(v):  # a machine number is an approximation
        return "≈ " + mpmath.nstr(mpmath.mpf(v), digits, strip_zeros=True, min_fixed=-4,
                                  max_fixed=digits + 1)
    if not isinstance(v, sympy.Basic) or isinstance(v, (bool, sympy.logic.boolalg.BooleanAtom)):
        return text(v, digits)
    return _basic_value_text(v, digits)


def _decimals(v: Any, digits: int) -> str:
    """A vector (or nested list) of numbers as decimals, short exact entries as they are."""
    if isinstance(v, (list, tuple)):
        return _seq(v, lambda o: _decimals(o, digits))
    x = sympy.Integer(v) if isinstance(v, int) else v
    return text(x) if _short_exact(x) else decimal_str(x, digits)


#: in a table cell an exact form is shown beside its decimal up to this many characters (15/38)
CELL_EXACT_MAX_CHARS = 8


def cell_text(v: Any, digits: int = 6) -> str:
    """A value in a table cell (history, layers), short enough that a row fits on a line:
    a short exact decimal, a short exact form and its decimal (15/38 ≈ 0.394737), or ``≈``
    and the decimal; every exact form is in the working, the answer and the JSON."""
    if isinstance(v, (list, tuple)):
        return _seq(v, lambda o: cell_text(o, digits))
    if isinstance(v, sympy.Float):  # before asking is_real, which costs a new Float 0.1 ms
        return "≈ " + decimal_str(v, digits)
    if isinstance(v, sympy.Basic) and v.is_number and not v.is_Integer and v.is_real:
        dec = short_decimal(v) if v.is_Rational else None
        if dec is not None:
            return dec
        approx = "≈ " + decimal_str(v, digits)
        if isinstance(v, sympy.Float) or not _at_most_nodes(v, 2 * CELL_EXACT_MAX_CHARS):
            return approx  # too big to print in a cell's few characters: not printed at all
        exact = text(v, digits)
        return f"{exact} {approx}" if len(exact) <= CELL_EXACT_MAX_CHARS else approx
    return value_text(v, digits)


def _at_most_nodes(v: sympy.Basic, limit: int) -> bool:
    """Whether the expression tree of ``v`` has at most ``limit`` nodes (stops counting
    there): a bound on what can print in a few characters, without printing it."""
    n = 0
    for _ in sympy.preorder_traversal(v):
        n += 1
        if n > limit:
            return False
    return True


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
        approx = decimal_str(v, digits)
        if _digits_in(v) > EXACT_MAX_CHARS:  # its numbers alone are too long to show: not printed
            return f"≈ {approx}"
        exact = exact_number_text(v, digits)
        return f"{exact} ≈ {approx}" if len(exact) <= EXACT_MAX_CHARS else f"≈ {approx}"
    return text(v, digits)


def _digits_in(v: sympy.Basic) -> int:
    """How many digits the rational numbers in ``v`` have together (square roots print as √,
    not as the power 1/2): a cheap lower bound on the length of its printed exact form, which
    costs a ``together`` and a print."""
    return sum(len(str(abs(a.p))) + (len(str(a.q)) if a.q != 1 else 0)
               for a in v.atoms(sympy.Rational) if a not in (sympy.S.Half, -sympy.S.Half))


def exact_number_text(v: sympy.Expr, digits: int = 6) -> str:
    """An exact irrational number as a teacher writes it: fractions and surds over one
    denominator, (5 − √5)/2 rather than 2.5 − √5/2."""
    tidy = sympy.together(v) if isinstance(v, sympy.Add) else v
    return TextPrinter({"digits": digits, "fractions": True}).doprint(tidy)


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
    """SymPy's own string of a value, remembered (a value recurs in steps, result, history);
    σ(z) spelled as its definition 1/(1 + exp(-z)), so that sympify reads it back."""
    text = sympy.sstr(x)
    if "sigmoid(" in text:
        from dlcalc.board import sigmoid

        text = sympy.sstr(x.rewrite(sigmoid, sympy.exp))
    return text


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
