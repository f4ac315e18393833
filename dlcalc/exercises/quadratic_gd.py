"""quadratic-gd: gradient descent and Newton's method on f(w) = wᵀHw, through H = QΛQᵀ.

The exercise of the course notes: f(w) = wᵀHw (``half=True``: ½wᵀHw).  Only the symmetric
part S = sym(H) = (H + Hᵀ)/2 matters for f, so ∇f = (H + Hᵀ)w = 2Sw and the Hessian is
M = 2S (M = S with ``half``).  With S = QΛQᵀ, gradient descent w_t = (I − εM)w_{t−1} has the
closed form w_t = Q(I − εΛ_M)ᵗQᵀw₀: each eigendirection is multiplied by 1 − εμᵢ per step.

How each value is computed (``notes`` of the solution say which path was taken):

* eigenvalues: exact for a diagonal S, any 2×2 S (numbers or symbols), and a 3×3 S of
  rational numbers whose characteristic polynomial factors into pieces of degree ≤ 2;
  numeric otherwise (mpmath ``eigsy`` at ``DPS`` digits up to ``MP_EIGEN_MAX_N``; above that,
  up to ``MAX_N``, float64 ``eigsy`` for speed with the eigenvalues refined by the Rayleigh
  quotient in mpmath, results then to 15 digits).  Exact zero eigenvalues of a rational S
  are found exactly (its rank), so "flat" is never a rounding accident.
* w after t steps: exact rational iteration while the numbers stay below ``EXACT_BITS``
  bits; otherwise the closed form, never a loop, evaluated with mpmath at
  ``DPS + digits(t)`` digits and reported to ``REPORT_DIGITS`` significant digits, and
  components below the numerical noise of that evaluation are reported as 0.
  Symbolic inputs: the iteration expanded (t ≤ ``SYMBOLIC_ITER_MAX``) or the closed form
  with powers (1 − εμᵢ)ᵗ kept as powers.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Any, Optional

import sympy

from dlcalc.board import ceiling_of
from dlcalc.core import Mistake, Math, Solution, Step, as_kwargs, substitute
from dlcalc.errors import InputError
from dlcalc.registry import FLAG, Command, Option

COMMAND = Command(
    name="quadratic-gd",
    summary="Gradient descent and Newton on f(w) = wᵀHw via H = QΛQᵀ, with convergence analysis.",
    example='dlcalc quadratic-gd --H "[[2, 1], [1, 3]]" --w0 "[1, 1]" --lr 0.1 --steps 10',
    plot=True,
    conditional_keys={"newton_w": "needs --newton",
                      **{k: "exists only when sym(H) is positive definite (or has symbols)"
                         for k in ("lr_max", "lr_opt", "rate")}},
    options=(
        Option("--H", "Square matrix H of f(w) = wᵀHw: [[2,1],[1,3]] or \"2 1; 1 3\"; entries may be "
                      "symbols; up to 50x50. A non-symmetric H is replaced by (H + Hᵀ)/2.", required=True),
        Option("--w0", "Starting point w₀, a vector of length n.", required=True),
        Option("--lr", "Step size ε (a number or a symbol such as eps).", required=True),
        Option("--steps", "Gradient-descent steps, 0 to 1,000,000,000 (closed form, no loop), "
                          "or a symbol such as t.", default="1"),
        Option("--newton", "Also take one Newton step w₀ − M⁻¹∇f(w₀).", kind=FLAG, default=False),
        Option("--tol", "Error reduction for \"steps needed\" (0 < tol < 1).", default="1e-6"),
        Option("--half", "f(w) = ½wᵀHw instead of wᵀHw.", kind=FLAG, default=False),
    ),
)

MAX_N = 50                  # largest H (n × n)
MAX_STEPS = 10**9           # largest --steps (closed form: the cost does not grow with it)
SHOW_N = 6                  # matrices up to this size are written out in the working
DERIVE_N = 4                # ∇f and M derived symbolically with SymPy up to this size
EXACT_EIGEN_N = 3           # exact eigendecomposition of a non-diagonal S up to this size
MP_EIGEN_MAX_N = 20         # mpmath eigsy up to this size, float64 eigsy above
DPS = 30                    # working digits of the numeric path (plus the digits of t)
REPORT_DIGITS = 20          # significant digits of a numeric result
EXACT_BITS = 512            # exact rational results up to this size (numerator, denominator)
EXACT_WORK = 200_000        # exact iteration only while steps·n² stays below this
SYMBOLIC_ITER_MAX = 6       # symbolic inputs: iterate (expanded) up to this many steps
SHOW_ITERATES = 3           # each iterate w_1 … w_t is written out when t is at most this

MU_MIN, MU_MAX, KAPPA, TOL, RHO = sympy.symbols(
    "mu_min mu_max kappa tol rho", real=True)


# --------------------------------------------------------------------------- input checks


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of quadratic-gd.

    Attributes:
        H: the n × n matrix as rows (entries may be symbolic).
        w0: the starting point, n entries.
        lr: the step size ε.
        steps: a whole number of steps, or a symbol (closed form in t).
        newton: also take one Newton step.
        tol: the error reduction for "steps needed".
        half: f(w) = ½wᵀHw instead of wᵀHw.
    """

    H: Any
    w0: Any
    lr: Any
    steps: Any = 1
    newton: bool = False
    tol: Any = sympy.Rational(1, 10**6)
    half: bool = False


def parse(*, H: str, w0: str, lr: str, steps: str, newton: bool, tol: str, half: bool) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_matrix, parse_scalar, parse_vector

    return Inputs(parse_matrix(H, "--H"), parse_vector(w0, "--w0"), parse_scalar(lr, "--lr"),
                  steps=parse_steps(steps), newton=newton, tol=parse_scalar(tol, "--tol"), half=half)


def parse_steps(text: str) -> Any:
    """``--steps``: a whole number 0 … MAX_STEPS, or a single symbol (closed form in t)."""
    from dlcalc.parse import parse_scalar

    value = parse_scalar(text, "--steps")
    if isinstance(value, sympy.Symbol):
        return value
    if not value.is_number or not value.is_Integer:
        raise InputError("--steps", f"must be a whole number (or one symbol such as t), got {value}")
    n = int(value)
    if n < 0 or n > MAX_STEPS:
        raise InputError("--steps", f"must be between 0 and {MAX_STEPS:,}, got {n:,}")
    return n


def _check_inputs(H: list, w0: list, lr: Any, steps: Any, tol: Any) -> None:
    n, m = len(H), len(H[0]) if H else 0
    if n != m:
        raise InputError("--H", f"must be square, got {n}x{m}")
    if n > MAX_N:
        raise InputError("--H", f"must be at most {MAX_N}x{MAX_N}, got {n}x{n}")
    if len(w0) != n:
        raise InputError("--w0", f"must have {n} entries to match the {n}x{n} H, got {len(w0)}")
    for opt, v in [("--lr", lr), ("--tol", tol), *(("--H", x) for row in H for x in row),
                   *(("--w0", x) for x in w0)]:
        if not isinstance(v, sympy.Basic) or isinstance(v, (list, sympy.MatrixBase)):
            raise InputError(opt, "must hold numbers or symbols")
        if v.is_number and v.is_real is False:
            raise InputError(opt, f"must be real, got {v}")
    if isinstance(steps, int):
        if steps < 0 or steps > MAX_STEPS:
            raise InputError("--steps", f"must be between 0 and {MAX_STEPS:,}, got {steps:,}")
    elif not isinstance(steps, sympy.Symbol):
        raise InputError("--steps", "must be a whole number or one symbol")
    if tol.is_number and not (0 < tol < 1):
        raise InputError("--tol", f"must be between 0 and 1 (exclusive), got {tol}")


# --------------------------------------------------------------------------- small helpers


def _is_rat(x: Any) -> bool:
    return isinstance(x, sympy.Basic) and x.is_Rational is True


# Eigenvalues of a 2x2 H, and of a 3x3 whose characteristic polynomial factors over Q, are
# quadratic surds u + v·√p.  Comparing them through SymPy's relationals (evalf at rising
# precision) took ~0.3 ms each; with u, v, p as fractions the answer is exact and immediate.


def _surd(x: Any) -> Optional[tuple[Fraction, Fraction, Fraction]]:
    """(u, v, p) with x = u + v·√p, all rational and p > 0; None for anything else."""
    if isinstance(x, int):
        return Fraction(x), Fraction(0), Fraction(1)
    if not isinstance(x, sympy.Basic):
        return None
    if x.is_Rational:
        return Fraction(int(x.p), int(x.q)), Fraction(0), Fraction(1)
    if not isinstance(x, (sympy.Add, sympy.Mul, sympy.Pow)):
        return None
    u, rest = x.as_coeff_Add()
    v, root = rest.as_coeff_Mul()
    if (u.is_Rational and v.is_Rational and isinstance(root, sympy.Pow) and root.exp == sympy.S.Half
            and root.base.is_Rational and root.base > 0):
        return (Fraction(int(u.p), int(u.q)), Fraction(int(v.p), int(v.q)),
                Fraction(int(root.base.p), int(root.base.q)))
    return None


def _surd_sign(u: Fraction, v: Fraction, p: Fraction) -> int:
    """The sign of u + v·√p, exactly."""
    su, sv = (u > 0) - (u < 0), (v > 0) - (v < 0)
    if sv == 0 or su == sv:
        return su or sv
    if su == 0:
        return sv
    d = u * u - v * v * p  # u and v·√p have opposite signs: the larger one in size wins
    return su if d > 0 else sv if d < 0 else 0


def _compare(x: Any, y: Any) -> Optional[int]:
    """The sign of x − y when both are rationals or surds in the same √p, else None."""
    a, b = _surd(x), _surd(y)
    if a is None or b is None:
        return None
    if a[1] and b[1] and a[2] != b[2]:
        return None
    return _surd_sign(a[0] - b[0], a[1] - b[1], a[2] if a[1] else b[2])


def _less(x: Any, y: Any) -> bool:
    """x < y for real numbers: exactly for surds, else through SymPy; when SymPy cannot
    decide (two forms of one number, such as (π − 2)/(π + 2) and 1 − 4/(π + 2)), by a
    30-digit difference, with values that agree to 25 digits taken as equal."""
    c = _compare(x, y)
    if c is not None:
        return c < 0
    try:
        return bool(x < y)
    except TypeError:
        d = sympy.N(x - y, 30)
        return bool(d < 0) and abs(d) > sympy.Float(10) ** -25 * max(1, abs(sympy.N(x, 30)))


def _abs(x: Any) -> Any:
    """|x|: for a surd, x or −x by its exact sign (SymPy's Abs asks its assumptions, ~1 ms)."""
    fast = _surd(x)
    if fast is not None:
        return x if _surd_sign(*fast) >= 0 else -x
    return abs(x) if x.is_number else sympy.Abs(x)


def _sign(x: Any) -> Optional[int]:
    """-1, 0, 1, or None when it cannot be decided (a symbol)."""
    fast = _surd(x)
    if fast is not None:
        return _surd_sign(*fast)
    if x == 0 or x.is_zero:
        return 0
    if x.is_positive:
        return 1
    if x.is_negative:
        return -1
    return None


def _truth(rel: Any) -> Any:
    """A relational as a Python bool when it is decided, else the SymPy condition."""
    if rel is sympy.true or rel is True:
        return True
    if rel is sympy.false or rel is False:
        return False
    return rel


def _mpf(x: Any, mp: Any) -> Any:
    """A real SymPy number as an mpf at mp's precision."""
    if x.is_Rational:
        return mp.mpf(int(x.p)) / int(x.q)
    fast = _surd(x)
    if fast is not None:
        u, v, p = fast
        root = mp.sqrt(mp.mpf(p.numerator) / p.denominator)
        if (u > 0) == (v > 0) or u == 0:
            return mp.mpf(u.numerator) / u.denominator + mp.mpf(v.numerator) / v.denominator * root
        # opposite signs: (u² − v²p)/(u − v√p), with no cancellation in either part
        conj = mp.mpf(u.numerator) / u.denominator - mp.mpf(v.numerator) / v.denominator * root
        top = u * u - v * v * p
        return (mp.mpf(top.numerator) / top.denominator) / conj
    v = sympy.Float(x.evalf(mp.dps + 10), mp.dps + 10)
    return mp.make_mpf(v._mpf_)


def _float(v: Any, digits: int = REPORT_DIGITS) -> sympy.Float:
    """An mpf (or float) as a SymPy Float with ``digits`` significant digits."""
    return sympy.Float(v, digits) if not hasattr(v, "_mpf_") else sympy.Float(v._mpf_, digits)


def _inv(x: Any) -> Any:
    """1/x with the radical out of the denominator, cheaply, for x = u + v·√p (u, v, p rational).

    Anything else is left to SymPy's ``radsimp`` (numbers) or written as 1/x (symbols).
    """
    if x.is_Rational:
        return 1 / x
    if x.is_number:
        u, rest = x.as_coeff_Add()
        v, surd = rest.as_coeff_Mul()
        if (isinstance(surd, sympy.Pow) and surd.exp == sympy.Rational(1, 2) and surd.base.is_Rational):
            den = u**2 - v**2 * surd.base
            if den != 0:
                return sympy.expand((u - v * surd) / den)
        return sympy.radsimp(1 / x)
    return 1 / x


def _report_digits(n: int) -> int:
    """Significant digits of numeric results: fewer where the eigenvectors are float64."""
    return REPORT_DIGITS if n <= MP_EIGEN_MAX_N else 15


def _bits(r: sympy.Rational) -> int:
    return max(int(r.p).bit_length(), int(r.q).bit_length())


def _order(values: list[Any]) -> tuple[list[int], bool]:
    """Indices that sort ``values`` ascending, and whether the order is known (numbers)."""
    if all(v.is_number for v in values):
        keys = [float(sympy.N(v, 20)) if not isinstance(v, sympy.Float) else float(v) for v in values]
        return sorted(range(len(values)), key=lambda i: keys[i]), True
    return list(range(len(values))), False


def _ptext(x: Any) -> str:
    """Plain text of a value, in parentheses when it is a sum or negative."""
    from dlcalc import printing as P

    s_ = P.text(x)
    return f"({s_})" if isinstance(x, sympy.Add) or (x.is_number and x.is_negative) else s_


def _ptex(x: Any) -> str:
    from dlcalc import printing as P

    s_ = P.latex(x)
    return rf"\left({s_}\right)" if isinstance(x, sympy.Add) or (x.is_number and x.is_negative) else s_


# --------------------------------------------------------------------------- eigen


@dataclass(frozen=True)
class Eigen:
    """The eigendecomposition of S = sym(H).

    ``values`` ascending when ``ordered``; ``groups`` (exact only) pairs each distinct
    eigenvalue with its orthogonal projector P = Σ qqᵀ; ``Q`` the eigenvectors as columns
    (exact, symbolic or Float); ``mp`` the numeric (E, Q) in mpmath, when computed.
    """

    values: list[Any]
    exact: bool
    ordered: bool
    groups: list[tuple[Any, Any]] = field(default_factory=list)
    Q: Any = None
    method: str = ""
    diagonal: bool = False

    def __post_init__(self) -> None:
        # immutable all the way down: the exact one is cached per process and shared
        object.__setattr__(self, "values", tuple(self.values))
        object.__setattr__(self, "groups", tuple((lam, sympy.ImmutableMatrix(P)) for lam, P in self.groups))
        if isinstance(self.Q, sympy.MatrixBase):
            object.__setattr__(self, "Q", sympy.ImmutableMatrix(self.Q))


def _is_diagonal(S: sympy.Matrix) -> bool:
    n = S.rows
    return all(S[i, j] == 0 for i in range(n) for j in range(n) if i != j)


def _exact_eigen(S: sympy.Matrix) -> Optional[Eigen]:
    """Exact eigenvalues and projectors when that is small and fast, else None.

    Cached per process by S (``dlcalc batch`` often grades one H under many step sizes);
    an :class:`Eigen` is immutable, so every caller can share the cached one.
    """
    return _exact_eigen_of(sympy.ImmutableMatrix(S))


@functools.lru_cache(maxsize=64)
def _exact_eigen_of(S: sympy.ImmutableMatrix) -> Optional[Eigen]:
    n = S.rows
    numeric = all(x.is_number for x in S)
    rational = all(_is_rat(x) for x in S)
    if _is_diagonal(S):
        diag = [S[i, i] for i in range(n)]
        order, ordered = _order(diag)
        values = [diag[i] for i in order]
        groups: list[tuple[Any, Any]] = []
        Q = sympy.zeros(n, n)
        for col, i in enumerate(order):
            Q[i, col] = 1
        for lam in dict.fromkeys(values):
            P = sympy.zeros(n, n)
            for i in range(n):
                if diag[i] == lam:
                    P[i, i] = 1
            groups.append((lam, P))
        return Eigen(values, True, ordered, groups, Q, "exact (S is diagonal)", diagonal=True)
    if n == 2:
        a, b, c = S[0, 0], S[0, 1], S[1, 1]
        m = (a + c) / 2
        r = sympy.sqrt(sympy.expand((a - c) ** 2 + 4 * b**2)) / 2
        lo, hi = sympy.expand(m - r), sympy.expand(m + r)
        if numeric and r == 0:  # pragma: no cover - diagonal, handled above
            return None
        # P_lo = (hi·I − S)/(2r), P_hi = (S − lo·I)/(2r)
        inv2r = _inv(2 * r)
        P_lo = (hi * sympy.eye(2) - S).applyfunc(lambda e: sympy.expand(e * inv2r))
        P_hi = (sympy.eye(2) - P_lo).applyfunc(sympy.expand)
        groups = [(lo, P_lo), (hi, P_hi)]
        Q = _q_from_groups(groups, n, numeric) if numeric else None
        return Eigen([lo, hi], True, True, groups, Q,
                     "exact (2x2 [[a, b], [b, c]]: λ = (a + c ∓ √((a − c)² + 4b²))/2)")
    if n > EXACT_EIGEN_N or not rational:
        return None
    # rational 3x3: factor the characteristic polynomial over Q
    from sympy.polys.matrices import DomainMatrix

    x = sympy.Symbol("x")
    coeffs = DomainMatrix.from_Matrix(S).convert_to(sympy.QQ).charpoly()
    chi = sympy.Poly([sympy.QQ.to_sympy(c_) for c_ in coeffs], x, domain=sympy.QQ)
    _, factors = chi.factor_list()
    roots: list[Any] = []
    for p, _mult in factors:
        if p.degree() == 1:
            c1, c0 = p.all_coeffs()
            roots.append(-c0 / c1)
        elif p.degree() == 2:
            a2, a1, a0 = p.all_coeffs()
            disc = sympy.sqrt(a1**2 - 4 * a2 * a0)
            roots.extend([(-a1 - disc) / (2 * a2), (-a1 + disc) / (2 * a2)])
        else:
            return None
    distinct = list(dict.fromkeys(roots))
    order, _ = _order(distinct)
    distinct = [distinct[i] for i in order]
    groups = []
    eye = sympy.eye(n)
    for i, lam in enumerate(distinct):
        P = eye
        for j, other in enumerate(distinct):
            if j != i:
                P = (P * (S - other * eye) * _inv(lam - other)).applyfunc(sympy.expand)
        groups.append((lam, P))
    values = []
    for lam, P in groups:
        values.extend([lam] * int(round(float(sympy.N(P.trace())))))
    if len(values) != n:
        return None
    return Eigen(values, True, True, groups, _q_from_groups(groups, n, True),
                 "exact (characteristic polynomial factored over the rationals)")


def _q_from_groups(groups: list[tuple[Any, Any]], n: int, numeric: bool) -> Optional[sympy.Matrix]:
    """Orthonormal eigenvectors (columns) from the exact projectors P = Σ qqᵀ of numeric S.

    A rank-one P = qqᵀ gives q directly: |qᵢ| = √Pᵢᵢ, with the signs of column k of P
    (k = the largest diagonal entry, so qₖ > 0).  A larger eigenspace: Gram–Schmidt on P's
    columns (its eigenvalue is then rational for a rational S, so this stays exact).
    """
    def num(e: Any) -> float:
        return float(sympy.N(e, 20))

    cols = []
    for _lam, P in groups:
        rank = int(round(num(P.trace())))
        if rank == 1:
            k = max(range(n), key=lambda i: num(P[i, i]))
            q = sympy.Matrix([0 if P[i, k] == 0 else
                              (1 if num(P[i, k]) > 0 else -1) * sympy.sqrt(P[i, i]) for i in range(n)])
            cols.append(q)
            continue
        basis: list[sympy.Matrix] = []
        for k in range(n):
            v = P[:, k]
            for u in basis:
                v = (v - (u.T * v)[0] * u).applyfunc(lambda e: sympy.radsimp(sympy.expand(e)))
            norm2 = sympy.radsimp(sympy.expand((v.T * v)[0]))
            if norm2 == 0 or abs(num(norm2)) < 1e-20:
                continue
            basis.append((v / sympy.sqrt(norm2)).applyfunc(sympy.radsimp))
            if len(basis) == rank:
                break
        cols.extend(basis)
    if len(cols) != n:
        return None
    return sympy.Matrix.hstack(*cols)


def _numeric_eigen(S_mp: Any, mp: Any, n: int, nullity: Optional[int]) -> tuple[list[Any], Any, str]:
    """(ascending eigenvalues, Q) in mpmath; the ``nullity`` smallest |λ| set to exactly 0."""
    if n <= MP_EIGEN_MAX_N:
        E, Q = mp.eigsy(S_mp)
        how = f"numeric (mpmath eigsy, {mp.dps} digits)"
    else:
        from mpmath.ctx_fp import FPContext

        fp = FPContext()
        fp.hypot = math.hypot  # eigsy needs it; the float context lacks it
        Af = fp.matrix([[float(S_mp[i, j]) for j in range(n)] for i in range(n)])
        _Ef, Qf = fp.eigsy(Af)
        Q = mp.matrix([[mp.mpf(Qf[i, j]) for j in range(n)] for i in range(n)])
        # eigenvalues refined by the Rayleigh quotient qᵀSq/qᵀq in mpmath: error ~ (float64 error)²
        rows = [[S_mp[i, j] for j in range(n)] for i in range(n)]
        E = []
        for k in range(n):
            q = [Q[i, k] for i in range(n)]
            Sq = [mp.fdot(rows[i], q) for i in range(n)]
            E.append(mp.fdot(q, Sq) / mp.fdot(q, q))
        how = ("numeric (float64 eigsy, eigenvalues refined by the Rayleigh quotient in mpmath; "
               "about 15 significant digits)")
    idx = sorted(range(n), key=lambda i: E[i])
    values = [E[i] for i in idx]
    Qs = mp.matrix(n, n)
    for c, i in enumerate(idx):
        for r in range(n):
            Qs[r, c] = Q[r, i]
    if nullity is not None:
        zero = sorted(range(n), key=lambda i: abs(values[i]))[:nullity]
    else:
        scale = max([abs(v) for v in values] + [mp.mpf(1)])
        noise = scale * (mp.mpf(10) ** (-(mp.dps - 8)) if n <= MP_EIGEN_MAX_N else mp.mpf(1e-12))
        zero = [i for i in range(n) if abs(values[i]) <= noise]
    for i in zero:
        values[i] = mp.zero
    return values, Qs, how


# --------------------------------------------------------------------------- iteration


def _exact_iterate(A: sympy.Matrix, w0: list[Any], t: int) -> Optional[list[sympy.Rational]]:
    """A^t w0 in exact integer arithmetic, or None once the numbers grow past EXACT_BITS."""
    n = A.rows
    D = math.lcm(*[int(x.q) for x in A])
    An = [[int(A[i, j] * D) for j in range(n)] for i in range(n)]
    den = math.lcm(*[int(x.q) for x in w0])
    wn = [int(x * den) for x in w0]
    for _ in range(t):
        wn = [sum(An[i][j] * wn[j] for j in range(n) if An[i][j]) for i in range(n)]
        den *= D
        g = math.gcd(den, *wn)
        if g > 1:
            den //= g
            wn = [x // g for x in wn]
        if den.bit_length() > EXACT_BITS or max(abs(x) for x in wn).bit_length() > EXACT_BITS:
            return None
    return [sympy.Rational(x, den) for x in wn]


def _quad(S: sympy.Matrix, w: list[Any], c: Any) -> Any:
    n = len(w)
    total = sympy.Add(*[S[i, j] * w[i] * w[j] for i in range(n) for j in range(n) if S[i, j] != 0])
    return c * total


# --------------------------------------------------------------------------- the solver


def solve(inp: Inputs, *, symmetrize: bool = True, ascent: bool = False) -> Solution:
    """The worked solution (see :func:`work`); ``symmetrize=False`` and ``ascent`` (the
    update w + ε∇f) are mistakes for ``--check``."""
    if ascent:  # w + ε∇f is descent with the step −ε; the iteration's formula says so
        sol = work(**{**as_kwargs(inp), "lr": -inp.lr}, symmetrize=symmetrize)
        steps = tuple(dataclasses.replace(
            st, title="gradient-ascent step (the wrong sign)",
            formula=Math("w_t = w_{t−1} + ε∇f(w_{t−1}) = (I + εM)·w_{t−1}",
                         r"w_t = w_{t-1} + \epsilon \nabla f(w_{t-1}) = (I + \epsilon M)\, w_{t-1}"),
            note="value: I + εM") if st.title == "gradient-descent step" else st for st in sol.steps)
        return dataclasses.replace(sol, steps=steps)
    return work(**as_kwargs(inp), symmetrize=symmetrize)


def work(H: list[list[Any]], w0: list[Any], lr: Any, *, steps: Any = 1, newton: bool = False,
          tol: Any = sympy.Rational(1, 10**6), half: bool = False, symmetrize: bool = True) -> Solution:
    """Gradient descent (and one Newton step) on f(w) = wᵀHw, or ½wᵀHw with ``half``.

    ``symmetrize=False`` is a common mistake (∇f = 2Hw for a non-symmetric H), kept as a flag
    so that ``--check`` can recognise it: the iteration then uses M = 2H.
    """
    if not symmetrize:
        return _unsymmetrized(H, w0, lr, steps=steps, half=half)
    from dlcalc import printing as P

    _check_inputs(H, w0, lr, steps, tol)
    n = len(H)
    t = steps
    Hm = sympy.Matrix(H)
    w0v = list(w0)
    symmetric = all(sympy.expand(Hm[i, j] - Hm[j, i]) == 0 for i in range(n) for j in range(i + 1, n))
    S = Hm if symmetric else ((Hm + Hm.T) / 2).applyfunc(sympy.expand)
    s = sympy.Integer(1) if half else sympy.Integer(2)   # M = s·S
    c = sympy.Rational(1, 2) if half else sympy.Integer(1)  # f = c·wᵀSw
    M = (s * S).applyfunc(sympy.expand)
    H_numeric = all(x.is_number for x in S)
    H_rational = all(_is_rat(x) for x in S)
    lr_numeric = lr.is_number
    w_numeric = all(x.is_number for x in w0v)
    t_int = isinstance(t, int)
    steps_list: list[Step] = []
    notes: list[str] = []
    show = n <= SHOW_N

    # ---- objective, symmetric part, gradient, Hessian
    fname = "½wᵀHw" if half else "wᵀHw"
    fname_tex = r"\tfrac{1}{2} w^\top H w" if half else r"w^\top H w"
    ws = [sympy.Symbol(f"w_{i + 1}", real=True) for i in range(n)]
    derive = n <= DERIVE_N
    f_poly = sympy.expand(_quad(Hm, ws, c)) if derive else None
    steps_list.append(Step(
        title="objective", section="f, gradient and Hessian", formula=Math(f"f(w) = {fname}", rf"f(w) = {fname_tex}"),
        substituted=f_poly))
    if not symmetric:
        steps_list.append(Step(
            title="symmetric part of H", section="f, gradient and Hessian",
            formula=Math("sym(H) = (H + Hᵀ)/2", r"\operatorname{sym}(H) = \tfrac{1}{2}(H + H^\top)"),
            value=S if show else None,
            note="H is not symmetric: wᵀHw is a number, so wᵀHw = (wᵀHw)ᵀ = wᵀHᵀw and "
                 "f(w) = wᵀ·sym(H)·w; H is replaced by sym(H), which gives the same f"))
    grad = list(_derive(f_poly, tuple(ws), sympy.ImmutableMatrix(M))) if derive else None
    g_text = ("∇f(w) = ½(H + Hᵀ)w = sym(H)·w" if half else "∇f(w) = (H + Hᵀ)w = 2·sym(H)·w")
    g_tex = (r"\nabla f(w) = \tfrac{1}{2}(H + H^\top) w = \operatorname{sym}(H)\, w" if half
             else r"\nabla f(w) = (H + H^\top) w = 2 \operatorname{sym}(H)\, w")
    steps_list.append(Step(
        title="gradient (derived with SymPy)" if derive else "gradient", section="f, gradient and Hessian",
        formula=Math(g_text, g_tex), substituted=grad,
        note="" if symmetric else "for symmetric H this is 2Hw" if not half else "for symmetric H this is Hw"))
    m_text = "M = ∇²f = sym(H)" if half else "M = ∇²f = 2·sym(H)"
    m_tex = r"M = \nabla^2 f = \operatorname{sym}(H)" if half else r"M = \nabla^2 f = 2\operatorname{sym}(H)"
    steps_list.append(Step(title="Hessian", section="f, gradient and Hessian", formula=Math(m_text, m_tex), value=M if show else None,
                           note="" if show else f"M is {n}x{n}; not written out"))

    # ---- eigendecomposition
    from mpmath import mp

    work_dps = DPS + (len(str(t)) if t_int else 0)
    nullity = None
    if H_rational:
        nullity = _nullity(sympy.ImmutableMatrix(S))
    eig = _exact_eigen(S) if (H_numeric is False or n <= EXACT_EIGEN_N or _is_diagonal(S)) else None
    if eig is None and not H_numeric:
        raise InputError("--H", f"with symbols is supported when it is 2x2 or diagonal; this "
                                f"{n}x{n} H with symbols has no closed-form eigendecomposition here")
    mp_state = None  # (E, Q) numeric, in mpmath, at work_dps

    def numeric_state() -> tuple[list[Any], Any]:
        nonlocal mp_state
        if mp_state is None:
            with mp.workdps(work_dps):
                S_mp = mp.matrix([[_mpf(S[i, j], mp) for j in range(n)] for i in range(n)])
                E, Q, how = _numeric_eigen(S_mp, mp, n, nullity)
            mp_state = (E, Q, how)
        return mp_state[0], mp_state[1]

    if eig is None:
        E, Qmp = numeric_state()
        digits = _report_digits(n)
        values = [_float(v, digits) if v != 0 else sympy.Integer(0) for v in E]
        Qf = sympy.Matrix(n, n, lambda i, j: _float(Qmp[i, j], digits))
        eig = Eigen(values, False, True, [], Qf, mp_state[2])
        notes.append(f"eigendecomposition: {mp_state[2]}; reported to {digits} significant digits"
                     + (f"; the rank of sym(H), computed exactly, fixes {nullity} zero eigenvalue(s)"
                        if nullity else ""))
    lam = eig.values
    mu = [sympy.expand(s * v) for v in lam]
    steps_list.append(Step(
        title="eigenvalues of sym(H)", section="eigendecomposition",
        formula=Math("sym(H) = QΛQᵀ,  Λ = diag(λ₁, …, λₙ)",
                     r"\operatorname{sym}(H) = Q \Lambda Q^\top,\ \Lambda = \operatorname{diag}(\lambda_1, \dots, \lambda_n)"),
        value=lam, note=eig.method + ("" if eig.ordered else "; order not known for symbolic values")))
    if show and eig.Q is not None:
        steps_list.append(Step(title="eigenvectors (columns of Q, orthonormal)", section="eigendecomposition",
                               formula=Math("QᵀQ = I", r"Q^\top Q = I"), value=eig.Q))
    elif n == 2 and eig.Q is None:
        a_, b_ = S[0, 0], S[0, 1]
        steps_list.append(Step(
            title="eigenvectors (not normalized)", section="eigendecomposition",
            formula=Math("vᵢ = (b, λᵢ − a),  Q = [v₁/‖v₁‖, v₂/‖v₂‖]",
                         r"v_i = (b, \lambda_i - a),\ Q = [v_1/\lVert v_1\rVert, v_2/\lVert v_2\rVert]"),
            value=[[b_, sympy.expand(lam_ - a_)] for lam_ in eig.values],
            note="valid when b ≠ 0 (for b = 0, H is diagonal and Q = I)"))
    steps_list.append(Step(
        title="Hessian eigenvalues", section="eigendecomposition",
        formula=Math("μᵢ = λᵢ" if half else "μᵢ = 2λᵢ", r"\mu_i = \lambda_i" if half else r"\mu_i = 2\lambda_i"),
        value=mu))

    # ---- signs of the eigendirections
    signs = [_sign(m_) for m_ in mu]
    known = all(sg is not None for sg in signs)
    pd = known and all(sg == 1 for sg in signs)

    # ---- the iteration and its closed form
    eye = sympy.eye(n)
    A = (eye - lr * M).applyfunc(sympy.expand)
    steps_list.append(Step(
        title="gradient-descent step", section="gradient descent",
        formula=Math("w_t = w_{t−1} − ε∇f(w_{t−1}) = (I − εM)·w_{t−1}",
                     r"w_t = w_{t-1} - \epsilon \nabla f(w_{t-1}) = (I - \epsilon M)\, w_{t-1}"),
        value=A if show else None, note="value: I − εM" if show else ""))
    factors = [sympy.expand(1 - lr * m_) if lr.is_number else 1 - lr * m_ for m_ in mu]
    steps_list.append(Step(
        title="closed form through the eigendecomposition", section="gradient descent",
        formula=Math("w_t = (I − εM)ᵗ w₀ = Q(I − εΛ_M)ᵗQᵀw₀",
                     r"w_t = (I - \epsilon M)^t w_0 = Q (I - \epsilon \Lambda_M)^t Q^\top w_0"),
        value=factors, note="value: the factor 1 − εμᵢ that multiplies eigendirection i at each step"))

    # iterates written out for small t
    if t_int and 1 <= t <= SHOW_ITERATES and show:
        w = list(w0v)
        for k in range(1, t + 1):
            g = [sympy.expand(sum((M[i, j] * w[j] for j in range(n)), sympy.Integer(0))) for i in range(n)]
            w_new = [sympy.expand(w[i] - lr * g[i]) for i in range(n)]
            sub = Math(f"{P.text(w)} − {P.text(lr)}·{P.text(g)}",
                       rf"{P.latex(w)} - {P.latex(lr)} \cdot {P.latex(g)}")
            steps_list.append(Step(
                title=f"w_{k} = w_{k - 1} − ε∇f(w_{k - 1})", formula=None, substituted=sub, value=w_new,
                note=f"∇f(w_{k - 1}) = M·w_{k - 1} = {P.value_text(g)}", section="gradient descent"))
            w = w_new

    w_t, f_t, how_w = _final_w(S, s, c, A, w0v, lr, t, eig, numeric_state, H_numeric, H_rational,
                               lr_numeric, w_numeric, work_dps, mp, n)
    if how_w:
        notes.append(how_w)
    t_label = str(t) if t_int else P.text(t)
    steps_list.append(Step(
        title=f"w after t = {t_label} step" + ("" if t == 1 else "s"), section="gradient descent",
        formula=Math("w_t = Σᵢ (1 − εμᵢ)ᵗ qᵢ(qᵢᵀw₀)", r"w_t = \sum_i (1 - \epsilon\mu_i)^t\, q_i (q_i^\top w_0)"),
        value=w_t))
    steps_list.append(Step(
        title="f at that w", section="gradient descent", formula=Math(f"f(w_t) = {fname.replace('w', 'w_t')}",
                                          rf"f(w_t) = {fname_tex.replace('w', 'w_t')}"),
        value=f_t))

    # ---- contraction factors, convergence
    direction_notes = []
    for i, (m_, fac, sg) in enumerate(zip(mu, factors, signs)):
        absf = _abs(fac)
        what = _direction(sg, absf, lr, m_)
        direction_notes.append(what)
        if show:
            steps_list.append(Step(
                title=f"direction {i + 1}: contraction factor", section="eigendirections",
                formula=Math("|1 − εμᵢ|", r"\left|1 - \epsilon \mu_i\right|"),
                substituted=Math(f"|1 − {_ptext(lr)}·{_ptext(m_)}|",
                                 rf"\left|1 - {_ptex(lr)} \cdot {_ptex(m_)}\right|"),
                value=absf, note=what))
    if not show:
        steps_list.append(Step(
            title="contraction factors |1 − εμᵢ|", section="eigendirections",
            formula=Math("|1 − εμᵢ|", r"\left|1 - \epsilon \mu_i\right|"),
            value=[_abs(f_) for f_ in factors],
            note=_summary_of_directions(direction_notes)))

    converges = _converges(lr, mu, factors, signs, steps_list, eig.ordered)
    mu_min, mu_max = (mu[0], mu[-1]) if eig.ordered else (None, None)
    lr_max = lr_opt = rate = None
    if eig.ordered and (pd or not known):
        lr_max, lr_opt, kappa, rate = _optimal(mu_min, mu_max)
        cond = "" if pd else " (valid when sym(H) is positive definite, i.e. λ₁ > 0)"
        steps_list.append(Step(
            title="largest stable step" + cond, section="convergence",
            formula=Math("0 < ε < 2/μ_max", r"0 < \epsilon < 2/\mu_{\max}"),
            substituted=substitute(2 / MU_MAX, {MU_MAX: mu_max}), value=lr_max,
            note=_lr_note(lr, lr_max, converges)))
        steps_list.append(Step(
            title="best fixed step", section="convergence",
            formula=Math("ε* = 2/(μ_min + μ_max)", r"\epsilon^* = \frac{2}{\mu_{\min} + \mu_{\max}}"),
            substituted=substitute(2 / (MU_MIN + MU_MAX), {MU_MIN: mu_min, MU_MAX: mu_max}), value=lr_opt,
            note="it balances the slowest and the fastest direction: 1 − ε*μ_min = −(1 − ε*μ_max)"))
        steps_list.append(Step(
            title="condition number", section="convergence",
            formula=sympy.Eq(KAPPA, MU_MAX / MU_MIN, evaluate=False),
            substituted=substitute(MU_MAX / MU_MIN, {MU_MAX: mu_max, MU_MIN: mu_min}), value=kappa))
        steps_list.append(Step(
            title="rate with ε*", section="convergence",
            formula=sympy.Eq(RHO, (KAPPA - 1) / (KAPPA + 1), evaluate=False),
            substituted=substitute((KAPPA - 1) / (KAPPA + 1), {KAPPA: kappa}), value=rate,
            note="‖w_t − w*‖ ≤ ρᵗ‖w₀ − w*‖, w* = 0"))
        _steps_needed(steps_list, tol, factors, lr, rate)
    elif known and not pd:
        steps_list.append(Step(
            title="no step size converges", section="convergence",
            value=_kind_of_point(signs),
            note="sym(H) is not positive definite: for every ε > 0 some direction keeps or grows its "
                 "component, so lr_max, lr_opt and rate do not exist (left out of the result)"))
    elif not eig.ordered:
        steps_list.append(Step(
            title="convergence", section="convergence",
            formula=Math("0 < ε < 2/μ_max", r"0 < \epsilon < 2/\mu_{\max}"),
            note="the eigenvalue order is not known for these symbols, so μ_max, lr_max, lr_opt and "
                 "rate are left out; converges is the condition on each direction"))

    # ---- Newton
    result_newton = None
    if newton:
        result_newton = _newton(M, w0v, H_rational, H_numeric, nullity, eig, signs, steps_list, mp,
                                work_dps, n)

    # cost per step
    steps_list.append(Step(
        title="cost per step", section="gradient descent vs Newton",
        formula=Math("gradient step: M·w, O(n²);  Newton step: solve M·d = ∇f, O(n³)",
                     r"\text{gradient: } M w,\ O(n^2);\quad \text{Newton: solve } M d = \nabla f,\ O(n^3)"),
        substituted=Math(f"n² = {n * n},  n³ = {n ** 3}", rf"n^2 = {n * n},\ n^3 = {n ** 3}"),
        note="Newton needs one step for a quadratic (positive definite H) but each step costs an n×n "
             "solve (about n³/3 multiply-adds with a Cholesky or LU factorization); a gradient step "
             "costs one matrix-vector product (n² multiply-adds)"))

    result: dict[str, Any] = {"eigenvalues": lam, "hessian_eigenvalues": mu, "converges": converges}
    if lr_max is not None:
        result.update(lr_max=lr_max, lr_opt=lr_opt, rate=rate)
    result.update(w=w_t, f=f_t)
    if newton:
        result["newton_w"] = result_newton
    conventions = {
        "objective": ("f(w) = ½wᵀHw (--half): ∇f = sym(H)w, Hessian M = sym(H)" if half else
                      "f(w) = wᵀHw (as in the course notes): ∇f = (H + Hᵀ)w, Hessian M = 2·sym(H); "
                      "--half for ½wᵀHw"),
        "symmetrization": "a non-symmetric H is replaced by sym(H) = (H + Hᵀ)/2, which gives the same f",
        "update": "w_t = w_{t−1} − ε∇f(w_{t−1}) with ε = --lr, applied --steps times (closed form, no loop)",
        "eigenvalues": "eigenvalues of sym(H) (λ) and of the Hessian M (μ), ascending",
        "converges": "true when every contraction factor |1 − εμᵢ| < 1, so that w_t → w* = 0 from "
                     "every start; a condition on the symbols when ε or H is symbolic",
        "lr_max, lr_opt, rate": "2/μ_max, 2/(μ_min + μ_max), (κ − 1)/(κ + 1) with κ = μ_max/μ_min; "
                                "present only when sym(H) is positive definite (or symbolic: then valid under that condition)",
        "steps needed": "the smallest t with ρᵗ ≤ --tol, ρ = max |1 − εμᵢ| (the error ‖w_t − w*‖ "
                        "shrinks at least by ρ per step)",
        "bounds": f"--steps from 0 to {MAX_STEPS:,} (or one symbol); H up to {MAX_N}x{MAX_N}",
    }
    inputs: dict[str, Any] = {"H": Hm, "w0": w0v, "lr": lr, "steps": sympy.Integer(t) if t_int else t}
    if tol != sympy.Rational(1, 10**6):
        inputs["tol"] = tol
    if half:
        inputs["half"] = True
    if newton:
        inputs["newton"] = True
    return Solution(command="quadratic-gd", inputs=inputs, conventions=conventions,
                    steps=tuple(steps_list), result=result, notes=tuple(notes))


# --------------------------------------------------------------------------- pieces


# Work that depends on H alone is cached per process: ``dlcalc batch`` often grades one H
# under many step sizes.  Every cached value is an immutable SymPy object.


@functools.lru_cache(maxsize=64)
def _nullity(S: sympy.ImmutableMatrix) -> int:
    """The number of zero eigenvalues of a rational S, from its exact rank."""
    from sympy.polys.matrices import DomainMatrix

    return S.rows - DomainMatrix.from_Matrix(S).convert_to(sympy.QQ).rank()


@functools.lru_cache(maxsize=64)
def _derive(f_poly: Any, ws: tuple[Any, ...], M: sympy.ImmutableMatrix) -> tuple[Any, ...]:
    """∇f by SymPy's differentiation of the polynomial f, checked against M = ∇²f."""
    n = len(ws)
    f_p = sympy.Poly(f_poly, *ws)
    grad_p = [f_p.diff(wi) for wi in ws]
    if any(sympy.expand(grad_p[i].diff(ws[j]).as_expr() - M[i, j]) != 0 for i in range(n) for j in range(n)):
        raise AssertionError("Hessian derivation disagrees with 2·sym(H)")  # pragma: no cover
    return tuple(g_.as_expr() for g_ in grad_p)


def _optimal(mu_min: Any, mu_max: Any) -> tuple[Any, Any, Any, Any]:
    """lr_max = 2/μ_max, lr_opt = 2/(μ_min + μ_max), κ = μ_max/μ_min and the rate (κ − 1)/(κ + 1)."""
    if isinstance(mu_min, sympy.Float) or isinstance(mu_max, sympy.Float):
        return _optimal_of.__wrapped__(mu_min, mu_max)  # Floats equal in value may differ in precision
    return _optimal_of(mu_min, mu_max)


@functools.lru_cache(maxsize=64)
def _optimal_of(mu_min: Any, mu_max: Any) -> tuple[Any, Any, Any, Any]:
    return (_nice(2 * _inv(mu_max)), _nice(2 * _inv(mu_min + mu_max)), _nice(mu_max * _inv(mu_min)),
            _rate(mu_min, mu_max))


def _direction(sg: Optional[int], absf: Any, lr: Any, mu: Any) -> str:
    if sg is None:
        return "converges when |1 − εμᵢ| < 1"
    if sg == 0:
        return "flat direction (μ = 0): the gradient has no component here, so w keeps its " \
               "component along it; it does not converge to 0"
    if sg < 0:
        return "negative curvature (μ < 0): f is unbounded below along this direction and " \
               "gradient descent moves away, |1 − εμ| = 1 + ε|μ| > 1 for ε > 0"
    if absf.is_number:
        if _less(absf, 1):
            return "converges: the component shrinks by this factor each step"
        if absf == 1:
            return "does not converge: the component keeps its size (ε = 2/μᵢ or ε = 0)"
        return ("does not converge: ε ≥ 2/μᵢ, the component oscillates with growing amplitude"
                if lr.is_number and lr > 0 else "does not converge: ε ≤ 0 moves uphill")
    return "converges for 0 < ε < 2/μᵢ"


def _summary_of_directions(notes: list[str]) -> str:
    counts: dict[str, list[int]] = {}
    for i, note in enumerate(notes, 1):
        counts.setdefault(note.split(":")[0], []).append(i)
    return "; ".join(f"{k}: directions {', '.join(map(str, v[:12]))}{' …' if len(v) > 12 else ''}"
                     for k, v in counts.items())


def _kind_of_point(signs: list[Optional[int]]) -> str:
    pos = sum(1 for s_ in signs if s_ == 1)
    neg = sum(1 for s_ in signs if s_ == -1)
    zero = sum(1 for s_ in signs if s_ == 0)
    if neg and pos:
        return "w = 0 is a saddle point: f is unbounded below along the negative-curvature directions"
    if neg:
        return "w = 0 is a maximum" + (" (with flat directions)" if zero else "") + \
               ": f is unbounded below, gradient descent diverges"
    return "positive semidefinite: the minimizers form a subspace (the flat directions); " \
           "w_t keeps its flat components and does not converge to 0"


def _converges(lr: Any, mu: list[Any], factors: list[Any], signs: list[Optional[int]],
               steps_list: list[Step], ordered: bool) -> Any:
    if lr.is_number and all(f_.is_number for f_ in factors):
        return all(_less(_abs(f_), 1) for f_ in factors)
    if lr == 0:
        return False
    if ordered and lr.is_positive:
        cond = sympy.And(mu[0] > 0, mu[-1] < 2 / lr)
    elif ordered and lr.is_negative:
        cond = sympy.And(mu[-1] < 0, mu[0] > 2 / lr)
    else:
        cond = sympy.And(*[sympy.And(lr * m_ > 0, lr * m_ < 2) for m_ in mu])
    if isinstance(lr, sympy.Symbol) and all(m_.is_number for m_ in mu):
        if any(_sign(m_) != 1 for m_ in mu):
            solved = sympy.false
        else:
            solved = sympy.reduce_inequalities([lr * m_ > 0 for m_ in mu] + [lr * m_ < 2 for m_ in mu], lr)
            solved = solved.xreplace({r_: r_.func(_nice(r_.lhs) if r_.lhs.is_number else r_.lhs,
                                                  _nice(r_.rhs) if r_.rhs.is_number else r_.rhs)
                                      for r_ in solved.atoms(sympy.core.relational.Relational)})
        steps_list.append(Step(
            title="solve |1 − εμᵢ| < 1 for every i", section="convergence",
            formula=Math("−1 < 1 − εμᵢ < 1  ⇔  0 < εμᵢ < 2",
                         r"-1 < 1 - \epsilon\mu_i < 1 \iff 0 < \epsilon\mu_i < 2"),
            value=solved, note="solved for ε with SymPy (reduce_inequalities)"))
        return _truth(solved)
    return _truth(cond)


def _rate(mu_min: Any, mu_max: Any) -> Any:
    return _nice((mu_max - mu_min) * _inv(mu_max + mu_min))


def _nice(x: Any) -> Any:
    """A short form: radicals out of denominators for numbers, factored for symbols."""
    if isinstance(x, sympy.Float):
        return x
    if x.is_number:
        if any(isinstance(a, sympy.Float) for a in x.atoms(sympy.Number)):
            return sympy.Float(sympy.N(x, REPORT_DIGITS), REPORT_DIGITS)
        num, den = x.as_numer_denom()
        return sympy.expand(num * _inv(den))
    return sympy.factor(x)


def _lr_note(lr: Any, lr_max: Any, converges: Any) -> str:
    from dlcalc import printing as P

    if converges is True:
        return f"ε = {P.value_text(lr)} is inside the range: gradient descent converges"
    if converges is False:
        return f"ε = {P.value_text(lr)} is outside the range: gradient descent does not converge"
    return "converges exactly for the ε in this range"


@functools.lru_cache(maxsize=256)
def _needed(rho: Any, tol: Any) -> Any:
    """The smallest t ≥ 1 with ρᵗ ≤ tol (None when ρ ≥ 1); ln(tol)/ln ρ for symbols."""
    if not (rho.is_number and tol.is_number):
        return sympy.log(tol) / sympy.log(rho)
    if rho == 0:
        return sympy.Integer(1)
    if not _less(rho, 1):
        return None
    from mpmath import mp

    with mp.workdps(40):
        # ln ρ as log1p(ρ − 1) with ρ − 1 exact, so that ρ = 1 − 1e-300 still has a logarithm
        q = mp.log(_mpf(tol, mp)) / mp.log1p(_mpf(sympy.expand(rho - 1), mp))
        k = int(mp.ceil(q - abs(q) * mp.mpf(10) ** -30))
    return sympy.Integer(max(k, 1))


def _steps_needed(steps_list: list[Step], tol: Any, factors: list[Any], lr: Any, rate: Any) -> None:
    """Steps to shrink the error by tol, with the given ε and with ε*."""
    from dlcalc import printing as P

    formula = Math("smallest t with ρᵗ ≤ tol:  t = ⌈ln(tol)/ln ρ⌉", r"t = \lceil \ln(\mathrm{tol}) / \ln\rho \rceil")
    if lr.is_number and all(f_.is_number for f_ in factors):
        rho = functools.reduce(lambda a, b: b if _less(a, b) else a, [_abs(f_) for f_ in factors])
        k = _needed(rho, tol)
        steps_list.append(Step(
            title=f"steps to shrink the error by tol = {P.value_text(tol)}, with ε = {P.value_text(lr)}",
            section="convergence", formula=formula,
            substituted=ceiling_of(substitute(sympy.log(TOL) / sympy.log(RHO), {TOL: tol, RHO: rho})) if rho != 0 else None,
            value=k if k is not None else "never (ρ ≥ 1)",
            note="ρ = max |1 − εμᵢ| for the given ε"))
    k = _needed(rate, tol)
    steps_list.append(Step(
        title=f"steps to shrink the error by tol = {P.value_text(tol)}, with ε*",
        section="convergence", formula=formula,
        substituted=ceiling_of(substitute(sympy.log(TOL) / sympy.log(RHO), {TOL: tol, RHO: rate})) if rate != 0 else None,
        value=k if k is not None else "never", note="ρ = (κ − 1)/(κ + 1)"))


def _final_w(S, s, c, A, w0, lr, t, eig, numeric_state, H_numeric, H_rational, lr_numeric, w_numeric,
             work_dps, mp, n) -> tuple[list[Any], Any, str]:
    """w and f after t steps, and a note on how they were computed ("" when exact and plain)."""
    t_int = isinstance(t, int)
    all_numeric = H_numeric and lr_numeric and t_int
    if all_numeric:
        if H_rational and _is_rat(lr) and w_numeric and all(_is_rat(x) for x in w0) and t * n * n <= EXACT_WORK:
            w = _exact_iterate(A, w0, t)
            if w is not None:
                return w, _quad(S, w, c), ""
        if w_numeric:
            return (*_numeric_w(s, c, w0, lr, t, numeric_state, work_dps, mp, n),
                    f"w and f: closed form Q(I − εΛ_M)ᵗQᵀw₀ in mpmath at {work_dps} digits (no loop over the "
                    f"{t:,} steps), reported to {_report_digits(n)} significant digits; components below the "
                    "numerical noise (underflow) are reported as 0")
    # symbolic somewhere: iterate (small t) or closed form with powers
    if t_int and t <= SYMBOLIC_ITER_MAX and n <= SHOW_N * 2 and not eig.diagonal:
        w = list(w0)
        for k in range(t):
            w = [sympy.expand(sum((A[i, j] * w[j] for j in range(n)), sympy.Integer(0))) for i in range(n)]
            _check_symbolic_size(w, f"w_{k + 1}")
        f = sympy.expand(_quad(S, w, c))
        _check_symbolic_size([f], f"f(w_{t})")
        return w, f, ""
    groups = eig.groups
    if not groups:
        E, Q = numeric_state()
        groups = []
        for k in range(n):
            q = sympy.Matrix([_float(Q[i, k], REPORT_DIGITS) for i in range(n)])
            groups.append((_float(E[k], REPORT_DIGITS), q * q.T))
    w = [sympy.Integer(0)] * n
    f_terms = []
    w0m = sympy.Matrix(w0)
    for lam_g, P in groups:
        mu_g = sympy.expand(s * lam_g)
        r = sympy.expand(1 - lr * mu_g) if lr.is_number else 1 - lr * mu_g
        Pw = (P * w0m).applyfunc(sympy.expand)
        pw = _power(r, t, work_dps)
        if isinstance(pw, sympy.Float):  # a numeric power: numeric coefficients too
            w = [w[i] + (pw * Pw[i]).evalf(REPORT_DIGITS) for i in range(n)]
        else:
            w = [w[i] + pw * Pw[i] for i in range(n)]
        # f = c·Σ λ_g r_g^(2t) (w0ᵀ P_g w0): the eigendirections do not mix in f
        coef, p2 = sympy.expand(c * lam_g * (w0m.T * Pw)[0]), _power(r, 2 * t, work_dps)
        f_terms.append((coef * p2).evalf(REPORT_DIGITS) if isinstance(p2, sympy.Float) else coef * p2)
    return w, sympy.Add(*f_terms), ("w and f: closed form Σᵢ (1 − εμᵢ)ᵗ Pᵢw₀ with the eigenprojectors "
                                    "Pᵢ = qᵢqᵢᵀ, f = Σᵢ c·λᵢ(1 − εμᵢ)²ᵗ w₀ᵀPᵢw₀")


#: a symbolic iterate may hold exact numbers of at most this many bits (about 3,900 digits:
#: Python prints no integer beyond 4,300 digits)
SYMBOLIC_MAX_BITS = 13_000


def _check_symbolic_size(values: list[Any], what: str) -> None:
    """Refuse a symbolic iterate whose exact coefficients grew too long to print."""
    for x in values:
        for r in x.atoms(sympy.Rational):
            if _bits(r) > SYMBOLIC_MAX_BITS:
                raise InputError("--steps", f"is too many for these inputs: with symbols in H, w0 or --lr the "
                                            f"exact {what} holds numbers of more than 3,900 digits; use fewer "
                                            "steps, smaller magnitudes, or numbers instead of symbols")


def _power(r: Any, t: Any, dps: int) -> Any:
    """rᵗ: exact while small, an mpmath Float when r and t are numbers and rᵗ is huge, else a power."""
    if isinstance(t, int) and r.is_number:
        if r.is_Rational and _bits(r) * t <= EXACT_BITS:
            return r**t
        if not r.is_Rational and t <= SYMBOLIC_ITER_MAX:
            return sympy.expand(r**t)
        from mpmath import mp

        with mp.workdps(dps):
            return _float(_mpf(r, mp) ** t, REPORT_DIGITS)
    return sympy.Pow(r, t)


def _numeric_w(s, c, w0, lr, t, numeric_state, work_dps, mp, n) -> tuple[list[Any], Any]:
    E, Q = numeric_state()
    with mp.workdps(work_dps):
        scale = _mpf(s, mp)
        eps = _mpf(lr, mp)
        w0m = [_mpf(x, mp) for x in w0]
        y = [mp.fsum(Q[i, k] * w0m[i] for i in range(n)) for k in range(n)]
        z = [y[k] * (1 - eps * scale * E[k]) ** t for k in range(n)]
        # attainable accuracy: an error δ in Q (or in Qᵀw₀) gives |Δw| ≲ n·δ·‖w₀‖·max|r_k|ᵗ
        rmax_t = max([abs(1 - eps * scale * E[k]) ** t for k in range(n)] + [mp.zero])
        delta = mp.mpf(10) ** (-(work_dps - 8)) if n <= MP_EIGEN_MAX_N else mp.mpf(1e-13)
        noise = n * delta * mp.sqrt(mp.fsum(x * x for x in w0m)) * rmax_t
        w = [mp.fsum(Q[i, k] * z[k] for k in range(n)) for i in range(n)]
        # f = c·Σ λ_k z_k² in the eigenbasis (no cancellation for a positive-definite H)
        f = _mpf(c, mp) * mp.fsum(E[k] * z[k] ** 2 for k in range(n))
        znorm = mp.sqrt(mp.fsum(x * x for x in z))
        f_noise = 2 * abs(_mpf(c, mp)) * max(abs(x) for x in E) * (znorm + noise) * noise
        d = _report_digits(n)
        return ([sympy.Integer(0) if abs(v) <= noise else _float(v, d) for v in w],
                sympy.Integer(0) if abs(f) <= f_noise else _float(f, d))


def _newton(M, w0, H_rational, H_numeric, nullity, eig, signs, steps_list, mp, work_dps, n) -> list[Any]:
    from dlcalc import printing as P

    singular_msg = "cannot take a Newton step: the Hessian M is singular (it has a zero eigenvalue), " \
                   "so M⁻¹∇f does not exist"
    g = [sympy.expand(sum((M[i, j] * w0[j] for j in range(n)), sympy.Integer(0))) for i in range(n)]
    Minv = None
    if H_rational:
        if nullity:
            raise InputError("--newton", singular_msg)
        from sympy.polys.matrices import DomainMatrix

        dM = DomainMatrix.from_Matrix(M).convert_to(sympy.QQ)
        if all(x.is_Rational for x in w0):
            b = DomainMatrix.from_Matrix(sympy.Matrix(g)).convert_to(sympy.QQ)
            d = list(dM.lu_solve(b).to_Matrix())
        else:
            Minv = dM.inv().to_Matrix()
            d = [sympy.expand(sum((Minv[i, j] * g[j] for j in range(n)), sympy.Integer(0))) for i in range(n)]
        if n <= SHOW_N and Minv is None:
            Minv = dM.inv().to_Matrix() if n <= 3 else None
        w1 = [sympy.expand(w0[i] - d[i]) for i in range(n)]
    elif H_numeric:
        if any(s_ == 0 for s_ in signs):
            raise InputError("--newton", singular_msg)
        with mp.workdps(work_dps):
            Mm = mp.matrix([[_mpf(M[i, j], mp) for j in range(n)] for i in range(n)])
            try:  # mpmath refuses a pivot below its tolerance: M too badly conditioned to solve
                Mi = None if all(x.is_number for x in w0) else mp.inverse(Mm)
                dm = mp.lu_solve(Mm, mp.matrix([_mpf(x, mp) for x in g])) if Mi is None else None
            except ZeroDivisionError:
                raise InputError("--newton", f"cannot take a Newton step: the Hessian M is too close to "
                                             f"singular to solve at {work_dps} digits (its eigenvalues "
                                             "differ by too many orders of magnitude)") from None
            if Mi is None:
                w0m = [_mpf(x, mp) for x in w0]
                scale = max([abs(x) for x in w0m] + [mp.mpf(1)])
                noise = scale * n * mp.mpf(10) ** (-(work_dps - 10))
                w1 = []
                for i in range(n):
                    v = w0m[i] - dm[i]
                    w1.append(sympy.Integer(0) if abs(v) <= noise else _float(v))
            else:
                Minv = sympy.Matrix(n, n, lambda i, j: _float(Mi[i, j]))
                w1 = [sympy.expand(w0[i] - sum((Minv[i, j] * g[j] for j in range(n)), sympy.Integer(0)))
                      for i in range(n)]
                w1 = [sympy.Integer(0) if x.is_number and abs(x) < 1e-15 else x for x in w1]
    else:
        det = sympy.factor(M.det())
        if det == 0:
            raise InputError("--newton", singular_msg)
        Minv = M.adjugate() / det
        w1 = [sympy.cancel(w0[i] - sum((Minv[i, j] * g[j] for j in range(n)), sympy.Integer(0)))
              for i in range(n)]
        steps_list.append(Step(title="Newton needs det M ≠ 0", section="Newton's method",
                               formula=Math("det M ≠ 0", r"\det M \ne 0"), value=det,
                               note="assumed for these symbols"))
    show = n <= SHOW_N
    if show and Minv is not None:
        steps_list.append(Step(title="inverse Hessian", section="Newton's method",
                               formula=Math("M⁻¹", r"M^{-1}"), value=Minv.applyfunc(sympy.factor)
                               if not all(x.is_number for x in Minv) else Minv))
    pdnote = "for positive-definite H this is the minimizer w* = 0, reached in one step" \
        if all(s_ == 1 for s_ in signs) else \
        ("M is not positive definite: Newton jumps to the critical point w = 0, which is not a minimum"
         if all(s_ is not None for s_ in signs) else "the critical point w = 0, reached in one step")
    steps_list.append(Step(
        title="Newton step", section="Newton's method",
        formula=Math("w₁ = w₀ − M⁻¹∇f(w₀)", r"w_1 = w_0 - M^{-1} \nabla f(w_0)"),
        substituted=Math(f"{P.text(w0)} − M⁻¹·{P.text(g)}", rf"{P.latex(w0)} - M^{{-1}} {P.latex(g)}")
        if show else None,
        value=w1, note=pdnote))
    return w1


def _unsymmetrized(H: list[list[Any]], w0: list[Any], lr: Any, *, steps: Any, half: bool) -> Solution:
    """The mistaken run with M = 2H (or H) for a non-symmetric H: w and f only."""
    Hm = sympy.Matrix(H)
    if Hm == Hm.T or not isinstance(steps, int) or steps > 10_000 or not lr.is_number:
        raise InputError(None, "the unsymmetrized variant applies to a numeric non-symmetric H only")
    M = (Hm if half else 2 * Hm)
    w = sympy.Matrix(w0)
    step = sympy.eye(len(H)) - lr * M
    for _ in range(steps):
        w = step * w
    c = sympy.Rational(1, 2) if half else sympy.Integer(1)
    f = sympy.expand(c * (w.T * Hm * w)[0, 0])
    return Solution(command="quadratic-gd", inputs={}, conventions={}, steps=(
        Step(title="gradient", formula=Math("∇f(w) = 2Hw (H not symmetrized)", r"\nabla f = 2Hw")),),
        result={"w": list(w), "f": f})


MISTAKES = (
    Mistake("used f = ½wᵀHw instead of wᵀHw (or the other way round)",
            lambda kw: {"half": not kw.get("half", False)}),
    Mistake("forgot to symmetrize H (used ∇f = 2Hw for a non-symmetric H)", {"symmetrize": False}),
    Mistake("took one step too many",
            lambda kw: {"steps": kw["steps"] + 1} if isinstance(kw.get("steps", 1), int) else None),
    Mistake("took one step too few",
            lambda kw: {"steps": kw["steps"] - 1} if isinstance(kw.get("steps", 1), int)
            and kw.get("steps", 1) >= 1 else None),
    Mistake("used the wrong sign in the update (w + ε∇f: gradient ascent)", {"ascent": True}),
)
