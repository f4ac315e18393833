"""deslant: deslanting by second moments and a horizontal shear (the course notes' figure).

The moments are OpenCV's (``cv2.moments``): for an image, x is the column index and y the
row index of a pixel and each pixel is weighted by its intensity I(y, x); for ``--points``
every point has weight 1.  With the raw moments m_pq = Σ w·xᵖ·y^q:

* centroid x̄ = m₁₀/m₀₀, ȳ = m₀₁/m₀₀;
* central moments μ_pq = Σ w·(x − x̄)ᵖ·(y − ȳ)^q (OpenCV's ``mu20``, ``mu11``, ``mu02``), and
  the covariance in population form, Var(x) = μ₂₀/m₀₀, Cov(x, y) = μ₁₁/m₀₀, Var(y) = μ₀₂/m₀₀;
* its eigendecomposition (the principal axes), eigenvalues ascending, each eigenvector of
  unit length with its first nonzero component positive;
* the skew s = μ₁₁/μ₀₂ and the horizontal shear x′ = x − s·(y − ȳ), y′ = y, after which
  Cov(x′, y′) = Cov(x, y) − s·Var(y) = 0: the slant is gone.

An image is resampled by the inverse map: the output pixel (y, x′) takes the intensity at
x = x′ + s·(y − ȳ) on the same row, linearly interpolated between the two nearest columns,
with zeros outside the image (``cv2.warpAffine`` with ``WARP_INVERSE_MAP``, ``INTER_LINEAR`` and a
zero border does the same, up to its 1/32-pixel fixed-point weights).  Note that OpenCV's
digit-deskew sample shears about the image's centre row, not about ȳ.

Sums are exact (integers over one common denominator); the eigenvalues and eigenvectors are
exact surds; the sheared points and the resampled image are exact up to :data:`EXACT_PIXELS`
values, and beyond that doubles (each the correctly rounded value of the exact one for points,
linear interpolation in doubles for an image), as are the echoed inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import sympy
from sympy import Add, Mul, Pow, Rational, Symbol

from dlcalc.board import Named, OAdd, Several, Sigma, eq, ordered_product, step as wstep, steps_of as wlist, written
from dlcalc.core import Math, Mistake, Solution, Step
from dlcalc.errors import InputError
from dlcalc.registry import Command, Option

COMMAND = Command(
    name="deslant",
    summary="Deslant by moments: centroid, covariance, principal axes, skew μ₁₁/μ₀₂ and the shear.",
    description="Points (x, y) or an image (x = column, y = row, weighted by intensity, as "
                "cv2.moments); the shear x′ = x − skew·(y − ȳ) makes Cov(x′, y′) = 0.",
    example='dlcalc deslant --points "[[0, 0], [1, 1], [2, 2], [1, 0], [2, 1]]"',
    plot=True,
    options=(
        Option("--points", "An n×2 matrix of points x, y (\"[[0, 0], [1, 1], [2, 3]]\", \"0 0; 1 1; 2 3\", "
                           "@FILE.csv or -)."),
        Option("--image", "A matrix of intensities ≥ 0, rows top to bottom (x = column index, y = row "
                          "index), inline or @FILE as CSV or JSON."),
    ),
)

EXACT_PIXELS = 4096   # images resampled exactly up to this many pixels (and points up to half as many)
SHOW_POINTS = 8       # points whose shear is written out

M00, M10, M01 = Symbol("m_00"), Symbol("m_10"), Symbol("m_01")
MU20, MU11, MU02 = Symbol("mu_20"), Symbol("mu_11"), Symbol("mu_02")
XBAR, YBAR = Symbol("xbar"), Symbol("ybar")
VX = Named("Var_x", "Var(x)", r"\mathrm{Var}(x)")
CXY = Named("Cov_xy", "Cov(x, y)", r"\mathrm{Cov}(x, y)")
VY = Named("Var_y", "Var(y)", r"\mathrm{Var}(y)")
VXP = Named("Var_x'", "Var(x′)", r"\mathrm{Var}(x')")
CXYP = Named("Cov_x'y'", "Cov(x′, y′)", r"\mathrm{Cov}(x', y')")
SKEW = Symbol("s")
L1, L2 = Symbol("lambda_1"), Symbol("lambda_2")
XP = Symbol("x'")
X_, Y_ = Symbol("x"), Symbol("y")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Parsed inputs of deslant.

    Attributes:
        points: n rows (x, y) of Fractions, or None.
        image: rows of intensities (Fractions), or None.
    """

    points: tuple[tuple[Fraction, Fraction], ...] | None = None
    image: tuple[tuple[Fraction, ...], ...] | None = None


def _fraction(v: Any, option: str) -> Fraction:
    if isinstance(v, Fraction):
        return v
    if isinstance(v, sympy.Basic) and v.is_Rational:
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, sympy.Basic) and v.free_symbols:
        raise InputError(option, f"must be numbers; {v} is symbolic")
    raise InputError(option, f"must be rational numbers (decimals or fractions); got {v}")


def parse(*, points: str | None, image: str | None) -> Inputs:
    """The command line's values -> :class:`Inputs` (every mistake names its option)."""
    from dlcalc.parse import parse_value_fast

    if points is not None and image is not None:
        raise InputError("--image", "cannot be combined with --points; give one of them")
    if points is None and image is None:
        raise InputError("--points", "is missing: give --points (an n×2 matrix of x, y) or --image (intensities)")
    if points is not None:
        rows = parse_value_fast(points, "--points", kinds=("matrix",))
        if len(rows[0]) != 2:
            raise InputError("--points", f"must have 2 columns (x, y), got {len(rows[0])}")
        pts = tuple((_fraction(r[0], "--points"), _fraction(r[1], "--points")) for r in rows)
        return Inputs(points=pts)
    rows = parse_value_fast(image, "--image", kinds=("matrix",))
    img = tuple(tuple(_fraction(v, "--image") for v in r) for r in rows)
    if any(v.numerator < 0 for r in img for v in r):
        raise InputError("--image", "has a negative intensity; intensities are weights ≥ 0")
    if not any(v for r in img for v in r):
        raise InputError("--image", "is all zeros: there is no mass to take moments of")
    return Inputs(image=img)


# --------------------------------------------------------------------------- helpers


def _R(f: Fraction) -> sympy.Rational:
    return Rational(f.numerator, f.denominator)


def _scaled(values: list[Fraction]) -> tuple[list[int], int]:
    """Fractions as integers over one common denominator: (numerators, denominator)."""
    den = math.lcm(*{f.denominator for f in values}) if values else 1
    return [f.numerator * (den // f.denominator) for f in values], den


def _moments(xs: list[Fraction], ys: list[Fraction], ws: list[Fraction]) -> dict[str, Fraction]:
    """Raw and central moments up to order 2, exact, by integer sums."""
    X, dx = _scaled(xs)
    Y, dy = _scaled(ys)
    Wt, dw = _scaled(ws)
    s00 = sum(Wt)
    s10 = sum(w * x for w, x in zip(Wt, X))
    s01 = sum(w * y for w, y in zip(Wt, Y))
    s20 = sum(w * x * x for w, x in zip(Wt, X))
    s11 = sum(w * x * y for w, x, y in zip(Wt, X, Y))
    s02 = sum(w * y * y for w, y in zip(Wt, Y))
    m00 = Fraction(s00, dw)
    m10, m01 = Fraction(s10, dw * dx), Fraction(s01, dw * dy)
    m20, m11, m02 = Fraction(s20, dw * dx * dx), Fraction(s11, dw * dx * dy), Fraction(s02, dw * dy * dy)
    # central moments from the raw ones (exact: no cancellation in rational arithmetic)
    mu20 = m20 - m10 * m10 / m00
    mu11 = m11 - m10 * m01 / m00
    mu02 = m02 - m01 * m01 / m00
    return {"m00": m00, "m10": m10, "m01": m01, "mu20": mu20, "mu11": mu11, "mu02": mu02}


def _image_moments(img: tuple[tuple[Fraction, ...], ...]) -> dict[str, Fraction]:
    """The moments of an image (x = column, y = row, weight = intensity), by integer sums row by row."""
    den = math.lcm(*{v.denominator for r in img for v in r})
    s00 = s10 = s01 = s20 = s11 = s02 = 0
    for r, row in enumerate(img):
        a = [v.numerator * (den // v.denominator) for v in row]
        t0 = sum(a)
        t1 = sum(c * v for c, v in enumerate(a) if v)
        t2 = sum(c * c * v for c, v in enumerate(a) if v)
        s00 += t0
        s10 += t1
        s20 += t2
        s01 += r * t0
        s11 += r * t1
        s02 += r * r * t0
    m00, m10, m01 = Fraction(s00, den), Fraction(s10, den), Fraction(s01, den)
    m20, m11, m02 = Fraction(s20, den), Fraction(s11, den), Fraction(s02, den)
    return {"m00": m00, "m10": m10, "m01": m01, "mu20": m20 - m10 * m10 / m00, "mu11": m11 - m10 * m01 / m00,
            "mu02": m02 - m01 * m01 / m00}


def _eigen(a: Any, b: Any, c: Any) -> tuple[list[Any], list[list[Any]]]:
    """Eigenvalues (ascending) and unit eigenvectors (first nonzero component > 0) of
    [[a, b], [b, c]], exact."""
    if b == 0:
        if a <= c:
            return [a, c], [[sympy.Integer(1), sympy.Integer(0)], [sympy.Integer(0), sympy.Integer(1)]]
        return [c, a], [[sympy.Integer(0), sympy.Integer(1)], [sympy.Integer(1), sympy.Integer(0)]]
    short = max(max(int(x.p).bit_length(), int(x.q).bit_length()) for x in (a, b, c)) <= 64
    half = (a + c) / 2
    root = sympy.sqrt(((a - c) / 2) ** 2 + b ** 2)
    lams = [half - root, half + root]
    vecs = []
    for lam in lams:
        v = [b, lam - a]
        if b < 0:
            v = [-v[0], -v[1]]
        norm = sympy.sqrt(sympy.expand(v[0] ** 2 + v[1] ** 2))
        if short:  # denominators rationalized while the numbers are short
            vecs.append([sympy.radsimp(v[0] / norm), sympy.radsimp(v[1] / norm)])
        else:
            vecs.append([v[0] / norm, v[1] / norm])
    return lams, vecs


# --------------------------------------------------------------------------- the formulas


def _ratio(num: Any, den: Any) -> Any:
    """num/den as written."""
    return Mul(num, Pow(den, -1, evaluate=False), evaluate=False)


def _plus(*terms: Any) -> Any:
    return Add(*terms, evaluate=False)


def _times(*factors: Any) -> Any:
    return Mul(*factors, evaluate=False)


VYP = Named("Var_y'", "Var(y′)", r"\mathrm{Var}(y')")
N_1 = Symbol("n_1")
CENTROID_X = eq(XBAR, _ratio(M10, M00))
CENTROID_Y = eq(YBAR, _ratio(M01, M00))
#: Var(x), Cov(x, y), Var(y): (title, left side, central moment), and the formulas by sample?
COVARIANCES = (("Var(x)", VX, MU20), ("Cov(x, y)", CXY, MU11), ("Var(y)", VY, MU02))
COVARIANCE = {sample: [eq(lhs, _ratio(mu, N_1 if sample else M00)) for _, lhs, mu in COVARIANCES]
              for sample in (False, True)}
# the eigenvalues, written in the order SymPy prints the substituted line
_HALF = _ratio(_plus(VX, VY), 2)
_DISC = Pow(_plus(Pow(CXY, 2, evaluate=False), Pow(_ratio(_plus(VX, _times(-1, VY)), 2), 2, evaluate=False)),
            Rational(1, 2), evaluate=False)
SMALLER = eq(L1, _plus(_HALF, _times(-1, _DISC)))
LARGER = eq(L2, _plus(_HALF, _DISC))
SKEW_RULE = {False: eq(SKEW, _ratio(MU11, MU02)), True: eq(SKEW, _ratio(MU11, MU20))}   # by skew_mu20
#: x′ = x − s·(y − ȳ), by the sign in front of s (+1: the wrong-sign mistake)
SHEAR = {sign: eq(XP, _plus(X_, _times(sign, SKEW, _plus(Y_, _times(-1, YBAR))))) for sign in (-1, 1)}
_KS = {-1: SKEW, 1: _times(-1, SKEW)}   # k·s with x′ = x − k·s·(y − ȳ), by the sign
VAR_AFTER = {sign: eq(VXP, _plus(VX, _times(-2, ks, CXY), _times(Pow(ks, 2, evaluate=False), VY)))
             for sign, ks in _KS.items()}
COV_AFTER = {sign: eq(CXYP, _plus(CXY, _times(-1, ks, VY))) for sign, ks in _KS.items()}
VAR_Y_AFTER = eq(VYP, VY)
COVARIANCE_MATRIX = eq(Symbol("C"), sympy.ImmutableMatrix([[VX, CXY], [CXY, VY]]))
AXES = {True: Math("vₖ = (Cov(x, y), λₖ − Var(x))/‖·‖, first nonzero component > 0",
                   r"v_k = \frac{(\mathrm{Cov}(x, y),\ \lambda_k - \mathrm{Var}(x))}{\|\cdot\|}"),
        False: Math("Cov(x, y) = 0: the axes are x and y",
                    r"\mathrm{Cov}(x, y) = 0:\ \text{the axes are } x \text{ and } y")}   # by Cov ≠ 0


def _sums(points: bool) -> tuple[Any, Any, Any]:
    """The sums of the moments (the weight 1 of a point or I of a pixel): m₀₀, m₁₀ and m₀₁, μ₂₀ μ₁₁ μ₀₂."""
    pixel = Symbol("I")

    def moment(*factors: Any) -> Sigma:
        return Sigma(ordered_product(*([] if points else [pixel]), *factors), "")

    dx, dy = OAdd(X_, -XBAR, evaluate=False), OAdd(Y_, -YBAR, evaluate=False)
    mass = Sigma(sympy.Integer(1) if points else Named("I(y, x)", "I(y, x)", "I(y, x)"), "")
    return (written(eq(Symbol("m_00"), mass)),
            written(Several(eq(Symbol("m_10"), moment(X_)), eq(Symbol("m_01"), moment(Y_)))),
            written(Several(eq(Symbol("mu_20"), moment(Pow(dx, 2, evaluate=False))), eq(Symbol("mu_11"), moment(dx, dy)),
                            eq(Symbol("mu_02"), moment(Pow(dy, 2, evaluate=False))))))


def _resampling(sign: int) -> Math:
    """I′(y, x′) by the inverse map, linear along the row."""
    op, tex_op = ("−", "-") if sign == 1 else ("+", "+")
    return Math(f"I′(y, x′) = (1 − t)·I(y, ⌊u⌋) + t·I(y, ⌊u⌋ + 1),  u = x′ {op} s·(y − ȳ),  t = u − ⌊u⌋",
                r"I'(y, x') = (1 - t)\, I(y, \lfloor u \rfloor) + t\, I(y, \lfloor u \rfloor + 1),\ "
                rf"u = x' {tex_op} s (y - \bar{{y}}),\ t = u - \lfloor u \rfloor")


# --------------------------------------------------------------------------- solve


class Board(NamedTuple):
    """What every part of the working reads: the inputs and their moments (a NamedTuple: as
    frozen as a dataclass, and cheaper to define on every run).

    Attributes:
        inp: the inputs; points: whether they are points (else an image); option: their option.
        mom: m00, m10, m01, mu20, mu11, mu02 as Fractions; R: the same as SymPy Rationals.
    """

    inp: Inputs
    points: bool
    option: str
    mom: dict[str, Fraction]
    R: dict[str, Any]


class Covariance(NamedTuple):
    """Var(x) = a, Cov(x, y) = b, Var(y) = c."""

    a: Any
    b: Any
    c: Any

    @property
    def matrix(self) -> list[list[Any]]:
        return [[self.a, self.b], [self.b, self.c]]


def _board(inp: Inputs) -> Board:
    if inp.points is not None:
        xs, ys = [p[0] for p in inp.points], [p[1] for p in inp.points]
        points, option, mom = True, "--points", _moments(xs, ys, [Fraction(1)] * len(xs))
    else:
        points, option, mom = False, "--image", _image_moments(inp.image or ())
    if mom["mu02"] == 0:
        raise InputError(option, "has all its mass on one row (μ₀₂ = 0: every y is the same): the skew "
                                 "μ₁₁/μ₀₂ is undefined")
    return Board(inp, points, option, mom, {k: _R(v) for k, v in mom.items()})


def solve(inp: Inputs, *, skew_mu20: bool = False, sample: bool = False, wrong_sign: bool = False) -> Solution:
    """The worked deslant; the flags are the common mistakes of :data:`MISTAKES`.

    ``skew_mu20``: s = μ₁₁/μ₂₀.  ``sample``: the covariance with 1/(n − 1) (points).
    ``wrong_sign``: the shear x′ = x + s·(y − ȳ).
    """
    b = _board(inp)
    sign = 1 if wrong_sign else -1
    steps = _moment_steps(b)
    centroid = [steps[2].value, steps[3].value]
    cov_steps, cov = _covariance_steps(b, sample)
    axes_steps, lams, vecs = _axes_steps(cov)
    sk = _skew_step(b, skew_mu20)
    result: dict[str, Any] = {"centroid": centroid, "covariance": cov.matrix, "eigenvalues": lams,
                              "eigenvectors": vecs, "skew": sk.value}
    sheared = _sheared_points(b, sk.value, centroid[1], sign) if b.points else _sheared_image(b, sk.value, sign)
    result["points" if b.points else "image"] = sheared[-1].value
    steps += [*cov_steps, *axes_steps, sk, *sheared, *_after_steps(cov, sk.value, sign, skew_mu20 or wrong_sign)]
    inputs, notes = _echo(b)
    return Solution(command="deslant", inputs=inputs, conventions=_conventions(b.points, sample),
                    steps=tuple(steps), result=result, notes=notes)


def _moment_steps(b: Board) -> list[Step]:
    """m₀₀, m₁₀ and m₀₁, the centroid x̄ and ȳ, the central moments."""
    sec, R = "moments", b.R
    mass, first, central = _sums(b.points)
    return [
        Step(title="mass m₀₀" + (" (the number of points)" if b.points else " (total intensity)"),
             formula=mass, value=R["m00"], section=sec),
        Step(title="first moments", section=sec, formula=first, value=[R["m10"], R["m01"]]),
        wstep("centroid x̄", CENTROID_X, {M10: R["m10"], M00: R["m00"]}, section=sec),
        wstep("centroid ȳ", CENTROID_Y, {M01: R["m01"], M00: R["m00"]}, section=sec),
        Step(title="central second moments (cv2.moments' mu20, mu11, mu02)", section=sec, formula=central,
             value=[R["mu20"], R["mu11"], R["mu02"]]),
    ]


def _covariance_steps(b: Board, sample: bool) -> tuple[list[Step], Covariance]:
    """Var(x), Cov(x, y), Var(y) from the central moments, and the covariance matrix."""
    sec = "covariance"
    den = N_1 if sample else M00
    dval = b.R["m00"] - 1 if sample else b.R["m00"]
    if sample and dval <= 0:
        raise InputError(b.option, "has one point: the sample covariance divides by n − 1 = 0")
    how = " (sample, 1/(n − 1))" if sample else " (population, 1/m₀₀)"
    steps = [wstep(title + how, formula, {mu: b.R[str(mu).replace("_", "")], den: dval}, section=sec)
             for (title, _, mu), formula in zip(COVARIANCES, COVARIANCE[sample])]
    cov = Covariance(*(s.value for s in steps))
    steps.append(Step(title="covariance matrix", section=sec, formula=written(COVARIANCE_MATRIX), value=cov.matrix))
    return steps, cov


def _axes_steps(cov: Covariance) -> tuple[list[Step], list[Any], list[list[Any]]]:
    """The eigenvalues (ascending) and unit eigenvectors of the covariance matrix."""
    sec = "principal axes"
    lams, vecs = _eigen(cov.a, cov.b, cov.c)
    abc = {VX: cov.a, VY: cov.c, CXY: cov.b}
    return [wstep("smaller eigenvalue", SMALLER, abc, value=lams[0], section=sec),
            wstep("larger eigenvalue", LARGER, abc, value=lams[1], section=sec),
            Step(title="unit eigenvectors (the principal axes)", section=sec, formula=AXES[cov.b != 0], value=vecs,
                 note="eigenvectors[k] belongs to eigenvalues[k] (ascending); the major axis, the slant, is the last")
            ], lams, vecs


def _skew_step(b: Board, skew_mu20: bool) -> Step:
    """s = μ₁₁/μ₀₂ (or the mistaken μ₁₁/μ₂₀)."""
    if skew_mu20:
        if b.mom["mu20"] == 0:
            raise InputError(b.option, "has μ₂₀ = 0")
        return wstep("skew with μ₂₀ in place of μ₀₂", SKEW_RULE[True], {MU11: b.R["mu11"], MU20: b.R["mu20"]},
                     section="shear")
    return wstep("skew", SKEW_RULE[False], {MU11: b.R["mu11"], MU02: b.R["mu02"]}, section="shear",
                 note="= Cov(x, y)/Var(y): the slope of x against y, the slant to remove")


def _sheared_points(b: Board, s: Any, ybar: Any, sign: int) -> list[Step]:
    """x′ = x − s·(y − ȳ) for every point: exact, or correctly rounded doubles for many points."""
    points = b.inp.points or ()
    sF, ybF = Fraction(int(s.p), int(s.q)), b.mom["m01"] / b.mom["m00"]
    if 2 * len(points) <= EXACT_PIXELS:
        out = [[_R(x + sign * sF * (y - ybF)), _R(y)] for x, y in points]
    else:  # integers over one denominator, each divided once (correctly rounded doubles)
        X, dx = _scaled([p[0] for p in points])
        Y, dy = _scaled([p[1] for p in points])
        k = -sign * sF
        kp, kq, yp, yq = k.numerator, k.denominator, ybF.numerator, ybF.denominator
        den = dx * kq * dy * yq
        out = [[(xi * kq * dy * yq - kp * dx * (yi * yq - yp * dy)) / den, yi / dy] for xi, yi in zip(X, Y)]
    show = len(points) <= SHOW_POINTS
    rows = [{X_: _R(x), SKEW: s, Y_: _R(y), YBAR: ybar} for x, y in points] if show else []
    return [wlist("sheared points: x′ = x " + ("+" if sign == 1 else "−") + " s·(y − ȳ), y′ = y", SHEAR[sign], rows,
                  [p[0] for p in out], section="shear", show=show),
            Step(title="the deslanted points (x′, y′)", section="shear", value=out)]


def _sheared_image(b: Board, s: Any, sign: int) -> list[Step]:
    """The image resampled by the inverse map."""
    image, exact = _resample(b.inp.image or (), Fraction(int(s.p), int(s.q)), b.mom["m01"] / b.mom["m00"], sign)
    return [Step(title="resample each row (inverse map, linear along the row, 0 outside)", section="shear",
                 formula=_resampling(sign), value=image,
                 note="" if exact else f"more than {EXACT_PIXELS:,} pixels: resampled in double precision")]


def _after_steps(cov: Covariance, s: Any, sign: int, mistaken: bool) -> list[Step]:
    """The covariance after the shear: Cov(x′, y′) = 0 with the right skew."""
    sec = "after the shear"
    return [
        wstep("Var(x′)", VAR_AFTER[sign], {VX: cov.a, SKEW: s, CXY: cov.b, VY: cov.c}, section=sec),
        wstep("Cov(x′, y′): the slant is gone", COV_AFTER[sign], {CXY: cov.b, SKEW: s, VY: cov.c}, section=sec,
              note="0 exactly when s = Cov(x, y)/Var(y) = μ₁₁/μ₀₂" + (" — not with this skew" if mistaken else "")),
        wstep("Var(y′) = Var(y): rows do not move", VAR_Y_AFTER, section=sec, value=cov.c),
    ]


def _conventions(points: bool, sample: bool) -> dict[str, str]:
    conventions = {
        "coordinates": ("points (x, y), each of weight 1" if points else
                        "x = column index, y = row index (0-based, y downwards), weight = intensity, as cv2.moments"),
        "covariance": ("sample form 1/(n − 1) (not the convention here)" if sample else
                       "population form: Var(x) = μ₂₀/m₀₀, Cov(x, y) = μ₁₁/m₀₀, Var(y) = μ₀₂/m₀₀ "
                       "(μ_pq: cv2.moments' central moments mu20, mu11, mu02)"),
        "eigenvectors": "eigenvalues ascending; eigenvectors[k] is the unit eigenvector of eigenvalues[k], "
                        "its first nonzero component positive",
        "shear": "skew s = μ₁₁/μ₀₂; x′ = x − s·(y − ȳ), y′ = y (about the centroid's row ȳ)",
    }
    if not points:
        conventions["resampling"] = ("inverse map, linear interpolation along the row between the two nearest "
                                     "columns, zeros outside; the output has the input's size")
    return conventions


def _echo(b: Board) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The inputs as the solution shows them (exact, or doubles when large), and the note on arithmetic."""
    inp = b.inp
    size = 2 * len(inp.points or ()) if b.points else len(inp.image or ()) * len((inp.image or ((),))[0])
    conv = _R if size <= EXACT_PIXELS else float
    inputs: dict[str, Any] = ({"points": [[conv(x), conv(y)] for x, y in inp.points or ()]} if b.points else
                              {"image": [[conv(v) for v in r] for r in inp.image or ()]})
    notes = ("exact arithmetic",) if size <= EXACT_PIXELS else (
        f"{size:,} values (> {EXACT_PIXELS:,}): the moments, covariance, eigen-decomposition and skew are "
        "exact; the " + ("sheared points" if b.points else "resampled image") + " and the echoed input are doubles",)
    return inputs, notes


def _resample(img: tuple[tuple[Fraction, ...], ...], s: Fraction, ybar: Fraction, sign: int) -> tuple[list[list[Any]], bool]:
    """The sheared image: I′(y, x′) = I(y, u) at u = x′ − sign·s·(y − ȳ), linear along the row."""
    H, W = len(img), len(img[0])
    exact = H * W <= EXACT_PIXELS
    out: list[list[Any]] = []
    for r, row in enumerate(img):
        shift = -sign * s * (r - ybar)  # u = x′ + shift
        if exact:
            fl = math.floor(shift)
            t = shift - fl
            vals = []
            for c in range(W):
                i0 = c + fl
                a = row[i0] if 0 <= i0 < W else Fraction(0)
                b = row[i0 + 1] if 0 <= i0 + 1 < W else Fraction(0)
                vals.append(_R((1 - t) * a + t * b))
            out.append(vals)
        else:
            fl = math.floor(shift)
            t = float(shift - fl)
            rf = [float(v) for v in row]
            vals = []
            for c in range(W):
                i0 = c + fl
                a = rf[i0] if 0 <= i0 < W else 0.0
                b = rf[i0 + 1] if 0 <= i0 + 1 < W else 0.0
                vals.append((1 - t) * a + t * b)
            out.append(vals)
    return out, exact


# --------------------------------------------------------------------------- --plot


def plot(solution: Solution, fig: Any) -> None:
    """The notes' figure: the original coordinates with the eigenvectors scaled by their
    eigenvalues, and the deslanted ones."""
    r = solution.result
    xb, yb = (float(v) for v in r["centroid"])
    lams = [float(v) for v in r["eigenvalues"]]
    vecs = [[float(v) for v in vec] for vec in r["eigenvectors"]]
    s = float(r["skew"])
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    if "points" in r:
        orig = [[float(v) for v in p] for p in solution.inputs["points"]]
        new = [[float(v) for v in p] for p in r["points"]]
        left.scatter([p[0] for p in orig], [p[1] for p in orig], s=14, color="tab:blue")
        right.scatter([p[0] for p in new], [p[1] for p in new], s=14, color="tab:green")
        # one frame for both panels, holding the points and the scaled eigenvectors
        xs = [p[0] for p in orig + new] + [xb + lam * v[0] for lam, v in zip(lams, vecs)]
        ys = [p[1] for p in orig + new] + [yb + lam * v[1] for lam, v in zip(lams, vecs)]
        pad = 0.08 * max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
        for ax in (left, right):
            ax.set_xlim(min(xs) - pad, max(xs) + pad)
            ax.set_ylim(min(ys) - pad, max(ys) + pad)
    else:
        import numpy as np

        orig = np.array([[float(v) for v in row] for row in solution.inputs["image"]])
        new = np.array([[float(v) for v in row] for row in r["image"]])
        left.imshow(orig, cmap="gray_r", origin="upper")
        right.imshow(new, cmap="gray_r", origin="upper")
    for ax in (left, right):
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    for lam, vec, color in zip(lams, vecs, ("tab:orange", "tab:red")):
        left.annotate("", xy=(xb + lam * vec[0], yb + lam * vec[1]), xytext=(xb, yb),
                      arrowprops={"arrowstyle": "->", "color": color, "lw": 2}, annotation_clip=False)
    left.plot([xb], [yb], "k+", ms=10)
    left.set_title(f"original: centroid ({xb:.3g}, {yb:.3g}), axes λ·v (λ = {lams[0]:.3g}, {lams[1]:.3g})", fontsize=8)
    right.plot([xb], [yb], "k+", ms=10)
    right.set_title(f"deslanted: x′ = x − s·(y − ȳ), s = {s:.3g}", fontsize=8)


# --------------------------------------------------------------------------- --check


def _mu20(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"skew_mu20": True}


def _sample(kw: dict[str, Any]) -> dict[str, Any] | None:
    return {"sample": True} if kw["points"] is not None and len(kw["points"]) >= 2 else None


#: common mistakes, for ``--check`` (each a variant of :func:`solve`)
MISTAKES = (
    Mistake("took the skew as μ₁₁/μ₂₀ instead of μ₁₁/μ₀₂", _mu20),
    Mistake("used the sample covariance (1/(n − 1)) instead of the population form (1/n)", _sample),
    Mistake("sheared the wrong way: x′ = x + s·(y − ȳ)", {"wrong_sign": True}),
)
