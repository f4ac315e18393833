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
correctly rounded sums beyond, as the solution's notes say (see :class:`Numeric`).  Both paths
are one code path (:func:`_solve`) run with the arithmetic of :data:`EXACT` or of :class:`Numeric`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple, Sequence

import sympy

from dlcalc.board import (Named, OAdd, Sigma, Written, WrittenProduct, WrittenSum, eq, iverson, max_over,
                          ordered_product, sigmoid)
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_sympy, short_decimal, substitute
from dlcalc.core import is_symbolic as _symbolic, sympy_number as _sym
from dlcalc.errors import InputError
from dlcalc.exercises._stepping import maximum
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
S_Y, L_J, X_I = (sympy.Symbol(n, real=True) for n in ("s_y", "l_j", "x_i"))
T_K = sympy.Symbol("t_k", real=True)
P_Y, U_Y = sympy.Symbol("p_y", real=True), sympy.Symbol("u_y", real=True)
Z_0, Z_1, P_0 = (sympy.Symbol(n, real=True) for n in ("z_0", "z_1", "p_0"))
S_0, S_1 = sympy.Symbol("s_0", real=True), sympy.Symbol("s_1", real=True)
B_D, B_0, B_1 = (sympy.Symbol(n, real=True) for n in ("b_d", "b_0", "b_1"))
W_0I, W_1I = (sympy.Symbol(n, real=True) for n in ("W_0i", "W_1i"))
WD_I = Named("wd_i", "(w₀ - w₁)ᵢ", r"(w_0 - w_1)_i")


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
    from dlcalc.parse import parse_scalar

    kind = (loss or "ce").strip().lower()
    if kind not in LOSSES:
        raise InputError("--loss", f"must be ce or hinge, got {(loss or '').strip()[:30]!r}")
    scores, Wm, bv, xv = _parse_scores(z, W, b, x)
    n = len(scores) if scores is not None else len(Wm)
    if n < 2:
        raise InputError("--z" if z is not None else "--W",
                         f"has {n} class; a classifier needs at least 2")
    if n > MAX_CLASSES:
        raise InputError("--z" if z is not None else "--W", f"has {n:,} classes; at most {MAX_CLASSES:,}")
    tgt, tv = _parse_target(target, t, n, kind)
    if margin is not None and kind != "hinge":
        raise InputError("--margin", "applies to --loss hinge only")
    delta = parse_scalar(margin, "--margin") if margin is not None else sympy.Integer(1)
    temp = parse_scalar(temperature or "1", "--temperature")
    if temp.is_number and not temp.is_positive:
        raise InputError("--temperature", f"must be > 0, got {temp}")
    return Inputs(scores, Wm, bv, xv, tgt, tv, kind, delta, temp)


def _entries(k: int) -> str:
    return f"{k} entr{'y' if k == 1 else 'ies'}"


def _parse_scores(z: str | None, W: str | None, b: str | None, x: str | None) -> tuple[Any, Any, Any, Any]:
    """The scores --z, or the classifier --W, --b, --x (b = 0 when left out)."""
    from dlcalc.parse import parse_value_fast

    if z is not None:
        for name, given in (("--W", W), ("--b", b), ("--x", x)):
            if given is not None:
                raise InputError(name, "cannot be combined with --z: give the scores --z, "
                                       "or the classifier --W, --b, --x")
        return tuple(parse_value_fast(z, "--z", kinds=("vector",))), None, None, None
    if W is None:
        if x is not None or b is not None:
            raise InputError("--W", "is missing: --b and --x go with the weights --W (z = W·x + b)")
        raise InputError("--z", "is missing: give the scores --z, or a linear classifier --W, --b, --x")
    if x is None:
        raise InputError("--x", "is missing: the classifier z = W·x + b needs the input --x")
    Wm = tuple(tuple(r) for r in parse_value_fast(W, "--W", kinds=("matrix",)))
    n, d = len(Wm), len(Wm[0])
    if n * d > MAX_WEIGHTS:
        raise InputError("--W", f"has {n * d:,} entries; at most {MAX_WEIGHTS:,}")
    xv = tuple(parse_value_fast(x, "--x", kinds=("vector",)))
    if len(xv) != d:
        raise InputError("--x", f"has {_entries(len(xv))} but --W has "
                                f"{d} column{'' if d == 1 else 's'} (features); W is classes × features")
    if b is None:
        return None, Wm, tuple(sympy.Integer(0) for _ in range(n)), xv
    bv = tuple(parse_value_fast(b, "--b", kinds=("vector",)))
    if len(bv) != n:
        raise InputError("--b", f"has {_entries(len(bv))} but --W has "
                                f"{n} row{'' if n == 1 else 's'} (classes); one bias per class")
    return None, Wm, bv, xv


def _parse_target(target: str | None, t: str | None, n: int, kind: str) -> tuple[int | None, Any]:
    """The class --target K (0-based) or the probability vector --t."""
    from dlcalc.parse import parse_int, parse_value_fast

    if target is not None and t is not None:
        raise InputError("--t", "cannot be combined with --target: give the class index or the probabilities")
    if target is None and t is None:
        raise InputError("--target", "is missing: give the correct class --target K (0-based, as PyTorch), "
                                     "or a probability vector --t")
    if target is not None:
        tgt = parse_int(target, "--target", lo=0, hi=10**9)
        if tgt >= n:
            raise InputError("--target", f"is {tgt}, but there are {n} classes, numbered 0 to {n - 1} "
                                         "(0-based, as PyTorch: the first class is 0)")
        return tgt, None
    if kind == "hinge":
        raise InputError("--t", "is a probability vector; the hinge loss needs the correct class --target K")
    tv = tuple(parse_value_fast(t, "--t", kinds=("vector",)))
    if len(tv) != n:
        raise InputError("--t", f"has {_entries(len(tv))} but there are {n} classes")
    _check_probabilities(tv)
    return None, tv


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
          section: str = "", substituted: bool = True, values: Sequence[Any] | None = None) -> Step:
    """One step over an index: the formula written once (``u_k = z_k − m``), then the numbers
    put in for each index (one dict of symbol -> value per entry), and the values (by
    default the right-hand side at each row; ``values`` when the caller has them: the
    hinge's margins are SymPy's Max, which the template's written max(0, ·) only shows)."""
    rhs = formula.rhs
    if values is None:
        values = [rhs.xreplace({s: as_sympy(v) for s, v in r.items()}) for r in rows]
    subs = [substitute(rhs, {s: show(v) for s, v in r.items()}) for r in rows] if substituted else None
    return Step(title=title, formula=formula, substituted=subs, value=list(values), note=note, section=section)


# --------------------------------------------------------------------------- written arithmetic
# A substituted line is numbers in the order a teacher writes them: the board's written
# nodes (dlcalc.board.WrittenSum, …), with every number shown as :func:`show` writes it.


def written(kind: type, *values: Any) -> Any:
    """The numbers ``values`` (shown as :func:`show` writes them) joined by ``kind``."""
    args = [v if isinstance(v, (Written, Shown)) else Shown(show(v)) for v in values]
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


# --------------------------------------------------------------------------- the formulas, written once

TEMPERED = eq(S_K, Z_K / T_SYM)
SHIFTED = {Z_K: eq(U_K, OAdd(Z_K, -M, evaluate=False)), S_K: eq(U_K, OAdd(S_K, -M, evaluate=False))}
EXPONENTIAL = eq(E_K, sympy.exp(U_K))
PROBABILITY = eq(P_K, E_K / Z_SUM)
CE_LOSS = eq(LOSS, -sympy.log(P_Y))
LOG_SCORE_LOSS = eq(LOSS, -sympy.log(S_Y))
LINEAR = eq(Z_K, OAdd(Sigma(ordered_product(sympy.Symbol("W_ki", real=True), X_I), "i"),
                     sympy.Symbol("b_k", real=True), evaluate=False))
NORMALIZER = eq(Z_SUM, Sigma(sympy.Symbol("E_j", real=True), "j"))
CE_PROBS = eq(LOSS, -Sigma(ordered_product(T_K, sympy.log(P_K)), "k"))
LOG_SCORE_PROBS = eq(LOSS, -Sigma(ordered_product(T_K, sympy.log(S_K)), "k"))
HINGE = {False: eq(LOSS, Sigma(L_J, "j≠y")), True: eq(LOSS, Sigma(L_J, "j"))}
# prose that SymPy cannot write (a derivation, statements joined by words)
_SUBGRADIENT = ("∂L/∂s_j = 1[s_j − s_y + Δ > 0] (j ≠ y),  ∂L/∂s_y = −Σ_{j≠y} 1[s_j − s_y + Δ > 0]",
                r"\frac{\partial L}{\partial s_j} = \mathbb{1}[s_j - s_y + \Delta > 0]\ (j \ne y),\ "
                r"\frac{\partial L}{\partial s_y} = -\sum_{j \ne y} \mathbb{1}[s_j - s_y + \Delta > 0]")
#: the subgradient, without and with the division by T
SUBGRADIENT = {t: Math(_SUBGRADIENT[0] + (",  g_k = (∂L/∂s_k)/T" if t else ""),
                       _SUBGRADIENT[1] + (r",\ g_k = \frac{1}{T}\frac{\partial L}{\partial s_k}" if t else ""))
               for t in (False, True)}
DERIVED = {
    "y": Math("∂L/∂s_k = ∂/∂s_k [log Σ_j e^(s_j) − s_y] = e^(s_k)/Σ_j e^(s_j) − [k = y] = p_k − y_k",
              r"\frac{\partial L}{\partial s_k} = \frac{\partial}{\partial s_k}"
              r"\Big[\log \sum_j e^{s_j} - s_y\Big] = \frac{e^{s_k}}{\sum_j e^{s_j}} - [k = y] = p_k - y_k"),
    "t": Math("∂L/∂s_k = ∂/∂s_k [(Σ_j t_j)·log Σ_j e^(s_j) − Σ_j t_j·s_j] = p_k − t_k",
              r"\frac{\partial L}{\partial s_k} = \frac{\partial}{\partial s_k}"
              r"\Big[\big(\textstyle\sum_j t_j\big) \log \sum_j e^{s_j} - \sum_j t_j s_j\Big] = p_k - t_k"),
}
ONE_HOT = eq(Y_K, iverson(sympy.Eq(sympy.Symbol("k"), sympy.Symbol("y"), evaluate=False)))
GRAD_W_WORKED = Math("∂L/∂W_ki = (∂L/∂z_k)·x_i, i.e. ∂L/∂W = (∂L/∂z)·xᵀ",
                     r"\frac{\partial L}{\partial W_{ki}} = \frac{\partial L}{\partial z_k} x_i,"
                     r"\ \frac{\partial L}{\partial W} = \frac{\partial L}{\partial z} x^\top")
#: ∂L/∂W = ∂L/∂z·xᵀ (the transpose of a named vector, which SymPy cannot spell)
GRAD_W = eq(Named("dLdW", "∂L/∂W", r"\frac{\partial L}{\partial W}"),
            ordered_product(Named("dLdz", "∂L/∂z", r"\frac{\partial L}{\partial z}"), Named("x^T", "xᵀ", r"x^\top")))
_DLDZ_K = Named("dLdz_k", "∂L/∂zₖ", r"\frac{\partial L}{\partial z_k}")
GRAD_B = eq(Named("dLdb_k", "∂L/∂bₖ", r"\frac{\partial L}{\partial b_k}"),
            eq(ordered_product(_DLDZ_K, Named("dzdb_k", "∂zₖ/∂bₖ", r"\frac{\partial z_k}{\partial b_k}")), _DLDZ_K))

def _named(n: str) -> dict[str, sympy.Equality]:
    """The formulas that name the scores: s (divided by T) or z."""
    score = sympy.Symbol(f"{n}_k", real=True)
    return {"max": eq(M, max_over(score, "k")),
            "argmax": eq(sympy.Symbol("yhat"), eq(max_over(P_K, "k", arg=True), max_over(score, "k", arg=True)))}


NAMED = {n: _named(n) for n in "sz"}


@functools.lru_cache(maxsize=None)
def _gradient(kind: str, tempered: bool) -> sympy.Equality:
    """g_k = p_k − y_k (kind "y"), p_k − t_k ("t") or p_k (the mistake, "p"), divided by T when
    the scores were; built on first use (a run needs one of the six)."""
    sub = {"p": 0, "y": Y_K, "t": T_K}[kind]
    return eq(G_K, (P_K - sub) / T_SYM if tempered else P_K - sub)


@functools.lru_cache(maxsize=None)
def _margin(n: str) -> sympy.Equality:
    """l_j = max(0, s_j − s_y + Δ) (or with z), in the order written; built on first use
    (most runs are cross-entropy)."""
    s_j, s_y = _jy(n)
    return eq(L_J, maximum(0, OAdd(s_j, -s_y, DELTA, evaluate=False)))


def _jy(n: str) -> tuple[sympy.Symbol, sympy.Symbol]:
    """The scores s_j, s_y (or z_j, z_y) of the margin's formula."""
    return sympy.Symbol(f"{n}_j", real=True), sympy.Symbol(f"{n}_y", real=True)


STABLE_NOTE = "softmax(s) = softmax(s − m) for any m; with m = max s every exponent is ≤ 0"


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
    if symbolic and (n > SYMBOLIC_MAX_CLASSES or n * d > SYMBOLIC_MAX_WEIGHTS):
        raise InputError("--W" if inp.W is not None else "--z",
                         f"is too large for symbolic work: at most {SYMBOLIC_MAX_CLASSES} classes and "
                         f"{SYMBOLIC_MAX_WEIGHTS} weights when any input is a symbol")
    ar = EXACT if n <= EXACT_MAX_CLASSES and n * d <= EXACT_MAX_WEIGHTS else Numeric(n * max(d, 1))
    return _solve(_Work(inp, ar, n, d, target, T, ar.num(T), log_score, one_based, include_correct, grad_p))


class _Work(NamedTuple):
    """One exercise in one arithmetic (:data:`EXACT` or :class:`Numeric`): the checked
    inputs, the class actually used and the mistake flags."""

    inp: Inputs
    ar: Any
    n: int
    d: int
    target: int | None
    T: Any          # the temperature, SymPy
    Tn: Any         # ... in the arithmetic
    log_score: bool
    one_based: bool
    include_correct: bool
    grad_p: bool

    @property
    def exact(self) -> bool:
        """Exact work: the steps show their substituted lines."""
        return self.ar.exact

    @property
    def sname(self) -> str:
        return "s" if self.T != 1 else "z"

    @property
    def s_k(self) -> Any:
        return S_K if self.T != 1 else Z_K

    def outs(self, values: Sequence[Any]) -> list[Any]:
        return [self.ar.out(v) for v in values]

    def each(self, title: str, formula: sympy.Equality, rows: Sequence[dict[Any, Any]], values: Sequence[Any],
             *, section: str, note: str = "") -> Step:
        """One step over the classes: worked with its substituted lines on the exact path
        (:func:`vstep`), the values alone on the numeric path."""
        if self.exact:
            return vstep(title, formula, rows, section=section, note=note, values=values)
        return Step(title=title, formula=formula, value=self.outs(values), note=note, section=section)


class _Soft(NamedTuple):
    """The softmax of the scores s: u = s − m, E = e^u, Z = Σ E, p = E/Z; ``pred`` is None
    for symbolic scores (then u = s)."""

    s: list[Any]
    u: list[Any]
    E: list[Any]
    Z: Any
    p: list[Any]
    pred: int | None


def _solve(w: _Work) -> Solution:
    """Scores, softmax, loss, gradients and prediction: one code path for both arithmetics."""
    z, s, lin, steps = _scores(w)
    soft, soft_steps = _softmax(w, s)
    steps += soft_steps
    loss, g, loss_steps = (_cross_entropy if w.inp.loss == "ce" else _hinge)(w, soft)
    steps += loss_steps
    result: dict[str, Any] = {"p": w.outs(soft.p), "loss": w.ar.out(loss), "grad_z": w.outs(g)}
    pred = None if soft.pred is None else soft.pred + (1 if w.one_based else 0)
    if lin is not None:
        steps += _weight_steps(w, g, lin[2], result)
    if w.n == 2 and w.exact:
        steps += _two_class_steps(z, w.T, lin)
    steps.append(Step(title="prediction (0-based class index)" + (", counted from 1" if w.one_based else ""),
                      section="prediction", formula=NAMED[w.sname]["argmax"],
                      value=None if pred is None else sympy.Integer(pred),
                      note="" if pred is not None else "symbolic scores: the largest one is not known"))
    result["prediction"] = pred
    if lin is not None:  # grad_W, grad_b after p, loss, grad_z, prediction
        result = {k: result[k] for k in ("p", "loss", "grad_z", "prediction", "grad_W", "grad_b")}
    if w.exact:
        notes = ("the scores are symbolic: the prediction is left open (null)",) if pred is None else ()
    else:
        size = f"{w.n} classes" + (f", {w.n}×{w.d} weights" if lin is not None else "")
        notes = (f"numeric path for {size} (exact work up to {EXACT_MAX_CLASSES} classes and {EXACT_MAX_WEIGHTS} "
                 f"weights): {w.ar.note}",)
    return Solution(command="softmax", inputs=_inputs_shown(w.inp, w.n, w.d, w.exact),
                    conventions=_conventions(w.inp, w.T, soft.pred is None), steps=tuple(steps), result=result,
                    notes=notes)


def _scores(w: _Work) -> tuple[list[Any], list[Any], tuple[Any, Any, Any] | None, list[Step]]:
    """z (given, or W·x + b) and s = z/T in the arithmetic, and (W, b, x) of a classifier."""
    inp, ar = w.inp, w.ar
    steps: list[Step] = []
    if inp.W is None:
        lin = None
        z = [ar.num(v) for v in inp.z]
    else:
        lin = ([[ar.num(v) for v in r] for r in inp.W], [ar.num(v) for v in inp.b], [ar.num(v) for v in inp.x])
        W, b, x = lin
        z = [ar.fdot(W[k], x) + b[k] for k in range(w.n)]
        worked = w.exact and w.d <= SUBST_MAX_FEATURES
        steps.append(Step(title="scores z = W·x + b, one per class", section="scores", formula=LINEAR,
                          substituted=[dot_shown(W[k], x, b[k]) for k in range(w.n)] if worked else None,
                          value=w.outs(z)))
    s = z
    if w.T != 1:
        s = [zk / w.Tn for zk in z]
        steps.append(w.each("scores divided by the temperature", TEMPERED, [{Z_K: zk, T_SYM: w.T} for zk in z], s,
                            section="scores"))
    for v in s:
        if ar.too_big(v):
            raise InputError("--W" if inp.W is not None else "--z", "gives a score beyond 1e300 in magnitude"
                             + (f" ({sympy.N(v, 6)})" if w.exact else "") + "; no float can hold the answer")
    return z, s, lin, steps


def _softmax(w: _Work, s: list[Any]) -> tuple[_Soft, list[Step]]:
    """p = softmax(s), with the largest score subtracted first (when the scores are numbers)."""
    ar, sec = w.ar, "softmax"
    steps: list[Step] = []
    pred = ar.argmax(s)
    if pred is not None:
        m = s[pred]
        steps.append(Step(title="largest score (subtracted for numerical stability)", section=sec,
                          formula=NAMED[w.sname]["max"], value=ar.out(m), note=STABLE_NOTE if w.exact else ""))
        u = [sk - m for sk in s]
        steps.append(w.each("shifted scores", SHIFTED[w.s_k], [{w.s_k: sk, M: m} for sk in s], u, section=sec))
        E = [ar.exp(uk) for uk in u]
        steps.append(w.each("exponentials", EXPONENTIAL, [{U_K: uk} for uk in u], E, section=sec))
    else:  # symbolic (exact only): the maximum is not known
        u = list(s)
        E = [ar.exp(uk) for uk in u]
        steps.append(vstep("exponentials", eq(E_K, sympy.exp(w.s_k)), [{w.s_k: sk} for sk in s], section=sec,
                           note="symbolic scores: the maximum is unknown, so it is not subtracted"))
    Z = ar.fsum(E)
    steps.append(Step(title="normalizer", section=sec, formula=NORMALIZER,
                      substituted=sum_shown(E) if w.exact else None, value=ar.out(Z)))
    p = [e / Z for e in E]
    steps.append(w.each("probabilities", PROBABILITY, [{E_K: e, Z_SUM: Z} for e in E], p, section=sec))
    return _Soft(s, u, E, Z, p, pred), steps


def _cross_entropy(w: _Work, sm: _Soft) -> tuple[Any, list[Any], list[Step]]:
    """L = −log p_y (or −Σ_k t_k·log p_k) as log Z − Σ_k y_k·u_k, and g = (p − y)/T."""
    ar, target = w.ar, w.target
    y = ([ar.c(1 if k == target else 0) for k in range(w.n)] if target is not None
         else [ar.num(v) for v in w.inp.t])
    if w.log_score:  # the mistake: the log of the score instead of the probability
        for yk, sk in zip(y, sm.s):
            if yk != 0 and ar.nonpositive(sk):
                raise InputError("--z", "has a score ≤ 0" + (" for the target" if target is not None or not w.exact
                                                             else "") + ": its log is undefined")
        loss = -ar.fsum([yk * ar.log(sk) for yk, sk in zip(y, sm.s) if yk != 0])
    else:
        loss = ar.log(sm.Z) * ar.fsum(y) - ar.fsum([yk * uk for yk, uk in zip(y, sm.u)])
    steps = [_ce_step(w, sm, y, loss)]
    if w.exact:
        steps += _derivation(w, y)
    g = [pk / w.Tn for pk in sm.p] if w.grad_p else [(pk - yk) / w.Tn for pk, yk in zip(sm.p, y)]
    tempered, sec = w.T != 1, "gradient"
    if w.grad_p:
        title, kind = "gradient taken as p (the mistake)", "p"
        rows = [{P_K: pk, T_SYM: w.T} for pk in sm.p]
    else:
        title = "gradient of the scores, g_k = ∂L/∂z_k" + (" = (∂L/∂s_k)·∂s_k/∂z_k" if tempered and w.exact else "")
        kind = "t" if target is None and w.exact else "y"  # (the numeric path names t y_k too)
        rows = [{P_K: pk, (T_K if kind == "t" else Y_K): yk, T_SYM: w.T} for pk, yk in zip(sm.p, y)]
    note = ("∂L/∂s_k = p_k − y_k (y one-hot, or t)" if not w.exact else
            "s_k = z_k/T, so the chain rule divides by T" if tempered and not w.grad_p else "")
    steps.append(w.each(title, _gradient(kind, tempered), rows, g, section=sec, note=note))
    return loss, g, steps


def _ce_step(w: _Work, sm: _Soft, y: list[Any], loss: Any) -> Step:
    """The step of the loss: worked with the numbers on the exact path."""
    target, sec = w.target, "loss"
    if w.log_score:
        title = "loss, with the log of the score (the mistake)"
        formula = LOG_SCORE_LOSS if target is not None else LOG_SCORE_PROBS
    else:
        title = "cross-entropy loss" + (f" (target class {target})" if target is not None else
                                        " with target probabilities")
        formula = CE_LOSS if target is not None else CE_PROBS
    if not w.exact:
        return Step(title=title, section=sec, formula=formula, value=w.ar.out(loss),
                    note="" if w.log_score else "computed as log Z − Σ_k y_k·u_k (log-sum-exp)")
    if w.log_score:
        sub = substitute(LOG_SCORE_LOSS.rhs, {S_Y: show(sm.s[target])}) if target is not None else None
        return Step(title=title, section=sec, formula=formula, substituted=sub, value=loss)
    if target is not None:
        uy = sm.u[target]
        return Step(title=title, section=sec, formula=formula, value=loss,
                    substituted=substitute(CE_LOSS.rhs, {P_Y: show(sm.p[target])}),
                    note=f"−log p_y = log Z − u_y (log-sum-exp), with u_y = {sympy.sstr(uy)}" if uy != sm.s[target]
                    else "−log p_y = log Z − z_y")
    sub = sympy.Mul(sympy.Integer(-1), sympy.Add(*[
        sympy.Mul(Shown(show(tk)), sympy.log(Shown(show(pk)), evaluate=False), evaluate=False)
        for tk, pk in zip(y, sm.p)], evaluate=False), evaluate=False)
    return Step(title=title, section=sec, formula=formula, substituted=sub, value=loss,
                note="−Σ_k t_k·log p_k = log Z − Σ_k t_k·u_k, as Σ_k t_k = 1")


def _derivation(w: _Work, y: list[Any]) -> list[Step]:
    """∂L/∂s = p − y derived (and the one-hot y), on the exact path's board."""
    sec = "gradient"
    if w.target is None:
        return [Step(title="∂L/∂s derived", section=sec, formula=DERIVED["t"],
                     note="L = −Σ_j t_j·log p_j = (Σ_j t_j)·log Σ_j e^(s_j) − Σ_j t_j·s_j, and Σ_j t_j = 1")]
    return [Step(title="∂L/∂s derived", section=sec, formula=DERIVED["y"],
                 note="L = −log p_y = log Σ_j e^(s_j) − s_y; y_k = 1 for the target class, 0 otherwise (one-hot)"),
            Step(title=f"one-hot target y (class {w.target})", section=sec, formula=ONE_HOT, value=y)]


def _hinge(w: _Work, sm: _Soft) -> tuple[Any, list[Any], list[Step]]:
    """L = Σ_{j≠y} max(0, s_j − s_y + Δ) and its subgradient, divided by T."""
    ar, s, target, exact = w.ar, sm.s, w.target, w.exact
    delta = ar.num(w.inp.margin)
    sy = s[target]
    js = [j for j in range(w.n) if w.include_correct or j != target]
    margins = [ar.relu(s[j] - sy + delta) for j in js]
    sec = "loss"
    which = (" (the correct class too: the mistake)" if w.include_correct else f" (every class but y = {target})")
    s_j, s_y = _jy(w.sname)
    steps = [w.each("margins" + (f", j = {', '.join(map(str, js))}" if exact else "") + which, _margin(w.sname),
                    [{s_j: s[j], s_y: sy, DELTA: delta} for j in js], margins, section=sec,
                    note=f"Δ = {sympy.sstr(delta)}; a class whose score is within Δ of the correct one's (or above "
                         "it) contributes" if exact else "")]
    loss = ar.fsum(margins)
    steps.append(Step(title="hinge loss", section=sec, formula=HINGE[w.include_correct],
                      substituted=sum_shown(margins) if exact else None, value=ar.out(loss),
                      note="CS231n's multiclass SVM loss: not divided by the number of classes "
                           "(torch.nn.functional.multi_margin_loss divides it)" if exact else ""))
    ind = [ar.indicator(s[j] - sy + delta) if j != target else ar.c(0) for j in range(w.n)]
    g = [v / w.Tn for v in ind]
    g[target] = -ar.fsum(ind) / w.Tn
    note = ("each positive margin adds 1 to its class and −1 to the correct class; a margin of exactly 0 "
            "counts 0" + ("; the j = y term max(0, Δ) is constant, so the mistake leaves the gradient as it is"
                          if w.include_correct else ""))
    steps.append(Step(title="subgradient of the scores, g_k = ∂L/∂z_k", section="gradient",
                      formula=SUBGRADIENT[w.T != 1], value=w.outs(g), note=note if exact else ""))
    return loss, g, steps


def _weight_steps(w: _Work, g: list[Any], x: list[Any], result: dict[str, Any]) -> list[Step]:
    """∂L/∂W = g·xᵀ and ∂L/∂b = g, into ``result``."""
    gW = [[w.ar.out(gk * xi) for xi in x] for gk in g]
    result["grad_W"] = gW
    result["grad_b"] = list(result["grad_z"])
    title, sec = "gradient of the weights", "gradient"
    if not w.exact:
        return [Step(title=title, section=sec, formula=GRAD_W, value=gW)]
    worked = w.d <= SUBST_MAX_FEATURES
    return [Step(title=title, section=sec, formula=GRAD_W_WORKED, value=gW,
                 substituted=[[written(WrittenProduct, gk, xi) for xi in x] for gk in g] if worked else None,
                 note="z_k = Σ_i W_ki·x_i + b_k, so ∂z_k/∂W_ki = x_i"),
            Step(title="gradient of the biases", section=sec, formula=GRAD_B, value=list(g))]


# --------------------------------------------------------------------------- two classes

TWO_CLASS_NOTE = ("p₀ = e^(z₀)/(e^(z₀) + e^(z₁)) = 1/(1 + e^(−(z₀ − z₁))) = σ(z₀ − z₁): the two-class softmax is "
                  "a sigmoid of the difference of the scores (classes 0 and 1; the course notes' "
                  "p₁ = σ(z₁ − z₂) counts from 1)")
ROW_DIFFERENCE = eq(WD_I, W_0I - W_1I)
BIAS_DIFFERENCE = eq(B_D, B_0 - B_1)


@functools.lru_cache(maxsize=None)
def _p0_of_scores(tempered: bool) -> sympy.Equality:
    """p₀ = σ(z₀ − z₁) (or σ((z₀ − z₁)/T)), built on first use: only two-class runs need it."""
    return eq(P_0, sigmoid((Z_0 - Z_1) / T_SYM if tempered else Z_0 - Z_1))




@functools.lru_cache(maxsize=None)
def _p0_of_linear(tempered: bool) -> sympy.Equality:
    """p₀ = σ(z₀ − z₁) = σ((w₀ − w₁)·x + (b₀ − b₁)) (over T when tempered): the scores'
    formula continued; the dot product of the row difference with x is one name."""
    arg = OAdd(Named("wdx", "(w₀ - w₁)·x", r"(w_0 - w_1) \cdot x"), OAdd(B_0, -B_1, evaluate=False), evaluate=False)
    of_scores = _p0_of_scores(tempered)
    return eq(P_0, eq(of_scores.rhs, sigmoid(ordered_product(arg, 1 / T_SYM) if tempered else arg)))


DECISION = {t: Math("p₀ ≥ ½ ⇔ z₀ − z₁ ≥ 0" + (" (T > 0)" if t else ""), r"p_0 \ge \tfrac{1}{2} \iff z_0 - z_1 \ge 0")
            for t in (False, True)}


def _two_class_steps(z: list[Any], T: Any, lin: tuple[Any, Any, Any] | None) -> list[Step]:
    """The two-class softmax as σ(z₀ − z₁), and the decision rule p₀ ≥ ½ (exact path)."""
    sec = "two classes: a sigmoid"
    if lin is not None:
        steps, arg = _sigmoid_of_linear(T, *lin)
    else:
        arg = (z[0] - z[1]) / T
        vals = {Z_0: show(z[0]), Z_1: show(z[1]), **({T_SYM: T} if T != 1 else {})}
        formula = _p0_of_scores(T != 1)
        steps = [Step(title="p₀ as a sigmoid", section=sec, formula=formula,
                      substituted=substitute(formula.rhs, vals), value=sigmoid(arg), note=TWO_CLASS_NOTE)]
    p0 = sigmoid(arg)
    half = sympy.Rational(1, 2)
    rule = sympy.Ge(p0, half)
    steps.append(Step(
        title="decision rule: predict class 0 when p₀ ≥ ½", section=sec, formula=DECISION[T != 1],
        substituted=sympy.Ge(Shown(show(p0)), Shown(half), evaluate=False) if p0.is_number else None,
        value=rule if not isinstance(rule, sympy.logic.boolalg.BooleanAtom) else bool(rule),
        note="σ(a) ≥ ½ exactly when a ≥ 0; otherwise predict class 1"))
    return steps


def _sigmoid_of_linear(T: Any, W: Any, b: Any, x: Any) -> tuple[list[Step], Any]:
    """p₀ = σ((w₀ − w₁)·x + (b₀ − b₁)) for a linear classifier, and the sigmoid's argument."""
    sec = "two classes: a sigmoid"
    worked = len(x) <= SUBST_MAX_FEATURES
    wd = [W[0][i] - W[1][i] for i in range(len(x))]
    bd = b[0] - b[1]
    rows = [{W_0I: W[0][i], W_1I: W[1][i]} for i in range(len(x))]
    steps = [vstep("difference of the weight rows", ROW_DIFFERENCE, rows, section=sec, substituted=worked),
             Step(title="difference of the biases", section=sec, formula=BIAS_DIFFERENCE,
                  substituted=substitute(BIAS_DIFFERENCE.rhs, {B_0: show(b[0]), B_1: show(b[1])}), value=bd)]
    arg = sympy.Add(*[a * c for a, c in zip(wd, x)]) + bd
    inner = dot_shown(wd, x, bd)
    if T != 1:
        inner = sympy.Mul(inner, sympy.Pow(Shown(T), -1, evaluate=False), evaluate=False)
        arg = arg / T
    steps.append(Step(title="p₀ as a sigmoid", section=sec, formula=_p0_of_linear(T != 1),
                      substituted=sigmoid(inner, evaluate=False) if worked else None,
                      value=sigmoid(arg), note=TWO_CLASS_NOTE))
    return steps, arg


# --------------------------------------------------------------------------- the arithmetic


class Exact:
    """The arithmetic of the exact path: SymPy values, with the methods of :class:`Numeric`
    (so that one code path serves both)."""

    kind = "exact"
    exact = True
    c = staticmethod(sympy.Integer)
    exp, log, sqrt = staticmethod(sympy.exp), staticmethod(sympy.log), staticmethod(sympy.sqrt)
    num = staticmethod(_sym)
    argmax = staticmethod(argmax)
    indicator = staticmethod(_positive)

    @staticmethod
    def fsum(values: Sequence[Any]) -> Any:
        return sympy.Add(*values)

    @staticmethod
    def fdot(a: Sequence[Any], b: Sequence[Any]) -> Any:
        return sympy.Add(*[u * v for u, v in zip(a, b)])

    @staticmethod
    def out(v: Any) -> Any:
        return v

    @staticmethod
    def relu(v: Any) -> Any:
        return sympy.Max(0, v)

    @staticmethod
    def nonpositive(v: Any) -> bool:
        return bool(v.is_number and not v.is_positive)

    @staticmethod
    def too_big(v: Any) -> bool:
        return bool(v.is_number and abs(sympy.N(v, 15)) > MAX_SCORE)


EXACT = Exact()


class Numeric:
    """The arithmetic of the numeric path: mpmath with :data:`MP_DPS` digits while the work
    (multiply-adds) stays under :data:`MPMATH_WORK`, IEEE double beyond (``math.fsum`` sums,
    stable formulas), so that the largest inputs allowed still answer in a second or two."""

    exact = False

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

    def too_big(self, v: Any) -> bool:
        return not self.finite(v) or abs(v) > MAX_SCORE

    def relu(self, v: Any) -> Any:
        return max(self.c(0), v)

    def indicator(self, v: Any) -> Any:
        return self.c(1 if v > 0 else 0)

    @staticmethod
    def nonpositive(v: Any) -> bool:
        return v <= 0

    @staticmethod
    def argmax(values: Sequence[Any]) -> int:
        """The first index of the largest value, as torch.argmax."""
        return max(range(len(values)), key=lambda k: (values[k], -k))


# --------------------------------------------------------------------------- inputs and conventions shown


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
