"""softmax: softmax with cross-entropy (or CS231n's multiclass hinge), the gradient ∂L/∂z,
and the two-class softmax as a sigmoid of the difference of the scores.

The model (stated as the conventions of every answer)::

    z = W·x + b              (with --W/--b/--x; else the scores --z are given)
    s = z / T                (T = --temperature, 1 by default)
    p_k = e^(s_k) / Σ_j e^(s_j)
    ce:     L = −log p_y            (--target y, 0-based)   or  −Σ_k t_k log p_k  (--t)
    hinge:  L = Σ_{j≠y} max(0, s_j − s_y + Δ)                (Δ = --margin, 1 by default)
    grad_z = ∂L/∂z = (p − y)/T      (ce; y the one-hot target or t)
    grad_W = grad_z·xᵀ,  grad_b = grad_z

as ``torch.nn.functional.cross_entropy(z / T, target)`` for one example.

Arithmetic: exact SymPy for small inputs (at most :data:`EXACT_MAX_CLASSES` classes and
:data:`EXACT_MAX_WEIGHTS` weights) and for every symbolic input: e^(1/2) stays e^(1/2), and
the decimals are shown beside it.  Bigger numeric inputs take a numeric path, the same
formulas (the working then shows the values without substituted lines): mpmath with
:data:`MP_DPS` significant digits up to :data:`MPMATH_WORK` multiply-adds, IEEE double with
correctly rounded sums beyond, as the solution's notes say (see :class:`Numeric`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import sympy
from sympy.printing.precedence import PRECEDENCE

from dlcalc.board import eq, sigmoid
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_sympy, substitute
from dlcalc.core import is_symbolic as _symbolic, sympy_number as _sym
from dlcalc.errors import InputError
from dlcalc.registry import Command, Option

COMMAND = Command(
    name="softmax",
    summary="Softmax with cross-entropy or the multiclass hinge, ∂L/∂z = p − y, the two-class sigmoid.",
    description="As torch.nn.functional.cross_entropy on one example: classes are 0-based, "
                "the scores are logits. --W/--b/--x give a linear classifier z = W·x + b.",
    example='dlcalc softmax --z "[2, 1, 0.1]" --target 0',
    options=(
        Option("--z", "Scores (logits) z, one per class: \"[2, 1, 0.1]\". Or give --W, --b and --x."),
        Option("--W", "Weights of a linear classifier z = W·x + b, classes × features "
                      "(as PyTorch's Linear.weight): \"[[1, 2], [0, -1]]\"."),
        Option("--b", "Biases, one per class, with --W (default 0)."),
        Option("--x", "Input features, a vector, with --W."),
        Option("--target", "The correct class K, 0-based as PyTorch (the first class is 0)."),
        Option("--t", "A target probability vector instead of --target (cross-entropy; it must sum to 1)."),
        Option("--loss", "ce (cross-entropy) or hinge (CS231n's multiclass SVM loss).", default="ce"),
        Option("--margin", "Margin Δ of the hinge loss (default 1)."),
        Option("--temperature", "Temperature T > 0: p = softmax(z/T).", default="1"),
    ),
)

MAX_CLASSES = 1_000
MAX_WEIGHTS = 20_000          # entries of --W
EXACT_MAX_CLASSES = 12        # exact SymPy up to this many classes ...
EXACT_MAX_WEIGHTS = 64        # ... and this many weights; numbers only beyond, in mpmath
SYMBOLIC_MAX_CLASSES = 8      # with any symbol: at most this many classes ...
SYMBOLIC_MAX_WEIGHTS = 32     # ... and weights (the expressions grow with both)
SUBST_MAX_FEATURES = 8        # z_k = Σ W_ki·x_i + b_k written out up to this many features
MP_DPS = 30
MPMATH_WORK = 5_000           # numeric path: mpmath up to this many multiply-adds, IEEE double beyond
MAX_SCORE = 10**300           # |z/T| beyond this is refused (e^z and the loss leave any float)

LOSSES = ("ce", "hinge")

# symbols of the formulas (written once, with the index k)
Z_K, S_K, M, U_K, E_K, P_K, Y_K, G_K = (sympy.Symbol(n, real=True) for n in
                                         ("z_k", "s_k", "m", "u_k", "E_k", "p_k", "y_k", "g_k"))
T_SYM, Z_SUM, LOSS, DELTA = (sympy.Symbol(n, real=True) for n in ("T", "Z", "L", "Delta"))
S_J, S_Y, L_J, X_I = (sympy.Symbol(n, real=True) for n in ("s_j", "s_y", "l_j", "x_i"))
T_K = sympy.Symbol("t_k", real=True)
P_Y, U_Y = sympy.Symbol("p_y", real=True), sympy.Symbol("u_y", real=True)
Z_0, Z_1, P_0 = (sympy.Symbol(n, real=True) for n in ("z_0", "z_1", "p_0"))
S_0, S_1 = sympy.Symbol("s_0", real=True), sympy.Symbol("s_1", real=True)
B_D, B_0, B_1 = (sympy.Symbol(n, real=True) for n in ("b_d", "b_0", "b_1"))
WD_I, W_0I, W_1I = (sympy.Symbol(n, real=True) for n in ("wd_i", "W_0i", "W_1i"))


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of softmax.

    Attributes:
        z: the scores, one per class (None with ``W``).
        W: the classifier's weights, classes × features, as rows (None with ``z``).
        b: the biases, one per class (with ``W``).
        x: the input features (with ``W``).
        target: the correct class, 0-based (None with ``t``).
        t: a target probability vector (None with ``target``).
        loss: "ce" or "hinge".
        margin: Δ of the hinge.
        temperature: T.
    Entries are SymPy values or, for plain decimal numbers, exact Fractions.
    """

    z: tuple[Any, ...] | None
    W: tuple[tuple[Any, ...], ...] | None
    b: tuple[Any, ...] | None
    x: tuple[Any, ...] | None
    target: int | None
    t: tuple[Any, ...] | None
    loss: str = "ce"
    margin: Any = sympy.Integer(1)
    temperature: Any = sympy.Integer(1)


def parse(*, z: str | None, W: str | None, b: str | None, x: str | None, target: str | None,
          t: str | None, loss: str | None, margin: str | None, temperature: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_int, parse_scalar, parse_value_fast

    kind = (loss or "ce").strip().lower()
    if kind not in LOSSES:
        raise InputError("--loss", f"must be ce or hinge, got {(loss or '').strip()[:30]!r}")
    if z is not None:
        for name, given in (("--W", W), ("--b", b), ("--x", x)):
            if given is not None:
                raise InputError(name, "cannot be combined with --z: give the scores --z, "
                                       "or the classifier --W, --b, --x")
        scores = tuple(parse_value_fast(z, "--z", kinds=("vector",)))
        Wm = bv = xv = None
        n = len(scores)
    else:
        if W is None:
            if x is not None or b is not None:
                raise InputError("--W", "is missing: --b and --x go with the weights --W (z = W·x + b)")
            raise InputError("--z", "is missing: give the scores --z, or a linear classifier --W, --b, --x")
        if x is None:
            raise InputError("--x", "is missing: the classifier z = W·x + b needs the input --x")
        scores = None
        Wm = tuple(tuple(r) for r in parse_value_fast(W, "--W", kinds=("matrix",)))
        n, d = len(Wm), len(Wm[0])
        if n * d > MAX_WEIGHTS:
            raise InputError("--W", f"has {n * d:,} entries; at most {MAX_WEIGHTS:,}")
        xv = tuple(parse_value_fast(x, "--x", kinds=("vector",)))
        if len(xv) != d:
            raise InputError("--x", f"has {len(xv)} entr{'y' if len(xv) == 1 else 'ies'} but --W has "
                                    f"{d} column{'' if d == 1 else 's'} (features); W is classes × features")
        if b is None:
            bv = tuple(sympy.Integer(0) for _ in range(n))
        else:
            bv = tuple(parse_value_fast(b, "--b", kinds=("vector",)))
            if len(bv) != n:
                raise InputError("--b", f"has {len(bv)} entr{'y' if len(bv) == 1 else 'ies'} but --W has "
                                        f"{n} row{'' if n == 1 else 's'} (classes); one bias per class")
    if n < 2:
        raise InputError("--z" if z is not None else "--W",
                         f"has {n} class; a classifier needs at least 2")
    if n > MAX_CLASSES:
        raise InputError("--z" if z is not None else "--W", f"has {n:,} classes; at most {MAX_CLASSES:,}")

    if target is not None and t is not None:
        raise InputError("--t", "cannot be combined with --target: give the class index or the probabilities")
    if target is None and t is None:
        raise InputError("--target", "is missing: give the correct class --target K (0-based, as PyTorch), "
                                     "or a probability vector --t")
    tgt = tv = None
    if target is not None:
        tgt = parse_int(target, "--target", lo=0, hi=10**9)
        if tgt >= n:
            raise InputError("--target", f"is {tgt}, but there are {n} classes, numbered 0 to {n - 1} "
                                         "(0-based, as PyTorch: the first class is 0)")
    else:
        if kind == "hinge":
            raise InputError("--t", "is a probability vector; the hinge loss needs the correct class --target K")
        tv = tuple(parse_value_fast(t, "--t", kinds=("vector",)))
        if len(tv) != n:
            raise InputError("--t", f"has {len(tv)} entr{'y' if len(tv) == 1 else 'ies'} but there are {n} classes")
        _check_probabilities(tv)
    if margin is not None and kind != "hinge":
        raise InputError("--margin", "applies to --loss hinge only")
    delta = parse_scalar(margin, "--margin") if margin is not None else sympy.Integer(1)
    temp = parse_scalar(temperature or "1", "--temperature")
    if temp.is_number and not temp.is_positive:
        raise InputError("--temperature", f"must be > 0, got {temp}")
    return Inputs(scores, Wm, bv, xv, tgt, tv, kind, delta, temp)


def _check_probabilities(t: Sequence[Any]) -> None:
    vals = [_sym(v) for v in t]
    if not all(v.is_number for v in vals):
        return  # symbolic: taken as a probability vector (stated in the conventions)
    for k, v in enumerate(vals):
        if v.is_negative or (v - 1).is_positive:
            raise InputError("--t", f"has the entry {v} for class {k}; probabilities are in [0, 1]")
    if all(v.is_Rational for v in vals):
        total = sympy.Rational(sum(_frac(v) for v in vals))  # exact: 0.1 + 0.6 + 0.3 is 1
        off = total != 1
    else:  # irrational entries (sqrt(2)/2, …): to 30 digits
        total = sympy.N(sympy.Add(*vals), 30)
        off = abs(total - 1) > 1e-25
    if off:
        raise InputError("--t", f"sums to {float(total):.12g}, not 1; a target distribution must sum to 1")


# --------------------------------------------------------------------------- helpers


def _frac(v: Any) -> Fraction:
    if isinstance(v, Fraction):
        return v
    v = _sym(v)
    if v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    raise TypeError("not rational")


def show(v: Any) -> Any:
    """A value as it is written into a substituted line: short exact forms as they are
    (0.5, 1/3, exp(-1), √2/2, a symbol), longer irrational numbers as 20-digit decimals."""
    v = as_sympy(v)
    if not v.is_number or isinstance(v, sympy.Float):
        return v
    return _show_number(v)


@functools.lru_cache(maxsize=1024)
def _show_number(v: Any) -> Any:
    if v.is_Rational:
        from dlcalc.printing import short_decimal

        return v if short_decimal(v) is not None or len(str(v)) <= 12 else sympy.Float(v, 20)
    if _nodes(v, 7) <= 6:  # exp(-1), sqrt(2)/2, exp(-sqrt(2)/2)
        return v
    return sympy.Float(sympy.N(v, 20), 20)


def _nodes(v: Any, limit: int) -> int:
    """The number of nodes of an expression tree, counted up to ``limit``."""
    count, todo = 0, [v]
    while todo and count < limit:
        e = todo.pop()
        count += 1
        todo.extend(e.args)
    return count


def vstep(title: str, formula: sympy.Equality, rows: Sequence[dict[Any, Any]], *, note: str = "",
          section: str = "", substituted: bool = True, display: Math | None = None) -> Step:
    """One step over an index: the formula written once (``u_k = z_k − m``), then the numbers
    put in for each index (one dict of symbol -> value per entry), and the values.

    ``display``: the formula as a teacher writes it, where SymPy's order of terms differs
    (−m + z_k); the template ``formula`` still gives the substituted lines and the values."""
    rhs = formula.rhs
    values = [rhs.xreplace({s: as_sympy(v) for s, v in r.items()}) for r in rows]
    subs = [substitute(rhs, {s: show(v) for s, v in r.items()}) for r in rows] if substituted else None
    return Step(title=title, formula=display or formula, substituted=subs, value=values, note=note,
                section=section)


# --------------------------------------------------------------------------- written arithmetic
# A substituted line is numbers in the order a teacher writes them.  These nodes print their
# arguments in order, joined by an operator (SymPy's own Add and Mul printers sort and
# inspect their terms, the largest cost of printing a working), and evaluate to the plain
# SymPy value with doit() and evalf(), as dlcalc.board.unshow needs.


class _Written(sympy.Expr):
    is_commutative = True
    op_text = op_latex = ""

    def _combine(self, args: list[Any]) -> Any:
        raise NotImplementedError

    def doit(self, **hints: Any) -> Any:
        return self._combine([a.doit(**hints) if isinstance(a, sympy.Basic) else a for a in self.args])

    def _eval_evalf(self, prec: int) -> Any:
        return self.doit()._eval_evalf(prec)

    #: whether a right-hand operand of the same precedence needs parentheses (a − (b − c), a/(b·c))
    strict_right = False

    def _parts(self, printer: Any) -> list[str]:
        from sympy.printing.precedence import precedence

        out = []
        for i, a in enumerate(self.args):
            text = printer._print(a)
            if not isinstance(a, Shown):  # a shown number puts its own parentheses
                prec = precedence(a)
                if prec < self.precedence or (i > 0 and self.strict_right and prec == self.precedence):
                    text = printer._add_parens(text) if hasattr(printer, "_add_parens") else f"({text})"
            out.append(text)
        return out

    def _sympystr(self, printer: Any) -> str:
        return self.op_text.join(self._parts(printer))

    def _latex(self, printer: Any) -> str:
        return self.op_latex.join(self._parts(printer))


class WrittenSum(_Written):
    """a + b + c, as written."""

    op_text = op_latex = " + "
    precedence = PRECEDENCE["Add"]

    def _combine(self, args: list[Any]) -> Any:
        return sympy.Add(*args)


class WrittenProduct(_Written):
    """a·b·c, as written (the text printer turns * into ·)."""

    op_text, op_latex = "*", r" \cdot "
    precedence = PRECEDENCE["Mul"]

    def _combine(self, args: list[Any]) -> Any:
        return sympy.Mul(*args)


class WrittenDifference(_Written):
    """a − b, as written."""

    op_text = op_latex = " - "
    precedence = PRECEDENCE["Add"]
    strict_right = True

    def _combine(self, args: list[Any]) -> Any:
        return args[0] - args[1]


class WrittenQuotient(_Written):
    """a/b, as written."""

    op_text, op_latex = "/", " / "
    precedence = PRECEDENCE["Mul"]
    strict_right = True

    def _combine(self, args: list[Any]) -> Any:
        return args[0] / args[1]


def written(kind: type, *values: Any) -> Any:
    """The numbers ``values`` (shown as :func:`show` writes them) joined by ``kind``."""
    args = [v if isinstance(v, (_Written, Shown)) else Shown(show(v)) for v in values]
    return args[0] if len(args) == 1 else kind(*args)


def dot_shown(ws: Sequence[Any], xs: Sequence[Any], extra: Any = None) -> Any:
    """w₁·x₁ + w₂·x₂ + … (+ extra), with every number written as it is (unevaluated)."""
    terms = [written(WrittenProduct, w, v) for w, v in zip(ws, xs)]
    if extra is not None:
        terms.append(Shown(show(extra)))
    return terms[0] if len(terms) == 1 else WrittenSum(*terms)


def sum_shown(values: Sequence[Any]) -> Any:
    return written(WrittenSum, *values)


def argmax(values: Sequence[Any]) -> int | None:
    """The first index of the largest value (as torch.argmax), or None when symbolic."""
    if any(not v.is_number for v in values):
        return None
    best, best_v = 0, None
    for k, v in enumerate(values):
        nv = v if v.is_Rational else sympy.N(v, 40)
        if best_v is None or bool(nv > best_v):
            best, best_v = k, nv
    return best


def _positive(v: Any) -> Any:
    """1 if v > 0, 0 if v ≤ 0, for a number; Heaviside(v, 0) (the same, symbolically) else."""
    if v.is_number:
        nv = v if v.is_Rational else sympy.N(v, 40)
        return sympy.Integer(1) if bool(nv > 0) else sympy.Integer(0)
    return sympy.Heaviside(v, 0)


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, log_score: bool = False, one_based: bool = False,
          include_correct: bool = False, grad_p: bool = False) -> Solution:
    """The worked solution.  The flags are the mistakes of ``--check``:

    ``log_score``: L = −log s_y (the log of the score, not of the probability);
    ``one_based``: the class index read as 1-based (class K − 1 used, prediction + 1);
    ``include_correct``: the hinge summed over j = y too (adds max(0, Δ));
    ``grad_p``: p taken as the gradient instead of p − y.
    """
    n = len(inp.z) if inp.z is not None else len(inp.W)
    d = len(inp.x) if inp.W is not None else 0
    target = inp.target
    if target is not None:
        if one_based:
            if target == 0:
                raise InputError("--target", "is 0, which is not a 1-based class index")
            target -= 1
        if not 0 <= target < n:
            raise InputError("--target", f"is {target}, but there are {n} classes, numbered 0 to {n - 1}")
    if inp.loss == "hinge" and target is None:
        raise InputError("--t", "is a probability vector; the hinge loss needs --target K")
    if (log_score or grad_p) and inp.loss != "ce":
        raise InputError("--loss", "this mistake is one of the cross-entropy")
    if include_correct and inp.loss != "hinge":
        raise InputError("--loss", "this mistake is one of the hinge loss")
    T = _sym(inp.temperature)
    if T.is_number and not T.is_positive:
        raise InputError("--temperature", f"must be > 0, got {T}")
    everything = ([*(inp.z or ())] + [v for r in (inp.W or ()) for v in r] + [*(inp.b or ()), *(inp.x or ())]
                  + [*(inp.t or ()), inp.margin, inp.temperature])
    symbolic = any(_symbolic(v) for v in everything)
    small = n <= EXACT_MAX_CLASSES and n * d <= EXACT_MAX_WEIGHTS
    if symbolic and (n > SYMBOLIC_MAX_CLASSES or n * d > SYMBOLIC_MAX_WEIGHTS):
        raise InputError("--W" if inp.W is not None else "--z",
                         f"is too large for symbolic work: at most {SYMBOLIC_MAX_CLASSES} classes and "
                         f"{SYMBOLIC_MAX_WEIGHTS} weights when any input is a symbol")
    flags = dict(log_score=log_score, one_based=one_based, include_correct=include_correct, grad_p=grad_p)
    if small:
        return _solve_exact(inp, n, d, target, T, **flags)
    return _solve_numeric(inp, n, d, target, T, **flags)


def _conventions(inp: Inputs, T: Any, symbolic_max: bool) -> dict[str, str]:
    conv = {
        "classes": "numbered from 0, as PyTorch: --target K is the K-th score counting from 0, "
                   "and prediction is a 0-based index (the first largest score, as torch.argmax)",
    }
    if inp.W is not None:
        conv["model"] = ("z = W·x + b, W of shape classes × features (PyTorch's Linear.weight), "
                         "one example x; b = 0 when --b is left out")
    conv["softmax"] = ("p_k = e^(s_k)/Σ_j e^(s_j) with s = z/T" + (" (T = 1)" if T == 1 else "")
                       + (", computed as e^(u_k)/Σ_j e^(u_j) with u = s − max(s): the same value, "
                          "and no exponential overflows" if not symbolic_max else
                          "; with symbolic scores the maximum is unknown and is not subtracted"))
    if inp.loss == "ce":
        conv["loss"] = ("cross-entropy L = −log p_y, as torch.nn.functional.cross_entropy(z/T, y) on one example"
                        if inp.t is None else
                        "cross-entropy with class probabilities L = −Σ_k t_k·log p_k, as "
                        "torch.nn.functional.cross_entropy(z/T, t) on one example; t sums to 1")
        conv["gradient"] = ("grad_z = ∂L/∂z = (p − y)/T, y the one-hot target" if inp.t is None else
                            "grad_z = ∂L/∂z = (p − t)/T") + "; grad_z is with respect to the raw scores z"
    else:
        conv["loss"] = ("multiclass hinge (CS231n's SVM loss, Weston and Watkins): L = Σ_{j≠y} "
                        "max(0, s_j − s_y + Δ); torch.nn.functional.multi_margin_loss divides this sum "
                        "by the number of classes, this does not")
        conv["gradient"] = ("the subgradient ∂L/∂s_j = 1[s_j − s_y + Δ > 0] for j ≠ y and "
                            "∂L/∂s_y = −Σ_{j≠y} 1[s_j − s_y + Δ > 0] (0 at a margin of exactly 0, as "
                            "CS231n's margins > 0 and torch.relu), divided by T for grad_z")
        conv["p"] = "p is the softmax of the same scores, reported for reference; the hinge loss does not use it"
    if inp.W is not None:
        conv["weights"] = "grad_W = grad_z·xᵀ (classes × features), grad_b = grad_z"
    if inp.t is not None and any(_symbolic(v) for v in inp.t):
        conv["symbols"] = "t is taken as a probability vector (entries in [0, 1], summing to 1)"
    return conv


def _inputs_shown(inp: Inputs, n: int, d: int, small: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if inp.z is not None:
        out["z"] = [_sym(v) for v in inp.z] if small else f"{n} scores"
    else:
        out["W"] = [[_sym(v) for v in r] for r in inp.W] if small else f"{n}×{d} matrix"
        out["b"] = [_sym(v) for v in inp.b] if small else f"{n} biases"
        out["x"] = [_sym(v) for v in inp.x] if small else f"{d} features"
    if inp.target is not None:
        out["target"] = sympy.Integer(inp.target)
    else:
        out["t"] = [_sym(v) for v in inp.t] if small else f"{n} probabilities"
    out["loss"] = inp.loss
    if inp.loss == "hinge":
        out["margin"] = _sym(inp.margin)
    if _sym(inp.temperature) != 1:
        out["temperature"] = _sym(inp.temperature)
    return out


def _solve_exact(inp: Inputs, n: int, d: int, target: int | None, T: Any, *, log_score: bool,
                 one_based: bool, include_correct: bool, grad_p: bool) -> Solution:
    steps: list[Step] = []
    # ---- scores
    if inp.W is not None:
        W = [[_sym(v) for v in r] for r in inp.W]
        b = [_sym(v) for v in inp.b]
        x = [_sym(v) for v in inp.x]
        z = [sympy.Add(*[w * xi for w, xi in zip(W[k], x)]) + b[k] for k in range(n)]
        steps.append(Step(
            title="scores z = W·x + b, one per class", section="scores",
            formula=Math("z_k = Σ_i W_ki·x_i + b_k", r"z_k = \sum_i W_{ki} x_i + b_k"),
            substituted=[dot_shown(W[k], x, b[k]) for k in range(n)] if d <= SUBST_MAX_FEATURES else None,
            value=z))
    else:
        W = b = x = None
        z = [_sym(v) for v in inp.z]
    if T != 1:
        s = [zk / T for zk in z]
        steps.append(vstep("scores divided by the temperature", eq(S_K, Z_K / T_SYM),
                           [{Z_K: zk, T_SYM: T} for zk in z], section="scores"))
        sname = "s"
    else:
        s = z
        sname = "z"
    for v in s:
        if v.is_number and abs(sympy.N(v, 15)) > MAX_SCORE:
            raise InputError("--W" if inp.W is not None else "--z",
                             f"gives a score beyond 1e300 in magnitude ({sympy.N(v, 6)}); no float can hold "
                             "the answer")
    s_k = S_K if T != 1 else Z_K
    numeric = all(v.is_number for v in s)
    pred = argmax(s)

    # ---- softmax
    sec = "softmax"
    if numeric:
        m = s[pred]
        steps.append(Step(title=f"largest score (subtracted for numerical stability)", section=sec,
                          formula=Math(f"m = max_k {sname}_k", rf"m = \max_k {sname}_k"), value=m,
                          note="softmax(s) = softmax(s − m) for any m; with m = max s every exponent is ≤ 0"))
        u = [sk - m for sk in s]
        steps.append(vstep("shifted scores", eq(U_K, s_k - M), [{s_k: sk, M: m} for sk in s], section=sec,
                           display=Math(f"u_k = {sname}_k − m", f"u_k = {sname}_k - m")))
        exps = [sympy.exp(uk) for uk in u]
        steps.append(vstep("exponentials", eq(E_K, sympy.exp(U_K)), [{U_K: uk} for uk in u], section=sec))
    else:
        u = list(s)
        exps = [sympy.exp(uk) for uk in u]
        steps.append(vstep("exponentials", eq(E_K, sympy.exp(s_k)), [{s_k: sk} for sk in s], section=sec,
                           note="symbolic scores: the maximum is unknown, so it is not subtracted"))
    Z = sympy.Add(*exps)
    steps.append(Step(title="normalizer", section=sec,
                      formula=Math("Z = Σ_j E_j", r"Z = \sum_j E_j"), substituted=sum_shown(exps), value=Z))
    p = [e / Z for e in exps]
    steps.append(vstep("probabilities", eq(P_K, E_K / Z_SUM), [{E_K: e, Z_SUM: Z} for e in exps], section=sec))

    # ---- loss and gradient
    if inp.loss == "ce":
        loss, g, lsteps = _ce_exact(inp, s, u, p, Z, T, target, sname, log_score=log_score, grad_p=grad_p)
    else:
        loss, g, lsteps = _hinge_exact(inp, s, T, target, sname, include_correct=include_correct)
    steps += lsteps

    result: dict[str, Any] = {"p": p, "loss": loss, "grad_z": g}
    # ---- the classifier's weights
    if W is not None:
        gW = [[gk * xi for xi in x] for gk in g]
        show_all = d <= SUBST_MAX_FEATURES
        steps.append(Step(
            title="gradient of the weights", section="gradient",
            formula=Math("∂L/∂W_ki = (∂L/∂z_k)·x_i, i.e. ∂L/∂W = (∂L/∂z)·xᵀ",
                         r"\frac{\partial L}{\partial W_{ki}} = \frac{\partial L}{\partial z_k} x_i,"
                         r"\ \frac{\partial L}{\partial W} = \frac{\partial L}{\partial z} x^\top"),
            substituted=[[written(WrittenProduct, gk, xi) for xi in x] for gk in g]
            if show_all else None,
            value=gW, note="z_k = Σ_i W_ki·x_i + b_k, so ∂z_k/∂W_ki = x_i"))
        steps.append(Step(
            title="gradient of the biases", section="gradient",
            formula=Math("∂L/∂b_k = (∂L/∂z_k)·∂z_k/∂b_k = ∂L/∂z_k",
                         r"\frac{\partial L}{\partial b_k} = \frac{\partial L}{\partial z_k}"
                         r"\frac{\partial z_k}{\partial b_k} = \frac{\partial L}{\partial z_k}"),
            value=list(g)))
        result["grad_W"] = gW
        result["grad_b"] = list(g)

    # ---- two classes: a sigmoid of the difference
    if n == 2:
        steps += _two_class_steps(z, p, T, W, b, x)
    steps.append(Step(
        title="prediction (0-based class index)" + (", counted from 1" if one_based else ""),
        section="prediction",
        formula=Math(f"ŷ = argmax_k p_k = argmax_k {sname}_k", rf"\hat y = \arg\max_k p_k = \arg\max_k {sname}_k"),
        value=None if pred is None else sympy.Integer(pred + (1 if one_based else 0)),
        note="" if pred is not None else "symbolic scores: the largest one is not known"))
    result["prediction"] = None if pred is None else pred + (1 if one_based else 0)
    if W is not None:  # grad_W, grad_b after p, loss, grad_z, prediction
        result = {k: result[k] for k in ("p", "loss", "grad_z", "prediction", "grad_W", "grad_b")}
    notes: list[str] = []
    if pred is None:
        notes.append("the scores are symbolic: the prediction is left open (null)")
    return Solution(command="softmax", inputs=_inputs_shown(inp, n, d, True),
                    conventions=_conventions(inp, T, not numeric), steps=tuple(steps), result=result,
                    notes=tuple(notes))


def _ce_exact(inp: Inputs, s: list[Any], u: list[Any], p: list[Any], Z: Any, T: Any, target: int | None,
              sname: str, *, log_score: bool, grad_p: bool) -> tuple[Any, list[Any], list[Step]]:
    steps: list[Step] = []
    n = len(s)
    sec = "loss"
    if target is not None:
        y = [sympy.Integer(1 if k == target else 0) for k in range(n)]
    else:
        y = [_sym(v) for v in inp.t]
    if log_score:  # the mistake: the log of the score instead of the probability
        if target is not None:
            sy = s[target]
            if sy.is_number and not sy.is_positive:
                raise InputError("--z", "has a score ≤ 0 for the target: its log is undefined")
            loss = -sympy.log(sy)
            steps.append(Step(title="loss, with the log of the score (the mistake)", section=sec,
                              formula=eq(LOSS, -sympy.log(S_Y)), substituted=substitute(-sympy.log(S_Y), {S_Y: show(sy)}),
                              value=loss))
        else:
            terms = []
            for tk, sk in zip(y, s):
                if tk != 0 and sk.is_number and not sk.is_positive:
                    raise InputError("--z", "has a score ≤ 0: its log is undefined")
                terms.append(tk * sympy.log(sk) if tk != 0 else sympy.Integer(0))
            loss = -sympy.Add(*terms)
            steps.append(Step(title="loss, with the log of the score (the mistake)", section=sec,
                              formula=Math("L = −Σ_k t_k·log s_k", r"L = -\sum_k t_k \log s_k"), value=loss))
    elif target is not None:
        py, uy = p[target], u[target]
        loss = sympy.log(Z) - uy
        steps.append(Step(
            title=f"cross-entropy loss (target class {target})", section=sec,
            formula=eq(LOSS, -sympy.log(P_Y)), substituted=substitute(-sympy.log(P_Y), {P_Y: show(py)}),
            value=loss,
            note=f"−log p_y = log Z − u_y (log-sum-exp), with u_y = {sympy.sstr(uy)}" if uy != s[target]
            else "−log p_y = log Z − z_y"))
    else:
        total = sympy.Add(*y)
        loss = (sympy.log(Z) if total == 1 else total * sympy.log(Z)) - sympy.Add(*[tk * uk for tk, uk in zip(y, u)])
        sub = sympy.Mul(sympy.Integer(-1), sympy.Add(*[
            sympy.Mul(Shown(show(tk)), sympy.log(Shown(show(pk)), evaluate=False), evaluate=False)
            for tk, pk in zip(y, p)], evaluate=False), evaluate=False)
        steps.append(Step(
            title="cross-entropy loss with target probabilities", section=sec,
            formula=Math("L = −Σ_k t_k·log p_k", r"L = -\sum_k t_k \log p_k"), substituted=sub, value=loss,
            note="−Σ_k t_k·log p_k = log Z − Σ_k t_k·u_k, as Σ_k t_k = 1"))
    # ---- gradient
    sec = "gradient"
    tname = "T" if T != 1 else ""
    if target is not None:
        steps.append(Step(
            title="∂L/∂s derived", section=sec,
            formula=Math("∂L/∂s_k = ∂/∂s_k [log Σ_j e^(s_j) − s_y] = e^(s_k)/Σ_j e^(s_j) − [k = y] = p_k − y_k",
                         r"\frac{\partial L}{\partial s_k} = \frac{\partial}{\partial s_k}"
                         r"\Big[\log \sum_j e^{s_j} - s_y\Big] = \frac{e^{s_k}}{\sum_j e^{s_j}} - [k = y] = p_k - y_k"),
            note="L = −log p_y = log Σ_j e^(s_j) − s_y; y_k = 1 for the target class, 0 otherwise (one-hot)"))
        steps.append(Step(title=f"one-hot target y (class {target})", section=sec,
                          formula=Math("y_k = [k = y]", r"y_k = [k = y]"), value=y))
    else:
        steps.append(Step(
            title="∂L/∂s derived", section=sec,
            formula=Math("∂L/∂s_k = ∂/∂s_k [(Σ_j t_j)·log Σ_j e^(s_j) − Σ_j t_j·s_j] = p_k − t_k",
                         r"\frac{\partial L}{\partial s_k} = \frac{\partial}{\partial s_k}"
                         r"\Big[\big(\textstyle\sum_j t_j\big) \log \sum_j e^{s_j} - \sum_j t_j s_j\Big] = p_k - t_k"),
            note="L = −Σ_j t_j·log p_j = (Σ_j t_j)·log Σ_j e^(s_j) − Σ_j t_j·s_j, and Σ_j t_j = 1"))
    if grad_p:  # the mistake: p instead of p − y
        g = [pk / T for pk in p]
        steps.append(vstep("gradient taken as p (the mistake)",
                           eq(G_K, P_K / T_SYM) if T != 1 else eq(G_K, P_K),
                           [{P_K: pk, T_SYM: T} for pk in p], section=sec))
    else:
        g = [(pk - yk) / T for pk, yk in zip(p, y)]
        if target is None:
            formula = eq(G_K, (P_K - T_K) / T_SYM) if T != 1 else eq(G_K, P_K - T_K)
            rows = [{P_K: pk, T_K: yk, T_SYM: T} for pk, yk in zip(p, y)]
        else:
            formula = eq(G_K, (P_K - Y_K) / T_SYM) if T != 1 else eq(G_K, P_K - Y_K)
            rows = [{P_K: pk, Y_K: yk, T_SYM: T} for pk, yk in zip(p, y)]
        steps.append(vstep(
            "gradient of the scores, g_k = ∂L/∂z_k" + (" = (∂L/∂s_k)·∂s_k/∂z_k" if T != 1 else ""),
            formula, rows, section=sec, note="s_k = z_k/T, so the chain rule divides by T" if T != 1 else ""))
    return loss, g, steps


def _hinge_exact(inp: Inputs, s: list[Any], T: Any, target: int, sname: str, *,
                 include_correct: bool) -> tuple[Any, list[Any], list[Step]]:
    steps: list[Step] = []
    n = len(s)
    delta = _sym(inp.margin)
    sy = s[target]
    js = [j for j in range(n) if include_correct or j != target]
    sec = "loss"
    raw = [s[j] - sy + delta for j in js]
    margins = [sympy.Max(0, r) for r in raw]
    template = eq(L_J, sympy.Max(0, S_J - S_Y + DELTA))
    steps.append(vstep(
        f"margins, j = {', '.join(map(str, js))}" + (" (the correct class too: the mistake)" if include_correct
                                                    else f" (every class but y = {target})"),
        template, [{S_J: s[j], S_Y: sy, DELTA: delta} for j in js], section=sec,
        display=Math(f"l_j = max(0, {sname}_j − {sname}_y + Δ)", rf"l_j = \max(0, {sname}_j - {sname}_y + \Delta)"),
        note=f"Δ = {sympy.sstr(delta)}; a class whose score is within Δ of the correct one's (or above it) "
             "contributes"))
    loss = sympy.Add(*margins)
    steps.append(Step(title="hinge loss", section=sec,
                      formula=Math("L = Σ_{j≠y} l_j" if not include_correct else "L = Σ_j l_j",
                                   r"L = \sum_{j \ne y} l_j" if not include_correct else r"L = \sum_j l_j"),
                      substituted=sum_shown(margins), value=loss,
                      note="CS231n's multiclass SVM loss: not divided by the number of classes "
                           "(torch.nn.functional.multi_margin_loss divides it)"))
    sec = "gradient"
    ind = {j: _positive(s[j] - sy + delta) for j in range(n) if j != target}
    g = [sympy.Integer(0)] * n
    for j, v in ind.items():
        g[j] = v / T
    g[target] = -sympy.Add(*ind.values()) / T
    steps.append(Step(
        title="subgradient of the scores, g_k = ∂L/∂z_k", section=sec,
        formula=Math("∂L/∂s_j = 1[s_j − s_y + Δ > 0] (j ≠ y),  ∂L/∂s_y = −Σ_{j≠y} 1[s_j − s_y + Δ > 0]"
                     + (",  g_k = (∂L/∂s_k)/T" if T != 1 else ""),
                     r"\frac{\partial L}{\partial s_j} = \mathbb{1}[s_j - s_y + \Delta > 0]\ (j \ne y),\ "
                     r"\frac{\partial L}{\partial s_y} = -\sum_{j \ne y} \mathbb{1}[s_j - s_y + \Delta > 0]"
                     + (r",\ g_k = \frac{1}{T}\frac{\partial L}{\partial s_k}" if T != 1 else "")),
        value=g,
        note="each positive margin adds 1 to its class and −1 to the correct class; a margin of exactly 0 "
             "counts 0" + ("; the j = y term max(0, Δ) is constant, so the mistake leaves the gradient as it is"
                           if include_correct else "")))
    return loss, g, steps


def _two_class_steps(z: list[Any], p: list[Any], T: Any, W: Any, b: Any, x: Any) -> list[Step]:
    sec = "two classes: a sigmoid"
    steps: list[Step] = []
    note = ("p₀ = e^(z₀)/(e^(z₀) + e^(z₁)) = 1/(1 + e^(−(z₀ − z₁))) = σ(z₀ − z₁): the two-class softmax is "
            "a sigmoid of the difference of the scores (classes 0 and 1; the course notes' "
            "p₁ = σ(z₁ − z₂) counts from 1)")
    if W is not None:
        wd = [W[0][i] - W[1][i] for i in range(len(x))]
        bd = b[0] - b[1]
        rows = [{W_0I: W[0][i], W_1I: W[1][i]} for i in range(len(x))]
        steps.append(vstep("difference of the weight rows", eq(WD_I, W_0I - W_1I), rows, section=sec,
                           substituted=len(x) <= SUBST_MAX_FEATURES,
                           display=Math("(w₀ − w₁)_i = W₀ᵢ − W₁ᵢ", r"(w_0 - w_1)_i = W_{0i} - W_{1i}")))
        steps.append(Step(title="difference of the biases", section=sec, formula=eq(B_D, B_0 - B_1),
                          substituted=substitute(B_0 - B_1, {B_0: show(b[0]), B_1: show(b[1])}), value=bd))
        arg = sympy.Add(*[a * c for a, c in zip(wd, x)]) + bd
        inner = dot_shown(wd, x, bd)
        if T != 1:
            inner = sympy.Mul(inner, sympy.Pow(Shown(T), -1, evaluate=False), evaluate=False)
            arg = arg / T
        steps.append(Step(
            title="p₀ as a sigmoid", section=sec,
            formula=Math("p₀ = σ(z₀ − z₁) = σ((w₀ − w₁)·x + (b₀ − b₁))" if T == 1 else
                         "p₀ = σ((z₀ − z₁)/T) = σ(((w₀ − w₁)·x + (b₀ − b₁))/T)",
                         r"p_0 = \sigma(z_0 - z_1) = \sigma\big((w_0 - w_1)\cdot x + (b_0 - b_1)\big)"
                         if T == 1 else
                         r"p_0 = \sigma\Big(\frac{z_0 - z_1}{T}\Big) = \sigma\Big(\frac{(w_0 - w_1)\cdot x + (b_0 - b_1)}{T}\Big)"),
            substituted=sigmoid(inner, evaluate=False) if len(x) <= SUBST_MAX_FEATURES else None,
            value=sigmoid(arg), note=note))
    else:
        arg = (z[0] - z[1]) / T
        if T != 1:
            formula = eq(P_0, sigmoid((Z_0 - Z_1) / T_SYM))
            vals = {Z_0: show(z[0]), Z_1: show(z[1]), T_SYM: T}
        else:
            formula = eq(P_0, sigmoid(Z_0 - Z_1))
            vals = {Z_0: show(z[0]), Z_1: show(z[1])}
        steps.append(Step(title="p₀ as a sigmoid", section=sec, formula=formula,
                          substituted=substitute(formula.rhs, vals), value=sigmoid(arg), note=note))
    p0 = sigmoid(arg)
    half = sympy.Rational(1, 2)
    rule = sympy.Ge(p0, half)
    steps.append(Step(
        title="decision rule: predict class 0 when p₀ ≥ ½", section=sec,
        formula=Math("p₀ ≥ ½ ⇔ z₀ − z₁ ≥ 0" + (" (T > 0)" if T != 1 else ""),
                     r"p_0 \ge \tfrac{1}{2} \iff z_0 - z_1 \ge 0"),
        substituted=sympy.Ge(Shown(show(p0)), Shown(half), evaluate=False) if p0.is_number else None,
        value=rule if not isinstance(rule, sympy.logic.boolalg.BooleanAtom) else bool(rule),
        note="σ(a) ≥ ½ exactly when a ≥ 0; otherwise predict class 1"))
    return steps


# --------------------------------------------------------------------------- numeric path


def _solve_numeric(inp: Inputs, n: int, d: int, target: int | None, T: Any, *, log_score: bool,
                   one_based: bool, include_correct: bool, grad_p: bool) -> Solution:
    B = Numeric(n * max(d, 1))
    mp, F = B.num, B.out
    steps: list[Step] = []
    Tm = mp(T)
    if inp.W is not None:
        x = [mp(v) for v in inp.x]
        z = [B.fdot([mp(w) for w in row], x) + mp(bk) for row, bk in zip(inp.W, inp.b)]
        steps.append(Step(title="scores z = W·x + b, one per class", section="scores",
                          formula=Math("z_k = Σ_i W_ki·x_i + b_k", r"z_k = \sum_i W_{ki} x_i + b_k"),
                          value=[F(v) for v in z]))
    else:
        x = None
        z = [mp(v) for v in inp.z]
    s = [zk / Tm for zk in z]
    if T != 1:
        steps.append(Step(title="scores divided by the temperature", section="scores",
                          formula=eq(S_K, Z_K / T_SYM), value=[F(v) for v in s]))
    if any(not B.finite(v) or abs(v) > MAX_SCORE for v in s):
        raise InputError("--W" if inp.W is not None else "--z",
                         "gives a score beyond 1e300 in magnitude; no float can hold the answer")
    sname = "s" if T != 1 else "z"
    s_k = S_K if T != 1 else Z_K
    pred = max(range(n), key=lambda k: (s[k], -k))
    m = s[pred]
    u = [v - m for v in s]
    E = [B.exp(v) for v in u]
    Z = B.fsum(E)
    p = [e / Z for e in E]
    sec = "softmax"
    steps.append(Step(title="largest score (subtracted for numerical stability)", section=sec,
                      formula=Math(f"m = max_k {sname}_k", rf"m = \max_k {sname}_k"), value=F(m)))
    steps.append(Step(title="shifted scores", section=sec, value=[F(v) for v in u],
                      formula=Math(f"u_k = {sname}_k − m", f"u_k = {sname}_k - m")))
    steps.append(Step(title="exponentials", section=sec, formula=eq(E_K, sympy.exp(U_K)), value=[F(v) for v in E]))
    steps.append(Step(title="normalizer", section=sec, formula=Math("Z = Σ_j E_j", r"Z = \sum_j E_j"), value=F(Z)))
    steps.append(Step(title="probabilities", section=sec, formula=eq(P_K, E_K / Z_SUM), value=[F(v) for v in p]))
    if inp.loss == "ce":
        y = ([B.c(1 if k == target else 0) for k in range(n)] if target is not None
             else [mp(v) for v in inp.t])
        if log_score:
            for yk, sk in zip(y, s):
                if yk != 0 and sk <= 0:
                    raise InputError("--z", "has a score ≤ 0 for the target: its log is undefined")
            loss = -B.fsum(yk * B.log(sk) for yk, sk in zip(y, s) if yk != 0)
            title = "loss, with the log of the score (the mistake)"
        else:
            loss = B.log(Z) * B.fsum(y) - B.fsum(yk * uk for yk, uk in zip(y, u))
            title = "cross-entropy loss" + (f" (target class {target})" if target is not None else
                                            " with target probabilities")
        steps.append(Step(title=title, section="loss",
                          formula=eq(LOSS, -sympy.log(P_Y)) if target is not None else
                          Math("L = −Σ_k t_k·log p_k", r"L = -\sum_k t_k \log p_k"), value=F(loss),
                          note="computed as log Z − Σ_k y_k·u_k (log-sum-exp)"))
        g = [pk / Tm for pk in p] if grad_p else [(pk - yk) / Tm for pk, yk in zip(p, y)]
        steps.append(Step(title="gradient taken as p (the mistake)" if grad_p else
                          "gradient of the scores, g_k = ∂L/∂z_k", section="gradient",
                          formula=(eq(G_K, P_K) if grad_p else eq(G_K, P_K - Y_K)) if T == 1 else
                          (eq(G_K, P_K / T_SYM) if grad_p else eq(G_K, (P_K - Y_K) / T_SYM)),
                          value=[F(v) for v in g], note="∂L/∂s_k = p_k − y_k (y one-hot, or t)"))
    else:
        delta = mp(inp.margin)
        sy = s[target]
        js = [j for j in range(n) if include_correct or j != target]
        margins = [max(B.c(0), s[j] - sy + delta) for j in js]
        loss = B.fsum(margins)
        steps.append(Step(title="margins" + (" (the correct class too: the mistake)" if include_correct else
                                             f" (every class but y = {target})"), section="loss",
                          formula=Math(f"l_j = max(0, {sname}_j − {sname}_y + Δ)",
                                       rf"l_j = \max(0, {sname}_j - {sname}_y + \Delta)"),
                          value=[F(v) for v in margins]))
        steps.append(Step(title="hinge loss", section="loss",
                          formula=Math("L = Σ_{j≠y} l_j", r"L = \sum_{j \ne y} l_j"), value=F(loss)))
        ind = [1 if j != target and s[j] - sy + delta > 0 else 0 for j in range(n)]
        g = [B.c(v) / Tm for v in ind]
        g[target] = -B.c(sum(ind)) / Tm
        steps.append(Step(title="subgradient of the scores, g_k = ∂L/∂z_k", section="gradient",
                          formula=Math("∂L/∂s_j = 1[s_j − s_y + Δ > 0] (j ≠ y),  ∂L/∂s_y = −Σ_{j≠y} 1[s_j − s_y + Δ > 0]",
                                       r"\frac{\partial L}{\partial s_j} = \mathbb{1}[s_j - s_y + \Delta > 0]\ (j \ne y),\ "
                                       r"\frac{\partial L}{\partial s_y} = -\sum_{j \ne y} \mathbb{1}[s_j - s_y + \Delta > 0]"),
                          value=[F(v) for v in g]))
    result: dict[str, Any] = {"p": [F(v) for v in p], "loss": F(loss), "grad_z": [F(v) for v in g],
                              "prediction": pred + (1 if one_based else 0)}
    if x is not None:
        gW = [[F(gk * xi) for xi in x] for gk in g]
        steps.append(Step(title="gradient of the weights", section="gradient",
                          formula=Math("∂L/∂W = (∂L/∂z)·xᵀ", r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial z} x^\top"),
                          value=gW))
        result["grad_W"] = gW
        result["grad_b"] = list(result["grad_z"])
    steps.append(Step(title="prediction (0-based class index)" + (", counted from 1" if one_based else ""),
                      section="prediction",
                      formula=Math(f"ŷ = argmax_k p_k = argmax_k {sname}_k", rf"\hat y = \arg\max_k p_k = \arg\max_k {sname}_k"),
                      value=sympy.Integer(result["prediction"])))
    size = f"{n} classes" + (f", {n}×{d} weights" if inp.W is not None else "")
    notes = (f"numeric path for {size} (exact work up to {EXACT_MAX_CLASSES} classes and {EXACT_MAX_WEIGHTS} "
             f"weights): {B.note}",)
    return Solution(command="softmax", inputs=_inputs_shown(inp, n, d, False),
                    conventions=_conventions(inp, T, False), steps=tuple(steps), result=result, notes=notes)


class Numeric:
    """The arithmetic of the numeric path: mpmath with :data:`MP_DPS` digits while the work
    (multiply-adds) stays under :data:`MPMATH_WORK`, IEEE double beyond (``math.fsum`` sums,
    stable formulas), so that the largest inputs allowed still answer in a second or two."""

    def __init__(self, work: int) -> None:
        self.kind = "mpmath" if work <= MPMATH_WORK else "double"
        if self.kind == "mpmath":
            import mpmath

            ctx = mpmath.MPContext()
            ctx.dps = MP_DPS
            self.c, self.exp, self.log, self.sqrt = ctx.mpf, ctx.exp, ctx.log, ctx.sqrt
            self.fsum, self.fdot = ctx.fsum, ctx.fdot
        else:
            import math

            self.c, self.exp, self.log, self.sqrt, self.fsum = float, math.exp, math.log, math.sqrt, math.fsum
            self.fdot = lambda a, b: math.fsum(x * y for x, y in zip(a, b))

    @property
    def note(self) -> str:
        return (f"mpmath with {MP_DPS} significant digits" if self.kind == "mpmath" else
                "IEEE double precision (correctly rounded sums, math.fsum)")

    def num(self, v: Any) -> Any:
        """A parsed value (Fraction or SymPy number) in this arithmetic."""
        if isinstance(v, Fraction):
            return self.c(v.numerator) / v.denominator if self.kind == "mpmath" else float(v)
        v = _sym(v)
        if v.is_Rational:
            return self.c(int(v.p)) / int(v.q) if self.kind == "mpmath" else float(Fraction(int(v.p), int(v.q)))
        if self.kind == "mpmath":
            return self.c(sympy.Float(v.evalf(MP_DPS + 10), MP_DPS + 10))
        return float(v)

    def out(self, v: Any) -> Any:
        """A result: a 30-digit SymPy Float, or a Python float."""
        return sympy.Float(v, MP_DPS) if self.kind == "mpmath" else float(v)

    def finite(self, v: Any) -> bool:
        import math

        return math.isfinite(float(v)) if self.kind == "double" else bool(abs(v) < self.c(10) ** 308)


# --------------------------------------------------------------------------- --check


def _log_score(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"log_score": True} if kw["loss"] == "ce" else None


def _one_based(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"one_based": True} if kw["target"] is not None and kw["target"] >= 1 else None


def _include_correct(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"include_correct": True} if kw["loss"] == "hinge" else None


def _grad_p(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"grad_p": True} if kw["loss"] == "ce" else None


MISTAKES = (
    Mistake("took the log of the score instead of the probability (−log z_y, not −log p_y)", _log_score),
    Mistake("used a 1-based class index (class K − 1 of PyTorch's 0-based numbering)", _one_based),
    Mistake("summed the hinge over the correct class too (adds max(0, Δ) = Δ)", _include_correct),
    Mistake("took p as the gradient instead of p − y", _grad_p),
)
