"""deslant: moments, principal axes, skew μ₁₁/μ₀₂ and the shear.

Expected numbers are computed here with fractions and plain Python from the definitions
(OpenCV's moments over the pixel grid), independently of the solver;
tests/golden/deslant.json (NumPy) is checked in test_golden.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from dlcalc.exercises import deslant as ex
from notes_steps import check_names, judge_any_run, solve, substituted_lines_are_true

PTS = [[0, 0], [1, 1], [2, 2], [1, 0], [2, 1]]
IMG = [[0, 0, 0, 9, 4], [0, 0, 8, 5, 0], [0, 2, 9, 1, 0], [0, 7, 3, 0, 0], [6, 4, 0, 0, 0]]


def moments(xs, ys, ws):
    m00 = sum(ws)
    xb = sum(w * x for x, w in zip(xs, ws)) / m00
    yb = sum(w * y for y, w in zip(ys, ws)) / m00
    mu20 = sum(w * (x - xb) ** 2 for x, w in zip(xs, ws))
    mu11 = sum(w * (x - xb) * (y - yb) for x, y, w in zip(xs, ys, ws))
    mu02 = sum(w * (y - yb) ** 2 for y, w in zip(ys, ws))
    return m00, xb, yb, mu20, mu11, mu02


def pixel_moments(img):
    xs, ys, ws = [], [], []
    for r, row in enumerate(img):
        for c, v in enumerate(row):
            xs.append(F(c))
            ys.append(F(r))
            ws.append(F(v))
    return moments(xs, ys, ws)


def run(*args):
    r = run_cli("deslant", *args, "--json")
    assert r.code == 0, r.stdout + r.stderr
    return r.json()


def test_points():
    out = run("--points", json.dumps(PTS))
    xs, ys = [F(p[0]) for p in PTS], [F(p[1]) for p in PTS]
    m00, xb, yb, mu20, mu11, mu02 = moments(xs, ys, [F(1)] * 5)
    assert out["exact"]["centroid"] == f"[{xb}, {yb}]"
    assert out["exact"]["covariance"] == f"[[{mu20 / 5}, {mu11 / 5}], [{mu11 / 5}, {mu02 / 5}]]"
    s = mu11 / mu02
    assert out["exact"]["skew"] == str(s)
    want = [[float(x - s * (y - yb)), float(y)] for x, y in zip(xs, ys)]
    assert out["exact"]["points"] == "[" + ", ".join(
        f"[{x - s * (y - yb)}, {y}]" for x, y in zip(xs, ys)) + "]"
    assert [v for p in out["result"]["points"] for v in p] == pytest.approx([v for p in want for v in p], rel=1e-15)
    # the eigenvalues of [[a, b], [b, c]]
    a, b, c = (float(v) for v in (mu20 / 5, mu11 / 5, mu02 / 5))
    root = math.sqrt(((a - c) / 2) ** 2 + b * b)
    assert out["result"]["eigenvalues"] == pytest.approx([(a + c) / 2 - root, (a + c) / 2 + root], rel=1e-14)
    for lam, v in zip(out["result"]["eigenvalues"], out["result"]["eigenvectors"]):
        assert math.hypot(*v) == pytest.approx(1, rel=1e-14)
        assert a * v[0] + b * v[1] == pytest.approx(lam * v[0], abs=1e-14)
        assert b * v[0] + c * v[1] == pytest.approx(lam * v[1], abs=1e-14)
        assert (v[0] if abs(v[0]) > 1e-12 else v[1]) > 0


def test_the_shear_removes_the_covariance():
    out = run("--points", "[[0, 0], [0.5, 1], [1, 2], [1.5, 3], [2.5, 3.5]]")
    p = [[F(str(x)), F(str(y))] for x, y in out["result"]["points"]]
    _, xb, yb, _, mu11, _ = moments([q[0] for q in p], [q[1] for q in p], [F(1)] * 5)
    assert abs(float(mu11)) < 1e-12


def test_image_moments_are_opencvs_and_the_resampling_is_linear_along_rows():
    out = run("--image", json.dumps(IMG))
    m00, xb, yb, mu20, mu11, mu02 = pixel_moments(IMG)
    assert out["exact"]["centroid"] == f"[{xb}, {yb}]"
    s = mu11 / mu02
    assert out["exact"]["skew"] == str(s)
    # resample by hand: output (r, c) = row r at u = c + s·(r − ȳ), zero outside
    want = []
    for r, row in enumerate(IMG):
        vals = []
        for c in range(len(row)):
            u = c + s * (r - yb)
            f = math.floor(u)
            t = u - f
            left = F(row[f]) if 0 <= f < len(row) else F(0)
            right = F(row[f + 1]) if 0 <= f + 1 < len(row) else F(0)
            vals.append((1 - t) * left + t * right)
        want.append(vals)
    assert out["exact"]["image"] == "[" + ", ".join("[" + ", ".join(str(v) for v in r) + "]" for r in want) + "]"


def test_image_from_a_csv_file(tmp_path):
    path = tmp_path / "digit.csv"
    path.write_text("\n".join(",".join(str(v) for v in r) for r in IMG) + "\n")
    a = run("--image", f"@{path}")
    b = run("--image", json.dumps(IMG))
    assert a["result"] == b["result"]
    (tmp_path / "digit.json").write_text(json.dumps(IMG))
    assert run("--image", f"@{tmp_path / 'digit.json'}")["result"] == b["result"]


def test_a_slash_becomes_vertical():
    out = run("--image", "0 0 1 0; 0 1 0 0; 1 0 0 0")
    assert out["exact"]["skew"] == "-1"
    assert out["exact"]["image"] == "[[0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]]"


def test_axis_aligned_and_repeated_eigenvalues():
    out = run("--points", "[[0, 0], [2, 0], [0, 1], [2, 1]]")
    assert out["exact"]["eigenvalues"] == "[1/4, 1]"
    assert out["exact"]["eigenvectors"] == "[[0, 1], [1, 0]]"
    assert out["exact"]["skew"] == "0"
    out = run("--points", "[[0, 0], [1, 0], [0, 1], [1, 1]]")
    assert out["exact"]["eigenvectors"] == "[[1, 0], [0, 1]]"


def test_big_image_is_resampled_in_doubles():
    img = [[(r * 7 + c * 3) % 11 for c in range(80)] for r in range(60)]
    out = run("--image", json.dumps(img))
    assert len(out["result"]["image"]) == 60 and len(out["result"]["image"][0]) == 80
    _, xb, yb, _, mu11, mu02 = pixel_moments(img)
    assert out["result"]["skew"] == pytest.approx(float(mu11 / mu02), rel=1e-15)


@pytest.mark.parametrize("args,option", [
    ([], "--points"),
    (["--points", "[[1, 2, 3]]"], "--points"),
    (["--points", "[[0, 1], [2, 1]]"], "--points"),          # one row: μ₀₂ = 0
    (["--points", "[[x, 1], [2, 3]]"], "--points"),
    (["--points", "[[sqrt(2), 1], [2, 3]]"], "--points"),
    (["--image", "[[0, -1], [1, 0]]"], "--image"),
    (["--image", "[[0, 0], [0, 0]]"], "--image"),
    (["--image", "[[1, 1], [0, 0]]"], "--image"),             # one row of mass
    (["--image", "[[1]]", "--points", "[[0, 0]]"], "--image"),
    (["--image", "@/nonexistent.csv"], "--image"),
])
def test_bad_input_names_its_option(args, option):
    r = run_cli("deslant", *args, "--json")
    assert r.code == 2, r.stdout
    assert r.json()["error"]["option"] == option


# --------------------------------------------------------------------------- --check


def test_mistake_mu11_over_mu20():
    xs, ys = [F(p[0]) for p in PTS[:4]], [F(p[1]) for p in PTS[:4]]
    pts = [[0, 0], [1, 1], [3, 2], [1, 0]]
    xs, ys = [F(p[0]) for p in pts], [F(p[1]) for p in pts]
    _, _, _, mu20, mu11, mu02 = moments(xs, ys, [F(1)] * 4)
    assert mu20 != mu02
    v = check_names("deslant", ["--points", json.dumps(pts)], "skew", float(mu11 / mu20))
    assert not v["ok"] and "μ₁₁/μ₂₀" in v["mistake"]
    _, _, _, mu20, mu11, mu02 = pixel_moments(IMG)
    v = check_names("deslant", ["--image", json.dumps(IMG)], "skew", float(mu11 / mu20))
    assert not v["ok"] and "μ₁₁/μ₂₀" in v["mistake"]


def test_mistake_sample_covariance_and_wrong_sign():
    xs, ys = [F(p[0]) for p in PTS], [F(p[1]) for p in PTS]
    _, xb, yb, mu20, mu11, mu02 = moments(xs, ys, [F(1)] * 5)
    cov = [[float(mu20 / 4), float(mu11 / 4)], [float(mu11 / 4), float(mu02 / 4)]]
    v = check_names("deslant", ["--points", json.dumps(PTS)], "covariance", cov)
    assert not v["ok"] and "sample covariance" in v["mistake"]
    s = mu11 / mu02
    wrong = [[float(x + s * (y - yb)), float(y)] for x, y in zip(xs, ys)]
    v = check_names("deslant", ["--points", json.dumps(PTS)], "points", wrong)
    assert not v["ok"] and "wrong way" in v["mistake"]


def test_right_answer_passes():
    assert run_cli("deslant", "--points", json.dumps(PTS), "--check", "skew=11/14").code == 0


# --------------------------------------------------------------------------- the working and the plot


CASES = [dict(points=json.dumps(PTS)), dict(image=json.dumps(IMG)),
         dict(points="[[-1, 2], [0.5, -1], [3, 4], [2, 0.5], [-2, -3], [1, 1]]"),
         dict(points="[[0, 0], [2, 0], [0, 1], [2, 1]]"), dict(image="0 0 1 0; 0 1 0 0; 1 0 0 0")]


@pytest.mark.parametrize("opts", CASES, ids=[str(i) for i in range(len(CASES))])
def test_every_substituted_line_is_true(opts):
    sol = solve(ex, **opts)
    assert substituted_lines_are_true(sol) >= 5


def test_latex_renders():
    assert run_cli("deslant", "--points", json.dumps(PTS), "--latex").code == 0
    assert run_cli("deslant", "--image", json.dumps(IMG), "--latex").code == 0


@pytest.mark.parametrize("opts", [CASES[0], CASES[1]], ids=["points", "image"])
def test_plot_draws_two_panels(opts, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sol = solve(ex, **opts)
    fig = plt.figure(figsize=(8, 4))
    ex.plot(sol, fig)
    assert len(fig.axes) == 2
    fig.savefig(tmp_path / "d.png")
    plt.close(fig)
    assert (tmp_path / "d.png").stat().st_size > 1000


_OPTIONS = ["--points", "--image", "--check"]
_VALUES = st.one_of(st.text(max_size=12),
                    st.lists(st.lists(st.integers(-3, 9).map(str), min_size=1, max_size=3), min_size=1,
                             max_size=4).map(lambda rows: "; ".join(" ".join(r) for r in rows)),
                    st.sampled_from(["[[0,0],[1,1]]", "skew=1", "points=[[0,0]]", "[[1]]", "1e300"]))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(_OPTIONS), _VALUES), min_size=1, max_size=3))
def test_any_options_exit_0_1_or_2_with_one_json_object(pairs):
    args = []
    for opt, val in pairs:
        args += [opt, val]
    judge_any_run(run_cli("deslant", *args, "--json", "--timeout", "5", input=""))


def test_many_points_are_correctly_rounded_doubles():
    import random

    rng = random.Random(5)
    pts = [[round(rng.gauss(0, 1), 3), round(rng.gauss(0, 2), 3)] for _ in range(2500)]
    out = run("--points", json.dumps(pts))
    xs, ys = [F(str(p[0])) for p in pts], [F(str(p[1])) for p in pts]
    _, xb, yb, _, mu11, mu02 = moments(xs, ys, [F(1)] * len(pts))
    s = mu11 / mu02
    assert out["exact"]["skew"] == str(s)
    assert out["result"]["points"][:200] == [[float(x - s * (y - yb)), float(y)] for x, y in zip(xs[:200], ys[:200])]
    assert "doubles" in out["notes"][0]
