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
from typing import Any

import sympy
from sympy import Add, Mul, Pow, Rational, Symbol

from dlcalc.board import eq
from dlcalc.core import Math, Mistake, Solution, Step
from dlcalc.errors import InputError
from dlcalc.board import Named, step as wstep, steps_of as wlist
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


# --------------------------------------------------------------------------- solve


def solve(inp: Inputs, *, skew_mu20: bool = False, sample: bool = False, wrong_sign: bool = False) -> Solution:
    """The worked deslant; the flags are the common mistakes of :data:`MISTAKES`.

    ``skew_mu20``: s = μ₁₁/μ₂₀.  ``sample``: the covariance with 1/(n − 1) (points).
    ``wrong_sign``: the shear x′ = x + s·(y − ȳ).
    """
    if inp.points is not None:
        option = "--points"
        xs = [p[0] for p in inp.points]
        ys = [p[1] for p in inp.points]
        ws = [Fraction(1)] * len(xs)
    else:
        option = "--image"
        xs = ()
    mom = _moments(xs, ys, ws) if inp.points is not None else _image_moments(inp.image or ())
    if mom["mu02"] == 0:
        raise InputError(option, "has all its mass on one row (μ₀₂ = 0: every y is the same): the skew "
                                 "μ₁₁/μ₀₂ is undefined")
    R = {k: _R(v) for k, v in mom.items()}
    steps: list[Step] = []
    n = len(inp.points) if inp.points is not None else 0
    pts = inp.points is not None
    w_txt = "" if pts else "I·"
    sec = "moments"
    # raw moments
    steps.append(Step(title="mass m₀₀" + (" (the number of points)" if pts else " (total intensity)"),
                      formula=Math("m₀₀ = Σ " + ("1" if pts else "I(y, x)"), r"m_{00} = \sum " + ("1" if pts else "I(y, x)")),
                      value=R["m00"], section=sec))
    steps.append(Step(title="first moments", section=sec,
                      formula=Math(f"m₁₀ = Σ {w_txt}x, m₀₁ = Σ {w_txt}y",
                                   rf"m_{{10}} = \sum {'I ' if not pts else ''}x,\ m_{{01}} = \sum {'I ' if not pts else ''}y"),
                      value=[R["m10"], R["m01"]]))
    xb = wstep("centroid x̄", eq(XBAR, Mul(M10, Pow(M00, -1, evaluate=False), evaluate=False)),
               {M10: R["m10"], M00: R["m00"]}, section=sec)
    yb = wstep("centroid ȳ", eq(YBAR, Mul(M01, Pow(M00, -1, evaluate=False), evaluate=False)),
               {M01: R["m01"], M00: R["m00"]}, section=sec)
    steps += [xb, yb]
    xbar, ybar = xb.value, yb.value
    steps.append(Step(title="central second moments (cv2.moments' mu20, mu11, mu02)", section=sec,
                      formula=Math(f"μ₂₀ = Σ {w_txt}(x − x̄)², μ₁₁ = Σ {w_txt}(x − x̄)(y − ȳ), μ₀₂ = Σ {w_txt}(y − ȳ)²",
                                   r"\mu_{20} = \sum " + ("" if pts else "I ") + r"(x - \bar{x})^2,\ "
                                   r"\mu_{11} = \sum " + ("" if pts else "I ") + r"(x - \bar{x})(y - \bar{y}),\ "
                                   r"\mu_{02} = \sum " + ("" if pts else "I ") + r"(y - \bar{y})^2"),
                      value=[R["mu20"], R["mu11"], R["mu02"]]))
    # covariance
    sec = "covariance"
    den = Symbol("n_1") if sample else M00
    dval = R["m00"] - 1 if sample else R["m00"]
    if sample and dval <= 0:
        raise InputError(option, "has one point: the sample covariance divides by n − 1 = 0")
    cov_steps = []
    for title, lhs, mu in (("Var(x)", VX, MU20), ("Cov(x, y)", CXY, MU11), ("Var(y)", VY, MU02)):
        cov_steps.append(wstep(title + (" (sample, 1/(n − 1))" if sample else " (population, 1/m₀₀)"),
                               eq(lhs, Mul(mu, Pow(den, -1, evaluate=False), evaluate=False)),
                               {mu: R[str(mu).replace("_", "")], den: dval}, section=sec))
    steps += cov_steps
    a, b, c = (s.value for s in cov_steps)
    cov = [[a, b], [b, c]]
    steps.append(Step(title="covariance matrix", section=sec,
                      formula=Math("C = [[Var(x), Cov(x, y)], [Cov(x, y), Var(y)]]",
                                   r"C = \begin{pmatrix} \mathrm{Var}(x) & \mathrm{Cov}(x, y) \\ \mathrm{Cov}(x, y) & \mathrm{Var}(y) \end{pmatrix}"),
                      value=cov))
    # eigendecomposition
    sec = "principal axes"
    lams, vecs = _eigen(a, b, c)
    # written in the order SymPy prints the substituted line
    disc = Pow(Add(Pow(CXY, 2, evaluate=False),
                   Pow(Mul(Add(VX, Mul(-1, VY, evaluate=False), evaluate=False), Pow(2, -1, evaluate=False),
                           evaluate=False), 2, evaluate=False), evaluate=False),
               Rational(1, 2), evaluate=False)
    half = Mul(Add(VX, VY, evaluate=False), Pow(2, -1, evaluate=False), evaluate=False)
    abc = {VX: a, VY: c, CXY: b}
    steps.append(wstep("smaller eigenvalue", eq(L1, Add(half, Mul(-1, disc, evaluate=False), evaluate=False)),
                       abc, value=lams[0], section=sec))
    steps.append(wstep("larger eigenvalue", eq(L2, Add(half, disc, evaluate=False)), abc, value=lams[1],
                       section=sec))
    steps.append(Step(title="unit eigenvectors (the principal axes)", section=sec,
                      formula=Math("vₖ = (Cov(x, y), λₖ − Var(x))/‖·‖, first nonzero component > 0",
                                   r"v_k = \frac{(\mathrm{Cov}(x, y),\ \lambda_k - \mathrm{Var}(x))}{\|\cdot\|}")
                      if b != 0 else Math("Cov(x, y) = 0: the axes are x and y",
                                          r"\mathrm{Cov}(x, y) = 0:\ \text{the axes are } x \text{ and } y"),
                      value=vecs, note="eigenvectors[k] belongs to eigenvalues[k] (ascending); the major axis, "
                                       "the slant, is the last"))
    # skew and shear
    sec = "shear"
    if skew_mu20:
        if mom["mu20"] == 0:
            raise InputError(option, "has μ₂₀ = 0")
        sk = wstep("skew with μ₂₀ in place of μ₀₂", eq(SKEW, Mul(MU11, Pow(MU20, -1, evaluate=False), evaluate=False)),
                   {MU11: R["mu11"], MU20: R["mu20"]}, section=sec)
    else:
        sk = wstep("skew", eq(SKEW, Mul(MU11, Pow(MU02, -1, evaluate=False), evaluate=False)),
                   {MU11: R["mu11"], MU02: R["mu02"]}, section=sec,
                   note="= Cov(x, y)/Var(y): the slope of x against y, the slant to remove")
    steps.append(sk)
    s = sk.value
    sign = 1 if wrong_sign else -1
    shear_t = Add(X_, Mul(sign, SKEW, Add(Y_, Mul(-1, YBAR, evaluate=False), evaluate=False), evaluate=False),
                  evaluate=False)
    result: dict[str, Any] = {"centroid": [xbar, ybar], "covariance": cov, "eigenvalues": lams,
                              "eigenvectors": vecs, "skew": s}
    sF = Fraction(int(s.p), int(s.q))
    ybF = mom["m01"] / mom["m00"]
    if pts:
        assert inp.points is not None
        small = 2 * n <= EXACT_PIXELS
        if small:
            new = [(x - (-sign) * sF * (y - ybF), y) for x, y in inp.points]
            out = [[_R(p[0]), _R(p[1])] for p in new]
        else:  # integers over one denominator, each divided once (correctly rounded doubles)
            X, dx = _scaled([p[0] for p in inp.points])
            Y, dy = _scaled([p[1] for p in inp.points])
            k = -sign * sF
            kp, kq, yp, yq = k.numerator, k.denominator, ybF.numerator, ybF.denominator
            den = dx * kq * dy * yq
            out = [[(xi * kq * dy * yq - kp * dx * (yi * yq - yp * dy)) / den, yi / dy] for xi, yi in zip(X, Y)]
        show = n <= SHOW_POINTS
        steps.append(wlist("sheared points: x′ = x " + ("+" if wrong_sign else "−") + " s·(y − ȳ), y′ = y",
                           eq(XP, shear_t), [{X_: _R(x), SKEW: s, Y_: _R(y), YBAR: ybar} for x, y in inp.points]
                           if show else [], [p[0] for p in out], section=sec, show=show))
        steps.append(Step(title="the deslanted points (x′, y′)", section=sec, value=out))
        result["points"] = out
    else:
        assert inp.image is not None
        image, exact = _resample(inp.image, sF, ybF, sign)
        steps.append(Step(
            title="resample each row (inverse map, linear along the row, 0 outside)", section=sec,
            formula=Math("I′(y, x′) = (1 − t)·I(y, ⌊u⌋) + t·I(y, ⌊u⌋ + 1),  u = x′ "
                         + ("−" if wrong_sign else "+") + " s·(y − ȳ),  t = u − ⌊u⌋",
                         r"I'(y, x') = (1 - t)\, I(y, \lfloor u \rfloor) + t\, I(y, \lfloor u \rfloor + 1),\ "
                         r"u = x' " + ("-" if wrong_sign else "+") + r" s (y - \bar{y}),\ t = u - \lfloor u \rfloor"),
            value=image, note="" if exact else f"more than {EXACT_PIXELS:,} pixels: resampled in double precision"))
        result["image"] = image
    # the covariance after the shear
    sec = "after the shear"
    k = -sign  # x′ = x − k·s·(y − ȳ)
    sv = {VX: a, SKEW: s, CXY: b, VY: c}
    ks = Mul(k, SKEW, evaluate=False) if k != 1 else SKEW
    steps.append(wstep("Var(x′)", eq(VXP, Add(VX, Mul(-2, ks, CXY, evaluate=False),
                                                          Mul(Pow(ks, 2, evaluate=False), VY, evaluate=False),
                                                          evaluate=False)), sv, section=sec))
    steps.append(wstep("Cov(x′, y′): the slant is gone", eq(CXYP, Add(CXY, Mul(-1, ks, VY, evaluate=False),
                                                                                    evaluate=False)),
                       {CXY: b, SKEW: s, VY: c}, section=sec,
                       note="0 exactly when s = Cov(x, y)/Var(y) = μ₁₁/μ₀₂" + (" — not with this skew" if skew_mu20 or wrong_sign else "")))
    steps.append(Step(title="Var(y′) = Var(y): rows do not move", section=sec, formula=Math("Var(y′) = Var(y)", r"\mathrm{Var}(y') = \mathrm{Var}(y)"),
                      value=c))
    conventions = {
        "coordinates": ("points (x, y), each of weight 1" if pts else
                        "x = column index, y = row index (0-based, y downwards), weight = intensity, as cv2.moments"),
        "covariance": ("sample form 1/(n − 1) (not the convention here)" if sample else
                       "population form: Var(x) = μ₂₀/m₀₀, Cov(x, y) = μ₁₁/m₀₀, Var(y) = μ₀₂/m₀₀ "
                       "(μ_pq: cv2.moments' central moments mu20, mu11, mu02)"),
        "eigenvectors": "eigenvalues ascending; eigenvectors[k] is the unit eigenvector of eigenvalues[k], "
                        "its first nonzero component positive",
        "shear": "skew s = μ₁₁/μ₀₂; x′ = x − s·(y − ȳ), y′ = y (about the centroid's row ȳ)",
    }
    if not pts:
        conventions["resampling"] = ("inverse map, linear interpolation along the row between the two nearest "
                                     "columns, zeros outside; the output has the input's size")
    size = 2 * n if pts else len(inp.image or ()) * len((inp.image or ((),))[0])
    conv = _R if size <= EXACT_PIXELS else float
    inputs: dict[str, Any] = ({"points": [[conv(x), conv(y)] for x, y in inp.points]} if pts else
                              {"image": [[conv(v) for v in r] for r in inp.image or ()]})
    notes = ("exact arithmetic",) if size <= EXACT_PIXELS else (
        f"{size:,} values (> {EXACT_PIXELS:,}): the moments, covariance, eigen-decomposition and skew are "
        "exact; the " + ("sheared points" if pts else "resampled image") + " and the echoed input are doubles",)
    return Solution(command="deslant", inputs=inputs, conventions=conventions, steps=tuple(steps),
                    result=result, notes=notes)


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
