"""attention: scaled dot-product attention, as torch.nn.functional.scaled_dot_product_attention.

One head, no batch; rows are positions::

    S = Q·Kᵀ                         (n × m: query i against key j)
    A = S·s,  s = 1/√d_k             (--scale s)
    A_ij = −∞ where masked           (--mask 0, or j > i with --causal)
    W_ij = e^(A_ij − m_i) / Σ_j' e^(A_ij' − m_i),  m_i = max_j A_ij   (row-wise softmax)
    O = W·V                          (n × d_v)

Arithmetic: exact SymPy while the score matrix has at most :data:`EXACT_MAX_SCORES`
entries and the vectors at most :data:`EXACT_MAX_DIM` components (also for symbolic inputs),
so e^(1/√2) stays exact and decimals are shown beside it; bigger numeric inputs run in
mpmath with 30 significant digits, or in IEEE double with correctly rounded sums beyond
5,000 multiply-adds (:class:`dlcalc.exercises.softmax.Numeric`), which the notes say.

One computation (:func:`_attend`) runs in either arithmetic (:class:`_Arith`); the exact path
writes every step of the working from its record, the numeric path the formulas and values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import sympy

from dlcalc.board import (Named, OAdd, Sigma, WrittenDifference, WrittenProduct, WrittenQuotient, eq, iverson, max_over,
                          ordered_product, spelled, step)
from dlcalc.core import Math, Mistake, Shown, Solution, Step
from dlcalc.core import is_symbolic as _symbolic, sympy_number as _sym
from dlcalc.errors import InputError
from dlcalc.exercises.softmax import Numeric, dot_shown, show, sum_shown, written
from dlcalc.registry import FLAG, Command, Option

COMMAND = Command(
    name="attention",
    summary="Scaled dot-product attention, causal or masked: QKᵀ/√d_k, row-wise softmax, weighted sum of V.",
    description="As torch.nn.functional.scaled_dot_product_attention for one head: rows of Q, K, V are "
                "positions; --mask 1 = attend, 0 = masked out.",
    example='dlcalc attention --Q "[[1, 0], [0, 1]]" --K "[[1, 0], [1, 1]]" --V "[[1, 2], [3, 4]]"',
    options=(
        Option("--Q", "Queries, n × d_k (one row per query position): \"[[1, 0], [0, 1]]\"."),
        Option("--K", "Keys, m × d_k (one row per key position)."),
        Option("--V", "Values, m × d_v (one row per key position)."),
        Option("--causal", "Causal mask: query i attends to keys j ≤ i (PyTorch's is_causal).",
               kind=FLAG, default=False),
        Option("--mask", "A 0/1 matrix n × m (or one row of m, for every query): 1 = attend, 0 = masked out."),
        Option("--scale", "The factor on QKᵀ (default 1/√d_k)."),
    ),
)

MAX_POSITIONS = 1_000          # rows of Q, K, V
MAX_SCORES = 10_000            # n · m
MAX_WORK = 200_000             # n · m · (d_k + d_v) multiply-adds
EXACT_MAX_SCORES = 25          # exact SymPy up to this many scores ...
EXACT_MAX_DIM = 6              # ... and d_k, d_v up to this
SYMBOLIC_MAX_SCORES = 16       # with any symbol: at most this many scores ...
SYMBOLIC_MAX_DIM = 4           # ... and components per row (the expressions grow with both)
SUBST_MAX_DIM = 6              # q_i·k_j written out term by term up to this d_k

S_IJ, A_IJ, M_I, U_IJ, E_IJ, Z_I, W_IJ = (sympy.Symbol(n, real=True) for n in
                                          ("S_ij", "A_ij", "m_i", "u_ij", "E_ij", "Z_i", "w_ij"))
SCALE, D_K = sympy.Symbol("s", real=True), sympy.Symbol("d_k", positive=True)
#: the formulas, written once
SCALE_DEFAULT = eq(SCALE, 1 / sympy.sqrt(D_K))
SCALE_LEFT_OUT = eq(SCALE, 1)
SCALED = eq(A_IJ, SCALE * S_IJ)
SCALE_GIVEN = eq(SCALE, Named("scale", "--scale", r"\text{scale}"))
#: S_ij = q_i·k_j = Σ_c Q_ic·K_jc (the dot product of two rows is one name: SymPy has no vector dot)
RAW_SCORE = eq(S_IJ, eq(Named("q_i.k_j", "qᵢ·kⱼ", r"q_i \cdot k_j"),
                        Sigma(ordered_product(*sympy.symbols("Q_ic K_jc", real=True)), "c")))
#: once for both paths
OUTPUT = eq(sympy.Symbol("o_ic", real=True), Sigma(ordered_product(W_IJ, sympy.Symbol("V_jc", real=True)), "j"))
_I, _J = sympy.symbols("i j")
#: which pairs take part: the causal triangle, the mask, or both
PAIRS = {(True, False): eq(sympy.Symbol("M_ij"), iverson(sympy.Le(_J, _I, evaluate=False))),
         (False, True): eq(sympy.Symbol("M_ij"), Named("mask_ij", "--maskᵢⱼ", r"\text{mask}_{ij}")),
         (True, True): eq(sympy.Symbol("M_ij"), ordered_product(Named("mask_ij", "--maskᵢⱼ", r"\text{mask}_{ij}"),
                                                               iverson(sympy.Le(_J, _I, evaluate=False))))}


@functools.lru_cache(maxsize=None)
def _softmax_formulas(ax: str, other: str) -> dict[str, sympy.Equality]:
    """The softmax's formulas along a row (``ax`` i, summed over ``other`` j) or, for the
    mistake, down a column (m_j, Σ_i); built on first use."""
    m, z = sympy.Symbol(f"m_{ax}", real=True), sympy.Symbol(f"Z_{ax}", real=True)
    shifted = OAdd(A_IJ, -m, evaluate=False)
    return {"max": eq(m, max_over(A_IJ, other)), "shift": eq(U_IJ, shifted),
            "exp": eq(E_IJ, sympy.exp(U_IJ)), "exp_unshifted": eq(E_IJ, sympy.exp(A_IJ)),
            "sum": eq(z, Sigma(E_IJ, other)), "weight": eq(W_IJ, E_IJ / z),
            "weight_at_once": eq(W_IJ, sympy.exp(shifted) / Sigma(sympy.exp(shifted), other))}


#: −∞, the score of a masked pair, as the working writes it: −∞ in text and LaTeX, ``-oo`` in
#: the exact JSON (SymPy reads it back as −∞), and −∞ when evaluated (doit, evalf)
MASKED = spelled(-sympy.oo, "−∞", r"-\infty")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of attention.

    Attributes:
        Q, K, V: the matrices as tuples of rows (SymPy values or Fractions).
        causal: query i attends to keys j ≤ i.
        mask: the 0/1 mask as n rows of m ints (1 = attend), or None.
        scale: the factor on QKᵀ, or None for 1/√d_k.
    """

    Q: tuple[tuple[Any, ...], ...]
    K: tuple[tuple[Any, ...], ...]
    V: tuple[tuple[Any, ...], ...]
    causal: bool = False
    mask: tuple[tuple[int, ...], ...] | None = None
    scale: Any = None


def parse(*, Q: str | None, K: str | None, V: str | None, causal: bool, mask: str | None,
          scale: str | None) -> Inputs:
    """The command line's strings -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_scalar, parse_value_fast

    mats = {}
    for name, text in (("--Q", Q), ("--K", K), ("--V", V)):
        if text is None:
            raise InputError(name, "is missing: attention needs --Q, --K and --V (rows are positions)")
        mats[name] = tuple(tuple(r) for r in parse_value_fast(text, name, kinds=("matrix",)))
    q, k, v = mats["--Q"], mats["--K"], mats["--V"]
    n, dk, m, dv = len(q), len(q[0]), len(k), len(v[0])
    if len(k[0]) != dk:
        raise InputError("--K", f"has rows of {len(k[0])} but --Q has rows of {dk}: queries and keys "
                                "share the dimension d_k (Q is n × d_k, K is m × d_k)")
    if len(v) != m:
        raise InputError("--V", f"has {len(v)} rows but --K has {m}: one value row per key position")
    for name, rows in (("--Q", n), ("--K", m)):
        if rows > MAX_POSITIONS:
            raise InputError(name, f"has {rows:,} rows; at most {MAX_POSITIONS:,}")
    if n * m > MAX_SCORES:
        raise InputError("--K", f"with --Q gives {n}×{m} = {n * m:,} scores; at most {MAX_SCORES:,}")
    if n * m * (dk + dv) > MAX_WORK:
        raise InputError("--V" if dv > dk else "--Q",
                         f"makes {n * m * (dk + dv):,} multiply-adds (n·m·(d_k + d_v)); at most {MAX_WORK:,}")
    mk = None
    if mask is not None:
        raw = parse_value_fast(mask, "--mask", kinds=("vector", "matrix"))
        rows = [raw] if not isinstance(raw[0], list) else raw
        if len(rows) == 1 and n > 1:
            rows = rows * n  # one row for every query (a key padding mask)
        if len(rows) != n or len(rows[0]) != m:
            raise InputError("--mask", f"is {len(rows)}×{len(rows[0])}, but the scores are n × m = {n}×{m} "
                                       "(queries × keys); give an n × m matrix or one row of m")
        out = []
        for r in rows:
            row = []
            for e in r:
                e = _sym(e)
                if e not in (0, 1):
                    raise InputError("--mask", f"has the entry {sympy.sstr(e)[:20]}; entries are 0 (masked out) "
                                               "or 1 (attend)")
                row.append(int(e))
            out.append(tuple(row))
        mk = tuple(out)
    sc = parse_scalar(scale, "--scale") if scale is not None else None
    return Inputs(q, k, v, bool(causal), mk, sc)


def allowed(inp: Inputs) -> list[list[bool]]:
    """Which (query, key) pairs take part: the mask and the causal triangle together."""
    n, m = len(inp.Q), len(inp.K)
    keep = [[True] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            if inp.causal and j > i:
                keep[i][j] = False
            if inp.mask is not None and not inp.mask[i][j]:
                keep[i][j] = False
    return keep


def _fully_masked(keep: list[list[bool]], inp: Inputs, columns: bool) -> None:
    lines = range(len(keep[0])) if columns else range(len(keep))
    for a in lines:
        cells = [row[a] for row in keep] if columns else keep[a]
        if not any(cells):
            what = f"column {a} (key {a})" if columns else f"row {a} (query {a})"
            why = " together with --causal" if inp.causal and inp.mask is not None else ""
            raise InputError("--mask", f"masks out every entry of {what}{why}: a softmax over no entries is "
                                       "undefined (PyTorch gives that row zeros or NaN); let each query attend "
                                       "to at least one key")


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, no_scale: bool = False, column_softmax: bool = False) -> Solution:
    """The worked solution.  The flags are the mistakes of ``--check``: ``no_scale`` leaves
    out the 1/√d_k; ``column_softmax`` normalizes over the queries (down each column)."""
    n, m, dk, dv = len(inp.Q), len(inp.K), len(inp.Q[0]), len(inp.V[0])
    keep = allowed(inp)
    _fully_masked(keep, inp, columns=column_softmax)
    everything = [e for M in (inp.Q, inp.K, inp.V) for r in M for e in r] + [inp.scale]
    symbolic = any(_symbolic(e) for e in everything if e is not None)
    small = n * m <= EXACT_MAX_SCORES and dk <= EXACT_MAX_DIM and dv <= EXACT_MAX_DIM
    if symbolic and (n * m > SYMBOLIC_MAX_SCORES or max(dk, dv) > SYMBOLIC_MAX_DIM):
        raise InputError("--Q", f"is too large for symbolic work: at most {SYMBOLIC_MAX_SCORES} scores (n·m) and "
                                f"{SYMBOLIC_MAX_DIM} components per row when any input is a symbol")
    numeric = None if small else Numeric(n * m * (dk + dv))
    ar = _EXACT if numeric is None else _numeric(numeric)
    R = _attend(inp, keep, column_softmax, _scale(inp, no_scale, ar), ar)
    out = (lambda v: v) if numeric is None else numeric.out
    result = {"scores": [[out(R.A[i][j]) if keep[i][j] else None for j in range(m)] for i in range(n)],
              "weights": [[out(w) for w in r] for r in R.W], "output": [[out(o) for o in r] for r in R.O]}
    if numeric is None:
        steps = _score_steps(inp, R, no_scale) + _softmax_steps(R) + [_output_step(R)]
        notes: tuple[str, ...] = ()
    else:
        steps = _numeric_steps(inp, result, no_scale, column_softmax)
        notes = (f"numeric path for {n}×{m} scores with d_k = {dk}, d_v = {dv} (exact work up to "
                 f"{EXACT_MAX_SCORES} scores and {EXACT_MAX_DIM} components): {numeric.note}",)
    return Solution(command="attention", inputs=_inputs_shown(inp, small),
                    conventions=_conventions(inp, no_scale, column_softmax, not R.shifted), steps=tuple(steps),
                    result=result, notes=notes)


# --------------------------------------------------------------------------- the arithmetic


@dataclass(frozen=True)
class _Arith:
    """The arithmetic one attention is computed in: exact SymPy, or the numeric path's."""

    num: Callable[[Any], Any]       # a parsed value in this arithmetic
    dot: Callable[[Any, Any], Any]
    fsum: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]
    largest: Callable[[Any], Any]   # the largest of a line's unmasked scores
    finite: Callable[[Any], bool]
    exact: bool


def _add_products(a: Any, b: Any) -> Any:
    return sympy.Add(*[x * y for x, y in zip(a, b)])


def _sum(xs: Any) -> Any:
    return sympy.Add(*xs)


_EXACT = _Arith(_sym, _add_products, _sum, sympy.exp, sympy.sqrt, lambda vals: _argmax_value(vals),
                lambda v: True, True)


def _numeric(B: Numeric) -> _Arith:
    return _Arith(B.num, B.fdot, B.fsum, B.exp, B.sqrt, max, B.finite, False)


@dataclass(frozen=True)
class _Attended:
    """Every number of one attention (rows: queries; columns: keys); ``lines`` are the index
    pairs each softmax runs over (rows, or the mistake's columns)."""

    Q: list[Any]
    K: list[Any]
    V: list[Any]
    s: Any
    keep: list[list[bool]]
    columns: bool           # the mistake: a softmax down each column
    lines: list[list[tuple[int, int]]]
    S: list[Any]            # q_i·k_j
    A: list[Any]            # s·S
    shifted: bool           # whether each line's largest score is subtracted (not for symbolic scores)
    mx: list[Any]
    U: list[Any]            # A − m, or −∞ where masked
    E: list[Any]
    Z: list[Any]            # one per line
    W: list[Any]
    O: list[Any]


def _lines(n: int, m: int, columns: bool) -> list[list[tuple[int, int]]]:
    if columns:
        return [[(i, j) for i in range(n)] for j in range(m)]
    return [[(i, j) for j in range(m)] for i in range(n)]


def _scale(inp: Inputs, no_scale: bool, ar: _Arith) -> Any:
    if no_scale:
        return ar.num(1)
    if inp.scale is None:
        return 1 / ar.sqrt(ar.num(len(inp.Q[0])))
    return ar.num(inp.scale)


def _attend(inp: Inputs, keep: list[list[bool]], columns: bool, s: Any, ar: _Arith) -> _Attended:
    """Scores, the softmax over each row (the mistake: each column) and the output, in ``ar``'s arithmetic."""
    n, m, dv = len(inp.Q), len(inp.K), len(inp.V[0])
    lines = _lines(n, m, columns)
    Q, K, V = ([[ar.num(e) for e in r] for r in M] for M in (inp.Q, inp.K, inp.V))
    S = [[ar.dot(Q[i], K[j]) for j in range(m)] for i in range(n)]
    A = [[S[i][j] * s for j in range(m)] for i in range(n)]
    if not all(ar.finite(a) for r in A for a in r):
        raise InputError("--Q", "gives scores beyond the range of double precision; use smaller numbers")
    shifted = not ar.exact or all(A[i][j].is_number for i in range(n) for j in range(m) if keep[i][j])
    mx = [ar.largest([A[i][j] for i, j in line if keep[i][j]]) for line in lines] if shifted else []
    zero = ar.num(0)
    U: list[list[Any]] = [[MASKED] * m for _ in range(n)]
    E: list[list[Any]] = [[zero] * m for _ in range(n)]
    for a, line in enumerate(lines):
        for i, j in line:
            if keep[i][j]:
                U[i][j] = A[i][j] - mx[a] if shifted else A[i][j]
                E[i][j] = ar.exp(U[i][j])
    Z = [ar.fsum([E[i][j] for i, j in line]) for line in lines]
    W: list[list[Any]] = [[zero] * m for _ in range(n)]
    for a, line in enumerate(lines):
        for i, j in line:
            W[i][j] = E[i][j] / Z[a]
    if ar.exact and not columns:  # one fraction per entry, (Σ_j E_ij·V_jc)/Z_i: the same value, a shorter exact form
        O = [[ar.dot(E[i], [V[j][c] for j in range(m)]) / Z[i] for c in range(dv)] for i in range(n)]
    else:
        O = [[ar.dot(W[i], [V[j][c] for j in range(m)]) for c in range(dv)] for i in range(n)]
    return _Attended(Q, K, V, s, keep, columns, lines, S, A, shifted, mx, U, E, Z, W, O)


# --------------------------------------------------------------------------- the working


def _conventions(inp: Inputs, no_scale: bool, column_softmax: bool, symbolic: bool) -> dict[str, str]:
    conv = {
        "shapes": "Q is n × d_k, K is m × d_k, V is m × d_v: rows are positions, one head and no batch "
                  "(the last two dimensions of torch.nn.functional.scaled_dot_product_attention)",
        "scale": ("scores = Q·Kᵀ·s with s = 1/√d_k, PyTorch's default" if inp.scale is None else
                  "scores = Q·Kᵀ·s with s = --scale") + ("; the mistake leaves s out" if no_scale else ""),
    }
    if inp.causal or inp.mask is not None:
        parts = []
        if inp.mask is not None:
            parts.append("--mask: 1 = attend, 0 = masked out (PyTorch's boolean attn_mask: True takes part)")
        if inp.causal:
            parts.append("--causal: query i attends to keys j ≤ i (PyTorch's is_causal, the lower triangle "
                         "from the top-left corner, also when n ≠ m)")
        if inp.causal and inp.mask is not None:
            parts.append("both: a pair takes part only if both allow it (PyTorch refuses the two together)")
        conv["mask"] = "; ".join(parts) + ("; masked scores are −∞ before the softmax, so their weights are 0, "
                                           "and null in the scores result")
        conv["fully masked"] = ("a query with every key masked out is refused with an error naming --mask "
                                "(a softmax over nothing is undefined; PyTorch 2.13 gives that row zeros, "
                                "older versions NaN)")
    conv["softmax"] = ("row-wise, over the keys j for each query i" if not column_softmax else
                       "column-wise, over the queries i for each key j (the mistake)") + (
        ", with the row's largest score subtracted first (the same value, no overflow)" if not symbolic else
        "; symbolic scores: no maximum is subtracted")
    conv["output"] = "output = weights·V: each query's output is the weighted average of the value rows"
    return conv


def _inputs_shown(inp: Inputs, small: bool) -> dict[str, Any]:
    def mat(M: Any, name: str) -> Any:
        return [[_sym(e) for e in r] for r in M] if small else f"{len(M)}×{len(M[0])} matrix"

    out: dict[str, Any] = {"Q": mat(inp.Q, "Q"), "K": mat(inp.K, "K"), "V": mat(inp.V, "V")}
    if inp.causal:
        out["causal"] = True
    if inp.mask is not None:
        out["mask"] = [[sympy.Integer(e) for e in r] for r in inp.mask] if small else f"{len(inp.mask)}×{len(inp.mask[0])} mask"
    if inp.scale is not None:
        out["scale"] = _sym(inp.scale)
    return out


def _argmax_value(values: list[Any]) -> Any:
    best = None
    for v in values:
        nv = v if v.is_Rational else sympy.N(v, 40)
        if best is None or bool(nv > best[0]):
            best = (nv, v)
    return best[1]


def _score_steps(inp: Inputs, R: _Attended, no_scale: bool) -> list[Step]:
    """Raw scores, the scale, the scaled scores and (with a mask) which pairs take part."""
    n, m, dk = len(R.Q), len(R.K), len(R.Q[0])
    sec = "scores"
    steps = [Step(
        title="raw scores Q·Kᵀ (query i against key j)", section=sec,
        formula=RAW_SCORE,
        substituted=[[dot_shown(R.Q[i], R.K[j]) for j in range(m)] for i in range(n)] if dk <= SUBST_MAX_DIM else None,
        value=R.S)]
    if no_scale:
        steps.append(step("scale left out (the mistake)", SCALE_LEFT_OUT, section=sec))
    elif inp.scale is None:
        steps.append(step("scale factor", SCALE_DEFAULT, {D_K: dk}, value=R.s, section=sec,
                          note="the dot product of two vectors of d_k unit-variance components has variance "
                               "d_k; 1/√d_k brings the scores back to variance 1 before the softmax"))
    else:
        steps.append(Step(title="scale factor (--scale)", section=sec, formula=SCALE_GIVEN,
                          value=R.s))
    steps.append(Step(title="scaled scores", section=sec, formula=SCALED,
                      substituted=[[written(WrittenProduct, R.s, R.S[i][j]) for j in range(m)] for i in range(n)],
                      value=R.A))
    if any(not c for r in R.keep for c in r):
        steps += _mask_steps(inp, R)
    return steps


def _mask_steps(inp: Inputs, R: _Attended) -> list[Step]:
    """The pairs that take part, and the masked scores set to −∞."""
    n, m = len(R.Q), len(R.K)
    keep = R.keep
    return [Step(
        title="which pairs take part (1 = attend, 0 = masked out)", section="scores",
        formula=PAIRS[inp.causal, inp.mask is not None],
        value=[[sympy.Integer(int(c)) for c in r] for r in keep]), Step(
        title="masked scores", section="scores",
        formula=Math("A_ij = −∞ where M_ij = 0", r"A_{ij} = -\infty \text{ where } M_{ij} = 0"),
        value=[[R.A[i][j] if keep[i][j] else MASKED for j in range(m)] for i in range(n)],
        note="e^(−∞) = 0: a masked key gets weight 0")]


def _softmax_steps(R: _Attended) -> list[Step]:
    """The softmax over each row (the mistake: each column): shift, exponentials, normalizer, weights."""
    n, m, columns = len(R.Q), len(R.K), R.columns
    ax, other = ("i", "j") if not columns else ("j", "i")
    line = "row" if not columns else "column"
    sec = "row-wise softmax (over the keys j)" if not columns else \
        "column-wise softmax (over the queries i: the mistake)"
    steps = []
    f = _softmax_formulas(ax, other)
    if R.shifted:
        sub: list[list[Any]] = [[MASKED] * m for _ in range(n)]
        for a, cells in enumerate(R.lines):
            for i, j in cells:
                if R.keep[i][j]:
                    sub[i][j] = written(WrittenDifference, R.A[i][j], R.mx[a])
        steps += [Step(title=f"largest score of each {line}", section=sec,
                       formula=f["max"],
                       value=R.mx, note="subtracted before the exponentials: the same weights, no overflow"),
                  Step(title="shifted scores", section=sec,
                       formula=f["shift"], substituted=sub,
                       value=R.U)]
    steps.append(Step(title="exponentials", section=sec,
                      formula=f["exp" if R.shifted else "exp_unshifted"],
                      substituted=[[sympy.exp(Shown(show(R.U[i][j])), evaluate=False) if R.keep[i][j] else
                                    sympy.Integer(0) for j in range(m)] for i in range(n)],
                      value=R.E, note="" if R.shifted else "symbolic scores: no maximum is subtracted"))
    steps.append(Step(title=f"normalizer of each {line}", section=sec,
                      formula=f["sum"],
                      substituted=[sum_shown([R.E[i][j] for i, j in cells]) for cells in R.lines], value=R.Z))
    sub = [[None] * m for _ in range(n)]
    for a, cells in enumerate(R.lines):
        for i, j in cells:
            sub[i][j] = written(WrittenQuotient, R.E[i][j], R.Z[a])
    steps.append(Step(title="attention weights", section=sec,
                      formula=f["weight"],
                      substituted=sub, value=R.W,
                      note=f"each {line} sums to 1" + ("" if not columns else ": the rows do not")))
    return steps


def _output_step(R: _Attended) -> Step:
    n, m, dv = len(R.Q), len(R.K), len(R.V[0])
    return Step(
        title="output = weights·V (weighted average of the value rows)", section="output", formula=OUTPUT,
        substituted=[[dot_shown(R.W[i], [R.V[j][c] for j in range(m)]) for c in range(dv)]
                     for i in range(n)] if m <= SUBST_MAX_DIM else None,
        value=R.O)


def _numeric_steps(inp: Inputs, result: dict[str, Any], no_scale: bool, columns: bool) -> list[Step]:
    """The numeric path's working: the formulas and their values (no numbers written in)."""
    ax, other = ("i", "j") if not columns else ("j", "i")
    sec = "row-wise softmax (over the keys j)" if not columns else \
        "column-wise softmax (over the queries i: the mistake)"
    scores = [[MASKED if a is None else a for a in r] for r in result["scores"]]
    return [
        Step(title="scaled scores", section="scores",
             formula=Math("A_ij = s·q_i·k_j, s = " + ("1 (the mistake)" if no_scale else
                                                       "1/√d_k" if inp.scale is None else "--scale"),
                          r"A_{ij} = s\, q_i \cdot k_j"), value=scores),
        Step(title="attention weights", section=sec,
             formula=_softmax_formulas(ax, other)["weight_at_once"],
             value=result["weights"]),
        Step(title="output = weights·V", section="output", formula=OUTPUT, value=result["output"]),
    ]

# --------------------------------------------------------------------------- --check


def _no_scale(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"no_scale": True}


MISTAKES = (
    Mistake("forgot the scaling by 1/√d_k", _no_scale),
    Mistake("took the softmax over the wrong axis (down the columns, over the queries)", {"column_softmax": True}),
)
