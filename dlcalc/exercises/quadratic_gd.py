"""quadratic-gd: gradient descent and Newton's method on f(w) = wᵀHw, through H = QΛQᵀ.

The exercise of the course notes: f(w) = wᵀHw (``half=True``: ½wᵀHw).  Only the symmetric
part S = sym(H) = (H + Hᵀ)/2 matters for f, so ∇f = (H + Hᵀ)w = 2Sw and the Hessian is
M = 2S (M = S with ``half``).  With S = QΛQᵀ, gradient descent w_t = (I − εM)w_{t−1} has the
closed form w_t = Q(I − εΛ_M)ᵗQᵀw₀ = Σᵢ rᵢᵗ·Pᵢw₀: each eigendirection (projector Pᵢ) is
multiplied by its contraction factor rᵢ = 1 − εμᵢ per step.

The formulas are written once, as SymPy templates (the constants below), and put to numbers
by :func:`dlcalc.board.step` (or :func:`_listed` for a formula applied entry by entry), so
every substituted line evaluates to its value (``tests/test_steps.py``).

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
  with powers (1 − εμᵢ)ᵗ kept as powers.  The closed form is one function
  (:func:`_superpose`) run in SymPy or in mpmath arithmetic.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, NamedTuple, Optional

import sympy
from sympy.core.mul import _keep_coeff

from dlcalc.board import Named, OAdd, ceiling_of, eq, ordered_product, showing, spelled, step, transposed
from dlcalc.core import Math, Mistake, Shown, Solution, Step, as_kwargs, substitute
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
SUBSTITUTE_N = 3            # vectors and matrices up to this size show the numbers put in
DERIVE_N = 4                # ∇f and M derived symbolically with SymPy up to this size
EXACT_EIGEN_N = 3           # exact eigendecomposition of a non-diagonal S up to this size
MP_EIGEN_MAX_N = 20         # mpmath eigsy up to this size, float64 eigsy above
DPS = 30                    # working digits of the numeric path (plus the digits of t)
REPORT_DIGITS = 20          # significant digits of a numeric result
EXACT_BITS = 512            # exact rational results up to this size (numerator, denominator)
EXACT_WORK = 200_000        # exact iteration only while steps·n² stays below this
SYMBOLIC_ITER_MAX = 6       # symbolic inputs: iterate (expanded) up to this many steps
SHOW_ITERATES = 3           # each iterate w_1 … w_t is written out when t is at most this
TAME_BITS = 10_000          # symbolic results: exact rationals beyond this are shown as decimals

# --------------------------------------------------------------------------- the formulas

#: the leading 1 of 1 − εμᵢ as a symbol that sorts (and so prints) first; put to 1 in every step
ONE = sympy.Symbol("1")
EPS = sympy.Symbol("epsilon", real=True)
LAMBDA_I, MU_I, R_I, RHO_I = sympy.symbols("lambda_i mu_i r_i rho_i", real=True)
M_IJ = sympy.Symbol("m_ij", real=True)
MU_MIN, MU_MAX, KAPPA, TOL, RHO = sympy.symbols("mu_min mu_max kappa tol rho", real=True)
EPS_MAX, EPS_OPT, T_NEEDED = sympy.symbols("epsilon_max epsilon_opt t", real=True)
_A, _B, _C = sympy.symbols("a b c", real=True)
_HALF = sympy.Pow(2, -1, evaluate=False)
_D = sympy.Symbol("D", real=True)
#: eigenvalues of a 2×2 [[a, b], [b, c]], written as a teacher does: (a + c ∓ √D)/2 with the
#: discriminant D = (a − c)² + 4b² (built unevaluated: cheap, and kept as written)
DISCRIMINANT = eq(_D, sympy.Add(sympy.Pow(_A - _C, 2, evaluate=False), 4 * sympy.Pow(_B, 2, evaluate=False),
                                evaluate=False))
_ROOT = sympy.Pow(_D, sympy.S.Half, evaluate=False)
EIGEN_2X2 = tuple(sympy.Mul(sympy.Add(_A, _C, root, evaluate=False), _HALF, evaluate=False)
                  for root in (sympy.Mul(-1, _ROOT, evaluate=False), _ROOT))
#: Hessian eigenvalues from those of sym(H)
HESSIAN_EIGEN = {False: eq(MU_I, 2 * LAMBDA_I), True: eq(MU_I, LAMBDA_I)}
#: the entries of I − εM (diagonal, off the diagonal)
ITERATION_ENTRY = (ONE - EPS * M_IJ, -EPS * M_IJ)
#: the factor that multiplies eigendirection i at each step, and its size
FACTOR = eq(R_I, ONE - EPS * MU_I)
CONTRACTION = eq(RHO_I, sympy.Abs(ONE - EPS * MU_I, evaluate=False))
LR_MAX = eq(EPS_MAX, 2 / MU_MAX)
LR_OPT = eq(EPS_OPT, 2 / (MU_MIN + MU_MAX))
CONDITION = eq(KAPPA, MU_MAX / MU_MIN)
RATE = eq(RHO, (KAPPA - 1) / (KAPPA + 1))
STEPS_NEEDED = eq(T_NEEDED, ceiling_of(sympy.log(TOL, evaluate=False) / sympy.log(RHO, evaluate=False)))

# the matrix formulas, with the matrices as symbols in the order written (M·w₀, wᵀ·H·w):
# display only, the steps' values are the matrices themselves
_W, _WT, _W0, _W1, _H, _M, _I = sympy.symbols("w w_t w_0 w_1 H M I")
_TRANSPOSED = {x: transposed(x) for x in (_W, _WT, _H)}
_M_INV = Named("M^-1", "M⁻¹", "M^{-1}")
_SYM_H = Named("sym(H)", "sym(H)", r"\operatorname{sym}(H)")
_GRAD_W = Named("grad f(w)", "∇f(w)", r"\nabla f(w)")
_GRAD_W0 = Named("grad f(w_0)", "∇f(w₀)", r"\nabla f(w_0)")
_HESS_F = Named("hess f", "∇²f", r"\nabla^2 f")
_HALF_SPELLED = spelled(sympy.Rational(1, 2), "½", r"\tfrac{1}{2}")


def _halved(half: bool, *factors: Any) -> Any:
    return ordered_product(_HALF_SPELLED, *factors) if half else ordered_product(*factors)


def _objective(half: bool, w: str = "w") -> Any:
    """f(w) = wᵀ·H·w (½·wᵀ·H·w); ``w="w_t"`` for f at the iterate."""
    x, f = (_WT, Named("f(w_t)", "f(wₜ)", "f(w_t)")) if w == "w_t" else (_W, Named("f(w)", "f(w)", "f(w)"))
    return eq(f, _halved(half, _TRANSPOSED[x], _H, x))


def _gradient(half: bool) -> Any:
    """∇f(w) = (H + Hᵀ)·w = 2·sym(H)·w (halved with --half)."""
    return eq(_GRAD_W, _halved(half, OAdd(_H, _TRANSPOSED[_H], evaluate=False), _W),
              ordered_product(*([] if half else [2]), _SYM_H, _W))


def _hessian(half: bool) -> Any:
    return eq(_M, _HESS_F, ordered_product(*([] if half else [2]), _SYM_H))


SYMMETRIC_PART = eq(_SYM_H, ordered_product(OAdd(_H, _TRANSPOSED[_H], evaluate=False), sympy.Pow(2, -1, evaluate=False)))
EIGENVALUES = {
    "2x2": Math("λ₁,₂ = (a + c ∓ √D)/2", r"\lambda_{1,2} = \frac{a + c \mp \sqrt{D}}{2}"),
    "diagonal": Math("λᵢ = sym(H)ᵢᵢ (sym(H) is diagonal)", r"\lambda_i = \operatorname{sym}(H)_{ii}"),
    "general": Math("sym(H) = QΛQᵀ,  Λ = diag(λ₁, …, λₙ)",
                    r"\operatorname{sym}(H) = Q \Lambda Q^\top,\ \Lambda = \operatorname{diag}(\lambda_1, \dots, \lambda_n)"),
}
EIGENVECTORS = Math("sym(H) = QΛQᵀ,  Q = [q₁ ⋯ qₙ]",
                    r"\operatorname{sym}(H) = Q \Lambda Q^\top,\ Q = [q_1 \cdots q_n]")
EIGENVECTORS_SYMBOLIC = Math("qᵢ = vᵢ/‖vᵢ‖,  vᵢ = (b, λᵢ − a)",
                             r"q_i = v_i/\lVert v_i\rVert,\ v_i = (b, \lambda_i - a)")
ITERATION = {False: OAdd(_I, ordered_product(-1, EPS, _M), evaluate=False),
             True: OAdd(_I, ordered_product(EPS, _M), evaluate=False)}
CLOSED_FORM = Math("w_t = (I − εM)ᵗw₀ = Q(I − εΛ_M)ᵗQᵀw₀ = Σᵢ rᵢᵗ·Pᵢw₀",
                   r"w_t = (I - \epsilon M)^t w_0 = Q (I - \epsilon \Lambda_M)^t Q^\top w_0 = \sum_i r_i^t P_i w_0")
NEWTON_GRADIENT = eq(_GRAD_W0, ordered_product(_M, _W0))
NEWTON = eq(_W1, OAdd(_W0, ordered_product(-1, _M_INV, _GRAD_W0), evaluate=False))
COST = Math("gradient step: M·w, O(n²);  Newton step: solve M·d = ∇f, O(n³)",
            r"\text{gradient: } M w,\ O(n^2);\quad \text{Newton: solve } M d = \nabla f,\ O(n^3)")

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


# --------------------------------------------------------------------------- inputs


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

    rows = parse_matrix(H, "--H")
    return Inputs(tuple(tuple(r) for r in rows), tuple(parse_vector(w0, "--w0")), parse_scalar(lr, "--lr"),
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


def _check_inputs(H: Any, w0: Any, lr: Any, steps: Any, tol: Any) -> None:
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


@dataclass(frozen=True)
class Problem:
    """The exercise in the solver's terms, built once from the inputs.

    Attributes:
        H: H as given; S = sym(H) (H itself when symmetric); M = s·S, the Hessian;
            A = I − εM, the iteration matrix (all immutable).
        w0, lr, t, tol, half: the inputs (t: an int or a symbol).
        symmetric: whether H was symmetric.
        nullity: the number of zero eigenvalues of a rational S (from its exact rank), else None.
        numeric, rational: whether S holds numbers only, rationals only; w_numeric: w₀ numbers only.
    """

    H: sympy.ImmutableMatrix
    S: sympy.ImmutableMatrix
    M: sympy.ImmutableMatrix
    A: sympy.ImmutableMatrix
    w0: tuple
    lr: Any
    t: Any
    tol: Any
    half: bool
    symmetric: bool
    nullity: Optional[int]
    numeric: bool
    rational: bool
    w_numeric: bool

    @property
    def n(self) -> int:
        return self.S.rows

    @property
    def s(self) -> sympy.Integer:
        """M = s·S."""
        return sympy.Integer(1) if self.half else sympy.Integer(2)

    @property
    def c(self) -> Any:
        """f = c·wᵀSw."""
        return sympy.Rational(1, 2) if self.half else sympy.Integer(1)

    @property
    def t_int(self) -> bool:
        return isinstance(self.t, int)

    @property
    def show(self) -> bool:
        """Whether matrices are written out."""
        return self.n <= SHOW_N

    @property
    def work_dps(self) -> int:
        return DPS + (len(str(self.t)) if self.t_int else 0)


def _problem(H: Any, w0: Any, lr: Any, t: Any, tol: Any, half: bool) -> Problem:
    Hm = sympy.ImmutableMatrix(H)
    n = Hm.rows
    tidy = (lambda m: m) if all(_is_rat(x) for x in Hm) else (lambda m: m.applyfunc(sympy.expand))
    symmetric = all(sympy.expand(Hm[i, j] - Hm[j, i]) == 0 for i in range(n) for j in range(i + 1, n))
    S = Hm if symmetric else tidy((Hm + Hm.T) / 2)
    M = tidy(S * (1 if half else 2))
    A = (sympy.eye(n) - lr * M).applyfunc(sympy.expand) if not _is_rat(lr) else tidy(sympy.eye(n) - lr * M)
    rational = all(_is_rat(x) for x in S)
    return Problem(Hm, sympy.ImmutableMatrix(S), sympy.ImmutableMatrix(M), sympy.ImmutableMatrix(A),
                   tuple(w0), lr, t, tol, half, symmetric,
                   _nullity(sympy.ImmutableMatrix(S)) if rational else None,
                   rational or all(x.is_number for x in S), rational, all(x.is_number for x in w0))

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


def _numbers(xs: Iterable[Any]) -> bool:
    """Whether every value is a number (a line with symbols put in says nothing new)."""
    return all(x.is_number for x in xs)


def _tidy(x: Any) -> Any:
    """A quadratic surd over one denominator, (5 − √5)/10 rather than 1/2 − √5/10: the form
    a shown number takes in a substituted line (other numbers as they are)."""
    surd = _surd(x) if isinstance(x, sympy.Add) else None
    return x if surd is None else _surd_number(*surd)


def _surd_number(u: Fraction, v: Fraction, p: Fraction) -> Any:
    """u + v·√p as SymPy, over one denominator: (5 − √5)/10."""
    q = sympy.Rational(u.numerator, u.denominator)
    if v == 0:
        return q
    root = sympy.sqrt(sympy.Rational(p.numerator, p.denominator))
    if u == 0:
        return sympy.Rational(v.numerator, v.denominator) * root
    d = math.lcm(u.denominator, v.denominator)
    return _keep_coeff(sympy.Rational(1, d), sympy.Add(sympy.Integer(u * d), sympy.Integer(v * d) * root))


def _surd_dot(xs: Iterable[Any], ws: Iterable[Any]) -> Optional[Any]:
    """Σ xᵢ·wᵢ for quadratic surds xᵢ (one √p) and rationals wᵢ, exactly in fractions (no
    SymPy expansion), in the form of :func:`_surd_number`; None for anything else."""
    u = v = Fraction(0)
    p: Optional[Fraction] = None
    for x, w in zip(xs, ws):
        s_, wf = _surd(x), Fraction(int(w.p), int(w.q))
        if s_ is None or (s_[1] and p is not None and s_[2] != p):
            return None
        if s_[1]:
            p = s_[2]
        u, v = u + s_[0] * wf, v + s_[1] * wf
    return _surd_number(u, v, p or Fraction(1))


def _decimal(x: Any) -> Any:
    """A rational as it is, any other number as a ``REPORT_DIGITS``-digit decimal (the
    eigenvectors: nested radicals that no one writes out)."""
    if x.is_Rational or isinstance(x, sympy.Float) or not x.is_number:
        return x
    v = x.evalf(REPORT_DIGITS)
    return _float(v) if isinstance(v, sympy.Float) else x  # not a real decimal (rounding): exact


def _tame(x: Any) -> tuple[Any, bool]:
    """``x`` with every exact rational beyond ``TAME_BITS`` bits as a ``REPORT_DIGITS``-digit
    decimal (a symbolic iteration with numbers near 1e±300 builds thousands of digits), and
    whether any was."""
    big = {r: sympy.Float(r, REPORT_DIGITS) for r in x.atoms(sympy.Rational) if _bits(r) > TAME_BITS}
    return (x.xreplace(big), True) if big else (x, False)


# --------------------------------------------------------------------------- eigen


@dataclass(frozen=True)
class Eigen:
    """The eigendecomposition of S = sym(H).

    ``values`` ascending when ``ordered``; ``groups`` (exact only) pairs each distinct
    eigenvalue with its orthogonal projector P = Σ qqᵀ; ``Q`` the eigenvectors as columns
    (exact, symbolic or Float); ``kind`` how the values were found: "diagonal", "2x2",
    "charpoly" (exact) or "numeric".
    """

    values: tuple[Any, ...]
    exact: bool
    ordered: bool
    groups: tuple[tuple[Any, Any], ...] = ()
    Q: Any = None
    method: str = ""
    kind: str = "numeric"

    def __post_init__(self) -> None:
        # immutable all the way down: the exact one is cached per process and shared
        object.__setattr__(self, "values", tuple(self.values))
        object.__setattr__(self, "groups", tuple((lam, sympy.ImmutableMatrix(P)) for lam, P in self.groups))
        if isinstance(self.Q, sympy.MatrixBase):
            object.__setattr__(self, "Q", sympy.ImmutableMatrix(self.Q))

    @property
    def diagonal(self) -> bool:
        return self.kind == "diagonal"


def _is_diagonal(S: sympy.MatrixBase) -> bool:
    n = S.rows
    return all(S[i, j] == 0 for i in range(n) for j in range(n) if i != j)


def _exact_eigen(S: sympy.MatrixBase) -> Optional[Eigen]:
    """Exact eigenvalues and projectors when that is small and fast, else None.

    Cached per process by S (``dlcalc batch`` often grades one H under many step sizes);
    an :class:`Eigen` is immutable, so every caller can share the cached one.
    """
    return _exact_eigen_of(sympy.ImmutableMatrix(S))


@functools.lru_cache(maxsize=64)
def _exact_eigen_of(S: sympy.ImmutableMatrix) -> Optional[Eigen]:
    if _is_diagonal(S):
        return _diagonal_eigen(S)
    if S.rows == 2:
        return _eigen_2x2(S)
    if S.rows > EXACT_EIGEN_N or not all(_is_rat(x) for x in S):
        return None
    return _eigen_charpoly(S)


def _diagonal_eigen(S: sympy.ImmutableMatrix) -> Eigen:
    n = S.rows
    diag = [S[i, i] for i in range(n)]
    order, ordered = _order(diag)
    values = [diag[i] for i in order]
    Q = sympy.zeros(n, n)
    for col, i in enumerate(order):
        Q[i, col] = 1
    groups = [(lam, sympy.diag(*[1 if d == lam else 0 for d in diag])) for lam in dict.fromkeys(values)]
    return Eigen(values, True, ordered, groups, Q, "exact (S is diagonal)", "diagonal")


def _eigen_2x2(S: sympy.ImmutableMatrix) -> Optional[Eigen]:
    """λ = (a + c ∓ √((a − c)² + 4b²))/2, P_lo = (λ_hi·I − S)/(2r), P_hi = I − P_lo."""
    if all(_is_rat(x) for x in S):
        return _eigen_2x2_rational(S)
    a, b, c = S[0, 0], S[0, 1], S[1, 1]
    m = (a + c) / 2
    r = sympy.sqrt(sympy.expand((a - c) ** 2 + 4 * b**2)) / 2
    lo, hi = sympy.expand(m - r), sympy.expand(m + r)
    if r == 0:  # pragma: no cover - a diagonal S, handled above
        return None
    inv2r = _inv(2 * r)
    P_lo = (hi * sympy.eye(2) - S).applyfunc(lambda e: sympy.expand(e * inv2r))
    P_hi = (sympy.eye(2) - P_lo).applyfunc(sympy.expand)
    groups = [(lo, P_lo), (hi, P_hi)]
    numeric = all(x.is_number for x in S)
    Q = _q_from_groups(groups, 2, numeric) if numeric else None
    return Eigen([lo, hi], True, True, groups, Q, "exact", "2x2")


def _eigen_2x2_rational(S: sympy.ImmutableMatrix) -> Eigen:
    """:func:`_eigen_2x2` for rational entries, in fractions: with D = (a − c)² + 4b²,
    λ = m ∓ √D/2 (m = (a + c)/2) and P_lo = ½I − (S − mI)/√D; the same SymPy numbers as
    expanding the general formulas, at a fraction of the cost."""
    a, b, c = (Fraction(int(x.p), int(x.q)) for x in (S[0, 0], S[0, 1], S[1, 1]))
    m, D = (a + c) / 2, (a - c) ** 2 + 4 * b * b
    root = sympy.sqrt(sympy.Rational(D.numerator, D.denominator))
    half_root, mq = root / 2, sympy.Rational(m.numerator, m.denominator)

    def unit(x: Fraction) -> Any:  # x/√D = x·√D/D, radical in the numerator
        y = x / D
        return sympy.Rational(y.numerator, y.denominator) * root

    half = sympy.Rational(1, 2)
    off = -unit(b)
    P_lo = sympy.Matrix([[half - unit(a - m), off], [off, half - unit(c - m)]])
    P_hi = sympy.Matrix([[half + unit(a - m), -off], [-off, half + unit(c - m)]])
    groups = [(mq - half_root, P_lo), (mq + half_root, P_hi)]
    return Eigen([lam for lam, _ in groups], True, True, groups, _q_from_groups(groups, 2, True), "exact", "2x2")


def _eigen_charpoly(S: sympy.ImmutableMatrix) -> Optional[Eigen]:
    """A rational 3×3: the characteristic polynomial factored over Q (pieces of degree ≤ 2)."""
    from sympy.polys.matrices import DomainMatrix

    n = S.rows
    x = sympy.Symbol("x")
    coeffs = DomainMatrix.from_Matrix(S).convert_to(sympy.QQ).charpoly()
    chi = sympy.Poly([sympy.QQ.to_sympy(c_) for c_ in coeffs], x, domain=sympy.QQ)
    roots: list[Any] = []
    for p, _mult in chi.factor_list()[1]:
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
    distinct = [distinct[i] for i in _order(distinct)[0]]
    eye = sympy.eye(n)
    groups = []
    for i, lam in enumerate(distinct):
        P = eye
        for j, other in enumerate(distinct):
            if j != i:
                P = (P * (S - other * eye) * _inv(lam - other)).applyfunc(sympy.expand)
        groups.append((lam, P))
    values = [lam for lam, P in groups for _ in range(int(round(float(sympy.N(P.trace())))))]
    if len(values) != n:
        return None
    return Eigen(values, True, True, groups, _q_from_groups(groups, n, True),
                 "exact (characteristic polynomial factored over the rationals)", "charpoly")


def _q_from_groups(groups: list[tuple[Any, Any]], n: int, numeric: bool) -> Optional[sympy.Matrix]:
    """Orthonormal eigenvectors (columns) from the exact projectors P = Σ qqᵀ of numeric S.

    A rank-one P = qqᵀ gives q directly: |qᵢ| = √Pᵢᵢ, with the signs of column k of P
    (k = the largest diagonal entry, so qₖ > 0).  A larger eigenspace: Gram–Schmidt on P's
    columns (its eigenvalue is then rational for a rational S, so this stays exact).
    """
    from mpmath import mp

    def num(e: Any) -> Any:  # a 20-digit mpf: exact for surds, no float overflow near 1e±300
        with mp.workdps(20):
            return _mpf(e, mp)

    cols = []
    for _lam, P in groups:
        rank = int(mp.nint(num(P.trace())))
        if rank == 1:
            k = max(range(n), key=lambda i: num(P[i, i]))
            cols.append(sympy.Matrix([0 if P[i, k] == 0 else
                                      (1 if num(P[i, k]) > 0 else -1) * _root_of(P[i, i]) for i in range(n)]))
            continue
        basis: list[sympy.Matrix] = []
        for k in range(n):
            v = P[:, k]
            for u in basis:
                v = (v - (u.T * v)[0] * u).applyfunc(lambda e: sympy.radsimp(sympy.expand(e)))
            norm2 = sympy.radsimp(sympy.expand((v.T * v)[0]))
            if norm2 == 0 or abs(num(norm2)) < mp.mpf(10) ** -20:
                continue
            basis.append((v / sympy.sqrt(norm2)).applyfunc(sympy.radsimp))
            if len(basis) == rank:
                break
        cols.extend(basis)
    if len(cols) != n:
        return None
    return sympy.Matrix.hstack(*cols)


def _root_of(x: Any) -> Any:
    """√x for an entry of a projector: exact for a rational, else a ``DPS``-digit decimal (an
    eigenvector entry of a surd is a nested radical, which no one writes out)."""
    if x.is_Rational:
        return sympy.sqrt(x)
    from mpmath import mp

    with mp.workdps(DPS):
        v = _mpf(x, mp)
        # a diagonal entry of a projector is ≥ 0; one that rounds to ≤ 0 (1e±300 entries) stays exact
        return _float(mp.sqrt(v), DPS) if v > 0 else sympy.sqrt(x)


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


class NumericEigen(NamedTuple):
    """S = QΛQᵀ in mpmath: ``E`` the ascending eigenvalues (the known zeros exactly 0),
    ``Q`` the orthonormal eigenvectors as rows of a tuple (``Q[i][k]``: entry i of q_k)."""

    E: tuple[Any, ...]
    Q: tuple[tuple[Any, ...], ...]
    how: str


def _numeric(p: Problem) -> NumericEigen:
    return _numeric_of(p.S, p.work_dps, p.nullity)


@functools.lru_cache(maxsize=16)
def _numeric_of(S: sympy.ImmutableMatrix, dps: int, nullity: Optional[int]) -> NumericEigen:
    from mpmath import mp

    n = S.rows
    with mp.workdps(dps):
        S_mp = mp.matrix([[_mpf(S[i, j], mp) for j in range(n)] for i in range(n)])
        E, Q, how = _numeric_eigen(S_mp, mp, n, nullity)
    return NumericEigen(tuple(E), tuple(tuple(Q[i, k] for k in range(n)) for i in range(n)), how)


def _eigen(p: Problem) -> tuple[Eigen, tuple[str, ...]]:
    """The eigendecomposition of S (exact where :func:`_exact_eigen` can), and its note."""
    exact = _exact_eigen(p.S) if (not p.numeric or p.n <= EXACT_EIGEN_N or _is_diagonal(p.S)) else None
    if exact is not None:
        return exact, ()
    if not p.numeric:
        raise InputError("--H", f"with symbols is supported when it is 2x2 or diagonal; this "
                                f"{p.n}x{p.n} H with symbols has no closed-form eigendecomposition here")
    num = _numeric(p)
    digits = _report_digits(p.n)
    values = [_float(v, digits) if v != 0 else sympy.Integer(0) for v in num.E]
    Q = sympy.Matrix(p.n, p.n, lambda i, j: _float(num.Q[i][j], digits))
    note = (f"eigendecomposition: {num.how}; reported to {digits} significant digits"
            + (f"; the rank of sym(H), computed exactly, fixes {p.nullity} zero eigenvalue(s)"
               if p.nullity else ""))
    return Eigen(values, False, True, (), Q, num.how, "numeric"), (note,)


class Spectrum(NamedTuple):
    """What the eigenvalues say about gradient descent.

    Attributes:
        eig: the eigendecomposition of S.
        mu: the Hessian eigenvalues μᵢ = sλᵢ.
        factors: the contraction factors rᵢ = 1 − εμᵢ.
        signs: the sign of each μᵢ (None: undecided, a symbol).
    """

    eig: Eigen
    mu: tuple[Any, ...]
    factors: tuple[Any, ...]
    signs: tuple[Optional[int], ...]

    @property
    def known(self) -> bool:
        return all(sg is not None for sg in self.signs)

    @property
    def pd(self) -> bool:
        return self.known and all(sg == 1 for sg in self.signs)


def _spectrum(p: Problem, eig: Eigen) -> Spectrum:
    mu = tuple(sympy.expand(p.s * v) for v in eig.values)
    factors = tuple(sympy.expand(1 - p.lr * m_) if p.lr.is_number else 1 - p.lr * m_ for m_ in mu)
    return Spectrum(eig, mu, factors, tuple(_sign(m_) for m_ in mu))


# --------------------------------------------------------------------------- w after t steps


class Mode(NamedTuple):
    """One eigendirection (or eigenspace) of S: w_t = Σ r^t·pw and f(w_t) = Σ r^(2t)·energy.

    Attributes:
        r: the contraction factor 1 − εμ.
        pw: the projection P·w₀ of the start onto it.
        energy: its share of f(w₀), c·λ·w₀ᵀPw₀ (the directions do not mix in f).
    """

    r: Any
    pw: tuple[Any, ...]
    energy: Any


class Ops(NamedTuple):
    """The arithmetic of :func:`_superpose`: ``power(r, t)``, ``times(power, x)``, ``total``."""

    power: Callable[[Any, Any], Any]
    times: Callable[[Any, Any], Any]
    total: Callable[[Iterable[Any]], Any]


def _superpose(modes: Iterable[Mode], t: Any, ops: Ops) -> tuple[list[Any], Any]:
    """The closed form: w_t = Σ r^t·P w₀ and f(w_t) = Σ r^(2t)·c·λ·w₀ᵀPw₀, in ``ops``' arithmetic."""
    modes = list(modes)
    n = len(modes[0].pw) if modes else 0
    w = [ops.total([ops.times(ops.power(m.r, t), m.pw[i]) for m in modes]) for i in range(n)]
    return w, ops.total([ops.times(ops.power(m.r, 2 * t), m.energy) for m in modes])


def _sympy_ops(dps: int) -> Ops:
    """Exact (or symbolic) powers while small, an mpmath decimal for a huge numeric power."""
    def times(pw: Any, x: Any) -> Any:
        return (pw * x).evalf(REPORT_DIGITS) if isinstance(pw, sympy.Float) else pw * x

    return Ops(lambda r, t: _power(r, t, dps), times, lambda terms: sympy.Add(*terms))


def _mp_ops(mp: Any) -> Ops:
    return Ops(lambda r, t: r**t, lambda a, b: a * b, mp.fsum)


class Final(NamedTuple):
    """w and f after t steps; ``note`` says how they were computed ("" when exact and plain)."""

    w: tuple[Any, ...]
    f: Any
    note: str = ""


def _final(p: Problem, sp: Spectrum) -> Final:
    if p.numeric and p.lr.is_number and p.t_int:
        if p.rational and _is_rat(p.lr) and p.w_numeric and all(_is_rat(x) for x in p.w0) \
                and p.t * p.n * p.n <= EXACT_WORK:
            w = _exact_iterate(p.A, p.w0, p.t)
            if w is not None:
                return Final(tuple(w), _quad(p.S, w, p.c))
        if p.w_numeric:
            return _numeric_final(p)
    if p.t_int and p.t <= SYMBOLIC_ITER_MAX and p.n <= SHOW_N * 2 and not sp.eig.diagonal:
        return _iterated_final(p)
    return _closed_final(p, sp)


def _exact_iterate(A: sympy.MatrixBase, w0: Iterable[Any], t: int) -> Optional[list[sympy.Rational]]:
    """A^t w0 in exact integer arithmetic, or None once the numbers grow past EXACT_BITS."""
    w0 = list(w0)
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


def _quad(S: sympy.MatrixBase, w: Iterable[Any], c: Any) -> Any:
    w = list(w)
    n = len(w)
    return c * sympy.Add(*[S[i, j] * w[i] * w[j] for i in range(n) for j in range(n) if S[i, j] != 0])


def _iterated_final(p: Problem) -> Final:
    """Symbolic inputs, few steps: the iteration expanded."""
    w = list(p.w0)
    for _ in range(p.t):
        w = [sympy.expand(sum((p.A[i, j] * w[j] for j in range(p.n)), sympy.Integer(0))) for i in range(p.n)]
    f = sympy.expand(_quad(p.S, w, p.c))
    tamed = [_tame(x) for x in (*w, f)]
    note = (f"exact numbers of more than {TAME_BITS:,} bits are given to {REPORT_DIGITS} significant digits"
            if any(big for _, big in tamed) else "")
    return Final(tuple(x for x, _ in tamed[:-1]), tamed[-1][0], note)


def _closed_final(p: Problem, sp: Spectrum) -> Final:
    """Symbolic somewhere: Σᵢ rᵢᵗ·Pᵢw₀ with the powers kept (or evaluated when numbers)."""
    groups = sp.eig.groups
    if not groups:  # a numeric eigendecomposition (symbolic w₀): rank-one projectors qqᵀ
        num = _numeric(p)
        groups = []
        for k in range(p.n):
            q = sympy.Matrix([_float(num.Q[i][k], REPORT_DIGITS) for i in range(p.n)])
            groups.append((_float(num.E[k], REPORT_DIGITS), q * q.T))
    w, f = _superpose(_modes(p, groups), p.t, _sympy_ops(p.work_dps))
    return Final(tuple(w), f, "w and f: closed form Σᵢ (1 − εμᵢ)ᵗ Pᵢw₀ with the eigenprojectors "
                              "Pᵢ = qᵢqᵢᵀ, f = Σᵢ c·λᵢ(1 − εμᵢ)²ᵗ w₀ᵀPᵢw₀")


def _modes(p: Problem, groups: Iterable[tuple[Any, Any]]) -> list[Mode]:
    """The exact (or symbolic) modes from the eigenvalues and projectors of S."""
    w0 = sympy.Matrix(p.w0)
    out = []
    for lam, P in groups:
        mu = sympy.expand(p.s * lam)
        Pw = (P * w0).applyfunc(sympy.expand)
        out.append(Mode(sympy.expand(1 - p.lr * mu) if p.lr.is_number else 1 - p.lr * mu, tuple(Pw),
                        sympy.expand(p.c * lam * (w0.T * Pw)[0])))
    return out


def _numeric_final(p: Problem) -> Final:
    """The closed form in mpmath at ``work_dps`` digits; components below its noise are 0."""
    from mpmath import mp

    num, n = _numeric(p), p.n
    with mp.workdps(p.work_dps):
        w0 = [_mpf(x, mp) for x in p.w0]
        y = [mp.fsum(num.Q[i][k] * w0[i] for i in range(n)) for k in range(n)]
        r = [1 - _mpf(p.lr, mp) * _mpf(p.s, mp) * num.E[k] for k in range(n)]
        c = _mpf(p.c, mp)
        modes = [Mode(r[k], tuple(num.Q[i][k] * y[k] for i in range(n)), c * num.E[k] * y[k] ** 2)
                 for k in range(n)]
        w, f = _superpose(modes, p.t, _mp_ops(mp))
        # attainable accuracy: an error δ in Q (or in Qᵀw₀) gives |Δw| ≲ n·δ·‖w₀‖·max|r_k|ᵗ
        rmax_t = max([abs(x) ** p.t for x in r] + [mp.zero])
        delta = mp.mpf(10) ** (-(p.work_dps - 8)) if n <= MP_EIGEN_MAX_N else mp.mpf(1e-13)
        noise = n * delta * mp.sqrt(mp.fsum(x * x for x in w0)) * rmax_t
        znorm = mp.sqrt(mp.fsum((y[k] * r[k] ** p.t) ** 2 for k in range(n)))
        f_noise = 2 * abs(c) * max(abs(x) for x in num.E) * (znorm + noise) * noise
        d = _report_digits(n)
        return Final(tuple(sympy.Integer(0) if abs(v) <= noise else _float(v, d) for v in w),
                     sympy.Integer(0) if abs(f) <= f_noise else _float(f, d),
                     f"w and f: closed form Q(I − εΛ_M)ᵗQᵀw₀ in mpmath at {p.work_dps} digits (no loop over the "
                     f"{p.t:,} steps), reported to {d} significant digits; components below the "
                     "numerical noise (underflow) are reported as 0")


# --------------------------------------------------------------------------- the working


def _listed(title: str, formula: Any, template: Any, rows: Any, value: Any, *, section: str,
            note: str = "", show: bool = True) -> Step:
    """One step of a formula applied entry by entry: ``rows`` holds the values put into
    ``template`` for each entry (a list, or a list of lists for a matrix); ``show=False``
    leaves the substituted line out (long vectors)."""
    def put(r: Any) -> Any:
        return [put(x) for x in r] if isinstance(r, list) else substitute(template, r)

    return Step(title=title, formula=formula, substituted=put(rows) if show and showing() else None, value=value,
                note=note, section=section)


def _sub(k: Any) -> str:
    return str(k).translate(_SUBSCRIPT)


def _derivation_steps(p: Problem) -> list[Step]:
    """f, its symmetric part, ∇f (differentiated by SymPy for small n) and the Hessian M."""
    sec = "f, gradient and Hessian"
    ws = tuple(sympy.Symbol(f"w_{i + 1}", real=True) for i in range(p.n))
    derive = p.n <= DERIVE_N
    f_poly = sympy.expand(_quad(p.H, ws, p.c)) if derive else None
    out = [Step(title="objective", section=sec, formula=_objective(p.half), substituted=f_poly)]
    if not p.symmetric:
        out.append(Step(title="symmetric part of H", section=sec, formula=SYMMETRIC_PART,
                        value=p.S if p.show else None,
                        note="H is not symmetric: wᵀHw is a number, so wᵀHw = (wᵀHw)ᵀ = wᵀHᵀw and "
                             "f(w) = wᵀ·sym(H)·w; H is replaced by sym(H), which gives the same f"))
    out.append(Step(
        title="gradient (derived with SymPy)" if derive else "gradient", section=sec,
        formula=_gradient(p.half), substituted=list(_derive(f_poly, ws, p.M)) if derive else None,
        note="" if p.symmetric else "for symmetric H this is Hw" if p.half else "for symmetric H this is 2Hw"))
    out.append(Step(title="Hessian", section=sec, formula=_hessian(p.half), value=p.M if p.show else None,
                    note="" if p.show else f"M is {p.n}x{p.n}; not written out"))
    return out


def _eigen_steps(p: Problem, sp: Spectrum) -> list[Step]:
    """Eigenvalues of S (by the 2×2 formula where it applies), eigenvectors, μᵢ = sλᵢ."""
    sec, eig = "eigendecomposition", sp.eig
    note = eig.method + ("" if eig.ordered else "; order not known for symbolic values")
    if eig.kind == "2x2":
        a, b, c = p.S[0, 0], p.S[0, 1], p.S[1, 1]
        D = sympy.expand((a - c) ** 2 + 4 * b**2)
        out = [step("discriminant of sym(H) = [[a, b], [b, c]]", DISCRIMINANT,
                    {_A: a, _B: b, _C: c} if p.numeric else None, value=D, section=sec),
               Step(title="eigenvalues of sym(H)", section=sec, formula=EIGENVALUES["2x2"], value=eig.values,
                    substituted=[substitute(e, {_A: a, _C: c, _D: D}) for e in EIGEN_2X2]
                    if p.numeric and showing() else None,
                    note=note)]
    else:
        out = [Step(title="eigenvalues of sym(H)", section=sec, value=eig.values, note=note,
                    formula=EIGENVALUES["diagonal" if eig.diagonal else "general"])]
    if p.show and eig.Q is not None:
        out.append(Step(title="eigenvectors (columns of Q, orthonormal: QᵀQ = I)", section=sec,
                        formula=EIGENVECTORS, value=eig.Q.applyfunc(_decimal)))
    elif p.n == 2 and eig.Q is None:
        a, b = p.S[0, 0], p.S[0, 1]
        out.append(Step(title="eigenvectors (not normalized)", section=sec, formula=EIGENVECTORS_SYMBOLIC,
                        value=[[b, sympy.expand(lam - a)] for lam in eig.values],
                        note="valid when b ≠ 0 (for b = 0, H is diagonal and Q = I)"))
    out.append(Step(title="Hessian eigenvalues", section=sec, formula=HESSIAN_EIGEN[p.half], value=list(sp.mu)))
    return out


def _descent_steps(p: Problem, sp: Spectrum, final: Final, ascent: bool = False) -> list[Step]:
    """I − εM, the contraction factors, the first iterates, w_t by the closed form, f(w_t)."""
    sec = "gradient descent"
    factors = _listed("contraction factors (the eigenvalues of I − εM)", FACTOR, FACTOR.rhs,
                      [{ONE: 1, EPS: p.lr, MU_I: _tidy(m_)} for m_ in sp.mu], list(sp.factors), section=sec,
                      show=p.n <= SHOW_N and _numbers(sp.mu),
                      note="eigendirection i is multiplied by rᵢ at every step")
    closed = Step(title=f"w after t = {p.t} step" + ("" if p.t == 1 else "s"), section=sec,
                  formula=CLOSED_FORM, substituted=_closed_shown(p, sp) if showing() else None,
                  value=list(final.w))
    return [_iteration_step(p, ascent), factors, *_iterate_steps(p), closed, _f_step(p, final)]


def _iteration_step(p: Problem, ascent: bool) -> Step:
    """I − εM, entry by entry (δᵢⱼ − ε·mᵢⱼ); ``ascent`` (a mistake) names it I + εM."""
    n = p.n
    shown = None
    if n <= SUBSTITUTE_N and p.numeric and showing():
        shown = [[substitute(ITERATION_ENTRY[0], {ONE: 1, EPS: p.lr, M_IJ: p.M[i, j]}) if i == j else
                  substitute(ITERATION_ENTRY[1], {EPS: p.lr, M_IJ: p.M[i, j]}) for j in range(n)] for i in range(n)]
    return Step(title="gradient-ascent step (the wrong sign)" if ascent else "gradient-descent step",
                section="gradient descent", formula=ITERATION[ascent], substituted=shown,
                value=p.A if p.show else None,
                note=("w_t = w_{t−1} + ε∇f(w_{t−1}) = (I + εM)·w_{t−1}" if ascent
                      else "w_t = w_{t−1} − ε∇f(w_{t−1}) = (I − εM)·w_{t−1}"))


def _closed_shown(p: Problem, sp: Spectrum) -> Optional[list[Any]]:
    """The closed form with the numbers put in, Σ_g r_gᵗ·(P_g w₀)ᵢ for each entry i: for the
    exact eigenprojectors (rationals and surds) of a small rational problem."""
    groups = sp.eig.groups
    if not (groups and p.rational and _is_rat(p.lr) and all(_is_rat(x) for x in p.w0) and p.t_int
            and p.t > 0 and p.n <= SUBSTITUTE_N):
        return None
    one, scale = sympy.Integer(1), -p.lr * p.s
    rs = [_surd_dot((one, lam), (one, scale)) for lam, _ in groups]  # r = 1 − ε·s·λ
    pws = [[_surd_dot(P.row(i), p.w0) for i in range(p.n)] for _, P in groups]  # P·w₀
    if any(x is None for x in (*rs, *(x for pw in pws for x in pw))):
        return None
    # one shown number per factor r_g, shared by the entries (t as a plain number)
    shown_r = [Shown(r) for r in rs]
    return [sympy.Add(*[sympy.Mul(sympy.Pow(r, p.t, evaluate=False), Shown(pw[i]), evaluate=False)
                        for r, pw in zip(shown_r, pws) if pw[i] != 0], evaluate=False) for i in range(p.n)]


def _iterate_steps(p: Problem) -> list[Step]:
    """w_k = w_{k−1} − ε·M·w_{k−1}, written out for each of the first few steps."""
    if not (p.t_int and 1 <= p.t <= SHOW_ITERATES and p.show):
        return []
    n, out, w = p.n, [], list(p.w0)
    for k in range(1, p.t + 1):
        w_new = [sympy.expand(w[i] - p.lr * sum((p.M[i, j] * w[j] for j in range(n)), sympy.Integer(0)))
                 for i in range(n)]
        a, b = _sub(k), _sub(k - 1)
        out.append(Step(title=f"w{a} = w{b} − ε∇f(w{b}) = w{b} − ε·M·w{b}", section="gradient descent",
                        substituted=[_dot_line(w[i], p.lr, p.M.row(i), w) for i in range(n)]
                        if n <= SUBSTITUTE_N and p.numeric and _numbers(w) and showing() else None,
                        value=w_new))
        w = w_new
    return out


_W = sympy.Symbol("w")
_MS = sympy.symbols(f"m_1:{SUBSTITUTE_N + 1}")  # a dot line is written out up to SUBSTITUTE_N terms
_VS = sympy.symbols(f"v_1:{SUBSTITUTE_N + 1}")


@functools.lru_cache(maxsize=None)
def _dot_template(k: int, lead: bool, scaled: bool) -> Any:
    """w − ε·(m₁v₁ + … + m_kv_k) (``lead``: with w, ``scaled``: with ε): one entry of a
    matrix–vector step."""
    terms = sympy.Add(*[_MS[j] * _VS[j] for j in range(k)])
    body = EPS * terms if scaled else terms
    if not lead:
        return body
    return sympy.Add(_W, sympy.Mul(-1, body, evaluate=False) if k > 1 and not scaled else -body, evaluate=False)


def _dot_line(lead: Any, scale: Any, row: Any, vec: Any) -> Any:
    """lead − scale·Σⱼ rowⱼ·vecⱼ with the numbers shown (no lead, no scale: the sum alone);
    terms with rowⱼ = 0 are left out."""
    js = [j for j in range(len(vec)) if row[j] != 0]
    values: dict[Any, Any] = {_W: lead} if lead is not None else {}
    if scale is not None:
        values[EPS] = scale
    for k, j in enumerate(js):
        values[_MS[k]] = row[j]
        values[_VS[k]] = vec[j]
    return substitute(_dot_template(len(js), lead is not None, scale is not None), values)


_F_WT = sympy.Function("f")(sympy.Symbol("w_t"))


def _f_step(p: Problem, final: Final) -> Step:
    """f(w_t): the polynomial f put to the numbers of w_t (small exact runs), else its value."""
    sec = "gradient descent"
    if not (p.n <= SUBSTITUTE_N and all(isinstance(x, sympy.Rational) for x in final.w)):
        return Step(title="f at that w", section=sec, formula=_objective(p.half, "w_t"), value=final.f)
    ws = [sympy.Symbol(f"w_{i + 1}", real=True) for i in range(p.n)]
    return step("f at that w", eq(_F_WT, sympy.expand(_quad(p.H, ws, p.c))), dict(zip(ws, final.w)),
                value=final.f, section=sec)


def _direction_steps(p: Problem, sp: Spectrum) -> list[Step]:
    """|1 − εμᵢ| for each eigendirection, and what it means (one step each, or one list)."""
    sec = "eigendirections"
    sizes = [_abs(f_) for f_ in sp.factors]
    notes = [_direction(sg, a, p.lr) for sg, a in zip(sp.signs, sizes)]
    if not p.show:
        return [Step(title="contraction factors |1 − εμᵢ|", section=sec, formula=CONTRACTION, value=sizes,
                     note=_summary_of_directions(notes))]
    return [Step(title=f"direction {i + 1}: contraction factor", section=sec, formula=CONTRACTION, value=a,
                 note=what) for i, (a, what) in enumerate(zip(sizes, notes))]


def _direction(sg: Optional[int], absf: Any, lr: Any) -> str:
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


def _kind_of_point(signs: Iterable[Optional[int]]) -> str:
    signs = list(signs)
    pos, neg, zero = (sum(1 for s_ in signs if s_ == k) for k in (1, -1, 0))
    if neg and pos:
        return "w = 0 is a saddle point: f is unbounded below along the negative-curvature directions"
    if neg:
        return "w = 0 is a maximum" + (" (with flat directions)" if zero else "") + \
               ": f is unbounded below, gradient descent diverges"
    return "positive semidefinite: the minimizers form a subspace (the flat directions); " \
           "w_t keeps its flat components and does not converge to 0"


# --------------------------------------------------------------------------- convergence


def _convergence(p: Problem, sp: Spectrum) -> tuple[Any, list[Step]]:
    """Whether every |1 − εμᵢ| < 1: a bool, or the condition on the symbols (solved for a
    symbolic ε, with its step)."""
    lr, mu = p.lr, sp.mu
    if lr.is_number and all(f_.is_number for f_ in sp.factors):
        return all(_less(_abs(f_), 1) for f_ in sp.factors), []
    if lr == 0:
        return False, []
    if isinstance(lr, sympy.Symbol) and all(m_.is_number for m_ in mu):
        solved = sympy.false if any(_sign(m_) != 1 for m_ in mu) else _solve_for_lr(lr, mu)
        # no formula line: "0 < εμᵢ < 2 = 0 < ε < …" would equate two conditions
        return _truth(solved), [Step(title="solve |1 − εμᵢ| < 1 for every i, that is 0 < εμᵢ < 2",
                                     section="convergence", value=solved,
                                     note="solved for ε with SymPy (reduce_inequalities)")]
    if sp.eig.ordered and lr.is_positive:
        cond = sympy.And(mu[0] > 0, mu[-1] < 2 / lr)
    elif sp.eig.ordered and lr.is_negative:
        cond = sympy.And(mu[-1] < 0, mu[0] > 2 / lr)
    else:
        cond = sympy.And(*[sympy.And(lr * m_ > 0, lr * m_ < 2) for m_ in mu])
    return _truth(cond), []


def _solve_for_lr(lr: sympy.Symbol, mu: Iterable[Any]) -> Any:
    """0 < εμᵢ < 2 for every (positive) μᵢ, as one condition on ε with short exact bounds."""
    mu = list(mu)
    solved = sympy.reduce_inequalities([lr * m_ > 0 for m_ in mu] + [lr * m_ < 2 for m_ in mu], lr)
    return solved.xreplace({r_: r_.func(_nice(r_.lhs) if r_.lhs.is_number else r_.lhs,
                                        _nice(r_.rhs) if r_.rhs.is_number else r_.rhs)
                            for r_ in solved.atoms(sympy.core.relational.Relational)})


def _truth(rel: Any) -> Any:
    """A relational as a Python bool when it is decided, else the SymPy condition."""
    if rel is sympy.true or rel is True:
        return True
    if rel is sympy.false or rel is False:
        return False
    return rel


class Rates(NamedTuple):
    """lr_max = 2/μ_max, lr_opt = 2/(μ_min + μ_max) and the rate (κ − 1)/(κ + 1) at lr_opt."""

    lr_max: Any
    lr_opt: Any
    rate: Any


def _rate_steps(p: Problem, sp: Spectrum, converges: Any) -> tuple[Optional[Rates], list[Step]]:
    """The step-size analysis where sym(H) is positive definite (or symbolic), else why not."""
    sec, eig = "convergence", sp.eig
    if eig.ordered and (sp.pd or not sp.known):
        lo, hi = sp.mu[0], sp.mu[-1]
        lr_max, lr_opt, kappa, rate = _optimal(lo, hi)
        cond = "" if sp.pd else " (valid when sym(H) is positive definite, i.e. λ₁ > 0)"
        # the numbers put in (in the order the formulas print them); none for symbols
        shown = {MU_MAX: _tidy(hi), MU_MIN: _tidy(lo)} if _numbers((lo, hi)) else {}
        return Rates(lr_max, lr_opt, rate), [
            step("largest stable step: gradient descent converges for 0 < ε < ε_max" + cond, LR_MAX,
                 {k: v for k, v in shown.items() if k is MU_MAX}, value=lr_max, note=_lr_note(converges), section=sec),
            step("best fixed step", LR_OPT, shown, value=lr_opt, section=sec,
                 note="it balances the slowest and the fastest direction: 1 − ε_opt·μ_min = −(1 − ε_opt·μ_max)"),
            step("condition number", CONDITION, shown, value=kappa, section=sec),
            step("rate with ε_opt", RATE, {KAPPA: _tidy(kappa)} if shown else None, value=rate, section=sec,
                 note="‖w_t − w*‖ ≤ ρᵗ‖w₀ − w*‖, w* = 0"),
            *_needed_steps(p, sp, rate)]
    if sp.known:
        return None, [Step(title="no step size converges", section=sec, value=_kind_of_point(sp.signs),
                           note="sym(H) is not positive definite: for every ε > 0 some direction keeps or "
                                "grows its component, so lr_max, lr_opt and rate do not exist (left out of "
                                "the result)")]
    return None, [Step(title="convergence", section=sec, formula=LR_MAX,
                       note="the eigenvalue order is not known for these symbols, so μ_max, lr_max, lr_opt "
                            "and rate are left out; converges is the condition on each direction")]


def _lr_note(converges: Any) -> str:
    if converges is True:
        return "the given ε is inside the range: gradient descent converges"
    if converges is False:
        return "the given ε is outside the range: gradient descent does not converge"
    return "converges exactly for the ε in this range"


def _needed_steps(p: Problem, sp: Spectrum, rate: Any) -> list[Step]:
    """Steps to shrink the error by tol, with the given ε and with ε_opt."""
    out = []
    if p.lr.is_number and all(f_.is_number for f_ in sp.factors):
        rho = functools.reduce(lambda a, b: b if _less(a, b) else a, [_abs(f_) for f_ in sp.factors])
        out.append(_needed_step("steps to shrink the error by tol, with the given ε", rho, p.tol,
                                "ρ = max |1 − εμᵢ| for the given ε", "never (ρ ≥ 1)"))
    out.append(_needed_step("steps to shrink the error by tol, with ε_opt", rate, p.tol,
                            "ρ = (κ − 1)/(κ + 1)", "never"))
    return out


def _needed_step(title: str, rho: Any, tol: Any, what: str, never: str) -> Step:
    k, sec = _needed(rho, tol), "convergence"
    note = f"the smallest t with ρᵗ ≤ tol; {what}"
    if k is None or not k.is_number or rho == 0:
        value = never if k is None else k if k.is_number else sympy.ceiling(k)
        return Step(title=title, section=sec, formula=STEPS_NEEDED, value=value, note=note)
    return step(title, STEPS_NEEDED, {TOL: tol, RHO: _tidy(rho)}, value=k, note=note, section=sec)


# --------------------------------------------------------------------------- Newton


SINGULAR = ("cannot take a Newton step: the Hessian M is singular (it has a zero eigenvalue), "
            "so M⁻¹∇f does not exist")
DET_M = Named("det M", "det M", r"\det M")
INVERSE = sympy.Symbol("M^-1")


class Newton(NamedTuple):
    """One Newton step: the gradient g = M·w₀ at the start, w₁ = w₀ − M⁻¹g, M⁻¹ when it was
    formed (to show), det M when it is symbolic (assumed ≠ 0), and a note."""

    g: tuple[Any, ...]
    w1: tuple[Any, ...]
    Minv: Any = None
    det: Any = None
    note: str = ""


def _newton(p: Problem, sp: Spectrum) -> tuple[tuple[Any, ...], list[Step]]:
    g = tuple(sympy.expand(sum((p.M[i, j] * p.w0[j] for j in range(p.n)), sympy.Integer(0))) for i in range(p.n))
    if p.rational:
        nt = _newton_rational(p, g)
    elif p.numeric:
        nt = _newton_numeric(p, sp, g)
    else:
        nt = _newton_symbolic(p, g)
    return nt.w1, _newton_steps(p, sp, nt)


def _newton_rational(p: Problem, g: tuple[Any, ...]) -> Newton:
    """Exact: an LU solve over the rationals (M⁻¹ itself for symbolic w₀ or to show it)."""
    from sympy.polys.matrices import DomainMatrix

    if p.nullity:
        raise InputError("--newton", SINGULAR)
    if p.n <= SUBSTITUTE_N:  # small: M⁻¹ by Gauss–Jordan in fractions, then M⁻¹·g
        Minv = _inverse_fractions(p.M)
        d = [sympy.expand(sum((Minv[i, j] * g[j] for j in range(p.n)), sympy.Integer(0))) for i in range(p.n)]
        return Newton(g, tuple(sympy.expand(p.w0[i] - d[i]) for i in range(p.n)), Minv)
    dM = DomainMatrix.from_Matrix(sympy.Matrix(p.M)).convert_to(sympy.QQ)
    Minv = None
    if all(x.is_Rational for x in p.w0):
        b = DomainMatrix.from_Matrix(sympy.Matrix(g)).convert_to(sympy.QQ)
        d = list(dM.lu_solve(b).to_Matrix())
        if p.n <= 3:
            Minv = dM.inv().to_Matrix()
    else:
        Minv = dM.inv().to_Matrix()
        d = [sympy.expand(sum((Minv[i, j] * g[j] for j in range(p.n)), sympy.Integer(0))) for i in range(p.n)]
    return Newton(g, tuple(sympy.expand(p.w0[i] - d[i]) for i in range(p.n)), Minv)


def _inverse_fractions(M: sympy.MatrixBase) -> sympy.Matrix:
    """The inverse of a small nonsingular rational matrix, by Gauss–Jordan in fractions."""
    n = M.rows
    rows = [[Fraction(int(M[i, j].p), int(M[i, j].q)) for j in range(n)] + [Fraction(int(i == j)) for j in range(n)]
            for i in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [x / lead for x in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                k = rows[r][col]
                rows[r] = [x - k * y for x, y in zip(rows[r], rows[col])]
    return sympy.Matrix(n, n, lambda i, j: sympy.Rational(rows[i][n + j].numerator, rows[i][n + j].denominator))


def _newton_numeric(p: Problem, sp: Spectrum, g: tuple[Any, ...]) -> Newton:
    """Irrational numbers: an mpmath solve at ``work_dps`` digits; results below its noise are 0."""
    from mpmath import mp

    if any(s_ == 0 for s_ in sp.signs):
        raise InputError("--newton", SINGULAR)
    n = p.n
    with mp.workdps(p.work_dps):
        Mm = mp.matrix([[_mpf(p.M[i, j], mp) for j in range(n)] for i in range(n)])
        try:
            if p.w_numeric:
                dm = mp.lu_solve(Mm, mp.matrix([_mpf(x, mp) for x in g]))
                w0 = [_mpf(x, mp) for x in p.w0]
                noise = max([abs(x) for x in w0] + [mp.mpf(1)]) * n * mp.mpf(10) ** (-(p.work_dps - 10))
                return Newton(g, tuple(sympy.Integer(0) if abs(w0[i] - dm[i]) <= noise else _float(w0[i] - dm[i])
                                       for i in range(n)))
            Mi = mp.inverse(Mm)
        except ZeroDivisionError:  # mpmath: "matrix is numerically singular"
            return _ill_conditioned(p, sp, g)
    Minv = sympy.Matrix(n, n, lambda i, j: _float(Mi[i, j]))
    w1 = [sympy.expand(p.w0[i] - sum((Minv[i, j] * g[j] for j in range(n)), sympy.Integer(0))) for i in range(n)]
    return Newton(g, tuple(sympy.Integer(0) if x.is_number and abs(x) < 1e-15 else x for x in w1), Minv)


def _ill_conditioned(p: Problem, sp: Spectrum, g: tuple[Any, ...]) -> Newton:
    """M too close to singular for a ``work_dps``-digit solve: w₁ = w₀ − M⁻¹(Mw₀) = 0 exactly
    when M is known to be nonsingular (exact nonzero eigenvalues), else an error."""
    if not (sp.eig.exact and sp.known):
        raise InputError("--newton", f"cannot take a Newton step: the Hessian M is numerically singular at "
                                     f"{p.work_dps} digits (an eigenvalue is zero to that precision), so "
                                     "M⁻¹∇f cannot be computed")
    return Newton(g, (sympy.Integer(0),) * p.n,
                  note=f"; M is too ill-conditioned for a {p.work_dps}-digit solve, but its eigenvalues are exact "
                       "and nonzero, so w₁ = w₀ − M⁻¹(M·w₀) = 0 exactly")


def _newton_symbolic(p: Problem, g: tuple[Any, ...]) -> Newton:
    """Symbols: M⁻¹ = adj(M)/det M, valid where det M ≠ 0."""
    M = sympy.Matrix(p.M)
    det = sympy.factor(M.det())
    if det == 0:
        raise InputError("--newton", SINGULAR)
    Minv = M.adjugate() / det
    w1 = tuple(sympy.cancel(p.w0[i] - sum((Minv[i, j] * g[j] for j in range(p.n)), sympy.Integer(0)))
               for i in range(p.n))
    return Newton(g, w1, Minv, det)


def _newton_steps(p: Problem, sp: Spectrum, nt: Newton) -> list[Step]:
    sec, n, small = "Newton's method", p.n, p.n <= SUBSTITUTE_N
    out = []
    if nt.det is not None:
        out.append(Step(title="Newton needs det M ≠ 0", section=sec, formula=DET_M, value=nt.det,
                        note="assumed ≠ 0 for these symbols"))
    Minv = nt.Minv if p.show else None
    if Minv is not None and not all(x.is_number for x in Minv):
        Minv = Minv.applyfunc(sympy.factor)
    if p.show:
        out.append(Step(title="gradient at w₀", section=sec, formula=NEWTON_GRADIENT, value=list(nt.g),
                        substituted=[_dot_line(None, None, p.M.row(i), p.w0) for i in range(n)]
                        if small and p.numeric and p.w_numeric else None))
    if Minv is not None:
        out.append(Step(title="inverse Hessian", section=sec, formula=INVERSE, value=Minv))
    if sp.pd:
        what = "for positive-definite H this is the minimizer w* = 0, reached in one step"
    elif sp.known:
        what = "M is not positive definite: Newton jumps to the critical point w = 0, which is not a minimum"
    else:
        what = "the critical point w = 0, reached in one step"
    out.append(Step(title="Newton step", section=sec, formula=NEWTON, value=list(nt.w1), note=what + nt.note,
                    substituted=[_dot_line(p.w0[i], None, Minv.row(i), nt.g) for i in range(n)]
                    if small and Minv is not None and _numbers((*Minv, *p.w0)) else None))
    return out


def _cost_step(n: int) -> Step:
    return Step(title="cost per step", section="gradient descent vs Newton", formula=COST,
                note=f"here n = {n}: a gradient step costs one matrix-vector product (n² = {n * n:,} "
                     "multiply-adds); Newton needs one step for a quadratic (positive definite H) but each "
                     f"step costs an n×n solve (about n³/3 = {round(n ** 3 / 3):,} multiply-adds with a "
                     "Cholesky or LU factorization)")


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
    fast = _optimal_surd(mu_min, mu_max)
    if fast is not None:
        return fast
    return (_nice(2 * _inv(mu_max)), _nice(2 * _inv(mu_min + mu_max)), _nice(mu_max * _inv(mu_min)),
            _rate(mu_min, mu_max))


def _optimal_surd(mu_min: Any, mu_max: Any) -> Optional[tuple[Any, Any, Any, Any]]:
    """:func:`_optimal_of` for quadratic surds μ = u + v·√p (one p), in fractions: the same
    canonical SymPy numbers as simplifying the quotients, without SymPy's expansions."""
    a, b = _surd(mu_min), _surd(mu_max)
    if a is None or b is None or (a[1] and b[1] and a[2] != b[2]):
        return None
    p = a[2] if a[1] else b[2]

    def mul(x: tuple[Fraction, Fraction], y: tuple[Fraction, Fraction]) -> tuple[Fraction, Fraction]:
        return x[0] * y[0] + x[1] * y[1] * p, x[0] * y[1] + x[1] * y[0]

    def inv(x: tuple[Fraction, Fraction]) -> tuple[Fraction, Fraction]:
        d = x[0] * x[0] - x[1] * x[1] * p
        return x[0] / d, -x[1] / d

    lo, hi = (a[0], a[1]), (b[0], b[1])
    total, gap, two = (lo[0] + hi[0], lo[1] + hi[1]), (hi[0] - lo[0], hi[1] - lo[1]), (Fraction(2), Fraction(0))
    if 0 in (lo[0] * lo[0] - lo[1] * lo[1] * p, hi[0] * hi[0] - hi[1] * hi[1] * p,
             total[0] * total[0] - total[1] * total[1] * p):
        return None
    root = sympy.sqrt(sympy.Rational(p.numerator, p.denominator))
    return tuple(sympy.Rational(u.numerator, u.denominator) + sympy.Rational(v.numerator, v.denominator) * root
                 for u, v in (mul(two, inv(hi)), mul(two, inv(total)), mul(hi, inv(lo)), mul(gap, inv(total))))


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


# --------------------------------------------------------------------------- the solver


def solve(inp: Inputs, *, symmetrize: bool = True, ascent: bool = False) -> Solution:
    """The worked solution (see :func:`work`); ``symmetrize=False`` and ``ascent`` (the
    update w + ε∇f, which is descent with the step −ε) are mistakes for ``--check``."""
    kw = as_kwargs(inp)
    if ascent:
        kw["lr"] = -inp.lr
    return work(**kw, symmetrize=symmetrize, ascent=ascent)


def work(H: Any, w0: Any, lr: Any, *, steps: Any = 1, newton: bool = False,
         tol: Any = sympy.Rational(1, 10**6), half: bool = False, symmetrize: bool = True,
         ascent: bool = False) -> Solution:
    """Gradient descent (and one Newton step) on f(w) = wᵀHw, or ½wᵀHw with ``half``.

    ``symmetrize=False`` is a common mistake (∇f = 2Hw for a non-symmetric H), kept as a flag
    so that ``--check`` can recognise it: the iteration then uses M = 2H.  ``ascent`` only
    names the iteration step (the caller has already negated ε).
    """
    if not symmetrize:
        return _unsymmetrized(H, w0, lr, steps=steps, half=half)
    _check_inputs(H, w0, lr, steps, tol)
    p = _problem(H, w0, lr, steps, tol, half)
    eig, notes = _eigen(p)
    sp = _spectrum(p, eig)
    final = _final(p, sp)
    converges, solved = _convergence(p, sp)
    rates, rate_steps = _rate_steps(p, sp, converges)
    newton_w, newton_steps = _newton(p, sp) if newton else (None, [])
    working = [*_derivation_steps(p), *_eigen_steps(p, sp), *_descent_steps(p, sp, final, ascent),
               *_direction_steps(p, sp), *solved, *rate_steps, *newton_steps, _cost_step(p.n)]
    result: dict[str, Any] = {"eigenvalues": list(eig.values), "hessian_eigenvalues": list(sp.mu),
                              "converges": converges}
    if rates is not None:
        result.update(lr_max=rates.lr_max, lr_opt=rates.lr_opt, rate=rates.rate)
    result.update(w=list(final.w), f=final.f)
    if newton:
        result["newton_w"] = list(newton_w)
    return Solution(command="quadratic-gd", inputs=_inputs(p, newton), conventions=_conventions(half),
                    steps=tuple(working), result=result,
                    notes=tuple(x for x in (*notes, final.note) if x))


def _inputs(p: Problem, newton: bool) -> dict[str, Any]:
    inputs: dict[str, Any] = {"H": sympy.Matrix(p.H), "w0": list(p.w0), "lr": p.lr,
                              "steps": sympy.Integer(p.t) if p.t_int else p.t}
    if p.tol != sympy.Rational(1, 10**6):
        inputs["tol"] = p.tol
    if p.half:
        inputs["half"] = True
    if newton:
        inputs["newton"] = True
    return inputs


def _conventions(half: bool) -> dict[str, str]:
    return {
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


def _unsymmetrized(H: Any, w0: Any, lr: Any, *, steps: Any, half: bool) -> Solution:
    """The mistaken run with M = 2H (or H) for a non-symmetric H: w and f only."""
    Hm = sympy.Matrix(H)
    if Hm == Hm.T or not isinstance(steps, int) or steps > 10_000 or not lr.is_number:
        raise InputError(None, "the unsymmetrized variant applies to a numeric non-symmetric H only")
    M = (Hm if half else 2 * Hm)
    w = sympy.Matrix(list(w0))
    step_matrix = sympy.eye(len(H)) - lr * M
    for _ in range(steps):
        w = step_matrix * w
    c = sympy.Rational(1, 2) if half else sympy.Integer(1)
    f = sympy.expand(c * (w.T * Hm * w)[0, 0])
    return Solution(command="quadratic-gd", inputs={}, conventions={}, steps=(
        Step(title="gradient (H not symmetrized)", formula=eq(_GRAD_W, ordered_product(2, _H, _W))),),
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


# --------------------------------------------------------------------------- --plot

MAX_PLOTTED_STEPS = 400


def iterates(p: Problem, count: int) -> list[list[float]]:
    """w₀, w₁, …, w_count in floats from the solver's own closed form (:func:`_superpose`
    over the modes of S), stopping early where they leave the float range."""
    eig, _ = _eigen(p)
    if eig.groups:
        modes = [Mode(float(m.r), tuple(float(x) for x in m.pw), float(m.energy)) for m in _modes(p, eig.groups)]
    else:
        num = _numeric(p)
        y = [math.fsum(float(num.Q[i][k]) * float(p.w0[i]) for i in range(p.n)) for k in range(p.n)]
        modes = [Mode(1 - float(p.lr) * float(p.s) * float(num.E[k]),
                      tuple(float(num.Q[i][k]) * y[k] for i in range(p.n)), 0.0) for k in range(p.n)]
    ops = Ops(lambda r, t: r**t, lambda a, b: a * b, math.fsum)
    path = []
    for k in range(count + 1):
        try:
            w = _superpose(modes, k, ops)[0]
        except OverflowError:
            break
        if not all(math.isfinite(x) and abs(x) < 1e150 for x in w):
            break
        path.append(w)
    return path


def plot(solution: Solution, fig: Any) -> None:
    """``--plot``: for 2-D w, contour lines of f with the gradient-descent iterates and the
    Newton step; otherwise ‖w_t‖ and |f(w_t)| against t on a log scale, with each
    eigendirection's contraction factor |1 − εμᵢ| in the title."""
    inp = solution.inputs
    H, w0, lr, t = inp["H"], inp["w0"], inp["lr"], inp["steps"]
    if not all(x.is_number for x in (*H, *w0, lr, t)):
        raise InputError("--plot", "needs numbers, but this run is symbolic")
    p = _problem(H.tolist(), w0, lr, int(t), inp.get("tol", sympy.Rational(1, 10**6)), bool(inp.get("half")))
    path = iterates(p, min(int(t), MAX_PLOTTED_STEPS))
    mus = [float(m_) for m_ in solution.result["hessian_eigenvalues"]]
    factors = ", ".join(f"|1−εμ{i + 1}| = {abs(1 - float(lr) * m_):.3g}" for i, m_ in enumerate(mus))
    newton = [float(x) for x in solution.result["newton_w"]] if "newton_w" in solution.result else None
    Hf = [[float(x) for x in row] for row in H.tolist()]
    c = 0.5 if p.half else 1.0
    ax = fig.add_subplot(1, 1, 1)
    if p.n == 2:
        _plot_contours(ax, Hf, c, path, newton, float(lr), min(mus) > 0)
        ax.set_title("f(w) = " + ("½" if p.half else "") + "wᵀHw: " + factors, fontsize=9)
        return
    norms = [max(math.sqrt(math.fsum(x * x for x in w)), 1e-300) for w in path]
    fs = [max(abs(c * math.fsum(w[i] * Hf[i][j] * w[j] for i in range(p.n) for j in range(p.n))), 1e-300)
          for w in path]
    ax.semilogy(range(len(path)), norms, label="‖w_t‖")
    ax.semilogy(range(len(path)), fs, label="|f(w_t)|")
    ax.set_xlabel("step t")
    ax.set_title(f"gradient descent on f(w) = wᵀHw, n = {p.n}, ε = {float(lr):g}\n{factors}", fontsize=9)
    ax.legend()


def _plot_contours(ax: Any, Hf: list[list[float]], c: float, path: list[list[float]],
                   newton: Optional[list[float]], lr: float, minimum: bool) -> None:
    import numpy as np

    pts = path + ([newton] if newton else [])
    span = max(max(abs(q[0]) for q in pts), max(abs(q[1]) for q in pts), 1e-9) * 1.3
    X, Y = np.meshgrid(np.linspace(-span, span, 200), np.linspace(-span, span, 200))
    Z = c * (Hf[0][0] * X * X + (Hf[0][1] + Hf[1][0]) * X * Y + Hf[1][1] * Y * Y)
    ax.contour(X, Y, Z, levels=20, cmap="viridis", linewidths=0.8)
    ax.plot([q[0] for q in path], [q[1] for q in path], "o-", color="tab:red", ms=3,
            label=f"gradient descent, ε = {lr:g}, {len(path) - 1} steps")
    if newton:
        ax.annotate("", xy=newton, xytext=path[0], arrowprops={"arrowstyle": "->", "color": "tab:blue"})
        ax.plot([newton[0]], [newton[1]], "s", color="tab:blue", label="Newton step (one step to the minimum)")
    ax.plot([0], [0], "k*", ms=10, label="minimum w* = 0" if minimum else "stationary point 0")
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper right")
