"""--plot FILE.png writes a real PNG of the right size, or says how to get matplotlib."""

from __future__ import annotations

import builtins
import struct

import pytest

from conftest import run_cli


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, len(data)


@pytest.mark.parametrize("args", [
    ["quadratic-gd", "--H", "[[2,1],[1,3]]", "--w0", "[1,1]", "--lr", "0.1", "--steps", "10", "--newton"],
    ["quadratic-gd", "--H", "[[4,1,0],[1,3,1],[0,1,2]]", "--w0", "[1,-1,2]", "--lr", "0.05", "--steps", "50"],
    ["adam-step", "--theta", "[1, -2]", "--loss", "theta1**2 + 10*theta2**2", "--steps", "20", "--lr", "0.1"],
    ["adam-step", "--theta", "1", "--grad", "0.5", "--grad", "0.3"],
    ["sigmoid-step", "--x", "1", "--t", "0", "--steps", "5"],
])
def test_plot_writes_a_png_of_800_by_500(args, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    r = run_cli(*args, "--plot", str(out))
    assert r.code == 0, r.stderr
    width, height, size = png_size(out)
    assert (width, height) == (800, 500)
    assert size > 5_000  # lines were drawn, not an empty canvas


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *a, **k):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    r = run_cli("sigmoid-step", "--x", "1", "--t", "0", "--plot", str(tmp_path / "p.png"))
    assert r.code == 2
    assert "pip install 'dlcalc-worked[plot]'" in r.stderr and "--plot" in r.stderr
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("args,fragment", [
    (["sigmoid-step", "--t", "0", "--plot", "p.png"], "symbolic"),
    (["sigmoid-step", "--x", "1", "--t", "0", "--plot", "p.txt"], ".png"),
    (["sigmoid-step", "--x", "1", "--t", "0", "--plot", "/nonexistent/dir/p.png"], "cannot write"),
])
def test_bad_plot_requests_are_exit_2(args, fragment, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    r = run_cli(*args)
    assert r.code == 2 and fragment in r.stderr and r.stderr.startswith("error: --plot")
